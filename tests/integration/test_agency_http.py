"""The agency API adapter against the fake agency on loopback (docs/agency-api.yaml, issue 17).

Every fault the fake can show is met: nothing is taken from a bad answer, every good answer is kept,
a retry reuses its request id (and the agency answers it from what it decided), a wrong signature is
refused, and the circuit opens after failures in a row and closes when the agency is back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from enrollment.adapters.agency_http import AgencyKey, HttpAgency, key_from_secret
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import AgencyEndpoint, SeasonConfig
from enrollment.local.fake_agency import FakeAgency
from enrollment.verification.agency_api import (
    PATH,
    BatchRequest,
    CheckRequest,
    document,
    document_yaml,
    signature_problem,
    signed_headers,
)
from enrollment.verification.checks import Agencies, AgencyUnavailable, LocalRegistries
from enrollment.verification.registries import (
    DeedRecord,
    HukouRecord,
    PlanningRecord,
    RecordAddress,
    Registries,
)
from enrollment.verification.season import verify_batch
from tests.unit.test_verification_season import NOW, CountingVerificationStore, Found, Registrations, _items

ROOT = Path(__file__).resolve().parents[2]
KEY = AgencyKey("season-2023", b"k" * 40)
PEOPLE = 300  # one call asks about hundreds of children


def _registries() -> LocalRegistries:
    addr = RecordAddress(district="CY", road="松江路", number=3)
    return LocalRegistries(
        Registries(
            public_security=[
                HukouRecord(id_number=f"X{i:07d}", kind="hukou", address=addr, since=date(2015, 1, 1))
                for i in range(PEOPLE)
                if i % 10  # every tenth child has no record: a real "no-record" answer
            ],
            housing=[
                DeedRecord(
                    deed_number="JL-0001-01",
                    owner_id_numbers=["Y"],
                    address=addr,
                    registered_on=date(2019, 1, 1),
                )
            ],
            planning=[PlanningRecord(deed_number="JL-0001-01", planned_use="residential")],
        )
    )


LOCAL = _registries()


@pytest.fixture
def fake() -> Iterator[FakeAgency]:
    with FakeAgency(LOCAL, {KEY.key_id: KEY.key}, delay_s=0.6) as f:
        yield f


def _agency(fake: FakeAgency, key: AgencyKey = KEY, **settings: Any) -> tuple[HttpAgency, list[float]]:
    slept: list[float] = []
    endpoint = AgencyEndpoint(
        base_url=fake.base_url,
        credentials_secret_arn="arn:aws:secretsmanager:cn-north-1:1:secret:ps",
        **{"timeout_s": 0.3, "attempts": 3, "backoff_s": 0.1, **settings},
    )
    return HttpAgency("public-security", endpoint, key, sleep=slept.append, jitter=lambda cap: cap), slept


def _checks(n: int = PEOPLE) -> list[CheckRequest]:
    return [
        CheckRequest(check_id=f"R{i}", kind="hukou", id_type="resident-id", id_number=f"X{i:07d}")
        for i in range(n)
    ]


def _expected(check_id: str) -> tuple[str, dict[str, Any]]:
    a = LOCAL.lookup("resident-id", f"X{int(check_id[1:]):07d}")
    return a.reason, a.facts


def _assert_true_answers(answers: dict[str, Any]) -> None:
    for cid, a in answers.items():
        reason, facts = _expected(cid)
        assert a.reason == reason
        assert {k: v for k, v in a.facts.items() if k not in ("source", "answered_at")} == facts
        assert a.facts["source"] == "public-security:hukou-register"


def test_a_batch_is_answered_in_one_call_with_source_and_time(fake: FakeAgency) -> None:
    agency, slept = _agency(fake)
    answers = agency.ask(_checks(), request_id="req-00000001")
    assert len(answers) == PEOPLE and fake.calls == 1 and slept == []
    _assert_true_answers(answers)
    assert sum(a.reason == "no-record" for a in answers.values()) == PEOPLE // 10
    # the port's single calls go through the same contract
    assert agency.lookup("resident-id", "X0000001").facts["road"] == "松江路"
    assert agency.lookup("resident-id", "X0000000").reason == "no-record"


def test_down_until_a_simulated_time_drops_every_request_until_that_clock_gets_there() -> None:
    """The embedded runtime's outage of a simulated day: the fake follows the season's clock, not
    the wall clock, and answers with that clock's time once it is back."""
    sim = SimulatedClock(datetime(2023, 5, 30, tzinfo=UTC))
    with FakeAgency(LOCAL, {KEY.key_id: KEY.key}, clock=sim.now) as fake:
        fake.down_until(sim.now() + timedelta(days=1))
        agency, _ = _agency(fake, circuit_failures=100)
        with pytest.raises(AgencyUnavailable):
            agency.ask(_checks(5))
        assert fake.dropped == 3 and fake.answered == {}  # every attempt dropped, nothing answered
        sim.set(sim.now() + timedelta(hours=23, minutes=59))
        with pytest.raises(AgencyUnavailable):
            agency.ask(_checks(5))
        sim.set(sim.now() + timedelta(minutes=1))  # the day is over
        answers = agency.ask(_checks(5))
        assert len(answers) == 5 and fake.dropped == 6
        _assert_true_answers(answers)
        assert {a.facts["answered_at"] for a in answers.values()} == {"2023-05-31T00:00:00+00:00"}


