"""The emulator's server: connections, threads and their limits, shutdown, and ``serve()``.

The accept loop holds each new connection, without a thread, until its first bytes
arrive; only then does a handler thread take it. At most ``max_connections`` handler
threads run at once; connections that have sent bytes wait for a free one, accepted.
At most ``8 * max_connections`` connections wait without having sent anything: past
that the oldest of them is closed to make room (an idle flood cannot lock clients
out), and each is closed anyway after ``idle_timeout`` seconds. A handler closes a
connection that sends no complete request head within ``idle_timeout`` (408). When
``accept`` fails for want of file descriptors (EMFILE/ENFILE) the loop stops listening
for a growing while and says so once, instead of spinning.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import selectors
import signal
import socket
import socketserver
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Final, TextIO

from .._credentials import Credentials
from .._validation import check_identity_pool_id
from ._faults import FaultQueue
from ._handler import EmulatorHandler
from ._state import RequestLog
from ._store import Store
from .services._common import LambdaHandler
from .services.lambda_ import add_function

__all__ = [
    "ADMIN_TOKEN_ENV",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEV_CREDENTIALS",
    "EmulatorServer",
    "serve",
]

#: The development key pair accepted when no credentials are configured. Not a secret:
#: it is printed at start and documented, and only this emulator accepts it.
DEV_CREDENTIALS: Final = Credentials(
    access_key_id="AKIDCOGNITOEVENTSEMU",
    secret_access_key="cognito-events-emulator-development-secret",  # noqa: S106 - public
)
#: The account the developer credentials belong to, unless another is given: STS
#: GetCallerIdentity answers it, and the identity pools belong to it.
DEFAULT_ACCOUNT_ID: Final = "123456789012"
#: How long :meth:`EmulatorServer.shutdown` lets in-flight requests finish by default.
DEFAULT_GRACE_SECONDS: Final = 5.0
#: Seconds a connection may take to send a complete request head (and between requests).
DEFAULT_IDLE_TIMEOUT: Final = 30.0
#: Connections served (each by a thread) at once.
DEFAULT_MAX_CONNECTIONS: Final = 256
#: The environment variable ``serve`` reads the admin token from.
ADMIN_TOKEN_ENV: Final = "COGNITO_EVENTS_EMULATOR_ADMIN_TOKEN"  # noqa: S105 - a name
#: Connections accepted but not yet served, per allowed served connection.
_WAITING_PER_CONNECTION: Final = 8
_MAX_BACKOFF: Final = 1.0
_FD_ERRORS: Final = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_LISTEN: Final = "listen"
_WAKE: Final = "wake"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EmulatorServer(ThreadingHTTPServer):
    """The Cognito Sync events emulator as an HTTP server object.

    The socket listens as soon as the object exists. Serve either in the calling thread
    (:meth:`serve_forever`, stopped by :meth:`request_stop`, e.g. from a signal handler)
    or in a background thread (:meth:`start`); then :meth:`shutdown` (or leaving the
    ``with`` block) lets requests in flight finish, closes idle keep-alive connections,
    and releases the socket and the database.

    ``clock`` and ``clock_offset`` make the server's time (used to check X-Amz-Date and
    sent in the ``Date`` header) differ from the machine's, to simulate clock skew.
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Iterable[Credentials] = (),
        identity_pools: Iterable[str] = (),
        db: str | os.PathLike[str] | None = None,
        clock_offset: timedelta = timedelta(0),
        clock: Callable[[], datetime] | None = None,
        log: TextIO | None = None,
        admin_token: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        functions: Mapping[str, LambdaHandler] | None = None,
        lambda_endpoint: str | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        if not (
            isinstance(account_id, str)  # pyright: ignore[reportUnnecessaryIsInstance]
            and len(account_id) == 12
            and account_id.isascii()
            and account_id.isdigit()
        ):
            raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
        pairs = tuple(credentials) or (DEV_CREDENTIALS,)
        by_key = _by_key(pairs)
        pools = tuple(dict.fromkeys(identity_pools))
        for pool in pools:
            _check_pool(pool)
        check_clock_offset(clock_offset)
        problems = _limit_problems(admin_token, idle_timeout, max_connections)
        if problems:
            raise ValueError("; ".join(problems))

        self.credentials: tuple[Credentials, ...] = pairs
        self.credentials_by_key: Mapping[str, Credentials] = by_key
        self.startup_identity_pools: tuple[str, ...] = pools
        self.clock_offset = clock_offset
        self.log = log
        self.admin_token = admin_token
        self.idle_timeout = float(idle_timeout)
        self.max_connections = max_connections
        self.faults = FaultQueue()
        self.requests = RequestLog()
        self.stopping = False  # read by handlers: answer with Connection: close
        self.lambda_handlers: dict[str, LambdaHandler] = {}
        self.lambda_endpoint = lambda_endpoint
        self.account_id = account_id
        self._in_flight: dict[str, int] = {}
        self._in_flight_lock = threading.Lock()
        self._clock = clock or _utc_now
        self._stop_requested = False
        self._connections: dict[socket.socket, bool] = {}  # served: socket -> busy
        self._waiting: dict[socket.socket, tuple[object, float]] = {}  # -> (address, deadline)
        self._readable: dict[socket.socket, None] = {}  # waiting ones that sent something
        self._backoff = 0.0
        self._backoff_until = 0.0
        self._fd_warned = False
        self._connections_changed = threading.Condition()
        self._ready = threading.Event()
        self._loop_done = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        if ":" in host:
            self.address_family = socket.AF_INET6

        self._wake_r, self._wake_w = socket.socketpair()
        try:
            self.store = Store(db)
        except BaseException:
            self._wake_r.close()
            self._wake_w.close()
            raise
        try:
            for pool in pools:
                self.store.add_pool(pool)
            for arn, handler in (functions or {}).items():
                self.add_lambda_function(arn, handler)
            super().__init__((host, port), EmulatorHandler)
            self.store.set_owner(f"pid {os.getpid()}, {self.endpoint_url}")
        except BaseException:
            self.store.close()
            self._wake_r.close()
            self._wake_w.close()
            raise

    # -- addresses and time -----------------------------------------------------------

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup (socket.getfqdn can take seconds)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def host(self) -> str:
        """The address the socket is bound to."""
        return str(self.server_address[0])

    @property
    def port(self) -> int:
        """The port the socket listens on (the one picked when 0 was asked for)."""
        return int(self.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` of this server (IPv6 hosts in brackets)."""
        host = self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def now(self) -> datetime:
        """The server's time: its clock plus ``clock_offset``."""
        return self._clock() + self.clock_offset

    # -- state ------------------------------------------------------------------------

    def add_identity_pool(self, identity_pool_id: str) -> bool:
        """Register a pool (ValueError if the id is malformed); False if it already was."""
        _check_pool(identity_pool_id)
        return self.store.add_pool(identity_pool_id)

    @staticmethod
    def new_identity_pool_id(region: str) -> str:
        """A fresh ``<region>:<uuid4>`` id (not registered)."""
        return f"{region}:{uuid.uuid4()}"

    def remove_identity_pool(self, identity_pool_id: str) -> bool:
        """Forget a pool and its events; False when it was not registered."""
        return self.store.remove_pool(identity_pool_id)

    def identity_pools(self) -> list[str]:
        """The registered pools, sorted."""
        return self.store.pools()

    def events(self, identity_pool_id: str) -> dict[str, str] | None:
        """A pool's events, or None when the pool is not registered."""
        return self.store.events(identity_pool_id)

    def all_events(self) -> dict[str, dict[str, str]]:
        """Every registered pool with its events."""
        return self.store.all_events()

    def add_lambda_function(self, arn: str, handler: LambdaHandler) -> None:
        """Register a Lambda-style callable under a function ARN (ValueError if malformed).

        A new function has no resource policy; one stored before (``db``) is kept.
        """
        if not callable(handler):
            raise TypeError(f"the handler for {arn} must be callable")
        add_function(self, arn)
        self.lambda_handlers[arn] = handler

    def invocation_slot(self, arn: str, limit: int | None) -> bool:
        """Take one of a function's concurrent executions; False when it is throttled."""
        with self._in_flight_lock:
            running = self._in_flight.get(arn, 0)
            if limit is not None and running >= limit:
                return False
            self._in_flight[arn] = running + 1
            return True

    def release_slot(self, arn: str) -> None:
        """Give back what :meth:`invocation_slot` took."""
        with self._in_flight_lock:
            self._in_flight[arn] -= 1

    def reset(self) -> None:
        """Back to the start: only the startup pools, no events, no faults, an empty log."""
        self.store.reset(self.startup_identity_pools)
        self.faults.clear()
        self.requests.clear()

    # -- connections ------------------------------------------------------------------

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        """Close a finished connection, forget it, and wake the loop if some wait for a slot."""
        with self._connections_changed:
            if isinstance(request, socket.socket):
                self._connections.pop(request, None)
            self._connections_changed.notify_all()
        super().shutdown_request(request)
        if self._readable:
            self._wake()

    def mark_idle(self, connection: socket.socket) -> bool:
        """A handler waits for the next request; False means: close instead, we are stopping."""
        with self._connections_changed:
            if self.stopping:
                return False
            self._connections[connection] = False
            return True

    def mark_busy(self, connection: socket.socket) -> None:
        """A handler has started reading a request: let it finish if we stop."""
        with self._connections_changed:
            self._connections[connection] = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet unless a log stream is set (a client hanging up is not our problem)."""
        if self.log is not None:
            import traceback

            self.log.write(f"Error on connection from {client_address}:\n")
            traceback.print_exc(file=self.log)

    # -- serving and stopping ---------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Accept connections until :meth:`request_stop`; no polling, a wake-up socket."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ, _LISTEN)
            selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
            listening = True
            self._ready.set()
            try:
                while not self._stop_requested:
                    for key, _ in selector.select(self._loop_timeout(listening)):
                        if key.data is _LISTEN:
                            self._accept_one(selector)
                        elif key.data is _WAKE:
                            with contextlib.suppress(OSError):
                                self._wake_r.recv(4096)
                        else:  # a waiting connection sent its first bytes
                            selector.unregister(key.fileobj)
                            self._readable[key.fileobj] = None  # type: ignore[index]
                    self._serve_readable()
                    self._expire_waiting(selector)
                    want = (
                        len(self._readable) < self.max_connections * _WAITING_PER_CONNECTION
                        and time.monotonic() >= self._backoff_until
                    )
                    if want != listening:
                        if want:
                            selector.register(self.socket, selectors.EVENT_READ, _LISTEN)
                        else:
                            selector.unregister(self.socket)
                        listening = want
            finally:
                for sock in list(self._waiting):
                    self._forget_waiting(selector, sock)
                self._loop_done.set()

    def _loop_timeout(self, listening: bool) -> float | None:
        now = time.monotonic()
        deadlines: list[float] = []
        idle = next(
            (
                deadline
                for sock, (_, deadline) in self._waiting.items()
                if sock not in self._readable
            ),
            None,
        )
        if idle is not None:
            deadlines.append(idle)
        if not listening and self._backoff_until > now:
            deadlines.append(self._backoff_until)
        if self._readable:
            deadlines.append(now + 0.5)  # a safety net behind the wake-ups
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - now)

    def _accept_one(self, selector: selectors.BaseSelector) -> None:
        try:
            sock, address = self.socket.accept()
        except OSError as exc:
            if exc.errno in _FD_ERRORS:
                self._back_off(exc)
            return  # otherwise the client gave up before we accepted
        self._backoff = 0.0
        self._fd_warned = False
        if (
            len(self._waiting) - len(self._readable)
            >= self.max_connections * _WAITING_PER_CONNECTION
        ):
            oldest = next((s for s in self._waiting if s not in self._readable), None)
            if oldest is not None:
                self._forget_waiting(selector, oldest)
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            selector.register(sock, selectors.EVENT_READ, address)
        except (OSError, ValueError):
            sock.close()
            return
        self._waiting[sock] = (address, time.monotonic() + self.idle_timeout)

    def _back_off(self, exc: OSError) -> None:
        """Out of file descriptors: stop accepting for a while (longer each time), say it once."""
        self._backoff = min(_MAX_BACKOFF, self._backoff * 2 or 0.05)
        self._backoff_until = time.monotonic() + self._backoff
        if not self._fd_warned:
            self._fd_warned = True
            stream = self.log if self.log is not None else sys.stderr
            with contextlib.suppress(OSError, ValueError):
                stream.write(
                    f"cognito-events emulator: cannot accept connections: {exc.strerror} "
                    f"({len(self._connections) + len(self._waiting)} open); waiting for some "
                    "to close (raise the limit with 'ulimit -n')\n"
                )
                stream.flush()

    def _serve_readable(self) -> None:
        while self._readable and len(self._connections) < self.max_connections:
            sock = next(iter(self._readable))
            del self._readable[sock]
            address, _ = self._waiting.pop(sock)
            with self._connections_changed:
                self._connections[sock] = False
            try:
                self.process_request(sock, address)
            except Exception:  # e.g. no thread could be started
                self.handle_error(sock, address)
                self.shutdown_request(sock)

    def _expire_waiting(self, selector: selectors.BaseSelector) -> None:
        now = time.monotonic()
        expired: list[socket.socket] = []
        for sock, (_, deadline) in self._waiting.items():
            if deadline > now:
                break  # in order of acceptance, so of deadline
            if sock not in self._readable:  # those wait for a thread, through no fault
                expired.append(sock)
        for sock in expired:
            self._forget_waiting(selector, sock)

    def _forget_waiting(self, selector: selectors.BaseSelector, sock: socket.socket) -> None:
        del self._waiting[sock]
        if sock in self._readable:
            del self._readable[sock]
        else:
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def request_stop(self) -> None:
        """Ask the accept loop to end; returns at once, safe in a signal handler."""
        self._stop_requested = True
        self._wake()

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns once the loop runs."""
        if self._thread is not None:
            raise RuntimeError("the emulator server is already started")
        thread = threading.Thread(
            target=self.serve_forever, name=f"cognito-events-emulator-{self.port}", daemon=True
        )
        self._thread = thread
        thread.start()
        self._ready.wait()
        return self

    def shutdown(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        """Stop: no new connections, in-flight requests get ``grace`` seconds to finish,
        idle keep-alive connections are closed, then the socket and database. Idempotent.
        Must not be called from a handler thread.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self.request_stop()
            if self._thread is not None:
                self._thread.join()
            elif self._ready.is_set():
                self._loop_done.wait()
            self._drain(grace)
            self.server_close()
            self.store.close()
            self._wake_r.close()
            self._wake_w.close()

    def _drain(self, grace: float) -> None:
        with self._connections_changed:
            self.stopping = True
            for sock, busy in list(self._connections.items()):
                if not busy:
                    _shut(sock, socket.SHUT_RD)
            self._connections_changed.wait_for(lambda: not self._connections, timeout=grace)
            for sock in list(self._connections):
                _shut(sock, socket.SHUT_RDWR)

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()


def _shut(sock: socket.socket, how: int) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(how)


def _by_key(pairs: Iterable[object]) -> dict[str, Credentials]:
    """The credentials by access key id; an untyped caller's non-Credentials is refused."""
    by_key: dict[str, Credentials] = {}
    for pair in pairs:
        if not isinstance(pair, Credentials):
            raise TypeError(f"credentials must be Credentials, not {type(pair).__name__}")
        if pair.access_key_id in by_key:
            raise ValueError(f"access key id {pair.access_key_id!r} is given twice")
        by_key[pair.access_key_id] = pair
    return by_key


def check_clock_offset(clock_offset: object) -> None:
    """TypeError unless a timedelta (an untyped caller may pass seconds)."""
    if not isinstance(clock_offset, timedelta):
        raise TypeError(f"clock_offset must be a timedelta, not {type(clock_offset).__name__}")


def _limit_problems(
    admin_token: object, idle_timeout: object, max_connections: object
) -> list[str]:
    problems: list[str] = []
    if admin_token is not None and (
        not isinstance(admin_token, str)
        or not admin_token
        or not admin_token.isprintable()
        or admin_token != admin_token.strip()
    ):
        problems.append("admin_token must be a non-empty printable string without edge spaces")
    if (
        not isinstance(idle_timeout, int | float)
        or isinstance(idle_timeout, bool)
        or not 0 < idle_timeout <= 86400
    ):
        problems.append(f"idle_timeout must be a number of seconds above 0, not {idle_timeout!r}")
    if (
        not isinstance(max_connections, int)
        or isinstance(max_connections, bool)
        or not 1 <= max_connections <= 65536
    ):
        problems.append(
            f"max_connections must be a whole number from 1 to 65536, not {max_connections!r}"
        )
    return problems


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _check_pool(identity_pool_id: object) -> None:
    problems = check_identity_pool_id(identity_pool_id, "identity pool id")
    if problems:
        raise ValueError("; ".join(str(problem) for problem in problems))


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    db: str | os.PathLike[str] | None = None,
    identity_pools: Iterable[str] = (),
    credentials: Iterable[Credentials] = (),
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clock_offset: timedelta = timedelta(0),
    verbose: bool = False,
    admin_token: str | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    functions: Mapping[str, LambdaHandler] | None = None,
    lambda_endpoint: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> int:
    """Run the emulator in this thread until SIGINT or SIGTERM; return the exit status.

    Prints exactly one line to ``stdout`` (default ``sys.stdout``) once the socket
    listens, ``Listening on http://HOST:PORT`` (port 0 picks a free port), and everything
    else to ``stderr``: the development key pair when no ``credentials`` are given, and
    with ``verbose`` one line per request; a warning when it listens off loopback without
    an ``admin_token``. Returns 0 after a clean stop (requests in
    flight are finished first), 1 when it cannot start (the reason is on ``stderr``).
    Must be called in the main thread (RuntimeError otherwise).
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            "serve() must run in the main thread, where SIGINT and SIGTERM stop it; "
            "in another thread use EmulatorServer(...).start() and .shutdown()"
        )
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    pairs = tuple(credentials)
    try:
        server = EmulatorServer(
            host=host,
            port=port,
            db=db,
            identity_pools=identity_pools,
            credentials=pairs,
            clock_offset=clock_offset,
            log=err if verbose else None,
            admin_token=admin_token,
            idle_timeout=idle_timeout,
            max_connections=max_connections,
            functions=functions,
            lambda_endpoint=lambda_endpoint,
            account_id=account_id,
        )
    except (OSError, ValueError, TypeError, sqlite3.Error) as exc:
        print(f"cognito-events emulator: cannot start: {exc}", file=err, flush=True)
        return 1
    with server:
        if not pairs:
            print(
                "cognito-events emulator: no credentials configured; accepting the development "
                f"key pair\n  access key id:     {DEV_CREDENTIALS.access_key_id}\n"
                f"  secret access key: {DEV_CREDENTIALS.secret_access_key}",
                file=err,
                flush=True,
            )
        for pool in server.startup_identity_pools:
            print(f"cognito-events emulator: identity pool {pool}", file=err, flush=True)
        if admin_token is None and not _is_loopback(server.host):
            print(
                f"cognito-events emulator: WARNING: listening on {server.host}, off loopback, "
                "without an admin token: anyone who can reach this port can use the admin API "
                "(queue faults, read the request log, reset or wipe the state). Give "
                f"--admin-token (or {ADMIN_TOKEN_ENV}), or bind 127.0.0.1.",
                file=err,
                flush=True,
            )
        for arn in server.lambda_handlers:
            print(f"cognito-events emulator: Lambda function {arn}", file=err, flush=True)
        previous = _install_stop_handlers(server)
        # Why a trigger did (not) run is logged at INFO: show it on stderr.
        logger = logging.getLogger("cognito_events.emulator")
        log_handler = logging.StreamHandler(err)
        log_handler.setFormatter(logging.Formatter("cognito-events emulator: %(message)s"))
        logger.addHandler(log_handler)
        level = logger.level
        logger.setLevel(logging.INFO)
        try:
            print(f"Listening on {server.endpoint_url}", file=out, flush=True)
            server.serve_forever()
        finally:
            logger.removeHandler(log_handler)
            logger.setLevel(level)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return 0


_SignalHandler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


def _install_stop_handlers(server: EmulatorServer) -> dict[int, _SignalHandler]:
    def stop(signum: int, frame: FrameType | None) -> None:
        server.request_stop()

    previous: dict[int, _SignalHandler] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, stop)
    return previous
