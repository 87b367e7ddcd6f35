"""SQLite storage: identity pools and their event bindings; identities and their
temporary keys; datasets, records and sync sessions; Lambda functions' resource policies.

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
from collections.abc import Generator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Final
from urllib.parse import quote

import attrs

__all__ = [
    "SCHEMA_VERSION",
    "DatabaseInUseError",
    "DatasetLimits",
    "ForeignDatabaseError",
    "IdentityKey",
    "RecordWrite",
    "Store",
    "StoredDataset",
    "StoredRecord",
    "UpdateRefusedError",
]

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
CREATE TABLE IF NOT EXISTS identities (
    identity_id TEXT PRIMARY KEY,
    identity_pool_id TEXT NOT NULL,
    creation_date REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS identity_keys (
    access_key_id TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL,
    secret_access_key TEXT NOT NULL,
    session_token TEXT NOT NULL,
    expiration REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS datasets (
    identity_id TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    creation_date REAL NOT NULL,
    last_modified_date REAL NOT NULL,
    last_modified_by TEXT NOT NULL,
    sync_count INTEGER NOT NULL,
    PRIMARY KEY (identity_id, dataset_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    identity_id TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT,
    sync_count INTEGER NOT NULL,
    last_modified_date REAL NOT NULL,
    last_modified_by TEXT NOT NULL,
    device_last_modified_date REAL,
    PRIMARY KEY (identity_id, dataset_name, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_sessions (
    token TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL,
    dataset_name TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lambda_functions (
    arn TEXT PRIMARY KEY,
    policy TEXT,
    revision_id TEXT NOT NULL,
    reserved_concurrency INTEGER
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


@attrs.frozen(kw_only=True)
class IdentityKey:
    """Temporary credentials handed to an identity by GetCredentialsForIdentity."""

    identity_id: str
    identity_pool_id: str
    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    session_token: str = attrs.field(repr=False)
    expiration: float


@attrs.frozen(kw_only=True)
class StoredDataset:
    """A dataset's metadata, as DescribeDataset answers it (dates in epoch seconds)."""

    identity_id: str
    dataset_name: str
    creation_date: float
    last_modified_date: float
    last_modified_by: str
    sync_count: int
    data_storage: int
    num_records: int


@attrs.frozen(kw_only=True)
class StoredRecord:
    """A record; ``value`` is None once removed (kept so other devices learn of it)."""

    key: str
    value: str | None
    sync_count: int
    last_modified_date: float
    last_modified_by: str
    device_last_modified_date: float | None


@attrs.frozen(kw_only=True)
class RecordWrite:
    """One change to store: ``value`` None removes the record."""

    key: str
    value: str | None
    device_last_modified_date: float | None = None


@attrs.frozen(kw_only=True)
class DatasetLimits:
    """What a dataset and an identity may hold."""

    datasets_per_identity: int
    records_per_dataset: int
    bytes_per_dataset: int


