"""Classes follow the corrections (R-CLASS-1, issue 18): amended, never reshuffled, and audited.

The sunshine classes are dealt over the sealed season's placed children; July's corrections (the
season of tests/unit/test_corrections.py, sealed in five batches) then move children into and out of
those schools. Each move is sealed as a class amendment chained to the classes addition: a joining
child goes to the class with the fewest children of their sex (ties: fewest children, then the lowest
number), a leaving child is taken out, nobody else moves; the audit replays it all.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from enrollment.archive import class_amendments as fmt
from enrollment.archive import contract
from enrollment.archive import corrections as chain_format
from enrollment.archive.class_audit import audit_class_amendments
from enrollment.archive.seal import seal_class_amendments
from enrollment.cli import main
from enrollment.corrections.model import Change, Correction, PlacementLine
from enrollment.term import classes
from enrollment.term.class_amendments import Event, Move, Rosters, amend, choose
from enrollment.term.classes import Sex
from tests.memory_lottery import MemoryArchive
from tests.unit import test_corrections as corrections_season
from tests.unit.test_corrections import BATCHES, YEAR, Chain

# the corrections' season and its sealed chain, built once per module as test_corrections builds them
config = corrections_season.config
placed_archive = corrections_season.placed_archive
chain = corrections_season.chain

CLASSES_SEALED = datetime(2023, 8, 25, 9, 0, tzinfo=UTC)


def sex_of(rid: str) -> Sex:
    """A synthetic child's sex: from the registration id, about half each."""
    return "男" if hashlib.sha256(rid.encode()).digest()[0] % 2 == 0 else "女"


class Registrations:
    """The registrations table as the seal reads it: every child's sex and birth date (synthetic)."""

    def __init__(self) -> None:
        self.reads: list[list[str]] = []

    def get_registrations(self, ids: Any) -> dict[str, dict[str, Any]]:
        ids = list(ids)
        self.reads.append(ids)
        return {
            rid: {
                "registration_id": rid,
                "request": {"child": {"sex": sex_of(rid), "birth_date": "2016-10-01"}},
            }
            for rid in ids
        }


def line(rid: str, school: str | None, route: str = "catchment") -> PlacementLine:
    status = None if school else "declined"
    return PlacementLine(registration_id=rid, grade=1, school_id=school, route=route, status=status)


def correction(cid: str, *changes: tuple[str, str | None, str | None]) -> Correction:
    return Correction(
        correction_id=cid,
        season=YEAR,
        kind="transfer",
        district="CY",
        actor="cy-staff-01",
        role="district",
        at=datetime(2023, 9, 2, 9, 0, tzinfo=UTC),
        reason="经两校同意，依规办理转学手续",
        changes=tuple(
            Change(
                registration_id=rid,
                before=line(rid, before) if before else None,
                after=line(rid, after),
            )
            for rid, before, after in changes
        ),
        consents=(
            {"school_id": "S-1", "given_by": "张校长", "given_at": "2023-09-01T09:00:00+08:00"},
            {"school_id": "S-2", "given_by": "李校长", "given_at": "2023-09-01T09:00:00+08:00"},
        ),
    )


def test_a_joining_child_goes_to_the_class_with_the_fewest_of_their_sex_then_the_smallest_then_the_first() -> (
    None
):
    sexes = {"b1": "男", "b2": "男", "b3": "男", "g1": "女", "g2": "女", "g3": "女"}
    of = sexes.__getitem__
    # class 2 has the fewest boys
    assert choose([{"b1", "g1"}, {"g2"}, {"b2", "b3"}], "男", of) == 2
    # boys tie (one each in 1 and 2): class 2 is the smaller
    assert choose([{"b1", "g1", "g2"}, {"b2", "g3"}, {"b3", "b1x"}], "男", lambda r: sexes.get(r, "男")) == 2
    # boys and sizes tie: the lowest number
    assert choose([{"g1", "b1"}, {"g2", "b2"}], "男", of) == 1
    with pytest.raises(ValueError, match="sex"):
        choose([{"g1"}], "x", of)  # type: ignore[arg-type]


