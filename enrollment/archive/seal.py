"""Sealing the season's archive and its sunshine-classes addition (R-OPEN-1, R-LOT-3, R-CLASS-1).

`seal_season` reads what the season has archived under `seasons/{season}/` (the private-admission
records, `placements.jsonl`, the placement tie-break), adds `season.json` (the config as it was
used), and writes `manifest.json`, `manifest.sig.json` (over LOTTERY.md's statement) and
`public-key.pem`. `seal_classes` assigns each school's arrived children to balanced random classes
and seals the class lists as an addition under `additions/{season}/classes/` with their own
manifest, signature and public key, so the season's archive is never rewritten. Nothing is ever
rewritten: a rerun finds either sealed and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from enrollment.archive import contract
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Archive, Registrations, Seeds
from enrollment.term import reporting


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


def seal_classes(
    config: SeasonConfig,
    season: str,
    *,
    archive: Archive,
    arrivals: reporting.SeasonArrivals,
    registrations: Registrations,
    signer: contract.Signer,
    seeds: Seeds,
    now: datetime,
) -> dict[str, Any]:
    """Each placed school and grade's arrived children in classes, sealed under `additions/{season}/classes/`."""
    prefix = f"additions/{season}/classes/"
    if archive.get(prefix + contract.MANIFEST) is not None:
        return {"sealed": "already"}
    body = archive.get(f"seasons/{season}/{contract.PLACEMENTS}") or b""
    groups: dict[tuple[str, int], list[str]] = {}
    for line in map(json.loads, body.decode().splitlines()):
        if line["school_id"]:
            groups.setdefault((line["school_id"], int(line["grade"])), []).append(line["registration_id"])
    files: dict[str, bytes] = {}
    arrived = reporting.class_students(season, groups, arrivals=arrivals, registrations=registrations)
    for (school_id, grade), students in sorted(arrived.items()):
        seed = seeds.new_seed(f"classes/{season}/{school_id}-g{grade}")
        rec = reporting.assign_school(season, school_id, grade, students, seed)
        if rec is not None:
            files[f"classes/{school_id}-g{grade}.json"] = contract.canonical_json(rec)
    sealed = contract.seal(season, files, signer, now.astimezone(config.tz))
    for key, data in sealed.items():
        archive.put_once(prefix + key, data)
    return {"sealed": "now", "schools": len(files), "students": sum(len(v) for v in groups.values())}
