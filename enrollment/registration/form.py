"""Registration: what a parent submits, and the rules it must meet (R-REG-*, R-ID-1, R-AGE-1, R-DATA-*).

Pure domain: no AWS. Field-level rules live in the pydantic models and raise errors whose type is
the rule id; rules that need the season (window, age cut-off, schools) are `check_registration`.
Both end as `Violation`s naming the field, the rule and what is wrong, in Chinese and English.

What a parent types is normalised before it is checked, stored and hashed: ID and passport numbers by
`idcard.fold` (one canonical number per child, R-ID-1, R-REG-2), names and free text by
`core/names` (the household register's characters, R-DATA-1). docs/NAMES.md documents both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from enrollment.core import idcard, names
from enrollment.core.config import Grade, SeasonConfig

Category = Literal["public", "private", "ethnic", "specialised"]
Relationship = Literal["父亲", "母亲", "祖父", "祖母", "外祖父", "外祖母", "其他监护人"]
SpecialClaim = Literal[
    "military",  # 现役军人（含国家综合性消防救援队伍人员）子女, R-PRIO-1
    "police-merit",  # 荣获个人二等功以上公安民警子女, R-PRIO-1
    "introduced-talent",  # 引进人才子女, R-PRIO-1
    "disability",  # 残疾儿童, R-DIS-1
    "defer-health",  # 因身体原因申请缓学, R-DEFER-1
]
CATEGORY_ZH = {"public": "公办学校", "private": "民办学校", "ethnic": "民族学校", "specialised": "专门学校"}

# R-DATA-1: never collected. Any unknown field is refused; these get a message saying why.
FORBIDDEN_FIELDS: dict[str, str] = {
    "income": "家长收入",
    "guardian_income": "家长收入",
    "occupation": "家长职业",
    "job": "家长职业",
    "employer": "家长工作单位",
    "position": "家长职务",
    "title": "家长职务",
    "preschool": "学前教育经历",
    "kindergarten": "幼儿园就读经历",
    "family_planning_certificate": "计划生育证明",
    "over_age_proof": "超龄证明",
    "vaccination_certificate": "预防接种证",
}


def _rule(rule: str, zh: str, en: str, field: str = "") -> PydanticCustomError:
    """A validation error whose type is the rule id; the message carries both languages, and `field`
    the field of the model it is about when it is not the rule's usual one (`_RULE_FIELD`)."""
    return PydanticCustomError(rule, "{en}", {"zh": zh, "en": en, "field": field})


def _name(value: str) -> str:
    """R-DATA-1: a person's name as the household register (or the passport) holds it."""
    try:
        return names.name(value)
    except names.TextError as e:
        raise _rule("R-DATA-1", e.message_zh, e.message_en) from None


def _text(value: str, label_zh: str) -> str:
    """R-DATA-1: free text (an address detail, a school's name) in the register's characters."""
    try:
        return names.text(value, label_zh)
    except names.TextError as e:
        raise _rule("R-DATA-1", e.message_zh, e.message_en) from None


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Child(_Form):
    name: str = Field(min_length=1, max_length=30, description="儿童姓名")
    sex: Literal["男", "女"] = Field(description="性别")
    birth_date: date = Field(description="出生日期")
    id_type: Literal["resident-id", "passport"] = Field(default="resident-id", description="证件类型")
    id_number: str = Field(min_length=5, max_length=18, description="身份证号或护照号")
    nationality: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="外籍儿童的国籍（ISO 3166 三字母代码）"
    )

    @field_validator("name")
    @classmethod
    def _register_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("id_number")
    @classmethod
    def _canonical_id(cls, number: str) -> str:
        # R-ID-1, R-REG-2: one spelling per number (full-width digits and X folded); checked below
        return idcard.fold(number)

    @model_validator(mode="after")
    def _id_agrees(self) -> Child:
        if self.id_type == "passport":  # R-FOREIGN-1
            if not self.nationality or self.nationality == "CHN":
                raise _rule(
                    "R-FOREIGN-1",
                    "使用护照登记的外籍儿童须填写国籍",
                    "a passport needs a foreign nationality",
                )
            try:  # a resident ID number is never a passport number: the same child cannot register twice
                idcard.parse_passport(self.id_number)
            except idcard.IdNumberError as e:
                raise _rule("R-ID-1", e.message_zh, e.message_en) from None
            return self
        try:
            parsed = idcard.parse(self.id_number)
        except idcard.IdNumberError as e:
            raise _rule("R-ID-1", e.message_zh, e.message_en) from None
        if parsed.birth_date != self.birth_date:
            raise _rule(
                "R-ID-1", "身份证号中的出生日期与填写的出生日期不一致", "the ID number's birth date differs"
            )
        if parsed.sex != self.sex:
            raise _rule("R-ID-1", "身份证号中的性别与填写的性别不一致", "the ID number's sex differs")
        return self


