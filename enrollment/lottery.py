"""The private-school lottery draw, version `hmac-drbg-sha256-durstenfeld/1` (LOTTERY.md, R-LOT-2, R-LOT-3).

A public contract: anyone must be able to replay a draw from the archived inputs, in any language.
This module follows LOTTERY.md to the letter; change it only by adding a new version.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

ALGORITHM = "hmac-drbg-sha256-durstenfeld/1"
STEPS = ("shuffle-1", "shuffle-2", "shuffle-3", "draw-1", "draw-2", "draw-3")


class HmacDrbg:
    """HMAC_DRBG (NIST SP 800-90A Rev.1) with SHA-256: no prediction resistance, no reseed."""

    def __init__(self, entropy: bytes, nonce: bytes, personalization: bytes = b"") -> None:
        self._k = b"\x00" * 32
        self._v = b"\x01" * 32
        self._update(entropy + nonce + personalization)

    def _hmac(self, data: bytes) -> bytes:
        return hmac.new(self._k, data, hashlib.sha256).digest()

    def _update(self, provided: bytes = b"") -> None:
        self._k = self._hmac(self._v + b"\x00" + provided)
        self._v = self._hmac(self._v)
        if provided:
            self._k = self._hmac(self._v + b"\x01" + provided)
            self._v = self._hmac(self._v)

    def generate(self, n: int, additional: bytes = b"") -> bytes:
        if additional:
            self._update(additional)
        out = b""
        while len(out) < n:
            self._v = self._hmac(self._v)
            out += self._v
        self._update(additional)
        return out[:n]


def pool_digest(order0: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(order0).encode()).hexdigest()


def step_drbg(season: str, school_id: str, grade: int, step: str, digest: str, typed: str) -> HmacDrbg:
    if not typed:
        raise ValueError(f"{step}: the typed input must be a non-empty string")
    nonce = f"{season}|{school_id}|{grade}|{step}|{digest}".encode()
    return HmacDrbg(entropy=typed.encode(), nonce=nonce)


def uniform(n: int, drbg: HmacDrbg) -> int:
    """A uniform integer in [0, n) from 8-byte big-endian draws, rejecting the biased tail."""
    limit = 2**64 - (2**64 % n)
    while True:
        v = int.from_bytes(drbg.generate(8), "big")
        if v < limit:
            return v % n


def shuffle(items: Sequence[str], drbg: HmacDrbg) -> list[str]:
    """Durstenfeld's shuffle: for i from len-1 down to 1, swap i with uniform(i + 1)."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = uniform(i + 1, drbg)
        out[i], out[j] = out[j], out[i]
    return out


@dataclass(frozen=True)
class Draw:
    pool_digest: str
    orders: tuple[list[str], list[str], list[str]]  # after shuffles 1, 2, 3
    draws: tuple[list[str], list[str], list[str]]  # full rankings of draws 1, 2, 3
    chosen_draw: int
    seats: int

    @property
    def ranking(self) -> list[str]:
        return self.draws[self.chosen_draw - 1]

    @property
    def winners(self) -> list[str]:
        return self.ranking[: self.seats]

    @property
    def waitlist(self) -> list[str]:
        return self.ranking[self.seats :]


def draw(
    season: str,
    school_id: str,
    grade: int,
    pool: Sequence[str],
    seats: int,
    shuffle_inputs: Sequence[str],
    draw_inputs: Sequence[str],
    chosen_draw: int,
) -> Draw:
    """The whole ceremony's computation, exactly as LOTTERY.md steps 1-7."""
    if len(shuffle_inputs) != 3 or len(draw_inputs) != 3:
        raise ValueError("three shuffle inputs and three draw inputs are needed")
    if chosen_draw not in (1, 2, 3):
        raise ValueError("chosen_draw is 1, 2 or 3")
    if len(set(pool)) != len(pool):
        raise ValueError("the pool has a registration id twice")
    order = sorted(pool, key=lambda s: s.encode())
    digest = pool_digest(order)
    orders: list[list[str]] = []
    for k, typed in enumerate(shuffle_inputs, start=1):
        order = shuffle(order, step_drbg(season, school_id, grade, f"shuffle-{k}", digest, typed))
        orders.append(order)
    draws = [
        shuffle(order, step_drbg(season, school_id, grade, f"draw-{d}", digest, typed))
        for d, typed in enumerate(draw_inputs, start=1)
    ]
    return Draw(digest, (orders[0], orders[1], orders[2]), (draws[0], draws[1], draws[2]), chosen_draw, seats)
