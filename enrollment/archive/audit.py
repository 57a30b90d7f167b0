"""Audit a season's archive offline (LOTTERY.md, "The archive"): what an auditor or notary runs.

`audit(files)` takes the archive's files (a folder or an S3 prefix, read by `enrollment.archive.contract`) and
checks, without any AWS call and without trusting anything the archive says about itself:

- the manifest lists every file with its SHA-256 and size, and nothing else is there;
- the signature verifies with `public-key.pem` over the statement rebuilt from the manifest's bytes
  (the stored statement is only compared, never used);
- `season.json` is well-formed; each private school and grade of it has exactly one record, whose
  plan and district agree with it, and whose draw replays to the same ranking (R-LOT-1, R-LOT-2);
- `placements.jsonl` places each registered child once (R-REG-2), no school over its plan
  (R-PUB-3), private admissions exactly as their records say, a declined seat going to the
  waitlist (LOTTERY.md step 7) and the decliner coordinated (R-LOT-5, R-COORD-1); a seat released
  because a district decision placed the admitted child (route `deferred`, `regular-class`,
  `special-education`, `home-delivery` or `override`: R-DEFER-1, R-DIS-1, R-VER-3) going to the
  waitlist the same way (`enrollment.placement.seats`; no file beyond LOTTERY.md's is needed);
- `placement/tie-break.json`, if present, replays from its seed over every placed child (R-PUB-2);
- no file holds what looks like an ID or mobile number (R-DATA-1);
- given the season's correction batches (`additions/{season}/corrections/{nnnn}/`, docs/ARCHIVE.md
  "Corrections"): each batch's files, signature by the season's key, number and link to the manifest
  before it, then the batches applied in order, each change from the child's line as it stands, and
  the placements' invariants after each batch, a problem named by the addition it first appears after.

Each finding names the file, the child or the school. The report reads in Chinese and English.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from enrollment.archive import contract as archive
from enrollment.archive import corrections as corrections_format
from enrollment.corrections.model import AGENCY_VERIFICATION, MIN_REASON_CHARS, Correction
from enrollment.lottery import draw as lottery
from enrollment.lottery.pools import FORMAT as RECORD_FORMAT
from enrollment.lottery.pools import CeremonyInputs, check_record, record, record_key, record_pools
from enrollment.placement import tiebreak
from enrollment.placement.seats import DECISION_ROUTES, freed_seat_problems

TIE_BREAK_FORMAT = "enrollment-tie-break/1"
KINDS = ("public", "private", "ethnic", "specialised", "special-education")
PRIVATE_ROUTES = ("private-no-draw", "private-draw")
LINE_FIELDS = {"registration_id", "grade", "school_id", "route", "status", "reason"}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_RECORD = re.compile(r"^private/(.+)-g([17])\.json$")
# what each check is called in the report
LABELS = {
    "manifest": "清单 manifest.json",
    "files": "文件与清单一致 files match the manifest",
    "signature": "签名 signature",
    "statement": "签名声明 stored statement",
    "season": "招生季配置 season.json",
    "private": "民办学校录取记录 private admission records (R-LOT-1, R-LOT-2)",
    "placements": "录取结果 placements.jsonl (R-REG-2, R-PUB-3, R-LOT-5)",
    "tie-break": "随机序号 placement/tie-break.json (R-PUB-2)",
    "personal-data": "个人信息 personal data (R-DATA-1)",
    "corrections": "更正附加 correction additions: chain and signatures",
    "corrected": "更正后的录取结果 corrected placements (R-REG-2, R-PUB-3, R-LOT-5)",
    "head": "更正链的末端 the chain's published last addition",
}
SHOWN_PER_CHECK = 50  # problems printed per check; the verdict counts them all


@dataclass
class Report:
    """Each check: (name, passed, detail). A check with several problems has one entry per problem."""

    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    season: str | None = None
    file_count: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _, passed, _ in self.checks)

    @property
    def problems(self) -> list[str]:
        return [detail for _, passed, detail in self.checks if not passed]

    def add(self, name: str, problems: Sequence[str], passed: str) -> None:
        if problems:
            self.checks += [(name, False, p) for p in problems]
        else:
            self.checks.append((name, True, passed))

    def render(self) -> str:
        lines = [
            f"归档审计 Archive audit · 招生季 season {self.season or '?'} · {self.file_count} 个文件 files"
        ]
        shown: Counter[str] = Counter()
        hidden: Counter[str] = Counter()
        for name, passed, detail in self.checks:
            if not passed and shown[name] >= SHOWN_PER_CHECK:
                hidden[name] += 1
                continue
            shown[name] += 1
            lines.append(f"{'✓' if passed else '✗'} {LABELS.get(name, name)}: {detail}")
        for name, n in hidden.items():
            lines.append(f"✗ {LABELS.get(name, name)}: … 另有 {n} 个问题 and {n} more problems")
        n = len(self.problems)
        lines.append("审计通过 AUDIT PASSED" if self.ok else f"审计未通过 AUDIT FAILED: {n} problems")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SchoolView:
    kind: str
    district: str
    plans: dict[int, int]


@dataclass(frozen=True)
class SeasonView:
    season: str
    schools: dict[str, SchoolView]


def audit(
    files: Mapping[str, bytes],
    corrections: Mapping[str, bytes] | None = None,
    *,
    head: str | None = None,
) -> Report:
    """Every check of the archive; no AWS call, nothing taken on the archive's word.

    `corrections`: the files of the season's correction batches, by their key below
    `additions/{season}/corrections/` (e.g. `0001/manifest.json`); each batch is checked and applied
    in order after the season's own checks (`_corrections`). None or empty: the season alone.
    `head`: the chain's last batch as the bureau publishes it, `"{nnnn}:{sha256 of its manifest.json}"`
    (`corrections.head`): the one thing the chain cannot show by itself is its last batches withheld."""
    report = Report(file_count=len(files) + len(corrections or {}))
    listed = _manifest(files, report)
    report.season = listed.get("season") if listed else None
    _files(files, listed, report)
    _signature(files, report)
    season = _season(files, report.season, report)
    if report.season is None and season is not None:
        report.season = season.season
    records = _private(files, season, report)
    placed = _placements(files, season, records, report)
    _tie_break(files, report.season, list(placed) if placed is not None else None, report)
    found = archive.personal_data(files)
    batches = corrections or {}
    if batches or head:
        _corrections(files, batches, season, records, placed, report)
        if head is not None:
            report.add("head", _head_problems(report.season or "?", batches, head), f"ends at {head}")
        where = corrections_format.root(report.season or "?")
        found += [f"{where}{p}" for p in archive.personal_data(batches)]
    report.add("personal-data", found, f"no resident ID or mobile number in {report.file_count} files")
    return report


# The manifest, the files and the signature ---------------------------------------------------------


def _json(files: Mapping[str, bytes], key: str) -> tuple[Any, str | None]:
    """The parsed JSON of a file, or why it cannot be read."""
    try:
        return json.loads(files[key].decode("utf-8")), None
    except UnicodeDecodeError as e:
        return None, f"{key}: not UTF-8 ({e.reason} at byte {e.start})"
    except json.JSONDecodeError as e:
        return None, f"{key}: not JSON ({e.msg}, line {e.lineno} column {e.colno})"


def _manifest(files: Mapping[str, bytes], report: Report) -> dict[str, Any] | None:
    """The manifest's season and its entries {key: (sha256, bytes)}; None if it cannot be used."""
    m = archive.MANIFEST
    if m not in files:
        report.add("manifest", [f"{m} is missing"], "")
        return None
    doc, error = _json(files, m)
    if error:
        report.add("manifest", [error], "")
        return None
    problems: list[str] = []
    if not isinstance(doc, dict):
        report.add("manifest", [f"{m}: not a JSON object"], "")
        return None
    season = doc.get("season")
    if not isinstance(season, str) or not season:
        problems.append(f"{m}: season is missing or not a string")
        season = None
    created = doc.get("created_at")
    try:
        if not isinstance(created, str) or datetime.fromisoformat(created).utcoffset() is None:
            problems.append(f"{m}: created_at {created!r} is not an ISO 8601 time with an offset")
    except ValueError:
        problems.append(f"{m}: created_at {created!r} is not an ISO 8601 time with an offset")
    entries: dict[str, tuple[str, int]] = {}
    listing = doc.get("files")
    if not isinstance(listing, list):
        problems.append(f"{m}: files is missing or not a list")
        listing = []
    for i, e in enumerate(listing):
        key = e.get("key") if isinstance(e, dict) else None
        sha, size = (e.get("sha256"), e.get("bytes")) if isinstance(e, dict) else (None, None)
        if not isinstance(key, str) or archive.key_problem(key):
            problems.append(f"{m}: files[{i}]: key {key!r} is not a relative path inside the archive")
        elif key in archive.NOT_IN_MANIFEST:
            problems.append(f"{m}: files[{i}]: {key} must not be listed")
        elif key in entries:
            problems.append(f"{m}: {key} is listed twice")
        elif not isinstance(sha, str) or not _HEX64.match(sha):
            problems.append(f"{m}: {key}: sha256 {sha!r} is not 64 lowercase hex digits")
        elif not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append(f"{m}: {key}: bytes {size!r} is not a size")
        else:
            entries[key] = (sha, size)
    report.add("manifest", problems, f"season {season}, created {created}, {len(entries)} files listed")
    return {"season": season, "entries": entries}


