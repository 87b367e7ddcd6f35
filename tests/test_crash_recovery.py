"""The emulator (``cognito-events serve --db``, a separate process) is SIGKILLed in the
middle of a stream of sets, then started again on the same database: every set that got
a 200 must be there, and nothing that was never sent.

Two kill-and-restart cycles by default; under ``CE_SOAK_SECONDS`` as many as fit.
Figures go to ``CE_FIGURES`` (see ``_loopback.record_figures``).
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import attrs
import pytest
import requests
from _loopback import Budget, RetryCounter, ServeProcess, record_figures

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    CognitoEventsError,
    Credentials,
    TransportError,
)
from cognito_events.testing import ISOLATED_ENVIRON

pytestmark = pytest.mark.soak

REGION = "us-east-1"
KEYS = Credentials("AKIDCRASHTESTS", "crash-tests-secret-key")
POOLS = [f"{REGION}:{number:08x}-2222-4000-8000-000000000000" for number in range(50)]
STREAMERS = 4


def _arn(cycle: int, streamer: int, number: int) -> str:
    return f"arn:aws:lambda:{REGION}:123456789012:function:crash-c{cycle}-s{streamer}-n{number}"


@attrs.frozen
class Cycle:
    acknowledged_before_kill: int
    sets_acknowledged: int
    sets_sent: int
    unacknowledged_at_kill: int
    unacknowledged_but_stored: int
    restart_seconds: float


@attrs.define
class Stream:
    """One streaming thread's record: what got a 200, and what was sent without one."""

    pools: list[str]
    acknowledged: dict[str, str] = attrs.field(factory=dict)
    #: Sent (perhaps stored) but never acknowledged: the set the kill cut short.
    unacknowledged: dict[str, str] = attrs.field(factory=dict)
    sent: int = 0
    acks: int = 0
    ended_by: BaseException | None = None


def _stream(
    client: CognitoEventsClient,
    cycle: int,
    number: int,
    stream: Stream,
    acknowledged: threading.Semaphore,
) -> None:
    for count in range(10**9):
        pool = stream.pools[count % len(stream.pools)]
        arn = _arn(cycle, number, count)
        stream.sent += 1
        try:
            client.set_cognito_events(pool, {SYNC_TRIGGER: arn})
        except BaseException as exc:
            stream.unacknowledged[pool] = arn
            stream.ended_by = exc
            return
        stream.acknowledged[pool] = arn
        stream.acks += 1
        acknowledged.release()


def _client(url: str, session: requests.Session) -> CognitoEventsClient:
    return CognitoEventsClient(
        region=REGION,
        credentials=KEYS,
        endpoint_url=url,
        environ=ISOLATED_ENVIRON,
        session=session,
        sleep=RetryCounter(),
        timeout=(2.0, 5.0),
    )


def test_sigkill_mid_stream_loses_no_acknowledged_set(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite"
    chooser = random.Random(7)
    budget = Budget(count=2, seconds=60.0)
    #: Each pool's SyncTrigger as last verified (None: never set).
    verified: dict[str, str | None] = dict.fromkeys(POOLS)
    cycles: list[Cycle] = []
    session = requests.Session()
    session.trust_env = False
    server = ServeProcess(identity_pools=POOLS, credentials=KEYS, db=db)
    try:
        while budget.more(len(cycles)):
            cycle = len(cycles)
            target = chooser.randrange(100, 400)  # acknowledged sets before the kill
            streams = [Stream(POOLS[number::STREAMERS]) for number in range(STREAMERS)]
            acknowledged = threading.Semaphore(0)
            client = _client(server.url, session)
            threads = [
                threading.Thread(target=_stream, args=(client, cycle, number, stream, acknowledged))
                for number, stream in enumerate(streams)
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 30
            for _ in range(target):
                assert acknowledged.acquire(timeout=max(0.0, deadline - time.monotonic()))
            server.kill()  # mid-stream: the streamers are still sending
            for thread in threads:
                thread.join(timeout=30)
                assert not thread.is_alive()
            session.close()
            server.stop()  # releases the pipes of the killed process

            server = ServeProcess(identity_pools=POOLS, credentials=KEYS, db=db)
            client = _client(server.url, session)
            found = {pool: client.get_cognito_events(pool) for pool in POOLS}
            with requests.Session() as admin:
                admin.trust_env = False
                everything = admin.get(f"{server.url}/_emulator/events").json()["events"]

            for stream in streams:
                assert isinstance(stream.ended_by, TransportError), stream.ended_by
                assert isinstance(stream.ended_by, CognitoEventsError)
            # Every pool holds its last acknowledged set, or the one the kill cut short
            # (sent, perhaps stored, never acknowledged); before any, what was verified.
            wrong: list[tuple[str, str | None, str | None, str | None]] = []
            cut_short_stored = 0
            for stream in streams:
                for pool in stream.pools:
                    value = found[pool].get(SYNC_TRIGGER)
                    last = stream.acknowledged.get(pool, verified[pool])
                    cut_short = stream.unacknowledged.get(pool)
                    if value is not None and value == cut_short != last:
                        cut_short_stored += 1
                    elif value != last:
                        wrong.append((pool, value, last, cut_short))
                    verified[pool] = value
            assert wrong == []
            # Nothing else appeared: no other pool, no other event, the same answers.
            assert all(set(events) <= {SYNC_TRIGGER} for events in found.values())
            assert everything == found

            cycles.append(
                Cycle(
                    acknowledged_before_kill=target,
                    sets_acknowledged=sum(s.acks for s in streams),
                    sets_sent=sum(s.sent for s in streams),
                    unacknowledged_at_kill=sum(len(s.unacknowledged) for s in streams),
                    unacknowledged_but_stored=cut_short_stored,
                    restart_seconds=round(server.startup_seconds, 3),
                )
            )
    finally:
        session.close()
        server.stop()

    assert len(cycles) >= 1
    record_figures(
        "crash_recovery",
        "SIGKILL mid-stream, --db",
        {
            "cycles": len(cycles),
            "pools": len(POOLS),
            "streamers": STREAMERS,
            "sets_acknowledged": sum(c.sets_acknowledged for c in cycles),
            "sets_sent": sum(c.sets_sent for c in cycles),
            "seconds": round(budget.elapsed(), 3),
            "per_cycle": [attrs.asdict(c) for c in cycles],
        },
    )
