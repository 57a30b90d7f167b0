"""`enroll openapi`: the whole API's OpenAPI document (parents, staff, agencies), on stdout.

enroll openapi
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    sub.add_parser("openapi", help="print the API's OpenAPI document")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from functions.openapi import document_json

    sys.stdout.write(document_json())
    return 0
