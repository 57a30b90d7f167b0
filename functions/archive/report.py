"""The season report (招生季报告), written beside the sealed archive (R-OPEN-1).

The use case is `enrollment.report.season.write_season_report`: the report's numbers read from the
sealed season (demand, the private-admission records, the verdicts, placements.jsonl and the
coordinated children's registrations), rendered as one Chinese HTML page with its charts inline and
written once at `reports/{season}/report.html` in the archive bucket; a rerun finds the same bytes.
"""

from __future__ import annotations

from typing import Any

from enrollment.adapters.wiring import Wiring
from enrollment.report.season import write_season_report
from functions.events import SeasonEvent, task


@task(SeasonEvent, log="season report written")  # "written": "written", or "identical" on a rerun
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    return write_season_report(
        w.config, request.season, archive=w.archive, records=w.store, verdicts=w.verification
    )
