"""The season report's charts: inline SVG, drawn here as plain text (no plotting library).

Each chart function returns a `Chart`: the `<svg>` element the page puts inline, with its `<title>`
and `<desc>` (the alt text), and the caption and legend the page writes beside it in HTML.

Why not matplotlib: the report is written by a Lambda function, and matplotlib with its dependencies
(numpy, Pillow, fontTools, kiwisolver, contourpy, pyparsing, cycler) installs at 168 MB for
python3.12 manylinux; with the common layer (77 MB) and the code asset (25 MB) that is 270 MB, over
Lambda's 250 MB unzipped limit. The charts are bars and one histogram, which SVG says directly.

Drawn for a phone: the viewBox is `WIDTH` units wide, a little under a phone screen's CSS pixels
(390 px less the page's 16 px margins: 358 px), so the page shows it at a little over 1:1 there and
the smallest text (`SMALL` units) reads at 12 px or more; on a wide screen the page caps the chart's
width. Each bar's label sits on its own line above
the bar, so long school names need no margin. Text carries no font: it is written in the page's font
(the browser's Chinese sans-serif), so nothing is embedded and a phone renders every character. The
output depends only on its input: the same season gives the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from enrollment.report.data import (
    CASE_ZH,
    Lottery,
    as_int,
    demand_ratio,
    metres,
    pct,
    top_demand,
    word,
)

WIDTH = 350  # viewBox units: at most a 390 px phone's content width (358 px), so 1 unit ≥ 1 CSS px
FONT = 13  # label text, viewBox units (≥ CSS px on a phone)
SMALL = 12  # value text and axis ticks: the smallest text, 12 px at least on a phone
BAR_W = 236  # the longest bar; the value text goes to its right
ROW = 42  # one bar: its label line, then the bar
BAR_H = 15
LABEL_CHARS = 26  # a label longer than this (in characters, Chinese ones ≈ FONT wide) is cut with "…"
NEAR_SHARE = 0.9  # `demand.NEAR_FULL`: the line drawn at 90 % of plan
WARNING_COLOUR = {"over": "#c0392b", "near": "#d35400", None: "#2e86c1"}
CASE_COLOUR = {"all-admitted": "#27ae60", "draw-own-district": "#8e44ad", "draw-other-districts": "#16a085"}
ROUTE_COLOUR, COORDINATION_COLOUR = "#2e86c1", "#d35400"
TEXT, MUTED, GRID = "#1f2d3d", "#5d6d7e", "#34495e"


@dataclass(frozen=True)
class Chart:
    key: str  # unique on the page: the ids of the SVG's title and description derive from it
    svg: str
    caption: str
    legend: tuple[tuple[str, str], ...] = field(default=())  # (colour, words)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # in the chart's unit; drawn as value ÷ the chart's scale of BAR_W
    text: str  # written at the bar's end
    colour: str


@dataclass(frozen=True)
class Mark:
    value: float
    label: str
    dashed: bool = False


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(x: float) -> str:
    """A coordinate: at most one decimal, no trailing zero (the same input, the same bytes)."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg(key: str, height: float, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_num(height)}" role="img" '
        f'aria-labelledby="{key}-t {key}-d" font-size="{FONT}" fill="{TEXT}">'
        f'<title id="{key}-t">{_e(title)}</title><desc id="{key}-d">{_e(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def bars(
    key: str, title: str, desc: str, rows: Sequence[Bar], *, scale: float, marks: Sequence[Mark] = ()
) -> str:
    """Horizontal bars, first row on top: each row its label, then its bar and value text."""
    top = 22 if marks else 4
    height = top + ROW * max(len(rows), 1) + 4
    scale = scale if scale > 0 else 1.0
    body: list[str] = []
    for i, row in enumerate(rows):
        y = top + ROW * i
        w = max(0.0, min(row.value / scale, 1.0)) * BAR_W
        body.append(f'<text x="0" y="{_num(y + FONT)}">{_e(_short(row.label))}</text>')
        body.append(
            f'<rect x="0" y="{_num(y + FONT + 5)}" width="{_num(max(w, 1.5))}" height="{BAR_H}" '
            f'fill="{row.colour}"/>'
        )
        body.append(
            f'<text x="{_num(w + 5)}" y="{_num(y + FONT + 5 + BAR_H - 3)}" font-size="{SMALL}">'
            f"{_e(row.text)}</text>"
        )
    for mark in marks:
        x = min(mark.value / scale, 1.0) * BAR_W
        dash = ' stroke-dasharray="4 3"' if mark.dashed else ""
        body.append(
            f'<line x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" y2="{_num(height - 2)}" '
            f'stroke="{GRID}" stroke-width="1"{dash}/>'
        )
        # a dashed mark (90 %) writes its label to its left, a solid one (100 %) to its right
        anchor, dx = ("end", -2) if mark.dashed else ("start", 2)
        body.append(
            f'<text x="{_num(x + dx)}" y="{top - 8}" font-size="{SMALL}" text-anchor="{anchor}" '
            f'fill="{MUTED}">{_e(mark.label)}</text>'
        )
    return _svg(key, height, title, desc, body)


