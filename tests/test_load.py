"""Load: threads sharing one client against the emulator (a separate process) behind a
front server that throttles a share of the requests.

Every call must end in success or ``TooManyRequestsError``; the server must have seen
exactly the attempts the calls account for; what a thread reads back is what its last
successful set wrote; the retry quota must stop a storm; memory must stay flat.

Short by default (a few seconds); ``CE_SOAK_SECONDS`` makes the long run that long.
Figures go to ``CE_FIGURES`` (see ``_loopback.record_figures``).
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote

import attrs
import pytest
import requests
from _loopback import (
    Budget,
    RetryCounter,
    ServeProcess,
    ThrottlingProxy,
    quiet,
    record_figures,
    refused_url,
    rss_bytes,
)

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    Credentials,
    RetryPolicy,
    TooManyRequestsError,
)
from cognito_events.testing import ISOLATED_ENVIRON

pytestmark = pytest.mark.soak

REGION = "us-east-1"
KEYS = Credentials("AKIDLOADTESTS", "load-tests-secret-key")
THREADS = 8  # within requests' pool of 10 connections per host: no connection churn
MIB = 1024 * 1024


def _pool(number: int) -> str:
    return f"{REGION}:{number:08x}-1111-4000-8000-000000000000"


def _arn(thread: int, call: int) -> str:
    return f"arn:aws:lambda:{REGION}:123456789012:function:load-t{thread}-c{call}"


def _client(
    url: str, session: requests.Session, sleep: RetryCounter, **options: object
) -> CognitoEventsClient:
    return CognitoEventsClient(
        region=REGION,
        credentials=KEYS,
        endpoint_url=url,
        environ=ISOLATED_ENVIRON,
        session=session,
        sleep=sleep,
        timeout=(5.0, 10.0),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        opened.trust_env = False
        yield opened


# =========================================================================== 30 % throttled


@attrs.define
class Tally:
    """What one thread's calls came to."""

    calls: int = 0
    successes: int = 0
    throttled: int = 0
    attempts: int = 0
    attempts_of_failures: Counter[int] = attrs.field(factory=Counter)
    #: The ARN the last successful set wrote, None before any.
    last_set: str | None = None
    stale_reads: list[tuple[int, dict[str, str], str | None]] = attrs.field(factory=list)
    #: Calls whose error's attempts disagree with the retries the client waited for.
    miscounted: list[int] = attrs.field(factory=list)
    unexpected: list[BaseException] = attrs.field(factory=list)


def _work(
    number: int,
    client: CognitoEventsClient,
    sleep: RetryCounter,
    tally: Tally,
    budget: Budget,
    start: threading.Barrier,
) -> None:
    pool = _pool(number)
    start.wait()
    while budget.more(tally.calls):
        call = tally.calls
        sleep.start_call()
        value = _arn(number, call)
        try:
            if call % 2 == 0:
                client.set_cognito_events(pool, {SYNC_TRIGGER: value})
                tally.last_set = value
            else:
                got = client.get_cognito_events(pool)
                want = {} if tally.last_set is None else {SYNC_TRIGGER: tally.last_set}
                if got != want:
                    tally.stale_reads.append((call, got, tally.last_set))
            tally.successes += 1
            tally.attempts += 1 + sleep.retries
        except TooManyRequestsError as exc:
            tally.throttled += 1
            tally.attempts += exc.attempts
            tally.attempts_of_failures[exc.attempts] += 1
            if exc.attempts != 1 + sleep.retries:
                tally.miscounted.append(call)
        except BaseException as exc:  # anything else is a failure of the test
            tally.unexpected.append(exc)
            return
        tally.calls += 1


