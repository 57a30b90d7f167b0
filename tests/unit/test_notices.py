"""R-NOTE-1: admission notices (入学通知书) — the PDF, its verification code and the SMS. Synthetic people."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import re
import shutil
import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from enrollment.core import idcard
from enrollment.core.config import SeasonConfig, load_season
from enrollment.notices import notice as notices
from enrollment.notices import pdf as drawing  # `pdf` names the files here

SECRET = b"test-secret-for-notices-0123456789"
SAMPLE = Path(__file__).resolve().parents[2] / "test-output" / "notices" / "sample.pdf"
RID = "R-ABCD-EFGH-JKMN-PQRS"
ROUTE_BY_KIND = {
    "private": "private-draw",
    "ethnic": "ethnic",
    "specialised": "specialised",
    "special-education": "special-education",
}


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("jilin-2023")


@pytest.fixture(scope="module")
def notice(config: SeasonConfig) -> notices.Notice:
    return notices.build_notice(
        config,
        registration_id=RID,
        child_name="王梓涵",
        id_number=idcard.make("220204", date(2016, 10, 3), 123),
        grade=1,
        school_id="S-CY-01",
        route="catchment",
        secret=SECRET,
    )


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def font_glyphs(pdf_file: bytes) -> int:
    """How many glyphs the embedded font subset of a notice's PDF holds (its maxp table)."""
    reader = PdfReader(io.BytesIO(pdf_file))
    font: Any = reader.pages[0]["/Resources"]["/Font"]["/F1"].get_object()
    program = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]["/FontFile2"].get_data()
    entry = program.index(b"maxp", 12)  # the table directory's entry: tag, checksum, offset, length
    maxp = int.from_bytes(program[entry + 8 : entry + 12], "big")
    return int.from_bytes(program[maxp + 4 : maxp + 6], "big")


def pdftotext(pdf: bytes, *options: str) -> str:
    """What poppler's `pdftotext` (Debian poppler-utils, installed by `make browser`) reads in `pdf`."""
    if shutil.which("pdftotext") is None:
        pytest.fail(
            "poppler's pdftotext is not installed: run `make browser` "
            "(as root: apt-get install poppler-utils) before these tests",
            pytrace=False,
        )
    run = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *options, "-", "-"], input=pdf, capture_output=True, check=True
    )
    return run.stdout.decode("utf-8")


# --- the PDF ----------------------------------------------------------------------------------


def test_pdf_is_one_a4_page_whose_chinese_is_real_text(notice: notices.Notice) -> None:
    # Given a placed child's notice, When rendered, Then it is a one-page A4 PDF whose text extracts
    pdf = notices.render_pdf(notice)
    assert pdf.startswith(b"%PDF-1.7") and pdf.rstrip().endswith(b"%%EOF")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert [round(float(v)) for v in page.mediabox] == [0, 0, 595, 842]
    text = flat(text_of(pdf))
    for expected in (
        "入学通知书",
        "船营区第一实验小学",
        "王梓涵",
        "2023年7月8日",
        "吉林市船营区康乐大路107号",
    ):
        assert expected in text
    for expected in (
        "划片入学",
        "小学一年级",
        RID,
        idcard.mask(idcard.make("220204", date(2016, 10, 3), 123)),  # as idcard masks it, ending 1233
        "吉林市船营区教育局",
        "2023年7月6日",
    ):
        assert expected in text
    assert notices.format_code(notice.verification_code) in text
    # what to bring, per annex 2 (三（七）): the notice, hukou and property-deed originals
    for item in ("本入学通知书", "户籍原件", "房证原件"):
        assert item in text
    # the full ID number is nowhere in the file, the masked one is
    full = idcard.make("220204", date(2016, 10, 3), 123)
    assert full not in text and full.encode() not in pdf


