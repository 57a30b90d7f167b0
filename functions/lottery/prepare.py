"""The lottery phase starts: private applicants per school and grade, pools frozen (R-LOT-1, R-LOT-2)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.lottery import ceremony


class PrepareInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str


def masked_name(item: dict[str, Any]) -> str:
    """The child's name as the big screen shows it (R-DATA-2): the first character, the rest hidden."""
    name = str(item["request"]["child"]["name"])
    return name[0] + "*" * (len(name) - 1)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PrepareInput.model_validate(event)
    w = wiring()
    private = [r for r in w.store.registrations(request.season) if r.get("category") == "private"]
    pools = ceremony.pools_of(w.config, private, w.verification.verdicts(request.season))
    names = {str(r["registration_id"]): masked_name(r) for r in private}
    out = ceremony.prepare(w.config, request.season, pools, names, store=w.lotteries, now=clock.now())
    logger.info(
        "lotteries prepared",
        extra={"schools": len(out["schools"]), "ceremonies": out["ceremonies"], "deadline": out["deadline"]},
    )
    return out
