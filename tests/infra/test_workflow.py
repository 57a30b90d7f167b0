"""The season workflow: one STANDARD state machine from the ASL file, logged and traced."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest
from aws_cdk.assertions import Match

from enrollment.core.resources import FUNCTIONS, ROOT, STATE_MACHINE_FILE, state_machine_name
from infra.nag import ref
from infra.workflow import items_keys
from tests.infra.helpers import (
    S3_READ,
    allowed_actions,
    as_list,
    getatt,
    only,
    published_version,
    resources,
    resources_for,
    role_statements,
)

pytestmark = pytest.mark.xdist_group("infra")


def test_one_standard_state_machine_logged_and_traced(template, config):
    template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineName": state_machine_name(config.name),
            "StateMachineType": "STANDARD",
            "LoggingConfiguration": {
                "Level": "ALL",
                "IncludeExecutionData": False,  # execution data may carry personal data (R-DATA-2)
                "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": Match.any_value()}}],
            },
            "TracingConfiguration": {"Enabled": True},
        },
    )


def test_definition_is_the_asl_file_with_every_placeholder_substituted(synth, raw, config):
    # Given the state machine built with DefinitionBody.from_file (an S3 asset, not DefinitionString)
    _, sm = only(raw, "AWS::StepFunctions::StateMachine")
    props = sm["Properties"]
    assert "DefinitionString" not in props
    staged = synth.outdir / f"asset.{props['DefinitionS3Location']['Key']}"
    text = staged.read_text(encoding="utf-8")
    assert text == STATE_MACHINE_FILE.read_text(encoding="utf-8")

    # Then the substitutions are exactly the file's placeholders
    subs = props["DefinitionSubstitutions"]
    in_file = set(re.findall(r"\$\{(\w+)\}", text))
    assert in_file, "the ASL file has placeholders to substitute"
    assert set(subs) == in_file

    # And applying them leaves no placeholder and valid JSON
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: "substituted" if m.group(1) in subs else m.group(0), text)
    assert "${" not in rendered
    json.loads(rendered)

    # And each value is the right one
    assert subs["Season"] == config.season
    assert subs["Partition"] == {"Ref": "AWS::Partition"}
    for spec in FUNCTIONS:
        if spec.asl_placeholder in subs:
            # the version this deploy published, pinned in the state machine version (test_versions.py)
            function_id = ref(synth.stack.functions[spec.key])
            assert subs[spec.asl_placeholder] == {"Ref": published_version(raw, function_id)}


def _role_statements(raw):
    _, sm = only(raw, "AWS::StepFunctions::StateMachine")
    return role_statements(raw, sm["Properties"]["RoleArn"]["Fn::GetAtt"][0])


def _states_arn(resource: str) -> dict:
    """arn:<partition>:states:<region>:<account>:<resource>, as format_arn renders it (no literal partition)."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":states:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


def test_state_machine_role_invokes_only_the_functions_its_definition_names(synth, raw):
    _, sm = only(raw, "AWS::StepFunctions::StateMachine")
    statements = _role_statements(raw)
    named = {
        spec.key for spec in FUNCTIONS if spec.asl_placeholder in sm["Properties"]["DefinitionSubstitutions"]
    }
    assert named == {
        "lottery-prepare",
        "lottery-wait",
        "lottery-record",
        "place",
        "place-store",
        "seal",
        "report",
        "classes",
        "classes-school",
        "classes-seal",
        "notify-prepare",
        "notify-batch",
        "dead-letter",
        "gate-open",
        "close-registration",
        "verify-prepare",
        "verify-batch",
        "verify-close",
        "spotcheck-draw",
    }  # not register, gate-advance or verify-api: those answer people, not the workflow
    # any version of each (ARN:*): the role serves every state machine version, older ones included
    expected = [{"Fn::Join": ["", [getatt(ref(synth.stack.functions[key])), ":*"]]} for key in sorted(named)]
    assert sorted(map(json.dumps, resources_for(statements, "lambda:InvokeFunction"))) == sorted(
        map(json.dumps, expected)
    )
    # log delivery and X-Ray are what CDK adds for logging/tracing; S3, its key and states are the
    # Distributed Map's (ItemReader decrypts the work bucket's objects)
    assert {a.split(":")[0] for a in allowed_actions(statements)} == {
        "lambda",
        "logs",
        "xray",
        "s3",
        "kms",
        "states",
    }
    assert not any(a.startswith("dynamodb:") for a in allowed_actions(statements))
    kms_actions = {a for a in allowed_actions(statements) if a.startswith("kms:")}
    assert kms_actions == {"kms:Decrypt", "kms:DescribeKey"}
    for action in kms_actions:
        assert resources_for(statements, action) == [getatt(ref(synth.stack.work.key))]