def test_pdf_font_is_an_embedded_subset_with_a_unicode_map(notice: notices.Notice) -> None:
    # Given the rendered notice, Then its one font is embedded (FontFile2), subset (XXXXXX+ name, small)
    # and mapped to Unicode (ToUnicode); there are no images, so the text is text
    reader = PdfReader(io.BytesIO(notices.render_pdf(notice)))
    resources: Any = reader.pages[0]["/Resources"]
    assert "/XObject" not in resources
    fonts = resources["/Font"]
    assert list(fonts) == ["/F1"]
    font = fonts["/F1"].get_object()
    assert font["/Subtype"] == "/Type0" and font["/Encoding"] == "/Identity-H"
    assert "/ToUnicode" in font
    cid_font = font["/DescendantFonts"][0].get_object()
    assert cid_font["/Subtype"] == "/CIDFontType2"
    assert re.fullmatch(r"/[A-Z]{6}\+EnrollmentNoticeSerif-Regular", str(cid_font["/BaseFont"]))
    program = cid_font["/FontDescriptor"]["/FontFile2"].get_data()
    assert program[:4] == b"\x00\x01\x00\x00"
    glyphs = font_glyphs(notices.render_pdf(notice))
    assert 100 < glyphs < 400, "the notice's own glyphs, not the font's 7,563"
    assert len(program) < 200_000, "a subset, not the whole 2.8 MB font"


def test_pdf_is_small(notice: notices.Notice) -> None:
    assert len(notices.render_pdf(notice)) < 80_000


def test_same_notice_same_bytes_even_after_reloading_the_font(notice: notices.Notice) -> None:
    first = notices.render_pdf(notice)
    drawing.load_font.cache_clear()
    again = notices.render_pdf(replace(notice))
    assert hashlib.sha256(first).digest() == hashlib.sha256(again).digest()


def test_no_state_goes_from_one_notice_to_the_next(config: SeasonConfig, notice: notices.Notice) -> None:
    # Given the font parsed once per process and shared by every notice, When notice A, then B (another
    # child, school and grade: other glyphs), then a notice with a character the font lacks (which
    # fails half drawn) and then A again are rendered, Then A's two files are identical (its font
    # subset holds A's glyphs only, numbered as before), and so are B's
    school = next(s for s in config.schools if s.kind == "private" and s.plan(7) > 0)
    other = notices.build_notice(
        config,
        registration_id="R-5555-6666-7777-8888",
        child_name="欧阳玥",
        id_number=idcard.make("220202", date(2011, 5, 6), 8),
        grade=7,
        school_id=school.id,
        route="private-draw",
        secret=SECRET,
    )
    a = notices.render_pdf(notice)
    b = notices.render_pdf(other)
    with pytest.raises(drawing.MissingGlyphs):
        notices.render_pdf(replace(notice, child_name="王\U00030041"))
    again = notices.render_pdf(notice)
    assert hashlib.sha256(again).digest() == hashlib.sha256(a).digest()
    assert notices.render_pdf(other) == b != a
    assert "欧阳玥" in flat(text_of(b)) and "欧阳玥" not in flat(text_of(again))


def test_the_font_parsed_once_gives_the_file_fpdf2s_add_font_gives(
    notice: notices.Notice, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the notice rendered with the font parsed once per process (pdf._Parsed), When it is
    # rendered with a font fpdf2 parses for that one document (add_font, as before), Then the two
    # files are identical: the shared parse changes the time, not the file
    shared = notices.render_pdf(notice)
    path = drawing.load_font(str(notices.FONT_PATH)).path

    def parsed_by_fpdf2(parsed: Any, i: int) -> Any:
        document = drawing.FPDF(unit="pt", format="A4")
        document.add_font(drawing._FAMILY, "", path)
        face = document.fonts[drawing._FAMILY]
        face.name, face.i = parsed.face.name, i
        face.ttfont.recalcBBoxes = False  # as the shared parse does (pdf._Parsed._subset_source)
        return face

    monkeypatch.setattr(drawing._Parsed, "document_font", parsed_by_fpdf2)
    assert notices.render_pdf(notice) == shared


def test_same_notice_same_bytes_in_another_process(notice: notices.Notice) -> None:
    # Given the notice rendered here, When a fresh Python process with another hash seed renders it
    # (as a retried Lambda batch would), Then it writes the identical file
    code = (
        "import sys; from datetime import date; from enrollment.core import idcard; "
        "from enrollment.core.config import load_season; from enrollment.notices import notice as n; "
        "x = n.build_notice(load_season('jilin-2023'), registration_id=sys.argv[1], child_name='王梓涵', "
        "id_number=idcard.make('220204', date(2016, 10, 3), 123), grade=1, school_id='S-CY-01', "
        "route='catchment', secret=sys.argv[2].encode()); sys.stdout.buffer.write(n.render_pdf(x))"
    )
    here = notices.render_pdf(notice)
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code, RID, SECRET.decode()], capture_output=True, env=env, check=True
        )
        assert hashlib.sha256(run.stdout).digest() == hashlib.sha256(here).digest()


