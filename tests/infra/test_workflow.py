"""The season workflow: one STANDARD state machine from the ASL file, logged and traced."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Match

from enrollment.resources import FUNCTIONS, STATE_MACHINE_FILE, state_machine_name
from infra.nag import ref
from tests.infra.helpers import allowed_actions, getatt, only, resources_for, role_statements

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
            assert subs[spec.asl_placeholder] == getatt(ref(synth.stack.functions[spec.key]))


def test_state_machine_role_invokes_only_the_functions_its_definition_names(synth, raw):
    _, sm = only(raw, "AWS::StepFunctions::StateMachine")
    role_id = sm["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = role_statements(raw, role_id)
    named = {
        spec.key for spec in FUNCTIONS if spec.asl_placeholder in sm["Properties"]["DefinitionSubstitutions"]
    }
    assert named == {"gate-open", "close-registration"}
    expected = [getatt(ref(synth.stack.functions[key])) for key in sorted(named)]
    assert sorted(map(json.dumps, resources_for(statements, "lambda:InvokeFunction"))) == sorted(
        map(json.dumps, expected)
    )
    # log delivery and X-Ray are what CDK adds for logging/tracing; nothing else
    assert {a.split(":")[0] for a in allowed_actions(statements)} == {"lambda", "logs", "xray"}
    assert not any(a.startswith(("states:", "dynamodb:", "s3:", "kms:")) for a in allowed_actions(statements))