class Guardian(_Form):
    """A parent or other legal guardian (父母或其他法定监护人). The ID number is what the housing check
    compares with the deed's owners (R-VER-1, R-VER-2: the deed must be the family's); it is checked
    like the child's, stored only in the form and masked wherever it is shown (R-DATA-2)."""

    name: str = Field(min_length=1, max_length=30, description="监护人姓名")
    relationship: Relationship = Field(description="与儿童关系")
    id_type: Literal["resident-id", "passport"] = Field(default="resident-id", description="监护人证件类型")
    id_number: str = Field(min_length=5, max_length=18, description="监护人身份证号或护照号")
    phone: str = Field(pattern=r"^1[3-9][0-9]{9}$", description="手机号码")

    @field_validator("name")
    @classmethod
    def _register_name(cls, value: str) -> str:
        return _name(value)

    @field_validator("id_number")
    @classmethod
    def _canonical_id(cls, number: str) -> str:
        return idcard.fold(number)  # one spelling per number, as the child's

    @model_validator(mode="after")
    def _id_valid(self) -> Guardian:
        """R-ID-1: a resident ID number passes GB 11643 (check character and all); a passport number
        has a passport's shape and is not a resident ID number."""
        try:
            if self.id_type == "passport":
                if idcard.is_resident_id(self.id_number):
                    raise _rule(
                        "R-ID-1",
                        "该号码是居民身份证号，请将证件类型选为“居民身份证”",
                        "this is a valid resident ID number: give it as a resident ID, not as a passport",
                    )
                idcard.parse_passport(self.id_number)
            else:
                idcard.parse(self.id_number)
        except idcard.IdNumberError as e:
            raise _rule("R-ID-1", e.message_zh, e.message_en) from None
        return self


