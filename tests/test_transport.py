"""The requests boundary: public API only, typed failures, a passed-in session's parts."""

from __future__ import annotations

import ast
import inspect
import math
import socket
import ssl
from pathlib import Path

import pytest
import requests
import requests_mock
import urllib3.exceptions

import cognito_events
from cognito_events import (
    CognitoEventsClient,
    ConnectError,
    ConnectionLostError,
    ConnectTimeoutError,
    Credentials,
    NameResolutionError,
    ProxyError,
    ReadTimeoutError,
    TLSError,
    TransportError,
    ValidationError,
)
from cognito_events._transport import (
    SendSettings,
    check_session,
    classify,
    prepare,
    send,
    send_settings,
)

URL = "https://cognito-sync.us-east-1.amazonaws.com/identitypools/x/events"
SETTINGS = SendSettings(proxies={}, verify=True, cert=None)
PACKAGE = Path(cognito_events.__file__).parent


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


def _send(session: requests.Session, operation: str = "GetCognitoEvents") -> object:
    return send(
        session,
        _prepared(),
        settings=SETTINGS,
        timeout=(1.0, 1.0),
        deadline=math.inf,
        operation=operation,
    )


# -- public ground ------------------------------------------------------------------------


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_uses(tree: ast.AST) -> list[str]:
    """Private names of other objects: ``x._name`` where x is not self/cls, ``__new__``,
    and imports of ``_name`` or from a ``_module`` of requests/urllib3."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            mine = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            if node.attr == "__new__" or (_is_private(node.attr) and not mine):
                found.append(f"{ast.unparse(node)} (line {node.lineno})")
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] in ("requests", "urllib3"):
                if any(_is_private(part) for part in parts):
                    found.append(f"from {node.module} (line {node.lineno})")
                found += [
                    f"{alias.name} from {node.module} (line {node.lineno})"
                    for alias in node.names
                    if _is_private(alias.name)
                ]
    return found


def test_the_package_uses_no_private_name_of_requests_or_urllib3() -> None:
    offenders: dict[str, list[str]] = {}
    assert (PACKAGE / "_transport.py").is_file()  # looking in the right place
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "requests" not in source and "urllib3" not in source:
            continue
        uses = _private_uses(ast.parse(source))
        if uses:
            offenders[str(path.relative_to(PACKAGE))] = uses
    assert offenders == {}


def test_the_private_name_check_sees_what_it_looks_for() -> None:
    caught = _private_uses(
        ast.parse(
            "p = requests.PreparedRequest.__new__(requests.PreparedRequest)\n"
            "h._store = {}\np._body_position = None\nself._mine = 1\n"
            "from requests.structures import _Thing\nfrom urllib3._collections import X\n"
        )
    )
    assert len(caught) == 5, caught


# -- every dependency exception becomes a TransportError kind -----------------------------


@pytest.mark.parametrize("cls", _requests_exception_classes(), ids=lambda cls: cls.__name__)
def test_no_requests_exception_is_left_unmapped(cls: type[BaseException]) -> None:
    if issubclass(cls, requests.exceptions.JSONDecodeError):
        original: BaseException = cls("detail", "doc", 0)
    else:
        original = cls("detail")
    with pytest.raises(TransportError) as caught:
        _send(_raising_session(original))
    assert caught.value.__cause__ is original
    assert "GetCognitoEvents got no response from https://cognito-sync" in str(caught.value)


def test_the_test_above_sees_the_whole_tree() -> None:
    # If requests grows a new exception class, it shows up in the parametrised list.
    listed = set(_requests_exception_classes())
    public = {
        cls
        for cls in _all_subclasses(requests.RequestException)
        if cls.__module__ == "requests.exceptions"
    }
    assert public <= listed


def _wrapped(reason: BaseException) -> requests.exceptions.ConnectionError:
    """How requests reports a connection failure: urllib3's MaxRetryError in args[0]."""
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, URL, reason)  # type: ignore[arg-type]
    )


