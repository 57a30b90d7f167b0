"""`enroll serve`: the portal, the console and the API on 127.0.0.1, with a season already loaded.

A synthetic population is driven through the real handlers and the real workflow (moto's engine)
up to the phase asked for, then the local API Gateway bridge serves it until Ctrl-C. The simulated
clock stays where that phase is; from there on the season moves only when someone acts: parents
register, staff review and run ceremonies in the console, city staff advance the gates.

Phases one can stop at (`STOPS`):
- `grade1-registration`: grade 7 registered and closed, grade 1 registering (the window is open);
- `review`: registration closed, agencies answered, home visits done; review queues are waiting;
- `lottery`: reviews signed, private-school pools frozen; every oversubscribed school's ceremony
  waits for its district's staff at the big screen;
- `coordination`: lotteries held; committee decisions, deferrals and overrides until the gate;
- `spot-check`: placement done; the city spot-checks and then publishes (advances the gate);
- `reporting`: notices issued (parents download them) and the signed archive sealed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import Population

STOPS = ("grade1-registration", "review", "lottery", "coordination", "spot-check", "reporting")


@dataclass
class Loaded:
    """What a person trying the season needs: who registered, and what the season did so far."""

    registrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the body sent
    steps: list[str] = field(default_factory=list)


def load(rt: EmbeddedSeason, population: Population, stop: str, say: Callable[[str], None]) -> Loaded:
    """Drive the season to `stop` (one of STOPS) through the real handlers and workflow."""
    if stop not in STOPS:
        raise ValueError(f"unknown phase {stop!r}: one of {', '.join(STOPS)}")
    config = rt.config
    cal = config.calendar
    loaded = Loaded()
    rt.start()
    rt.wait_for_gate("grade7-registration")
    grade7 = [s for s in population.submissions if s.grade == 7 and s.intent == "valid"]
    grade1 = [s for s in population.submissions if s.grade == 1 and s.intent == "valid"]
    _register(rt, grade7, loaded)
    rt.advance_clock(config.day_end(cal.grade7_registration.end))
    rt.wait_for_gate("grade1-registration")
    say(f"七年级报名 grade 7: {len(loaded.registrations)} registered, window closed")
    if stop == "grade1-registration":
        # half of grade 1 has registered; the window stays open, on its middle day, 10:00
        _register(rt, grade1[: len(grade1) // 2], loaded)
        middle = (
            cal.grade1_registration.start + (cal.grade1_registration.end - cal.grade1_registration.start) / 2
        )
        rt.clock.set(max(rt.clock.now(), config.day_start(middle) + timedelta(hours=10)))
        loaded.steps.append("一年级报名进行中 grade 1 registration open")
        return loaded
    _register(rt, grade1, loaded)
    rt.advance_clock(config.day_end(cal.grade1_registration.end))
    say(f"一年级报名 grade 1 closed: {len(loaded.registrations)} registered in all")
    rt.wait_for_gate("home-visits", timeout=3600)
    visits = drive.run_home_visits(rt)
    loaded.steps.append(f"入户核查 home visits answered: {visits['answered']} of {visits['requested']}")
    rt.advance_clock(config.day_end(cal.home_visits.end))
    rt.wait_for_gate("review", timeout=3600)
    if stop == "review":
        return loaded
    reviews = drive.review_queues(rt, 5)
    loaded.steps.append(f"审核签字 reviews signed: {reviews}")
    rt.advance_clock(config.day_end(cal.private_counts_due))
    prepared = drive.wait_for_lotteries(rt)
    rt.clock.set(max(rt.clock.now(), config.day_start(cal.lottery_day) + timedelta(hours=9)))
    if stop == "lottery":
        waiting = [f"{i['school_id']} g{i['grade']}" for i in prepared["schools"] if i["needs_draw"]]
        loaded.steps.append(f"电脑派位 ceremonies waiting: {', '.join(waiting) or 'none'}")
        return loaded
    held = drive.run_lotteries(rt, config)
    loaded.steps.append(f"电脑派位 ceremonies held: {len(held['ceremonies'])}")
    rt.wait_for_gate("coordination", timeout=600)
    if stop == "coordination":
        return loaded
    drive.enter_placement_decisions(rt, config)
    rt.advance_clock(config.day_end(cal.coordination.end))
    rt.wait_for_gate("spot-check", timeout=600)
    loaded.steps.append("统筹安排 placement done")
    if stop == "spot-check":
        return loaded
    drive.spot_check(rt)
    rt.advance_clock(config.day_end(cal.spot_check.end))
    rt.wait_for_gate("reporting", timeout=600)
    loaded.steps.append("入学通知书已发放 notices issued, archive sealed")
    return loaded


def _register(rt: EmbeddedSeason, subs: list[Any], loaded: Loaded) -> None:
    config = rt.config
    for i, sub in enumerate(sorted(subs, key=lambda s: s.submit_day)):
        when = config.day_start(sub.submit_day) + timedelta(hours=8, seconds=i)
        if when > rt.clock.now():
            rt.clock.set(when)
        status, answer = drive.call(rt, "POST", "/api/registrations", sub.body, None)
        if status == 201:
            loaded.registrations[answer["registration_id"]] = sub.body


def follow_outbox(path: str, say: Callable[[str], None], stop: threading.Event) -> threading.Thread:
    """Print each SMS the season sends (one-time codes, notices) as it lands in the local outbox."""

    def run() -> None:
        seen = 0
        while not stop.is_set():
            p = Path(path)
            lines = p.read_text(encoding="utf-8").splitlines() if p.exists() else []
            for line in lines[seen:]:
                sms = json.loads(line)
                say(f"短信 SMS → {sms.get('to')}: {sms.get('text')}")
            seen = len(lines)
            stop.wait(0.5)

    thread = threading.Thread(target=run, name="sms-outbox", daemon=True)
    thread.start()
    return thread


def serve_forever(stop: threading.Event) -> None:
    while not stop.is_set():
        time.sleep(0.5)