class Address(_Form):
    """Where a family lives: a road and house number (门牌地址), or a residential compound (小区) with
    its building and unit; never both. `detail` is the rest (room, or building and unit by a road)."""

    district: str = Field(description="所在区（区代码）")
    road: str | None = Field(default=None, min_length=2, description="街路（门牌地址）")
    # strict: not true, not 1.0
    number: int | None = Field(default=None, strict=True, ge=1, le=9999, description="门牌号")
    compound: str | None = Field(default=None, min_length=2, max_length=30, description="小区（小区地址）")
    building: int | None = Field(default=None, strict=True, ge=1, le=999, description="楼栋号（小区地址）")
    unit: int | None = Field(default=None, strict=True, ge=1, le=99, description="单元号（小区地址）")
    detail: str = Field(default="", max_length=60, description="楼栋、单元、室（小区地址只填室号）")

    @field_validator("compound", mode="before")
    @classmethod
    def _chosen(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise _rule("R-DATA-1", "请选择所在小区", "the compound is empty")
        return value

    @field_validator("compound")
    @classmethod
    def _compound(cls, value: str | None) -> str | None:
        return None if value is None else _text(value, "小区名称")

    @field_validator("building", "unit", mode="before")
    @classmethod
    def _whole(cls, value: object, info: ValidationInfo) -> object:
        """R-DATA-1: a building or unit is a whole number (not "3", not true), said in Chinese."""
        top, label = (999, "楼栋号") if info.field_name == "building" else (99, "单元号")
        if value is not None and (type(value) is not int or not 1 <= value <= top):
            raise _rule(
                "R-DATA-1", f"{label}应为1至{top}的整数", f"{info.field_name} is a whole number 1-{top}"
            )
        return value

    @field_validator("detail")
    @classmethod
    def _detail(cls, value: str) -> str:
        return _text(value, "详细地址")

    @model_validator(mode="after")
    def _one_kind(self) -> Address:
        """R-PUB-1: a road and house number, or a compound; each refusal names its field."""
        if self.compound is not None:
            if self.road is not None or self.number is not None:
                raise _rule(
                    "R-PUB-1",
                    "门牌地址和小区只能填写一种：住在小区的请只填写小区、楼栋和单元",
                    "give a road and house number or a compound, not both",
                    "compound",
                )
            return self
        for name, label in (("building", "楼栋号"), ("unit", "单元号")):
            if getattr(self, name) is not None:
                raise _rule(
                    "R-PUB-1",
                    f"{label}只在选择小区时填写，门牌地址的楼栋、单元请填在详细地址中",
                    f"{name} belongs to a compound address; by a road it goes in the detail",
                    name,
                )
        if self.road is None and self.number is None:
            raise _rule(
                "R-PUB-1",
                "请填写街路和门牌号，住在小区的也可以选择小区",
                "give a road and house number, or a compound",
                "road",
            )
        if self.road is None or self.number is None:
            raise _rule(
                "R-DATA-1",
                "此项为必填项",
                "this field is required",
                "road" if self.road is None else "number",
            )
        return self

    @model_serializer(mode="wrap")
    def _only_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A road address stays {district, road, number, detail}; a compound one leaves road and number out."""
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None or k not in _ADDRESS_PARTS}

    @property
    def place(self) -> dict[str, Any]:
        """What `SeasonConfig.zone_of` and `locate` read: the compound, or the road and house number."""
        if self.compound is not None:
            return {"district": self.district, "compound": self.compound}
        return {"district": self.district, "road": self.road, "number": self.number}


_ADDRESS_PARTS = frozenset({"road", "number", "compound", "building", "unit"})


class Property(_Form):
    deed_number: str = Field(pattern=r"^[A-Z0-9-]{6,30}$", description="不动产权证号")
    owner: Relationship | Literal["本人"] = Field(description="产权人与儿童关系")


class Residence(_Form):
    """Hukou or residence permit, and the property, as the family states them (R-VER-1, R-MIG-1)."""

    basis: Literal["hukou", "residence-permit"] = Field(description="户籍或居住证")
    hukou_address: Address | None = Field(default=None, description="户籍地址")
    residence_permit_number: str | None = Field(
        default=None, pattern=r"^[A-Z0-9-]{6,30}$", description="居住证号"
    )
    property: Property | None = Field(default=None, description="房产信息")

    @model_validator(mode="after")
    def _basis_facts(self) -> Residence:
        if self.basis == "hukou" and self.hukou_address is None:
            raise _rule("R-VER-1", "选择户籍时须填写户籍地址", "hukou needs the hukou address")
        if self.basis == "residence-permit" and not self.residence_permit_number:
            raise _rule("R-MIG-1", "随迁子女须填写居住证号", "a residence permit number is needed")
        return self


class RegistrationRequest(_Form):
    """One child's registration (R-DATA-1: only what verification and placement need)."""

    season: str = Field(description="招生年度")
    grade: Grade = Field(description="年级：1 一年级，7 七年级")
    category: Category = Field(description="报名类别（公民同招，不可兼报）")
    child: Child
    guardians: list[Guardian] = Field(min_length=1, max_length=2)
    home_address: Address = Field(description="现居住地址")
    residence: Residence
    special_claims: list[SpecialClaim] = Field(default_factory=list, max_length=5)
    private_school_id: str | None = Field(default=None, description="民办学校（只填一所）")
    school_preferences: list[str] = Field(default_factory=list, max_length=10, description="多校划片志愿")
    primary_school: str | None = Field(default=None, max_length=60, description="小学毕业学校（七年级）")

    @field_validator("grade", mode="before")
    @classmethod
    def _whole_grade(cls, value: object) -> object:
        if type(value) is not int:  # a Literal takes true for 1 and 1.0 for 1; a grade is a number
            raise _rule("R-DATA-1", "年级须为数字1或7", "grade must be the number 1 or 7")
        return value

    @field_validator("primary_school")
    @classmethod
    def _primary_school(cls, value: str | None) -> str | None:
        return None if value is None else _text(value, "小学毕业学校")

    @field_validator("special_claims")
    @classmethod
    def _unique_claims(cls, claims: list[str]) -> list[str]:
        if len(set(claims)) != len(claims):
            raise _rule("R-DATA-1", "特殊群体类别重复", "a special claim is listed twice")
        return claims

    @model_validator(mode="after")
    def _category_fields(self) -> RegistrationRequest:
        if self.category in ("private", "specialised") and not self.private_school_id:
            raise _rule(
                "R-REG-3", "报名民办学校须选择一所学校", "a private applicant names one private school"
            )
        if self.category not in ("private", "specialised") and self.private_school_id:
            raise _rule(
                "R-REG-2", "只有民办学校报名可填写民办学校", "only private applicants name a private school"
            )
        if self.category == "specialised" and self.grade != 7:
            raise _rule("R-REG-2", "专门学校只招收七年级", "specialised schools take grade 7 only")
        if self.grade == 7 and not self.primary_school:
            raise _rule("R-AGE-1", "七年级报名须填写小学毕业学校", "grade 7 needs the primary school")
        return self

    @model_validator(mode="after")
    def _guardians_distinct(self) -> RegistrationRequest:
        """R-ID-1: each guardian is a person of their own, neither the child nor the other guardian."""
        seen = {self.child.id_number}
        for i, g in enumerate(self.guardians):
            if g.id_number in seen:
                same = "儿童本人" if g.id_number == self.child.id_number else "另一位监护人"
                raise _rule(
                    "R-ID-1",
                    f"监护人证件号码与{same}相同，请核对后重新填写",
                    "a guardian's ID number is the child's or the other guardian's",
                    f"guardians.{i}.id_number",
                )
            seen.add(g.id_number)
        return self


@dataclass(frozen=True)
class Violation:
    field: str
    rule: str
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "rule": self.rule,
            "message": self.message_zh,
            "message_en": self.message_en,
        }


