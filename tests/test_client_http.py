"""The client over real HTTP on 127.0.0.1, against small purpose-built servers."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    Credentials,
    RetryPolicy,
    TransportError,
)

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:sync-handler"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, dict[str, str], bytes, int]]

    def _answer(self, body: bytes) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length)
        self.seen.append(
            (
                self.command,
                self.path,
                dict(self.headers.items()),
                received,
                self.client_address[1],
            )
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self._answer(b"")

    def do_GET(self) -> None:
        self._answer(json.dumps({"Events": {SYNC_TRIGGER: ARN}}).encode())

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def recording_server() -> Iterator[tuple[str, list[tuple[str, str, dict[str, str], bytes, int]]]]:
    seen: list[tuple[str, str, dict[str, str], bytes, int]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def raw_server(behaviour: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server that hands each connection to ``behaviour``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()
    connections: list[socket.socket] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connections.append(connection)
            behaviour(connection)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()
        for connection in connections:
            connection.close()


def _client(endpoint: str, sleeps: list[float], **options: object) -> CognitoEventsClient:
    return CognitoEventsClient(
        region="us-east-1",
        credentials=CREDENTIALS,
        endpoint_url=endpoint,
        sleep=sleeps.append,
        **options,  # type: ignore[arg-type]
    )


def test_set_and_get_over_one_kept_alive_connection() -> None:
    sleeps: list[float] = []
    with recording_server() as (endpoint, seen), _client(endpoint, sleeps) as client:
        client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
        assert client.get_cognito_events(POOL) == {SYNC_TRIGGER: ARN}
    (post_method, post_path, post_headers, post_body, post_port), get = seen
    assert post_method == "POST"
    assert post_path == "/identitypools/us-east-1%3A0f7e2b2c-1111-2222-3333-444455556666/events"
    assert json.loads(post_body) == {"Events": {SYNC_TRIGGER: ARN}}
    assert post_headers["Host"] == endpoint.removeprefix("http://")
    assert post_headers["Content-Type"] == "application/json"
    assert "Transfer-Encoding" not in post_headers
    assert get[0] == "GET"
    assert get[3] == b""
    assert get[4] == post_port  # the same connection was reused
    assert sleeps == []


def test_connection_refused_is_a_transport_error_after_retries() -> None:
    placeholder = socket.socket()
    placeholder.bind(("127.0.0.1", 0))
    port = placeholder.getsockname()[1]
    placeholder.close()
    sleeps: list[float] = []
    client = _client(f"http://127.0.0.1:{port}", sleeps, random=lambda: 1.0)
    with client, pytest.raises(TransportError) as caught:
        client.get_cognito_events(POOL)
    assert caught.value.attempts == 3
    assert "connection failed" in str(caught.value)
    assert sleeps == pytest.approx([0.05, 0.1])


def _reset(connection: socket.socket) -> None:
    connection.recv(65536)
    connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"Ev')
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def test_reset_mid_response_is_a_transport_error() -> None:
    sleeps: list[float] = []
    with (
        raw_server(_reset) as endpoint,
        _client(endpoint, sleeps) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.get_cognito_events(POOL)
    assert caught.value.attempts == 3
    assert len(sleeps) == 2


def _silent(connection: socket.socket) -> None:
    connection.recv(65536)  # read the request, never answer


def test_read_timeout_is_a_transport_error() -> None:
    sleeps: list[float] = []
    with (
        raw_server(_silent) as endpoint,
        _client(endpoint, sleeps, timeout=(1.0, 0.2), retry=RetryPolicy(max_attempts=2)) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.set_cognito_events(POOL, {SYNC_TRIGGER: ""})
    assert "read timeout" in str(caught.value)
    assert caught.value.attempts == 2
