"""Injected faults: one class per kind, the registry by kind, and the pending queue.

A kind is one class here: its fields, how it is read from and written to the admin API's
JSON (:meth:`Fault.from_json` dispatches on ``"kind"`` through :data:`FAULT_KINDS`), and
how it plays against a request (:meth:`Fault.apply`, through the small
:class:`~._http.Responder` protocol). The admin API, the handler and
:meth:`cognito_events.testing.Emulator.inject_fault` all go through the registry.
"""

from __future__ import annotations

import random as _random
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import ClassVar, Final, TypeGuard

import attrs

from ._http import Responder
from ._router import OPERATION_NAMES
from .services._common import is_mapping

__all__ = [
    "FAULT_KINDS",
    "MAX_FAULT_DELAY",
    "OPERATIONS",
    "DelayFault",
    "DropFault",
    "ErrorFault",
    "Fault",
    "FaultQueue",
]

#: Every emulated operation, by the name AWS gives it (a fault may target one).
OPERATIONS: Final = OPERATION_NAMES
#: Longest delay a ``delay`` fault may ask for, in seconds.
MAX_FAULT_DELAY: Final = 30.0

_COMMON_KEYS: Final = frozenset({"kind", "count", "operation", "probability"})
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


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


@attrs.frozen(kw_only=True)
class Fault:
    """A failure played instead of answering the next matching signed request(s).

    ``count`` is how many requests it applies to; ``operation`` limits it to one
    operation (None: any); ``probability`` (default 1) is the chance that it applies to
    each matching request: the others pass it by and do not use up ``count``.
    """

    kind: ClassVar[str] = ""
    #: The JSON fields of this kind, besides kind, count, operation and probability.
    own_keys: ClassVar[frozenset[str]] = frozenset()

    count: int = 1
    operation: str | None = None
    probability: float = 1.0

    @staticmethod
    def from_json(document: object) -> Fault:
        """Build a fault of any registered kind from its admin-API JSON form.

        ValueError says what is wrong (every problem of the common fields at once).
        """
        if not is_mapping(document):
            raise ValueError("a fault must be a JSON object")
        kind = document.get("kind", ErrorFault.kind)
        cls = FAULT_KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise ValueError(
                f"kind must be one of {', '.join(map(repr, FAULT_KINDS))}, not {kind!r}"
            )
        all_keys = set[str]().union(*(k.own_keys for k in FAULT_KINDS.values())) | _COMMON_KEYS
        unknown = sorted(set(document) - all_keys, key=str)  # keys of any type
        if unknown:
            raise ValueError(
                f"unknown fault field(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(all_keys))}"
            )
        # Every key is now a known field's name, so a string.
        fields = {key: value for key, value in document.items() if isinstance(key, str)}
        foreign = sorted(set(fields) - _COMMON_KEYS - cls.own_keys)
        if foreign:
            raise ValueError(f"a {kind!r} fault takes no {', '.join(map(repr, foreign))}")
        problems: list[str] = []
        count = fields.get("count", 1)
        if not _is_int(count) or count < 1:
            problems.append(f"count must be an integer >= 1, not {count!r}")
        operation = fields.get("operation")
        if operation is not None and operation not in OPERATIONS:
            problems.append(
                f"operation must be {' or '.join(OPERATIONS)} (or absent), not {operation!r}"
            )
        probability = fields.get("probability", 1.0)
        if not _is_number(probability) or not 0 < probability <= 1:
            problems.append(
                f"probability must be a number above 0 and at most 1, not {probability!r}"
            )
        own: dict[str, object] = {}
        try:
            own = cls.own_from_json(fields)
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        assert isinstance(count, int)
        assert operation is None or isinstance(operation, str)
        assert isinstance(probability, int | float)
        return cls(count=count, operation=operation, probability=float(probability), **own)

    @classmethod
    def own_from_json(cls, document: Mapping[str, object]) -> dict[str, object]:
        """This kind's own fields, checked; ValueError says what is wrong."""
        return {}

    def own_json(self) -> dict[str, object]:
        """This kind's own fields in JSON form."""
        return {}

    def to_json(self) -> dict[str, object]:
        """The admin-API JSON form."""
        document: dict[str, object] = {"kind": self.kind, "count": self.count}
        document.update(self.own_json())
        document["operation"] = self.operation
        if self.probability != 1:
            document["probability"] = self.probability
        return document

    def apply(self, responder: Responder) -> bool:
        """Play the fault on the current request; True when it answered (or dropped) it."""
        raise NotImplementedError


@attrs.frozen(kw_only=True)
class ErrorFault(Fault):
    """Answer ``status`` with the AWS error ``code`` and ``message`` (and an
    ``x-amz-retry-after`` header when ``retry_after_ms`` is set)."""

    kind: ClassVar[str] = "error"
    own_keys: ClassVar[frozenset[str]] = frozenset({"status", "code", "message", "retry_after_ms"})

    status: int = 500
    code: str = "InternalErrorException"
    message: str = "Internal error"
    retry_after_ms: int | None = None

    @classmethod
    def own_from_json(cls, document: Mapping[str, object]) -> dict[str, object]:
        """status (400-599), code (defaults by status), message, retry_after_ms."""
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
        return {
            "status": status,
            "code": code,
            "message": message,
            "retry_after_ms": retry_after_ms,
        }

    def own_json(self) -> dict[str, object]:
        """status, code, message, retry_after_ms."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "retry_after_ms": self.retry_after_ms,
        }

    def apply(self, responder: Responder) -> bool:
        """Answer with the error."""
        extra = (
            ()
            if self.retry_after_ms is None
            else (("x-amz-retry-after", str(self.retry_after_ms)),)
        )
        responder.send_error(self.status, self.code, self.message, extra)
        return True


@attrs.frozen(kw_only=True)
class DropFault(Fault):
    """Close the connection without answering."""

    kind: ClassVar[str] = "drop"

    def apply(self, responder: Responder) -> bool:
        """Drop the connection."""
        responder.drop()
        return True


@attrs.frozen(kw_only=True)
class DelayFault(Fault):
    """Wait ``seconds``, then answer normally."""

    kind: ClassVar[str] = "delay"
    own_keys: ClassVar[frozenset[str]] = frozenset({"seconds"})

    seconds: float = 0.0

    @classmethod
    def own_from_json(cls, document: Mapping[str, object]) -> dict[str, object]:
        """seconds, from 0 to 30."""
        seconds = document.get("seconds", 0.0)
        if not _is_number(seconds) or not 0 <= seconds <= MAX_FAULT_DELAY:
            raise ValueError(
                f"seconds must be a number from 0 to {MAX_FAULT_DELAY:g}, not {seconds!r}"
            )
        return {"seconds": float(seconds)}

    def own_json(self) -> dict[str, object]:
        """seconds."""
        return {"seconds": self.seconds}

    def apply(self, responder: Responder) -> bool:
        """Wait, then let the request go on."""
        time.sleep(self.seconds)
        return False


#: Every fault kind, by the name the admin API uses; a new kind is one more class here.
FAULT_KINDS: Final[Mapping[str, type[Fault]]] = {
    cls.kind: cls for cls in (ErrorFault, DropFault, DelayFault)
}


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
