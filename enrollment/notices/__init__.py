"""Admission notices (6 Jul): R-NOTE-1.

What a notice says, its verification code and its SMS (`notice`), the A4 page drawn with fpdf2
(`pdf`), and the workflow's tasks: the placed children in batches, each batch issued once
(`season`). Imports the phases before it only.
"""
