"""The signed archive and its offline audit (LOTTERY.md, "The archive"; R-LOT-1, R-LOT-2, R-REG-2,
R-PUB-3, R-LOT-5, R-DATA-1).

A small synthetic archive of the jilin-2023 season: every private school and grade has its record,
P-CY-01 grade 1 holds LOTTERY.md's worked example (33 own-district applicants admitted without a
draw, a draw among R0001…R0010 for the 3 seats left), one winner declines and the first waitlisted
child takes the seat. A clean archive passes; each kind of damage fails, naming what is wrong.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from enrollment.archive import contract
from enrollment.archive.audit import Report, audit
from enrollment.archive.contract import (
    MANIFEST,
    PLACEMENTS,
    PUBLIC_KEY,
    SEASON,
    SIGNATURE,
    TIE_BREAK,
    LocalSigner,
    assert_no_personal_data,
    canonical_json,
    read_folder,
    seal,
    season_json,
    statement,
    write_folder,
)
from enrollment.cli import main
from enrollment.core.config import SeasonConfig
from enrollment.lottery.pools import CeremonyInputs, Pools, record, record_bytes, record_key
from enrollment.placement import tiebreak
from enrollment.placement.place import Placement

YEAR = "2023"
CREATED = datetime(2023, 7, 6, 9, 0, tzinfo=timezone(timedelta(hours=8)))
WORKED = CeremonyInputs(("0417", "9023", "5561"), ("3390", "7704", "1286"), 1)  # LOTTERY.md
OWN = [f"L{i:03d}" for i in range(1, 34)]  # 33 own-district applicants of P-CY-01 grade 1 (plan 36)
DRAWN = [f"R{i:04d}" for i in range(1, 11)]  # the worked example's pool, for the 3 seats left
DRAW_KEY = record_key("P-CY-01", 1)
SMALL_KEY = record_key("P-CH-02", 7)
PUBLIC = "S-CY-01"  # a public school taking grade 1
Files = dict[str, bytes]


def placements_bytes(lines: list[dict[str, Any]]) -> bytes:
    """placements.jsonl as the placement phase writes it."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def read_lines(files: Files) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files[PLACEMENTS].decode().splitlines()]


def build(config: SeasonConfig) -> Files:
    """The archive's files before sealing."""
    files: Files = {SEASON: canonical_json(season_json(config))}
    for s in config.schools:
        if s.kind != "private":
            continue
        for grade in sorted(s.plans):
            own: list[str] = []
            other: list[str] = []
            inputs = None
            if (s.id, grade) == ("P-CY-01", 1):
                own, other, inputs = OWN, DRAWN, WORKED
            elif (s.id, grade) == ("P-CH-02", 7):
                own, other = ["G7-001"], ["G7-002"]
            pools = Pools.split(s.id, grade, s.district, s.plan(grade), own, other)
            files[record_key(s.id, grade)] = record_bytes(record(YEAR, pools, inputs))
    placed = [Placement(rid, 1, "P-CY-01", "private-no-draw") for rid in OWN]
    placed += [Placement(rid, 1, "P-CY-01", "private-draw") for rid in ("R0001", "R0002")]
    placed.append(Placement("R0004", 1, PUBLIC, "coordination", "private-declined"))  # a winner declines
    placed.append(Placement("R0006", 1, "P-CY-01", "private-draw"))  # the first on the waitlist
    losers = ("R0003", "R0005", "R0007", "R0008", "R0009", "R0010")
    placed += [Placement(rid, 1, PUBLIC, "coordination", "private-not-admitted") for rid in losers]
    placed += [Placement(rid, 7, "P-CH-02", "private-no-draw") for rid in ("G7-001", "G7-002")]
    placed += [Placement(f"C{i:03d}", 1, PUBLIC, "catchment") for i in range(1, 6)]
    placed.append(Placement("D001", 1, None, "deferred", "health (R-DEFER-1)"))
    lines = sorted((p.line() for p in placed), key=lambda line: line["registration_id"])
    files[PLACEMENTS] = placements_bytes(lines)
    tb = tiebreak.draw(YEAR, [line["registration_id"] for line in lines], "5eed-for-the-test")
    files[TIE_BREAK] = canonical_json(tiebreak.record(tb))
    return files


