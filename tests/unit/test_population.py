"""The synthetic population (enrollment.synth.population) and the agencies' registries."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from enrollment.core import idcard
from enrollment.core.config import SeasonConfig
from enrollment.registration.form import (
    RegistrationRefused,
    RegistrationRequest,
    check_registration,
    parse_request,
)
from enrollment.synth import population
from enrollment.synth.population import BAD_KINDS, Population, Submission, generate
from enrollment.verification.registries import Registries

APPLICANTS = 6000  # a city-size sample: private choices concentrate on a few known schools


@pytest.fixture(scope="module")
def config(season: SeasonConfig) -> SeasonConfig:
    return season  # tests/conftest.py loads seasons/jilin-2023.yaml once per session


@pytest.fixture(scope="module")
def pop(config: SeasonConfig) -> Population:
    return generate(config, APPLICANTS, seed=11)


@pytest.fixture(scope="module")
def valid(pop: Population) -> list[Submission]:
    return [s for s in pop.submissions if s.intent == "valid"]


def _dump(p: Population) -> tuple[list[dict[str, object]], dict[str, object]]:
    return [s.to_json() for s in p.submissions], p.registries.model_dump(mode="json")


def test_deterministic_for_the_same_seed_and_different_for_another(config: SeasonConfig) -> None:
    a, b, c = generate(config, 300, 5), generate(config, 300, 5), generate(config, 300, 6)
    assert _dump(a) == _dump(b)
    assert _dump(a)[0] != _dump(c)[0]
    assert _dump(a)[1] != _dump(c)[1]


def test_count_shares_and_windows(config: SeasonConfig, pop: Population, valid: list[Submission]) -> None:
    assert len(pop.submissions) == APPLICANTS
    grades = Counter(s.grade for s in valid)
    assert 0.55 < grades[1] / len(valid) < 0.65
    categories = Counter(s.body["category"] for s in valid)
    assert 0.14 <= categories["private"] / len(valid) <= 0.20
    assert categories["ethnic"] > 0
    assert categories["specialised"] > 0
    assert all(s.grade == 7 for s in valid if s.body["category"] == "specialised")
    for s in pop.submissions:
        window = config.calendar.registration_window(s.grade)
        assert window.start <= s.submit_day <= window.end  # R-REG-1
        assert s.body["grade"] == s.grade
    days = [s.submit_day for s in pop.submissions]
    assert days == sorted(days)


def test_every_valid_body_is_accepted(config: SeasonConfig, valid: list[Submission]) -> None:
    for s in valid:
        req = RegistrationRequest.model_validate(s.body)
        now = config.day_start(s.submit_day) + timedelta(hours=9)
        assert check_registration(req, config, now) == [], s.body
        if req.child.id_type == "resident-id":
            parsed = idcard.parse(req.child.id_number)
            assert (parsed.birth_date, parsed.sex) == (req.child.birth_date, req.child.sex)
        else:
            assert req.child.nationality not in (None, "CHN")  # R-FOREIGN-1
    assert sum(s.body["child"]["id_number"].endswith("X") for s in valid) > 0


def test_each_bad_kind_is_present_with_its_rule(config: SeasonConfig, pop: Population) -> None:
    small = generate(config, 200, seed=3)
    for p in (small, pop):
        kinds = Counter(s.intent for s in p.submissions if s.intent != "valid")
        assert set(kinds) == set(BAD_KINDS)
        assert 0.02 * len(p.submissions) <= sum(kinds.values()) <= 0.04 * len(p.submissions)
        for s in p.submissions:
            assert s.expected_rule == BAD_KINDS.get(s.intent)


def _refusal_rules(config: SeasonConfig, s: Submission) -> set[str]:
    try:
        req = parse_request(s.body)
    except RegistrationRefused as e:
        return {v.rule for v in e.violations}
    now = config.day_start(s.submit_day) + timedelta(hours=9)
    return {v.rule for v in check_registration(req, config, now)}


def test_bad_submissions_are_refused_for_their_rule(config: SeasonConfig, pop: Population) -> None:
    for s in pop.submissions:
        if s.intent in ("bad-check-character", "under-age", "forbidden-field"):
            assert _refusal_rules(config, s) == {s.expected_rule}, s.intent
    forbidden = [s.body for s in pop.submissions if s.intent == "forbidden-field"]
    assert any("income" in b["guardians"][0] for b in forbidden)
    assert any("guardian_income" in b for b in forbidden)
    young = [s.body["child"]["birth_date"] for s in pop.submissions if s.intent == "under-age"]
    assert (config.age_cutoff + timedelta(days=1)).isoformat() in young  # the day after: too young
    on_cutoff = [s for s in pop.submissions if s.body["child"]["birth_date"] == config.age_cutoff.isoformat()]
    assert on_cutoff
    assert all(s.intent != "under-age" for s in on_cutoff)  # the cut-off day itself is included


def test_duplicates_follow_an_accepted_body_in_another_category(pop: Population) -> None:
    # R-REG-2: the server sees the first body (accepted) before the second (refused)
    first_seen: dict[str, Submission] = {}
    for s in pop.submissions:
        child_id = s.body["child"]["id_number"]
        if s.intent == "duplicate":
            first = first_seen[child_id]
            assert first.intent == "valid"
            assert first.body["category"] != s.body["category"]
            assert first.body["child"] == s.body["child"]
            assert RegistrationRequest.model_validate(s.body)  # well-formed: refused only as a duplicate
        elif s.intent == "valid":
            first_seen.setdefault(child_id, s)


def test_refused_attempts_are_sometimes_retried_corrected(pop: Population) -> None:
    by_child: dict[str, list[str]] = defaultdict(list)
    for s in pop.submissions:
        by_child[s.body["child"]["id_number"][:17]].append(s.intent)
    assert any(i[:2] == ["bad-check-character", "valid"] for i in by_child.values())
    assert any(i[:2] == ["forbidden-field", "valid"] for i in by_child.values())


def test_synthetic_contacts_and_people(valid: list[Submission]) -> None:
    phones = [g["phone"] for s in valid for g in s.body["guardians"]]
    assert all(re.fullmatch(r"17[01]\d{8}", p) for p in phones)
    names = Counter(s.body["child"]["name"] for s in valid)
    assert len(names) > 0.5 * len(valid)
    ids = [s.body["child"]["id_number"] for s in valid]
    assert len(set(ids)) == len(ids)
    foreign = [s.body["child"] for s in valid if s.body["child"]["id_type"] == "passport"]
    assert foreign
    assert {c["nationality"] for c in foreign} <= {"KOR", "RUS", "JPN"}
    claims = Counter(c for s in valid for c in s.body.get("special_claims", []))
    assert set(claims) == {"military", "police-merit", "introduced-talent", "disability", "defer-health"}
    assert sum(claims.values()) < 0.06 * len(valid)
    migrants = [s for s in valid if s.body["residence"]["basis"] == "residence-permit"]
    assert 0.07 < len(migrants) / len(valid) < 0.13
    migrant_areas = {
        s.body["child"]["id_number"][:6] for s in migrants if s.body["child"]["id_type"] != "passport"
    }
    assert any(not a.startswith("2202") for a in migrant_areas)
    grade7 = [s for s in valid if s.grade == 7]
    assert all(s.body["primary_school"] for s in grade7)


def test_multi_school_zone_preferences(config: SeasonConfig, valid: list[Submission]) -> None:
    in_multi = ranked = 0
    for s in valid:
        home = s.body["home_address"]
        zone = config.zone_for(s.grade, home["road"], home["number"])
        if s.body["category"] == "public" and zone is not None and zone.multi_school:
            in_multi += 1
            if s.body.get("school_preferences"):
                ranked += 1
                assert sorted(s.body["school_preferences"]) == sorted(zone.schools)
    assert 0.35 < ranked / in_multi < 0.65
    outside = sum(
        config.zone_for(s.grade, s.body["home_address"]["road"], s.body["home_address"]["number"]) is None
        for s in valid
    )
    assert 0 < outside < 0.15 * len(valid)  # mostly inside zones


def test_private_schools_oversubscribed_also_from_other_districts(
    config: SeasonConfig, valid: list[Submission]
) -> None:
    applicants: Counter[tuple[str, int]] = Counter()
    others: Counter[tuple[str, int]] = Counter()
    for s in valid:
        if s.body["category"] != "private":
            continue
        school = config.school_index[s.body["private_school_id"]]
        assert school.kind == "private"
        assert school.plan(s.grade) > 0  # R-REG-3
        applicants[(school.id, s.grade)] += 1
        if s.body["home_address"]["district"] != school.district:
            assert school.cross_district_approved  # R-LOT-4
            others[(school.id, s.grade)] += 1
    over = [k for k, n in applicants.items() if n > config.school_index[k[0]].plan(k[1])]
    assert len(over) >= 2
    assert any(others[k] > 0 for k in over)
    assert any(n <= config.school_index[k[0]].plan(k[1]) for k, n in applicants.items())  # R-LOT-1 too


def test_registries_cover_every_valid_applicant(pop: Population, valid: list[Submission]) -> None:
    reg = pop.registries
    deeds = unknown = mismatched = 0
    for s in valid:
        body = s.body
        child_id = body["child"]["id_number"]
        hukou = reg.hukou(child_id)
        assert hukou is not None
        assert hukou.kind == body["residence"]["basis"]
        if hukou.kind == "residence-permit":
            assert hukou.permit_number == body["residence"]["residence_permit_number"]
        residence = reg.residence(child_id)
        assert residence is not None
        assert residence.address.key == (
            body["home_address"]["district"],
            body["home_address"]["road"],
            body["home_address"]["number"],
        )
        prop = body["residence"].get("property")
        if prop:
            deeds += 1
            deed = reg.deed(prop["deed_number"])
            if deed is None:
                unknown += 1  # 弄虚作假: verification must catch it (R-VER-4)
                continue
            planning = reg.planned_use(deed.deed_number)
            assert planning is not None
            assert planning.address == deed.address
            if hukou.kind == "hukou" and deed.address.key != hukou.address.key:
                mismatched += 1  # 房户不一致
    assert deeds > 0.6 * len(valid)
    assert 0 < unknown < 0.03 * deeds
    assert 0.02 * deeds < mismatched < 0.2 * deeds


def test_registries_hold_the_hard_cases(config: SeasonConfig, pop: Population) -> None:
    reg = pop.registries
    cutoff = config.property_cutoff
    registered = [d.registered_on for d in reg.housing]
    assert any(r > cutoff for r in registered)
    assert cutoff in registered  # on the cut-off day: not before it (R-VER-1)
    assert cutoff - timedelta(days=1) in registered
    assert sum(r < cutoff for r in registered) > 0.8 * len(registered)
    uses = Counter(p.planned_use for p in reg.planning)
    assert uses["commercial"] > 0
    assert uses["residential"] > 0.9 * len(reg.planning)
    assert any(not r.lives_there for r in reg.community)
    late = config.calendar.home_visits.end - config.calendar.home_visits.start
    assert any(r.visit_delay_days > late.days for r in reg.community)
    assert all(d.owner_id_numbers for d in reg.housing)
    for d in reg.housing[:200]:
        for owner in d.owner_id_numbers:
            idcard.parse(owner)


def test_write_and_load(tmp_path: Path, config: SeasonConfig) -> None:
    p = generate(config, 250, seed=2)
    p.write(tmp_path)
    assert Registries.load(tmp_path) == p.registries
    assert population.load_submissions(tmp_path / population.SUBMISSIONS_FILE) == p.submissions
    for name in ("public-security.jsonl", "housing.jsonl", "planning.jsonl", "community.jsonl"):
        assert (tmp_path / name).stat().st_size > 0


def test_command_line(tmp_path: Path) -> None:
    population.main(["--config", "jilin-2023", "--applicants", "220", "--seed", "7", "--out", str(tmp_path)])
    lines = (tmp_path / "submissions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 220
    first = json.loads(lines[0])
    assert set(first) == {"grade", "submit_day", "intent", "expected_rule", "body"}
    assert Registries.load(tmp_path).public_security


def test_deeds_are_the_guardians_but_for_a_few_in_a_grandparents_name(
    pop: Population, valid: list[Submission]
) -> None:
    """R-VER-1 owner-not-guardian occurs: most deeds are owned by a guardian the form names (or the
    child), a small share by a grandparent who is not a named guardian; the form says which."""
    reg = pop.registries
    theirs = not_theirs = 0
    for s in valid:
        body = s.body
        prop = body["residence"].get("property")
        deed = reg.deed(prop["deed_number"]) if prop else None
        if deed is None:
            continue
        guardians = {g["relationship"]: g["id_number"] for g in body["guardians"]}
        for g in body["guardians"]:
            assert g["id_type"] == ("passport" if body["child"]["id_type"] == "passport" else "resident-id")
            if g["id_type"] == "resident-id":
                idcard.parse(g["id_number"])
        family = {*guardians.values(), body["child"]["id_number"]}
        if family & set(deed.owner_id_numbers):
            theirs += 1
            stated = prop["owner"]
            owner = body["child"]["id_number"] if stated == "本人" else guardians[stated]
            assert owner in deed.owner_id_numbers  # the form names an actual owner
        else:
            not_theirs += 1
            assert prop["owner"] in ("祖父", "祖母", "外祖父", "外祖母")
            assert prop["owner"] not in guardians
    assert 0.01 * (theirs + not_theirs) < not_theirs < 0.06 * (theirs + not_theirs)
