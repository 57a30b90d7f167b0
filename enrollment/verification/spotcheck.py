"""The city bureau's spot-check of each district's verification (R-VER-5, 抽查).

Sampling is reproducible and needs no trust in the software: every registration id of the district
is ranked by HMAC-SHA256(key = the recorded seed, message = the id, both UTF-8) and the ids with the
smallest digests (ties, impossible in practice, by id) form the sample, in that rank order. Anyone with
the seed and the district's ids gets the same sample; a sample of size k is the first k of any larger
one. The seed, the population's size and a digest of its sorted ids are recorded with the sample, so
the population that was sampled can be checked later too. The seed is chosen before the draw (e.g.
announced, or `new_seed()`); a district's sample is drawn once per season.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from enrollment.core.ports import Conflict
from enrollment.core.staff import StaffError, StaffMember, require_read, require_spot_check
from enrollment.verification.review import VerificationStore

SamplingMethod = Literal["hmac-sha256-smallest"]
SAMPLING_METHOD: SamplingMethod = "hmac-sha256-smallest"
SpotOutcome = Literal["confirmed", "discrepancy"]
OUTCOME_ZH: dict[str, str] = {"confirmed": "抽查无误", "discrepancy": "抽查发现问题"}


class SpotCheckError(StaffError):
    status = 409


class InvalidSample(SpotCheckError, ValueError):
    status = 422


class NotDrawn(SpotCheckError):
    pass


class NotInSample(SpotCheckError):
    status = 422


class InvalidOutcome(SpotCheckError):
    status = 422


class AlreadyRecorded(SpotCheckError):
    pass


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpotCheckSample(_Record):
    season: str
    district: str
    method: SamplingMethod = SAMPLING_METHOD
    seed: str = Field(min_length=1)
    rate: str | None = None  # the rate asked for, as a decimal string ("0.05"); None if a size was asked
    minimum: int = 1  # the least number asked for, whatever the rate
    size: int  # how many were drawn: the first `size` ids in rank order
    population: int  # how many distinct ids were sampled from
    population_digest: str  # sha256 of the sorted distinct ids joined by "\n"
    sample: list[str]  # in rank order (smallest HMAC first)
    drawn_by: str | None = None
    drawn_at: datetime | None = None

    def same_draw(self, other: SpotCheckSample) -> bool:
        """The same draw, whoever recorded it and when (a retry)."""
        fields = {"drawn_by", "drawn_at"}
        return self.model_dump(exclude=fields) == other.model_dump(exclude=fields)


class SpotCheckOutcome(_Record):
    season: str
    district: str
    registration_id: str
    outcome: SpotOutcome
    note: str = Field(default="", max_length=500)
    checked_by: str
    checked_at: datetime

    def same_as(self, other: SpotCheckOutcome) -> bool:
        """The same finding by the same person, whenever it was sent (a retry)."""
        return self.model_dump(exclude={"checked_at"}) == other.model_dump(exclude={"checked_at"})


class DistrictSummary(_Record):
    season: str
    district: str
    drawn: bool
    seed: str | None
    population: int
    sampled: int
    checked: int
    confirmed: int
    discrepancies: int
    discrepancy_ids: list[str]


def new_seed() -> str:
    """A fresh unpredictable seed (128 bits, hex), for when none was announced beforehand."""
    return secrets.token_hex(16)


def rank(seed: str, registration_id: str) -> str:
    """An id's place in the draw: the hex HMAC-SHA256 of the id keyed by the seed."""
    return hmac.new(seed.encode(), registration_id.encode(), hashlib.sha256).hexdigest()


def population_digest(registration_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(registration_ids))).encode()).hexdigest()


def _size(size_or_rate: int | float | Decimal, population: int, minimum: int) -> tuple[int, str | None]:
    if minimum < 1:
        raise InvalidSample("最少抽查数量至少为1", "the minimum sample size must be at least 1")
    if isinstance(size_or_rate, bool):
        raise InvalidSample("抽查数量无效", f"not a sample size or rate: {size_or_rate!r}")
    if isinstance(size_or_rate, int):
        if size_or_rate < 1:
            raise InvalidSample("抽查数量至少为1", "the sample size must be at least 1")
        return min(max(size_or_rate, minimum), population), None
    try:
        rate = Decimal(str(size_or_rate))
    except InvalidOperation:
        raise InvalidSample("抽查比例无效", f"not a sample rate: {size_or_rate!r}") from None
    if not (rate.is_finite() and 0 < rate <= 1):
        raise InvalidSample("抽查比例须大于0且不超过1", "the sample rate must be in (0, 1]")
    return min(max(math.ceil(rate * population), minimum), population), str(rate)


