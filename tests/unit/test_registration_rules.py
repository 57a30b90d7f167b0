"""Registration rules as pure functions: R-REG-1 windows, R-AGE-1, R-DATA-1, R-ID-1, R-REG-3."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.registration.form import (
    FORBIDDEN_FIELDS,
    RegistrationRefused,
    check_registration,
    parse_request,
    window_open,
)
from tests.support import child_id, valid_body


def local(config: SeasonConfig, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=config.tz)


@pytest.mark.parametrize(
    ("grade", "when", "is_open"),
    [
        (7, "2023-05-12 23:59:59", False),
        (7, "2023-05-13 00:00:00", True),
        (7, "2023-05-19 23:59:59", True),
        (7, "2023-05-20 00:00:00", False),
        (1, "2023-05-19 23:59:59", False),
        (1, "2023-05-20 00:00:00", True),
        (1, "2023-05-29 23:59:59", True),
        (1, "2023-05-30 00:00:00", False),
    ],
)
def test_window_edges_in_asia_shanghai(season: SeasonConfig, grade: int, when: str, is_open: bool) -> None:
    assert window_open(season, grade, local(season, when)) is is_open  # type: ignore[arg-type]


def test_window_edges_are_local_not_utc(season: SeasonConfig) -> None:
    # 2023-05-19 16:00 UTC is midnight 20 May in Asia/Shanghai: grade 7 has closed
    assert window_open(season, 7, datetime(2023, 5, 19, 15, 59, 59, tzinfo=UTC))
    assert not window_open(season, 7, datetime(2023, 5, 19, 16, 0, 0, tzinfo=UTC))


def test_a_recorded_extension_moves_the_last_day(season: SeasonConfig) -> None:
    late = local(season, "2023-05-31 10:00:00")
    assert not window_open(season, 1, late)
    assert window_open(season, 1, late, extended_to=date(2023, 5, 31))


@pytest.mark.parametrize(
    ("born", "rule"),
    [("2017-08-31", None), ("2017-09-01", "R-AGE-1"), ("2016-09-01", None)],
)
def test_age_cutoff_day_and_the_day_after(season: SeasonConfig, born: str, rule: str | None) -> None:
    assert season.age_cutoff == date(2017, 8, 31)
    birth = date.fromisoformat(born)
    req = parse_request(valid_body(season, child__birth_date=born, child__id_number=child_id(season, birth)))
    found = [v.rule for v in check_registration(req, season, local(season, "2023-05-21 09:00"))]
    assert found == ([rule] if rule else [])


@pytest.mark.parametrize("field", sorted(FORBIDDEN_FIELDS))
def test_each_forbidden_field_is_refused_by_name(season: SeasonConfig, field: str) -> None:
    body = valid_body(season)
    body[field] = "x"
    with pytest.raises(RegistrationRefused) as e:
        parse_request(body)
    [v] = e.value.violations
    assert (v.field, v.rule) == (field, "R-DATA-1")
    assert v.message_zh.startswith("不采集")


def test_id_number_must_agree_with_birth_date_and_sex(season: SeasonConfig) -> None:
    body = valid_body(season)
    body["child"]["sex"] = "女"
    with pytest.raises(RegistrationRefused) as e:
        parse_request(body)
    assert [(v.field, v.rule) for v in e.value.violations] == [("child.id_number", "R-ID-1")]
    body = valid_body(season)
    body["child"]["birth_date"] = (
        date.fromisoformat(body["child"]["birth_date"]) + timedelta(days=1)
    ).isoformat()
    with pytest.raises(RegistrationRefused) as e:
        parse_request(body)
    assert "出生日期" in e.value.violations[0].message_zh


def test_private_applicants_name_exactly_one_private_school(season: SeasonConfig) -> None:
    with pytest.raises(RegistrationRefused) as e:
        parse_request(valid_body(season, category="private"))
    assert e.value.violations[0].rule == "R-REG-3"
    public = next(s for s in season.schools if s.kind == "public" and s.plan(1))
    req = parse_request(valid_body(season, category="private", private_school_id=public.id))
    assert [v.rule for v in check_registration(req, season, local(season, "2023-05-21 09:00"))] == ["R-REG-3"]


def test_private_schools_take_other_districts_only_when_the_city_approved_it(season: SeasonConfig) -> None:
    # R-LOT-4: the family's home district (valid_body's) against each private grade-1 school's
    home = valid_body(season)["home_address"]["district"]
    when = local(season, "2023-05-21 09:00")
    private = [s for s in season.schools if s.kind == "private" and s.plan(1)]
    closed = next(s for s in private if s.district != home and not s.cross_district_approved)
    approved = next(s for s in private if s.district != home and s.cross_district_approved)
    own = next((s for s in private if s.district == home), approved)
    for school, rules in ((closed, ["R-LOT-4"]), (approved, []), (own, [])):
        req = parse_request(valid_body(season, category="private", private_school_id=school.id))
        found = check_registration(req, season, when)
        assert [(v.field, v.rule) for v in found] == [("private_school_id", r) for r in rules], school.id


def test_passport_needs_a_foreign_nationality(season: SeasonConfig) -> None:
    body = valid_body(season, child__id_type="passport", child__id_number="M12345678")
    with pytest.raises(RegistrationRefused) as e:
        parse_request(body)
    assert e.value.violations[0].rule == "R-FOREIGN-1"
    body["child"]["nationality"] = "KOR"
    assert parse_request(body).child.nationality == "KOR"


def test_unknown_road_is_refused(season: SeasonConfig) -> None:
    req = parse_request(valid_body(season, home_address__road="不存在路"))
    found = check_registration(req, season, local(season, "2023-05-21 09:00"))
    assert [(v.field, v.rule) for v in found] == [("home_address.road", "R-PUB-1")]


@pytest.mark.parametrize(
    ("changes", "field", "zh"),
    [
        ({"home_address__road": ""}, "home_address.road", "此项为必填项"),
        ({"home_address__road": "x"}, "home_address.road", "格式不正确：至少填写2个字符"),
        ({"home_address__number": 0}, "home_address.number", "格式不正确：应不小于1"),
        ({"home_address__number": "七"}, "home_address.number", "格式不正确：应填写数字"),
    ],
)
def test_a_format_error_reads_in_plain_chinese(
    season: SeasonConfig, changes: dict, field: str, zh: str
) -> None:
    with pytest.raises(RegistrationRefused) as refused:
        parse_request(valid_body(season, **changes))
    assert [(v.field, v.message_zh) for v in refused.value.violations] == [(field, zh)]
    assert all(
        v.message_zh.isascii() is False and "should" not in v.message_zh for v in refused.value.violations
    )