@pytest.fixture(scope="module")
def signer() -> LocalSigner:
    return LocalSigner(key_id="test-key-a")


@pytest.fixture(scope="module")
def unsealed(season: SeasonConfig) -> Files:
    return build(season)


@pytest.fixture(scope="module")
def sealed(unsealed: Files, signer: LocalSigner) -> Files:
    return seal(YEAR, unsealed, signer, CREATED)


def failed(report: Report) -> list[tuple[str, str]]:
    return [(name, detail) for name, passed, detail in report.checks if not passed]


def names_failed(report: Report) -> set[str]:
    return {name for name, _ in failed(report)}


def mentions(report: Report, *words: str) -> bool:
    """Whether one failed check's detail names all the words (file, child, school)."""
    return any(all(w in detail for w in words) for _, detail in failed(report))


def resealed(unsealed: Files, signer: LocalSigner, change: Callable[[Files], None]) -> Report:
    """Change the files, seal them again with the same key (so only the content checks can catch it)."""
    files = dict(unsealed)
    change(files)
    return audit(seal(YEAR, files, signer, CREATED))


def edit_record(files: Files, key: str, change: Callable[[dict[str, Any]], None]) -> None:
    rec = json.loads(files[key])
    change(rec)
    files[key] = record_bytes(rec)


def edit_lines(files: Files, change: Callable[[list[dict[str, Any]]], None]) -> None:
    lines = read_lines(files)
    change(lines)
    files[PLACEMENTS] = placements_bytes(lines)


def move(lines: list[dict[str, Any]], rid: str, **fields: Any) -> None:
    """Place `rid` otherwise (a reason of None drops the reason)."""
    line = next(line for line in lines if line["registration_id"] == rid)
    line.update(fields)
    if line.get("reason") is None:
        line.pop("reason", None)


# The clean archive ----------------------------------------------------------------------------------


def test_the_worked_example_is_the_draw_in_the_archive(unsealed: Files) -> None:
    rec = json.loads(unsealed[DRAW_KEY])
    assert rec["draw"]["pool"] == "other-districts" and rec["draw"]["seats"] == 3
    assert rec["draw"]["pool_digest"] == "19b1370c4a10cc801cf6f7e6076b08b5ba1d521a91561e8483ac3bc98c7f42c8"
    assert rec["draw"]["ranking"][:3] == ["R0001", "R0004", "R0002"]
    assert rec["admitted"] == sorted([*OWN, "R0001", "R0002", "R0004"])


def test_a_clean_archive_passes_every_check(sealed: Files) -> None:
    report = audit(sealed)
    assert report.ok, report.render()
    assert {name for name, _, _ in report.checks} == {
        "manifest",
        "files",
        "signature",
        "statement",
        "season",
        "private",
        "placements",
        "tie-break",
        "personal-data",
    }
    text = report.render()
    assert text.endswith("审计通过 AUDIT PASSED\n") and "✗" not in text
    assert text.count("✓") == len(report.checks)


def test_seal_writes_the_manifest_signature_and_key_of_lottery_md(
    unsealed: Files, sealed: Files, signer: LocalSigner
) -> None:
    assert set(sealed) == set(unsealed) | {MANIFEST, SIGNATURE, PUBLIC_KEY}
    m = json.loads(sealed[MANIFEST])
    assert m["season"] == YEAR and m["created_at"] == "2023-07-06T09:00:00+08:00"
    assert [f["key"] for f in m["files"]] == sorted(unsealed)
    entry = next(f for f in m["files"] if f["key"] == PLACEMENTS)
    assert entry["bytes"] == len(unsealed[PLACEMENTS])
    assert entry["sha256"] == contract.sha256_hex(unsealed[PLACEMENTS])
    sig = json.loads(sealed[SIGNATURE])
    assert sig["algorithm"] == "ECDSA_SHA_256" and sig["key_id"] == "test-key-a"
    assert sig["statement"] == f"enrollment-archive/1\n2023\n{contract.sha256_hex(sealed[MANIFEST])}\n"
    assert sig["statement"] == statement(YEAR, sealed[MANIFEST])
    assert base64.b64decode(sig["signature"])[0] == 0x30  # a DER SEQUENCE
    assert sealed[PUBLIC_KEY] == signer.public_key_pem()
    assert sealed[PUBLIC_KEY].startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert sealed[SIGNATURE] == canonical_json(sig) and sealed[MANIFEST] == canonical_json(m)