CLASSES_LAYOUT = re.compile(r"^classes/[^/]+-g[17]\.json$")


def audit_classes(files: Mapping[str, bytes]) -> Report:
    """The sunshine-classes addition (`additions/{season}/classes/`, R-CLASS-1): its own manifest and
    signature exactly as the season's archive, and every class list sound: each student once, class
    sizes within one of each other, no personal data. (Balance by sex and birth month needs the
    students' facts, which the archive does not hold; `classes.replay` checks it where they are.)"""
    report = Report(file_count=len(files))
    listed = _manifest(files, report)
    report.season = listed.get("season") if listed else None
    _files(files, listed, report, CLASSES_LAYOUT)
    _signature(files, report)
    problems: list[str] = []
    seen: dict[str, str] = {}
    lists = [k for k in sorted(files) if CLASSES_LAYOUT.match(k)]
    for key in lists:
        rec, error = _json(files, key)
        if error or not isinstance(rec, dict) or rec.get("format") != "enrollment-classes/1":
            problems.append(f"{key}: not an enrollment-classes/1 record")
            continue
        sizes = [len(c) for c in rec.get("classes", [])]
        if not sizes or max(sizes) - min(sizes) > 1:
            problems.append(f"{key}: class sizes {sizes} differ by more than one (R-CLASS-1)")
        for c in rec["classes"]:
            for rid in c:
                if rid in seen:
                    problems.append(f"{rid}: in {seen[rid]} and {key}")
                seen[rid] = key
    report.add(
        "classes", problems, f"{len(lists)} class lists, {len(seen)} students, each once; sizes balanced"
    )
    report.add(
        "personal-data",
        archive.personal_data(files),
        f"no resident ID or mobile number in {len(files)} files",
    )
    return report


def _files(
    files: Mapping[str, bytes],
    listed: dict[str, Any] | None,
    report: Report,
    layout: re.Pattern[str] = archive.LAYOUT,
) -> None:
    if listed is None:
        report.add("files", [f"the files cannot be checked without a usable {archive.MANIFEST}"], "")
        return
    entries: dict[str, tuple[str, int]] = listed["entries"]
    problems = []
    for key, (sha, size) in sorted(entries.items()):
        if key not in files:
            problems.append(f"{key}: listed in {archive.MANIFEST} but missing")
            continue
        body = files[key]
        if len(body) != size:
            problems.append(f"{key}: {len(body)} bytes, {archive.MANIFEST} says {size}")
        if (actual := archive.sha256_hex(body)) != sha:
            problems.append(f"{key}: SHA-256 {actual} differs from {archive.MANIFEST}'s {sha}")
        if not layout.match(key):
            problems.append(f"{key}: not a file of the archive layout (LOTTERY.md)")
    for key in sorted(set(files) - set(entries) - set(archive.NOT_IN_MANIFEST)):
        problems.append(f"{key}: not listed in {archive.MANIFEST}")
    report.add("files", problems, f"{len(entries)} files, each with its SHA-256 and size; none unlisted")


