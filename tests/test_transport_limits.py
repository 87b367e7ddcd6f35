"""Hostile answers from real 127.0.0.1 servers: each call ends with a typed error, in
bounded time and memory, without reading (or decoding) what it need not."""

from __future__ import annotations

import contextlib
import gzip
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
import requests
from _loopback import Connection, RawServer, RetryCounter, answer, silent
from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_events import (
    CognitoEventsClient,
    CognitoEventsError,
    Credentials,
    InternalError,
    ReadTimeoutError,
    ResponseTooLargeError,
    RetryPolicy,
    ServiceError,
    UnusableResponseError,
)
from cognito_events._transport import MAX_RESPONSE_BYTES
from cognito_events.testing import ISOLATED_ENVIRON

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
HUNDRED_MB = 100 * 1000 * 1000
#: Most Python memory a refused answer may cost (the body cap is 1 MiB).
MEMORY_BOUND = 4 * MAX_RESPONSE_BYTES


def _head(status: int, *fields: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", *fields, "", ""]
    return "\r\n".join(lines).encode()


def _stream(head: bytes, piece: bytes, total: float) -> Callable[[Connection], None]:
    """Answer with ``head``, then ``piece`` again and again up to ``total`` bytes (or for
    ever), until the client hangs up."""

    def behaviour(connection: Connection) -> None:
        if connection.read_request() is None:
            return
        connection.sock.sendall(head)
        sent = 0
        while sent < total:
            connection.sock.sendall(piece)
            sent += len(piece)

    return behaviour


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GiB: 16 members of 64 MiB of zeros each."""
    member = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9, mtime=0)
    return member * 16


@contextlib.contextmanager
def _measured() -> Iterator[dict[str, float]]:
    figures: dict[str, float] = {}
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield figures
    finally:
        figures["seconds"] = time.monotonic() - started
        figures["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def _client(url: str, **kwargs: object) -> CognitoEventsClient:
    options: dict[str, object] = {
        "region": "us-east-1",
        "credentials": CREDENTIALS,
        "endpoint_url": url,
        "environ": ISOLATED_ENVIRON,
        "retry": RetryPolicy(max_attempts=1),
        "timeout": (1.0, 2.0),
        "sleep": RetryCounter(),
    }
    options.update(kwargs)
    return CognitoEventsClient(**options)  # type: ignore[arg-type]


def _call(client: CognitoEventsClient) -> CognitoEventsError:
    with pytest.raises(CognitoEventsError) as caught:
        client.get_cognito_events(POOL)
    return caught.value


def test_a_declared_100_mb_body_is_refused_unread() -> None:
    behaviour = _stream(_head(200, f"Content-Length: {HUNDRED_MB}"), b"0" * 65536, HUNDRED_MB)
    with RawServer(behaviour) as server, _measured() as figures:
        error = _call(_client(server.url))
    assert type(error) is ResponseTooLargeError
    assert f"Content-Length {HUNDRED_MB}" in str(error)
    assert error.retryable is False
    assert figures["seconds"] < 2.0
    assert figures["peak"] < MEMORY_BOUND


def test_an_undeclared_100_mb_body_stops_at_the_limit() -> None:
    # No Content-Length: the body ends when the server closes, 100 MB later.
    behaviour = _stream(_head(200, "Connection: close"), b"0" * 65536, HUNDRED_MB)
    with RawServer(behaviour) as server, _measured() as figures:
        error = _call(_client(server.url))
    assert type(error) is ResponseTooLargeError
    assert f"limit of {MAX_RESPONSE_BYTES} bytes" in str(error)
    assert figures["seconds"] < 2.0
    assert figures["peak"] < MEMORY_BOUND


def test_an_endless_chunked_body_stops_at_the_limit() -> None:
    behaviour = _stream(_head(200, "Transfer-Encoding: chunked"), _chunk(b"[" * 8192), float("inf"))
    with RawServer(behaviour) as server, _measured() as figures:
        error = _call(_client(server.url))
    assert type(error) is ResponseTooLargeError
    assert figures["seconds"] < 2.0
    assert figures["peak"] < MEMORY_BOUND


def test_a_server_dripping_one_byte_a_second_meets_the_read_deadline() -> None:
    # Each byte comes well within the 1.5 s read timeout; the whole answer never does.
    def behaviour(connection: Connection) -> None:
        if connection.read_request() is None:
            return
        connection.sock.sendall(_head(200, "Content-Length: 1000"))
        for _ in range(1000):
            connection.sock.sendall(b" ")
            time.sleep(1.0)

    with RawServer(behaviour) as server, _measured() as figures:
        error = _call(_client(server.url, timeout=(0.5, 1.5)))
    assert type(error) is ReadTimeoutError
    assert "did not arrive in time" in str(error)
    # Deadline: connect + read = 2 s after the start; a read then waiting ends within 1 s.
    assert 2.0 <= figures["seconds"] < 3.5
    assert figures["peak"] < MEMORY_BOUND


def test_a_gzip_bomb_is_not_decompressed() -> None:
    bomb = _gzip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    head = _head(200, "Content-Encoding: gzip", f"Content-Length: {len(bomb)}")
    with RawServer(_stream(head + bomb, b"", 0)) as server, _measured() as figures:
        error = _call(_client(server.url))
    assert type(error) is UnusableResponseError
    assert "'gzip'" in str(error)
    assert error.retryable is False
    assert figures["seconds"] < 2.0
    assert figures["peak"] < MEMORY_BOUND


def test_the_client_asks_for_identity_and_reads_raw_bytes() -> None:
    seen: list[bytes] = []

    def behaviour(connection: Connection) -> None:
        request = connection.read_request()
        if request is not None:
            seen.append(request)
            connection.sock.sendall(
                _head(200, "Content-Length: 14", "Content-Encoding: identity") + b'{"Events": {}}'
            )
            connection.wait_for_hang_up()

    with RawServer(behaviour) as server:
        assert _client(server.url).get_cognito_events(POOL) == {}
    [request] = seen
    assert b"\r\nAccept-Encoding: identity\r\n" in request


def test_a_redirect_with_a_huge_body_is_not_read() -> None:
    # requests reads a redirect's whole body even when not following it; the client does not.
    head = _head(302, "Location: http://127.0.0.1:1/", f"Content-Length: {HUNDRED_MB}")
    with RawServer(_stream(head, b"0" * 65536, HUNDRED_MB)) as server, _measured() as figures:
        error = _call(_client(server.url))
    assert type(error) is ServiceError
    assert error.status_code == 302
    assert figures["seconds"] < 2.0
    assert figures["peak"] < MEMORY_BOUND


def test_total_timeout_bounds_a_call_across_attempts() -> None:
    sleep = RetryCounter()
    with RawServer(silent) as server:
        client = _client(
            server.url,
            timeout=(0.5, 5.0),
            retry=RetryPolicy(max_attempts=5),
            total_timeout=1.0,
            sleep=sleep,
        )
        started = time.monotonic()
        error = _call(client)
        elapsed = time.monotonic() - started
    assert type(error) is ReadTimeoutError
    assert 1.0 <= elapsed < 2.0  # not 5 attempts of 5 s
    assert sleep.delays == []  # no time was left for another attempt


def test_total_timeout_stops_retries_whose_wait_would_pass_it() -> None:
    body = b'{"message": "Rate exceeded, slow down."}'
    throttled = _head(429, f"Content-Length: {len(body)}", "x-amzn-ErrorType: ThrottlingException")

    def behaviour(connection: Connection) -> None:
        while connection.read_request() is not None:
            connection.sock.sendall(throttled + body)

    sleep = RetryCounter()
    with RawServer(behaviour) as server:
        client = _client(
            server.url,
            retry=RetryPolicy(max_attempts=10),
            total_timeout=1.5,
            sleep=sleep,
            random=lambda: 0.99,
        )
        error = _call(client)
    # Waits asked (never slept): 0.99 s, then 1.98 s, which alone would end past 1.5 s.
    assert error.attempts == 2  # type: ignore[attr-defined]
    assert sleep.delays == pytest.approx([0.99])


def test_a_complete_answer_keeps_the_connection() -> None:
    with RawServer(answer(b'{"Events": {}}')) as server:
        client = _client(server.url)
        for _ in range(3):
            assert client.get_cognito_events(POOL) == {}
        assert server.connections == 1
        assert server.requests == 3


def test_total_timeout_is_checked_at_construction() -> None:
    for bad in (0, -1.0, float("nan"), "3", True):
        with pytest.raises(ValueError, match="total_timeout"):
            CognitoEventsClient(total_timeout=bad)  # type: ignore[arg-type]


def test_a_session_sees_its_hooks_run_and_no_cookie_sent() -> None:
    seen: list[bytes] = []

    def behaviour(connection: Connection) -> None:
        while (request := connection.read_request()) is not None:
            seen.append(request)
            connection.sock.sendall(
                _head(200, "Content-Length: 14", "Set-Cookie: tracking=1") + b'{"Events": {}}'
            )

    session = requests.Session()
    session.cookies.set("session-cookie", "value")
    session.headers["X-Team"] = "payments"
    statuses: list[int] = []

    def hook(response: requests.Response, *args: object, **kwargs: object) -> None:
        statuses.append(response.status_code)

    session.hooks["response"].append(hook)
    with RawServer(behaviour) as server:
        client = _client(server.url, session=session)
        client.get_cognito_events(POOL)
        client.get_cognito_events(POOL)
    assert statuses == [200, 200]
    assert all(b"\r\nX-Team: payments\r\n" in request for request in seen)
    assert not any(b"\r\nCookie:" in request for request in seen)


def test_refused_answers_are_not_retried() -> None:
    behaviour = _stream(_head(200, f"Content-Length: {HUNDRED_MB}"), b"0" * 65536, HUNDRED_MB)
    sleep = RetryCounter()
    with RawServer(behaviour) as server:
        error = _call(_client(server.url, retry=RetryPolicy(max_attempts=3), sleep=sleep))
        requests_seen = server.requests
    assert type(error) is ResponseTooLargeError
    assert error.attempts == 1
    assert requests_seen == 1
    assert sleep.delays == []


def test_a_wait_that_overruns_total_timeout_ends_the_call_with_the_last_error() -> None:
    body = b'{"message": "Service unavailable"}'
    unavailable = _head(503, f"Content-Length: {len(body)}") + body

    def behaviour(connection: Connection) -> None:
        while connection.read_request() is not None:
            connection.sock.sendall(unavailable)

    def oversleep(seconds: float) -> None:
        time.sleep(seconds + 0.3)  # a loaded machine wakes up late

    with RawServer(behaviour) as server:
        client = _client(
            server.url, retry=RetryPolicy(max_attempts=20), total_timeout=1.0, sleep=oversleep
        )
        started = time.monotonic()
        error = _call(client)
        elapsed = time.monotonic() - started
    assert type(error) is InternalError
    assert error.status_code == 503
    assert 2 <= error.attempts < 20
    assert elapsed < 1.8


@pytest.mark.parametrize("length", ["\u00b2", "1e3", "-5", "0x10", "12, 12"])
def test_an_odd_content_length_never_crashes_the_client(length: str) -> None:
    body = b'{"Events": {}}'

    def behaviour(connection: Connection) -> None:
        if connection.read_request() is not None:
            head = _head(200, "Connection: close").replace(
                b"\r\n\r\n", f"\r\nContent-Length: {length}\r\n\r\n".encode("latin-1")
            )
            connection.sock.sendall(head + body)

    with RawServer(behaviour) as server:
        try:
            outcome: object = _client(server.url).get_cognito_events(POOL)
        except CognitoEventsError as error:  # refused cleanly is fine too
            outcome = error
    assert outcome == {} or isinstance(outcome, CognitoEventsError)


_header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=20,
)
_heads = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "Content-Length",
                "Content-Encoding",
                "Transfer-Encoding",
                "Content-Type",
                "Location",
                "x-amzn-ErrorType",
                "Connection",
            ]
        ),
        st.one_of(
            _header_values,
            st.sampled_from(["gzip", "identity", "chunked", "0", "14", "99999999", "close"]),
        ),
    ),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(
    status=st.sampled_from([200, 204, 301, 302, 400, 403, 429, 500, 503, 599]),
    fields=_heads,
    body=st.binary(max_size=64) | st.just(b'{"Events": {}}'),
)
def test_any_answer_ends_in_a_result_or_a_library_error(
    status: int, fields: list[tuple[str, str]], body: bytes
) -> None:
    head = f"HTTP/1.1 {status} X\r\n".encode() + b"".join(
        f"{name}: {value}\r\n".encode("latin-1") for name, value in fields
    )
    answer_bytes = head + b"\r\n" + body

    def behaviour(connection: Connection) -> None:
        if connection.read_request() is not None:
            connection.sock.sendall(answer_bytes)

    with RawServer(behaviour) as server:
        client = _client(server.url, timeout=(1.0, 0.5))
        try:
            outcome: object = client.get_cognito_events(POOL)
        except CognitoEventsError as error:
            outcome = error
    assert isinstance(outcome, dict | CognitoEventsError)
