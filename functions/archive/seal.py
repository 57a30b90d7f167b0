"""The season's results sealed in the Object Lock archive, exactly as LOTTERY.md (R-OPEN-1, R-LOT-3).

Reads what the season has archived under `seasons/{season}/` (the private-admission records,
`placements.jsonl`, the placement tie-break), adds `season.json` (the config as it was used), and
writes `manifest.json`, `manifest.sig.json` (KMS `Sign`, ECDSA_SHA_256, RAW, over LOTTERY.md's
statement) and `public-key.pem`. Nothing is ever rewritten: a rerun finds the archive sealed and
changes nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.archive import read_s3
from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.signing import KmsSigner
from enrollment.adapters.wiring import wiring
from enrollment.archive import contract
from enrollment.core import clock
from functions.events import SeasonEvent

SEALS = ("manifest.json", "manifest.sig.json", "public-key.pem")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SeasonEvent.model_validate(event)
    w = wiring()
    prefix = f"seasons/{request.season}/"
    existing = read_s3(f"s3://{w.archive.bucket}/{prefix}")
    if "manifest.json" in existing:
        logger.info("archive already sealed", extra={"files": len(existing)})
        return {"sealed": "already", "files": len(existing) - len(SEALS)}
    files = {k: v for k, v in existing.items() if k not in SEALS}
    files["season.json"] = contract.canonical_json(contract.season_json(w.config))
    contract.assert_no_personal_data(files)  # registration ids only (LOTTERY.md)
    sealed = contract.seal(
        request.season, files, KmsSigner(w.settings.signing_key_id), clock.now().astimezone(w.config.tz)
    )
    for key in ["season.json", *SEALS]:  # every other file is already there, byte for byte
        w.archive.put_once(prefix + key, sealed[key])
    out = {
        "sealed": "now",
        "files": len(files),
        "manifest_sha256": contract.sha256_hex(sealed["manifest.json"]),
    }
    logger.info("archive sealed", extra=out)
    return out
