"""Corrections after the results as signed additions: `additions/{season}/corrections/{n}/` (issue 18).

The season's sealed archive is never rewritten (Object Lock). A correction batch is sealed beside it
as an addition, numbered from 1 without a gap, its directory named by `n` zero-padded to four digits
(`0001`, `0002`, ...). Each batch holds:

- `corrections.jsonl`: one line per correction, in the order applied (`correction_line`): what
  changed for each child (the `placements.jsonl` line before, or null for a child the season did not
  list yet, and the line after), who, with which role, when, why, the reason codes, the schools'
  consents, the complaint it answers and the correction it follows;
- `placements.jsonl`: the batch's new lines, one per child the batch changed (its line after the
  batch's last change of it), in LOTTERY.md's placement fields, sorted by registration id;
- `manifest.json`: `format`, `season`, `n`, `previous` (the SHA-256 of the previous batch's exact
  `manifest.json` bytes, or of the sealed season's `seasons/{season}/manifest.json` for n = 1: the
  batches form a hash chain from the sealed season), `created_at` and `files` (as the season's);
- `manifest.sig.json`: the season's signature object over the statement
  `"enrollment-corrections/1\\n{season}\\n{n}\\n{sha256 of manifest.json}\\n"`, signed by the season's key;
- `public-key.pem`: that key (the season's).

Building the bytes is pure (`build`, `seal_files`, `seal_corrections`; the signer is an argument, as
for `contract.seal`); writing them to the archive bucket is `enrollment.archive.seal.write_corrections`.
The offline audit is `enrollment.archive.audit.audit(files, corrections=...)`; docs/ARCHIVE.md,
"Corrections", is the format an auditor checks with their own code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from enrollment.archive import contract
from enrollment.corrections.model import Correction, PlacementLine

FORMAT = "enrollment-corrections/1"
STATEMENT_VERSION = "enrollment-corrections/1"
CORRECTIONS = "corrections.jsonl"
PLACEMENTS = contract.PLACEMENTS
DATA_FILES = (CORRECTIONS, PLACEMENTS)
LAYOUT = re.compile(r"^(corrections\.jsonl|placements\.jsonl)$")
DIGITS = 4  # a batch's directory: n zero-padded to four digits
MAX_BATCHES = 10**DIGITS - 1
BATCH_NAME = re.compile(r"^[0-9]{4}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class CorrectionsConflict(Exception):
    """A batch cannot be written: its predecessor is missing, another key signs, or it is already
    there with other content (the archive is never rewritten)."""


def root(season: str) -> str:
    """Where a season's correction batches live in the archive bucket."""
    return f"additions/{season}/corrections/"


def batch_name(n: int) -> str:
    """`n`'s directory: `0001` for 1."""
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_BATCHES:
        raise ValueError(f"n {n!r}: a batch is numbered 1 to {MAX_BATCHES}")
    return f"{n:0{DIGITS}d}"


def batch_prefix(season: str, n: int) -> str:
    """`additions/{season}/corrections/{nnnn}/`."""
    return f"{root(season)}{batch_name(n)}/"


def head(n: int, manifest_bytes: bytes) -> str:
    """The chain's head as the bureau publishes it after sealing batch `n`: `"{nnnn}:{sha256}"`, the
    batch's number and the SHA-256 of its `manifest.json` (what `enroll audit --head` checks)."""
    return f"{batch_name(n)}:{contract.sha256_hex(manifest_bytes)}"


def parse_head(text: str) -> tuple[int, str]:
    """`head`'s `n` and digest (ValueError naming the form when it is not one)."""
    name, _, digest = text.partition(":")
    if not BATCH_NAME.match(name) or int(name) == 0 or not _HEX64.match(digest):
        raise ValueError(f"head {text!r}: expected NNNN:SHA256 (e.g. 0003:<64 lowercase hex digits>)")
    return int(name), digest


def statement(season: str, n: int, manifest_bytes: bytes) -> str:
    """What a batch's signature signs: the version, the season, n and the SHA-256 of its manifest."""
    return f"{STATEMENT_VERSION}\n{season}\n{n}\n{contract.sha256_hex(manifest_bytes)}\n"


def jsonl(lines: Sequence[Mapping[str, Any]]) -> bytes:
    """One JSON object a line, UTF-8, each line ended by a newline (the style of `placements.jsonl`)."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def correction_line(c: Correction) -> dict[str, Any]:
    """A correction as `corrections.jsonl` holds it: every field of the model, the placement lines in
    `placements.jsonl`'s form (`PlacementLine.as_line`), times in ISO 8601 with their offset."""
    return {
        "correction_id": c.correction_id,
        "season": c.season,
        "kind": c.kind,
        "district": c.district,
        "actor": c.actor,
        "role": c.role,
        "at": c.at.isoformat(),
        "reason": c.reason,
        "reason_codes": list(c.reason_codes),
        "changes": [
            {
                "registration_id": ch.registration_id,
                "before": ch.before.as_line() if ch.before is not None else None,
                "after": ch.after.as_line(),
            }
            for ch in c.changes
        ],
        "consents": [
            {"school_id": k.school_id, "given_by": k.given_by, "given_at": k.given_at.isoformat()}
            for k in c.consents
        ],
        "complaint_id": c.complaint_id,
        "follows": c.follows,
    }


