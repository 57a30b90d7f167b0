"""The verification phase's tasks over in-memory stores (issue 14): batched reads, each case read
once, nothing written that did not change, and a check someone else stored first is what is judged."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import NotFound
from enrollment.verification import spotcheck
from enrollment.verification.checks import Agencies, Answer, checks_needed
from enrollment.verification.season import (
    CITY_SYSTEM,
    CaseRecord,
    VerdictFacts,
    VisitRefused,
    close_visits,
    draw_spot_check,
    record_visit,
    spot_check_districts,
    summary,
    verify_batch,
)
from enrollment.verification.verdicts import Agency, Check, Verdict
from tests.support import valid_body
from tests.unit.test_review import FakeVerificationStore

NOW = datetime(2023, 6, 12, 9, tzinfo=UTC)


class Registrations:
    """The registrations port in memory, counting its reads."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = {str(i["registration_id"]): i for i in items}
        self.reads: Counter[str] = Counter()

    def get_registration(self, registration_id: str) -> dict[str, Any]:
        self.reads["one"] += 1
        if registration_id not in self.items:
            raise NotFound(registration_id)
        return self.items[registration_id]

    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        self.reads["many"] += 1
        return {rid: self.items[rid] for rid in registration_ids if rid in self.items}

    def registrations(self, season: str) -> Iterable[dict[str, Any]]:
        self.reads["season"] += 1
        return list(self.items.values())


