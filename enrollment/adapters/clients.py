"""The adapters' boto3 clients: each made on first use and kept by its adapter.

Made lazily, so that a test's mocks (moto) are in place before the first client is, as with
`functools.cached_property`; `adapter.client = fake` replaces one.

Every client (and the DynamoDB resource, enrollment/adapters/table.py) retries with botocore's
`standard` mode (`RETRIES`): up to `ATTEMPTS` attempts, a throttled call backing off
`rand(0, 1) * 2**i` s (i = 0, 1, 2, 3: at most 15 s in all, 7.5 s on average, within the register
function's 30 s), other transient errors 25-50 ms times 2**i. Only a call still refused after that
reaches the caller: a task fails with StoreUnavailable (the ASL retries it), an API request is
answered 503 with Retry-After (functions/api.py).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

C = TypeVar("C")
ATTEMPTS = 5  # the first call and four retries
RETRIES = Config(retries={"mode": "standard", "max_attempts": ATTEMPTS})
# What AWS answers a caller that goes too fast, after boto3's own retries: DynamoDB, S3 (SlowDown),
# KMS, SNS, Step Functions. Safe to retry later; a task fails with StoreUnavailable, which the ASL retries.
THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "RequestThrottled",
        "RequestThrottledException",
    }
)


def throttled(error: BaseException) -> bool:
    """Whether `error` is AWS saying "slow down" (THROTTLED), not a refusal: itself, or the error an
    adapter raised its own error from (`raise SigningError(...) from e`)."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ClientError) and seen.response.get("Error", {}).get("Code") in THROTTLED:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Client(Generic[C]):
    """`client: Client[KMSClient] = Client("kms")` in an adapter class: `self.client` is that
    service's boto3 client, made on first use and then kept on the instance."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.name = "client"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Client[C]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> C: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Client[C] | C:
        if instance is None:
            return self
        made: C = client(self.service)
        instance.__dict__[self.name] = made
        return made


def client(service: str) -> Any:
    """A boto3 client for `service`, with the default session's credentials and region, retrying
    as `RETRIES` says."""
    return boto3.client(service, config=RETRIES)  # type: ignore[call-overload]  # any service, by name