def after_batch(corrections: Sequence[Correction]) -> dict[str, PlacementLine]:
    """Each changed child's line after the batch (its last change), checking that a child changed twice
    in the batch is changed from the line the batch's earlier change gave it."""
    last: dict[str, PlacementLine] = {}
    for c in corrections:
        for ch in c.changes:
            rid = ch.registration_id
            if rid in last and ch.before != last[rid]:
                raise ValueError(
                    f"{c.correction_id}: changes[{rid}].before is not the line an earlier correction of "
                    "this batch gave the child"
                )
            last[rid] = ch.after
    return last


def comparable(line: Mapping[str, Any]) -> dict[str, Any]:
    """A line's fields that are set (`school_id` always): how a `before` is compared with a line."""
    return {k: v for k, v in line.items() if v is not None or k == "school_id"}


def apply_lines(lines: dict[str, dict[str, Any]], body: bytes) -> None:
    """The lines of a `placements.jsonl` (the season's, or a batch's new lines) over `lines`, by child."""
    for raw in body.decode("utf-8").splitlines():
        if raw.strip():
            line = json.loads(raw)
            lines[line["registration_id"]] = line


def before_problems(lines: Mapping[str, Mapping[str, Any]], corrections: Sequence[Correction]) -> list[str]:
    """Each change whose `before` is not the child's line as it stands (`lines`, then the batch's own
    earlier changes); null only for a child not listed yet."""
    current = {rid: comparable(line) for rid, line in lines.items()}
    problems = []
    for c in corrections:
        for ch in c.changes:
            rid = ch.registration_id
            stands = current.get(rid)
            given = comparable(ch.before.as_line()) if ch.before is not None else None
            if given != stands:
                problems.append(
                    f"{c.correction_id}: {rid}: before {json.dumps(given, ensure_ascii=False)} is not the "
                    f"child's line as it stands, {json.dumps(stands, ensure_ascii=False)}"
                )
            current[rid] = comparable(ch.after.as_line())
    return problems


def build(season: str, corrections: Sequence[Correction]) -> dict[str, bytes]:
    """`corrections.jsonl` and `placements.jsonl` of a batch (ValueError naming what is wrong)."""
    if not corrections:
        raise ValueError("corrections: a batch holds at least one correction")
    seen: set[str] = set()
    for i, c in enumerate(corrections):
        if c.season != season:
            raise ValueError(f"corrections[{i}] ({c.correction_id}): season {c.season!r}, not {season!r}")
        if c.correction_id in seen:
            raise ValueError(f"corrections[{i}]: correction_id {c.correction_id} is in the batch twice")
        if c.follows is not None and c.follows == c.correction_id:
            raise ValueError(f"corrections[{i}] ({c.correction_id}): follows itself")
        seen.add(c.correction_id)
    lines = after_batch(corrections)
    return {
        CORRECTIONS: jsonl([correction_line(c) for c in corrections]),
        PLACEMENTS: jsonl([lines[rid].as_line() for rid in sorted(lines, key=lambda r: r.encode())]),
    }


def manifest(season: str, n: int, previous: str, files: Mapping[str, bytes], created_at: datetime) -> bytes:
    """A batch's `manifest.json`: its files as the season's manifest lists them, `n` and `previous`."""
    batch_name(n)
    if not isinstance(previous, str) or not _HEX64.match(previous):
        raise ValueError(f"previous {previous!r}: the previous manifest's SHA-256, 64 lowercase hex digits")
    if created_at.utcoffset() is None:
        raise ValueError("created_at needs a timezone offset (ISO 8601 with offset)")
    if unknown := sorted(set(files) - set(DATA_FILES)):
        raise ValueError(f"{', '.join(unknown)}: a corrections batch holds {' and '.join(DATA_FILES)} only")
    return contract.canonical_json(
        {
            "format": FORMAT,
            "season": season,
            "n": n,
            "previous": previous,
            "created_at": created_at.isoformat(),
            "files": [
                {"key": k, "sha256": contract.sha256_hex(files[k]), "bytes": len(files[k])}
                for k in sorted(files)
            ],
        }
    )


def signature_file(season: str, n: int, manifest_bytes: bytes, signer: contract.Signer) -> bytes:
    """`manifest.sig.json` over the batch's statement (checked with the signer's own public key)."""
    return contract.signature_json(statement(season, n, manifest_bytes), signer)


def seal_files(
    season: str,
    n: int,
    previous: str,
    files: Mapping[str, bytes],
    *,
    signer: contract.Signer,
    created_at: datetime,
) -> dict[str, bytes]:
    """The whole batch from its data files: the files, its manifest, signature and public key."""
    contract.assert_no_personal_data(files)  # registration ids and staff principals only
    body = manifest(season, n, previous, files, created_at)
    return {
        **files,
        contract.MANIFEST: body,
        contract.SIGNATURE: signature_file(season, n, body, signer),
        contract.PUBLIC_KEY: signer.public_key_pem(),
    }


def seal_corrections(
    season: str,
    n: int,
    corrections: Sequence[Correction],
    previous_manifest_digest: str,
    *,
    signer: contract.Signer,
    created_at: datetime | None = None,
) -> dict[str, bytes]:
    """Batch `n` of the season's corrections, sealed: its five files by name (relative to
    `batch_prefix(season, n)`). `created_at` defaults to the latest correction's time, so that sealing
    the same corrections again gives the same manifest bytes (a rerun writes nothing new)."""
    files = build(season, corrections)
    when = created_at or max(c.at for c in corrections)
    return seal_files(season, n, previous_manifest_digest, files, signer=signer, created_at=when)
