"""The people around the season: families, staff and what each may read (R-DATA-2, R-OPEN-1).

Parents' one-time codes and sessions (`parents`), what a family reads of its verification
(`family`), complaints and appeals (`complaints`: R-OPEN-1), staff sign-in tokens (`access`) and the
staff console's reads (`console`). May import every phase, none of which imports it.
"""
