"""SQLite storage of the registered identity pools and their event bindings.

One connection, shared by every handler thread and guarded by a lock. In autocommit mode
each write is committed when ``execute`` returns, so an answer is only sent after its
change is stored. The set of registered pools is also kept in memory (this process is the
database's only writer), which saves a query on every request. A file database uses WAL
with ``synchronous=NORMAL``: a commit survives the emulator being killed, though not
necessarily a power cut.

A file database has one owner: the store holds an exclusive ``flock`` on ``PATH.lock``
(which names the owner) for as long as it is open, and a second store on the same file
fails at once with :class:`DatabaseInUseError`. A file that is not an emulator database (not
SQLite, another ``user_version``, tables of its own) is refused before anything is
written to it: it is first inspected read-only.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import sys
import threading
from typing import IO, Final
from urllib.parse import quote

__all__ = ["SCHEMA_VERSION", "DatabaseInUseError", "ForeignDatabaseError", "Store"]

#: Stored in ``PRAGMA user_version``; a database with another version is refused.
SCHEMA_VERSION: Final = 1

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS identity_pools (
    identity_pool_id TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    identity_pool_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    lambda_arn TEXT NOT NULL,
    PRIMARY KEY (identity_pool_id, event_type)
) WITHOUT ROWID;
"""
_TABLE_NAME: Final = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")
_INDEX_NAME: Final = re.compile(r"CREATE (?:UNIQUE )?INDEX IF NOT EXISTS (\w+)")


class DatabaseInUseError(OSError):
    """Another emulator owns this database file."""


class ForeignDatabaseError(ValueError):
    """The file is not an emulator database; it was left untouched."""


def _own_objects() -> frozenset[str]:
    """The tables and indexes the emulator's schema creates (every ``*_SCHEMA`` here)."""
    text = "\n".join(
        value
        for name, value in globals().items()
        if name.endswith("_SCHEMA") and isinstance(value, str)
    )
    return frozenset(_TABLE_NAME.findall(text) + _INDEX_NAME.findall(text))


def _inspect(path: str) -> None:
    """Raise ForeignDatabaseError unless ``path`` is absent, empty, or an emulator database.

    Opens the file read-only (``mode=ro``), so nothing is written to a foreign file.
    """
    try:
        if os.path.getsize(path) == 0:
            return
    except FileNotFoundError:
        return
    uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise ForeignDatabaseError(
            f"{path!r} cannot be opened as an SQLite database: {exc}"
        ) from None
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        names = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            )
        }
    except sqlite3.Error as exc:
        raise ForeignDatabaseError(f"{path!r} is not an SQLite database: {exc}") from None
    finally:
        conn.close()
    if version not in (0, SCHEMA_VERSION):
        raise ForeignDatabaseError(
            f"{path!r} is not a cognito-events emulator database of schema version "
            f"{SCHEMA_VERSION} (its user_version is {version}); it was left untouched"
        )
    foreign = sorted(names - _own_objects())
    if foreign:
        raise ForeignDatabaseError(
            f"{path!r} is not a cognito-events emulator database (it has "
            f"{', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}); it was left "
            "untouched: give --db a new file"
        )


def _lock(path: str) -> IO[str] | None:
    """Take the owner lock beside ``path``; DatabaseInUseError (naming the owner) if held."""
    if sys.platform == "win32":  # pragma: no cover - no flock there: no lock
        return None
    import fcntl

    lock_path = path + ".lock"
    handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held while open
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read(200).strip() or "an unknown process"
        handle.close()
        raise DatabaseInUseError(
            f"database {path!r} is in use by another emulator ({owner}); each emulator "
            "needs its own --db file"
        ) from None
    except BaseException:
        handle.close()
        raise
    with contextlib.suppress(OSError):
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
    return handle


_UPSERT: Final = (
    "INSERT INTO events (identity_pool_id, event_type, lambda_arn) VALUES (?, ?, ?) "
    "ON CONFLICT (identity_pool_id, event_type) DO UPDATE SET lambda_arn = excluded.lambda_arn"
)
_DELETE_EVENT: Final = "DELETE FROM events WHERE identity_pool_id = ? AND event_type = ?"
_SELECT_EVENTS: Final = "SELECT event_type, lambda_arn FROM events WHERE identity_pool_id = ?"


