"""The classes' amendments as signed additions: `additions/{season}/class-amendments/{n}/` (issue 18).

The sunshine-classes addition (`additions/{season}/classes/`) is sealed once and never rewritten.
When corrections after the results move children into or out of a school and grade with classes,
the moves (`enrollment.term.class_amendments`, rule `sunshine-amend/1`) are sealed as the next
amendment, numbered from 1 without a gap (`0001`, `0002`, ...). Each holds:

- `amendments.jsonl`: one line per move, in the order applied (`Move.line`): `correction_id`,
  `registration_id`, `school_id`, `grade`, `action` (`join` or `leave`), `class`;
- `manifest.json`: `format`, `season`, `n`, `previous` (the SHA-256 of the previous amendment's exact
  `manifest.json` bytes, or of `additions/{season}/classes/manifest.json` for n = 1), `rule`,
  `corrections_from` and `corrections_through` (the correction batches whose moves it holds: from
  the batch after the previous amendment's `corrections_through`, 1 for the first), `created_at`,
  `files`;
- `manifest.sig.json`: the season's signature object (canonical JSON, the season's `key_id`) over
  `"enrollment-class-amendments/1\\n{season}\\n{n}\\n{sha256 of manifest.json}\\n"`;
- `public-key.pem`: the season's key, the same bytes.

Building the bytes is pure (`seal_amendment`); writing them is
`enrollment.archive.seal.seal_class_amendments`; the audit is
`enrollment.archive.audit.audit_class_amendments`. docs/CLASSES.md, "Amendments", is the contract.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from enrollment.archive import contract
from enrollment.archive import corrections as corrections_format
from enrollment.term.class_amendments import RULE, Move

FORMAT = "enrollment-class-amendments/1"
AMENDMENTS = "amendments.jsonl"
DATA_FILES = (AMENDMENTS,)
LAYOUT = re.compile(r"^amendments\.jsonl$")
CLASSES_MANIFEST = "manifest.json"  # of additions/{season}/classes/, what amendment 1 chains to


def classes_root(season: str) -> str:
    return f"additions/{season}/classes/"


def root(season: str) -> str:
    """Where a season's class amendments live in the archive bucket."""
    return f"additions/{season}/class-amendments/"


def prefix(season: str, n: int) -> str:
    """`additions/{season}/class-amendments/{nnnn}/`."""
    return f"{root(season)}{corrections_format.batch_name(n)}/"


def statement(season: str, n: int, manifest_bytes: bytes) -> str:
    """What an amendment's signature signs: the version, the season, n and its manifest's SHA-256."""
    return f"{FORMAT}\n{season}\n{n}\n{contract.sha256_hex(manifest_bytes)}\n"


def manifest(
    season: str,
    n: int,
    previous: str,
    corrections: tuple[int, int],
    files: Mapping[str, bytes],
    created_at: datetime,
) -> bytes:
    """An amendment's `manifest.json`."""
    corrections_format.batch_name(n)
    first, through = corrections
    if not 1 <= first <= through:
        raise ValueError(f"corrections {corrections}: a range of correction batches, from 1")
    if created_at.utcoffset() is None:
        raise ValueError("created_at needs a timezone offset (ISO 8601 with offset)")
    return contract.canonical_json(
        {
            "format": FORMAT,
            "season": season,
            "n": n,
            "previous": previous,
            "rule": RULE,
            "corrections_from": first,
            "corrections_through": through,
            "created_at": created_at.isoformat(),
            "files": [
                {"key": k, "sha256": contract.sha256_hex(files[k]), "bytes": len(files[k])}
                for k in sorted(files)
            ],
        }
    )


def seal_amendment(
    season: str,
    n: int,
    previous_manifest: bytes,
    corrections: tuple[int, int],
    moves: Sequence[Move],
    *,
    signer: contract.Signer,
    created_at: datetime,
) -> dict[str, bytes]:
    """Amendment `n`, sealed: its four files by name (relative to `prefix(season, n)`)."""
    if not moves:
        raise ValueError("moves: an amendment holds at least one move")
    files = {AMENDMENTS: corrections_format.jsonl([m.line() for m in moves])}
    contract.assert_no_personal_data(files)
    body = manifest(season, n, contract.sha256_hex(previous_manifest), corrections, files, created_at)
    return {
        **files,
        contract.MANIFEST: body,
        contract.SIGNATURE: contract.signature_json(statement(season, n, body), signer),
        contract.PUBLIC_KEY: signer.public_key_pem(),
    }
