"""Sealing the season's archive and its sunshine-classes addition (R-OPEN-1, R-LOT-3, R-CLASS-1).

`seal_season` reads what the season has archived under `seasons/{season}/` (the private-admission
records, `placements.jsonl`, the placement tie-break), adds `season.json` (the config as it was
used), and writes `manifest.json`, `manifest.sig.json` (over LOTTERY.md's statement) and
`public-key.pem`. The sunshine classes are drawn in three steps of the workflow, so that no task
reads the whole season's arrivals: `list_class_groups` lists the placed (school, grade) groups,
`draw_school_classes` assigns one group's arrived children to balanced random classes (a Map
iteration each), and `seal_classes` seals the class lists as an addition under
`additions/{season}/classes/` with their own manifest, signature and public key, so the season's
archive is never rewritten. Nothing is ever rewritten: a rerun finds either sealed and changes nothing.
`write_corrections` seals a batch of corrections after the results as the next addition of the
season's chain under `additions/{season}/corrections/` (`enrollment.archive.corrections`), and
`seal_class_amendments` the moves those batches make into and out of the sealed classes as the next
amendment under `additions/{season}/class-amendments/` (`enrollment.archive.class_amendments`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from enrollment.archive import class_amendments as amendments_format
from enrollment.archive import class_audit, contract
from enrollment.archive import corrections as corrections_format
from enrollment.core.config import School, SeasonConfig
from enrollment.core.ports import Archive, NotFound, Refused, Registrations, Seeds
from enrollment.corrections.model import Correction
from enrollment.term import class_amendments, reporting
from enrollment.term.classes import Sex


class Listing(Protocol):
    def __call__(self, prefix: str) -> Mapping[str, bytes]:
        """Every archived object under `prefix`, by its key below it (ArchiveUnreadable if none)."""
        ...


def seal_season(
    config: SeasonConfig,
    season: str,
    *,
    archive: Archive,
    listing: Listing,
    signer: contract.Signer,
    now: datetime,
) -> dict[str, Any]:
    """Seal `seasons/{season}/` once; `{"sealed": "already"}` when its manifest is there."""
    prefix = f"seasons/{season}/"
    existing = listing(prefix)
    if contract.MANIFEST in existing:
        return {"sealed": "already", "files": len(existing) - len(contract.NOT_IN_MANIFEST)}
    files = {k: v for k, v in existing.items() if k not in contract.NOT_IN_MANIFEST}
    files[contract.SEASON] = contract.canonical_json(contract.season_json(config))
    contract.assert_no_personal_data(files)  # registration ids only (LOTTERY.md)
    sealed = contract.seal(season, files, signer, now.astimezone(config.tz))
    for key in [contract.SEASON, *contract.NOT_IN_MANIFEST]:  # every other file is already there
        archive.put_once(prefix + key, sealed[key])
    return {
        "sealed": "now",
        "files": len(files),
        "manifest_sha256": contract.sha256_hex(sealed[contract.MANIFEST]),
    }


class StagedFiles(Protocol):
    """The workflow's work bucket, where the classes' steps leave their parts for the next step."""

    def put_json(self, key: str, value: Any) -> None: ...

    def get_json(self, key: str) -> Any: ...


def _classes_work(season: str) -> str:
    return f"seasons/{season}/classes/"


def _group_name(school_id: str, grade: int) -> str:
    return f"{school_id}-g{grade}"


def list_class_groups(season: str, *, archive: Archive, work: StagedFiles) -> dict[str, Any]:
    """The placed (school, grade) groups the classes are drawn for, one Map iteration each.

    `placements.jsonl` is read a line at a time (only the ids are kept): each group's placed ids, in
    the file's order, and the list of groups with the season's count of placed children are staged
    in the work bucket. What travels in the state is the groups alone (a few hundred at most); none
    when the addition is already sealed, so a rerun draws nothing.
    """
    if archive.get(f"additions/{season}/classes/{contract.MANIFEST}") is not None:
        return {"sealed": "already", "groups": []}
    body = archive.get(f"seasons/{season}/{contract.PLACEMENTS}") or b""
    placed: dict[tuple[str, int], list[str]] = {}
    for raw in io.BytesIO(body):
        if not raw.strip():
            continue
        line = json.loads(raw)
        if line["school_id"]:
            placed.setdefault((line["school_id"], int(line["grade"])), []).append(line["registration_id"])
    del body
    groups = sorted(placed)
    for school_id, grade in groups:
        name = _group_name(school_id, grade)
        work.put_json(f"{_classes_work(season)}placed/{name}.json", placed[(school_id, grade)])
    listed = [{"school_id": school_id, "grade": grade} for school_id, grade in groups]
    total = sum(len(ids) for ids in placed.values())
    work.put_json(f"{_classes_work(season)}groups.json", {"groups": listed, "placed": total})
    return {"sealed": "pending", "groups": listed, "placed": total}


def draw_school_classes(
    season: str,
    school_id: str,
    grade: int,
    *,
    work: StagedFiles,
    arrivals: reporting.SchoolArrivals,
    registrations: Registrations,
    seeds: Seeds,
    school: School | None = None,
) -> dict[str, Any]:
    """One school and grade's sunshine classes: its arrived children dealt with the seed of
    `classes/{season}/{school_id}-g{grade}`, the record's canonical JSON staged for the seal (none
    when nobody came); `school`'s config decides the number of classes when it gives them or their
    size. Reads one school's arrivals and its children's registrations only."""
    name = _group_name(school_id, grade)
    placed = work.get_json(f"{_classes_work(season)}placed/{name}.json")
    students = reporting.school_students(
        season, school_id, placed, arrivals=arrivals, registrations=registrations
    )
    seed = seeds.new_seed(f"classes/{season}/{name}")
    rec = reporting.assign_school(season, school_id, grade, students, seed, school)
    file = contract.canonical_json(rec).decode() if rec is not None else None
    work.put_json(f"{_classes_work(season)}drawn/{name}.json", {"file": file})
    return {"school_id": school_id, "grade": grade, "students": len(students)}


def seal_classes(
    config: SeasonConfig,
    season: str,
    *,
    archive: Archive,
    work: StagedFiles,
    signer: contract.Signer,
    now: datetime,
    not_drawn: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    """Each placed school and grade's classes, as drawn and staged by `draw_school_classes`, sealed
    under `additions/{season}/classes/` (every group listed must have been drawn: a missing one
    fails the seal, nothing partial is sealed); `{"sealed": "already"}` when its manifest is there.

    `not_drawn`: the groups whose draw failed for good this run (their dead letters). The addition
    is sealed once and whole, so nothing is sealed: `{"sealed": "incomplete"}` names them, and the
    workflow pauses for the city to fix the cause and draw again."""
    prefix = f"additions/{season}/classes/"
    if archive.get(prefix + contract.MANIFEST) is not None:
        return {"sealed": "already"}
    if not_drawn:
        names = sorted(_group_name(school_id, grade) for school_id, grade in not_drawn)
        return {
            "sealed": "incomplete",
            "not_drawn": names,
            "cause": f"classes not drawn for {', '.join(names)} (see the districts' dead letters); "
            "nothing sealed: fix the cause and resume, every school is drawn again",
        }
    listed = work.get_json(f"{_classes_work(season)}groups.json")
    files: dict[str, bytes] = {}
    for group in listed["groups"]:
        name = _group_name(str(group["school_id"]), int(group["grade"]))
        staged = work.get_json(f"{_classes_work(season)}drawn/{name}.json")
        if staged["file"] is not None:
            files[f"classes/{name}.json"] = str(staged["file"]).encode()
    sealed = contract.seal(season, files, signer, now.astimezone(config.tz))
    for key, data in sealed.items():
        archive.put_once(prefix + key, data)
    return {"sealed": "now", "schools": len(files), "students": int(listed["placed"])}


def write_corrections(
    season: str,
    n: int,
    corrections: Sequence[Correction],
    *,
    archive: Archive,
    signer: contract.Signer,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """Seal correction batch `n` under `additions/{season}/corrections/{nnnn}/` (docs/ARCHIVE.md,
    "Corrections"), chained to batch n - 1's manifest (to the sealed season's for n = 1) and signed
    with the season's key; written once (Object Lock).

    Nothing is written unless the batch can be written whole: the previous manifest must be there,
    the signer's key must be the season's, each change's `before` must be the child's line as the
    sealed placements and batches 1 .. n-1 leave it, and a batch `n` already there must hold the same
    corrections (the same bytes, then `{"sealed": "already"}`; else `CorrectionsConflict`). Its
    signature, if already written, is kept (ECDSA signatures differ each time they are made)."""
    prefix = corrections_format.batch_prefix(season, n)
    named = prefix.rstrip("/")  # additions/{season}/corrections/{nnnn}, as the audit names it
    before = (
        f"seasons/{season}/{contract.MANIFEST}"
        if n == 1
        else corrections_format.batch_prefix(season, n - 1) + contract.MANIFEST
    )
    previous = archive.get(before)
    if previous is None:
        raise corrections_format.CorrectionsConflict(
            f"{named}: {before} is not there; batches are sealed in order from the sealed season"
        )
    season_key = archive.get(f"seasons/{season}/{contract.PUBLIC_KEY}")
    if season_key is not None and contract.key_fingerprint(season_key) != contract.key_fingerprint(
        signer.public_key_pem()
    ):
        raise corrections_format.CorrectionsConflict(
            f"{named}: the signer {signer.key_id()} is not the season's key (seasons/{season}/public-key.pem)"
        )
    sealed = corrections_format.seal_corrections(
        season, n, corrections, contract.sha256_hex(previous), signer=signer, created_at=created_at
    )
    # what stands: the sealed placements and every earlier batch's new lines (a batch whose befores do
    # not match could never pass the audit, and Object Lock would keep it for good)
    lines: dict[str, dict[str, Any]] = {}
    for key in [f"seasons/{season}/{contract.PLACEMENTS}"] + [
        corrections_format.batch_prefix(season, m) + corrections_format.PLACEMENTS for m in range(1, n)
    ]:
        corrections_format.apply_lines(lines, archive.get(key) or b"")
    if wrong := corrections_format.before_problems(lines, corrections):
        raise corrections_format.CorrectionsConflict(f"{named}: nothing written: {'; '.join(wrong[:10])}")
    data = [*corrections_format.DATA_FILES, contract.MANIFEST]
    existing = {key: archive.get(prefix + key) for key in [*data, contract.SIGNATURE]}
    differ = [key for key in data if existing[key] is not None and existing[key] != sealed[key]]
    if differ:
        raise corrections_format.CorrectionsConflict(
            f"{named} is sealed with other content ({', '.join(differ)}): an addition is never rewritten"
        )
    already = all(existing[key] is not None for key in [*data, contract.SIGNATURE])
    for key in data:
        archive.put_once(prefix + key, sealed[key])
    if existing[contract.SIGNATURE] is None:
        archive.put_once(prefix + contract.SIGNATURE, sealed[contract.SIGNATURE])
    archive.put_once(prefix + contract.PUBLIC_KEY, sealed[contract.PUBLIC_KEY])
    return {
        "sealed": "already" if already else "now",
        "n": n,
        "prefix": prefix,
        "corrections": len(corrections),
        "manifest_sha256": contract.sha256_hex(sealed[contract.MANIFEST]),
        "head": corrections_format.head(n, sealed[contract.MANIFEST]),  # what the bureau publishes
    }


class PendingCorrections(Protocol):
    """The corrections store as the sealer sees it (`DynamoCorrectionStore`)."""

    def pending_corrections(self, season: str) -> list[Correction]: ...

    def mark_sealed(self, season: str, ids: Sequence[str], n: int) -> None: ...


def _last_batch(season: str, archive: Archive) -> int:
    """The highest batch number written under `additions/{season}/corrections/` (0 for none): the
    batches are numbered from 1 without a gap, so the first missing manifest ends the chain."""
    n = 0
    while n < corrections_format.MAX_BATCHES and archive.get(
        corrections_format.batch_prefix(season, n + 1) + contract.MANIFEST
    ):
        n += 1
    return n


def _batch_ids(season: str, n: int, archive: Archive) -> list[str]:
    body = archive.get(corrections_format.batch_prefix(season, n) + corrections_format.CORRECTIONS) or b""
    return [json.loads(raw)["correction_id"] for raw in body.decode("utf-8").splitlines() if raw.strip()]


def seal_pending_corrections(
    season: str, *, store: PendingCorrections, archive: Archive, signer: contract.Signer
) -> dict[str, Any]:
    """Seal the season's pending corrections, in the order written, as the next batch of its chain,
    then mark them sealed in the store (the `seal-corrections` task: daily, and on demand by city
    staff through the place API, issue 18). Answers what it sealed: `{"season", "sealed": "now" |
    "already" | "nothing", "batches": [{"n", "corrections"}, ...], "corrections"}`.

    Safe to rerun: a run stopped after writing its batch but before marking it finds the last batch
    holding pending corrections; it writes that batch again (the same bytes, "already": its
    `created_at` is the latest correction's time, so nothing differs) and marks them, then seals any
    corrections written since as the batch after it. Nothing pending: nothing is written."""
    pending = store.pending_corrections(season)
    last = _last_batch(season, archive)
    results: list[dict[str, Any]] = []
    if last and pending:
        ids = _batch_ids(season, last, archive)
        first = [c.correction_id for c in pending[: len(ids)]]
        if ids == first:  # the last batch was written, its marks were not
            results.append(
                write_corrections(season, last, pending[: len(ids)], archive=archive, signer=signer)
            )
            store.mark_sealed(season, ids, last)
            pending = pending[len(ids) :]
        elif set(ids) & {c.correction_id for c in pending}:
            raise corrections_format.CorrectionsConflict(
                f"{corrections_format.batch_prefix(season, last)}: holds pending corrections, but not as the "
                "first pending ones in order; nothing written"
            )
    if pending:
        results.append(write_corrections(season, last + 1, pending, archive=archive, signer=signer))
        store.mark_sealed(season, [c.correction_id for c in pending], last + 1)
    return {
        "season": season,
        "sealed": "now"
        if any(r["sealed"] == "now" for r in results)
        else ("already" if results else "nothing"),
        "batches": [{"n": r["n"], "corrections": r["corrections"]} for r in results],
        "corrections": sum(int(r["corrections"]) for r in results),
        # the chain's last batch, published so an auditor sees none withheld (`enroll audit --head`)
        "head": results[-1]["head"] if results else None,
    }


def _class_rosters(season: str, archive: Archive, manifest: bytes) -> class_amendments.Rosters:
    """The sealed classes addition's classes by (school, grade), as its manifest lists them."""
    root = amendments_format.classes_root(season)
    listed = [e["key"] for e in json.loads(manifest)["files"]]
    return class_audit.rosters_of({k: archive.get(root + k) or b"" for k in listed})


class _SexOf:
    """Each child's sex from their registration, read in batches for the schools a seal touches."""

    def __init__(self, registrations: Registrations) -> None:
        self.registrations, self.known = registrations, dict[str, Sex]()

    def prefetch(self, ids: Iterable[str]) -> None:
        wanted = sorted({rid for rid in ids if rid not in self.known})
        found = self.registrations.get_registrations(wanted) if wanted else {}
        if missing := [rid for rid in wanted if rid not in found]:
            raise NotFound(", ".join(missing[:10]))
        self.known |= {rid: reporting.student(reg).sex for rid, reg in found.items()}

    def __call__(self, registration_id: str) -> Sex:
        if registration_id not in self.known:
            self.prefetch([registration_id])
        return self.known[registration_id]


def seal_class_amendments(
    season: str, *, archive: Archive, registrations: Registrations, signer: contract.Signer
) -> dict[str, Any]:
    """The moves of the correction batches sealed since the last class amendment, sealed as the next
    amendment under `additions/{season}/class-amendments/` (docs/CLASSES.md, "Amendments"), chained to
    the one before it (to the classes addition's manifest for the first). Run after the corrections are
    sealed (the daily `seal-corrections` task). Nothing to do before the classes are sealed, or when the
    new batches move nobody into or out of a school's classes.

    Safe to rerun: the amendments written are read back and applied, so a batch is never amended twice;
    the bytes are a function of the archive (`created_at` is the latest correction's time), so a run
    stopped half way writes the same files again; an amendment whose signature is missing is signed."""
    classes_manifest = archive.get(amendments_format.classes_root(season) + contract.MANIFEST)
    if classes_manifest is None:
        return {"season": season, "amended": "no-classes"}
    last_batch = _last_batch(season, archive)
    previous, n, through = classes_manifest, 0, 0
    while (body := archive.get(amendments_format.prefix(season, n + 1) + contract.MANIFEST)) is not None:
        n += 1
        where = amendments_format.prefix(season, n)
        if archive.get(where + contract.SIGNATURE) is None:  # stopped before signing: sign it now
            text = amendments_format.statement(season, n, body)
            archive.put_once(where + contract.SIGNATURE, contract.signature_json(text, signer))
            archive.put_once(where + contract.PUBLIC_KEY, signer.public_key_pem())
        previous, through = body, int(json.loads(body)["corrections_through"])
    if through >= last_batch:  # the daily run reads the amendments' manifests only
        return {"season": season, "amended": "nothing", "amendments": n}
    rosters = _class_rosters(season, archive, classes_manifest)
    for m in range(1, n + 1):  # the classes as the amendments so far left them
        body = archive.get(amendments_format.prefix(season, m) + amendments_format.AMENDMENTS) or b""
        for raw in body.decode().splitlines():
            line = json.loads(raw)
            event = class_amendments.Event(
                line["correction_id"],
                line["registration_id"],
                line["school_id"],
                line["grade"],
                line["action"],
            )
            rosters.apply(class_amendments.Move(event, int(line["class"])))
    corrections = [
        Correction.model_validate(json.loads(raw))
        for m in range(through + 1, last_batch + 1)
        for raw in (
            archive.get(corrections_format.batch_prefix(season, m) + corrections_format.CORRECTIONS) or b""
        )
        .decode()
        .splitlines()
        if raw.strip()
    ]
    sex_of = _SexOf(registrations)
    groups = set(rosters.classes)
    joining = [
        ch.registration_id
        for c in corrections
        for ch in c.changes
        if ch.after.school_id is not None and (ch.after.school_id, ch.after.grade) in groups
    ]
    touched = {
        (ch.after.school_id, ch.after.grade) for c in corrections for ch in c.changes if ch.after.school_id
    }
    # the children of the classes a child may join, and the joiners: one batched read, no more
    sex_of.prefetch(joining + [rid for g in touched & groups for ids in rosters.classes[g] for rid in ids])
    moves = class_amendments.amend(rosters, corrections, sex_of)
    if not moves:
        return {"season": season, "amended": "nothing", "amendments": n}
    sealed = amendments_format.seal_amendment(
        season,
        n + 1,
        previous,
        (through + 1, last_batch),
        moves,
        signer=signer,
        created_at=max(c.at for c in corrections),
    )
    where = amendments_format.prefix(season, n + 1)
    for key in [amendments_format.AMENDMENTS, contract.MANIFEST, contract.SIGNATURE, contract.PUBLIC_KEY]:
        archive.put_once(where + key, sealed[key])
    return {
        "season": season,
        "amended": "now",
        "amendments": n + 1,
        "corrections": [through + 1, last_batch],
        "moves": len(moves),
    }


class SealNotDone(Refused):
    """The seal of the pending corrections, asked on demand, did not complete (the seal function's
    error named, in English only); whatever it did not write stays pending for the next run.

    409 when the archive disagrees with the pending corrections (`CorrectionsConflict`: nothing was
    written, a person must look); else 503: the daily run, or a retry, seals the same corrections."""

    def __init__(self, error_type: str, message: str) -> None:
        conflict = error_type == corrections_format.CorrectionsConflict.__name__
        self.status = 409 if conflict else 503
        super().__init__(
            "归档中已有的更正批次与待封存的更正不一致，未写入任何内容，请联系技术支持核对"
            if conflict
            else "更正暂未封存，请稍后重试；每日凌晨3时的自动封存也会封存这些更正",
            f"the corrections were not sealed ({error_type}: {message})",
        )
