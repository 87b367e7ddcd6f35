"""The one boundary with ``requests`` and ``urllib3``, through their public API only.

A request is prepared once per route with ``requests.Request(...).prepare()``; each
attempt sends a ``.copy()`` of it with ``Session.send(stream=True)``,
reads the body raw (no content decoding) in bounded pieces against a deadline, and turns
every exception of requests, urllib3 or the socket layer into a :class:`TransportError`
subclass, here and nowhere else.

What a ``requests.Session`` passed to the client contributes:

* ``headers`` are sent under the client's own (its ``User-Agent``, ``Accept-Encoding``,
  ``Content-Type``, ``Host`` and signed headers win);
* ``hooks`` (``response``) run on each attempt's response before its body is read: a hook
  that reads the body itself is not bounded by the client's limits. Headers and hooks are
  read when the client first calls an identity pool;
* ``auth`` is refused at construction: SigV4 must be the last thing to touch a request;
* ``cookies`` are never sent: the AWS APIs do not use them;
* ``proxies``, ``verify``, ``cert`` and ``trust_env`` are resolved with
  ``Session.merge_environment_settings``, once per endpoint;
* every attempt goes through ``Session.send`` and the mounted adapters, so requests-mock,
  responses and custom adapters see it. Redirects are never followed, nor their bodies
  read; ``Set-Cookie`` answers land in ``session.cookies`` as requests always stores them,
  but the client never sends cookies.
"""

from __future__ import annotations

import functools
import http.client
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, TypeGuard

import attrs
import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from ._errors import (
    ConnectError,
    ConnectionLostError,
    ConnectTimeoutError,
    NameResolutionError,
    Problem,
    ProxyError,
    ReadTimeoutError,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    UnusableResponseError,
)

__all__ = [
    "MAX_RESPONSE_BYTES",
    "HttpAnswer",
    "SendSettings",
    "check_session",
    "prepare",
    "send",
    "send_settings",
]

HttpAnswer = tuple[int, Mapping[str, str], bytes]

#: Largest response body read, in bytes. Cognito Sync's largest answer (the events of a
#: pool) is a few hundred bytes, its errors a few KiB; anything past 1 MiB is not the service.
MAX_RESPONSE_BYTES: Final = 1024 * 1024
#: Most bytes asked for by one read of the body.
_READ_SIZE: Final = 64 * 1024
_IDENTITY: Final = frozenset({"", "identity"})


@attrs.frozen
class SendSettings:
    """Where and how requests to one endpoint go, as requests resolves them."""

    proxies: Mapping[str, str]
    verify: bool | str
    cert: str | tuple[str, str] | None


def send_settings(
    session: requests.Session, url: str, *, ca_bundle: str | None = None
) -> SendSettings:
    """Proxies, TLS verification and client certificate for ``url``.

    From ``Session.merge_environment_settings`` (session settings, ``*_PROXY``/``NO_PROXY``
    and ``REQUESTS_CA_BUNDLE`` when ``trust_env``); ``ca_bundle`` (``AWS_CA_BUNDLE`` or the
    profile's ``ca_bundle``) wins, and ``session.verify = False`` wins over both.
    """
    # requests lets REQUESTS_CA_BUNDLE override a session's verify=False; we do not.
    wanted = False if session.verify is False else ca_bundle
    merged = session.merge_environment_settings(url, {}, None, wanted, None)
    verify = merged["verify"]
    return SendSettings(
        proxies=dict(merged["proxies"]),
        # None would mean "no verification" to requests' adapter: never let it through.
        verify=True if verify is None else verify,
        cert=merged["cert"],
    )


def new_session() -> requests.Session:
    """The session a client makes for itself: requests' defaults, less the ``Accept`` and
    ``Connection`` headers it would add to every request (HTTP/1.1 keeps connections alive
    anyway, and the AWS services ignore ``Accept: */*``)."""
    session = requests.Session()
    for name in ("Accept", "Connection"):
        session.headers.pop(name, None)
    return session


