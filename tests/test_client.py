"""The client against requests-mock: wire format, signing, errors, retries, skew."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

import pytest
import requests
import requests_mock

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    CognitoEventsError,
    Credentials,
    CredentialsError,
    InternalError,
    InvalidParameterError,
    NotAuthorizedError,
    ResourceNotFoundError,
    RetryPolicy,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    ValidationError,
    sigv4,
)

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:sync-handler"
ENDPOINT = "https://cognito-sync.us-east-1.amazonaws.com"
URL = f"{ENDPOINT}/identitypools/us-east-1%3A0f7e2b2c-1111-2222-3333-444455556666/events"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
CREDENTIALS = Credentials("AKIDEXAMPLE", SECRET, TOKEN)
NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)

# A module-level client, built before any mocker starts (the recipe users rely on).
MODULE_CLIENT = CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS)


class FakeClock:
    """A clock that advances one second per reading, so each signature is fresh."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[CognitoEventsClient]:
    with CognitoEventsClient(
        region="us-east-1",
        credentials=CREDENTIALS,
        sleep=sleeps.append,
        random=lambda: 1.0,
        clock=FakeClock(),
    ) as made:
        yield made


@pytest.fixture
def mocker() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as mocked:
        yield mocked


def _verify_signature(request: Any, secret: str = SECRET) -> None:
    """Re-sign what was received with our signer and compare, as a server would."""
    parsed = sigv4.parse_authorization(request.headers["Authorization"])
    signed_names = parsed.signed_headers
    headers = [(name, request.headers[name]) for name in signed_names if name != "x-amz-date"]
    headers = [(n, v) for n, v in headers if n != "x-amz-security-token"]
    timestamp = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=UTC
    )
    again = sigv4.sign_request(
        method=request.method,
        url=request.url,
        headers=headers,
        body=request.body,
        credentials=Credentials(
            parsed.access_key_id, secret, request.headers.get("X-Amz-Security-Token")
        ),
        region=parsed.region,
        service=parsed.service,
        timestamp=timestamp,
    )
    assert again.authorization == request.headers["Authorization"]


def _last(mocked: requests_mock.Mocker) -> Any:
    request = mocked.last_request
    assert request is not None
    return request


# -- wire format ----------------------------------------------------------------------


def test_set_sends_a_signed_json_post(
    client: CognitoEventsClient, mocker: requests_mock.Mocker
) -> None:
    mocker.post(URL, status_code=200, text="")
    client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
    request: Any = _last(mocker)
    assert mocker.call_count == 1
    assert request.method == "POST"
    assert request.url == URL
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"Events": {"SyncTrigger": ARN}}
    assert request.headers["Content-Length"] == str(len(request.body))
    assert request.headers["User-Agent"].startswith("cognito-events/")
    assert request.headers["Host"] == "cognito-sync.us-east-1.amazonaws.com"
    assert request.headers["X-Amz-Security-Token"] == TOKEN
    assert "Credential=AKIDEXAMPLE/" in request.headers["Authorization"]
    assert "/us-east-1/cognito-sync/aws4_request" in request.headers["Authorization"]
    assert request.timeout == (3.05, 30.0)
    _verify_signature(request)


def test_get_sends_a_signed_get_and_returns_a_dict(
    client: CognitoEventsClient, mocker: requests_mock.Mocker
) -> None:
    mocker.get(URL, json={"Events": {"SyncTrigger": ARN}})
    events = client.get_cognito_events(POOL)
    assert events == {"SyncTrigger": ARN}
    assert type(events) is dict
    [request] = mocker.request_history
    assert request.body is None
    assert "Content-Type" not in request.headers
    _verify_signature(request)


def test_empty_value_removes_and_keywords_work(
    client: CognitoEventsClient, mocker: requests_mock.Mocker
) -> None:
    mocker.post(URL, text="")
    mocker.get(URL, json={"Events": {}})
    client.set_cognito_events(identity_pool_id=POOL, events={SYNC_TRIGGER: ""})
    assert json.loads(_last(mocker).body) == {"Events": {"SyncTrigger": ""}}
    assert client.get_cognito_events(identity_pool_id=POOL) == {}


