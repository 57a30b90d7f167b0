"""`enroll season start|status --stack STACK`: start a deployed season, and see where it stands.

    enroll season start  --stack Enrollment-jilin-2023 [--config seasons/jilin-2023.yaml] [--region R]
    enroll season status --stack Enrollment-jilin-2023 [--config ...] [--region R]

Both read the stack's outputs (CloudFormation DescribeStacks: the state machine, the table, the
schedule group, the deployed config and its digest, enrollment/adapters/stack.py) and call AWS with
the caller's own credentials (boto3's default chain: environment, profile, SSO, instance role),
through the same use case as the console's routes (enrollment/core/launch.py). `start` is refused,
naming both digests, when the config (by default the stack's own, from this checkout) is not the
deployed one; starting twice reports the existing execution. The caller's identity (STS
GetCallerIdentity) is recorded as who started the season.

Exit codes: 0 started, already running or finished, or the status printed; 1 refused (the
config's digest) or an AWS call failed; 2 the config or the stack cannot be read.

`add_subcommands(season_subparsers)` adds `start` and `status` under `enroll season`; `run(args)`
runs whichever was chosen.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from enrollment.adapters.clients import RETRIES
from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.scheduler import SchedulerSchedules
from enrollment.adapters.season_counts import DynamoSeasonCounts
from enrollment.adapters.sfn import SfnWorkflow
from enrollment.adapters.stack import StackNotReadable, StackOutputs, stack_outputs
from enrollment.core import clock
from enrollment.core.config import ConfigError, SeasonConfig, load_season
from enrollment.core.launch import DigestMismatch, config_digest, season_status, start_season
from enrollment.core.resources import ROOT
from enrollment.people.console import VERDICT_ZH
from enrollment.placement.routes import ROUTE_ZH

ACTION = "season_run_action"  # where the chosen subcommand is kept on the parsed arguments
GRADE_ZH = {"1": "一年级", "7": "七年级"}
DEAD_LETTER_PHASE_ZH = {
    "verification": "材料审核",
    "lottery": "民办学校招生",
    "placement": "录取安排",
    "notices": "录取通知",
}


def add_subcommands(season_subparsers: Any) -> None:
    """`start` and `status` under `enroll season` (`season_subparsers`: its add_subparsers())."""
    for name, help_zh in (
        ("start", "启动已部署的招生季 · start the deployed season's workflow"),
        ("status", "查看招生季状态 · where the deployed season stands"),
    ):
        p = season_subparsers.add_parser(name, help=help_zh, description=help_zh)
        p.add_argument(
            "--stack", required=True, help="the season's CloudFormation stack, e.g. Enrollment-jilin-2023"
        )
        p.add_argument(
            "--config",
            default=None,
            help="season config (default: the one the stack deployed, seasons/NAME.yaml of this checkout)",
        )
        p.add_argument("--region", default=None, help="AWS region (default: the caller's configured one)")
        p.set_defaults(**{ACTION: name})


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run `enroll season start` or `status` as parsed by `add_subcommands`: the exit code."""
    out = out or sys.stdout
    action: Callable[[argparse.Namespace, boto3.session.Session, StackOutputs, TextIO], int] = {
        "start": _start,
        "status": _status,
    }[getattr(args, ACTION)]
    session = boto3.session.Session(region_name=args.region)
    try:
        outputs = stack_outputs(session.client("cloudformation", config=RETRIES), args.stack)
        return action(args, session, outputs, out)
    except StackNotReadable as e:
        print(f"{e.message_zh} · {e.message_en}", file=out)
        return 2
    except ConfigError as e:
        print(f"配置文件有误 · the config cannot be read: {e}", file=out)
        return 2
    except (ClientError, BotoCoreError) as e:
        print(f"AWS 调用失败 · an AWS call failed: {e}", file=out)
        return 1


def _config(args: argparse.Namespace, outputs: StackOutputs) -> SeasonConfig:
    """The config named by --config, else the one the stack deployed (its path in this checkout)."""
    return load_season(args.config or ROOT / outputs.season_config)


def _start(
    args: argparse.Namespace, session: boto3.session.Session, outputs: StackOutputs, out: TextIO
) -> int:
    config = _config(args, outputs)
    actor = session.client("sts", config=RETRIES).get_caller_identity()["Arn"]
    workflow = SfnWorkflow(outputs.state_machine_arn, session.client("stepfunctions", config=RETRIES))
    try:
        result = start_season(config, workflow, outputs.config_digest, actor=actor, now=clock.now())
    except DigestMismatch as e:
        print(f"未启动：{e.message_zh}", file=out)
        print(f"not started: {e.message_en}", file=out)
        return 1
    print(f"{result['result_zh']}：{config.season}年度（{config.name}） · {result['result']}", file=out)
    print(f"状态机 state machine: {result['state_machine_arn']}", file=out)
    print(f"执行 execution: {result['execution_arn']}", file=out)
    existing = result.get("execution")
    if existing:
        print(
            f"已有执行：{existing['status']}，{existing['started_at']} 由 {existing['started_by'] or '未记录'} 启动"
            f" · existing execution {existing['status']}, started {existing['started_at']}",
            file=out,
        )
    else:
        print(f"启动人 started by: {actor}", file=out)
    return 0


