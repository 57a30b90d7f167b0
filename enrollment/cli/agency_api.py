"""`enroll agency-api`: the agency checks contract (docs/agency-api.yaml), OpenAPI 3.1 YAML on stdout.

enroll agency-api > docs/agency-api.yaml
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    sub.add_parser("agency-api", help="print the agency checks contract (OpenAPI 3.1 YAML)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from enrollment.verification.agency_api import document_yaml

    sys.stdout.write(document_yaml())
    return 0
