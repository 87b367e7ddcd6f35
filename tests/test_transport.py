"""The requests boundary: every dependency exception becomes a TransportError."""

from __future__ import annotations

import inspect

import pytest
import requests
import urllib3.exceptions

from cognito_events import TransportError
from cognito_events._transport import environ_proxies, resolve_proxies, resolve_verify, send

URL = "https://cognito-sync.us-east-1.amazonaws.com/identitypools/x/events"


def _all_subclasses(root: type[BaseException]) -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    pending = [root]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


def _requests_exception_classes() -> list[type[BaseException]]:
    classes = {
        value
        for _, value in inspect.getmembers(requests.exceptions, inspect.isclass)
        if issubclass(value, requests.RequestException)
    }
    return sorted(classes, key=lambda cls: cls.__name__)


def _raising_session(exc: BaseException) -> requests.Session:
    session = requests.Session()

    def fail(*args: object, **kwargs: object) -> requests.Response:
        raise exc

    session.send = fail  # type: ignore[method-assign]
    return session


def _prepared() -> requests.PreparedRequest:
    return requests.Request("GET", URL).prepare()


@pytest.mark.parametrize("cls", _requests_exception_classes(), ids=lambda cls: cls.__name__)
def test_no_requests_exception_is_left_unmapped(cls: type[BaseException]) -> None:
    if issubclass(cls, requests.exceptions.JSONDecodeError):
        original: BaseException = cls("detail", "doc", 0)
    else:
        original = cls("detail")
    with pytest.raises(TransportError) as caught:
        send(
            _raising_session(original),
            _prepared(),
            timeout=(1.0, 1.0),
            proxies={},
            verify=True,
            operation="GetCognitoEvents",
        )
    assert caught.value.__cause__ is original
    assert "GetCognitoEvents got no response from https://cognito-sync" in str(caught.value)


@pytest.mark.parametrize(
    "exc",
    [
        urllib3.exceptions.ProtocolError("Connection aborted."),
        urllib3.exceptions.ReadTimeoutError(None, URL, "read timed out"),  # type: ignore[arg-type]
        ConnectionResetError(104, "Connection reset by peer"),
        OSError("network is unreachable"),
    ],
)
def test_urllib3_and_socket_errors_are_mapped(exc: BaseException) -> None:
    with pytest.raises(TransportError) as caught:
        send(
            _raising_session(exc),
            _prepared(),
            timeout=(1.0, 1.0),
            proxies={},
            verify=True,
            operation="SetCognitoEvents",
        )
    assert caught.value.__cause__ is exc


def test_the_test_above_sees_the_whole_tree() -> None:
    # If requests grows a new exception class, it shows up in the parametrised list.
    listed = set(_requests_exception_classes())
    public = {
        cls
        for cls in _all_subclasses(requests.RequestException)
        if cls.__module__ == "requests.exceptions"
    }
    assert public <= listed


@pytest.mark.parametrize(
    ("exc", "label"),
    [
        (requests.exceptions.ConnectTimeout("x"), "connect timeout"),
        (requests.exceptions.ReadTimeout("x"), "read timeout"),
        (requests.exceptions.SSLError("x"), "TLS error"),
        (requests.exceptions.ProxyError("x"), "proxy error"),
        (requests.exceptions.ConnectionError("x"), "connection failed"),
        (requests.exceptions.ChunkedEncodingError("x"), "connection broken"),
        (requests.exceptions.InvalidURL("x"), "request failed"),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.ReadTimeoutError(None, URL, "Read timed out.")  # type: ignore[arg-type]
            ),
            "read timeout",
        ),
    ],
)
def test_errors_say_what_happened(exc: BaseException, label: str) -> None:
    with pytest.raises(TransportError, match=label):
        send(
            _raising_session(exc),
            _prepared(),
            timeout=(1.0, 1.0),
            proxies={},
            verify=True,
            operation="GetCognitoEvents",
        )


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (requests.exceptions.InvalidHeader("x"), False),
        (requests.exceptions.InvalidURL("x"), False),
        (requests.exceptions.MissingSchema("x"), False),
        (requests.exceptions.ConnectionError("x"), True),
        (requests.exceptions.SSLError("x"), True),
        (requests.exceptions.ReadTimeout("x"), True),
    ],
)
def test_local_errors_are_not_retryable(exc: BaseException, retryable: bool) -> None:
    with pytest.raises(TransportError) as caught:
        send(
            _raising_session(exc),
            _prepared(),
            timeout=(1.0, 1.0),
            proxies={},
            verify=True,
            operation="GetCognitoEvents",
        )
    assert caught.value.retryable is retryable


def test_invalid_header_messages_are_not_echoed() -> None:
    token = "SECRET-TOKEN-VALUE\n"
    exc = requests.exceptions.InvalidHeader(f"Invalid return character in header: {token!r}")
    with pytest.raises(TransportError) as caught:
        send(
            _raising_session(exc),
            _prepared(),
            timeout=(1.0, 1.0),
            proxies={},
            verify=True,
            operation="GetCognitoEvents",
        )
    assert "SECRET-TOKEN-VALUE" not in str(caught.value)


def test_proxies_are_resolved_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    session = requests.Session()
    snapshot = environ_proxies(session)
    monkeypatch.delenv("HTTPS_PROXY")  # later changes are not seen: the snapshot is used
    monkeypatch.delenv("NO_PROXY")
    aws = "https://cognito-sync.us-east-1.amazonaws.com"
    assert resolve_proxies(session, aws, snapshot) == {"https": "http://proxy.internal:3128"}
    assert resolve_proxies(session, "http://127.0.0.1:8000", snapshot) == {}
    session.trust_env = False
    assert resolve_proxies(session, aws, environ_proxies(session)) == {}


def test_verify_honours_requests_bundle_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    session = requests.Session()
    assert resolve_verify(session) == "/etc/ssl/bundle.pem"
    session.verify = False
    assert resolve_verify(session) is False
    session.verify = True
    session.trust_env = False
    assert resolve_verify(session) is True
