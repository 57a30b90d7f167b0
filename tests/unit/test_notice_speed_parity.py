"""R-NOTE-1: the faster ways of drawing and issuing notices give the very files and writes of the plain
ones: the font cut down to a document's glyphs before fpdf2 subsets it, lines broken in linear time,
a process pool drawing a batch, and the batch's reads batched. Synthetic people."""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
from collections.abc import Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from fpdf.fonts import SubsetMap

from enrollment.core import idcard
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.sms_templates import SmsMessage
from enrollment.notices import notice as notices
from enrollment.notices import pdf as drawing
from enrollment.notices.season import issue
from functions.notify import render

SECRET = b"test-secret-for-notice-parity-0123"
NO_FONT = "\U0010fffd"  # a private-use code point: no bundled font draws it
ROUTE_BY_KIND = {"private": "private-draw", "ethnic": "ethnic", "specialised": "specialised"}


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("jilin-2023")


def notice_for(config: SeasonConfig, i: int, name: str) -> notices.Notice:
    """The i-th child: schools of the season in turn, both grades."""
    grade: int = (1, 7)[i % 2]
    schools = [s for s in config.schools if s.plan(grade) > 0]
    school = schools[i % len(schools)]
    return notices.build_notice(
        config,
        registration_id=f"G{grade}-CY-{i:06d}",
        child_name=name,
        id_number=idcard.make("220204", date(2016 if grade == 1 else 2010, 10, 3), 100 + i),
        grade=1 if grade == 1 else 7,
        school_id=school.id,
        route=ROUTE_BY_KIND.get(school.kind, "catchment"),
        secret=SECRET,
    )


NAMES = ("王梓涵", "欧阳玥", "李镕", "张\U00020000", "赵一", "钱多多", "孙悟空", "周", "吴彦祖", "郑成功")


@pytest.fixture(scope="module")
def batch(config: SeasonConfig) -> list[notices.Notice]:
    # the main font only, a fallback font (镕: the rest of URO; 𠀀: Extension B) and every school
    return [notice_for(config, i, NAMES[i % len(NAMES)]) for i in range(len(config.schools) + 4)]