def _signature(
    files: Mapping[str, bytes],
    report: Report,
    rebuild: Callable[[str, bytes], str] = archive.statement,
) -> None:
    """The signature over the statement `rebuild(season, manifest bytes)` (the season's by default)."""
    sig_key, pem_key, m = archive.SIGNATURE, archive.PUBLIC_KEY, archive.MANIFEST
    missing = [f"{k} is missing" for k in (sig_key, pem_key, m) if k not in files]
    if missing:
        report.add("signature", missing, "")
        return
    doc, error = _json(files, sig_key)
    if error or not isinstance(doc, dict):
        report.add("signature", [error or f"{sig_key}: not a JSON object"], "")
        return
    problems = []
    if doc.get("algorithm") != archive.SIGNING_ALGORITHM:
        problems.append(f"{sig_key}: algorithm {doc.get('algorithm')!r}, not {archive.SIGNING_ALGORITHM}")
    key_id = doc.get("key_id")
    if not isinstance(key_id, str) or not key_id:
        problems.append(f"{sig_key}: key_id is missing")
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if not signature:
        problems.append(f"{sig_key}: signature is not base64")
    # the statement is rebuilt from the manifest bytes held here; the stored one is only compared
    season, _ = _manifest_season(files)
    rebuilt = rebuild(season, files[m]) if season is not None else None
    if rebuilt is None:
        problems.append(f"{sig_key}: the statement cannot be rebuilt: {m} has no readable season")
    if key_problem := archive.public_key_problem(files[pem_key]):
        problems.append(key_problem)
    elif (
        signature
        and rebuilt is not None
        and (why := archive.signature_problem(files[pem_key], rebuilt.encode(), signature))
    ):
        problems.append(
            f"{sig_key}: {why} over the statement rebuilt from {m} "
            f"(sha256 {archive.sha256_hex(files[m])}): {m} or the signature was changed, "
            "or another key signed it"
        )
    fingerprint = "" if key_problem else f", key fingerprint sha256:{archive.key_fingerprint(files[pem_key])}"
    report.add(
        "signature",
        problems,
        f"ECDSA P-256 / SHA-256 signature by {key_id} verifies over {m} "
        f"(sha256 {archive.sha256_hex(files[m])}) with {pem_key}{fingerprint}",
    )
    if rebuilt is not None:
        stored = doc.get("statement")
        differs = f"{sig_key}: the stored statement differs from the one rebuilt from {m}"
        report.add(
            "statement",
            [] if stored == rebuilt else [differs],
            f"{sig_key}'s statement is the one rebuilt from {m}",
        )


def _manifest_season(files: Mapping[str, bytes]) -> tuple[str | None, str | None]:
    doc, error = _json(files, archive.MANIFEST)
    season = doc.get("season") if isinstance(doc, dict) else None
    return (season if isinstance(season, str) and season else None), error


# season.json and the private records ---------------------------------------------------------------


def _season(files: Mapping[str, bytes], season: str | None, report: Report) -> SeasonView | None:
    key = archive.SEASON
    if key not in files:
        report.add("season", [f"{key} is missing"], "")
        return None
    doc, error = _json(files, key)
    if error or not isinstance(doc, dict):
        report.add("season", [error or f"{key}: not a JSON object"], "")
        return None
    problems = []
    name = doc.get("season")
    if not isinstance(name, str) or not name:
        problems.append(f"{key}: season is missing")
        name = season or ""
    elif season is not None and name != season:
        problems.append(f"{key}: season {name!r}, {archive.MANIFEST} says {season!r}")
    codes: set[str] = set()
    districts = doc.get("districts")
    if not isinstance(districts, list) or not districts:
        problems.append(f"{key}: districts is missing or empty")
        districts = []
    for i, d in enumerate(districts):
        if (
            not isinstance(d, dict)
            or not isinstance(d.get("code"), str)
            or not isinstance(d.get("name"), str)
        ):
            problems.append(f"{key}: districts[{i}] needs a code and a name")
        else:
            codes.add(d["code"])
    schools: dict[str, SchoolView] = {}
    listing = doc.get("schools")
    if not isinstance(listing, list) or not listing:
        problems.append(f"{key}: schools is missing or empty")
        listing = []
    for i, s in enumerate(listing):
        at = f"{key}: schools[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("id"), str) or not s["id"]:
            problems.append(f"{at}: needs an id")
            continue
        at = f"{key}: school {s['id']}"
        plans = s.get("plans")
        bad = []
        if not isinstance(s.get("name"), str) or not s["name"]:
            bad.append("needs a name")
        if s.get("district") not in codes:
            bad.append(f"district {s.get('district')!r} is not one of districts")
        if s.get("kind") not in KINDS:
            bad.append(f"kind {s.get('kind')!r} is not one of {', '.join(KINDS)}")
        if (
            not isinstance(plans, dict)
            or not plans
            or any(g not in ("1", "7") for g in plans)
            or any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in plans.values())
        ):
            bad.append(f'plans {plans!r} must map "1" and/or "7" to seats')
        if s["id"] in schools:
            bad.append("is listed twice")
        if bad:
            problems += [f"{at}: {b}" for b in bad]
            continue
        schools[s["id"]] = SchoolView(s["kind"], s["district"], {int(g): n for g, n in (plans or {}).items()})
    private = sum(len(s.plans) for s in schools.values() if s.kind == "private")
    report.add(
        "season",
        problems,
        f"season {name}: {len(codes)} districts, {len(schools)} schools, {private} private school-grades",
    )
    return SeasonView(name, schools)


def _replay_problems(rec: dict[str, Any]) -> list[str]:
    """`check_record`'s problems, with a differing draw told field by field (e.g. its ranking)."""
    found = check_record(rec)
    if "draw differs from the replay" not in found:
        return found
    d = rec["draw"]
    pools = record_pools(rec)
    inputs = CeremonyInputs(tuple(d["shuffle_inputs"]), tuple(d["draw_inputs"]), int(d["chosen_draw"]))
    replay = record(str(rec["season"]), pools, inputs)["draw"]
    detail = []
    for name, expected in replay.items():
        got = d.get(name) if isinstance(d, dict) else None
        if got == expected:
            continue
        if name == "ranking" and isinstance(got, list):
            at = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), None)
            where = (
                f" from rank {at + 1}: {got[at]} recorded, {expected[at]} replayed" if at is not None else ""
            )
            detail.append(f"draw.ranking differs from the replay{where}")
        else:
            detail.append(f"draw.{name} differs from the replay: {got!r} recorded, {expected!r} replayed")
    return [p for p in found if p != "draw differs from the replay"] + detail


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_ids(v: Any, n: int | None = None) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v) and (n is None or len(v) == n)


