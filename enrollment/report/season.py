"""The season report, written by the workflow once the archive is sealed (R-OPEN-1, R-WARN-1).

`write_season_report` gathers the report's numbers from what the season stored, renders the page
(`page.render`: one self-contained HTML file, charts inline) and writes it beside the archive at
`reports/{season}/report.html` in the archive bucket: outside the sealed `seasons/{season}/` prefix,
whose manifest lists exactly LOTTERY.md's files (docs/ARCHIVE.md), and outside the classes addition.
The bucket's Object Lock keeps every version written, so the report is written once
(`put_once`): the numbers come from the sealed season only and the page's time is the archive's
sealing time, so a rerun renders the same bytes and finds them there ("identical"), never a second
version. The local demo's report is this one (`enroll demo` downloads it).

Where each section comes from, by key or index, never a scan:
- demand (R-WARN-1): the demand rows stored at registration's close (`Store.demand`, one query);
- private admissions (R-LOT-1, R-LOT-2): the sealed `private/{school}-g{grade}.json` records, as the
  manifest lists them (one GET each, a few hundred at most);
- verification (R-VER-*): `verification.season.summary`, the season's verdicts a page at a time by
  their index (projected to five fields, none kept);
- placement (R-COORD-1): `placements.jsonl` read a line at a time (routes and reasons counted, the
  coordinated children's ids kept), then the coordinated children's registrations read in batches
  (`get_registrations`, `CHUNK` ids at a time) for each one's distance home → school; only the
  distances (one integer per coordinated child) are kept.

Size. The task holds `placements.jsonl` whole (one GET; read a line at a time from memory), the
coordinated children's ids and distances, and the page (tens of KB). Measured on the 60,000-applicant
benchmark's export (58,200 placed, 31,456 coordinated; `benchmarks/report_budget.py`): 2.6 s of CPU
and a 15 MB peak of its own allocations (108 MB for the whole process), 315 BatchGetItem, 11 Query
pages, 18 S3 GETs and one PUT: about 15 s modelled in AWS at 1,024 MB (enrollment/local/budget.py's
latencies), against its 300 s timeout. At 300,000 applicants everything scales with the children
(placements.jsonl about 36 MB, about 1,600 BatchGetItem): about 70 s and 200 MB, still within half.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from enrollment.archive import contract
from enrollment.core.config import SeasonConfig
from enrollment.report import page, report_key
from enrollment.verification import season as verification_season

CHUNK = 1000  # coordinated children's registrations read per get_registrations call (10 BatchGetItem)


class ReportNotReady(Exception):
    """The season's archive is not sealed yet: the report is made from the sealed season only."""