def _run(
    client: CognitoEventsClient, sleep: RetryCounter, tallies: list[Tally], budget: Budget
) -> float:
    start = threading.Barrier(len(tallies) + 1)
    workers = [
        threading.Thread(target=_work, args=(n, client, sleep, tally, budget, start))
        for n, tally in enumerate(tallies)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.monotonic()
    for worker in workers:
        worker.join()
    return time.monotonic() - began


def _stored(emulator: ServeProcess, pool: str) -> dict[str, str]:
    """A pool's events as the emulator stores them (its admin API, unsigned)."""
    with requests.Session() as admin:
        admin.trust_env = False
        answer = admin.get(f"{emulator.url}/_emulator/identity-pools/{quote(pool, safe='')}")
    answer.raise_for_status()
    events: dict[str, str] = answer.json()["events"]
    return events


def test_throttled_load_accounts_for_every_call_and_memory_stays_flat(
    session: requests.Session,
) -> None:
    pools = [_pool(n) for n in range(THREADS)]
    sleep = RetryCounter()
    tallies = [Tally() for _ in range(THREADS)]
    with (
        ServeProcess(identity_pools=pools, credentials=KEYS) as emulator,
        ThrottlingProxy(emulator.url, fraction=0.3, seed=20240601) as proxy,
    ):
        client = _client(proxy.url, session, sleep)
        # Warm-up, with the session's recorders on: connections, routes, caches fill up,
        # and the secrets sweep (when installed) sees a sample of throttled traffic.
        warmup_seconds = _run(client, sleep, tallies, Budget(count=40, seconds=30.0, scales=False))
        warmup_calls = sum(t.calls for t in tallies)
        with quiet():
            gc.collect()
            rss_start = rss_bytes()
            budget = Budget(count=40 + 400, seconds=10.0)
            seconds = _run(client, sleep, tallies, budget)
            gc.collect()
            rss_end = rss_bytes()
        received, throttled, forwarded = proxy.received, proxy.throttled, proxy.forwarded
        upstream = dict(proxy.upstream_statuses)
        stored = {pool: _stored(emulator, pool) for pool in pools}
        quota_left = client._quota.available

    unexpected = [exc for t in tallies for exc in t.unexpected]
    assert unexpected == []
    assert [t.stale_reads for t in tallies] == [[]] * THREADS
    assert [t.miscounted for t in tallies] == [[]] * THREADS
    calls = sum(t.calls for t in tallies)
    successes = sum(t.successes for t in tallies)
    failures = sum(t.throttled for t in tallies)
    attempts = sum(t.attempts for t in tallies)
    failure_attempts = sum((t.attempts_of_failures for t in tallies), Counter[int]())

    # Nothing lost, nothing duplicated: each attempt is one request the server saw; each
    # success is the one request that got through, each failure got none through.
    assert calls == successes + failures
    assert attempts == received
    assert forwarded == successes
    assert upstream == {200: successes}
    assert throttled == attempts - successes
    # At 30 % the quota never gets in the way: every failure used all three attempts.
    assert set(failure_attempts) <= {3}
    if received >= 1000:
        assert 0.25 <= throttled / received <= 0.35
        assert failures > 0  # about 2.7 % of calls are throttled three times running
    # What the emulator keeps is what each thread's last successful set wrote.
    assert stored == {
        _pool(n): ({} if t.last_set is None else {SYNC_TRIGGER: t.last_set})
        for n, t in enumerate(tallies)
    }
    growth = rss_end - rss_start
    assert growth < 10 * MIB

    measured_calls = calls - warmup_calls
    record_figures(
        "load",
        "30 % throttled, shared client",
        {
            "threads": THREADS,
            "calls": calls,
            "successes": successes,
            "too_many_requests_errors": failures,
            "attempts": attempts,
            "server_requests": received,
            "server_throttled": throttled,
            "throttle_rate": round(throttled / received, 4),
            "retry_delay_asked_total_seconds": round(sum(sleep.delays), 1),
            "quota_left": quota_left,
            "warmup_seconds": round(warmup_seconds, 3),
            "measured_seconds": round(seconds, 3),
            "measured_calls": measured_calls,
            "calls_per_second": round(measured_calls / seconds, 1),
            "requests_per_second": round(received / (warmup_seconds + seconds), 1),
            "rss_start_mib": round(rss_start / MIB, 2),
            "rss_end_mib": round(rss_end / MIB, 2),
            "rss_growth_mib": round(growth / MIB, 2),
            "soak": budget.soak,
        },
    )


# =========================================================================== 100 % throttled


def test_the_retry_quota_stops_a_throttling_storm(session: requests.Session) -> None:
    """Default quota: 500 tokens, 5 per throttling retry, nothing back without a success:
    100 retries in all, however many calls and threads, then one attempt per call."""
    sequential_calls = 70
    threaded_calls = THREADS * 25
    unlimited_calls = 40
    with ThrottlingProxy(refused_url(), fraction=1.0, retry_after_ms=0) as proxy, quiet():
        # One thread: the quota runs out after exactly 50 calls of 3 attempts.
        sleep = RetryCounter()
        client = _client(proxy.url, session, sleep, random=lambda: 0.5)
        attempts: list[int] = []
        started = time.monotonic()
        for call in range(sequential_calls):
            with pytest.raises(TooManyRequestsError) as caught:
                client.get_cognito_events(_pool(call))
            attempts.append(caught.value.attempts)
        sequential_seconds = time.monotonic() - started
        assert attempts == [3] * 50 + [1] * (sequential_calls - 50)
        assert proxy.received == sum(attempts) == sequential_calls + 100
        assert len(sleep.delays) == 100
        assert client._quota.available == 0

        # Many threads sharing a fresh client: the same 100 retries in total.
        sleep = RetryCounter()
        client = _client(proxy.url, session, sleep, random=lambda: 0.5)
        before = proxy.received
        outcomes: list[tuple[float, int]] = []
        others: list[BaseException] = []
        lock = threading.Lock()

        def storm(number: int) -> None:
            for call in range(threaded_calls // THREADS):
                try:
                    client.set_cognito_events(_pool(number), {SYNC_TRIGGER: _arn(number, call)})
                except TooManyRequestsError as exc:
                    with lock:
                        outcomes.append((time.monotonic(), exc.attempts))
                except BaseException as exc:
                    others.append(exc)

        started = time.monotonic()
        workers = [threading.Thread(target=storm, args=(n,)) for n in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        threaded_seconds = time.monotonic() - started
        assert others == []
        threaded_attempts = [count for _, count in sorted(outcomes)]
        assert len(threaded_attempts) == threaded_calls
        assert proxy.received - before == sum(threaded_attempts) == threaded_calls + 100
        assert 2 * sum(threaded_attempts) <= threaded_calls * 3  # half of what it could be
        assert len(sleep.delays) == 100

        # The same storm without a quota: every call makes all its attempts.
        client = _client(proxy.url, session, RetryCounter(), retry=RetryPolicy(retry_quota=0))
        before = proxy.received
        for call in range(unlimited_calls):
            with pytest.raises(TooManyRequestsError):
                client.get_cognito_events(_pool(call))
        assert proxy.received - before == unlimited_calls * 3

    assert sequential_seconds < 5.0
    assert threaded_seconds < 5.0
    record_figures(
        "storms",
        "100 % throttled, default quota",
        {
            "sequential": {
                "calls": sequential_calls,
                "attempts": sum(attempts),
                "attempts_without_a_quota": sequential_calls * 3,
                "quota_drained_at_call": attempts.index(1) + 1,
                "seconds": round(sequential_seconds, 4),
            },
            "threaded": {
                "threads": THREADS,
                "calls": threaded_calls,
                "attempts": sum(threaded_attempts),
                "attempts_without_a_quota": threaded_calls * 3,
                "quota_drained_at_call": threaded_attempts.index(1) + 1,
                "seconds": round(threaded_seconds, 4),
            },
        },
    )
