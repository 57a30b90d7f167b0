"""A local season's entropy: every key, seed and typed input derived from the seed it was run with.

In AWS the season's randomness is real: KMS makes the keys, the CSPRNG makes the seeds nobody
announced (`enrollment.adapters.seeds.FreshSeeds`) and parent representatives type the lottery's
inputs. The embedded backend replaces each with a value derived from (season name, season, seed,
purpose), so two local seasons of the same config and seed are the same season, byte for byte:

- moto's KMS key material (the HMAC key behind child keys and registration ids, and with it the
  notice-code and parent-code secrets derived from it; the table key): `seeded_kms`;
- the spot-check samples', tie-break's and sunshine classes' seeds: `SeasonSeeds.new_seed`, installed
  into the wiring by the runtime;
- what the six parent representatives type at each lottery ceremony: `SeasonSeeds.typed_inputs`.

moto's KMS key ids and the signing key's EC private key are derived too (so the key id and public
key the archive names are the same); an ECDSA signature still differs from run to run, as ECDSA
signatures do. The derivation is HMAC-SHA256, so a seed gives no hint of another season's values.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

DERIVATION = "enrollment-local-season/1"


class SeasonSeeds:
    """The `Seeds` port for a local season, and the other values it derives from its seed."""

    def __init__(self, seed: int | str, name: str, season: str) -> None:
        self.seed = str(seed)
        self._key = hmac.new(
            DERIVATION.encode(), f"{name}|{season}|{self.seed}".encode(), hashlib.sha256
        ).digest()

    def derive(self, purpose: str, size: int = 32) -> bytes:
        """`size` bytes for `purpose` (HMAC-SHA256 in counter mode): the same purpose, the same bytes."""
        out = b""
        block = 0
        while len(out) < size:
            out += hmac.new(self._key, f"{purpose}|{block}".encode(), hashlib.sha256).digest()
            block += 1
        return out[:size]

    def number(self, purpose: str, below: int) -> int:
        """A number in [0, below) for `purpose` (bias below 2**-64: fine for a simulation)."""
        return int.from_bytes(self.derive(purpose, 16), "big") % below

    def new_seed(self, purpose: str) -> str:
        return self.derive(f"seed/{purpose}", 16).hex()

    def typed_inputs(self, school_id: str, grade: int) -> dict[str, str]:
        """What the six parent representatives of this ceremony type (four digits each), and #5's slip."""
        base = f"ceremony/{school_id}/{grade}"
        inputs = {
            f"{step}-{k}": f"{self.number(f'{base}/{step}-{k}', 10000):04d}"
            for step in ("shuffle", "draw")
            for k in (1, 2, 3)
        }
        inputs["slip"] = str(1 + self.number(f"{base}/slip", 3))
        return inputs


@contextmanager
def seeded_kms(seeds: SeasonSeeds) -> Iterator[None]:
    """moto's KMS keys get their id, key material and EC private key from `seeds`: by the key's spec
    and description (and how many keys of that description came before), so creation order
    elsewhere does not matter. RSA keys keep moto's random private key."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from moto.kms.models import Key
    from moto.kms.utils import ECDSAPrivateKey

    original = Key.__init__
    made: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def init(self: Key, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        with lock:
            which = (self.key_spec, self.description)
            n = made[which]
            made[which] += 1
        which_key = f"{self.key_spec}/{self.description}/{n}"
        self.key_material = seeds.derive(f"kms-key-material/{which_key}")
        if not self.multi_region:
            key_id = str(uuid.UUID(bytes=seeds.derive(f"kms-key-id/{which_key}", 16), version=4))
            self.arn, self.id = self.arn.replace(self.id, key_id), key_id
        if isinstance(self.private_key, ECDSAPrivateKey):
            curve = self.private_key.private_key.curve
            size = curve.key_size
            scalar = int.from_bytes(seeds.derive(f"kms-ec-key/{which_key}", size // 8 + 16), "big")
            # in [1, 2**(size-1)]: below the order of every curve KMS offers
            self.private_key.private_key = ec.derive_private_key(scalar % 2 ** (size - 1) + 1, curve)

    with mock.patch.object(Key, "__init__", init):
        yield
