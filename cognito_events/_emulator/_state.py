"""In-memory emulator state that is not stored in SQLite: injected faults and the request log.

Both are reset by the admin API's ``reset`` and neither survives a restart.
"""

from __future__ import annotations

import random as _random
import re
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Final, Literal

import attrs

from ..sigv4 import format_amz_date
from ._router import OPERATION_NAMES

__all__ = [
    "MAX_RECORDED_REQUESTS",
    "OPERATIONS",
    "Fault",
    "FaultQueue",
    "RecordedRequest",
    "RequestLog",
    "redacted_headers",
]

#: Every emulated operation, by the name AWS gives it (a fault may target one).
OPERATIONS: Final = OPERATION_NAMES
#: The request log keeps this many of the latest requests.
MAX_RECORDED_REQUESTS: Final = 1000
#: Longest delay a ``delay`` fault may ask for, in seconds.
MAX_FAULT_DELAY: Final = 30.0

FaultKind = Literal["error", "drop", "delay"]

_DEFAULT_CODES: Final[Mapping[int, str]] = {
    400: "InvalidParameterException",
    403: "NotAuthorizedException",
    404: "ResourceNotFoundException",
    409: "ResourceConflictException",
    429: "TooManyRequestsException",
    500: "InternalErrorException",
    503: "ServiceUnavailableException",
}
_DEFAULT_MESSAGES: Final[Mapping[str, str]] = {
    "TooManyRequestsException": "Rate exceeded",
    "InternalErrorException": "Internal error",
    "ServiceUnavailableException": "Service unavailable",
}
# What may appear in an x-amzn-ErrorType header value.
_CODE: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.#:/-]{0,127}", re.ASCII)
_FAULT_KEYS: Final = frozenset(
    {
        "kind",
        "status",
        "code",
        "message",
        "count",
        "retry_after_ms",
        "seconds",
        "operation",
        "probability",
    }
)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@attrs.frozen(kw_only=True)
class Fault:
    """A failure the emulator plays instead of answering the next matching signed request(s).

    ``kind="error"`` answers ``status`` with the AWS error ``code`` and ``message`` (and an
    ``x-amz-retry-after`` header when ``retry_after_ms`` is set); ``"drop"`` closes the
    connection without answering; ``"delay"`` waits ``seconds`` and then answers normally.
    ``count`` is how many requests it applies to; ``operation`` limits it to
    ``SetCognitoEvents`` or ``GetCognitoEvents`` (None: either); ``probability`` (default
    1) is the chance that it applies to each matching request: the others pass it by and
    do not use up ``count``.
    """

    kind: FaultKind = "error"
    status: int = 500
    code: str = "InternalErrorException"
    message: str = "Internal error"
    count: int = 1
    retry_after_ms: int | None = None
    seconds: float = 0.0
    operation: str | None = None
    probability: float = 1.0

    @classmethod
    def from_json(cls, document: object) -> Fault:
        """Build a fault from its admin-API JSON form; ValueError says what is wrong."""
        if not isinstance(document, Mapping):
            raise ValueError("a fault must be a JSON object")
        unknown = sorted(set(document) - _FAULT_KEYS)
        if unknown:
            raise ValueError(
                f"unknown fault field(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(_FAULT_KEYS))}"
            )
        kind = document.get("kind", "error")
        if kind not in ("error", "drop", "delay"):
            raise ValueError(f"kind must be 'error', 'drop' or 'delay', not {kind!r}")
        count = document.get("count", 1)
        if not _is_int(count) or count < 1:
            raise ValueError(f"count must be an integer >= 1, not {count!r}")
        operation = document.get("operation")
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(
                f"operation must be {' or '.join(OPERATIONS)} (or absent), not {operation!r}"
            )
        probability = document.get("probability", 1.0)
        if (
            not isinstance(probability, int | float)
            or isinstance(probability, bool)
            or not 0 < probability <= 1
        ):
            raise ValueError(
                f"probability must be a number above 0 and at most 1, not {probability!r}"
            )
        probability = float(probability)
        if kind == "drop":
            cls._reject_fields(
                document, kind, ("status", "code", "message", "retry_after_ms", "seconds")
            )
            return cls(kind="drop", count=count, operation=operation, probability=probability)
        if kind == "delay":
            cls._reject_fields(document, kind, ("status", "code", "message", "retry_after_ms"))
            seconds = document.get("seconds", 0.0)
            if (
                not isinstance(seconds, int | float)
                or isinstance(seconds, bool)
                or not 0 <= seconds <= MAX_FAULT_DELAY
            ):
                raise ValueError(
                    f"seconds must be a number from 0 to {MAX_FAULT_DELAY:g}, not {seconds!r}"
                )
            return cls(
                kind="delay",
                count=count,
                seconds=float(seconds),
                operation=operation,
                probability=probability,
            )
        cls._reject_fields(document, kind, ("seconds",))
        status = document.get("status", 500)
        if not _is_int(status) or not 400 <= status <= 599:
            raise ValueError(f"status must be an integer from 400 to 599, not {status!r}")
        code = document.get("code", _DEFAULT_CODES.get(status))
        if code is None:
            raise ValueError(
                f"give an AWS error code for status {status} (defaults exist only for "
                f"{', '.join(str(s) for s in sorted(_DEFAULT_CODES))})"
            )
        if not isinstance(code, str) or _CODE.fullmatch(code) is None:
            raise ValueError(
                f"code must be an AWS error code such as 'InternalErrorException', not {code!r}"
            )
        default_message = _DEFAULT_MESSAGES.get(code, code)
        message = document.get("message", f"{default_message} (fault injected by the emulator)")
        if not isinstance(message, str):
            raise ValueError(f"message must be a string, not {message!r}")
        retry_after_ms = document.get("retry_after_ms")
        if retry_after_ms is not None and (not _is_int(retry_after_ms) or retry_after_ms < 0):
            raise ValueError(
                f"retry_after_ms must be an integer >= 0 (or absent), not {retry_after_ms!r}"
            )
        return cls(
            kind="error",
            status=status,
            code=code,
            message=message,
            count=count,
            retry_after_ms=retry_after_ms,
            operation=operation,
            probability=probability,
        )

    @staticmethod
    def _reject_fields(document: Mapping[str, object], kind: str, names: tuple[str, ...]) -> None:
        present = [name for name in names if name in document]
        if present:
            raise ValueError(f"a {kind!r} fault takes no {', '.join(map(repr, present))}")

    def to_json(self) -> dict[str, object]:
        """The admin-API JSON form (only the fields that matter for its kind)."""
        document: dict[str, object] = {"kind": self.kind, "count": self.count}
        if self.kind == "error":
            document.update(
                status=self.status,
                code=self.code,
                message=self.message,
                retry_after_ms=self.retry_after_ms,
            )
        elif self.kind == "delay":
            document["seconds"] = self.seconds
        document["operation"] = self.operation
        if self.probability != 1:
            document["probability"] = self.probability
        return document


