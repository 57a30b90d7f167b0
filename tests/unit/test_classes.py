"""Sunshine class assignment (R-CLASS-1), version sunshine-classes/1: balance, replay, the public DRBG."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enrollment.lottery import draw as lottery
from enrollment.term import classes
from enrollment.term.classes import ALGORITHM, Assignment, Student, assign, check, replay

WORKED_FACTS = [
    ("男", 9),
    ("女", 3),
    ("男", 1),
    ("女", 9),
    ("男", 9),
    ("女", 12),
    ("男", 5),
    ("女", 3),
    ("男", 8),
    ("女", 11),
]


def worked_students() -> list[Student]:
    return [Student(f"R{i:04d}", sex, month) for i, (sex, month) in enumerate(WORKED_FACTS, start=1)]  # type: ignore[arg-type]


def cohort(n: int, rng: random.Random, prefix: str = "R") -> list[Student]:
    sexes: tuple[Any, ...] = ("男", "女")
    return [Student(f"{prefix}{i:05d}", rng.choice(sexes), rng.randint(1, 12)) for i in range(n)]


def spread(assignment: Assignment, students: Sequence[Student], key: Callable[[Student], Hashable]) -> int:
    """The largest difference between two classes in the number of students with each key value but None."""
    by_id = {s.id: s for s in students}
    per_class = [Counter(key(by_id[rid]) for rid in ids) for ids in assignment.classes]
    values = {key(s) for s in students} - {None}  # None: not counted
    return max((max(c[v] for c in per_class) - min(c[v] for c in per_class) for v in values), default=0)


def age(month: int) -> int:
    return (month - 9) % 12  # September oldest


def band(lo: int, hi: int) -> Callable[[Student], Hashable]:
    """A student's sex if born in the age ranks lo..hi (a run of consecutive months), else None."""
    return lambda s: s.sex if lo <= age(s.birth_month) <= hi else None


def assert_balanced(a: Assignment, students: Sequence[Student], k: int) -> None:
    """The guarantees of docs/CLASSES.md, computed here independently of `check`."""
    sizes = [len(ids) for ids in a.classes]
    assert len(sizes) == k and min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    placed = [rid for ids in a.classes for rid in ids]
    assert sorted(placed) == sorted(s.id for s in students)  # every student exactly once
    assert spread(a, students, lambda s: s.sex) <= 1
    assert spread(a, students, lambda s: (s.sex, s.birth_month)) <= 1
    for lo in range(12):
        for hi in range(lo, 12):  # every run of consecutive months in age order, per sex
            assert spread(a, students, band(lo, hi)) <= 1
    assert check(students, a) == []


def reference_assignment(
    season: str, school: str, grade: int, students: Sequence[Student], k: int, seed: str
) -> list[list[str]]:
    """docs/CLASSES.md steps 1-7 written out again from the text, with the lottery's reference DRBG."""
    order0 = sorted((s.id for s in students), key=lambda x: x.encode())
    digest = hashlib.sha256("\n".join(order0).encode()).hexdigest()
    drbg = lottery.HmacDrbg(seed.encode(), f"{season}|{school}|{grade}|classes|{digest}".encode())
    shuffled = lottery.shuffle(order0, drbg)
    labels = list(range(1, k + 1))
    for i in range(k - 1, 0, -1):
        j = lottery.uniform(i + 1, drbg)
        labels[i], labels[j] = labels[j], labels[i]
    facts = {s.id: s for s in students}
    dealt = sorted(shuffled, key=lambda x: (0 if facts[x].sex == "男" else 1, age(facts[x].birth_month)))
    out: list[list[str]] = [[] for _ in range(k)]
    for p, rid in enumerate(dealt):
        out[labels[p % k] - 1].append(rid)
    return [sorted(ids, key=lambda x: x.encode()) for ids in out]


def test_worked_example_of_docs() -> None:
    a = assign("2023", "S-CY-01", 1, worked_students(), 3, "0527")
    assert a.pool_digest == "19b1370c4a10cc801cf6f7e6076b08b5ba1d521a91561e8483ac3bc98c7f42c8"
    assert a.students_digest == "051c26e3394f0fd5422273d0134b1fb8eeedeceaef39cbed98692ef6005622c9"
    assert a.nonce == f"2023|S-CY-01|1|classes|{a.pool_digest}"
    drbg = lottery.HmacDrbg(b"0527", a.nonce.encode())
    assert drbg.generate(8).hex() == "71d1c5ea83aae213"
    assert a.classes == [
        ["R0002", "R0005", "R0007", "R0010"],
        ["R0003", "R0004", "R0008"],
        ["R0001", "R0006", "R0009"],
    ]
    assert check(worked_students(), a) == []