def draw_sample(
    season: str,
    district: str,
    registration_ids: Iterable[str],
    size_or_rate: int | float | Decimal,
    seed: str,
    *,
    minimum: int = 1,
) -> SpotCheckSample:
    """Draw a district's sample: an int is a size, a float/Decimal in (0, 1] a rate (rounded up), and
    at least `minimum` (e.g. the season's `verification.spot_check_minimum`), at most everyone.
    Pure and reproducible: the same inputs give the same sample, whatever the order of the ids."""
    if not seed:
        raise InvalidSample("抽查须记录随机种子", "a seed is required")
    ids = sorted(set(registration_ids))
    size, rate = _size(size_or_rate, len(ids), minimum)
    ranked = sorted(ids, key=lambda rid: (rank(seed, rid), rid))
    return SpotCheckSample(
        season=season,
        district=district,
        seed=seed,
        rate=rate,
        minimum=minimum,
        size=size,
        population=len(ids),
        population_digest=population_digest(ids),
        sample=ranked[:size],
    )


def draw(
    store: VerificationStore,
    staff: StaffMember,
    season: str,
    district: str,
    size_or_rate: int | float | Decimal,
    seed: str,
    now: datetime,
    *,
    minimum: int = 1,
) -> SpotCheckSample:
    """The city bureau draws a district's sample from that district's verified cases, and records it
    once: a retry of the same draw returns the recorded sample; a different draw is refused."""
    require_spot_check(staff)
    population = [v.registration_id for v in store.verdicts(season, district) if v.district == district]
    return draw_from(store, staff, season, district, population, size_or_rate, seed, now, minimum=minimum)


def draw_from(
    store: VerificationStore,
    staff: StaffMember,
    season: str,
    district: str,
    population: Iterable[str],
    size_or_rate: int | float | Decimal,
    seed: str,
    now: datetime,
    *,
    minimum: int = 1,
) -> SpotCheckSample:
    """`draw` from the district's verified cases' ids as the caller read them (`population`: the
    workflow reads the ids alone, not the verdicts), recorded the same way."""
    require_spot_check(staff)
    sample = draw_sample(season, district, population, size_or_rate, seed, minimum=minimum).model_copy(
        update={"drawn_by": staff.principal, "drawn_at": now}
    )
    try:
        written = store.put_spot_check_sample(sample)
    except Conflict:
        raise AlreadyRecorded(
            f"{district}本年度已抽样，不能重新抽样", f"district {district} was already sampled this season"
        ) from None
    if written:
        return sample
    recorded = store.spot_check_sample(season, district)
    return recorded if recorded is not None else sample


def record_outcome(
    store: VerificationStore,
    staff: StaffMember,
    season: str,
    district: str,
    registration_id: str,
    outcome: SpotOutcome,
    note: str,
    now: datetime,
) -> SpotCheckOutcome:
    """The city bureau's finding on one sampled case, signed (who, when, why) and recorded once."""
    require_spot_check(staff)
    if outcome not in OUTCOME_ZH:
        raise InvalidOutcome(f"未知的抽查结论 {outcome!r}", f"unknown outcome {outcome!r}")
    sample = store.spot_check_sample(season, district)
    if sample is None:
        raise NotDrawn(f"{district}尚未抽样", f"district {district} has not been sampled yet")
    if registration_id not in sample.sample:
        raise NotInSample(
            f"{registration_id} 不在{district}的抽查样本中",
            f"{registration_id} is not in the sample of {district}",
        )
    note = note.strip()
    if outcome == "discrepancy" and len(note) < 2:
        raise InvalidOutcome(
            "抽查发现问题时须说明情况（至少2个字）", "a discrepancy needs a note of at least 2 characters"
        )
    if len(note) > 500:
        raise InvalidOutcome("说明不能超过500字", "the note is longer than 500 characters")
    record = SpotCheckOutcome(
        season=season,
        district=district,
        registration_id=registration_id,
        outcome=outcome,
        note=note,
        checked_by=staff.principal,
        checked_at=now,
    )
    try:
        store.put_spot_check(record)
    except Conflict:
        raise AlreadyRecorded(
            f"{registration_id} 的抽查结论已记录，不能更改",
            f"the outcome for {registration_id} is already recorded",
        ) from None
    return record


def district_summary(
    store: VerificationStore, staff: StaffMember, season: str, district: str
) -> DistrictSummary:
    """How far the spot-check of one district got: sampled, checked, confirmed, discrepancies."""
    require_read(staff, district)
    sample = store.spot_check_sample(season, district)
    sampled = set(sample.sample) if sample else set()
    outcomes = [o for o in store.spot_checks(season, district) if o.registration_id in sampled]
    found = sorted(o.registration_id for o in outcomes if o.outcome == "discrepancy")
    return DistrictSummary(
        season=season,
        district=district,
        drawn=sample is not None,
        seed=sample.seed if sample else None,
        population=sample.population if sample else 0,
        sampled=len(sampled),
        checked=len(outcomes),
        confirmed=len(outcomes) - len(found),
        discrepancies=len(found),
        discrepancy_ids=found,
    )
