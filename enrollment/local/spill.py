"""moto's S3 objects kept on disk, not in memory, for the length of an embedded season.

moto holds every object's bytes in a `tempfile.SpooledTemporaryFile` in memory (up to 5 MB each),
so a local season of 60,000 children keeps its 60,000 admission notices (some 40 KB each, 2.3 GB)
in the process. Spilling each to its own temporary file is no way out either: one open file per
object, and the process may have only 20,000. Here each object's bytes are appended to one file
per season instead, and the object keeps its offset and length (`SpilledValue`, the file-like
surface moto's `FakeKey` uses: seek, read, write, truncate, tell, close). moto's answers are the
same bytes; only where they are kept changes.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from unittest import mock


class SpillFile:
    """One append-only file of object bytes; `append` gives the offset, `read_at` reads them back."""

    def __init__(self, directory: str) -> None:
        self._fd = os.open(os.path.join(directory, "s3-objects.bin"), os.O_RDWR | os.O_CREAT | os.O_APPEND)
        self._end = 0
        self._lock = threading.Lock()

    def append(self, data: bytes) -> int:
        with self._lock:
            offset = self._end
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
            self._end += len(data)
            return offset

    def read_at(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset) if length else b""

    def close(self) -> None:
        os.close(self._fd)


class SpilledValue(io.RawIOBase):
    """An object's bytes in the season's spill file: what moto's FakeKey reads and writes."""

    def __init__(self, spill: SpillFile) -> None:
        super().__init__()
        self._spill = spill
        self._offset = 0
        self._length = 0
        self._pos = 0

    def _bytes(self) -> bytes:
        return self._spill.read_at(self._offset, self._length)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = self._length if size is None or size < 0 else min(self._length, self._pos + size)
        if end <= self._pos:
            return b""
        data = self._spill.read_at(self._offset + self._pos, end - self._pos)
        self._pos = end
        return data

    def truncate(self, size: int | None = None) -> int:
        size = self._pos if size is None else size
        if size < self._length:
            self._replace(self._bytes()[:size])
        return self._length

    def write(self, data: Any) -> int:
        data = bytes(data)
        if self._pos == self._length:  # appending (moto writes a whole value after truncating)
            current = self._bytes() if self._length else b""
            self._replace(current + data)
        else:
            current = self._bytes()
            self._replace(current[: self._pos] + data + current[self._pos + len(data) :])
        self._pos += len(data)
        return len(data)

    def _replace(self, value: bytes) -> None:
        self._offset = self._spill.append(value) if value else 0
        self._length = len(value)


@contextmanager
def spilled_s3_values(directory: str) -> Iterator[None]:
    """While open, moto's S3 objects keep their bytes in `directory`'s spill file."""
    from moto.s3 import models

    spill = SpillFile(directory)

    def spooled(*_args: Any, **_kwargs: Any) -> SpilledValue:
        return SpilledValue(spill)

    module = SimpleNamespace(**{**vars(tempfile), "SpooledTemporaryFile": spooled})
    try:
        with mock.patch.object(models, "tempfile", module):
            yield
    finally:
        spill.close()
