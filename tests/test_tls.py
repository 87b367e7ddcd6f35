"""TLS verification is on by default, and it is real: a loopback HTTPS server whose
certificate comes from a private CA (made with trustme) is refused by a default client,
and accepted once that CA is trusted through ``AWS_CA_BUNDLE`` or the profile's
``ca_bundle``. A certificate for another host name is refused even from the trusted CA.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests
import trustme

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    Credentials,
    RetryPolicy,
    TransportError,
)

REGION = "us-east-1"
POOL = f"{REGION}:0f7e2b2c-1111-2222-3333-444455556666"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:on-sync"
CREDENTIALS = Credentials("AKIDTLSTEST", "tls/Secret+Key/NeverSentUnverified0123")
#: Nothing from this machine's shared files.
ISOLATED = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


class _Handler(BaseHTTPRequestHandler):
    """Answers GetCognitoEvents (without checking the signature) and records the request."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self.server.received.append(self.headers.get("Authorization", ""))
        body = json.dumps({"Events": {SYNC_TRIGGER: ARN}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.received: list[str] = []
        self.handshake_failures = 0

    def get_request(self) -> tuple[Any, Any]:
        try:
            return super().get_request()  # the TLS handshake happens in accept()
        except ssl.SSLError:
            self.handshake_failures += 1
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a refused handshake is what these tests provoke."""


class Loopback(NamedTuple):
    url: str
    server: _Server
    ca_file: Path


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _serve(ca: trustme.CA, tmp_path: Path, *hostnames: str) -> Iterator[Loopback]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hostnames).configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = _Server(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Loopback(f"https://127.0.0.1:{server.server_address[1]}", server, ca_file)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def https(ca: trustme.CA, tmp_path: Path) -> Iterator[Loopback]:
    """A server whose certificate, from the private CA, names 127.0.0.1."""
    yield from _serve(ca, tmp_path, "127.0.0.1")


@pytest.fixture
def wrong_name(ca: trustme.CA, tmp_path: Path) -> Iterator[Loopback]:
    """A server on 127.0.0.1 whose certificate, from the same CA, names another host."""
    yield from _serve(ca, tmp_path, "cognito-sync.example.org")


@pytest.fixture(autouse=True)
def _no_outside_trust_or_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from this machine decides the outcome: no CA bundle variables, no proxy."""
    for name in (
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def _client(url: str, environ: dict[str, str] | None = ISOLATED) -> CognitoEventsClient:
    return CognitoEventsClient(
        region=REGION,
        endpoint_url=url,
        credentials=CREDENTIALS,
        environ=environ,
        retry=RetryPolicy(max_attempts=1),
    )


def _causes(error: BaseException) -> list[BaseException]:
    """The exceptions behind ``error``: causes, contexts, and the reasons urllib3 keeps
    in ``args`` (MaxRetryError(reason=SSLError(...)))."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [error]
    while pending and len(seen) < 20:
        item = pending.pop()
        if any(item is known for known in seen):
            continue
        seen.append(item)
        pending += [link for link in (item.__cause__, item.__context__) if link is not None]
        pending += [arg for arg in item.args if isinstance(arg, BaseException)]
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return seen


def _assert_refused_for_tls(error: TransportError) -> None:
    assert "TLS error" in str(error)
    assert isinstance(error.__cause__, requests.exceptions.SSLError)
    verification = [
        item for item in _causes(error) if isinstance(item, ssl.SSLCertVerificationError)
    ]
    assert verification, _causes(error)


def test_a_default_client_refuses_an_unknown_certificate_authority(https: Loopback) -> None:
    with _client(https.url) as client, pytest.raises(TransportError) as caught:
        client.get_cognito_events(POOL)
    _assert_refused_for_tls(caught.value)
    assert "certificate verify failed" in str(caught.value)
    assert https.server.received == []  # nothing was sent: not even the signed request


def test_the_refusal_is_not_retried_into_acceptance(https: Loopback) -> None:
    # Retried (a TLS failure counts as transient), but never with verification relaxed.
    with (
        CognitoEventsClient(
            region=REGION,
            endpoint_url=https.url,
            credentials=CREDENTIALS,
            environ=ISOLATED,
            retry=RetryPolicy(max_attempts=3),
            sleep=lambda seconds: None,
        ) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.get_cognito_events(POOL)
    _assert_refused_for_tls(caught.value)
    assert https.server.received == []


def test_the_same_server_is_accepted_when_aws_ca_bundle_trusts_its_ca(https: Loopback) -> None:
    environ = {**ISOLATED, "AWS_CA_BUNDLE": str(https.ca_file)}
    with _client(https.url, environ) as client:
        assert client.get_cognito_events(POOL) == {SYNC_TRIGGER: ARN}
    [authorization] = https.server.received
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDTLSTEST/")


def test_aws_ca_bundle_is_read_at_the_first_call(
    https: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(https.url, None)  # os.environ, read at the first call
    monkeypatch.setenv("AWS_CA_BUNDLE", str(https.ca_file))
    with client:
        assert client.get_cognito_events(POOL) == {SYNC_TRIGGER: ARN}


def test_the_profile_ca_bundle_is_trusted_too(https: Loopback, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(f"[default]\nca_bundle = {https.ca_file}\n")
    environ = {**ISOLATED, "AWS_CONFIG_FILE": str(config)}
    with _client(https.url, environ) as client:
        assert client.get_cognito_events(POOL) == {SYNC_TRIGGER: ARN}


def test_a_trusted_ca_does_not_excuse_a_certificate_for_another_host(
    wrong_name: Loopback,
) -> None:
    environ = {**ISOLATED, "AWS_CA_BUNDLE": str(wrong_name.ca_file)}
    with _client(wrong_name.url, environ) as client, pytest.raises(TransportError) as caught:
        client.get_cognito_events(POOL)
    _assert_refused_for_tls(caught.value)
    assert "127.0.0.1" in str(caught.value)  # the name that did not match
    assert wrong_name.server.received == []


def test_a_bundle_without_the_ca_still_refuses(https: Loopback, tmp_path: Path) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    environ = {**ISOLATED, "AWS_CA_BUNDLE": str(other)}
    with _client(https.url, environ) as client, pytest.raises(TransportError) as caught:
        client.get_cognito_events(POOL)
    _assert_refused_for_tls(caught.value)
    assert https.server.received == []
