"""Faults, one at a time: what the client does about each, how many attempts it makes, how
long it takes, and what it raises; against the emulator and small loopback servers.

Nothing here sleeps for a retry: the clients get a ``sleep`` that only records. The only
real waiting is what a fault takes by nature (a read timeout, a slow drip, a real expiry).
Figures go to ``CE_FIGURES`` (see ``_loopback.record_figures``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import attrs
import pytest
import requests
from _loopback import (
    Behaviour,
    CredentialsEndpoint,
    RawServer,
    RetryCounter,
    answer,
    drip,
    http_response,
    in_turn,
    record_figures,
    refused_url,
    reset_before_answer,
    reset_mid_response,
    silent,
)

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    CognitoEventsError,
    ConnectError,
    ConnectionLostError,
    Credentials,
    InternalError,
    NotAuthorizedError,
    ReadTimeoutError,
    TooManyRequestsError,
)
from cognito_events._credentials import SourceSettings
from cognito_events._emulator import EmulatorServer, ErrorFault
from cognito_events._fetchers import container_source
from cognito_events._providers import RefreshingProvider
from cognito_events.testing import ISOLATED_ENVIRON, Emulator

pytestmark = pytest.mark.soak

REGION = "us-east-1"
POOL = f"{REGION}:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
KEYS = Credentials("AKIDFAULTTABLE", "fault-table-secret")
EVENTS_BODY = b'{"Events": {"SyncTrigger": "' + ARN.encode() + b'"}}'
#: (connect, read) seconds for every client in the table: a stalled server costs 0.25 s.
TIMEOUT = (1.0, 0.25)
READ_TIMEOUT = TIMEOUT[1]


def _half() -> float:
    return 0.5


def _session(stack: contextlib.ExitStack) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    stack.callback(session.close)
    return session


def _wait_for(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    """Poll ``condition`` (a server catching up with a delayed request) for up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


# =========================================================================== the table


@attrs.frozen
class Target:
    """Where a row's client sends, and how to count what the server saw."""

    url: str
    seen: Callable[[], int]
    #: What a successful get returns there.
    events: dict[str, str]
    emulator: Emulator | None = None
    #: The server's clock is off: the first attempt is refused and re-signed, without a wait.
    skewed: bool = False


Arrange = Callable[[contextlib.ExitStack], Target]


def emulator(*faults: dict[str, Any], skew_minutes: int = 0) -> Arrange:
    """The emulator (its clock ``skew_minutes`` ahead), with ``faults`` queued."""

    def arrange(stack: contextlib.ExitStack) -> Target:
        running = stack.enter_context(
            Emulator(
                REGION,
                credentials=KEYS,
                identity_pools=[POOL],
                clock_offset=timedelta(minutes=skew_minutes),
            )
        )
        for fault in faults:
            running.inject_fault(**fault)
        return Target(
            running.endpoint_url,
            lambda: len(running.requests),
            {},
            running,
            skewed=skew_minutes != 0,
        )

    return arrange


def raw(behaviour: Behaviour) -> Arrange:
    def arrange(stack: contextlib.ExitStack) -> Target:
        server = stack.enter_context(RawServer(behaviour))
        return Target(server.url, lambda: server.requests, {SYNC_TRIGGER: ARN})

    return arrange


def refused(stack: contextlib.ExitStack) -> Target:
    return Target(refused_url(), lambda: 0, {})


@attrs.frozen
class Row:
    """One fault: what the call must end in, after how many attempts, within how long."""

    name: str
    arrange: Arrange
    #: The error class raised, or None for success.
    expected: type[CognitoEventsError] | None
    attempts: int
    max_seconds: float
    min_seconds: float = 0.0
    operation: str = "get"
    #: The retry delays the client asks for (random() is 0.5), when they are checked.
    delays: tuple[float, ...] | None = None
    #: Requests the server must have seen, when not ``attempts``.
    seen: int | None = None
    #: A fragment the error message must contain.
    message: str | None = None


FAST = 1.0  # seconds: a row that waits for nothing
TIMED = 3.0  # seconds: a row that waits for read timeouts
_STALL_IN_BODY = len(http_response(200, EVENTS_BODY)) - 20