def test_poppler_reads_the_school_and_the_child(config: SeasonConfig) -> None:
    # Given a notice for a child of a school other than the fixture's, When poppler's pdftotext
    # reads the PDF, Then it finds the child's school and the child's name (the ToUnicode map works
    # for a reader other than pypdf)
    school = next(s for s in config.schools if s.kind == "private" and s.plan(1) > 0)
    n = notices.build_notice(
        config,
        registration_id="R-5555-6666-7777-8888",
        child_name="欧阳玥",
        id_number=idcard.make("220202", date(2016, 5, 6), 8),
        grade=1,
        school_id=school.id,
        route="private-draw",
        secret=SECRET,
    )
    text = flat(pdftotext(notices.render_pdf(n)))
    assert school.name in text
    assert "欧阳玥" in text and "欧阳玥同学及家长" in text
    assert notices.format_code(n.verification_code) in text


def test_different_notices_give_different_files(config: SeasonConfig, notice: notices.Notice) -> None:
    other_child = replace(notice, child_name="李欣怡", registration_id="R-ZZZZ-EFGH-JKMN-PQRS")
    other_school = notices.build_notice(
        config,
        registration_id=RID,
        child_name="王梓涵",
        id_number=idcard.make("220204", date(2016, 10, 3), 123),
        grade=1,
        school_id="S-CY-02",
        route="coordination",
        secret=SECRET,
    )
    files = {notices.render_pdf(n) for n in (notice, other_child, other_school)}
    assert len(files) == 3
    assert "李欣怡" in flat(text_of(notices.render_pdf(other_child)))
    assert "统筹安排" in flat(text_of(notices.render_pdf(other_school)))


def test_every_school_of_the_season_renders(config: SeasonConfig) -> None:
    # Given every school and grade of the jilin-2023 config, When a notice is rendered for each,
    # Then the bundled font has every character of every school name and address (no MissingGlyphs)
    rendered = 0
    for school in config.schools:
        for grade in (1, 7):
            if school.plan(grade) == 0:
                continue
            n = notices.build_notice(
                config,
                registration_id=RID,
                child_name="欧阳玥",
                id_number=idcard.make("220202", date(2010, 5, 6), 8),
                grade=grade,
                school_id=school.id,
                route=ROUTE_BY_KIND.get(school.kind, "catchment"),
                secret=SECRET,
            )
            assert n.bureau.endswith("教育局") and n.bureau.startswith("吉林市")
            pdf = notices.render_pdf(n)
            assert pdf.startswith(b"%PDF")
            rendered += 1
            if rendered == 1 or school.kind == "private":
                text = flat(text_of(pdf))
                assert school.name in text and flat(school.address) in text
    assert rendered >= len(config.schools)


