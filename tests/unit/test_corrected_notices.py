"""Issue 18, families see it: a corrected place re-issues the notice (new PDF, new code, one SMS), the old
code checks as revoked and replaced, the status page's history is plain Chinese, and a complaint's
answer can carry a correction of the same child that names it. Synthetic people, no AWS."""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from enrollment.core import idcard, sms_delivery
from enrollment.core.config import SeasonConfig, SmsDelivery, load_season
from enrollment.core.ports import SmsThrottled
from enrollment.core.sms_templates import SmsMessage
from enrollment.core.staff import StaffMember
from enrollment.corrections.family import KIND_ZH, correction_zh, place_history
from enrollment.corrections.model import Change, ChildCorrection, Correction, PlacementLine
from enrollment.notices import corrected
from enrollment.notices import notice as notices
from enrollment.notices.season import issue as notices_issue
from enrollment.people import complaints

SECRET = b"test-secret-for-notices-0123456789"
RID = "R-ABCD-EFGH-JKMN-PQRS"
LATE = "R-LATE-EFGH-JKMN-PQRS"
PHONE = "13912345678"


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("jilin-2023")


def registration(rid: str = RID) -> dict[str, Any]:
    return {
        "registration_id": rid,
        "season": "2023",
        "grade": 1,
        "district": "CY",
        "request": {
            "child": {"name": "王梓涵", "id_number": idcard.make("220204", date(2016, 10, 3), 123)},
            "guardians": [{"phone": PHONE}],
        },
    }


def line(rid: str, school: str | None, route: str = "catchment", **more: Any) -> PlacementLine:
    return PlacementLine(registration_id=rid, grade=1, school_id=school, route=route, **more)


def correction(
    config: SeasonConfig,
    kind: Any,
    before: PlacementLine | None,
    after: PlacementLine,
    day: int = 20,
    n: int = 1,
    complaint_id: str | None = None,
) -> Correction:
    return Correction(
        correction_id=f"C-2023072{n}-abcd{n:04d}",
        season="2023",
        kind=kind,
        district="CY",
        actor="cy-staff-01",
        role="district",
        at=datetime(2023, 7, day, 10, 30, tzinfo=config.tz),
        reason="经复核，家长申诉理由成立，予以更正",
        reason_codes=("R-VER-3-override",),
        changes=(Change(registration_id=after.registration_id, before=before, after=after),),
        complaint_id=complaint_id,
    )


class Registrations:
    def __init__(self, *regs: dict[str, Any]) -> None:
        self.regs = {str(r["registration_id"]): r for r in regs}

    def get_registration(self, rid: str) -> dict[str, Any]:
        return self.regs[rid]

    def get_registrations(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: self.regs[rid] for rid in ids if rid in self.regs}


class Notices:
    """The notice store's conditional writes as plain dicts (DynamoNoticeStore's behaviour)."""

    def __init__(self) -> None:
        self.current: dict[str, dict[str, Any]] = {}
        self.revoked: dict[tuple[str, str], dict[str, Any]] = {}

    def notice(self, rid: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.current.get(rid))

    def notices_of(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: copy.deepcopy(self.current[rid]) for rid in ids if rid in self.current}

    def start_notice(self, item: dict[str, Any]) -> bool:
        if item["registration_id"] in self.current:
            return False
        self.current[item["registration_id"]] = dict(item)
        return True

    def notice_sent(self, rid: str, message_id: str, at: str) -> None:
        self.current[rid] |= {"sms_message_id": message_id, "sms_sent_at": at}

    def notice_manual(self, item: dict[str, Any]) -> None:
        self.current[item["registration_id"]] = dict(item)

    def revoked_notice(self, rid: str, code: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.revoked.get((rid, code)))

    def replace_notice(self, revoked: dict[str, Any], new: dict[str, Any] | None) -> bool:
        rid, code = revoked["registration_id"], revoked["verification_code"]
        self.revoked[(rid, code)] = dict(revoked)
        if self.current.get(rid, {}).get("verification_code") != code:
            return False
        if new is None:
            self.current[rid] |= {"status": "revoked", "revoked_on": revoked["revoked_on"]}
        else:
            self.current[rid] = dict(new)
        return True

    def claim_notice_sms(self, rid: str, code: str, at: str) -> bool:
        rec = self.current.get(rid)
        if rec is None or rec.get("verification_code") != code or rec.get("sms_claimed_at"):
            return False
        rec["sms_claimed_at"] = at
        return True

    def release_notice_sms(self, rid: str, code: str) -> bool:
        rec = self.current.get(rid)
        if rec is None or rec.get("verification_code") != code or rec.get("sms_message_id"):
            return False
        rec.pop("sms_claimed_at", None)
        return True

    def notice_unsent_listed(self, rid: str, code: str, at: str) -> bool:
        rec = self.current.get(rid)
        if rec is None or rec.get("verification_code") != code or rec.get("sms_unsent_listed_at"):
            return False
        rec["sms_unsent_listed_at"] = at
        return True


