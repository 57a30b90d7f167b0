"""The season's results sealed in the Object Lock archive, exactly as LOTTERY.md (R-OPEN-1, R-LOT-3).

The use case is `enrollment.archive.seal.seal_season`: `season.json`, `manifest.json`,
`manifest.sig.json` (KMS `Sign`, ECDSA_SHA_256, RAW, over LOTTERY.md's statement) and
`public-key.pem` added to what the season archived under `seasons/{season}/`. Nothing is ever
rewritten: a rerun finds the archive sealed and changes nothing.

The same function seals the corrections after the results, daily (`{"season", "task":
"seal-corrections"}`, `enrollment.archive.seal.seal_pending_corrections`, issue 18): it holds the
archive's write and the season's signing key, and a function of its own would cost a dozen of the
stack's 500 CloudFormation resources. Before sealing, the late children whose verdict came in since
(an answer file, a home visit, a review signed) are placed by it (`enrollment.corrections.late`), so
their corrections are sealed with the day's; a late child whose checks were never asked (the ask lost)
is asked again. Right after, once the sunshine classes are sealed, the moves
those batches make into and out of the schools' classes are sealed as the next class amendment
(`seal_class_amendments`, docs/CLASSES.md "Amendments"), reading the moving children's sex from the
registrations (its role already reads the table).
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.archive.seal import seal_class_amendments, seal_pending_corrections, seal_season
from enrollment.core import clock
from enrollment.corrections.late import settle_late, unasked
from functions.events import SeasonEvent, task


class SealCorrections(SeasonEvent):
    task: Literal["seal-corrections"]


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The workflow's seal of the season, or the daily rule's seal of its pending corrections."""
    if event.get("task") == "seal-corrections":
        return seal_corrections(event, context)
    return seal(event, context)


@task(SeasonEvent, log="archive sealed")  # "sealed": "now", or "already" on a rerun
def seal(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    return seal_season(
        w.config, request.season, archive=w.archive, listing=w.archived, signer=w.signer, now=clock.now()
    )


@task(SealCorrections, log="corrections sealed")  # "now", "already" (a rerun) or "nothing" pending
def seal_corrections(request: SealCorrections, w: Wiring) -> dict[str, Any]:
    settled = settle_late(
        w.config,
        request.season,
        archive=w.archive,
        corrections=w.corrections,
        registrations=w.store,
        verdicts=w.verification,
        lotteries=w.lotteries,
        tie_breaks=w.placements,
        now=clock.now().astimezone(w.config.tz),
    )
    if settled.refused:  # the child keeps its coordination seat; the district corrects it by hand
        logger.error("late registration not settled", extra={"refused": settled.refused})
    asked = unasked(request.season, corrections=w.corrections, checks=w.verification)
    if asked:  # their ask never reached verify-batch: asked again (a failure here waits for tomorrow)
        try:
            w.late_checks.ask(request.season, asked)
        except Exception:
            logger.exception("late registrations' checks not asked", extra={"registration_ids": asked})
            asked = []
    sealed = seal_pending_corrections(request.season, store=w.corrections, archive=w.archive, signer=w.signer)
    classes = seal_class_amendments(request.season, archive=w.archive, registrations=w.store, signer=w.signer)
    late = {"late_settled": [c.correction_id for c in settled.corrections], "late_asked": asked}
    return {**sealed, "classes": classes, **late}