def test_season_notice_takes_its_dates_school_and_bureau_from_the_config(config: SeasonConfig) -> None:
    school = next(s for s in config.schools if s.kind == "public" and s.plan(7) > 0 and s.district == "JK")
    n = notices.build_notice(
        config,
        registration_id="R-7777-7777-7777-7777",
        child_name="赵子墨",
        id_number=idcard.make("220272", date(2011, 3, 9), 17),
        grade=7,
        school_id=school.id,
        route="coordination",
        secret=SECRET,
        window=(time(8, 30), time(11, 30)),
    )
    assert n.reporting_day == config.calendar.reporting_day == date(2023, 7, 8)
    assert n.issued == config.calendar.admission_notices == date(2023, 7, 6)
    assert (n.school_name, n.school_address) == (school.name, school.address)
    assert n.bureau == "吉林市经开区教育局"
    assert n.reporting_zh == "2023年7月8日（星期六）8:30—11:30"
    text = flat(text_of(notices.render_pdf(n)))
    assert "初中一年级（七年级）" in text and "8:30—11:30" in text and school.name in text


def test_long_values_wrap_inside_the_margins(notice: notices.Notice) -> None:
    # Given a school name and address too long for one line, When rendered, Then every word poppler
    # finds on the page lies within the margins (a closing mark may hang one character past the
    # right one) and the address is still all there
    long = replace(
        notice,
        school_name="吉林市船营区第一实验小学校（北校区）暨吉林市船营区实验教育集团成员学校",
        school_address="吉林市船营区康乐大路107号（正门在康乐大路与牡丹路交汇处向东二百米路北，报到请走东侧门）",
        child_name="欧阳玥",
    )
    pdf = notices.render_pdf(long)
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">', pdftotext(pdf, "-bbox")
    )
    assert len(words) > 40
    for x0, y0, x1, y1 in ((float(v) for v in w) for w in words):
        assert x0 >= notices.MARGIN - 1 and x1 <= drawing.PAGE_W - notices.MARGIN + 14
        assert y0 > 40 and y1 < drawing.PAGE_H - 40  # poppler measures y from the top
    text = flat(text_of(pdf))
    assert flat(long.school_address) in text


def test_a_character_the_font_lacks_is_refused_not_left_blank(notice: notices.Notice) -> None:
    with pytest.raises(drawing.MissingGlyphs) as caught:
        # Ext G: registration refuses it (not in GB 18030-2022) and no bundled font has it; the check
        # stays for whatever else could reach a notice (a school's address, an old record)
        notices.render_pdf(replace(notice, child_name="王\U00030041"))
    assert caught.value.chars == "\U00030041"


def test_write_a_sample_for_a_person_to_look_at(notice: notices.Notice) -> None:
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    SAMPLE.write_bytes(notices.render_pdf(notice))
    assert SAMPLE.read_bytes()[:4] == b"%PDF"


# --- the notice's own rules -------------------------------------------------------------------


def test_notice_never_holds_a_full_id_number(notice: notices.Notice) -> None:
    with pytest.raises(ValueError, match="masked"):
        replace(notice, masked_id=idcard.make("220204", date(2016, 10, 3), 123))


@pytest.mark.parametrize("route", ["deferred", "nowhere"])
def test_no_notice_without_a_school_place(notice: notices.Notice, route: str) -> None:
    with pytest.raises(ValueError, match="route"):
        replace(notice, route=route)


def test_unknown_school_or_grade_it_does_not_take(config: SeasonConfig) -> None:
    primary = next(s for s in config.schools if s.plan(7) == 0)
    args = {
        "registration_id": RID,
        "child_name": "王梓涵",
        "id_number": idcard.make("220204", date(2016, 10, 3), 123),
        "route": "catchment",
        "secret": SECRET,
    }
    with pytest.raises(ValueError, match="unknown school"):
        notices.build_notice(config, grade=1, school_id="S-XX-99", **args)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="grade 7"):
        notices.build_notice(config, grade=7, school_id=primary.id, **args)  # type: ignore[arg-type]


def test_route_words_are_those_families_see_elsewhere() -> None:
    from enrollment.placement import routes

    # one table of route words (enrollment/placement/routes.py) for notices, the status API and the report
    assert notices.ROUTE_ZH is routes.ROUTE_ZH


# --- the verification code --------------------------------------------------------------------


