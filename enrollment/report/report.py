"""The season report (招生入学情况报告, R-OPEN-1 阳光公开; seat warnings R-WARN-1): one HTML page and its charts.

`render(season_data, out_dir)` writes `out_dir/report.html` (Simplified Chinese with English subtitles)
and the PNG charts beside it in `out_dir/charts/`, and returns the HTML's path. The page is
self-contained: inline CSS, no script, no web font, no external address; charts are relative
`<img src="charts/…png">` with alt text, and every table has header cells. It is a local report for
`enroll demo`: matplotlib (a development dependency, never shipped to Lambda) is imported lazily inside
the functions that draw, on its Agg canvas, and nothing here changes matplotlib's global settings.

Chinese in the charts: the first CJK font found is registered with matplotlib's font manager — from
`fc-list :lang=zh` (Noto Sans CJK SC preferred, package `fonts-noto-cjk` on Debian), then the usual
font folders, then the project's bundled `fonts/notice-serif.ttf` (GB 2312). A label the chosen font
cannot draw completely is drawn in English instead, so a chart never shows a missing-glyph box.

`season_data` is plain JSON-able data; every key is optional and a missing or empty section is left
out, so a season that has only reached registration still renders:

- `season` (str, e.g. "jilin-2023"), `city` (str, e.g. "吉林市"), `generated_at` (str, shown as given);
- `district_names`: {district code: name}, e.g. {"CY": "船营区"} (codes are shown when absent);
- `demand` (R-WARN-1): list of {"scope": "school" | "zone", "id", "name", "grade", "district", "kind",
  "plan", "applicants", "warning": "over" | "near" | None} — as `demand.Demand.as_item` gives (extra
  keys are ignored). Chart: applicants ÷ plan for the 20 highest ratios, coloured by warning; table of
  every warning;
- `lotteries` (R-LOT-1, R-LOT-2): list of {"school_id", "school_name", "grade", "plan", "applicants",
  "own_district_applicants", "case": "all-admitted" | "draw-own-district" | "draw-other-districts",
  "seats", "pool", "admitted"?}. `pool` is the number of children in the draw (a list of ids, or the
  pool's name "own-district" / "other-districts", is accepted too); `seats` and `pool` are derived
  from plan, applicants and own-district applicants when absent. Chart: the odds in the draw,
  seats ÷ pool (admitted ÷ applicants when nobody was drawn); table;
- `verification` (R-VER-1…4): {"verdicts": n, "by_status": {status: n}, "by_reason": {reason: n},
  "by_district": {district: {status: n}}, "signed"?: n, "reason_zh"?: {reason: 中文}} — as
  `verify_phase.summary` gives; `reason_zh` defaults to `verdicts.REASON_ZH`. Chart: children by
  reason (horizontal bars); tables by status, reason and district;
- `placement` (R-COORD-1): {"children": n, "by_route": {route: n}, "coordinated_by_reason":
  {reason: n}, "coordinated_distance_m": {"count", "median", "p90", "max"}, "route_zh"?: {route: 中文},
  "reason_zh"?: {reason: 中文}, "coordinated_distances_m"?: [metres, …]} — as `placement.summary`
  gives; `route_zh` defaults to `routes.ROUTE_ZH`, `reason_zh` to `routes.REASON_ZH`.
  `coordinated_distances_m` (each coordinated child's distance home → school) may also be given at the
  top level of `season_data`. Charts: children by route, histogram of coordinated distances; tables.
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

BUNDLED_FONT = Path(__file__).resolve().parents[1] / "fonts" / "notice-serif.ttf"
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
TOP_DEMAND = 20  # the demand chart shows the schools and zones with the highest applicants ÷ plan
NEAR_SHARE = 0.9  # `demand.NEAR_FULL`: the line drawn at 90 % of plan

# Section id → (heading, English subtitle). The page shows only the sections it has data for.
SECTIONS: dict[str, tuple[str, str]] = {
    "demand": ("学位预警", "Seat warnings: demand against plan (R-WARN-1)"),
    "lotteries": ("民办学校招生与电脑派位", "Private schools: admissions and lotteries (R-LOT-1, R-LOT-2)"),
    "verification": ("信息审核结果", "Verification outcomes (R-VER-1 … R-VER-4)"),
    "placement": ("招生录取结果", "Placement: routes and coordination (R-COORD-1)"),
}
WARNING_ZH = {"over": "超出计划", "near": "接近计划"}
WARNING_EN = {"over": "over plan", "near": "near plan"}
WARNING_COLOUR = {"over": "#c0392b", "near": "#e67e22", None: "#2e86c1"}
SCOPE_ZH = {"school": "学校", "zone": "多校划片片区"}
KIND_ZH = {"public": "公办", "private": "民办", "ethnic": "民族", "specialised": "专门"}
CASE_ZH = {
    "all-admitted": "未超计划，全部录取",
    "draw-own-district": "本区派位",
    "draw-other-districts": "本区全录，外区派位",
}
CASE_EN = {
    "all-admitted": "all admitted (R-LOT-1)",
    "draw-own-district": "draw in own district (R-LOT-2)",
    "draw-other-districts": "own district admitted, draw among others (R-LOT-2)",
}
CASE_COLOUR = {"all-admitted": "#27ae60", "draw-own-district": "#8e44ad", "draw-other-districts": "#16a085"}
STATUS_ZH = {"eligible": "符合片区入学条件", "not-eligible": "不符合（统筹安排）", "review": "待人工复核"}
STATUS_ORDER = ("eligible", "not-eligible", "review")


# --- the chart font -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartFont:
    """The font the charts use: a CJK family registered with matplotlib, or None for English labels."""

    family: str | None
    path: str | None
    chars: frozenset[int]

    def covers(self, text: str) -> bool:
        return self.family is not None and all(ord(c) in self.chars or c in "\n\t " for c in text)

    def label(self, zh: str, en: str) -> str:
        """`zh` if every character of it can be drawn, else `en` (never a tofu box)."""
        return zh if self.covers(zh) else en

    def bilingual(self, zh: str, en: str) -> str:
        return f"{zh} {en}" if self.covers(zh) else en


def _rank(family: str, style: str) -> tuple[int, ...]:
    """Lower is better: Noto Sans CJK SC Regular first, then other Simplified Chinese sans fonts."""
    f = family.lower()
    return (
        0 if "sans cjk sc" in f else 1 if "cjk sc" in f or " sc" in f or "hans" in f else 2,
        0 if "sans" in f else 1,
        1 if "mono" in f else 0,
        0 if style.lower() in ("regular", "normal", "book", "") else 1,
    )


def _fc_list() -> list[tuple[str, str, str]]:
    """(file, family, style) of every font fontconfig says can write Chinese; empty without fontconfig."""
    import subprocess  # here: only the report needs it

    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(  # noqa: S603 - fontconfig's own tool, fixed arguments, no shell
            [exe, ":lang=zh", "--format", "%{file}|%{family[0]}|%{style[0]}\n"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0]:
            rows.append((parts[0], parts[1], parts[2]))
    return rows


def _font_candidates() -> list[str]:
    """Font files that may write Chinese, best first."""
    found = sorted(_fc_list(), key=lambda r: _rank(r[1], r[2]))
    files = [f for f, _, _ in found]
    for d in FONT_DIRS:
        if d.is_dir():
            for pattern in ("*CJK*", "*[Hh]ans*", "wqy*", "*[Ww]en[Qq]uan*"):
                files.extend(
                    str(p) for p in sorted(d.rglob(pattern)) if p.suffix.lower() in (".ttc", ".ttf", ".otf")
                )
    files.append(str(BUNDLED_FONT))
    return list(dict.fromkeys(files))


def _families(path: str) -> list[tuple[str, str, int]]:
    """(family, style, face index) of each face in a font file, best first."""
    from matplotlib import ft2font

    try:
        first = ft2font.FT2Font(path)
        faces = [first] + [ft2font.FT2Font(path, face_index=i) for i in range(1, first.num_faces)]
    except (OSError, RuntimeError, ValueError):
        return []
    named = [(f.family_name, f.style_name, i) for i, f in enumerate(faces)]
    return sorted(named, key=lambda n: _rank(n[0], n[1]))


@cache
def chart_font() -> ChartFont:
    """Find, register and check a CJK font once per process (see the module docstring)."""
    from matplotlib import font_manager, ft2font

    manager = font_manager.fontManager
    known = {os.path.realpath(e.fname) for e in manager.ttflist}
    for path in _font_candidates():
        if not Path(path).is_file():
            continue
        families = _families(path)
        if not families:
            continue
        if os.path.realpath(path) not in known:
            manager.addfont(path)
            known.add(os.path.realpath(path))
        for family, _style, _index in families:
            props = font_manager.FontProperties(family=family, weight="normal", style="normal")
            try:
                resolved = manager.findfont(props, fallback_to_default=False, rebuild_if_missing=False)
            except ValueError:
                continue
            if os.path.realpath(resolved) != os.path.realpath(path):
                continue
            face = ft2font.FT2Font(str(resolved), face_index=getattr(resolved, "face_index", 0))
            chars = frozenset(face.get_charmap())
            if ord("学") in chars and ord("位") in chars:
                return ChartFont(family, str(resolved), chars | _fallback_chars())
    return ChartFont(None, None, _fallback_chars())


def _fallback_chars() -> frozenset[int]:
    """What DejaVu Sans (shipped with matplotlib, the second font in `_rc`) draws when the first cannot."""
    from matplotlib import font_manager, ft2font

    try:
        path = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
        return frozenset(ft2font.FT2Font(str(path)).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset(range(32, 127))


def _rc(font: ChartFont) -> dict[RcKeyType, Any]:
    families = [font.family, "DejaVu Sans"] if font.family else ["DejaVu Sans"]
    return {
        "font.family": "sans-serif",
        "font.sans-serif": families,
        "axes.unicode_minus": False,
        "font.size": 11,
        "axes.titlesize": 13,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "savefig.dpi": 110,
    }


# --- reading the data -----------------------------------------------------------------------------


def _int(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _ratio(applicants: int, plan: int) -> float:
    if plan > 0:
        return applicants / plan
    return math.inf if applicants else 0.0


def _pct(x: float | None) -> str:
    if x is None:
        return "—"
    if math.isinf(x):
        return "计划为0"
    return f"{x * 100:.0f}%"


def _short(text: str, n: int = 18) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass(frozen=True)
class Lottery:
    school_id: str
    school_name: str
    grade: int
    plan: int
    applicants: int
    own: int
    case: str
    seats: int
    pool: int
    admitted: int

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> Lottery:
        plan, applicants = _int(r.get("plan")), _int(r.get("applicants"))
        own = _int(r.get("own_district_applicants"))
        case = str(r.get("case") or "")
        if case not in CASE_ZH:
            case = (
                "all-admitted"
                if applicants <= plan
                else "draw-own-district"
                if own > plan
                else "draw-other-districts"
            )
        derived_pool = {"draw-own-district": own, "draw-other-districts": applicants - own}.get(case, 0)
        derived_seats = {"draw-own-district": plan, "draw-other-districts": plan - own}.get(case, 0)
        raw_pool = r.get("pool")
        if isinstance(raw_pool, list | tuple):
            pool = len(raw_pool)
        elif isinstance(raw_pool, int | float) and not isinstance(raw_pool, bool):
            pool = int(raw_pool)
        else:  # absent, or the pool's name ("own-district" / "other-districts")
            pool = derived_pool
        seats = _int(r.get("seats"), derived_seats) if r.get("seats") is not None else derived_seats
        admitted = (
            _int(r.get("admitted"), min(plan, applicants))
            if r.get("admitted") is not None
            else min(plan, applicants)
        )
        return cls(
            str(r.get("school_id", "")),
            str(r.get("school_name") or r.get("school_id", "")),
            _int(r.get("grade")),
            plan,
            applicants,
            own,
            case,
            seats,
            pool,
            admitted,
        )

    @property
    def drawn(self) -> bool:
        return self.case != "all-admitted" and self.pool > 0

    @property
    def odds(self) -> float | None:
        """Seats ÷ pool in a draw; admitted ÷ applicants when nobody was drawn."""
        if self.drawn:
            return min(1.0, max(0, self.seats) / self.pool)
        return min(1.0, self.admitted / self.applicants) if self.applicants else None

    @property
    def admission_rate(self) -> float | None:
        return min(1.0, self.admitted / self.applicants) if self.applicants else None


def _distances(season_data: Mapping[str, Any], placement: Mapping[str, Any]) -> list[int]:
    raw = placement.get("coordinated_distances_m", season_data.get("coordinated_distances_m")) or []
    return sorted(int(d) for d in raw if d is not None)


# --- charts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    file: str  # relative to report.html, e.g. "charts/demand.png"
    alt: str
    caption: str


def _figure(height: float, width: float = 10.0) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, charts: Path, name: str) -> str:
    fig.savefig(charts / name, format="png", facecolor="white")
    return f"charts/{name}"


def _hbar_height(n: int) -> float:
    return 1.6 + 0.42 * max(n, 1)


def _demand_chart(rows: list[Mapping[str, Any]], font: ChartFont, charts: Path) -> Chart:
    from matplotlib.patches import Patch

    ranked = sorted(
        rows, key=lambda d: (-_ratio(_int(d.get("applicants")), _int(d.get("plan"))), str(d.get("id")))
    )[:TOP_DEMAND]
    ranked.reverse()  # barh draws bottom-up: the highest ratio on top
    ratios = [_ratio(_int(d.get("applicants")), _int(d.get("plan"))) for d in ranked]
    finite = [r for r in ratios if not math.isinf(r)]
    cap = max([*finite, 1.0]) * 1.15
    shown = [cap if math.isinf(r) else r for r in ratios]
    labels = [
        font.label(
            f"{_short(str(d.get('name') or d.get('id')))}（{_int(d.get('grade'))}年级）",
            f"{d.get('id')} grade {_int(d.get('grade'))}",
        )
        for d in ranked
    ]
    fig = _figure(_hbar_height(len(ranked)))
    ax = fig.add_subplot()
    colours = [WARNING_COLOUR.get(d.get("warning"), WARNING_COLOUR[None]) for d in ranked]
    bars = ax.barh(range(len(ranked)), [r * 100 for r in shown], color=colours)
    ax.set_yticks(range(len(ranked)), labels)
    ax.axvline(100, color="#333333", linewidth=1.2)
    ax.axvline(NEAR_SHARE * 100, color="#333333", linewidth=1, linestyle="--")
    for bar, d, r in zip(bars, ranked, ratios, strict=True):
        text = (
            "no plan"
            if math.isinf(r)
            else f"{_int(d.get('applicants'))}/{_int(d.get('plan'))}  {r * 100:.0f}%"
        )
        ax.text(bar.get_width() + cap, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=9)
    ax.set_xlim(0, cap * 100 * 1.22)
    ax.set_xlabel(font.bilingual("报名人数 ÷ 招生计划（%）", "applicants ÷ plan (%)"))
    ax.set_title(
        font.bilingual(
            f"报名与计划之比最高的{len(ranked)}个学校/片区", f"top {len(ranked)} by applicants ÷ plan"
        )
    )
    fig.legend(
        handles=[
            Patch(color=WARNING_COLOUR["over"], label=font.bilingual("超出计划", "over plan")),
            Patch(
                color=WARNING_COLOUR["near"], label=font.bilingual("接近计划（≥90%）", "near plan (≥ 90 %)")
            ),
            Patch(color=WARNING_COLOUR[None], label=font.bilingual("未满", "below")),
        ],
        loc="outside lower center",
        ncols=3,
        fontsize=9,
        frameon=False,
    )
    over = sum(1 for d in ranked if d.get("warning") == "over")
    near = sum(1 for d in ranked if d.get("warning") == "near")
    file = _save(fig, charts, "demand.png")
    top = ranked[-1] if ranked else {}
    return Chart(
        file,
        f"横向条形图：报名人数与招生计划之比最高的{len(ranked)}个学校或片区，其中{over}个超出计划（红色）、"
        f"{near}个接近计划（橙色）；最高为{top.get('name', '')}，{_int(top.get('applicants'))}人报名、"
        f"计划{_int(top.get('plan'))}人。",
        "报名人数占招生计划的比例（实线为100%，虚线为90%预警线） · applicants as a share of plan "
        "(solid line 100 %, dashed 90 % warning line)",
    )


def _lottery_chart(lots: list[Lottery], font: ChartFont, charts: Path) -> Chart:
    from matplotlib.patches import Patch

    ordered = sorted(
        lots, key=lambda lot: (-(lot.odds if lot.odds is not None else 1.0), lot.school_id, lot.grade)
    )
    ordered.reverse()
    fig = _figure(_hbar_height(len(ordered)))
    ax = fig.add_subplot()
    odds = [(lot.odds or 0.0) * 100 for lot in ordered]
    bars = ax.barh(range(len(ordered)), odds, color=[CASE_COLOUR.get(lot.case, "#7f8c8d") for lot in ordered])
    ax.set_yticks(
        range(len(ordered)),
        [
            font.label(f"{_short(lot.school_name)}（{lot.grade}年级）", f"{lot.school_id} grade {lot.grade}")
            for lot in ordered
        ],
    )
    for bar, lot in zip(bars, ordered, strict=True):
        text = (
            f"{lot.seats}/{lot.pool}  {_pct(lot.odds)}"
            if lot.drawn
            else f"{lot.admitted}/{lot.applicants}  {_pct(lot.odds)}"
        )
        ax.text(bar.get_width() + 1.5, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=9)
    ax.set_xlim(0, 135)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(
        font.bilingual("派位中签率：名额 ÷ 参加派位人数（%）", "odds: seats ÷ children in the draw (%)")
    )
    ax.set_title(font.bilingual("民办学校电脑派位中签率", "private-school lottery odds"))
    present = [c for c in CASE_ZH if any(lot.case == c for lot in ordered)]
    fig.legend(
        handles=[Patch(color=CASE_COLOUR[c], label=font.bilingual(CASE_ZH[c], CASE_EN[c])) for c in present],
        loc="outside lower center",
        ncols=min(len(present), 2),
        fontsize=9,
        frameon=False,
    )
    draws = [lot for lot in ordered if lot.drawn]
    lowest = min(draws, key=lambda lot: lot.odds or 0.0) if draws else None
    worst = (
        f"中签率最低的是{lowest.school_name}{lowest.grade}年级，{lowest.pool}人争{lowest.seats}个名额（{_pct(lowest.odds)}）。"
        if lowest
        else "没有学校需要派位。"
    )
    return Chart(
        _save(fig, charts, "lotteries.png"),
        f"横向条形图：{len(ordered)}个民办学校年级的派位中签率，其中{len(draws)}个举行电脑派位。{worst}",
        "未超计划的学校全部录取（100%）；派位学校为名额 ÷ 参加派位人数 · schools within plan admit everyone; "
        "for a draw, seats ÷ children in the draw",
    )


def _reason_chart(
    by_reason: Mapping[str, int], reason_zh: Mapping[str, str], font: ChartFont, charts: Path
) -> Chart:
    items = sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    items.reverse()
    fig = _figure(_hbar_height(len(items)))
    ax = fig.add_subplot()
    bars = ax.barh(range(len(items)), [int(n) for _, n in items], color="#c0392b")
    ax.set_yticks(range(len(items)), [font.label(reason_zh.get(r, r), r) for r, _ in items])
    top = max([int(n) for _, n in items] or [1])
    for bar, (_, n) in zip(bars, items, strict=True):
        ax.text(
            bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, str(n), va="center", fontsize=9
        )
    ax.set_xlim(0, top * 1.12)
    ax.xaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    ax.set_xlabel(font.bilingual("人数", "children"))
    ax.set_title(font.bilingual("审核未通过或待复核的原因", "reasons a case did not pass"))
    first = items[-1] if items else ("", 0)
    return Chart(
        _save(fig, charts, "verification_reasons.png"),
        f"横向条形图：信息审核未通过或待复核的{len(items)}类原因及人数；最多的是"
        f"“{reason_zh.get(first[0], first[0])}”，{first[1]}人。",
        "一名儿童可有多个原因 · a child may have more than one reason",
    )


def _route_chart(
    by_route: Mapping[str, int], route_zh: Mapping[str, str], font: ChartFont, charts: Path
) -> Chart:
    items = sorted(by_route.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    items.reverse()
    total = sum(int(n) for _, n in items) or 1
    fig = _figure(_hbar_height(len(items)))
    ax = fig.add_subplot()
    colours = ["#e67e22" if r == "coordination" else "#2e86c1" for r, _ in items]
    bars = ax.barh(range(len(items)), [int(n) for _, n in items], color=colours)
    ax.set_yticks(range(len(items)), [font.label(route_zh.get(r, r), r) for r, _ in items])
    top = max([int(n) for _, n in items] or [1])
    for bar, (_, n) in zip(bars, items, strict=True):
        ax.text(
            bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{n}（{int(n) / total * 100:.1f}%）" if font.family else f"{n} ({int(n) / total * 100:.1f}%)",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, top * 1.22)
    ax.set_xlabel(font.bilingual("人数", "children"))
    ax.set_title(font.bilingual("录取途径", "how each child was placed"))
    first = items[-1] if items else ("", 0)
    return Chart(
        _save(fig, charts, "placement_routes.png"),
        f"横向条形图：{total}名儿童按录取途径分布，{len(items)}种途径；最多的是"
        f"“{route_zh.get(first[0], first[0])}”，{first[1]}人；统筹安排以橙色标出。",
        "每名儿童只录取一次 · every child is placed exactly once",
    )


def _distance_chart(distances: list[int], stats: Mapping[str, Any], font: ChartFont, charts: Path) -> Chart:
    fig = _figure(4.6)
    ax = fig.add_subplot()
    km = [d / 1000 for d in distances]
    bins = max(5, min(25, round(math.sqrt(len(km))) + 3))
    ax.hist(km, bins=bins, color="#2e86c1", edgecolor="white")
    median = stats.get("median", distances[len(distances) // 2])
    p90 = stats.get("p90", distances[int(len(distances) * 0.9)])
    for value, style, zh, en in ((median, "-", "中位数", "median"), (p90, "--", "90%分位", "p90")):
        if value is None:
            continue
        ax.axvline(int(value) / 1000, color="#c0392b", linestyle=style, linewidth=1.4)
        ax.text(
            int(value) / 1000,
            ax.get_ylim()[1] * 0.95,
            f" {font.label(zh, en)} {int(value) / 1000:.1f} km",
            color="#c0392b",
            va="top",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 2},
        )
    ax.yaxis.get_major_locator().set_params(integer=True)  # type: ignore[call-arg]
    ax.set_xlabel(font.bilingual("家到学校的直线距离（公里）", "distance home → school (km)"))
    ax.set_ylabel(font.bilingual("人数", "children"))
    ax.set_title(font.bilingual("统筹安排儿童的就学距离", "distance of coordinated children"))
    return Chart(
        _save(fig, charts, "coordinated_distance.png"),
        f"直方图：{len(distances)}名统筹安排儿童家到学校的距离，中位数{_metres(median)}，"
        f"90%分位{_metres(p90)}，最远{_metres(distances[-1])}。",
        "统筹安排相对就近（R-COORD-1） · coordination places children relatively near home",
    )


def _metres(v: Any) -> str:
    if v is None:
        return "—"
    m = int(v)
    return f"{m / 1000:.1f}公里" if m >= 1000 else f"{m}米"


# --- HTML -----------------------------------------------------------------------------------------


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _table(
    caption: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    head = "".join(
        f'<th scope="col"{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            if i == 0:
                cells.append(f'<th scope="row">{v}</th>')
            else:
                cells.append(f'<td class="num">{v}</td>' if i in numeric else f"<td>{v}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">无 none</td></tr>')
    return (
        f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _figure_html(chart: Chart) -> str:
    return (
        f'<figure><img src="{_e(chart.file)}" alt="{_e(chart.alt)}">'
        f"<figcaption>{_e(chart.caption)}</figcaption></figure>"
    )


def _stats(items: Sequence[tuple[str, str, Any]]) -> str:
    cells = "".join(
        f'<div class="stat"><span class="n">{_e(v)}</span><span class="l">{_e(zh)}<br><small>{_e(en)}</small></span></div>'
        for zh, en, v in items
    )
    return f'<div class="stats">{cells}</div>'


def _section(key: str, body: str) -> str:
    zh, en = SECTIONS[key]
    return f'<section id="{key}"><h2>{_e(zh)} <span class="en">{_e(en)}</span></h2>{body}</section>'


def _demand_section(
    rows: list[Mapping[str, Any]], names: Mapping[str, str], font: ChartFont, charts: Path
) -> str:
    warned = [d for d in rows if d.get("warning") in WARNING_ZH]
    warned.sort(
        key=lambda d: (
            d.get("warning") != "over",
            -_ratio(_int(d.get("applicants")), _int(d.get("plan"))),
            str(d.get("id")),
            _int(d.get("grade")),
        )
    )
    over = sum(1 for d in rows if d.get("warning") == "over")
    near = sum(1 for d in rows if d.get("warning") == "near")
    table = _table(
        "学位预警名单 · Seat warnings, published early (R-WARN-1)",
        [
            "学校/片区 school or zone",
            "范围 scope",
            "区 district",
            "类型 kind",
            "年级 grade",
            "计划 plan",
            "报名 applicants",
            "比例 ratio",
            "预警 warning",
        ],
        (
            [
                f"{_e(d.get('name'))}<br><small>{_e(d.get('id'))}</small>",
                _e(SCOPE_ZH.get(str(d.get("scope")), d.get("scope"))),
                _e(names.get(str(d.get("district")), d.get("district"))),
                _e(KIND_ZH.get(str(d.get("kind")), d.get("kind"))),
                _int(d.get("grade")),
                _int(d.get("plan")),
                _int(d.get("applicants")),
                _pct(_ratio(_int(d.get("applicants")), _int(d.get("plan")))),
                f'<span class="tag {_e(d.get("warning"))}">{_e(WARNING_ZH[str(d.get("warning"))])}</span>',
            ]
            for d in warned
        ),
        numeric=(4, 5, 6, 7),
    )
    body = _stats(
        [
            ("学校/片区年级", "school and zone grades", len(rows)),
            ("超出计划", "over plan", over),
            ("接近计划", "near plan (≥ 90 %)", near),
            ("报名总数", "applicants counted", sum(_int(d.get("applicants")) for d in rows)),
        ]
    )
    body += _figure_html(_demand_chart(rows, font, charts)) + table
    return _section("demand", body)


def _lottery_section(lots: list[Lottery], font: ChartFont, charts: Path) -> str:
    rows = sorted(
        lots, key=lambda lot: (lot.case == "all-admitted", lot.odds or 0.0, lot.school_id, lot.grade)
    )
    table = _table(
        "民办学校招生结果 · Private admissions (R-LOT-1: within plan all admitted; R-LOT-2: own district first)",
        [
            "学校 school",
            "年级 grade",
            "计划 plan",
            "报名 applicants",
            "本区报名 own district",
            "结果 case",
            "派位名额 seats",
            "参加派位 in draw",
            "中签率 odds",
            "总录取率 admitted ÷ applicants",
        ],
        (
            [
                f"{_e(lot.school_name)}<br><small>{_e(lot.school_id)}</small>",
                lot.grade,
                lot.plan,
                lot.applicants,
                lot.own,
                _e(CASE_ZH.get(lot.case, lot.case)),
                lot.seats if lot.drawn else "—",
                lot.pool if lot.drawn else "—",
                _pct(lot.odds),
                _pct(lot.admission_rate),
            ]
            for lot in rows
        ),
        numeric=(1, 2, 3, 4, 6, 7, 8, 9),
    )
    body = _stats(
        [
            ("民办学校年级", "private school-grades", len(lots)),
            ("电脑派位", "lotteries held", sum(1 for lot in lots if lot.drawn)),
            ("报名", "applicants", sum(lot.applicants for lot in lots)),
            ("录取", "admitted", sum(lot.admitted for lot in lots)),
        ]
    )
    return _section("lotteries", body + _figure_html(_lottery_chart(lots, font, charts)) + table)


def _verification_section(
    v: Mapping[str, Any], names: Mapping[str, str], font: ChartFont, charts: Path
) -> str:
    reason_zh: Mapping[str, str] = v.get("reason_zh") or _default_map("verification")
    by_status: Mapping[str, int] = v.get("by_status") or {}
    by_reason: Mapping[str, int] = v.get("by_reason") or {}
    by_district: Mapping[str, Mapping[str, int]] = v.get("by_district") or {}
    stats = [("审核案件", "cases verified", _int(v.get("verdicts"), sum(map(int, by_status.values()))))]
    stats += [(STATUS_ZH.get(s, s), s, _int(by_status.get(s))) for s in STATUS_ORDER if s in by_status]
    if v.get("signed") is not None:
        stats.append(("区教育局签字", "signed by staff (R-VER-3)", _int(v.get("signed"))))
    body = _stats(stats)
    if by_reason:
        body += _figure_html(_reason_chart(by_reason, reason_zh, font, charts))
        body += _table(
            "审核原因 · Reasons (R-VER-1, R-VER-2)",
            ["原因 reason", "代码 code", "人数 children"],
            (
                [_e(reason_zh.get(r, r)), f"<code>{_e(r)}</code>", _int(n)]
                for r, n in sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(2,),
        )
    if by_district:
        statuses = [*STATUS_ORDER, *sorted({s for c in by_district.values() for s in c} - set(STATUS_ORDER))]
        body += _table(
            "各区审核结果 · By district",
            ["区 district", *(f"{_e(STATUS_ZH.get(s, s))} {_e(s)}" for s in statuses)],
            ([_e(names.get(d, d)), *(_int(c.get(s)) for s in statuses)] for d, c in by_district.items()),
            numeric=tuple(range(1, len(statuses) + 1)),
        )
    body += (
        '<p class="note">审核未通过的儿童不会被拒绝入学，由所在区统筹安排（R-VER-4）。'
        "<br><small>A child who fails verification is still placed, by coordination (R-VER-4).</small></p>"
    )
    return _section("verification", body)


def _placement_section(
    season_data: Mapping[str, Any], p: Mapping[str, Any], font: ChartFont, charts: Path
) -> str:
    route_zh: Mapping[str, str] = p.get("route_zh") or _default_map("route")
    reason_zh: Mapping[str, str] = p.get("reason_zh") or _default_map("coordination")
    by_route: Mapping[str, int] = p.get("by_route") or {}
    by_reason: Mapping[str, int] = p.get("coordinated_by_reason") or {}
    distances = _distances(season_data, p)
    stats_in: Mapping[str, Any] = p.get("coordinated_distance_m") or {}
    stats = dict(stats_in)
    if distances:
        stats.setdefault("count", len(distances))
        stats.setdefault("median", distances[len(distances) // 2])
        stats.setdefault("p90", distances[int(len(distances) * 0.9)])
        stats.setdefault("max", distances[-1])
    children = _int(p.get("children"), sum(map(int, by_route.values())))
    body = _stats(
        [
            ("录取儿童", "children placed", children),
            ("统筹安排", "coordinated", _int(by_route.get("coordination"), _int(stats.get("count")))),
            ("距离中位数", "median distance", _metres(stats.get("median"))),
            ("最远", "farthest", _metres(stats.get("max"))),
        ]
    )
    if by_route:
        body += _figure_html(_route_chart(by_route, route_zh, font, charts))
        total = sum(int(n) for n in by_route.values()) or 1
        body += _table(
            "录取途径 · Routes of placement",
            ["途径 route", "代码 code", "人数 children", "占比 share"],
            (
                [_e(route_zh.get(r, r)), f"<code>{_e(r)}</code>", _int(n), f"{int(n) / total * 100:.1f}%"]
                for r, n in sorted(by_route.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(2, 3),
        )
    if distances:
        body += _figure_html(_distance_chart(distances, stats, font, charts))
    if by_reason or stats.get("count"):
        body += _table(
            "统筹安排原因 · Why children were coordinated (R-COORD-1)",
            ["原因 reason", "代码 code", "人数 children"],
            (
                [_e(reason_zh.get(r, r)), f"<code>{_e(r)}</code>", _int(n)]
                for r, n in sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(2,),
        )
        body += _table(
            "统筹安排距离 · Distance home → school of coordinated children",
            ["统计 statistic", "距离 distance"],
            [
                ["人数 count", _int(stats.get("count"))],
                ["中位数 median", _metres(stats.get("median"))],
                ["90%分位 p90", _metres(stats.get("p90"))],
                ["最远 max", _metres(stats.get("max"))],
            ],
            numeric=(1,),
        )
    return _section("placement", body)


def _default_map(which: str) -> Mapping[str, str]:
    """The project's own Chinese words, when the caller passed none (imported only then)."""
    try:
        if which == "verification":
            from enrollment.verification.verdicts import REASON_ZH as verdict_reasons

            return verdict_reasons
        if which == "route":
            from enrollment.placement.routes import ROUTE_ZH

            return ROUTE_ZH
        from enrollment.placement.routes import REASON_ZH

        return REASON_ZH
    except ImportError:
        return {}


CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f4f6f8; color: #1f2d3d;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; line-height: 1.6; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
header { border-bottom: 3px solid #c0392b; margin-bottom: 8px; }
h1 { font-size: 1.9rem; margin: 0.2em 0 0; }
h2 { font-size: 1.45rem; margin: 1.8em 0 0.6em; padding-bottom: 4px; border-bottom: 1px solid #d5dbe1; }
.en { display: block; font-size: 0.62em; font-weight: normal; color: #5d6d7e; }
header .en { font-size: 1.05rem; }
.meta { color: #5d6d7e; font-size: 0.9rem; }
nav ol { display: flex; flex-wrap: wrap; gap: 6px 22px; padding-left: 1.2em; margin: 10px 0; }
nav a { color: #1a5276; }
.stats { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 16px; }
.stat { flex: 1 1 180px; background: #f4f6f8; border-left: 4px solid #2e86c1; padding: 8px 12px; }
.stat .n { display: block; font-size: 1.6rem; font-weight: bold; }
.stat .l { color: #34495e; font-size: 0.9rem; }
small { color: #5d6d7e; }
figure { margin: 12px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid #e5e8eb; }
figcaption { font-size: 0.9rem; color: #5d6d7e; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 22px; font-size: 0.92rem; }
caption { text-align: left; font-weight: bold; padding: 4px 0 6px; }
th, td { border: 1px solid #d5dbe1; padding: 5px 8px; text-align: left; vertical-align: top; }
thead th { background: #eaf2f8; }
tbody th { font-weight: 600; min-width: 10em; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.tag { padding: 1px 8px; border-radius: 3px; color: #fff; white-space: nowrap; }
.tag.over { background: #c0392b; } .tag.near { background: #d35400; }
.note { background: #fef9e7; border-left: 4px solid #f1c40f; padding: 8px 12px; }
footer { margin-top: 36px; border-top: 1px solid #d5dbe1; color: #5d6d7e; font-size: 0.88rem; }
"""


def render(season_data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write `out_dir/report.html` and `out_dir/charts/*.png`; return the HTML's path."""
    import matplotlib

    out_dir = Path(out_dir)
    charts = out_dir / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    for stale in (
        "demand.png",
        "lotteries.png",
        "verification_reasons.png",
        "placement_routes.png",
        "coordinated_distance.png",
    ):
        (charts / stale).unlink(missing_ok=True)
    font = chart_font()
    names: Mapping[str, str] = season_data.get("district_names") or {}
    city, season = str(season_data.get("city") or ""), str(season_data.get("season") or "")
    sections: list[str] = []
    builders: list[tuple[str, Callable[[], str]]] = []
    demand = [d for d in season_data.get("demand") or [] if isinstance(d, Mapping)]
    if demand:
        builders.append(("demand", lambda: _demand_section(demand, names, font, charts)))
    lotteries = [Lottery.of(r) for r in season_data.get("lotteries") or [] if isinstance(r, Mapping)]
    if lotteries:
        builders.append(("lotteries", lambda: _lottery_section(lotteries, font, charts)))
    verification = season_data.get("verification")
    if isinstance(verification, Mapping) and verification:
        builders.append(("verification", lambda: _verification_section(verification, names, font, charts)))
    placement = season_data.get("placement")
    if isinstance(placement, Mapping) and placement:
        builders.append(("placement", lambda: _placement_section(season_data, placement, font, charts)))
    with matplotlib.rc_context(_rc(font)):
        for _key, build in builders:
            sections.append(build())
    year = re.search(r"(?:19|20)\d\d", season)
    title = f"{city}{year.group(0) + '年' if year else ''}义务教育招生入学情况报告"
    nav = "".join(f'<li><a href="#{key}">{_e(SECTIONS[key][0])}</a></li>' for key, _ in builders)
    content = "".join(sections) or '<p class="note">暂无数据 <small>No data yet.</small></p>'
    page = (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="en">Compulsory-education enrollment report{_e(" · " + season) if season else ""}'
        f"{_e(' · ' + city) if city else ''}</p>"
        f'<p class="meta">生成时间 Generated: {_e(season_data.get("generated_at") or "—")}</p></header>\n'
        f'<nav aria-label="目录 contents"><ol>{nav}</ol></nav>\n'
        f"{content}\n"
        "<footer><p>依据招生政策阳光公开（R-OPEN-1）：招生政策、流程和结果向社会公开，举报申诉有渠道、件件有回复。"
        "本页数据与图表由系统自动生成。<br><small>Published under R-OPEN-1 (openness): policies, steps and "
        "results are public; every complaint or appeal is answered. Generated automatically.</small></p></footer>\n"
        "</main>\n</body>\n</html>\n"
    )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
