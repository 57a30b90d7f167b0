"""Corrections on the season's single DynamoDB table (issue 18).

Keys:
- one write of the use case (the request's correction and the seats it passed on, with a late
  registration's item and a re-verified child's verdict): `SEASON#{season}#CORRECTIONS` / `{n:08d}`,
  n = 1, 2, ... in the order written. The item's key is the lock: a write is put only if its number
  is still free, so two corrections computed from the same season cannot both be written (the later
  one is refused, CorrectionConflict, and computed again). Sealed corrections stay, marked with the
  addition that sealed them (`sealed`: correction id → n of `additions/{season}/corrections/{n}/`).
- each changed child's place, for the status API: `REG#{id}` / `PLACEMENT`, as the placement run
  stores it (`DynamoPlacementStore.put_placements`), written after the correction itself. The truth is
  the sealed `placements.jsonl` with the corrections applied (`season.current_lines`); these items
  follow it, and a write interrupted before them is repaired by the next correction of the child.
- each changed child's history, for the family's status page: `REG#{id}` / `CORRECTION#{n:08d}#{i:03d}`
  (the batch, then the correction's place in it), the correction's kind, time, reason codes and
  complaint with the child's own change only (no other child's, no staff member's), written with
  the places and repaired the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from enrollment.adapters.correction_reads import DynamoCorrectionReads, corrections_pk
from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.corrections.model import Correction
from enrollment.corrections.season import CorrectionConflict, NewVerdict, Planned, Recorded

_pk = corrections_pk


class DynamoCorrectionStore(DynamoCorrectionReads):
    def recorded(self, season: str) -> Recorded:
        corrections: list[Correction] = []
        verdicts: dict[str, NewVerdict] = {}
        registrations: list[dict[str, Any]] = []
        batches = 0
        for item in self._batches(season):
            batches += 1
            corrections += [Correction.model_validate(c) for c in json.loads(str(item["corrections"]))]
            for rid, v in json.loads(str(item.get("verdicts") or "{}")).items():
                verdicts[rid] = NewVerdict.model_validate(v)
            if item.get("registration"):
                registrations.append(json.loads(str(item["registration"])))
        return Recorded(corrections, verdicts, registrations, batches)

    def record(self, season: str, planned: Planned, *, after: int) -> None:
        item: dict[str, Any] = {
            "pk": _pk(season),
            "sk": f"{after + 1:08d}",
            "type": "corrections",
            "correction_ids": [c.correction_id for c in planned.corrections],
            "corrections": json.dumps(
                [c.model_dump(mode="json") for c in planned.corrections], ensure_ascii=False
            ),
            "sealed": {},
        }
        if planned.verdicts:
            item["verdicts"] = json.dumps(
                {rid: v.model_dump(mode="json") for rid, v in planned.verdicts.items()}, ensure_ascii=False
            )
        if planned.registration is not None:
            item["registration"] = json.dumps(planned.registration, ensure_ascii=False)
        if not self._put_if(item, "attribute_not_exists(pk)"):
            raise CorrectionConflict(
                "该招生季刚有其他更正写入，请刷新后重试",
                f"corrections of {season}: batch {after + 1} was written meanwhile",
            )
        changed = {ch.registration_id: ch.after for c in planned.corrections for ch in c.changes}
        DynamoPlacementStore(self.table_name).put_placements(season, [p.as_line() for p in changed.values()])
        self._put_all(
            {
                "pk": f"REG#{ch.registration_id}",
                "sk": f"CORRECTION#{after + 1:08d}#{i:03d}",
                "type": "correction-of-child",
                "season": season,
                "correction_id": c.correction_id,
                "kind": c.kind,
                "at": c.at.isoformat(),
                "reason_codes": list(c.reason_codes),
                "complaint_id": c.complaint_id,
                "change": json.dumps(ch.model_dump(mode="json"), ensure_ascii=False),
            }
            for i, c in enumerate(planned.corrections)
            for ch in c.changes
        )

    def pending_corrections(self, season: str) -> list[Correction]:
        """The corrections no addition has sealed yet, in the order written: the sealer's next batch."""
        out: list[Correction] = []
        for item in self._batches(season):
            sealed = dict(item.get("sealed") or {})
            out += [
                Correction.model_validate(c)
                for c in json.loads(str(item["corrections"]))
                if c["correction_id"] not in sealed
            ]
        return out

    def mark_sealed(self, season: str, ids: Iterable[str], n: int) -> None:
        """Record that addition `n` sealed these corrections. Each must be pending: an unknown or
        already sealed id is refused (ValueError) before anything is marked."""
        wanted = list(ids)
        if len(set(wanted)) != len(wanted):
            raise ValueError("a correction is sealed once")
        marks: list[tuple[dict[str, Any], dict[str, Any]]] = []
        left = set(wanted)
        for item in self._batches(season):
            sealed = dict(item.get("sealed") or {})
            mine = [cid for cid in item["correction_ids"] if cid in left]
            if not mine:
                continue
            if done := [cid for cid in mine if cid in sealed]:
                raise ValueError(f"already sealed: {', '.join(done)}")
            left -= set(mine)
            marks.append((item, sealed | dict.fromkeys(mine, n)))
        if left:
            raise ValueError(f"no such pending correction of {season}: {', '.join(sorted(left))}")
        for item, sealed in marks:
            self._update_if({"pk": item["pk"], "sk": item["sk"]}, {"sealed": sealed}, "attribute_exists(pk)")
