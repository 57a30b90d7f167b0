"""`enroll openapi`: the registration API's OpenAPI document, on stdout.

enroll openapi
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    sub.add_parser("openapi", help="print the registration API's OpenAPI document")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from functions.register.handler import openapi_json

    sys.stdout.write(json.dumps(json.loads(openapi_json()), ensure_ascii=False, indent=2) + "\n")
    return 0
