"""Purpose-built servers on 127.0.0.1 for the fault, load and crash-recovery tests, and the
bookkeeping those tests share: run budgets (``CE_SOAK_SECONDS``), figures (``CE_FIGURES``),
resident memory, and a ``sleep`` stand-in that counts retries per thread.

Every server here is a context manager that closes its sockets and joins its threads.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import random
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Self

import attrs

from cognito_events import Credentials

__all__ = [
    "Behaviour",
    "Budget",
    "Connection",
    "CredentialsEndpoint",
    "HttpRequest",
    "LoopbackHTTPServer",
    "RawServer",
    "RetryCounter",
    "ServeProcess",
    "ThrottlingProxy",
    "answer",
    "drip",
    "http_response",
    "in_turn",
    "quiet",
    "record_figures",
    "refused_url",
    "reset_before_answer",
    "reset_mid_response",
    "rss_bytes",
    "silent",
    "soak_seconds",
]

#: How long any server thread waits for a peer before giving up (a safety net only).
SAFETY_TIMEOUT: Final = 10.0


# -- run budgets, figures, memory ---------------------------------------------------------


def soak_seconds() -> float | None:
    """``CE_SOAK_SECONDS`` as a number of seconds, or None when unset (the short CI run)."""
    raw = os.environ.get("CE_SOAK_SECONDS", "").strip()
    if not raw:
        return None
    seconds = float(raw)
    if not 0 < seconds < float("inf"):
        raise ValueError(f"CE_SOAK_SECONDS must be a positive number of seconds, not {raw!r}")
    return seconds


class Budget:
    """Run until ``count`` rounds are done or ``seconds`` have passed, whichever comes first.

    Under ``CE_SOAK_SECONDS`` (unless ``scales`` is false) the time is that many seconds
    and the count ``soak_count``.
    """

    def __init__(
        self, *, count: int, seconds: float, soak_count: int = 10**9, scales: bool = True
    ) -> None:
        soak = soak_seconds() if scales else None
        self.soak = soak is not None
        self.count = soak_count if soak is not None else count
        self.seconds = soak if soak is not None else seconds
        self.started = time.monotonic()

    def more(self, done: int) -> bool:
        """Whether another round fits."""
        return done < self.count and time.monotonic() - self.started < self.seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started


_FIGURES: dict[str, dict[str, object]] = {}
_FIGURES_LOCK = threading.Lock()


def record_figures(section: str, name: str, figures: object) -> None:
    """Keep one test's figures; when ``CE_FIGURES`` names a file, (re)write it as JSON.

    The file holds everything recorded so far in this pytest process, by section and name.
    """
    with _FIGURES_LOCK:
        _FIGURES.setdefault(section, {})[name] = figures
        path = os.environ.get("CE_FIGURES")
        if not path:
            return
        directory = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".ce_figures.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(_FIGURES, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temporary, path)


def rss_bytes() -> int:
    """This process's resident set size, from ``/proc/self/statm`` (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