def test_slow_within_the_timeout_is_answered(fake: FakeAgency) -> None:
    fake.fail("slow")
    agency, slept = _agency(fake, timeout_s=2)
    answers = agency.ask(_checks(20))
    assert len(answers) == 20 and slept == []
    _assert_true_answers(answers)


@pytest.mark.parametrize("fault", ["5xx", "timeout", "malformed", "down"])
def test_a_passing_fault_is_retried_with_backoff_and_the_same_request_id(
    fake: FakeAgency, fault: Any
) -> None:
    fake.fail(fault, times=2)
    agency, slept = _agency(fake)
    answers = agency.ask(_checks(), request_id="req-retried-1")
    assert fake.calls == 3
    assert slept == [0.1, 0.2]  # exponential; the jitter (here its cap) draws below it
    assert len(answers) == PEOPLE
    _assert_true_answers(answers)
    # the agency saw one request id; where it had already decided (timeout, malformed) it answered
    # the retry from that, not by asking its registers again
    assert set(fake.answered) == {"req-retried-1"}
    if fault == "malformed":
        assert fake.requests["req-retried-1"] == 3  # the first decision, answered twice more


@pytest.mark.parametrize("fault", ["5xx", "timeout", "malformed", "down"])
def test_a_lasting_fault_gives_no_answer_at_all(fake: FakeAgency, fault: Any) -> None:
    fake.fail(fault)
    agency, _ = _agency(fake)
    with pytest.raises(AgencyUnavailable):
        agency.ask(_checks(50))
    assert fake.calls == 3
    with pytest.raises(AgencyUnavailable):  # the port records nothing either: ask raises
        agency.lookup("resident-id", "X0000001")


def test_a_partial_answer_keeps_the_good_answers_and_leaves_the_rest_open(fake: FakeAgency) -> None:
    fake.fail("partial", times=1)
    agency, _ = _agency(fake)
    checks = _checks(100)
    first = agency.ask(checks)
    assert len(first) == 50
    _assert_true_answers(first)
    rest = [c for c in checks if c.check_id not in first]
    second = agency.ask(rest)  # asked again (a new request): the rest are answered
    assert set(first) | set(second) == {c.check_id for c in checks}
    _assert_true_answers(second)


def test_a_single_check_left_out_is_no_answer(fake: FakeAgency) -> None:
    agency, _ = _agency(fake)
    original = fake.answer

    def nothing_yet(request: BatchRequest, now: datetime) -> Any:
        return original(request, now).model_copy(update={"answers": []})

    fake.answer = nothing_yet  # type: ignore[method-assign]
    with pytest.raises(AgencyUnavailable, match="not answered yet"):
        agency.lookup("resident-id", "X0000001")
    assert agency.circuit.state == "closed"  # the agency answered well: it is not failing


