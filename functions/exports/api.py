"""Results out (issue 15, docs/EXPORTS.md): the season's lists as files, for whoever takes them next.

Each route answers a JSON object with a five-minute link to the file (`.xlsx`, or GB18030 `.csv`
where it is one sheet), put in the work bucket with SSE-KMS; every download is recorded first
(who, role, district, what, when). Personal data goes to the data's district and the city only;
auditors take the masked public lists and read the download records.

- `GET /admin/exports/{season}/schools/{school_id}/admitted?format=xlsx|csv`: a school's admitted list.
- `GET /admin/exports/{season}/schools/{school_id}/public-results`: its published lists, masked.
- `GET /admin/exports/{season}/private/{school_id}/applicants`: a private school's applicants (R-LOT-1).
- `GET /admin/exports/{season}/districts/{district}/student-status`: the 学籍 new-student sheets.
- `GET /admin/exports/{season}/districts/{district}/reporting`: arrivals and classes per school.
- `GET /admin/exports/{season}/districts/{district}/downloads`: who took the district's files, when.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from enrollment.adapters.export_store import DynamoExportStore, ExportFiles
from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.core.staff import require_read
from enrollment.exports import lists
from functions.api import caller, handler_for, season_wiring, staff_resolver

app = staff_resolver()
PREFIX = "/admin/exports/<season>"
LINK_SECONDS = 300  # the file's link: five minutes
DOWNLOADS_SHOWN = 500  # the latest downloads a district's log shows (with the total)
FORMAT = Query(alias="format", description="xlsx（默认）或 csv（GB18030编码，仅单个工作表的名单）")


def _stores(w: Wiring) -> tuple[DynamoExportStore, ExportFiles]:
    """This cold start's export store and file bucket, kept with its wiring."""
    found: tuple[DynamoExportStore, ExportFiles] = vars(w).setdefault(
        "_exports",
        (
            DynamoExportStore(w.settings.table_name, w.settings.archive_bucket),
            ExportFiles(w.settings.work_bucket),
        ),
    )
    return found


def _download(kind: lists.Kind, season: str, scope: str, fmt: lists.Format) -> dict[str, Any]:
    w = season_wiring(season)
    staff = caller(app)
    taker = lists.Taker(staff.principal, staff.role, staff.district)
    store, files = _stores(w)
    now = clock.now().astimezone(w.config.tz).isoformat()
    taken = lists.take(kind, w.config, season, scope, fmt, taker, sources=store, log=store, at=now)
    url = files.publish(season, taken.file_name, taken.data, taken.content_type, LINK_SECONDS)
    logger.info("export taken", extra={"kind": kind, "scope": scope, "rows": taken.export.rows})
    return {
        "kind": kind,
        "kind_zh": lists.KIND_ZH[kind],
        "scope": scope,
        "file_name": taken.file_name,
        "format": fmt,
        "rows": taken.export.rows,
        "bytes": len(taken.data),
        "sha256": taken.record["sha256"],
        "url": url,
        "expires_in": LINK_SECONDS,
    }


@app.get(f"{PREFIX}/schools/<school_id>/admitted")
def admitted(
    season: str, school_id: str, fmt: Annotated[Literal["xlsx", "csv"], FORMAT] = "xlsx"
) -> dict[str, Any]:
    """The school's admitted list (name, sex, birth date, ID, route, guardians, reporting status)."""
    return _download("admitted", season, school_id, fmt)


@app.get(f"{PREFIX}/schools/<school_id>/public-results")
def public_results(season: str, school_id: str) -> dict[str, Any]:
    """The school's published lists from the archive: names as 张*明, ID numbers' last four only."""
    return _download("public-results", season, school_id, "xlsx")


@app.get(f"{PREFIX}/private/<school_id>/applicants")
def private_applicants(season: str, school_id: str) -> dict[str, Any]:
    """A private school's applicants as frozen for the draw: counts per grade and the list (R-LOT-1)."""
    return _download("private-applicants", season, school_id, "xlsx")


@app.get(f"{PREFIX}/districts/<district>/student-status")
def student_status(season: str, district: str) -> dict[str, Any]:
    """The national student-status system's new-student sheets, one per school of the district."""
    return _download("student-status", season, district, "xlsx")


@app.get(f"{PREFIX}/districts/<district>/reporting")
def reporting(season: str, district: str) -> dict[str, Any]:
    """Reporting day's arrivals and the sunshine classes, per school of the district."""
    return _download("reporting", season, district, "xlsx")


@app.get(f"{PREFIX}/districts/<district>/downloads")
def downloads(season: str, district: str) -> dict[str, Any]:
    """Who took the district's files and when, the latest first (the district, the city, auditors)."""
    w = season_wiring(season)
    require_read(caller(app), district)
    lists.district_name(w.config, district)
    store, _ = _stores(w)
    taken = lists.downloads_view(store.downloads(season, district))
    return {"district": district, "total": len(taken), "downloads": taken[:DOWNLOADS_SHOWN]}


handler = handler_for(app)
