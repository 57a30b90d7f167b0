"""The season's results sealed in the Object Lock archive, exactly as LOTTERY.md (R-OPEN-1, R-LOT-3).

The use case is `enrollment.archive.seal.seal_season`: `season.json`, `manifest.json`,
`manifest.sig.json` (KMS `Sign`, ECDSA_SHA_256, RAW, over LOTTERY.md's statement) and
`public-key.pem` added to what the season archived under `seasons/{season}/`. Nothing is ever
rewritten: a rerun finds the archive sealed and changes nothing.

The same function seals the corrections after the results, daily (`{"season", "task":
"seal-corrections"}`, `enrollment.archive.seal.seal_pending_corrections`, issue 18): it holds the
archive's write and the season's signing key, and a function of its own would cost a dozen of the
stack's 500 CloudFormation resources. Right after, once the sunshine classes are sealed, the moves
those batches make into and out of the schools' classes are sealed as the next class amendment
(`seal_class_amendments`, docs/CLASSES.md "Amendments"), reading the moving children's sex from the
registrations (its role already reads the table).
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.wiring import Wiring
from enrollment.archive.seal import seal_class_amendments, seal_pending_corrections, seal_season
from enrollment.core import clock
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
    sealed = seal_pending_corrections(request.season, store=w.corrections, archive=w.archive, signer=w.signer)
    classes = seal_class_amendments(request.season, archive=w.archive, registrations=w.store, signer=w.signer)
    return {**sealed, "classes": classes}