@pytest.mark.parametrize(
    "body", [b"", b"{}", b'{"Events": {}}', b'{"Events": {"SyncTrigger": "a"}, "Other": 1}']
)
def test_get_accepts_well_formed_answers(
    client: CognitoEventsClient, mocker: requests_mock.Mocker, body: bytes
) -> None:
    mocker.get(URL, content=body)
    result = client.get_cognito_events(POOL)
    assert result == json.loads(body or b"{}").get("Events", {})


@pytest.mark.parametrize(
    "body", [b"<html>", b"[]", b'{"Events": []}', b'{"Events": {"SyncTrigger": 5}}', b"\xff"]
)
def test_get_malformed_2xx_is_a_service_error(
    client: CognitoEventsClient, mocker: requests_mock.Mocker, body: bytes
) -> None:
    mocker.get(URL, content=body, headers={"x-amzn-RequestId": "rid"})
    with pytest.raises(ServiceError) as caught:
        client.get_cognito_events(POOL)
    assert caught.value.status_code == 200
    assert caught.value.request_id == "rid"
    assert 'not {"Events"' in caught.value.message


def test_every_attempt_is_signed_afresh(
    client: CognitoEventsClient, mocker: requests_mock.Mocker
) -> None:
    mocker.get(URL, [{"status_code": 500, "json": {}}, {"json": {"Events": {}}}])
    client.get_cognito_events(POOL)
    first, second = mocker.request_history
    assert first.headers["X-Amz-Date"] != second.headers["X-Amz-Date"]
    assert first.headers["Authorization"] != second.headers["Authorization"]
    _verify_signature(first)
    _verify_signature(second)


# -- requests-mock recipes --------------------------------------------------------------


def test_module_level_client_is_intercepted_by_mocker() -> None:
    with requests_mock.Mocker() as mocked:
        mocked.get(requests_mock.ANY, json={"Events": {"SyncTrigger": ARN}})
        assert MODULE_CLIENT.get_cognito_events(POOL) == {"SyncTrigger": ARN}
        assert mocked.call_count == 1


def test_module_level_client_is_intercepted_by_the_fixture(
    requests_mock: requests_mock.Mocker,
) -> None:
    requests_mock.post(URL, text="")
    MODULE_CLIENT.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
    assert _last(requests_mock).json() == {"Events": {"SyncTrigger": ARN}}


def test_a_session_passed_in_is_used_and_not_closed(mocker: requests_mock.Mocker) -> None:
    session = requests.Session()
    closed: list[bool] = []
    session.close = lambda: closed.append(True)  # type: ignore[method-assign]
    mocker.get(URL, json={"Events": {}})
    with CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS, session=session) as c:
        c.get_cognito_events(POOL)
    assert closed == []
    owned = CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS)
    owned_closed: list[bool] = []
    owned._session.close = lambda: owned_closed.append(True)  # type: ignore[method-assign]
    with owned:
        pass
    assert owned_closed == [True]


# -- validation and configuration ---------------------------------------------------------


def test_invalid_input_sends_nothing(
    client: CognitoEventsClient, mocker: requests_mock.Mocker
) -> None:
    mocker.register_uri(requests_mock.ANY, requests_mock.ANY, text="")
    with pytest.raises(ValidationError) as caught:
        client.set_cognito_events("us-east-1_AbC123", {"SyncTriger": "x", "Two": "y"})
    assert len(caught.value.problems) == 2
    with pytest.raises(ValidationError):
        client.get_cognito_events(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="region 'eu-west-1'"):
        client.get_cognito_events("eu-west-1:abc")
    assert mocker.call_count == 0


