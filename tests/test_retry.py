"""Retry policy values, backoff, server hints and the retry quota, as tables."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from cognito_events import RetryPolicy, ServiceError, TransportError
from cognito_events._errors import (
    InternalError,
    InvalidParameterError,
    TooManyRequestsError,
    ValidationError,
)
from cognito_events._retry import (
    RetryQuota,
    apply_hint,
    backoff_delay,
    is_throttling,
    is_transient,
    retry_after_hint,
)


def test_defaults_are_the_standard_mode_ones() -> None:
    policy = RetryPolicy()
    assert (
        policy.max_attempts,
        policy.throttling_base_delay,
        policy.transient_base_delay,
        policy.max_delay,
        policy.retry_quota,
    ) == (3, 1.0, 0.05, 20.0, 500)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", 1.5),
        ("max_attempts", True),
        ("throttling_base_delay", -1),
        ("transient_base_delay", float("nan")),
        ("max_delay", "1"),
        ("max_delay", float("inf")),
        ("retry_quota", -5),
    ],
)
def test_invalid_policy_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        RetryPolicy(**{field: value})  # type: ignore[arg-type]


def test_policy_is_frozen() -> None:
    policy = RetryPolicy()
    with pytest.raises(AttributeError):
        policy.max_attempts = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("retry", "throttled", "random", "expected"),
    [
        (1, False, 1.0, 0.05),
        (2, False, 1.0, 0.1),
        (3, False, 0.5, 0.1),
        (1, True, 1.0, 1.0),
        (2, True, 1.0, 2.0),
        (5, True, 1.0, 16.0),
        (6, True, 1.0, 20.0),  # capped at max_delay
        (30, True, 0.25, 5.0),
        (1, True, 0.0, 0.0),
    ],
)
def test_backoff_table(retry: int, throttled: bool, random: float, expected: float) -> None:
    assert backoff_delay(RetryPolicy(), retry, throttled, random) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"x-amz-retry-after": "1500"}, 1.5),
        ({"X-Amz-Retry-After": "0"}, 0.0),
        ({"x-amz-retry-after": "soon", "Retry-After": "2"}, 2.0),
        ({"x-amz-retry-after": "-3"}, None),
        ({"x-amz-retry-after": "inf"}, None),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": " 7 "}, 7.0),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "garbage"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),
    ],
)
def test_retry_after_hint_never_raises(headers: dict[str, str], expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after_hint(headers, now=now) == expected


@pytest.mark.parametrize(
    ("computed", "hint", "expected"),
    [
        (0.5, None, 0.5),
        (0.5, 2.0, 2.0),  # a longer hint is honoured
        (0.5, 0.1, 0.5),  # never shorter than the backoff
        (0.5, 60.0, 5.5),  # at most 5 s more than the backoff
        (18.0, 60.0, 20.0),  # and never above max_delay
    ],
)
def test_hints_are_honoured_within_limits(
    computed: float, hint: float | None, expected: float
) -> None:
    assert apply_hint(RetryPolicy(), computed, hint) == pytest.approx(expected)


def _service(status: int, code: str | None) -> ServiceError:
    from cognito_events._errors import error_from_response

    headers = {"x-amzn-ErrorType": code} if code else {}
    return error_from_response(status, headers, b"{}")


@pytest.mark.parametrize(
    ("error", "throttling", "transient"),
    [
        (_service(429, None), True, False),
        (_service(400, "ThrottlingException"), True, False),
        (_service(429, "InvalidParameterException"), True, False),
        (_service(500, None), False, True),
        (_service(502, None), False, True),
        (_service(503, "ServiceUnavailable"), False, True),
        (_service(504, None), False, True),
        (_service(501, None), False, False),
        (_service(400, "InvalidParameterException"), False, False),
        (_service(403, "NotAuthorizedException"), False, False),
        (_service(404, None), False, False),
        (TransportError("reset"), False, True),
        (TransportError("bad header", retryable=False), False, False),
        (ValidationError([]), False, False),
    ],
)
def test_classification(error: Exception, throttling: bool, transient: bool) -> None:
    assert is_throttling(error) is throttling  # type: ignore[arg-type]
    assert is_transient(error) is transient  # type: ignore[arg-type]


def test_class_types_used_above() -> None:
    assert isinstance(_service(429, None), TooManyRequestsError)
    assert isinstance(_service(500, None), InternalError)
    assert isinstance(_service(400, "InvalidParameterException"), InvalidParameterError)


def test_quota_acquire_release_and_capacity() -> None:
    quota = RetryQuota(20)
    assert quota.acquire(14)
    assert quota.available == 6
    assert quota.acquire(5)
    assert not quota.acquire(5)
    assert quota.available == 1
    quota.release(14)
    assert quota.available == 15
    quota.release(100)
    assert quota.available == 20
    assert "available=20" in repr(quota)


def test_zero_capacity_means_no_quota() -> None:
    quota = RetryQuota(0)
    assert all(quota.acquire(14) for _ in range(100))
    quota.release(5)
    assert quota.available == 0


def test_quota_is_thread_safe() -> None:
    quota = RetryQuota(500)
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            ok = quota.acquire(5)
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 100
    assert quota.available == 0
