"""SQLite storage of the registered identity pools and their event bindings.

One connection, shared by every handler thread and guarded by a lock. In autocommit mode
each write is committed when ``execute`` returns, so an answer is only sent after its
change is stored. The set of registered pools is also kept in memory (this process is the
database's only writer), which saves a query on every request. A file database uses WAL
with ``synchronous=NORMAL``: a commit survives the emulator being killed, though not
necessarily a power cut.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Final

__all__ = ["SCHEMA_VERSION", "Store"]

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
        conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version not in (0, SCHEMA_VERSION):
                raise ValueError(
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
            raise
        self._conn = conn
        self._lock = threading.Lock()
        self._pools = {
            pool for (pool,) in conn.execute("SELECT identity_pool_id FROM identity_pools")
        }

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

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
