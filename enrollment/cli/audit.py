"""`enroll audit`: a season's signed archive (or its classes addition) audited offline.

enroll audit PATH_OR_S3_URI
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

AUDIT_HELP = """\
audit a season's signed archive offline (LOTTERY.md, "The archive"): a folder of the archive's layout
or s3://BUCKET/seasons/SEASON/. Checks every file against manifest.json, the signature with
public-key.pem over the statement rebuilt from the manifest, season.json, each private record (its
draw replayed), placements.jsonl and the tie-break. Exit 0 if the archive passes, 1 if it does not,
2 if it cannot be read."""


def add_parser(sub: Any) -> None:
    aud = sub.add_parser(
        "audit",
        help="audit a season's signed archive (folder or s3:// prefix)",
        description=AUDIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    aud.add_argument("archive", help="the archive folder, or s3://BUCKET/seasons/SEASON/")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`enroll audit`: read the archive, print the report; 0 passed, 1 failed, 2 unreadable."""
    from enrollment.adapters.archive import read_s3
    from enrollment.archive import contract as archive
    from enrollment.archive.audit import audit, audit_classes

    try:
        if args.archive.startswith("s3://"):
            files = read_s3(args.archive)
        else:
            files = archive.read_folder(Path(args.archive))
    except (archive.ArchiveUnreadable, ValueError, OSError) as e:
        sys.stderr.write(f"无法读取归档 / cannot read the archive: {e}\n")
        return 2
    is_addition = "season.json" not in files and any(k.startswith("classes/") for k in files)
    report = audit_classes(files) if is_addition else audit(files)
    sys.stdout.write(report.render())
    return 0 if report.ok else 1
