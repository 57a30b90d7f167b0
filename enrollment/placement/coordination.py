"""Coordinated placement (统筹安排, R-COORD-1): everyone still without a place gets a public school seat.

Children who failed verification (R-VER-4), catchment overflow (R-PUB-2), private-lottery losers
(R-LOT-5) and anyone else without a place are placed by the district into public schools of their
grade that still have free seats, relatively near home (相对就近). Nobody who registered is left
without a place: a child this module cannot place (`"no-seat"`) means the whole grade is full, and the
caller must fail loudly rather than record it as an outcome.

The placement, for one district and grade:

1. **Candidates.** Each child may go to at most `candidates` (K) schools: the K nearest schools that have
   at least one free seat and lie within `cap_km` of home, nearest first by (distance in whole metres,
   school id). Distances are haversine great-circle distances (`distance_km`) rounded half-to-even to
   whole metres; a school is within the cap when its rounded distance is at most `round(cap_km * 1000)`
   metres.
2. **Min-cost flow.** OR-Tools' `SimpleMinCostFlow.solve_max_flow_with_min_cost` on
   source → child (capacity 1) → candidate school (capacity 1, cost = metres) → sink (capacity = free
   seats). That maximises first the number of children placed within the cap (over the candidate arcs)
   and then, among all such placements, minimises the total home-to-school distance in metres. Both
   are exact: the solver works in integers.
3. **Rank tie-break.** Equal-distance alternatives are broken by each child's recorded rank `rank`
   (0 = first; the replayable random tie-break of the season): while two children placed in step 2
   could exchange schools, both keeping a candidate school, with the total distance unchanged and
   the better-ranked child (smaller `rank`) strictly nearer home, they exchange (see `_exchange`).
4. **Fallback.** The children step 2 could not place within the cap, in rank order, each take the
   nearest school (by metres, then school id) with a seat left: reason `"nearest-with-seat"`. When no
   school of the grade has a seat left the child gets reason `"no-seat"` and no school.

What is guaranteed (and what `check` and the tests verify):

- Identical inputs give identical output, whatever order `children` and `schools` are given in: the
  children are numbered by rank and the schools by id (code point order, which is UTF-8 byte order as
  in LOTTERY.md), and the flow's arcs are added in that canonical order — all source → child arcs,
  then child → school arcs in (child rank, school id) order, then school → sink arcs in school id
  order. The solver is single-threaded and deterministic given the same arcs in the same order.
- The number placed within the cap is the maximum possible over the candidate arcs, and among those
  placements the total distance is the minimum (step 2 is exact; step 3 keeps the total unchanged).
- After step 3 no pair of children placed within the cap can exchange schools (each within its
  candidates) at an unchanged total distance so that the better-ranked child is strictly nearer home.
  Other ties between optima (exchanges around three or more schools, a child moving to another
  school at the same distance, which of two children with equal claims is left to step 4) are decided
  by the solver's deterministic choice given the documented arc order: not promised to follow rank.
  A rank term in the costs cannot do better: a per-child term is the same for every placement of the
  same children, and a term weighting each child's distance by rank, scaled below one metre of the
  total, overflows the solver's 64-bit costs for tens of thousands of children.
- No fallback child is farther from its school than from any school still with a free seat at the end.
  A fallback child is within the cap only when more than K schools with free seats lie within the
  cap of home and its K nearest filled up.

Replays: the integer metres come from float64 `sin`, `cos` and `arcsin`, whose last bit may differ
between platforms or NumPy builds; a rounded metre, and so possibly a placement, could then differ
only for a distance within about 1e-9 m of a half metre. Replays on the same build are bit-exact.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

Reason = Literal["within-cap", "nearest-with-seat", "no-seat"]
REASONS: tuple[Reason, ...] = ("within-cap", "nearest-with-seat", "no-seat")
EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
DEFAULT_CANDIDATES = 20
_CHUNK = 2048  # children per block of the child × school distance matrix
_NONE = np.iinfo(np.int64).max

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class Located(Protocol):
    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Child:
    """A child to place: home coordinates (WGS 84 degrees) and the recorded tie-break rank (0..n-1)."""

    id: str
    lat: float
    lon: float
    rank: int


@dataclass(frozen=True, slots=True)
class SchoolSeats:
    """A public school of the child's grade and its free seats after admissions so far."""

    id: str
    lat: float
    lon: float
    free: int