def test_verification_code_is_stable() -> None:
    # pinned: a change here would make every notice already issued fail its check
    code = notices.verification_code(SECRET, "2023", RID, "S-CY-01")
    assert code == notices.verification_code(SECRET, "2023", RID, "S-CY-01")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{10}", code)
    mac = hmac.new(SECRET, b"enrollment-notice/1|2023|" + RID.encode() + b"|S-CY-01", hashlib.sha256).digest()
    assert code == notices.code_from_mac(mac)
    assert code == "PWWPXG38ZQ"


def test_verification_code_differs_per_child_school_season_and_secret() -> None:
    base = notices.verification_code(SECRET, "2023", RID, "S-CY-01")
    others = {
        notices.verification_code(SECRET, "2023", "R-ABCD-EFGH-JKMN-PQRT", "S-CY-01"),
        notices.verification_code(SECRET, "2023", RID, "S-CY-02"),
        notices.verification_code(SECRET, "2024", RID, "S-CY-01"),
        notices.verification_code(b"another-secret-of-32-bytes-000000", "2023", RID, "S-CY-01"),
    }
    assert base not in others and len(others) == 4


def test_verification_code_check_forgives_how_a_school_types_it() -> None:
    code = notices.verification_code(SECRET, "2023", RID, "S-CY-01")
    typed = notices.format_code(code).lower().replace("0", "o").replace("1", "l")
    assert notices.check_verification_code(SECRET, "2023", RID, "S-CY-01", typed)
    assert not notices.check_verification_code(SECRET, "2023", RID, "S-CY-02", code)
    assert not notices.check_verification_code(SECRET, "2023", RID, "S-CY-01", code[:-1])
    assert not notices.check_verification_code(SECRET, "2023", RID, "S-CY-01", "U" * 10)


def test_verification_code_refuses_a_weak_secret_or_ambiguous_fields() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        notices.verification_code(b"short", "2023", RID, "S-CY-01")
    with pytest.raises(ValueError, match="'\\|'"):
        notices.verification_code(SECRET, "2023|x", RID, "S-CY-01")


def test_notice_code_is_its_own(notice: notices.Notice) -> None:
    assert notices.check_verification_code(SECRET, "2023", RID, "S-CY-01", notice.verification_code)


# --- the SMS ----------------------------------------------------------------------------------


def test_sms_names_school_day_registration_and_download_without_id(notice: notices.Notice) -> None:
    sms = notices.sms_text(notice)
    assert len(sms) <= notices.SMS_MAX
    for expected in ("船营区第一实验小学", "7月8日", RID, "“幼升小”管理系统", "下载", "吉林市船营区教育局"):
        assert expected in sms
    assert not re.search(r"\d{6}", sms.replace(RID, "")), "no ID number, not even masked"
    assert "*" not in sms and notice.child_name not in sms


def test_sms_fits_for_every_school_of_the_season(config: SeasonConfig, notice: notices.Notice) -> None:
    for school in config.schools:
        for grade in (1, 7):
            if school.plan(grade):
                n = replace(
                    notice,
                    grade=grade,
                    school_id=school.id,
                    school_name=school.name,
                    bureau=f"吉林市{config.district_index[school.district].name}教育局",
                )
                sms = notices.sms_text(n)
                assert len(sms) <= notices.SMS_MAX and school.name in sms


def test_sms_shortens_for_a_long_school_name(notice: notices.Notice) -> None:
    long = replace(notice, school_name="吉林市船营区第一实验小学校（北校区）暨实验教育集团成员学校")
    sms = notices.sms_text(long)
    assert len(sms) <= notices.SMS_MAX and long.school_name in sms and RID in sms


def test_font_stream_decompresses_to_a_truetype_font(notice: notices.Notice) -> None:
    pdf = notices.render_pdf(notice)
    streams = re.findall(rb"/Length1 (\d+)\s*>>\s*stream\r?\n", pdf)
    assert len(streams) == 1
    start = pdf.index(b"/Length1")
    data = pdf[pdf.index(b"stream\n", start) + 7 :]
    font = zlib.decompressobj().decompress(data)
    assert len(font) == int(streams[0]) and font[:4] == b"\x00\x01\x00\x00"
