"""The season report (招生入学情况报告, R-OPEN-1, R-WARN-1): one HTML page and its charts.

Reads the season's outcome; nothing imports it but the command line. `data` is what the report
computes from the season's data, `charts` finds a font that writes Chinese and draws the PNG charts,
and `page` writes the HTML page with them (`page.render`).
"""