def test_randomness_is_the_documented_drbg() -> None:
    # Given 30 students; when assigned
    students = cohort(30, random.Random(7))
    a = assign("2023", "S-CY-01", 1, students, 4, "ceremony-typed 8841")
    # Then the first permutation is LOTTERY.md's shuffle of order0 with the documented nonce and seed
    order0 = sorted((s.id for s in students), key=lambda x: x.encode())
    digest = hashlib.sha256("\n".join(order0).encode()).hexdigest()
    nonce = f"2023|S-CY-01|1|classes|{digest}"
    drbg = lottery.HmacDrbg(entropy=b"ceremony-typed 8841", nonce=nonce.encode())
    shuffled = lottery.shuffle(order0, drbg)
    facts = {s.id: s for s in students}
    dealt = sorted(shuffled, key=lambda x: (facts[x].sex != "男", age(facts[x].birth_month)))
    # the first dealt student is in the class the continued DRBG's label shuffle names first
    labels = [int(c) for c in lottery.shuffle(["1", "2", "3", "4"], drbg)]
    assert dealt[0] in a.classes[labels[0] - 1]
    assert a.record()["nonce"] == nonce and a.pool_digest == digest
    assert a.classes == reference_assignment("2023", "S-CY-01", 1, students, 4, "ceremony-typed 8841")


@pytest.mark.parametrize("trial", range(20))
def test_matches_the_written_out_reference(trial: int) -> None:
    rng = random.Random(trial)
    n = rng.randint(1, 80)
    k = rng.randint(1, min(n, 12))
    students = cohort(n, rng)
    seed = f"{rng.getrandbits(32):08x}"
    a = assign("2024", "S-CY-02", 7, students, k, seed)
    assert a.classes == reference_assignment("2024", "S-CY-02", 7, students, k, seed)


@pytest.mark.parametrize("n", [*range(1, 26), 37, 45, 60, 99, 100, 101, 240])
def test_balance_for_many_sizes_and_class_counts(n: int) -> None:
    rng = random.Random(n)
    students = cohort(n, rng)
    for k in sorted({1, 2, 3, 4, 5, 7, 8, 12, n - 1, n} & set(range(1, n + 1))):
        a = assign("2023", "S-CY-01", 1, students, k, f"seed-{n}-{k}")
        assert_balanced(a, students, k)


