"""Sunshine class assignment (阳光分班, R-CLASS-1), version `sunshine-classes/1`: balanced, random, public.

A week before term each school's new students of one grade are dealt into `k` classes. The only
facts used are sex and birth month: no scores, no requests, no key classes. The randomness is the
lottery's public construction (LOTTERY.md, HMAC_DRBG SHA-256 + Durstenfeld), so anyone can replay an
assignment from the recorded inputs in any language (docs/CLASSES.md is the contract):

1. `order0` = the students' registration ids sorted ascending by UTF-8 bytes;
   `pool_digest` = lowercase hex SHA-256 of `"\\n".join(order0)` (UTF-8);
   `students_digest` = lowercase hex SHA-256 of `"\\n".join(f"{id}|{sex}|{birth_month}")` over `order0`.
2. One HMAC_DRBG (SHA-256, no reseed, empty personalization) with `entropy_input` = the recorded seed
   (UTF-8) and `nonce` = UTF-8 of `f"{season}|{school_id}|{grade}|classes|{pool_digest}"`.
3. `shuffled` = Durstenfeld shuffle of `order0` with that DRBG (LOTTERY.md steps 3-4).
4. `labels` = Durstenfeld shuffle of the class numbers `[1, 2, ..., k]` with the same DRBG, continued.
5. `dealt` = `shuffled` stably sorted by (sex: 男 then 女, birth month in age order: September first,
   August last, i.e. `(birth_month - 9) mod 12`).
6. The student at position `p` of `dealt` goes to class `labels[p mod k]`.
7. Each class lists its ids sorted by UTF-8 bytes; `classes[c - 1]` is class `c`.

Because one dealer runs round-robin over the whole of `dealt`, every contiguous run of `dealt` is
spread over the classes as evenly as possible (each class gets floor(L/k) or ceil(L/k) of a run of
length L): class sizes, the boys, the girls, each (sex, birth month) and each (sex, run of consecutive
birth months in age order) differ by at most one between any two classes (`check`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from enrollment.lottery import draw

ALGORITHM = "sunshine-classes/1"
FORMAT = "enrollment-classes/1"
STEP = "classes"
GRADES = (1, 7)
SEXES: tuple[Literal["男", "女"], ...] = ("男", "女")  # dealing order: 男 (male) first, then 女 (female)
AGE_ORDER = (9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8)  # oldest first: the cohort's cut-off is 31 August
SEED_SOURCES = ("ceremony", "system")

Sex = Literal["男", "女"]
SeedSource = Literal["ceremony", "system"]


@dataclass(frozen=True)
class Student:
    id: str  # registration id, never a name or ID number
    sex: Sex
    birth_month: int  # 1-12


@dataclass(frozen=True)
class Assignment:
    season: str
    school_id: str
    grade: int
    seed: str
    seed_source: SeedSource
    pool_digest: str
    students_digest: str
    classes: list[list[str]]  # classes[c - 1] = class c's registration ids, sorted by UTF-8 bytes
    algorithm: str = ALGORITHM

    @property
    def nonce(self) -> str:
        return f"{self.season}|{self.school_id}|{self.grade}|{STEP}|{self.pool_digest}"

    @property
    def class_count(self) -> int:
        return len(self.classes)

    def class_of(self) -> dict[str, int]:
        """Registration id -> class number (1-based)."""
        return {rid: c for c, ids in enumerate(self.classes, start=1) for rid in ids}

    def record(self) -> dict[str, object]:
        """The archive's record: every input needed to replay, and the classes; registration ids only."""
        return {
            "format": FORMAT,
            "algorithm": self.algorithm,
            "season": self.season,
            "school_id": self.school_id,
            "grade": self.grade,
            "class_count": self.class_count,
            "seed": self.seed,
            "seed_source": self.seed_source,
            "nonce": self.nonce,
            "pool_digest": self.pool_digest,
            "students_digest": self.students_digest,
            "classes": [list(ids) for ids in self.classes],
        }


def new_seed() -> str:
    """A seed drawn by the system: 32 hexadecimal digits from the operating system's CSPRNG."""
    return secrets.token_hex(16)


