"""A season with residential compounds (小区), built from jilin-2023 for the tests of compound addresses.

Four compounds in 船营区 (CY):
- 江湾小区 and 滨江壹号 make up a compounds-only grade-1 zone, Z-CY-1-90, of a new school S-CY-90;
- 锦绣家园's gate is on 黄山东路 20 (zone Z-CY-1-06), but zone Z-CY-1-01 names it: its families belong
  there, not where the gate is;
- 松苑小区 is named by no zone: it is in the zone of its gate, 康乐大路 60 (Z-CY-1-01).
"""

from __future__ import annotations

from typing import Any

from enrollment.core.config import SeasonConfig

COMPOUNDS: list[dict[str, Any]] = [
    {
        "name": "江湾小区",
        "district": "CY",
        "road": "滨江北街",
        "number": 30,
        "location": {"lat": 43.8405, "lon": 126.5100},
    },
    {
        "name": "滨江壹号",
        "district": "CY",
        "road": "滨江北街",
        "number": 48,
        "location": {"lat": 43.8410, "lon": 126.5150},
    },
    {
        "name": "锦绣家园",
        "district": "CY",
        "road": "黄山东路",
        "number": 20,
        "location": {"lat": 43.8440, "lon": 126.4950},
    },
    {
        "name": "松苑小区",
        "district": "CY",
        "road": "康乐大路",
        "number": 60,
        "location": {"lat": 43.8466, "lon": 126.4990},
    },
]
SCHOOL: dict[str, Any] = {
    "id": "S-CY-90",
    "name": "船营区江湾小学",
    "kind": "public",
    "district": "CY",
    "address": "吉林市船营区滨江北街36号",
    "location": {"lat": 43.8408, "lon": 126.5125},
    "plans": {1: 45},
}
ZONE: dict[str, Any] = {
    "id": "Z-CY-1-90",
    "district": "CY",
    "grade": 1,
    "schools": ["S-CY-90"],
    "compounds": ["江湾小区", "滨江壹号"],
}


def compound_season(base: SeasonConfig) -> SeasonConfig:
    """`base` (jilin-2023) with the compounds above, their school and zone, and 锦绣家园 in Z-CY-1-01."""
    data = base.model_dump(mode="json")
    data["compounds"] = COMPOUNDS
    data["schools"].append(SCHOOL)
    for zone in data["zones"]:
        if zone["id"] == "Z-CY-1-01":
            zone["compounds"] = ["锦绣家园"]
    data["zones"].append(ZONE)
    return SeasonConfig.model_validate(data)


def compound_address(compound: str, building: int = 3, unit: int = 2, room: str = "501室") -> dict[str, Any]:
    return {"district": "CY", "compound": compound, "building": building, "unit": unit, "detail": room}
