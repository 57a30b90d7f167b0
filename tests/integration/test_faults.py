"""A season that survives its own failures: the same season, with and without injected faults.

A whole small season runs twice on the embedded backend with the same population seed: once as it
is, once with every workflow task failing once at random (a Lambda service error before the handler
runs, or a timeout after it finished its work) and every DynamoDB, S3 and KMS operation of the
tasks throttled once (enrollment/local/faults.py). The ASL's retries must absorb it all: both seasons
end, both archives pass `enroll audit`, and they are byte for byte the same but for the signature and
the public key (each run has its own KMS key); nobody is lost or placed twice, no SMS goes out twice,
and nothing ends as a dead letter.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from rich.console import Console

from enrollment.adapters.notifications import DynamoNoticeStore
from enrollment.archive.contract import read_folder
from enrollment.cli.demo import DemoResult, run_demo
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.local.faults import TIMEOUT, Faults
from enrollment.local.runtime import EmbeddedSeason

pytestmark = pytest.mark.xdist_group("faults")

APPLICANTS, SEED = 100, 29
SIGNED = {"manifest.sig.json", "public-key.pem"}  # differ between any two runs: a new KMS key each


def _season(out: Path) -> DemoResult:
    config = load_season("seasons/jilin-2023.yaml")
    console = Console(file=io.StringIO(), width=120)
    return run_demo(config, APPLICANTS, SEED, out, console, "seasons/jilin-2023.yaml")


def _unsigned(folder: Path) -> dict[str, bytes]:
    return {k: v for k, v in read_folder(folder).items() if k not in SIGNED}


def test_every_task_failing_once_and_every_call_throttled_once_changes_nothing(tmp_path: Path) -> None:
    plain = _season(tmp_path / "plain")
    faults = Faults(seed=SEED)
    with faults.injected():
        faulty = _season(tmp_path / "faulty")

    # Faults were injected everywhere: every task's first attempt, both kinds, and throttling
    assert sum(faults.failed.values()) >= 30 and faults.failed[TIMEOUT] > 0, faults.failed
    assert {op.split(".")[0] for op, _ in faults.throttled} == {"dynamodb", "s3", "kms"}, faults.throttled
    # and nothing failed for good: no dead letter was even attempted
    assert not [f for f in faults.invoked if f.endswith("-dead-letter")], faults.invoked

    for result in (plain, faulty):
        assert result.workflow["status"] == "SUCCEEDED", result.workflow
        assert result.unexpected == [], result.unexpected  # includes `enroll audit` of both archives
        assert "AUDIT PASSED" in result.audit

    # The archive and the classes addition are the same bytes, file for file
    for folder in ("archive", "additions/classes"):
        a, b = _unsigned(tmp_path / "plain" / folder), _unsigned(tmp_path / "faulty" / folder)
        assert sorted(a) == sorted(b), folder
        differ = sorted(k for k in a if a[k] != b[k])
        assert not differ, f"{folder}: {differ} differ between the runs without and with faults"
    # and so is the season report the workflow wrote beside the archive (written once, read back)
    assert plain.report_html is not None and faulty.report_html == plain.report_html

    # Nobody lost or placed twice; one notice and one SMS per placed child
    placed = [json.loads(line) for line in faulty.records["placements.jsonl"].decode().splitlines()]
    ids = [p["registration_id"] for p in placed]
    assert len(ids) == len(set(ids)) == faulty.accepted == plain.accepted
    assert len(faulty.sms) == faulty.notices == plain.notices == len(plain.sms)
    # the same SMS to the same phone twice (each outbox line has its own id: compare what it says)
    said = Counter((json.loads(line)["to"], json.loads(line)["text"]) for line in faulty.sms)
    assert not [sms for sms, n in said.items() if n > 1]


def test_a_throttled_mark_after_the_sms_is_tried_again_not_the_sms(season: SeasonConfig) -> None:
    """The SMS is out when its record is marked sent: a throttled mark must not fail the batch, whose
    retry would text the family again."""
    with EmbeddedSeason(season, SimulatedClock(datetime(2023, 7, 6, 9, tzinfo=season.tz))) as rt:
        store = DynamoNoticeStore(rt.table_name)
        assert store.start_notice({"registration_id": "R1", "season": season.season})
        throttled: list[str] = []

        def throttle_first_update(event_name: str, **_: object) -> None:
            if event_name.endswith(".UpdateItem") and not throttled:
                throttled.append(event_name)
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "UpdateItem")

        store.table.meta.client.meta.events.register("before-call", throttle_first_update)
        store.notice_sent("R1", "sms-1", "2023-07-06T09:00:00+08:00")
        assert throttled
        assert (store.notice("R1") or {}).get("sms_message_id") == "sms-1"