class Files:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.files[key] = body


class Outbox:
    def __init__(self, fail: bool = False, throttled: bool = False) -> None:
        self.sent: list[tuple[str, SmsMessage]] = []
        self.fail, self.throttled = fail, throttled

    def send(self, phone: str, message: SmsMessage) -> str:
        if self.throttled:
            raise SmsThrottled("slow down")
        if self.fail:
            raise RuntimeError("the function stopped mid-send")
        self.sent.append((phone, message))
        return f"m-{len(self.sent)}"


def fake_render(batch: Sequence[notices.Notice]) -> list[bytes]:
    return [f"%PDF {n.school_id} {n.verification_code}".encode() for n in batch]


def first_notice(config: SeasonConfig, store: Notices, school: str = "S-CY-01") -> str:
    """The notice the season's batch issued on the notices day, as `notices.season.issue` records it."""
    code = notices.verification_code(SECRET, "2023", RID, school)
    store.current[RID] = {
        "registration_id": RID,
        "season": "2023",
        "school_id": school,
        "key": f"seasons/2023/notices/{RID}.pdf",
        "verification_code": code,
        "issued_at": "2023-07-06T09:00:00+08:00",
        "sms_message_id": "m-0",
    }
    return code


def run(
    config: SeasonConfig,
    corrections: list[Correction],
    store: Notices,
    sms: Outbox,
    files: Files | None = None,
    render: Any = fake_render,
    now: datetime | None = None,
    tracking: sms_delivery.Tracking | None = None,
) -> dict[str, int]:
    return corrected.reissue(
        config,
        "2023",
        corrections,
        registrations=Registrations(registration(), registration(LATE)),
        secret=SECRET,
        store=store,
        files=files or Files(),
        sms=sms,
        now=now or datetime(2023, 7, 20, 10, 45, tzinfo=config.tz),
        render_many=render,
        tracking=tracking,
    )


def test_each_issue_has_its_own_code_even_at_the_same_school() -> None:
    first = notices.verification_code(SECRET, "2023", RID, "S-CY-01")
    again = notices.verification_code(SECRET, "2023", RID, "S-CY-01", 2)
    assert first != again != notices.verification_code(SECRET, "2023", RID, "S-CY-01", 1)
    assert notices.check_verification_code(SECRET, "2023", RID, "S-CY-01", again, 2)
    assert not notices.check_verification_code(SECRET, "2023", RID, "S-CY-01", again)
    assert notices.verification_message("2023", RID, "S-CY-01", 2).startswith(b"enrollment-notice/2|")
    with pytest.raises(ValueError, match="issue"):
        notices.verification_message("2023", RID, "S-CY-01", -1)


