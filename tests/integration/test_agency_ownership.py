"""Housing's ownership answer over the agency API (docs/agency-api.yaml, issue 17 "Ownership").

The fake agency on loopback answers a deed check that names people with whether any of them owns the
deed (`owner_match`, `owners_matched`), never with the owners' ID numbers; the adapter refuses a found
deed's answer that leaves ownership out, so nobody is judged on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date

import pytest

from enrollment.adapters.agency_http import AgencyKey, HttpAgency
from enrollment.core.config import AgencyEndpoint
from enrollment.local.fake_agency import FakeAgency
from enrollment.verification.agency_api import CheckRequest
from enrollment.verification.checks import AgencyUnavailable, Answer, LocalRegistries
from enrollment.verification.registries import DeedRecord, RecordAddress, Registries

KEY = AgencyKey("season-2023", b"k" * 40)
FATHER, MOTHER, GRANDMOTHER, CHILD = "F0000001", "M0000001", "G0000001", "C0000001"
ADDRESS = RecordAddress(district="CY", road="松江路", number=3)
LOCAL = LocalRegistries(
    Registries(
        housing=[
            DeedRecord(
                deed_number="JL-0001-01",
                owner_id_numbers=[GRANDMOTHER, FATHER],  # co-owned
                address=ADDRESS,
                registered_on=date(2019, 1, 1),
            ),
            DeedRecord(
                deed_number="JL-0002-01",
                owner_id_numbers=[GRANDMOTHER],
                address=ADDRESS,
                registered_on=date(2019, 1, 1),
            ),
        ]
    )
)


class Forgetful(LocalRegistries):
    """A housing register that answers deeds but ignores whom it was asked about."""

    def deed(self, deed_number: str, owner_id_numbers: Sequence[str] = ()) -> Answer:
        return super().deed(deed_number)


def _housing(fake: FakeAgency) -> HttpAgency:
    endpoint = AgencyEndpoint(
        base_url=fake.base_url,
        credentials_secret_arn="arn:aws:secretsmanager:cn-north-1:1:secret:housing",
        timeout_s=2,
        attempts=2,
        backoff_s=0.01,
    )
    return HttpAgency("housing", endpoint, KEY, sleep=lambda s: None, jitter=lambda cap: 0)


@pytest.fixture
def fake() -> Iterator[FakeAgency]:
    with FakeAgency(LOCAL, {KEY.key_id: KEY.key}) as f:
        yield f


def test_housing_answers_whether_the_named_people_own_the_deed_never_who(fake: FakeAgency) -> None:
    housing = _housing(fake)
    answers = housing.ask(
        [
            CheckRequest(
                check_id="a", kind="deed", deed_number="JL-0001-01", owner_id_numbers=[MOTHER, FATHER, CHILD]
            ),
            CheckRequest(
                check_id="b", kind="deed", deed_number="JL-0002-01", owner_id_numbers=[MOTHER, FATHER, CHILD]
            ),
            CheckRequest(check_id="c", kind="deed", deed_number="JL-0002-01"),
        ]
    )
    co_owned, grandmothers, unasked = answers["a"].facts, answers["b"].facts, answers["c"].facts
    assert (co_owned["owner_match"], co_owned["owners_matched"], co_owned["owners"]) == (True, 1, 2)
    assert (grandmothers["owner_match"], grandmothers["owners_matched"]) == (False, 0)
    assert "owner_match" not in unasked and unasked["owners"] == 1
    # the wire carried the people asked about, and the answers name nobody
    body, answer = next(iter(fake.answered.values()))
    assert FATHER in body.decode() and GRANDMOTHER not in answer.decode()
    # the port's single call asks the same way
    assert housing.deed("JL-0002-01", [GRANDMOTHER]).facts["owner_match"] is True


def test_prefetched_answers_are_kept_apart_for_different_people(fake: FakeAgency) -> None:
    housing = _housing(fake)
    # two families state the same deed: each is answered about its own guardians
    asked = [
        CheckRequest(check_id="x", kind="deed", deed_number="JL-0001-01", owner_id_numbers=[FATHER]),
        CheckRequest(check_id="y", kind="deed", deed_number="JL-0001-01", owner_id_numbers=[MOTHER]),
    ]
    assert housing.prefetch(asked) == 2 and fake.calls == 1
    assert housing.deed("JL-0001-01", [MOTHER]).facts["owner_match"] is False
    assert housing.deed("JL-0001-01", [FATHER]).facts["owner_match"] is True
    assert fake.calls == 1


def test_a_found_deed_without_its_ownership_is_malformed_and_judges_nobody() -> None:
    with FakeAgency(Forgetful(LOCAL.registries), {KEY.key_id: KEY.key}) as fake:
        housing = _housing(fake)
        with pytest.raises(AgencyUnavailable, match="ownership"):
            housing.deed("JL-0001-01", [FATHER])
        assert fake.calls == 2  # retried, then given up: the check stays open
        # a deed check that names nobody needs no ownership in its answer
        assert json.dumps(housing.deed("JL-0001-01").facts).count("owner_match") == 0