def _record_shape(rec: dict[str, Any]) -> list[str]:
    """The fields of a record that do not have LOTTERY.md's types (checked before anything replays it)."""
    bad = [f for f in ("season", "district") if not isinstance(rec.get(f), str)]
    bad += [] if _is_int(rec.get("plan")) else ["plan"]
    lists = (
        "own_district_applicants",
        "other_applicants",
        "admitted_without_draw",
        "admitted",
        "not_admitted",
    )
    bad += [f for f in lists if not _is_ids(rec.get(f))]
    if "draw" not in rec:
        return [*bad, "draw"]
    d = rec["draw"]
    if d is None:
        return bad
    if not isinstance(d, dict):
        return [*bad, "draw"]
    bad += [f"draw.{f}" for f in ("algorithm", "pool", "pool_digest") if not isinstance(d.get(f), str)]
    bad += [f"draw.{f}" for f in ("seats", "chosen_draw") if not _is_int(d.get(f))]
    bad += [f"draw.{f}" for f in ("shuffle_inputs", "draw_inputs") if not _is_ids(d.get(f), 3)]
    bad += [] if _is_ids(d.get("ranking")) else ["draw.ranking"]
    return bad


def _private(
    files: Mapping[str, bytes], season: SeasonView | None, report: Report
) -> dict[tuple[str, int], dict[str, Any] | None]:
    """Every private record, checked and replayed, by (school, grade); None for one that is unreadable."""
    problems: list[str] = []
    records: dict[tuple[str, int], dict[str, Any] | None] = {}
    applied: dict[str, str] = {}
    draws = 0
    for key in sorted(k for k in files if k.startswith("private/")):
        m = _RECORD.match(key)
        if not m:
            problems.append(f"{key}: not a record name private/{{school_id}}-g{{grade}}.json")
            continue
        records[(m.group(1), int(m.group(2)))] = None  # until it proves readable
        rec, error = _json(files, key)
        if error or not isinstance(rec, dict):
            problems.append(error or f"{key}: not a JSON object")
            continue
        school_id, grade = rec.get("school_id"), rec.get("grade")
        if rec.get("format") != RECORD_FORMAT:
            problems.append(f"{key}: format {rec.get('format')!r}, not {RECORD_FORMAT}")
        if not isinstance(school_id, str) or not isinstance(grade, int):
            problems.append(f"{key}: school_id and grade are missing")
            continue
        if record_key(school_id, grade) != key:
            problems.append(f"{key}: holds the record of {school_id} grade {grade}")
        if season is not None and rec.get("season") != season.season:
            problems.append(f"{key}: season {rec.get('season')!r}, {archive.SEASON} says {season.season!r}")
        if shape := _record_shape(rec):
            problems.append(f"{key}: malformed record: {', '.join(shape)} missing or of the wrong type")
            continue
        try:
            problems += [f"{key}: {p}" for p in _replay_problems(rec)]
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            problems.append(f"{key}: the record cannot be replayed ({type(e).__name__}: {e})")
        school = season.schools.get(school_id) if season else None
        if season is not None:
            if school is None or school.kind != "private":
                problems.append(f"{key}: {school_id} is not a private school of {archive.SEASON}")
            elif grade not in school.plans:
                problems.append(f"{key}: {school_id} has no plan for grade {grade} in {archive.SEASON}")
            else:
                if rec.get("plan") != school.plans[grade]:
                    problems.append(
                        f"{key}: plan {rec.get('plan')}, {archive.SEASON} says {school.plans[grade]} "
                        f"for {school_id} grade {grade}"
                    )
                if rec.get("district") != school.district:
                    problems.append(
                        f"{key}: district {rec.get('district')!r}, {archive.SEASON} says {school.district!r}"
                    )
        for rid in rec["own_district_applicants"] + rec["other_applicants"]:
            if rid in applied and applied[rid] != key:
                problems.append(f"{rid}: an applicant in both {applied[rid]} and {key} (R-REG-2, R-REG-3)")
            applied.setdefault(rid, key)
        draws += rec["draw"] is not None
        records[(school_id, grade)] = rec
    if season is not None:
        for school_id, s in sorted(season.schools.items()):
            if s.kind != "private":
                continue
            for grade in sorted(s.plans):
                if record_key(school_id, grade) not in files:
                    problems.append(
                        f"{record_key(school_id, grade)} is missing: {archive.SEASON} has private school "
                        f"{school_id} with a plan for grade {grade}"
                    )
    report.add(
        "private",
        problems,
        f"{len(records)} records, one per private school and grade; each draw ({draws}) replayed to the "
        "same ranking; R-LOT-2 pools hold",
    )
    return records


# placements.jsonl -----------------------------------------------------------------------------------


