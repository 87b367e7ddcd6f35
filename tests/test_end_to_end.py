"""The real client against the emulator over real HTTP: results, errors, retries, skew."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    Credentials,
    InternalError,
    InvalidParameterError,
    NotAuthorizedError,
    ResourceNotFoundError,
    RetryPolicy,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    sigv4,
)
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
ARN2 = "arn:aws:lambda:us-east-1:123456789012:function:on-sync:live"


class Recorder:
    """Stands in for time.sleep: records the delays, never sleeps."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def pool(emulator: Emulator) -> str:
    return emulator.add_identity_pool()


@pytest.fixture
def sleep() -> Recorder:
    return Recorder()


@pytest.fixture
def client(emulator: Emulator, sleep: Recorder) -> Iterator[CognitoEventsClient]:
    with emulator.client(sleep=sleep, random=lambda: 0.5) as bound:
        yield bound


def statuses(emulator: Emulator) -> list[int | None]:
    return [entry.status for entry in emulator.requests]


# --------------------------------------------------------------------------- happy path


def test_set_get_clear_get(client: CognitoEventsClient, emulator: Emulator, pool: str) -> None:
    assert client.get_cognito_events(pool) == {}
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN}
    assert emulator.events(pool) == {SYNC_TRIGGER: ARN}
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN2})
    assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN2}
    client.set_cognito_events(pool, {SYNC_TRIGGER: ""})
    assert client.get_cognito_events(pool) == {}
    assert [(r.operation, r.status) for r in emulator.requests] == [
        ("GetCognitoEvents", 200),
        ("SetCognitoEvents", 200),
        ("GetCognitoEvents", 200),
        ("SetCognitoEvents", 200),
        ("GetCognitoEvents", 200),
        ("SetCognitoEvents", 200),
        ("GetCognitoEvents", 200),
    ]


def test_pools_are_independent(client: CognitoEventsClient, emulator: Emulator) -> None:
    first, second = emulator.add_identity_pool(), emulator.add_identity_pool()
    client.set_cognito_events(first, {SYNC_TRIGGER: ARN})
    assert client.get_cognito_events(second) == {}


def test_what_the_client_sends_is_recorded(
    client: CognitoEventsClient, emulator: Emulator, pool: str
) -> None:
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    [entry] = emulator.requests
    assert entry.path == f"/identitypools/{pool.replace(':', '%3A')}/events"
    assert json.loads(entry.body) == {"Events": {SYNC_TRIGGER: ARN}}
    assert entry.headers["authorization"].endswith("Signature=<redacted>")
    assert entry.headers["user-agent"].startswith("cognito-events/")


def test_one_client_shared_by_threads(client: CognitoEventsClient, emulator: Emulator) -> None:
    pools = [emulator.add_identity_pool() for _ in range(4)]
    errors: list[BaseException] = []

    def work(pool: str) -> None:
        try:
            for i in range(10):
                arn = f"{ARN}-{i}"
                client.set_cognito_events(pool, {SYNC_TRIGGER: arn})
                assert client.get_cognito_events(pool) == {SYNC_TRIGGER: arn}
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(pool,)) for pool in pools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(emulator.events(pool) == {SYNC_TRIGGER: f"{ARN}-9"} for pool in pools)


# --------------------------------------------------------------------------- errors


def test_unknown_pool(client: CognitoEventsClient, emulator: Emulator) -> None:
    missing = "us-east-1:00000000-0000-4000-8000-000000000000"
    with pytest.raises(ResourceNotFoundError) as caught:
        client.get_cognito_events(missing)
    error = caught.value
    assert (error.status_code, error.code, error.attempts) == (
        404,
        "ResourceNotFoundException",
        1,
    )
    assert error.message == f"IdentityPool '{missing}' not found."
    assert error.request_id == emulator.requests[-1].request_id
    with pytest.raises(ResourceNotFoundError):
        client.set_cognito_events(missing, {SYNC_TRIGGER: ARN})


def test_removed_pool(client: CognitoEventsClient, emulator: Emulator, pool: str) -> None:
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    emulator.remove_identity_pool(pool)
    with pytest.raises(ResourceNotFoundError):
        client.get_cognito_events(pool)


