"""The verification phase's workflow tasks over the whole season (the per-batch work is `phase`).

`prepare` writes the season's registrations in batches for the workflow's Distributed Map; `close`
is the home-visit deadline or the final record; `draw_spot_checks` draws the city's spot-check
sample of every district once (R-VER-5) on the city bureau's behalf, at the review deadline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Store
from enrollment.core.staff import StaffMember
from enrollment.verification import spotcheck
from enrollment.verification.phase import close_visits, summary
from enrollment.verification.review import VerificationStore

# The workflow draws on the city bureau's behalf at the review deadline.
CITY_SYSTEM = StaffMember(principal="system:season-workflow", role="city", district=None)


class WorkFiles(Protocol):
    """The work bucket the workflow's Distributed Map reads its items from."""

    bucket: str

    def put_json(self, key: str, value: Any) -> None: ...


def batches(registration_ids: list[str], size: int) -> list[dict[str, list[str]]]:
    ids = sorted(registration_ids)
    return [{"registration_ids": ids[i : i + size]} for i in range(0, len(ids), size)]


def prepare(config: SeasonConfig, season: str, *, store: Store, work: WorkFiles) -> dict[str, Any]:
    """The season's registrations in batches, written where the Map reads them."""
    settings = config.verification
    ids = [str(r["registration_id"]) for r in store.registrations(season)]
    items = batches(ids, settings.batch_size)
    key = f"seasons/{season}/verification/batches.json"
    work.put_json(key, items)
    return {
        "bucket": work.bucket,
        "key": key,
        "batches": len(items),
        "registrations": len(ids),
        "max_concurrency": settings.max_concurrency,
    }


def close(
    config: SeasonConfig,
    season: str,
    step: Literal["home-visits", "final"],
    *,
    store: Store,
    vstore: VerificationStore,
    now: datetime,
) -> dict[str, Any]:
    """`home-visits`: close what the community did not answer and judge every case; `final`: the record."""
    if step == "home-visits":
        return close_visits(config, season, store=store, vstore=vstore, now=now)
    return summary(config, vstore, season)


def draw_spot_checks(
    config: SeasonConfig, season: str, *, vstore: VerificationStore, now: datetime
) -> dict[str, Any]:
    """Each district's sample, drawn once with a fresh seed (a rerun keeps the recorded one)."""
    settings = config.verification
    drawn: dict[str, dict[str, Any]] = {}
    for d in config.districts:
        existing = vstore.spot_check_sample(season, d.code)
        sample = existing or spotcheck.draw(
            vstore,
            CITY_SYSTEM,
            season,
            d.code,
            settings.spot_check_rate,
            spotcheck.new_seed(),
            now,
            minimum=settings.spot_check_minimum,
        )
        drawn[d.code] = {"population": sample.population, "sampled": len(sample.sample), "seed": sample.seed}
    return {"districts": drawn}
