"""Every test starts from a clean AWS environment: no AWS_* variables, no shared files,
no instance metadata, and no connection to anything but loopback, so nothing depends on
(or reaches out from) this machine.

Also: the hypothesis profiles ("ci" by default, "fuzz" from HYPOTHESIS_PROFILE), and the
session-wide secrets sweep of tests/_sweep.py, which fails the run on any leak."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Any

import _sweep
import pytest
from hypothesis import HealthCheck, settings


@pytest.fixture(autouse=True)
def _isolated_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    real_connect = socket.socket.connect

    def loopback_only(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise OSError(f"test guard: refusing to connect to {address[0]}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


def _is_loopback(host: object) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture
def aws_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The shared files at their default places, under an empty temporary HOME."""
    monkeypatch.delenv("AWS_CONFIG_FILE")
    monkeypatch.delenv("AWS_SHARED_CREDENTIALS_FILE")
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    return home


# -- hypothesis profiles ----------------------------------------------------------------------
#
# "ci" (the default): fixed seeds, so a run is reproducible and CI never flakes on a new
# example; "fuzz" (``nox -s fuzz`` sets HYPOTHESIS_PROFILE=fuzz): 30 times the examples,
# random seeds, and the example database, so a failure found once is replayed first.

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- the secrets sweep (tests/_sweep.py) ------------------------------------------------------
#
# Every secret key, session token and signature made during the run is searched for in every
# log record, repr, package error message and CLI output; a hit fails the session.

_SESSION_SWEEP: _sweep.Sweep | None = None
_SWEEP_RESULT: list[_sweep.Hit] | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _SESSION_SWEEP
    from cognito_events._emulator import DEV_CREDENTIALS

    _SESSION_SWEEP = _sweep.Sweep(
        ignored={DEV_CREDENTIALS.secret_access_key, DEV_CREDENTIALS.access_key_id}
    )
    _sweep.install(_SESSION_SWEEP)
    original = pytest.CaptureFixture.readouterr

    def readouterr(self: pytest.CaptureFixture[Any]) -> Any:
        result = original(self)
        _sweep.record_output(result.out, "a test's capsys/capfd")
        _sweep.record_output(result.err, "a test's capsys/capfd")
        return result

    pytest.CaptureFixture.readouterr = readouterr  # type: ignore[method-assign]

    def restore() -> None:
        pytest.CaptureFixture.readouterr = original  # type: ignore[method-assign]

    session.config.add_cleanup(restore)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _sweep.set_current_test(item.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, content in report.sections:
        if name.startswith(("Captured stdout", "Captured stderr")):
            _sweep.record_output(content, name.lower())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _SWEEP_RESULT
    _sweep.set_current_test("(session end)")
    _sweep.uninstall()
    if _SESSION_SWEEP is None:
        return
    _SWEEP_RESULT = _SESSION_SWEEP.hits()
    if _SWEEP_RESULT or _SESSION_SWEEP.hook_errors:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SESSION_SWEEP is None or _SWEEP_RESULT is None:
        return
    hits = _SWEEP_RESULT
    errors = _SESSION_SWEEP.hook_errors
    status = "FAILED" if hits or errors else "passed"
    terminalreporter.section(f"secrets sweep {status}", sep="-", bold=bool(hits or errors))
    terminalreporter.line(f"{_SESSION_SWEEP.summary()}: {len(hits)} hit(s)")
    for hit in hits[:50]:
        terminalreporter.line(f"  LEAK: {hit}", red=True)
    if len(hits) > 50:
        terminalreporter.line(f"  ... and {len(hits) - 50} more")
    for error in errors[:20]:
        terminalreporter.line(f"  hook error: {error}", red=True)
