"""The signed archive auditors read (LOTTERY.md, "The archive"): its files, manifest and signature.

A season's results are a set of files under one prefix (`s3://BUCKET/seasons/SEASON/`, or a local
folder of the same layout): `season.json`, `private/{school_id}-g{grade}.json`, `placements.jsonl`,
`placement/tie-break.json`. `seal` adds `manifest.json` (every other file's SHA-256 and size),
`manifest.sig.json` (an ECDSA P-256 signature over the statement
`"enrollment-archive/1\\n{season}\\n{sha256 of manifest.json}\\n"`) and `public-key.pem`, so that
anyone can check the whole archive offline (`enrollment.archive.audit`). Registration ids only: a file that
looks like it holds a resident ID number or a mobile number is refused (R-DATA-1, R-DATA-2).

Pure Python apart from the signer, which is an argument: `LocalSigner` (a key in memory, for tests
and offline use) or `enrollment.adapters.signing.KmsSigner` (the season's KMS key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from enrollment.core.config import SeasonConfig

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig.json"
PUBLIC_KEY = "public-key.pem"
NOT_IN_MANIFEST = (MANIFEST, SIGNATURE, PUBLIC_KEY)
SEASON = "season.json"
PLACEMENTS = "placements.jsonl"
TIE_BREAK = "placement/tie-break.json"
STATEMENT_VERSION = "enrollment-archive/1"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
# The files LOTTERY.md's layout has (besides the three above); anything else is not the contract.
LAYOUT = re.compile(r"^(season\.json|placements\.jsonl|placement/tie-break\.json|private/[^/]+-g[17]\.json)$")

# A resident ID number (18 characters, GB 11643) or a mainland mobile number (11 digits), standing
# alone: the patterns of enrollment.adapters.observability, bounded by non-alphanumerics on both sides so that
# a hex digest or a seed never looks like a phone number.
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


class ArchiveUnreadable(Exception):
    """The archive cannot be read at all (no such folder, bucket or prefix; access denied)."""


def season_json(config: SeasonConfig) -> dict[str, Any]:
    """`season.json`: the season config as used, as far as auditors need it (schools and their plans)."""
    return {
        "season": config.season,
        "name": config.name,
        "city": config.city,
        "districts": [{"code": d.code, "name": d.name} for d in config.districts],
        "schools": [
            {
                "id": s.id,
                "name": s.name,
                "district": s.district,
                "kind": s.kind,
                "plans": {str(g): s.plans[g] for g in sorted(s.plans)},
            }
            for s in config.schools
        ],
    }


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON, two-space indent, final newline: the style of `private.record_bytes`."""
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode()


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def key_problem(key: str) -> str | None:
    """Why `key` is not a relative POSIX path inside the archive, or None."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        return f"{key!r} is not a relative path inside the archive"
    return None


def manifest(season: str, files: Mapping[str, bytes], created_at: datetime) -> bytes:
    """`manifest.json`: every file but the manifest, its signature and the public key, sorted by key."""
    if created_at.utcoffset() is None:
        raise ValueError("created_at needs a timezone offset (ISO 8601 with offset)")
    for key in files:
        if problem := key_problem(key):
            raise ValueError(problem)
    listed = sorted(k for k in files if k not in NOT_IN_MANIFEST)
    return canonical_json(
        {
            "season": season,
            "created_at": created_at.isoformat(),
            "files": [{"key": k, "sha256": sha256_hex(files[k]), "bytes": len(files[k])} for k in listed],
        }
    )


def statement(season: str, manifest_bytes: bytes) -> str:
    """What is signed: the version, the season and the SHA-256 of the exact manifest bytes."""
    return f"{STATEMENT_VERSION}\n{season}\n{sha256_hex(manifest_bytes)}\n"


class Signer(Protocol):
    """An ECDSA P-256 key that signs with SHA-256 (KMS ECC_NIST_P256, ECDSA_SHA_256)."""

    def key_id(self) -> str: ...

    def sign(self, message: bytes) -> bytes:
        """The DER-encoded ECDSA signature of SHA-256(message)."""
        ...

    def public_key_pem(self) -> bytes:
        """The public key, SubjectPublicKeyInfo PEM."""
        ...


class LocalSigner:
    """A P-256 key held in memory (generated unless given): for tests and an offline archive."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None, key_id: str = "local") -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = private_key or ec.generate_private_key(ec.SECP256R1())
        if not isinstance(self._key.curve, ec.SECP256R1):
            raise ValueError(f"the archive is signed with a P-256 key, not {self._key.curve.name}")
        self._key_id = key_id

    def key_id(self) -> str:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))

    def public_key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def public_key_problem(public_key_pem: bytes) -> str | None:
    """Why `public_key_pem` is not an EC P-256 SubjectPublicKeyInfo PEM, or None."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:  # an edited key may name no known algorithm
        return f"{PUBLIC_KEY} is not a PEM public key ({e})"
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return f"{PUBLIC_KEY} is not an EC P-256 (ECC_NIST_P256) public key"
    return None


def key_fingerprint(public_key_pem: bytes) -> str:
    """SHA-256 of the public key's DER SubjectPublicKeyInfo: what a bureau publishes to pin its key."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_key_pem)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return sha256_hex(der)