ROWS = [
    # -- no connection, or a broken one
    Row("connection refused", refused, ConnectError, 3, FAST, seen=0,
        delays=(0.025, 0.05), message="connection failed"),
    Row("reset before any answer", raw(reset_before_answer), ConnectionLostError, 3, FAST,
        delays=(0.025, 0.05)),
    Row("reset mid-response", raw(reset_mid_response), ConnectionLostError, 3, FAST,
        message="connection lost"),
    Row("reset once, then an answer", raw(in_turn(reset_before_answer, answer(EVENTS_BODY))),
        None, 2, FAST, delays=(0.025,)),
    Row("emulator drops the connection once", emulator({"kind": "drop"}), None, 2, FAST,
        operation="set"),
    # -- slow servers (these wait for real: a read timeout is 0.25 s)
    Row("read timeout: never answers", raw(silent), ReadTimeoutError, 3, TIMED,
        min_seconds=3 * READ_TIMEOUT, message="read timeout"),
    Row("slow drip that completes: 0.5 s in total, 20 ms between chunks",
        raw(drip(EVENTS_BODY, chunk=8, interval=0.02)), None, 1, TIMED,
        min_seconds=1.5 * READ_TIMEOUT),
    Row("slow drip that stalls in the head", raw(drip(EVENTS_BODY, chunk=8, interval=0.02,
        stall_at=20)), ReadTimeoutError, 3, TIMED, min_seconds=3 * READ_TIMEOUT,
        message="read timeout"),
    Row("slow drip that stalls in the body", raw(drip(EVENTS_BODY, chunk=64, interval=0.02,
        stall_at=_STALL_IN_BODY)), ReadTimeoutError, 3, TIMED, min_seconds=3 * READ_TIMEOUT,
        message="read timeout"),
    Row("emulator answers after the read timeout once (set applied twice)",
        emulator({"kind": "delay", "seconds": 0.5}), None, 2, TIMED,
        min_seconds=READ_TIMEOUT, operation="set"),
    # -- 5xx
    Row("503 twice, then 200", emulator({"status": 503, "count": 2}), None, 3, FAST,
        delays=(0.025, 0.05)),
    Row("500 storm", emulator({"status": 500, "count": 50}), InternalError, 3, FAST,
        delays=(0.025, 0.05), operation="set"),
    Row("502 storm", emulator({"status": 502, "code": "BadGateway", "count": 50}),
        InternalError, 3, FAST),
    Row("504 once, then 200", emulator({"status": 504, "code": "GatewayTimeout"}), None, 2,
        FAST),
    Row("501 is not retried", emulator({"status": 501, "code": "NotImplemented", "count": 5}),
        InternalError, 1, FAST, delays=()),
    # -- throttling
    Row("429 without retry-after, twice", emulator({"status": 429, "count": 2}), None, 3, FAST,
        delays=(0.5, 1.0)),
    Row("429 without retry-after, until the attempts run out",
        emulator({"status": 429, "count": 50}), TooManyRequestsError, 3, FAST,
        delays=(0.5, 1.0), operation="set"),
    Row("429 with x-amz-retry-after 3000 ms, twice (asked, not slept)",
        emulator({"status": 429, "count": 2, "retry_after_ms": 3000}), None, 3, FAST,
        delays=(3.0, 3.0)),
    Row("429 with x-amz-retry-after 0 ms keeps the backoff",
        emulator({"status": 429, "count": 2, "retry_after_ms": 0}), None, 3, FAST,
        delays=(0.5, 1.0)),
    Row("429 with x-amz-retry-after 600000 ms is capped at backoff + 5 s",
        emulator({"status": 429, "retry_after_ms": 600_000}), None, 2, FAST, delays=(5.5,)),
    Row("400 ThrottlingException is throttling",
        emulator({"status": 400, "code": "ThrottlingException"}), None, 2, FAST, delays=(0.5,)),
    # -- clock skew (a re-signed retry is free: not counted against max_attempts, no wait)
    Row("server clock 10 min ahead", emulator(skew_minutes=10), None, 2, FAST, delays=()),
    Row("server clock 10 min behind", emulator(skew_minutes=-10), None, 2, FAST, delays=(),
        operation="set"),
    Row("skew, then 429 twice", emulator({"status": 429, "count": 2}, skew_minutes=10), None, 4,
        FAST, delays=(0.5, 1.0)),
    Row("skew, then 429 until the attempts run out",
        emulator({"status": 429, "count": 50}, skew_minutes=-10), TooManyRequestsError, 4,
        FAST, delays=(0.5, 1.0)),
    Row("skew, then a dropped connection", emulator({"kind": "drop"}, skew_minutes=30), None, 3,
        FAST, delays=(0.025,), operation="set"),
    # -- refusals that are not retried
    Row("ExpiredTokenException is not retried",
        emulator({"status": 403, "code": "ExpiredTokenException", "count": 5}),
        NotAuthorizedError, 1, FAST, delays=()),
]  # fmt: skip


