"""The season report's charts: a font that writes Chinese, and the PNGs the page shows.

Each chart function draws one PNG into the report's `charts/` folder and returns a `Chart` (its
relative file, alt text and caption) for the page to show. matplotlib (a development dependency,
never shipped to Lambda) is imported lazily inside the functions that draw, on its Agg canvas, and
nothing here changes matplotlib's global settings: the charts are drawn inside `drawing(font)`.

Chinese in the charts: the first CJK font found is registered with matplotlib's font manager — from
`fc-list :lang=zh` (Noto Sans CJK SC preferred, package `fonts-noto-cjk` on Debian), then the usual
font folders, then the project's bundled `fonts/notice-serif.ttf` (GB 2312). A label the chosen font
cannot draw completely is drawn in English instead, so a chart never shows a missing-glyph box.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from enrollment.report.data import (
    CASE_EN,
    CASE_ZH,
    Lottery,
    as_int,
    demand_ratio,
    metres,
    pct,
    top_demand,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

BUNDLED_FONT = Path(__file__).resolve().parents[1] / "fonts" / "notice-serif.ttf"
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
NEAR_SHARE = 0.9  # `demand.NEAR_FULL`: the line drawn at 90 % of plan
# Every chart's file in `charts/`: a render removes them first, so a section now missing leaves none.
CHART_FILES = (
    "demand.png",
    "lotteries.png",
    "verification_reasons.png",
    "placement_routes.png",
    "coordinated_distance.png",
)
WARNING_COLOUR = {"over": "#c0392b", "near": "#e67e22", None: "#2e86c1"}
CASE_COLOUR = {"all-admitted": "#27ae60", "draw-own-district": "#8e44ad", "draw-other-districts": "#16a085"}


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


@contextmanager
def drawing(font: ChartFont) -> Iterator[None]:
    """matplotlib's settings for the charts, for the charts drawn inside (the global ones untouched)."""
    import matplotlib

    with matplotlib.rc_context(_rc(font)):
        yield


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


def _save(fig: Figure, chart_dir: Path, name: str) -> str:
    fig.savefig(chart_dir / name, format="png", facecolor="white")
    return f"charts/{name}"


def _hbar_height(n: int) -> float:
    return 1.6 + 0.42 * max(n, 1)


def _short(text: str, n: int = 18) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def clear(chart_dir: Path) -> None:
    """Remove the charts an earlier render left in `chart_dir`."""
    for name in CHART_FILES:
        (chart_dir / name).unlink(missing_ok=True)


def demand_chart(rows: list[Mapping[str, Any]], font: ChartFont, chart_dir: Path) -> Chart:
    from matplotlib.patches import Patch

    ranked = top_demand(rows)
    ranked.reverse()  # barh draws bottom-up: the highest ratio on top
    ratios = [demand_ratio(d) for d in ranked]
    finite = [r for r in ratios if not math.isinf(r)]
    cap = max([*finite, 1.0]) * 1.15
    shown = [cap if math.isinf(r) else r for r in ratios]
    labels = [
        font.label(
            f"{_short(str(d.get('name') or d.get('id')))}（{as_int(d.get('grade'))}年级）",
            f"{d.get('id')} grade {as_int(d.get('grade'))}",
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
            else f"{as_int(d.get('applicants'))}/{as_int(d.get('plan'))}  {r * 100:.0f}%"
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
    file = _save(fig, chart_dir, "demand.png")
    top = ranked[-1] if ranked else {}
    return Chart(
        file,
        f"横向条形图：报名人数与招生计划之比最高的{len(ranked)}个学校或片区，其中{over}个超出计划（红色）、"
        f"{near}个接近计划（橙色）；最高为{top.get('name', '')}，{as_int(top.get('applicants'))}人报名、"
        f"计划{as_int(top.get('plan'))}人。",
        "报名人数占招生计划的比例（实线为100%，虚线为90%预警线） · applicants as a share of plan "
        "(solid line 100 %, dashed 90 % warning line)",
    )


def lottery_chart(lots: list[Lottery], font: ChartFont, chart_dir: Path) -> Chart:
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
            f"{lot.seats}/{lot.pool}  {pct(lot.odds)}"
            if lot.drawn
            else f"{lot.admitted}/{lot.applicants}  {pct(lot.odds)}"
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
        f"中签率最低的是{lowest.school_name}{lowest.grade}年级，{lowest.pool}人争{lowest.seats}个名额（{pct(lowest.odds)}）。"
        if lowest
        else "没有学校需要派位。"
    )
    return Chart(
        _save(fig, chart_dir, "lotteries.png"),
        f"横向条形图：{len(ordered)}个民办学校年级的派位中签率，其中{len(draws)}个举行电脑派位。{worst}",
        "未超计划的学校全部录取（100%）；派位学校为名额 ÷ 参加派位人数 · schools within plan admit everyone; "
        "for a draw, seats ÷ children in the draw",
    )


def reason_chart(
    by_reason: Mapping[str, int], reason_zh: Mapping[str, str], font: ChartFont, chart_dir: Path
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
        _save(fig, chart_dir, "verification_reasons.png"),
        f"横向条形图：信息审核未通过或待复核的{len(items)}类原因及人数；最多的是"
        f"“{reason_zh.get(first[0], first[0])}”，{first[1]}人。",
        "一名儿童可有多个原因 · a child may have more than one reason",
    )


def route_chart(
    by_route: Mapping[str, int], route_zh: Mapping[str, str], font: ChartFont, chart_dir: Path
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
        _save(fig, chart_dir, "placement_routes.png"),
        f"横向条形图：{total}名儿童按录取途径分布，{len(items)}种途径；最多的是"
        f"“{route_zh.get(first[0], first[0])}”，{first[1]}人；统筹安排以橙色标出。",
        "每名儿童只录取一次 · every child is placed exactly once",
    )


def distance_chart(distances: list[int], stats: Mapping[str, Any], font: ChartFont, chart_dir: Path) -> Chart:
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
        _save(fig, chart_dir, "coordinated_distance.png"),
        f"直方图：{len(distances)}名统筹安排儿童家到学校的距离，中位数{metres(median)}，"
        f"90%分位{metres(p90)}，最远{metres(distances[-1])}。",
        "统筹安排相对就近 · coordination places children relatively near home",
    )
