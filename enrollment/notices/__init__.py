"""Admission notices (6 Jul): R-NOTE-1.

The notice a family prints and its SMS (`notice`), issuing one per placed child, once (`phase`),
and the workflow's tasks around it (`season`). Imports the phases before it only.
"""