def test_season_json_lists_plans_by_grade_string_only_for_grades_taken(season: SeasonConfig) -> None:
    doc = season_json(season)
    assert doc["season"] == "2023" and {"code": "CY", "name": "船营区"} in doc["districts"]
    schools = {s["id"]: s for s in doc["schools"]}
    assert schools["P-CH-02"]["plans"] == {"1": 36, "7": 16} and schools["P-CY-01"]["plans"] == {"1": 36}
    assert schools["P-CY-01"]["kind"] == "private" and schools["P-CY-01"]["district"] == "CY"


def test_manifest_needs_a_timezone_offset(unsealed: Files) -> None:
    with pytest.raises(ValueError, match="offset"):
        contract.manifest(YEAR, unsealed, datetime(2023, 7, 6, 9, 0))  # naive


# Damage: each fails, naming what is wrong -----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "named"),
    [
        (MANIFEST, MANIFEST),
        (DRAW_KEY, DRAW_KEY),
        (PLACEMENTS, PLACEMENTS),
        (SEASON, SEASON),
        (TIE_BREAK, TIE_BREAK),
        (SIGNATURE, SIGNATURE),
        (PUBLIC_KEY, PUBLIC_KEY),
    ],
)
def test_changing_one_byte_of_any_file_fails(sealed: Files, key: str, named: str) -> None:
    files = dict(sealed)
    body = bytearray(files[key])
    # the middle byte, or for manifest.sig.json a byte of the signature itself
    at = body.index(b'"signature": "') + 20 if key == SIGNATURE else len(body) // 2
    body[at] ^= 0x01
    files[key] = bytes(body)
    report = audit(files)
    assert not report.ok
    assert mentions(report, named), report.render()
    assert "审计未通过 AUDIT FAILED" in report.render()


def test_a_changed_file_is_named_with_its_digest(sealed: Files) -> None:
    files = dict(sealed)
    files[DRAW_KEY] = files[DRAW_KEY].replace(b'"R0001"', b'"R0011"', 1)
    report = audit(files)
    assert mentions(report, DRAW_KEY, "SHA-256", "differs from manifest.json")
    assert mentions(report, DRAW_KEY, "differs from the replay")


def test_a_dropped_file_fails(sealed: Files) -> None:
    files = dict(sealed)
    del files[SMALL_KEY]
    report = audit(files)
    assert mentions(report, SMALL_KEY, "listed in manifest.json but missing")
    assert mentions(report, SMALL_KEY, "is missing", "P-CH-02", "grade 7")


@pytest.mark.parametrize(
    "change",
    [
        lambda rec: rec.pop("season"),
        lambda rec: rec.pop("draw"),
        lambda rec: rec.update(own_district_applicants=[1, 2]),
        lambda rec: rec["draw"].update(shuffle_inputs=["0417", "9023"]),
        lambda rec: rec["draw"].update(chosen_draw=4),
    ],
    ids=["no-season", "no-draw", "ids-not-strings", "two-shuffle-inputs", "no-such-draw"],
)
def test_a_malformed_record_is_reported_never_crashed_on(
    unsealed: Files, signer: LocalSigner, change: Callable[[dict[str, Any]], None]
) -> None:
    report = resealed(unsealed, signer, lambda f: edit_record(f, DRAW_KEY, change))
    assert "private" in names_failed(report) and mentions(report, DRAW_KEY)


def test_an_unlisted_file_fails(sealed: Files) -> None:
    report = audit({**sealed, "notes.txt": b"added later\n"})
    assert names_failed(report) == {"files"}
    assert mentions(report, "notes.txt", "not listed in manifest.json")


