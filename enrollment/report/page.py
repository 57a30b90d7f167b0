"""The season report's page: one HTML file (R-OPEN-1 阳光公开; seat warnings R-WARN-1) and its charts.

`render(season_data, out_dir)` writes `out_dir/report.html` (Simplified Chinese with English subtitles)
and the PNG charts beside it in `out_dir/charts/` (drawn by `charts`), and returns the HTML's path.
`season_data` is as `data` describes it. The page is self-contained: inline CSS, no script, no web
font, no external address; charts are relative `<img src="charts/…png">` with alt text, and every
table has header cells. It is a local report for `enroll demo`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from enrollment.report import charts
from enrollment.report.data import (
    CASE_ZH,
    KIND_ZH,
    SCOPE_ZH,
    STATUS_ORDER,
    STATUS_ZH,
    WARNING_ZH,
    Lottery,
    as_int,
    coordinated_distances,
    default_words,
    demand_ratio,
    distance_stats,
    metres,
    pct,
    warned,
)

# Section id → (heading, English subtitle). The page shows only the sections it has data for.
SECTIONS: dict[str, tuple[str, str]] = {
    "demand": ("学位预警", "Seat warnings: demand against plan (R-WARN-1)"),
    "lotteries": ("民办学校招生与电脑派位", "Private schools: admissions and lotteries (R-LOT-1, R-LOT-2)"),
    "verification": ("信息审核结果", "Verification outcomes (R-VER-1 … R-VER-4)"),
    "placement": ("招生录取结果", "Placement: routes and coordination (R-COORD-1)"),
}


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


def _figure_html(chart: charts.Chart) -> str:
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
    rows: list[Mapping[str, Any]], names: Mapping[str, str], font: charts.ChartFont, chart_dir: Path
) -> str:
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
                as_int(d.get("grade")),
                as_int(d.get("plan")),
                as_int(d.get("applicants")),
                pct(demand_ratio(d)),
                f'<span class="tag {_e(d.get("warning"))}">{_e(WARNING_ZH[str(d.get("warning"))])}</span>',
            ]
            for d in warned(rows)
        ),
        numeric=(4, 5, 6, 7),
    )
    body = _stats(
        [
            ("学校/片区年级", "school and zone grades", len(rows)),
            ("超出计划", "over plan", over),
            ("接近计划", "near plan (≥ 90 %)", near),
            ("报名总数", "applicants counted", sum(as_int(d.get("applicants")) for d in rows)),
        ]
    )
    body += _figure_html(charts.demand_chart(rows, font, chart_dir)) + table
    return _section("demand", body)


def _lottery_section(lots: list[Lottery], font: charts.ChartFont, chart_dir: Path) -> str:
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
                pct(lot.odds),
                pct(lot.admission_rate),
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
    return _section("lotteries", body + _figure_html(charts.lottery_chart(lots, font, chart_dir)) + table)


def _verification_section(
    v: Mapping[str, Any], names: Mapping[str, str], font: charts.ChartFont, chart_dir: Path
) -> str:
    reason_zh: Mapping[str, str] = v.get("reason_zh") or default_words("verification")
    by_status: Mapping[str, int] = v.get("by_status") or {}
    by_reason: Mapping[str, int] = v.get("by_reason") or {}
    by_district: Mapping[str, Mapping[str, int]] = v.get("by_district") or {}
    stats = [("审核案件", "cases verified", as_int(v.get("verdicts"), sum(map(int, by_status.values()))))]
    stats += [(STATUS_ZH.get(s, s), s, as_int(by_status.get(s))) for s in STATUS_ORDER if s in by_status]
    if v.get("signed") is not None:
        stats.append(("区教育局签字", "signed by staff (R-VER-3)", as_int(v.get("signed"))))
    body = _stats(stats)
    if by_reason:
        body += _figure_html(charts.reason_chart(by_reason, reason_zh, font, chart_dir))
        body += _table(
            "审核原因 · Reasons (R-VER-1, R-VER-2)",
            ["原因 reason", "代码 code", "人数 children"],
            (
                [_e(reason_zh.get(r, r)), f"<code>{_e(r)}</code>", as_int(n)]
                for r, n in sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(2,),
        )
    if by_district:
        statuses = [*STATUS_ORDER, *sorted({s for c in by_district.values() for s in c} - set(STATUS_ORDER))]
        body += _table(
            "各区审核结果 · By district",
            ["区 district", *(f"{_e(STATUS_ZH.get(s, s))} {_e(s)}" for s in statuses)],
            ([_e(names.get(d, d)), *(as_int(c.get(s)) for s in statuses)] for d, c in by_district.items()),
            numeric=tuple(range(1, len(statuses) + 1)),
        )
    body += (
        '<p class="note">审核未通过的儿童不会被拒绝入学，由所在区统筹安排。'
        "<br><small>A child who fails verification is still placed, by coordination (R-VER-4).</small></p>"
    )
    return _section("verification", body)


def _placement_section(
    season_data: Mapping[str, Any], p: Mapping[str, Any], font: charts.ChartFont, chart_dir: Path
) -> str:
    route_zh: Mapping[str, str] = p.get("route_zh") or default_words("route")
    reason_zh: Mapping[str, str] = p.get("reason_zh") or default_words("coordination")
    by_route: Mapping[str, int] = p.get("by_route") or {}
    by_reason: Mapping[str, int] = p.get("coordinated_by_reason") or {}
    distances = coordinated_distances(season_data, p)
    stats = distance_stats(distances, p.get("coordinated_distance_m") or {})
    children = as_int(p.get("children"), sum(map(int, by_route.values())))
    body = _stats(
        [
            ("录取儿童", "children placed", children),
            ("统筹安排", "coordinated", as_int(by_route.get("coordination"), as_int(stats.get("count")))),
            ("距离中位数", "median distance", metres(stats.get("median"))),
            ("最远", "farthest", metres(stats.get("max"))),
        ]
    )
    if by_route:
        body += _figure_html(charts.route_chart(by_route, route_zh, font, chart_dir))
        total = sum(int(n) for n in by_route.values()) or 1
        body += _table(
            "录取途径 · Routes of placement",
            ["途径 route", "代码 code", "人数 children", "占比 share"],
            (
                [_e(route_zh.get(r, r)), f"<code>{_e(r)}</code>", as_int(n), f"{int(n) / total * 100:.1f}%"]
                for r, n in sorted(by_route.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(2, 3),
        )
    if distances:
        body += _figure_html(charts.distance_chart(distances, stats, font, chart_dir))
    if by_reason or stats.get("count"):
        body += _table(
            "统筹安排原因 · Why children were coordinated (R-COORD-1)",
            ["原因 reason", "代码 code", "人数 children"],
            (
                [_e(reason_zh.get(r, r)), f"<code>{_e(r)}</code>", as_int(n)]
                for r, n in sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(2,),
        )
        body += _table(
            "统筹安排距离 · Distance home → school of coordinated children",
            ["统计 statistic", "距离 distance"],
            [
                ["人数 count", as_int(stats.get("count"))],
                ["中位数 median", metres(stats.get("median"))],
                ["90%分位 p90", metres(stats.get("p90"))],
                ["最远 max", metres(stats.get("max"))],
            ],
            numeric=(1,),
        )
    return _section("placement", body)


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
    out_dir = Path(out_dir)
    chart_dir = out_dir / "charts"
    chart_dir.mkdir(parents=True, exist_ok=True)
    charts.clear(chart_dir)
    font = charts.chart_font()
    names: Mapping[str, str] = season_data.get("district_names") or {}
    city, season = str(season_data.get("city") or ""), str(season_data.get("season") or "")
    sections: list[str] = []
    builders: list[tuple[str, Callable[[], str]]] = []
    demand = [d for d in season_data.get("demand") or [] if isinstance(d, Mapping)]
    if demand:
        builders.append(("demand", lambda: _demand_section(demand, names, font, chart_dir)))
    lotteries = [Lottery.of(r) for r in season_data.get("lotteries") or [] if isinstance(r, Mapping)]
    if lotteries:
        builders.append(("lotteries", lambda: _lottery_section(lotteries, font, chart_dir)))
    verification = season_data.get("verification")
    if isinstance(verification, Mapping) and verification:
        builders.append(("verification", lambda: _verification_section(verification, names, font, chart_dir)))
    placement = season_data.get("placement")
    if isinstance(placement, Mapping) and placement:
        builders.append(("placement", lambda: _placement_section(season_data, placement, font, chart_dir)))
    with charts.drawing(font):
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
        "<footer><p>依据招生政策阳光公开：招生政策、流程和结果向社会公开，举报申诉有渠道、件件有回复。"
        "本页数据与图表由系统自动生成。<br><small>Published under R-OPEN-1 (openness): policies, steps and "
        "results are public; every complaint or appeal is answered. Generated automatically.</small></p></footer>\n"
        "</main>\n</body>\n</html>\n"
    )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