def test_construction_does_no_io_and_reads_no_credentials(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    client = CognitoEventsClient(region="us-east-1")
    assert mocker.call_count == 0
    with pytest.raises(CredentialsError, match="No AWS credentials found"):
        client.get_cognito_events(POOL)
    assert mocker.call_count == 0


def test_environment_credentials_and_region(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    client = CognitoEventsClient()
    assert client.region == "us-east-1"  # AWS_REGION wins over AWS_DEFAULT_REGION
    mocker.get(URL, json={"Events": {}})
    client.get_cognito_events(POOL)
    assert "Credential=AKIDENV/" in _last(mocker).headers["Authorization"]
    assert "X-Amz-Security-Token" not in _last(mocker).headers
    monkeypatch.delenv("AWS_REGION")
    assert CognitoEventsClient().region == "eu-west-1"


def test_region_from_the_pool_id_when_none_is_configured(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    client = CognitoEventsClient(credentials=CREDENTIALS)
    assert client.region is None
    pool = "ap-southeast-2:0f7e2b2c-1111-2222-3333-444455556666"
    url = "https://cognito-sync.ap-southeast-2.amazonaws.com/identitypools/" + quote(pool, safe="")
    mocker.get(url + "/events", json={"Events": {}})
    assert client.get_cognito_events(pool) == {}
    assert "/ap-southeast-2/cognito-sync/" in _last(mocker).headers["Authorization"]


def test_custom_endpoint(mocker: requests_mock.Mocker) -> None:
    client = CognitoEventsClient(
        region="us-east-1", credentials=CREDENTIALS, endpoint_url="http://127.0.0.1:8000/"
    )
    assert client.endpoint_url == "http://127.0.0.1:8000"
    mocker.get(
        "http://127.0.0.1:8000/identitypools/" + quote(POOL, safe="") + "/events",
        json={"Events": {}},
    )
    client.get_cognito_events(POOL)
    assert _last(mocker).headers["Host"] == "127.0.0.1:8000"
    _verify_signature(mocker.last_request)


def test_bad_constructor_arguments_are_all_reported() -> None:
    with pytest.raises(ValidationError) as caught:
        CognitoEventsClient(
            region="US EAST",
            endpoint_url="ftp://x",
            timeout=0,
            retry=3,  # type: ignore[arg-type]
            credentials=("a", "b"),  # type: ignore[arg-type]
            session="s",  # type: ignore[arg-type]
        )
    parameters = [problem.parameter for problem in caught.value.problems]
    assert parameters == ["region", "endpoint_url", "timeout", "retry", "credentials", "session"]


@pytest.mark.parametrize(
    "endpoint", ["cognito-sync.amazonaws.com", "https://", "https://h/?q=1", "https://u:p@h", 5]
)
def test_bad_endpoints(endpoint: object) -> None:
    with pytest.raises(ValidationError, match="endpoint_url"):
        CognitoEventsClient(region="us-east-1", endpoint_url=endpoint)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [(5, (5.0, 5.0)), ((1, 2.5), (1.0, 2.5)), (0.5, (0.5, 0.5))],
)
def test_timeouts(
    mocker: requests_mock.Mocker,
    timeout: float | tuple[float, float],
    expected: tuple[float, float],
) -> None:
    client = CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS, timeout=timeout)
    mocker.get(URL, json={"Events": {}})
    client.get_cognito_events(POOL)
    assert _last(mocker).timeout == expected


@pytest.mark.parametrize("timeout", [None, 0, -1, float("inf"), (1, None), (1, 2, 3), "5", True])
def test_bad_timeouts(timeout: object) -> None:
    with pytest.raises(ValidationError, match="timeout"):
        CognitoEventsClient(region="us-east-1", timeout=timeout)  # type: ignore[arg-type]


def test_bad_region_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, mocker: requests_mock.Mocker
) -> None:
    monkeypatch.setenv("AWS_REGION", "Not A Region")
    client = CognitoEventsClient(credentials=CREDENTIALS)  # the environment is read later
    with pytest.raises(ValidationError, match="AWS_REGION"):
        client.get_cognito_events(POOL)
    assert mocker.call_count == 0


def test_repr_hides_secrets(client: CognitoEventsClient, mocker: requests_mock.Mocker) -> None:
    text = repr(client)
    assert "AKIDEXAMPLE" in text
    assert SECRET not in text
    assert TOKEN not in text
    lazy = repr(CognitoEventsClient(region="us-east-1"))
    assert "<resolved at first call>" in lazy


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "InvalidParameterException", InvalidParameterError),
        (403, "NotAuthorizedException", NotAuthorizedError),
        (404, "ResourceNotFoundException", ResourceNotFoundError),
        (400, "LambdaFunctionNotFoundException", ServiceError),
    ],
)
def test_non_retryable_errors_are_raised_at_once(
    client: CognitoEventsClient,
    mocker: requests_mock.Mocker,
    sleeps: list[float],
    status: int,
    code: str,
    expected: type[ServiceError],
) -> None:
    mocker.get(
        URL,
        status_code=status,
        json={"message": "it failed"},
        headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": "req-1"},
    )
    with pytest.raises(expected) as caught:
        client.get_cognito_events(POOL)
    error = caught.value
    assert type(error) is expected
    assert (error.status_code, error.code, error.message, error.request_id) == (
        status,
        code,
        "it failed",
        "req-1",
    )
    assert error.attempts == 1
    assert mocker.call_count == 1
    assert sleeps == []


