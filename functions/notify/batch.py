"""One batch of admission notices (R-NOTE-1): PDFs stored for download, SMS sent, each exactly once.

The same function polls the SMS receipts every 15 minutes (`{"season", "task": "sms-receipts"}`,
functions/notify/receipts.py): it holds what the poller needs (the table, the SMS provider), and a
function of its own would cost a dozen of the stack's 500 CloudFormation resources. That poll also
re-issues the notices of corrected places (issue 18), which can be asked for at once with `{"season",
"task": "corrected-notices"}` (functions/notify/corrected.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.observability import count_metric, metrics
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock, sms_delivery
from enrollment.notices.season import issue
from functions.events import SeasonEvent, task
from functions.notify.corrected import corrected_notices
from functions.notify.receipts import poll_receipts
from functions.notify.render import renderer


class BatchInput(SeasonEvent):
    registration_ids: list[str]


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The workflow's notice batch, or the receipts rule's poll (by the event's `task`)."""
    if event.get("task") == "sms-receipts":
        return poll_receipts(event, context)
    if event.get("task") == "corrected-notices":
        return corrected_notices(event, context)
    return issue_batch(event, context)


@task(BatchInput, log="notices batch")
def issue_batch(request: BatchInput, w: Wiring) -> dict[str, Any]:
    out = issue(
        w.config,
        request.season,
        request.registration_ids,
        registrations=w.store,
        placements=w.notices,  # the notice store reads the batch's places too, batched (`placed_of`)
        secret=w.notice_secret,
        store=w.notices,
        files=w.work,
        sms=w.sms,
        now=clock.now(),
        render_many=renderer(),  # a process pool in the embedded backend, this process in Lambda
        spend=w.sms_caps,  # the notices count in the season's SMS spend; no cap stops them
        tracking=w.sms_tracking,  # each SMS recorded; a refused one retried or listed to its district
    )
    metrics.add_metric(name="NoticesIssued", unit="Count", value=out["issued"])
    # notices no bundled font can draw: recorded for manual issue, listed to their districts
    metrics.add_metric(name="NoticesManual", unit="Count", value=out["manual"])
    for _ in range(out.get("sms_failed", 0)):  # refused when sent (a wrong number): retried or listed
        count_metric(sms_delivery.METRIC_FAILED, {sms_delivery.PURPOSE_DIMENSION: sms_delivery.NOTICE})
    return out
