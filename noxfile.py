"""Developer and CI tasks.

``nox`` runs what CI runs: ``artifacts`` (build and inspect the sdist and the wheel),
``wheel`` (the sdist's test suite against the installed wheel, on every supported Python),
``oldest`` (the suite with every runtime dependency at its declared lower bound), ``lint``,
``typecheck`` and ``docs``. ``tests`` is the quick editable run for development;
``fuzz``, ``soak``, ``bench`` and ``startup`` are run by hand.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.sessions = ["artifacts", "wheel", "oldest", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
#: Every supported interpreter. A missing one is skipped locally and fails the run in CI
#: (nox errors on missing interpreters when CI is set, and .ci/run says so explicitly).
SUPPORTED = ("3.11", "3.12", "3.13")
DIST = ROOT / "dist"
COVERAGE_FLOOR = "95"


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _lower_bounds() -> list[str]:
    """``requests>=2.32.2`` -> ``requests==2.32.2``: each runtime dependency at its floor."""
    pins = []
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, _, floor = requirement.partition(">=")
        pins.append(f"{name.strip()}=={floor.strip()}")
    return pins


def _built(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    if len(found) != 1:
        raise RuntimeError(f"expected one {pattern} in {DIST} (run `nox -s artifacts`): {found}")
    return found[0]


def _install_wheel(session: nox.Session, *requirements: str) -> None:
    """The built wheel and ``requirements``; the wheel reinstalled even if the version is
    unchanged, since a reused environment may hold an earlier build of it."""
    wheel = str(_built("*.whl"))
    session.install(wheel, *requirements)
    session.install("--force-reinstall", "--no-deps", wheel)


def _sdist_tests(session: nox.Session) -> Path:
    """The unpacked sdist, without its copy of the package, so only the install is importable."""
    where = Path(session.create_tmp()) / "sdist"
    shutil.rmtree(where, ignore_errors=True)
    with tarfile.open(_built("*.tar.gz")) as archive:
        archive.extractall(where, filter="data")
    (top,) = where.iterdir()
    shutil.rmtree(top / "cognito_events")
    return top


def _check_user_types(session: nox.Session) -> None:
    """mypy --strict and pyright strict on typed user code, outside any source tree."""
    where = Path(session.create_tmp()) / "typing"
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(ROOT / "tests" / "typing", where)
    with session.chdir(where):
        session.run("mypy", "--strict", "--warn-unused-ignores", "--no-incremental", ".")
        session.run("pyright", "--pythonpath", session.virtualenv.bin + "/python", ".")


def _as_a_user(session: nox.Session) -> None:
    """What a new user does after ``pip install``: the demo, then their own pytest file
    using the fixtures, in a folder with no conftest of ours."""
    where = Path(session.create_tmp()) / "user-project"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "typing" / "test_fixtures_user.py", where)
    with session.chdir(where):
        session.run("cognito-events", "demo")
        session.run("pytest", "-q", "-p", "no:cacheprovider", "test_fixtures_user.py")


@nox.session(python=SUPPORTED[0])
def artifacts(session: nox.Session) -> None:
    """Build the sdist and the wheel into dist/ and inspect them."""
    session.install(*_group("release"))
    shutil.rmtree(DIST, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(DIST), str(ROOT))
    session.run("twine", "check", "--strict", *map(str, DIST.iterdir()))
    session.run("check-wheel-contents", str(_built("*.whl")))
    tracked = subprocess.run(
        ["git", "ls-files", "cognito_events"], cwd=ROOT, capture_output=True, text=True
    )
    if tracked.returncode != 0:
        session.error("the module check needs a git checkout")
    modules = {path for path in tracked.stdout.split() if not path.endswith(".pyc")}
    with zipfile.ZipFile(_built("*.whl")) as wheel:
        shipped = set(wheel.namelist())
        licensed = [name for name in shipped if name.endswith(".dist-info/licenses/LICENSE")]
    with tarfile.open(_built("*.tar.gz")) as sdist:
        in_sdist = {name.partition("/")[2] for name in sdist.getnames()}
    missing = sorted(modules - shipped)
    if missing:
        session.error(f"tracked files missing from the wheel: {missing}")
    needed = {"LICENSE", "CHANGELOG.md", "noxfile.py", "tests/conftest.py", ".ci/run"}
    tracked_tests = subprocess.run(
        ["git", "ls-files", "tests", "docs"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    needed |= set(tracked_tests.stdout.split())
    if missing := sorted(needed - in_sdist):
        session.error(f"files missing from the sdist: {missing}")
    if not licensed:
        session.error("the wheel has no LICENSE")
    session.log(f"wheel: {len(modules)} tracked package files, all present; sdist complete")


@nox.session(python=SUPPORTED, requires=["artifacts"])
def wheel(session: nox.Session) -> None:
    """The sdist's test suite against the installed wheel, with coverage; typed user code."""
    _install_wheel(session, *_group("test"), *_group("typecheck"))
    tests = _sdist_tests(session)
    env = {"COGNITO_EVENTS_UNDER_TEST": "wheel"}
    with session.chdir(tests):
        session.run("coverage", "erase")
        # coverage run, not pytest --cov: the package's pytest plugin (a pytest11 entry
        # point) imports cognito_events before pytest-cov would start measuring.
        session.run(
            "coverage", "run", "--source=cognito_events", "-m", "pytest", *session.posargs, env=env
        )
        session.run("coverage", "report", f"--fail-under={COVERAGE_FLOOR}")
    _check_user_types(session)
    _as_a_user(session)


