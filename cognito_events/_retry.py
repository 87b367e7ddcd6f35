"""Retry policy: which failures are retried, how long to wait, and the retry quota.

Follows the AWS SDKs' standard retry mode: a few total attempts, capped exponential
backoff with full jitter (a longer base for throttling), ``x-amz-retry-after`` and
``Retry-After`` hints honoured within limits, and a per-client quota of retry tokens
so a client stops hammering a service that is down.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import attrs

from ._errors import (
    THROTTLING_CODES,
    CognitoEventsError,
    Problem,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "RetryPolicy",
    "RetryQuota",
    "backoff_delay",
    "is_throttling",
    "is_transient",
    "parse_http_date",
    "retry_after_hint",
]

#: HTTP statuses retried as transient service failures.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
#: How far past the computed backoff a server's retry-after hint may push a delay.
MAX_HINT_EXTENSION = 5.0
#: Retry tokens refunded by a call that succeeds at its first attempt.
NO_RETRY_REFUND = 1


def _refuse(attribute: attrs.Attribute[Any], requirement: str, value: object) -> NoReturn:
    raise ValidationError(
        [Problem(f"RetryPolicy.{attribute.name}", f"must be {requirement}, got {value!r}")]
    )


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _refuse(attribute, "an int >= 1", value)


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        _refuse(attribute, "a finite number >= 0", value)


def _non_negative_int(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _refuse(attribute, "an int >= 0", value)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a client retries: the AWS SDKs' standard-mode defaults.

    ``max_attempts`` counts every attempt, the first included (1 turns retries off).
    A retry waits ``random() * min(base * 2 ** (retry - 1), max_delay)`` seconds, with
    ``throttling_base_delay`` after throttling and ``transient_base_delay`` otherwise.
    ``retry_quota`` is the client's bucket of retry tokens (a throttling retry costs
    5, a transient one 14, a success gives tokens back); 0 disables the quota.
    """

    max_attempts: int = attrs.field(default=3, validator=_positive_int)
    throttling_base_delay: float = attrs.field(default=1.0, validator=_non_negative)
    transient_base_delay: float = attrs.field(default=0.05, validator=_non_negative)
    max_delay: float = attrs.field(default=20.0, validator=_non_negative)
    retry_quota: int = attrs.field(default=500, validator=_non_negative_int)

    #: Tokens a retry after throttling takes from the quota.
    THROTTLING_RETRY_COST = 5
    #: Tokens a retry after a transient failure (5xx, timeout, reset) takes.
    TRANSIENT_RETRY_COST = 14


DEFAULT_RETRY_POLICY = RetryPolicy()


def is_throttling(error: CognitoEventsError) -> bool:
    """A throttling answer: any 429, or a throttling code whatever the status."""
    return isinstance(error, ServiceError) and (
        error.status_code == 429
        or isinstance(error, TooManyRequestsError)
        or (error.code is not None and error.code in THROTTLING_CODES)
    )


def is_transient(error: CognitoEventsError) -> bool:
    """A transient failure: no response at all, or HTTP 500/502/503/504."""
    if isinstance(error, TransportError):
        return error.retryable
    return isinstance(error, ServiceError) and error.status_code in TRANSIENT_STATUSES


def backoff_delay(policy: RetryPolicy, retry: int, throttled: bool, random: float) -> float:
    """Seconds to wait before retry number ``retry`` (1 = first), ``random`` in [0, 1)."""
    base = policy.throttling_base_delay if throttled else policy.transient_base_delay
    ceiling: float = min(base * 2.0 ** (retry - 1), policy.max_delay)
    return random * ceiling


def retry_after_hint(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The server's retry hint in seconds, or None when absent or unreadable (never raises).

    ``x-amz-retry-after`` is milliseconds; ``Retry-After`` is seconds or an HTTP date.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    raw = lowered.get("x-amz-retry-after")
    if raw is not None:
        try:
            millis = float(raw.strip())
        except ValueError:
            millis = -1.0
        if 0 <= millis < float("inf"):
            return millis / 1000.0
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        when = parse_http_date(raw)
        if when is None:
            return None
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
        return max(seconds, 0.0)
    return seconds if 0 <= seconds < float("inf") else None


def parse_http_date(value: str) -> datetime | None:
    """An HTTP date (``Date``, ``Retry-After``) as an aware datetime; None when unreadable."""
    import email.utils  # only on these rare paths: keeps import time down

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def apply_hint(policy: RetryPolicy, computed: float, hint: float | None) -> float:
    """Honour a server hint within limits: at least the computed backoff, at most 5 s more.

    Never longer than ``max_delay``.
    """
    if hint is None:
        return computed
    delay = min(max(hint, computed), computed + MAX_HINT_EXTENSION)
    return min(delay, max(policy.max_delay, computed))


class RetryQuota:
    """A thread-safe bucket of retry tokens shared by every call of one client."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._available = capacity
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        """Tokens left now."""
        return self._available

    def acquire(self, cost: int) -> bool:
        """Take ``cost`` tokens for a retry; False (nothing taken) when too few remain."""
        if self.capacity == 0:
            return True
        with self._lock:
            if self._available < cost:
                return False
            self._available -= cost
            return True

    def release(self, amount: int) -> None:
        """Give tokens back after a success, never above capacity."""
        if self.capacity == 0 or self._available >= self.capacity:
            return
        with self._lock:
            self._available = min(self.capacity, self._available + amount)

    def __repr__(self) -> str:
        return f"RetryQuota(available={self._available}, capacity={self.capacity})"