def _lines(files: Mapping[str, bytes], problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """The well-formed lines of placements.jsonl with their line numbers; the others as problems."""
    key = archive.PLACEMENTS
    try:
        text = files[key].decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(f"{key}: not UTF-8 ({e.reason} at byte {e.start})")
        return []
    if text and not text.endswith("\n"):
        problems.append(f"{key}: the last line has no final newline")
    out = []
    for n, raw in enumerate(text.splitlines(), start=1):
        at = f"{key} line {n}"
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as e:
            problems.append(f"{at}: not JSON ({e.msg})")
            continue
        if not isinstance(line, dict):
            problems.append(f"{at}: not a JSON object")
            continue
        rid = line.get("registration_id")
        if isinstance(rid, str) and rid:
            at = f"{at} ({rid})"
        if bad := _line_problems(line):
            problems += [f"{at}: {b}" for b in bad]
            continue
        out.append((n, line))
    return out


def _line_problems(line: Mapping[str, Any]) -> list[str]:
    """What is wrong with one placements line's fields (LOTTERY.md), or nothing."""
    rid, grade, school_id, route = (line.get(f) for f in ("registration_id", "grade", "school_id", "route"))
    bad = []
    if not isinstance(rid, str) or not rid:
        bad.append("registration_id is missing")
    if unknown := sorted(set(line) - LINE_FIELDS):
        bad.append(f"unknown fields {', '.join(unknown)} (registration ids only)")
    if grade not in (1, 7) or isinstance(grade, bool):
        bad.append(f"grade {grade!r} is not 1 or 7")
    if school_id is not None and (not isinstance(school_id, str) or not school_id):
        bad.append(f"school_id {school_id!r} is neither an id nor null")
    if not isinstance(route, str) or not route:
        bad.append("route is missing")
    if school_id is None and not (isinstance(line.get("status"), str) and line["status"]):
        bad.append("school_id is null without a status (e.g. deferred)")
    if (route == "deferred" or line.get("status") == "deferred") and school_id is not None:
        bad.append(f"deferred (R-DEFER-1) but placed at {school_id}: a deferred line has school_id null")
    if route == "coordination" and not (isinstance(line.get("reason"), str) and line["reason"]):
        bad.append("coordinated without a reason (R-COORD-1)")
    return bad


def _placements(
    files: Mapping[str, bytes],
    season: SeasonView | None,
    records: Mapping[tuple[str, int], dict[str, Any] | None],
    report: Report,
) -> dict[str, dict[str, Any]] | None:
    """Check placements.jsonl; its well-formed lines by registration id (the tie-break's pool, the
    corrections' starting point), or None if absent."""
    key = archive.PLACEMENTS
    if key not in files:
        report.add("placements", [f"{key} is missing"], "")
        return None
    problems: list[str] = []
    lines = _lines(files, problems)
    by_id: dict[str, list[int]] = {}
    for n, line in lines:
        by_id.setdefault(line["registration_id"], []).append(n)
    for rid, at in by_id.items():
        if len(at) > 1:
            problems.append(
                f"{rid}: placed {len(at)} times in {key} (lines {', '.join(map(str, at))}); "
                "one child gets exactly one placement (R-REG-2)"
            )
    placed = {line["registration_id"]: line for _, line in lines}
    problems += _plan_problems([line for _, line in lines], season)
    problems += _private_admissions(placed, season, records)
    private = sum(1 for line in placed.values() if line["route"] in PRIVATE_ROUTES)
    report.add(
        "placements",
        problems,
        f"{len(placed)} children, each placed once; no school over its plan; {private} private admissions "
        f"as their records say",
    )
    return placed


def _plan_problems(lines: Sequence[Mapping[str, Any]], season: SeasonView | None) -> list[str]:
    """No school over its plan, for any grade (R-PUB-3); only schools and grades of the season."""
    problems: list[str] = []
    taken = Counter((line["school_id"], line["grade"]) for line in lines if line["school_id"] is not None)
    if season is None:
        return problems
    for (school_id, grade), n in sorted(taken.items()):
        school = season.schools.get(school_id)
        if school is None:
            problems.append(f"{school_id}: {n} children placed at a school not in {archive.SEASON}")
        elif grade not in school.plans:
            problems.append(f"{school_id}: {n} children placed in grade {grade}, which it does not take")
        elif n > school.plans[grade]:
            problems.append(
                f"{school_id} grade {grade}: {n} placed over a plan of {school.plans[grade]} (R-PUB-3)"
            )
    return problems


def _private_admissions(
    placed: Mapping[str, dict[str, Any]],
    season: SeasonView | None,
    records: Mapping[tuple[str, int], dict[str, Any] | None],
    *,
    settled: bool = True,
) -> list[str]:
    """Private seats exactly as the records say, a declined or released seat going to the draw's
    waitlist in order (`seats.freed_seat_problems`; `settled` False between correction batches).

    A record that cannot be read is reported by the private check; its school's seats are not
    checked against it here (one problem, not one per child)."""
    problems = []
    admitted_by: dict[str, tuple[str, int]] = {}
    waitlisted: set[str] = set()
    unreadable = {sg for sg, rec in records.items() if rec is None}
    for (school_id, grade), rec in records.items():
        if rec is None:
            continue
        key = record_key(school_id, grade)
        for rid in rec["admitted"]:
            admitted_by[rid] = (school_id, grade)
        d = rec["draw"]
        waitlisted.update(d["ranking"][d["seats"] :] if d else [])
        for rid in rec["own_district_applicants"] + rec["other_applicants"]:
            line = placed.get(rid)
            if line is None:
                problems.append(f"{rid}: an applicant in {key} without a line in placements.jsonl (R-REG-2)")
            elif line["grade"] != grade:
                problems.append(f"{rid}: grade {line['grade']} in placements.jsonl, {key} is grade {grade}")
    for rid, line in sorted(placed.items()):
        school_id, grade, route = line["school_id"], line["grade"], line["route"]
        school = season.schools.get(school_id) if season and school_id else None
        at_private = school is not None and school.kind == "private"
        if route in PRIVATE_ROUTES and not at_private and season is not None:
            problems.append(f"{rid}: route {route} to {school_id}, which is not a private school")
        if at_private or route in PRIVATE_ROUTES:
            held = records.get((school_id, grade))
            key = record_key(str(school_id), grade)
            if (school_id, grade) in unreadable:
                continue
            if held is None:
                problems.append(f"{rid}: placed at private school {school_id} grade {grade} with no record")
                continue
            d = held["draw"]
            waitlist = d["ranking"][d["seats"] :] if d else []
            if rid in held["admitted"]:
                expected = "private-no-draw" if rid in held["admitted_without_draw"] else "private-draw"
            elif rid in waitlist:
                expected = "private-draw"
            else:
                problems.append(
                    f"{rid}: placed at {school_id} grade {grade}, but {key} neither admits nor waitlists "
                    "this child (R-LOT-2)"
                )
                continue
            if route != expected:
                problems.append(f"{rid}: route {route} to {school_id}, {key} makes it {expected}")
        elif rid in admitted_by:
            s, g = admitted_by[rid]
            declined = route == "coordination" and line.get("reason") == "private-declined"
            if not declined and route not in DECISION_ROUTES:
                problems.append(
                    f"{rid}: admitted by {record_key(s, g)} but placed at {school_id} by {route}; "
                    "only a child who declined (coordination, private-declined) or whom a district "
                    f"decision placed ({', '.join(DECISION_ROUTES)}) may be placed elsewhere"
                )
            elif route in DECISION_ROUTES and not line.get("reason"):
                problems.append(f"{rid}: admitted by {record_key(s, g)}, placed by {route} without a reason")
        elif line.get("reason") == "private-declined" and rid not in waitlisted and not unreadable:
            # a waitlisted child may decline the seat it was promoted to
            problems.append(f"{rid}: coordinated as private-declined, but no record admits this child")
    for rec in records.values():
        if rec is not None:
            problems += freed_seat_problems(rec, placed, settled=settled)
    return problems


# placement/tie-break.json ---------------------------------------------------------------------------


def _tie_break(
    files: Mapping[str, bytes], season: str | None, placed: list[str] | None, report: Report
) -> None:
    key = archive.TIE_BREAK
    if key not in files:
        report.add("tie-break", [], f"{key} is not in this archive: nothing to replay")
        return
    doc, error = _json(files, key)
    if error or not isinstance(doc, dict):
        report.add("tie-break", [error or f"{key}: not a JSON object"], "")
        return
    problems = []
    if doc.get("format") != TIE_BREAK_FORMAT:
        problems.append(f"{key}: format {doc.get('format')!r}, not {TIE_BREAK_FORMAT}")
    if doc.get("algorithm") != lottery.ALGORITHM:
        problems.append(f"{key}: algorithm {doc.get('algorithm')!r}, not {lottery.ALGORITHM}")
    if season is not None and doc.get("season") != season:
        problems.append(f"{key}: season {doc.get('season')!r}, {archive.MANIFEST} says {season!r}")
    seed = doc.get("seed")
    order: list[Any] = doc["order"] if isinstance(doc.get("order"), list) else []
    if not isinstance(seed, str) or not seed:
        problems.append(f"{key}: seed is missing")
    elif placed is None:
        problems.append(f"{key}: cannot be replayed: the pool is every child of placements.jsonl, missing")
    elif season is not None:
        replay = tiebreak.draw(season, placed, seed)
        expected = tiebreak.record(replay)
        if doc.get("pool_digest") != replay.pool_digest:
            problems.append(
                f"{key}: pool_digest {doc.get('pool_digest')} is not the digest {replay.pool_digest} of "
                f"the {len(placed)} registration ids of placements.jsonl"
            )
        if doc.get("nonce") != expected["nonce"]:
            problems.append(f"{key}: nonce {doc.get('nonce')!r}, the replay's is {expected['nonce']!r}")
        if order != list(replay.order):
            at = next(
                (i for i, (a, b) in enumerate(zip(order, replay.order, strict=False)) if a != b),
                min(len(order), len(replay.order)),
            )
            problems.append(
                f"{key}: order differs from the replay from position {at} "
                f"({len(order)} ids recorded, {len(replay.order)} replayed)"
            )
    report.add(
        "tie-break",
        problems,
        f"replayed from its seed over {len(placed or [])} children: the same order and pool digest",
    )


# Corrections: additions/{season}/corrections/{nnnn}/ (docs/ARCHIVE.md, "Corrections") -----------------


@dataclass
class _Chain:
    """Where the application of the batches stands: each child's current line, the corrections seen."""

    lines: dict[str, dict[str, Any]]
    corrections: dict[str, str] = field(default_factory=dict)  # correction_id -> the addition holding it
    problems: set[str] = field(default_factory=set)  # the invariants' problems of the current lines
    applied: int = 0
    # correction_id -> the (school, grade) seats its changes left: what a promotion that follows it fills
    freed: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    # late children (补录): registration_id -> the late-registration correction that listed them
    late: dict[str, str] = field(default_factory=dict)


def _corrections(
    files: Mapping[str, bytes],
    batches_files: Mapping[str, bytes],
    season: SeasonView | None,
    records: Mapping[tuple[str, int], dict[str, Any] | None],
    placed: Mapping[str, dict[str, Any]] | None,
    report: Report,
) -> None:
    """Each batch checked (manifest, files, signature by the season's key, n, the chain from the sealed
    season's manifest) and applied in order, each change from the child's current line; the invariants
    after each batch; a problem is named by the addition after which it first appears."""
    name = report.season or "?"
    batches, problems = _batches(name, batches_files)
    numbers = sorted(batches)
    chained: list[int] = []  # the batches whose manifest, signature and chain hold
    previous_manifest = files.get(archive.MANIFEST, b"")
    previous_name = f"seasons/{name}/{archive.MANIFEST}"
    for n in numbers:
        prefix = corrections_format.root(name) + corrections_format.batch_name(n)
        found = _batch_integrity(name, n, batches[n], files, previous_manifest, previous_name)
        problems += [f"{prefix}: {p}" for p in found]
        if not found:
            chained.append(n)
        previous_manifest = batches[n].get(archive.MANIFEST, b"")
        previous_name = f"{prefix}/{archive.MANIFEST}"
    report.add(
        "corrections",
        problems,
        f"{len(numbers)} batches {corrections_format.root(name)}0001…{len(numbers):04d}, numbered without "
        "a gap, each file as its manifest.json says, each signed by the season's key, each chained to the "
        "manifest before it from the sealed season's",
    )
    if placed is None:
        report.add(
            "corrected", [f"the corrections cannot be applied without the season's {archive.PLACEMENTS}"], ""
        )
        return
    chain = _Chain(lines={rid: dict(line) for rid, line in placed.items()})
    chain.problems = set(_state_problems(chain.lines, season, records, settled=False))
    found_content: list[str] = []
    last = None
    for n in numbers:
        prefix = corrections_format.root(name) + corrections_format.batch_name(n)
        if n not in chained or n != chain.applied + 1:
            found_content.append(
                f"{prefix}: not applied, nor any addition after it: the chain is broken here or before "
                "(see the corrections check)"
            )
            break
        found_content += [f"{prefix}: {p}" for p in _apply(name, n, batches[n], chain)]
        now = _state_problems(chain.lines, season, records, settled=False)
        found_content += [f"{prefix}: after this addition: {p}" for p in now if p not in chain.problems]
        chain.problems = set(now)
        chain.applied, last = n, prefix
    if last is not None and chain.applied == len(numbers):
        settled = _state_problems(chain.lines, season, records, settled=True)
        found_content += [
            f"{last} (the last addition): after it: {p}" for p in settled if p not in chain.problems
        ]
    report.add(
        "corrected",
        found_content,
        f"{chain.applied} batches applied in order, {len(chain.corrections)} corrections, each change from "
        f"the child's line as it stood; {len(chain.lines)} children each placed once, no school over its plan, "
        "private admissions as their records and waitlists say, every correction with its reason",
    )


def _head_problems(season: str, batches_files: Mapping[str, bytes], head: str) -> list[str]:
    """The chain ends at the published head: its last batch is the head's n, its manifest the head's
    digest; a batch withheld at the end is named as missing."""
    root = corrections_format.root(season)
    n, digest = corrections_format.parse_head(head)
    present = sorted(
        int(k[: corrections_format.DIGITS])
        for k in batches_files
        if corrections_format.BATCH_NAME.match(k[: corrections_format.DIGITS]) and k[4:5] == "/"
    )
    last = present[-1] if present else 0
    if last < n:
        return [
            f"{root}{m:04d} is missing: the published head is {head}, the chain given ends at "
            f"{f'{last:04d}' if last else 'the sealed season'}"
            for m in range(last + 1, n + 1)
        ]
    if last > n:
        return [f"{root}{m:04d}: after the published head {head}" for m in range(n + 1, last + 1)]
    body = batches_files.get(f"{corrections_format.batch_name(n)}/{archive.MANIFEST}", b"")
    if archive.sha256_hex(body) != digest:
        return [
            f"{root}{n:04d}: {archive.MANIFEST} has SHA-256 {archive.sha256_hex(body)}, not the published "
            f"head's {digest}"
        ]
    return []


def _batches(
    season: str, batches_files: Mapping[str, bytes], root: str | None = None
) -> tuple[dict[int, dict[str, bytes]], list[str]]:
    """The batches' files by n and key within the batch; stray files and missing numbers as problems
    (named below `root`, the corrections' by default)."""
    root = root or corrections_format.root(season)
    batches: dict[int, dict[str, bytes]] = {}
    problems = []
    for key, body in sorted(batches_files.items()):
        head, _, rest = key.partition("/")
        if not corrections_format.BATCH_NAME.match(head) or int(head) == 0 or not rest:
            problems.append(f"{root}{key}: not in a batch directory {root}{{n}}/ (n from 0001, four digits)")
            continue
        batches.setdefault(int(head), {})[rest] = body
    present = sorted(batches)
    for n in range(1, (present[-1] if present else 0) + 1):
        if n not in batches:
            shown = ", ".join(f"{m:04d}" for m in present[:10])
            problems.append(
                f"{root}{n:04d} is missing: the batches are numbered from 0001 without a gap "
                f"(present: {shown}{' …' if len(present) > 10 else ''})"
            )
    return batches, problems


def _batch_integrity(
    season: str,
    n: int,
    batch: Mapping[str, bytes],
    files: Mapping[str, bytes],
    previous_manifest: bytes,
    previous_name: str,
) -> list[str]:
    """One batch's manifest, files, signature (over the statement rebuilt with this directory's n), key
    (the season's) and `previous` (the SHA-256 of the manifest before it)."""
    sub = Report()
    listed = _manifest(batch, sub)
    _files(batch, listed, sub, corrections_format.LAYOUT)
    _signature(batch, sub, lambda s, body: corrections_format.statement(s, n, body))
    problems = [detail for _, passed, detail in sub.checks if not passed]
    for key in corrections_format.DATA_FILES:
        if key not in batch:
            problems.append(f"{key} is missing")
    doc, _ = _json(batch, archive.MANIFEST) if archive.MANIFEST in batch else (None, None)
    if isinstance(doc, dict):
        if doc.get("format") != corrections_format.FORMAT:
            problems.append(
                f"{archive.MANIFEST}: format {doc.get('format')!r}, not {corrections_format.FORMAT}"
            )
        if doc.get("season") != season:
            problems.append(
                f"{archive.MANIFEST}: season {doc.get('season')!r}, the sealed season is {season!r}"
            )
        if doc.get("n") != n:
            problems.append(
                f"{archive.MANIFEST}: n {doc.get('n')!r}, but it is batch {n:04d}: batches are applied in "
                "the order of their numbers (moved or swapped?)"
            )
        expected = archive.sha256_hex(previous_manifest)
        if doc.get("previous") != expected:
            problems.append(
                f"{archive.MANIFEST}: previous {doc.get('previous')!r} is not the SHA-256 of {previous_name} "
                f"({expected}): the chain from the sealed season is broken here"
            )
    problems += _same_key_problems(season, batch, files)
    return problems


SIGNATURE_FIELDS = ("algorithm", "key_id", "statement", "signature")


def _same_key_problems(season: str, batch: Mapping[str, bytes], files: Mapping[str, bytes]) -> list[str]:
    """A batch's key files hold nothing the signature does not cover: `public-key.pem` is the season's,
    byte for byte, and `manifest.sig.json` is exactly the canonical JSON of its four fields with the
    season's `key_id` (a PEM parser ignores a changed line break, a JSON parser changed spaces, and the
    signature covers neither file: without this an edited byte there would pass unseen)."""
    problems = []
    pem, season_pem = batch.get(archive.PUBLIC_KEY), files.get(archive.PUBLIC_KEY)
    if pem is not None and season_pem is not None and pem != season_pem:
        problems.append(
            f"{archive.PUBLIC_KEY} is not the season's key, byte for byte (seasons/{season}/{archive.PUBLIC_KEY})"
        )
    body = batch.get(archive.SIGNATURE)
    doc, error = _json(batch, archive.SIGNATURE) if body is not None else (None, None)
    if body is None or error or not isinstance(doc, dict):
        return problems  # named by the signature check
    if sorted(doc) != sorted(SIGNATURE_FIELDS) or archive.canonical_json(doc) != body:
        problems.append(
            f"{archive.SIGNATURE}: not exactly the canonical JSON (two-space indent, final newline) of "
            f"{', '.join(SIGNATURE_FIELDS)}"
        )
    season_sig, _ = _json(files, archive.SIGNATURE) if archive.SIGNATURE in files else (None, None)
    season_key_id = season_sig.get("key_id") if isinstance(season_sig, dict) else None
    if season_key_id is not None and doc.get("key_id") != season_key_id:
        problems.append(
            f"{archive.SIGNATURE}: key_id {doc.get('key_id')!r} is not the season's {season_key_id!r}"
        )
    return problems


def _apply(season: str, n: int, batch: Mapping[str, bytes], chain: _Chain) -> list[str]:
    """Apply one batch's corrections in order to `chain.lines`; what is wrong, by line and child."""
    key = corrections_format.CORRECTIONS
    problems: list[str] = []
    changed: dict[str, dict[str, Any]] = {}
    where = f"{corrections_format.batch_name(n)}"
    try:
        text = batch[key].decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"{key}: not UTF-8 ({e.reason} at byte {e.start})"]
    if not text.strip():
        problems.append(f"{key}: no correction in the batch")
    for i, raw in enumerate(text.splitlines(), start=1):
        at = f"{key} line {i}"
        correction, found = _correction(raw, at)
        problems += found
        if correction is None:
            continue
        at = f"{at} ({correction.correction_id})"
        problems += [f"{at}: {p}" for p in _correction_problems(season, correction, chain, where)]
        chain.corrections.setdefault(correction.correction_id, where)
        if correction.kind == "late-registration":
            chain.late |= {
                ch.registration_id: correction.correction_id for ch in correction.changes if ch.before is None
            }
        chain.freed.setdefault(correction.correction_id, set()).update(
            (ch.before.school_id, ch.before.grade)
            for ch in correction.changes
            if ch.before is not None and ch.before.school_id and ch.before.school_id != ch.after.school_id
        )
        for ch in correction.changes:
            rid, after = ch.registration_id, ch.after.as_line()
            current = chain.lines.get(rid)
            if ch.before is None and current is not None:
                problems.append(
                    f"{at}: {rid}: before is null (a child the season does not list), but the child's line "
                    f"is {json.dumps(current, ensure_ascii=False)}"
                )
            elif ch.before is not None and current is None:
                problems.append(f"{at}: {rid}: before gives a line, but the season lists no such child")
            elif (
                ch.before is not None
                and current is not None
                and corrections_format.comparable(ch.before.as_line())
                != (corrections_format.comparable(current))
            ):
                problems.append(
                    f"{at}: {rid}: before {json.dumps(ch.before.as_line(), ensure_ascii=False)} is not the "
                    f"child's line as it stands, {json.dumps(current, ensure_ascii=False)}"
                )
            if current is not None and current.get("grade") != after["grade"]:
                problems.append(f"{at}: {rid}: grade {current.get('grade')} becomes {after['grade']}")
            problems += [f"{at}: {rid}: after: {p}" for p in _line_problems(after)]
            chain.lines[rid] = changed[rid] = after
    problems += _batch_placements(batch, changed)
    return problems