def test_the_subset_written_directly_is_the_file_fontTools_writes_from_the_whole_font(
    batch: list[notices.Notice], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given each notice drawn with its font subset written directly (pdf._Parsed.compiled), When it
    # is drawn with the whole font handed to fpdf2, which subsets it with fontTools (as before), Then
    # the files are the same
    parsed = drawing.load_font(str(notices.FONT_PATH)).parsed
    assert parsed.direct()
    fast = [notices.render_pdf(n) for n in batch]
    whole = drawing._Parsed._subset_source
    monkeypatch.setattr(drawing._Parsed, "direct", lambda self: False)
    monkeypatch.setattr(drawing._Parsed, "_subset_source", lambda self, used=None: whole(self))
    assert [notices.render_pdf(n) for n in batch] == fast
    # and with the font cut down to the glyphs drawn before fontTools subsets it
    monkeypatch.setattr(drawing._Parsed, "_subset_source", whole)
    assert [notices.render_pdf(n) for n in batch[:8]] == fast[:8]


def test_a_fonttools_that_writes_otherwise_turns_the_direct_subsets_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a font parsed afresh, When its directly written sample subset differs from fontTools'
    # (as if a fontTools release changed how it writes a table), Then its subsets go back to fontTools
    path = str(notices.FONT_PATH)
    font = drawing.load_font.__wrapped__(path)
    real = drawing._Parsed.compiled

    def changed(self: Any, used: Any) -> Any:
        out = real(self, used)
        out.data += b"\0"
        return out

    monkeypatch.setattr(drawing._Parsed, "compiled", changed)
    assert not font.parsed.direct()
    monkeypatch.undo()
    assert drawing._Parsed.read(font.parsed.data, font.path, font.postscript_name).direct()


def test_the_main_font_is_written_directly_and_no_document_stays_in_memory(
    batch: list[notices.Notice],
) -> None:
    parsed = drawing.load_font(str(notices.FONT_PATH)).parsed
    assert parsed.glyph_index and len(parsed.cmap_by_glyph) == len(parsed.cmap.tables) and parsed.direct()
    notices.render_pdf(batch[0])
    # fpdf2 memoises per subset map with functools.cache and clears the memos once it has written
    # the fonts: each document's map (and font) must not stay behind, a season draws tens of thousands
    assert SubsetMap.pick.cache_info().currsize == 0
    assert SubsetMap.get_glyph.cache_info().currsize == 0


def test_lines_break_where_measuring_each_grown_line_afresh_breaks(batch: list[notices.Notice]) -> None:
    page = drawing.Page(drawing.load_font(str(notices.FONT_PATH)), notices.FALLBACK_FONTS)
    texts = [f"{n.school_name}（{n.school_id}）{n.school_address}，{n.reporting_zh}。" * 3 for n in batch]
    texts += ["报名编号 R-ABCD-EFGH-JKMN-PQRS 的新生，请于 2023 年 7 月 8 日报到。", "，。、" * 40, ""]
    for text in texts:
        for width, size, indent in ((463.28, 12.5, 25.0), (200.0, 11.5, 0.0), (30.0, 14, 0.0)):
            assert page.lines(text, width, size, indent) == page._lines_measured(text, width, size, indent)
            # and again, from the lines kept for the font
            assert page.lines(text, width, size, indent) == page._lines_measured(text, width, size, indent)


def test_missing_glyphs_crosses_a_process_boundary_as_raised() -> None:
    error = drawing.MissingGlyphs("王" + NO_FONT)
    again = pickle.loads(pickle.dumps(error))  # noqa: S301  # our own object, as the pool sends it
    assert isinstance(again, drawing.MissingGlyphs)
    assert (again.chars, again.code_points, again.reason) == (error.chars, error.code_points, error.reason)


def test_a_process_pool_draws_the_same_files_in_the_same_order(
    batch: list[notices.Notice], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch with a notice no font can draw in the middle, When the pool draws it, Then each
    # notice gets the file `render_each` gives it, in order, and the one no font draws its
    # MissingGlyphs with the same code points
    mixed = [*batch[:5], replace(batch[5], child_name="王" + NO_FONT), *batch[6:12]]
    here = list(notices.render_each(mixed))
    cpu: list[float] = []
    monkeypatch.setattr(render, "cpu_listener", cpu.append)
    pooled = list(render.render_pooled(mixed))
    assert len(cpu) == len(mixed) and all(s >= 0 for s in cpu) and sum(cpu) > 0  # the workers' CPU, told
    assert len(pooled) == len(here) == len(mixed)
    for a, b in zip(here, pooled, strict=True):
        if isinstance(a, bytes):
            assert isinstance(b, bytes) and hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
        else:
            assert isinstance(b, drawing.MissingGlyphs) and b.code_points == a.code_points


def test_the_pool_is_used_off_lambda_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "enrollment-jilin-2023-notify-batch")
    assert render.processes() == 1 and render.renderer() is notices.render_each
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert 1 <= render.processes() <= render.MAX_PROCESSES


# --- a batch: its reads batched, its writes the same whoever draws ---------------------------------


class Season:
    """Registrations, places, notice records, files and SMS in memory; every call logged in order."""

    def __init__(self, config: SeasonConfig, names: dict[str, str]) -> None:
        self.config = config
        self.names = names
        self.records: dict[str, dict[str, Any]] = {}
        self.log: list[tuple[Any, ...]] = []

    def registration(self, rid: str) -> dict[str, Any]:
        return {
            "registration_id": rid,
            "grade": 1,
            "district": "CY",
            "request": {
                "child": {"name": self.names[rid], "id_number": idcard.make("220204", date(2016, 10, 3), 7)},
                "guardians": [{"phone": "13800000000"}],
            },
        }

    def get_registration(self, rid: str) -> dict[str, Any]:
        self.log.append(("get_registration", rid))
        return self.registration(rid)

    def get_registrations(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        self.log.append(("get_registrations", tuple(ids)))
        return {rid: self.registration(rid) for rid in self.names if rid in set(ids)}

    def placed(self, rid: str) -> dict[str, Any] | None:
        self.log.append(("placed", rid))
        return {"school_id": "S-CY-01", "route": "catchment"}

    def placed_of(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        self.log.append(("placed_of", tuple(ids)))
        return {rid: {"school_id": "S-CY-01", "route": "catchment"} for rid in ids}

    def notice(self, rid: str) -> dict[str, Any] | None:
        self.log.append(("notice", rid))
        return self.records.get(rid)

    def notices_of(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        self.log.append(("notices_of", tuple(ids)))
        return {rid: dict(self.records[rid]) for rid in ids if rid in self.records}

    def start_notice(self, item: dict[str, Any]) -> bool:
        self.log.append(("start_notice", item["registration_id"]))
        return self.records.setdefault(item["registration_id"], dict(item)) == item

    def notice_sent(self, rid: str, message_id: str, at: str) -> None:
        self.log.append(("notice_sent", rid, message_id))
        self.records[rid]["sms_message_id"] = message_id

    def notice_manual(self, item: dict[str, Any]) -> None:
        self.log.append(("notice_manual", item["registration_id"], tuple(item["code_points"])))
        self.records[item["registration_id"]] = dict(item)

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.log.append(("put_bytes", key, hashlib.sha256(body).hexdigest()))

    def send(self, phone: str, message: SmsMessage) -> str:
        self.log.append(("send", message.text))
        return f"m{sum(1 for entry in self.log if entry[0] == 'send')}"

    def issue(self, ids: list[str], render_many: notices.RenderMany) -> dict[str, int]:
        return issue(
            self.config,
            self.config.season,
            ids,
            registrations=self,  # type: ignore[arg-type]
            placements=self,
            secret=SECRET,
            store=self,
            files=self,
            sms=self,
            now=datetime(2023, 7, 6, 9, 0, tzinfo=self.config.tz),
            render_many=render_many,
        )


def test_a_batch_reads_in_three_calls_and_writes_the_same_with_the_pool(config: SeasonConfig) -> None:
    # Given a batch of 12 children, one of whom no font can draw, When it is issued with the
    # notices drawn here and, in another season, by the pool, Then both make the same writes in
    # the same order, after three batched reads (no read per child); a retry reads three times
    # again and skips every child whose SMS went out
    names = {f"G1-CY-{i:06d}": NAMES[i % len(NAMES)] for i in range(12)}
    names["G1-CY-000004"] = "王" + NO_FONT
    ids = list(names)
    here, pooled = Season(config, names), Season(config, names)
    assert here.issue(ids, notices.render_each) == {"issued": 11, "skipped": 0, "manual": 1}
    assert pooled.issue(ids, render.render_pooled) == {"issued": 11, "skipped": 0, "manual": 1}
    assert here.log == pooled.log
    reads = [entry[0] for entry in here.log if entry[0] not in ("start_notice", "put_bytes", "send")]
    reads = [r for r in reads if r not in ("notice_sent", "notice_manual")]
    assert reads == ["placed_of", "get_registrations", "notices_of"]
    writes = [entry for entry in here.log if entry[0] in ("start_notice", "notice_manual")]
    assert [entry[1] for entry in writes] == ids  # in the batch's order
    here.log.clear()
    assert here.issue(ids, notices.render_each) == {"issued": 0, "skipped": 11, "manual": 1}
    assert [entry[0] for entry in here.log] == [
        "placed_of",
        "get_registrations",
        "notices_of",
        "notice_manual",
    ]


def test_a_pool_whose_worker_died_fails_that_batch_and_the_retry_gets_a_new_pool(
    batch: list[notices.Notice],
) -> None:
    # Given the pool's workers started, When one of them is killed, Then the batch drawing then fails
    # with BrokenProcessPool (the Map retries the batch), and the retry draws with a new pool
    assert len(list(render.render_pooled(batch[:4]))) == 4
    pool = render._executor()
    victim = next(iter(pool._processes.values()))
    assert victim.pid is not None  # a worker this test's pool started
    os.kill(victim.pid, signal.SIGKILL)
    victim.join()
    with pytest.raises(BrokenProcessPool):
        list(render.render_pooled(batch[:4]))
    assert render._executor() is not pool
    assert list(render.render_pooled(batch[:2])) == list(notices.render_each(batch[:2]))
