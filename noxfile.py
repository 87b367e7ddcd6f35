"""Developer tasks: ``nox -s tests lint typecheck docs bench``."""

from __future__ import annotations

import shutil

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

SUPPORTED = ("3.11", "3.12", "3.13")
#: Every supported interpreter found on this machine (CI provides all three).
PRESENT = [version for version in SUPPORTED if shutil.which(f"python{version}")] or ["3.11"]


@nox.session(python=PRESENT)
def tests(session: nox.Session) -> None:
    """Run the test suite with line coverage of the package (at least 95 %)."""
    session.install("-e", ".[test]")
    # coverage run, not pytest --cov: the package's pytest plugin (a pytest11 entry point)
    # imports cognito_events before pytest-cov would start measuring.
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", "--fail-under=95")


@nox.session(python=PRESENT[0])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over everything."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PRESENT[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, the tests and this file."""
    session.install("-e", ".[test]", "mypy>=1.10", "types-requests>=2.32", "nox>=2024.4")
    session.run("mypy", "--strict", "cognito_events", "tests", "noxfile.py")


@nox.session(python=PRESENT[0])
def docs(session: nox.Session) -> None:
    """Build the Sphinx site; any warning fails the build."""
    session.install("-e", ".", "-r", "docs/requirements.txt")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html"
    )
    # Every example on every page runs against a local emulator.
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "doctest", "docs", "docs/_build/doctest"
    )


@nox.session(python=PRESENT[0])
def fuzz(session: nox.Session) -> None:
    """The fuzz tests with many more examples than CI runs (random seeds)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "fuzz", *session.posargs, env={"HYPOTHESIS_PROFILE": "fuzz"})


@nox.session(python=PRESENT[0])
def soak(session: nox.Session) -> None:
    """The load and fault tests, run for minutes instead of seconds."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "soak", *session.posargs, env={"CE_SOAK_SECONDS": "120"})


@nox.session(python=PRESENT[0])
def bench(session: nox.Session) -> None:
    """Speed and memory against boto3 and the requests floor, side by side."""
    session.install("-e", ".[bench]")
    session.run("python", "benchmarks/bench.py", *session.posargs)