def _correction(raw: str, at: str) -> tuple[Correction | None, list[str]]:
    """One line of corrections.jsonl as a Correction, or why it is not one (the field and the rule)."""
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        return None, [f"{at}: not JSON ({e.msg})"]
    try:
        return Correction.model_validate(doc), []
    except ValidationError as e:
        found = []
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "line"
            rule = (
                f" (every correction gives its reason: at least {MIN_REASON_CHARS} characters)"
                if err["loc"][:1] == ("reason",)
                else ""
            )
            found.append(f"{at}: {loc}: {err['msg']}{rule}")
        return None, found


PROMOTIONS = ("waitlist-promotion", "catchment-promotion")


def _promotion_problems(c: Correction, chain: _Chain) -> list[str]:
    """A promotion names the correction it follows, and fills a seat that correction left."""
    if c.follows is None:
        return [f"a {c.kind} names the correction whose freed seat it fills (follows is null)"]
    freed = chain.freed.get(c.follows, set())
    return [
        f"{ch.registration_id}: promoted to {ch.after.school_id} grade {ch.after.grade}, but {c.follows}, "
        "which it follows, frees no seat there"
        for ch in c.changes
        if ch.after.school_id is not None and (ch.after.school_id, ch.after.grade) not in freed
    ]


def _agency_problems(c: Correction, chain: _Chain) -> list[str]:
    """A correction the system made when a late child's verdict came in (no staff member's): a
    re-verification of children the late registration it follows listed, each moved off the
    coordination seat that registration gave (or kept there, waiting in catchment order); or a
    promotion into a seat such a correction left (checked as every promotion)."""
    if c.kind in PROMOTIONS:
        return []
    if c.kind != "re-verification":
        return [
            f"actor {AGENCY_VERIFICATION} makes only re-verifications of late children and their promotions"
        ]
    problems = []
    for ch in c.changes:
        rid = ch.registration_id
        if c.follows is None or chain.late.get(rid) != c.follows:
            problems.append(
                f"{rid}: a re-verification by {AGENCY_VERIFICATION} follows the late registration that "
                f"listed the child, not {c.follows}"
            )
        elif (
            ch.before is None or ch.before.route != "coordination" or ch.before.reason != "late-registration"
        ):
            problems.append(
                f"{rid}: {AGENCY_VERIFICATION} moves a late child only from the coordination seat its late "
                "registration gave"
            )
    return problems


