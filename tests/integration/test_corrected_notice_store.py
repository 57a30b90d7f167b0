"""The adapters behind issue 18's families' part, on moto and on the embedded SQLite engine: a notice
replaced only while it holds the old code (the old kept as revoked), its SMS claimed once, a child's
corrections read back from its own partition, and an answer's attached correction kept."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from unittest import mock

import boto3
import pytest

from enrollment.adapters import table as table_module
from enrollment.adapters.complaint_store import DynamoComplaintStore
from enrollment.adapters.correction_reads import DynamoCorrectionReads
from enrollment.adapters.notifications import DynamoNoticeStore
from enrollment.local.runtime import LOCAL_ENV, create_season_table
from enrollment.local.sqlite_dynamo import SqliteDynamo
from enrollment.people.complaints import Answer, Complaint

pytestmark = pytest.mark.xdist_group("corrected-notice-store")

TABLE = "corrected-notices"
RID = "R-ABCD-EFGH-JKMN-PQRS"


@pytest.fixture(params=["moto", "sqlite"])
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    with mock.patch.dict(os.environ, LOCAL_ENV):
        if request.param == "moto":
            from moto import mock_aws

            with mock_aws():
                create_season_table(boto3.client("dynamodb"), TABLE)
                yield "moto"
        else:
            with (
                SqliteDynamo() as sqlite,
                mock.patch.object(table_module, "ENGINE", sqlite.resource),
                mock.patch.object(table_module, "ENGINE_CLIENT", sqlite.client),
            ):
                sqlite.create_table(TABLE)
                yield "sqlite"


def revoked(code: str, by: str | None) -> dict[str, object]:
    return {
        "registration_id": RID,
        "season": "2023",
        "school_id": "S-CY-01",
        "verification_code": code,
        "issued_on": "2023-07-06",
        "revoked_on": "2023-07-20",
        "correction_id": "C-20230720-abcd0001",
        "replaced_by_code": by,
        "replaced_by_issued": "2023-07-20" if by else None,
    }


def test_a_notice_is_replaced_only_while_it_holds_the_old_code_and_texted_once(engine: str) -> None:
    store = DynamoNoticeStore(TABLE)
    assert store.start_notice(
        {"registration_id": RID, "season": "2023", "school_id": "S-CY-01", "verification_code": "AAAAAAAAAA"}
    )
    new = {
        "registration_id": RID,
        "season": "2023",
        "school_id": "S-CY-02",
        "verification_code": "BBBBBBBBBB",
    }
    assert store.replace_notice(revoked("AAAAAAAAAA", "BBBBBBBBBB"), new | {"issue": 1})
    # a second run computed from the old record: refused, the new notice stays
    assert not store.replace_notice(
        revoked("AAAAAAAAAA", "CCCCCCCCCC"), new | {"verification_code": "CCCCCCCCCC"}
    )
    current = store.notice(RID)
    assert current is not None and current["verification_code"] == "BBBBBBBBBB" and current["issue"] == 1
    kept = store.revoked_notice(RID, "AAAAAAAAAA")
    assert kept is not None and kept["revoked_on"] == "2023-07-20"
    assert store.revoked_notice(RID, "BBBBBBBBBB") is None
    # the SMS is claimed once, and only on the record holding the code
    assert not store.claim_notice_sms(RID, "AAAAAAAAAA", "2023-07-20T10:00:00+08:00")
    assert store.claim_notice_sms(RID, "BBBBBBBBBB", "2023-07-20T10:00:00+08:00")
    assert not store.claim_notice_sms(RID, "BBBBBBBBBB", "2023-07-20T10:01:00+08:00")
    # a claim given back (the provider did not take the SMS) can be claimed again; not once sent
    assert store.release_notice_sms(RID, "BBBBBBBBBB")
    assert "sms_claimed_at" not in (store.notice(RID) or {})
    assert store.claim_notice_sms(RID, "BBBBBBBBBB", "2023-07-20T10:02:00+08:00")
    assert store.notice_unsent_listed(RID, "BBBBBBBBBB", "2023-07-20T10:30:00+08:00")
    assert not store.notice_unsent_listed(RID, "BBBBBBBBBB", "2023-07-20T10:45:00+08:00")
    store.notice_sent(RID, "m-1", "2023-07-20T10:02:01+08:00")
    assert not store.release_notice_sms(RID, "BBBBBBBBBB")
    # revoked with no replacement: the record marked, the code kept as revoked
    assert store.replace_notice(revoked("BBBBBBBBBB", None), None)
    current = store.notice(RID)
    assert current is not None and current["status"] == "revoked" and current["revoked_on"] == "2023-07-20"
    assert store.revoked_notice(RID, "BBBBBBBBBB") is not None


def test_an_answers_attached_correction_is_kept(engine: str) -> None:
    store = DynamoComplaintStore(TABLE)
    created = datetime(2023, 7, 10, 1, 0, tzinfo=UTC)
    complaint = Complaint(
        "C-20230710-ABCDEFGH", "2023", RID, "CY", 1, "appeal", "请复核安置结果，谢谢。", created
    )
    store.add_complaint(complaint)
    answer = Answer(
        "已更正。请下载新通知书。",
        "cy-staff-01",
        "CY",
        created,
        "C-20230720-abcd0001",
        "您孩子的安置结果已更正",
    )
    assert store.add_answer(complaint, answer)
    found = store.complaint(complaint.complaint_id)
    assert found is not None and found.answers == (answer,)
    plain = Answer("已答复，谢谢。", "cy-staff-01", "CY", created)
    assert store.add_answer(found, plain)
    again = store.complaint(complaint.complaint_id)
    assert again is not None and again.answers[1] == plain


def test_a_child_without_corrections_reads_none(engine: str) -> None:
    assert DynamoCorrectionReads(TABLE).corrections_of_child(RID) == []
    assert DynamoCorrectionReads(TABLE).corrections("2023") == []