def test_unknown_access_key(emulator: Emulator, pool: str) -> None:
    stranger = Credentials("AKIDSTRANGER", "secret")
    with emulator.client(credentials=stranger) as client, pytest.raises(NotAuthorizedError) as e:
        client.get_cognito_events(pool)
    assert (e.value.status_code, e.value.code) == (403, "UnrecognizedClientException")
    assert e.value.message == "The security token included in the request is invalid."


def test_wrong_secret(emulator: Emulator, pool: str) -> None:
    wrong = Credentials(emulator.credentials.access_key_id, "not-the-secret")
    with emulator.client(credentials=wrong) as client, pytest.raises(NotAuthorizedError) as e:
        client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    assert (e.value.status_code, e.value.code, e.value.attempts) == (
        403,
        "InvalidSignatureException",
        1,
    )
    assert e.value.message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert emulator.events(pool) == {}


def test_session_tokens() -> None:
    temporary = Credentials("ASIAEMULATOR", "temporary-secret", "session-token")
    with Emulator(credentials=temporary) as emulator:
        pool = emulator.add_identity_pool()
        with emulator.client() as client:
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
        for token in ("wrong-token", None):
            bad = Credentials(temporary.access_key_id, temporary.secret_access_key, token)
            with emulator.client(credentials=bad) as client, pytest.raises(NotAuthorizedError) as e:
                client.get_cognito_events(pool)
            assert e.value.code == "UnrecognizedClientException"


class Rewriter(HTTPAdapter):
    """Changes each request after the client signed it, and optionally signs it again."""

    def __init__(
        self,
        rewrite: Callable[[requests.PreparedRequest], None],
        resign_with: Credentials | None = None,
    ) -> None:
        super().__init__()
        self._rewrite = rewrite
        self._credentials = resign_with

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self._rewrite(request)
        if self._credentials is not None:
            body = request.body if isinstance(request.body, bytes) else None
            kept = [
                (name, str(value))
                for name, value in request.headers.items()
                if name.lower() in ("content-type",)
            ]
            assert request.method is not None
            assert request.url is not None
            signed = sigv4.sign_request(
                method=request.method,
                url=request.url,
                headers=kept,
                body=body,
                credentials=self._credentials,
                region="us-east-1",
                service="cognito-sync",
                timestamp=datetime.now(UTC),
            )
            for name in ("Authorization", "X-Amz-Date", "Content-Type"):
                request.headers.pop(name, None)
            request.headers.update(dict(signed.headers))
            request.headers["Content-Length"] = str(len(body or b""))
        return super().send(request, *args, **kwargs)


def rewritten_client(
    emulator: Emulator,
    rewrite: Callable[[requests.PreparedRequest], None],
    *,
    resign: bool = True,
) -> tuple[CognitoEventsClient, requests.Session]:
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", Rewriter(rewrite, emulator.credentials if resign else None))
    return emulator.client(session=session), session


def _drop_authorization(request: requests.PreparedRequest) -> None:
    del request.headers["Authorization"]


def _garble_authorization(request: requests.PreparedRequest) -> None:
    request.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=nonsense"


def _body(document: object) -> Callable[[requests.PreparedRequest], None]:
    def rewrite(request: requests.PreparedRequest) -> None:
        request.body = document if isinstance(document, bytes) else json.dumps(document).encode()

    return rewrite


def _content_type(value: str) -> Callable[[requests.PreparedRequest], None]:
    def rewrite(request: requests.PreparedRequest) -> None:
        request.headers["Content-Type"] = value

    return rewrite


def _pool_in_path(raw: str) -> Callable[[requests.PreparedRequest], None]:
    def rewrite(request: requests.PreparedRequest) -> None:
        assert request.url is not None
        base = request.url.split("/identitypools/")[0]
        request.url = f"{base}/identitypools/{raw}/events"

    return rewrite


