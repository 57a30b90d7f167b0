"""moto's Step Functions engine runs a Map of more items per worker than Python's default recursion
limit, as the embedded backend's `_long_map_workers` lets it: 300,000 applicants are 3,000
verification batches, which `enroll demo --budget` runs one at a time (MaxConcurrency 1)."""

from __future__ import annotations

import json
import sys
import time

import boto3
import pytest
from moto import mock_aws

from enrollment.local.runtime import MAP_ITEMS_PER_WORKER, _long_map_workers

ITEMS = 1_500  # more than the default limit of 1,000 frames, all run by one worker
DEADLINE_S = 300


def _run_map(mode: str) -> dict[str, object]:
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {
                        "Mode": mode,
                        **({"ExecutionType": "STANDARD"} if mode == "DISTRIBUTED" else {}),
                    },
                    "StartAt": "Keep",
                    "States": {"Keep": {"Type": "Pass", "End": True}},
                },
                "ResultSelector": {"count.$": "States.ArrayLength($)"},
                "End": True,
            }
        },
    }
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name=f"long-map-{mode.lower()}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"items": list(range(ITEMS))}))[
        "executionArn"
    ]
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.2)
    raise AssertionError(f"the {mode} Map of {ITEMS} items still runs after {DEADLINE_S} s")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["INLINE", "DISTRIBUTED"])
def test_one_worker_runs_more_items_than_the_default_recursion_limit(mode: str) -> None:
    before = sys.getrecursionlimit()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), _long_map_workers():
        assert sys.getrecursionlimit() == max(before, MAP_ITEMS_PER_WORKER)
        described = _run_map(mode)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"count": ITEMS}
    assert sys.getrecursionlimit() == before  # put back for whoever runs next