def test_a_changed_place_gets_a_new_notice_and_one_sms_and_the_old_code_is_revoked(
    config: SeasonConfig,
) -> None:
    # Given the notice of the notices day, and a correction moving the child to another school
    store, sms, files = Notices(), Outbox(), Files()
    old = first_notice(config, store)
    moved = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理由")
    )
    # When the notices are brought in line
    out = run(config, [moved], store, sms, files)
    # Then a new notice (its own code, the correction's day, its own file) and one SMS naming the school
    assert out["issued"] == 1 and out["revoked"] == 1, out
    new = store.current[RID]
    assert new["school_id"] == "S-CY-02" and new["issue"] == 1 and new["issued_on"] == "2023-07-20"
    assert new["verification_code"] != old and new["correction_id"] == moved.correction_id
    assert new["verification_code"] == notices.verification_code(SECRET, "2023", RID, "S-CY-02", 1)
    assert files.files[new["key"]] == f"%PDF S-CY-02 {new['verification_code']}".encode()
    assert new["key"] != f"seasons/2023/notices/{RID}.pdf"  # the first notice's file is not overwritten
    [(phone, message)] = sms.sent
    assert phone == PHONE and "船营区第二小学" in message.text and RID in message.text
    assert "9月1日" in message.text  # issued after the reporting day: the child reports on term's first day
    revoked = store.revoked[(RID, old)]
    assert revoked["replaced_by_code"] == new["verification_code"] and revoked["revoked_on"] == "2023-07-20"
    seen = corrected.family_notice(config, store.notice(RID))
    assert seen is not None and seen["reissued"] and not seen["revoked"]
    assert (
        seen["message_zh"]
        == "安置结果已更正，已于2023年7月20日重新发放入学通知书，原通知书作废，请下载新通知书"
    )
    # And a retry (or the next run of the rule) texts nobody again and changes nothing
    before = copy.deepcopy(store.current)
    assert run(config, [moved], store, sms)["issued"] == 0
    assert len(sms.sent) == 1 and store.current == before


def test_the_old_code_answers_revoked_and_replaced_and_the_new_one_valid(config: SeasonConfig) -> None:
    store = Notices()
    old = first_notice(config, store)
    moved = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理由")
    )
    run(config, [moved], store, Outbox())
    new = store.current[RID]["verification_code"]
    typed = notices.format_code(old).lower()  # as a school types it
    answer = corrected.check(config, "CY", RID, typed, store=store)
    assert answer["status"] == "revoked" and not answer["valid"]
    assert answer["message"] == (
        f"该通知书（核验码{notices.format_code(old)}）已作废，已由2023年7月20日的新通知书替代，请以新通知书为准"
    )
    assert "S-CY" not in answer["message"] and "R-" not in answer["message"]
    ok = corrected.check(config, "CY", RID, new, store=store)
    assert (
        ok["status"] == "valid" and ok["school_name"] == "船营区第二小学" and ok["issued_on"] == "2023-07-20"
    )
    assert corrected.check(config, "CY", RID, "0000000000", store=store)["status"] == "invalid"
    assert corrected.check(config, "CY", RID, "not a code", store=store)["status"] == "invalid"
    # another district's staff learn nothing of CY's notices
    assert corrected.check(config, "CH", RID, new, store=store)["status"] == "invalid"
    assert corrected.check(config, "CH", RID, old, store=store)["status"] == "invalid"


def test_the_reissued_pdf_names_the_notice_it_replaces(config: SeasonConfig) -> None:
    store, files = Notices(), Files()
    old = first_notice(config, store)
    moved = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理由")
    )
    run(config, [moved], store, Outbox(), files, render=notices.render_each)
    pdf = files.files[store.current[RID]["key"]]
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert "船营区第二小学" in text and "2023年7月20日" in text
    assert f"替代2023年7月6日发放的入学通知书（核验码{notices.format_code(old)}），原通知书作废" in text
    assert notices.format_code(store.current[RID]["verification_code"]) in text


