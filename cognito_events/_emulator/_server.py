"""The emulator's server: threads, connections, graceful shutdown, and ``serve()``."""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import socket
import socketserver
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Final, TextIO

from .._credentials import Credentials
from .._validation import check_identity_pool_id
from ._handler import EmulatorHandler
from ._state import FaultQueue, RequestLog
from ._store import Store
from .services._common import LambdaHandler
from .services.lambda_ import add_function

__all__ = ["DEV_CREDENTIALS", "EmulatorServer", "serve"]

#: The development key pair accepted when no credentials are configured. Not a secret:
#: it is printed at start and documented, and only this emulator accepts it.
DEV_CREDENTIALS: Final = Credentials(
    access_key_id="AKIDCOGNITOEVENTSEMU",
    secret_access_key="cognito-events-emulator-development-secret",  # noqa: S106 - public
)
#: How long :meth:`EmulatorServer.shutdown` lets in-flight requests finish by default.
DEFAULT_GRACE_SECONDS: Final = 5.0


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
    allow_reuse_address = True
    request_queue_size = 128

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
        functions: Mapping[str, LambdaHandler] | None = None,
        lambda_endpoint: str | None = None,
    ) -> None:
        pairs = tuple(credentials) or (DEV_CREDENTIALS,)
        by_key: dict[str, Credentials] = {}
        for pair in pairs:
            if not isinstance(pair, Credentials):
                raise TypeError(f"credentials must be Credentials, not {type(pair).__name__}")
            if pair.access_key_id in by_key:
                raise ValueError(f"access key id {pair.access_key_id!r} is given twice")
            by_key[pair.access_key_id] = pair
        pools = tuple(dict.fromkeys(identity_pools))
        for pool in pools:
            _check_pool(pool)
        if not isinstance(clock_offset, timedelta):
            raise TypeError(f"clock_offset must be a timedelta, not {type(clock_offset).__name__}")

        self.credentials: tuple[Credentials, ...] = pairs
        self.credentials_by_key: Mapping[str, Credentials] = by_key
        self.startup_identity_pools: tuple[str, ...] = pools
        self.clock_offset = clock_offset
        self.log = log
        self.faults = FaultQueue()
        self.requests = RequestLog()
        self.stopping = False  # read by handlers: answer with Connection: close
        self.lambda_handlers: dict[str, LambdaHandler] = {}
        self.lambda_endpoint = lambda_endpoint
        self._in_flight: dict[str, int] = {}
        self._in_flight_lock = threading.Lock()
        self._clock = clock or _utc_now
        self._stop_requested = False
        self._connections: dict[socket.socket, bool] = {}  # socket -> busy
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

    def get_request(self) -> tuple[socket.socket, object]:
        """Accept a connection, with TCP_NODELAY so small answers leave at once."""
        sock, address = self.socket.accept()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_changed:
            self._connections[sock] = False
        return sock, address

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        """Close a finished connection and forget it."""
        with self._connections_changed:
            if isinstance(request, socket.socket):
                self._connections.pop(request, None)
            self._connections_changed.notify_all()
        super().shutdown_request(request)

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
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            self._ready.set()
            try:
                while not self._stop_requested:
                    for key, _ in selector.select():
                        if key.fileobj is self.socket and not self._stop_requested:
                            self._accept_one()
            finally:
                self._loop_done.set()

    def _accept_one(self) -> None:
        try:
            request, address = self.get_request()
        except OSError:  # the client gave up before we accepted
            return
        try:
            self.process_request(request, address)
        except Exception:  # e.g. no thread could be started
            self.handle_error(request, address)
            self.shutdown_request(request)

    def request_stop(self) -> None:
        """Ask the accept loop to end; returns at once, safe in a signal handler."""
        self._stop_requested = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

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
    functions: Mapping[str, LambdaHandler] | None = None,
    lambda_endpoint: str | None = None,
) -> int:
    """Run the emulator in this thread until SIGINT or SIGTERM; return the exit status.

    Prints exactly one line to ``stdout`` (default ``sys.stdout``) once the socket
    listens, ``Listening on http://HOST:PORT`` (port 0 picks a free port), and everything
    else to ``stderr``: the development key pair when no ``credentials`` are given, and
    with ``verbose`` one line per request. Returns 0 after a clean stop (requests in
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
            functions=functions,
            lambda_endpoint=lambda_endpoint,
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
