"""The season started and watched (issue 15): the console's routes, `enroll season start|status
--stack` and the local runtime all start the season through one use case (enrollment/core/launch.py).

A small season on the embedded backend: its status before it starts, started by city staff from the
console's route and again by the runtime (one execution), a config that is not the deployed one
refused naming both digests, the status at a gate and after a dead letter; then the CLI against a
CloudFormation stack made in moto whose outputs name the runtime's resources.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import boto3
import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.sfn import SfnWorkflow
from enrollment.cli import season_run
from enrollment.core import deadletters
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.launch import DigestMismatch, SeasonStart, config_digest, start_season
from enrollment.core.phases import phase, schedule_expression
from enrollment.core.resources import schedule_group_name
from enrollment.local import season as drive
from enrollment.local.runtime import REGION, EmbeddedSeason
from enrollment.synth.population import generate
from tests.integration.conftest import small_season

pytestmark = pytest.mark.xdist_group("season-launch")

A, B = "CH", "CY"


@dataclass
class Season:
    rt: EmbeddedSeason
    config: SeasonConfig
    path: str
    bodies: dict[str, dict[str, object]]


def _status(rt: EmbeddedSeason, season: str, who: str) -> tuple[int, dict[str, object]]:
    status, answer = drive.call(rt, "GET", f"/admin/seasons/{season}/status", None, who)
    return status, answer


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("launch"))
    population = generate(config, 30, 11)
    start = datetime.fromisoformat(f"{config.calendar.grade7_registration.start} 08:00").replace(
        tzinfo=config.tz
    )
    with EmbeddedSeason(
        config, SimulatedClock(start), registries=population.registries, config_path=path
    ) as rt:
        # as deployed: the config its functions read, with its agencies' endpoints
        yield Season(rt, rt.config, rt.config_path, {})


def city(rt: EmbeddedSeason) -> str:
    return drive.member(rt, "city").principal


def executions(rt: EmbeddedSeason) -> list[dict[str, object]]:
    return list(
        boto3.client("stepfunctions").list_executions(stateMachineArn=rt.state_machine_arn)["executions"]
    )


def test_1_before_the_start_the_status_says_not_started(launched: Season) -> None:
    rt, config = launched.rt, launched.config
    status, answer = _status(rt, config.season, city(rt))
    assert status == 200, answer
    assert answer["status"] == "not-started" and answer["status_zh"] == "尚未启动"
    assert answer["execution"] is None and answer["may_start"] is True
    assert answer["phase"] == "grade7-registration" and answer["open_gates"] == []
    assert answer["config_digest"] == config_digest(config) == rt.env["SEASON_CONFIG_DIGEST"]
    assert answer["state_machine_arn"] == rt.state_machine_arn
    assert answer["calendar"]["grade1_registration"]["start"] == str(
        config.calendar.grade1_registration.start
    )
    nxt = answer["next_deadline"]
    assert isinstance(nxt, dict)
    assert nxt["schedule"] == {
        "name": "deadline-grade7-registration",
        "expression": schedule_expression(phase(config, "grade7-registration")),
        "timezone": config.timezone,
        "state": "ENABLED",
    }
    assert answer["counts"] == {
        "registrations_per_grade": {"1": 0, "7": 0},
        "verdicts_per_status": {},
        "placements_per_route": {},
    }
    assert executions(rt) == []


def test_2_a_confirmed_digest_that_is_not_the_deployed_one_is_refused(launched: Season) -> None:
    rt, config = launched.rt, launched.config
    wrong = "0" * 64
    path = f"/admin/seasons/{config.season}/start"
    status, answer = drive.call(rt, "POST", path, {"config_digest": wrong}, city(rt))
    assert status == 409, answer
    assert wrong in answer["message"] and config_digest(config) in answer["message"]
    assert executions(rt) == []


def test_3_a_config_that_is_not_the_deployed_one_is_refused_naming_both_digests(launched: Season) -> None:
    rt, config = launched.rt, launched.config
    changed = config.model_copy(update={"city": config.city + "（改）"})
    workflow = SfnWorkflow(rt.state_machine_arn)
    with pytest.raises(DigestMismatch) as refused:
        start_season(changed, workflow, rt.env["SEASON_CONFIG_DIGEST"], actor="tester", now=rt.clock.now())
    assert config_digest(changed) in refused.value.message_zh
    assert rt.env["SEASON_CONFIG_DIGEST"] in refused.value.message_zh
    assert config_digest(changed) != config_digest(config)
    assert executions(rt) == []


def test_4_only_city_staff_start_the_season(launched: Season) -> None:
    rt, config = launched.rt, launched.config
    path = f"/admin/seasons/{config.season}/start"
    body = {"config_digest": config_digest(config)}
    for who in (drive.member(rt, "district", A).principal, drive.member(rt, "auditor").principal):
        status, answer = drive.call(rt, "POST", path, body, who)
        assert status == 403 and answer["message"] == "招生季由市教育局统一启动", answer
    assert executions(rt) == []


def test_5_city_staff_start_it_and_starting_again_reports_the_same_execution(launched: Season) -> None:
    rt, config = launched.rt, launched.config
    path = f"/admin/seasons/{config.season}/start"
    status, first = drive.call(rt, "POST", path, {"config_digest": config_digest(config)}, city(rt))
    assert status == 200, first
    assert first["result"] == "started" and first["result_zh"] == "招生季已启动"
    assert first["execution_name"] == f"season-{config.season}"
    recorded = SeasonStart.model_validate(first["input"])
    assert recorded.started_by == city(rt) and recorded.config_digest == config_digest(config)
    # the runtime starts its season through the same use case: the existing execution, reported
    arn = rt.start()
    assert arn == first["execution_arn"] and rt.start_result["result"] == "already-running"
    status, again = drive.call(rt, "POST", path, {"config_digest": config_digest(config)}, city(rt))
    assert status == 200 and again["result"] == "already-running", again
    assert again["execution"]["started_by"] == city(rt)
    (only,) = executions(rt)
    assert only["executionArn"] == arn
    described = boto3.client("stepfunctions").describe_execution(executionArn=arn)
    assert json.loads(described["input"]) == first["input"]


def test_6_at_a_gate_the_status_shows_it_open_with_the_counts(launched: Season) -> None:
    rt, config = launched.rt, launched.config
    rt.wait_for_gate("grade7-registration")
    status, answer = _status(rt, config.season, city(rt))
    assert status == 200, answer
    assert answer["status"] == "RUNNING" and answer["phase"] == "grade7-registration"
    (gate,) = answer["open_gates"]
    assert gate["phase"] == "grade7-registration" and gate["state_zh"] == "等待推进"
    # registration through both windows; verification runs, then waits for the home visits
    launched.bodies.update(drive.register_valid(rt, generate(config, 30, 11)))
    rt.wait_for_gate("home-visits")
    status, answer = _status(rt, config.season, city(rt))
    assert status == 200, answer
    assert answer["phase"] == "home-visits" and answer["phase_zh"] == "材料审核与入户核查"
    assert [g["phase"] for g in answer["open_gates"]] == ["home-visits"]
    assert answer["next_deadline"]["schedule"]["name"] == "deadline-home-visits"
    by_grade = {"1": 0, "7": 0}
    for body in launched.bodies.values():
        by_grade[str(body["grade"])] += 1
    assert answer["counts"]["registrations_per_grade"] == by_grade
    assert sum(by_grade.values()) == len(launched.bodies) > 0


def test_7_after_a_dead_letter_the_city_sees_it_and_districts_only_their_own(launched: Season) -> None:
    rt, config = launched.rt, launched.config
    store = DynamoStore(rt.table_name)
    rid = next(r for r in launched.bodies if store.get_registration(r)["district"] == A)
    deadletters.record(
        config,
        config.season,
        "verification",
        error="AgencyUnavailable",
        cause="the agency stayed down (test)",
        now=rt.clock.now(),
        store=store,
        registration_ids=[rid],
    )
    status, answer = _status(rt, config.season, city(rt))
    assert status == 200, answer
    dead = answer["dead_letters"]
    assert dead["total"] == 1
    assert dead["per_district_phase"] == [{"district": A, "phase": "verification", "count": 1}]
    (latest,) = dead["latest"]
    assert latest["error"] == "AgencyUnavailable" and latest["district"] == A
    status, own = _status(rt, config.season, drive.member(rt, "district", A).principal)
    assert status == 200 and own["dead_letters"]["total"] == 1 and own["may_start"] is False
    status, other = _status(rt, config.season, drive.member(rt, "district", B).principal)
    assert status == 200 and other["dead_letters"] == {"total": 0, "per_district_phase": [], "latest": []}


# The CLI, against a stack in moto whose outputs name the runtime's resources --------------------


def _stack(rt: EmbeddedSeason, config: SeasonConfig, path: str, digest: str | None = None) -> str:
    """A CloudFormation stack in moto with the outputs infra/stack.py writes, naming the runtime's
    resources; `digest` stands for another deployment's config."""
    name = f"Enrollment-{config.name}-{(digest or 'x')[:6]}"
    outputs = {
        "StateMachineArn": rt.state_machine_arn,
        "TableName": rt.table_name,
        "ScheduleGroupName": schedule_group_name(config.name),
        "SeasonConfig": path,
        "ConfigDigest": digest or rt.env["SEASON_CONFIG_DIGEST"],
    }
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


