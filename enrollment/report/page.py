"""The season report's page: one self-contained HTML file (R-OPEN-1 阳光公开; seat warnings R-WARN-1).

`render(season_data)` returns the page as text, `write(season_data, out_dir)` writes it as
`out_dir/report.html`; `season_data` is as `data` describes it. The page is for the public and the
bureau's staff, so it is Simplified Chinese only: no English, no rule ids, no internal codes (school
ids, reason or route codes). It holds everything itself: inline CSS, the charts as inline SVG
(`charts`), no script, no web font, no external address, so the one file can be stored, linked,
downloaded and opened anywhere. It reads on a phone (the viewport meta, a fluid layout, each table row
as a card of "label: value" lines from the cells' `data-label`, so nothing scrolls sideways; charts
drawn at a phone's width with no label under 12 px) and prints (`@media print`: no navigation,
tables as tables whose header repeats on each page, no row or figure split across pages).
A row with nothing in it (a private school nobody applied to, a reason or route nobody had, a
district with no verdict) is left out: the lottery section says how many schools had no applicant.
The same input gives the same bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from enrollment.registration.demand import KIND_ZH
from enrollment.report import charts
from enrollment.report.data import (
    CASE_ZH,
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
    word,
)

# Section id → heading. The page shows only the sections it has data for.
SECTIONS: dict[str, str] = {
    "demand": "报名与学位预警",
    "lotteries": "民办学校招生与电脑派位",
    "verification": "信息审核结果",
    "placement": "招生录取结果",
}


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _table(
    caption: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    head = "".join(
        f'<th scope="col"{" class=num" if i in numeric else ""}>{_e(h)}</th>' for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            label = f' data-label="{_e(headers[i])}"'  # a phone shows each row as a card of these
            if i == 0:
                cells.append(f'<th scope="row"{label}>{v}</th>')
            else:
                cells.append(f'<td class="num"{label}>{v}</td>' if i in numeric else f"<td{label}>{v}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}">无</td></tr>')
    return (
        f'<div class="table-wrap" role="region" tabindex="0" aria-label="{_e(caption)}">'
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _figure(chart: charts.Chart) -> str:
    legend = ""
    if chart.legend:
        items = "".join(
            f'<li><span class="swatch" style="background:{colour}"></span>{_e(words)}</li>'
            for colour, words in chart.legend
        )
        legend = f'<ul class="legend">{items}</ul>'
    return f"<figure>{chart.svg}{legend}<figcaption>{_e(chart.caption)}</figcaption></figure>"


def _stats(items: Sequence[tuple[str, Any]]) -> str:
    cells = "".join(
        f'<div class="stat"><span class="n">{_e(v)}</span><span class="l">{_e(label)}</span></div>'
        for label, v in items
    )
    return f'<div class="stats">{cells}</div>'


def _counted(counts: Mapping[str, Any]) -> dict[str, int]:
    """The counts that are not zero: a reason or route nobody had is not a row (nor a bar)."""
    return {k: as_int(n) for k, n in counts.items() if as_int(n) > 0}


def _section(key: str, body: str) -> str:
    return f'<section id="{key}"><h2>{_e(SECTIONS[key])}</h2>{body}</section>'


def _demand_section(rows: list[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    over = sum(1 for d in rows if d.get("warning") == "over")
    near = sum(1 for d in rows if d.get("warning") == "near")
    table = _table(
        "学位预警名单（报名人数接近或超出招生计划，提前向社会公布）",
        ["学校/片区", "范围", "所在区", "类型", "年级", "计划", "报名", "比例", "预警"],
        (
            [
                _e(d.get("name") or "（未命名）"),
                _e(SCOPE_ZH.get(str(d.get("scope")), "")),
                _e(names.get(str(d.get("district")), "")),
                _e(KIND_ZH.get(str(d.get("kind")), "")),
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
            ("学校和片区年级", len(rows)),
            ("超出计划", over),
            ("接近计划", near),
            ("报名人数", sum(as_int(d.get("applicants")) for d in rows)),
        ]
    )
    applied = any(as_int(d.get("applicants")) > 0 for d in rows)
    return _section("demand", body + (_figure(charts.demand_chart(rows)) if applied else "") + table)


def _lottery_section(lots: list[Lottery]) -> str:
    applied = [lot for lot in lots if lot.applicants > 0]  # a row of nothing but "0" and "—" says nothing
    rows = sorted(
        applied, key=lambda lot: (lot.case == "all-admitted", lot.odds or 0.0, lot.school_id, lot.grade)
    )
    table = _table(
        "民办学校招生结果（未超计划全部录取；超计划的本区优先、电脑派位）",
        ["学校", "年级", "计划", "报名", "本区报名", "结果", "派位名额", "参加派位", "中签率", "录取率"],
        (
            [
                _e(lot.school_name),
                lot.grade,
                lot.plan,
                lot.applicants,
                lot.own,
                _e(CASE_ZH.get(lot.case, "")),
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
            ("民办学校年级", len(lots)),
            ("电脑派位", sum(1 for lot in lots if lot.drawn)),
            ("报名", sum(lot.applicants for lot in lots)),
            ("录取", sum(lot.admitted for lot in lots)),
        ]
    )
    empty = len(lots) - len(applied)
    note = f'<p class="note">另有{empty}个民办学校年级无人报名，未列出。</p>' if empty else ""
    return _section("lotteries", body + _figure(charts.lottery_chart(lots)) + table + note)


def _verification_section(v: Mapping[str, Any], names: Mapping[str, str]) -> str:
    reason_zh: Mapping[str, str] = v.get("reason_zh") or default_words("verification")
    by_status: Mapping[str, int] = v.get("by_status") or {}
    by_reason = _counted(v.get("by_reason") or {})
    by_district = {
        d: c for d, c in (v.get("by_district") or {}).items() if any(as_int(n) for n in c.values())
    }
    stats: list[tuple[str, Any]] = [
        ("审核人数", as_int(v.get("verdicts"), sum(map(int, by_status.values()))))
    ]
    stats += [(STATUS_ZH[s], as_int(by_status.get(s))) for s in STATUS_ORDER if s in by_status]
    if v.get("signed") is not None:
        stats.append(("经区教育局人工签字", as_int(v.get("signed"))))
    body = _stats(stats)
    if by_reason:
        body += _figure(charts.reason_chart(by_reason, reason_zh))
        body += _table(
            "审核未通过或待复核的原因",
            ["原因", "人数"],
            (
                [_e(word(reason_zh, r)), as_int(n)]
                for r, n in sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(1,),
        )
    if by_district:
        statuses = [s for s in STATUS_ORDER if any(s in c for c in by_district.values()) or s in by_status]
        others = sorted({s for c in by_district.values() for s in c} - set(STATUS_ORDER))
        headers = ["区", *(STATUS_ZH[s] for s in statuses), *(["其他"] if others else [])]
        body += _table(
            "各区审核结果（人数）",
            headers,
            (
                [
                    _e(names.get(d, "（未知区）")),
                    *(as_int(c.get(s)) for s in statuses),
                    *([sum(as_int(c.get(s)) for s in others)] if others else []),
                ]
                for d, c in by_district.items()
            ),
            numeric=tuple(range(1, len(headers))),
        )
    body += '<p class="note">信息审核未通过的儿童不会被拒绝入学，由所在区统筹安排学校。</p>'
    return _section("verification", body)


def _placement_section(season_data: Mapping[str, Any], p: Mapping[str, Any]) -> str:
    route_zh: Mapping[str, str] = p.get("route_zh") or default_words("route")
    reason_zh: Mapping[str, str] = p.get("reason_zh") or default_words("coordination")
    by_route = _counted(p.get("by_route") or {})
    by_reason = _counted(p.get("coordinated_by_reason") or {})
    distances = coordinated_distances(season_data, p)
    stats = distance_stats(distances, p.get("coordinated_distance_m") or {})
    children = as_int(p.get("children"), sum(map(int, by_route.values())))
    body = _stats(
        [
            ("录取儿童", children),
            ("统筹安排", as_int(by_route.get("coordination"), as_int(stats.get("count")))),
            ("统筹安排距离中位数", metres(stats.get("median"))),
            ("统筹安排最远距离", metres(stats.get("max"))),
        ]
    )
    if by_route:
        body += _figure(charts.route_chart(by_route, route_zh))
        total = sum(int(n) for n in by_route.values()) or 1
        body += _table(
            "录取途径",
            ["途径", "人数", "占比"],
            (
                [_e(word(route_zh, r)), as_int(n), f"{int(n) / total * 100:.1f}%"]
                for r, n in sorted(by_route.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(1, 2),
        )
    if distances:
        body += _figure(charts.distance_chart(distances, stats))
    if by_reason or stats.get("count"):
        body += _table(
            "统筹安排的原因",
            ["原因", "人数"],
            (
                [_e(word(reason_zh, r)), as_int(n)]
                for r, n in sorted(by_reason.items(), key=lambda kv: (-int(kv[1]), kv[0]))
            ),
            numeric=(1,),
        )
        body += _table(
            "统筹安排儿童家到学校的距离",
            ["统计", "数值"],
            [
                ["人数", as_int(stats.get("count"))],
                ["中位数", metres(stats.get("median"))],
                ["90%分位", metres(stats.get("p90"))],
                ["最远", metres(stats.get("max"))],
            ],
            numeric=(1,),
        )
    return _section("placement", body)


CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: #1f2d3d; -webkit-text-size-adjust: 100%;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
  "WenQuanYi Micro Hei", sans-serif; line-height: 1.6; }
main { max-width: 1100px; margin: 0 auto; padding: 16px 16px 40px; background: #fff; }
header { border-bottom: 3px solid #c0392b; margin-bottom: 8px; }
h1 { font-size: 1.5rem; line-height: 1.35; margin: 0.3em 0; }
h2 { font-size: 1.25rem; margin: 1.6em 0 0.6em; padding-bottom: 4px; border-bottom: 1px solid #d5dbe1; }
.meta { color: #5d6d7e; font-size: 0.9rem; margin: 0 0 8px; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 20px; padding-left: 1.2em; margin: 10px 0; }
nav a { color: #1a5276; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 10px; margin: 12px 0 16px; }
.stat { background: #f4f6f8; border-left: 4px solid #2e86c1; padding: 8px 12px; }
.stat .n { display: block; font-size: 1.5rem; font-weight: bold; overflow-wrap: anywhere; }
.stat .l { color: #34495e; font-size: 0.9rem; }
figure { margin: 12px 0 20px; }
figure svg { display: block; width: 100%; max-width: 560px; height: auto; }
figcaption { font-size: 0.9rem; color: #5d6d7e; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; padding: 0; margin: 6px 0; font-size: 0.9rem; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.35em; vertical-align: -0.1em; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 8px 0 22px; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
caption { text-align: left; font-weight: bold; padding: 4px 0 6px; }
th, td { border: 1px solid #d5dbe1; padding: 5px 8px; text-align: left; vertical-align: top; }
thead th { background: #eaf2f8; white-space: nowrap; }
tbody th { font-weight: 600; min-width: 8em; }
td:not(.num) { min-width: 6em; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tag { padding: 1px 8px; border-radius: 3px; color: #fff; white-space: nowrap; }
.tag.over { background: #b03a2e; } .tag.near { background: #a04000; }  /* white on either: contrast ≥ 4.5 */
.note { background: #fef9e7; border-left: 4px solid #f1c40f; padding: 8px 12px; }
footer { margin-top: 36px; border-top: 1px solid #d5dbe1; color: #5d6d7e; font-size: 0.88rem; }
/* A phone: each row a card, the row's name on top, then one "label  value" line per cell; the
   column heads stay for screen readers only. Print keeps the tables (screen only). */
@media screen and (max-width: 599px) {
  .table-wrap { overflow: visible; }
  table, tbody, tr, th, td { display: block; width: auto; }
  table caption { display: block; }
  thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
    white-space: nowrap; }
  tbody tr { border: 1px solid #c5ced8; border-radius: 6px; margin: 0 0 10px; background: #fff; }
  tbody tr:nth-child(even) { background: #fff; }
  th, td { border: 0; }
  tbody th, td:not(.num) { min-width: 0; }
  tbody th { background: #eaf2f8; border-radius: 6px 6px 0 0; font-size: 1rem; padding: 6px 10px; }
  td { display: flex; justify-content: space-between; align-items: baseline; gap: 12px; padding: 5px 10px;
    border-top: 1px solid #e5e9ee; text-align: right; white-space: normal; overflow-wrap: anywhere; }
  td::before { content: attr(data-label); flex: 0 0 auto; max-width: 50%; text-align: left;
    font-size: 0.85rem; font-weight: 600; color: #34495e; }
  td[colspan] { justify-content: flex-start; }
}
@media (min-width: 700px) {
  main { padding: 24px 28px 48px; }
  h1 { font-size: 1.9rem; }
  h2 { font-size: 1.45rem; }
}
@media print {
  @page { size: A4; margin: 15mm 12mm; }
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .table-wrap { overflow: visible; }
  table { font-size: 9pt; }
  th, td { padding: 3px 4px; }
  tbody th { min-width: 0; width: 28%; }  /* long names wrap; short words keep a line */
  td:not(.num) { min-width: 3.6em; }
  thead { display: table-header-group; }
  tr, figure, .stats, .note { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section { break-before: auto; }
  figure svg { max-width: 95mm; }  /* the tallest chart (20 bars) with its caption fits one A4 page */
  a { color: inherit; text-decoration: none; }
}
"""