@dataclass(frozen=True, slots=True)
class Placement:
    child_id: str
    rank: int
    school_id: str | None  # None only with reason "no-seat"
    reason: Reason
    metres: int | None  # home to school, whole metres (`distance_m`); None only with "no-seat"


@dataclass(frozen=True, slots=True)
class Summary:
    children: int
    within_cap: int
    nearest_with_seat: int
    no_seat: int
    arcs: int  # child → school arcs in the flow
    exchanges: int  # rank tie-break exchanges made in step 3
    total_m: int  # over the children placed
    mean_m: float
    max_m: int
    seats_left: int


@dataclass(frozen=True, slots=True)
class Coordination:
    cap_km: float
    candidates: int
    placements: tuple[Placement, ...]  # one per child, in rank order
    summary: Summary

    @property
    def assignment(self) -> dict[str, str]:
        """Child id → school id, for every child placed (all but `"no-seat"`)."""
        return {p.child_id: p.school_id for p in self.placements if p.school_id is not None}

    @property
    def reasons(self) -> dict[str, Reason]:
        return {p.child_id: p.reason for p in self.placements}

    @property
    def metres(self) -> dict[str, int | None]:
        return {p.child_id: p.metres for p in self.placements}

    @property
    def unplaced(self) -> list[str]:
        """Children with reason `"no-seat"`: the caller must turn any into a loud failure (R-COORD-1)."""
        return [p.child_id for p in self.placements if p.reason == "no-seat"]


def _haversine_km(
    lat1: FloatArray | float, lon1: FloatArray | float, lat2: FloatArray | float, lon2: FloatArray | float
) -> FloatArray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0))), dtype=np.float64)


def _metres(km: FloatArray) -> IntArray:
    return np.rint(km * 1000.0).astype(np.int64)


def distance_km(a: Located, b: Located) -> float:
    """Great-circle distance by the haversine formula on a sphere of radius 6371.0088 km.

    hav(d / R) = hav(φ2 − φ1) + cos φ1 · cos φ2 · hav(λ2 − λ1), hav(x) = sin²(x / 2), computed as
    d = 2R · asin(√h). Numerically sound for short distances (no 1 − cos cancellation); against the
    WGS 84 ellipsoid it is off by at most about 0.5 %, which does not matter for "relatively near".
    One code path (NumPy float64) serves this function and the bulk matrix in `coordinate`.
    """
    return float(_haversine_km(a.lat, a.lon, b.lat, b.lon))


def distance_m(a: Located, b: Located) -> int:
    """`distance_km` in whole metres, rounded half to even: the unit of every cost and comparison."""
    return int(_metres(_haversine_km(a.lat, a.lon, b.lat, b.lon)))


def cap_metres(cap_km: float) -> int:
    """A school is within the cap when its `distance_m` is at most this."""
    return round(cap_km * 1000)