class FaultQueue:
    """Pending faults, first in first out; each signed request takes from the first match."""

    def __init__(self, random: Callable[[], float] | None = None) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self._random = random or _random.random

    def add(self, fault: Fault) -> None:
        """Queue a fault behind those already pending."""
        with self._lock:
            self._pending.append(fault)

    def take(self, operation: str) -> Fault | None:
        """Use up one request's worth of the first fault that applies to ``operation``."""
        if not self._pending:  # the common case, without taking the lock
            return None
        with self._lock:
            for index, fault in enumerate(self._pending):
                if fault.operation is None or fault.operation == operation:
                    if fault.probability < 1 and self._random() >= fault.probability:
                        continue  # passed by this time: the request goes on as usual
                    if fault.count == 1:
                        del self._pending[index]
                    else:
                        self._pending[index] = attrs.evolve(fault, count=fault.count - 1)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """The faults still queued, with their remaining counts."""
        with self._lock:
            return list(self._pending)

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._pending.clear()


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the emulator received on the service routes (admin calls are not logged).

    ``headers`` maps lowercased names to values (repeated headers joined with ``", "``), with
    the signature in ``authorization`` and the whole ``x-amz-security-token`` redacted.
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


def _redact(name: str, value: str) -> str:
    if name == "authorization":
        return _SIGNATURE.sub(r"\1" + REDACTED, value)
    if name == "x-amz-security-token":
        return REDACTED
    return value


def redacted_headers(fields: Mapping[str, list[str]]) -> dict[str, str]:
    """Received headers (lowercased name -> values) as one string each, secrets redacted."""
    return {
        name: ", ".join(_redact(name, value) for value in values) for name, values in fields.items()
    }


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
        query=query,
        headers=redacted_headers(fields),
        body=body.decode("utf-8", errors="replace"),
        status=status,
        error_code=error_code,
        operation=operation,
        request_id=request_id,
    )


class RequestLog:
    """The latest :data:`MAX_RECORDED_REQUESTS` requests, oldest first.

    Adding is cheap (the handler's hot path); redaction happens when the log is read.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[_RawEntry] = deque(maxlen=MAX_RECORDED_REQUESTS)

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
        """Append one request (the oldest falls off when full); ``fields`` must not change."""
        entry = (when, method, target, fields, body, status, error_code, operation, request_id)
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[RecordedRequest]:
        """The log, oldest first, with secrets redacted."""
        with self._lock:
            raw = list(self._entries)
        return [_entry(item) for item in raw]

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._entries.clear()