class CountingVerificationStore(FakeVerificationStore):
    """The fake with `cases`, counting reads and writes; `first` checks are stored by someone else
    just before this store's own write of the same check (a race a retry or a callback makes)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.first: dict[tuple[str, str], Check] = {}

    def cases(self, agencies: Mapping[str, Iterable[Agency]]) -> dict[str, CaseRecord]:
        self.calls["cases"] += 1
        out = {}
        for rid, asked in agencies.items():
            checks = [self.check_items[(rid, a)] for a in asked if (rid, a) in self.check_items]
            out[rid] = CaseRecord(checks, self.verdict_items.get(rid))
        return out

    def verdict_facts(self, season: str, district: str | None = None) -> Iterator[VerdictFacts]:
        """As the index lists them: by district, status and id (not by id alone)."""
        self.calls["verdict_facts"] += 1
        listed = sorted(
            self.verdicts(season, district), key=lambda v: (v.district, v.status, v.registration_id)
        )
        for v in listed:
            yield VerdictFacts(v.registration_id, v.district, v.status, tuple(v.reasons), v.decided_by)

    def checks(self, registration_id: str) -> list[Check]:
        self.calls["checks"] += 1
        return super().checks(registration_id)

    def verdict(self, registration_id: str) -> Verdict | None:
        self.calls["verdict"] += 1
        return super().verdict(registration_id)

    def put_check(self, check: Check) -> bool:
        self.calls["put_check"] += 1
        earlier = self.first.pop((check.registration_id, check.agency), None)
        if earlier is not None:
            super().put_check(earlier)
        return super().put_check(check)

    def put_verdict(self, verdict: Verdict) -> bool:
        self.calls["put_verdict"] += 1
        return super().put_verdict(verdict)


class Found:
    """Every agency finds the child at the stated home; the community visit is only requested."""

    def __init__(self, item: Mapping[str, dict[str, Any]]) -> None:
        self.by_number = {i["request"]["child"]["id_number"]: i for i in item.values()}
        self.by_deed = {
            (i["request"]["residence"].get("property") or {}).get("deed_number"): i for i in item.values()
        }
        self.visits: list[str] = []

    def _house(self, i: dict[str, Any]) -> dict[str, Any]:
        a = i["request"]["home_address"]
        return {"district": a["district"], "road": a["road"], "number": a["number"]}

    def lookup(self, id_type: str, id_number: str) -> Answer:
        return Answer("found", {"kind": "hukou", **self._house(self.by_number[id_number])})

    def deed(self, deed_number: str, owner_id_numbers: Sequence[str] = ()) -> Answer:
        owned = {"owner_match": True, "owners_matched": 1} if owner_id_numbers else {}
        return Answer(
            "found",
            {"registered_on": "2019-05-01", "owners": 1, **owned, **self._house(self.by_deed[deed_number])},
        )

    def planned_use(self, deed_number: str) -> Answer:
        return Answer("found", {"planned_use": "residential"})

    def request_visit(self, registration_id: str, id_number: str, address: dict[str, Any]) -> None:
        self.visits.append(registration_id)

    def agencies(self) -> Agencies:
        return Agencies(self, self, self, self)


def _items(config: SeasonConfig, n: int) -> list[dict[str, Any]]:
    out = []
    for k in range(n):
        body = valid_body(config, residence__property={"deed_number": f"JL-2019-{k:06d}", "owner": "母亲"})
        if k % 5 == 4:  # no property: no housing or planning check
            body = valid_body(config, residence__property=None)
        out.append(
            {
                "registration_id": f"R-{k:04d}",
                "season": config.season,
                "grade": body["grade"],
                "category": body["category"],
                "district": body["home_address"]["district"],
                "target_school": None,
                "special_claims": [],
                "request": body,
            }
        )
    return out


@pytest.fixture
def world(season: SeasonConfig) -> tuple[Registrations, CountingVerificationStore, Found]:
    regs = Registrations(_items(season, 30))
    return regs, CountingVerificationStore(), Found(regs.items)


def test_a_batch_reads_once_and_a_retry_asks_and_writes_nothing(
    season: SeasonConfig, world: tuple[Registrations, CountingVerificationStore, Found]
) -> None:
    regs, vstore, found = world
    ids = list(regs.items)
    done = verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=NOW)
    asked = sum(len(checks_needed(i)) for i in regs.items.values())
    assert done == {"registrations": 30, "asked": asked, "judged": 0}  # every home visit is pending
    assert regs.reads == Counter({"many": 1})
    assert vstore.calls == Counter({"cases": 1, "put_check": asked})
    assert sorted(found.visits) == ids

    # answered visits: the cases are judged; a retried batch then asks nothing and writes nothing
    for rid in ids:
        vstore.check_items[(rid, "community")] = vstore.check_items[(rid, "community")].model_copy(
            update={"status": "answered", "reason": "lives-there", "facts": {"lives_there": True}}
        )
    vstore.calls.clear()
    judged = verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=NOW)
    assert judged == {"registrations": 30, "asked": 0, "judged": 30}
    assert vstore.calls == Counter({"cases": 1, "put_verdict": 30})
    statuses = {rid: v.status for rid, v in vstore.verdict_items.items()}
    assert statuses == {
        rid: "eligible" if int(rid[2:]) % 5 != 4 else "not-eligible" for rid in ids
    }  # no-property
    vstore.calls.clear()
    again = verify_batch(
        season, ids, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=NOW + timedelta(1)
    )
    assert again == judged
    assert vstore.calls == Counter({"cases": 1})  # read once, nothing written


def test_a_missing_registration_is_not_found(
    season: SeasonConfig, world: tuple[Registrations, CountingVerificationStore, Found]
) -> None:
    regs, vstore, found = world
    with pytest.raises(NotFound, match="R-NONE"):
        verify_batch(
            season, ["R-0000", "R-NONE"], "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=NOW
        )


def test_a_check_stored_first_by_someone_else_is_the_one_judged(
    season: SeasonConfig, world: tuple[Registrations, CountingVerificationStore, Found]
) -> None:
    regs, vstore, found = world
    rid = "R-0004"  # no property: public security and the community
    assert checks_needed(regs.items[rid]) == ["public-security", "community"]
    vstore.check_items[(rid, "community")] = Check(
        registration_id=rid,
        agency="community",
        status="answered",
        asked_at=NOW,
        reason="not-living-there",
        facts={"lives_there": False},
    )
    vstore.first[(rid, "public-security")] = Check(
        registration_id=rid, agency="public-security", status="answered", asked_at=NOW, reason="no-record"
    )
    done = verify_batch(season, [rid], "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=NOW)
    assert done == {"registrations": 1, "asked": 1, "judged": 1}
    v = vstore.verdict_items[rid]
    assert "hukou-not-found" in v.reasons and "not-living-there" in v.reasons  # the stored answers
    assert vstore.calls["cases"] == 2  # the batch, then the refused case again


def test_the_deadline_reads_only_open_cases_and_judges_a_last_minute_answer(
    season: SeasonConfig, world: tuple[Registrations, CountingVerificationStore, Found]
) -> None:
    regs, vstore, found = world
    ids = list(regs.items)
    verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=NOW)
    # one visit answered through the callback: one registration read, one case read
    regs.reads.clear()
    vstore.calls.clear()
    out = record_visit(season, "R-0000", True, "网格员", store=regs, vstore=vstore, now=NOW + timedelta(2))
    assert out == {"registration_id": "R-0000", "judged": True}
    assert regs.reads == Counter({"one": 1})
    assert vstore.calls == Counter({"cases": 1, "put_check": 1, "put_verdict": 1})
    # and one arrives while the deadline closes it
    late = vstore.check_items[("R-0001", "community")].model_copy(
        update={"status": "answered", "reason": "lives-there", "facts": {"lives_there": True}}
    )
    vstore.first[("R-0001", "community")] = late
    vstore.calls.clear()
    result = close_visits(season, season.season, store=regs, vstore=vstore, now=NOW + timedelta(10))
    assert result["visits_closed"] == 28 and result["verdicts"] == 30
    assert vstore.calls["cases"] == 2 and vstore.calls["checks"] == vstore.calls["verdict"] == 0
    assert vstore.verdict_items["R-0001"].status == "eligible"  # judged on the community's answer
    assert all("visit-not-confirmed" in vstore.verdict_items[rid].reasons for rid in ids[2:])


def _summary_holding_every_verdict(season: SeasonConfig, verdicts: list[Verdict]) -> dict[str, Any]:
    """The record as it was counted before issue 14, from the whole season's verdicts sorted by id."""
    by_district: dict[str, Counter[str]] = {d.code: Counter() for d in season.districts}
    reasons: Counter[str] = Counter()
    for v in verdicts:
        by_district.setdefault(v.district, Counter())[v.status] += 1
        reasons.update(v.reasons)
    return {
        "verdicts": len(verdicts),
        "by_status": dict(Counter(v.status for v in verdicts)),
        "by_reason": dict(reasons.most_common()),
        "by_district": {d: dict(c) for d, c in by_district.items()},
        "signed": sum(1 for v in verdicts if v.decided_by != "system"),
    }