def _is_int(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def _validate(
    children: Sequence[Child], schools: Sequence[SchoolSeats], cap_km: float, candidates: int
) -> None:
    if not (isinstance(cap_km, int | float) and math.isfinite(cap_km) and cap_km >= 0):
        raise ValueError(f"cap_km must be a finite number of kilometres >= 0, not {cap_km!r}")
    if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
        raise ValueError(f"candidates must be an integer >= 1, not {candidates!r}")
    for kind, items in (("child", children), ("school", schools)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(f"duplicate {kind} id {item.id!r}")
            seen.add(item.id)
            lat, lon = item.lat, item.lon
            if not (math.isfinite(lat) and math.isfinite(lon)):
                raise ValueError(f"{kind} {item.id!r}: coordinates must be finite, not ({lat!r}, {lon!r})")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"{kind} {item.id!r}: coordinates out of range: ({lat!r}, {lon!r})")
    for s in schools:
        if not _is_int(s.free) or s.free < 0:
            raise ValueError(f"school {s.id!r}: free seats must be an integer >= 0, not {s.free!r}")
    n = len(children)
    by_rank: dict[int, str] = {}
    for c in children:
        if not _is_int(c.rank) or not 0 <= c.rank < n:
            raise ValueError(f"child {c.id!r}: rank {c.rank!r} is not an integer in 0..{n - 1}")
        if c.rank in by_rank:
            raise ValueError(f"children {by_rank[c.rank]!r} and {c.id!r} share rank {c.rank}")
        by_rank[int(c.rank)] = c.id


def _candidates(
    kids: Sequence[Child], sch: Sequence[SchoolSeats], cap_m: int, k: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Arcs (child number, school number, metres) in (child rank, school id) order (step 1)."""
    m = len(sch)
    eligible = np.array([j for j, s in enumerate(sch) if s.free > 0], dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    arc_child: list[IntArray] = [empty]
    arc_school: list[IntArray] = [empty]
    arc_m: list[IntArray] = [empty]
    if len(eligible) == 0:
        return empty, empty, empty
    s_lat = np.array([sch[j].lat for j in eligible], dtype=np.float64)[None, :]
    s_lon = np.array([sch[j].lon for j in eligible], dtype=np.float64)[None, :]
    k = min(k, len(eligible))
    for start in range(0, len(kids), _CHUNK):
        block = kids[start : start + _CHUNK]
        c_lat = np.array([c.lat for c in block], dtype=np.float64)[:, None]
        c_lon = np.array([c.lon for c in block], dtype=np.float64)[:, None]
        metres = _metres(_haversine_km(c_lat, c_lon, s_lat, s_lon))
        # unique per row: metres first, then the school's number (id order) breaks equal distances
        key = np.where(metres <= cap_m, metres * m + eligible[None, :], _NONE)
        if k < key.shape[1]:
            key = np.take_along_axis(key, np.argpartition(key, k - 1, axis=1)[:, :k], axis=1)
        rows, cols = np.nonzero(key != _NONE)
        chosen = key[rows, cols]
        school, dist = chosen % m, chosen // m
        order = np.lexsort((school, rows))  # (child rank, school id)
        arc_child.append(rows[order] + start)
        arc_school.append(school[order])
        arc_m.append(dist[order])
    return (
        np.concatenate(arc_child).astype(np.int64),
        np.concatenate(arc_school).astype(np.int64),
        np.concatenate(arc_m).astype(np.int64),
    )


def _flow(
    n: int, free: Sequence[int], arc_child: IntArray, arc_school: IntArray, arc_m: IntArray
) -> IntArray:
    """Step 2: each child's school number from the min-cost flow, or -1 (not placed within the cap)."""
    at = np.full(n, -1, dtype=np.int64)
    if len(arc_child) == 0:
        return at
    m = len(free)
    sink, source = n + m, n + m + 1
    with_arcs = np.unique(arc_child)  # sorted: rank order
    eligible = np.array([j for j, f in enumerate(free) if f > 0], dtype=np.int64)
    tails = np.concatenate([np.full(len(with_arcs), source), arc_child, n + eligible])
    heads = np.concatenate([with_arcs, n + arc_school, np.full(len(eligible), sink)])
    capacities = np.concatenate(
        [np.ones(len(with_arcs) + len(arc_child), dtype=np.int64), np.asarray(free, dtype=np.int64)[eligible]]
    )
    costs = np.concatenate(
        [np.zeros(len(with_arcs), dtype=np.int64), arc_m, np.zeros(len(eligible), dtype=np.int64)]
    )
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities, costs.astype(np.int64)
    )
    smcf.set_node_supply(source, len(with_arcs))
    smcf.set_node_supply(sink, -len(with_arcs))
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"coordination: the min-cost flow ended with status {status!r}")
    first = len(with_arcs)
    flows = np.asarray(smcf.flows(np.arange(first, first + len(arc_child), dtype=np.int32)))
    used = flows > 0
    at[arc_child[used]] = arc_school[used]
    return at


def _member(values: IntArray, pool: IntArray) -> npt.NDArray[np.bool_]:
    """values ∈ pool, for a sorted pool (np.isin is several times slower on these sizes)."""
    if len(pool) == 0:
        return np.zeros(len(values), dtype=np.bool_)
    at = np.minimum(np.searchsorted(pool, values), len(pool) - 1)
    return np.asarray(pool[at] == values)


