"""The package's modules import each other without a cycle, type-only imports included.

Every ``import`` counts -- at the top, inside a function, or under ``TYPE_CHECKING`` --
since a function-level import is how a cycle hides. Read from the source, not by
importing, so the test sees what the code says.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cognito_events

PACKAGE = Path(cognito_events.__file__).parent
NAME = "cognito_events"
EMULATOR = f"{NAME}._emulator"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports (a ``from . import x`` of a module counts)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            submodules = [f"{origin}.{alias.name}" for alias in node.names]
            submodules = [name for name in submodules if name in modules]
            # ``from . import sigv4`` imports the module; the package itself is already
            # being imported when one of its own modules runs.
            targets = submodules or ([] if module.startswith(origin + ".") else [origin])
        else:
            continue
        found |= {target for target in targets if target in modules and target != module}
    return found


def _graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(path) for path in paths}
    return {_module_name(path): _imports(path, modules) for path in paths}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)) is not None:
            return found
    return None


def test_the_graph_is_read_from_the_source() -> None:
    graph = _graph()
    assert "cognito_events._sources" in graph["cognito_events._chain"]
    assert "cognito_events._config.profiles" in graph["cognito_events._config.loader"]


def test_no_import_cycle_in_the_library() -> None:
    # The emulator (its own layer, which the library never imports) is left to its own
    # restructuring; everything the client runs on is checked.
    library = {
        module: {target for target in targets if not target.startswith(EMULATOR)}
        for module, targets in _graph().items()
        if not module.startswith(EMULATOR)
    }
    assert _cycle(library) is None


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_credentials_module_holds_values_and_protocols_only() -> None:
    graph = _graph()
    assert graph[f"{NAME}._credentials"] <= {f"{NAME}._errors"}
    # Layers, from the bottom: values, providers, fetchers, sources, chain.
    for lower, upper in (
        ("_credentials", "_providers"),
        ("_providers", "_sources"),
        ("_fetchers", "_sources"),
        ("_sources", "_chain"),
    ):
        assert f"{NAME}.{upper}" not in graph[f"{NAME}.{lower}"]
        assert f"{NAME}.{lower}" in graph[f"{NAME}.{upper}"]


def test_config_modules_import_only_those_below_them() -> None:
    graph = _graph()
    order = ["endpoints", "ini", "profiles", "lookup", "loader"]
    for index, name in enumerate(order):
        siblings = {
            target.rpartition(".")[2]
            for target in graph[f"{NAME}._config.{name}"]
            if target.startswith(f"{NAME}._config.")
        }
        assert siblings <= set(order[:index]), name
    assert not {
        target
        for target in graph[f"{NAME}._config.endpoints"]
        if target.startswith(f"{NAME}._config")
    }
