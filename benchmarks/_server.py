"""A tiny keep-alive loopback stand-in for the Cognito Sync events endpoint.

Run as a script it binds 127.0.0.1 on a free port, prints ``PORT <n>`` on stdout and serves
until SIGTERM/SIGINT, then prints ``STATS connections=<c> requests=<r>`` and exits.
:func:`start_server` does that in a child process so that the server's CPU time never
lands in the benchmarking (client) process.

Every POST is answered ``200`` with an empty body; every GET with a fixed
``{"Events": {...}}`` document. Request bodies are read (by Content-Length) and dropped;
signatures are not checked. Each response goes out in one ``wfile.write`` call, on a
socket with TCP_NODELAY set, so that Nagle + delayed ACKs never add ~40 ms to a request.
"""

from __future__ import annotations

import signal
import socket
import socketserver
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import IO

GET_BODY = b'{"Events": {"SyncTrigger": "arn:aws:lambda:us-east-1:123456789012:function:f"}}'
_REQUEST_ID = b"x-amzn-RequestId: 6c0b2a8e-0000-4000-8000-000000000000\r\n"

POST_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: 0\r\n" + _REQUEST_ID + b"\r\n"
)
GET_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(GET_BODY)).encode() + b"\r\n" + _REQUEST_ID + b"\r\n" + GET_BODY
)


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def bump(self) -> None:
        with self._lock:
            self.value += 1


_connections = _Counter()
_requests = _Counter()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: one stderr line per request would dominate the server's time."""

    def _drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        _requests.bump()

    def do_POST(self) -> None:
        self._drain()
        self.wfile.write(POST_RESPONSE)

    def do_GET(self) -> None:
        self._drain()
        self.wfile.write(GET_RESPONSE)


class LoopbackServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with TCP_NODELAY on accepted sockets and no reverse-DNS lookup."""

    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which may query DNS: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _connections.bump()
        return sock, addr


def _serve() -> None:
    def _stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server = LoopbackServer(("127.0.0.1", 0), _Handler)
    print(f"PORT {server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        print(f"STATS connections={_connections.value} requests={_requests.value}", flush=True)
        server.server_close()


class ServerProcess:
    """A running loopback server in a child process."""

    def __init__(self, python: str = sys.executable) -> None:
        self._proc = subprocess.Popen(
            [python, "-I", str(Path(__file__).resolve())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        out: IO[str] | None = self._proc.stdout
        assert out is not None
        line = out.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            self._proc.kill()
            self._proc.wait()
            raise RuntimeError(f"loopback server failed to start: {line!r}")
        self.port = int(line[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.pid = self._proc.pid

    def stop(self) -> str:
        """Stop the server; return its ``STATS ...`` line (or '' if it died)."""
        if self._proc.poll() is None:
            self._proc.terminate()
        try:
            out, _ = self._proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            out, _ = self._proc.communicate()
        stats = [ln for ln in (out or "").splitlines() if ln.startswith("STATS ")]
        return stats[-1][6:] if stats else ""

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    _serve()