def test_answers_for_another_request_or_unasked_checks_are_refused(fake: FakeAgency) -> None:
    agency, _ = _agency(fake, attempts=1)
    original = fake.answer

    def wrong(request: BatchRequest, now: datetime) -> Any:
        answer = original(request, now)
        return answer.model_copy(update={"request_id": "someone-else-1"})

    fake.answer = wrong  # type: ignore[method-assign]
    with pytest.raises(AgencyUnavailable, match="another request id"):
        agency.ask(_checks(5))

    def extra(request: BatchRequest, now: datetime) -> Any:
        answer = original(request, now)
        stray = answer.answers[0].model_copy(update={"check_id": "not-asked"})
        return answer.model_copy(update={"answers": [*answer.answers, stray]})

    fake.answer = extra  # type: ignore[method-assign]
    with pytest.raises(AgencyUnavailable, match="not asked"):
        agency.ask(_checks(5))


def test_a_wrong_signature_is_refused(fake: FakeAgency) -> None:
    agency, _ = _agency(fake, key=AgencyKey(KEY.key_id, b"x" * 40), attempts=2)
    with pytest.raises(AgencyUnavailable, match="HTTP 401"):
        agency.ask(_checks(5))
    assert fake.refused == [(401, "signature"), (401, "signature")] and fake.answered == {}
    unknown, _ = _agency(fake, key=AgencyKey("other", KEY.key), attempts=1)
    with pytest.raises(AgencyUnavailable, match="HTTP 401"):
        unknown.ask(_checks(5))


def test_the_signature_covers_method_path_time_and_body() -> None:
    keys = {KEY.key_id: KEY.key}
    now = datetime(2023, 5, 30, 9, tzinfo=UTC)
    body = b'{"a": 1}'
    h = signed_headers(KEY.key_id, KEY.key, "POST", PATH, body, now)
    assert signature_problem(keys, h, "POST", PATH, body, now) is None
    assert signature_problem(keys, h, "POST", PATH, b'{"a": 2}', now) == "signature does not match"
    assert signature_problem(keys, h, "POST", "/v1/other", body, now) == "signature does not match"
    assert signature_problem(keys, h, "PUT", PATH, body, now) == "signature does not match"
    late = now + timedelta(minutes=6)
    assert "skew" in str(signature_problem(keys, h, "POST", PATH, body, late))


def test_the_same_request_id_answers_the_same_and_another_body_is_refused(fake: FakeAgency) -> None:
    import urllib3

    def post(request: BatchRequest) -> urllib3.BaseHTTPResponse:
        body = request.model_dump_json().encode()
        headers = signed_headers(KEY.key_id, KEY.key, "POST", PATH, body, datetime.now(UTC))
        return urllib3.request("POST", fake.base_url + PATH, body=body, headers=headers)

    now = datetime.now(UTC)
    request = BatchRequest(
        request_id="req-same-0001", agency="public-security", sent_at=now, checks=_checks(10)
    )
    first, again = post(request), post(request)  # a retry: the same request, signed again later
    assert first.status == again.status == 200 and first.data == again.data
    assert fake.requests["req-same-0001"] == 2
    other = request.model_copy(update={"checks": _checks(11)})
    refused = post(other)
    assert refused.status == 409 and refused.json()["code"] == "request-id-reused"


def test_the_circuit_opens_after_failures_in_a_row_and_recovers(fake: FakeAgency) -> None:
    clock = [1000.0]
    endpoint = AgencyEndpoint(
        base_url=fake.base_url,
        credentials_secret_arn="arn:aws:secretsmanager:cn-north-1:1:secret:ps",
        timeout_s=1,
        attempts=1,
        circuit_failures=3,
        circuit_cooldown_s=30,
    )
    agency = HttpAgency("public-security", endpoint, KEY, sleep=lambda s: None, clock=lambda: clock[0])
    fake.fail("5xx")
    for _ in range(3):
        with pytest.raises(AgencyUnavailable, match="HTTP 503"):
            agency.ask(_checks(3))
    assert agency.circuit.state == "open" and fake.calls == 3
    with pytest.raises(AgencyUnavailable, match="circuit open"):
        agency.ask(_checks(3))
    assert fake.calls == 3  # not called while open
    clock[0] += 30
    assert agency.circuit.state == "half-open"
    with pytest.raises(AgencyUnavailable, match="HTTP 503"):  # the trial fails: open again
        agency.ask(_checks(3))
    assert agency.circuit.state == "open" and fake.calls == 4
    clock[0] += 30
    fake.fail(None)
    assert len(agency.ask(_checks(3))) == 3
    assert agency.circuit.state == "closed" and agency.circuit.failures == 0


