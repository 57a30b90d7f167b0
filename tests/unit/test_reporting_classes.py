"""Sunshine classes by the school's own classes and class size (班数, 班额) when the season gives them."""

from __future__ import annotations

from enrollment.core.config import GeoPoint, School
from enrollment.term import reporting
from enrollment.term.classes import Student


def school(**per_grade: dict[int, int]) -> School:
    return School(
        id="S-CY-01",
        name="船营区第一实验小学",
        kind="public",
        district="CY",
        address="吉林市船营区松江路88号",
        location=GeoPoint(lat=43.85, lon=126.5),
        plans={1: 270, 7: 100},
        **per_grade,
    )


def students(n: int) -> list[Student]:
    return [Student(f"R-{i:03d}", "男" if i % 2 else "女", 1 + i % 12) for i in range(n)]


def test_without_classes_or_size_the_national_size_as_before() -> None:
    assert reporting.class_count(100, 1) == reporting.class_count(100, 1, school()) == 3  # 45 a class
    assert reporting.class_count(101, 7, school()) == 3  # 50 a class
    before = reporting.assign_school("2023", "S-CY-01", 1, students(100), "seed")
    assert before == reporting.assign_school("2023", "S-CY-01", 1, students(100), "seed", school())


def test_the_schools_classes_decide_never_more_than_the_children() -> None:
    six = school(classes={1: 6})
    assert reporting.class_count(100, 1, six) == 6
    assert reporting.class_count(4, 1, six) == 4  # a class is never empty
    assert reporting.class_count(100, 7, six) == 2  # grade 7 has no classes given: the national 50
    rec = reporting.assign_school("2023", "S-CY-01", 1, students(100), "seed", six)
    assert rec is not None and rec["class_count"] == 6
    assert sorted(len(c) for c in rec["classes"]) == [16, 16, 17, 17, 17, 17]  # type: ignore[attr-defined]


def test_the_schools_class_size_when_no_classes_are_given() -> None:
    small = school(class_size={1: 30}, classes={7: 3})
    assert reporting.class_count(100, 1, small) == 4  # ceil(100 / 30)
    assert reporting.class_count(100, 7, small) == 3  # classes win over any size
