"""The verification phase in moto's engine: Distributed Map over batches, home visits, review, spot-check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enrollment.adapters.wiring import wiring
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import Population, generate
from enrollment.verification.checks import Faulty
from tests.integration.conftest import registered_season, table_items

pytestmark = pytest.mark.xdist_group("moto-verification-phase")


@pytest.fixture(scope="module")
def population(season: SeasonConfig) -> Population:
    return generate(season, 90, seed=3)


@pytest.fixture
def registered(season: SeasonConfig, population: Population) -> Iterator[EmbeddedSeason]:
    """A season whose registrations are in and whose workflow waits at the grade-1 gate's deadline."""
    with registered_season(season, population) as (rt, _):
        yield rt


def test_every_registration_is_verified_reviewed_and_spot_checked(
    registered: EmbeddedSeason, season: SeasonConfig
) -> None:
    result = drive.run_verification(registered, season, reviews_per_district=3)
    done = registered.wait_for_end(timeout=600)
    assert done["status"] == "SUCCEEDED", done
    final = registered.state_output("SummarizeVerification")["phases"]["verification_final"]["outcome"]
    registrations = registered.state_output("PrepareVerification")["verification"]["registrations"]
    # Then every registration has a verdict, and the failing facts carry their reasons (R-VER-1)
    assert final["verdicts"] == registrations > 60
    assert {"eligible", "not-eligible"} <= set(final["by_status"])
    assert {"deed-after-cutoff", "not-residential", "deed-address-mismatch"} & set(final["by_reason"])
    # home visits answered by the community through the callback; late ones closed at the deadline
    assert result["visits"]["answered"] > 0
    closed = registered.state_output("CloseHomeVisits")["phases"]["verification"]["outcome"]["visits_closed"]
    assert closed == result["visits"]["late"] + (
        result["visits"]["requested"] - result["visits"]["answered"] - result["visits"]["late"]
    )
    # staff signed cases (R-VER-3) and the city recorded a spot-check of every sampled case (R-VER-5)
    assert final["signed"] == result["reviews"]["signed"] > 0
    assert result["spot_check"]["recorded"] == result["spot_check"]["sampled"] > 0


def test_district_staff_cannot_read_or_sign_another_districts_cases(
    registered: EmbeddedSeason, season: SeasonConfig
) -> None:
    registered.wait_for_gate("home-visits", timeout=600)  # the Map is slow on a busy 2-core machine
    drive.run_home_visits(registered)
    registered.advance_clock(season.day_end(season.calendar.home_visits.end))
    registered.wait_for_gate("review", timeout=600)
    cy = drive.member(registered, "district", "CY").principal
    ch = drive.member(registered, "district", "CH").principal
    status, queue = drive.call(
        registered, "GET", f"/admin/verification/{season.season}/districts/CH/queue", None, cy
    )
    assert status == 403 and "仅限本区" in queue["message"]
    _, ch_queue = drive.call(
        registered, "GET", f"/admin/verification/{season.season}/districts/CH/queue", None, ch
    )
    case = ch_queue["cases"][0]["registration_id"]
    path = f"/admin/verification/{season.season}/registrations/{case}/decisions"
    status, _ = drive.call(
        registered, "POST", path, {"action": "override", "outcome": "eligible", "reason": "越权"}, cy
    )
    assert status == 403
    status, _ = drive.call(
        registered, "GET", f"/admin/verification/{season.season}/registrations/{case}/history", None, cy
    )
    assert status == 403
    auditor = drive.member(registered, "auditor").principal
    assert drive.call(registered, "POST", path, {"action": "confirm", "reason": "看看"}, auditor)[0] == 403
    # the district's own reviewer signs; the history keeps who, when and why, in order
    assert (
        drive.call(
            registered,
            "POST",
            path,
            {"action": "override", "outcome": "eligible", "reason": "核验原件属实"},
            ch,
        )[0]
        == 201
    )
    _, hist = drive.call(
        registered, "GET", f"/admin/verification/{season.season}/registrations/{case}/history", None, ch
    )
    assert [(d["actor"], d["reason"]) for d in hist["decisions"]] == [(ch, "核验原件属实")]


