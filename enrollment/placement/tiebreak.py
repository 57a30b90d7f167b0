"""The season's single tie-break numbers (R-PUB-2): one per registered child, drawn once, replayable.

Inside a priority tier, and between children competing for coordinated seats, ties are broken by one
number per child per season (the same at every school: a *single* tie-break). The numbers come from
the lottery's own construction (LOTTERY.md, `hmac-drbg-sha256-durstenfeld/1`), so anyone can replay
them from the recorded inputs alone:

1. `order0` = every registration id of the season, sorted ascending by UTF-8 bytes;
   `pool_digest` = lowercase hex SHA-256 of `"\\n".join(order0)` (UTF-8).
2. One HMAC_DRBG (SHA-256, no reseed, empty personalization) with `entropy_input` = the recorded
   seed string (UTF-8) and `nonce` = UTF-8 of `f"{season}|placement|0|tie-break|{pool_digest}"`
   (LOTTERY.md's nonce with school id `placement`, grade `0` and step `tie-break`).
3. `order` = Durstenfeld shuffle of `order0` with that DRBG (LOTTERY.md steps 3-4).
4. A child's tie-break number is its 0-based position in `order`: smaller wins.

The seed is drawn by the system when placement first runs (or typed by whoever the bureau names)
and recorded with the pool digest; placement always reuses the recorded one (docs/TIEBREAK.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from enrollment.lottery import draw as lottery
from enrollment.lottery.pools import utf8_sorted

SCHOOL = "placement"
GRADE = 0
STEP = "tie-break"


@dataclass(frozen=True)
class TieBreak:
    season: str
    seed: str
    pool_digest: str
    order: tuple[str, ...]  # registration ids, best tie-break first

    def numbers(self) -> dict[str, int]:
        return {rid: i for i, rid in enumerate(self.order)}


def new_seed() -> str:
    """A fresh seed: 32 hexadecimal digits from the operating system's CSPRNG."""
    return secrets.token_hex(16)


def draw(season: str, registration_ids: Iterable[str], seed: str) -> TieBreak:
    order0 = utf8_sorted(registration_ids)
    if len(set(order0)) != len(order0):
        raise ValueError("a registration id is listed twice")
    digest = lottery.pool_digest(order0)
    entropy, nonce = lottery.step_seed(season, SCHOOL, GRADE, STEP, digest, seed)
    order = lottery.apply_swaps(order0, lottery.swap_indices(entropy, nonce, len(order0)))
    return TieBreak(season, seed, digest, tuple(order))


def record(tb: TieBreak) -> dict[str, object]:
    """`placement/tie-break.json` in the archive: everything needed to replay the numbers."""
    return {
        "format": "enrollment-tie-break/1",
        "season": tb.season,
        "algorithm": lottery.ALGORITHM,
        "nonce": f"{tb.season}|{SCHOOL}|{GRADE}|{STEP}|{tb.pool_digest}",
        "seed": tb.seed,
        "pool_digest": tb.pool_digest,
        "order": list(tb.order),
    }
