"""Strict HTTP/1.1 framing (RFC 9112) over raw sockets: every ambiguous request is a 400
with the connection closed, nothing after it is read as a request, and the state is
unchanged."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from cognito_events._emulator import MAX_HEAD_BYTES, EmulatorServer

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
EVENTS = "/identitypools/us-east-1%3A0f7e2b2c-1111-2222-3333-444455556666/events"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(identity_pools=[POOL], idle_timeout=0.5) as emulator:
        emulator.start()
        yield emulator


def _host(server: EmulatorServer) -> str:
    return f"127.0.0.1:{server.port}"


def _smuggled(server: EmulatorServer) -> bytes:
    """An admin request that would add a pool, if it were ever read as a request."""
    body = json.dumps({"identity_pool_id": "us-east-1:11111111-2222-3333-4444-555555555555"})
    return (
        f"POST /_emulator/identity-pools HTTP/1.1\r\nHost: {_host(server)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def _talk(server: EmulatorServer, data: bytes, *, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Send ``data`` (without half-closing); return all that comes back and whether the
    server closed the connection itself."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks: list[bytes] = []
        closed = False
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                closed = True
                break
            chunks.append(chunk)
    return b"".join(chunks), closed


def _answers(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        answers.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return answers


def _state(server: EmulatorServer) -> tuple[list[str], dict[str, dict[str, str]]]:
    return server.identity_pools(), server.all_events()


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("space before the colon", "Content-Length : {n}\r\n"),
        ("tab before the colon", "Content-Length\t: {n}\r\n"),
        ("a line without a colon", "X-Oops\r\nContent-Length: {n}\r\n"),
        ("obsolete line folding", "X-Folded: a\r\n b\r\nContent-Length: {n}\r\n"),
        ("conflicting lengths", "Content-Length: {n}\r\nContent-Length: 0\r\n"),
        ("conflicting lengths in one field", "Content-Length: {n}, 0\r\n"),
        ("a signed length", "Content-Length: +{n}\r\n"),
        ("length and chunked", "Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n"),
        ("a bare LF in a field", "X-A: 1\nContent-Length: {n}\r\n"),
        ("a bare CR in a field", "X-A: 1\rContent-Length: {n}\r\n"),
        ("a NUL in a value", "X-A: a\x00b\r\nContent-Length: {n}\r\n"),
        ("two Host fields", "Host: other\r\nContent-Length: {n}\r\n"),
    ],
)
def test_ambiguous_framing_is_400_and_the_body_never_becomes_a_request(
    server: EmulatorServer, name: str, head: str
) -> None:
    before = _state(server)
    smuggled = _smuggled(server)
    data = (
        f"POST {EVENTS} HTTP/1.1\r\nHost: {_host(server)}\r\n"
        + head.format(n=len(smuggled))
        + "\r\n"
    ).encode("latin-1") + smuggled
    raw, closed = _talk(server, data)
    [(status, headers, body)] = _answers(raw)
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException"), name
    assert headers["connection"] == "close"
    assert json.loads(body)["message"]
    assert closed
    assert _state(server) == before


@pytest.mark.parametrize("size", ["0x3", "+3", " 3", "-3", "3\x00", "", "1234567890123456"])
def test_malformed_chunk_sizes_are_400(server: EmulatorServer, size: str) -> None:
    before = _state(server)
    data = (
        f"POST {EVENTS} HTTP/1.1\r\nHost: {_host(server)}\r\nTransfer-Encoding: chunked\r\n\r\n"
        f"{size}\r\nabc\r\n0\r\n\r\n"
    ).encode("latin-1") + _smuggled(server)
    raw, closed = _talk(server, data)
    [(status, headers, _)] = _answers(raw)
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    assert closed
    assert _state(server) == before


def test_chunk_sizes_in_any_case_and_with_extensions_are_read(server: EmulatorServer) -> None:
    # Unsigned, so a 403 after the body was read: what matters is that framing passed.
    data = (
        f"POST {EVENTS} HTTP/1.1\r\nHost: {_host(server)}\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
        "A;name=value\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
    ).encode()
    [(status, headers, _)] = _answers(_talk(server, data)[0])
    assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")
    assert server.requests.entries()[-1].body == "0123456789"


def test_http_1_1_without_host_is_400_but_http_1_0_may_omit_it(server: EmulatorServer) -> None:
    raw, closed = _talk(server, f"GET {EVENTS} HTTP/1.1\r\n\r\n".encode())
    [(status, headers, body)] = _answers(raw)
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    assert "Host" in json.loads(body)["message"]
    assert closed
    raw, _ = _talk(server, f"GET {EVENTS} HTTP/1.0\r\n\r\n".encode())
    [(status, headers, _)] = _answers(raw)
    assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")


def test_identical_repeated_lengths_are_one_length(server: EmulatorServer) -> None:
    data = (
        f"POST {EVENTS} HTTP/1.1\r\nHost: {_host(server)}\r\nContent-Length: 2\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    ).encode()
    [(status, headers, _)] = _answers(_talk(server, data)[0])
    assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")


def test_pipelined_requests_are_answered_in_turn(server: EmulatorServer) -> None:
    one = f"GET /_emulator/health HTTP/1.1\r\nHost: {_host(server)}\r\n\r\n"
    last = f"GET /_emulator/health HTTP/1.1\r\nHost: {_host(server)}\r\nConnection: close\r\n\r\n"
    raw, closed = _talk(server, (one * 3 + last).encode())
    answers = _answers(raw)
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    assert closed


def test_a_head_over_the_cap_is_431(server: EmulatorServer) -> None:
    filler = "".join(f"X-{i}: {'a' * 1000}\r\n" for i in range(MAX_HEAD_BYTES // 1000 + 1))
    raw, closed = _talk(server, f"GET /x HTTP/1.1\r\nHost: h\r\n{filler}\r\n".encode())
    [(status, headers, _)] = _answers(raw)
    assert (status, headers["x-amzn-errortype"]) == (431, "RequestHeaderFieldsTooLargeException")
    assert closed


def test_a_head_just_under_the_cap_is_read(server: EmulatorServer) -> None:
    start = f"GET /_emulator/health HTTP/1.1\r\nHost: {_host(server)}\r\nConnection: close\r\n"
    pad = MAX_HEAD_BYTES - len(start) - len("X-Pad: \r\n") - 10
    raw, _ = _talk(server, f"{start}X-Pad: {'p' * pad}\r\n\r\n".encode())
    [(status, _, _)] = _answers(raw)
    assert status == 200


def test_a_request_head_not_finished_in_time_gets_408_and_is_closed(
    server: EmulatorServer,
) -> None:
    started = time.monotonic()
    raw, closed = _talk(server, f"GET /x HTTP/1.1\r\nHost: {_host(server)}\r\nX-Slow: ".encode())
    waited = time.monotonic() - started
    [(status, headers, _)] = _answers(raw)
    assert (status, headers["x-amzn-errortype"]) == (408, "RequestTimeoutException")
    assert closed
    assert 0.4 <= waited < 4


def test_a_slow_drip_cannot_outlast_the_deadline(server: EmulatorServer) -> None:
    # One byte every 0.1 s keeps each recv busy, but the head has one deadline.
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        started = time.monotonic()
        answer = b""
        for byte in b"GET /x HTTP/1.1\r\nHost: h\r\nX-" + b"a" * 100:
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
            sock.setblocking(False)
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
            if answer:
                break
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 3


def test_an_idle_connection_is_closed_without_an_answer(server: EmulatorServer) -> None:
    started = time.monotonic()
    raw, closed = _talk(server, b"")
    assert (raw, closed) == (b"", True)
    assert 0.4 <= time.monotonic() - started < 4


def test_a_keep_alive_connection_is_closed_after_the_idle_timeout(
    server: EmulatorServer,
) -> None:
    request = f"GET /_emulator/health HTTP/1.1\r\nHost: {_host(server)}\r\n\r\n".encode()
    raw, closed = _talk(server, request)
    assert [status for status, _, _ in _answers(raw)] == [200]
    assert closed