def test_a_transient_agency_failure_is_retried_and_a_persistent_one_goes_to_review(
    registered: EmbeddedSeason, season: SeasonConfig
) -> None:
    # Given housing fails twice (the ASL retries) and planning never answers
    agencies = wiring().agencies
    housing, planning = Faulty(agencies.housing, 2), Faulty(agencies.planning, -1)
    agencies.housing, agencies.planning = housing, planning
    registered.wait_for_gate("home-visits", timeout=600)
    # Then housing answered every deed after its retries; planning's checks are unanswered, for review
    assert housing.calls > 2
    items = table_items(registered)
    deeds = [i for i in items if i["sk"] == "CHECK#housing"]
    plans = [i for i in items if i["sk"] == "CHECK#planning"]
    assert deeds and all(i["status"] == "answered" for i in deeds)
    assert plans and all(i["status"] == "unanswered" for i in plans)
    # and no check was written twice: one per registration and agency
    keys = [(i["pk"], i["sk"]) for i in items if str(i["sk"]).startswith("CHECK#")]
    assert len(keys) == len(set(keys))


def test_the_community_office_lists_its_own_districts_open_visits_and_an_answer_takes_one_off(
    registered: EmbeddedSeason, season: SeasonConfig
) -> None:
    """Issue 17: the worklist through the agency route, as the office's system calls it (SigV4)."""
    registered.wait_for_gate("home-visits", timeout=600)
    cy = drive.member(registered, "community", "CY").principal
    ch = drive.member(registered, "community", "CH").principal
    city_wide = drive.member(registered, "community").principal
    status, mine = drive.call(registered, "GET", "/agency/community/visits", None, cy)
    assert status == 200 and mine["district"] == "CY" and mine["visits"], mine
    registrations = {str(i["registration_id"]): i for i in table_items(registered) if i["sk"] == "REG"}
    assert all(registrations[v["registration_id"]]["district"] == "CY" for v in mine["visits"])
    deadline = season.day_end(season.calendar.home_visits.end).isoformat()
    assert all(v["deadline"] == deadline and v["address"] for v in mine["visits"])
    # another district's list is not the office's, nor are its visits to answer: 403, nothing stored
    status, refused = drive.call(
        registered, "GET", "/agency/community/visits", None, cy, query={"district": "CH"}
    )
    assert status == 403 and refused["message"]
    _, theirs = drive.call(registered, "GET", "/agency/community/visits", None, ch)
    assert theirs["visits"] and not {v["registration_id"] for v in theirs["visits"]} & {
        v["registration_id"] for v in mine["visits"]
    }
    before = sorted(table_items(registered), key=lambda i: (str(i["pk"]), str(i["sk"])))
    other = theirs["visits"][0]["registration_id"]
    answer = {"registration_id": other, "lives_there": True, "visited_on": "2023-06-12", "visitor": "网格员"}
    status, _ = drive.call(registered, "POST", "/agency/community/visits", answer, cy)
    assert status == 403
    assert sorted(table_items(registered), key=lambda i: (str(i["pk"]), str(i["sk"]))) == before
    # bureau staff do not take the office's list; a city-wide office names the district, paged
    staff = drive.member(registered, "district", "CY").principal
    assert drive.call(registered, "GET", "/agency/community/visits", None, staff)[0] == 403
    status, named = drive.call(registered, "GET", "/agency/community/visits", None, city_wide)
    assert status == 422 and named["errors"][0]["field"] == "district"
    status, page = drive.call(
        registered, "GET", "/agency/community/visits", None, city_wide, query={"district": "CY", "limit": "1"}
    )
    assert status == 200 and page["visits"] == mine["visits"][:1]
    assert page["next"] == (mine["visits"][0]["registration_id"] if len(mine["visits"]) > 1 else None)
    # the office answers one: it leaves the list, the others stay
    first = mine["visits"][0]["registration_id"]
    answer = {"registration_id": first, "lives_there": True, "visited_on": "2023-06-12", "visitor": "网格员"}
    assert drive.call(registered, "POST", "/agency/community/visits", answer, cy)[0] == 201
    _, after = drive.call(registered, "GET", "/agency/community/visits", None, cy)
    assert [v["registration_id"] for v in after["visits"]] == [
        v["registration_id"] for v in mine["visits"][1:]
    ]
