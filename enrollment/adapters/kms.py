"""KMS adapters: the HMAC key that turns an ID number into a child key (R-REG-2, R-DATA-2), and the
secrets derived from it (notices, parents' codes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from enrollment.adapters.clients import Client

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class KmsChildKeyer:
    """GenerateMac with an HMAC_256 key: the key never leaves KMS, so nobody can invert a child key."""

    client: Client[KMSClient] = Client("kms")

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id

    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        message = f"enrollment-child/1|{season}|{id_type}|{id_number.upper()}".encode()
        return hmac_sha256(self.client, self.key_id, message).hex()


def hmac_sha256(client: KMSClient, key_id: str, message: bytes) -> bytes:
    """GenerateMac with the HMAC_256 key `key_id`: the key never leaves KMS."""
    return bytes(client.generate_mac(KeyId=key_id, Message=message, MacAlgorithm="HMAC_SHA_256")["Mac"])
