"""The verification phase's AWS calls on moto (issue 14): a batch reads its registrations and their
cases in batches, never one GetItem or Query per registration; a retried batch writes nothing; the
home-visit deadline reads only the cases still open; a community answer is read once."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import Population, generate
from enrollment.verification import spotcheck
from enrollment.verification.checks import LocalRegistries, checks_needed, is_complete, verdict
from enrollment.verification.season import close_visits, draw_spot_check, record_visit, summary, verify_batch

pytestmark = pytest.mark.xdist_group("moto-verification-calls")

REGISTRATIONS = 150


class Calls:
    """DynamoDB operations the adapters send, counted with a botocore event hook on their clients."""

    def __init__(self, *tables: Any) -> None:
        self.count: Counter[str] = Counter()
        for t in tables:
            t.resource.meta.client.meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.count[model.name] += 1

    def take(self) -> Counter[str]:
        taken, self.count = self.count, Counter()
        return taken


def _item(config: SeasonConfig, n: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "registration_id": f"R-CALLS-{n:04d}",
        "season": config.season,
        "grade": body["grade"],
        "category": body["category"],
        "district": body["home_address"]["district"],
        "target_school": body.get("private_school_id"),
        "special_claims": body.get("special_claims", []),
        "request": body,
    }


@pytest.fixture(scope="module")
def population(season: SeasonConfig) -> Population:
    return generate(season, 200, seed=14)


@pytest.fixture
def stored(
    embedded: EmbeddedSeason, season: SeasonConfig, population: Population
) -> tuple[DynamoStore, DynamoVerificationStore, list[dict[str, Any]], Calls]:
    store, vstore = DynamoStore(embedded.table_name), DynamoVerificationStore(embedded.table_name)
    valid = [s.body for s in population.submissions if s.intent == "valid"][:REGISTRATIONS]
    assert len(valid) == REGISTRATIONS
    items = [_item(season, n, body) for n, body in enumerate(valid)]
    for i in items:
        store.create_registration(i)
    return store, vstore, items, Calls(store, vstore)


def _now(config: SeasonConfig) -> datetime:
    return config.day_start(config.calendar.verification.start) + timedelta(hours=10)


def test_a_batch_reads_in_batches_and_a_retry_writes_nothing(
    stored: tuple[DynamoStore, DynamoVerificationStore, list[dict[str, Any]], Calls],
    season: SeasonConfig,
    population: Population,
) -> None:
    store, vstore, items, calls = stored
    ids = [str(i["registration_id"]) for i in items]
    agencies = LocalRegistries(population.registries).agencies()
    keys = sum(len(checks_needed(i)) + 1 for i in items)  # each case's checks and its verdict
    calls.take()

    done = verify_batch(season, ids, "ask", store=store, vstore=vstore, agencies=agencies, now=_now(season))

    first = calls.take()
    # one read of the registrations and one of the cases (100 keys a call): no read per registration
    assert first["BatchGetItem"] == math.ceil(REGISTRATIONS / 100) + math.ceil(keys / 100)
    assert first["GetItem"] == 0 and first["Query"] == 0
    # each answer and each verdict is one conditional put; nothing else is written
    assert done["asked"] == sum(len(checks_needed(i)) for i in items)
    assert 0 < done["judged"] < REGISTRATIONS  # the home visits are pending
    visits = sum("community" in checks_needed(i) for i in items)
    # and each requested home visit is one put more: the community office's worklist (issue 17)
    assert first["PutItem"] == done["asked"] + done["judged"] + visits
    assert set(first) == {"BatchGetItem", "PutItem"}
    # the verdicts are the rules' over what is stored
    for i in items:
        rid = str(i["registration_id"])
        stored_checks = vstore.checks(rid)
        v = vstore.verdict(rid)
        if is_complete(i, stored_checks):
            assert v is not None and v == verdict(season, i, stored_checks, v.decided_at)
        else:
            assert v is None
    calls.take()

    # When the batch is retried, nothing is asked and nothing is written again
    again = verify_batch(
        season, ids, "ask", store=store, vstore=vstore, agencies=agencies, now=_now(season) + timedelta(1)
    )
    assert again == {"registrations": REGISTRATIONS, "asked": 0, "judged": done["judged"]}
    retry = calls.take()
    assert retry["PutItem"] == 0 and set(retry) == {"BatchGetItem"}


def test_the_home_visit_deadline_reads_only_the_open_cases(
    stored: tuple[DynamoStore, DynamoVerificationStore, list[dict[str, Any]], Calls],
    season: SeasonConfig,
    population: Population,
) -> None:
    store, vstore, items, calls = stored
    ids = [str(i["registration_id"]) for i in items]
    local = LocalRegistries(population.registries)
    now = _now(season)
    done = verify_batch(season, ids, "ask", store=store, vstore=vstore, agencies=local.agencies(), now=now)
    pending = [rid for rid in ids if any(c.status == "pending" for c in vstore.checks(rid))]
    open_keys = sum(len(checks_needed(i)) + 1 for i in items if str(i["registration_id"]) in pending[1:])
    assert len(pending) == REGISTRATIONS - done["judged"] > 1

    # A community office answers one visit: one read of the registration, one of the case, two writes
    # and the visit taken off its worklist
    answered, still_open = pending[0], pending[1:]
    calls.take()
    out = record_visit(season, answered, True, "网格员", store=store, vstore=vstore, now=now + timedelta(2))
    assert out == {"registration_id": answered, "judged": True}
    assert calls.take() == Counter({"GetItem": 1, "BatchGetItem": 1, "PutItem": 2, "DeleteItem": 1})

    list(store.registrations(season.season))
    listing = calls.take()["Query"]  # the season's registrations: one index query (or one per shard)

    # At the deadline the open visits are closed and their cases judged, without a read per registration
    deadline = now + timedelta(days=10)
    result = close_visits(season, season.season, store=store, vstore=vstore, now=deadline)
    closing = calls.take()
    assert result["visits_closed"] == len(still_open)
    assert result["verdicts"] == REGISTRATIONS
    assert closing["GetItem"] == 0
    assert closing["BatchGetItem"] == math.ceil(open_keys / 100)  # only the open cases are read
    # the verdicts listed (before, and for the summary) and the registrations: no query per case
    assert closing["Query"] == 2 + listing
    assert closing["PutItem"] == 2 * len(still_open)  # each visit closed, each case judged
    assert closing["DeleteItem"] == len(still_open)  # and taken off its district's worklist
    assert all(not list(vstore.open_visits(season.season, d)) for d in season.district_index)
    for rid in still_open:
        community = next(c for c in vstore.checks(rid) if c.agency == "community")
        assert community.status == "not-confirmed"
        v = vstore.verdict(rid)
        assert v is not None and "visit-not-confirmed" in v.reasons
    calls.take()

    # A second run finds nothing open: no case is read, nothing written
    again = close_visits(season, season.season, store=store, vstore=vstore, now=deadline)
    assert again["visits_closed"] == 0 and again["verdicts"] == REGISTRATIONS
    rerun = calls.take()
    assert rerun == Counter({"Query": 2 + listing})


def test_a_districts_spot_check_reads_its_verdicts_ids_once_and_draws_as_from_the_models(
    stored: tuple[DynamoStore, DynamoVerificationStore, list[dict[str, Any]], Calls],
    season: SeasonConfig,
    population: Population,
) -> None:
    store, vstore, items, calls = stored
    ids = [str(i["registration_id"]) for i in items]
    now = _now(season)
    local = LocalRegistries(population.registries)
    verify_batch(season, ids, "ask", store=store, vstore=vstore, agencies=local.agencies(), now=now)
    district = Counter(str(i["district"]) for i in items).most_common(1)[0][0]
    models = [v.registration_id for v in vstore.verdicts(season.season, district)]
    assert models

    class Seeds:
        def new_seed(self, purpose: str) -> str:
            return "0" * 31 + str(len(purpose) % 10)

    calls.take()
    out = draw_spot_check(season, season.season, district, vstore=vstore, seeds=Seeds(), now=now)
    # one listing of the district's verdicts (a page here), the sample looked up, written once
    assert calls.take() == Counter({"Query": 1, "GetItem": 1, "PutItem": 1})
    recorded = vstore.spot_check_sample(season.season, district)
    settings = season.verification
    expected = spotcheck.draw_sample(
        season.season,
        district,
        models,
        settings.spot_check_rate,
        out["seed"],
        minimum=settings.spot_check_minimum,
    )
    assert recorded is not None and recorded.same_draw(
        expected.model_copy(update={"drawn_by": recorded.drawn_by})
    )
    assert out == {
        "district": district,
        "population": len(models),
        "sampled": expected.size,
        "seed": out["seed"],
    }
    # the final record counts the same verdicts the models hold
    final = summary(season, vstore, season.season)
    assert final["verdicts"] == len(vstore.verdicts(season.season))
    assert final["by_district"][district] == dict(
        Counter(v.status for v in vstore.verdicts(season.season, district))
    )
