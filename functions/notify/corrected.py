"""Notices after corrections (issue 18, enrollment/notices/corrected.py): every corrected child's notice
made to match its place, once. Run by the 15-minute rule with the SMS receipts (functions/notify/
receipts.py) and on demand (`{"season", "task": "corrected-notices"}`): the function that draws the
notices (fpdf2's layer), sends their SMS and holds the notice secret, with no function of its own."""

from __future__ import annotations

from typing import Any, Literal

from enrollment.adapters.observability import metrics
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.notices.corrected import reissue
from functions.events import SeasonEvent, task
from functions.notify.render import renderer


class CorrectedNoticesInput(SeasonEvent):
    task: Literal["corrected-notices"]


def reissue_corrected(season: str, w: Wiring) -> dict[str, int]:
    """The corrected children's notices: new ones issued and texted, old ones revoked."""
    if season != w.config.season:
        raise ValueError(f"season: {season!r} is not this stack's season {w.config.season!r}")
    out = reissue(
        w.config,
        season,
        w.correction_reads.corrections(season),
        registrations=w.store,
        secret=w.notice_secret,
        store=w.notices,
        files=w.work,
        sms=w.sms,
        now=clock.now(),
        render_many=renderer(),
        spend=w.sms_caps,
        tracking=w.sms_tracking,
    )
    if out["issued"] or out["revoked"]:
        metrics.add_metric(name="NoticesReissued", unit="Count", value=out["issued"])
        metrics.add_metric(name="NoticesRevoked", unit="Count", value=out["revoked"])
    return out


@task(CorrectedNoticesInput, log="corrected notices")
def corrected_notices(request: CorrectedNoticesInput, w: Wiring) -> dict[str, Any]:
    return reissue_corrected(request.season, w)
