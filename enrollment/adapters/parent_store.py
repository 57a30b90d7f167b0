"""`ParentStore` on the season's single table: parents' SMS codes and sessions (enrollment/people/parents.py).

Keys:
- code state:  `PARENT#{registration id}` / `CODE` (kept for ids that do not exist too: the rate
  limit must not tell them apart); only the code's keyed hash is stored, never the code.
- session:     `SESSION#{keyed hash of the token}` / `SESSION`, with its registration id and expiry.

Every item carries `expires_epoch` (seconds), for a table TTL to clear it once it is useless.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr

from enrollment.adapters.kms import hmac_sha256
from enrollment.adapters.table import DynamoTable
from enrollment.core.resources import TTL_ATTRIBUTE
from enrollment.people.parents import SEND_WINDOW, CodeRecord, ParentSession

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class DynamoParentStore(DynamoTable):
    def code_record(self, registration_id: str) -> CodeRecord | None:
        item = self._get(f"PARENT#{registration_id}", "CODE")
        if item is None:
            return None
        expires = item.get("expires_at")
        return CodeRecord(
            registration_id=registration_id,
            sends=tuple(datetime.fromisoformat(str(t)) for t in item.get("sends", [])),
            code_hash=str(item["code_hash"]) if item.get("code_hash") else None,
            expires_at=datetime.fromisoformat(str(expires)) if expires else None,
            attempts=int(item.get("attempts", 0)),
            version=int(item["version"]),
        )

    def put_code_record(self, record: CodeRecord, expected_version: int | None) -> bool:
        last = max([*record.sends, *([record.expires_at] if record.expires_at else [])], default=None)
        item: dict[str, Any] = {
            "pk": f"PARENT#{record.registration_id}",
            "sk": "CODE",
            "type": "parent-code",
            "sends": [t.isoformat() for t in record.sends],
            "code_hash": record.code_hash,
            "expires_at": record.expires_at.isoformat() if record.expires_at else None,
            "attempts": record.attempts,
            "version": record.version,
            TTL_ATTRIBUTE: _epoch(last + SEND_WINDOW) if last else 0,
        }
        condition = (
            Attr("pk").not_exists() if expected_version is None else Attr("version").eq(expected_version)
        )
        return self._put_if(item, condition)

    def put_session(self, session: ParentSession) -> None:
        item = {
            "pk": f"SESSION#{session.token_hash}",
            "sk": "SESSION",
            "type": "parent-session",
            "registration_id": session.registration_id,
            "created_at": session.created_at.isoformat(),
            "expires_at": session.expires_at.isoformat(),
            TTL_ATTRIBUTE: _epoch(session.expires_at + timedelta(minutes=1)),
        }
        if not self._put_new(item):
            raise RuntimeError("a session token collided with another one")  # 256 random bits: never

    def session(self, token_hash: str) -> ParentSession | None:
        item = self._get(f"SESSION#{token_hash}", "SESSION")
        if item is None:
            return None
        return ParentSession(
            token_hash=token_hash,
            registration_id=str(item["registration_id"]),
            created_at=datetime.fromisoformat(str(item["created_at"])),
            expires_at=datetime.fromisoformat(str(item["expires_at"])),
        )

    def end_session(self, token_hash: str) -> None:
        self._call(self.table.delete_item, Key={"pk": f"SESSION#{token_hash}", "sk": "SESSION"})


def parent_secret(client: KMSClient, key_id: str, season: str) -> bytes:
    """The key behind parents' code and token hashes, derived in KMS (its HMAC key never leaves KMS)."""
    return hmac_sha256(client, key_id, f"enrollment-parent-secret/1|{season}".encode())
