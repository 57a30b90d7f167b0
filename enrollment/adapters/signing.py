"""KMS adapter: the season's asymmetric key (ECC_NIST_P256, SIGN_VERIFY) that signs the archive."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from enrollment.adapters.clients import Client

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

KEY_SPEC = "ECC_NIST_P256"
ALGORITHM: Final = "ECDSA_SHA_256"


class SigningError(Exception):
    """KMS cannot sign with this key (not found, disabled, denied, or not an ECC_NIST_P256 signing key)."""


class KmsSigner:
    """`enrollment.archive.contract.Signer` with a KMS key: the private key never leaves KMS.

    `Sign` with `MessageType` RAW (KMS hashes the message; RAW is limited to 4096 bytes, and the
    archive statement is about 90). `key_id()` is the key's ARN as KMS reports it.
    """

    client: Client[KMSClient] = Client("kms")

    def __init__(self, key_id: str) -> None:
        self._key_id = key_id

    @cached_property
    def _public_key(self) -> dict[str, Any]:
        try:
            answer = self.client.get_public_key(KeyId=self._key_id)
        except (BotoCoreError, ClientError) as e:
            raise SigningError(f"KMS key {self._key_id}: {e}") from e
        spec = answer.get("KeySpec") or answer.get("CustomerMasterKeySpec")  # the latter: older answers
        if spec != KEY_SPEC or answer.get("KeyUsage") != "SIGN_VERIFY":
            raise SigningError(
                f"KMS key {self._key_id} is {spec} {answer.get('KeyUsage')}, not {KEY_SPEC} SIGN_VERIFY"
            )
        if ALGORITHM not in answer.get("SigningAlgorithms", []):
            raise SigningError(f"KMS key {self._key_id} does not sign with {ALGORITHM}")
        return dict(answer)

    def key_id(self) -> str:
        """The key as KMS names it in GetPublicKey (its ARN on AWS)."""
        return str(self._public_key["KeyId"])

    def sign(self, message: bytes) -> bytes:
        try:
            answer = self.client.sign(
                KeyId=self._key_id, Message=message, MessageType="RAW", SigningAlgorithm=ALGORITHM
            )
        except (BotoCoreError, ClientError) as e:
            raise SigningError(f"KMS key {self._key_id}: {e}") from e
        return bytes(answer["Signature"])

    def public_key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_der_public_key(bytes(self._public_key["PublicKey"]))
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