def test_redirects_are_not_followed(
    client: CognitoEventsClient, mocker: requests_mock.Mocker
) -> None:
    mocker.get(URL, status_code=307, headers={"Location": "https://elsewhere.example/"})
    with pytest.raises(ServiceError) as caught:
        client.get_cognito_events(POOL)
    assert caught.value.status_code == 307
    assert mocker.call_count == 1


# -- retries ---------------------------------------------------------------------------------

R429: dict[str, Any] = {
    "status_code": 429,
    "json": {"message": "slow"},
    "headers": {"x-amzn-ErrorType": "TooManyRequestsException"},
}
R503: dict[str, Any] = {"status_code": 503, "text": "<html>unavailable</html>"}
R501: dict[str, Any] = {"status_code": 501, "json": {}}
OK: dict[str, Any] = {"json": {"Events": {}}}


@pytest.mark.parametrize(
    ("responses", "outcome", "calls", "expected_sleeps"),
    [
        ([OK], None, 1, []),
        ([R429, OK], None, 2, [1.0]),
        ([R429, R429, OK], None, 3, [1.0, 2.0]),
        ([R503, R503, OK], None, 3, [0.05, 0.1]),
        ([R503, R429, OK], None, 3, [0.05, 2.0]),
        ([R429, R429, R429], TooManyRequestsError, 3, [1.0, 2.0]),
        ([R503, R503, R503], InternalError, 3, [0.05, 0.1]),
        ([R501], InternalError, 1, []),
        (
            [
                {
                    "status_code": 400,
                    "json": {},
                    "headers": {"x-amzn-ErrorType": "ThrottlingException"},
                },
                OK,
            ],
            None,
            2,
            [1.0],
        ),
        (
            [{"status_code": 502, "json": {}}, {"status_code": 504, "json": {}}, OK],
            None,
            3,
            [0.05, 0.1],
        ),
        ([{"exc": requests.exceptions.ConnectTimeout}, OK], None, 2, [0.05]),
        (
            [
                {"exc": requests.exceptions.ReadTimeout},
                {"exc": requests.exceptions.ConnectionError},
                {"exc": requests.exceptions.ChunkedEncodingError},
            ],
            TransportError,
            3,
            [0.05, 0.1],
        ),
    ],
)
def test_retry_table(
    client: CognitoEventsClient,
    mocker: requests_mock.Mocker,
    sleeps: list[float],
    responses: list[dict[str, Any]],
    outcome: type[CognitoEventsError] | None,
    calls: int,
    expected_sleeps: list[float],
) -> None:
    mocker.get(URL, responses)
    if outcome is None:
        assert client.get_cognito_events(POOL) == {}
    else:
        with pytest.raises(outcome) as caught:
            client.get_cognito_events(POOL)
        assert caught.value.attempts == calls  # type: ignore[attr-defined]
    assert mocker.call_count == calls
    assert sleeps == pytest.approx(expected_sleeps)