def test_a_move_changes_only_the_moving_child() -> None:
    rosters = Rosters({("S-1", 1): [["a", "b"], ["c"]], ("S-2", 1): [["d"], ["e", "f"]]})
    before = {g: [set(c) for c in cs] for g, cs in rosters.classes.items()}
    sexes: dict[str, Sex] = {"a": "男", "b": "女", "c": "男", "d": "女", "e": "男", "f": "女", "n": "女"}
    moves = amend(
        rosters,
        [correction("C-0001", ("a", "S-1", "S-2")), correction("C-0002", ("n", None, "S-1"))],
        sexes.__getitem__,
    )
    assert [m.line() for m in moves] == [
        {
            "correction_id": "C-0001",
            "registration_id": "a",
            "school_id": "S-1",
            "grade": 1,
            "action": "leave",
            "class": 1,
        },
        # S-2: class 1 has no boy, class 2 one
        {
            "correction_id": "C-0001",
            "registration_id": "a",
            "school_id": "S-2",
            "grade": 1,
            "action": "join",
            "class": 1,
        },
        # S-1 after a left: class 1 {b (女)}, class 2 {c}: class 2 has no girl
        {
            "correction_id": "C-0002",
            "registration_id": "n",
            "school_id": "S-1",
            "grade": 1,
            "action": "join",
            "class": 2,
        },
    ]
    after = rosters.classes
    assert after[("S-1", 1)] == [{"b"}, {"c", "n"}] and after[("S-2", 1)] == [{"d", "a"}, {"e", "f"}]
    assert sum(len(c) for cs in before.values() for c in cs) + 1 == sum(
        len(c) for cs in after.values() for c in cs
    )
    # a child changed within the same school keeps their class: no move
    assert amend(rosters, [correction("C-0003", ("b", "S-1", "S-1"))], sexes.__getitem__) == []


def classes_addition(season_files: dict[str, bytes], signer: contract.LocalSigner) -> dict[str, bytes]:
    """The sunshine classes dealt over the sealed placements' children (all arrived), sealed."""
    groups: dict[tuple[str, int], list[str]] = {}
    for raw in season_files[contract.PLACEMENTS].decode().splitlines():
        doc = json.loads(raw)
        if doc["school_id"]:
            groups.setdefault((doc["school_id"], doc["grade"]), []).append(doc["registration_id"])
    files = {}
    for (school, grade), ids in sorted(groups.items()):
        students = [classes.Student(rid, sex_of(rid), 9) for rid in ids]
        rec = classes.assign(YEAR, school, grade, students, min(2, len(ids)), "0527").record()
        files[f"classes/{school}-g{grade}.json"] = contract.canonical_json(rec)
    return contract.seal(YEAR, files, signer, CLASSES_SEALED)


def under(archive: MemoryArchive, prefix: str) -> dict[str, bytes]:
    return {k[len(prefix) :]: v for k, v in archive.files.items() if k.startswith(prefix)}


@pytest.fixture(scope="module")
def amended(chain: Chain) -> MemoryArchive:
    """The bucket: the season, its classes, July's five correction batches, sealed as the daily task
    seals them: batches 1-3, the amendments; then 4-5, the amendments again (a rerun in between)."""
    archive = MemoryArchive()
    archive.files |= {f"seasons/{YEAR}/{k}": v for k, v in chain.season.items()}
    archive.files |= {
        f"additions/{YEAR}/classes/{k}": v for k, v in classes_addition(chain.season, chain.signer).items()
    }
    regs = Registrations()

    def seal() -> dict[str, Any]:
        return seal_class_amendments(YEAR, archive=archive, registrations=regs, signer=chain.signer)

    for upto in (3, BATCHES):
        for key, body in chain.additions.items():
            if int(key[:4]) <= upto:
                archive.files.setdefault(chain_format.root(YEAR) + key, body)
        answer = seal()
        assert answer["amended"] == "now", answer
        assert seal()["amended"] == "nothing"  # a rerun finds every batch amended
    return archive


def parts(archive: MemoryArchive) -> tuple[dict[str, bytes], ...]:
    return (
        under(archive, f"additions/{YEAR}/classes/"),
        under(archive, fmt.root(YEAR)),
        under(archive, f"seasons/{YEAR}/"),
        under(archive, chain_format.root(YEAR)),
    )


def sexes(archive: MemoryArchive) -> dict[str, Sex]:
    ids = set()
    for raw in archive.files[f"seasons/{YEAR}/{contract.PLACEMENTS}"].decode().splitlines():
        ids.add(json.loads(raw)["registration_id"])
    for key, body in archive.files.items():
        if key.endswith("/" + chain_format.PLACEMENTS) and key.startswith("additions/"):
            ids |= {json.loads(raw)["registration_id"] for raw in body.decode().splitlines()}
    return {rid: sex_of(rid) for rid in ids}


def moves_of(archive: MemoryArchive) -> list[dict[str, Any]]:
    lines = []
    for n in (1, 2):
        body = archive.files[fmt.prefix(YEAR, n) + fmt.AMENDMENTS]
        lines += [json.loads(raw) for raw in body.decode().splitlines()]
    return lines