def test_a_place_given_up_revokes_the_notice_without_a_new_one_or_an_sms(config: SeasonConfig) -> None:
    store, sms = Notices(), Outbox()
    old = first_notice(config, store)
    declined = line(RID, None, "declined", status="declined", reason="public-declined")
    out = run(config, [correction(config, "decline", line(RID, "S-CY-01"), declined)], store, sms)
    assert out["revoked"] == 1 and out["issued"] == 0 and sms.sent == []
    assert store.current[RID]["status"] == "revoked"
    answer = corrected.check(config, "CY", RID, old, store=store)
    assert answer["status"] == "revoked" and "已于2023年7月20日作废" in answer["message"]
    seen = corrected.family_notice(config, store.notice(RID))
    assert seen is not None and seen["revoked"] and "作废" in seen["message_zh"]
    assert not re.search(r"[A-Za-z]", seen["message_zh"] + seen["issued_on_zh"])


def test_a_late_registration_gets_its_first_notice_and_a_route_change_at_the_same_school_none(
    config: SeasonConfig,
) -> None:
    store, sms = Notices(), Outbox()
    first_notice(config, store)
    late = correction(
        config, "late-registration", None, line(LATE, "S-CY-03", "coordination", reason="x"), n=2
    )
    same_school = correction(
        config, "re-verification", line(RID, "S-CY-01", "coordination", reason="y"), line(RID, "S-CY-01"), n=3
    )
    out = run(config, [late, same_school], store, sms)
    assert out == {"issued": 1, "revoked": 0, "manual": 0, "unsent": 0, "unchanged": 1, "waiting": 0}
    assert store.current[LATE]["issue"] == 0 and "replaces_code" not in store.current[LATE]
    assert store.current[LATE]["verification_code"] == notices.verification_code(
        SECRET, "2023", LATE, "S-CY-03"
    )
    assert [m.params["registration_id"] for _, m in sms.sent] == [LATE]


def test_a_run_that_stops_after_claiming_the_sms_never_texts_twice(config: SeasonConfig) -> None:
    store = Notices()
    first_notice(config, store)
    moved = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理由")
    )
    with pytest.raises(RuntimeError):
        run(config, [moved], store, Outbox(fail=True))
    sms = Outbox()
    assert run(config, [moved], store, sms)["unsent"] == 1
    assert sms.sent == []  # claimed by the run that stopped: counted unsent, not sent again
    # once no run can still be sending it, it is listed to the district to phone the family, once
    messages = Messages()
    tracking = sms_delivery.Tracking(messages, False, SmsDelivery())
    soon = datetime(2023, 7, 20, 10, 55, tzinfo=config.tz)
    assert run(config, [moved], store, sms, now=soon, tracking=tracking)["unsent"] == 1
    assert messages.failures == []  # 10 minutes: a run may still be sending it
    later = datetime(2023, 7, 20, 11, 30, tzinfo=config.tz)
    for _ in range(2):
        assert run(config, [moved], store, sms, now=later, tracking=tracking)["unsent"] == 1
    [listed] = messages.failures
    assert listed.district == "CY" and listed.registration_id == RID and listed.school_id == "S-CY-02"
    assert listed.purpose == "notice" and listed.phone_masked != PHONE and sms.sent == []


def test_a_send_the_provider_did_not_take_is_sent_by_the_next_run(config: SeasonConfig) -> None:
    store = Notices()
    first_notice(config, store)
    moved = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理由")
    )
    with pytest.raises(SmsThrottled):
        run(config, [moved], store, Outbox(throttled=True))
    assert "sms_claimed_at" not in store.current[RID]  # the claim given back
    sms = Outbox()
    assert run(config, [moved], store, sms)["issued"] == 1 and len(sms.sent) == 1


