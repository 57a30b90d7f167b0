"""Audit the classes' amendments offline (docs/CLASSES.md, "Amendments"): what `enroll audit` runs.

`audit_class_amendments` takes the sunshine-classes addition, its amendments
(`additions/{season}/class-amendments/{nnnn}/`), the season's sealed `placements.jsonl` and its
correction batches, and checks, trusting nothing the amendments say about themselves:

- each amendment's files, manifest, signature by the season's key (the same key files as the classes
  addition), number, the chain from the classes addition's manifest, and its range of correction
  batches (contiguous from batch 1);
- replaying the corrections of that range in order over the classes as they stand, the amendment's
  lines are exactly the moves they require (`class_amendments.events`): nobody else moved, nobody
  missing; a leave names the child's class; a join names a class of the school;
- with the students' facts (`sexes`, from the bureau, as for `classes.replay`): each join is to the
  class with the fewest children of the child's sex at that moment (ties: fewest children, then the
  lowest number);
- after each amendment, every child of the classes is in exactly one class and placed at that school
  and grade as the corrections through its range leave the placements;
- after the last amendment, no correction batch requires a move that no amendment records.

Every problem names the amendment (`additions/{season}/class-amendments/0002`) or the correction
batch it concerns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from enrollment.archive import class_amendments as fmt
from enrollment.archive import contract as archive
from enrollment.archive import corrections as corrections_format
from enrollment.archive.audit import (
    CLASSES_LAYOUT,
    Report,
    _batches,
    _files,
    _json,
    _manifest,
    _same_key_problems,
    _signature,
)
from enrollment.corrections.model import Correction
from enrollment.term.class_amendments import RULE, Event, Move, Rosters, choose, events
from enrollment.term.classes import Sex

LABEL = "classes"


def rosters_of(classes_files: Mapping[str, bytes]) -> Rosters:
    """The classes as the addition sealed them, by (school, grade)."""
    found: dict[tuple[str, int], list[list[str]]] = {}
    for key in sorted(classes_files):
        if CLASSES_LAYOUT.match(key):
            try:
                rec = json.loads(classes_files[key])
                found[(str(rec["school_id"]), int(rec["grade"]))] = [list(c) for c in rec["classes"]]
            except (ValueError, KeyError, TypeError):
                continue  # the classes audit names the record that cannot be read
    return Rosters(found)


def batch_corrections(batch: Mapping[str, bytes]) -> list[Correction]:
    """A correction batch's corrections, in order (the corrections audit names what is malformed)."""
    body = batch.get(corrections_format.CORRECTIONS, b"").decode("utf-8", errors="replace")
    found = []
    for raw in body.splitlines():
        try:
            found.append(Correction.model_validate(json.loads(raw)))
        except (ValueError, ValidationError):
            continue
    return found


def _integrity(
    season: str, n: int, batch: Mapping[str, bytes], classes_files: Mapping[str, bytes], previous: bytes
) -> tuple[list[str], dict[str, Any] | None]:
    sub = Report()
    listed = _manifest(batch, sub)
    _files(batch, listed, sub, fmt.LAYOUT)
    _signature(batch, sub, lambda s, body: fmt.statement(s, n, body))
    problems = [detail for _, passed, detail in sub.checks if not passed]
    if fmt.AMENDMENTS not in batch:
        problems.append(f"{fmt.AMENDMENTS} is missing")
    doc, _ = _json(batch, archive.MANIFEST) if archive.MANIFEST in batch else (None, None)
    if not isinstance(doc, dict):
        return problems, None
    expected = {"format": fmt.FORMAT, "season": season, "n": n, "rule": RULE}
    problems += [
        f"{archive.MANIFEST}: {k} {doc.get(k)!r}, not {v!r}" for k, v in expected.items() if doc.get(k) != v
    ]
    if doc.get("previous") != archive.sha256_hex(previous):
        problems.append(
            f"{archive.MANIFEST}: previous {doc.get('previous')!r} is not the SHA-256 of the manifest before "
            f"it ({archive.sha256_hex(previous)}): the chain from the classes addition is broken here"
        )
    problems += _same_key_problems(season, batch, classes_files)
    return problems, doc


def _lines(batch: Mapping[str, bytes]) -> list[dict[str, Any]]:
    body = batch.get(fmt.AMENDMENTS, b"").decode("utf-8", errors="replace")
    out = []
    for raw in body.splitlines():
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            line = {"malformed": raw[:80]}
        out.append(line if isinstance(line, dict) else {"malformed": raw[:80]})
    return out


def _replay(
    rosters: Rosters,
    corrections: list[Correction],
    lines: list[dict[str, Any]],
    sexes: Mapping[str, Sex] | None,
) -> list[str]:
    """The amendment's lines against the moves its corrections require, each applied in turn."""
    problems: list[str] = []
    i = 0
    for correction in corrections:
        for e in events(rosters, correction):
            what = f"{e.registration_id} {e.action} {e.school_id} grade {e.grade} ({e.correction_id})"
            if i >= len(lines):
                problems.append(f"{fmt.AMENDMENTS}: no line for {what}, which the corrections require")
                return problems
            line, i = lines[i], i + 1
            at = f"{fmt.AMENDMENTS} line {i}"
            got = {
                k: line.get(k) for k in ("correction_id", "registration_id", "school_id", "grade", "action")
            }
            want = {
                "correction_id": e.correction_id,
                "registration_id": e.registration_id,
                "school_id": e.school_id,
                "grade": e.grade,
                "action": e.action,
            }
            if got != want:
                problems.append(
                    f"{at}: {json.dumps(got, ensure_ascii=False)} is not the move the corrections require "
                    f"next, {what}: a child moved who should not have, or one left out"
                )
                return problems
            found = _class_problem(rosters, e, line.get("class"), sexes)
            if found:
                problems.append(f"{at} ({e.registration_id}): {found}")
                return problems
            rosters.apply(Move(e, int(line["class"])))
    problems += [
        f"{fmt.AMENDMENTS} line {n}: {json.dumps(line, ensure_ascii=False)}: no correction requires this "
        "move (nobody else moves)"
        for n, line in enumerate(lines[i:], start=i + 1)
    ]
    return problems