class ArchivedFiles(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put_once(self, key: str, body: bytes) -> str: ...


class SeasonRecords(Protocol):
    def demand(self, season: str) -> list[dict[str, Any]]: ...

    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...


def _lottery_row(config: SeasonConfig, rec: Mapping[str, Any]) -> dict[str, Any]:
    """One sealed private-admission record as the report's lottery row (LOTTERY.md's fields)."""
    draw = rec.get("draw") or {}
    pool = str(draw.get("pool") or "")
    case = {"own-district": "draw-own-district", "other-districts": "draw-other-districts"}.get(
        pool, "all-admitted"
    )
    own, other = len(rec.get("own_district_applicants") or []), len(rec.get("other_applicants") or [])
    school = config.school_index.get(str(rec["school_id"]))
    return {
        "school_id": rec["school_id"],
        "school_name": school.name if school else "（未列入本季配置的学校）",
        "grade": int(rec["grade"]),
        "plan": int(rec.get("plan") or 0),
        "applicants": own + other,
        "own_district_applicants": own,
        "case": case,
        "seats": int(draw.get("seats") or 0),
        "pool": len(draw.get("ranking") or []),
        "admitted": len(rec.get("admitted") or []),
    }


def _placement(
    config: SeasonConfig, placements: bytes, records: SeasonRecords
) -> tuple[dict[str, Any], list[int]]:
    """Counts by route and coordination reason from `placements.jsonl`, a line at a time, and the
    coordinated children's distances home → school in metres, shortest first."""
    routes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    coordinated: list[tuple[str, str]] = []
    for raw in io.BytesIO(placements):
        if not raw.strip():
            continue
        line = json.loads(raw)
        routes[str(line["route"])] += 1
        if line["route"] == "coordination":
            reasons[str(line.get("reason"))] += 1
            if line.get("school_id"):
                coordinated.append((str(line["registration_id"]), str(line["school_id"])))
    distances = sorted(_distances(config, coordinated, records))
    summary = {
        "children": sum(routes.values()),
        "by_route": dict(sorted(routes.items(), key=lambda kv: (-kv[1], kv[0]))),
        "coordinated_by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
    return summary, distances


def _distances(
    config: SeasonConfig, coordinated: list[tuple[str, str]], records: SeasonRecords
) -> Iterator[int]:
    for start in range(0, len(coordinated), CHUNK):
        part = coordinated[start : start + CHUNK]
        found = records.get_registrations(rid for rid, _ in part)
        for rid, school_id in part:
            reg, school = found.get(rid), config.school_index.get(school_id)
            if reg is None or school is None:
                continue
            home = config.locate(reg["request"]["home_address"])
            yield round(home.distance_km(school.location) * 1000)


def gather(
    config: SeasonConfig,
    season: str,
    *,
    archive: ArchivedFiles,
    records: SeasonRecords,
    verdicts: verification_season.SeasonVerificationStore,
) -> dict[str, Any]:
    """The report's `season_data` (as `data` describes it) from the sealed season."""
    prefix = f"seasons/{season}/"
    manifest_bytes = archive.get(prefix + contract.MANIFEST)
    if manifest_bytes is None:
        raise ReportNotReady(f"{prefix}{contract.MANIFEST}: the season's archive is not sealed yet")
    manifest = json.loads(manifest_bytes)
    keys = sorted(str(f["key"]) for f in manifest["files"])
    lotteries = []
    for key in (k for k in keys if k.startswith("private/")):
        body = archive.get(prefix + key)
        if body is not None:
            lotteries.append(_lottery_row(config, json.loads(body)))
    placement: dict[str, Any] = {}
    distances: list[int] = []
    if contract.PLACEMENTS in keys:
        body = archive.get(prefix + contract.PLACEMENTS) or b""
        placement, distances = _placement(config, body, records)
        del body
    return {
        "season": season,
        "city": config.city,
        "generated_at": manifest.get("created_at"),
        "district_names": {d.code: d.name for d in config.districts},
        "demand": records.demand(season),
        "lotteries": lotteries,
        "verification": verification_season.summary(config, verdicts, season),
        "placement": {**placement, "coordinated_distances_m": distances} if placement else {},
    }


def write_season_report(
    config: SeasonConfig,
    season: str,
    *,
    archive: ArchivedFiles,
    records: SeasonRecords,
    verdicts: verification_season.SeasonVerificationStore,
) -> dict[str, Any]:
    """Render the season's report and write it once at `report_key(season)` (see the module docstring):
    `written` is "written", or "identical" on a rerun."""
    data = gather(config, season, archive=archive, records=records, verdicts=verdicts)
    body = page.render(data).encode("utf-8")
    key = report_key(season)
    written = archive.put_once(key, body)
    placement = data["placement"]
    return {
        "season": season,
        "key": key,
        "written": written,
        "bytes": len(body),
        "sha256": contract.sha256_hex(body),
        "sections": [k for k in page.SECTIONS if _has(data, k)],
        "children": placement.get("children", 0),
        "coordinated_distances": len(placement.get("coordinated_distances_m", [])),
    }


def _has(data: Mapping[str, Any], key: str) -> bool:
    return bool(data.get(key))