@pytest.mark.parametrize(
    ("rewrite", "resign", "cls", "status", "code", "fragment"),
    [
        (
            _drop_authorization,
            False,
            NotAuthorizedError,
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ),
        (
            _garble_authorization,
            False,
            NotAuthorizedError,
            403,
            "IncompleteSignatureException",
            "Credential",
        ),
        (
            _body({"Events": {"SyncTrigger": ARN}, "x": 1}),
            False,
            NotAuthorizedError,
            403,
            "InvalidSignatureException",
            "does not match",
        ),
        (
            _body(b"{not json"),
            True,
            InvalidParameterError,
            400,
            "SerializationException",
            "Could not parse",
        ),
        (
            _content_type("text/plain"),
            True,
            InvalidParameterError,
            400,
            "SerializationException",
            "Unsupported Content-Type",
        ),
        (
            _body({"Events": {"Bogus": ARN}}),
            True,
            InvalidParameterError,
            400,
            "InvalidParameterException",
            "Unsupported event type 'Bogus'",
        ),
        (
            _body({"Events": {"SyncTrigger": "arn:nope"}}),
            True,
            InvalidParameterError,
            400,
            "InvalidParameterException",
            "Invalid lambda function ARN",
        ),
        (
            _body({"Events": {"SyncTrigger": ARN, "Other": ARN}}),
            True,
            InvalidParameterError,
            400,
            "InvalidParameterException",
            "1 validation error detected",
        ),
        (
            _pool_in_path("not-a-pool"),
            True,
            InvalidParameterError,
            400,
            "InvalidParameterException",
            "regular expression pattern",
        ),
        (
            _pool_in_path("eu-west-1%3A0f7e2b2c-1111-2222-3333-444455556666"),
            True,
            ResourceNotFoundError,
            404,
            "ResourceNotFoundException",
            "not found",
        ),
        (
            _body(b"x" * (64 * 1024 + 1)),
            True,
            ServiceError,
            413,
            "RequestEntityTooLargeException",
            "smaller than 65536 bytes",
        ),
    ],
)
def test_service_side_errors_reach_the_caller_typed(
    emulator: Emulator,
    pool: str,
    rewrite: Callable[[requests.PreparedRequest], None],
    resign: bool,
    cls: type[ServiceError],
    status: int,
    code: str,
    fragment: str,
) -> None:
    emulator.add_identity_pool("eu-west-1:0f7e2b2c-1111-2222-3333-444455556666")
    client, session = rewritten_client(emulator, rewrite, resign=resign)
    with client, pytest.raises(ServiceError) as caught:
        client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    session.close()
    error = caught.value
    assert type(error) is cls
    assert (error.status_code, error.code, error.attempts) == (status, code, 1)
    assert fragment in error.message
    assert error.request_id == emulator.requests[-1].request_id


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "InvalidParameterException", InvalidParameterError),
        (403, "NotAuthorizedException", NotAuthorizedError),
        (404, "ResourceNotFoundException", ResourceNotFoundError),
        (409, "ResourceConflictException", ServiceError),
    ],
)
def test_injected_client_errors_are_typed_and_not_retried(
    client: CognitoEventsClient,
    emulator: Emulator,
    pool: str,
    sleep: Recorder,
    status: int,
    code: str,
    cls: type[ServiceError],
) -> None:
    emulator.inject_fault(status=status, code=code, count=3)
    with pytest.raises(ServiceError) as caught:
        client.get_cognito_events(pool)
    assert type(caught.value) is cls
    assert (caught.value.code, caught.value.attempts) == (code, 1)
    assert sleep.delays == []


# --------------------------------------------------------------------------- retries


def test_throttled_twice_then_success(
    client: CognitoEventsClient, emulator: Emulator, pool: str, sleep: Recorder
) -> None:
    emulator.inject_fault(status=429, code="TooManyRequestsException", count=2, retry_after_ms=0)
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    assert statuses(emulator) == [429, 429, 200]  # three attempts
    assert len(sleep.delays) == 2
    assert emulator.events(pool) == {SYNC_TRIGGER: ARN}


def test_throttled_until_the_attempts_run_out(
    client: CognitoEventsClient, emulator: Emulator, pool: str, sleep: Recorder
) -> None:
    emulator.inject_fault(status=429, count=5)
    with pytest.raises(TooManyRequestsError) as caught:
        client.get_cognito_events(pool)
    assert (caught.value.code, caught.value.attempts) == ("TooManyRequestsException", 3)
    assert len(sleep.delays) == 2


