"""KMS adapters: the HMAC key that turns an ID number into a child key (R-REG-2, R-DATA-2)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KmsChildKeyer:
    """GenerateMac with an HMAC_256 key: the key never leaves KMS, so nobody can invert a child key."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id

    @cached_property
    def client(self) -> KMSClient:
        return boto3.client("kms")

    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        message = f"enrollment-child/1|{season}|{id_type}|{id_number.upper()}".encode()
        mac = self.client.generate_mac(KeyId=self.key_id, Message=message, MacAlgorithm="HMAC_SHA_256")["Mac"]
        return bytes(mac).hex()
