"""The signed chain of correction additions and its offline audit (issue 18; docs/ARCHIVE.md, "Corrections").

The small sealed season of test_archive_audit (P-CY-01 grade 1 holds LOTTERY.md's worked example:
R0004 declined, R0006 took its seat from the waitlist R0006 R0003 R0007 ...) gets three batches by
hand: a late registration, a private decline with the waitlist's next child promoted, a transfer
between two schools. The audit applies them and passes; each kind of damage fails naming the
addition and the rule.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from enrollment.archive import corrections as fmt
from enrollment.archive.audit import Report, audit
from enrollment.archive.contract import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    LocalSigner,
    seal,
    sha256_hex,
    write_folder,
)
from enrollment.cli import main
from enrollment.core.config import SeasonConfig
from enrollment.corrections.model import AGENCY_VERIFICATION, Change, Consent, Correction, PlacementLine
from tests.unit.test_archive_audit import CREATED, PUBLIC, YEAR, Files, build

CST = timezone(timedelta(hours=8))
ROOT = f"additions/{YEAR}/corrections/"
OTHER = "S-CY-02"  # another public school of CY taking grade 1


def line(rid: str, school_id: str | None, route: str, reason: str | None = None) -> PlacementLine:
    return PlacementLine(registration_id=rid, grade=1, school_id=school_id, route=route, reason=reason)


def correction(cid: str, kind: str, day: int, *changes: Change, **more: object) -> Correction:
    return Correction.model_validate(
        {
            "correction_id": cid,
            "season": YEAR,
            "kind": kind,
            "district": "CY",
            "actor": "staff:cy-clerk-01",
            "role": "district",
            "at": datetime(2023, 7, day, 10, 0, tzinfo=CST),
            "reason": "家长提交材料，经区教育局复核后更正",
            "changes": changes,
            **more,
        }
    )


def change(rid: str, before: PlacementLine | None, after: PlacementLine) -> Change:
    return Change(registration_id=rid, before=before, after=after)


LATE = correction(
    "C-0001-late",
    "late-registration",
    20,
    change("LATE01", None, line("LATE01", PUBLIC, "catchment")),
    reason_codes=("late-registration",),
)
DECLINE = correction(
    "C-0002-decline",
    "decline",
    21,
    change(
        "R0001",
        line("R0001", "P-CY-01", "private-draw"),
        line("R0001", PUBLIC, "coordination", "private-declined"),
    ),
    reason_codes=("private-declined",),
)


def promote(rid: str, cid: str = "C-0003-promote", day: int = 21) -> Correction:
    return correction(
        cid,
        "waitlist-promotion",
        day,
        change(
            rid,
            line(rid, PUBLIC, "coordination", "private-not-admitted"),
            line(rid, "P-CY-01", "private-draw"),
        ),
        follows="C-0002-decline",
    )


def transfer(before_school: str = PUBLIC) -> Correction:
    return correction(
        "C-0004-transfer",
        "transfer",
        25,
        change(
            "C001", line("C001", before_school, "catchment"), line("C001", OTHER, "transfer", "family-moved")
        ),
        consents=(
            Consent(
                school_id=PUBLIC, given_by="staff:s-cy-01-head", given_at=datetime(2023, 7, 24, tzinfo=CST)
            ),
            Consent(
                school_id=OTHER, given_by="staff:s-cy-02-head", given_at=datetime(2023, 7, 24, tzinfo=CST)
            ),
        ),
    )


BATCHES = [[LATE], [DECLINE, promote("R0003")], [transfer()]]


@pytest.fixture(scope="module")
def signer() -> LocalSigner:
    return LocalSigner(key_id="test-key-a")


@pytest.fixture(scope="module")
def sealed(season: SeasonConfig, signer: LocalSigner) -> Files:
    return seal(YEAR, build(season), signer, CREATED)


def chain(sealed: Files, batches: Sequence[Sequence[Correction]], signer: LocalSigner) -> Files:
    """The batches sealed in order, chained from the sealed season: keys below additions/2023/corrections/."""
    out: Files = {}
    previous = sha256_hex(sealed[MANIFEST])
    for n, batch in enumerate(batches, start=1):
        files = fmt.seal_corrections(YEAR, n, batch, previous, signer=signer)
        out |= {f"{fmt.batch_name(n)}/{k}": v for k, v in files.items()}
        previous = sha256_hex(files[MANIFEST])
    return out


@pytest.fixture(scope="module")
def additions(sealed: Files, signer: LocalSigner) -> Files:
    return chain(sealed, BATCHES, signer)


def failed(report: Report) -> list[str]:
    return [detail for _, passed, detail in report.checks if not passed]


def mentions(report: Report, *words: str) -> bool:
    return any(all(w in detail for w in words) for detail in failed(report))


def renamed(files: Files, moves: dict[str, str]) -> Files:
    """Batch directories moved: {"0001": "0002", ...}; a move to "" drops the batch."""
    out: Files = {}
    for key, body in files.items():
        head, _, rest = key.partition("/")
        target = moves.get(head, head)
        if target:
            out[f"{target}/{rest}"] = body
    return out


# The chain as sealed ---------------------------------------------------------------------------------


def test_three_batches_apply_in_order_and_pass(sealed: Files, additions: Files) -> None:
    report = audit(sealed, additions)
    assert report.ok, report.render()
    names = {name for name, _, _ in report.checks}
    assert {"corrections", "corrected"} <= names
    text = report.render()
    assert "3 batches applied in order, 4 corrections" in text and text.endswith("审计通过 AUDIT PASSED\n")


def test_an_archive_without_additions_audits_as_before(sealed: Files) -> None:
    for report in (audit(sealed), audit(sealed, {}), audit(sealed, None)):
        assert report.ok
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


def test_a_batch_holds_the_format_of_docs_archive_md(
    sealed: Files, additions: Files, signer: LocalSigner
) -> None:
    b2 = {k.removeprefix("0002/"): v for k, v in additions.items() if k.startswith("0002/")}
    assert set(b2) == {"corrections.jsonl", "placements.jsonl", MANIFEST, SIGNATURE, PUBLIC_KEY}
    m = json.loads(b2[MANIFEST])
    assert m["format"] == "enrollment-corrections/1" and m["season"] == YEAR and m["n"] == 2
    assert m["previous"] == sha256_hex(additions[f"0001/{MANIFEST}"])
    assert json.loads(additions[f"0001/{MANIFEST}"])["previous"] == sha256_hex(sealed[MANIFEST])
    assert m["created_at"] == "2023-07-21T10:00:00+08:00"  # the latest correction's time
    assert [f["key"] for f in m["files"]] == ["corrections.jsonl", "placements.jsonl"]
    assert m["files"][1] == {
        "key": "placements.jsonl",
        "sha256": sha256_hex(b2["placements.jsonl"]),
        "bytes": len(b2["placements.jsonl"]),
    }
    sig = json.loads(b2[SIGNATURE])
    assert sig["statement"] == f"enrollment-corrections/1\n2023\n2\n{sha256_hex(b2[MANIFEST])}\n"
    assert sig["algorithm"] == "ECDSA_SHA_256" and sig["key_id"] == "test-key-a"
    assert b2[PUBLIC_KEY] == sealed[PUBLIC_KEY]
    assert [json.loads(x) for x in b2["placements.jsonl"].decode().splitlines()] == [
        {
            "registration_id": "R0001",
            "grade": 1,
            "school_id": PUBLIC,
            "route": "coordination",
            "reason": "private-declined",
        },
        {"registration_id": "R0003", "grade": 1, "school_id": "P-CY-01", "route": "private-draw"},
    ]
    first, second = (json.loads(x) for x in b2["corrections.jsonl"].decode().splitlines())
    assert first["correction_id"] == "C-0002-decline" and second["follows"] == "C-0002-decline"
    assert first["changes"] == [
        {
            "registration_id": "R0001",
            "before": {
                "registration_id": "R0001",
                "grade": 1,
                "school_id": "P-CY-01",
                "route": "private-draw",
            },
            "after": {
                "registration_id": "R0001",
                "grade": 1,
                "school_id": PUBLIC,
                "route": "coordination",
                "reason": "private-declined",
            },
        }
    ]
    assert first["at"] == "2023-07-21T10:00:00+08:00" and first["actor"] == "staff:cy-clerk-01"
    assert set(first) == {
        "correction_id", "season", "kind", "district", "actor", "role", "at", "reason", "reason_codes",
        "changes", "consents", "complaint_id", "follows",
    }  # fmt: skip
    late = json.loads(additions["0001/corrections.jsonl"])
    assert late["changes"][0]["before"] is None


def test_sealing_the_same_batch_again_gives_the_same_files_but_the_signature(
    sealed: Files, additions: Files, signer: LocalSigner
) -> None:
    again = fmt.seal_corrections(
        YEAR, 3, [transfer()], sha256_hex(additions[f"0002/{MANIFEST}"]), signer=signer
    )
    for key in ("corrections.jsonl", "placements.jsonl", MANIFEST, PUBLIC_KEY):
        assert again[key] == additions[f"0003/{key}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, [LATE], "0" * 64), "n 0"),
        ((1, [], "0" * 64), "at least one correction"),
        ((1, [LATE], "not-a-digest"), "previous"),
        ((1, [LATE, LATE], "0" * 64), "C-0001-late is in the batch twice"),
        (
            (1, [promote("R0003"), promote("R0003", "C-0009-again")], "0" * 64),
            "C-0009-again: changes\\[R0003\\]",
        ),
        ((1, [LATE.model_copy(update={"season": "2024"})], "0" * 64), "season '2024'"),
    ],
    ids=["n", "empty", "previous", "twice", "child-twice-from-the-same-line", "season"],
)
def test_a_batch_that_cannot_be_sealed_is_refused_naming_the_field(
    signer: LocalSigner, args: tuple[int, list[Correction], str], message: str
) -> None:
    n, batch, previous = args
    with pytest.raises(ValueError, match=message):
        fmt.seal_corrections(YEAR, n, batch, previous, signer=signer)


def test_personal_data_in_a_reason_is_refused(signer: LocalSigner) -> None:
    leaky = LATE.model_copy(update={"reason": "家长电话 17012345678 补录"})
    with pytest.raises(ValueError, match=r"corrections\.jsonl.*mobile number"):
        fmt.seal_corrections(YEAR, 1, [leaky], "0" * 64, signer=signer)


# A missing, reordered or altered addition -----------------------------------------------------------


def test_a_deleted_batch_fails_naming_it(sealed: Files, additions: Files) -> None:
    report = audit(sealed, renamed(additions, {"0002": ""}))
    assert not report.ok
    assert mentions(report, f"{ROOT}0002 is missing", "without a gap")
    assert mentions(report, f"{ROOT}0003", "previous", f"{ROOT}0001/manifest.json", "chain")
    assert mentions(report, f"{ROOT}0003: not applied")


def test_swapped_batches_fail_naming_them(sealed: Files, additions: Files) -> None:
    report = audit(sealed, renamed(additions, {"0001": "0002", "0002": "0001"}))
    assert not report.ok
    for n, says in (("0001", "n 2"), ("0002", "n 1")):
        assert mentions(report, f"{ROOT}{n}", says, "swapped")
        assert mentions(report, f"{ROOT}{n}", "does not verify")  # the statement rebuilt with this n
    assert mentions(report, f"{ROOT}0001", "previous", f"seasons/{YEAR}/manifest.json")


def test_a_byte_changed_in_a_batchs_placements_fails_naming_it(sealed: Files, additions: Files) -> None:
    files = dict(additions)
    body = bytearray(files["0003/placements.jsonl"])
    body[len(body) // 2] ^= 0x01
    files["0003/placements.jsonl"] = bytes(body)
    report = audit(sealed, files)
    assert mentions(report, f"{ROOT}0003", "placements.jsonl", "SHA-256", "differs from manifest.json")
    assert mentions(report, f"{ROOT}0003: not applied")


def test_an_edited_manifest_fails_its_signature_and_the_chain_after_it(
    sealed: Files, additions: Files
) -> None:
    files = dict(additions)
    files["0002/manifest.json"] = files["0002/manifest.json"].replace(b"T10:00:00", b"T11:00:00", 1)
    report = audit(sealed, files)
    assert mentions(report, f"{ROOT}0002", "manifest.sig.json", "does not verify")
    assert mentions(report, f"{ROOT}0003", "previous", "chain")


def test_a_batch_signed_by_another_key_fails(sealed: Files, additions: Files) -> None:
    other = LocalSigner(key_id="test-key-b")
    b1 = fmt.seal_corrections(YEAR, 1, [LATE], sha256_hex(sealed[MANIFEST]), signer=other)
    files = {**additions, **{f"0001/{k}": v for k, v in b1.items()}}
    report = audit(sealed, files)
    assert mentions(report, f"{ROOT}0001", "public-key.pem is not the season's key")


def test_a_stray_file_fails(sealed: Files, additions: Files) -> None:
    report = audit(sealed, {**additions, "0002/notes.txt": b"later\n", "latest.json": b"{}"})
    assert mentions(report, f"{ROOT}0002", "notes.txt", "not listed in manifest.json")
    assert mentions(report, f"{ROOT}latest.json", "not in a batch directory")


# Sound signatures, wrong content: the rules -----------------------------------------------------------


def test_a_promotion_out_of_ranking_order_fails(sealed: Files, signer: LocalSigner) -> None:
    # R0007 promoted over R0003, who comes first on the waitlist and is still unplaced
    report = audit(sealed, chain(sealed, [[LATE], [DECLINE, promote("R0007")], [transfer()]], signer))
    assert mentions(
        report, f"{ROOT}0002: after this addition", "R0003: passed over on the waitlist", "LOTTERY.md step 7"
    )


def test_a_school_over_its_plan_fails(sealed: Files, signer: LocalSigner) -> None:
    # R0003 promoted though nobody declined: 37 at P-CY-01 grade 1, plan 36
    report = audit(
        sealed, chain(sealed, [[LATE], [promote("R0003").model_copy(update={"follows": None})]], signer)
    )
    assert mentions(
        report, f"{ROOT}0002: after this addition", "P-CY-01 grade 1: 37 placed over a plan of 36", "R-PUB-3"
    )
    assert mentions(report, f"{ROOT}0002", "2 children placed from the waitlist for 1 declined")


def test_a_before_that_is_not_the_childs_line_fails(sealed: Files, signer: LocalSigner) -> None:
    report = audit(sealed, chain(sealed, [[LATE], [DECLINE, promote("R0003")], [transfer(OTHER)]], signer))
    assert mentions(
        report,
        f"{ROOT}0003: corrections.jsonl line 1 (C-0004-transfer)",
        "C001: before",
        "not the child's line",
    )


def test_a_late_registration_of_a_listed_child_fails(sealed: Files, signer: LocalSigner) -> None:
    twice = correction(
        "C-0005-late", "late-registration", 20, change("C002", None, line("C002", OTHER, "catchment"))
    )
    report = audit(sealed, chain(sealed, [[twice]], signer))
    assert mentions(report, f"{ROOT}0001", "C002: before is null", "the child's line is")


def test_a_decline_and_its_promotion_may_be_sealed_in_consecutive_batches(
    sealed: Files, signer: LocalSigner
) -> None:
    report = audit(sealed, chain(sealed, [[DECLINE], [promote("R0003", day=22)]], signer))
    assert report.ok, report.render()


def test_a_declined_seat_left_free_fails_after_the_last_batch(sealed: Files, signer: LocalSigner) -> None:
    report = audit(sealed, chain(sealed, [[DECLINE], [LATE]], signer))
    assert mentions(report, f"{ROOT}0002 (the last addition)", "declined or released seats stay free")


def test_a_follows_that_names_no_earlier_correction_fails(sealed: Files, signer: LocalSigner) -> None:
    report = audit(sealed, chain(sealed, [[promote("R0003"), DECLINE]], signer))
    assert mentions(
        report, f"{ROOT}0001", "C-0003-promote", "follows C-0002-decline, which is no earlier correction"
    )


def test_a_promotion_must_fill_a_seat_its_decline_freed(sealed: Files, signer: LocalSigner) -> None:
    after_late = promote("R0003").model_copy(update={"follows": "C-0001-late"})
    report = audit(sealed, chain(sealed, [[LATE], [DECLINE, after_late]], signer))
    assert mentions(
        report, f"{ROOT}0002", "R0003: promoted to P-CY-01 grade 1, but C-0001-late", "frees no seat"
    )
    unnamed = promote("R0003").model_copy(update={"follows": None})
    report = audit(sealed, chain(sealed, [[DECLINE, unnamed]], signer))
    assert mentions(report, f"{ROOT}0001", "C-0003-promote", "a waitlist-promotion names the correction")


LATE_WAITING = correction(
    "C-0006-late",
    "late-registration",
    20,
    change("LATE02", None, line("LATE02", OTHER, "coordination", "late-registration")),
)


def verified(cid: str = "C-0007-verified", follows: str = "C-0006-late", **more: object) -> Correction:
    """The system's correction once LATE02's verdict is in: eligible, moved to its catchment school."""
    return correction(
        cid,
        "re-verification",
        23,
        change(
            "LATE02",
            line("LATE02", OTHER, "coordination", "late-registration"),
            line("LATE02", PUBLIC, "catchment"),
        ),
        actor=AGENCY_VERIFICATION,
        follows=follows,
        reason_codes=("verdict-eligible",),
        **more,
    )


def test_a_late_child_placed_by_its_verdict_is_applied(sealed: Files, signer: LocalSigner) -> None:
    report = audit(sealed, chain(sealed, [[LATE_WAITING], [verified()]], signer))
    assert report.ok, report.render()


def test_the_agency_verification_acts_only_for_its_late_registration(
    sealed: Files, signer: LocalSigner
) -> None:
    # following another correction than the late registration that listed the child
    report = audit(sealed, chain(sealed, [[LATE, LATE_WAITING], [verified(follows="C-0001-late")]], signer))
    assert mentions(report, f"{ROOT}0002", "C-0007-verified", "LATE02", "follows the late registration")
    # a correction of another kind under its name
    forged = DECLINE.model_copy(update={"actor": AGENCY_VERIFICATION})
    report = audit(sealed, chain(sealed, [[forged, promote("R0003")]], signer))
    assert mentions(report, f"{ROOT}0001", "C-0002-decline", f"actor {AGENCY_VERIFICATION} makes only")
    # moving a child its late registration did not leave on coordination
    moved = correction(
        "C-0008-verified",
        "re-verification",
        23,
        change("LATE01", line("LATE01", PUBLIC, "catchment"), line("LATE01", OTHER, "catchment")),
        actor=AGENCY_VERIFICATION,
        follows="C-0001-late",
    )
    report = audit(sealed, chain(sealed, [[LATE], [moved]], signer))
    assert mentions(report, f"{ROOT}0002", "LATE01", "only from the coordination seat")


def test_a_transfer_without_a_schools_consent_fails(sealed: Files, signer: LocalSigner) -> None:
    t = transfer()
    one = t.model_copy(
        update={"consents": (t.consents[0], t.consents[0].model_copy(update={"school_id": "S-CY-09"}))}
    )
    report = audit(sealed, chain(sealed, [[one]], signer))
    assert mentions(report, f"{ROOT}0001", "C001: a transfer without the consent of S-CY-02")


def test_a_correction_with_a_short_reason_fails_naming_the_rule(sealed: Files, signer: LocalSigner) -> None:
    # written by hand (the model refuses it): the reason is 4 characters
    doc = fmt.correction_line(LATE) | {"reason": "补录学生"}
    files = {
        "corrections.jsonl": fmt.jsonl([doc]),
        "placements.jsonl": fmt.build(YEAR, [LATE])["placements.jsonl"],
    }
    b1 = fmt.seal_files(YEAR, 1, sha256_hex(sealed[MANIFEST]), files, signer=signer, created_at=CREATED)
    report = audit(sealed, {f"0001/{k}": v for k, v in b1.items()})
    assert mentions(report, f"{ROOT}0001: corrections.jsonl line 1: reason", "at least 10 characters")


def test_a_batch_placements_line_that_is_not_the_changes_after_fails(
    sealed: Files, signer: LocalSigner
) -> None:
    files = fmt.build(YEAR, [LATE])
    files["placements.jsonl"] = files["placements.jsonl"].replace(PUBLIC.encode(), OTHER.encode())
    b1 = fmt.seal_files(YEAR, 1, sha256_hex(sealed[MANIFEST]), files, signer=signer, created_at=CREATED)
    report = audit(sealed, {f"0001/{k}": v for k, v in b1.items()})
    assert mentions(report, f"{ROOT}0001: placements.jsonl line 1 (LATE01)", "is not the child's line after")


# The CLI: the bucket's root as an auditor copies it ---------------------------------------------------


def test_cli_audits_a_roots_season_with_its_corrections(
    sealed: Files, additions: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "bucket"
    write_folder(root / "seasons" / YEAR, sealed)
    write_folder(root / "additions" / YEAR / "corrections", additions)
    assert main(["audit", str(root)]) == 0
    out = capsys.readouterr().out
    assert "3 batches applied in order" in out and out.rstrip().endswith("审计通过 AUDIT PASSED")
    assert main(["audit", str(root / "seasons" / YEAR)]) == 0  # the season's prefix alone, as before
    capsys.readouterr()

    (root / "additions" / YEAR / "corrections" / "0002" / "placements.jsonl").write_bytes(b"{}\n")
    assert main(["audit", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"{ROOT}0002" in out and "审计未通过 AUDIT FAILED" in out

    # the season's prefix and its batches' folder given apart (e.g. enroll demo's DIR/archive)
    good = tmp_path / "good"
    write_folder(good / "corrections", additions)
    assert main(["audit", str(root / "seasons" / YEAR), "--corrections", str(good / "corrections")]) == 0
    assert "3 batches applied in order" in capsys.readouterr().out
    assert main(["audit", str(root), "--corrections", str(good / "corrections")]) == 2

    assert main(["audit", str(root), "--season", "2099"]) == 2
    assert "seasons/2099/" in capsys.readouterr().err
