"""Sunshine classes (R-CLASS-1): each school's arrived children, balanced and random, sealed as an addition.

Three functions, one a step of the workflow, so that none reads the whole season's arrivals and
each holds only what its step needs (least privilege too: only the seal signs or writes the archive):

- `handler` (`classes`): lists the placed (school, grade) groups from `placements.jsonl` and stages
  each group's placed ids in the work bucket (`enrollment.archive.seal.list_class_groups`);
- `school` (`classes-school`): one group's classes, drawn and staged (`draw_school_classes`), a Map
  iteration each;
- `seal` (`classes-seal`): the staged class lists sealed under `additions/{season}/classes/` in the
  archive bucket with their own manifest, signature and public key (`seal_classes`), so the season's
  sealed archive under `seasons/{season}/` is never rewritten. A rerun finds the addition sealed and
  changes nothing. A group the draw's Map dead-lettered (`drawn`, the Map's results) seals nothing:
  the answer is `incomplete`, naming it, and the workflow pauses at DrawClasses (docs/RUNBOOK.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from enrollment.adapters.wiring import Wiring
from enrollment.archive.seal import draw_school_classes, list_class_groups, seal_classes
from enrollment.core import clock
from functions.events import SchoolEvent, SeasonEvent, task


@task(SeasonEvent)
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    return list_class_groups(request.season, archive=w.archive, work=w.work)


@task(SchoolEvent, log="sunshine classes drawn")
def school(request: SchoolEvent, w: Wiring) -> dict[str, Any]:
    return draw_school_classes(
        request.season,
        request.school_id,
        request.grade,
        work=w.work,
        arrivals=w.placements,
        registrations=w.store,
        seeds=w.seeds,
        school=w.config.school_index.get(request.school_id),
    )


class Drawn(BaseModel):
    """One item of DrawClasses' results: drawn (`{"students": n}`, kept that small: the results travel
    in the workflow's state), or its dead letter (the school and grade, `dead_letter`)."""

    model_config = ConfigDict(extra="ignore")
    school_id: str | None = None
    grade: int | None = None
    dead_letter: str | None = None

    @model_validator(mode="after")
    def _dead_letter_names_its_group(self) -> Drawn:
        if self.dead_letter is not None and (self.school_id is None or self.grade is None):
            raise ValueError("drawn: a dead letter names its school_id and grade")
        return self

    def not_drawn(self) -> tuple[str, int] | None:
        """The school and grade, if the draw failed for good."""
        if self.dead_letter is None or self.school_id is None or self.grade is None:
            return None
        return self.school_id, self.grade


class SealEvent(SeasonEvent):
    drawn: list[Drawn] | None = None  # DrawClasses' results; none when the addition was already sealed


@task(SealEvent, log="sunshine classes sealed")  # "sealed": "now", "already" on a rerun, or "incomplete"
def seal(request: SealEvent, w: Wiring) -> dict[str, Any]:
    not_drawn = [g for d in request.drawn or [] if (g := d.not_drawn()) is not None]
    return seal_classes(
        w.config,
        request.season,
        archive=w.archive,
        work=w.work,
        signer=w.signer,
        now=clock.now(),
        not_drawn=not_drawn,
    )
