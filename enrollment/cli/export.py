"""`enroll export`: the season's lists as files, over a deployed stack (docs/EXPORTS.md).

enroll export KIND --stack STACK [--school ID | --district D] [--format xlsx|csv] [--config PATH] [--out DIR]
enroll export all --stack STACK [--config PATH] [--out DIR]

The table and the archive bucket are the stack's outputs (`TableName`, `ArchiveBucketName`); the
caller's AWS credentials read them, and every file written is recorded as a download by the
caller's IAM identity (role `operator`), as the console's downloads are. `enroll demo` writes every
export of its season with `write_exports` to DIR/exports/.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enrollment.core.staff import StaffError
from enrollment.exports import lists

if TYPE_CHECKING:
    from enrollment.core.config import SeasonConfig
    from enrollment.exports.ports import DownloadLog, ExportSources
    from enrollment.local.runtime import EmbeddedSeason

EXPORT_HELP = """\
write the season's lists as files (docs/EXPORTS.md), read from a deployed stack with your AWS
credentials; each file is recorded as a download by your IAM identity. KIND is one of
admitted (--school, xlsx or csv), public-results (--school), private-applicants (--school, a private
school), student-status (--district), reporting (--district), or all: every list of every school
and district. Exit 0 when every file is written, 1 when the season refused one (not yet placed,
say), 2 when the stack cannot be read."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="the season's lists as .xlsx / GB18030 .csv files from a deployed stack",
        description=EXPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("kind", choices=[*lists.KINDS, "all"])
    p.add_argument(
        "--stack", required=True, help="the season's CloudFormation stack (its outputs name the table)"
    )
    p.add_argument(
        "--region", default=None, help="the stack's AWS region (default: your AWS configuration's)"
    )
    p.add_argument("--config", default="seasons/jilin-2023.yaml", help="the season config the stack runs")
    p.add_argument("--school", default=None, help="the school (admitted, public-results, private-applicants)")
    p.add_argument("--district", default=None, help="the district code (student-status, reporting)")
    p.add_argument("--format", dest="fmt", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("--out", default="exports", help="folder to write into (default ./exports)")


def every_export(config: SeasonConfig) -> list[tuple[lists.Kind, str, lists.Format]]:
    """Each list of the season once: every school's, every private school's, every district's; the
    admitted lists in both formats."""
    jobs: list[tuple[lists.Kind, str, lists.Format]] = []
    for school in sorted(config.schools, key=lambda s: s.id):
        jobs += [("admitted", school.id, "xlsx"), ("admitted", school.id, "csv")]
        jobs.append(("public-results", school.id, "xlsx"))
        if school.kind == "private":
            jobs.append(("private-applicants", school.id, "xlsx"))
    for district in sorted(d.code for d in config.districts):
        jobs += [("student-status", district, "xlsx"), ("reporting", district, "xlsx")]
    return jobs


class Cached:
    """`sources` read once per key for a run of many exports (`all`: every registration is on five
    lists); the download records go through unchanged."""

    def __init__(self, sources: ExportSources) -> None:
        self.sources = sources
        self.regs: dict[str, dict[str, Any]] = {}
        self.kept: dict[tuple[str, ...], Any] = {}

    def _once(self, key: tuple[str, ...], read: Any) -> Any:
        if key not in self.kept:
            self.kept[key] = read()
        return self.kept[key]

    def placed_at_school(self, season: str, school_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._once(
            ("placed", season, school_id), lambda: self.sources.placed_at_school(season, school_id)
        )
        return found

    def registrations_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(registration_ids)
        missing = [rid for rid in wanted if rid not in self.regs]
        if missing:
            self.regs.update(self.sources.registrations_of(missing))
        return {rid: self.regs[rid] for rid in wanted if rid in self.regs}

    def arrivals_at(self, season: str, school_id: str) -> dict[str, str]:
        found: dict[str, str] = self._once(
            ("arrivals", season, school_id), lambda: self.sources.arrivals_at(season, school_id)
        )
        return found

    def lottery(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._once(
            ("lottery", season, school_id, str(grade)), lambda: self.sources.lottery(season, school_id, grade)
        )
        return found

    def archived(self, key: str) -> bytes | None:
        found: bytes | None = self._once(("archived", key), lambda: self.sources.archived(key))
        return found

    def archive_has(self, key: str) -> bool:
        found: bool = self._once(("has", key), lambda: self.sources.archive_has(key))
        return found


def write_exports(
    config: SeasonConfig,
    jobs: Iterable[tuple[lists.Kind, str, lists.Format]],
    *,
    sources: ExportSources,
    log: DownloadLog,
    taker: lists.Taker,
    at: str,
    out: Path,
) -> dict[str, Any]:
    """Each export to `out/{district}/{scope}-{kind}.{format}`, recorded as a download, and
    `out/exports.json` listing them (rows, bytes, SHA-256); refusals listed, not written."""
    written: list[dict[str, Any]] = []
    refused: list[dict[str, str]] = []
    cached = Cached(sources)
    for kind, scope, fmt in jobs:
        try:
            taken = lists.take(kind, config, config.season, scope, fmt, taker, sources=cached, log=log, at=at)
        except StaffError as e:
            refused.append({"kind": kind, "scope": scope, "message": e.message_zh})
            continue
        path = out / taken.export.district / f"{scope}-{kind}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(taken.data)
        written.append(
            {
                "file": path.relative_to(out).as_posix(),
                "title": taken.file_name,
                "kind": kind,
                "kind_zh": lists.KIND_ZH[kind],
                "scope": scope,
                "district": taken.export.district,
                "rows": taken.export.rows,
                "bytes": len(taken.data),
                "sha256": taken.record["sha256"],
            }
        )
    summary = {"season": config.season, "at": at, "by": taker.principal, "files": written, "refused": refused}
    out.mkdir(parents=True, exist_ok=True)
    (out / "exports.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def write_local(rt: EmbeddedSeason, out: Path) -> str:
    """Every export of an embedded season (`enroll demo`) to `out`, recorded as `enroll-demo`'s."""
    import shutil
    import time

    from enrollment.adapters.export_store import DynamoExportStore

    started = time.monotonic()
    shutil.rmtree(out, ignore_errors=True)  # a previous run's files are not this season's
    store = DynamoExportStore(rt.table_name, rt.bucket)
    taker = lists.Taker("enroll-demo", "operator")
    jobs = every_export(rt.config)
    done = write_exports(
        rt.config, jobs, sources=store, log=store, taker=taker, at=rt.clock.now().isoformat(), out=out
    )
    rows = sum(f["rows"] for f in done["files"] if f["kind"] == "admitted" and f["file"].endswith(".xlsx"))
    seconds = time.monotonic() - started
    return f"导出 exports: {len(done['files'])} files ({rows} admitted children), done in {seconds:.1f} s → {out}"


def stack_outputs(stack: str, region: str | None) -> dict[str, str]:
    import boto3

    answer = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    return {o["OutputKey"]: o["OutputValue"] for o in answer["Stacks"][0].get("Outputs", [])}


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`enroll export`: 0 every file written, 1 a list refused, 2 the stack or config unreadable."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from enrollment.adapters.export_store import DynamoExportStore
    from enrollment.core import clock
    from enrollment.core.config import load_season

    try:
        config = load_season(args.config)
        outputs = stack_outputs(args.stack, args.region)
        table, archive = outputs["TableName"], outputs["ArchiveBucketName"]
        who = boto3.client("sts", region_name=args.region).get_caller_identity()["Arn"]
    except KeyError as e:
        sys.stderr.write(f"堆栈缺少输出 / the stack has no output {e}\n")
        return 2
    except (BotoCoreError, ClientError, OSError, ValueError) as e:
        sys.stderr.write(f"无法读取堆栈或配置 / cannot read the stack or the config: {e}\n")
        return 2
    if args.kind == "all":
        jobs = every_export(config)
    else:
        wanted = "school" if args.kind in lists.SCHOOL_KINDS else "district"
        scope = getattr(args, wanted)
        if not scope:
            parser.error(f"{args.kind} needs --{wanted}")
        jobs = [(args.kind, scope, args.fmt)]
    store = DynamoExportStore(table, archive)
    at = clock.now().isoformat()
    summary = write_exports(
        config, jobs, sources=store, log=store, taker=lists.Taker(who, "operator"), at=at, out=Path(args.out)
    )
    for f in summary["files"]:
        sys.stdout.write(f"{f['file']}  {f['kind_zh']}  {f['rows']} rows\n")
    for r in summary["refused"]:
        sys.stderr.write(f"{r['kind']} {r['scope']}: {r['message']}\n")
    return 1 if summary["refused"] else 0
