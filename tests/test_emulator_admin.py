"""The admin API's guard over raw HTTP: Host, Origin, Content-Type, the bearer token; and
the request log's redaction and byte cap. A refused call changes nothing."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cognito_events import SYNC_TRIGGER, sigv4
from cognito_events._emulator import DEV_CREDENTIALS, EmulatorServer
from cognito_events._emulator._state import MAX_RECORDED_BYTES, RequestLog
from cognito_events.testing import Emulator

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
NEW_POOL = "us-east-1:11111111-2222-3333-4444-555555555555"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
TOKEN = "s3cret-admin-token-for-tests"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(identity_pools=[POOL]) as emulator:
        emulator.store.set_event(POOL, SYNC_TRIGGER, ARN)
        emulator.start()
        yield emulator


@pytest.fixture
def guarded() -> Iterator[EmulatorServer]:
    with EmulatorServer(identity_pools=[POOL], admin_token=TOKEN) as emulator:
        emulator.store.set_event(POOL, SYNC_TRIGGER, ARN)
        emulator.start()
        yield emulator


def call(
    server: EmulatorServer,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    body: bytes = b"",
) -> tuple[int, http.client.HTTPMessage, dict[str, object]]:
    """Send exactly these headers (plus Content-Length for a body)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.putrequest(method, "/_emulator/" + path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        document = json.loads(response.read())
        assert isinstance(document, dict)
        return response.status, response.headers, document
    finally:
        conn.close()


def own(server: EmulatorServer, *more: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Host", f"127.0.0.1:{server.port}"), ("Content-Type", "application/json"), *more]


def state(server: EmulatorServer) -> tuple[list[str], dict[str, dict[str, str]], int]:
    return server.identity_pools(), server.all_events(), len(server.faults.pending())


# What a refused call would have changed, had it gone through.
CHANGES = [
    ("POST", "reset", b""),
    ("POST", "identity-pools", json.dumps({"identity_pool_id": NEW_POOL}).encode()),
    ("DELETE", f"identity-pools/{POOL}", b""),
    ("POST", "faults", b'{"status": 503}'),
    ("PUT", "clock", b'{"offset_seconds": 3600}'),
]


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1",
        "127.0.0.1:1",
        "localhost:{port}0",
        "127.0.0.1.nip.io:{port}",
        "[::1",
        "",
    ],
)
def test_a_foreign_host_is_refused(server: EmulatorServer, host: str) -> None:
    before = state(server)
    headers = [("Host", host.format(port=server.port)), ("Content-Type", "application/json")]
    for method, path, body in [*CHANGES, ("GET", "requests", b""), ("GET", "health", b"")]:
        status, answer_headers, document = call(server, method, path, headers, body)
        assert (status, answer_headers["x-amzn-ErrorType"]) == (403, "AccessDeniedException")
        assert "Host" in str(document["message"])
    assert state(server) == before
    assert server.clock_offset.total_seconds() == 0


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_loopback_names_with_the_port_are_let_in(server: EmulatorServer, name: str) -> None:
    status, _, document = call(server, "GET", "health", [("Host", f"{name}:{server.port}")])
    assert (status, document["status"]) == (200, "ok")


def test_http_1_0_without_host_is_refused(server: EmulatorServer) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /_emulator/requests HTTP/1.0\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 403 ")


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "https://evil.example:443", "null", "http://127.0.0.1.evil.example"],
)
def test_a_web_page_off_loopback_is_refused(server: EmulatorServer, origin: str) -> None:
    before = state(server)
    for method, path, body in [*CHANGES, ("GET", "requests", b"")]:
        status, headers, _ = call(server, method, path, own(server, ("Origin", origin)), body)
        assert (status, headers["x-amzn-ErrorType"]) == (403, "AccessDeniedException")
    assert state(server) == before


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8080"])
def test_a_page_on_loopback_may_call(server: EmulatorServer, origin: str) -> None:
    status, _, _ = call(server, "GET", "health", own(server, ("Origin", origin)))
    assert status == 200


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_admin_posts_and_puts_need_json(server: EmulatorServer, content_type: str | None) -> None:
    before = state(server)
    headers = [("Host", f"127.0.0.1:{server.port}")]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    for method, path, body in CHANGES:
        if method == "DELETE":
            continue
        status, headers_back, _ = call(server, method, path, headers, body)
        assert (status, headers_back["x-amzn-ErrorType"]) == (
            415,
            "UnsupportedMediaTypeException",
        )
    assert state(server) == before
    assert server.clock_offset.total_seconds() == 0


def test_without_a_token_every_admin_call_is_401(guarded: EmulatorServer) -> None:
    before = state(guarded)
    for method, path, body in [*CHANGES, ("GET", "health", b""), ("GET", "requests", b"")]:
        status, headers, _ = call(guarded, method, path, own(guarded), body)
        assert (status, headers["x-amzn-ErrorType"]) == (401, "MissingAuthenticationTokenException")
        assert headers["WWW-Authenticate"].startswith("Bearer")
    assert state(guarded) == before


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN[:-1]}"],
)
def test_a_wrong_token_is_403(guarded: EmulatorServer, authorization: str) -> None:
    before = state(guarded)
    for method, path, body in CHANGES:
        headers = own(guarded, ("Authorization", authorization))
        status, answer_headers, document = call(guarded, method, path, headers, body)
        assert (status, answer_headers["x-amzn-ErrorType"]) == (403, "AccessDeniedException")
        assert TOKEN not in json.dumps(document)
    assert state(guarded) == before