def _status(
    args: argparse.Namespace, session: boto3.session.Session, outputs: StackOutputs, out: TextIO
) -> int:
    config = _config(args, outputs)
    store = DynamoStore(outputs.table_name)
    counts = DynamoSeasonCounts(outputs.table_name)
    for table in (store, counts):  # the caller's session and region, not the default one
        table.__dict__["resource"] = session.resource("dynamodb", config=RETRIES)
    status = season_status(
        config,
        workflow=SfnWorkflow(outputs.state_machine_arn, session.client("stepfunctions", config=RETRIES)),
        store=store,
        schedules=SchedulerSchedules(outputs.schedule_group, session.client("scheduler", config=RETRIES)),
        counts=counts,
        now=clock.now(),
        deployed_digest=outputs.config_digest,
    )
    for line in status_lines(status, config):
        print(line, file=out)
    return 0


def status_lines(status: dict[str, Any], config: SeasonConfig) -> list[str]:
    """The status as staff read it: Chinese first, English beside it (`config`: the local config,
    for district names and its digest)."""
    local_digest = config_digest(config)

    def district(code: str) -> str:
        known = config.district_index.get(code)
        return known.name if known else code

    lines = [f"招生季 {status['season']}年度（{status['config_name']}） · season {status['season']}"]
    if local_digest != status["config_digest"]:
        lines.append(
            f"注意：本地配置摘要 {local_digest} 与已部署配置摘要 {status['config_digest']} 不一致"
            " · note: the local config is not the deployed one"
        )
    execution = status["execution"]
    if execution is None:
        lines.append("流程：尚未启动 · workflow: not started (enroll season start)")
    else:
        lines.append(
            f"流程：{status['status_zh']} · workflow: {status['status']} ({execution['execution_name']}, "
            f"启动于 started {execution['started_at']}，启动人 by {execution['started_by'] or '-'})"
        )
    if status["phase"] is None:
        lines.append("当前阶段：全部阶段已结束 · phase: every phase is over")
    else:
        lines.append(f"当前阶段：{status['phase_zh']} · phase: {status['phase']}")
    nxt = status["next_deadline"]
    if nxt is not None:
        schedule = nxt["schedule"]
        shown = (
            "定时任务缺失 · no schedule"
            if schedule is None
            else f"定时任务 schedule {schedule['name']} {schedule['expression']} {schedule['timezone']} "
            f"{'已启用' if schedule['state'] == 'ENABLED' else '已停用'} {schedule['state']}"
        )
        lines.append(f"下一截止：{nxt['title_zh']} {nxt['deadline']} · next deadline; {shown}")
    gates = status["open_gates"]
    if gates:
        for g in gates:
            overdue = "，已过截止时间 (overdue)" if g["overdue"] else ""
            lines.append(
                f"等待推进：{g['title_zh']}（截止 {g['deadline']}{overdue}） · open gate: {g['phase']}"
            )
    else:
        lines.append("等待推进：无 · open gates: none")
    dead = status["dead_letters"]
    lines.append(f"失败事项：{dead['total']} 件 · dead letters: {dead['total']}")
    for row in dead["per_district_phase"]:
        phase_zh = DEAD_LETTER_PHASE_ZH.get(row["phase"], row["phase"])
        lines.append(
            f"  {district(row['district'])} {phase_zh}：{row['count']} 件 · {row['district']} {row['phase']}"
        )
    for r in dead["latest"]:
        phase_zh = DEAD_LETTER_PHASE_ZH.get(r["phase"], r["phase"])
        lines.append(
            f"  最近 latest：{r['recorded_at']} {district(r['district'])} {phase_zh} {r['item_id']} {r['error']}"
        )
    c = status["counts"]
    per_grade = "，".join(
        f"{GRADE_ZH.get(g, g + '年级')} {n} 人" for g, n in c["registrations_per_grade"].items()
    )
    lines.append(f"报名：{per_grade or '无'} · registrations per grade")
    verdicts = "，".join(f"{VERDICT_ZH.get(s, s)} {n}" for s, n in c["verdicts_per_status"].items())
    lines.append(f"审核结论：{verdicts or '尚无'} · verdicts per status")
    routes = "，".join(f"{ROUTE_ZH.get(r, r)} {n}" for r, n in c["placements_per_route"].items())
    lines.append(f"录取途径：{routes or '尚无'} · placements per route")
    return lines
