"""Complaints and appeals (R-OPEN-1): what a family may file, who answers, and how lists are ordered."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from enrollment.core.staff import Forbidden, StaffMember
from enrollment.people import complaints
from enrollment.people.complaints import Answer, AnswerRequest, Complaint, ComplaintRequest
from enrollment.registration.form import violations_from_errors

T0 = datetime(2023, 6, 1, 2, 0, tzinfo=UTC)
CHILD = {"season": "2023", "district": "CY", "registration_id": "R-AAAA-BBBB-CCCC-DDDD", "grade": 1}


@dataclass
class MemoryComplaints:
    items: dict[str, Complaint] = field(default_factory=dict)

    def add_complaint(self, complaint: Complaint) -> None:
        self.items[complaint.complaint_id] = complaint

    def complaint(self, complaint_id: str) -> Complaint | None:
        return self.items.get(complaint_id)

    def complaints_of_child(self, season: str, district: str, registration_id: str) -> list[Complaint]:
        return [c for c in self.items.values() if c.registration_id == registration_id]

    def complaints_of_district(self, season: str, district: str) -> list[Complaint]:
        return [c for c in self.items.values() if c.district == district]

    def add_answer(self, complaint: Complaint, answer: Answer) -> bool:
        stored = self.items[complaint.complaint_id]
        if len(stored.answers) != len(complaint.answers):
            return False
        self.items[complaint.complaint_id] = replace(stored, answers=(*stored.answers, answer))
        return True


def refused(model: type[Any], body: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(ValidationError) as e:
        model.model_validate(body)
    return [(v.field, v.rule, v.message_zh) for v in violations_from_errors(e.value.errors())]


def test_a_well_formed_complaint_is_accepted_and_trimmed() -> None:
    req = ComplaintRequest.model_validate(
        {"kind": "appeal", "text": "  对审核结论有异议，我家实际居住在该地址。  "}
    )
    assert req.kind == "appeal" and req.text == "对审核结论有异议，我家实际居住在该地址。"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"kind": "praise", "text": "这是一段足够长的投诉内容。"},
            [("kind", "R-OPEN-1", "类别须为申诉、举报或咨询")],
        ),
        ({"kind": "appeal", "text": "太短了"}, [("text", "R-OPEN-1", "投诉申诉内容至少10个字，请写明事由")]),
        (
            {"kind": "appeal", "text": "          。"},
            [("text", "R-OPEN-1", "投诉申诉内容至少10个字，请写明事由")],
        ),
        ({"kind": "report", "text": "长" * 1001}, [("text", "R-OPEN-1", "投诉申诉内容不能超过1000个字")]),
        ({"kind": "report", "text": 12345678901}, [("text", "R-OPEN-1", "投诉申诉内容须为文字")]),
        ({"kind": "question"}, [("text", "R-DATA-1", "此项为必填项")]),
    ],
)
def test_bad_complaints_name_the_field_and_the_rule(body: dict[str, Any], expected: list[Any]) -> None:
    assert refused(ComplaintRequest, body) == expected


def test_unknown_fields_are_refused_r_data_1() -> None:
    [(field_, rule, _)] = refused(
        ComplaintRequest, {"kind": "appeal", "text": "这是一段足够长的投诉内容。", "phone": "17000001234"}
    )
    assert (field_, rule) == ("phone", "R-DATA-1")


def test_answers_are_bounded() -> None:
    assert refused(AnswerRequest, {"answer": "好"}) == [
        ("answer", "R-OPEN-1", "答复内容至少5个字，请写明事由")
    ]
    assert (
        AnswerRequest.model_validate({"answer": "经核查，已按规定处理。"}).answer == "经核查，已按规定处理。"
    )


def staff(role: str, district: str | None = None) -> StaffMember:
    return StaffMember(principal=f"{role}-{district or 'all'}", role=role, district=district)  # type: ignore[arg-type]


def test_only_the_childs_district_answers() -> None:
    complaints.require_answer(staff("district", "CY"), "CY")

    def refusal(member: StaffMember) -> str:
        with pytest.raises(Forbidden) as e:
            complaints.require_answer(member, "CY")
        return e.value.message_zh

    assert "仅限本区" in refusal(staff("district", "CH"))
    assert "审计监督人员只能查看" in refusal(staff("auditor"))
    assert "由儿童所在区的区教育局答复" in refusal(staff("city"))
    assert refusal(staff("community"))


def test_a_family_files_and_the_district_answers_with_who_and_when() -> None:
    store = MemoryComplaints()
    req = ComplaintRequest(kind="appeal", text="对审核结论有异议，我家实际居住在该地址。")
    filed = complaints.file_complaint(CHILD, req, store=store, now=T0)
    assert filed.district == "CY" and filed.status == "open" and filed.complaint_id.startswith("C-20230601-")
    done = complaints.answer_complaint(
        filed,
        AnswerRequest(answer="已安排复核入户，请保持电话畅通。"),
        staff("district", "CY"),
        store=store,
        now=T0 + timedelta(hours=5),
    )
    [a] = store.items[filed.complaint_id].answers
    assert (a.by, a.district, a.at) == ("district-CY", "CY", T0 + timedelta(hours=5))
    assert done.status == "answered"
    view = complaints.family_view(done, "船营区")
    assert view["answers"] == [
        {"text": "已安排复核入户，请保持电话畅通。", "at": a.at.isoformat(), "by_zh": "船营区教育局"}
    ]
    assert "district-CY" not in str(view)  # the family reads the bureau, not the person
    # an answer written against a stale read is refused, not lost
    with pytest.raises(complaints.ComplaintRefused):
        complaints.answer_complaint(
            filed, AnswerRequest(answer="第二个答复内容。"), staff("district", "CY"), store=store, now=T0
        )


def test_another_district_cannot_answer_and_nothing_is_stored() -> None:
    store = MemoryComplaints()
    filed = complaints.file_complaint(
        CHILD, ComplaintRequest(kind="question", text="请问何时公布审核结果？谢谢。"), store=store, now=T0
    )
    with pytest.raises(Forbidden):
        complaints.answer_complaint(
            filed, AnswerRequest(answer="答复内容答复内容"), staff("district", "CH"), store=store, now=T0
        )
    assert store.items[filed.complaint_id].answers == ()


def test_a_family_has_a_bounded_number_of_complaints() -> None:
    store = MemoryComplaints()
    req = ComplaintRequest(kind="question", text="请问何时公布审核结果？谢谢。")
    for n in range(complaints.MAX_PER_CHILD):
        complaints.file_complaint(CHILD, req, store=store, now=T0 + timedelta(seconds=n))
    with pytest.raises(complaints.TooManyComplaints):
        complaints.file_complaint(CHILD, req, store=store, now=T0 + timedelta(hours=1))
    assert len(store.items) == complaints.MAX_PER_CHILD


def test_staff_lists_put_the_unanswered_first_longest_waiting_first() -> None:
    def c(cid: str, hours_ago: float, answered: bool = False) -> Complaint:
        created = T0 - timedelta(hours=hours_ago)
        answers = (Answer("已答复。", "d", "CY", created + timedelta(hours=1)),) if answered else ()
        return Complaint(cid, "2023", "R", "CY", 1, "question", "x" * 10, created, answers)

    listed = complaints.staff_list([c("new", 1), c("done", 80, True), c("old", 50), c("done2", 2, True)], T0)
    assert [x["complaint_id"] for x in listed] == ["old", "new", "done2", "done"]
    assert listed[0]["waited_zh"] == "已等待2天2小时" and listed[0]["waited_seconds"] == 50 * 3600
    assert listed[1]["waited_zh"] == "已等待1小时"
    assert listed[2]["waited_zh"] == "用时1小时" and listed[2]["status_zh"] == "已答复"
