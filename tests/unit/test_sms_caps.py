"""The season's SMS caps (enrollment/core/sms_caps.py, issue 16) over an in-memory store: per phone
across registrations, per phone per day, the season's hourly circuit, notices counted but never
stopped. Synthetic people and phone numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from enrollment.core import sms_caps
from enrollment.core.config import SeasonConfig, SmsCaps, load_season
from enrollment.core.sms_caps import CircuitOpen, MinuteCount
from enrollment.notices.notice import render_each
from enrollment.notices.season import issue
from enrollment.people import parents
from enrollment.people.parents import CodeCaps, RateLimited
from tests.memory_sms_caps import MemorySmsCaps
from tests.unit.test_notice_speed_parity import Season
from tests.unit.test_parents import SECRET, MemoryStore, Outbox

T0 = datetime(2023, 6, 17, 12, 0, 30, tzinfo=UTC)
VICTIM = "17000009999"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def rid(i: int) -> str:
    return f"R-AAAA-BBBB-CCCC-DD{LETTERS[i // 32]}{LETTERS[i % 32]}"


class Family:
    """Codes asked for through `parents.request_code`, as the route asks, with one set of caps."""

    def __init__(self, limits: SmsCaps | None = None) -> None:
        self.store = MemoryStore()
        self.counts = MemorySmsCaps()
        self.caps = CodeCaps(limits or SmsCaps(), self.counts)
        self.outbox = Outbox()

    def ask(self, registration_id: str, phones: list[str] | None, at: datetime) -> parents.CodeSent:
        return parents.request_code(
            registration_id,
            phones,
            store=self.store,
            sms=self.outbox,
            secret=SECRET,
            caps=self.caps,
            now=at,
        )

    def to(self, phone: str) -> int:
        return sum(1 for p, _ in self.outbox.sent if p == phone)


# Configuration -------------------------------------------------------------------------------


def test_defaults_fit_a_city_of_sixty_thousand_and_are_validated() -> None:
    caps = SmsCaps()
    assert (caps.codes_per_phone_hour, caps.codes_per_phone_day, caps.codes_per_hour) == (6, 15, 10_000)
    assert caps.codes_per_phone_hour >= parents.SENDS_PER_WINDOW  # one child's own five still go
    with pytest.raises(ValidationError, match="codes_per_phone_day \\(3\\) is less than"):
        SmsCaps(codes_per_phone_hour=4, codes_per_phone_day=3)
    with pytest.raises(ValidationError, match="codes_per_hour"):
        SmsCaps(codes_per_hour=0)


def test_the_season_config_carries_the_caps() -> None:
    config = load_season("jilin-2023")
    assert config.sms == SmsCaps()
    raw = config.model_dump(mode="json")
    raw["sms"] = {"codes_per_phone_hour": 2, "codes_per_phone_day": 4, "codes_per_hour": 500}
    assert SeasonConfig.model_validate(raw).sms.codes_per_hour == 500
    raw["sms"]["unknown"] = 1
    with pytest.raises(ValidationError, match=r"sms\.unknown"):
        SeasonConfig.model_validate(raw)


# Per phone -----------------------------------------------------------------------------------


def test_one_phone_is_capped_across_every_registration_naming_it() -> None:
    # Given fake registrations that all name the victim's phone (and each its own second phone)
    family = Family()
    hourly = family.caps.limits.codes_per_phone_hour
    results = [
        family.ask(rid(i), [VICTIM, f"1700000{i:04d}"], T0 + timedelta(minutes=i)) for i in range(hourly + 3)
    ]
    # Then the victim gets only its hourly cap of codes; the other phones get theirs
    assert family.to(VICTIM) == hourly
    assert all(family.to(f"1700000{i:04d}") == 1 for i in range(hourly + 3))
    assert [r.capped for r in results[hourly:]] == [((sms_caps.PHONE, VICTIM),)] * 3
    assert all(r.sent == 1 for r in results[hourly:])  # and the request is not refused: no oracle
    # the phone is stored as a keyed hash only
    assert VICTIM not in repr(family.counts.phones)
    # An hour after its first code the victim's phone may get one again
    later = family.ask(rid(40), [VICTIM], T0 + timedelta(hours=1))
    assert later.sent == 1 and later.capped == ()


def test_a_phone_has_a_daily_cap_as_well() -> None:
    family = Family(SmsCaps(codes_per_phone_hour=3, codes_per_phone_day=5))
    at = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), T0 + timedelta(hours=2)]
    at += [T0 + timedelta(hours=2, minutes=1), T0 + timedelta(hours=5)]
    results = [family.ask(rid(i), [VICTIM], t) for i, t in enumerate(at)]
    # the third hour's first two go (3 in the first hour, then 2 more: 5 in the day); the sixth not
    assert [r.sent for r in results] == [1, 1, 1, 1, 1, 0]
    assert results[-1].capped == ((sms_caps.PHONE, VICTIM),)
    # a day after the first code, the oldest leaves the day's window
    assert family.ask(rid(9), [VICTIM], T0 + timedelta(days=1)).sent == 1


def test_a_capped_phone_still_counts_the_registrations_own_limit() -> None:
    # the per-registration limit (one a minute, five an hour) is not bypassed by the phone cap either
    family = Family(SmsCaps(codes_per_phone_hour=1, codes_per_phone_day=1))
    family.ask(rid(0), [VICTIM], T0)
    assert family.ask(rid(0), [VICTIM], T0 + timedelta(minutes=1)).capped == ((sms_caps.PHONE, VICTIM),)
    with pytest.raises(RateLimited):
        family.ask(rid(0), [VICTIM], T0 + timedelta(minutes=1, seconds=10))


def test_a_phone_hammered_by_concurrent_requests_is_skipped() -> None:
    counts = MemorySmsCaps(lose_phone_writes=sms_caps.RACES)
    key = sms_caps.phone_key(SECRET, VICTIM)
    assert not sms_caps.reserve_phone(SmsCaps(), key, store=counts, now=T0)
    counts.lose_phone_writes = sms_caps.RACES - 1
    assert sms_caps.reserve_phone(SmsCaps(), key, store=counts, now=T0)
    assert counts.phones[key].sends == (T0,)


# The season's hourly circuit -------------------------------------------------------------------


def test_the_circuit_opens_at_the_hourly_cap_for_every_id_alike() -> None:
    family = Family(SmsCaps(codes_per_hour=4))
    for i in range(4):
        assert family.ask(rid(i), [f"1700000{i:04d}"], T0 + timedelta(minutes=10 * i)).sent == 1
    at = T0 + timedelta(minutes=35)
    # Then every request is refused before anything is counted: an existing id and an unknown one
    for phones in ([VICTIM], None):
        with pytest.raises(CircuitOpen) as refused:
            family.ask(rid(20), phones, at)
        # the first code's minute (12:00) leaves the hour at 13:00, 24 min 30 s from 12:35:30
        assert refused.value.retry_after == 24 * 60 + 30 and refused.value.sent == 4
    assert family.store.code_record(rid(20)) is None  # its own limit untouched
    assert len(family.outbox.sent) == 4
    # When the first minute has left the window, codes go again (one more fits)
    assert family.ask(rid(20), [VICTIM], T0 + timedelta(hours=1)).sent == 1
    with pytest.raises(CircuitOpen):
        family.ask(rid(21), [VICTIM], T0 + timedelta(hours=1, minutes=1))


def test_the_window_slides_by_the_minute_and_says_when_it_drops_below_the_cap() -> None:
    limits = SmsCaps(codes_per_hour=10)
    now = T0  # 12:00:30
    minutes = sms_caps.window(now)
    assert len(minutes) == 60 and minutes[-1] == datetime(2023, 6, 17, 12, 0, tzinfo=UTC)
    assert minutes[0] == datetime(2023, 6, 17, 11, 1, tzinfo=UTC)
    counts = {
        minutes[0]: MinuteCount(minutes[0], 3, 0),  # 11:01
        minutes[5]: MinuteCount(minutes[5], 4, 900),  # 11:06, with notices that do not count
        minutes[-1]: MinuteCount(minutes[-1], 3, 0),
    }
    # 10 codes: open; 11:01 leaving (at 12:01) leaves 7 < 10
    assert sms_caps.circuit_wait(counts, limits, now) == 30
    counts[minutes[1]] = MinuteCount(minutes[1], 1, 0)  # 11 codes: 11:01 leaving leaves 8, fine
    assert sms_caps.circuit_wait(counts, limits, now) == 30
    assert sms_caps.circuit_wait(counts, SmsCaps(codes_per_hour=6), now) == 5 * 60 + 30  # 12:06
    assert sms_caps.circuit_wait(counts, SmsCaps(codes_per_hour=12), now) is None
    # a minute outside the window counts for nothing
    old = minutes[0] - timedelta(minutes=1)
    assert sms_caps.circuit_wait({old: MinuteCount(old, 99, 0)}, limits, now) is None


def test_the_current_minute_takes_only_what_the_hour_left() -> None:
    counts = MemorySmsCaps()
    limits = SmsCaps(codes_per_hour=5)
    earlier = sms_caps.minute_of(T0) - timedelta(minutes=30)
    counts.minutes[earlier] = MinuteCount(earlier, 4, 0)
    assert sms_caps.reserve_global(limits, store=counts, now=T0)
    assert not sms_caps.reserve_global(limits, store=counts, now=T0 + timedelta(seconds=5))
    assert counts.codes() == 5


def test_a_phone_past_a_concurrent_trip_is_skipped_not_refused() -> None:
    # the circuit was closed when the request came in, but the hour filled before its phones' turn
    family = Family(SmsCaps(codes_per_hour=1))
    sent = family.ask(rid(0), [VICTIM, "17000001111"], T0)
    assert sent.sent == 1 and sent.capped == ((sms_caps.GLOBAL, "17000001111"),)


# Notices ---------------------------------------------------------------------------------------


def test_notices_are_counted_but_never_stopped_by_a_cap() -> None:
    config = load_season("jilin-2023").model_copy(
        update={"sms": SmsCaps(codes_per_phone_hour=1, codes_per_phone_day=1, codes_per_hour=1)}
    )
    family = Family(config.sms)
    # Given the notices' phone is past its caps and the season's codes at their cap
    now = datetime(2023, 7, 6, 9, 0, tzinfo=config.tz)
    assert family.ask(rid(0), ["13800000000"], now - timedelta(minutes=5)).sent == 1
    with pytest.raises(CircuitOpen):
        family.ask(rid(1), ["13800000001"], now - timedelta(minutes=4))
    # When a batch of notices goes to that phone (every child of the test season names it)
    season = Season(config, {f"G1-CY-{i:06d}": "张小明" for i in range(3)})
    out = issue(
        config,
        config.season,
        list(season.names),
        registrations=season,  # type: ignore[arg-type]
        placements=season,
        secret=SECRET,
        store=season,
        files=season,
        sms=season,
        now=now,
        render_many=render_each,
        spend=family.counts,
    )
    # Then every notice went, and they are counted in the minute's SMS beside the codes
    assert out["issued"] == 3 and sum(1 for e in season.log if e[0] == "send") == 3
    assert family.counts.minutes[sms_caps.minute_of(now)].notices == 3
    assert family.counts.codes() == 1  # notices are not codes: the circuit measures codes only
    # and notices alone never open the circuit
    many = MemorySmsCaps()
    sms_caps.record_notices(60_000, store=many, now=now)
    sms_caps.check_circuit(SmsCaps(), store=many, now=now)
