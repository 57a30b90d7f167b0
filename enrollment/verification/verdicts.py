"""Verification records shared by the rules, the review queue, the store and the workflow (R-VER-*).

A `Check` is one agency's answer about one registration (R-VER-2: stored with its source, time and
reason code). A `Verdict` is what the rules make of all checks (R-VER-1, R-MIG-1, R-PRIO-1, R-LOT-2).
A `Decision` is a person's sign-off on a verdict (R-VER-3: who, when, why), kept append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Agency = Literal["public-security", "housing", "planning", "community"]
AGENCIES: tuple[Agency, ...] = ("public-security", "housing", "planning", "community")
AGENCY_ZH: dict[str, str] = {
    "public-security": "公安",
    "housing": "住建",
    "planning": "规划和自然资源",
    "community": "街道社区",
}

# Why a registration is not (yet) eligible for catchment admission. Every code has a zh-CN text.
ReasonCode = Literal[
    "hukou-not-found",  # public security has no hukou/permit for this ID number
    "hukou-address-mismatch",  # the stated hukou address is not the one public security holds (弄虚作假?)
    "hukou-outside-zone",  # hukou address is in no catchment zone of this grade
    "permit-not-found",  # R-MIG-1: no residence permit with that number for this child
    "permit-outside-zone",  # residence permit address is in no catchment zone
    "no-property",  # no deed stated (hukou without property)
    "deed-not-found",  # housing has no deed with that number
    "deed-address-mismatch",  # the deed's address is not the hukou address (房户不一致)
    "deed-after-cutoff",  # registered on or after 31 Aug (year - 3)
    "owner-not-guardian",  # no owner of the deed is a guardian named on the form, nor the child
    "not-residential",  # planned use is not residential (规划用途非住宅)
    "not-living-there",  # community: the family does not live there (实际居住不符)
    "visit-not-confirmed",  # community did not answer by the home-visit deadline
    "agency-unanswered",  # an agency stayed down: the check could not be made
    "priority-not-verified",  # R-PRIO-1 claim not confirmed
    "foreign-check-pending",  # R-FOREIGN-1: foreign-affairs check (not automated)
]
REASON_ZH: dict[str, str] = {
    "hukou-not-found": "公安未查到户籍或居住证信息",
    "hukou-address-mismatch": "填报户籍地址与公安登记不一致",
    "hukou-outside-zone": "户籍地址不在本年级任何招生片区内",
    "permit-not-found": "公安未查到该居住证",
    "permit-outside-zone": "居住证地址不在本年级任何招生片区内",
    "no-property": "未提供房产信息",
    "deed-not-found": "住建部门未查到该不动产权证",
    "deed-address-mismatch": "房产地址与户籍地址不一致（房户不一致）",
    "deed-after-cutoff": "房产登记时间晚于规定日期",
    "owner-not-guardian": "房产不在报名填写的父母或其他法定监护人（或儿童本人）名下",
    "not-residential": "房产规划用途不是住宅",
    "not-living-there": "社区入户核查：未在该地址实际居住",
    "visit-not-confirmed": "入户核查截止时仍未确认实际居住",
    "agency-unanswered": "部门核查未能完成，转人工复核",
    "priority-not-verified": "政策优先资格未核实",
    "foreign-check-pending": "外籍学生资质须经外事部门核查",
}

# What to do next, where a reason leaves the family or the reviewer something to do (shown beside the
# reason's text: to the family on its status page, to staff in the review queue).
# Every reason has one: a family never reads a reason without what it can do (issue 19).
REASON_NEXT_ZH: dict[str, str] = {
    "hukou-not-found": "请核对报名填写的儿童证件号码；信息无误的，请持户口簿（或居住证）到所在区教育局申请复核",
    "hukou-address-mismatch": (
        "请核对报名填写的户籍地址是否与户口簿一致；填写有误或户籍地址已变更的，请持户口簿到所在区教育局申请复核"
    ),
    "hukou-outside-zone": (
        "户籍地址不在片区内的，由区教育局统筹安排到相对就近、有空余学位的公办学校；"
        "可在“查询片区”中核对地址所属片区，对片区划分有疑问的请咨询所在区教育局"
    ),
    "permit-not-found": "请核对报名填写的居住证号；居住证有效的，请持居住证到所在区教育局申请复核",
    "permit-outside-zone": (
        "居住证地址不在片区内的，由区教育局统筹安排到相对就近、有空余学位的公办学校；对片区划分有疑问的请咨询所在区教育局"
    ),
    "no-property": (
        "按户籍报名的须提供该地址的不动产权证；有房产但报名时未填写的，请持不动产权证到所在区教育局申请复核，"
        "没有房产的由区教育局统筹安排学校"
    ),
    "deed-not-found": "请核对报名填写的不动产权证号；证号无误的，请持不动产权证原件到所在区教育局申请复核",
    "deed-address-mismatch": (
        "房产与户籍须在同一地址（房户一致）；登记信息有误的，请持户口簿和不动产权证到所在区教育局申请复核"
    ),
    "deed-after-cutoff": (
        "登记日期晚于规定日期的房产不能按片区入学，由区教育局统筹安排学校；对登记日期有疑问的，"
        "请持不动产权证到所在区教育局申请复核"
    ),
    "owner-not-guardian": (
        "如产权人是儿童的法定监护人但报名时未填写，请持户口簿、不动产权证和监护关系证明到所在区教育局申请复核。"
        "审核未通过不影响入学，区教育局将统筹安排学校"
    ),
    "not-residential": (
        "规划用途不是住宅的房产（如商业、办公用房）不能按片区入学，由区教育局统筹安排学校；"
        "对规划用途有疑问的，请持不动产权证到所在区教育局申请复核"
    ),
    "not-living-there": "如确实居住在该地址，请在“投诉申诉”中提出申诉，写明居住情况，区教育局将安排复核",
    "visit-not-confirmed": "已转区教育局人工复核，无需另行申请；请保持报名时登记的手机畅通",
    "agency-unanswered": "已转区教育局人工复核，无需另行申请；复核结果将在本页显示",
    "priority-not-verified": "请持相关证明材料（如部队、公安或人才部门出具的证明）到所在区教育局办理核实",
    "foreign-check-pending": "由区教育局会同外事部门核查，无需另行申请；需要补充材料的，区教育局将与您联系",
}
REASON_REVIEW_ZH: dict[str, str] = {
    "owner-not-guardian": (
        "核对产权人与儿童的关系：产权人确为儿童法定监护人（有监护关系证明）的，可改判通过并写明依据；"
        "否则维持审核未通过，统筹安排"
    ),
}

CheckStatus = Literal["answered", "pending", "unanswered", "not-confirmed"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(_Record):
    registration_id: str
    agency: Agency
    status: CheckStatus  # pending: a home visit was requested and has not been answered yet
    asked_at: datetime
    answered_at: datetime | None = None
    reason: str  # the agency's own reason code, e.g. "found", "no-record", "lives-there", "timeout"
    facts: dict[str, str | int | bool | None] = Field(default_factory=dict)  # what the agency said


VerdictStatus = Literal["eligible", "not-eligible", "review"]
Fact = Literal[
    "policy-priority",
    "hukou-in-zone",
    "deed-in-zone",
    "hukou-deed-match",
    "actual-residence",
    "residence-permit-in-zone",
    "own-district",  # R-LOT-2: the child's verified home district is the private school's district
]


class Verdict(_Record):
    registration_id: str
    season: str
    grade: int
    district: str  # the district that owns the case (the child's home district)
    category: str
    status: VerdictStatus  # review: failed, unanswered or conflicting facts a person must look at
    zone_id: str | None = None  # the catchment zone the child is eligible for
    facts: dict[Fact, bool] = Field(default_factory=dict)
    reasons: list[ReasonCode] = Field(default_factory=list)
    decided_at: datetime
    decided_by: str = "system"


DecisionAction = Literal["confirm", "override"]


class Decision(_Record):
    """A staff member's sign-off on a case (R-VER-3); never changed once written."""

    registration_id: str
    district: str
    action: DecisionAction
    outcome: Literal["eligible", "not-eligible"]
    zone_id: str | None = None
    # R-PRIO-1: the reviewer's finding on a policy-priority claim (None: the case has none, or unchanged)
    priority_verified: bool | None = None
    reason: str = Field(min_length=2, max_length=500)
    actor: str
    at: datetime
