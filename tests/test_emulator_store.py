"""One owner per database file, and foreign files left byte for byte as they were."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cognito_events._emulator import DatabaseInUseError, EmulatorServer, ForeignDatabaseError

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"


def _serve(db: Path, *more: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "cognito_events", "serve", "--port", "0", "--db", str(db), *more],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_server_on_the_same_file_is_refused_naming_the_owner(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with EmulatorServer(db=db, identity_pools=[POOL]) as first:
        with pytest.raises(DatabaseInUseError) as caught:
            EmulatorServer(db=db)
        message = str(caught.value)
        assert str(db) in message
        assert f"pid {os.getpid()}" in message
        assert first.endpoint_url in message
        assert first.identity_pools() == [POOL]  # the owner is unharmed
    with EmulatorServer(db=db) as after:  # free again once the owner is closed
        assert after.identity_pools() == [POOL]


def test_a_second_serve_on_the_same_file_exits_non_zero_at_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    owner = _serve(db)
    try:
        assert owner.stdout is not None
        url = owner.stdout.readline().split()[-1]
        started = time.monotonic()
        second = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "cognito_events", "serve", "--port", "0", "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert time.monotonic() - started < 10
    finally:
        owner.terminate()
        owner.communicate(timeout=10)
    assert second.returncode == 1
    assert second.stdout == ""
    assert str(db) in second.stderr
    assert f"pid {owner.pid}" in second.stderr
    assert url in second.stderr
    assert owner.returncode == 0


def _foreign_sqlite(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO users (name) VALUES ('ada'), ('grace');"
        "CREATE TABLE identity_pools (identity_pool_id TEXT PRIMARY KEY);"
    )
    conn.close()
    return path.read_bytes()


def _other_version(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE events (x); PRAGMA user_version = 7;")
    conn.close()
    return path.read_bytes()


def _not_sqlite(path: Path) -> bytes:
    path.write_bytes(b"name,email\nada,ada@example.com\n" * 50)
    return path.read_bytes()


@pytest.mark.parametrize("make", [_foreign_sqlite, _other_version, _not_sqlite])
def test_a_foreign_file_is_refused_and_left_untouched(tmp_path: Path, make: object) -> None:
    assert callable(make)
    db = tmp_path / "app.db"
    before = make(db)
    listing = sorted(os.listdir(tmp_path))
    with pytest.raises(ForeignDatabaseError, match=r"app\.db"):
        EmulatorServer(db=db)
    assert db.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing  # no -wal, -shm or .lock beside it


def test_serve_refuses_a_foreign_file(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    before = _foreign_sqlite(db)
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "cognito_events", "serve", "--port", "0", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "not a cognito-events emulator database" in done.stderr
    assert "users" in done.stderr
    assert db.read_bytes() == before


def test_an_empty_file_and_an_emulator_database_are_accepted(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with EmulatorServer(db=empty, identity_pools=[POOL]):
        pass
    with EmulatorServer(db=empty) as again:
        assert again.identity_pools() == [POOL]