class RetryCounter:
    """Stands in for ``time.sleep`` in a client: never sleeps, counts the retries of the
    call running on each thread, and keeps every delay that was asked for."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self._local.retries = getattr(self._local, "retries", 0) + 1
        with self._lock:
            self.delays.append(seconds)

    def start_call(self) -> None:
        """Forget this thread's count: a new call begins."""
        self._local.retries = 0

    @property
    def retries(self) -> int:
        """Retries (sleeps) of this thread's current call."""
        return int(getattr(self._local, "retries", 0))


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Pause the session's unbounded recorders for a long run, so that what is measured is
    the client: the package's DEBUG logging (pytest keeps every record of a test in
    memory) and, when ``tests/_sweep.py`` is installed, the secrets sweep (it keeps every
    distinct text it sees until the session ends)."""
    package_logger = logging.getLogger("cognito_events")
    level = package_logger.level
    package_logger.setLevel(logging.WARNING)
    try:
        with _paused_sweep():
            yield
    finally:
        package_logger.setLevel(level)


def _paused_sweep() -> contextlib.AbstractContextManager[object]:
    try:
        import _sweep  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return contextlib.nullcontext()
    if _sweep.active() is None:
        return contextlib.nullcontext()

    class _Ignoring(_sweep.Sweep):  # type: ignore[misc, unused-ignore]
        def add_secret(self, value: object, kind: str) -> bool:
            return False

        def add_signature(self, value: object) -> None:
            pass

        def add_text(self, text: object, origin: str) -> None:
            pass

    redirect: contextlib.AbstractContextManager[object] = _sweep.redirect(_Ignoring())
    return redirect


# -- raw TCP servers ----------------------------------------------------------------------


@attrs.define
class Connection:
    """One accepted connection, handed to a behaviour in its own thread."""

    sock: socket.socket
    #: 0 for the first connection the server accepted, 1 for the next, ...
    index: int
    server: RawServer

    def read_request(self) -> bytes | None:
        """One HTTP request (head and Content-Length body), or None at end of stream."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv()
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = self._recv()
            if not chunk:
                return None
            body += chunk
        self.server.count_request()
        return data

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""

    def wait_for_hang_up(self) -> None:
        """Block until the peer closes the connection or the server stops."""
        while self._recv():
            pass

    def reset(self) -> None:
        """Close with a TCP RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Behaviour = Callable[[Connection], None]


class RawServer:
    """A TCP listener on 127.0.0.1 that hands each connection to ``behaviour`` in a thread.

    ``requests`` counts the HTTP requests the behaviours read; ``connections`` the
    connections accepted.
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self.requests = 0
        self.connections = 0
        self._acceptor = threading.Thread(target=self._accept_loop, name="raw-server")
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    sock, _ = self._listener.accept()
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sock.settimeout(SAFETY_TIMEOUT)
                    with self._lock:
                        if self._stopping:
                            sock.close()
                            continue
                        connection = Connection(sock, self.connections, self)
                        self.connections += 1
                        self._sockets.append(sock)
                        thread = threading.Thread(
                            target=self._run, args=(connection,), name="raw-connection"
                        )
                        self._threads.append(thread)
                    thread.start()

    def _run(self, connection: Connection) -> None:
        try:
            self._behaviour(connection)
        except OSError:
            pass  # the client went away: that is what these servers provoke
        finally:
            connection.sock.close()

    def stop(self) -> None:
        """Stop accepting, cut every connection, join every thread (idempotent)."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        self._wake_w.send(b"\0")
        self._acceptor.join()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def refused_url() -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def http_response(status: int, body: bytes, *, reason: str = "OK") -> bytes:
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"x-amzn-RequestId: {uuid.uuid4()}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def answer(body: bytes) -> Behaviour:
    """Answer 200 with ``body`` to every request on the connection (keep-alive)."""

    def behaviour(connection: Connection) -> None:
        while connection.read_request() is not None:
            connection.sock.sendall(http_response(200, body))

    return behaviour


def silent(connection: Connection) -> None:
    """Read the request and never answer."""
    if connection.read_request() is not None:
        connection.wait_for_hang_up()


def reset_before_answer(connection: Connection) -> None:
    """Read the request, then reset the connection without a byte of answer."""
    if connection.read_request() is not None:
        connection.reset()


def reset_mid_response(connection: Connection) -> None:
    """Send the head and part of the body, then reset the connection."""
    if connection.read_request() is not None:
        connection.sock.sendall(http_response(200, b'{"Events": {}}' + b" " * 64)[:-60])
        connection.reset()


def drip(body: bytes, *, chunk: int, interval: float, stall_at: int | None = None) -> Behaviour:
    """Send a 200 answer ``chunk`` bytes at a time, ``interval`` seconds apart.

    With ``stall_at``, stop sending after that many bytes and wait for the client to hang
    up (the answer never completes).
    """

    def behaviour(connection: Connection) -> None:
        if connection.read_request() is None:
            return
        data = http_response(200, body)
        limit = len(data) if stall_at is None else stall_at
        for start in range(0, limit, chunk):
            if start:
                time.sleep(interval)
            connection.sock.sendall(data[start : min(start + chunk, limit)])
        if stall_at is not None:
            connection.wait_for_hang_up()
        else:
            answer(body)(connection)  # keep serving the kept-alive connection

    return behaviour


def in_turn(*behaviours: Behaviour) -> Behaviour:
    """Connection i gets ``behaviours[i]`` (the last one for every later connection)."""

    def behaviour(connection: Connection) -> None:
        behaviours[min(connection.index, len(behaviours) - 1)](connection)

    return behaviour


# -- HTTP servers -------------------------------------------------------------------------


@attrs.frozen
class HttpRequest:
    method: str
    path: str
    headers: Sequence[tuple[str, str]]
    body: bytes


HttpReply = tuple[int, Sequence[tuple[str, str]], bytes]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer
    timeout = SAFETY_TIMEOUT

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(self.command, self.path, list(self.headers.raw_items()), body)
        status, headers, content = self.server.respond(request)
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        self.wfile.flush()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class LoopbackHTTPServer(ThreadingHTTPServer):
    """An HTTP/1.1 server on 127.0.0.1 answering with :meth:`respond`, in threads that
    :meth:`stop` joins (it cuts kept-alive connections first)."""

    daemon_threads = False
    block_on_close = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def respond(self, request: HttpRequest) -> HttpReply:
        raise NotImplementedError

    def server_bind(self) -> None:
        """Bind without the reverse DNS lookup of HTTPServer.server_bind."""
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._open_lock:
            self._open.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        self.shutdown()
        self._thread.join()
        with self._open_lock:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.server_close()  # joins the handler threads

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()


class ThrottlingProxy(LoopbackHTTPServer):
    """Answers a ``fraction`` of requests 429 ``TooManyRequestsException`` itself (drawn
    from a seeded generator) and forwards the others, byte for byte, to ``upstream``.

    Counts what it received, throttled and forwarded, and the statuses upstream gave.
    """

    def __init__(
        self,
        upstream: str,
        *,
        fraction: float,
        seed: int = 0,
        retry_after_ms: int | None = None,
    ) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self._upstream = (host, int(port))
        self.fraction = fraction
        self.retry_after_ms = retry_after_ms
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._upstreams: list[http.client.HTTPConnection] = []
        self.received = 0
        self.throttled = 0
        self.forwarded = 0
        self.upstream_statuses: Counter[int] = Counter()
        super().__init__()

    def _throttle(self) -> bool:
        with self._lock:
            self.received += 1
            throttle = self._random.random() < self.fraction
            if throttle:
                self.throttled += 1
            else:
                self.forwarded += 1
            return throttle

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(*self._upstream, timeout=SAFETY_TIMEOUT)
            self._local.connection = connection
            with self._lock:
                self._upstreams = [c for c in self._upstreams if c.sock is not None]
                self._upstreams.append(connection)
        return connection

    def respond(self, request: HttpRequest) -> HttpReply:
        if self._throttle():
            headers = [
                ("Content-Type", "application/json"),
                ("x-amzn-RequestId", str(uuid.uuid4())),
                ("x-amzn-ErrorType", "TooManyRequestsException"),
            ]
            if self.retry_after_ms is not None:
                headers.append(("x-amz-retry-after", str(self.retry_after_ms)))
            return 429, headers, b'{"message": "Rate exceeded (throttled by the test proxy)"}'
        connection = self._connection()
        connection.request(
            request.method,
            request.path,
            body=request.body or None,
            headers=dict(request.headers),
        )
        with connection.getresponse() as response:
            content = response.read()
            status = response.status
            headers = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in ("content-length", "connection", "transfer-encoding")
            ]
        with self._lock:
            self.upstream_statuses[status] += 1
        return status, headers, content

    def shutdown_request(self, request: Any) -> None:
        """The downstream connection is done (in its handler thread): close its upstream."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
        super().shutdown_request(request)

    def stop(self) -> None:
        super().stop()
        with self._lock:
            upstreams, self._upstreams = self._upstreams, []
        for connection in upstreams:
            connection.close()


