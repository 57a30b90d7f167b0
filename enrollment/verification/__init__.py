"""Verification (30 May - 16 Jun, spot-check to 5 Jul): the agencies' answers and the verdicts.

What the agencies know (`registries`), asking them and judging their answers (`checks`: R-VER-1,
R-VER-2, R-MIG-1, R-PRIO-1, R-LOT-2's own-district fact), the records (`verdicts`), the workflow's
tasks: batches, agency checks, home visits, the final record and the spot-check draw (`season`),
the districts' review (`review`: R-VER-3, R-VER-4) and the city's spot-check (`spotcheck`: R-VER-5).
Imports `core` and `registration` only.
"""