def _when(value: Any) -> str:
    """An ISO instant as 2023年7月6日 18:00 (as given when it is not one)."""
    if not value:
        return "—"
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"


def render(season_data: Mapping[str, Any]) -> str:
    """The report page as text (see the module docstring)."""
    names: Mapping[str, str] = season_data.get("district_names") or {}
    city, season = str(season_data.get("city") or ""), str(season_data.get("season") or "")
    builders: list[tuple[str, Callable[[], str]]] = []
    demand = [d for d in season_data.get("demand") or [] if isinstance(d, Mapping)]
    if demand:
        builders.append(("demand", lambda: _demand_section(demand, names)))
    lotteries = [Lottery.of(r) for r in season_data.get("lotteries") or [] if isinstance(r, Mapping)]
    if lotteries:
        builders.append(("lotteries", lambda: _lottery_section(lotteries)))
    verification = season_data.get("verification")
    if isinstance(verification, Mapping) and verification:
        builders.append(("verification", lambda: _verification_section(verification, names)))
    placement = season_data.get("placement")
    if isinstance(placement, Mapping) and placement:
        builders.append(("placement", lambda: _placement_section(season_data, placement)))
    sections = [build() for _key, build in builders]
    year = re.search(r"(?:19|20)\d\d", season)
    title = f"{city}{year.group(0) + '年' if year else ''}义务教育招生入学情况报告"
    nav = "".join(f'<li><a href="#{key}">{_e(SECTIONS[key])}</a></li>' for key, _ in builders)
    content = "".join(sections) or '<p class="note">暂无数据。</p>'
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="meta">数据截至：{_e(_when(season_data.get("generated_at")))}（招生结果签名封存时）</p></header>\n'
        f'<nav aria-label="目录"><ol>{nav}</ol></nav>\n'
        f"{content}\n"
        "<footer><p>依据招生政策阳光公开：招生政策、流程和结果向社会公开，举报申诉有渠道、件件有回复。"
        "本报告的数据与图表由招生系统根据签名封存的招生结果自动生成，不含任何儿童的个人信息。</p></footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def write(season_data: Mapping[str, Any], out_dir: Path) -> Path:
    """Write `out_dir/report.html`; return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(render(season_data), encoding="utf-8")
    return path
