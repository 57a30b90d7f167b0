"""The files agencies' worklists on the season's table (enrollment/verification/agency_files.py).

- open file request: `REG#{id}` / `FILE#{agency}`;  `SEASON#{season}#FILE#{agency}` / `{id}`: an
  agency's worklist is one partition of GSI1 read in id order; answering the request deletes the
  item, so the list holds only open requests. The item holds no personal data (the row's ID or deed
  number is read from the registration when a round is written), so the erasure has nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from enrollment.adapters.table import DynamoTable, record_of
from enrollment.verification.agency_files import FileAgency, FileRequest
from enrollment.verification.verdicts import Agency


def _item(r: FileRequest) -> dict[str, Any]:
    return {
        "pk": f"REG#{r.request_id}",
        "sk": f"FILE#{r.agency}",
        "type": "file-request",
        "gsi1pk": f"SEASON#{r.season}#FILE#{r.agency}",
        "gsi1sk": r.request_id,
        **r.model_dump(mode="json"),
    }


class DynamoFileRequestStore(DynamoTable):
    def put_file_request(self, request: FileRequest) -> None:
        self._call(self.table.put_item, Item=_item(request))

    def drop_file_request(self, registration_id: str, agency: Agency) -> None:
        self._call(self.table.delete_item, Key={"pk": f"REG#{registration_id}", "sk": f"FILE#{agency}"})

    def file_requests(self, season: str, agency: FileAgency) -> Iterator[FileRequest]:
        for i in self._listed(f"SEASON#{season}#FILE#{agency}"):
            yield FileRequest.model_validate(record_of(i))
