"""Asking again (issue 17): an agency that stayed down is asked again until the verification deadline;
what it answers replaces the provisional review, what it never answers goes to review then."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.core.resources import STATE_MACHINE_FILE
from enrollment.verification.checks import Agencies, AgencyUnavailable, Answer
from enrollment.verification.season import (
    batches_key,
    close,
    close_agency_checks,
    find_open_checks,
    verification_deadline,
    verify_batch,
)
from enrollment.verification.verdicts import Check
from tests.unit.test_verification_season import CountingVerificationStore, Found, Registrations, _items

START = datetime(2023, 5, 30, 0, 30, tzinfo=UTC)


class Work:
    bucket = "work"

    def __init__(self) -> None:
        self.files: dict[str, Any] = {}

    def put_json(self, key: str, value: Any) -> None:
        self.files[key] = value


class Down:
    """An agency that does not answer."""

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Answer:
            raise AgencyUnavailable(f"{name}: down")

        return refuse


def _private(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Private-school applicants: public security is their only check, so a verdict needs no visit."""
    return [{**i, "category": "private"} for i in items]


def _answered_visits(vstore: CountingVerificationStore) -> None:
    for (rid, agency), c in list(vstore.check_items.items()):
        if agency == "community":
            answered = {"status": "answered", "reason": "lives-there", "facts": {"lives_there": True}}
            vstore.check_items[(rid, agency)] = c.model_copy(update=answered)


def test_an_answer_after_the_outage_replaces_the_provisional_review(season: SeasonConfig) -> None:
    regs = Registrations(_private(_items(season, 6)))
    vstore, found, ids = CountingVerificationStore(), Found(regs.items), list(regs.items)
    down = Agencies(Down(), found, found, found)
    # public security stayed down through the retries: unanswered, the cases provisionally in review
    verify_batch(season, ids, "mark-unanswered", store=regs, vstore=vstore, agencies=down, now=START)
    assert {(v.status, tuple(v.reasons)) for v in vstore.verdict_items.values()} == {
        ("review", ("agency-unanswered",))
    }
    # still down at the first re-ask: nothing is written again
    vstore.calls.clear()
    later = START + timedelta(hours=6)
    verify_batch(season, ids, "mark-unanswered", store=regs, vstore=vstore, agencies=down, now=later)
    assert vstore.calls["put_check"] == 0 and vstore.calls["put_verdict"] == 0
    # back the next day: the answers replace the unanswered checks and the cases are judged again
    back = START + timedelta(days=1)
    done = verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=back)
    assert done["asked"] == 6 and done["judged"] == 6
    assert all(c.status == "answered" for c in vstore.check_items.values())
    assert {v.status for v in vstore.verdict_items.values()} == {"eligible"}
    assert all(v.decided_at == back and not v.reasons for v in vstore.verdict_items.values())


def test_the_open_cases_are_written_to_ask_again_until_the_deadline(season: SeasonConfig) -> None:
    regs = Registrations(_items(season, 10))
    vstore, found, work, ids = CountingVerificationStore(), Found(regs.items), Work(), list(regs.items)
    # housing down for the whole first round: deeds unanswered; visits requested (not agency checks)
    housing_down = Agencies(found, Down(), found, found)
    verify_batch(season, ids, "mark-unanswered", store=regs, vstore=vstore, agencies=housing_down, now=START)
    with_deed = [rid for rid in ids if (rid, "housing") in vstore.check_items]
    assert with_deed and len(with_deed) < len(ids)
    # one deed's housing answer came, its planning check awaits an answer file (another adapter's
    # pending check): open, but not asked again (the file answers it)
    awaited, with_deed = with_deed[0], with_deed[1:]
    vstore.check_items[(awaited, "housing")] = vstore.check_items[(awaited, "housing")].model_copy(
        update={"status": "answered", "reason": "found"}
    )
    vstore.check_items[(awaited, "planning")] = Check(
        registration_id=awaited, agency="planning", status="pending", asked_at=START, reason="file-requested"
    )

    found_open = find_open_checks(season, season.season, store=regs, vstore=vstore, work=work, now=START)
    assert found_open["open"] == len(with_deed) + 1 and found_open["awaited"] == 1
    assert found_open["registrations"] == len(with_deed) and not found_open["deadline_reached"]
    assert work.files[batches_key(season.season)] == [{"registration_ids": sorted(with_deed)}]
    assert found_open["next_try"] == "2023-05-30T06:30:00Z"  # every 6 hours (the default), in UTC

    # the last try is at the deadline itself, and then the deadline is reached
    deadline = verification_deadline(season)
    assert deadline == datetime(2023, 6, 10, tzinfo=season.tz)
    near = deadline - timedelta(hours=2)
    last = find_open_checks(season, season.season, store=regs, vstore=vstore, work=work, now=near)
    assert last["next_try"] == "2023-06-09T16:00:00Z" and not last["deadline_reached"]
    assert find_open_checks(season, season.season, store=regs, vstore=vstore, work=work, now=deadline)[
        "deadline_reached"
    ]

    # housing answers: only the awaited file is open, and nothing is to be asked again
    verify_batch(season, with_deed, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=near)
    after = find_open_checks(season, season.season, store=regs, vstore=vstore, work=work, now=near)
    assert (after["open"], after["batches"]) == (1, 0)
    assert work.files[batches_key(season.season)] == []
    # home visits are never an agency's open check
    vstore.check_items[(awaited, "planning")] = vstore.check_items[(awaited, "housing")].model_copy(
        update={"agency": "planning"}
    )
    assert (
        find_open_checks(season, season.season, store=regs, vstore=vstore, work=work, now=near)["open"] == 0
    )