class _Records:
    """Each placed child's possible moves to its other candidate schools, as exchange keys.

    A move of child c from school a to candidate b changes its distance by delta. delta < 0 makes c a
    gainer with key (a, b, -delta); delta > 0 makes c a loser with key (b, a, delta), the key of the
    gainers it could exchange with (moving b → a and gaining delta). Keys are integers
    (from · m + to) · span + metres.
    """

    def __init__(self, g_key: IntArray, g_rank: IntArray, l_key: IntArray, l_rank: IntArray) -> None:
        self.g_key, self.g_rank, self.l_key, self.l_rank = g_key, g_rank, l_key, l_rank

    @classmethod
    def of(
        cls, at: IntArray, m: int, span: int, arc_child: IntArray, arc_school: IntArray, arc_m: IntArray
    ) -> _Records:
        """The records of the arcs given, which must include all arcs of each child they name."""
        here = at[arc_child]
        own = np.zeros(len(at), dtype=np.int64)  # metres to the school each child is at
        mine = (here >= 0) & (arc_school == here)
        own[arc_child[mine]] = arc_m[mine]
        other = (here >= 0) & ~mine
        c, b, a = arc_child[other], arc_school[other], here[other]
        delta = arc_m[other] - own[c]
        gain, loss = delta < 0, delta > 0
        return cls(
            (a[gain] * m + b[gain]) * span - delta[gain],
            c[gain],
            (b[loss] * m + a[loss]) * span + delta[loss],
            c[loss],
        )

    def sorted(self) -> _Records:
        go, lo = np.argsort(self.g_key, kind="stable"), np.argsort(self.l_key, kind="stable")
        return _Records(self.g_key[go], self.g_rank[go], self.l_key[lo], self.l_rank[lo])

    def common_keys(self) -> IntArray:
        """Keys with both a gainer and a loser (records sorted)."""
        return np.unique(self.g_key[_member(self.g_key, self.l_key)])

    def with_keys(self, keys: IntArray, stale: npt.NDArray[np.bool_]) -> _Records:
        """The records (sorted) with one of `keys` (sorted, unique), leaving out children marked stale."""

        def pick(key: IntArray, rank: IntArray) -> tuple[IntArray, IntArray]:
            lo, hi = np.searchsorted(key, keys, "left"), np.searchsorted(key, keys, "right")
            sel = np.concatenate(
                [np.arange(x, y) for x, y in zip(lo.tolist(), hi.tolist(), strict=True) if y > x]
                or [np.zeros(0, dtype=np.int64)]
            )
            sel = sel[~stale[rank[sel]]]
            return key[sel], rank[sel]

        return _Records(*pick(self.g_key, self.g_rank), *pick(self.l_key, self.l_rank))

    def __add__(self, other: _Records) -> _Records:
        return _Records(
            np.concatenate([self.g_key, other.g_key]),
            np.concatenate([self.g_rank, other.g_rank]),
            np.concatenate([self.l_key, other.l_key]),
            np.concatenate([self.l_rank, other.l_rank]),
        )

    def exchanges(self, m: int, span: int) -> list[tuple[int, int]]:
        """One round's exchanges (gainer, loser); see `_exchange`."""
        keep = _member(self.l_key, np.sort(self.g_key))  # usually far fewer gainers than losers
        if not keep.any():
            return []
        l_key, l_rank = self.l_key[keep], self.l_rank[keep]
        keep = _member(self.g_key, np.unique(l_key))
        g_key, g_rank = self.g_key[keep], self.g_rank[keep]
        go = np.lexsort((g_rank, g_key))
        g_keys, g_first = np.unique(g_key[go], return_index=True)
        g_best = g_rank[go][g_first]
        lo = np.lexsort((-l_rank, l_key))
        l_keys, l_first = np.unique(l_key[lo], return_index=True)
        l_worst = l_rank[lo][l_first]
        keys, gi, li = np.intersect1d(g_keys, l_keys, assume_unique=True, return_indices=True)
        ok = g_best[gi] < l_worst[li]
        keys, gainers, losers = keys[ok], g_best[gi][ok], l_worst[li][ok]
        gains, targets = keys % span, (keys // span) % m
        moved: set[int] = set()
        pairs: list[tuple[int, int]] = []
        for x in np.lexsort((targets, -gains, gainers)).tolist():
            i, j = int(gainers[x]), int(losers[x])
            if i not in moved and j not in moved:
                pairs.append((i, j))
                moved.update((i, j))
        return pairs


def _exchange(at: IntArray, m: int, arc_child: IntArray, arc_school: IntArray, arc_m: IntArray) -> int:
    """Step 3, in place on `at`: rank tie-break exchanges; returns how many were made.

    An exchange: child i at school a and child j at school b, rank(i) < rank(j), b a candidate of i and
    a a candidate of j, d(i, b) = d(i, a) - g and d(j, a) = d(j, b) + g for some g > 0; i moves to b and
    j to a. Seats and the total distance are unchanged; i is g metres nearer home, j g metres farther.
    Each round finds all exchanges at once; among them each school pair and gain `g` is used by its
    best-ranked gainer and worst-ranked loser, gainers in rank order, each taking its largest gain
    (then the smaller school number), and no child moves twice in a round. Rounds repeat until none
    is left. It ends: every exchange makes the distances listed by rank lexicographically smaller.

    Only the first round looks at every arc. A child's records depend only on where it is, so later
    rounds take the first round's records of the children never moved, for the keys that matter (the
    first round's keys with both a gainer and a loser, and every key of a moved child), and recompute
    the moved children's: the same exchanges as recomputing everything, at a fraction of the cost.
    """
    if len(arc_child) == 0:
        return 0
    n, span = len(at), int(arc_m.max()) + 1
    first = np.searchsorted(arc_child, np.arange(n + 1))  # arcs are in child order
    start = _Records.of(at, m, span, arc_child, arc_school, arc_m).sorted()
    common = start.common_keys()
    moved = np.zeros(n, dtype=np.bool_)
    records, total = start, 0
    while pairs := records.exchanges(m, span):
        for i, j in pairs:
            at[i], at[j] = at[j], at[i]
            moved[i] = moved[j] = True
        total += len(pairs)
        arcs = np.concatenate([np.arange(first[c], first[c + 1]) for c in np.flatnonzero(moved).tolist()])
        fresh = _Records.of(at, m, span, arc_child[arcs], arc_school[arcs], arc_m[arcs])
        keys = np.unique(np.concatenate([common, fresh.g_key, fresh.l_key]))
        records = start.with_keys(keys, moved) + fresh
    return total


def coordinate(
    children: Sequence[Child],
    schools: Sequence[SchoolSeats],
    cap_km: float,
    *,
    candidates: int = DEFAULT_CANDIDATES,
) -> Coordination:
    """Place every child (R-COORD-1); see the module docstring for the steps and guarantees.

    Raises ValueError, naming the child or school, for duplicate ids, negative or non-integer free
    seats, ranks that are not a permutation of 0..n-1, and non-finite or out-of-range coordinates.
    A child with reason `"no-seat"` (the grade has no seat left) is returned, not raised: the caller
    must fail loudly on `Coordination.unplaced`, since nobody may be left without a place.
    """
    _validate(children, schools, cap_km, candidates)
    kids = sorted(children, key=lambda c: c.rank)
    sch = sorted(schools, key=lambda s: s.id)
    n, m = len(kids), len(sch)
    free = [int(s.free) for s in sch]
    cap_m = cap_metres(cap_km)
    arc_child, arc_school, arc_m = _candidates(kids, sch, cap_m, candidates)
    at = _flow(n, free, arc_child, arc_school, arc_m)
    exchanges = _exchange(at, m, arc_child, arc_school, arc_m)

    left = np.asarray(free, dtype=np.int64) - np.bincount(at[at >= 0], minlength=m)
    reasons: list[Reason] = ["within-cap" if j >= 0 else "no-seat" for j in at.tolist()]
    dist: list[int | None] = [None] * n
    mine = at[arc_child] == arc_school
    for child, metres in zip(arc_child[mine].tolist(), arc_m[mine].tolist(), strict=True):
        dist[child] = metres

    # step 4: the rest in rank order, each to the nearest school with a seat left
    rest = np.flatnonzero(at < 0)
    if len(rest) and m:
        s_lat = np.array([s.lat for s in sch], dtype=np.float64)[None, :]
        s_lon = np.array([s.lon for s in sch], dtype=np.float64)[None, :]
        number = np.arange(m, dtype=np.int64)[None, :]
        for start in range(0, len(rest), _CHUNK):
            block = rest[start : start + _CHUNK]
            c_lat = np.array([kids[i].lat for i in block], dtype=np.float64)[:, None]
            c_lon = np.array([kids[i].lon for i in block], dtype=np.float64)[:, None]
            key = _metres(_haversine_km(c_lat, c_lon, s_lat, s_lon)) * m + number
            for row, i in enumerate(block.tolist()):
                if not left.any():
                    break
                j = int(np.where(left > 0, key[row], _NONE).argmin())
                at[i], reasons[i], dist[i] = j, "nearest-with-seat", int(key[row, j] // m)
                left[j] -= 1

    placements = tuple(
        Placement(
            child_id=c.id,
            rank=int(c.rank),
            school_id=sch[j].id if j >= 0 else None,
            reason=reasons[i],
            metres=dist[i],
        )
        for i, (c, j) in enumerate(zip(kids, at.tolist(), strict=True))
    )
    placed = [d for d in dist if d is not None]
    counts = Counter(reasons)
    summary = Summary(
        children=n,
        within_cap=counts["within-cap"],
        nearest_with_seat=counts["nearest-with-seat"],
        no_seat=counts["no-seat"],
        arcs=len(arc_child),
        exchanges=exchanges,
        total_m=sum(placed),
        mean_m=sum(placed) / len(placed) if placed else 0.0,
        max_m=max(placed, default=0),
        seats_left=int(left.sum()),
    )
    return Coordination(cap_km=cap_km, candidates=candidates, placements=placements, summary=summary)


def check(children: Sequence[Child], schools: Sequence[SchoolSeats], result: Coordination) -> list[str]:
    """Problems with a coordination result; empty if it is sound.

    Finds: a child missing, placed twice or unknown; an unknown school or reason; a school over its free
    seats; a recorded distance that is not `distance_m`; a `"within-cap"` child farther than the cap; a
    `"nearest-with-seat"` child while a nearer school (in particular one within the cap) still has a
    free seat; a `"no-seat"` child while any school still has a free seat.
    """
    problems: list[str] = []
    kids = {c.id: c for c in children}
    by_id = {s.id: s for s in schools}
    cap_m = cap_metres(result.cap_km)
    seen = Counter(p.child_id for p in result.placements)
    problems += [f"child {cid!r} is placed {k} times" for cid, k in sorted(seen.items()) if k > 1]
    problems += [f"child {cid!r} is missing from the result" for cid in sorted(kids.keys() - seen.keys())]
    problems += [f"unknown child {cid!r} in the result" for cid in sorted(seen.keys() - kids.keys())]
    taken = Counter(p.school_id for p in result.placements if p.school_id is not None)
    for sid, k in sorted(taken.items()):
        if sid not in by_id:
            problems.append(f"unknown school {sid!r} in the result")
        elif k > by_id[sid].free:
            problems.append(f"school {sid!r} is over capacity: {k} placed, {by_id[sid].free} free seats")
    with_seat = [s for s in sorted(schools, key=lambda s: s.id) if s.free > taken.get(s.id, 0)]
    for p in result.placements:
        child = kids.get(p.child_id)
        if child is None:
            continue
        if p.reason not in REASONS:
            problems.append(f"child {p.child_id!r}: unknown reason {p.reason!r}")
            continue
        if p.reason == "no-seat":
            if p.school_id is not None:
                problems.append(f"child {p.child_id!r}: reason no-seat but placed at {p.school_id!r}")
            if with_seat:
                problems.append(
                    f"child {p.child_id!r} has no seat while school {with_seat[0].id!r} has a free seat"
                )
            continue
        school = by_id.get(p.school_id) if p.school_id is not None else None
        if school is None:
            if p.school_id is None:
                problems.append(f"child {p.child_id!r}: reason {p.reason} but no school")
            continue
        metres = distance_m(child, school)
        if p.metres != metres:
            problems.append(
                f"child {p.child_id!r}: recorded {p.metres!r} m to {school.id!r}, it is {metres} m"
            )
        if p.reason == "within-cap" and metres > cap_m:
            problems.append(
                f"child {p.child_id!r}: within-cap at {school.id!r}, {metres} m beyond the cap of {cap_m} m"
            )
        if p.reason == "nearest-with-seat":
            nearer = [(d, s.id) for s in with_seat if (d := distance_m(child, s), s.id) < (metres, school.id)]
            if nearer:
                d, sid = min(nearer)
                where = "within the cap" if d <= cap_m else "nearer"
                problems.append(
                    f"child {p.child_id!r}: nearest-with-seat at {school.id!r} ({metres} m) while school "
                    f"{sid!r} {where} ({d} m) still has a free seat"
                )
    return problems