def test_definition_has_the_distributed_map_the_role_is_shaped_for():
    # Given the ASL file: DISTRIBUTED maps (verification, placement chunks, notices) reading their
    # items with s3:getObject, STANDARD children
    states = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))["States"]
    maps = [s for s in states.values() if s["Type"] == "Map"]
    dmaps = [m for m in maps if m["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"]
    assert len(dmaps) == 3
    for dmap in dmaps:
        assert dmap["ItemReader"]["Resource"] == "arn:${Partition}:states:::s3:getObject"
        assert dmap["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == "STANDARD"


def test_state_machine_role_reads_only_the_batches_files_of_the_work_bucket(synth, raw, config):
    statements = _role_statements(raw)
    bucket = getatt(ref(synth.stack.work.bucket))
    objects = {"Fn::Join": ["", [bucket, f"/seasons/{config.season}/*/batches.json"]]}
    # read-only (grant_read), which covers the ItemReader's s3:GetObject on the season's batches files,
    # not on the notice PDFs or exports beside them
    assert {a for a in allowed_actions(statements) if a.startswith("s3:")} == S3_READ
    assert objects in resources_for(statements, "s3:GetObject*")
    for action in S3_READ:
        assert sorted(map(json.dumps, resources_for(statements, action))) == sorted(
            map(json.dumps, [bucket, objects])
        ), action
    # and the archive is out of reach
    archive = ref(synth.stack.archive.bucket)
    assert archive not in json.dumps([s for s in statements if "s3:" in json.dumps(s["Action"])])


def test_every_distributed_maps_items_file_is_one_the_state_machine_may_read():
    """The prepare steps write the Maps' items where `items_keys` says (the role reads nothing else)."""
    written = {
        match
        for path in (ROOT / "enrollment").rglob("*.py")
        for match in re.findall(
            r'f"(seasons/\{season\}/[^"]*batches\.json)"', path.read_text(encoding="utf-8")
        )
    }
    assert written == {
        f"seasons/{{season}}/{phase}/batches.json" for phase in ("verification", "placement", "notices")
    }
    for key in written:
        assert fnmatch.fnmatchcase(key.replace("{season}", "2031"), items_keys("2031")), key


def test_state_machine_role_starts_only_itself_and_watches_only_its_executions(raw, config):
    statements = _role_statements(raw)
    name = state_machine_name(config.name)
    _, sm = only(raw, "AWS::StepFunctions::StateMachine")
    assert sm["Properties"]["StateMachineName"] == name
    states_actions = {a for a in allowed_actions(statements) if a.startswith("states:")}
    assert states_actions == {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}
    # built from the name (a Ref to the state machine in its own role policy would be a cycle)
    assert resources_for(statements, "states:StartExecution") == [_states_arn(f"stateMachine:{name}")]
    executions = [_states_arn(f"execution:{name}:*")]
    assert resources_for(statements, "states:DescribeExecution") == executions
    assert resources_for(statements, "states:StopExecution") == executions
    for statement in statements:  # no states:* action on every resource
        if any(a.startswith("states:") for a in as_list(statement["Action"])):
            assert "*" not in as_list(statement["Resource"])


def test_no_other_role_may_start_the_workflow(synth, raw):
    """Only the workflow itself (its Distributed Map's child executions) and the function behind
    `POST /admin/seasons/{season}/start` (gate-advance: the season's one execution) start it."""
    _, sm = only(raw, "AWS::StepFunctions::StateMachine")
    own_role = {"Ref": sm["Properties"]["RoleArn"]["Fn::GetAtt"][0]}
    starter = {"Ref": ref(synth.stack.functions.node.find_child("gate-advance-role"))}
    for logical_id, policy in resources(raw, "AWS::IAM::Policy").items():
        if own_role in policy["Properties"]["Roles"] or starter in policy["Properties"]["Roles"]:
            continue
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert "states:StartExecution" not in allowed_actions(statements), logical_id


TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "StoreUnavailable",
}
MAPS = {
    "VerifyRegistrations": "verification",
    "PrivateLotteries": "lottery",
    "DrawDistrictSpotChecks": "spot-check",
    "SendNotices": "notices",
    "DrawClasses": "classes",
}
# Maps whose every item is needed (a count or the list of registrations cannot skip one): an item
# that fails for good fails the Map, which pauses the season (docs/RUNBOOK.md, "Each pause").
WHOLE_MAPS = ("CountRegistrations", "ListRegistrations")


def _tasks(states: dict) -> dict:
    """Every Task state, those of the Maps' item processors too."""
    found = {}
    for name, state in states.items():
        if state["Type"] == "Task":
            found[name] = state
        if state["Type"] == "Map":
            found |= _tasks(state["ItemProcessor"]["States"])
    return found


def test_every_task_retries_lambda_errors_timeouts_and_throttling_with_backoff():
    definition = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))
    for name, task in _tasks(definition["States"]).items():
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert TRANSIENT | {"Sandbox.Timedout"} <= retried, name
        assert "States.ALL" not in retried, name  # a bug is not retried: it goes to the dead letters
        for r in task["Retry"]:
            assert r["IntervalSeconds"] >= 2 and r["BackoffRate"] >= 2 and r["MaxAttempts"] >= 2, name