def check_session(session: object) -> list[Problem]:
    """The problems of a ``session=`` argument: not a Session, or one with ``auth`` set."""
    if session is None:
        return []
    if not isinstance(session, requests.Session):
        return [
            Problem("session", f"must be a requests.Session or None, not {type(session).__name__}")
        ]
    if session.auth is not None:
        return [
            Problem(
                "session",
                "has auth set; the client signs every request with SigV4, which must be the "
                "last change to a request, so it cannot use session.auth (pass a session "
                "without auth)",
            )
        ]
    return []


def prepare(
    session: requests.Session, method: str, url: str, headers: Mapping[str, str]
) -> requests.PreparedRequest:
    """A request to copy per attempt: the session's headers under ``headers``, its hooks."""
    merged: CaseInsensitiveDict[str | bytes | None] = CaseInsensitiveDict(session.headers)
    merged.update(headers)
    sent = {name: value for name, value in merged.items() if value is not None}
    theirs = _hook_list(session.hooks.get("response", []))
    hooks = {**session.hooks, "response": [*theirs, _skip_redirect_body]}
    return requests.Request(method, url, headers=sent, hooks=hooks).prepare()


def _hook_list(hooks: object) -> list[Callable[..., Any]]:
    """A session's hooks for one event as a list: requests accepts one callable too."""
    if _is_hook_sequence(hooks):
        return list(hooks)
    return [hooks] if callable(hooks) else []


def _is_hook_sequence(
    hooks: object,
) -> TypeGuard[list[Callable[..., Any]] | tuple[Callable[..., Any], ...]]:
    return isinstance(hooks, list | tuple)


def _skip_redirect_body(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Close a redirect unread: ``Session.send`` reads (and decodes) a redirect's whole body
    even when not following it. The client never follows one; it reports its status."""
    if 300 <= response.status_code < 400 and response.is_redirect:  # the status is cheaper
        response.close()


def send(
    session: requests.Session,
    request: requests.PreparedRequest,
    *,
    settings: SendSettings,
    timeout: tuple[float, float],
    deadline: float,
    operation: str,
    hint: str | None = None,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> HttpAnswer:
    """Send one attempt; return (status, headers, body) or raise a ``TransportError``.

    ``deadline`` (``time.monotonic()``) is when the whole answer must have arrived; a read
    already waiting then may take up to the read timeout more.
    """
    url = request.url or ""
    try:
        response = session.send(
            request,
            stream=True,
            allow_redirects=False,
            timeout=timeout,
            verify=settings.verify,
            cert=settings.cert,
            proxies=dict(settings.proxies),
        )
        try:
            # A redirect was closed unread by the hook: its status is the answer.
            body = b"" if response.is_redirect else _read_body(response, max_bytes, deadline)
        except BaseException:
            response.close()  # the connection is mid-answer: never reuse it
            raise
    except TransportError as exc:
        exc.message = f"{operation} got an unusable response from {_origin(url)}: {exc.message}"
        exc.args = (exc.message,)
        raise
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        cls, label, retryable = classify(exc)
        if isinstance(exc, requests.exceptions.InvalidHeader):
            # Its message quotes the header value, which may be a token: never echo it.
            detail = "a header value cannot be sent over HTTP"
        else:
            detail = str(exc) or type(exc).__name__
        raise cls(
            f"{operation} got no response from {_origin(url)}: {label} ({detail})"
            + (f". {hint}" if hint else ""),
            retryable=retryable,
        ) from exc
    return response.status_code, response.headers, body


def _read_body(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    """The body as sent (never decoded), refused past ``max_bytes`` or ``deadline``."""
    headers = response.headers
    encoding = (headers.get("Content-Encoding") or "").strip().lower()
    if encoding not in _IDENTITY:
        raise UnusableResponseError(
            f"the body is encoded as {encoding[:40]!r} although the client asked for "
            "'identity'; not read",
            retryable=False,
        )
    declared = headers.get("Content-Length", "").strip()
    expected = int(declared) if declared.isascii() and declared.isdigit() else None
    if expected is not None and expected > max_bytes:
        raise ResponseTooLargeError(
            f"Content-Length {expected} is over the limit of {max_bytes} bytes; not read",
            retryable=False,
        )
    read = _reader(response)
    parts: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() >= deadline:
            raise ReadTimeoutError(
                "read timeout (the whole answer did not arrive in time)", retryable=True
            )
        chunk = read()  # at most one socket read
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLargeError(
                f"the body passed the limit of {max_bytes} bytes; the rest was not read",
                retryable=False,
            )
        parts.append(chunk)
        if size == expected:
            break  # all of it: urllib3 has put the connection back in the pool
    return b"".join(parts)


def _reader(response: requests.Response) -> Callable[[], bytes]:
    """What reads the next piece of the raw body, never decoded: urllib3's ``read1``, or
    for a custom adapter's response only what requests itself offers."""
    raw = response.raw
    if isinstance(raw, urllib3.BaseHTTPResponse):
        return functools.partial(raw.read1, _READ_SIZE, decode_content=False)
    pieces = response.iter_content(_READ_SIZE)
    return functools.partial(next, pieces, b"")


# Failures to build the request at all: sending it again cannot help.
_LOCAL_ERRORS: Final = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidHeader,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.URLRequired,
    requests.exceptions.InvalidJSONError,
)

