"""`enroll demo`: a whole season on the embedded backend (moto), its exports and its summary.

enroll demo [--applicants N] [--seed S] [--config PATH] [--out DIR] [--budget] [--engine moto|sqlite]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from enrollment.core.config import ConfigError, SeasonConfig, load_season
from enrollment.core.sms_templates import REGISTERED
from enrollment.synth import city

DEFAULT_CONFIG = "seasons/jilin-2023.yaml"


def add_parser(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run a whole season locally on the embedded backend (moto)")
    demo.add_argument("--applicants", type=int, default=300, help="how many children register (default 300)")
    demo.add_argument(
        "--seed",
        type=int,
        default=2023,
        help="seed of the season: the synthetic population and every local key, seed and typed input",
    )
    demo.add_argument("--config", default=DEFAULT_CONFIG, help="season config file")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="folder for the exports: DIR/archive (the signed archive), DIR/additions, DIR/report (default demo-out)",
    )
    demo.add_argument(
        "--budget",
        action="store_true",
        help="count every AWS call by the Lambda invocation that made it; print and write DIR/budget.json and "
        "DIR/budget.md: each function's worst invocation modelled in AWS against its timeout, calls per "
        "applicant and the cost at list prices (enrollment/local/budget.py)",
    )
    add_engine_option(demo)


def add_engine_option(parser: Any) -> None:
    """`--engine`: what runs the season table's requests (README: which engine runs what, and why)."""
    from enrollment.local.runtime import ENGINES

    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="moto",
        help="what runs the season table: moto (default; what the AWS adapters are tested on) or sqlite "
        "(an embedded engine, for rehearsals at a city's size)",
    )


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The season, its summary on the console and the exports; 0 if every answer was the expected one."""
    console = Console()
    try:
        config = load_season(args.config)
    except ConfigError as e:
        sys.stderr.write(f"{e}\n")  # plain text: one problem a line, never wrapped
        return 2
    if args.applicants < 1:
        parser.error("--applicants must be at least 1")
    if args.config == DEFAULT_CONFIG and args.applicants > city.DESIGN_APPLICANTS:
        # the synthetic city seats DESIGN_APPLICANTS children: a larger season gets the same city with
        # every plan scaled, written beside the exports (the Lambdas read the config from a file)
        scale = city.seats_for(args.applicants)
        args.config = str(Path(args.out or "demo-out") / f"{config.name}-x{scale}.yaml")
        Path(args.config).parent.mkdir(parents=True, exist_ok=True)
        Path(args.config).write_text(city.render(scale), encoding="utf-8")
        config = load_season(args.config)
        console.print(
            f"合成城市 synthetic city: every plan ×{scale} for {args.applicants} applicants ({args.config})"
        )
    if args.budget:
        from enrollment.local import calls

        calls.start()
    try:
        result = run_demo(
            config, args.applicants, args.seed, args.out, console, args.config, engine=args.engine
        )
    finally:
        if args.budget:
            calls.stop()
    print_summary(config, result, console)
    if args.budget:
        print_budget(args.applicants, result, args.out or Path("demo-out"), console)
    if args.out:
        console.print(f"exported to {args.out}")
    ok = result.workflow.get("status") == "SUCCEEDED" and not result.unexpected
    return 0 if ok else 1


def print_budget(applicants: int, result: DemoResult, out: Path, console: Console) -> None:
    """The time-budget report of the counted season: on the console, in OUT/budget.json and OUT/budget.md."""
    import resource

    from enrollment.local import budget

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    snap = budget.snapshot(applicants, peak_rss_mib=peak, wall_s=round(result.seconds, 1))
    text = budget.markdown(snap)
    out.mkdir(parents=True, exist_ok=True)
    (out / "budget.json").write_text(
        json.dumps(budget.report(snap), ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    (out / "budget.md").write_text(text, encoding="utf-8")
    console.rule("时间预算与费用 time budget and cost (planning figures: enrollment/local/budget.py)")
    console.print(text, markup=False, soft_wrap=True)  # Markdown rows, never wrapped
    console.print(f"written to {out / 'budget.json'} and {out / 'budget.md'}")


@dataclass
class DemoResult:
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    refused_examples: dict[str, str] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    retries_consistent: int = 0
    retries: int = 0
    early_refused: int = 0
    phases: list[tuple[str, str]] = field(default_factory=list)
    demand: list[dict[str, Any]] = field(default_factory=list)
    workflow: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, Any] = field(default_factory=dict)
    verification_steps: dict[str, Any] = field(default_factory=dict)
    lotteries: list[dict[str, Any]] = field(default_factory=list)
    placement: dict[str, Any] = field(default_factory=dict)
    audit: str = ""
    notices: int = 0
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    classes: dict[str, bytes] = field(default_factory=dict)
    classes_audit: str = ""
    # after the results (issue 18): what staff corrected, refused and sealed; the sealed batches' files
    corrections: dict[str, Any] = field(default_factory=dict)
    correction_files: dict[str, bytes] = field(default_factory=dict)
    report: Path | None = None
    report_html: bytes | None = None  # reports/{season}/report.html, as the workflow wrote it
    sms: list[str] = field(default_factory=list)
    registration_sms: int = 0  # SMS sent on registering, each naming the registration id (issue 19)
    records: dict[str, bytes] = field(default_factory=dict)
    finished_at: datetime | None = None  # the simulated clock when the season ended
    seconds: float = 0.0


OPEN_HOURS = 14  # the demo's parents register between 08:00 and 22:00


def _arrival_offsets(days: list[date]) -> list[timedelta]:
    """When after 08:00 each submission (in day order) arrives: the i-th of the grade i seconds on,
    while that stays within the day's open hours; a city-size grade spreads each day's submissions
    evenly over them instead, so no day's registrations spill past midnight or the window's close."""
    if len(days) <= OPEN_HOURS * 3600:
        return [timedelta(seconds=i) for i in range(len(days))]
    per_day = Counter(days)
    seen: Counter[date] = Counter()
    out = []
    for day in days:
        out.append(timedelta(seconds=seen[day] * OPEN_HOURS * 3600 / per_day[day]))
        seen[day] += 1
    return out


def run_demo(
    config: SeasonConfig,
    applicants: int,
    seed: int,
    out: Path | None,
    console: Console,
    config_path: str,
    engine: str = "moto",
) -> DemoResult:
    """A whole season, as far as it is built, on the embedded backend."""
    from enrollment.adapters.dynamodb import DynamoStore
    from enrollment.core.clock import SimulatedClock
    from enrollment.core.phases import phases
    from enrollment.local.runtime import EmbeddedSeason
    from enrollment.local.season import WAIT_S, run_verification
    from enrollment.lottery.pools import check_record
    from enrollment.report import report_key
    from enrollment.synth.population import generate

    started = time.monotonic()
    result = DemoResult()
    population = generate(config, applicants, seed)
    console.print(
        f"生成合成人口 synthetic population: {len(population.submissions)} submissions "
        f"(seed {seed}), agency registries: {len(population.registries.public_security)} hukou/permit records"
    )
    cal = config.calendar
    start = config.day_start(cal.plans_published) + timedelta(hours=9)
    by_grade = {g: [s for s in population.submissions if s.grade == g] for g in (7, 1)}
    deadlines = {p.name: p for p in phases(config)}

    with EmbeddedSeason(
        config,
        SimulatedClock(start),
        config_path=str(Path(config_path).resolve()),
        registries=population.registries,
        seed=seed,
        engine=engine,
    ) as rt:
        rt.start()
        rt.wait_for_gate("grade7-registration")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            for grade, gate in ((7, "grade7-registration"), (1, "grade1-registration")):
                subs = sorted(by_grade[grade], key=lambda s: s.submit_day)
                task = progress.add_task(f"{grade}年级网上报名 grade {grade} registration", total=len(subs))
                if grade == 7:
                    _early_attempts(rt, config, by_grade[1], result)
                arrivals = _arrival_offsets([s.submit_day for s in subs])
                for i, sub in enumerate(subs):
                    when = config.day_start(sub.submit_day) + timedelta(hours=8) + arrivals[i]
                    if when > rt.clock.now():
                        rt.clock.set(when)
                    status, answer = _post(rt, sub.body)
                    _tally(result, sub.intent, sub.expected_rule, status, answer)
                    if status == 201:
                        result.bodies[answer["registration_id"]] = sub.body
                    if status == 201 and i % 97 == 0:  # a parent double-clicks: the same answer comes back
                        result.retries += 1
                        again = _post(rt, sub.body)
                        result.retries_consistent += again == (201, answer)
                    progress.advance(task)
                fired = rt.advance_clock(deadlines[gate].deadline)
                for f in fired:
                    result.phases.append(
                        (gate, f"{f['result']['result']} by schedule at {f['result']['advanced_at']}")
                    )
                if grade == 7:
                    rt.wait_for_gate("grade1-registration")
        console.print("信息审核 verification: agencies, home visits, review, city spot-check …")
        result.verification_steps = run_verification(rt, config)
        result.workflow = rt.wait_for_end(timeout=WAIT_S)
        result.demand = DynamoStore(rt.table_name).demand(config.season)
        result.verification = rt.state_output("SummarizeVerification")["phases"]["verification_final"][
            "outcome"
        ]
        result.lotteries = rt.state_output("PrivateLotteries")["lotteries"]["results"]
        result.records = _archived(rt, f"seasons/{config.season}/")
        result.placement = rt.state_output("PlaceChildren")["phases"]["placement"]["summary"]
        result.notices = rt.state_output("PrepareNotices")["notices"]["children"]
        # in the order of what they say: the Map sends its batches concurrently, so the outbox's own
        # order (and each line's outbox id) differs from run to run
        sms = Path(rt.sms_outbox).read_text(encoding="utf-8").splitlines()
        # the notices' SMS; the registration ids each family was sent on registering counted apart
        receipts = [line for line in sms if json.loads(line).get("template") == REGISTERED.id]
        result.registration_sms = len(receipts)
        sms = [line for line in sms if json.loads(line).get("template") != REGISTERED.id]
        result.sms = sorted(sms, key=lambda line: (json.loads(line)["text"], json.loads(line)["to"]))
        result.classes = _archived(rt, f"additions/{config.season}/classes/", depth=3)
        result.report_html = _archived(rt, report_key(config.season).rsplit("/", 1)[0] + "/").get(
            "report.html"
        )
        if out:  # every list of every school and district, as the offices take them (docs/EXPORTS.md)
            from enrollment.cli.export import write_local

            console.print(write_local(rt, out / "exports"))
        result.finished_at = rt.clock.now()
        # then, after the lists were taken, the corrections (issue 18), sealed as the season's chain
        console.print("结果公布后的更正 corrections after the results: 补录, declines, a transfer …")
        result.corrections = _corrections(rt, config, seed, result)
        result.correction_files = _archived(rt, f"additions/{config.season}/corrections/", depth=3)
        for key, body in result.records.items():  # replay every draw from the archived record alone
            if not key.startswith("private/"):
                continue
            result.unexpected += [f"{key}: {p}" for p in check_record(json.loads(body))]
    result.seconds = time.monotonic() - started
    if out:
        _export(out, population, result)
    from enrollment.archive.audit import audit, audit_classes
    from enrollment.archive.contract import read_folder

    # `enroll audit` on the season's signed archive with its chain of correction batches, and on its
    # classes addition: the export if there is one, else as read back from S3

    classes = audit_classes(read_folder(out / "additions" / "classes") if out else result.classes)
    result.classes_audit = classes.render()
    if not classes.ok:
        result.unexpected.append("the sunshine-classes addition fails its audit")
    chain = read_folder(out / "additions" / "corrections") if out else result.correction_files
    report = audit(read_folder(out / "archive") if out else result.records, chain or None)
    result.report = write_report(config, result, out or Path("demo-out"))
    result.audit = report.render()
    if not report.ok:
        result.unexpected.append("the season's archive fails its audit")
    return result


def _corrections(rt: Any, config: SeasonConfig, seed: int, result: DemoResult) -> dict[str, Any]:
    """The day after the season's workflow ends, staff correct a few places through the route (a late
    registration, declines, a transfer; one refused), the city seals the first ones on demand, and
    the daily 03:00 schedule seals the rest; each run of the daily seal this season is checked."""
    from enrollment.local.season import run_corrections
    from enrollment.synth.population import generate

    day = rt.clock.now().astimezone(config.tz).date() + timedelta(days=1)
    rt.clock.set(max(rt.clock.now(), config.day_start(day) + timedelta(hours=9)))
    registered = {b["child"]["id_number"] for b in result.bodies.values()}
    late = next(  # a family that moved in after the window: one of another seed's synthetic city
        (
            s.body
            for s in generate(config, 20, seed + 1).submissions
            if s.intent == "valid" and s.body["child"]["id_number"] not in registered
        ),
        None,
    )
    done = run_corrections(rt, late)
    rt.advance_clock(config.day_start(day + timedelta(days=1)) + timedelta(hours=4))  # past 03:00
    done["daily"] = [r for r in rt.daily_runs if r["result"] and r["result"].get("corrections")]
    failed = [r for r in rt.daily_runs if r["error"]]
    result.unexpected += [f"the daily seal at {r['at']} failed: {r['result']}" for r in failed]
    sealed = sum(
        b["corrections"] for s in done["sealed"] + [r["result"] for r in done["daily"]] for b in s["batches"]
    )
    made = sum(len(m["corrections"]) for m in done["made"])
    if sealed != made:
        result.unexpected.append(f"{made} corrections made, {sealed} sealed")
    result.unexpected += done["unexpected"]
    # the families of the children whose place changed get a new notice and one SMS; the old notice's
    # code now checks as revoked (the 15-minute rule's run in AWS, which the embedded clock leaves to us)
    from enrollment.local.season import reissue_corrected_notices

    done["notices"] = reissue_corrected_notices(rt)  # the last run's counts (tests/e2e/test_demo.py)
    return done


def _corrections_summary(result: DemoResult) -> dict[str, Any]:
    """summary.json's corrections: each request's kinds, the refusals' words, the batches sealed and how."""
    done = result.corrections
    if not done:
        return {}
    return {
        "made": [{"what": m["what"], "kinds": [c["kind"] for c in m["corrections"]]} for m in done["made"]],
        "refused": [r["message"] for r in done["refused"]],
        "sealed_on_demand": [b for a in done["sealed"] for b in a["batches"]],
        "sealed_daily": [b for r in done["daily"] for b in r["result"]["batches"]],
        "batches": sorted({k.split("/")[0] for k in result.correction_files}),
        "notices": done.get("notices", {}),
    }