def test_every_map_item_that_fails_for_good_is_a_dead_letter_and_the_map_goes_on():
    definition = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))
    for map_name, phase in MAPS.items():
        state = definition["States"][map_name]
        assert not {k for k in state if k.startswith("ToleratedFailure")}, map_name  # each item is caught
        states = state["ItemProcessor"]["States"]
        recorders = {
            n
            for n, s in states.items()
            if s["Type"] == "Task" and s["Parameters"]["FunctionName"] == "${DeadLetterFunctionArn}"
        }
        assert len(recorders) == 1, map_name
        (recorder,) = recorders
        # every other task of the item ends, after its retries, at the recorder: States.ALL is its last Catch
        for name, task in states.items():
            if task["Type"] != "Task" or name == recorder:
                continue
            last = task["Catch"][-1]
            assert last["ErrorEquals"] == ["States.ALL"] and last["Next"] == recorder, (map_name, name)
            assert last["ResultPath"] == "$.failure", (map_name, name)
        # the recorder names the season, the phase, the item and the failure, and ends the item
        record = states[recorder]
        payload = record["Parameters"]["Payload"]
        assert payload["phase"] == phase and payload["failure.$"] == "$.failure"
        assert payload["season.$"] == "$.season"
        assert (
            {"registration_ids.$"} <= set(payload)
            or {"school_id.$", "grade.$"} <= set(payload)
            or {"district.$"} <= set(payload)
        )
        assert record["End"] is True
        retried = {e for r in record["Retry"] for e in r["ErrorEquals"]}
        assert retried >= TRANSIENT
        # a dead letter that cannot be written either does not fail the Map: a Pass state ends the item
        (catch,) = record["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert states[catch["Next"]]["Type"] == "Pass" and states[catch["Next"]]["End"] is True


def test_maps_that_need_every_item_pause_the_season_instead():
    states = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))["States"]
    for name in WHOLE_MAPS:
        inner = states[name]["ItemProcessor"]["States"]
        assert all(
            s.get("Parameters", {}).get("FunctionName") != "${DeadLetterFunctionArn}" for s in inner.values()
        ), name
        (catch,) = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == f"Paused{name}", name


def test_a_school_not_drawn_seals_no_classes_and_pauses_to_draw_again():
    """The class addition is sealed whole: the seal is given the draw's results, and one that answers
    `incomplete` (a school-grade dead-lettered) pauses the season at DrawClasses, not at the seal."""
    states = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))["States"]
    assert states["DrawClasses"]["ResultPath"] == "$.classes.drawn"
    seal = states["SealClasses"]
    assert seal["Parameters"]["Payload"]["drawn.$"] == "$.classes.drawn"
    assert seal["ResultPath"] == "$.phases.classes" and seal["Next"] == "ClassesSealedWhole"
    whole = states["ClassesSealedWhole"]
    [rule] = whole["Choices"]
    assert rule == {
        "Variable": "$.phases.classes.classes.sealed",
        "StringEquals": "incomplete",
        "Next": "ClassesNotDrawn",
    }
    assert states[whole["Default"]]["Type"] == "Succeed"
    not_drawn = states["ClassesNotDrawn"]
    assert not_drawn["Parameters"]["Error"] == "ClassesNotDrawn" and not_drawn["ResultPath"] == "$.pause"
    assert not_drawn["Next"] == "PausedDrawClasses" and states["PausedDrawClasses"]["Next"] == "DrawClasses"


