"""The city bureau's spot-check (R-VER-5): reproducible samples, city-only findings, per-district counts."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import timedelta
from decimal import Decimal

import pytest

from enrollment.core.staff import Forbidden, StaffDirectory, StaffMember
from enrollment.verification import spotcheck
from enrollment.verification.spotcheck import (
    AlreadyRecorded,
    InvalidOutcome,
    InvalidSample,
    NotDrawn,
    NotInSample,
    draw_sample,
)
from tests.unit.test_review import SEASON, T0, FakeVerificationStore, make_verdict

IDS = [f"R-CY-{i:03d}" for i in range(200)]
SEED = "2023-06-27 抽查 种子 7f3a"


@pytest.fixture(scope="module")
def directory() -> StaffDirectory:
    return StaffDirectory.load("jilin-2023")


@pytest.fixture
def city(directory: StaffDirectory) -> StaffMember:
    return directory.lookup("city-staff-01")


@pytest.fixture
def store() -> FakeVerificationStore:
    s = FakeVerificationStore()
    for i, rid in enumerate(IDS[:40]):
        s.put_verdict(make_verdict(rid, "CY", ("eligible", "not-eligible", "review")[i % 3]))
    for i in range(40):
        s.put_verdict(make_verdict(f"R-CH-{i:03d}", "CH", "eligible"))
    return s


# Drawing ------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_sample_whatever_the_order_of_the_ids() -> None:
    shuffled = IDS[:]
    random.Random(1).shuffle(shuffled)
    a = draw_sample(SEASON, "CY", IDS, 20, SEED)
    b = draw_sample(SEASON, "CY", shuffled + IDS[:5], 20, SEED)  # order and duplicates do not matter
    assert a == b and a.population == 200 and a.size == 20 and len(set(a.sample)) == 20


def test_another_seed_gives_another_sample() -> None:
    a = draw_sample(SEASON, "CY", IDS, 20, SEED)
    b = draw_sample(SEASON, "CY", IDS, 20, SEED + "x")
    assert set(a.sample) != set(b.sample)
    assert a.population_digest == b.population_digest and a.seed != b.seed


def test_the_sample_is_the_ids_with_the_smallest_hmac_and_grows_by_prefix() -> None:
    # anyone can replay it from the recorded seed with the standard library alone
    def digest(rid: str) -> str:
        return hmac.new(SEED.encode(), rid.encode(), hashlib.sha256).hexdigest()

    expected = sorted(IDS, key=digest)[:15]
    s = draw_sample(SEASON, "CY", IDS, 15, SEED)
    assert s.method == "hmac-sha256-smallest" and s.sample == expected
    assert draw_sample(SEASON, "CY", IDS, 30, SEED).sample[:15] == expected
    assert s.population_digest == hashlib.sha256("\n".join(sorted(IDS)).encode()).hexdigest()


@pytest.mark.parametrize(
    ("size_or_rate", "minimum", "population", "size", "rate"),
    [
        (20, 1, 200, 20, None),
        (500, 1, 200, 200, None),  # never more than everyone
        (0.05, 1, 200, 10, "0.05"),
        (Decimal("0.05"), 1, 201, 11, "0.05"),  # a rate rounds up
        (0.05, 5, 40, 5, "0.05"),  # at least the minimum
        (0.05, 5, 3, 3, "0.05"),  # but never more than everyone
        (1.0, 1, 7, 7, "1.0"),
        (3, 1, 0, 0, None),  # an empty district gives an empty sample
    ],
)
def test_sample_size(
    size_or_rate: int | float | Decimal, minimum: int, population: int, size: int, rate: str | None
) -> None:
    s = draw_sample(
        SEASON, "CY", [f"R-{i:04d}" for i in range(population)], size_or_rate, SEED, minimum=minimum
    )
    assert (s.size, len(s.sample), s.rate, s.population, s.minimum) == (size, size, rate, population, minimum)


@pytest.mark.parametrize("bad", [0, -1, 0.0, 1.5, float("nan"), True])
def test_an_impossible_size_or_rate_is_refused(bad: int | float) -> None:
    with pytest.raises(InvalidSample) as err:
        draw_sample(SEASON, "CY", IDS, bad, SEED)
    assert err.value.status == 422 and err.value.message_zh


def test_a_seed_is_required() -> None:
    with pytest.raises(InvalidSample):
        draw_sample(SEASON, "CY", IDS, 5, "")


def test_the_city_draws_from_the_districts_own_cases_only(
    store: FakeVerificationStore, city: StaffMember
) -> None:
    s = spotcheck.draw(store, city, SEASON, "CY", 0.25, SEED, T0, minimum=5)
    cy_ids = {v.registration_id for v in store.verdicts(SEASON, "CY")}
    assert s.population == 40 and s.size == 10 and set(s.sample) <= cy_ids
    assert (s.drawn_by, s.drawn_at, s.seed) == (city.principal, T0, SEED)
    assert store.spot_check_sample(SEASON, "CY") == s
    assert store.spot_check_sample(SEASON, "CH") is None


def test_a_district_is_sampled_once(store: FakeVerificationStore, city: StaffMember) -> None:
    first = spotcheck.draw(store, city, SEASON, "CY", 8, SEED, T0)
    again = spotcheck.draw(store, city, SEASON, "CY", 8, SEED, T0 + timedelta(minutes=5))  # a retry
    assert again == first
    with pytest.raises(AlreadyRecorded) as err:
        spotcheck.draw(store, city, SEASON, "CY", 8, "another seed", T0)
    assert err.value.status == 409


@pytest.mark.parametrize("who", ["cy-staff-01", "ch-staff-01", "auditor-01"])
def test_only_the_city_draws(store: FakeVerificationStore, directory: StaffDirectory, who: str) -> None:
    with pytest.raises(Forbidden):
        spotcheck.draw(store, directory.lookup(who), SEASON, "CY", 5, SEED, T0)
    assert store.samples == {}


# Findings --------------------------------------------------------------------------------------------


def test_outcomes_are_recorded_by_the_city_and_summarised_per_district(
    store: FakeVerificationStore, city: StaffMember, directory: StaffDirectory
) -> None:
    # Given CY's sample of 6
    sample = spotcheck.draw(store, city, SEASON, "CY", 6, SEED, T0).sample
    later = T0 + timedelta(days=1)
    # When the city checks three cases and finds one wrong
    spotcheck.record_outcome(store, city, SEASON, "CY", sample[0], "confirmed", "", later)
    spotcheck.record_outcome(store, city, SEASON, "CY", sample[1], "confirmed", "与原始材料一致", later)
    found = spotcheck.record_outcome(
        store, city, SEASON, "CY", sample[2], "discrepancy", " 房产证日期不符 ", later
    )
    # Then the finding is signed and the district's summary counts it
    assert (found.checked_by, found.checked_at, found.note) == (city.principal, later, "房产证日期不符")
    summary = spotcheck.district_summary(store, city, SEASON, "CY")
    assert (summary.sampled, summary.checked, summary.confirmed, summary.discrepancies) == (6, 3, 2, 1)
    assert summary.discrepancy_ids == [sample[2]] and summary.seed == SEED and summary.population == 40
    # and CY's own reviewer and the auditor may read it; CH's may not
    for who in ("cy-staff-01", "auditor-01"):
        assert spotcheck.district_summary(store, directory.lookup(who), SEASON, "CY") == summary
    with pytest.raises(Forbidden):
        spotcheck.district_summary(store, directory.lookup("ch-staff-01"), SEASON, "CY")


def test_an_undrawn_district_summarises_as_empty(store: FakeVerificationStore, city: StaffMember) -> None:
    summary = spotcheck.district_summary(store, city, SEASON, "CH")
    assert not summary.drawn and (summary.sampled, summary.checked, summary.seed) == (0, 0, None)


@pytest.mark.parametrize("who", ["cy-staff-01", "auditor-01"])
def test_only_the_city_records_outcomes(
    store: FakeVerificationStore, city: StaffMember, directory: StaffDirectory, who: str
) -> None:
    sample = spotcheck.draw(store, city, SEASON, "CY", 3, SEED, T0).sample
    with pytest.raises(Forbidden):
        spotcheck.record_outcome(store, directory.lookup(who), SEASON, "CY", sample[0], "confirmed", "", T0)
    assert store.outcomes == {}


def test_outcomes_only_for_sampled_cases_of_a_drawn_district(
    store: FakeVerificationStore, city: StaffMember
) -> None:
    with pytest.raises(NotDrawn):
        spotcheck.record_outcome(store, city, SEASON, "CY", IDS[0], "confirmed", "", T0)
    sample = spotcheck.draw(store, city, SEASON, "CY", 3, SEED, T0).sample
    outside = next(rid for rid in IDS[:40] if rid not in sample)
    with pytest.raises(NotInSample):
        spotcheck.record_outcome(store, city, SEASON, "CY", outside, "confirmed", "", T0)
    with pytest.raises(NotInSample):  # a CH case is never in CY's sample
        spotcheck.record_outcome(store, city, SEASON, "CY", "R-CH-000", "confirmed", "", T0)
    with pytest.raises(InvalidOutcome):  # a discrepancy says what is wrong
        spotcheck.record_outcome(store, city, SEASON, "CY", sample[0], "discrepancy", " ", T0)
    with pytest.raises(InvalidOutcome):
        spotcheck.record_outcome(store, city, SEASON, "CY", sample[0], "maybe", "", T0)  # type: ignore[arg-type]
    assert store.outcomes == {}


def test_an_outcome_is_recorded_once(store: FakeVerificationStore, city: StaffMember) -> None:
    rid = spotcheck.draw(store, city, SEASON, "CY", 3, SEED, T0).sample[0]
    spotcheck.record_outcome(store, city, SEASON, "CY", rid, "confirmed", "无误", T0)
    spotcheck.record_outcome(
        store, city, SEASON, "CY", rid, "confirmed", "无误", T0 + timedelta(seconds=3)
    )  # retry
    with pytest.raises(AlreadyRecorded):
        spotcheck.record_outcome(store, city, SEASON, "CY", rid, "discrepancy", "改口", T0)
    assert len(store.spot_checks(SEASON, "CY")) == 1