def test_a_reordered_ranking_is_caught_by_the_replay_alone(unsealed: Files, signer: LocalSigner) -> None:
    # Given a record whose ranking swaps the first two winners (the admitted list is unchanged),
    # sealed again with the bureau's own key so the manifest and signature hold
    def swap(rec: dict[str, Any]) -> None:
        r = rec["draw"]["ranking"]
        r[0], r[1] = r[1], r[0]

    report = resealed(unsealed, signer, lambda f: edit_record(f, DRAW_KEY, swap))
    # Then only the replay of the draw catches it
    assert names_failed(report) == {"private"}
    assert mentions(report, DRAW_KEY, "draw.ranking differs from the replay from rank 1")


def test_another_key_signing_fails(unsealed: Files, signer: LocalSigner) -> None:
    # public-key.pem of key A, the signature by key B
    by_b = seal(YEAR, unsealed, LocalSigner(key_id="test-key-b"), CREATED)
    report = audit({**by_b, PUBLIC_KEY: signer.public_key_pem()})
    assert names_failed(report) == {"signature"}
    assert mentions(report, SIGNATURE, "does not verify with public-key.pem")


def test_the_stored_statement_is_never_trusted_only_compared(sealed: Files) -> None:
    sig = json.loads(sealed[SIGNATURE])
    sig["statement"] = "enrollment-archive/1\n2023\n" + "0" * 64 + "\n"
    report = audit({**sealed, SIGNATURE: canonical_json(sig)})
    # the signature still verifies over the statement rebuilt from manifest.json; the stored one differs
    assert names_failed(report) == {"statement"}
    assert mentions(report, SIGNATURE, "stored statement differs")


def test_a_child_placed_twice_fails(unsealed: Files, signer: LocalSigner) -> None:
    def twice(lines: list[dict[str, Any]]) -> None:
        lines.append({"registration_id": "C001", "grade": 1, "school_id": "S-CY-02", "route": "catchment"})

    report = resealed(unsealed, signer, lambda f: edit_lines(f, twice))
    assert names_failed(report) == {"placements"}
    assert mentions(report, "C001", "placed 2 times", "R-REG-2")


def test_a_private_school_over_its_plan_fails(unsealed: Files, signer: LocalSigner) -> None:
    # a second waitlisted child takes a seat nobody gave up: 37 at P-CY-01 grade 1, plan 36
    report = resealed(
        unsealed,
        signer,
        lambda f: edit_lines(
            f, lambda ls: move(ls, "R0007", school_id="P-CY-01", route="private-draw", reason=None)
        ),
    )
    assert names_failed(report) == {"placements"}
    assert mentions(report, "P-CY-01 grade 1", "37 placed over a plan of 36")
    assert mentions(report, "P-CY-01 grade 1", "2 children placed from the waitlist for 1 declined")


def test_a_public_school_over_its_plan_fails(
    unsealed: Files, signer: LocalSigner, season: SeasonConfig
) -> None:
    # season.json says S-CY-01 takes 3 in grade 1; the placements put 12 there
    def shrink(files: Files) -> None:
        doc = season_json(season)
        for s in doc["schools"]:
            if s["id"] == PUBLIC:
                s["plans"]["1"] = 3
        files[SEASON] = canonical_json(doc)

    report = resealed(unsealed, signer, shrink)
    assert names_failed(report) == {"placements"}
    assert mentions(report, f"{PUBLIC} grade 1", "12 placed over a plan of 3")


def test_a_record_whose_plan_differs_from_season_json_fails(
    unsealed: Files, signer: LocalSigner, season: SeasonConfig
) -> None:
    def shrink(files: Files) -> None:
        doc = season_json(season)
        for s in doc["schools"]:
            if s["id"] == "P-CH-02":
                s["plans"]["7"] = 15
        files[SEASON] = canonical_json(doc)

    report = resealed(unsealed, signer, shrink)
    assert mentions(report, SMALL_KEY, "plan 16", "season.json says 15", "P-CH-02 grade 7")


