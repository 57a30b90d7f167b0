"""The private-school lottery draw, version `hmac-drbg-sha256-durstenfeld/1` (LOTTERY.md, R-LOT-2, R-LOT-3).

A public contract: anyone must be able to replay a draw from the archived inputs, in any language.
This module follows LOTTERY.md to the letter; change it only by adding a new version.

Two implementations of the same bytes live here:
- the straightforward reference, `HmacDrbg` + `uniform` + `shuffle` and `draw_reference`, written to be
  read beside LOTTERY.md and NIST SP 800-90A;
- the fast path `draw` uses: `swap_indices` (Durstenfeld's j values, from HMAC_DRBG Generate(8) calls
  inlined on hashlib's C SHA-256; they depend only on the step's DRBG and the pool size, never on the
  order being shuffled) and `apply_swaps`. Because the six steps' j sequences are independent, `draw` may
  compute the three draw steps' in a second Python process while it shuffles (large pools on two or
  more cores; see `draw`). The tests check the fast path against the reference byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

ALGORITHM = "hmac-drbg-sha256-durstenfeld/1"
STEPS = ("shuffle-1", "shuffle-2", "shuffle-3", "draw-1", "draw-2", "draw-3")
# `draw` computes the draw steps in a second process from this pool size on (when it may: see `draw`)
PARALLEL_MIN_POOL = 20_000

logger = logging.getLogger(__name__)


class HmacDrbg:
    """HMAC_DRBG (NIST SP 800-90A Rev.1) with SHA-256: no prediction resistance, no reseed.

    The straightforward reference implementation; `swap_indices` is the fast path `draw` uses.
    """

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


def step_seed(
    season: str, school_id: str, grade: int, step: str, digest: str, typed: str
) -> tuple[bytes, bytes]:
    """The step's DRBG `entropy_input` and `nonce` (LOTTERY.md, step 2)."""
    if not typed:
        raise ValueError(f"{step}: the typed input must be a non-empty string")
    return typed.encode(), f"{season}|{school_id}|{grade}|{step}|{digest}".encode()


def step_drbg(season: str, school_id: str, grade: int, step: str, digest: str, typed: str) -> HmacDrbg:
    entropy, nonce = step_seed(season, school_id, grade, step, digest, typed)
    return HmacDrbg(entropy=entropy, nonce=nonce)


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


# The fast path. HMAC(K, m) = SHA256((K ^ opad) || SHA256((K ^ ipad) || m)) with K padded to 64 bytes;
# each HMAC_DRBG key serves three HMACs (the last V update of one Generate, the first V update and the
# K update of the next), so its two pad blocks are hashed once and the hash states copied.
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))
_KEY_PADDING = b"\x00" * 32  # SHA-256's block is 64 bytes, the key 32
_BIG_ENDIAN_U64 = struct.Struct(">Q")


def swap_indices(entropy: bytes, nonce: bytes, n: int, count: int | None = None) -> list[int]:
    """The j values `shuffle(items, HmacDrbg(entropy, nonce))` draws for len(items) == n, fast.

    For i = n-1 down to 1, j = `uniform(i + 1, drbg)`; `count` stops after that many (the tests use
    it with huge n, where `uniform` rejects often). Each HMAC_DRBG Generate(8) call (SHA-256, empty
    personalization, no additional input) is V = HMAC(K, V); output V[:8]; K = HMAC(K, V || 0x00);
    V = HMAC(K, V). That is inlined below with hashlib's C SHA-256 and each key's two pad blocks
    hashed once: HMAC(K, m) = SHA256((K ^ opad) || SHA256((K ^ ipad) || m)), K padded to 64 bytes.
    """
    drbg = HmacDrbg(entropy, nonce)  # instantiate: the same code as the reference
    k, v = drbg._k, drbg._v
    sha256, ipad, opad, padding, zero = hashlib.sha256, _IPAD, _OPAD, _KEY_PADDING, b"\x00"
    unpack = _BIG_ENDIAN_U64.unpack_from
    block = k + padding
    inner, outer = sha256(block.translate(ipad)), sha256(block.translate(opad))
    js: list[int] = []
    append = js.append
    top = 1 << 64
    safe = top - n  # x < safe is never in the rejected tail: 2**64 % m < m <= n
    stop = 1 if count is None else max(n - count, 1)
    for m in range(n, stop, -1):  # m = i + 1
        while True:  # one Generate(8) per pass
            h = inner.copy()
            h.update(v)
            g = outer.copy()
            g.update(h.digest())
            v = g.digest()  # V = HMAC(K, V)
            (x,) = unpack(v)  # its first 8 bytes, big-endian
            inner.update(v + zero)
            outer.update(inner.digest())
            block = outer.digest() + padding  # K = HMAC(K, V || 0x00)
            inner, outer = sha256(block.translate(ipad)), sha256(block.translate(opad))
            h = inner.copy()
            h.update(v)
            g = outer.copy()
            g.update(h.digest())
            v = g.digest()  # V = HMAC(K, V)
            if x < safe or x < top - top % m:  # uniform's rule: limit = 2**64 - (2**64 % m)
                break
        append(x % m)
    return js


def apply_swaps(items: Sequence[str], js: Sequence[int]) -> list[str]:
    """Durstenfeld's swaps: item i (from len-1 down) with item js[len-1-i]."""
    out = list(items)
    if len(js) != max(len(out) - 1, 0):
        raise ValueError(f"{len(js)} swap indices for {len(out)} items")
    for i, j in zip(range(len(out) - 1, 0, -1), js, strict=True):
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


