"""City staff seal the corrections now (issue 18): the place API invokes the seal function's
`seal-corrections` task and answers what it sealed, or a refusal that says why nothing was."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from enrollment.adapters.sealer import LambdaSealer
from enrollment.archive.seal import SealNotDone
from enrollment.core.ports import StoreUnavailable

SEALED = {"season": "2023", "sealed": "now", "batches": [{"n": 2, "corrections": 3}], "corrections": 3}


class FakeLambda:
    """Lambda's Invoke as the seal function answers it: its output, or its error (FunctionError)."""

    def __init__(self, answer: Any, error: bool = False, raises: Exception | None = None) -> None:
        self.answer, self.error, self.raises = answer, error, raises
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.raises is not None:
            raise self.raises
        out: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.answer).encode())}
        if self.error:
            out["FunctionError"] = "Unhandled"
        return out


def test_the_seal_task_is_invoked_synchronously_and_its_answer_returned() -> None:
    fake = FakeLambda(SEALED)
    assert LambdaSealer("arn:seal:live", fake).seal_corrections("2023") == SEALED  # type: ignore[arg-type]
    [call] = fake.calls
    assert call["FunctionName"] == "arn:seal:live" and call["InvocationType"] == "RequestResponse"
    assert json.loads(call["Payload"]) == {"season": "2023", "task": "seal-corrections"}


def test_an_archive_that_disagrees_is_a_409_in_chinese_and_names_the_error_in_english() -> None:
    error = {"errorType": "CorrectionsConflict", "errorMessage": "additions/2023/corrections/0002: ..."}
    with pytest.raises(SealNotDone) as e:
        LambdaSealer("seal", FakeLambda(error, error=True)).seal_corrections("2023")  # type: ignore[arg-type]
    assert e.value.status == 409 and "未写入任何内容" in e.value.message_zh
    assert "CorrectionsConflict" in e.value.message_en and "R-" not in e.value.message_zh


def test_any_other_failure_is_a_503_that_says_the_daily_run_seals_them() -> None:
    error = {"errorType": "SigningError", "errorMessage": "KMS key: AccessDenied"}
    with pytest.raises(SealNotDone) as e:
        LambdaSealer("seal", FakeLambda(error, error=True)).seal_corrections("2023")  # type: ignore[arg-type]
    assert e.value.status == 503 and "每日" in e.value.message_zh and "SigningError" in e.value.message_en


@pytest.mark.parametrize(
    "fake",
    [
        FakeLambda({"errorType": "StoreUnavailable", "errorMessage": "throttled"}, error=True),
        FakeLambda(None, raises=ReadTimeoutError(endpoint_url="https://lambda")),
        FakeLambda(None, raises=ConnectTimeoutError(endpoint_url="https://lambda")),
    ],
)
def test_throttled_or_still_running_is_busy_the_caller_retries(fake: FakeLambda) -> None:
    with pytest.raises(StoreUnavailable):
        LambdaSealer("seal", fake).seal_corrections("2023")  # type: ignore[arg-type]


def test_without_a_seal_function_nothing_is_invoked() -> None:
    fake = FakeLambda(SEALED)
    with pytest.raises(SealNotDone) as e:
        LambdaSealer("", fake).seal_corrections("2023")  # type: ignore[arg-type]
    assert e.value.status == 503 and fake.calls == []
