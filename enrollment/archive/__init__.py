"""The season's signed archive and its audit: LOTTERY.md "The archive", R-OPEN-1, R-LOT-3.

The files, manifest and signature (`contract`), sealing the season and its sunshine-classes addition
(`seal`, R-CLASS-1), and the offline audit anyone can run (`audit`). Imports the phases before it
only.
"""