def test_the_key_comes_from_secrets_manager() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="cn-north-1")
        arn = sm.create_secret(Name="agency/ps", SecretString=json.dumps({"key_id": "k1", "key": "s" * 32}))[
            "ARN"
        ]
        assert key_from_secret(arn, sm) == AgencyKey("k1", b"s" * 32)
        bad = sm.create_secret(Name="agency/bad", SecretString="not json")["ARN"]
        with pytest.raises(ValueError, match="JSON with key_id and key"):
            key_from_secret(bad, sm)
        short = sm.create_secret(Name="agency/short", SecretString=json.dumps({"key_id": "k", "key": "s"}))
        with pytest.raises(ValueError, match="shorter than 32"):
            key_from_secret(short["ARN"], sm)


def test_endpoint_settings_refuse_plain_http_off_this_machine() -> None:
    arn = "arn:aws:secretsmanager:cn-north-1:1:secret:ps"
    assert AgencyEndpoint(base_url="https://ps.example.cn/api", credentials_secret_arn=arn).kind == "api"
    AgencyEndpoint(base_url="http://127.0.0.1:8123", credentials_secret_arn=arn)
    with pytest.raises(ValidationError, match="string_pattern_mismatch"):
        AgencyEndpoint(base_url="http://ps.example.cn", credentials_secret_arn=arn)


def test_the_contract_refuses_bad_requests() -> None:
    with pytest.raises(ValidationError, match="needs id_type and id_number"):
        CheckRequest(check_id="a", kind="hukou", deed_number="D1")
    now = datetime(2023, 5, 30, tzinfo=UTC)
    two = [CheckRequest(check_id="a", kind="deed", deed_number="D1")] * 2
    with pytest.raises(ValidationError, match="unique"):
        BatchRequest(request_id="req-00000001", agency="housing", sent_at=now, checks=two)
    with pytest.raises(ValidationError, match="answers deed checks"):
        BatchRequest(request_id="req-00000001", agency="housing", sent_at=now, checks=_checks(1))


def test_docs_agency_api_yaml_is_current() -> None:
    import yaml

    committed = yaml.safe_load((ROOT / "docs" / "agency-api.yaml").read_text(encoding="utf-8"))
    assert committed == document(), "docs/agency-api.yaml is stale: run `make openapi`"
    assert yaml.safe_load(document_yaml()) == document()  # what `enroll agency-api` prints
    schemas = committed["components"]["schemas"]
    assert schemas["BatchRequest"]["required"] == ["request_id", "agency", "sent_at", "checks"]
    assert schemas["CheckAnswer"]["properties"]["reason"]["enum"] == ["found", "no-record"]


# Through the verification phase: nobody judged on a bad answer, every good answer kept ----------------


