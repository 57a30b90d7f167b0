"""The sunshine classes in three workflow steps (R-CLASS-1, issue 14): the groups listed, each school
and grade drawn on its own, the staged lists sealed; the addition is the one the whole season's draw
in one task sealed, byte for byte."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from enrollment.archive import contract
from enrollment.archive.contract import LocalSigner
from enrollment.archive.seal import draw_school_classes, list_class_groups, seal_classes
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import NotFound
from enrollment.term import reporting

SEASON = "2023"
NOW = datetime(2023, 8, 25, 1, tzinfo=UTC)


class Archive:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)
        self.gets: Counter[str] = Counter()

    def get(self, key: str) -> bytes | None:
        self.gets[key] += 1
        return self.objects.get(key)

    def put_once(self, key: str, body: bytes) -> str:
        if key in self.objects:
            assert self.objects[key] == body, key
            return "identical"
        self.objects[key] = body
        return "written"


class Work:
    bucket = "work"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_json(self, key: str, value: Any) -> None:
        self.objects[key] = json.dumps(value, ensure_ascii=False).encode()

    def get_json(self, key: str) -> Any:
        return json.loads(self.objects[key])  # KeyError as S3's NoSuchKey: nothing staged there


class Arrivals:
    """One query per school, counted; the season's arrivals are never read at once."""

    def __init__(self, came: dict[str, set[str]]) -> None:
        self.came = came
        self.reads: list[str] = []

    def arrivals(self, season: str, school_id: str) -> set[str]:
        self.reads.append(school_id)
        return set(self.came.get(school_id, set()))


class Registrations:
    def __init__(self, ids: Iterable[str]) -> None:
        self.items = {
            rid: {
                "registration_id": rid,
                "request": {
                    "child": {"sex": "男" if n % 2 else "女", "birth_date": f"2016-{1 + n % 12:02d}-15"}
                },
            }
            for n, rid in enumerate(ids)
        }
        self.asked: list[list[str]] = []

    def get_registration(self, registration_id: str) -> dict[str, Any]:
        return self.items[registration_id]

    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(registration_ids)
        self.asked.append(ids)
        return {rid: self.items[rid] for rid in ids if rid in self.items}

    def registrations(self, season: str) -> Iterator[dict[str, Any]]:
        raise AssertionError("a school's draw reads its own children, never the season's")


class Seeds:
    def new_seed(self, purpose: str) -> str:
        return contract.sha256_hex(purpose.encode())[:32]


def _placements() -> list[dict[str, Any]]:
    lines = []
    for n in range(120):  # three groups, out of id order, and a child not placed
        school, grade = [("S-CY-02", 1), ("S-CY-01", 7), ("S-CY-01", 1)][n % 3]
        lines.append({"registration_id": f"R-{(n * 37) % 120:04d}", "school_id": school, "grade": grade})
    lines.append({"registration_id": "R-9999", "school_id": None, "grade": 1})
    lines.append({"registration_id": "R-8888", "school_id": "S-CH-01", "grade": 1})  # nobody came
    return lines


def _world() -> tuple[Archive, Work, Arrivals, Registrations, list[dict[str, Any]]]:
    lines = _placements()
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    archive = Archive({f"seasons/{SEASON}/{contract.PLACEMENTS}": body})
    came: dict[str, set[str]] = {}
    for n, line in enumerate(lines):
        if line["school_id"] and line["school_id"] != "S-CH-01" and n % 10 != 3:  # a few did not come
            came.setdefault(line["school_id"], set()).add(line["registration_id"])
    return archive, Work(), Arrivals(came), Registrations(line["registration_id"] for line in lines), lines


def _sealed_in_one_task(
    config: SeasonConfig, lines: list[dict[str, Any]], came: dict[str, set[str]], regs: Registrations
) -> dict[str, bytes]:
    """The addition as the single `classes` task sealed it before issue 14: every group, sorted,
    dealt with its own seed from its placed ids (in the file's order) that arrived."""
    groups: dict[tuple[str, int], list[str]] = {}
    for line in lines:
        if line["school_id"]:
            groups.setdefault((line["school_id"], int(line["grade"])), []).append(line["registration_id"])
    files = {}
    for (school_id, grade), ids in sorted(groups.items()):
        students = [reporting.student(regs.items[r]) for r in ids if r in came.get(school_id, set())]
        seed = Seeds().new_seed(f"classes/{SEASON}/{school_id}-g{grade}")
        rec = reporting.assign_school(SEASON, school_id, grade, students, seed)
        if rec is not None:
            files[f"classes/{school_id}-g{grade}.json"] = contract.canonical_json(rec)
    return contract.seal(SEASON, files, LocalSigner(key_id="k"), NOW.astimezone(config.tz))


def _run(config: SeasonConfig, archive: Archive, work: Work, arrivals: Arrivals, regs: Registrations) -> Any:
    listed = list_class_groups(SEASON, archive=archive, work=work)
    drawn = [
        draw_school_classes(
            SEASON,
            g["school_id"],
            g["grade"],
            work=work,
            arrivals=arrivals,
            registrations=regs,
            seeds=Seeds(),
        )
        for g in listed["groups"]
    ]
    sealed = seal_classes(config, SEASON, archive=archive, work=work, signer=LocalSigner(key_id="k"), now=NOW)
    return listed, drawn, sealed


