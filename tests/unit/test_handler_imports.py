"""Every Lambda handler imports with only the packages of its own layers (Lambda's 250 MB limit).

OR-Tools and numpy are in the solver layer, which only `place` gets, and fpdf2 with fontTools,
Pillow and defusedxml in the notice layer, which only `notify-batch` gets (infra/functions.py); the
dev-only packages (matplotlib, pandas, moto) are in no layer at all (openpyxl is in the
dependency layer every function gets: requirements/lambda.txt, for the exports). A handler importing
one of them would fail on its first invocation in AWS, while every local test passed.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from enrollment.core.resources import FUNCTIONS
from infra.functions import ACCESS

SOLVER = ("ortools", "numpy")
NOTICE = ("fpdf", "fontTools", "PIL", "defusedxml")  # requirements/notice.txt
DEV_ONLY = ("matplotlib", "pandas", "moto", "pypdf", "matching")


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.key)
def test_the_handler_imports_without_packages_its_layers_do_not_have(spec: object) -> None:
    key, handler = spec.key, spec.handler  # type: ignore[attr-defined]
    blocked = DEV_ONLY + (() if ACCESS[key].solver else SOLVER) + (() if ACCESS[key].notice else NOTICE)
    module = handler.rsplit(".", 1)[0]
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        f"import importlib; importlib.import_module({module!r})\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