def _post(rt: Any, body: Any) -> tuple[int, dict[str, Any]]:
    r = rt.call_api("register", "POST", "/api/registrations", body)
    return int(r["statusCode"]), json.loads(r["body"])


def _early_attempts(rt: Any, config: SeasonConfig, grade1: list[Any], result: DemoResult) -> None:
    """A few grade-1 families try during the grade-7 window: refused, nothing stored (R-REG-1)."""
    for sub in [s for s in grade1 if s.intent == "valid"][:5]:
        status, answer = _post(rt, sub.body)
        if status == 422 and answer["errors"][0]["rule"] == "R-REG-1":
            result.early_refused += 1
        else:
            result.unexpected.append(f"early grade-1 attempt answered {status}")


def _tally(
    result: DemoResult, intent: str, expected: str | None, status: int, answer: dict[str, Any]
) -> None:
    if status == 201:
        result.accepted += 1
        if expected:
            result.unexpected.append(f"{intent}: accepted, expected {expected}")
        return
    rule = answer["errors"][0]["rule"] if answer.get("errors") else f"HTTP {status}"
    result.refused[rule] += 1
    result.refused_examples.setdefault(rule, answer["errors"][0]["message"] if answer.get("errors") else "")
    if expected != rule:
        result.unexpected.append(f"{intent}: refused with {rule}, expected {expected or 'acceptance'}")


