"""The domain package is laid out as the season runs (docs/ARCHITECTURE.md).

Read from the code's own imports (every `import` and `from … import` anywhere in a module, inside
functions and `TYPE_CHECKING` blocks too), not from a list of file names:

- a phase never imports a later one (registration never imports placement);
- the domain never imports the edges (`adapters`, `local`, `synth`, `cli`), boto3 or botocore, and
  never reads the process environment;
- no DynamoDB key or index attribute is spelled outside `adapters/` (and the local runtime, which
  creates the table);
- `enrollment/` keeps at most four modules at its top level.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "enrollment"

# The domain's rooms in season order: a room may import itself and the rooms before it.
DOMAIN = (
    "core",
    "registration",
    "verification",
    "lottery",
    "placement",
    "corrections",  # after the results: re-placed by placement's rules, sealed and audited by archive
    "notices",
    "term",
    "archive",
    "people",
    "report",
    "exports",
)
# The edges, each of which may import the whole domain and the edges listed for it.
EDGES: Mapping[str, frozenset[str]] = {
    "adapters": frozenset(),
    "synth": frozenset(),
    "local": frozenset({"adapters", "synth"}),
    "cli": frozenset({"adapters", "synth", "local"}),
}
FORBIDDEN_IN_DOMAIN = ("boto3", "botocore")
TABLE_KEYS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"})
KEYS_ALLOWED = ("adapters", "local")


def room(module: str) -> str | None:
    """`enrollment.lottery.draw` → `lottery`; None for a module outside the package's rooms."""
    parts = module.split(".")
    if parts[0] != "enrollment" or len(parts) < 2:
        return None
    return parts[1]


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield ".".join(parts), path


def imports(module: str, tree: ast.AST) -> Iterator[str]:
    package = module if module.count(".") == 0 else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from enrollment import lottery` imports the room `lottery`
            if base == "enrollment":
                yield from (f"enrollment.{alias.name}" for alias in node.names)


@cache
def _parsed_graph() -> dict[str, frozenset[str]]:
    """The package's import graph, parsed once a session (six tests read it; each parse ~1 CPU-s)."""
    return {m: frozenset(imports(m, ast.parse(p.read_text(encoding="utf-8")))) for m, p in modules()}


def graph() -> dict[str, set[str]]:
    """A fresh copy: a test may add an edge to it."""
    return {m: set(targets) for m, targets in _parsed_graph().items()}


def violations(edges: Mapping[str, set[str]]) -> list[str]:
    """Every import that points against the season's order, or from the domain to an edge."""
    found = []
    for module, targets in sorted(edges.items()):
        source = room(module)
        if source is None or (source not in DOMAIN and source not in EDGES):
            continue
        for target in sorted(targets):
            if source in DOMAIN and target.split(".")[0] in FORBIDDEN_IN_DOMAIN:
                found.append(f"{module} imports {target}: the domain never calls AWS")
            dest = room(target)
            if dest is None or dest == source or (dest not in DOMAIN and dest not in EDGES):
                continue
            if source in DOMAIN:
                if dest in EDGES:
                    found.append(f"{module} imports {target}: the domain never imports the edges")
                elif DOMAIN.index(dest) > DOMAIN.index(source):
                    found.append(f"{module} imports {target}: {source} comes before {dest} in the season")
            elif dest in EDGES and dest not in EDGES[source]:
                found.append(f"{module} imports {target}: {source} may not import {dest}")
    return found


def test_every_room_is_known_and_opens_with_its_docstring() -> None:
    rooms = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert rooms == set(DOMAIN) | set(EDGES)
    for name in rooms:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) >= 2, f"enrollment/{name}/__init__.py says what it owns"


def test_imports_follow_the_season() -> None:
    assert violations(graph()) == []


@pytest.mark.parametrize(
    ("module", "target"),
    [
        ("enrollment.registration.registrar", "enrollment.placement.place"),
        ("enrollment.core.config", "enrollment.registration"),
        ("enrollment.lottery.draw", "enrollment.adapters.dynamodb"),
        ("enrollment.people.parents", "boto3"),
        ("enrollment.adapters.wiring", "enrollment.local.runtime"),
    ],
)
def test_an_upward_import_is_caught(module: str, target: str) -> None:
    edges = graph()
    edges[module] = {*edges[module], target}
    assert [v for v in violations(edges) if v.startswith(f"{module} imports {target}")]


def test_the_relative_and_package_forms_are_read() -> None:
    tree = ast.parse("from ..placement import place\nfrom enrollment import lottery\n")
    assert set(imports("enrollment.registration.registrar", tree)) >= {
        "enrollment.placement",
        "enrollment.lottery",
    }


def _domain_files() -> Iterator[tuple[str, Path]]:
    for module, path in modules():
        if room(module) in DOMAIN:
            yield module, path


def test_the_domain_never_reads_the_environment() -> None:
    offenders = []
    for module, path in _domain_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
                offenders.append(f"{module}:{node.lineno}")
    assert offenders == []


def test_table_keys_are_built_only_by_the_adapters() -> None:
    roots = [PACKAGE, ROOT / "functions"]
    offenders = []
    for base in roots:
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[0] == "enrollment" and rel.parts[1] in KEYS_ALLOWED:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in TABLE_KEYS:
                    offenders.append(f"{rel}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_the_package_top_level_stays_small() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 4, top
