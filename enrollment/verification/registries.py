"""What the agencies would answer about a family (R-VER-2), as plain records.

One list per agency: public security (公安) knows hukou and residence permits, housing (住建) knows
property deeds, planning & natural resources (规划和自然资源) knows each property's planned use, and
the street/community office (街道社区) answers home visits. Each list is one JSONL file, so a
synthetic population (or, one day, an agency export) can be written once and read by any adapter.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

PUBLIC_SECURITY_FILE = "public-security.jsonl"
HOUSING_FILE = "housing.jsonl"
PLANNING_FILE = "planning.jsonl"
COMMUNITY_FILE = "community.jsonl"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordAddress(_Record):
    """An address as the agencies hold it: district code, and either road and house number or a
    residential compound (小区) with building and unit; `detail` is the rest (the room)."""

    district: str
    road: str | None = Field(default=None, min_length=2)
    number: int | None = Field(default=None, ge=1, le=9999)
    compound: str | None = Field(default=None, min_length=2)
    building: int | None = Field(default=None, ge=1, le=999)
    unit: int | None = Field(default=None, ge=1, le=99)
    detail: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> RecordAddress:
        by_road = self.road is not None and self.number is not None
        if self.compound is None:
            if not by_road or self.building is not None or self.unit is not None:
                raise ValueError(
                    "an address is a road and house number, or a compound (with building and unit)"
                )
        elif self.road is not None or self.number is not None:
            raise ValueError("a compound address has no road or house number")
        return self

    @property
    def key(self) -> tuple[str | int | None, ...]:
        """The house, ignoring the flat: (district, road, number) or (district, compound, building, unit)."""
        if self.compound is not None:
            return (self.district, self.compound, self.building, self.unit)
        return (self.district, self.road, self.number)


class HukouRecord(_Record):
    """Public security: a child's hukou (户籍) or residence permit (居住证, R-MIG-1)."""

    id_number: str = Field(min_length=5, max_length=18)  # resident ID, or passport for foreigners
    kind: Literal["hukou", "residence-permit"]
    address: RecordAddress
    permit_number: str | None = Field(default=None, pattern=r"^[A-Z0-9-]{6,30}$")
    since: date  # hukou registered at this address / permit issued

    @model_validator(mode="after")
    def _permit(self) -> HukouRecord:
        if (self.kind == "residence-permit") != (self.permit_number is not None):
            raise ValueError("a residence permit, and only a permit, has a permit number")
        return self


class DeedRecord(_Record):
    """Housing: a registered property deed (不动产权证) with its owners and registration date."""

    deed_number: str = Field(pattern=r"^[A-Z0-9-]{6,30}$")
    owner_id_numbers: list[str] = Field(min_length=1)
    address: RecordAddress
    registered_on: date


class PlanningRecord(_Record):
    """Planning & natural resources: the planned use (规划用途) of a property."""

    deed_number: str | None = None
    address: RecordAddress | None = None
    planned_use: Literal["residential", "commercial", "industrial"]

    @model_validator(mode="after")
    def _keyed(self) -> PlanningRecord:
        if self.deed_number is None and self.address is None:
            raise ValueError("a planning record names a deed number or an address")
        return self


class ResidenceRecord(_Record):
    """Community: whether the child actually lives at the address (实际居住, home visit)."""

    address: RecordAddress
    id_number: str = Field(min_length=5, max_length=18)
    lives_there: bool
    # How many days after the request the answer comes; an answer later than the home-visit
    # deadline (calendar.home_visits.end) is a late answer the verification phase must handle.
    visit_delay_days: int = Field(ge=0, le=60)


_R = TypeVar("_R", bound=_Record)


class Registries(_Record):
    """Everything the agencies know, one list per agency (and per JSONL file)."""

    public_security: list[HukouRecord] = Field(default_factory=list)
    housing: list[DeedRecord] = Field(default_factory=list)
    planning: list[PlanningRecord] = Field(default_factory=list)
    community: list[ResidenceRecord] = Field(default_factory=list)

    def write(self, directory: str | Path) -> None:
        """Write the four JSONL files into `directory` (created if needed)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, records in self._files():
            with (out / name).open("w", encoding="utf-8") as f:
                for r in records:
                    f.write(r.model_dump_json(exclude_none=True))
                    f.write("\n")

    @classmethod
    def load(cls, directory: str | Path) -> Registries:
        d = Path(directory)
        return cls(
            public_security=_read(d / PUBLIC_SECURITY_FILE, HukouRecord),
            housing=_read(d / HOUSING_FILE, DeedRecord),
            planning=_read(d / PLANNING_FILE, PlanningRecord),
            community=_read(d / COMMUNITY_FILE, ResidenceRecord),
        )

    def _files(self) -> list[tuple[str, list[_Record]]]:
        return [
            (PUBLIC_SECURITY_FILE, list(self.public_security)),
            (HOUSING_FILE, list(self.housing)),
            (PLANNING_FILE, list(self.planning)),
            (COMMUNITY_FILE, list(self.community)),
        ]

    # Lookups, as each agency answers them ---------------------------------------------------

    def hukou(self, id_number: str) -> HukouRecord | None:
        return self._hukou_index.get(id_number)

    def deed(self, deed_number: str) -> DeedRecord | None:
        return self._deed_index.get(deed_number)

    def planned_use(self, deed_number: str) -> PlanningRecord | None:
        return self._planning_index.get(deed_number)

    def residence(self, id_number: str) -> ResidenceRecord | None:
        return self._residence_index.get(id_number)

    @cached_property
    def _hukou_index(self) -> dict[str, HukouRecord]:
        return {r.id_number: r for r in self.public_security}

    @cached_property
    def _deed_index(self) -> dict[str, DeedRecord]:
        return {r.deed_number: r for r in self.housing}

    @cached_property
    def _planning_index(self) -> dict[str, PlanningRecord]:
        return {r.deed_number: r for r in self.planning if r.deed_number is not None}

    @cached_property
    def _residence_index(self) -> dict[str, ResidenceRecord]:
        return {r.id_number: r for r in self.community}


def _read(path: Path, model: type[_R]) -> list[_R]:
    with path.open(encoding="utf-8") as f:
        return [model.model_validate_json(line) for line in f if line.strip()]
