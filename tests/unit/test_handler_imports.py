"""Every Lambda handler imports with only the packages of its own layers (Lambda's 250 MB limit).

OR-Tools and numpy are in the solver layer, which only `place` gets, and fpdf2 with fontTools,
Pillow and defusedxml in the notice layer, which only `notify-batch` gets (infra/functions.py); the
dev-only packages (matplotlib, pandas, moto) are in no layer at all (openpyxl is in the
dependency layer every function gets: requirements/lambda.txt, for the exports). A handler importing
one of them would fail on its first invocation in AWS, while every local test passed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from enrollment.core.resources import FUNCTIONS
from infra.functions import ACCESS

SOLVER = ("ortools", "numpy")
NOTICE = ("fpdf", "fontTools", "PIL", "defusedxml")  # requirements/notice.txt
# one worker runs the module: the fixture below checks every handler at once
pytestmark = pytest.mark.xdist_group("handler-imports")

DEV_ONLY = ("matplotlib", "pandas", "moto", "pypdf", "matching")


# What most handlers import first. One interpreter imports these once with every package above
# blocked (so none of them needs one), then forks a child per handler that blocks only what that
# handler's layers lack and imports the handler: each handler's import is checked as in a fresh
# interpreter, without paying ~1 CPU-second a handler for the shared imports. A shared module that
# fails to import so is forgotten again, and each child imports it for itself.
SHARED = (
    "pydantic",
    "aws_lambda_powertools.utilities.typing",
    "aws_lambda_powertools.event_handler",
    "enrollment.core.clock",
    "enrollment.adapters.observability",
    "enrollment.adapters.wiring",
    "functions.events",
)
CHECK = """
import importlib, json, os, sys, traceback
cases, shared = json.loads(sys.argv[1]), json.loads(sys.argv[2])
every = sorted({name for _, _, blocked in cases for name in blocked})
for name in every:
    sys.modules[name] = None
for module in shared:
    before = set(sys.modules)
    try:
        importlib.import_module(module)
    except Exception:
        for name in set(sys.modules) - before:
            del sys.modules[name]
results = {}
for key, module, blocked in cases:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        for name in every:
            if name not in blocked:
                del sys.modules[name]
        try:
            importlib.import_module(module)
            code, err = 0, b""
        except BaseException:
            code, err = 1, traceback.format_exc().encode()
        with os.fdopen(write, "wb") as out:
            out.write(err)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as got:
        err = got.read()
    results[key] = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), err.decode()]
print(json.dumps(results))
"""


def blocked_for(key: str) -> tuple[str, ...]:
    return DEV_ONLY + (() if ACCESS[key].solver else SOLVER) + (() if ACCESS[key].notice else NOTICE)


@pytest.fixture(scope="module")
def imports() -> dict[str, list[Any]]:
    """Each handler's import (exit code, traceback) with only its layers' packages."""
    cases = [[s.key, s.handler.rsplit(".", 1)[0], blocked_for(s.key)] for s in FUNCTIONS]
    run = subprocess.run(
        [sys.executable, "-c", CHECK, json.dumps(cases), json.dumps(SHARED)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results: dict[str, list[Any]] = json.loads(run.stdout)
    return results


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.key)
def test_the_handler_imports_without_packages_its_layers_do_not_have(
    spec: object, imports: dict[str, list[Any]]
) -> None:
    code, err = imports[spec.key]  # type: ignore[attr-defined]
    assert code == 0, err[-2000:]