class CredentialsEndpoint(LoopbackHTTPServer):
    """A container credentials endpoint (``AWS_CONTAINER_CREDENTIALS_FULL_URI``).

    Each GET issues new temporary credentials (``ASIALOOPBACK1``, ``2``, ...) expiring
    ``lifetime`` seconds after ``clock()``, and passes them to ``on_issue`` before
    answering. While ``failing`` is set it answers 500 instead.
    """

    def __init__(
        self,
        *,
        lifetime: float,
        clock: Callable[[], float] = time.time,
        on_issue: Callable[[Credentials], None] | None = None,
    ) -> None:
        self.lifetime = lifetime
        self.clock = clock
        self.on_issue = on_issue
        self.failing = False
        self.calls = 0
        self.issued: list[Credentials] = []
        self.expirations: list[float] = []
        self._lock = threading.Lock()
        super().__init__()

    @property
    def credentials_url(self) -> str:
        return self.url + "/v2/credentials/task"

    def respond(self, request: HttpRequest) -> HttpReply:
        with self._lock:
            self.calls += 1
            if self.failing or request.path != "/v2/credentials/task":
                return 500, [("Content-Type", "text/plain")], b"unavailable"
            number = len(self.issued) + 1
            credentials = Credentials(
                f"ASIALOOPBACK{number}", f"loopback-secret-{number}", f"loopback-token-{number}"
            )
            expires_at = self.clock() + self.lifetime
            if self.on_issue is not None:
                self.on_issue(credentials)
            self.issued.append(credentials)
            self.expirations.append(expires_at)
        document = {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token,
            "Expiration": datetime.fromtimestamp(expires_at, UTC).isoformat(),
        }
        return 200, [("Content-Type", "application/json")], json.dumps(document).encode()


# -- the emulator as a separate process ----------------------------------------------------


class ServeProcess:
    """``python -m cognito_events serve --port 0 ...`` in a subprocess, up and listening.

    ``url`` is read from its ``Listening on http://...`` line. :meth:`kill` sends SIGKILL;
    :meth:`stop` (and leaving the ``with`` block) sends SIGTERM and waits, then releases
    the pipes.
    """

    def __init__(
        self,
        *,
        identity_pools: Sequence[str],
        credentials: Credentials,
        db: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        argv = [sys.executable, "-m", "cognito_events", "serve", "--port", "0"]
        if db is not None:
            argv += ["--db", os.fspath(db)]
        for pool in identity_pools:
            argv += ["--identity-pool", pool]
        argv += ["--credentials", f"{credentials.access_key_id}:{credentials.secret_access_key}"]
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            argv, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        try:
            self.url = self._listening_url(startup_timeout)
        except BaseException:
            self.stop()
            raise
        #: Seconds from spawning the process to its listening line.
        self.startup_seconds = time.monotonic() - started

    def _listening_url(self, timeout: float) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            ready = selector.select(timeout)
        line = stdout.readline() if ready else ""
        prefix = "Listening on "
        if not line.startswith(prefix):
            raise RuntimeError(
                f"the emulator did not start within {timeout} s (got {line!r}); "
                f"stderr: {self.stderr()!r}"
            )
        return line[len(prefix) :].strip()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind in the emulator."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=SAFETY_TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=SAFETY_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()
