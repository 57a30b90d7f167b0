"""The adapters' boto3 clients: each made on first use and kept by its adapter.

Made lazily, so that a test's mocks (moto) are in place before the first client is, as with
`functools.cached_property`; `adapter.client = fake` replaces one.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

import boto3

C = TypeVar("C")


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
    """A boto3 client for `service`, with the default session's credentials and region."""
    return boto3.client(service)  # type: ignore[call-overload]  # any service, by name