def test_sizes_differ_by_at_most_one_exhaustively_small() -> None:
    rng = random.Random(1)
    for n in range(1, 31):
        students = cohort(n, rng)
        for k in range(1, n + 1):
            sizes = sorted(len(ids) for ids in assign("2023", "S", 1, students, k, "s").classes)
            assert sizes == sorted([n // k + 1] * (n % k) + [n // k] * (k - n % k))


def test_skewed_cohorts_stay_balanced() -> None:
    # all boys; one birth month; boys all born in September and girls all in August
    all_boys = [Student(f"B{i:03d}", "男", 1 + i % 12) for i in range(41)]
    one_month = [Student(f"M{i:03d}", "女" if i % 3 else "男", 6) for i in range(38)]
    split = [Student(f"S{i:03d}", "男", 9) for i in range(17)] + [
        Student(f"T{i:03d}", "女", 8) for i in range(22)
    ]
    for students in (all_boys, one_month, split):
        for k in (2, 3, 5, 6):
            assert_balanced(assign("2023", "S-CY-01", 1, students, k, "x"), students, k)


def test_same_seed_same_classes_and_input_order_irrelevant() -> None:
    students = cohort(50, random.Random(3))
    a = assign("2023", "S-CY-01", 1, students, 3, "4412")
    shuffled = list(students)
    random.Random(9).shuffle(shuffled)
    assert assign("2023", "S-CY-01", 1, students, 3, "4412") == a
    assert assign("2023", "S-CY-01", 1, shuffled, 3, "4412").classes == a.classes
    assert assign("2023", "S-CY-01", 1, reversed(students), 3, "4412").classes == a.classes


def test_another_seed_school_grade_or_season_changes_the_classes() -> None:
    students = cohort(50, random.Random(3))
    a = assign("2023", "S-CY-01", 1, students, 3, "4412")
    assert assign("2023", "S-CY-01", 1, students, 3, "4413").classes != a.classes
    assert assign("2023", "S-CY-02", 1, students, 3, "4412").classes != a.classes
    assert assign("2023", "S-CY-01", 7, students, 3, "4412").classes != a.classes
    assert assign("2024", "S-CY-01", 1, students, 3, "4412").classes != a.classes


def test_class_numbers_and_the_extra_students_are_random() -> None:
    # 10 students in 3 classes: one class gets 4. Over many seeds every class number is the big one,
    # and the first dealt student (the oldest boy's group) lands in every class number.
    students = worked_students()
    big: Counter[int] = Counter()
    first: Counter[int] = Counter()
    for s in range(60):
        a = assign("2023", "S-CY-01", 1, students, 3, f"seed {s}")
        big[max(range(3), key=lambda c: len(a.classes[c])) + 1] += 1
        first[a.class_of()["R0001"]] += 1
    assert set(big) == {1, 2, 3} and set(first) == {1, 2, 3}


def test_record_is_json_ids_only_and_replays() -> None:
    students = cohort(64, random.Random(11))
    seed = classes.new_seed()
    assert re.fullmatch(r"[0-9a-f]{32}", seed)
    a = assign("2023", "S-CY-01", 1, students, 2, seed, seed_source="system")
    rec = json.loads(json.dumps(a.record(), ensure_ascii=False))
    assert set(rec) == {
        "format",
        "algorithm",
        "season",
        "school_id",
        "grade",
        "class_count",
        "seed",
        "seed_source",
        "nonce",
        "pool_digest",
        "students_digest",
        "classes",
    }
    assert rec["algorithm"] == ALGORITHM == "sunshine-classes/1" and rec["seed_source"] == "system"
    assert rec["seed"] == seed and rec["class_count"] == 2
    text = json.dumps(rec, ensure_ascii=False)
    assert "男" not in text and "女" not in text and "birth" not in text  # no personal facts
    # When replayed from the record and the students (in another order)
    again = replay(rec, list(reversed(students)))
    # Then the same classes
    assert again.classes == rec["classes"] == a.classes
    assert again == a


def test_replay_refuses_other_students_or_records() -> None:
    students = cohort(20, random.Random(5))
    rec = assign("2023", "S-CY-01", 1, students, 2, "77").record()
    flipped = [replace(students[0], sex="女" if students[0].sex == "男" else "男"), *students[1:]]
    with pytest.raises(ValueError, match="students_digest"):
        replay(rec, flipped)
    with pytest.raises(ValueError, match="pool_digest"):
        replay(rec, [*students, Student("R99999", "男", 3)])
    with pytest.raises(ValueError, match=r"record\.algorithm"):
        replay({**rec, "algorithm": "sunshine-classes/2"}, students)
    with pytest.raises(ValueError, match=r"record\.seed: missing"):
        replay({k: v for k, v in rec.items() if k != "seed"}, students)
    with pytest.raises(ValueError, match=r"record\.class_count: expected int"):
        replay({**rec, "class_count": "2"}, students)
    with pytest.raises(ValueError, match=r"record\.nonce"):
        replay({**rec, "nonce": "2023|S-CY-01|1|classes|0"}, students)
    # a tampered class list is not what the inputs give
    tampered = {**rec, "classes": [rec["classes"][1], rec["classes"][0]]}  # type: ignore[index]
    assert replay(tampered, students).classes != tampered["classes"]


def test_check_reports_broken_assignments() -> None:
    students = worked_students()
    a = assign("2023", "S-CY-01", 1, students, 3, "0527")
    c1, c2, c3 = a.classes
    lopsided = replace(a, classes=[[*c1, *c2[:2]], c2[2:], c3])
    problems = check(students, lopsided)
    assert any("class sizes differ" in p for p in problems)
    assert any(p.startswith("女 students") or p.startswith("男 students") for p in problems)
    missing = replace(a, classes=[c1[1:], c2, c3])
    assert f"{c1[0]} is in no class" in check(students, missing)
    twice = replace(a, classes=[c1, [*c2, c1[0]], c3])
    assert f"{c1[0]} is placed 2 times" in check(students, twice)
    unknown = replace(a, classes=[[*c1, "X1"], c2, c3])
    assert any("X1 is placed but is not one of the students" in p for p in check(students, unknown))
    empty = replace(a, classes=[[*c1, *c2], [], c3])
    assert "class 2 is empty" in check(students, empty)
    other_facts = [replace(s, birth_month=1 + s.birth_month % 12) for s in students]
    assert any("students_digest" in p for p in check(other_facts, a))


def test_check_names_the_unbalanced_month_run() -> None:
    # two boys born in September in the same class of two classes: that (sex, month) differs by two
    students = [Student("A", "男", 9), Student("B", "男", 9), Student("C", "女", 3), Student("D", "女", 3)]
    a = assign("2023", "S", 1, students, 2, "s")
    bad = replace(a, classes=[["A", "B"], ["C", "D"]])
    problems = check(students, bad)
    assert "男 students born in month 9 differ by more than one between classes: [2, 0]" in problems
    assert "男 students differ by more than one between classes: [2, 0]" in problems


def test_more_classes_than_students_is_refused_and_equal_is_allowed() -> None:
    students = worked_students()
    one_each = assign("2023", "S", 1, students, 10, "s")
    assert sorted(len(ids) for ids in one_each.classes) == [1] * 10
    with pytest.raises(ValueError, match=r"^classes: 11 classes for 10 students"):
        assign("2023", "S", 1, students, 11, "s")
    with pytest.raises(ValueError, match=r"^classes: 1 classes for 0 students"):
        assign("2023", "S", 1, [], 1, "s")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"classes": 0}, "classes"),
        ({"classes": -2}, "classes"),
        ({"classes": True}, "classes"),
        ({"seed": ""}, "seed"),
        ({"season": ""}, "season"),
        ({"school_id": ""}, "school_id"),
        ({"grade": 3}, "grade"),
        ({"seed_source": "guess"}, "seed_source"),
        ({"students": [Student("R1", "男", 1), Student("R1", "女", 2)]}, r"students\[1\]\.id"),
        ({"students": [Student("", "男", 1)]}, r"students\[0\]\.id"),
        ({"students": [Student("R1\nR2", "男", 1)]}, r"students\[0\]\.id"),
        ({"students": [Student("R1", "男", 1), Student("R2", "M", 2)]}, r"students\[1\]\.sex"),  # type: ignore[arg-type]
        ({"students": [Student("R1", "男", 0)]}, r"students\[0\]\.birth_month"),
        ({"students": [Student("R1", "男", 13)]}, r"students\[0\]\.birth_month"),
        ({"students": [Student("R1", "男", "3")]}, r"students\[0\]\.birth_month"),  # type: ignore[arg-type]
    ],
)
def test_validation_names_the_field(change: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "season": "2023",
        "school_id": "S-CY-01",
        "grade": 1,
        "students": worked_students(),
        "classes": 2,
        "seed": "0527",
        "seed_source": "ceremony",
        **change,
    }
    with pytest.raises(ValueError, match=rf"^{field}: "):
        assign(**args)


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[list[Student], int, str]:
    facts = draw(
        st.lists(st.tuples(st.sampled_from(["男", "女"]), st.integers(1, 12)), min_size=1, max_size=60)
    )
    ids = draw(
        st.lists(
            st.text(min_size=1, max_size=6).filter(lambda x: "\n" not in x),
            min_size=len(facts),
            max_size=len(facts),
            unique=True,
        )
    )
    k = draw(st.integers(1, len(facts)))
    seed = draw(st.text(min_size=1, max_size=8))
    return [Student(rid, sex, month) for rid, (sex, month) in zip(ids, facts, strict=True)], k, seed  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(cohorts())
def test_property_balanced_and_replayable(case: tuple[list[Student], int, str]) -> None:
    students, k, seed = case
    a = assign("2023", "S-CY-01", 7, students, k, seed)
    assert_balanced(a, students, k)
    assert replay(json.loads(json.dumps(a.record())), students) == a
    assert a.classes == reference_assignment("2023", "S-CY-01", 7, students, k, seed)
