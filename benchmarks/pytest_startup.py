"""What installing cognito-events costs the pytest start-up of an unrelated project.

The package registers a pytest plugin (entry point ``pytest11``), so every pytest run in an
environment where it is installed imports that plugin. This script builds two fresh virtual
environments, one with pytest alone and one with pytest and the given wheel, makes a
one-test project that has nothing to do with cognito-events, and times
``python -m pytest --collect-only -q`` in each, alternating, many times. It prints the
median of each and their ratio (target: at most 1.05).

    python benchmarks/pytest_startup.py --wheel dist/cognito_events-*.whl [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

_LIST_PLUGINS = (
    "from importlib.metadata import entry_points\n"
    "print(*(entry.value for entry in entry_points(group='pytest11')))"
)


def _environment(where: Path, *packages: str) -> Path:
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *packages],
        check=True,
    )
    return python


def _time_collect(python: Path, project: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        project = root / "project"
        project.mkdir()
        (project / "test_unrelated.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        pytest_version = subprocess.run(
            [sys.executable, "-m", "pytest", "--version"], capture_output=True, text=True
        ).stdout.split()[-1]
        pytest_req = f"pytest=={pytest_version}" if pytest_version[0].isdigit() else "pytest"
        without = _environment(root / "without", pytest_req)
        with_package = _environment(root / "with", pytest_req, str(args.wheel.resolve()))
        plugins = subprocess.run(
            [with_package, "-c", _LIST_PLUGINS], capture_output=True, text=True, check=True
        ).stdout.split()
        if "cognito_events.pytest_plugin" not in plugins:
            raise SystemExit(f"the wheel registered no pytest plugin: {plugins}")
        print(f"pytest {pytest_version}; pytest11 plugins with the wheel: {plugins}")
        for python in (without, with_package):  # warm the file cache and the .pyc files
            _time_collect(python, project)
        times: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(args.runs):
            times["without"].append(_time_collect(without, project))
            times["with"].append(_time_collect(with_package, project))
    base = statistics.median(times["without"])
    installed = statistics.median(times["with"])
    print(f"pytest --collect-only, median of {args.runs} runs each (alternating):")
    print(f"  without cognito-events: {base * 1000:.1f} ms")
    print(f"  with cognito-events:    {installed * 1000:.1f} ms")
    print(f"  ratio: {installed / base:.3f}x (target <= 1.05x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
