"""Logger, Tracer and Metrics, created once. Every log line is masked (R-DATA-2). Every custom metric
carries the dimensions `service` and `season` (the season config's name), so that two seasons in one
account never count into each other's metrics or alarms (infra/observability.py watches them so)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import PowertoolsLogRecord
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.settings import season_config
from enrollment.core.resources import SEASON_DIMENSION, SERVICE

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask every resident ID number and mobile number in a text: `**************123X`, `170****5678`
    (an ID number keeps its last four only: no area code, no birth date)."""
    return _PHONE.sub(r"\1****\2", _ID.sub(r"**************\2", text))


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, masking whatever a log line carries, whoever wrote it."""

    def serialize(self, log: dict[str, Any] | PowertoolsLogRecord) -> str:
        return mask_text(super().serialize(log))


logger = Logger(service=SERVICE, logger_formatter=MaskingFormatter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace="Enrollment")


def count_metric(name: str, dimensions: dict[str, str]) -> None:
    """Publish a count of 1 with its own dimensions (besides `service` and the shared `metrics`'
    defaults, the season: `season_dimension`) at once, in its own EMF record: the shared `metrics`'
    dimensions apply to every metric of the invocation, and one request may count several of these
    with different values. Not published where metrics are disabled (POWERTOOLS_METRICS_DISABLED, as
    locally), which Powertools' `single_metric` does not check."""
    if is_metrics_disabled():
        return
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=metrics.namespace,
        default_dimensions={"service": SERVICE, **metrics.default_dimensions, **dimensions},
    ):
        pass


def season_dimension() -> None:
    """Every metric of this invocation (and the next: a default dimension outlives the flush) names
    the function's season config (`SEASON_CONFIG`, which every deployed function has; without it, as
    in a bare unit test, no season is named)."""
    path = os.environ.get("SEASON_CONFIG")
    if path:
        metrics.set_default_dimensions(**{SEASON_DIMENSION: season_config(path).name})


def observed(handler: Handler) -> Handler:
    """A Lambda handler under Powertools' decorators: the Lambda context in every log line, the metrics
    flushed with the season's dimension, an X-Ray segment without the response (which may hold
    personal data)."""

    def seasoned(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        season_dimension()
        return handler(event, context)

    traced = tracer.capture_lambda_handler(seasoned, capture_response=False)
    wrapped: Handler = logger.inject_lambda_context(metrics.log_metrics(traced))
    return wrapped