class Store:
    """Identity pools and events, in memory (``path=None``) or in a SQLite file."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        target = ":memory:" if path is None else os.fspath(path)
        self._owner: IO[str] | None = None
        if path is not None:
            _inspect(target)
            self._owner = _lock(target)
        try:
            conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        except BaseException:
            self._release()
            raise
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version not in (0, SCHEMA_VERSION):
                raise ForeignDatabaseError(
                    f"{target!r} is not a cognito-events emulator database of schema version "
                    f"{SCHEMA_VERSION} (its user_version is {version})"
                )
            if path is not None:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            self._release()
            raise
        self._conn = conn
        self._lock = threading.Lock()
        self._pools = {
            pool for (pool,) in conn.execute("SELECT identity_pool_id FROM identity_pools")
        }

    def set_owner(self, description: str) -> None:
        """Write who owns the database into its lock file (shown to a second server)."""
        handle = self._owner
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.write(description[:200] + "\n")
                handle.flush()

    def _release(self) -> None:
        handle, self._owner = self._owner, None
        if handle is not None:
            handle.close()  # closing the descriptor releases the flock

    def close(self) -> None:
        """Close the connection and give up ownership (idempotent)."""
        with self._lock:
            self._conn.close()
            self._release()

    def add_pool(self, identity_pool_id: str) -> bool:
        """Register a pool; False when it already was."""
        with self._lock:
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO identity_pools (identity_pool_id) VALUES (?)",
                (identity_pool_id,),
            )
            self._pools.add(identity_pool_id)
            return cursor.rowcount == 1

    def remove_pool(self, identity_pool_id: str) -> bool:
        """Forget a pool and its events; False when it was not registered."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN")
            try:
                cursor = conn.execute(
                    "DELETE FROM identity_pools WHERE identity_pool_id = ?", (identity_pool_id,)
                )
                conn.execute("DELETE FROM events WHERE identity_pool_id = ?", (identity_pool_id,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._pools.discard(identity_pool_id)
            return cursor.rowcount == 1

    def has_pool(self, identity_pool_id: str) -> bool:
        """Whether the pool is registered."""
        with self._lock:
            return identity_pool_id in self._pools

    def pools(self) -> list[str]:
        """Every registered pool, sorted."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT identity_pool_id FROM identity_pools ORDER BY identity_pool_id"
            ).fetchall()
        return [pool for (pool,) in rows]

    def set_event(self, identity_pool_id: str, event_type: str, lambda_arn: str) -> bool:
        """Bind ``event_type`` to ``lambda_arn`` ('' removes it); False when the pool is unknown."""
        with self._lock:
            conn = self._conn
            if identity_pool_id not in self._pools:
                return False
            if lambda_arn:
                conn.execute(_UPSERT, (identity_pool_id, event_type, lambda_arn))
            else:
                conn.execute(_DELETE_EVENT, (identity_pool_id, event_type))
            return True

    def events(self, identity_pool_id: str) -> dict[str, str] | None:
        """The pool's events, or None when the pool is unknown."""
        with self._lock:
            if identity_pool_id not in self._pools:
                return None
            rows = self._conn.execute(_SELECT_EVENTS, (identity_pool_id,)).fetchall()
        return dict(rows)

    def all_events(self) -> dict[str, dict[str, str]]:
        """Every registered pool and its events (an empty map for a pool without any)."""
        with self._lock:
            conn = self._conn
            pools = conn.execute("SELECT identity_pool_id FROM identity_pools").fetchall()
            rows = conn.execute(
                "SELECT identity_pool_id, event_type, lambda_arn FROM events"
            ).fetchall()
        result: dict[str, dict[str, str]] = {pool: {} for (pool,) in sorted(pools)}
        for pool, event_type, arn in rows:
            result.setdefault(pool, {})[event_type] = arn
        return result

    def reset(self, identity_pools: tuple[str, ...]) -> None:
        """Forget everything, then register ``identity_pools``, in one transaction."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN")
            try:
                conn.execute("DELETE FROM events")
                conn.execute("DELETE FROM identity_pools")
                conn.executemany(
                    "INSERT OR IGNORE INTO identity_pools (identity_pool_id) VALUES (?)",
                    [(pool,) for pool in identity_pools],
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._pools = set(identity_pools)
