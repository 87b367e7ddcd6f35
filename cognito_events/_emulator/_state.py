"""The request log: what the emulator received on its service routes, redacted and bounded.

Injected faults live in :mod:`._faults`. The log is reset by the admin API's ``reset``
and does not survive a restart. It keeps only the headers a test needs, redacts
signatures, session tokens and other credentials wherever they appear (headers or query
string), and is capped both in entries and in bytes.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Final
from urllib.parse import quote, unquote_plus

import attrs

from ..sigv4 import format_amz_date
from ._faults import OPERATIONS, Fault, FaultQueue

__all__ = [
    "KEPT_HEADERS",
    "MAX_RECORDED_BYTES",
    "MAX_RECORDED_REQUESTS",
    "OPERATIONS",
    "REDACTED",
    "Fault",
    "FaultQueue",
    "RecordedRequest",
    "RequestLog",
    "redacted_headers",
    "redacted_query",
]

#: The request log keeps this many of the latest requests...
MAX_RECORDED_REQUESTS: Final = 1000
#: ... and at most about this many bytes of them (oldest dropped first).
MAX_RECORDED_BYTES: Final = 4 * 1024 * 1024
#: The headers the log keeps (lowercased); any others are left out.
KEPT_HEADERS: Final = frozenset(
    {
        "authorization",
        "content-encoding",
        "content-length",
        "content-type",
        "expect",
        "host",
        "transfer-encoding",
        "user-agent",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-target",
        "x-amz-user-agent",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
    }
)
#: Longest header value kept in the log (longer ones are cut, with a marker).
_MAX_VALUE: Final = 2048
_ENTRY_OVERHEAD: Final = 256
#: Query parameters whose value is a secret or a signature (lowercased).
_SECRET_PARAMETERS: Final = frozenset(
    {"x-amz-signature", "x-amz-security-token", "signature", "x-amz-secret-access-key"}
)


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the emulator received on the service routes (admin calls are not logged).

    ``headers`` maps lowercased names (only those a test needs) to values (repeated
    headers joined with ``", "``), with the signature in ``authorization``, any other
    authorization scheme's credentials and the whole ``x-amz-security-token`` redacted;
    ``query`` has signature and token parameters redacted.
    ``status`` is None for a dropped connection; ``error_code`` is the AWS code of an error
    answer; ``operation`` is None when the request matched no operation.
    """

    time: datetime
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: str
    status: int | None
    error_code: str | None
    operation: str | None
    request_id: str | None

    def to_json(self) -> dict[str, object]:
        """The admin-API JSON form."""
        return {
            "time": format_amz_date(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "body": self.body,
            "status": self.status,
            "error_code": self.error_code,
            "operation": self.operation,
            "request_id": self.request_id,
        }


REDACTED: Final = "<redacted>"
_SIGNATURE: Final = re.compile(r"(Signature=)[^,\s]*", re.IGNORECASE)
_SCHEME: Final = re.compile(r"\s*(\S+)")


def _redact(name: str, value: str) -> str:
    if name == "authorization":
        scheme = _SCHEME.match(value)
        if scheme is not None and scheme[1].upper().startswith("AWS4-"):
            return _SIGNATURE.sub(r"\1" + REDACTED, value)
        return REDACTED if scheme is None else f"{scheme[1]} {REDACTED}"
    if name == "x-amz-security-token":
        return REDACTED
    if len(value) > _MAX_VALUE:
        return value[:_MAX_VALUE] + "...<cut>"
    return value


def redacted_headers(fields: Mapping[str, list[str]]) -> dict[str, str]:
    """The kept headers (lowercased name -> values) as one string each, secrets redacted."""
    return {
        name: ", ".join(_redact(name, value) for value in values)
        for name, values in fields.items()
        if name in KEPT_HEADERS
    }


def redacted_query(query: str) -> str:
    """The query string with signature, token and secret parameters' values redacted."""
    if not query or not any(secret in query.lower() for secret in ("signature", "token", "secret")):
        return query
    parts: list[str] = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        if equals and unquote_plus(name).lower() in _SECRET_PARAMETERS:
            part = f"{name}={quote(REDACTED)}"
        parts.append(part)
    return "&".join(parts)


# What the handler hands over: kept raw, turned into a RecordedRequest only when read.
_RawEntry = tuple[
    datetime,
    str,
    str,
    Mapping[str, list[str]],
    bytes,
    int | None,
    str | None,
    str | None,
    str | None,
]


def _entry(raw: _RawEntry) -> RecordedRequest:
    when, method, target, fields, body, status, error_code, operation, request_id = raw
    path, _, query = target.partition("?")
    return RecordedRequest(
        time=when,
        method=method,
        path=path,
        query=redacted_query(query),
        headers=redacted_headers(fields),
        body=body.decode("utf-8", errors="replace"),
        status=status,
        error_code=error_code,
        operation=operation,
        request_id=request_id,
    )


class RequestLog:
    """The latest requests, oldest first: at most ``max_entries`` and about ``max_bytes``.

    Adding is cheap (the handler's hot path: only the kept headers are held); redaction
    happens when the log is read.
    """

    def __init__(
        self, max_entries: int = MAX_RECORDED_REQUESTS, max_bytes: int = MAX_RECORDED_BYTES
    ) -> None:
        self._lock = threading.Lock()
        self._entries: deque[tuple[_RawEntry, int]] = deque()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    @property
    def size(self) -> int:
        """About how many bytes the log holds."""
        return self._bytes

    def add(
        self,
        when: datetime,
        method: str,
        target: str,
        fields: Mapping[str, list[str]],
        body: bytes,
        status: int | None,
        error_code: str | None,
        operation: str | None,
        request_id: str | None,
    ) -> None:
        """Append one request (the oldest fall off when full); ``fields`` must not change."""
        kept = {name: values for name, values in fields.items() if name in KEPT_HEADERS}
        size = (
            _ENTRY_OVERHEAD
            + len(target)
            + len(body)
            + sum(len(name) + sum(map(len, values)) for name, values in kept.items())
        )
        entry = (when, method, target, kept, body, status, error_code, operation, request_id)
        with self._lock:
            entries = self._entries
            entries.append((entry, size))
            self._bytes += size
            while len(entries) > self._max_entries or (
                self._bytes > self._max_bytes and len(entries) > 1
            ):
                self._bytes -= entries.popleft()[1]

    def entries(self) -> list[RecordedRequest]:
        """The log, oldest first, with secrets redacted."""
        with self._lock:
            raw = [item for item, _ in self._entries]
        return [_entry(item) for item in raw]

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