def histogram(key: str, title: str, desc: str, values_m: Sequence[int], marks: Sequence[Mark]) -> str:
    """Children by distance (km), in `bins` columns; `marks` (in metres) drawn as vertical lines."""
    left, right, top, bottom = 34, WIDTH - 8, 24, 200
    height = bottom + 40
    hi = max(values_m[-1], 1) if values_m else 1
    n = max(5, min(16, round(math.sqrt(len(values_m))) + 3))
    step = _nice_step(hi / 1000 / n) * 1000  # metres per column, a round number of km
    cols = max(1, math.ceil((hi + 1) / step))
    counts = [0] * cols
    for v in values_m:
        counts[min(int(v // step), cols - 1)] += 1
    peak = max(counts) or 1
    span = cols * step
    plot_w, plot_h = right - left, bottom - top

    def x_of(metres_: float) -> float:
        return left + metres_ / span * plot_w

    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{GRID}" stroke-width="1"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="{SMALL}" text-anchor="end" fill="{MUTED}">{peak}</text>',
        f'<text x="{left - 4}" y="{bottom}" font-size="{SMALL}" text-anchor="end" fill="{MUTED}">0</text>',
        f'<text x="{left}" y="{top - 10}" font-size="{SMALL}" fill="{MUTED}">人数</text>',
    ]
    for i, c in enumerate(counts):
        h = c / peak * plot_h
        x0 = x_of(i * step)
        body.append(
            f'<rect x="{_num(x0 + 0.5)}" y="{_num(bottom - h)}" width="{_num(max(plot_w / cols - 1, 0.5))}" '
            f'height="{_num(h)}" fill="{ROUTE_COLOUR}"/>'
        )
    ticks = max(1, math.ceil(cols / 6))
    for i in range(0, cols + 1, ticks):
        x = x_of(i * step)
        body.append(
            f'<text x="{_num(x)}" y="{bottom + 16}" font-size="{SMALL}" text-anchor="middle">'
            f"{_e(_km(i * step))}</text>"
        )
    body.append(
        f'<text x="{(left + right) // 2}" y="{bottom + 34}" text-anchor="middle" fill="{MUTED}" '
        f'font-size="{SMALL}">家到学校的直线距离（公里）</text>'
    )
    for j, mark in enumerate(marks):
        x = x_of(mark.value)
        dash = ' stroke-dasharray="4 3"' if mark.dashed else ""
        body.append(
            f'<line x1="{_num(x)}" y1="{top}" x2="{_num(x)}" y2="{bottom}" stroke="#c0392b" '
            f'stroke-width="1.5"{dash}/>'
        )
        anchor = "end" if x > (left + right) / 2 else "start"
        dx = -3 if anchor == "end" else 3
        body.append(
            f'<text x="{_num(x + dx)}" y="{top + 12 + 14 * j}" font-size="{SMALL}" fill="#c0392b" '
            f'text-anchor="{anchor}" stroke="#fff" stroke-width="3" paint-order="stroke">'
            f"{_e(mark.label)}</text>"
        )
    return _svg(key, height, title, desc, body)


def _nice_step(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at least `x` (at least 0.1 km)."""
    x = max(x, 0.1)
    k = 10.0 ** math.floor(math.log10(x))
    return float(next(m * k for m in (1, 2, 2.5, 5, 10) if m * k >= x - 1e-12))


def _km(m: float) -> str:
    return _num(m / 1000)


# --- the report's charts ---------------------------------------------------------------------------


def demand_chart(rows: list[Mapping[str, Any]]) -> Chart:
    ranked = top_demand(d for d in rows if as_int(d.get("applicants")) > 0)  # no bar of "0/40人 0%"
    ratios = [demand_ratio(d) for d in ranked]
    finite = [r for r in ratios if not math.isinf(r)]
    scale = max([*finite, 1.0]) * 1.05
    drawn = [
        Bar(
            f"{d.get('name') or '（未命名）'}（{as_int(d.get('grade'))}年级）",
            scale if math.isinf(r) else r,
            "无招生计划"
            if math.isinf(r)
            else f"{as_int(d.get('applicants'))}/{as_int(d.get('plan'))}人 {r * 100:.0f}%",
            WARNING_COLOUR.get(d.get("warning"), WARNING_COLOUR[None]),
        )
        for d, r in zip(ranked, ratios, strict=True)
    ]
    over = sum(1 for d in ranked if d.get("warning") == "over")
    near = sum(1 for d in ranked if d.get("warning") == "near")
    top = ranked[0] if ranked else {}
    title = f"报名与计划之比最高的{len(ranked)}个学校或片区"
    desc = (
        f"横向条形图：{title}，其中{over}个超出计划、{near}个接近计划；最高为{top.get('name', '')}"
        f"（{as_int(top.get('grade'))}年级），{as_int(top.get('applicants'))}人报名、计划{as_int(top.get('plan'))}人。"
    )
    return Chart(
        "chart-demand",
        bars(
            "chart-demand",
            title,
            desc,
            drawn,
            scale=scale,
            marks=(Mark(1.0, "100%"), Mark(NEAR_SHARE, "90%", dashed=True)),
        ),
        f"{title}：报名人数占招生计划的比例（实线为100%，虚线为90%预警线）。",
        (
            (WARNING_COLOUR["over"], "超出计划"),
            (WARNING_COLOUR["near"], "接近计划（90%及以上）"),
            (WARNING_COLOUR[None], "未满"),
        ),
    )


def lottery_chart(lots: list[Lottery]) -> Chart:
    ordered = sorted(  # a school nobody applied to has no odds: it is in the table, not the chart
        (lot for lot in lots if lot.applicants > 0),
        key=lambda lot: (lot.odds if lot.odds is not None else 1.0, lot.school_id, lot.grade),
    )
    drawn = [
        Bar(
            f"{lot.school_name}（{lot.grade}年级）",
            lot.odds or 0.0,
            f"{lot.seats}/{lot.pool}人 {pct(lot.odds)}"
            if lot.drawn
            else f"{lot.admitted}/{lot.applicants}人 {pct(lot.odds)}",
            CASE_COLOUR.get(lot.case, "#7f8c8d"),
        )
        for lot in ordered
    ]
    draws = [lot for lot in ordered if lot.drawn]
    lowest = min(draws, key=lambda lot: lot.odds or 0.0) if draws else None
    worst = (
        f"中签率最低的是{lowest.school_name}{lowest.grade}年级，{lowest.pool}人争{lowest.seats}个名额"
        f"（{pct(lowest.odds)}）。"
        if lowest
        else "没有学校需要派位。"
    )
    title = "民办学校录取机会：派位中签率"
    present = [c for c in CASE_ZH if any(lot.case == c for lot in ordered)]
    return Chart(
        "chart-lotteries",
        bars(
            "chart-lotteries",
            title,
            f"横向条形图：有人报名的{len(ordered)}个民办学校年级的录取机会，其中{len(draws)}个举行电脑派位。{worst}",
            drawn,
            scale=1.0,
            marks=(Mark(1.0, "100%"),),
        ),
        f"{title}：未超计划的学校全部录取（100%）；派位学校为名额 ÷ 参加派位人数。",
        tuple((CASE_COLOUR[c], CASE_ZH[c]) for c in present),
    )


def reason_chart(by_reason: Mapping[str, int], reason_zh: Mapping[str, str]) -> Chart:
    items = sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    top = max([int(n) for _, n in items] or [1])
    title = "审核未通过或待复核的原因"
    first = items[0] if items else ("", 0)
    return Chart(
        "chart-reasons",
        bars(
            "chart-reasons",
            title,
            f"横向条形图：{title}，共{len(items)}类；最多的是“{word(reason_zh, first[0])}”，{first[1]}人。",
            [Bar(word(reason_zh, r), int(n), f"{int(n)}人", "#c0392b") for r, n in items],
            scale=top * 1.02,
        ),
        f"{title}（一名儿童可有多个原因）。",
    )


def route_chart(by_route: Mapping[str, int], route_zh: Mapping[str, str]) -> Chart:
    items = sorted(by_route.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    total = sum(int(n) for _, n in items) or 1
    top = max([int(n) for _, n in items] or [1])
    title = "录取途径"
    first = items[0] if items else ("", 0)
    return Chart(
        "chart-routes",
        bars(
            "chart-routes",
            title,
            f"横向条形图：{total}名儿童按录取途径分布，共{len(items)}种途径；最多的是"
            f"“{word(route_zh, first[0])}”，{first[1]}人。",
            [
                Bar(
                    word(route_zh, r),
                    int(n),
                    f"{int(n)}人（{int(n) / total * 100:.1f}%）",
                    COORDINATION_COLOUR if r == "coordination" else ROUTE_COLOUR,
                )
                for r, n in items
            ],
            scale=top * 1.02,
        ),
        f"{title}：每名儿童只录取一次。",
        ((ROUTE_COLOUR, "按政策录取"), (COORDINATION_COLOUR, "统筹安排")),
    )


def distance_chart(distances: list[int], stats: Mapping[str, Any]) -> Chart:
    median = stats.get("median", distances[len(distances) // 2])
    p90 = stats.get("p90", distances[int(len(distances) * 0.9)])
    marks = [
        Mark(int(v), f"{zh} {metres(v)}", dashed)
        for v, zh, dashed in ((median, "中位数", False), (p90, "90%分位", True))
        if v is not None
    ]
    title = "统筹安排儿童的就学距离"
    return Chart(
        "chart-distance",
        histogram(
            "chart-distance",
            title,
            f"直方图：{len(distances)}名统筹安排儿童家到学校的距离，中位数{metres(median)}，"
            f"90%分位{metres(p90)}，最远{metres(distances[-1])}。",
            distances,
            marks,
        ),
        f"{title}：统筹安排相对就近（实线为中位数，虚线为90%分位）。",
    )