def test_the_corrections_after_the_classes_are_sealed_as_amendments_that_pass_the_audit(
    amended: MemoryArchive,
) -> None:
    # two amendments: batches 1-3, then 4-5; chained to the classes addition
    first = json.loads(amended.files[fmt.prefix(YEAR, 1) + contract.MANIFEST])
    second = json.loads(amended.files[fmt.prefix(YEAR, 2) + contract.MANIFEST])
    assert (first["corrections_from"], first["corrections_through"]) == (1, 3)
    assert (second["corrections_from"], second["corrections_through"]) == (4, BATCHES)
    assert first["previous"] == contract.sha256_hex(amended.files[f"additions/{YEAR}/classes/manifest.json"])
    moves = moves_of(amended)
    actions = Counter(m["action"] for m in moves)
    assert actions["join"] >= 10 and actions["leave"] >= 3  # late children joined, decliners left
    # with the students' facts the class choice is checked too; without, the rest still is
    for facts in (sexes(amended), None):
        report = audit_class_amendments(*parts(amended), sexes=facts)
        assert report.ok, report.render()


def test_each_join_is_to_the_class_with_fewest_of_the_sex_and_every_child_is_in_one_class(
    amended: MemoryArchive,
) -> None:
    """The amendments replayed by hand over the dealt classes: nobody but the moving child changes."""
    classes_files, _, _, _ = parts(amended)
    rosters = {
        (rec["school_id"], rec["grade"]): [set(c) for c in rec["classes"]]
        for k, v in classes_files.items()
        if k.startswith("classes/") and (rec := json.loads(v))
    }
    for m in moves_of(amended):
        group = rosters[(m["school_id"], m["grade"])]
        if m["action"] == "join":
            same = [sum(1 for r in c if sex_of(r) == sex_of(m["registration_id"])) for c in group]
            assert same[m["class"] - 1] == min(same)
            group[m["class"] - 1].add(m["registration_id"])
        else:
            assert m["registration_id"] in group[m["class"] - 1]
            group[m["class"] - 1].discard(m["registration_id"])
    everyone = Counter(r for cs in rosters.values() for c in cs for r in c)
    assert everyone and max(everyone.values()) == 1


def resealed(
    archive: MemoryArchive, n: int, lines: list[dict[str, Any]], signer: contract.LocalSigner
) -> dict[str, bytes]:
    """Amendment n re-signed with other lines (as a forger holding the key would): only the replay can
    tell it is wrong."""
    classes_files, amendments, _, _ = parts(archive)
    doc = json.loads(amendments[f"{n:04d}/{contract.MANIFEST}"])
    previous = classes_files[contract.MANIFEST] if n == 1 else amendments[f"{n - 1:04d}/{contract.MANIFEST}"]
    events = [
        Move(
            Event(x["correction_id"], x["registration_id"], x["school_id"], x["grade"], x["action"]),
            x["class"],
        )
        for x in lines
    ]
    files = fmt.seal_amendment(
        YEAR,
        n,
        previous,
        (doc["corrections_from"], doc["corrections_through"]),
        events,
        signer=signer,
        created_at=datetime.fromisoformat(doc["created_at"]),
    )
    return {**amendments, **{f"{n:04d}/{k}": v for k, v in files.items()}}


def test_someone_else_moved_a_wrong_class_or_a_missing_amendment_fails_the_audit_naming_it(
    amended: MemoryArchive, chain: Chain
) -> None:
    classes_files, amendments, season, batches = parts(amended)
    facts = sexes(amended)
    body = amendments[f"0002/{fmt.AMENDMENTS}"].decode().splitlines()
    lines = [json.loads(raw) for raw in body]
    name = f"additions/{YEAR}/class-amendments/0002"
    # a child no correction moved, moved as well (the last amendment only: its own chain still holds)
    rec = json.loads(classes_files[next(k for k in sorted(classes_files) if k.startswith("classes/"))])
    bystander = rec["classes"][0][0]
    extra = {
        **lines[0],
        "registration_id": bystander,
        "action": "leave",
        "class": 1,
        "school_id": rec["school_id"],
    }
    forged = resealed(amended, 2, [*lines, extra], chain.signer)
    report = audit_class_amendments(classes_files, forged, season, batches, sexes=facts)
    assert not report.ok and any(name in p and "no correction requires" in p for p in report.problems), (
        report.render()
    )
    # a join to a class other than the one with the fewest of the child's sex
    j = next(i for i, x in enumerate(lines) if x["action"] == "join")
    count = len(json.loads(classes_files[f"classes/{lines[j]['school_id']}-g1.json"])["classes"])
    if count > 1:
        wrong = [*lines[:j], {**lines[j], "class": lines[j]["class"] % count + 1}, *lines[j + 1 :]]
        report = audit_class_amendments(
            classes_files, resealed(amended, 2, wrong, chain.signer), season, batches, sexes=facts
        )
        assert not report.ok and any(name in p and "fewest" in p for p in report.problems), report.render()
    # the last amendment withheld: the batches it follows are named
    dropped = {k: v for k, v in amendments.items() if not k.startswith("0002/")}
    report = audit_class_amendments(classes_files, dropped, season, batches, sexes=facts)
    assert not report.ok and any("no class amendment follows it" in p for p in report.problems)
    # one byte of the first amendment edited: named, and nothing after it replayed
    edited = dict(amendments)
    key = f"0001/{fmt.AMENDMENTS}"
    edited[key] = edited[key].replace(b'"join"', b'"joim"', 1)
    report = audit_class_amendments(classes_files, edited, season, batches, sexes=facts)
    assert not report.ok and any(f"additions/{YEAR}/class-amendments/0001" in p for p in report.problems)


