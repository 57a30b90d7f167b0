"""Where the season's unannounced seeds come from (the `Seeds` port).

In AWS every seed is fresh from the operating system's CSPRNG, drawn when the draw happens and then
recorded beside what it drew (spot-check samples, the placement tie-break, the sunshine classes).
Only the embedded backend installs another source (`installed`): its season derives each seed from
the seed it was run with, so a local season can be replayed byte for byte. Nothing in the
environment can switch a Lambda function to that source.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from enrollment.core.ports import Seeds


class FreshSeeds:
    """32 hexadecimal digits from the CSPRNG each time; `purpose` only names the draw."""

    def new_seed(self, purpose: str) -> str:
        return secrets.token_hex(16)


_installed: Seeds | None = None


def current() -> Seeds:
    """The installed source (a local season's), else fresh seeds."""
    return _installed or FreshSeeds()


@contextmanager
def installed(seeds: Seeds) -> Iterator[Seeds]:
    """Use `seeds` for every wiring built while this lasts (the embedded backend, enrollment/local)."""
    global _installed
    previous, _installed = _installed, seeds
    try:
        yield seeds
    finally:
        _installed = previous
