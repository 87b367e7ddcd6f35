"""cognito_events.testing.Emulator: the Python API tests use to drive the emulator."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    Credentials,
    InternalError,
    RetryPolicy,
    TransportError,
)
from cognito_events.testing import (
    DEV_CREDENTIALS,
    DelayFault,
    DropFault,
    Emulator,
    ErrorFault,
    Fault,
    RecordedRequest,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"


def test_defaults() -> None:
    with Emulator() as emulator:
        assert emulator.region == "us-east-1"
        assert emulator.credentials == DEV_CREDENTIALS
        assert DEV_CREDENTIALS.access_key_id == "AKIDCOGNITOEVENTSEMU"
        assert emulator.endpoint_url.startswith("http://127.0.0.1:")
        assert emulator.identity_pools == []
        assert emulator.requests == []
        assert emulator.clock_offset == timedelta(0)
        assert repr(emulator) == f"Emulator(region='us-east-1', {emulator.endpoint_url})"
    assert repr(emulator) == "Emulator(region='us-east-1', not running)"


def test_add_and_remove_identity_pools() -> None:
    with Emulator("eu-west-1") as emulator:
        generated = emulator.add_identity_pool()
        region, _, guid = generated.partition(":")
        assert region == "eu-west-1"
        assert uuid.UUID(guid).version == 4
        assert emulator.add_identity_pool("eu-west-1:abc-123") == "eu-west-1:abc-123"
        assert emulator.add_identity_pool("eu-west-1:abc-123") == "eu-west-1:abc-123"
        assert emulator.identity_pools == sorted([generated, "eu-west-1:abc-123"])
        assert emulator.events(generated) == {}
        emulator.remove_identity_pool(generated)
        with pytest.raises(KeyError):
            emulator.remove_identity_pool(generated)
        with pytest.raises(KeyError):
            emulator.events(generated)
        with pytest.raises(ValueError, match="not an identity pool id"):
            emulator.add_identity_pool("us-east-1_UserPool")


def test_client_is_wired_to_the_emulator() -> None:
    with Emulator(identity_pools=[POOL]) as emulator, emulator.client() as client:
        assert isinstance(client, CognitoEventsClient)
        assert (client.region, client.endpoint_url) == ("us-east-1", emulator.endpoint_url)
        client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
        assert emulator.events(POOL) == {SYNC_TRIGGER: ARN}
        [entry] = emulator.requests
        assert isinstance(entry, RecordedRequest)
        assert (entry.operation, entry.status) == ("SetCognitoEvents", 200)


def test_client_overrides_win() -> None:
    other = Credentials("AKIDOTHER", "other-secret")
    with Emulator(credentials=[DEV_CREDENTIALS, other], identity_pools=[POOL]) as emulator:
        assert emulator.credentials == DEV_CREDENTIALS
        with emulator.client(credentials=other, retry=RetryPolicy(max_attempts=1)) as client:
            assert client.retry.max_attempts == 1
            client.get_cognito_events(POOL)
        assert "Credential=AKIDOTHER/" in emulator.requests[0].headers["authorization"]
        with emulator.client(region=None) as regionless:
            assert regionless.region is None
            assert regionless.get_cognito_events(POOL) == {}


def test_client_ignores_the_environment_and_shared_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "config"
    broken.write_text("[default]\nmax_attempts = many\nca_bundle = /no/such/bundle\n[broken\n")
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDFROMENV",
        "AWS_SECRET_ACCESS_KEY": "from-env",
        "AWS_REGION": "ap-south-1",
        "AWS_PROFILE": "nonexistent",
        "AWS_MAX_ATTEMPTS": "lots",
        "AWS_CONFIG_FILE": str(broken),
        "AWS_SHARED_CREDENTIALS_FILE": str(broken),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, value)
    with Emulator(identity_pools=[POOL]) as emulator, emulator.client() as client:
        assert client.get_cognito_events(POOL) == {}
        assert "AKIDCOGNITOEVENTSEMU" in emulator.requests[0].headers["authorization"]


def test_a_session_passed_in_is_left_open() -> None:
    session = requests.Session()
    session.trust_env = False
    try:
        with Emulator(identity_pools=[POOL]) as emulator:
            with emulator.client(session=session) as client:
                client.get_cognito_events(POOL)
            assert emulator.requests[0].status == 200
    finally:
        session.close()


def test_stop_closes_the_sessions_it_made() -> None:
    emulator = Emulator(identity_pools=[POOL]).start()
    client = emulator.client(retry=RetryPolicy(max_attempts=1), timeout=1.0)
    client.get_cognito_events(POOL)
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(TransportError):
        client.get_cognito_events(POOL)
    client.close()


def test_start_twice_is_harmless_and_not_running_is_an_error() -> None:
    emulator = Emulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.endpoint_url
    with pytest.raises(RuntimeError, match="not running"):
        emulator.add_identity_pool()
    with emulator:
        url = emulator.endpoint_url
        assert emulator.start() is emulator
        assert emulator.endpoint_url == url


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="region"):
        Emulator("US East")
    with pytest.raises(ValueError, match="must not be empty"):
        Emulator(credentials=[])
    single = Credentials("AKIDSINGLE", "single")
    assert Emulator(credentials=single).credentials == single


def test_inject_fault_shapes() -> None:
    with Emulator(identity_pools=[POOL]) as emulator:
        throttle = emulator.inject_fault(status=429, count=2, retry_after_ms=0)
        assert throttle == ErrorFault(
            status=429,
            code="TooManyRequestsException",
            message="Rate exceeded (fault injected by the emulator)",
            count=2,
            retry_after_ms=0,
        )
        assert emulator.inject_fault("drop") == DropFault()
        assert emulator.inject_fault(
            "delay", seconds=0.01, operation="GetCognitoEvents"
        ) == DelayFault(seconds=0.01, operation="GetCognitoEvents")
        assert emulator.inject_fault(status=500, message="disk on fire") == ErrorFault(
            message="disk on fire"
        )
        assert [fault.kind for fault in emulator.faults] == ["error", "drop", "delay", "error"]
        with pytest.raises(ValueError, match="status must be"):
            emulator.inject_fault(status=200)
        with pytest.raises(ValueError, match="kind must be"):
            emulator.inject_fault("explode")
        with pytest.raises(ValueError, match="give an AWS error code"):
            emulator.inject_fault(status=418)


def test_injected_fault_through_the_client() -> None:
    slept: list[float] = []
    with Emulator(identity_pools=[POOL]) as emulator:
        emulator.inject_fault(status=503, count=3)
        with emulator.client(sleep=slept.append) as client, pytest.raises(InternalError) as e:
            client.get_cognito_events(POOL)
        assert e.value.attempts == 3
        assert [entry.status for entry in emulator.requests] == [503, 503, 503]


def test_reset_restores_the_start() -> None:
    with Emulator(identity_pools=[POOL]) as emulator, emulator.client() as client:
        extra = emulator.add_identity_pool()
        client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
        emulator.inject_fault(status=500)
        emulator.reset()
        assert emulator.identity_pools == [POOL]
        assert emulator.events(POOL) == {}
        assert emulator.requests == []
        assert client.get_cognito_events(POOL) == {}  # the fault is gone too
        with pytest.raises(KeyError):
            emulator.events(extra)


def test_clock_offset_can_change_before_and_while_running() -> None:
    emulator = Emulator(identity_pools=[POOL], clock_offset=timedelta(minutes=1))
    assert emulator.clock_offset == timedelta(minutes=1)
    emulator.clock_offset = timedelta(minutes=20)
    with emulator, emulator.client() as client:
        assert emulator.clock_offset == timedelta(minutes=20)
        client.get_cognito_events(POOL)
        assert [entry.status for entry in emulator.requests] == [403, 200]
        emulator.clock_offset = timedelta(0)
        assert emulator.clock_offset == timedelta(0)
    with pytest.raises(TypeError):
        emulator.clock_offset = 5  # type: ignore[assignment]


def test_state_survives_a_restart_with_a_db(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    with Emulator(identity_pools=[POOL], db=db) as first, first.client() as client:
        client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
    with Emulator(db=db) as second:
        assert second.identity_pools == [POOL]
        assert second.events(POOL) == {SYNC_TRIGGER: ARN}


def test_startup_is_fast_enough_for_a_fixture_per_test() -> None:
    timings = []
    for _ in range(21):
        started = time.perf_counter()
        emulator = Emulator().start()
        timings.append(time.perf_counter() - started)
        emulator.stop()
    assert statistics.median(timings) < 0.05


def test_importing_the_package_does_not_import_the_emulator() -> None:
    code = (
        "import sys, cognito_events; "
        "print(sorted(m for m in sys.modules if m.startswith('cognito_events')))"
    )
    done = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "testing" not in done.stdout
    assert "_emulator" not in done.stdout
    assert "pytest_plugin" not in done.stdout


def test_a_fault_with_a_probability_applies_to_that_share_of_requests() -> None:
    from cognito_events._emulator._faults import FaultQueue

    draws = iter([0.9, 0.1, 0.5, 0.2, 0.95])
    queue = FaultQueue(random=lambda: next(draws))
    queue.add(Fault.from_json({"status": 429, "count": 2, "probability": 0.3}))
    taken = [queue.take("SetCognitoEvents") is not None for _ in range(5)]
    # Only the draws below 0.3 apply, and only they use up the count.
    assert taken == [False, True, False, True, False]
    with pytest.raises(ValueError, match="probability"):
        Fault.from_json({"status": 429, "probability": 0})


def test_client_options_mirror_the_client_constructor() -> None:
    """Emulator.client's typed keywords are exactly CognitoEventsClient's, names and types."""
    import inspect
    import typing

    from cognito_events import CognitoEventsClient
    from cognito_events.testing import ClientOptions

    init = inspect.unwrap(CognitoEventsClient.__init__)  # the secrets sweep wraps it
    constructor = typing.get_type_hints(init)
    constructor.pop("return")
    parameters = inspect.signature(init).parameters
    assert all(parameters[name].kind is inspect.Parameter.KEYWORD_ONLY for name in constructor)
    assert typing.get_type_hints(ClientOptions) == constructor