def facts_file(path: Any, facts: dict[str, Sex]) -> str:
    lines = (
        json.dumps({"registration_id": r, "sex": x}, ensure_ascii=False) + "\n" for r, x in facts.items()
    )
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def test_enroll_audit_replays_the_amendments_from_the_buckets_root(
    amended: MemoryArchive, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the bucket copied to a folder, and the bureau's facts as JSON lines beside it
    root = tmp_path / "bucket"
    for key, body in amended.files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
    facts = facts_file(tmp_path / "students.jsonl", sexes(amended))
    # Then the root audits: the season, its corrections, the classes and their amendments
    assert main(["audit", str(root), "--season", YEAR, "--students", facts]) == 0
    out = capsys.readouterr().out
    assert "2 class amendments" in out and "fewest of the child's sex" in out
    # And facts giving a joining child the other sex (one whose class then differs) fail it, naming
    # the amendment
    joiners = [m["registration_id"] for m in moves_of(amended) if m["action"] == "join"]
    flipped = [{**sexes(amended), rid: ("女" if sex_of(rid) == "男" else "男")} for rid in joiners]
    other = next(f for f in flipped if not audit_class_amendments(*parts(amended), sexes=f).ok)
    assert (
        main(["audit", str(root), "--season", YEAR, "--students", facts_file(tmp_path / "x.jsonl", other)])
        == 1
    )
    assert f"additions/{YEAR}/class-amendments/000" in (failed := capsys.readouterr().out)
    assert "fewest children of the child's sex" in failed
    # facts that are not facts: unreadable, naming the line
    (tmp_path / "bad.jsonl").write_text('{"registration_id": "A01", "sex": "M"}\n', encoding="utf-8")
    assert main(["audit", str(root), "--season", YEAR, "--students", str(tmp_path / "bad.jsonl")]) == 2
    assert "bad.jsonl line 1" in capsys.readouterr().err


def test_nothing_before_the_classes_and_a_run_stopped_before_signing_is_signed_on_the_rerun(
    amended: MemoryArchive, chain: Chain
) -> None:
    regs = Registrations()
    # Given no classes sealed yet: nothing to amend, nothing read
    bare = MemoryArchive()
    bare.files = {k: v for k, v in amended.files.items() if not k.startswith(f"additions/{YEAR}/class")}
    answer = seal_class_amendments(YEAR, archive=bare, registrations=regs, signer=chain.signer)
    assert answer == {"season": YEAR, "amended": "no-classes"} and regs.reads == []
    # Given a run that wrote amendment 0002 but stopped before its signature
    stopped = MemoryArchive()
    where = fmt.prefix(YEAR, 2)
    dropped = (where + contract.SIGNATURE, where + contract.PUBLIC_KEY)
    stopped.files = {k: v for k, v in amended.files.items() if k not in dropped}
    assert not audit_class_amendments(*parts(stopped)).ok
    # When the task runs again, Then it signs 0002, reads no registration, and the chain audits
    answer = seal_class_amendments(YEAR, archive=stopped, registrations=regs, signer=chain.signer)
    assert answer["amended"] == "nothing" and regs.reads == []
    report = audit_class_amendments(*parts(stopped), sexes=sexes(stopped))
    assert report.ok, report.render()


@pytest.mark.parametrize("file", [fmt.AMENDMENTS, contract.MANIFEST, contract.SIGNATURE, contract.PUBLIC_KEY])
@pytest.mark.parametrize("n", [1, 2])
def test_one_byte_edited_in_an_amendment_fails_the_audit_naming_it(
    amended: MemoryArchive, n: int, file: str
) -> None:
    classes_files, amendments, season, batches = parts(amended)
    key = f"{n:04d}/{file}"
    for i, new in corrections_season.edits(amendments[key]):
        edited = bytearray(amendments[key])
        edited[i] = new
        report = audit_class_amendments(classes_files, {**amendments, key: bytes(edited)}, season, batches)
        assert not report.ok and any(
            f"additions/{YEAR}/class-amendments/{n:04d}" in p for p in report.problems
        )
    # a classes record that cannot be read is the classes audit's to name; this one does not crash
    broken = {**classes_files, next(k for k in classes_files if k.startswith("classes/")): b"{"}
    assert not audit_class_amendments(broken, amendments, season, batches).ok