class RegistrationRefused(Exception):
    """A registration that breaks rules; carries every violation found. Nothing was stored."""

    def __init__(self, violations: list[Violation], status: int = 422) -> None:
        super().__init__("; ".join(f"{v.field}: {v.rule} {v.message_en}" for v in violations))
        self.violations = violations
        self.status = status


def violations_from_errors(errors: list[Any], prefix: tuple[str, ...] = ()) -> list[Violation]:
    """Turn pydantic errors (from the models above) into violations naming field and rule."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in prefix]
        ctx = err.get("ctx") or {}
        etype = err.get("type", "")
        name = loc[-1] if loc else ""
        if etype.startswith("R-"):
            # model-level rules: point at the field they are about
            field = ".".join([*loc, str(ctx.get("field") or _RULE_FIELD.get(etype, ""))]).strip(".")
            out.append(
                Violation(field, etype, str(ctx.get("zh", err["msg"])), str(ctx.get("en", err["msg"])))
            )
        elif etype == "extra_forbidden":
            what = FORBIDDEN_FIELDS.get(name)
            zh = f"不采集{what}（非必要不采集）" if what else f"未知字段“{name}”，不予接收"
            en = f"{name!r} is never collected" if what else f"unknown field {name!r} is not accepted"
            out.append(Violation(".".join(loc), "R-DATA-1", zh, en))
        elif etype == "missing":
            out.append(Violation(".".join(loc), "R-DATA-1", "此项为必填项", "this field is required"))
        else:
            out.append(
                Violation(
                    ".".join(loc), "R-DATA-1", _format_zh(etype, ctx, err.get("input")), str(err["msg"])
                )
            )
    return out


def _format_zh(etype: str, ctx: dict[str, Any], given: Any) -> str:
    """A format error in plain Chinese, with what to do (a parent reads it: never pydantic's English)."""
    if given == "" or (isinstance(given, str) and not given.strip()):
        return "此项为必填项"
    known = {
        "string_too_short": "至少填写{min_length}个字符",
        "string_too_long": "最多填写{max_length}个字符",
        "greater_than_equal": "应不小于{ge}",
        "greater_than": "应大于{gt}",
        "less_than_equal": "应不大于{le}",
        "less_than": "应小于{lt}",
        "literal_error": "请从列表中选择",
        "enum": "请从列表中选择",
    }
    said = str(ctx.get("error", ""))
    if etype == "value_error" and said and not said.isascii():  # a validator's own Chinese message
        return said
    if etype in known:
        return "格式不正确：" + known[etype].format(**{k: str(v) for k, v in ctx.items()})
    if etype.startswith(("int_", "float_", "decimal_")):
        return "格式不正确：应填写数字"
    if etype.startswith(("date_", "datetime_")):
        return "日期格式不正确，应为 2017-03-04 这样的年-月-日"
    return "格式不正确，请按提示重新填写"


# Where a model-level rule's message belongs on the form.
_RULE_FIELD = {
    "R-ID-1": "id_number",
    "R-FOREIGN-1": "nationality",
    "R-REG-3": "private_school_id",
    "R-MIG-1": "residence_permit_number",
    "R-AGE-1": "primary_school",
    "R-VER-1": "hukou_address",
    "R-REG-2": "category",
}


def parse_request(data: Any) -> RegistrationRequest:
    """Validate a submitted body; raise RegistrationRefused with every violation."""
    if not isinstance(data, dict):
        raise RegistrationRefused(
            [Violation("(body)", "R-DATA-1", "请求内容须为 JSON 对象", "the body must be a JSON object")]
        )
    try:
        return RegistrationRequest.model_validate(data)
    except ValidationError as e:
        raise RegistrationRefused(violations_from_errors(e.errors())) from None


def window_open(config: SeasonConfig, grade: Grade, now: datetime, extended_to: date | None = None) -> bool:
    """R-REG-1: whole days in the season's timezone; a recorded extension moves the last day."""
    window = config.calendar.registration_window(grade)
    return config.day_start(window.start) <= now < config.day_end(last_day(config, grade, extended_to))


def last_day(config: SeasonConfig, grade: Grade, extended_to: date | None = None) -> date:
    """The grade's last day of registration, as a recorded extension moves it (R-REG-1)."""
    end = config.calendar.registration_window(grade).end
    return max(end, extended_to) if extended_to else end


def check_registration(
    req: RegistrationRequest, config: SeasonConfig, now: datetime, extended_to: date | None = None
) -> list[Violation]:
    """Season rules for a well-formed request: season, window, age, schools, addresses."""
    out: list[Violation] = []
    if req.season != config.season:
        return [
            Violation(
                "season", "R-REG-1", f"本系统受理{config.season}年度报名", f"this is season {config.season}"
            )
        ]
    window = config.calendar.registration_window(req.grade)
    if not window_open(config, req.grade, now, extended_to):
        out.append(
            Violation(
                "grade",
                "R-REG-1",
                f"{req.grade}年级网上报名时间为{window.start:%m月%d日}至{window.end:%m月%d日}，当前不在报名时间内",
                f"grade {req.grade} registers {window.start} to {window.end}; the window is closed",
            )
        )
    if req.grade == 1 and req.child.birth_date > config.age_cutoff:  # R-AGE-1
        out.append(
            Violation(
                "child.birth_date",
                "R-AGE-1",
                f"一年级新生须于{config.age_cutoff:%Y年%m月%d日}（含）前出生",
                f"grade 1 children are born on or before {config.age_cutoff}",
            )
        )
    out += _check_address(config, req.home_address, "home_address")
    if req.residence.hukou_address is not None:
        out += _check_address(config, req.residence.hukou_address, "residence.hukou_address")
    out += _check_schools(req, config)
    return out


def _check_address(config: SeasonConfig, addr: Address, field: str) -> list[Violation]:
    """R-PUB-1: the district, then the road and house number, or the compound, as the season knows them."""
    if addr.district not in config.district_index:
        return [Violation(f"{field}.district", "R-PUB-1", "所在区不在本市城区范围内", "unknown district")]
    if addr.compound is not None:
        compound = config.compound_index.get(addr.compound)
        if compound is None or compound.district != addr.district:
            return [
                Violation(
                    f"{field}.compound",
                    "R-PUB-1",
                    "该区没有这个小区，请从列表中选择，或按门牌填写",
                    "no such compound in that district",
                )
            ]
        return []
    road = config.road_index.get(str(addr.road))
    if road is None or road.district != addr.district:
        return [
            Violation(
                f"{field}.road", "R-PUB-1", "该区没有这条街路，请按门牌填写", "no such road in that district"
            )
        ]
    if int(addr.number or 0) > road.max_number:
        return [
            Violation(
                f"{field}.number", "R-PUB-1", "门牌号超出该街路范围", "house number beyond the road's end"
            )
        ]
    return []


def _check_schools(req: RegistrationRequest, config: SeasonConfig) -> list[Violation]:
    out: list[Violation] = []
    schools = config.school_index
    if req.private_school_id is not None:
        s = schools.get(req.private_school_id)
        wanted = "private" if req.category == "private" else "specialised"
        if s is None or s.kind != wanted or s.plan(req.grade) == 0:
            out.append(
                Violation(
                    "private_school_id",
                    "R-REG-3",
                    f"所选学校不是招收{req.grade}年级的{CATEGORY_ZH[req.category]}",
                    f"not a {wanted} school taking grade {req.grade}",
                )
            )
        elif (
            s.kind == "private" and s.district != req.home_address.district and not s.cross_district_approved
        ):  # R-LOT-4: other districts' children only where the city approved it
            district = config.district_index.get(s.district)
            out.append(
                Violation(
                    "private_school_id",
                    "R-LOT-4",
                    f"该民办学校未经市教育局批准跨区招生，只招收{district.name if district else s.district}的学生",
                    "this private school admits only its own district's children (no cross-district approval)",
                )
            )
    if req.school_preferences:
        zone = config.zone_of(req.grade, req.home_address.place)
        allowed = set(zone.schools) if zone and zone.multi_school else set()
        bad = [sid for sid in req.school_preferences if sid not in allowed]
        if req.category != "public" or bad or len(set(req.school_preferences)) != len(req.school_preferences):
            out.append(
                Violation(
                    "school_preferences",
                    "R-PUB-1",
                    "志愿只能填写本人多校划片片区内的学校，且不能重复",
                    "preferences must be distinct schools of the family's multi-school zone",
                )
            )
    return out
