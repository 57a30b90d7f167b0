"""`enroll lottery`: a stand-alone lottery ceremony from an annex 3 spreadsheet (R-LOT-3).

enroll lottery SHEET --season S --school ID --grade {1,7} --district D --seats P --out DIR [--inputs FILE]
               [--config PATH] [--school-name NAME] [--district-name NAME]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

LOTTERY_HELP = """\
a stand-alone lottery ceremony (annex 3, R-LOT-3): import the applicants of one private school and
grade from the annex 3 sheet (.xlsx or .csv, columns 序号 姓名 性别 身份证号), take the six inputs
and the slip (typed by representatives #1-#6, or from --inputs), and write the record
DIR/private/SCHOOL-gGRADE.json (LOTTERY.md format, ids = the sheet's 序号) and a printable list
DIR/SCHOOL-gGRADE-list.html. Every applicant of the sheet is in one pool, treated as own-district:
if they do not exceed --seats all are admitted with no draw (R-LOT-1); otherwise LOTTERY.md's
own-district draw fills the seats. For district priority (R-LOT-2), import only the pool being
drawn, with the seats it draws for. A malformed sheet is refused (exit 2) with each row and reason.
What the hall sees and the list prints is Chinese only and names children as the console's big
screen does: 张*明 with the ID number's last four; the school and the district by their names, taken
from the season config (--config) unless --school-name / --district-name give them."""


def add_parser(sub: Any) -> None:
    lot = sub.add_parser(
        "lottery",
        help="run a stand-alone lottery ceremony from an annex 3 spreadsheet",
        description=LOTTERY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lot.add_argument(
        "sheet", type=Path, help="the applicants: .xlsx (first sheet) or .csv (UTF-8 or GB18030)"
    )
    lot.add_argument("--season", required=True, help="the season, e.g. 2023")
    lot.add_argument("--school", required=True, help="the school id, e.g. P-CY-01")
    lot.add_argument(
        "--school-name", default=None, help="the school's name for the printed list (default: the config's)"
    )
    lot.add_argument(
        "--district-name",
        default=None,
        help="the district's name for the printed list (default: the config's)",
    )
    lot.add_argument(
        "--config",
        default="jilin-2023",
        help="the season config naming districts and schools: a file, or a name under seasons/",
    )
    lot.add_argument("--grade", type=int, choices=(1, 7), required=True, help="grade 1 or 7")
    lot.add_argument("--district", required=True, help="the district code, e.g. CY")
    lot.add_argument("--seats", type=int, required=True, help="the plan P: seats the school admits (>= 0)")
    lot.add_argument(
        "--inputs",
        type=Path,
        default=None,
        help='JSON or YAML: {"shuffle_inputs": [3 strings], "draw_inputs": [3 strings], "chosen_draw": 1-3}; '
        "without it the representatives type them when asked",
    )
    lot.add_argument(
        "--date", type=date.fromisoformat, default=None, help="the ceremony's date (default today)"
    )
    lot.add_argument("--out", type=Path, required=True, help="folder for the record and the printable list")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`enroll lottery`: the argument handling around `enrollment.lottery.standalone`."""
    from enrollment.lottery import standalone
    from enrollment.lottery.pools import CeremonyInputs, record, record_bytes

    for value, what in ((args.season, "--season"), (args.school, "--school")):
        if problem := standalone.check_id(value, what):
            parser.error(problem)
    if args.seats < 0:
        parser.error("--seats must be at least 0")
    if not args.district.strip():
        parser.error("--district must not be empty")
    district_name, school_name = _names(args, parser)
    record_path, list_path = standalone.output_paths(args.out, args.school, args.grade)
    if record_path.exists():
        sys.stderr.write(
            f"{record_path} 已存在，不覆盖已举行的派位记录 / already exists: a held ceremony's record is "
            "never overwritten; choose another --out\n"
        )
        return 1
    try:
        applicants = standalone.read_sheet(args.sheet)
    except standalone.SheetError as e:
        sys.stderr.write(f"{args.sheet}: 名单有误，未导入 / the sheet is refused:\n")
        for p in e.problems:
            sys.stderr.write(f"{p}\n")
        return 2
    except standalone.UnreadableSheet as e:
        sys.stderr.write(f"{e}\n")
        return 2
    pools = standalone.pools_for(applicants, args.school, args.grade, args.district, args.seats)
    inputs: CeremonyInputs | None
    if args.inputs is not None:
        try:
            inputs = standalone.load_inputs(args.inputs)
        except standalone.InputsError as e:
            sys.stderr.write(f"{e}\n")
            return 2
        print(standalone.announce(pools))
        if not pools.needs_draw:
            print(f"无需派位，未使用 {args.inputs} / no draw is needed, {args.inputs} is not used")
            inputs = None
    else:
        try:
            inputs = standalone.run_ceremony(args.season, pools, applicants)
        except (EOFError, KeyboardInterrupt):
            sys.stderr.write("\n派位已中止，未写入任何文件 / the ceremony was stopped; nothing was written\n")
            return 1
    rec = record(args.season, pools, inputs)
    print(standalone.list_text(standalone.list_rows(rec, applicants)))
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_bytes(record_bytes(rec))
    list_path.write_text(
        standalone.list_html(
            rec, applicants, args.date or date.today(), school_name, district_name=district_name
        ),
        encoding="utf-8",
    )
    print(f"派位记录 record: {record_path}")
    print(f"打印名单 printable list: {list_path}")
    return 0


def _names(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str, str | None]:
    """The district's and the school's names for the hall: the flags', else the season config's."""
    district_name = (args.district_name or "").strip()
    school_name = (args.school_name or "").strip() or None
    if district_name and school_name:
        return district_name, school_name
    from enrollment.core.config import ConfigError, load_season

    try:
        config = load_season(args.config)
    except (ConfigError, OSError) as e:
        if district_name:
            return district_name, school_name
        parser.error(f"--config {args.config}: cannot read the season config ({e}); or give --district-name")
    if not district_name:
        district = config.district_index.get(args.district)
        if district is None:
            parser.error(
                f"--district {args.district!r} is not a district of {args.config}; give --district-name"
            )
        district_name = district.name
    if school_name is None and (school := config.school_index.get(args.school)) is not None:
        school_name = school.name
    return district_name, school_name
