"""The season report (招生季报告, R-OPEN-1, R-WARN-1): one Chinese HTML page with its charts inline.

`data` is what the report computes from the season's numbers, `charts` draws them as inline SVG,
`page` writes the page (`page.render`), and `season` gathers the numbers from the sealed season and
writes the page beside the archive (`season.write_season_report`, the workflow's WriteSeasonReport
task; `enroll demo` downloads the same page). `report_key` is where it is, for the console's listing.
"""


def report_key(season: str) -> str:
    """Where the season's report is, in the archive bucket (beside the sealed archive, not in it)."""
    return f"reports/{season}/report.html"