def signature_problem(public_key_pem: bytes, message: bytes, signature: bytes) -> str | None:
    """Why `signature` is not a valid ECDSA P-256 / SHA-256 signature of `message` by that key, or None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if problem := public_key_problem(public_key_pem):
        return problem
    key = serialization.load_pem_public_key(public_key_pem)
    assert isinstance(key, ec.EllipticCurvePublicKey)  # public_key_problem checked it
    try:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return f"the signature does not verify with {PUBLIC_KEY}"
    return None


def seal(season: str, files: Mapping[str, bytes], signer: Signer, created_at: datetime) -> dict[str, bytes]:
    """The whole archive: `files` plus the manifest, its signature and the public key."""
    reserved = sorted(set(files) & set(NOT_IN_MANIFEST))
    if reserved:
        raise ValueError(f"{', '.join(reserved)} are written by seal, not given to it")
    assert_no_personal_data(files)
    body = manifest(season, files, created_at)
    return {
        **files,
        MANIFEST: body,
        SIGNATURE: signature_json(statement(season, body), signer),
        PUBLIC_KEY: signer.public_key_pem(),
    }


def signature_json(text: str, signer: Signer) -> bytes:
    """`manifest.sig.json` over `text` (a season's, a correction batch's or a class amendment's
    statement), checked with the signer's own public key before it is written."""
    signature = signer.sign(text.encode())
    if problem := signature_problem(signer.public_key_pem(), text.encode(), signature):
        raise ValueError(f"the signer's key {signer.key_id()}: {problem}")
    return canonical_json(
        {
            "algorithm": SIGNING_ALGORITHM,
            "key_id": signer.key_id(),
            "statement": text,
            "signature": base64.b64encode(signature).decode(),
        }
    )


def personal_data(files: Mapping[str, bytes]) -> list[str]:
    """Each file that looks like it holds a resident ID number or a mobile number, and what was seen."""
    found = []
    for key in sorted(files):
        text = files[key].decode("utf-8", errors="replace")
        for pattern, what, shown in ((_ID, "a resident ID number", 0), (_PHONE, "a mobile number", 3)):
            m = pattern.search(text)
            if m:  # masked as in logs (R-DATA-2): **************123X, 170****5678
                masked = m.group()[:shown] + "*" * (len(m.group()) - shown - 4) + m.group()[-4:]
                found.append(f"{key}: holds what looks like {what} ({masked}); the archive has ids only")
    return found


def assert_no_personal_data(files: Mapping[str, bytes]) -> None:
    """ValueError naming the file if any file looks like it holds personal data (R-DATA-1, R-DATA-2)."""
    found = personal_data(files)
    if found:
        raise ValueError("; ".join(found))


def write_folder(folder: Path, files: Mapping[str, bytes]) -> None:
    """Export the archive as a folder of the same layout, byte for byte."""
    for key, body in files.items():
        if problem := key_problem(key):
            raise ValueError(problem)
        path = folder.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its relative POSIX path."""
    if not folder.is_dir():
        raise ArchiveUnreadable(f"{folder}: no such folder")
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            files[PurePosixPath(*path.relative_to(folder).parts).as_posix()] = path.read_bytes()
    if not files:
        raise ArchiveUnreadable(f"{folder}: the folder is empty")
    return files