def test_transport_errors_are_chained_and_typed(
    client: CognitoEventsClient, mocker: requests_mock.Mocker
) -> None:
    mocker.get(URL, exc=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(TransportError) as caught:
        client.get_cognito_events(POOL)
    assert isinstance(caught.value.__cause__, requests.exceptions.SSLError)
    assert "TLS error" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert ENDPOINT in str(caught.value)


def test_max_attempts_one_disables_retries(mocker: requests_mock.Mocker) -> None:
    sleeps: list[float] = []
    client = CognitoEventsClient(
        region="us-east-1",
        credentials=CREDENTIALS,
        retry=RetryPolicy(max_attempts=1),
        sleep=sleeps.append,
    )
    mocker.get(URL, [R429, OK])
    with pytest.raises(TooManyRequestsError):
        client.get_cognito_events(POOL)
    assert sleeps == []


def test_retry_after_hints_are_honoured(
    client: CognitoEventsClient, mocker: requests_mock.Mocker, sleeps: list[float]
) -> None:
    mocker.get(
        URL,
        [
            {"status_code": 429, "json": {}, "headers": {"x-amz-retry-after": "3000"}},
            {"status_code": 503, "json": {}, "headers": {"Retry-After": "600"}},
            OK,
        ],
    )
    client.get_cognito_events(POOL)
    # 3 s hint over a 1 s backoff; 600 s hint capped at backoff (0.1 s) + 5 s.
    assert sleeps == pytest.approx([3.0, 5.1])


def test_retry_quota_stops_a_storm(mocker: requests_mock.Mocker) -> None:
    sleeps: list[float] = []
    client = CognitoEventsClient(
        region="us-east-1",
        credentials=CREDENTIALS,
        retry=RetryPolicy(retry_quota=30),
        sleep=sleeps.append,
        random=lambda: 0.0,
    )
    mocker.get(URL, status_code=503, json={})
    with pytest.raises(InternalError) as first:
        client.get_cognito_events(POOL)
    assert first.value.attempts == 3  # 30 -> 16 -> 2 tokens
    with pytest.raises(InternalError) as second:
        client.get_cognito_events(POOL)
    assert second.value.attempts == 1  # the quota is spent: no retry
    assert mocker.call_count == 4
    # Throttling retries are cheaper (5 tokens): 2 tokens left are still not enough.
    mocker.get(URL, [R429, OK])
    with pytest.raises(TooManyRequestsError):
        client.get_cognito_events(POOL)
    # Successes refill the bucket, one token each.
    mocker.get(URL, json={"Events": {}})
    for _ in range(3):
        client.get_cognito_events(POOL)
    mocker.get(URL, [R429, OK])
    assert client.get_cognito_events(POOL) == {}


def test_a_successful_retry_refunds_its_cost(mocker: requests_mock.Mocker) -> None:
    client = CognitoEventsClient(
        region="us-east-1",
        credentials=CREDENTIALS,
        retry=RetryPolicy(retry_quota=14),
        sleep=lambda _: None,
    )
    for _ in range(5):
        mocker.get(URL, [R503, OK])
        assert client.get_cognito_events(POOL) == {}
    assert client._quota.available == 14


def test_one_debug_line_per_retry_without_secrets(
    client: CognitoEventsClient,
    mocker: requests_mock.Mocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mocker.get(
        URL,
        [
            {
                "status_code": 429,
                "json": {},
                "headers": {"x-amzn-ErrorType": "ThrottlingException", "x-amzn-RequestId": "r-9"},
            },
            OK,
        ],
    )
    with caplog.at_level(logging.DEBUG, logger="cognito_events"):
        client.get_cognito_events(POOL)
    retry_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retry_lines) == 1
    line = retry_lines[0]
    for fragment in ("attempt 1 of 3", "ThrottlingException (HTTP 429)", "1.000 s", "r-9"):
        assert fragment in line
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in everything
    assert TOKEN not in everything
    assert "Signature=" not in everything
    assert "canonical request" in everything


# -- clock skew ------------------------------------------------------------------------------


def _skew_response(message: str, server_time: datetime) -> dict[str, Any]:
    return {
        "status_code": 403,
        "json": {"message": message},
        "headers": {
            "x-amzn-ErrorType": "InvalidSignatureException",
            "Date": format_datetime(server_time, usegmt=True),
        },
    }


@pytest.mark.parametrize(
    ("message", "offset"),
    [
        ("Signature expired: 20261126T120001Z is now earlier than ...", timedelta(minutes=20)),
        (
            "Signature not yet current: 20261126T120001Z is still later than ...",
            -timedelta(hours=1),
        ),
    ],
)
def test_clock_skew_is_corrected_once_and_kept(
    mocker: requests_mock.Mocker, message: str, offset: timedelta
) -> None:
    clock = FakeClock()
    sleeps: list[float] = []
    client = CognitoEventsClient(
        region="us-east-1", credentials=CREDENTIALS, clock=clock, sleep=sleeps.append
    )
    mocker.get(URL, [_skew_response(message, NOW + offset), OK, OK])
    assert client.get_cognito_events(POOL) == {}
    _, second = mocker.request_history
    signed_at = datetime.strptime(second.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    expected = (NOW + offset).replace(tzinfo=None)
    assert abs((signed_at - expected).total_seconds()) <= 5
    assert abs((client.clock_offset - offset).total_seconds()) <= 5
    assert sleeps == []  # a re-sign, not a backoff
    _verify_signature(second)
    client.get_cognito_events(POOL)
    third = mocker.request_history[2]
    third_at = datetime.strptime(third.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    assert abs((third_at - expected).total_seconds()) <= 10  # the offset is kept


def test_clock_skew_is_retried_only_once(mocker: requests_mock.Mocker) -> None:
    skew = _skew_response("Signature expired: ...", NOW + timedelta(minutes=30))
    client = CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS, clock=FakeClock())
    mocker.get(URL, [skew, skew, OK])
    with pytest.raises(NotAuthorizedError) as caught:
        client.get_cognito_events(POOL)
    assert caught.value.attempts == 2
    assert mocker.call_count == 2


@pytest.mark.parametrize(
    "response",
    [
        {
            "status_code": 403,
            "json": {"message": "Signature expired: ..."},
            "headers": {"x-amzn-ErrorType": "InvalidSignatureException"},
        },
        {
            "status_code": 403,
            "json": {"message": "Signature expired"},
            "headers": {"x-amzn-ErrorType": "InvalidSignatureException", "Date": "not a date"},
        },
        {
            "status_code": 403,
            "json": {"message": "The request signature we calculated does not match"},
            "headers": {
                "x-amzn-ErrorType": "InvalidSignatureException",
                "Date": "Thu, 26 Nov 2026 12:30:00 GMT",
            },
        },
        {
            "status_code": 403,
            "json": {"message": "Signature expired"},
            "headers": {
                "x-amzn-ErrorType": "UnrecognizedClientException",
                "Date": "Thu, 26 Nov 2026 12:30:00 GMT",
            },
        },
        {
            "status_code": 400,
            "json": {"message": "Signature expired: 20261126T120001Z is now earlier than ..."},
            "headers": {
                "x-amzn-ErrorType": "InvalidSignatureException",
                "Date": "Thu, 26 Nov 2026 12:30:00 GMT",
            },
        },
    ],
)
def test_other_403s_are_not_retried(mocker: requests_mock.Mocker, response: dict[str, Any]) -> None:
    client = CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS, clock=FakeClock())
    mocker.get(URL, [response, OK])
    with pytest.raises(NotAuthorizedError):
        client.get_cognito_events(POOL)
    assert mocker.call_count == 1
    assert client.clock_offset == timedelta(0)


# -- sharing between threads -------------------------------------------------------------------


def test_one_client_shared_by_threads(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTHREADS")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    client = CognitoEventsClient(region="us-east-1")
    mocker.post(URL, text="")
    mocker.get(URL, json={"Events": {"SyncTrigger": ARN}})
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
                assert client.get_cognito_events(POOL) == {"SyncTrigger": ARN}
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert mocker.call_count == 8 * 25 * 2
    assert all(
        "Credential=AKIDTHREADS/" in request.headers["Authorization"]
        for request in mocker.request_history
    )


# -- configuration resolved the way the SDKs do -------------------------------------------------


def test_profile_region_endpoint_and_max_attempts_from_the_shared_files(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile ops]\nregion = eu-west-1\nmax_attempts = 5\n"
        "endpoint_url = http://127.0.0.1:9999\n"
    )
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[ops]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = {SECRET}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")  # skipped: the profile is explicit
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    sleeps: list[float] = []
    client = CognitoEventsClient(profile="ops", sleep=sleeps.append)
    assert "profile='ops'" in repr(client)
    assert client.region == "eu-west-1"
    assert client.endpoint_url == "http://127.0.0.1:9999"
    assert client.retry.max_attempts == 5
    pool = "eu-west-1:0f7e2b2c-1111-2222-3333-444455556666"
    mocker.get(
        f"http://127.0.0.1:9999/identitypools/{quote(pool, safe='')}/events",
        [R503, R503, R503, R503, OK],
    )
    assert client.get_cognito_events(pool) == {}
    assert mocker.call_count == 5
    assert "Credential=AKIDPROFILE/" in _last(mocker).headers["Authorization"]


def test_an_explicit_environ_replaces_os_environ(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    client = CognitoEventsClient(
        credentials=CREDENTIALS,
        environ={"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"},
    )
    mocker.get(URL, json={"Events": {}})
    assert client.get_cognito_events(POOL) == {}
    assert client.region == "us-east-1"


def test_ca_bundle_is_used_for_tls_verification(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    mocker.get(URL, json={"Events": {}})
    CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS).get_cognito_events(POOL)
    assert _last(mocker).verify == str(bundle)
    session = requests.Session()
    session.verify = False
    unverified = CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS, session=session)
    unverified.get_cognito_events(POOL)
    assert _last(mocker).verify is False


def test_fips_endpoint(mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")
    mocker.get(URL.replace("cognito-sync.", "cognito-sync-fips."), json={"Events": {}})
    CognitoEventsClient(region="us-east-1", credentials=CREDENTIALS).get_cognito_events(POOL)
    assert mocker.call_count == 1


def test_a_region_without_cognito_sync_says_where_it_is_available(
    mocker: requests_mock.Mocker,
) -> None:
    pool = "eu-north-1:0f7e2b2c-1111-2222-3333-444455556666"
    mocker.get(requests_mock.ANY, exc=requests.exceptions.ConnectionError("Name does not resolve"))
    client = CognitoEventsClient(credentials=CREDENTIALS, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(TransportError) as caught:
        client.get_cognito_events(pool)
    message = str(caught.value)
    assert "not offered in region 'eu-north-1'" in message
    assert "us-east-1" in message
    # A configured endpoint is the user's choice: no hint there.
    custom = CognitoEventsClient(
        credentials=CREDENTIALS,
        endpoint_url="https://sync.internal.example",
        retry=RetryPolicy(max_attempts=1),
    )
    with pytest.raises(TransportError) as plain:
        custom.get_cognito_events(pool)
    assert "not offered" not in str(plain.value)


class _Rotating:
    """A botocore-like credentials object whose frozen keys change on every read."""

    def __init__(self) -> None:
        self.reads = 0

    def get_frozen_credentials(self) -> Any:
        self.reads += 1
        return type(
            "Frozen",
            (),
            {"access_key": f"AKIDROT{self.reads}", "secret_key": SECRET, "token": None},
        )()


def test_credentials_are_read_on_every_attempt(
    mocker: requests_mock.Mocker, sleeps: list[float]
) -> None:
    source = _Rotating()
    client = CognitoEventsClient(region="us-east-1", credentials=source, sleep=sleeps.append)
    mocker.get(URL, [R503, OK])
    client.get_cognito_events(POOL)
    first, second = mocker.request_history
    assert "Credential=AKIDROT1/" in first.headers["Authorization"]
    assert "Credential=AKIDROT2/" in second.headers["Authorization"]
    assert "<_Rotating>" in repr(client)


def test_botocore_credentials_plug_in(mocker: requests_mock.Mocker) -> None:
    botocore_credentials = pytest.importorskip("botocore.credentials")
    source = botocore_credentials.Credentials("AKIDBOTO", SECRET, TOKEN)
    client = CognitoEventsClient(region="us-east-1", credentials=source)
    mocker.get(URL, json={"Events": {}})
    client.get_cognito_events(POOL)
    request = _last(mocker)
    assert "Credential=AKIDBOTO/" in request.headers["Authorization"]
    assert request.headers["X-Amz-Security-Token"] == TOKEN
    _verify_signature(request)


def test_a_callable_credentials_source(mocker: requests_mock.Mocker) -> None:
    calls: list[int] = []

    def fetch() -> Credentials:
        calls.append(1)
        return Credentials("AKIDCALL", SECRET)

    client = CognitoEventsClient(region="us-east-1", credentials=fetch)
    mocker.get(URL, json={"Events": {}})
    client.get_cognito_events(POOL)
    client.get_cognito_events(POOL)
    assert len(calls) == 2
    assert "Credential=AKIDCALL/" in _last(mocker).headers["Authorization"]


def test_bad_profile_and_credentials_arguments() -> None:
    with pytest.raises(ValidationError) as caught:
        CognitoEventsClient(profile="", credentials=42)  # type: ignore[arg-type]
    assert [problem.parameter for problem in caught.value.problems] == ["credentials", "profile"]


def test_proxy_variables_are_read_once_per_endpoint(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = CognitoEventsClient(credentials=CREDENTIALS)  # endpoint known only at the call
    mocker.get(URL, json={"Events": {}})
    client.get_cognito_events(POOL)
    assert _last(mocker).proxies == {"https": "http://proxy.internal:3128"}
    monkeypatch.setenv("HTTPS_PROXY", "http://changed.internal:3128")
    client.get_cognito_events(POOL)  # settled at the endpoint's first call
    assert _last(mocker).proxies == {"https": "http://proxy.internal:3128"}