@pytest.mark.parametrize("row", [pytest.param(row, id=row.name) for row in ROWS])
def test_fault_table(row: Row) -> None:
    sleep = RetryCounter()
    with contextlib.ExitStack() as stack:
        target = row.arrange(stack)
        client = CognitoEventsClient(
            region=REGION,
            credentials=KEYS,
            endpoint_url=target.url,
            environ=ISOLATED_ENVIRON,
            session=_session(stack),
            timeout=TIMEOUT,
            sleep=sleep,
            random=_half,
        )
        error: CognitoEventsError | None = None
        result: dict[str, str] | None = None
        started = time.monotonic()
        try:
            if row.operation == "set":
                client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
            else:
                result = client.get_cognito_events(POOL)
        except CognitoEventsError as exc:
            error = exc
        elapsed = time.monotonic() - started
        expected_seen = row.attempts if row.seen is None else row.seen
        # A request the client gave up on may still be on its way through the server.
        _wait_for(lambda: target.seen() >= expected_seen, seconds=2.0)
        seen = target.seen()
        stored = (
            target.emulator.events(POOL)
            if target.emulator is not None and row.operation == "set"
            else None
        )

    attempts: int | None = getattr(error, "attempts", None)
    record_figures(
        "fault_table",
        row.name,
        {
            "outcome": "success" if error is None else type(error).__name__,
            "attempts": seen if attempts is None else attempts,
            "server_requests": seen,
            "seconds": round(elapsed, 4),
            "retry_delays_asked": sleep.delays,
        },
    )

    if row.expected is None:
        assert error is None, f"expected success, got {error!r}"
        if row.operation == "get":
            assert result == target.events
    else:
        assert type(error) is row.expected, f"expected {row.expected.__name__}, got {error!r}"
        assert attempts == row.attempts
        if row.message is not None:
            assert row.message in str(error)
    assert seen == expected_seen
    assert len(sleep.delays) == row.attempts - 1 - target.skewed
    if row.delays is not None:
        assert sleep.delays == pytest.approx(list(row.delays))
    assert row.min_seconds <= elapsed < row.max_seconds
    if stored is not None:
        assert stored == ({SYNC_TRIGGER: ARN} if error is None else {})


# =========================================================================== 5xx storm


def test_a_5xx_storm_drains_the_retry_quota_then_successes_refill_it() -> None:
    """The default quota (500 tokens, 14 per transient retry) allows 35 retries in all."""
    sleep = RetryCounter()
    calls = 30
    with (
        Emulator(REGION, credentials=KEYS, identity_pools=[POOL]) as running,
        running.client(sleep=sleep, random=_half) as client,
    ):
        running.inject_fault(status=503, count=10_000)
        attempts: list[int] = []
        started = time.monotonic()
        for _ in range(calls):
            with pytest.raises(InternalError) as caught:
                client.get_cognito_events(POOL)
            attempts.append(caught.value.attempts)
        elapsed = time.monotonic() - started
        seen = len(running.requests)
        retries = len(sleep.delays)
        asked = sum(sleep.delays)

        # 500 - 17 calls * 2 retries * 14 = 24; call 18 retries once (10 left); then none.
        assert attempts == [3] * 17 + [2] + [1] * (calls - 18)
        assert seen == sum(attempts) == 65
        assert retries == 35
        assert elapsed < 3.0

        # Recovery: each first-attempt success gives one token back; 14 buy a retry.
        running.reset()
        for _ in range(3):
            client.get_cognito_events(POOL)  # 10 -> 13 tokens
        running.inject_fault(status=503)
        with pytest.raises(InternalError) as starved:
            client.get_cognito_events(POOL)
        assert starved.value.attempts == 1  # 13 < 14
        client.get_cognito_events(POOL)  # 14 tokens
        running.inject_fault(status=503)
        assert client.get_cognito_events(POOL) == {}  # retried once, and refunded
        assert [r.status for r in running.requests] == [200, 200, 200, 503, 200, 503, 200]

    record_figures(
        "storms",
        "5xx storm, default quota",
        {
            "calls": calls,
            "attempts": sum(attempts),
            "attempts_without_a_quota": calls * 3,
            "quota_drained_at_call": attempts.index(1) + 1,
            "retries": retries,
            "retry_delay_asked_total_seconds": round(asked, 3),
            "seconds": round(elapsed, 4),
        },
    )


