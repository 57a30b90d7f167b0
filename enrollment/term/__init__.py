"""Reporting day (8 Jul) and sunshine classes (a week before term): R-NOTE-1, R-CLASS-1.

Arrivals and no-shows (`reporting`) and the balanced random classes, a signed addition to the
archive (`classes`). Imports the phases before it only.
"""