def _enroll(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="enroll season")
    season_run.add_subcommands(parser.add_subparsers(dest="season_command", required=True))
    out = io.StringIO()
    code = season_run.run(parser.parse_args(list(argv)), out)
    return code, out.getvalue()


def test_8_the_cli_starts_twice_harmlessly_and_prints_the_status(launched: Season) -> None:
    rt, config, path = launched.rt, launched.config, launched.path
    rt.start()  # started (test 5 did) or not yet (this test alone): either way it runs once, from here
    stack = _stack(rt, config, path)
    code, text = _enroll("start", "--stack", stack, "--region", REGION)
    assert code == 0, text
    assert "招生季已在运行，未重复启动" in text and rt.execution_arn in text
    code, text = _enroll("start", "--stack", stack, "--config", path)
    assert code == 0 and "already-running" in text, text
    assert len(executions(rt)) == 1
    code, text = _enroll("status", "--stack", stack, "--region", REGION)
    assert code == 0, text
    # the same status the console shows (after tests 6 and 7: at the home-visits gate, one dead letter)
    status, shown = _status(rt, config.season, city(rt))
    assert status == 200, shown
    assert "流程：运行中" in text and f"当前阶段：{shown['phase_zh']}" in text
    assert shown["next_deadline"]["schedule"]["name"] in text
    assert (
        all(f"等待推进：{gate['title_zh']}" in text for gate in shown["open_gates"]) and shown["open_gates"]
    )
    assert f"失败事项：{shown['dead_letters']['total']} 件" in text
    for row in shown["dead_letters"]["per_district_phase"]:
        assert f"{config.district_index[row['district']].name} 材料审核：{row['count']} 件" in text
    assert "注意" not in text  # the local config is the deployed one
    assert "R-" not in text


def test_9_the_cli_refuses_a_config_that_is_not_the_deployed_one(launched: Season) -> None:
    rt, config, path = launched.rt, launched.config, launched.path
    other = "f" * 64
    stack = _stack(rt, config, path, digest=other)
    code, text = _enroll("start", "--stack", stack)
    assert code == 1, text
    assert other in text and config_digest(config) in text and "未启动" in text
    code, text = _enroll("status", "--stack", stack)
    assert code == 0 and "注意：本地配置摘要" in text, text
    code, text = _enroll("status", "--stack", "Enrollment-nowhere")
    assert code == 2 and "找不到堆栈 Enrollment-nowhere" in text, text
    assert len(executions(rt)) == 1