def _utf8_sorted(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=lambda s: s.encode())


def age_rank(birth_month: int) -> int:
    """0 for September (the oldest of a cohort born up to 31 August) ... 11 for August."""
    return (birth_month - 9) % 12


def _validate_students(students: Sequence[Student]) -> None:
    seen: set[str] = set()
    for i, s in enumerate(students):
        if not isinstance(s.id, str) or not s.id or "\n" in s.id:
            raise ValueError(f"students[{i}].id: a non-empty registration id without line breaks is required")
        if s.id in seen:
            raise ValueError(f"students[{i}].id: registration id {s.id!r} is listed twice")
        seen.add(s.id)
        if s.sex not in SEXES:
            raise ValueError(f"students[{i}].sex: must be '男' or '女', got {s.sex!r}")
        month = s.birth_month
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValueError(f"students[{i}].birth_month: must be an integer 1-12, got {month!r}")


def _validate_inputs(
    season: str, school_id: str, grade: int, classes: int, seed: str, seed_source: str, n: int
) -> None:
    if not isinstance(season, str) or not season:
        raise ValueError("season: a non-empty string is required")
    if not isinstance(school_id, str) or not school_id:
        raise ValueError("school_id: a non-empty string is required")
    if isinstance(grade, bool) or grade not in GRADES:
        raise ValueError(f"grade: new students' classes are assigned for grade 1 or 7, got {grade!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"classes: at least one class is required, got {classes!r}")
    if classes > n:
        raise ValueError(
            f"classes: {classes} classes for {n} students; every class needs at least one student"
        )
    if not isinstance(seed, str) or not seed:
        raise ValueError("seed: a non-empty string is required (typed at the ceremony or new_seed())")
    if seed_source not in SEED_SOURCES:
        raise ValueError(f"seed_source: must be 'ceremony' or 'system', got {seed_source!r}")


def students_digest(students: Iterable[Student]) -> str:
    """SHA-256 hex of the facts the dealing used: `id|sex|birth_month` lines in `order0` order."""
    by_id = {s.id: s for s in students}
    lines = (f"{rid}|{by_id[rid].sex}|{by_id[rid].birth_month}" for rid in _utf8_sorted(by_id))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _dealing_key(s: Student) -> tuple[int, int]:
    return SEXES.index(s.sex), age_rank(s.birth_month)


def assign(
    season: str,
    school_id: str,
    grade: int,
    students: Iterable[Student],
    classes: int,
    seed: str,
    *,
    seed_source: SeedSource = "ceremony",
) -> Assignment:
    """Deal `students` into `classes` classes, exactly as docs/CLASSES.md (`sunshine-classes/1`).

    `seed` is the recorded entropy: typed at the public ceremony (`seed_source="ceremony"`) or drawn
    with `new_seed()` (`"system"`). The order of `students` does not matter. Raises ValueError naming
    the field for bad input; more classes than students is refused (a class would be empty).
    """
    pool = list(students)
    _validate_students(pool)
    _validate_inputs(season, school_id, grade, classes, seed, seed_source, len(pool))
    by_id = {s.id: s for s in pool}
    order0 = _utf8_sorted(by_id)
    digest = draw.pool_digest(order0)
    drbg = draw.step_drbg(season, school_id, grade, STEP, digest, seed)
    shuffled = draw.shuffle(order0, drbg)
    labels = [int(c) for c in draw.shuffle([str(c) for c in range(1, classes + 1)], drbg)]
    dealt = sorted(shuffled, key=lambda rid: _dealing_key(by_id[rid]))  # sorted() is stable
    members: list[list[str]] = [[] for _ in range(classes)]
    for p, rid in enumerate(dealt):
        members[labels[p % classes] - 1].append(rid)
    return Assignment(
        season=season,
        school_id=school_id,
        grade=grade,
        seed=seed,
        seed_source=seed_source,
        pool_digest=digest,
        students_digest=students_digest(pool),
        classes=[_utf8_sorted(ids) for ids in members],
    )


def _spread(counts: Sequence[int]) -> int:
    return max(counts) - min(counts)


def check(students: Iterable[Student], assignment: Assignment) -> list[str]:
    """The guarantees of docs/CLASSES.md, as a list of problems (empty: all hold).

    Every student in exactly one class and nobody else; the assignment made from these students'
    facts; no class empty; between any two classes the sizes, the boys, the girls, each (sex, birth
    month) and each (sex, run of consecutive birth months in age order September to August) differ by
    at most one. Invalid `students` raise ValueError naming the field, as in `assign`.
    """
    pool = list(students)
    _validate_students(pool)
    by_id = {s.id: s for s in pool}
    problems: list[str] = []
    placed = Counter(rid for ids in assignment.classes for rid in ids)
    for rid in _utf8_sorted(rid for rid, n in placed.items() if n > 1):
        problems.append(f"{rid} is placed {placed[rid]} times")
    for rid in _utf8_sorted(rid for rid in placed if rid not in by_id):
        problems.append(f"{rid} is placed but is not one of the students")
    for rid in _utf8_sorted(rid for rid in by_id if rid not in placed):
        problems.append(f"{rid} is in no class")
    if assignment.pool_digest != draw.pool_digest(_utf8_sorted(by_id)):
        problems.append("pool_digest does not match the students' registration ids")
    if assignment.students_digest != students_digest(pool):
        problems.append("students_digest does not match the students' sex and birth month")
    if not assignment.classes:
        return [*problems, "there are no classes"]
    sizes = [len(ids) for ids in assignment.classes]
    for c, size in enumerate(sizes, start=1):
        if size == 0:
            problems.append(f"class {c} is empty")
    if _spread(sizes) > 1:
        problems.append(f"class sizes differ by more than one: {sizes}")
    # counts[c][(sex, age rank)] for the students known in each class
    counts = [Counter(_dealing_key(by_id[rid]) for rid in ids if rid in by_id) for ids in assignment.classes]
    for sex_index, sex in enumerate(SEXES):
        for start in range(12):
            for stop in range(start + 1, 13):
                per_class = [sum(cc[(sex_index, r)] for r in range(start, stop)) for cc in counts]
                if _spread(per_class) <= 1:
                    continue
                if (start, stop) == (0, 12):
                    what = f"{sex} students"
                elif stop == start + 1:
                    what = f"{sex} students born in month {AGE_ORDER[start]}"
                else:
                    what = f"{sex} students born in months {AGE_ORDER[start]}-{AGE_ORDER[stop - 1]}"
                problems.append(f"{what} differ by more than one between classes: {per_class}")
    return problems


def _field(record: Mapping[str, object], key: str, kind: type) -> object:
    if key not in record:
        raise ValueError(f"record.{key}: missing")
    value = record[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"record.{key}: expected {kind.__name__}, got {value!r}")
    return value


def replay(record: Mapping[str, object], students: Iterable[Student]) -> Assignment:
    """Recompute an assignment from its record's inputs and the students' facts.

    Raises ValueError if the record is of another algorithm, or if `students` are not the ones the
    record was made from (pool_digest, students_digest). The caller compares the returned classes with
    `record["classes"]`.
    """
    algorithm = _field(record, "algorithm", str)
    if algorithm != ALGORITHM:
        raise ValueError(f"record.algorithm: {algorithm!r} is not {ALGORITHM!r}")
    source = _field(record, "seed_source", str)
    if source not in SEED_SOURCES:
        raise ValueError(f"record.seed_source: must be 'ceremony' or 'system', got {source!r}")
    again = assign(
        cast(str, _field(record, "season", str)),
        cast(str, _field(record, "school_id", str)),
        cast(int, _field(record, "grade", int)),
        students,
        cast(int, _field(record, "class_count", int)),
        cast(str, _field(record, "seed", str)),
        seed_source=cast(SeedSource, source),
    )
    if again.pool_digest != _field(record, "pool_digest", str):
        raise ValueError("students: their registration ids do not give the record's pool_digest")
    if again.students_digest != _field(record, "students_digest", str):
        raise ValueError("students: their sex and birth months do not give the record's students_digest")
    if again.nonce != _field(record, "nonce", str):
        raise ValueError("record.nonce: does not match season, school_id, grade and pool_digest")
    return again