class Messages:
    """The SMS message records' store, as far as the notices use it (failures listed)."""

    def __init__(self) -> None:
        self.failures: list[sms_delivery.SmsFailure] = []
        self.messages: list[sms_delivery.SmsRecord] = []

    def put_message(self, record: sms_delivery.SmsRecord) -> None:
        self.messages.append(record)

    def put_failure(self, failure: sms_delivery.SmsFailure) -> None:
        self.failures.append(failure)


def test_a_run_that_stops_before_the_sms_claim_sends_it_next_time(config: SeasonConfig) -> None:
    store = Notices()
    first_notice(config, store)
    moved = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理由")
    )

    def stops(batch: Sequence[notices.Notice]) -> list[bytes]:
        raise RuntimeError("the function stopped before drawing")

    with pytest.raises(RuntimeError):
        run(config, [moved], store, Outbox(), render=stops)
    assert store.current[RID]["school_id"] == "S-CY-02"  # replaced, not yet drawn nor texted
    sms = Outbox()
    assert run(config, [moved], store, sms)["issued"] == 1 and len(sms.sent) == 1


def test_corrected_back_to_the_first_school_gets_yet_another_code(config: SeasonConfig) -> None:
    store, sms = Notices(), Outbox()
    first = first_notice(config, store)
    away = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理"), 20
    )
    run(config, [away], store, sms)
    second = store.current[RID]["verification_code"]
    back = correction(
        config, "override", away.changes[0].after, line(RID, "S-CY-01", "override", reason="理"), 22, 2
    )
    run(config, [away, back], store, sms)
    third = store.current[RID]["verification_code"]
    assert len({first, second, third}) == 3 and store.current[RID]["issue"] == 2
    assert corrected.check(config, "CY", RID, first, store=store)["status"] == "revoked"
    assert "2023年7月22日" in corrected.check(config, "CY", RID, second, store=store)["message"]
    assert corrected.check(config, "CY", RID, third, store=store)["status"] == "valid"
    assert len(sms.sent) == 2


# --- the status page's history ---------------------------------------------------------------


PARENT_TEXT = ("on_zh", "place_zh", "reason_zh", "route_zh", "school_name")


def parent_strings(entries: list[dict[str, Any]]) -> list[str]:
    return [str(e[k]) for e in entries for k in PARENT_TEXT if e.get(k)]


def test_the_history_lists_each_change_with_its_day_and_why_in_plain_chinese(config: SeasonConfig) -> None:
    moved = correction(
        config,
        "re-verification",
        line(RID, "S-CY-01"),
        line(RID, "S-CY-02", "coordination", reason="verification-failed"),
    )
    declined = correction(
        config,
        "decline",
        moved.changes[0].after,
        line(RID, None, "declined", status="declined", reason="public-declined"),
        25,
        2,
        complaint_id="C-20230710-ABCDEFGH",
    )
    mine = [
        ChildCorrection(
            correction_id=c.correction_id,
            kind=c.kind,
            at=c.at,
            reason_codes=c.reason_codes,
            complaint_id=c.complaint_id,
            change=c.changes[0],
        )
        for c in (moved, declined)
    ]
    history = place_history(config, {"registration_id": RID, "grade": 1, "route": "declined"}, mine)
    assert [h["on_zh"] for h in history] == ["2023年7月6日", "2023年7月20日", "2023年7月25日"]
    assert history[0]["school_name"] == "船营区第一实验小学" and history[0]["reason_zh"] == "录取结果公布"
    assert history[1]["place_zh"] == "船营区第二小学（录取方式：统筹安排），原因：信息审核未通过"
    assert history[1]["reason_zh"] == KIND_ZH["re-verification"]
    assert history[2]["school_name"] is None and history[2]["answers_complaint"]
    assert history[2]["place_zh"] == "不再保留学位（已放弃学位）"
    for text in parent_strings(history):
        # no rule ids, reason codes, staff or English: only Chinese, digits and punctuation
        assert not re.search(r"[A-Za-z]", text), text
    assert "经复核" not in str(history)  # the staff's written reason is not the family's to read