def test_a_waitlisted_child_without_a_declined_seat_fails(unsealed: Files, signer: LocalSigner) -> None:
    # R0004 keeps the seat it won; R0006 is still placed from the waitlist: 37 in 36 seats
    def keep(lines: list[dict[str, Any]]) -> None:
        move(lines, "R0004", school_id="P-CY-01", route="private-draw", reason=None)

    report = resealed(unsealed, signer, lambda f: edit_lines(f, keep))
    assert mentions(report, "P-CY-01 grade 1", "1 children placed from the waitlist for 0 declined")


def test_an_admitted_child_placed_elsewhere_without_declining_fails(
    unsealed: Files, signer: LocalSigner
) -> None:
    report = resealed(
        unsealed,
        signer,
        lambda f: edit_lines(f, lambda ls: move(ls, "L001", school_id=PUBLIC, route="catchment")),
    )
    assert mentions(report, "L001", DRAW_KEY, "only a child who declined")


def test_a_child_not_admitted_placed_at_the_private_school_fails(
    unsealed: Files, signer: LocalSigner
) -> None:
    # G7-002 is admitted by P-CH-02 grade 7; no record admits C001 at P-CY-01
    report = resealed(
        unsealed,
        signer,
        lambda f: edit_lines(f, lambda ls: move(ls, "C001", school_id="P-CY-01", route="private-draw")),
    )
    assert mentions(report, "C001", "neither admits nor waitlists")


def test_a_deferred_line_with_a_school_fails(unsealed: Files, signer: LocalSigner) -> None:
    report = resealed(
        unsealed, signer, lambda f: edit_lines(f, lambda ls: move(ls, "D001", school_id=PUBLIC))
    )
    assert mentions(report, "D001", "deferred", "school_id null")


def test_a_tie_break_with_another_seed_fails_its_replay(unsealed: Files, signer: LocalSigner) -> None:
    def reseed(files: Files) -> None:
        doc = json.loads(files[TIE_BREAK])
        doc["seed"] = "another-seed"
        files[TIE_BREAK] = canonical_json(doc)

    report = resealed(unsealed, signer, reseed)
    assert names_failed(report) == {"tie-break"}
    assert mentions(report, TIE_BREAK, "order differs from the replay")


def test_personal_data_is_refused_naming_the_file(unsealed: Files, signer: LocalSigner) -> None:
    with_id = {**unsealed, PLACEMENTS: unsealed[PLACEMENTS] + b'{"registration_id": "22020220170304123X"}\n'}
    with pytest.raises(ValueError, match=r"placements\.jsonl.*resident ID number \(\*{14}123X\)"):
        assert_no_personal_data(with_id)
    with_phone = dict(unsealed)
    edit_record(with_phone, SMALL_KEY, lambda rec: rec.update(contact="17012345678"))
    with pytest.raises(ValueError, match=rf"{SMALL_KEY}.*mobile number \(170\*{{4}}5678\)"):
        assert_no_personal_data(with_phone)
    with pytest.raises(ValueError, match="mobile number"):
        seal(YEAR, with_phone, signer, CREATED)
    assert_no_personal_data(unsealed)  # digests, seeds and registration ids are not personal data


# Folders, the CLI, S3 and KMS -----------------------------------------------------------------------


def test_write_and_read_folder_round_trip(sealed: Files, tmp_path: Path) -> None:
    write_folder(tmp_path / "2023", sealed)
    assert read_folder(tmp_path / "2023") == sealed


def test_cli_audits_a_folder(sealed: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_folder(good, sealed)
    assert main(["audit", str(good)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("审计通过 AUDIT PASSED")

    write_folder(bad, sealed)
    (bad / "placements.jsonl").write_bytes(sealed[PLACEMENTS].replace(b"S-CY-01", b"S-CY-02", 1))
    assert main(["audit", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "✗" in out and "placements.jsonl" in out and "审计未通过 AUDIT FAILED" in out

    assert main(["audit", str(tmp_path / "nowhere")]) == 2
    assert "cannot read the archive" in capsys.readouterr().err
