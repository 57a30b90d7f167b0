"""Results out, where they go next (issue 15): the season's lists as spreadsheets (docs/EXPORTS.md).

`sheets` holds what an export is (named sheets of rows) and writes it as `.xlsx` (openpyxl) or as a
GB18030 `.csv`; `lists` builds each export from the stores' records through the ports in `ports`,
checks who may take it and records each download (who, role, district, what, when).
"""