def test_every_correction_kind_reads_in_chinese() -> None:
    from typing import get_args

    from enrollment.corrections.model import CorrectionKind

    assert set(KIND_ZH) == set(get_args(CorrectionKind))
    assert all(not re.search(r"[A-Za-z]", v) for v in KIND_ZH.values())


def test_without_corrections_the_history_is_the_place_the_results_gave(config: SeasonConfig) -> None:
    placed = {"registration_id": RID, "grade": 1, "school_id": "S-CY-01", "route": "catchment"}
    [only] = place_history(config, placed, [])
    assert only["school_name"] == "船营区第一实验小学" and only["on"] == "2023-07-06"
    assert place_history(config, None, []) == []


# --- a complaint answered with a correction --------------------------------------------------


def complaint(rid: str = RID, cid: str = "C-20230710-ABCDEFGH") -> complaints.Complaint:
    return complaints.Complaint(
        complaint_id=cid,
        season="2023",
        registration_id=rid,
        district="CY",
        grade=1,
        kind="appeal",
        text="对审核结论有异议，请复核。",
        created_at=datetime(2023, 7, 10, 9, 0),
    )


def test_an_attached_correction_is_the_seasons_about_the_same_child_and_names_the_complaint(
    config: SeasonConfig,
) -> None:
    c = complaint()
    moved = correction(
        config,
        "override",
        line(RID, "S-CY-01"),
        line(RID, "S-CY-02", "override", reason="理"),
        complaint_id=c.complaint_id,
    )
    complaints.check_attached(c, moved.correction_id, moved)  # both links agree
    with pytest.raises(complaints.CorrectionNotAttached, match="correction_id") as e:
        complaints.check_attached(c, "C-20230799-nothing", None)
    assert e.value.status == 422
    other = correction(
        config,
        "override",
        line(LATE, "S-CY-01"),
        line(LATE, "S-CY-02", "override", reason="理"),
        complaint_id=c.complaint_id,
    )
    with pytest.raises(complaints.CorrectionNotAttached, match="another child"):
        complaints.check_attached(c, other.correction_id, other)
    unlinked = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理")
    )
    with pytest.raises(complaints.CorrectionNotAttached, match="names complaint None"):
        complaints.check_attached(c, unlinked.correction_id, unlinked)


class Complaints:
    def __init__(self, c: complaints.Complaint) -> None:
        self.items = {c.complaint_id: c}

    def add_answer(self, complaint: complaints.Complaint, answer: complaints.Answer) -> bool:
        self.items[complaint.complaint_id] = complaints.Complaint(
            **{**complaint.__dict__, "answers": (*complaint.answers, answer)}
        )
        return True


def test_the_family_reads_in_the_answer_that_its_place_was_corrected(config: SeasonConfig) -> None:
    c = complaint()
    moved = correction(
        config,
        "override",
        line(RID, "S-CY-01"),
        line(RID, "S-CY-02", "override", reason="理"),
        complaint_id=c.complaint_id,
    )
    told = correction_zh(config, moved, RID)
    staff = StaffMember(principal="cy-staff-01", role="district", district="CY")
    request = complaints.AnswerRequest(
        answer="经复核，申诉成立，已更正安置结果。", correction_id=moved.correction_id
    )
    answered = complaints.answer_complaint(
        c,
        request,
        staff,
        store=Complaints(c),
        now=datetime(2023, 7, 20, 11, 0),
        correction_zh=told,  # type: ignore[arg-type]
    )
    [seen] = complaints.family_view(answered, "船营区")["answers"]
    assert (
        seen["correction_zh"]
        == "您孩子的安置结果已于2023年7月20日更正：船营区第二小学（录取方式：区教育局调整（有记录理由））"
    )
    assert moved.correction_id not in str(complaints.family_view(answered, "船营区"))
    [staff_seen] = complaints.staff_view(answered, datetime(2023, 7, 21))["answers"]
    assert staff_seen["correction_id"] == moved.correction_id


