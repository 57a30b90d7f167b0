"""`enroll audit`: a season's signed archive (with its additions) or its classes addition, offline.

enroll audit PATH_OR_S3_URI [--season SEASON] [--corrections PATH_OR_S3_URI] [--head NNNN:SHA256]
             [--students JSONL]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

AUDIT_HELP = """\
audit a season's signed archive offline (LOTTERY.md, "The archive"; docs/ARCHIVE.md): a folder of the
archive's layout or s3://BUCKET/seasons/SEASON/. Checks every file against manifest.json, the signature
with public-key.pem over the statement rebuilt from the manifest, season.json, each private record (its
draw replayed), placements.jsonl and the tie-break.

Given the archive bucket's root instead (a folder holding seasons/SEASON/ and additions/SEASON/, e.g.
copied with `aws s3 sync s3://BUCKET/ DIR`, or s3://BUCKET/ with --season), it also audits the season's
additions: the correction batches additions/SEASON/corrections/0001/, 0002/, ... (each checked, its
signature by the season's key and the chain from the season's manifest, then applied in order with the
invariants after each) and the sunshine classes additions/SEASON/classes/. With the season's prefix
alone, --corrections names where its batches are (e.g. DIR/additions/corrections). --head NNNN:SHA256,
the chain's last batch and its manifest's SHA-256 as the bureau publishes them, also fails the audit if
the chain given ends before it (the last batches withheld) or at another manifest. With the sunshine
classes and corrections in a root, the class amendments additions/SEASON/class-amendments/0001/, ... are
replayed too (docs/CLASSES.md, "Amendments"); --students FILE (JSON lines of registration_id and sex,
the bureau's facts) also checks that each joining child went to the class with the fewest of their sex.
Exit 0 if everything passes, 1 if not, 2 if it cannot be read."""


def add_parser(sub: Any) -> None:
    aud = sub.add_parser(
        "audit",
        help="audit a season's signed archive and its additions (folder or s3:// prefix)",
        description=AUDIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    aud.add_argument("archive", help="the archive folder, s3://BUCKET/seasons/SEASON/, or the bucket's root")
    aud.add_argument("--season", help="the season to audit in a bucket's root (needed for s3://BUCKET/)")
    aud.add_argument(
        "--corrections",
        metavar="PATH_OR_S3_URI",
        help="the season's correction batches (the folder or prefix holding 0001/, 0002/, ...), "
        "when the archive given is the season's prefix alone",
    )
    aud.add_argument(
        "--students",
        metavar="JSONL",
        help='the students\' sex, one {"registration_id", "sex"} a line: checks each class amendment\'s join',
    )
    aud.add_argument(
        "--head",
        metavar="NNNN:SHA256",
        help="the correction chain's published last batch and the SHA-256 of its manifest.json",
    )


class Unreadable(Exception):
    """The archive cannot be read, or the root holds no single season to audit."""


def _under(files: Mapping[str, bytes], prefix: str) -> dict[str, bytes]:
    return {k[len(prefix) :]: v for k, v in files.items() if k.startswith(prefix)}


def _root(files: Mapping[str, bytes], season: str | None) -> tuple[str, dict[str, dict[str, bytes]]]:
    """The season of a bucket's root and its parts: the season's files, its corrections and classes."""
    seasons = sorted({k.split("/")[1] for k in files if k.startswith("seasons/") and k.count("/") >= 2})
    if season is None:
        if len(seasons) != 1:
            raise Unreadable(f"the root holds seasons {', '.join(seasons) or 'none'}: name one with --season")
        season = seasons[0]
    parts = {
        "season": _under(files, f"seasons/{season}/"),
        "corrections": _under(files, f"additions/{season}/corrections/"),
        "classes": _under(files, f"additions/{season}/classes/"),
        "class-amendments": _under(files, f"additions/{season}/class-amendments/"),
    }
    if not parts["season"]:
        raise Unreadable(f"no seasons/{season}/ in the root (seasons: {', '.join(seasons) or 'none'})")
    return season, parts


def _files(where: str) -> dict[str, bytes]:
    from enrollment.adapters.archive import read_s3
    from enrollment.archive import contract as archive

    return read_s3(where) if where.startswith("s3://") else archive.read_folder(Path(where))


def _read(where: str, season: str | None) -> dict[str, dict[str, bytes]]:
    """The parts to audit: a season prefix alone, a classes addition alone, or a root's season."""
    from enrollment.adapters.archive import parse_s3_uri, read_s3
    from enrollment.archive import contract as archive

    if where.startswith("s3://"):
        bucket, prefix = parse_s3_uri(where)
        if prefix:
            return _parts(read_s3(where), season)
        if season is None:
            raise Unreadable(f"{where}: the bucket's root; name the season with --season")
        parts = {"season": read_s3(f"s3://{bucket}/seasons/{season}/")}
        for name in ("corrections", "classes", "class-amendments"):
            try:
                parts[name] = read_s3(f"s3://{bucket}/additions/{season}/{name}/")
            except archive.ArchiveUnreadable:
                parts[name] = {}  # none sealed (yet)
        return parts
    return _parts(archive.read_folder(Path(where)), season)


def _parts(files: Mapping[str, bytes], season: str | None) -> dict[str, dict[str, bytes]]:
    """What the files are: a bucket's root, a classes addition, or a season's prefix (as before)."""
    if any(k.startswith("seasons/") for k in files):
        return _root(files, season)[1]
    if "season.json" not in files and any(k.startswith("classes/") for k in files):
        return {"addition": dict(files)}
    return {"season": dict(files)}


def _students(where: str) -> dict[str, Any]:
    """The bureau's facts: registration id -> sex, from JSON lines (ValueError naming the line)."""
    import json

    found: dict[str, Any] = {}
    for n, raw in enumerate(Path(where).read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("sex") not in ("男", "女") or not doc.get("registration_id"):
            raise ValueError(f'{where} line {n}: expected {{"registration_id", "sex": "男" or "女"}}')
        found[str(doc["registration_id"])] = doc["sex"]
    return found


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`enroll audit`: read the archive, print the report(s); 0 passed, 1 failed, 2 unreadable."""
    from enrollment.archive import contract as archive
    from enrollment.archive.audit import audit, audit_classes
    from enrollment.archive.class_audit import audit_class_amendments
    from enrollment.archive.corrections import parse_head

    try:
        parts = _read(args.archive, args.season)
        if args.corrections:
            if "season" not in parts or parts.get("corrections"):
                raise Unreadable("--corrections goes with a season's prefix alone (a root holds its own)")
            parts["corrections"] = _files(args.corrections)
        if args.head is not None:
            if "season" not in parts:
                raise Unreadable("--head goes with a season's archive (its correction chain)")
            parse_head(args.head)
        sexes = _students(args.students) if args.students else None
    except (archive.ArchiveUnreadable, Unreadable, ValueError, OSError) as e:
        sys.stderr.write(f"无法读取归档 / cannot read the archive: {e}\n")
        return 2
    reports = []
    if "addition" in parts:
        reports.append(audit_classes(parts["addition"]))
    if "season" in parts:
        reports.append(audit(parts["season"], parts.get("corrections") or None, head=args.head))
    if parts.get("classes"):
        reports.append(audit_classes(parts["classes"]))
    if (
        parts.get("classes")
        and "season" in parts
        and (parts.get("class-amendments") or parts.get("corrections"))
    ):
        reports.append(
            audit_class_amendments(
                parts["classes"],
                parts.get("class-amendments") or {},
                parts["season"],
                parts.get("corrections") or {},
                sexes=sexes,
            )
        )
    for report in reports:
        sys.stdout.write(report.render())
    return 0 if all(r.ok for r in reports) else 1
