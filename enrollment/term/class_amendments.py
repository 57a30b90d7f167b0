"""Classes follow the corrections (R-CLASS-1, issue 18), rule `sunshine-amend/1`: amend, never reshuffle.

The sunshine classes are dealt once, over the children the sealed `placements.jsonl` placed at a
school who arrived (`enrollment.term.classes`). A correction after the results that moves a child
into or out of a school and grade with classes changes only that child's class; nobody else moves:

- **leave**: a child moved away from the school and grade (or to no school) who is in one of its
  classes is taken out of that class;
- **join**: a child moved to the school and grade who is in none of its classes joins the class with
  the fewest children of the child's sex at that moment; ties go to the class with the fewest children,
  then to the lowest class number.

The corrections are taken in the order of their chain (batch by batch, correction by correction,
change by change); each move is applied before the next is decided. `events` says which moves the
corrections require (this needs no sex: an auditor checks it from the archive alone); `choose` says
which class a join goes to (this needs the children's sex, which the archive does not hold: the
auditor checks it with the bureau's facts, as for `classes.replay`). docs/CLASSES.md, "Amendments".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from enrollment.corrections.model import Correction
from enrollment.term.classes import SEXES, Sex

RULE = "sunshine-amend/1"
Action = Literal["join", "leave"]
Group = tuple[str, int]  # (school_id, grade)


@dataclass(frozen=True)
class Event:
    """A move a correction requires: which child, which school and grade, join or leave."""

    correction_id: str
    registration_id: str
    school_id: str
    grade: int
    action: Action


@dataclass(frozen=True)
class Move:
    """An event with its class: the class joined (`sunshine-amend/1`) or left (the child's class)."""

    event: Event
    class_no: int  # 1-based

    def line(self) -> dict[str, object]:
        """The move as `amendments.jsonl` holds it."""
        e = self.event
        return {
            "correction_id": e.correction_id,
            "registration_id": e.registration_id,
            "school_id": e.school_id,
            "grade": e.grade,
            "action": e.action,
            "class": self.class_no,
        }


class Rosters:
    """Each (school, grade)'s classes as they stand: class sets, 1-based by position."""

    def __init__(self, classes: Mapping[Group, Sequence[Iterable[str]]]) -> None:
        self.classes: dict[Group, list[set[str]]] = {g: [set(c) for c in cs] for g, cs in classes.items()}
        self.where: dict[str, tuple[Group, int]] = {}
        for group, cs in self.classes.items():
            for c, ids in enumerate(cs, start=1):
                for rid in ids:
                    self.where.setdefault(rid, (group, c))

    def class_of(self, registration_id: str, group: Group) -> int | None:
        found = self.where.get(registration_id)
        return found[1] if found is not None and found[0] == group else None

    def apply(self, move: Move) -> None:
        e = move.event
        group = (e.school_id, e.grade)
        if e.action == "leave":
            self.classes[group][move.class_no - 1].discard(e.registration_id)
            self.where.pop(e.registration_id, None)
        else:
            self.classes[group][move.class_no - 1].add(e.registration_id)
            self.where[e.registration_id] = (group, move.class_no)


def events(rosters: Rosters, correction: Correction) -> list[Event]:
    """The moves one correction requires of the classes as they stand (leave before join, per child)."""
    found: list[Event] = []
    for ch in correction.changes:
        rid, after = ch.registration_id, ch.after
        into = (after.school_id, after.grade) if after.school_id is not None else None
        held = rosters.where.get(rid)
        if held is not None and held[0] != into:
            found.append(Event(correction.correction_id, rid, held[0][0], held[0][1], "leave"))
        if into is not None and into in rosters.classes and (held is None or held[0] != into):
            found.append(Event(correction.correction_id, rid, into[0], into[1], "join"))
    return found


def choose(classes: Sequence[set[str]], sex: Sex, sex_of: Callable[[str], Sex]) -> int:
    """The class a child of `sex` joins: fewest of that sex, then fewest children, then lowest number."""
    if sex not in SEXES:
        raise ValueError(f"sex: must be '男' or '女', got {sex!r}")
    keys = [(sum(1 for rid in ids if sex_of(rid) == sex), len(ids), c) for c, ids in enumerate(classes, 1)]
    return min(keys)[2]


def amend(rosters: Rosters, corrections: Iterable[Correction], sex_of: Callable[[str], Sex]) -> list[Move]:
    """Every move `corrections` require, each applied to `rosters` before the next is decided."""
    moves: list[Move] = []
    for correction in corrections:
        for e in events(rosters, correction):
            group = (e.school_id, e.grade)
            if e.action == "leave":
                c = rosters.class_of(e.registration_id, group)
                assert c is not None  # events() only leaves a class the child is in
            else:
                c = choose(rosters.classes[group], sex_of(e.registration_id), sex_of)
            move = Move(e, c)
            rosters.apply(move)
            moves.append(move)
    return moves
