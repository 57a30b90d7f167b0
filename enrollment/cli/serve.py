"""`enroll serve`: the parents' portal, the staff console and the API on 127.0.0.1, a season loaded.

enroll serve [--phase PHASE] [--applicants N] [--seed S] [--config PATH] [--port P] [--engine moto|sqlite]
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from enrollment.cli.demo import add_engine_option
from enrollment.core.config import ConfigError, SeasonConfig, load_season


def add_parser(sub: Any) -> None:
    from enrollment.local.serve import STOPS

    srv = sub.add_parser(
        "serve",
        help="serve the parents' portal, the staff console and the API on 127.0.0.1 with a season loaded",
        description="Loads a synthetic season on the embedded backend up to PHASE, then serves the portal "
        "(/), the staff console (/console) and the API on 127.0.0.1 until Ctrl-C. Staff sign in at the "
        "development OIDC issuer with the logins printed at start.",
    )
    srv.add_argument(
        "--phase", choices=STOPS, default=STOPS[0], help=f"where the season stands (default {STOPS[0]})"
    )
    srv.add_argument("--applicants", type=int, default=300, help="how many children (default 300)")
    srv.add_argument("--seed", type=int, default=2023, help="seed of the synthetic population")
    srv.add_argument("--config", default="seasons/jilin-2023.yaml", help="season config file")
    srv.add_argument(
        "--port", type=int, default=8023, help="port on 127.0.0.1 (default 8023; 0: any free port)"
    )
    add_engine_option(srv)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import contextlib
    import threading

    from enrollment.core.clock import SimulatedClock
    from enrollment.local.http import serve
    from enrollment.local.runtime import EmbeddedSeason
    from enrollment.local.serve import follow_outbox, load, serve_forever
    from enrollment.synth.population import generate

    console = Console()
    if args.applicants < 1:
        parser.error("--applicants must be at least 1")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    try:
        config = load_season(args.config)
    except ConfigError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    population = generate(config, args.applicants, args.seed)
    start = config.day_start(config.calendar.plans_published) + timedelta(hours=9)
    console.print(f"准备{config.city}{config.season}年度招生（合成数据）… loading to phase {args.phase}")
    with EmbeddedSeason(
        config,
        SimulatedClock(start),
        config_path=str(Path(args.config).resolve()),
        registries=population.registries,
        seed=args.seed,
        engine=args.engine,
    ) as rt:
        loaded = load(rt, population, args.phase, console.print)
        stop = threading.Event()
        with contextlib.ExitStack() as serving:
            try:
                base = serving.enter_context(serve(rt, port=args.port))
            except OSError as e:
                sys.stderr.write(f"cannot listen on 127.0.0.1:{args.port}: {e.strerror} (try --port 0)\n")
                return 2
            serving.callback(stop.set)
            print_serving(config, rt, loaded, base, console)
            follow_outbox(rt.sms_outbox, console.print, stop)
            try:
                serve_forever(stop)
            except KeyboardInterrupt:
                console.print("已停止 stopped")
    return 0


def print_serving(config: SeasonConfig, rt: Any, loaded: Any, base: str, console: Console) -> None:
    for step in loaded.steps:
        console.print(f"  {step}")
    console.print(f"\n模拟时间 simulated time: {rt.clock.now().isoformat(timespec='minutes')}")
    urls = Table(title="地址 URLs (127.0.0.1 only)")
    urls.add_column("页面 page")
    urls.add_column("URL", overflow="fold")
    urls.add_row("家长端 parents' portal", base)
    urls.add_row("学位预警 seat warnings", base + "#warnings")
    urls.add_row("工作人员 staff console", base + "console")
    urls.add_row("身份提供方 dev OIDC issuer", rt.oidc.issuer + "/.well-known/openid-configuration")
    console.print(urls)
    logins = Table(title="工作人员登录 seeded staff logins (passwords are new each run)")
    for column in ("用户名 user", "密码 password", "角色 role"):
        logins.add_column(column)
    for name, password, role in rt.oidc.logins({d.code: d.name for d in config.districts}):
        logins.add_row(name, password, role)
    console.print(logins)
    sample = list(loaded.registrations)[:3]
    if sample:
        console.print(
            "报名编号示例 sample registration ids (status: the SMS code is printed here): "
            + ", ".join(sample)
        )
    console.print("按 Ctrl-C 停止 press Ctrl-C to stop")