#: (what to look for in an exception or its causes, the class it becomes, its label),
#: the most specific first: requests' ConnectTimeout is also a ConnectionError, urllib3's
#: NameResolutionError a NewConnectionError, which is also a ConnectTimeoutError, and a
#: connect timeout may carry a socket timeout (TimeoutError) in its context.
_KINDS: Final[tuple[tuple[tuple[type[BaseException], ...], type[TransportError], str], ...]] = (
    (
        (requests.exceptions.ProxyError, urllib3.exceptions.ProxyError),
        ProxyError,
        "proxy error",
    ),
    (
        (requests.exceptions.SSLError, urllib3.exceptions.SSLError, ssl.SSLError),
        TLSError,
        "TLS error",
    ),
    (
        (urllib3.exceptions.NameResolutionError, socket.gaierror),
        NameResolutionError,
        "name resolution failed",
    ),
    (
        (urllib3.exceptions.NewConnectionError, ConnectionRefusedError),
        ConnectError,
        "connection failed",
    ),
    (
        (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError),
        ConnectTimeoutError,
        "connect timeout",
    ),
    (
        (
            requests.exceptions.ReadTimeout,
            urllib3.exceptions.ReadTimeoutError,
            TimeoutError,
        ),
        ReadTimeoutError,
        "read timeout",
    ),
    (
        (
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError,
            http.client.HTTPException,
            ConnectionError,
        ),
        ConnectionLostError,
        "connection lost",
    ),
    ((requests.exceptions.ConnectionError,), ConnectError, "connection failed"),
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: requests puts urllib3's error in ``args[0]``, urllib3's
    ``MaxRetryError`` in ``.reason``, and Python chains ``__cause__``/``__context__``."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if current.args and isinstance(current.args[0], BaseException):
            pending.append(current.args[0])
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason:
            pending.append(current.reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)


def classify(exc: BaseException) -> tuple[type[TransportError], str, bool]:
    """The TransportError class, label and retryability for a dependency's exception."""
    if isinstance(exc, _LOCAL_ERRORS):
        return TransportError, "the request could not be built", False
    causes = list(_causes(exc))
    for kinds, cls, label in _KINDS:
        if any(isinstance(cause, kinds) for cause in causes):
            return cls, label, True
    return TransportError, "request failed", True


def _origin(url: str | None) -> str:
    if not url:
        return "the endpoint"
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