@nox.session(python=SUPPORTED[0], requires=["artifacts"])
def oldest(session: nox.Session) -> None:
    """The suite with every runtime dependency at the lower bound pyproject.toml declares."""
    _install_wheel(session, *_group("test"), *_lower_bounds())
    session.run("python", "-m", "pip", "check")
    tests = _sdist_tests(session)
    with session.chdir(tests):
        session.run("pytest", "-q", *session.posargs, env={"COGNITO_EVENTS_UNDER_TEST": "wheel"})


@nox.session(python=SUPPORTED)
def tests(session: nox.Session) -> None:
    """The suite from this checkout (editable install), with line coverage of the package."""
    session.install("-e", ".", *_group("test"))
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "report", f"--fail-under={COVERAGE_FLOOR}")


@nox.session(python=SUPPORTED[0])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over everything."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=SUPPORTED[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright strict: the package with requests' inline types alone and
    with types-requests; the tests and this file; typed user code on the editable install."""
    session.install("-e", ".", *_group("typecheck"))
    session.run("mypy", "--strict", "cognito_events")
    session.run("pyright")
    session.install("types-requests")
    session.run("mypy", "--strict", "cognito_events", "tests", "noxfile.py")
    session.run("pyright")
    session.run("python", "-m", "pip", "uninstall", "-y", "types-requests")
    _check_user_types(session)


@nox.session(python=SUPPORTED[0])
def docs(session: nox.Session) -> None:
    """Build the Sphinx site (any warning fails it), then run every example on every page."""
    session.install("-e", ".", *_group("docs"))
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "html", "docs", "docs/_build/html"
    )
    # Every example on every page runs against a local emulator.
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-b", "doctest", "docs", "docs/_build/doctest"
    )


@nox.session(python=SUPPORTED[0])
def fuzz(session: nox.Session) -> None:
    """The fuzz tests with many more examples than CI runs (random seeds)."""
    session.install("-e", ".", *_group("test"))
    session.run("pytest", "-m", "fuzz", *session.posargs, env={"HYPOTHESIS_PROFILE": "fuzz"})


@nox.session(python=SUPPORTED[0])
def soak(session: nox.Session) -> None:
    """The load and fault tests, run for minutes instead of seconds."""
    session.install("-e", ".", *_group("test"))
    session.run("pytest", "-m", "soak", *session.posargs, env={"CE_SOAK_SECONDS": "120"})


@nox.session(python=SUPPORTED[0])
def bench(session: nox.Session) -> None:
    """Speed and memory against boto3 and the requests floor, side by side."""
    session.install("-e", ".", *_group("bench"))
    session.run("python", "benchmarks/bench.py", *session.posargs)


@nox.session(python=SUPPORTED[0], requires=["artifacts"])
def startup(session: nox.Session) -> None:
    """What installing the wheel costs every pytest run of an unrelated project."""
    session.install("pytest")
    session.run(
        "python", "benchmarks/pytest_startup.py", "--wheel", str(_built("*.whl")), *session.posargs
    )