_NEW_CONNECTION = urllib3.exceptions.NewConnectionError(
    None,  # type: ignore[arg-type]
    "Failed to establish a new connection: [Errno 111] Connection refused",
)
_NAME_RESOLUTION = urllib3.exceptions.NameResolutionError(
    "cognito-sync.nowhere.invalid",
    None,  # type: ignore[arg-type]
    socket.gaierror(-2, "Name or service not known"),
)


@pytest.mark.parametrize(
    ("exc", "expected", "label"),
    [
        (requests.exceptions.ConnectTimeout("x"), ConnectTimeoutError, "connect timeout"),
        (
            requests.exceptions.ConnectTimeout(
                urllib3.exceptions.MaxRetryError(
                    None,  # type: ignore[arg-type]
                    URL,
                    urllib3.exceptions.ConnectTimeoutError("timed out"),
                )
            ),
            ConnectTimeoutError,
            "connect timeout",
        ),
        (requests.exceptions.ReadTimeout("x"), ReadTimeoutError, "read timeout"),
        (
            urllib3.exceptions.ReadTimeoutError(None, URL, "Read timed out."),  # type: ignore[arg-type]
            ReadTimeoutError,
            "read timeout",
        ),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.ReadTimeoutError(None, URL, "Read timed out.")  # type: ignore[arg-type]
            ),
            ReadTimeoutError,
            "read timeout",
        ),
        (requests.exceptions.SSLError("x"), TLSError, "TLS error"),
        (ssl.SSLError(1, "certificate verify failed"), TLSError, "TLS error"),
        (requests.exceptions.ProxyError("x"), ProxyError, "proxy error"),
        (_wrapped(_NAME_RESOLUTION), NameResolutionError, "name resolution failed"),
        (_wrapped(_NEW_CONNECTION), ConnectError, "connection failed"),
        (ConnectionRefusedError(111, "Connection refused"), ConnectError, "connection failed"),
        (requests.exceptions.ConnectionError("x"), ConnectError, "connection failed"),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.ProtocolError(
                    "Connection aborted.", ConnectionResetError(104, "reset by peer")
                )
            ),
            ConnectionLostError,
            "connection lost",
        ),
        (requests.exceptions.ChunkedEncodingError("x"), ConnectionLostError, "connection lost"),
        (urllib3.exceptions.ProtocolError("Connection broken"), ConnectionLostError, "lost"),
        (ConnectionResetError(104, "Connection reset by peer"), ConnectionLostError, "lost"),
        (requests.exceptions.InvalidURL("x"), TransportError, "could not be built"),
        (OSError("something else"), TransportError, "request failed"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_each_failure_has_its_class(
    exc: BaseException, expected: type[TransportError], label: str
) -> None:
    assert classify(exc)[0] is expected
    with pytest.raises(TransportError) as caught:
        _send(_raising_session(exc))
    assert type(caught.value) is expected
    assert caught.value.__cause__ is exc
    assert label in str(caught.value)


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
        _send(_raising_session(exc))
    assert caught.value.retryable is retryable


def test_invalid_header_messages_are_not_echoed() -> None:
    token = "SECRET-TOKEN-VALUE\n"
    exc = requests.exceptions.InvalidHeader(f"Invalid return character in header: {token!r}")
    with pytest.raises(TransportError) as caught:
        _send(_raising_session(exc))
    assert "SECRET-TOKEN-VALUE" not in str(caught.value)


def test_every_transport_kind_is_exported_and_a_transport_error() -> None:
    kinds = {cls for cls in _all_subclasses(TransportError) if cls.__module__ == "cognito_events"}
    assert {cls.__name__ for cls in kinds} <= set(cognito_events.__all__)
    assert len(kinds) == 9


# -- settings from Session.merge_environment_settings -------------------------------------


def test_proxies_come_from_the_environment_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    session = requests.Session()
    aws = "https://cognito-sync.us-east-1.amazonaws.com"
    assert send_settings(session, aws).proxies["https"] == "http://proxy.internal:3128"
    assert send_settings(session, "http://127.0.0.1:8000").proxies == {}  # NO_PROXY
    session = requests.Session()
    session.trust_env = False
    assert send_settings(session, aws).proxies == {}
    session.proxies = {"https": "http://session.internal:8080"}
    assert send_settings(session, aws).proxies == {"https": "http://session.internal:8080"}


def test_verify_and_cert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    session = requests.Session()
    assert send_settings(session, URL).verify == "/etc/ssl/bundle.pem"
    assert send_settings(session, URL, ca_bundle="/aws/ca.pem").verify == "/aws/ca.pem"
    session.verify = False  # wins over REQUESTS_CA_BUNDLE and AWS_CA_BUNDLE alike
    assert send_settings(session, URL).verify is False
    assert send_settings(session, URL, ca_bundle="/aws/ca.pem").verify is False
    session.verify = True
    session.trust_env = False
    session.cert = ("/c.pem", "/k.pem")
    settings = send_settings(session, URL)
    assert settings.verify is True
    assert settings.cert == ("/c.pem", "/k.pem")


def test_verify_none_never_means_unverified() -> None:
    session = requests.Session()
    session.trust_env = False
    session.verify = None  # type: ignore[assignment, unused-ignore]
    assert send_settings(session, URL).verify is True


# -- what a passed-in session contributes -------------------------------------------------


def test_session_headers_go_under_ours_and_hooks_are_kept() -> None:
    session = requests.Session()
    session.headers["X-Team"] = "payments"
    session.headers["User-Agent"] = "theirs/1.0"
    session.headers["Accept"] = None  # type: ignore[assignment]  # requests: "do not send"

    def hook(response: requests.Response, *args: object, **kwargs: object) -> None:
        """A user's hook."""

    session.hooks["response"].append(hook)
    prepared = prepare(
        session, "GET", URL, {"User-Agent": "ours/2.0", "Accept-Encoding": "identity"}
    )
    assert prepared.headers["X-Team"] == "payments"
    assert prepared.headers["User-Agent"] == "ours/2.0"
    assert prepared.headers["Accept-Encoding"] == "identity"
    assert "Accept" not in prepared.headers
    assert prepared.hooks["response"][0] is hook
    assert len(prepared.hooks["response"]) == 2  # and the client's own redirect guard
    assert "Cookie" not in prepared.headers


def test_a_session_with_auth_is_refused() -> None:
    session = requests.Session()
    session.auth = ("user", "password")
    [problem] = check_session(session)
    assert problem.parameter == "session"
    assert "SigV4" in problem.message
    with pytest.raises(ValidationError, match="session: has auth set"):
        cognito_events.CognitoEventsClient(session=session)
    assert check_session(requests.Session()) == []
    assert check_session(None) == []
    assert "not dict" in check_session({})[0].message


def test_the_client_s_own_session_sends_only_what_the_service_needs() -> None:
    """No ``Accept: */*`` or ``Connection: keep-alive`` from requests' defaults; a session
    passed in keeps its own headers."""
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    pool = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
    with requests_mock.Mocker() as mocker:
        mocker.get(requests_mock.ANY, json={"Events": {}})
        with CognitoEventsClient(region="us-east-1", credentials=credentials) as client:
            client.get_cognito_events(pool)
        sent = mocker.last_request.headers
        assert "Accept" not in sent
        assert "Connection" not in sent
        assert sent["Accept-Encoding"] == "identity"
        theirs = requests.Session()
        with CognitoEventsClient(
            region="us-east-1", credentials=credentials, session=theirs
        ) as client:
            client.get_cognito_events(pool)
        assert mocker.last_request.headers["Accept"] == "*/*"
