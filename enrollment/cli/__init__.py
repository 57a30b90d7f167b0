"""`enroll`: run a season locally, and the project's other commands, one module each.

enroll demo [--applicants N] [--seed S] [--config PATH] [--out DIR]
enroll serve [--phase PHASE] [--applicants N] [--seed S] [--config PATH] [--port P]
enroll openapi
enroll agency-api
enroll agency-check --season NAME --agency {public-security,housing,planning}
enroll lottery SHEET --season S --school ID --grade {1,7} --district D --seats P --out DIR [--inputs FILE]
enroll audit PATH_OR_S3_URI [--season SEASON]
enroll season template --out city.xlsx
enroll season import city.xlsx --name NAME [--out-dir seasons]
enroll season export CONFIG --out city.xlsx
enroll export KIND --stack STACK [--school ID | --district D] [--format xlsx|csv] [--out DIR]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, Protocol

from enrollment.cli import agency_api, agency_check, audit, demo, export, lottery, openapi, season, serve


class Command(Protocol):
    """What each command's module offers: its subparser and its run (the exit code)."""

    def add_parser(self, sub: Any) -> None: ...

    def run(self, args: argparse.Namespace, parser: argparse.ArgumentParser) -> int: ...


COMMANDS: dict[str, Command] = {
    "demo": demo,
    "openapi": openapi,
    "serve": serve,
    "lottery": lottery,
    "audit": audit,
    "season": season,
    "export": export,
    "agency-api": agency_api,
    "agency-check": agency_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="enroll", description="义务教育招生入学 enrollment season tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    args = parser.parse_args(argv)
    return COMMANDS[args.command].run(args, parser)
