"""No full-table reads in season code (issue 14): every read is a key lookup, a batch of them, a
one-partition query or an index query with a key condition, never a DynamoDB `Scan`.

Read from the code itself (every module under `enrollment/` and `functions/`): a `.scan` or
`.parallel_scan` attribute, called or passed on (`pages(table.scan)`), and the operation fetched by
its name (`get_paginator("scan")`, `_make_api_call("Scan", …)`, `getattr(table, "scan")`). A local
engine may define `scan` (it serves the table's interface) and a price list may name it. Injected
scans show that each form is caught.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("enrollment", "functions")
SCAN_ATTRIBUTES = frozenset({"scan", "parallel_scan"})
SCAN_NAMES = frozenset({"scan", "Scan", "parallel_scan"})
# Calls that make or fetch an operation named by a string.
BY_NAME = frozenset({"get_paginator", "_make_api_call", "getattr", "attrgetter", "methodcaller"})
# Modules allowed a scan, with the reason. Empty: the local demo's own reports query too.
ALLOWED: dict[str, str] = {}


def modules() -> Iterator[tuple[str, Path]]:
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path


def _called(func: ast.expr) -> str:
    """The name a call calls: `get_paginator` for `client.get_paginator(…)`, `getattr` for `getattr(…)`."""
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def scans(source: str) -> list[str]:
    """Each scan in `source` as `line: what`. Defining a `scan` (a local engine serving the table's
    interface) or naming the operation elsewhere (a price list) is not making one."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in SCAN_ATTRIBUTES:
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and _called(node.func) in BY_NAME:
            for arg in node.args:
                if isinstance(arg, ast.Constant) and arg.value in SCAN_NAMES:
                    found.append(f"{node.lineno}: {_called(node.func)}({arg.value!r})")
    return sorted(found)


def test_no_module_scans_a_table() -> None:
    found = {
        name: hits
        for name, path in modules()
        if name not in ALLOWED and (hits := scans(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_allow_list_names_only_modules_that_scan() -> None:
    sources = dict(modules())
    for name in ALLOWED:
        assert name in sources and scans(sources[name].read_text(encoding="utf-8")), name


def test_the_sources_are_read() -> None:
    names = {name for name, _ in modules()}
    assert {
        "enrollment/adapters/table.py",
        "functions/verify/batch.py",
        "enrollment/local/season.py",
    } <= names


@pytest.mark.parametrize(
    "injected",
    [
        "items = table.scan()['Items']",
        "items = boto3.resource('dynamodb').Table(name).scan(Limit=10)",
        "items = list(pages(self.table.scan, FilterExpression=f))",
        "pager = client.get_paginator('scan')",
        "answer = client._make_api_call('Scan', {'TableName': name})",
        "items = getattr(table, 'scan')()",
        "parts = table.parallel_scan(Segment=0, TotalSegments=4)",
    ],
)
def test_an_injected_scan_is_caught(injected: str) -> None:
    clean = (ROOT / "enrollment/local/season.py").read_text(encoding="utf-8")
    assert scans(clean) == []
    assert scans(clean + f"\n\ndef injected(table, client, name, f, self, pages, boto3):\n    {injected}\n")


def test_queries_an_engines_own_scan_and_the_word_in_prose_are_not_scans() -> None:
    source = '''
LATENCY = {("dynamodb", "Query"): 0.02, ("dynamodb", "Scan"): 0.05}


class Table:
    def scan(self, **kwargs):
        with self.engine.request("Scan"):
            return self.rows(kwargs)


def read(table):
    """Never a scan: one partition."""
    return table.query(KeyConditionExpression=key)["Items"], "a full scan would be slow"
'''
    assert scans(source) == []