def _correction_problems(season: str, c: Correction, chain: _Chain, where: str) -> list[str]:
    """A correction's own rules: its season, a new id, what it follows, a transfer's consents."""
    problems = []
    if c.season != season:
        problems.append(f"season {c.season!r}, not the sealed season {season!r}")
    if c.correction_id in chain.corrections:
        problems.append(f"correction_id is already in batch {chain.corrections[c.correction_id]}")
    if c.follows is not None and c.follows not in chain.corrections:
        problems.append(f"follows {c.follows}, which is no earlier correction")
    elif c.kind in PROMOTIONS:
        problems += _promotion_problems(c, chain)
    if len(c.reason.strip()) < MIN_REASON_CHARS:
        problems.append(f"reason has fewer than {MIN_REASON_CHARS} characters besides spaces")
    if c.actor == AGENCY_VERIFICATION:
        problems += _agency_problems(c, chain)
    if c.kind == "transfer":
        consented = {k.school_id for k in c.consents}
        for ch in c.changes:
            schools = {ch.after.school_id, ch.before.school_id if ch.before else None} - {None}
            if missing := sorted(str(s) for s in schools - consented):
                problems.append(
                    f"{ch.registration_id}: a transfer without the consent of {', '.join(missing)} (R-VER-3)"
                )
    return problems