class UpdateRefusedError(Exception):
    """An UpdateRecords transaction was rolled back; ``kind`` is "session", "conflict"
    or "limit"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


_RECORD_COLUMNS: Final = (
    "key, value, sync_count, last_modified_date, last_modified_by, device_last_modified_date"
)


def _record(row: tuple[object, ...]) -> StoredRecord:
    key, value, sync_count, modified, by, device = row
    return StoredRecord(
        key=str(key),
        value=None if value is None else str(value),
        sync_count=int(sync_count),  # type: ignore[call-overload]
        last_modified_date=float(modified),  # type: ignore[arg-type]
        last_modified_by=str(by),
        device_last_modified_date=None if device is None else float(device),  # type: ignore[arg-type]
    )


def _size(key: str, value: str | None) -> int:
    return 0 if value is None else len(key.encode()) + len(value.encode())


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
                self._forget_identities(conn, "WHERE identity_pool_id = ?", (identity_pool_id,))
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
                self._forget_identities(conn, "", ())
                conn.execute("UPDATE lambda_functions SET policy = NULL")
                conn.executemany(
                    "INSERT OR IGNORE INTO identity_pools (identity_pool_id) VALUES (?)",
                    [(pool,) for pool in identity_pools],
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._pools = set(identity_pools)

    # -- identities ---------------------------------------------------------------------

    @staticmethod
    def _forget_identities(conn: sqlite3.Connection, where: str, args: tuple[str, ...]) -> None:
        chosen = f"SELECT identity_id FROM identities {where}"  # noqa: S608
        for table in ("identity_keys", "datasets", "records", "sync_sessions"):
            conn.execute(f"DELETE FROM {table} WHERE identity_id IN ({chosen})", args)  # noqa: S608
        conn.execute(f"DELETE FROM identities {where}", args)  # noqa: S608

    @contextmanager
    def _transaction(self) -> Generator[sqlite3.Connection, None, None]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def add_identity(self, identity_pool_id: str, identity_id: str, now: float) -> bool:
        """Create an identity in a registered pool; False when the pool is unknown."""
        with self._transaction() as conn:
            if identity_pool_id not in self._pools:
                return False
            conn.execute(
                "INSERT INTO identities (identity_id, identity_pool_id, creation_date) "
                "VALUES (?, ?, ?)",
                (identity_id, identity_pool_id, now),
            )
            return True

    def identity_pool_of(self, identity_id: str) -> str | None:
        """The pool an identity belongs to, or None when there is no such identity."""
        with self._lock:
            row = self._conn.execute(
                "SELECT identity_pool_id FROM identities WHERE identity_id = ?", (identity_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def add_identity_key(self, key: IdentityKey) -> None:
        """Remember temporary credentials handed to an identity."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO identity_keys (access_key_id, identity_id, secret_access_key, "
                "session_token, expiration) VALUES (?, ?, ?, ?, ?)",
                (
                    key.access_key_id,
                    key.identity_id,
                    key.secret_access_key,
                    key.session_token,
                    key.expiration,
                ),
            )

    def identity_key(self, access_key_id: str) -> IdentityKey | None:
        """The temporary credentials with this access key id (expired ones too), or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT k.identity_id, i.identity_pool_id, k.secret_access_key, k.session_token, "
                "k.expiration FROM identity_keys AS k JOIN identities AS i "
                "ON i.identity_id = k.identity_id WHERE k.access_key_id = ?",
                (access_key_id,),
            ).fetchone()
        if row is None:
            return None
        identity_id, pool, secret, token, expiration = row
        return IdentityKey(
            identity_id=identity_id,
            identity_pool_id=pool,
            access_key_id=access_key_id,
            secret_access_key=secret,
            session_token=token,
            expiration=expiration,
        )

    # -- datasets and records -----------------------------------------------------------

    def _dataset(
        self, conn: sqlite3.Connection, identity_id: str, dataset_name: str
    ) -> StoredDataset | None:
        row = conn.execute(
            "SELECT creation_date, last_modified_date, last_modified_by, sync_count "
            "FROM datasets WHERE identity_id = ? AND dataset_name = ?",
            (identity_id, dataset_name),
        ).fetchone()
        if row is None:
            return None
        sizes = conn.execute(
            "SELECT key, value FROM records WHERE identity_id = ? AND dataset_name = ? "
            "AND value IS NOT NULL",
            (identity_id, dataset_name),
        ).fetchall()
        created, modified, by, sync_count = row
        return StoredDataset(
            identity_id=identity_id,
            dataset_name=dataset_name,
            creation_date=created,
            last_modified_date=modified,
            last_modified_by=by,
            sync_count=sync_count,
            data_storage=sum(_size(key, value) for key, value in sizes),
            num_records=len(sizes),
        )

    def dataset(self, identity_id: str, dataset_name: str) -> StoredDataset | None:
        """A dataset's metadata, or None when it does not exist."""
        with self._lock:
            return self._dataset(self._conn, identity_id, dataset_name)

    def datasets(self, identity_id: str) -> list[StoredDataset]:
        """An identity's datasets, by name."""
        with self._lock:
            conn = self._conn
            names = conn.execute(
                "SELECT dataset_name FROM datasets WHERE identity_id = ? ORDER BY dataset_name",
                (identity_id,),
            ).fetchall()
            found = [self._dataset(conn, identity_id, name) for (name,) in names]
        return [dataset for dataset in found if dataset is not None]

    def records(
        self, identity_id: str, dataset_name: str, after_sync_count: int = 0
    ) -> list[StoredRecord]:
        """A dataset's records changed after ``after_sync_count``, removed ones included."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM records WHERE identity_id = ? "  # noqa: S608
                "AND dataset_name = ? AND sync_count > ? ORDER BY sync_count, key",
                (identity_id, dataset_name, after_sync_count),
            ).fetchall()
        return [_record(row) for row in rows]

    def delete_dataset(self, identity_id: str, dataset_name: str) -> StoredDataset | None:
        """Delete a dataset and its records; its metadata as it was, or None if absent."""
        with self._transaction() as conn:
            dataset = self._dataset(conn, identity_id, dataset_name)
            if dataset is not None:
                for table in ("datasets", "records", "sync_sessions"):
                    conn.execute(
                        f"DELETE FROM {table} WHERE identity_id = ? AND dataset_name = ?",  # noqa: S608
                        (identity_id, dataset_name),
                    )
            return dataset

    def open_sync_session(self, token: str, identity_id: str, dataset_name: str) -> None:
        """Remember a sync session token handed out by ListRecords."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sync_sessions (token, identity_id, dataset_name) VALUES (?, ?, ?)",
                (token, identity_id, dataset_name),
            )

    def sync_session(self, token: str) -> tuple[str, str] | None:
        """``(identity_id, dataset_name)`` of an open sync session, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT identity_id, dataset_name FROM sync_sessions WHERE token = ?", (token,)
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def stale_keys(
        self, identity_id: str, dataset_name: str, expected: Mapping[str, int]
    ) -> list[str]:
        """The keys whose stored sync count (0 when absent) is not the one expected."""
        with self._lock:
            return self._stale(self._conn, identity_id, dataset_name, expected)

    @staticmethod
    def _stale(
        conn: sqlite3.Connection, identity_id: str, dataset_name: str, expected: Mapping[str, int]
    ) -> list[str]:
        current = dict(
            conn.execute(
                "SELECT key, sync_count FROM records WHERE identity_id = ? AND dataset_name = ?",
                (identity_id, dataset_name),
            ).fetchall()
        )
        return [key for key, count in expected.items() if current.get(key, 0) != count]

    def update_records(
        self,
        *,
        identity_id: str,
        dataset_name: str,
        token: str,
        expected: Mapping[str, int],
        writes: Sequence[RecordWrite],
        by: str,
        now: float,
        limits: DatasetLimits,
    ) -> list[StoredRecord]:
        """Apply ``writes`` in one transaction, re-checking the session and the sync
        counts; the records written, or UpdateRefusedError (then nothing is stored)."""
        with self._transaction() as conn:
            session = conn.execute(
                "SELECT identity_id, dataset_name FROM sync_sessions WHERE token = ?", (token,)
            ).fetchone()
            if session != (identity_id, dataset_name):
                raise UpdateRefusedError("session", "The sync session token is not valid.")
            stale = self._stale(conn, identity_id, dataset_name, expected)
            if stale:
                raise UpdateRefusedError(
                    "conflict",
                    f"Current SyncCount for: {', '.join(stale)} does not match the one given.",
                )
            conn.execute("DELETE FROM sync_sessions WHERE token = ?", (token,))
            dataset = self._dataset(conn, identity_id, dataset_name)
            if not writes:
                return []
            if dataset is None:
                (count,) = conn.execute(
                    "SELECT COUNT(*) FROM datasets WHERE identity_id = ?", (identity_id,)
                ).fetchone()
                if count >= limits.datasets_per_identity:
                    raise UpdateRefusedError(
                        "limit",
                        f"An identity can have at most {limits.datasets_per_identity} datasets.",
                    )
                conn.execute(
                    "INSERT INTO datasets (identity_id, dataset_name, creation_date, "
                    "last_modified_date, last_modified_by, sync_count) VALUES (?, ?, ?, ?, ?, 0)",
                    (identity_id, dataset_name, now, now, by),
                )
                sync_count = 1
            else:
                sync_count = dataset.sync_count + 1
            conn.execute(
                "UPDATE datasets SET sync_count = ?, last_modified_date = ?, last_modified_by = ? "
                "WHERE identity_id = ? AND dataset_name = ?",
                (sync_count, now, by, identity_id, dataset_name),
            )
            conn.executemany(
                "INSERT INTO records (identity_id, dataset_name, key, value, sync_count, "
                "last_modified_date, last_modified_by, device_last_modified_date) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (identity_id, dataset_name, key) "
                "DO UPDATE SET value = excluded.value, sync_count = excluded.sync_count, "
                "last_modified_date = excluded.last_modified_date, "
                "last_modified_by = excluded.last_modified_by, "
                "device_last_modified_date = excluded.device_last_modified_date",
                [
                    (
                        identity_id,
                        dataset_name,
                        write.key,
                        write.value,
                        sync_count,
                        now,
                        by,
                        write.device_last_modified_date,
                    )
                    for write in writes
                ],
            )
            after = self._dataset(conn, identity_id, dataset_name)
            assert after is not None
            if after.num_records > limits.records_per_dataset:
                raise UpdateRefusedError(
                    "limit",
                    f"A dataset can hold at most {limits.records_per_dataset} records.",
                )
            if after.data_storage > limits.bytes_per_dataset:
                raise UpdateRefusedError(
                    "limit", f"A dataset can hold at most {limits.bytes_per_dataset} bytes."
                )
            keys = [write.key for write in writes]
            rows = conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM records WHERE identity_id = ? "  # noqa: S608
                f"AND dataset_name = ? AND key IN ({', '.join('?' * len(keys))})",
                (identity_id, dataset_name, *keys),
            ).fetchall()
        by_key = {record.key: record for record in map(_record, rows)}
        return [by_key[key] for key in keys]

    # -- Lambda functions ---------------------------------------------------------------

    def add_function(self, arn: str, revision_id: str) -> bool:
        """Know a function (its policy, if stored before, is kept); False if already known."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO lambda_functions (arn, policy, revision_id) "
                "VALUES (?, NULL, ?)",
                (arn, revision_id),
            )
            return cursor.rowcount == 1

    def functions(self) -> list[str]:
        """Every known function's ARN, sorted."""
        with self._lock:
            rows = self._conn.execute("SELECT arn FROM lambda_functions ORDER BY arn").fetchall()
        return [arn for (arn,) in rows]

    def policy(self, arn: str) -> tuple[str | None, str] | None:
        """``(policy document or None, revision id)``, or None for an unknown function."""
        with self._lock:
            row = self._conn.execute(
                "SELECT policy, revision_id FROM lambda_functions WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def set_policy(
        self, arn: str, policy: str | None, revision_id: str, expected_revision: str
    ) -> bool:
        """Replace a policy if its revision is still ``expected_revision``."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE lambda_functions SET policy = ?, revision_id = ? "
                "WHERE arn = ? AND revision_id = ?",
                (policy, revision_id, arn, expected_revision),
            )
            return cursor.rowcount == 1

    def reserved_concurrency(self, arn: str) -> int | None:
        """A function's reserved concurrency (None: unreserved)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT reserved_concurrency FROM lambda_functions WHERE arn = ?", (arn,)
            ).fetchone()
        return None if row is None else row[0]

    def set_reserved_concurrency(self, arn: str, value: int | None) -> bool:
        """Set a function's reserved concurrency; False for an unknown function."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE lambda_functions SET reserved_concurrency = ? WHERE arn = ?", (value, arn)
            )
            return cursor.rowcount == 1
