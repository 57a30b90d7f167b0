"""Sealing the corrections on demand: the seal function's `seal-corrections` task, invoked and awaited.

Why through the seal function rather than in the place API itself: the seal function already holds
the archive's write and the season's signing key (kms:Sign). Granting the place API
`lambda:InvokeFunction` on that one function's `live` alias gives it the seal and nothing more: it
still cannot sign any other statement, nor put any object in the Object Lock archive, and the seal
run is the very code the daily schedule runs (same batches, same marks, safe to rerun).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ConnectionError as NoConnection
from botocore.exceptions import HTTPClientError

from enrollment.archive.seal import SealNotDone
from enrollment.core.ports import StoreUnavailable
from enrollment.core.resources import seal_corrections_event

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

# within API Gateway's 29 s, less the request's own work: a seal still running then goes on in the
# seal function (a retry or the daily run finds it sealed) while the caller is told to retry. One
# attempt: botocore's retries would outlast the request (a read timeout is retried as transient); a
# throttled Invoke reaches functions/api.py, which answers 503 with Retry-After
READ_TIMEOUT_S = 20
INVOKE = Config(
    connect_timeout=3, read_timeout=READ_TIMEOUT_S, retries={"mode": "standard", "max_attempts": 1}
)


class LambdaSealer:
    """`CorrectionSealer` over Lambda: `function` is the seal function's name or (qualified) ARN."""

    def __init__(self, function: str, lambda_client: LambdaClient | None = None) -> None:
        self.function = function
        self._client = lambda_client

    @property
    def client(self) -> LambdaClient:
        if self._client is None:
            self._client = _lambda_client()
        return self._client

    def seal_corrections(self, season: str) -> dict[str, Any]:
        if not self.function:
            raise SealNotDone("NotConfigured", "SEAL_FUNCTION is not set for this function")
        payload = json.dumps(seal_corrections_event(season)).encode()
        try:
            out = self.client.invoke(
                FunctionName=self.function, InvocationType="RequestResponse", Payload=payload
            )
        except (HTTPClientError, NoConnection) as e:  # a read timed out (still sealing), or no connection
            raise StoreUnavailable(f"the seal did not answer within {READ_TIMEOUT_S} s: {e}") from e
        body = json.loads(out["Payload"].read() or b"null")
        if "FunctionError" in out:
            error = body if isinstance(body, dict) else {}
            kind, message = str(error.get("errorType", "Error")), str(error.get("errorMessage", ""))
            if kind == StoreUnavailable.__name__:  # throttled after its retries: the caller retries
                raise StoreUnavailable(message)
            raise SealNotDone(kind, message)
        answer: dict[str, Any] = body
        return answer


def _lambda_client() -> LambdaClient:
    """Made on first use (moto's rule: mocks first, clients after)."""
    made: LambdaClient = boto3.client("lambda", config=INVOKE)
    return made
