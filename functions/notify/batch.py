"""One batch of admission notices (R-NOTE-1): PDFs stored for download, SMS sent, each exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.notices import phase


class BatchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str
    registration_ids: list[str]


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = BatchInput.model_validate(event)
    w = wiring()
    items = []
    for rid in request.registration_ids:
        placed = w.placements.placed(rid)
        if placed is None:
            raise ValueError(f"{rid}: no placement stored")
        items.append((w.store.get_registration(rid), placed))
    out = phase.send_batch(
        w.config,
        request.season,
        items,
        secret=w.notice_secret,
        store=w.notices,
        files=w.work,
        sms=w.sms,
        now=clock.now(),
    )
    metrics.add_metric(name="NoticesIssued", unit="Count", value=out["issued"])
    logger.info("notices batch", extra=out)
    return out