# =========================================================================== credentials


class KeyRing:
    """A ``credentials=`` callable whose keys the test rotates."""

    def __init__(self, current: Credentials) -> None:
        self.current = current
        self.calls = 0

    def __call__(self) -> Credentials:
        self.calls += 1
        return self.current


def accept_only(server: EmulatorServer, credentials: Credentials) -> None:
    """From now on the emulator accepts these keys and no others (the old ones expired)."""
    server.credentials_by_key = {credentials.access_key_id: credentials}


def signed_with(server: EmulatorServer) -> list[tuple[str, int | None]]:
    """(access key id, status) of each request the emulator received."""
    found = []
    for entry in server.requests.entries():
        credential = entry.headers["authorization"].split("Credential=", 1)[1]
        found.append((credential.split("/", 1)[0], entry.status))
    return found


@contextlib.contextmanager
def emulator_server(*credentials: Credentials) -> Iterator[EmulatorServer]:
    server = EmulatorServer(credentials=credentials, identity_pools=[POOL]).start()
    try:
        yield server
    finally:
        server.shutdown()


def test_rotated_keys_are_used_by_the_next_call_and_by_the_next_attempt() -> None:
    old = Credentials("AKIDROTATEOLD", "old-secret")
    new = Credentials("ASIAROTATENEW", "new-secret", "new-token")
    newer = Credentials("ASIAROTATENEWER", "newer-secret", "newer-token")
    ring = KeyRing(old)
    sleep = RetryCounter()

    def rotate_while_waiting(seconds: float) -> None:
        sleep(seconds)
        ring.current = newer  # the keys expire during the backoff...
        accept_only(server, newer)  # ...and the service stops taking the old ones

    with contextlib.ExitStack() as stack:
        server = stack.enter_context(emulator_server(old))
        client = CognitoEventsClient(
            region=REGION,
            credentials=ring,
            endpoint_url=server.endpoint_url,
            environ=ISOLATED_ENVIRON,
            session=_session(stack),
            sleep=rotate_while_waiting,
            random=_half,
        )
        started = time.monotonic()
        client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})

        # The service revokes the keys before the source has new ones: refused, not retried.
        accept_only(server, new)
        with pytest.raises(NotAuthorizedError) as revoked:
            client.get_cognito_events(POOL)
        assert (revoked.value.code, revoked.value.attempts) == ("UnrecognizedClientException", 1)

        # The source hands out the new keys: the very next call uses them.
        ring.current = new
        assert client.get_cognito_events(POOL) == {SYNC_TRIGGER: ARN}

        # Throttled, and the keys change while the client waits: the retry re-signs.
        server.faults.add(ErrorFault(status=429, code="TooManyRequestsException"))
        client.set_cognito_events(POOL, {SYNC_TRIGGER: ""})
        elapsed = time.monotonic() - started
        log = signed_with(server)
        entries = server.requests.entries()

    assert log == [
        ("AKIDROTATEOLD", 200),
        ("AKIDROTATEOLD", 403),
        ("ASIAROTATENEW", 200),
        ("ASIAROTATENEW", 429),
        ("ASIAROTATENEWER", 200),
    ]
    assert all(e.headers.get("x-amz-security-token") == "<redacted>" for e in entries[2:])
    assert ring.calls == 5  # read once per attempt
    assert sleep.delays == [0.5]
    assert elapsed < FAST
    record_figures(
        "credentials",
        "rotated keys (callable source)",
        {"attempts": len(log), "keys_used": [key for key, _ in log], "seconds": elapsed},
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_container_credentials_refresh_on_an_injected_clock() -> None:
    """An hour-long lease: kept for 45 min, refreshed in the advisory window (a failure
    there keeps the current keys), refused in the mandatory window if the endpoint is
    down, and picked up again when it is back; no real time passes."""
    clock = FakeClock()
    pauses: list[float] = []
    placeholder = Credentials("AKIDPLACEHOLDER", "nobody-signs-with-this")
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(emulator_server(placeholder))
        endpoint = stack.enter_context(
            CredentialsEndpoint(
                lifetime=3600, clock=clock, on_issue=lambda keys: accept_only(server, keys)
            )
        )
        environ = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.credentials_url}
        source = container_source(
            environ,
            settings=SourceSettings(container_timeout=2.0, container_attempts=2, retry_pause=1),
            sleep=pauses.append,
        )
        assert source is not None
        provider = RefreshingProvider(source.fetch, name=source.name, clock=clock)
        client = CognitoEventsClient(
            region=REGION,
            credentials=provider.get,
            endpoint_url=server.endpoint_url,
            environ=ISOLATED_ENVIRON,
            session=_session(stack),
            sleep=RetryCounter(),
        )
        started = time.monotonic()
        steps: list[tuple[str, int, str]] = []

        def step(label: str, minutes: float) -> str:
            clock.now += minutes * 60
            try:
                client.get_cognito_events(POOL)
                outcome = "ok"
            except CognitoEventsError as exc:
                outcome = type(exc).__name__
            steps.append((label, endpoint.calls, outcome))
            return outcome

        assert step("first call fetches", 0) == "ok"
        assert step("40 min: cached", 40) == "ok"
        assert step("46 min: advisory refresh", 6) == "ok"
        endpoint.failing = True
        assert step("+46 min: advisory refresh fails, keys kept", 46) == "ok"
        assert step("+51 min: mandatory refresh fails", 5) == "CredentialsError"
        requests_before_recovery = len(server.requests.entries())
        endpoint.failing = False
        assert step("endpoint back", 0) == "ok"
        assert step("+2 h: expired, refreshed before use", 120) == "ok"
        elapsed = time.monotonic() - started
        log = signed_with(server)

    assert [calls for _, calls, _ in steps] == [1, 1, 2, 4, 6, 7, 8]
    assert pauses == [1, 1]  # one pause per failed fetch (2 attempts each), never slept
    assert requests_before_recovery == 4  # the refused call sent nothing
    assert log == [
        ("ASIALOOPBACK1", 200),
        ("ASIALOOPBACK1", 200),
        ("ASIALOOPBACK2", 200),
        ("ASIALOOPBACK2", 200),
        ("ASIALOOPBACK3", 200),
        ("ASIALOOPBACK4", 200),
    ]
    assert elapsed < FAST
    record_figures(
        "credentials",
        "container credentials, injected clock",
        {"steps": steps, "endpoint_calls": endpoint.calls, "seconds": elapsed},
    )


