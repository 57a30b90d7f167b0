"""Every 15 minutes (an EventBridge rule invoking notify-batch's function with `task: sms-receipts`,
functions/notify/batch.py, infra/schedules.py): the SMS providers' receipts polled and recorded, failed
notice SMS sent again when due, and those past their sends listed to their districts
(enrollment/core/sms_delivery.py). Each failed SMS counts as `SmsDeliveryFailed` (dimension
`purpose`, under the season's dimension), as it does where the notices and codes are sent. The same
run re-issues the notices of children whose place a correction changed (issue 18,
functions/notify/corrected.py): within 15 minutes of the correction, the correction route untouched."""

from __future__ import annotations

from typing import Any, Literal

from enrollment.adapters.observability import count_metric, logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock, sms_caps, sms_delivery
from functions.events import SeasonEvent, task
from functions.notify.corrected import reissue_corrected


class ReceiptsInput(SeasonEvent):
    task: Literal["sms-receipts"]


@task(ReceiptsInput, log="sms receipts polled")
def poll_receipts(request: ReceiptsInput, w: Wiring) -> dict[str, Any]:
    if request.season != w.config.season:
        raise ValueError(f"season: {request.season!r} is not this stack's season {w.config.season!r}")
    now = clock.now()
    result = sms_delivery.poll(
        w.config,
        request.season,
        store=w.sms_messages,
        receipts=w.sms,
        sms=w.sms,
        registrations=w.store,
        now=now,
        count_notices=lambda n: sms_caps.record_notices(n, store=w.sms_caps, now=now),
    )
    for purpose in result.failed:
        count_metric(sms_delivery.METRIC_FAILED, {sms_delivery.PURPOSE_DIMENSION: purpose})
    if result.listed:
        logger.warning("sms failures listed to their districts to phone the families", extra=result.summary())
    return result.summary() | {"corrected_notices": reissue_corrected(request.season, w)}