@pytest.mark.parametrize("fault", ["5xx", "timeout", "malformed", "down"])
def test_verification_judges_nobody_on_a_bad_answer_and_keeps_every_good_one(
    season: SeasonConfig, fault: Any
) -> None:
    regs = Registrations(_items(season, 12))
    found = Found(regs.items)
    ids = list(regs.items)
    with FakeAgency(found, {KEY.key_id: KEY.key}, delay_s=0.6) as fake:
        police, _ = _agency(fake, attempts=2)
        agencies = Agencies(police, found, found, found)
        vstore = CountingVerificationStore()
        fake.fail(fault)
        with pytest.raises(AgencyUnavailable):
            verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=agencies, now=NOW)
        assert not any(agency == "public-security" for _, agency in vstore.check_items)
        assert vstore.verdict_items == {}

        fake.fail(None)  # the agency is back: the batch asked again is answered in full
        verify_batch(season, ids, "ask", store=regs, vstore=vstore, agencies=agencies, now=NOW)
        police_checks = {rid: c for (rid, a), c in vstore.check_items.items() if a == "public-security"}
        assert set(police_checks) == set(ids)
        for rid, check in police_checks.items():
            expected = found.lookup("resident-id", regs.items[rid]["request"]["child"]["id_number"])
            assert check.status == "answered" and check.reason == expected.reason
            assert check.facts["source"] == "public-security:hukou-register"
            assert {
                k: v for k, v in check.facts.items() if k not in ("source", "answered_at")
            } == expected.facts

    # judged as the in-process agencies judge the same people
    local_store = CountingVerificationStore()
    verify_batch(season, ids, "ask", store=regs, vstore=local_store, agencies=found.agencies(), now=NOW)
    for key in list(local_store.check_items):
        if key[1] == "community":
            for store in (vstore, local_store):
                store.check_items[key] = store.check_items[key].model_copy(
                    update={"status": "answered", "reason": "lives-there", "facts": {"lives_there": True}}
                )
    for store, agencies_now in (
        (vstore, Agencies(found, found, found, found)),
        (local_store, found.agencies()),
    ):
        verify_batch(season, ids, "ask", store=regs, vstore=store, agencies=agencies_now, now=NOW)
    assert {r: v.status for r, v in vstore.verdict_items.items()} == {
        r: v.status for r, v in local_store.verdict_items.items()
    }
    assert len(vstore.verdict_items) == len(ids)


def test_the_season_config_chooses_each_agencys_adapter(season: SeasonConfig, monkeypatch: Any) -> None:
    import boto3
    from moto import mock_aws

    from enrollment.adapters.settings import Settings
    from enrollment.adapters.wiring import Wiring
    from enrollment.verification.checks import AgenciesNotConfigured, VisitsByCallback

    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="cn-north-1")
        secret = json.dumps({"key_id": "k1", "key": "s" * 32})
        arn = sm.create_secret(Name="agency/all", SecretString=secret)["ARN"]
        endpoint = {"base_url": "https://agency.example.cn/api", "credentials_secret_arn": arn}

        def wiring(named: tuple[str, ...]) -> Wiring:
            w = Wiring(
                Settings.model_validate({"SEASON_CONFIG": "seasons/jilin-2023.yaml", "TABLE_NAME": "t"})
            )
            verification = season.verification.model_copy(
                update={"agencies": {a: AgencyEndpoint.model_validate(endpoint) for a in named}}
            )
            w.__dict__["config"] = season.model_copy(update={"verification": verification})
            return w

        every = wiring(("public-security", "housing", "planning")).agencies
        assert (
            isinstance(every.public_security, HttpAgency)
            and every.public_security.agency == "public-security"
        )
        assert isinstance(every.housing, HttpAgency) and isinstance(every.planning, HttpAgency)
        assert every.planning.key == AgencyKey("k1", b"s" * 32)
        assert isinstance(every.community, VisitsByCallback)
        with pytest.raises(AgenciesNotConfigured, match="AGENCY_REGISTRIES"):
            _ = wiring(("housing",)).agencies  # the others have neither an API nor registries


def test_a_verification_batch_asks_the_api_in_one_call_and_a_partial_answer_loses_nobody(
    season: SeasonConfig,
) -> None:
    regs = Registrations(_items(season, 40))
    found = Found(regs.items)
    ids = list(regs.items)
    with FakeAgency(found, {KEY.key_id: KEY.key}) as fake:
        police, _ = _agency(fake)
        vstore = CountingVerificationStore()
        agencies = Agencies(police, found, found, found)
        verify_batch(season, ids[:20], "ask", store=regs, vstore=vstore, agencies=agencies, now=NOW)
        assert fake.calls == 1  # twenty children, one call
        fake.fail("partial", times=1)
        verify_batch(season, ids[20:], "ask", store=regs, vstore=vstore, agencies=agencies, now=NOW)
        assert fake.calls == 2 + 10  # the batch call answered half; the other ten asked one by one
    police_checks = {rid: c for (rid, a), c in vstore.check_items.items() if a == "public-security"}
    assert set(police_checks) == set(ids)
    assert all(c.status == "answered" and c.reason == "found" for c in police_checks.values())
