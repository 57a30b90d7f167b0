"""Parents' one-time SMS codes and sessions (enrollment/people/parents.py) over an in-memory store: R-DATA-2."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from enrollment.core.sms_templates import SmsMessage
from enrollment.people import parents
from enrollment.people.parents import AttemptRecord, CodeRecord, NotAuthenticated, ParentSession, RateLimited
from tests.memory_sms_caps import caps

SECRET = b"k" * 32
RID = "R-AAAA-BBBB-CCCC-DDDD"
OTHER = "R-EEEE-FFFF-GGGG-HHHH"
T0 = datetime(2023, 5, 20, 2, 0, tzinfo=UTC)


@dataclass
class MemoryStore:
    """The ParentStore port: versioned conditional writes, as the DynamoDB adapter does them."""

    codes: dict[str, CodeRecord] = field(default_factory=dict)
    sessions: dict[str, ParentSession] = field(default_factory=dict)
    tries: dict[tuple[str, str], AttemptRecord] = field(default_factory=dict)
    lose_next_write: bool = False

    def code_record(self, registration_id: str) -> CodeRecord | None:
        return self.codes.get(registration_id)

    def put_code_record(self, record: CodeRecord, expected_version: int | None) -> bool:
        current = self.codes.get(record.registration_id)
        if self.lose_next_write or (current.version if current else None) != expected_version:
            self.lose_next_write = False
            return False
        self.codes[record.registration_id] = record
        return True

    def put_session(self, session: ParentSession) -> None:
        self.sessions[session.token_hash] = session

    def session(self, token_hash: str) -> ParentSession | None:
        return self.sessions.get(token_hash)

    def end_session(self, token_hash: str) -> None:
        self.sessions.pop(token_hash, None)

    def attempts(self, scope: str, subject: str) -> AttemptRecord | None:
        return self.tries.get((scope, subject))

    def put_attempts(self, record: AttemptRecord, expected_version: int | None) -> bool:
        current = self.tries.get((record.scope, record.subject))
        if self.lose_next_write or (current.version if current else None) != expected_version:
            self.lose_next_write = False
            return False
        self.tries[(record.scope, record.subject)] = record
        return True


@dataclass
class Outbox:
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, message: SmsMessage) -> str:
        self.sent.append((phone, message.text))
        return f"m{len(self.sent)}"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def send(
    store: MemoryStore, at: datetime, code: str = "123456", rid: str = RID, phones: list[str] | None = None
) -> Outbox:
    outbox = Outbox()
    parents.request_code(
        rid,
        ["17000001234"] if phones is None else phones,
        store=store,
        sms=outbox,
        secret=SECRET,
        caps=caps(),
        now=at,
        code=code,
    )
    return outbox


def login(store: MemoryStore, code: str, at: datetime, rid: str = RID) -> str:
    token, _ = parents.open_session(rid, code, store=store, secret=SECRET, now=at)
    return token


# Codes: hashed, sent, expiring ------------------------------------------------------------------


def test_the_code_goes_by_sms_and_only_its_keyed_hash_is_stored(store: MemoryStore) -> None:
    outbox = send(store, T0, code="482913")
    [(phone, text)] = outbox.sent
    assert phone == "17000001234" and "482913" in text and RID in text
    record = store.codes[RID]
    assert record.code_hash is not None and "482913" not in record.code_hash
    # keyed: the same code under another secret, or for another registration, hashes differently
    assert record.code_hash == parents.keyed_hash(SECRET, "code", RID, "482913")
    assert record.code_hash != parents.keyed_hash(b"x" * 32, "code", RID, "482913")
    assert record.code_hash != parents.keyed_hash(SECRET, "code", OTHER, "482913")


def test_each_distinct_guardian_phone_gets_the_code_once(store: MemoryStore) -> None:
    outbox = send(store, T0, phones=["17000001234", "17000005678", "17000001234"])
    assert [p for p, _ in outbox.sent] == ["17000001234", "17000005678"]


def test_new_codes_are_six_random_digits() -> None:
    codes = {parents.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190  # random, not a counter or a constant


def test_a_code_expires_after_ten_minutes(store: MemoryStore) -> None:
    send(store, T0)
    with pytest.raises(NotAuthenticated):
        login(store, "123456", T0 + parents.CODE_TTL)
    send(store, T0 + timedelta(minutes=11), code="654321")
    assert login(store, "654321", T0 + timedelta(minutes=11) + parents.CODE_TTL - timedelta(seconds=1))


def test_a_code_is_single_use(store: MemoryStore) -> None:
    send(store, T0)
    assert login(store, "123456", T0 + timedelta(minutes=1))
    with pytest.raises(NotAuthenticated):
        login(store, "123456", T0 + timedelta(minutes=2))


def test_a_new_code_replaces_the_previous_one(store: MemoryStore) -> None:
    send(store, T0, code="111111")
    send(store, T0 + timedelta(minutes=2), code="222222")
    with pytest.raises(NotAuthenticated):
        login(store, "111111", T0 + timedelta(minutes=3))
    assert login(store, "222222", T0 + timedelta(minutes=3))


# Attempts ---------------------------------------------------------------------------------------


def test_four_wrong_tries_leave_the_code_usable(store: MemoryStore) -> None:
    send(store, T0)
    for n in range(parents.MAX_ATTEMPTS - 1):
        with pytest.raises(NotAuthenticated):
            login(store, f"00000{n}", T0 + timedelta(seconds=10 + n))
    assert login(store, "123456", T0 + timedelta(seconds=30))


def test_the_fifth_wrong_try_voids_the_code(store: MemoryStore) -> None:
    send(store, T0)
    for n in range(parents.MAX_ATTEMPTS):
        with pytest.raises(NotAuthenticated):
            login(store, f"00000{n}", T0 + timedelta(seconds=10 + n))
    assert store.codes[RID].code_hash is None
    with pytest.raises(NotAuthenticated):
        login(store, "123456", T0 + timedelta(seconds=30))  # the right code, too late


def test_a_try_that_loses_a_race_counts_as_wrong(store: MemoryStore) -> None:
    # Given two requests racing with the same right code: the other one wrote first
    send(store, T0)
    store.lose_next_write = True
    with pytest.raises(NotAuthenticated):
        login(store, "123456", T0 + timedelta(seconds=5))
    assert store.sessions == {}


# Rate limits, identical for ids that do not exist -----------------------------------------------


def test_one_code_a_minute(store: MemoryStore) -> None:
    send(store, T0)
    with pytest.raises(RateLimited) as refused:
        send(store, T0 + timedelta(seconds=20))
    assert refused.value.retry_after == 40
    send(store, T0 + timedelta(seconds=60))  # a minute later: fine


def test_five_codes_an_hour(store: MemoryStore) -> None:
    for n in range(parents.SENDS_PER_WINDOW):
        send(store, T0 + timedelta(minutes=2 * n))
    with pytest.raises(RateLimited) as refused:
        send(store, T0 + timedelta(minutes=30))
    assert refused.value.retry_after == 30 * 60  # until the first send is an hour old
    send(store, T0 + timedelta(hours=1))


@pytest.mark.parametrize("exists", [True, False])
def test_the_limit_is_the_same_whether_the_registration_exists(store: MemoryStore, exists: bool) -> None:
    outbox = Outbox()

    def request(at: datetime) -> None:
        phones = ["17000001234"] if exists else None
        parents.request_code(RID, phones, store=store, sms=outbox, secret=SECRET, caps=caps(), now=at)

    request(T0)
    with pytest.raises(RateLimited) as refused:
        request(T0 + timedelta(seconds=1))
    assert refused.value.retry_after == 59
    assert len(outbox.sent) == (1 if exists else 0)


def test_an_unknown_registration_has_no_code_to_guess(store: MemoryStore) -> None:
    parents.request_code(
        RID, None, store=store, sms=Outbox(), secret=SECRET, caps=caps(), now=T0, code="123456"
    )
    with pytest.raises(NotAuthenticated):
        login(store, "123456", T0 + timedelta(seconds=5))
    with pytest.raises(NotAuthenticated):
        login(store, "123456", T0 + timedelta(seconds=5), rid=OTHER)  # never asked for


def test_concurrent_sends_cannot_both_pass_the_limit(store: MemoryStore) -> None:
    send(store, T0)
    store.lose_next_write = True
    with pytest.raises(RateLimited):
        send(store, T0 + timedelta(minutes=5))


# Sessions ---------------------------------------------------------------------------------------


def test_a_session_opens_only_its_own_child(store: MemoryStore) -> None:
    send(store, T0)
    token = login(store, "123456", T0 + timedelta(seconds=10))
    header = f"Bearer {token}"
    at = T0 + timedelta(minutes=5)
    assert parents.authenticate(RID, header, store=store, secret=SECRET, now=at).registration_id == RID
    with pytest.raises(NotAuthenticated):
        parents.authenticate(OTHER, header, store=store, secret=SECRET, now=at)
    # the token itself is not stored, only its keyed hash
    assert token not in store.sessions and parents.token_hash(SECRET, token) in store.sessions


def test_a_session_expires_after_thirty_minutes(store: MemoryStore) -> None:
    send(store, T0)
    token = login(store, "123456", T0)
    header = f"Bearer {token}"
    parents.authenticate(
        RID, header, store=store, secret=SECRET, now=T0 + parents.SESSION_TTL - timedelta(seconds=1)
    )
    with pytest.raises(NotAuthenticated):
        parents.authenticate(RID, header, store=store, secret=SECRET, now=T0 + parents.SESSION_TTL)


def test_tokens_are_random_and_long(store: MemoryStore) -> None:
    tokens = set()
    for n in range(3):
        send(store, T0 + timedelta(minutes=2 * n))
        tokens.add(login(store, "123456", T0 + timedelta(minutes=2 * n, seconds=1)))
    assert len(tokens) == 3 and all(len(t) >= 40 for t in tokens)


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic abc", "bearer not-a-token", "Token xyz", "Bearer " + "a" * 300],
)
def test_anything_but_a_valid_bearer_token_is_refused_alike(store: MemoryStore, header: str | None) -> None:
    with pytest.raises(NotAuthenticated):
        parents.authenticate(RID, header, store=store, secret=SECRET, now=T0)


def test_the_bearer_scheme_is_case_insensitive(store: MemoryStore) -> None:
    send(store, T0)
    token = login(store, "123456", T0)
    assert parents.authenticate(RID, f"bearer {token}", store=store, secret=SECRET, now=T0)


def test_guardian_phones_come_from_the_registration() -> None:
    item = {"request": {"guardians": [{"phone": "17000001234"}, {"phone": "17000005678"}, {"name": "x"}]}}
    assert parents.guardian_phones(item) == ["17000001234", "17000005678"]
    # erased at the end of its retention period (docs/RETENTION.md): no phone, so no code is sent
    assert parents.guardian_phones({"registration_id": RID, "erased_at": "2024-04-01T02:30:00+08:00"}) == []


# Per-client limits and lockout ----------------------------------------------------------------

IP = "198.51.100.7"


def test_a_client_may_ask_for_so_many_codes_an_hour_then_is_locked_out(store: MemoryStore) -> None:
    for i in range(parents.CLIENT_CODE_REQUESTS):
        parents.count_code_request(IP, store=store, now=T0 + timedelta(minutes=i))
    at = T0 + timedelta(minutes=parents.CLIENT_CODE_REQUESTS)
    with pytest.raises(RateLimited) as refused:
        parents.count_code_request(IP, store=store, now=at)
    assert refused.value.lockout and refused.value.retry_after == parents.CLIENT_LOCKOUT.total_seconds()
    # locked: every proof is refused until the lockout ends, then the count starts afresh
    with pytest.raises(RateLimited):
        parents.admit(IP, store=store, now=at + parents.CLIENT_LOCKOUT - timedelta(seconds=1))
    parents.admit(IP, store=store, now=at + parents.CLIENT_LOCKOUT)
    parents.count_code_request(IP, store=store, now=at + parents.CLIENT_LOCKOUT)
    record = store.attempts(parents.CLIENT, IP)
    assert record is not None and record.lockouts == 1
    assert record.total_requests == parents.CLIENT_CODE_REQUESTS + 2
    # another client is not affected
    parents.count_code_request("203.0.113.9", store=store, now=at)


def test_so_many_failed_proofs_lock_a_client_out(store: MemoryStore) -> None:
    locked = [
        parents.count_failure(IP, f"R-AAAA-BBBB-CCCC-{i:04d}", store=store, now=T0 + timedelta(seconds=i))
        for i in range(parents.CLIENT_FAILURES)
    ]
    assert locked == [False] * (parents.CLIENT_FAILURES - 1) + [True]
    with pytest.raises(RateLimited) as refused:
        parents.admit(IP, store=store, now=T0 + timedelta(minutes=1))
    assert refused.value.lockout and 0 < refused.value.retry_after <= parents.CLIENT_LOCKOUT.total_seconds()
    # each registration id keeps its own count of failed proofs (for staff), and is never locked
    first = store.attempts(parents.REGISTRATION, "R-AAAA-BBBB-CCCC-0000")
    assert first is not None and first.total_failures == 1 and first.locked_until is None


def test_failures_older_than_the_window_do_not_count(store: MemoryStore) -> None:
    for i in range(parents.CLIENT_FAILURES - 1):
        assert not parents.count_failure(IP, RID, store=store, now=T0 + timedelta(seconds=i))
    later = T0 + parents.CLIENT_WINDOW + timedelta(seconds=parents.CLIENT_FAILURES)
    assert not parents.count_failure(IP, RID, store=store, now=later)
    record = store.attempts(parents.REGISTRATION, RID)
    assert (
        record is not None and record.total_failures == parents.CLIENT_FAILURES and len(record.failures) == 1
    )


def test_a_count_that_loses_a_race_is_retried(store: MemoryStore) -> None:
    store.lose_next_write = True
    parents.count_code_request(IP, store=store, now=T0)
    record = store.attempts(parents.CLIENT, IP)
    assert record is not None and record.total_requests == 1