def _batch_placements(batch: Mapping[str, bytes], changed: Mapping[str, dict[str, Any]]) -> list[str]:
    """The batch's placements.jsonl is exactly each changed child's line after the batch, once each."""
    key = corrections_format.PLACEMENTS
    if key not in batch:
        return []  # named by the integrity check
    problems: list[str] = []
    lines = _lines(batch, problems)
    seen: dict[str, dict[str, Any]] = {}
    for n, line in lines:
        rid = line["registration_id"]
        if rid in seen:
            problems.append(f"{key} line {n} ({rid}): the child's line is in the batch twice")
        elif rid not in changed:
            problems.append(f"{key} line {n} ({rid}): no correction of the batch changes this child")
        elif corrections_format.comparable(line) != corrections_format.comparable(changed[rid]):
            problems.append(
                f"{key} line {n} ({rid}): {json.dumps(line, ensure_ascii=False)} is not the child's line "
                f"after the batch's corrections, {json.dumps(changed[rid], ensure_ascii=False)}"
            )
        seen[rid] = line
    problems += [
        f"{key}: {rid}, changed by the batch's corrections, has no line"
        for rid in sorted(set(changed) - set(seen))
    ]
    return problems


def _state_problems(
    lines: Mapping[str, dict[str, Any]],
    season: SeasonView | None,
    records: Mapping[tuple[str, int], dict[str, Any] | None],
    *,
    settled: bool,
) -> list[str]:
    """The invariants of placements as they stand: each school within its plan, private seats as the
    records and their waitlists say (a seat still free is checked when `settled`)."""
    return _plan_problems(list(lines.values()), season) + _private_admissions(
        lines, season, records, settled=settled
    )