def test_container_credentials_expiring_in_real_time_through_the_default_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The client's own chain (real clock) with 1-second leases: once half a lease has
    passed, the next calls wait for one refresh together, and all use the new keys (the
    emulator stops accepting a key as soon as the next is issued)."""
    lifetime = 1.0
    windows = 3
    threads = 4
    placeholder = Credentials("AKIDPLACEHOLDER", "nobody-signs-with-this")
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(emulator_server(placeholder))
        endpoint = stack.enter_context(
            CredentialsEndpoint(lifetime=lifetime, on_issue=lambda keys: accept_only(server, keys))
        )
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.credentials_url)
        client = CognitoEventsClient(
            region=REGION,
            endpoint_url=server.endpoint_url,
            session=_session(stack),
            sleep=RetryCounter(),
        )
        started = time.monotonic()
        client.get_cognito_events(POOL)
        failures: list[BaseException] = []
        window_seconds: list[float] = []

        def call(barrier: threading.Barrier) -> None:
            try:
                barrier.wait()
                client.get_cognito_events(POOL)
            except BaseException as exc:
                failures.append(exc)

        for _ in range(windows):
            # Wait until 60 % of the lease is gone: past the mandatory refresh point (50 %).
            wake = endpoint.expirations[-1] - 0.4 * lifetime
            time.sleep(max(0.0, wake - time.time()))
            barrier = threading.Barrier(threads)
            workers = [threading.Thread(target=call, args=(barrier,)) for _ in range(threads)]
            window_started = time.monotonic()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            window_seconds.append(time.monotonic() - window_started)
        elapsed = time.monotonic() - started
        log = signed_with(server)

    assert failures == []
    assert endpoint.calls == windows + 1  # one refresh per lease, not one per caller
    expected = [("ASIALOOPBACK1", 200)]
    for window in range(windows):
        expected += [(f"ASIALOOPBACK{window + 2}", 200)] * threads
    assert log == expected
    assert max(window_seconds) < 0.5
    assert elapsed < windows * lifetime + 2
    record_figures(
        "credentials",
        "container credentials, 1 s leases, default chain",
        {
            "calls": 1 + windows * threads,
            "endpoint_calls": endpoint.calls,
            "slowest_window_seconds": max(window_seconds),
            "seconds": elapsed,
        },
    )
