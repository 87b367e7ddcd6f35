"""A user's test suite under ``pytest -n 2`` (pytest-xdist): each worker gets emulators of
its own, with the plugin's fixtures and with a database file per worker (docs/testing.rst)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

#: The conftest.py docs/testing.rst shows, run as it is.
CONFTEST = Path(__file__).parent.parent / "docs" / "examples" / "xdist" / "conftest.py"

USER_TESTS = """
import os
from pathlib import Path

import pytest
from cognito_events import SYNC_TRIGGER

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync-{}"
OUT = Path(os.environ["XDIST_CHECK_OUT"])


def _note(kind, emulator):
    line = f"{kind} {os.environ.get('PYTEST_XDIST_WORKER', 'none')} {emulator.endpoint_url}\\n"
    with open(OUT / f"{os.getpid()}.txt", "a") as handle:
        handle.write(line)


@pytest.mark.parametrize("n", range(6))
def test_with_the_plugin_fixtures(cognito_sync_emulator, cognito_events_client,
                                  cognito_identity_pool_id, n):
    pool, client = cognito_identity_pool_id, cognito_events_client
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN.format(n)})
    assert cognito_sync_emulator.identity_pools == [cognito_identity_pool_id]
    assert cognito_events_client.get_cognito_events(cognito_identity_pool_id) == {
        SYNC_TRIGGER: ARN.format(n)
    }
    _note("plugin", cognito_sync_emulator)


@pytest.mark.parametrize("n", range(6))
def test_with_a_database_per_worker(worker_emulator, n):
    [pool] = worker_emulator.identity_pools
    with worker_emulator.client() as client:
        client.set_cognito_events(pool, {SYNC_TRIGGER: ARN.format(n)})
        assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN.format(n)}
    _note("db", worker_emulator)
"""


def test_two_xdist_workers_each_run_their_own_emulators(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST.read_text(encoding="utf-8"), encoding="utf-8")
    (suite / "test_user.py").write_text(textwrap.dedent(USER_TESTS), encoding="utf-8")
    (suite / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "XDIST_CHECK_OUT": str(out)}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "xdist",
            "-n",
            "2",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "basetemp"),
            str(suite),
        ],
        cwd=suite,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "12 passed" in done.stdout
    notes = [line.split() for path in out.iterdir() for line in path.read_text().splitlines()]
    assert len(notes) == 12
    workers = {worker for _, worker, _ in notes}
    assert workers == {"gw0", "gw1"}
    assert sorted(kind for kind, _, _ in notes) == ["db"] * 6 + ["plugin"] * 6
    # One database file per worker, each owned by one emulator at a time.
    files = sorted(path.name for path in (tmp_path / "basetemp").rglob("emulator-*.db"))
    assert files == ["emulator-gw0.db", "emulator-gw1.db"]
