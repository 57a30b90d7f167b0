"""`enroll season`: the city's season from the bureau's own workbook, and back; the deployed season.

enroll season template --out city.xlsx
enroll season import city.xlsx --name NAME [--out-dir seasons]
enroll season export CONFIG --out city.xlsx
enroll season start --stack STACK [--config seasons/NAME.yaml]   (cli/season_run.py)
enroll season status --stack STACK                               (cli/season_run.py)

The workbook's subcommands are entries of SUBCOMMANDS (their subparser and their run); `start` and
`status` come from `season_run`, which adds its own subparsers.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from enrollment.cli import season_run

SEASON_HELP = """\
the season's workbook (招生季工作簿, docs/WORKBOOK.md): `template` writes the workbook a city bureau fills
in (Chinese headers, an instructions sheet 说明, one example row a sheet); `import` checks a filled
workbook and writes seasons/NAME.yaml (every problem on one line by sheet and cell, exit 2, nothing
written); it also writes a starter staff directory NAME.staff.yaml (placeholders) unless there is
one; `export` writes a season config back as a workbook. `start` starts the deployed season's
workflow once (the config's digest must be the deployed one); `status` shows where it stands."""
NAME = re.compile(r"^[a-z0-9-]+$")

Run = Callable[[argparse.Namespace, argparse.ArgumentParser], int]
AddParser = Callable[[Any], argparse.ArgumentParser]


def _add_template(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "template", help="write the empty workbook (one example row a sheet) a bureau fills in"
    )
    p.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    return p


def _add_import(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "import", help="check a filled workbook and write its season config (OUT_DIR/NAME.yaml)"
    )
    p.add_argument("workbook", type=Path, help="the filled workbook (.xlsx)")
    p.add_argument("--name", required=True, help="the config's name, e.g. siping-2024 (a-z, 0-9, -)")
    p.add_argument(
        "--out-dir", type=Path, default=Path("seasons"), help="where NAME.yaml goes (default seasons)"
    )
    return p


def _add_export(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "export", help="write a season config as the bureau's workbook"
    )
    p.add_argument("config", help="the season config (a file, or a name like jilin-2023)")
    p.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    return p


def run_template(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from enrollment.core.workbook import workbook_bytes

    if args.out.suffix.lower() != ".xlsx":
        parser.error("--out must be an .xlsx file")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(workbook_bytes(None))
    print(f"招生季工作簿模板 template written: {args.out}")
    return 0


def run_import(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from enrollment.core.workbook import WorkbookProblems, read_workbook

    if not NAME.match(args.name):
        parser.error("--name: lowercase letters, digits and - only, e.g. siping-2024")
    try:
        config = read_workbook(args.workbook, args.name)
    except WorkbookProblems as e:
        sys.stderr.write(
            f"{args.workbook}: 工作簿有 {len(e.problems)} 处问题，未导入 / "
            f"{len(e.problems)} problem(s), nothing was written:\n"
        )
        for problem in e.problems:
            sys.stderr.write(f"{problem}\n")
        return 2
    out = args.out_dir / f"{args.name}.yaml"
    staff = args.out_dir / f"{args.name}.staff.yaml"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    out.write_text(season_yaml(config, source=args.workbook.name), encoding="utf-8")
    if not staff.exists():
        staff.write_text(starter_staff(config), encoding="utf-8")
        print(f"工作人员名单（占位，请替换） starter staff directory, replace its placeholders: {staff}")
    counts = (
        f"{len(config.districts)} 区 districts, {len(config.roads)} 街路 roads, "
        f"{len(config.compounds)} 小区 compounds, {len(config.schools)} 学校 schools, {len(config.zones)} 片区 zones"
    )
    print(f"已导入 imported: {out} ({counts})")
    return 0


def run_export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from enrollment.core.config import ConfigError, load_season
    from enrollment.core.workbook import workbook_bytes

    if args.out.suffix.lower() != ".xlsx":
        parser.error("--out must be an .xlsx file")
    try:
        config = load_season(args.config)
    except ConfigError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(workbook_bytes(config))
    print(f"已导出 exported: {args.out}")
    return 0


def season_yaml(config: Any, *, source: str) -> str:
    """The config as a season file: a header naming the workbook it came from, then the fields."""
    body = yaml.safe_dump(
        config.model_dump(), allow_unicode=True, sort_keys=False, width=200, default_flow_style=None
    )
    return (
        f"# {config.city} {config.year}: imported from the workbook {source} by `enroll season import`.\n"
        "# Edit the workbook and import it again rather than this file (docs/WORKBOOK.md).\n" + body
    )


def starter_staff(config: Any) -> str:
    """A staff directory for a new season (seasons/NAME.staff.yaml): one placeholder reviewer per
    district, one city staff member, one auditor and the community office's role (docs/ACCESS.md).
    The bureau replaces the placeholders; an existing directory is never overwritten."""
    lines = [
        f"# Staff directory for the {config.name} season (R-DATA-2, R-VER-3, R-VER-5); read by enrollment/core/staff.py.",
        "# Written by `enroll season import` with PLACEHOLDER people: replace them with the bureau's staff",
        "# (principal = the user name they sign in with; in AWS also add each to its group, docs/ACCESS.md).",
        "# 123456789012 is a placeholder account id for the community office's IAM role.",
        "staff:",
    ]
    for d in config.districts:
        lines.append(
            f"- {{principal: {d.code.lower()}-staff-01, role: district, district: {d.code}, name: {d.name}审核员甲}}"
        )
    lines += [
        "- {principal: city-staff-01, role: city, name: 市教育局工作人员甲}",
        "- {principal: auditor-01, role: auditor, name: 审计监督员甲}",
        "# The community office below serves the whole city; an office of one district gets its own role",
        "# and `district: CODE`, and then lists and answers only that district's home visits.",
        '- {principal: "arn:aws:iam::123456789012:role/community-visits", role: community}',
        "",
    ]
    return "\n".join(lines)


SUBCOMMANDS: dict[str, tuple[AddParser, Run]] = {
    "template": (_add_template, run_template),
    "import": (_add_import, run_import),
    "export": (_add_export, run_export),
}


def add_parser(sub: Any) -> None:
    season = sub.add_parser(
        "season",
        help="the season: its workbook (template, import, export) and its deployed workflow (start, status)",
        description=SEASON_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inner = season.add_subparsers(dest="season_command", required=True)
    for name, (add, _run) in SUBCOMMANDS.items():
        add(inner).set_defaults(season_parser=name)
    season_run.add_subcommands(inner)  # start, status: the deployed season


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if getattr(args, season_run.ACTION, None):
        return season_run.run(args)
    return SUBCOMMANDS[args.season_command][1](args, parser)