def write_report(config: SeasonConfig, result: DemoResult, out: Path) -> Path | None:
    """The season report (R-OPEN-1) as the workflow wrote it beside the archive (WriteSeasonReport:
    demand and warnings, lottery odds, verification, placement), saved as `out/report/report.html`."""
    path = out / "report" / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "report" / "charts", ignore_errors=True)  # an earlier version's PNG charts
    if result.report_html is None:
        path.unlink(missing_ok=True)
        result.unexpected.append("the workflow wrote no season report (see the city's dead letters)")
        return None
    path.write_bytes(result.report_html)
    return path


def _archived(rt: Any, prefix: str, depth: int = 2) -> dict[str, bytes]:
    """The archive's objects under a prefix, by their key below `seasons/{season}/`."""
    import boto3

    s3 = boto3.client("s3")
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=rt.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"].split("/", depth)[depth]
            found[key] = s3.get_object(Bucket=rt.bucket, Key=obj["Key"])["Body"].read()
    return found


def _export(out: Path, population: Any, result: DemoResult) -> None:
    from enrollment.archive.contract import write_folder

    out.mkdir(parents=True, exist_ok=True)
    for sub in ("archive", "additions"):  # a previous run's archive would not match this one's manifest
        shutil.rmtree(out / sub, ignore_errors=True)
    write_folder(out / "archive", result.records)  # the signed archive, as under its S3 prefix
    write_folder(out / "additions" / "classes", result.classes)  # the classes, a later signed addition
    if result.correction_files:  # the corrections' batches 0001/, 0002/, ...: the season's signed chain
        write_folder(out / "additions" / "corrections", result.correction_files)
    population.registries.write(out / "registries")
    with (out / "submissions.jsonl").open("w", encoding="utf-8") as f:
        for s in population.submissions:
            f.write(
                json.dumps(
                    {
                        "grade": s.grade,
                        "submit_day": s.submit_day.isoformat(),
                        "intent": s.intent,
                        "expected_rule": s.expected_rule,
                        "body": s.body,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    with (out / "demand.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scope", "id", "name", "grade", "district", "kind", "plan", "applicants", "warning"])
        for d in sorted(result.demand, key=lambda d: (d["scope"], d["id"], d["grade"])):
            w.writerow(
                [
                    d["scope"],
                    d["id"],
                    d["name"],
                    d["grade"],
                    d["district"],
                    d["kind"],
                    d["plan"],
                    d["applicants"],
                    d.get("warning") or "",
                ]
            )
    summary = {
        "accepted": result.accepted,
        "refused": dict(result.refused),
        "unexpected": result.unexpected,
        "workflow_status": result.workflow.get("status"),
        "workflow_output": json.loads(result.workflow.get("output", "{}")),
        "verification": result.verification,
        "verification_steps": result.verification_steps,
        "lotteries": result.lotteries,
        "placement": result.placement,
        "corrections": _corrections_summary(result),
        "seconds": round(result.seconds, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


def print_summary(config: SeasonConfig, result: DemoResult, console: Console) -> None:
    console.rule(f"{config.city}{config.season}年义务教育招生入学 · 本地演示 local season")
    phases = Table(title="阶段 Phases")
    phases.add_column("阶段 phase")
    phases.add_column("结果 result")
    for name, what in result.phases:
        phases.add_row(name, what)
    phases.add_row("registration-closed", "demand recorded against plan")
    v = result.verification
    if v:
        phases.add_row(
            "verification", f"{v['verdicts']} cases judged; home visits, review and spot-check gates passed"
        )
    phases.add_row("workflow", str(result.workflow.get("status")))
    console.print(phases)

    reg = Table(title="报名 Registrations")
    reg.add_column("结果 outcome")
    reg.add_column("人数 count", justify="right")
    reg.add_column("示例提示 example message")
    reg.add_row("受理 accepted", str(result.accepted), "")
    for rule, n in result.refused.most_common():
        reg.add_row(f"拒绝 refused {rule}", str(n), result.refused_examples.get(rule, ""))
    reg.add_row("报名时间外提交 early attempts refused (R-REG-1)", str(result.early_refused), "")
    reg.add_row(
        "重复提交返回同一结果 idempotent retries", f"{result.retries_consistent}/{result.retries}", ""
    )
    console.print(reg)

    rows = [d for d in result.demand if d["scope"] == "school" or d["scope"] == "zone"]
    warn = Table(title="学位需求与计划 Demand against plan (seat warnings, R-WARN-1)")
    for col in ("学校 school", "年级", "类别 kind", "计划 plan", "报名 applicants", "预警 warning"):
        warn.add_column(col, justify="right" if col in ("年级", "计划 plan", "报名 applicants") else "left")
    ranked = sorted(rows, key=lambda d: d["applicants"] / max(d["plan"], 1), reverse=True)
    for d in ranked[:15]:
        label = {"over": "[red]超出计划 over[/red]", "near": "[yellow]接近计划 near[/yellow]"}.get(
            d.get("warning") or "", ""
        )
        warn.add_row(
            f"{d['name']} ({d['id']})",
            str(d["grade"]),
            d["kind"],
            str(d["plan"]),
            str(d["applicants"]),
            label,
        )
    console.print(warn)
    over = sum(1 for d in rows if d.get("warning") == "over")
    near = sum(1 for d in rows if d.get("warning") == "near")
    console.print(f"超出计划 over plan: {over} · 接近计划 near plan: {near} · 共 {len(rows)} 项 rows")
    print_verification(config, result, console)
    print_lotteries(config, result, console)
    print_placement(result, console)
    if result.notices:
        console.print(
            f"入学通知书 admission notices (R-NOTE-1): {result.notices} PDFs stored for download, "
            f"{len(result.sms)} SMS in the local outbox (SNS in AWS); the first:"
        )
        for line in result.sms[:3]:
            sms = json.loads(line)
            console.print(f"  → {sms['to']}: {sms['text']}", markup=False)
        console.print(f"报名成功短信 registration SMS (each naming the id): {result.registration_sms}")
    rep = result.verification_steps.get("reporting")
    if rep:
        console.print(
            f"新生报到 reporting day: {rep['arrived']} arrived, {rep['no_shows']} no-shows listed for the schools · "
            f"阳光分班 sunshine classes: {len(result.classes) - 3} school-grades, sealed as a signed addition"
        )
    print_corrections(result, console)
    if result.report:
        console.print(f"年度报告 season report (R-OPEN-1): {result.report}")
    if result.audit:
        console.rule("审计 enroll audit (the signed archive, offline)")
        console.print(result.audit, markup=False)
        console.print(result.classes_audit.strip().splitlines()[-1], markup=False)
    if result.unexpected:
        console.print(f"[red]unexpected outcomes: {len(result.unexpected)}[/red]")
        for u in result.unexpected[:10]:
            console.print(f"  - {u}")
    else:
        console.print("every submission got the answer its rules call for (unexpected outcomes: 0)")
    console.print(f"完成 done in {result.seconds:.1f} s")


def print_corrections(result: DemoResult, console: Console) -> None:
    """What staff corrected after the results, what was refused (its words on their screen) and how
    each batch was sealed."""
    done = result.corrections
    if not done:
        return
    kind_zh = {
        "late-registration": "补录",
        "decline": "放弃学位",
        "waitlist-promotion": "候补递补",
        "catchment-promotion": "片区递补",
        "transfer": "转学",
        "re-verification": "复审重新安置",
    }
    role_zh = {"district": "区教育局", "city": "市教育局"}
    table = Table(title="结果公布后的更正 Corrections after the results (each self-checked, then sealed)")
    for col in ("更正 request", "办理 by", "记录 corrections", "变化 before → after"):
        table.add_column(col)
    for m in done["made"]:
        for i, c in enumerate(m["corrections"]):
            moves = "; ".join(
                f"{(ch['before'] or {}).get('school_id') or '—'} → {ch['after']['school_id'] or ch['after']['status']}"
                for ch in c["changes"]
            )
            table.add_row(
                m["what"] if i == 0 else "",
                role_zh.get(m["by"], m["by"]) if i == 0 else "",
                f"{kind_zh.get(c['kind'], c['kind'])} ({c['kind']})",
                moves,
            )
    console.print(table)
    for r in done["refused"]:
        console.print(f"  拒绝 refused ({r['what']}, HTTP {r['status']}): {r['message']}", markup=False)
    for how, answers in (
        ("市教育局立即封存 sealed on demand", done["sealed"]),
        ("每日03:00自动封存 daily schedule", [r["result"] for r in done["daily"]]),
    ):
        for a in answers:
            batches = ", ".join(f"#{b['n']} ({b['corrections']} corrections)" for b in a["batches"])
            console.print(f"  {how}: batch {batches}")
    console.print(
        f"  封存批次 sealed batches: {len({k.split('/')[0] for k in result.correction_files})}, audited with the season below"
    )
    n = done.get("notices") or {}
    console.print(
        f"  通知书重新签发 notices re-issued: {n.get('issued', 0)}, 作废 revoked: {n.get('revoked', 0)}"
        " (the old codes now check as revoked, replaced)"
    )


def print_verification(config: SeasonConfig, result: DemoResult, console: Console) -> None:
    from enrollment.verification.verdicts import REASON_ZH

    v = result.verification
    if not v:
        return
    status_zh = {"eligible": "符合片区入学条件", "not-eligible": "不符合（统筹安排）", "review": "待人工复核"}
    outcome = Table(
        title=f"信息审核结果 Verification outcomes ({v['verdicts']} cases, {v['signed']} signed by staff)"
    )
    outcome.add_column("原因 reason")
    outcome.add_column("人数", justify="right")
    for status, n in sorted(v["by_status"].items()):
        outcome.add_row(f"[bold]{status_zh.get(status, status)} {status}[/bold]", str(n))
    for reason, n in v["by_reason"].items():
        outcome.add_row(f"  {REASON_ZH.get(reason, reason)} ({reason})", str(n))
    console.print(outcome)
    districts = Table(title="各区审核结果 By district")
    districts.add_column("区 district")
    for status in ("eligible", "not-eligible", "review"):
        districts.add_column(status_zh[status], justify="right")
    for d in config.districts:
        counts = v["by_district"].get(d.code, {})
        districts.add_row(d.name, *(str(counts.get(s, 0)) for s in ("eligible", "not-eligible", "review")))
    console.print(districts)
    steps = result.verification_steps
    if steps:
        visits, spot = steps["visits"], steps["spot_check"]
        console.print(
            f"入户核查 home visits: {visits['requested']} requested, {visits['answered']} answered by the community, "
            f"{visits['late']} too late (closed as not confirmed) · 区教育局签字 signed: {steps['reviews']['signed']} · "
            f"市抽查 spot-check: {spot['recorded']}/{spot['sampled']} sampled cases re-checked"
        )


def print_lotteries(config: SeasonConfig, result: DemoResult, console: Console) -> None:
    if not result.lotteries:
        return
    case_zh = {
        "all-admitted": "未超计划，全部录取",
        "draw-own-district": "本区派位",
        "draw-other-districts": "本区全录，外区派位",
        "dead-letter": "处理失败，已转区教育局（见死信列表）",
    }
    held = {
        (c["school_id"], c["grade"]): c
        for c in result.verification_steps.get("lotteries", {}).get("ceremonies", [])
    }
    table = Table(title="民办学校招生与电脑派位 Private admissions and lotteries (R-LOT-1…3)")
    for col in ("学校 school", "年级", "计划", "报名", "结果 case", "录取", "记录 sha256"):
        table.add_column(col, justify="right" if col in ("年级", "计划", "报名", "录取") else "left")
    ordered = sorted(
        result.lotteries, key=lambda r: (r["case"] == "all-admitted", r["school_id"], r["grade"])
    )
    for r in ordered:
        table.add_row(
            r["school_id"],
            str(r["grade"]),
            str(config.school_index[r["school_id"]].plan(r["grade"])),
            str(r.get("applicants", "—")),
            case_zh.get(r["case"], r["case"]),
            str(r.get("admitted", "—")),
            r.get("sha256", "—")[:12],
        )
    console.print(table)
    for (school_id, grade), c in sorted(held.items()):
        console.print(
            f"  {config.school_index[school_id].name} {grade}年级 派位: 家长代表输入 {' '.join(c['inputs'])}"
            f" · 抽签采用第{c['chosen_draw']}次 · {c['pool']}人争{c['seats']}个名额"
        )
    draws = sum(1 for r in result.lotteries if r["case"] != "all-admitted")
    console.print(
        f"民办学校 {len(result.lotteries)} 个学校年级 school-grades archived · 电脑派位 ceremonies held: {draws} · "
        f"representatives' inputs derived from the seed and recorded; each record replayed from the archive (R-LOT-2 pools, draws)"
    )


def print_placement(result: DemoResult, console: Console) -> None:
    from enrollment.placement.routes import REASON_ZH, ROUTE_ZH

    p = result.placement
    if not p:
        return
    table = Table(title=f"招生录取结果 Placement: {p['children']} children, each placed once (self-checked)")
    table.add_column("途径 route")
    table.add_column("人数", justify="right")
    for route, n in p["by_route"].items():
        table.add_row(f"{ROUTE_ZH.get(route, route)} ({route})", str(n))
    for reason, n in p["coordinated_by_reason"].items():
        table.add_row(f"  统筹原因 {REASON_ZH.get(reason, reason)} ({reason})", str(n))
    console.print(table)
    d = p["coordinated_distance_m"]
    if d["count"]:
        console.print(
            f"统筹安排 coordinated: {d['count']} children · distance home→school median {d['median']} m, "
            f"p90 {d['p90']} m, max {d['max']} m · public school-grades full {p['public_school_grades']['full']}, "
            f"with seats {p['public_school_grades']['with_seats']} · placements.jsonl archived"
        )