def test_the_summary_counts_page_by_page_and_keeps_the_records_order(season: SeasonConfig) -> None:
    # Given verdicts the index lists by district and status, with reasons tied in count
    vstore = CountingVerificationStore()
    codes = [d.code for d in season.districts]
    reasons: list[list[Any]] = [
        ["visit-not-confirmed"],
        ["no-property", "deed-not-found"],
        [],
        ["deed-not-found", "no-property"],
        ["hukou-not-found"],
    ]
    statuses: list[Any] = ["review", "eligible", "not-eligible", "eligible", "review", "eligible"]
    for n in range(60):
        v = Verdict(
            registration_id=f"R-{(n * 7) % 60:04d}",
            season=season.season,
            grade=1,
            district=[codes[3], codes[0], "XX", codes[1]][n % 4],  # a district the config does not list
            category="hukou-and-property",
            status=statuses[n % 6],
            reasons=reasons[n % 5],
            decided_at=NOW,
            decided_by="reviewer-cy" if n % 9 == 0 else "system",
        )
        vstore.put_verdict(v)
    # When it is counted from the facts as listed, none kept
    got = summary(season, vstore, season.season)
    # Then it is the record the sorted models gave, the order of every key included
    expected = _summary_holding_every_verdict(season, vstore.verdicts(season.season))
    assert json.dumps(got) == json.dumps(expected)
    assert vstore.calls["verdict_facts"] == 1


def test_each_districts_spot_check_is_the_draw_over_its_verdicts(season: SeasonConfig) -> None:
    class Seeds:
        def new_seed(self, purpose: str) -> str:
            return purpose.replace("/", "-")

    class NoSeeds:
        def new_seed(self, purpose: str) -> str:
            raise AssertionError(f"drew again: {purpose}")

    codes = [d.code for d in season.districts]
    assert spot_check_districts(season) == {"districts": codes}
    vstore, reference = CountingVerificationStore(), CountingVerificationStore()
    for n in range(90):
        v = Verdict(
            registration_id=f"R-{n:04d}",
            season=season.season,
            grade=1,
            district=codes[n % 3],
            category="hukou-and-property",
            status=["eligible", "review"][n % 2],
            decided_at=NOW,
        )
        vstore.put_verdict(v)
        reference.put_verdict(v)
    settings = season.verification
    for code in codes[:3]:
        out = draw_spot_check(season, season.season, code, vstore=vstore, seeds=Seeds(), now=NOW)
        # the same draw as from the district's verdicts' models
        seed = f"spot-check-{season.season}-{code}"
        want = spotcheck.draw(
            reference,
            CITY_SYSTEM,
            season.season,
            code,
            settings.spot_check_rate,
            seed,
            NOW,
            minimum=settings.spot_check_minimum,
        )
        assert vstore.samples[(season.season, code)] == want
        assert out == {"district": code, "population": 30, "sampled": len(want.sample), "seed": seed}
    assert vstore.calls["verdict_facts"] == 3  # one district's listing each, no whole-season read
    # a rerun keeps the recorded sample, whatever seed it would draw now
    again = draw_spot_check(season, season.season, codes[0], vstore=vstore, seeds=NoSeeds(), now=NOW)
    assert again["seed"] == f"spot-check-{season.season}-{codes[0]}"
    with pytest.raises(NotFound):
        draw_spot_check(season, season.season, "nowhere", vstore=vstore, seeds=Seeds(), now=NOW)


def test_a_visit_answered_after_the_erasure_is_refused_not_a_crash(
    season: SeasonConfig, world: tuple[Registrations, CountingVerificationStore, Found]
) -> None:
    regs, vstore, _ = world
    # the registration as the erasure leaves it (docs/RETENTION.md): no form, no person
    erased = {k: v for k, v in regs.items["R-0000"].items() if k not in ("request", "child_key", "masked_id")}
    regs.items["R-0000"] = {**erased, "erased_at": "2024-04-01T02:30:00+08:00"}
    with pytest.raises(VisitRefused) as e:
        record_visit(season, "R-0000", True, "网格员", store=regs, vstore=vstore, now=NOW + timedelta(300))
    assert e.value.status == 409 and "保存期限" in e.value.message_zh
    assert vstore.calls["put_check"] == 0