@pytest.mark.parametrize(
    ("status", "code"), [(503, "ServiceUnavailableException"), (500, "InternalErrorException")]
)
def test_server_errors_exhaust_the_retries(
    client: CognitoEventsClient,
    emulator: Emulator,
    pool: str,
    sleep: Recorder,
    status: int,
    code: str,
) -> None:
    emulator.inject_fault(status=status, count=3)
    with pytest.raises(InternalError) as caught:
        client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    assert (caught.value.status_code, caught.value.code, caught.value.attempts) == (
        status,
        code,
        3,
    )
    assert statuses(emulator) == [status] * 3
    assert len(sleep.delays) == 2
    # The fault is used up: the next call goes through.
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})


def test_one_server_error_then_success(
    client: CognitoEventsClient, emulator: Emulator, pool: str, sleep: Recorder
) -> None:
    emulator.inject_fault(status=503, operation="GetCognitoEvents")
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN}
    assert statuses(emulator) == [200, 503, 200]
    assert len(sleep.delays) == 1


def test_dropped_connections_become_a_transport_error(
    client: CognitoEventsClient, emulator: Emulator, pool: str, sleep: Recorder
) -> None:
    emulator.inject_fault("drop", count=3)
    with pytest.raises(TransportError) as caught:
        client.get_cognito_events(pool)
    assert caught.value.attempts == 3
    assert statuses(emulator) == [None, None, None]
    assert len(sleep.delays) == 2


def test_a_dropped_connection_is_retried(
    client: CognitoEventsClient, emulator: Emulator, pool: str, sleep: Recorder
) -> None:
    emulator.inject_fault("drop", count=2)
    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    assert statuses(emulator) == [None, None, 200]


def test_a_slow_answer_times_out(emulator: Emulator, pool: str, sleep: Recorder) -> None:
    emulator.inject_fault("delay", seconds=0.25)
    with (
        emulator.client(timeout=(2.0, 0.05), retry=RetryPolicy(max_attempts=1)) as client,
        pytest.raises(TransportError, match="read timeout"),
    ):
        client.get_cognito_events(pool)


def test_a_short_delay_is_just_slow(
    client: CognitoEventsClient, emulator: Emulator, pool: str
) -> None:
    emulator.inject_fault("delay", seconds=0.02)
    assert client.get_cognito_events(pool) == {}


# --------------------------------------------------------------------------- clock skew


@pytest.mark.parametrize("minutes", [10, -10])
def test_clock_skew_is_corrected_once_and_remembered(minutes: int) -> None:
    offset = timedelta(minutes=minutes)
    sleep = Recorder()
    with Emulator(clock_offset=offset) as emulator:
        pool = emulator.add_identity_pool()
        with emulator.client(sleep=sleep) as client:
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
            first, second = emulator.requests
            assert (first.status, first.error_code) == (403, "InvalidSignatureException")
            assert (second.status, second.error_code) == (200, None)
            assert abs(client.clock_offset - offset) < timedelta(seconds=3)
            assert sleep.delays == []  # a re-signed retry does not wait

            assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN}
            assert statuses(emulator) == [403, 200, 200]


def test_skew_that_appears_later_is_corrected(emulator: Emulator, pool: str) -> None:
    with emulator.client() as client:
        client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
        emulator.clock_offset = timedelta(minutes=-30)
        assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN}
    assert statuses(emulator) == [200, 403, 200]


def test_skew_with_a_wrong_secret_still_fails(emulator: Emulator, pool: str) -> None:
    emulator.clock_offset = timedelta(minutes=10)
    wrong = Credentials(emulator.credentials.access_key_id, "wrong")
    with emulator.client(credentials=wrong) as client, pytest.raises(NotAuthorizedError) as e:
        client.get_cognito_events(pool)
    assert e.value.code == "InvalidSignatureException"
    assert "does not match" in e.value.message
    assert statuses(emulator) == [403, 403]