def test_the_three_steps_seal_the_same_addition_as_the_one_task(season: SeasonConfig) -> None:
    archive, work, arrivals, regs, lines = _world()
    listed, drawn, sealed = _run(season, archive, work, arrivals, regs)

    # the groups travel in the state, small and sorted; the ids stay in the work bucket
    assert listed == {
        "sealed": "pending",
        "groups": [
            {"school_id": "S-CH-01", "grade": 1},
            {"school_id": "S-CY-01", "grade": 1},
            {"school_id": "S-CY-01", "grade": 7},
            {"school_id": "S-CY-02", "grade": 1},
        ],
        "placed": 121,
    }
    assert len(json.dumps(listed)) < 400
    # each iteration read its own school's arrivals once, its children in one batched read
    assert arrivals.reads == ["S-CH-01", "S-CY-01", "S-CY-01", "S-CY-02"]
    assert [d["students"] for d in drawn] == [0, 36, 36, 36]
    assert all(len(ids) == d["students"] for ids, d in zip(regs.asked, drawn, strict=True))

    expected = _sealed_in_one_task(season, lines, arrivals.came, regs)
    addition = {
        k.removeprefix(f"additions/{SEASON}/classes/"): v
        for k, v in archive.objects.items()
        if k.startswith("additions/")
    }
    unsigned = set(contract.NOT_IN_MANIFEST) - {contract.MANIFEST}  # ECDSA signs afresh each time
    assert set(addition) == set(expected) and contract.MANIFEST in addition
    assert {k: v for k, v in addition.items() if k not in unsigned} == {
        k: v for k, v in expected.items() if k not in unsigned
    }  # the class lists and the manifest, byte for byte
    assert sealed == {"sealed": "now", "schools": 3, "students": 121}


def test_a_rerun_after_the_seal_lists_nothing_and_changes_nothing(season: SeasonConfig) -> None:
    archive, work, arrivals, regs, _ = _world()
    _run(season, archive, work, arrivals, regs)
    before = dict(archive.objects)
    arrivals.reads.clear()
    listed, drawn, sealed = _run(season, archive, Work(), arrivals, regs)  # the staged files expired
    assert listed == {"sealed": "already", "groups": []} and drawn == []
    assert sealed == {"sealed": "already"}
    assert archive.objects == before and arrivals.reads == []


def test_nothing_is_sealed_while_a_group_is_not_drawn(season: SeasonConfig) -> None:
    archive, work, arrivals, regs, _ = _world()
    listed = list_class_groups(SEASON, archive=archive, work=work)
    for g in listed["groups"][1:]:
        draw_school_classes(
            SEASON,
            g["school_id"],
            g["grade"],
            work=work,
            arrivals=arrivals,
            registrations=regs,
            seeds=Seeds(),
        )
    with pytest.raises(KeyError, match="S-CH-01-g1"):
        seal_classes(season, SEASON, archive=archive, work=work, signer=LocalSigner(key_id="k"), now=NOW)
    assert not any(k.startswith("additions/") for k in archive.objects)


def test_an_arrived_child_without_a_registration_fails_the_draw(season: SeasonConfig) -> None:
    archive, work, arrivals, regs, _ = _world()
    list_class_groups(SEASON, archive=archive, work=work)
    gone = sorted(arrivals.came["S-CY-02"])[0]
    del regs.items[gone]
    with pytest.raises(NotFound, match=gone):
        draw_school_classes(
            SEASON, "S-CY-02", 1, work=work, arrivals=arrivals, registrations=regs, seeds=Seeds()
        )


def test_a_school_dead_lettered_by_the_draw_seals_nothing_and_is_named(season: SeasonConfig) -> None:
    """DrawClasses' results name a school-grade whose draw failed for good: every other group is
    drawn and staged, yet the addition (sealed once, whole) is not sealed; the answer names it."""
    archive, work, arrivals, regs, _ = _world()
    listed = list_class_groups(SEASON, archive=archive, work=work)
    first, *others = listed["groups"]
    for g in others:
        draw_school_classes(
            SEASON,
            g["school_id"],
            g["grade"],
            work=work,
            arrivals=arrivals,
            registrations=regs,
            seeds=Seeds(),
        )
    signer = LocalSigner(key_id="k")
    not_drawn = [(first["school_id"], first["grade"])]
    answer = seal_classes(
        season, SEASON, archive=archive, work=work, signer=signer, now=NOW, not_drawn=not_drawn
    )
    name = f"{first['school_id']}-g{first['grade']}"
    assert answer["sealed"] == "incomplete" and answer["not_drawn"] == [name]
    assert name in answer["cause"] and "dead letters" in answer["cause"]
    assert not any(k.startswith("additions/") for k in archive.objects)
    # drawn again once the cause is fixed: the addition is sealed whole
    draw_school_classes(
        SEASON,
        first["school_id"],
        first["grade"],
        work=work,
        arrivals=arrivals,
        registrations=regs,
        seeds=Seeds(),
    )
    sealed = seal_classes(season, SEASON, archive=archive, work=work, signer=signer, now=NOW)
    assert sealed["sealed"] == "now"