def test_the_season_report_follows_the_seal_and_a_failing_report_does_not_end_the_season():
    states = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))["States"]
    assert states["SealArchive"]["Next"] == "WriteSeasonReport"
    report = states["WriteSeasonReport"]
    assert report["Parameters"] == {
        "FunctionName": "${ReportFunctionArn}",
        "Payload": {"season": "${Season}"},
    }
    assert report["Retry"] == states["SealArchive"]["Retry"]  # the same backoff as the seal's
    assert report["Next"] == "ReportingGate"
    # after its retries any error is recorded as the city's dead letter, and the season goes on
    (catch,) = report["Catch"]
    assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "RecordReportDeadLetter"
    record = states["RecordReportDeadLetter"]
    assert record["Parameters"]["FunctionName"] == "${DeadLetterFunctionArn}"
    assert record["Parameters"]["Payload"] == {
        "season": "${Season}",
        "phase": "report",
        "failure.$": catch["ResultPath"],
    }
    assert record["Next"] == "ReportingGate"
    (unrecorded,) = record["Catch"]
    assert states[unrecorded["Next"]] == {
        **states[unrecorded["Next"]],
        "Type": "Pass",
        "Next": "ReportingGate",
    }


@pytest.fixture(params=["synth", "cn"])
def partition_synth(request):
    """Each partition's stack: environment-agnostic (aws) and pinned to cn-north-1 (aws-cn)."""
    return request.getfixturevalue(request.param)


def _synthesized_definition(stack) -> dict:
    _, sm = only(stack.raw, "AWS::StepFunctions::StateMachine")
    staged = stack.outdir / f"asset.{sm['Properties']['DefinitionS3Location']['Key']}"
    return json.loads(staged.read_text(encoding="utf-8"))


def test_a_failed_step_pauses_for_the_city_instead_of_ending_the_season(partition_synth):
    """Every top-level step catches what its retries could not absorb into Paused<Step>: a task
    token stored with the error by gate-open (a function the role may invoke), resumed by city staff,
    after which the step runs again. Only the season report goes on to its dead letter instead."""
    definition = _synthesized_definition(partition_synth)
    states = definition["States"]
    steps = [n for n, s in states.items() if s["Type"] in ("Task", "Map") and not n.startswith("Paused")]
    assert len(steps) > 20
    for name in steps:
        (catch,) = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        if name in ("WriteSeasonReport", "RecordReportDeadLetter"):
            continue
        assert catch["Next"] == f"Paused{name}", name
        pause = states[f"Paused{name}"]
        assert pause["Type"] == "Task" and pause["Resource"].endswith(":lambda:invoke.waitForTaskToken")
        assert pause["Parameters"]["FunctionName"] == "${GateOpenFunctionArn}"
        assert pause["Parameters"]["Payload"]["phase"].startswith("pause-")
        assert pause["Next"] == name and pause["TimeoutSeconds"] == 90 * 24 * 3600
        assert {"Lambda.ServiceException", "Sandbox.Timedout"} <= {
            e for r in pause["Retry"] for e in r["ErrorEquals"]
        }


def test_tasks_and_the_season_time_out_so_executions_timed_out_can_fire(partition_synth):
    definition = _synthesized_definition(partition_synth)
    assert definition["TimeoutSeconds"] == 366 * 24 * 3600  # a season never runs a year
    timeouts = {"${" + spec.asl_placeholder + "}": spec.timeout_s for spec in FUNCTIONS}

    def tasks(states: dict) -> list[tuple[str, dict]]:
        found = []
        for name, s in states.items():
            if s["Type"] == "Task":
                found.append((name, s))
            if s["Type"] == "Map":
                found += tasks(s["ItemProcessor"]["States"])
        return found

    invoked = [(n, t) for n, t in tasks(definition["States"]) if t["Resource"].endswith(":lambda:invoke")]
    assert len(invoked) > 25
    for name, task in invoked:
        # the state waits a little longer than its function may run, then retries the timeout
        assert task["TimeoutSeconds"] == timeouts[task["Parameters"]["FunctionName"]] + 60, name
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert {"States.Timeout", "Sandbox.Timedout", "Lambda.AWSLambdaException"} <= retried, name
