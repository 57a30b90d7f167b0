"""Issue 17's done-when: the workflow waits out an agency's outage instead of failing its checks.

Public security and housing answer over the agency API (enrollment/adapters/agency_http.py) from the
fake agencies the embedded runtime starts on loopback; planning exchanges files (docs/AGENCY-FILES.md):
the workflow writes its round, and its clerk answers the round and uploads the answer file through the
city bureau's console routes while the workflow waits. Housing goes down when verification starts:
for a simulated day (longer than any retry), after which the re-ask loop of the ASL asks again and
every check is answered, with the very verdicts of a run without the outage; or past the
verification deadline, after which its checks are unanswered and their cases go to review, nobody
lost and nobody judged on an answer that never came.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import Population, generate
from tests.integration.conftest import at, table_items

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("agency-outage")]

APPLICANTS, SEED = 80, 17
DEED_REASONS = {"deed-not-found", "deed-address-mismatch", "deed-after-cutoff", "not-residential"}
DEED_FACTS = {"deed-in-zone", "hukou-deed-match"}


@pytest.fixture(scope="module")
def population(season: SeasonConfig) -> Population:
    return generate(season, APPLICANTS, seed=SEED)


@dataclass
class Run:
    """What a run left at the home-visits gate and, after the home visits, at the review gate."""

    registrations: set[str] = field(default_factory=set)
    at_gate: list[dict[str, Any]] = field(default_factory=list)  # the table at the home-visits gate
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # at the review gate
    checks: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # at the review gate
    gate_clock: datetime | None = None
    states: Counter[str] = field(default_factory=Counter)  # states entered, from the history
    dropped: dict[str, int] = field(default_factory=dict)  # requests each fake agency dropped
    files: list[dict[str, Any]] = field(default_factory=list)  # the files clerk's uploads' reports


def _run(config: SeasonConfig, population: Population, housing_down_until: datetime | None = None) -> Run:
    start = at(config, f"{config.calendar.grade7_registration.start} 08:00")
    with EmbeddedSeason(config, SimulatedClock(start), registries=population.registries) as rt:
        agencies = rt.config.verification
        assert set(agencies.agency_apis()) == {"public-security", "housing"}
        assert set(agencies.agency_files()) == {"planning"}
        if housing_down_until is not None:  # nothing asks an agency before verification starts
            rt.agency_servers["housing"].down_until(housing_down_until)
        rt.start()
        rt.wait_for_gate("grade7-registration")
        drive.register_valid(rt, population)
        rt.wait_for_gate("home-visits", timeout=drive.WAIT_S)
        run = Run(gate_clock=rt.clock.now(), at_gate=table_items(rt))
        run.registrations = {str(i["registration_id"]) for i in run.at_gate if i["sk"] == "REG"}
        drive.run_home_visits(rt)
        rt.advance_clock(config.day_end(config.calendar.home_visits.end))
        rt.wait_for_gate("review", timeout=drive.WAIT_S)
        for item in table_items(rt):
            if item["sk"] == "VERDICT":
                run.verdicts[str(item["registration_id"])] = item
            elif str(item["sk"]).startswith("CHECK#"):
                run.checks[(str(item["registration_id"]), str(item["agency"]))] = item
        run.states = Counter(
            e["stateEnteredEventDetails"]["name"] for e in rt.history() if "stateEnteredEventDetails" in e
        )
        run.dropped = {a: s.dropped for a, s in rt.agency_servers.items()}
        run.files = list(rt.clerk.answered.values())
    return run


def _outcomes(run: Run) -> dict[str, tuple[str, tuple[str, ...], str | None]]:
    return {
        rid: (str(v["status"]), tuple(v.get("reasons") or ()), v.get("zone_id"))
        for rid, v in run.verdicts.items()
    }


def test_a_day_long_housing_outage_costs_time_not_verdicts(
    season: SeasonConfig, population: Population
) -> None:
    plain = _run(season, population)
    verification_starts = season.day_start(season.calendar.verification.start)
    outage = _run(season, population, housing_down_until=verification_starts + timedelta(days=1))

    # The outage happened, for longer than the retries: the first round left housing unanswered,
    # the workflow waited in simulated time and asked again until housing was back
    assert outage.dropped["housing"] > 0 and outage.dropped["public-security"] == 0
    assert plain.dropped == {"public-security": 0, "housing": 0}
    assert outage.states["WaitToAskAgain"] >= 4, outage.states  # a day, every 6 hours
    assert outage.states["VerifyRegistrations"] == outage.states["WaitToAskAgain"] + 1
    assert outage.states["CloseAgencyChecks"] == 0
    assert outage.gate_clock is not None and outage.gate_clock >= verification_starts + timedelta(days=1)
    # without it, the workflow waited once: for planning's answer file, which its clerk sent meanwhile
    assert plain.states["WaitToAskAgain"] == 1 and plain.states["FindOpenAgencyChecks"] == 2
    assert plain.states["VerifyRegistrations"] == 1  # nothing to ask again: the Map is not run

    # Planning answered by file, one round, every row recorded, none refused
    for run in (plain, outage):
        assert [(r["agency"], r["problems"]) for r in run.files] == [("planning", [])]
        planning = [c for (_, agency), c in run.checks.items() if agency == "planning"]
        assert planning and run.files[0]["recorded"] == len(planning)
        assert all(c["status"] == "answered" for c in planning)

    # Every agency check answered, none left unanswered, and the very verdicts of the plain run
    agency_checks = {k: c for k, c in outage.checks.items() if k[1] != "community"}
    assert agency_checks and all(c["status"] == "answered" for c in agency_checks.values())
    assert {k: c["reason"] for k, c in agency_checks.items()} == {
        k: c["reason"] for k, c in plain.checks.items() if k[1] != "community"
    }
    assert set(outage.verdicts) == outage.registrations == plain.registrations
    assert _outcomes(outage) == _outcomes(plain)
    assert len(plain.verdicts) > 60


def test_an_agency_down_past_the_deadline_leaves_its_checks_to_review(
    season: SeasonConfig, population: Population
) -> None:
    # asked again once a day (the loop stays short), down until after verification has ended
    daily = season.verification.model_copy(update={"reask_every_hours": 24})
    config = season.model_copy(update={"verification": daily})
    deadline = config.day_end(config.calendar.verification.end)
    run = _run(config, population, housing_down_until=deadline + timedelta(days=2))

    # The workflow asked again until the deadline, then closed the agency checks and went on
    assert run.states["WaitToAskAgain"] >= 10 and run.states["CloseAgencyChecks"] == 1
    assert run.gate_clock == deadline

    # Every housing check is unanswered: none was judged on an answer that never came
    deeds = {rid: c for (rid, agency), c in run.checks.items() if agency == "housing"}
    assert deeds and all(c["status"] == "unanswered" for c in deeds.values())

    # Nobody lost at the home-visits gate: every registration has a verdict or an open visit
    verdicts = {str(i["registration_id"]) for i in run.at_gate if i["sk"] == "VERDICT"}
    visits = {
        str(i["registration_id"])
        for i in run.at_gate
        if i["sk"] == "CHECK#community" and i["status"] == "pending"
    }
    assert verdicts | visits == run.registrations and not verdicts & visits

    # and after the home visits, each case without its deed check is in review for it, with no
    # reason or fact the deed would have given
    for rid in deeds:
        v = run.verdicts[rid]
        assert "agency-unanswered" in v["reasons"], v
        assert not DEED_REASONS & set(v["reasons"]) and not DEED_FACTS & set(v.get("facts") or {}), v
        review_only = {"agency-unanswered", "visit-not-confirmed", "priority-not-verified"}
        assert v["status"] == ("review" if set(v["reasons"]) <= review_only else "not-eligible"), v
    assert set(run.verdicts) == run.registrations
