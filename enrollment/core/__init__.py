"""The season's common ground: what every phase needs and none owns.

The season config and its calendar (`config`), the phases and their gates (`phases`, `gates`),
resident ID numbers (`idcard`, R-ID-1), the clock, who a staff caller is and what a district may see
(`staff`, R-DATA-2), the resource names shared with the CDK stack (`resources`), and the ports and
errors shared by several phases (`ports`). Imports nothing else of the package.
"""
