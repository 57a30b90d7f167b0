"""Step Functions task tokens: resuming a gate."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from enrollment.adapters.clients import Client
from enrollment.core.ports import TaskTokenGone

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class SfnTaskTokens:
    client: Client[SFNClient] = Client("stepfunctions")

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output, ensure_ascii=False))
        except ClientError as e:
            if e.response["Error"]["Code"] in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}:
                raise TaskTokenGone(e.response["Error"]["Code"]) from None
            raise
