"""DynamoVerificationStore on the season's real table (in moto): keys, conditional writes, queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.ports import Conflict, SeasonState
from enrollment.core.staff import StaffMember
from enrollment.local.runtime import EmbeddedSeason
from enrollment.verification import review, spotcheck
from enrollment.verification.season import PlacementFacts
from enrollment.verification.verdicts import Check, Decision, Verdict, VerdictStatus
from tests.integration.conftest import table_items

pytestmark = pytest.mark.xdist_group("moto-verification")

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2023, 6, 12, 9, 0, tzinfo=TZ)
SEASON = "2023"
CY = StaffMember(principal="cy-staff-01", role="district", district="CY")
CITY = StaffMember(principal="city-staff-01", role="city")


@pytest.fixture
def store(embedded: EmbeddedSeason) -> DynamoVerificationStore:
    return DynamoVerificationStore(embedded.table_name)


def _verdict(
    rid: str, district: str, status: VerdictStatus, at: datetime = T0, by: str = "system"
) -> Verdict:
    return Verdict(
        registration_id=rid,
        season=SEASON,
        grade=1,
        district=district,
        category="public",
        status=status,
        zone_id="CY-Z1" if status == "eligible" else None,
        facts={"hukou-in-zone": True, "actual-residence": status == "eligible"},
        reasons=[] if status == "eligible" else ["not-living-there"],
        decided_at=at,
        decided_by=by,
    )


def _item(rt: EmbeddedSeason, pk: str, sk: str) -> dict[str, object]:
    return dict(boto3.resource("dynamodb").Table(rt.table_name).get_item(Key={"pk": pk, "sk": sk})["Item"])


def test_checks_are_written_once_unless_an_open_check_gets_its_answer(
    store: DynamoVerificationStore, embedded: EmbeddedSeason
) -> None:
    # Given a home visit was requested (pending) and public security answered
    pending = Check(
        registration_id="R-1", agency="community", status="pending", asked_at=T0, reason="visit-requested"
    )
    hukou = Check(
        registration_id="R-1",
        agency="public-security",
        status="answered",
        asked_at=T0,
        answered_at=T0 + timedelta(seconds=2),
        reason="found",
        facts={"address": "江南路 12号", "zone": None, "household_size": 3, "permit": False},
    )
    assert store.put_check(pending) and store.put_check(hukou)
    # When the same answers are written again (a retried batch), nothing changes
    assert not store.put_check(hukou)
    assert not store.put_check(pending.model_copy(update={"reason": "visit-requested-again"}))
    assert not store.put_check(hukou.model_copy(update={"reason": "no-record"}))
    # Then the community's final answer replaces its pending one, and only that
    answered = pending.model_copy(
        update={"status": "answered", "answered_at": T0 + timedelta(days=3), "reason": "lives-there"}
    )
    assert store.put_check(answered)
    assert not store.put_check(answered.model_copy(update={"status": "not-confirmed"}))
    assert {c.agency: c for c in store.checks("R-1")} == {"community": answered, "public-security": hukou}
    assert store.checks("R-2") == []
    item = _item(embedded, "REG#R-1", "CHECK#public-security")
    assert item["asked_at"] == T0.isoformat() and item["facts"]["household_size"] == 3  # type: ignore[index]


def test_the_review_queue_is_one_query_per_district_and_status(store: DynamoVerificationStore) -> None:
    for v in [
        _verdict("R-CY-2", "CY", "review"),
        _verdict("R-CY-1", "CY", "not-eligible"),
        _verdict("R-CY-3", "CY", "eligible"),
        _verdict("R-C-1", "C", "review"),  # a district whose code is a prefix of another's
        _verdict("R-CH-1", "CH", "review"),
    ]:
        assert store.put_verdict(v)

    def ids(vs: list[Verdict]) -> list[str]:
        return [v.registration_id for v in vs]

    assert ids(store.verdicts(SEASON, "CY", "review")) == ["R-CY-2"]
    assert ids(store.verdicts(SEASON, "CY")) == ["R-CY-1", "R-CY-2", "R-CY-3"]
    assert ids(store.verdicts(SEASON, "C")) == ["R-C-1"]
    assert ids(store.verdicts(SEASON, status="review")) == ["R-C-1", "R-CH-1", "R-CY-2"]
    assert len(store.verdicts(SEASON)) == 5 and store.verdicts("2024") == []
    assert ids(review.review_queue(store, CY, SEASON, "CY")) == ["R-CY-1", "R-CY-2"]
    assert store.verdict("R-CY-3") == _verdict("R-CY-3", "CY", "eligible")
    assert store.verdict("R-NOPE") is None


def test_the_review_queue_is_read_a_page_at_a_time_in_key_order(
    store: DynamoVerificationStore, embedded: EmbeddedSeason
) -> None:
    for n in range(1, 12):
        status: VerdictStatus = ("review", "not-eligible", "eligible")[n % 3]
        assert store.put_verdict(_verdict(f"R-CY-{n:02d}", "CY", status))
    assert store.put_verdict(_verdict("R-C-01", "C", "review"))  # a district whose code is a prefix
    assert store.put_verdict(_verdict("R-CH-01", "CH", "not-eligible"))
    # a case a person signed leaves the queue by its key: it is never read for a page
    review.decide(store, CY, "R-CY-01", "confirm", None, "核查属实", T0 + timedelta(days=1))
    assert _item(embedded, "REG#R-CY-01", "VERDICT")["gsi1sk"] == "CY#not-eligible#signed#R-CY-01"
    assert _item(embedded, "REG#R-CY-03", "VERDICT")["gsi1sk"] == "CY#review#system#R-CY-03"
    queue = ["R-CY-03", "R-CY-04", "R-CY-06", "R-CY-07", "R-CY-09", "R-CY-10"]
    assert [v.registration_id for v in review.review_queue(store, CY, SEASON, "CY")] == queue
    for limit in (1, 2, 4, 6, 7):
        seen: list[str] = []
        after: str | None = None
        while True:
            cases, more = store.queue_page(SEASON, "CY", after, limit)
            assert len(cases) <= limit and all(v.district == "CY" for v in cases)
            seen += [v.registration_id for v in cases]
            if not more:
                break
            after = seen[-1]
        assert seen == queue, limit
    assert store.queue_page(SEASON, "C", None, 10) == ([_verdict("R-C-01", "C", "review")], False)
    assert store.queue_page(SEASON, "CX", None, 10) == ([], False)
    assert store.queue_page("2024", "CY", None, 10) == ([], False)
    # the signed case is still one of the district's not-eligible verdicts
    assert "R-CY-01" in [v.registration_id for v in store.verdicts(SEASON, "CY", "not-eligible")]


def test_verdicts_registrations_and_checks_share_a_partition_without_mixing(
    store: DynamoVerificationStore, embedded: EmbeddedSeason
) -> None:
    # the registration's own listing (gsi1 SEASON#…#REG) does not pick up verdicts of the same id
    assert store.put_verdict(_verdict("R-CY-1", "CY", "review"))
    assert list(DynamoStore(embedded.table_name).registrations(SEASON)) == []
    assert store.put_check(
        Check(registration_id="R-CY-1", agency="housing", status="unanswered", asked_at=T0, reason="timeout")
    )
    assert [c.agency for c in store.checks("R-CY-1")] == ["housing"]


def test_a_signed_verdict_is_not_undone_by_a_retried_system_write(store: DynamoVerificationStore) -> None:
    system = _verdict("R-CY-1", "CY", "review")
    assert store.put_verdict(system)
    assert store.put_verdict(system)  # the same write again changes nothing
    d = review.decide(store, CY, "R-CY-1", "override", "eligible", "社区补充核实", T0 + timedelta(days=1))
    assert not store.put_verdict(_verdict("R-CY-1", "CY", "not-eligible", at=T0 + timedelta(days=2)))
    signed = store.verdict("R-CY-1")
    assert signed is not None and (signed.status, signed.decided_by, signed.decided_at) == (
        "eligible",
        CY.principal,
        d.at,
    )
    assert [v.registration_id for v in store.verdicts(SEASON, "CY", "eligible")] == ["R-CY-1"]
    assert store.verdicts(SEASON, "CY", "review") == []  # the index moved with the status
    # an older signature does not replace a newer one
    older = signed.model_copy(update={"status": "not-eligible", "decided_at": T0 + timedelta(hours=1)})
    assert not store.put_verdict(older)


def test_decisions_are_append_only_even_at_the_same_instant(
    store: DynamoVerificationStore, embedded: EmbeddedSeason
) -> None:
    at = T0 + timedelta(days=1)
    first = Decision(
        registration_id="R-CY-1",
        district="CY",
        action="override",
        outcome="eligible",
        reason="补交证明",
        actor=CY.principal,
        at=at,
    )
    second = first.model_copy(update={"outcome": "not-eligible", "reason": "证明无效"})
    earlier = first.model_copy(update={"at": at.astimezone(UTC) - timedelta(hours=1), "reason": "初审"})
    assert store.append_decision(first)
    assert store.append_decision(second)  # same timestamp, another decision: kept as well
    assert not store.append_decision(first)  # a retry: not written twice
    assert not store.append_decision(second)
    assert store.append_decision(earlier)
    assert store.decisions("R-CY-1") == [earlier, first, second]
    sks = sorted(str(i["sk"]) for i in table_items(embedded) if i["pk"] == "REG#R-CY-1")
    stamp = review.utc_instant(at)
    assert sks == [
        f"DECISION#{review.utc_instant(earlier.at)}#0000",
        f"DECISION#{stamp}#0000",
        f"DECISION#{stamp}#0001",
    ]
    assert stamp.endswith("+00:00")


def test_spot_check_samples_and_outcomes(store: DynamoVerificationStore, embedded: EmbeddedSeason) -> None:
    for i in range(30):
        store.put_verdict(_verdict(f"R-CY-{i:02d}", "CY", "eligible"))
        store.put_verdict(_verdict(f"R-CH-{i:02d}", "CH", "eligible"))
    # Given the city draws CY's sample
    sample = spotcheck.draw(store, CITY, SEASON, "CY", 0.2, "seed-1", T0, minimum=5)
    assert sample.size == 6 and all(rid.startswith("R-CY-") for rid in sample.sample)
    assert store.spot_check_sample(SEASON, "CY") == sample
    assert store.spot_check_sample(SEASON, "CH") is None
    assert not store.put_spot_check_sample(sample.model_copy(update={"drawn_at": T0 + timedelta(hours=1)}))
    with pytest.raises(Conflict):
        store.put_spot_check_sample(
            sample.model_copy(update={"seed": "seed-2", "sample": sample.sample[::-1]})
        )
    item = _item(embedded, f"SEASON#{SEASON}", "SPOTCHECK#CY")
    assert item["rate"] == "0.2" and item["population"] == 30 and item["seed"] == "seed-1"
    # When it records findings
    later = T0 + timedelta(days=15)
    spotcheck.record_outcome(store, CITY, SEASON, "CY", sample.sample[0], "confirmed", "", later)
    found = spotcheck.record_outcome(
        store, CITY, SEASON, "CY", sample.sample[1], "discrepancy", "房产信息不符", later
    )
    # Then they are stored once each and summarised
    assert not store.put_spot_check(found.model_copy(update={"checked_at": later + timedelta(seconds=1)}))
    with pytest.raises(Conflict):
        store.put_spot_check(found.model_copy(update={"outcome": "confirmed"}))
    assert [o.registration_id for o in store.spot_checks(SEASON, "CY")] == sorted(sample.sample[:2])
    assert store.spot_checks(SEASON, "CH") == []
    summary = spotcheck.district_summary(store, CITY, SEASON, "CY")
    assert (summary.sampled, summary.checked, summary.confirmed, summary.discrepancies) == (6, 2, 1, 1)
    # and the season's control items (gates, windows) still read cleanly next to the sample
    items = DynamoStore(embedded.table_name).season_items(SEASON)
    assert "SPOTCHECK#CY" in [i["sk"] for i in items]
    assert DynamoStore(embedded.table_name).season_state(SEASON) == SeasonState(frozenset(), {})


def test_placement_and_the_pools_read_a_few_fields_of_every_verdict_without_models(
    store: DynamoVerificationStore,
) -> None:
    # Given verdicts of two districts, one of them signed by a person, and one of another season
    own = {"hukou-in-zone": True, "own-district": True}
    verdicts = [
        _verdict("R-CY-2", "CY", "eligible").model_copy(update={"facts": own}),
        _verdict("R-CY-1", "CY", "review"),
        _verdict("R-CH-1", "CH", "eligible").model_copy(update={"facts": {**own, "own-district": False}}),
        _verdict("R-CY-3", "CY", "not-eligible", by="cy-staff-01"),
        _verdict("R-CH-2", "CH", "eligible").model_copy(update={"facts": own}),
    ]
    for v in [*verdicts, _verdict("R-OLD", "CY", "eligible").model_copy(update={"season": "2022"})]:
        assert store.put_verdict(v)
    # Then placement reads each one's status, zone and facts, as the models have them
    facts = {f.registration_id: f for f in store.placement_facts(SEASON)}
    assert facts == {
        v.registration_id: PlacementFacts(v.registration_id, v.status, v.zone_id, v.facts) for v in verdicts
    }
    assert all(type(f) is PlacementFacts for f in facts.values())
    # and verdicts with the same facts share one read-only mapping, not a copy each
    assert facts["R-CY-2"].facts is facts["R-CH-2"].facts
    with pytest.raises(TypeError):
        facts["R-CY-2"].facts["own-district"] = False  # type: ignore[index]
    # And the pools read only the ids whose fact holds (a false or missing fact is not held)
    assert sorted(store.holding(SEASON, "own-district")) == ["R-CH-2", "R-CY-2"]
    assert sorted(store.holding(SEASON, "actual-residence")) == []  # false for R-CY-1 and R-CY-3, or absent
    assert sorted(store.holding(SEASON, "hukou-in-zone")) == sorted(v.registration_id for v in verdicts)
    assert list(store.holding("2024", "own-district")) == [] and list(store.placement_facts("2024")) == []