def test_the_right_token_opens_the_admin_api(guarded: EmulatorServer) -> None:
    headers = own(guarded, ("Authorization", f"bearer {TOKEN}"))
    status, _, document = call(guarded, "POST", "reset", headers)
    assert (status, document) == (200, {"identity_pools": [POOL]})
    assert guarded.all_events() == {POOL: {}}


def test_the_token_does_not_guard_the_service() -> None:
    with Emulator(admin_token=TOKEN) as emulator:
        pool = emulator.add_identity_pool()
        with emulator.client() as client:
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
        url = f"{emulator.endpoint_url}/_emulator/events"
        assert requests.get(url, timeout=5).status_code == 401
        answer = requests.get(url, headers=emulator.admin_headers(), timeout=5)
        assert answer.json() == {"events": {pool: {SYNC_TRIGGER: ARN}}}
        assert emulator.admin_token == TOKEN


@pytest.mark.parametrize("token", ["", " padded ", "line\nbreak"])
def test_bad_admin_tokens_are_refused_at_construction(token: str) -> None:
    with pytest.raises(ValueError, match="admin_token"):
        EmulatorServer(admin_token=token)


# -- the request log ----------------------------------------------------------------------------


def test_query_signatures_and_tokens_are_redacted(server: EmulatorServer) -> None:
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1"
        "&X-Amz-Signature=deadbeefcafe0123&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE"
        "&x-amz-signature=abc987&keep=1"
    )
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("GET", "/identitypools/x/events?" + query)
    conn.getresponse().read()
    conn.close()
    [entry] = server.requests.entries()
    assert "deadbeefcafe0123" not in entry.query
    assert "FwoGZXIvYXdzEXAMPLE" not in entry.query
    assert "abc987" not in entry.query
    assert "X-Amz-Credential=AKID%2F20260101%2Fus-east-1" in entry.query
    assert "keep=1" in entry.query
    assert entry.query.count("%3Credacted%3E") == 3


def test_only_the_headers_a_test_needs_are_kept(server: EmulatorServer) -> None:
    when = datetime.now(UTC)
    signed = sigv4.sign_request(
        method="GET",
        url=f"{server.endpoint_url}/identitypools/{POOL}/events",
        headers=[("X-Private", "cookie-ish"), ("Cookie", "session=abc")],
        body=b"",
        credentials=DEV_CREDENTIALS,
        region="us-east-1",
        service="cognito-sync",
        timestamp=when,
    )
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.putrequest("GET", f"/identitypools/{POOL}/events", skip_host=True)
    for name, value in signed.headers:
        conn.putheader(name, value)
    conn.putheader("X-Bulk", "b" * 20_000)
    conn.endheaders()
    assert conn.getresponse().status == 200
    conn.close()
    [entry] = server.requests.entries()
    assert set(entry.headers) == {"host", "x-amz-date", "authorization"}
    assert entry.headers["authorization"].endswith("Signature=<redacted>")


def test_the_log_is_capped_in_bytes(server: EmulatorServer) -> None:
    log = RequestLog(max_entries=1000, max_bytes=50_000)
    for _ in range(100):
        log.add(
            datetime.now(UTC),
            "POST",
            "/p",
            {"content-type": ["x"]},
            b"x" * 5000,
            200,
            None,
            None,
            None,
        )
    assert log.size <= 50_000
    assert 1 <= len(log.entries()) <= 10
    # Through the server: big unsigned requests do not grow it past its cap.
    body = b"{" + b" " * 60_000 + b"}"
    for _ in range(80):
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.putrequest("POST", "/identitypools/x/events")
        conn.putheader("X-Bulk", "b" * 30_000)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        assert conn.getresponse().status == 403
        conn.close()
    assert server.requests.size <= MAX_RECORDED_BYTES
    assert len(server.requests.entries()) < 80


# -- off loopback -------------------------------------------------------------------------------


def test_serving_off_loopback_without_a_token_warns_and_reports_a_usable_url(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COGNITO_EVENTS_EMULATOR_ADMIN_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "cognito_events", "serve", "--host", "0.0.0.0", "--port", "0"],  # noqa: S104
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Listening on http://0.0.0.0:")
        port = int(line.rsplit(":", 1)[1])
        answer = requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=5)
        assert answer.json()["endpoint_url"] == f"http://127.0.0.1:{port}"
        foreign = requests.get(
            f"http://127.0.0.1:{port}/_emulator/health",
            headers={"Host": f"evil.example:{port}"},
            timeout=5,
        )
        assert foreign.status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "WARNING" in err
    assert "without an admin token" in err
    assert "admin API" in err


def test_a_token_silences_the_warning(tmp_path: Path) -> None:
    env = {**os.environ, "COGNITO_EVENTS_EMULATOR_ADMIN_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "cognito_events", "serve", "--host", "0.0.0.0", "--port", "0"],  # noqa: S104
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{port}/_emulator/health"
        assert requests.get(url, timeout=5).status_code == 401
        authorized = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert authorized.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert "WARNING" not in err
    assert TOKEN not in err
