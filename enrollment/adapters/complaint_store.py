"""`ComplaintStore` on the season's single table (enrollment/people/complaints.py, R-OPEN-1).

Key: `COMPLAINT#{id}` / `COMPLAINT`; GSI1 `SEASON#{season}#COMPLAINT` / `{district}#{registration id}#
{created, UTC}#{id}`, so a district's complaints are one query (begins_with `{district}#`) and one
child's another (begins_with `{district}#{registration id}#`). Answers are appended to the item,
conditional on the number of answers it was read with.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr

from enrollment.adapters.table import DynamoTable, record_of
from enrollment.people.complaints import Answer, Complaint


def _item(c: Complaint) -> dict[str, Any]:
    created = c.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "pk": f"COMPLAINT#{c.complaint_id}",
        "sk": "COMPLAINT",
        "type": "complaint",
        "gsi1pk": f"SEASON#{c.season}#COMPLAINT",
        "gsi1sk": f"{c.district}#{c.registration_id}#{created}#{c.complaint_id}",
        "complaint_id": c.complaint_id,
        "season": c.season,
        "registration_id": c.registration_id,
        "district": c.district,
        "grade": c.grade,
        "kind": c.kind,
        "text": c.text,
        "created_at": c.created_at.isoformat(),
        "answers": [_answer(a) for a in c.answers],
    }


def _answer(a: Answer) -> dict[str, Any]:
    out: dict[str, Any] = {"text": a.text, "by": a.by, "district": a.district, "at": a.at.isoformat()}
    if a.correction_id is not None:  # a correction attached (issue 18)
        out |= {"correction_id": a.correction_id, "correction_zh": a.correction_zh}
    return out


def _complaint(item: dict[str, Any]) -> Complaint:
    r = record_of(item)
    return Complaint(
        complaint_id=str(r["complaint_id"]),
        season=str(r["season"]),
        registration_id=str(r["registration_id"]),
        district=str(r["district"]),
        grade=int(r["grade"]),
        kind=r["kind"],
        text=str(r["text"]),
        created_at=datetime.fromisoformat(str(r["created_at"])),
        answers=tuple(
            Answer(
                str(a["text"]),
                str(a["by"]),
                str(a["district"]),
                datetime.fromisoformat(str(a["at"])),
                a.get("correction_id"),
                a.get("correction_zh"),
            )
            for a in r.get("answers", [])
        ),
    )


class DynamoComplaintStore(DynamoTable):
    def add_complaint(self, complaint: Complaint) -> None:
        if not self._put_new(_item(complaint)):
            raise RuntimeError(f"complaint id {complaint.complaint_id} is taken")  # 40 random bits a day

    def complaint(self, complaint_id: str) -> Complaint | None:
        item = self._get(f"COMPLAINT#{complaint_id}", "COMPLAINT")
        return _complaint(item) if item else None

    def _by_prefix(self, season: str, prefix: str) -> list[Complaint]:
        return [_complaint(i) for i in self._listed(f"SEASON#{season}#COMPLAINT", prefix)]

    def complaints_of_child(self, season: str, district: str, registration_id: str) -> list[Complaint]:
        return self._by_prefix(season, f"{district}#{registration_id}#")

    def complaints_of_district(self, season: str, district: str) -> list[Complaint]:
        return self._by_prefix(season, f"{district}#")

    def add_answer(self, complaint: Complaint, answer: Answer) -> bool:
        return self._write_if(
            self.table.update_item,
            Key={"pk": f"COMPLAINT#{complaint.complaint_id}", "sk": "COMPLAINT"},
            UpdateExpression="SET answers = list_append(answers, :a)",
            ConditionExpression=Attr("answers").size().eq(len(complaint.answers)),
            ExpressionAttributeValues={":a": [_answer(answer)]},
        )