def test_at_the_deadline_an_awaited_answer_closes_unanswered_and_the_case_is_judged(
    season: SeasonConfig,
) -> None:
    regs = Registrations(_items(season, 5))
    vstore, found, ids = CountingVerificationStore(), Found(regs.items), list(regs.items)
    verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=START)
    _answered_visits(vstore)
    rid = ids[0]
    vstore.check_items[(rid, "planning")] = Check(
        registration_id=rid, agency="planning", status="pending", asked_at=START, reason="file-requested"
    )
    verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=found.agencies(), now=START)
    assert rid not in vstore.verdict_items and len(vstore.verdict_items) == 4

    deadline = verification_deadline(season)
    closed = close(season, season.season, "agencies", store=regs, vstore=vstore, now=deadline)
    assert closed == {"agency_checks_closed": 1, "judged": 1}
    check = vstore.check_items[(rid, "planning")]
    assert (check.status, check.reason, check.asked_at) == ("unanswered", "deadline-passed", START)
    verdict = vstore.verdict_items[rid]
    assert verdict.status == "review" and verdict.reasons == ["agency-unanswered"]
    # run again (a retried task): nothing more to close
    again = close_agency_checks(season, season.season, store=regs, vstore=vstore, now=deadline)
    assert again == {"agency_checks_closed": 0, "judged": 0}


def test_a_case_a_person_signed_is_not_asked_again(season: SeasonConfig) -> None:
    regs = Registrations(_private(_items(season, 2)))
    vstore, found, work, ids = CountingVerificationStore(), Found(regs.items), Work(), list(regs.items)
    down = Agencies(Down(), found, found, found)
    verify_batch(season, ids, "mark-unanswered", store=regs, vstore=vstore, agencies=down, now=START)
    signed = vstore.verdict_items[ids[0]].model_copy(
        update={"decided_by": "district-1", "status": "eligible"}
    )
    vstore.verdict_items[ids[0]] = signed
    found_open = find_open_checks(season, season.season, store=regs, vstore=vstore, work=work, now=START)
    assert work.files[batches_key(season.season)] == [{"registration_ids": [ids[1]]}]
    assert found_open["open"] == 1


@pytest.mark.parametrize("hours", [0, 73])
def test_the_re_ask_interval_is_bounded(season: SeasonConfig, hours: int) -> None:
    raw = season.model_dump(mode="json")
    raw["verification"]["reask_every_hours"] = hours
    with pytest.raises(ValueError, match="reask_every_hours"):
        SeasonConfig.model_validate(raw)


def test_the_workflow_asks_again_after_a_wait_until_nothing_is_open_or_the_deadline() -> None:
    states = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))["States"]
    assert states["VerifyRegistrations"]["Next"] == "FindOpenAgencyChecks"
    find = states["FindOpenAgencyChecks"]
    assert find["Parameters"] == {
        "FunctionName": "${VerifyPrepareFunctionArn}",
        "Payload": {"season": "${Season}", "step": "reask"},
    }
    # its answer is where the Map reads its batches: the same Map asks again
    assert find["ResultPath"] == "$.verification" and find["Next"] == "AgencyChecksOpen"
    reader = states["VerifyRegistrations"]["ItemReader"]["Parameters"]
    assert (reader["Bucket.$"], reader["Key.$"]) == ("$.verification.bucket", "$.verification.key")
    assert set(find["ResultSelector"]) >= {"bucket.$", "key.$", "max_concurrency.$", "open.$", "next_try.$"}
    choice = states["AgencyChecksOpen"]
    assert [(c["Variable"], c["Next"]) for c in choice["Choices"]] == [
        ("$.verification.open", "HomeVisitsGate"),
        ("$.verification.deadline_reached", "CloseAgencyChecks"),
    ]
    wait = states[choice["Default"]]
    assert wait["Type"] == "Wait" and wait["TimestampPath"] == "$.verification.next_try"
    again = states[wait["Next"]]
    assert again["Choices"][0]["Next"] == "FindOpenAgencyChecks" and again["Default"] == "VerifyRegistrations"
    close_ = states["CloseAgencyChecks"]
    assert close_["Parameters"]["Payload"] == {"season": "${Season}", "step": "agencies"}
    assert close_["Next"] == "HomeVisitsGate" and close_["ResultPath"] != "$.verification"


def test_a_wait_moves_the_simulated_clock_forward_only_in_its_own_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    sim = SimulatedClock(datetime(2023, 5, 30, 8, tzinfo=shanghai))
    assert sim.advance_to(datetime(2023, 5, 30, 6, tzinfo=UTC)) == datetime(2023, 5, 30, 14, tzinfo=shanghai)
    assert sim.now().tzinfo is shanghai
    assert sim.advance_to(datetime(2023, 5, 30, 1, tzinfo=UTC)) == datetime(2023, 5, 30, 14, tzinfo=shanghai)
