"""Complaints and appeals (举报申诉, R-OPEN-1): a channel for families, and every complaint answered.

Pure domain over the `ComplaintStore` port. A family, signed in with its SMS code, files a
complaint about its own child: an appeal against a decision, a report of wrongdoing, or a question.
The child's district bureau answers (the district staff who handle the child's case; the city reads
but does not answer for the districts, auditors only read); each answer records who and when
(R-VER-3 style) and the family reads every answer. Staff lists put the unanswered first, oldest
first, with how long each has waited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from enrollment.core.staff import StaffError, StaffMember, require_own_district

Kind = Literal["appeal", "report", "question"]
KIND_ZH: dict[str, str] = {
    "appeal": "申诉（对审核、派位或安置结果有异议）",
    "report": "举报（违规招生、弄虚作假等）",
    "question": "咨询",
}
TEXT_MIN, TEXT_MAX = 10, 1000
ANSWER_MIN, ANSWER_MAX = 5, 2000
MAX_PER_CHILD = 20  # a family's complaints per season: enough for any case, bounded against floods
STATUS_ZH = {"open": "待答复", "answered": "已答复"}


def _rule(zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError("R-OPEN-1", "{en}", {"zh": zh, "en": en})


def _bounded_text(value: Any, low: int, high: int, what: str) -> str:
    if not isinstance(value, str):
        raise _rule(f"{what}须为文字", f"the {what} must be text")
    text = value.strip()
    if len(text) < low:
        raise _rule(f"{what}至少{low}个字，请写明事由", f"the text needs at least {low} characters")
    if len(text) > high:
        raise _rule(f"{what}不能超过{high}个字", f"the text is longer than {high} characters")
    return text


class ComplaintRequest(BaseModel):
    """What a family files (R-OPEN-1). Unknown fields are refused (R-DATA-1)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="类别：appeal 申诉 / report 举报 / question 咨询")
    text: str = Field(min_length=TEXT_MIN, max_length=TEXT_MAX, description="事由（10至1000字）")

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in KIND_ZH:  # a dict or a list is no kind either
            raise _rule("类别须为申诉、举报或咨询", "kind must be appeal, report or question")
        return value

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return _bounded_text(value, TEXT_MIN, TEXT_MAX, "投诉申诉内容")


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=ANSWER_MIN, max_length=ANSWER_MAX, description="答复内容（5至2000字）")
    correction_id: str | None = Field(
        default=None,
        max_length=80,
        description="随答复附上的安置结果更正编号（该更正须在更正时填写本投诉编号）",
    )

    @field_validator("answer", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return _bounded_text(value, ANSWER_MIN, ANSWER_MAX, "答复内容")


@dataclass(frozen=True)
class Answer:
    text: str
    by: str  # the staff member's principal (R-VER-3: who)
    district: str
    at: datetime
    # a correction of the child's place that answers the complaint (issue 18), and what the family
    # reads of it (the day and the place, in words: no ids)
    correction_id: str | None = None
    correction_zh: str | None = None


@dataclass(frozen=True)
class Complaint:
    complaint_id: str
    season: str
    registration_id: str
    district: str  # the child's home district: whose bureau answers
    grade: int
    kind: Kind
    text: str
    created_at: datetime
    answers: tuple[Answer, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        return "answered" if self.answers else "open"


class ComplaintStore(Protocol):
    def add_complaint(self, complaint: Complaint) -> None: ...

    def complaint(self, complaint_id: str) -> Complaint | None: ...

    def complaints_of_child(self, season: str, district: str, registration_id: str) -> list[Complaint]: ...

    def complaints_of_district(self, season: str, district: str) -> list[Complaint]: ...

    def add_answer(self, complaint: Complaint, answer: Answer) -> bool:
        """Append an answer if the complaint still has the answers it was read with (False: it changed)."""
        ...


class ComplaintRefused(StaffError):
    status = 409


class TooManyComplaints(StaffError):
    status = 429


def new_id(now: datetime) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return f"C-{now:%Y%m%d}-" + "".join(secrets.choice(alphabet) for _ in range(8))


def file_complaint(
    registration: dict[str, Any],
    request: ComplaintRequest,
    *,
    store: ComplaintStore,
    now: datetime,
) -> Complaint:
    """A family's complaint about its own child, stored for the child's district to answer."""
    season, district, rid = (
        str(registration["season"]),
        str(registration["district"]),
        str(registration["registration_id"]),
    )
    if len(store.complaints_of_child(season, district, rid)) >= MAX_PER_CHILD:
        raise TooManyComplaints(
            f"每名儿童本年度最多提交{MAX_PER_CHILD}件投诉申诉，请等待答复或致电区教育局",
            f"at most {MAX_PER_CHILD} complaints per child and season",
        )
    complaint = Complaint(
        complaint_id=new_id(now),
        season=season,
        registration_id=rid,
        district=district,
        grade=int(registration["grade"]),
        kind=request.kind,
        text=request.text,
        created_at=now,
    )
    store.add_complaint(complaint)
    return complaint


def require_answer(staff: StaffMember, district: str) -> None:
    """Only the bureau of the child's own district answers its families (R-OPEN-1, R-DATA-2)."""
    require_own_district(
        staff,
        district,
        auditor_zh="答复投诉申诉",
        city=(
            "投诉申诉由儿童所在区的区教育局答复，市教育局可以查看和督办",
            "forbidden: the child's district bureau answers complaints; the city reads them",
        ),
        others=(f"无权答复{district}的投诉申诉（仅限本区）", f"forbidden: complaints of district {district}"),
    )


class CorrectionNotAttached(StaffError):
    status = 422


class Attachable(Protocol):
    """What an answer checks of the correction it attaches (enrollment.corrections.model.Correction)."""

    @property
    def correction_id(self) -> str: ...
    @property
    def season(self) -> str: ...
    @property
    def complaint_id(self) -> str | None: ...
    def changes_child(self, registration_id: str) -> bool: ...


def check_attached(complaint: Complaint, correction_id: str, correction: Attachable | None) -> None:
    """A correction attached to an answer is one of the season's, changes the complaint's child, and
    names this complaint (`complaint_id`, given when it was made): both links agree."""
    if correction is None or correction.season != complaint.season:
        raise CorrectionNotAttached(
            "未找到该安置结果更正（correction_id）",
            f"correction_id: no correction {correction_id} of the season",
        )
    if not correction.changes_child(complaint.registration_id):
        raise CorrectionNotAttached(
            "该更正不是关于本投诉申诉儿童的（correction_id）",
            "correction_id: the correction changes another child's place",
        )
    if correction.complaint_id != complaint.complaint_id:
        raise CorrectionNotAttached(
            "该更正未关联本投诉申诉：办理更正时须填写本投诉申诉的编号（correction_id）",
            f"correction_id: the correction names complaint {correction.complaint_id}, not this one",
        )


def answer_complaint(
    complaint: Complaint,
    request: AnswerRequest,
    staff: StaffMember,
    *,
    store: ComplaintStore,
    now: datetime,
    correction_zh: str | None = None,
) -> Complaint:
    """The district's answer, signed with who and when; the complaint's own district decides who may.
    With a correction attached (checked by `check_attached`), `correction_zh` is what the family reads
    of it."""
    require_answer(staff, complaint.district)
    answer = Answer(
        request.answer,
        staff.principal,
        complaint.district,
        now,
        request.correction_id,
        correction_zh if request.correction_id else None,
    )
    if not store.add_answer(complaint, answer):
        raise ComplaintRefused("该投诉申诉刚刚有人答复，请刷新后再看", "someone answered it just now; reload")
    return replace(complaint, answers=(*complaint.answers, answer))


def waited(complaint: Complaint, now: datetime) -> dict[str, Any]:
    """How long the family waited: until the first answer, or until now if none yet."""
    end = complaint.answers[0].at if complaint.answers else now
    seconds = max(0, int((end - complaint.created_at).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours = rest // 3600
    text = f"{days}天{hours}小时" if days else f"{hours}小时" if hours else "不到1小时"
    return {"waited_seconds": seconds, "waited_zh": ("已等待" if not complaint.answers else "用时") + text}


def _told(complaint: Complaint) -> dict[str, Any]:
    """What the complaint says and where it stands, as both views show it."""
    return {
        "kind": complaint.kind,
        "kind_zh": KIND_ZH[complaint.kind],
        "text": complaint.text,
        "created_at": complaint.created_at.isoformat(),
        "status": complaint.status,
        "status_zh": STATUS_ZH[complaint.status],
    }


def family_view(complaint: Complaint, district_name: str) -> dict[str, Any]:
    """What the family reads: its complaint and every answer, by the bureau (not the person)."""
    return {
        "complaint_id": complaint.complaint_id,
        **_told(complaint),
        "answers": [
            {"text": a.text, "at": a.at.isoformat(), "by_zh": f"{district_name}教育局"}
            | ({"correction_zh": a.correction_zh} if a.correction_zh else {})
            for a in complaint.answers
        ],
    }


def staff_view(complaint: Complaint, now: datetime) -> dict[str, Any]:
    return {
        "complaint_id": complaint.complaint_id,
        "registration_id": complaint.registration_id,
        "district": complaint.district,
        "grade": complaint.grade,
        **_told(complaint),
        **waited(complaint, now),
        "answers": [
            {
                "text": a.text,
                "by": a.by,
                "district": a.district,
                "at": a.at.isoformat(),
                "correction_id": a.correction_id,
            }
            for a in complaint.answers
        ],
    }


def staff_list(complaints: list[Complaint], now: datetime) -> list[dict[str, Any]]:
    """Unanswered first, the longest waiting first; then the answered, newest first."""
    open_ = sorted((c for c in complaints if not c.answers), key=lambda c: (c.created_at, c.complaint_id))
    done = sorted((c for c in complaints if c.answers), key=lambda c: c.created_at, reverse=True)
    return [staff_view(c, now) for c in (*open_, *done)]
