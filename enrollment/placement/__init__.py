"""Placement (19-26 Jun): every registered child gets exactly one place.

The season's tie-break numbers (`tiebreak`: R-PUB-2), multi-school zones (`matching`: R-PUB-1,
R-PUB-2), coordination by distance (`coordination`: R-COORD-1), the whole placement with its staff
decisions and self-check (`place`: R-REG-2, R-PUB-3, R-LOT-5, R-DIS-1, R-DEFER-1, R-VER-3), and how
a place was decided as people read it (`routes`); the workflow's task, placing the season over its
stores and archive (`season`). Imports the phases before it only.
"""