def _class_problem(rosters: Rosters, e: Event, c: object, sexes: Mapping[str, Sex] | None) -> str | None:
    group = (e.school_id, e.grade)
    count = len(rosters.classes[group])
    if isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= count:
        return f"class {c!r} is not one of the school's classes 1-{count}"
    if e.action == "leave":
        held = rosters.class_of(e.registration_id, group)
        return None if held == c else f"leaves class {c}, but is in class {held}"
    if sexes is None:
        return None
    missing = [rid for rid in [e.registration_id, *set().union(*rosters.classes[group])] if rid not in sexes]
    if missing:
        return f"the students' facts lack {', '.join(sorted(missing)[:5])}: the class cannot be checked"
    right = choose(rosters.classes[group], sexes[e.registration_id], sexes.__getitem__)
    if right != c:
        return (
            f"joins class {c}, but class {right} has the fewest children of the child's sex "
            f"({RULE}: then the fewest children, then the lowest number)"
        )
    return None


def _placed_problems(rosters: Rosters, lines: Mapping[str, Mapping[str, Any]]) -> list[str]:
    problems = []
    seen: dict[str, tuple[str, int]] = {}
    for (school, grade), classes in sorted(rosters.classes.items()):
        for c, ids in enumerate(classes, start=1):
            for rid in sorted(ids):
                if rid in seen:
                    problems.append(f"{rid}: in class {c} of {school} and in {seen[rid]}")
                seen[rid] = (school, c)
                line = lines.get(rid) or {}
                if (line.get("school_id"), line.get("grade")) != (school, grade):
                    problems.append(
                        f"{rid}: in class {c} of {school} grade {grade}, but placed at "
                        f"{line.get('school_id')} grade {line.get('grade')}"
                    )
    return problems


def audit_class_amendments(
    classes_files: Mapping[str, bytes],
    amendments_files: Mapping[str, bytes],
    season_files: Mapping[str, bytes],
    corrections_files: Mapping[str, bytes],
    *,
    sexes: Mapping[str, Sex] | None = None,
) -> Report:
    """Every check of the module docstring; `sexes` (registration id -> 男/女): the bureau's facts."""
    report = Report(file_count=len(amendments_files))
    doc, _ = _json(classes_files, archive.MANIFEST) if archive.MANIFEST in classes_files else (None, None)
    season = str(doc.get("season")) if isinstance(doc, dict) else "?"
    report.season = season
    root = fmt.root(season)
    amendments, problems = _batches(season, amendments_files, root)
    chain, _ = _batches(season, corrections_files)
    rosters = rosters_of(classes_files)
    lines: dict[str, dict[str, Any]] = {}
    corrections_format.apply_lines(lines, season_files.get(archive.PLACEMENTS, b""))
    previous = classes_files.get(archive.MANIFEST, b"")
    through = 0
    for n in sorted(amendments):
        name = f"{root}{corrections_format.batch_name(n)}"
        found, manifest = _integrity(season, n, amendments[n], classes_files, previous)
        previous = amendments[n].get(archive.MANIFEST, b"")
        last = through
        if manifest is not None:
            first, given = manifest.get("corrections_from"), manifest.get("corrections_through")
            if isinstance(given, int) and not isinstance(given, bool):
                last = given
            if first != through + 1 or last < through + 1 or last not in chain:
                found.append(
                    f"{archive.MANIFEST}: corrections {first!r}-{given!r}, not a range of sealed correction "
                    f"batches from {through + 1:04d} (the batch after the previous amendment's)"
                )
        if found or manifest is None:
            problems += [f"{name}: {p}" for p in found]
            problems.append(f"{name}: not replayed, nor any amendment after it")
            break
        corrections = [c for m in range(through + 1, last + 1) for c in batch_corrections(chain[m])]
        problems += [f"{name}: {p}" for p in _replay(rosters, corrections, _lines(amendments[n]), sexes)]
        for m in range(through + 1, last + 1):
            corrections_format.apply_lines(lines, chain[m].get(corrections_format.PLACEMENTS, b""))
        problems += [f"{name}: after this amendment: {p}" for p in _placed_problems(rosters, lines)]
        through = last
    for m in sorted(k for k in chain if k > through):
        for c in batch_corrections(chain[m]):
            for e in events(rosters, c):
                problems.append(
                    f"{corrections_format.root(season)}{m:04d}: {e.correction_id} moves {e.registration_id} "
                    f"({e.action} {e.school_id} grade {e.grade}), but no class amendment follows it"
                )
                rosters.apply(Move(e, rosters.class_of(e.registration_id, (e.school_id, e.grade)) or 1))
    checked = (
        "each join to the class with the fewest of the child's sex"
        if sexes
        else ("the joins' classes not checked against sex: give the students' facts")
    )
    report.add(
        LABEL,
        problems,
        f"{len(amendments)} class amendments, chained from the classes addition and signed by the season's "
        f"key; exactly the moves the corrections require, nobody else moved, each child in one class; {checked}",
    )
    return report