def _order0(
    pool: Sequence[str], shuffle_inputs: Sequence[str], draw_inputs: Sequence[str], chosen_draw: int
) -> list[str]:
    if len(shuffle_inputs) != 3 or len(draw_inputs) != 3:
        raise ValueError("three shuffle inputs and three draw inputs are needed")
    if chosen_draw not in (1, 2, 3):
        raise ValueError("chosen_draw is 1, 2 or 3")
    if len(set(pool)) != len(pool):
        raise ValueError("the pool has a registration id twice")
    return sorted(pool, key=lambda s: s.encode())


def draw_reference(
    season: str,
    school_id: str,
    grade: int,
    pool: Sequence[str],
    seats: int,
    shuffle_inputs: Sequence[str],
    draw_inputs: Sequence[str],
    chosen_draw: int,
) -> Draw:
    """LOTTERY.md steps 1-7 written out with the reference `HmacDrbg` and `shuffle`: slow, plain, the same bytes."""
    order = _order0(pool, shuffle_inputs, draw_inputs, chosen_draw)
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


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class _Worker:
    """A second Python process computing `swap_indices` for some steps (`python -I -S lottery.py`).

    Only the standard library runs there; the seeds go in on stdin and the j values come back on stdout,
    all at once at the end (so a full pipe never stalls it while the caller is busy). No fork, no
    multiprocessing primitives (none of which AWS Lambda's sandbox needs). Any failure is reported by
    `result` returning None; the caller then computes the steps itself.
    """

    def __init__(self) -> None:
        import subprocess  # here, so that the worker process need not import it

        self._proc = subprocess.Popen(  # noqa: S603 - this interpreter running this file, no shell
            [sys.executable, "-I", "-S", os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._sizes: list[int] = []

    def send(self, seeds: Sequence[tuple[bytes, bytes, int]]) -> None:
        assert self._proc.stdin is not None
        self._sizes = [max(n - 1, 0) for _, _, n in seeds]
        self._proc.stdin.write("".join(f"{e.hex()} {o.hex()} {n}\n" for e, o, n in seeds).encode())
        self._proc.stdin.close()

    def result(self) -> list[array[int]] | None:
        assert self._proc.stdout is not None
        data = self._proc.stdout.read()
        self._proc.wait()
        words = array("Q")
        if self._proc.returncode != 0 or len(data) != sum(self._sizes) * words.itemsize:
            return None
        words.frombytes(data)
        out, start = [], 0
        for size in self._sizes:
            out.append(words[start : start + size])
            start += size
        return out

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


def _worker_main() -> None:
    """The second process's side of `_Worker`: seeds on stdin, native unsigned 64-bit j values on stdout."""
    out = array("Q")
    for line in sys.stdin.read().splitlines():
        entropy, nonce, n = line.split()
        out.extend(swap_indices(bytes.fromhex(entropy), bytes.fromhex(nonce), int(n)))
    sys.stdout.buffer.write(out.tobytes())
    sys.stdout.buffer.flush()


def _start_worker() -> _Worker | None:
    if not sys.executable or not os.path.isfile(__file__):
        return None
    try:
        return _Worker()
    except OSError:
        logger.warning("lottery: no second process, computing every step here", exc_info=True)
        return None


def draw(
    season: str,
    school_id: str,
    grade: int,
    pool: Sequence[str],
    seats: int,
    shuffle_inputs: Sequence[str],
    draw_inputs: Sequence[str],
    chosen_draw: int,
    *,
    parallel: bool | None = None,
) -> Draw:
    """The whole ceremony's computation, exactly as LOTTERY.md steps 1-7 (the fast path).

    `parallel`: compute the three draw steps' swap indices in a second Python process while this one
    shuffles. None (the default) does so for pools of `PARALLEL_MIN_POOL` ids or more when this process
    may use two or more CPUs; False never; True always. The result is the same bytes either way.
    """
    worker = None
    if parallel or (parallel is None and len(pool) >= PARALLEL_MIN_POOL and _usable_cpus() >= 2):
        worker = _start_worker()  # before sorting, so the interpreter starts meanwhile
    try:
        order = _order0(pool, shuffle_inputs, draw_inputs, chosen_draw)
        digest = pool_digest(order)
        n = len(order)
        seeds = [
            step_seed(season, school_id, grade, step, digest, typed)
            for step, typed in zip(STEPS, [*shuffle_inputs, *draw_inputs], strict=True)
        ]
        draw_js: Sequence[Sequence[int]] | None = None
        if worker is not None:
            try:
                worker.send([(entropy, nonce, n) for entropy, nonce in seeds[3:]])
            except OSError:
                logger.warning("lottery: the second process failed, computing every step here", exc_info=True)
                worker.close()
                worker = None
        orders: list[list[str]] = []
        for entropy, nonce in seeds[:3]:
            order = apply_swaps(order, swap_indices(entropy, nonce, n))
            orders.append(order)
        if worker is not None:
            draw_js = worker.result()
            if draw_js is None:
                logger.warning("lottery: the second process failed, computing every step here")
        if draw_js is None:
            draw_js = [swap_indices(entropy, nonce, n) for entropy, nonce in seeds[3:]]
        draws = [apply_swaps(order, js) for js in draw_js]
    finally:
        if worker is not None:
            worker.close()
    return Draw(digest, (orders[0], orders[1], orders[2]), (draws[0], draws[1], draws[2]), chosen_draw, seats)


if __name__ == "__main__":
    _worker_main()
