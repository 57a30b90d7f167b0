"""A late registration's agency checks asked by the verify-batch function, invoked asynchronously
(issue 18; enrollment/corrections/late.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from enrollment.adapters.clients import Client

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class LambdaLateChecks:
    """Invokes verify-batch (its `live` alias, VERIFY_BATCH_FUNCTION) with the payload the workflow's
    VerifyRegistrations Map sends, marked `late`: verification's own use case asks the agencies (an
    API over HTTP, a files agency's worklist), then the children are settled by their verdicts. An
    `Event` invocation: the correction's answer does not wait for the agencies. Locally the embedded
    runtime runs the function in-process against its fake agencies on loopback."""

    client: Client[LambdaClient] = Client("lambda")

    def __init__(self, function: str) -> None:
        self.function = function

    def ask(self, season: str, registration_ids: Sequence[str]) -> None:
        payload = {"season": season, "registration_ids": list(registration_ids), "late": True}
        self.client.invoke(
            FunctionName=self.function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
