"""The season's workbook round trip: import(export(config)) == config, for random small cities and for
the synthetic Jilin City 2023 and Siping 2024 (compounds)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from enrollment.core.config import GRADES, LOG_RETENTION_DAYS, SeasonConfig
from enrollment.core.workbook import parse_workbook, workbook_bytes
from enrollment.synth import city

HAN = "东西南北中新华光明阳春秋和平安康泰兴福寿文德仁义礼智信松江吉林长白山河湖海星月红绿青"
FACTS = (
    "policy-priority",
    "hukou-in-zone",
    "deed-in-zone",
    "hukou-deed-match",
    "actual-residence",
    "residence-permit-in-zone",
)
CODES = ("CY", "CH", "LTX", "FMNO")
CHECK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(config: SeasonConfig) -> SeasonConfig:
    wb = load_workbook(io.BytesIO(workbook_bytes(config)), data_only=True)
    return parse_workbook(wb, config.name)


def han(min_size: int = 2, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(alphabet=HAN, min_size=min_size, max_size=max_size)


coordinate = st.floats(min_value=-89.5, max_value=89.5, allow_nan=False, allow_subnormal=False)


@st.composite
def cities(draw: Any) -> dict[str, Any]:
    year = draw(st.integers(2001, 2099))
    n_districts = draw(st.integers(1, 2))
    codes = CODES[:n_districts]
    used: set[str] = set()

    def unique(prefix: str) -> str:
        name: str = draw(han().filter(lambda s: prefix + s not in used))
        used.add(prefix + name)
        return prefix + name

    districts, roads, compounds, schools, zones = [], [], [], [], []
    for code in codes:
        tiers = []
        for t in range(draw(st.integers(1, 3))):
            facts = draw(st.lists(st.sampled_from(FACTS), min_size=1, max_size=4, unique=True))
            tiers.append({"id": f"tier-{t}", "name": draw(han(1, 20)), "requires": facts})
        districts.append(
            {
                "code": code,
                "name": unique("区"),
                "kind": draw(st.sampled_from(["urban-district", "development-zone"])),
                "area_code": draw(st.from_regex(r"\A[1-6]\d{5}\Z")),
                "priority_tiers": tiers,
                "multi_school_assignment": draw(
                    st.sampled_from(["deferred-acceptance", "first-choice-first"])
                ),
            }
        )
        own_roads = []
        for _ in range(draw(st.integers(1, 3))):
            road = {
                "name": unique("路"),
                "district": code,
                "start": {"lat": draw(coordinate), "lon": draw(coordinate)},
                "end": {"lat": draw(coordinate), "lon": draw(coordinate)},
                "max_number": draw(st.integers(1, 400)),
            }
            roads.append(road)
            own_roads.append(road)
        own_compounds = []
        for _ in range(draw(st.integers(0, 2))):
            road = draw(st.sampled_from(own_roads))
            compound = {
                "name": unique("苑"),
                "district": code,
                "road": road["name"],
                "number": draw(st.integers(1, road["max_number"])),
                "location": {"lat": draw(coordinate), "lon": draw(coordinate)},
            }
            compounds.append(compound)
            own_compounds.append(compound)
        kinds = ["public"] * draw(st.integers(1, 3)) + draw(
            st.lists(st.sampled_from(["private", "ethnic", "special-education", "specialised"]), max_size=3)
        )
        for n, kind in enumerate(kinds, start=1):
            grades = draw(st.lists(st.sampled_from(GRADES), min_size=1, max_size=2, unique=True))
            school: dict[str, Any] = {
                "id": f"{ {'public': 'S', 'private': 'P', 'ethnic': 'E'}.get(kind, 'SE') }-{code}-{n:02d}",
                "name": unique("校"),
                "kind": kind,
                "district": code,
                "address": draw(han(2, 20)),
                "location": {"lat": draw(coordinate), "lon": draw(coordinate)},
                "plans": {g: draw(st.integers(0, 600)) for g in grades},
                "classes": draw(st.dictionaries(st.sampled_from(GRADES), st.integers(1, 99), max_size=2)),
                "class_size": draw(st.dictionaries(st.sampled_from(GRADES), st.integers(1, 99), max_size=2)),
            }
            if kind == "private":
                school["cross_district_approved"] = draw(st.booleans())
            schools.append(school)
        for grade in GRADES:
            takers = [
                s["id"]
                for s in schools
                if s["district"] == code and s["kind"] == "public" and s["plans"].get(grade)
            ]
            if not takers:
                continue
            count = draw(st.integers(1, 2))
            own = [
                {
                    "id": f"Z-{code}-{grade}-{k + 1:02d}",
                    "district": code,
                    "grade": grade,
                    "schools": draw(st.lists(st.sampled_from(takers), min_size=1, max_size=2, unique=True)),
                    "segments": [],
                    "compounds": [],
                }
                for k in range(count)
            ]
            for road in own_roads:
                top = road["max_number"]
                cuts = sorted(draw(st.sets(st.integers(1, top), max_size=3)) | {top})
                first = 1
                for last in cuts:
                    if last < first:
                        continue
                    owner = draw(st.integers(-1, count - 1))
                    if owner >= 0:
                        parity = draw(st.sampled_from(["all", "odd", "even"]))
                        own[owner]["segments"].append(
                            {"road": road["name"], "from_number": first, "to_number": last, "parity": parity}
                        )
                        if parity != "all" and count > 1:
                            other = "even" if parity == "odd" else "odd"
                            own[1 - owner]["segments"].append(
                                {
                                    "road": road["name"],
                                    "from_number": first,
                                    "to_number": last,
                                    "parity": other,
                                }
                            )
                    first = last + 1
            for compound in own_compounds:
                owner = draw(st.integers(-1, count - 1))
                if owner >= 0:
                    own[owner]["compounds"].append(compound["name"])
            zones += [z for z in own if z["segments"] or z["compounds"]]
    return {
        "name": "random-city",
        "season": draw(st.sampled_from([str(year), f"{year}-autumn"])),
        "year": year,
        "city": unique("市"),
        "timezone": draw(st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "UTC"])),
        "calendar": {**city._calendar(year), "class_assignment_days_before_term": draw(st.integers(1, 30))},
        "districts": districts,
        "roads": roads,
        "compounds": compounds,
        "schools": schools,
        "zones": zones,
        "verification": {
            "batch_size": draw(st.integers(1, 1000)),
            "spot_check_rate": draw(st.floats(0.001, 1, allow_subnormal=False)),
            "agencies": draw(
                st.sampled_from(
                    [
                        {},
                        {
                            "housing": {
                                "base_url": "https://housing.example.cn/api",
                                "credentials_secret_arn": "arn:aws-cn:secretsmanager:cn-north-1:1:secret:h",
                                "timeout_s": 12.5,
                            }
                        },
                    ]
                )
            ),
        },
        "lottery": {"overdue_grace_hours": draw(st.integers(1, 720))},
        "placement": {"coordination_cap_km": draw(st.floats(0.1, 50, allow_subnormal=False))},
        "retention": {
            "status_filing_days": draw(st.integers(0, 366)),
            "appeal_days": draw(st.integers(0, 3 * 366)),
            "exports_days": draw(st.integers(1, 30)),
            "work_files_days": draw(st.integers(30, 3 * 366)),
            "log_days": draw(st.sampled_from(LOG_RETENTION_DAYS)),
        },
        "staff_sign_in": draw(
            st.sampled_from([{}, {"issuer": "https://login.example.cn/realms/edu", "client_id": "console"}])
        ),
        "sms": {
            "codes_per_phone_hour": (hourly := draw(st.integers(1, 100))),
            "codes_per_phone_day": draw(st.integers(hourly, 1000)),
            "codes_per_hour": draw(st.integers(1, 1_000_000)),
        },
        "sms_provider": draw(st.sampled_from([{}, ALIYUN, TENCENT, {"provider": "outbox"}])),
    }


SECRET = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:sms-provider-AbCdEf"
ALIYUN = {
    "provider": "aliyun",
    "sign_name": "吉林市教育局",
    "credentials_secret_arn": SECRET,
    "code_template": "SMS_462115010",
    "notice_template": "SMS_462115011",
    "notice_short_template": "SMS_462115012",
    "notice_shortest_template": "SMS_462115013",
    "registered_template": "SMS_462115014",
}
# Tencent Cloud's ids are all digits: they must come back as text, not numbers
TENCENT = {
    "provider": "tencent",
    "sign_name": "吉林市教育局",
    "credentials_secret_arn": SECRET,
    "region": "ap-beijing",
    "sdk_app_id": "1400787878",
    "code_template": "1840001",
    "notice_template": "1840002",
    "notice_short_template": "1840003",
    "notice_shortest_template": "1840004",
    "registered_template": "1840005",
}


@CHECK
@given(cities())
def test_a_random_small_city_comes_back_equal(raw: dict[str, Any]) -> None:
    config = SeasonConfig.model_validate(raw)
    assert roundtrip(config) == config


def test_the_synthetic_jilin_city_comes_back_equal(season: SeasonConfig) -> None:
    assert season.name == "jilin-2023" and not season.compounds
    assert roundtrip(season) == season


def test_the_synthetic_siping_with_compounds_comes_back_equal() -> None:
    config = city.config(1, city.city_plan("siping-2024", "四平市", 2024, 7))
    assert config.compounds and any(not z.segments for z in config.zones)
    assert any(z.segments and z.compounds for z in config.zones)
    assert config.calendar.lottery_day == date(2024, 6, 17)
    assert roundtrip(config) == config
