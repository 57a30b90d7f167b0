"""Season configuration: calendar, districts, roads, schools and catchment zones (validated).

A season's dates live here, never in code. `load_season` turns any mistake into a ConfigError that
names the file, the field and what is wrong.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

Grade = Literal[1, 7]
GRADES: tuple[Grade, ...] = (1, 7)
SchoolKind = Literal["public", "private", "ethnic", "specialised", "special-education"]
# R-PUB-2: facts a district's priority tier may require (all of them, for a child to be in it).
TierFact = Literal[
    "policy-priority",  # R-PRIO-1 claim, verified
    "hukou-in-zone",  # hukou address inside the school's zone
    "deed-in-zone",  # property deed inside the zone
    "hukou-deed-match",  # hukou address is the deed's address
    "actual-residence",  # community confirmed the family lives there
    "residence-permit-in-zone",  # R-MIG-1: residence permit address inside the zone
]
SEASONS_DIR = Path(__file__).resolve().parents[2] / "seasons"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 10x faster


class ConfigError(ValueError):
    """A season config that is not valid: names the file, the field and what is wrong."""

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        lines = [f"{path}: {field}: {message}" for field, message in problems]
        super().__init__("season config is not valid:\n" + "\n".join(lines))


class ConfigProblems(ValueError):
    """Cross-reference problems found after the fields themselves validated: (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateRange(_Strict):
    start: date
    end: date  # inclusive: the last day

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Calendar(_Strict):
    """The published calendar (SPEC.md, annex 2). Days are whole days in the season's timezone."""

    notice_issued: date
    plans_published: date
    grade7_registration: DateRange
    grade1_registration: DateRange
    verification: DateRange
    home_visits: DateRange
    private_counts_due: date
    lottery_day: date
    coordination: DateRange
    spot_check: DateRange
    admission_notices: date
    reporting_day: date
    term_start: date
    class_assignment_days_before_term: int = Field(default=7, ge=1, le=30)

    def registration_window(self, grade: Grade) -> DateRange:
        return self.grade1_registration if grade == 1 else self.grade7_registration

    @model_validator(mode="after")
    def _in_order(self) -> Calendar:
        steps: list[tuple[str, date]] = [
            ("notice_issued", self.notice_issued),
            ("plans_published", self.plans_published),
            ("grade7_registration.start", self.grade7_registration.start),
            ("grade1_registration.start", self.grade1_registration.start),
            ("verification.start", self.verification.start),
            ("home_visits.start", self.home_visits.start),
            ("private_counts_due", self.private_counts_due),
            ("lottery_day", self.lottery_day),
            ("coordination.start", self.coordination.start),
            ("spot_check.start", self.spot_check.start),
            ("admission_notices", self.admission_notices),
            ("reporting_day", self.reporting_day),
            ("term_start", self.term_start),
        ]
        for (a, da), (b, db) in itertools.pairwise(steps):
            if db < da:
                raise ValueError(f"{b} ({db}) comes before {a} ({da})")
        return self


class GeoPoint(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    def distance_km(self, other: GeoPoint) -> float:
        """Great-circle distance (haversine), in kilometres."""
        r = 6371.0088
        p1, p2 = math.radians(self.lat), math.radians(other.lat)
        dp, dl = p2 - p1, math.radians(other.lon - self.lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * r * math.asin(math.sqrt(a))


class PriorityTier(_Strict):
    """One tier of a district's published rule for an oversubscribed public school (R-PUB-2)."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str = Field(min_length=1)
    requires: list[TierFact] = Field(min_length=1)


class District(_Strict):
    code: str = Field(pattern=r"^[A-Z]{2,4}$")
    name: str = Field(min_length=2)
    kind: Literal["urban-district", "development-zone"]
    area_code: str = Field(pattern=r"^\d{6}$")
    priority_tiers: list[PriorityTier] = Field(min_length=1)
    multi_school_assignment: Literal["deferred-acceptance", "first-choice-first"] = "deferred-acceptance"


class Road(_Strict):
    """A street whose house numbers run from 1 to `max_number` along a straight line."""

    name: str = Field(min_length=2)
    district: str
    start: GeoPoint
    end: GeoPoint
    max_number: int = Field(ge=1, le=9999)

    def locate(self, number: int) -> GeoPoint:
        f = min(max(number, 1), self.max_number) / self.max_number
        return GeoPoint(
            lat=round(self.start.lat + (self.end.lat - self.start.lat) * f, 6),
            lon=round(self.start.lon + (self.end.lon - self.start.lon) * f, 6),
        )


class Compound(_Strict):
    """A residential compound (小区): catchment lists name compounds as often as house-number ranges.

    Its gate stands at `number` on `road` (its postal address); a family living in it gives the compound
    (and building and unit) instead of a house number. A compound that no zone names belongs to the
    zone of its gate's house number."""

    name: str = Field(min_length=2)
    district: str
    road: str
    number: int = Field(ge=1, le=9999)
    location: GeoPoint

    @property
    def address(self) -> str:
        return f"{self.road}{self.number}号"


class School(_Strict):
    id: str = Field(pattern=r"^[A-Z]{1,2}-[A-Z]{2,4}-\d{2,3}$")
    name: str = Field(min_length=2)
    kind: SchoolKind
    district: str
    address: str = Field(min_length=2)
    location: GeoPoint
    plans: dict[int, Annotated[int, Field(ge=0)]] = Field(min_length=1)
    # R-LOT-4: a private school may take other districts' children only if the city approved it.
    cross_district_approved: bool = False
    # the classes the school opens per grade and their size (班数, 班额); empty: derived from the
    # arrivals and the national class size when the sunshine classes are drawn (term/reporting)
    classes: dict[int, Annotated[int, Field(ge=1, le=99)]] = Field(default_factory=dict)
    class_size: dict[int, Annotated[int, Field(ge=1, le=99)]] = Field(default_factory=dict)

    @field_validator("plans", "classes", "class_size")
    @classmethod
    def _grades(cls, per_grade: dict[int, int]) -> dict[int, int]:
        bad = sorted(set(per_grade) - set(GRADES))
        if bad:
            raise ValueError(f"values are per grade 1 or 7, not {bad}")
        return per_grade

    def plan(self, grade: int) -> int:
        return self.plans.get(grade, 0)


class ZoneSegment(_Strict):
    road: str
    from_number: int = Field(ge=1)
    to_number: int = Field(ge=1)
    parity: Literal["all", "odd", "even"] = "all"

    def covers(self, number: int) -> bool:
        if not self.from_number <= number <= self.to_number:
            return False
        return self.parity == "all" or (number % 2 == 1) == (self.parity == "odd")


class Zone(_Strict):
    """A catchment zone (R-PUB-1): one school (单校划片) or several sharing it (多校划片)."""

    id: str = Field(pattern=r"^Z-[A-Z]{2,4}-[17]-\d{2,3}$")
    district: str
    grade: Grade
    schools: list[str] = Field(min_length=1)
    segments: list[ZoneSegment] = Field(default_factory=list)  # house-number ranges of roads
    compounds: list[str] = Field(default_factory=list)  # residential compounds, by name

    @model_validator(mode="after")
    def _covers_something(self) -> Zone:
        if not self.segments and not self.compounds:
            raise ValueError("a zone needs road segments or compounds (or both)")
        return self

    @property
    def multi_school(self) -> bool:
        return len(self.schools) > 1


class AgencyEndpoint(_Strict):
    """How one agency is reached over its API (docs/agency-api.yaml): batched checks in JSON over
    HTTPS, signed with an HMAC key kept in Secrets Manager (`credentials_secret_arn`, a JSON secret
    `{"key_id": ..., "key": ...}`). An agency not named in `verification.agencies` answers from the
    local registries (AGENCY_REGISTRIES: the demo and tests).

    A call that errs or times out is tried again `attempts` times in all, waiting `backoff_s`, twice
    that, ... (with jitter); after `circuit_failures` failed calls in a row the agency is not called
    for `circuit_cooldown_s`, then one call tries whether it is back.
    """

    kind: Literal["api"] = "api"
    # plain HTTP only to this machine (the fake agency): an agency's answers cross networks
    base_url: str = Field(pattern=r"^(https://|http://(127\.0\.0\.1|localhost)(:\d+)?(/|$))")
    credentials_secret_arn: str = Field(pattern=r"^arn:[a-z-]+:secretsmanager:")
    timeout_s: float = Field(default=10, gt=0, le=60)
    attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=0.5, ge=0, le=60)
    circuit_failures: int = Field(default=5, ge=1, le=100)
    circuit_cooldown_s: float = Field(default=60, gt=0, le=3600)


# the largest answer file (4 MiB: a round's rows, `AgencyFiles.round_rows`, as xlsx or csv, with room)
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class AgencyFiles(_Strict):
    """An agency that exchanges files instead of answering an API (docs/AGENCY-FILES.md): each of its
    checks is stored pending (`file-requested`) and put on the agency's worklist; a round of the open
    requests (at most `round_rows`, the oldest ids first; the rest wait for the next round) is written
    to the work bucket's outbox as `requests.xlsx`, `requests.csv` (GB18030) and `manifest.json` (each
    file's SHA-256), and the agency's clerk downloads them through links signed for `link_expiry_s`
    seconds. The clerk's answer file (`.xlsx` or GB18030 `.csv`, at most `round_rows` rows and
    `max_answer_bytes` bytes) is checked row by row: a bad row is reported by row and column, the good
    rows are recorded as the API's answers are.

    A link is signed with the credentials of the function that made it, and stops working when they
    expire (a Lambda's last hours at most), whatever `link_expiry_s` says: the clerk asks for the
    links again rather than keeping them.
    """

    kind: Literal["files"]
    link_expiry_s: int = Field(default=3600, ge=60, le=12 * 3600)
    # requests a round holds and rows an answer file may have: the file is checked and recorded while
    # the console waits (API Gateway answers within 29 s), so a round is kept to what that allows
    round_rows: int = Field(default=1000, ge=1, le=5000)
    max_answer_bytes: int = Field(default=MAX_ANSWER_BYTES, ge=1024, le=MAX_ANSWER_BYTES)


def _agency_kind(value: Any) -> str:
    """An agency's way in: `kind` as given, "api" when left out (configs written before files existed)."""
    if isinstance(value, Mapping):
        return str(value.get("kind", "api"))
    return str(getattr(value, "kind", "api"))


AgencyAccess = Annotated[
    Annotated[AgencyEndpoint, Tag("api")] | Annotated[AgencyFiles, Tag("files")],
    Discriminator(_agency_kind),
]


class VerificationSettings(_Strict):
    """How verification runs (R-VER-*): batch size and concurrency of the Distributed Map, spot-checks."""

    batch_size: int = Field(default=100, ge=1, le=1000)
    max_concurrency: int = Field(default=10, ge=1, le=1000)
    spot_check_rate: float = Field(default=0.05, gt=0, le=1)  # R-VER-5: share of each district re-checked
    spot_check_minimum: int = Field(default=5, ge=1)
    # an agency check left unanswered (the agency stayed down) is asked again this often until the
    # verification deadline (the end of calendar.verification.end); only then it goes to review
    reask_every_hours: int = Field(default=6, ge=1, le=72)
    # agency -> its API (`kind: api`, the default) or its file exchange (`kind: files`); an agency not
    # named answers from the local registries (`enroll demo`). Home visits (community) have neither:
    # they are answered through the community callback.
    agencies: dict[Literal["public-security", "housing", "planning"], AgencyAccess] = Field(
        default_factory=dict
    )

    def agency_apis(self) -> dict[Literal["public-security", "housing", "planning"], AgencyEndpoint]:
        """The agencies asked over their API."""
        return {a: e for a, e in self.agencies.items() if isinstance(e, AgencyEndpoint)}

    def agency_files(self) -> dict[Literal["public-security", "housing", "planning"], AgencyFiles]:
        """The agencies that exchange files."""
        return {a: e for a, e in self.agencies.items() if isinstance(e, AgencyFiles)}


class LotterySettings(_Strict):
    """How private-school lotteries run (R-LOT-*): ceremonies at once, and waiting past the lottery day."""

    max_concurrency: int = Field(default=10, ge=1, le=40)  # the Map over schools and grades
    # a ceremony not held by the end of the lottery day is flagged overdue; the workflow keeps
    # waiting for it (never drawing without the representatives), re-flagging after each grace
    overdue_grace_hours: int = Field(default=24, ge=1, le=24 * 30)


class PlacementSettings(_Strict):
    """Coordination (R-COORD-1): how far from home a coordinated seat may be before the nearest one wins."""

    coordination_cap_km: float = Field(default=3.0, gt=0, le=50)


# CloudWatch Logs keeps a log group for one of these numbers of days (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557)


class RetentionSettings(_Strict):
    """How long each class of personal data is kept (docs/RETENTION.md). The Personal Information
    Protection Law (arts. 6, 19, 47) asks for the shortest period the purpose needs: a registration's
    personal fields (names, ID numbers, phones, addresses), the agencies' answers, home visits, staff
    notes, complaints and the work bucket's files are needed until the children's student status is
    filed and the families' time to appeal an admission decision has run out; then the erasure task
    (enrollment/core/retention.py) erases them, keeping a pseudonymised record (ids, district, school,
    outcome) for statistics and the signed archive, which holds registration ids only."""

    # student-status (学籍) filing closes this many days after term start
    status_filing_days: int = Field(default=30, ge=0, le=366)
    # then the families' time to appeal: administrative litigation is six months from the decision
    appeal_days: int = Field(default=183, ge=0, le=3 * 366)
    # the exports' files in the work bucket (docs/EXPORTS.md): a download link's life and a margin
    exports_days: int = Field(default=1, ge=1, le=30)
    # the work bucket's other files (notices' PDFs, workflow batches), if the erasure did not reach them
    work_files_days: int = Field(default=400, ge=30, le=3 * 366)
    # the functions' log groups (masked, but still about families and staff)
    log_days: int = Field(default=180, ge=1, le=2557)

    @field_validator("log_days")
    @classmethod
    def _log_days(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"CloudWatch Logs keeps logs for one of {list(LOG_RETENTION_DAYS)} days, not {days}"
            )
        return days

    def erase_on(self, calendar: Calendar) -> date:
        """The first day the personal fields may be erased: term start, the filing, the appeal period."""
        return calendar.term_start + timedelta(days=self.status_filing_days + self.appeal_days)


class SmsCaps(_Strict):
    """Caps on the parents' sign-in code SMS (issue 16; enrollment/core/sms_caps.py), besides each
    registration's limit and each client's (enrollment/people/parents.py).

    The defaults are for a city of some 60,000 applicants: a phone may be a guardian of two or three
    children (siblings, twins), each asked for a few times a day at most, so 6 codes an hour and 15 a
    day leave a family room and cap what a stranger can send to a victim's phone through fake
    registrations at that. Ten thousand codes an hour for the whole season is a sixth of the families
    signing in within one hour (the lottery's or the notices' evening); more than that is abuse, and
    the circuit stops codes (never notices) rather than burn the season's SMS budget."""

    codes_per_phone_hour: int = Field(default=6, ge=1, le=100)
    codes_per_phone_day: int = Field(default=15, ge=1, le=1000)
    codes_per_hour: int = Field(default=10_000, ge=1, le=1_000_000)  # every code SMS of the season

    @model_validator(mode="after")
    def _day_holds_the_hour(self) -> SmsCaps:
        if self.codes_per_phone_day < self.codes_per_phone_hour:
            raise ValueError(
                f"codes_per_phone_day ({self.codes_per_phone_day}) is less than "
                f"codes_per_phone_hour ({self.codes_per_phone_hour})"
            )
        return self


# enrollment/core/sms_templates.py's template ids -> the field holding the provider's code for each
SMS_TEMPLATE_FIELDS = {
    "parent-code": "code_template",
    "notice-admitted": "notice_template",
    "notice-admitted-short": "notice_short_template",
    "notice-admitted-shortest": "notice_shortest_template",
    "registration-received": "registered_template",
}
# a courtesy, not a duty: a China provider's season without this template's code sends no SMS of it
# (the id is on the page already); a config written before the template existed stays valid
OPTIONAL_SMS_TEMPLATES = frozenset({"registration-received"})


class SmsProvider(_Strict):
    """Who sends the season's SMS (issue 17; enrollment/adapters/sms_providers.py). `sns` (the default)
    sends the rendered text through Amazon SNS, which sends no SMS from the China regions, where the
    stack refuses it (infra/stack.py); `aliyun` (Alibaba Cloud SMS) and `tencent` (Tencent Cloud SMS)
    send only the templates of docs/SMS-TEMPLATES.md the bureau registered, under its registered sign
    name, by the codes the provider assigned (the `*_template` fields); `outbox` writes a local file (the
    embedded backend and the demo). A China provider's keys are in the Secrets Manager secret
    `credentials_secret_arn` (JSON `access_key_id`/`access_key_secret` for Alibaba Cloud,
    `secret_id`/`secret_key` for Tencent Cloud), never in the config."""

    provider: Literal["sns", "aliyun", "tencent", "outbox"] = "sns"
    sign_name: str = Field(default="", max_length=30)  # as registered, without the 【】
    credentials_secret_arn: str = Field(default="", pattern=r"^(arn:[a-z-]+:secretsmanager:\S+)?$")
    region: str = Field(default="", pattern=r"^([a-z]{2}-[a-z0-9-]+)?$")  # default cn-hangzhou / ap-guangzhou
    endpoint: str = Field(default="", pattern=r"^(https?://[^\s/?#]+)?$")  # the provider's default if empty
    sdk_app_id: str = Field(default="", pattern=r"^[0-9]*$")  # Tencent Cloud's SmsSdkAppId
    # docs/SMS-TEMPLATES.md's template id -> the provider's code (SMS_123456789 / 1234567)
    code_template: str = Field(default="", max_length=40)
    notice_template: str = Field(default="", max_length=40)
    notice_short_template: str = Field(default="", max_length=40)
    notice_shortest_template: str = Field(default="", max_length=40)
    registered_template: str = Field(default="", max_length=40)

    @property
    def template_codes(self) -> dict[str, str]:
        """The provider's code for each template of enrollment/core/sms_templates.py, by template id."""
        return {template: getattr(self, field) for template, field in SMS_TEMPLATE_FIELDS.items()}

    @model_validator(mode="after")
    def _provider_needs(self) -> SmsProvider:
        if self.provider not in ("aliyun", "tencent"):
            return self
        for field, value in (
            ("sign_name", self.sign_name),
            ("credentials_secret_arn", self.credentials_secret_arn),
        ):
            if not value:
                raise ValueError(f"{field}: provider {self.provider} needs it")
        for template, code in self.template_codes.items():
            if not code and template not in OPTIONAL_SMS_TEMPLATES:
                raise ValueError(
                    f"{SMS_TEMPLATE_FIELDS[template]}: provider {self.provider} needs the code of template {template}"
                )
        if self.provider == "tencent" and not self.sdk_app_id:
            raise ValueError("sdk_app_id: provider tencent needs the SMS application's SdkAppId")
        return self


class SmsDelivery(_Strict):
    """What happens after an SMS is sent (issue 17; enrollment/core/sms_delivery.py): the provider's
    receipts are polled every 15 minutes, a notice SMS that failed is sent again, up to
    `notice_attempts` sends in all, the n-th retry `retry_after_minutes * 2**(n-1)` after the failure;
    still failed, it is listed to the child's district to phone the family. Notices are counted in the
    season's SMS spend, never capped (enrollment/core/sms_caps.py).

    `otp_fallback` says what a parent whose sign-in code SMS failed is offered: `none` (the default),
    the failure plainly, to ask again later; `staff`, the district's enrollment hotline
    (`hotlines`, by district code) to call, and the failed code listed to that district. `voice` (a
    provider's voice-code API) is reserved: no adapter sends voice codes yet, so it is refused."""

    notice_attempts: int = Field(default=3, ge=1, le=10)  # sends of one notice SMS in all
    retry_after_minutes: int = Field(default=30, ge=5, le=24 * 60)  # doubled after each retry
    # a message with no receipt this long after it was sent is no longer asked about: it stays `sent`
    receipt_wait_hours: int = Field(default=72, ge=1, le=30 * 24)
    receipts_per_run: int = Field(default=2000, ge=1, le=20_000)  # messages asked about per poll
    otp_fallback: Literal["none", "voice", "staff"] = "none"
    hotlines: dict[str, str] = Field(default_factory=dict)  # district code -> 招生咨询电话

    @field_validator("hotlines")
    @classmethod
    def _hotline_numbers(cls, hotlines: dict[str, str]) -> dict[str, str]:
        for district, number in hotlines.items():
            if not re.fullmatch(r"[0-9][0-9-]{6,19}", number):
                raise ValueError(f"hotlines.{district}: {number!r} is not a phone number (digits and '-')")
        return hotlines

    @model_validator(mode="after")
    def _fallback_needs(self) -> SmsDelivery:
        if self.otp_fallback == "voice":
            raise ValueError(
                "otp_fallback: voice codes are not available (no provider's voice API is wired); "
                "use staff (the district's hotline) or none"
            )
        if self.otp_fallback == "staff" and not self.hotlines:
            raise ValueError("hotlines: otp_fallback staff needs each district's enrollment hotline")
        return self


class StaffSignIn(_Strict):
    """Who signs staff in (OIDC). Empty `issuer`: the stack's own Cognito user pool, with one group per
    district code plus `city` and `auditor`. Otherwise any OIDC issuer the bureau runs, whose tokens
    carry the same group names in `groups_claim` (docs/ACCESS.md)."""

    issuer: str = Field(default="", pattern=r"^(https://[^\s/?#]+(/[^\s?#]*)?)?$")  # no trailing query
    client_id: str = Field(default="", max_length=256)  # the console's public client (code + PKCE)
    audience: str = Field(default="", max_length=256)  # the tokens' `aud` or `client_id`; default client_id
    groups_claim: str = Field(default="cognito:groups", min_length=1, max_length=100)
    scopes: str = Field(default="openid profile", min_length=6, max_length=200)

    @model_validator(mode="after")
    def _issuer_needs_client(self) -> StaffSignIn:
        if self.issuer and not self.client_id:
            raise ValueError("client_id: an OIDC issuer needs the console's client id")
        if self.client_id and not self.issuer:
            raise ValueError("issuer: a client id needs its issuer (leave both empty for Cognito)")
        return self


class SeasonConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9-]+$")  # config and stack id, e.g. "jilin-2023"
    season: str = Field(pattern=r"^[0-9A-Za-z-]+$")  # the season string of LOTTERY.md, e.g. "2023"
    year: int = Field(ge=2000, le=2100)
    city: str
    timezone: str
    calendar: Calendar
    districts: list[District] = Field(min_length=1)
    roads: list[Road]
    compounds: list[Compound] = Field(default_factory=list)
    schools: list[School] = Field(min_length=1)
    zones: list[Zone]
    verification: VerificationSettings = Field(default_factory=VerificationSettings)
    lottery: LotterySettings = Field(default_factory=LotterySettings)
    placement: PlacementSettings = Field(default_factory=PlacementSettings)
    staff_sign_in: StaffSignIn = Field(default_factory=StaffSignIn)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    sms: SmsCaps = Field(default_factory=SmsCaps)
    sms_provider: SmsProvider = Field(default_factory=SmsProvider)
    sms_delivery: SmsDelivery = Field(default_factory=SmsDelivery)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {tz!r}") from None
        return tz

    @model_validator(mode="after")
    def _sms_hotlines(self) -> SeasonConfig:
        """`sms_delivery.hotlines` names known districts and, with the staff fallback, every one."""
        known = {d.code for d in self.districts}
        for code in self.sms_delivery.hotlines:
            if code not in known:
                raise ValueError(f"sms_delivery.hotlines.{code}: unknown district {code!r}")
        missing = sorted(known - set(self.sms_delivery.hotlines))
        if self.sms_delivery.otp_fallback == "staff" and missing:
            raise ValueError(
                f"sms_delivery.hotlines: otp_fallback staff needs a hotline for {', '.join(missing)}"
            )
        return self

    @model_validator(mode="after")
    def _consistent(self) -> SeasonConfig:
        """Cross-references; each problem names its field, e.g. `zones[3].segments[0].road`."""
        problems: list[tuple[str, str]] = []
        if self.calendar.grade1_registration.start.year != self.year:
            problems.append(("calendar.grade1_registration.start", f"is not in the season year {self.year}"))
        for field, key in (
            ("districts", "code"),
            ("roads", "name"),
            ("compounds", "name"),
            ("schools", "id"),
            ("zones", "id"),
        ):
            seen: set[str] = set()
            for i, item in enumerate(getattr(self, field)):
                value = getattr(item, key)
                if value in seen:
                    problems.append((f"{field}[{i}].{key}", f"{value!r} is used twice"))
                seen.add(value)
        districts = {d.code for d in self.districts}
        schools = {s.id: s for s in self.schools}
        roads = {r.name: r for r in self.roads}
        owners = [
            ("roads", [r.district for r in self.roads]),
            ("compounds", [c.district for c in self.compounds]),
            ("schools", [x.district for x in self.schools]),
        ]
        owners.append(("zones", [z.district for z in self.zones]))
        for field, codes in owners:
            problems += [
                (f"{field}[{i}].district", f"unknown district {code!r}")
                for i, code in enumerate(codes)
                if code not in districts
            ]
        for ci, c in enumerate(self.compounds):
            road = roads.get(c.road)
            if road is None:
                problems.append((f"compounds[{ci}].road", f"unknown road {c.road!r}"))
            elif road.district != c.district:
                problems.append(
                    (f"compounds[{ci}].road", f"{c.road!r} is in district {road.district}, not {c.district}")
                )
            elif c.number > road.max_number:
                problems.append((f"compounds[{ci}].number", f"{c.number} is not within 1-{road.max_number}"))
        compounds = {c.name: c for c in self.compounds}
        named: dict[tuple[int, str], str] = {}
        covered: dict[tuple[int, str], list[tuple[ZoneSegment, str]]] = {}
        for zi, z in enumerate(self.zones):
            for si, sid in enumerate(z.schools):
                s = schools.get(sid)
                if s is None:
                    problems.append((f"zones[{zi}].schools[{si}]", f"unknown school {sid!r}"))
                elif s.kind != "public" or s.plan(z.grade) == 0:
                    problems.append(
                        (f"zones[{zi}].schools[{si}]", f"{sid} is not a public school taking grade {z.grade}")
                    )
            for gi, seg in enumerate(z.segments):
                at = f"zones[{zi}].segments[{gi}]"
                road = roads.get(seg.road)
                if road is None:
                    problems.append((f"{at}.road", f"unknown road {seg.road!r}"))
                    continue
                if road.district != z.district:
                    problems.append(
                        (f"{at}.road", f"{seg.road!r} is in district {road.district}, not {z.district}")
                    )
                if seg.to_number < seg.from_number or seg.to_number > road.max_number:
                    problems.append(
                        (
                            f"{at}.to_number",
                            f"{seg.from_number}-{seg.to_number} is not within 1-{road.max_number}",
                        )
                    )
                for other, other_zone in covered.get((z.grade, seg.road), []):
                    if any(
                        seg.covers(n) and other.covers(n) for n in range(seg.from_number, seg.to_number + 1)
                    ):
                        problems.append((at, f"overlaps zone {other_zone} on {seg.road!r}"))
                covered.setdefault((z.grade, seg.road), []).append((seg, z.id))
            for ci, name in enumerate(z.compounds):
                at = f"zones[{zi}].compounds[{ci}]"
                compound = compounds.get(name)
                if compound is None:
                    problems.append((at, f"unknown compound {name!r}"))
                    continue
                if compound.district != z.district:
                    problems.append((at, f"{name!r} is in district {compound.district}, not {z.district}"))
                first = named.get((z.grade, name))
                if first is not None:
                    problems.append((at, f"{name!r} is already in zone {first}"))
                named[(z.grade, name)] = z.id
        if problems:
            raise ConfigProblems(problems)
        return self

    # Derived facts ---------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def age_cutoff(self) -> date:
        """R-AGE-1: grade-1 children are born on or before 31 Aug of (year - 6)."""
        return date(self.year - 6, 8, 31)

    @property
    def property_cutoff(self) -> date:
        """R-VER-1: a deed counts only if registered before 31 Aug of (year - 3)."""
        return date(self.year - 3, 8, 31)

    @property
    def erase_from(self) -> datetime:
        """When the season's personal data may be erased (RetentionSettings): the start of that day."""
        return self.day_start(self.retention.erase_on(self.calendar))

    def day_start(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def day_end(self, day: date) -> datetime:
        """The instant a whole day ends: midnight at the start of the next day."""
        return self.day_start(day + timedelta(days=1))

    @cached_property
    def school_index(self) -> dict[str, School]:
        return {s.id: s for s in self.schools}

    @cached_property
    def district_index(self) -> dict[str, District]:
        return {d.code: d for d in self.districts}

    @cached_property
    def zone_index(self) -> dict[str, Zone]:
        return {z.id: z for z in self.zones}

    @cached_property
    def road_index(self) -> dict[str, Road]:
        return {r.name: r for r in self.roads}

    @cached_property
    def compound_index(self) -> dict[str, Compound]:
        return {c.name: c for c in self.compounds}

    def zone_of(self, grade: int, address: Mapping[str, Any]) -> Zone | None:
        """The catchment zone of an address as forms and agencies give it: a compound (by name), or a
        road and house number. A compound that no zone of the grade names is where its gate is."""
        name = address.get("compound")
        if name:
            compound = self.compound_index.get(str(name))
            if compound is None:
                return None
            zone = self._zones_by_compound.get((grade, compound.name))
            return zone or self.zone_for(grade, compound.road, compound.number)
        return self.zone_for(grade, str(address["road"]), int(address["number"]))

    def locate(self, address: Mapping[str, Any]) -> GeoPoint:
        """Where an address is: the compound's coordinate, or the house number along its road."""
        name = address.get("compound")
        if name:
            return self.compound_index[str(name)].location
        return self.road_index[str(address["road"])].locate(int(address["number"]))

    @cached_property
    def _zones_by_compound(self) -> dict[tuple[int, str], Zone]:
        return {(z.grade, name): z for z in self.zones for name in z.compounds}

    def zone_for(self, grade: int, road: str, number: int) -> Zone | None:
        for z in self._zones_by_road.get((grade, road), []):
            if any(seg.road == road and seg.covers(number) for seg in z.segments):
                return z
        return None

    @cached_property
    def _zones_by_road(self) -> dict[tuple[int, str], list[Zone]]:
        index: dict[tuple[int, str], list[Zone]] = {}
        for z in self.zones:
            for seg in z.segments:
                index.setdefault((z.grade, seg.road), []).append(z)
        return index


def read_mapping(
    path: str | Path,
    *,
    folder: Path,
    suffix: str,
    what: str,
    error: Callable[[str, list[tuple[str, str]]], Exception],
) -> tuple[dict[str, Any], str]:
    """A YAML (or JSON) file's top-level mapping, and its path as problems name it. A bare name that is
    no file, like `jilin-2023`, means `folder/jilin-2023{suffix}`. What stops the file being read is
    raised as `error(path, problems)`."""
    p = Path(path)
    if not p.suffix and not p.exists():
        p = folder / f"{p.name}{suffix}"
    shown = str(p)
    try:
        raw = yaml.load(p.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        raise error(shown, [("(file)", "no such file")]) from None
    except yaml.YAMLError as e:
        raise error(shown, [("(syntax)", str(e).replace("\n", " "))]) from None
    if not isinstance(raw, dict):
        raise error(shown, [("(top level)", f"must be a mapping {what}")])
    return raw, shown


def load_season(path: str | Path) -> SeasonConfig:
    """Load and validate a season config (YAML or JSON); a name like `jilin-2023` means seasons/."""
    raw, shown = read_mapping(path, folder=SEASONS_DIR, suffix=".yaml", what="of fields", error=ConfigError)
    try:
        return SeasonConfig.model_validate(raw)
    except ValidationError as e:
        problems: list[tuple[str, str]] = []
        for err in e.errors():
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, ConfigProblems):
                problems += cause.problems
            else:
                problems.append((_loc(err["loc"]), err["msg"]))
        raise ConfigError(shown, problems) from None


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
