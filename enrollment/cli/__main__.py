"""`python -m enrollment.cli`: the same as `enroll`."""

from enrollment.cli import main

raise SystemExit(main())
