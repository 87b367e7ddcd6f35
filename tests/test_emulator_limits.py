"""Connection limits over raw sockets: idle connections cost no thread, handler threads
stay within ``max_connections``, slow requests are closed, and running out of file
descriptors makes the accept loop wait rather than spin."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cognito_events._emulator import EmulatorServer

IDLE_CONNECTIONS = 1000


def _health(host: str, port: int, *, timeout: float = 5.0) -> tuple[int, dict[str, object]]:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(
            f"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@contextlib.contextmanager
def _open_connections(
    host: str, port: int, count: int, first: bytes = b""
) -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((host, port), timeout=10)
            if first:
                sock.sendall(first)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


@pytest.fixture(autouse=True)
def _enough_descriptors() -> Iterator[None]:
    """Both ends of every connection live in this process: raise the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * IDLE_CONNECTIONS + 256))
    if wanted < 2 * IDLE_CONNECTIONS + 256:
        pytest.fail(f"the hard file-descriptor limit {hard} is too low for this test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_health_is_answered_at_once_while_a_thousand_idle_connections_are_open() -> None:
    with EmulatorServer(idle_timeout=60) as server:  # the default max_connections
        server.start()
        threads_before = threading.active_count()
        with _open_connections(server.host, server.port, IDLE_CONNECTIONS) as socks:
            time.sleep(0.2)  # let the accept loop take them all
            started = time.monotonic()
            status, document = _health(server.host, server.port, timeout=2)
            assert time.monotonic() - started < 2
            assert (status, document["status"]) == (200, "ok")
            # Connections that sent nothing hold no thread...
            assert threading.active_count() <= threads_before + 1
            # ...and none was closed.
            for sock in socks[:: IDLE_CONNECTIONS // 50]:
                sock.setblocking(False)
                with pytest.raises(BlockingIOError):
                    sock.recv(1)


def test_an_idle_flood_past_the_waiting_cap_closes_the_oldest_idle_ones() -> None:
    with EmulatorServer(idle_timeout=60, max_connections=4) as server:  # 32 may wait
        server.start()
        with _open_connections(server.host, server.port, 200) as socks:
            time.sleep(0.3)
            started = time.monotonic()
            assert _health(server.host, server.port, timeout=2)[0] == 200
            assert time.monotonic() - started < 2
            closed = 0
            for sock in socks:
                sock.settimeout(0.01)
                with contextlib.suppress(TimeoutError):
                    closed += sock.recv(1) == b""
            assert 200 - 32 <= closed < 200
            assert socks[-1].fileno() >= 0


def test_half_sent_requests_use_at_most_max_connections_threads_and_time_out() -> None:
    cap = 8
    with EmulatorServer(idle_timeout=0.5, max_connections=cap) as server:
        server.start()
        threads_before = threading.active_count()
        half = b"POST /identitypools/x/events HTTP/1.1\r\nHost: h\r\nContent-Len"
        peak = 0
        with _open_connections(server.host, server.port, 60, half) as socks:
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                peak = max(peak, threading.active_count() - threads_before)
                time.sleep(0.01)
            assert 1 <= peak <= cap
            # Each gets a 408 and is closed, the waiting ones once a slot is free.
            answers = []
            for sock in socks:
                sock.settimeout(15)
                data = b""
                with contextlib.suppress(ConnectionResetError):
                    while chunk := sock.recv(65536):
                        data += chunk
                answers.append(data.split(b"\r\n", 1)[0])
        assert set(answers) == {b"HTTP/1.1 408 Request Timeout"}
        assert _health(server.host, server.port)[0] == 200
        time.sleep(0.1)
        assert threading.active_count() - threads_before <= 1


def test_requests_beyond_the_cap_wait_and_are_then_served() -> None:
    with EmulatorServer(idle_timeout=5, max_connections=2) as server:
        server.start()
        request = (
            f"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        )
        # Two keep-alive connections hold both slots...
        with _open_connections(server.host, server.port, 2, request) as holders:
            for sock in holders:
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            results: list[int] = []
            waiter = threading.Thread(
                target=lambda: results.append(_health(server.host, server.port, timeout=10)[0])
            )
            waiter.start()
            waiter.join(0.5)
            assert waiter.is_alive()  # ...so a third waits for a slot
        # Closing them frees the slots.
        waiter.join(5)
        assert results == [200]


def test_constructor_checks_the_limits() -> None:
    with pytest.raises(ValueError, match="idle_timeout") as caught:
        EmulatorServer(idle_timeout=0, max_connections=0)
    assert "idle_timeout" in str(caught.value)
    assert "max_connections" in str(caught.value)


def test_accept_failing_for_want_of_descriptors_backs_off_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = io.StringIO()
    attempts: list[float] = []
    real_accept = socket.socket.accept

    def out_of_descriptors(self: socket.socket) -> tuple[socket.socket, Any]:
        attempts.append(time.monotonic())
        raise OSError(errno.EMFILE, "Too many open files")

    with EmulatorServer(log=log) as server:
        server.start()
        monkeypatch.setattr(socket.socket, "accept", out_of_descriptors)
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            time.sleep(1.5)
            # A spinning loop would have tried thousands of times; backing off: a handful.
            assert 2 <= len(attempts) <= 10
            monkeypatch.setattr(socket.socket, "accept", real_accept)
            sock.sendall(
                f"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
            )
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    assert log.getvalue().count("cannot accept connections: Too many open files") == 1


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))


def test_no_cpu_spin_when_out_of_file_descriptors() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cognito_events",
            "serve",
            "--port",
            "0",
            "--idle-timeout",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_limit_descriptors,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().rsplit(":", 1)[1])
        with _open_connections("127.0.0.1", port, 80):
            time.sleep(0.3)  # the server has run out of descriptors by now
            before = _cpu_seconds(process.pid)
            time.sleep(1.5)
            spent = _cpu_seconds(process.pid) - before
            assert spent < 0.3, f"the server used {spent:.2f} s of CPU in 1.5 s while stuck"
        # Once the idle ones are closed (ours, then the server's by idle timeout), it serves.
        deadline = time.monotonic() + 10
        while True:
            try:
                status, _ = _health("127.0.0.1", port, timeout=3)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert status == 200
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert err.count("cannot accept connections") == 1, err
