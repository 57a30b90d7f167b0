"""Admission notices (6 Jul): R-NOTE-1.

The notice a family prints and its SMS (`notice`), and issuing one per placed child, once
(`phase`). Imports the phases before it only.
"""