def test_a_late_child_whose_registration_is_not_stored_yet_waits_for_the_next_run(
    config: SeasonConfig,
) -> None:
    store, sms = Notices(), Outbox()
    late = correction(config, "late-registration", None, line(LATE, "S-CY-03", "coordination", reason="x"))
    out = corrected.reissue(
        config,
        "2023",
        [late],
        registrations=Registrations(),  # the correction is written, the registration not yet
        secret=SECRET,
        store=store,
        files=Files(),
        sms=sms,
        now=datetime(2023, 7, 20, 10, 45, tzinfo=config.tz),
        render_many=fake_render,
    )
    assert out["waiting"] == 1 and out["issued"] == 0 and store.current == {} and sms.sent == []
    assert run(config, [late], store, sms)["issued"] == 1


def test_a_new_notice_no_font_can_draw_is_listed_for_manual_issue_and_not_texted(
    config: SeasonConfig,
) -> None:
    store, sms = Notices(), Outbox()
    old = first_notice(config, store)
    moved = correction(
        config, "override", line(RID, "S-CY-01"), line(RID, "S-CY-02", "override", reason="理由")
    )

    def undrawable(batch: Sequence[notices.Notice]) -> list[notices.Unrenderable]:
        e = notices.Unrenderable("no glyph")
        e.code_points = ("U+2B740",)
        return [e for _ in batch]

    out = run(config, [moved], store, sms, render=undrawable)
    assert out["manual"] == 1 and out["issued"] == 0 and sms.sent == []
    new = store.current[RID]
    assert new["status"] == "manual" and new["district"] == "CY" and new["code_points"] == ["U+2B740"]
    # the bureau hands it over: its code checks valid, the old one revoked; a rerun changes nothing
    assert corrected.check(config, "CY", RID, new["verification_code"], store=store)["status"] == "valid"
    assert corrected.check(config, "CY", RID, old, store=store)["status"] == "revoked"
    assert run(config, [moved], store, sms) == {**out, "manual": 0, "revoked": 0, "unchanged": 1}
    assert corrected.family_notice(config, store.notice(RID)) is None  # the bureau issues it by hand


class Places:
    def __init__(self, places: dict[str, dict[str, Any]]) -> None:
        self.places = places

    def placed(self, rid: str) -> dict[str, Any] | None:
        return self.places.get(rid)

    def placed_of(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: self.places[rid] for rid in ids if rid in self.places}


def test_the_notices_batch_leaves_a_corrected_child_to_the_corrected_notices_run(
    config: SeasonConfig,
) -> None:
    """A correction on the notices day, before the season's batch reached the child: the batch issues
    no notice for a place given up, and none over a notice the corrected notices' run has put."""
    store, sms = Notices(), Outbox()
    late = correction(config, "late-registration", None, line(LATE, "S-CY-03", "coordination", reason="x"))
    store.current[LATE] = {
        "registration_id": LATE,
        "school_id": "S-CY-03",
        "correction_id": late.correction_id,
    }
    places = Places(
        {
            RID: {"registration_id": RID, "school_id": None, "route": "declined", "status": "declined"},
            LATE: {"registration_id": LATE, "school_id": "S-CY-03", "route": "coordination"},
        }
    )
    out = notices_issue(
        config,
        "2023",
        [RID, LATE],
        registrations=Registrations(registration(), registration(LATE)),
        placements=places,
        secret=SECRET,
        store=store,
        files=Files(),
        sms=sms,
        now=datetime(2023, 7, 6, 9, 0, tzinfo=config.tz),
        render_many=fake_render,
    )
    assert out == {"issued": 0, "skipped": 2, "manual": 0} and sms.sent == []
    assert RID not in store.current
