"""The emulator over real HTTP on 127.0.0.1: http.client for well-formed requests, raw
sockets for malformed ones, a subprocess for signals."""

from __future__ import annotations

import email.utils
import http.client
import io
import json
import os
import re
import select
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_events import Credentials, sigv4
from cognito_events._emulator import (
    DEV_CREDENTIALS,
    MAX_BODY_BYTES,
    DelayFault,
    EmulatorServer,
    serve,
)

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
OTHER_POOL = "us-east-1:99999999-1111-2222-3333-444455556666"
EU_POOL = "eu-west-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
ARN2 = "arn:aws:lambda:us-east-1:123456789012:function:other:PROD"
FIXED_NOW = datetime(2015, 8, 30, 12, 46, 0, tzinfo=UTC)
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
POOL_PATTERN = r"[\w-]+:[0-9a-f-]+"


def events_path(pool: str = POOL) -> str:
    return "/identitypools/" + pool.replace(":", "%3A") + "/events"


def set_body(events: dict[str, Any]) -> bytes:
    return json.dumps({"Events": events}).encode()


class Answer(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def code(self) -> str | None:
        return self.headers.get("x-amzn-ErrorType")

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        message = self.json["message"]
        assert isinstance(message, str)
        return message


def sign(
    server: EmulatorServer,
    method: str,
    path: str,
    body: bytes,
    *,
    headers: Sequence[tuple[str, str]] = (),
    credentials: Credentials = DEV_CREDENTIALS,
    region: str = "us-east-1",
    service: str = "cognito-sync",
    when: datetime | None = None,
) -> sigv4.SignedRequest:
    if body and not any(name.lower() == "content-type" for name, _ in headers):
        headers = (*headers, ("Content-Type", "application/json"))
    return sigv4.sign_request(
        method=method,
        url=server.endpoint_url + path,
        headers=list(headers),
        body=body,
        credentials=credentials,
        region=region,
        service=service,
        timestamp=when or server.now(),
    )


def send(
    server: EmulatorServer,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    headers: Sequence[tuple[str, str]] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> Answer:
    """Send exactly these headers (plus Content-Length for a body) and read the answer."""
    conn = connection or http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers or ():
            conn.putheader(name, value)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        if connection is None:
            conn.close()


def call(
    server: EmulatorServer,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    connection: http.client.HTTPConnection | None = None,
    **signing: Any,
) -> Answer:
    """A signed request."""
    signed = sign(server, method, path, body, **signing)
    return send(server, method, path, body, headers=signed.headers, connection=connection)


def admin(server: EmulatorServer, method: str, path: str, document: object = None) -> Answer:
    body = b"" if document is None else json.dumps(document).encode()
    headers = [("Host", f"{server.host}:{server.port}")]
    if body or method in ("POST", "PUT"):
        headers.append(("Content-Type", "application/json"))
    return send(server, method, "/_emulator/" + path, body, headers=headers)


def exchange(server: EmulatorServer, data: bytes) -> bytes:
    """Send raw bytes, half-close, and read until the server closes the connection."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def parse_raw(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    assert len(body) == int(headers["content-length"])
    return status, headers, body


def assert_aws_error(answer: Answer, status: int, code: str) -> None:
    assert (answer.status, answer.code) == (status, code), answer
    assert answer.headers["Content-Type"] == "application/json"
    assert isinstance(answer.json["message"], str)
    assert UUID_RE.fullmatch(answer.headers["x-amzn-RequestId"])


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(identity_pools=[POOL, EU_POOL]) as emulator:
        emulator.start()
        yield emulator


@pytest.fixture
def fixed_clock_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(identity_pools=[POOL], clock=lambda: FIXED_NOW) as emulator:
        emulator.start()
        yield emulator


# --------------------------------------------------------------------------- operations


def test_set_then_get_then_clear(server: EmulatorServer) -> None:
    assert call(server, "GET", events_path()).json == {"Events": {}}

    answer = call(server, "POST", events_path(), set_body({"SyncTrigger": ARN}))
    assert (answer.status, answer.body) == (200, b"")
    assert answer.headers["Content-Length"] == "0"
    got = call(server, "GET", events_path())
    assert got.status == 200
    assert got.headers["Content-Type"] == "application/json"
    assert got.json == {"Events": {"SyncTrigger": ARN}}

    assert call(server, "POST", events_path(), set_body({"SyncTrigger": ""})).status == 200
    assert call(server, "GET", events_path()).json == {"Events": {}}


def test_set_updates_only_the_given_key(server: EmulatorServer) -> None:
    # The service documents only SyncTrigger; plant another key to watch it stay put.
    assert server.store.set_event(POOL, "FutureEvent", ARN2)
    assert call(server, "POST", events_path(), set_body({"SyncTrigger": ARN})).status == 200
    assert server.events(POOL) == {"FutureEvent": ARN2, "SyncTrigger": ARN}
    assert call(server, "POST", events_path(), set_body({"SyncTrigger": ""})).status == 200
    assert call(server, "GET", events_path()).json == {"Events": {"FutureEvent": ARN2}}


def test_clearing_an_unset_event_is_fine(server: EmulatorServer) -> None:
    assert call(server, "POST", events_path(), set_body({"SyncTrigger": ""})).status == 200
    assert server.events(POOL) == {}


def test_empty_events_map_is_a_no_op(server: EmulatorServer) -> None:
    assert call(server, "POST", events_path(), set_body({})).status == 200
    assert server.events(POOL) == {}
    unknown = call(server, "POST", events_path(OTHER_POOL), set_body({}))
    assert_aws_error(unknown, 404, "ResourceNotFoundException")


def test_pool_id_is_percent_decoded_from_the_path(server: EmulatorServer) -> None:
    encoded = call(server, "POST", events_path(), set_body({"SyncTrigger": ARN}))
    assert encoded.status == 200
    plain = call(server, "GET", f"/identitypools/{POOL}/events")
    assert plain.json == {"Events": {"SyncTrigger": ARN}}


def test_query_strings_are_signed_and_ignored(server: EmulatorServer) -> None:
    assert call(server, "GET", events_path() + "?b=2&a=%201").json == {"Events": {}}


def test_every_answer_has_a_fresh_request_id_and_a_date(server: EmulatorServer) -> None:
    answers = [call(server, "GET", events_path()) for _ in range(3)]
    answers.append(send(server, "GET", events_path()))  # unsigned: an error
    answers.append(admin(server, "GET", "health"))
    ids = [answer.headers["x-amzn-RequestId"] for answer in answers]
    assert all(UUID_RE.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)
    for answer in answers:
        date = answer.headers["Date"]
        assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", date)
        parsed = email.utils.parsedate_to_datetime(date)
        assert abs(parsed - datetime.now(UTC)) < timedelta(seconds=10)


def test_unknown_pool_is_not_found(server: EmulatorServer) -> None:
    for method, body in (("GET", b""), ("POST", set_body({"SyncTrigger": ARN}))):
        answer = call(server, method, events_path(OTHER_POOL), body)
        assert_aws_error(answer, 404, "ResourceNotFoundException")
        assert answer.message == f"IdentityPool '{OTHER_POOL}' not found."


def test_pool_of_another_region_than_the_signature_is_not_found(server: EmulatorServer) -> None:
    body = set_body({"SyncTrigger": ARN})
    wrong = call(server, "POST", events_path(EU_POOL), body, region="us-east-1")
    assert_aws_error(wrong, 404, "ResourceNotFoundException")
    assert_aws_error(
        call(server, "GET", events_path(EU_POOL), region="us-east-1"),
        404,
        "ResourceNotFoundException",
    )
    assert call(server, "POST", events_path(EU_POOL), body, region="eu-west-1").status == 200
    assert call(server, "GET", events_path(EU_POOL), region="eu-west-1").json == {
        "Events": {"SyncTrigger": ARN}
    }


# --------------------------------------------------------------------------- SigV4


def test_missing_authorization(server: EmulatorServer) -> None:
    answer = send(server, "GET", events_path(), headers=[("Host", "x")])
    assert_aws_error(answer, 403, "MissingAuthenticationTokenException")
    assert answer.message == "Missing Authentication Token"


def test_unknown_access_key(server: EmulatorServer) -> None:
    stranger = Credentials("AKIDUNKNOWN", "whatever")
    answer = call(server, "GET", events_path(), credentials=stranger)
    assert_aws_error(answer, 403, "UnrecognizedClientException")
    assert answer.message == "The security token included in the request is invalid."


def test_wrong_secret_shows_the_canonical_request_and_string_to_sign(
    server: EmulatorServer,
) -> None:
    wrong = Credentials(DEV_CREDENTIALS.access_key_id, "not-the-secret")
    body = set_body({"SyncTrigger": ARN})
    signed = sign(server, "POST", events_path(), body, credentials=wrong)
    answer = send(server, "POST", events_path(), body, headers=signed.headers)
    assert_aws_error(answer, 403, "InvalidSignatureException")
    # Only the secret differs, so the server computed exactly what the client signed.
    assert answer.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service "
        "documentation for details.\n\nThe Canonical String for this request should have "
        f"been\n'{signed.canonical_request}'\n\nThe String-to-Sign should have been\n"
        f"'{signed.string_to_sign}'\n"
    )


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: (h, b + b" "), id="body"),
        pytest.param(
            lambda h, b: ([(n, "text/json" if n == "Content-Type" else v) for n, v in h], b),
            id="signed-header",
        ),
        pytest.param(
            lambda h, b: ([(n, "other" if n == "Host" else v) for n, v in h], b), id="host"
        ),
    ],
)
def test_tampered_request_fails_the_signature(server: EmulatorServer, tamper: Any) -> None:
    body = set_body({"SyncTrigger": ARN})
    signed = sign(server, "POST", events_path(), body)
    headers, body = tamper(list(signed.headers), body)
    answer = send(server, "POST", events_path(), body, headers=headers)
    assert_aws_error(answer, 403, "InvalidSignatureException")
    assert server.events(POOL) == {}


def test_a_signed_header_that_is_missing_counts_as_empty(server: EmulatorServer) -> None:
    signed = sign(server, "GET", events_path(), b"", headers=[("X-Extra", "")])
    stripped = [(name, value) for name, value in signed.headers if name != "X-Extra"]
    assert send(server, "GET", events_path(), headers=stripped).status == 200


def test_unsigned_extra_headers_do_not_matter(server: EmulatorServer) -> None:
    signed = sign(server, "GET", events_path(), b"")
    headers = [*signed.headers, ("User-Agent", "anything"), ("X-Trace", "1")]
    assert send(server, "GET", events_path(), headers=headers).status == 200


def test_dot_segments_are_normalised_for_the_signature_only(server: EmulatorServer) -> None:
    answer = call(server, "GET", "/identitypools/../events")
    assert_aws_error(answer, 400, "InvalidParameterException")
    assert "Value '..' at 'identityPoolId'" in answer.message


def test_signature_expired(fixed_clock_server: EmulatorServer) -> None:
    when = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
    answer = call(fixed_clock_server, "GET", events_path(), when=when)
    assert_aws_error(answer, 403, "InvalidSignatureException")
    assert answer.message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z "
        "(20150830T124600Z - 5 min.)"
    )
    assert answer.headers["Date"] == "Sun, 30 Aug 2015 12:46:00 GMT"


def test_signature_not_yet_current(fixed_clock_server: EmulatorServer) -> None:
    when = datetime(2015, 8, 30, 12, 51, 1, tzinfo=UTC)
    answer = call(fixed_clock_server, "GET", events_path(), when=when)
    assert_aws_error(answer, 403, "InvalidSignatureException")
    assert answer.message == (
        "Signature not yet current: 20150830T125101Z is still later than 20150830T125100Z "
        "(20150830T124600Z + 5 min.)"
    )


@pytest.mark.parametrize("seconds", [-300, 0, 300])
def test_five_minutes_either_way_is_accepted(
    fixed_clock_server: EmulatorServer, seconds: int
) -> None:
    when = FIXED_NOW + timedelta(seconds=seconds)
    assert call(fixed_clock_server, "GET", events_path(), when=when).status == 200


def test_clock_offset_moves_the_server_clock() -> None:
    with EmulatorServer(identity_pools=[POOL], clock_offset=timedelta(minutes=10)) as emulator:
        emulator.start()
        now = datetime.now(UTC)
        skewed = call(emulator, "GET", events_path(), when=now)
        assert_aws_error(skewed, 403, "InvalidSignatureException")
        assert skewed.message.startswith("Signature expired: ")
        server_date = email.utils.parsedate_to_datetime(skewed.headers["Date"])
        assert abs(server_date - now - timedelta(minutes=10)) < timedelta(seconds=5)
        assert call(emulator, "GET", events_path(), when=server_date).status == 200
        emulator.clock_offset = timedelta(0)
        assert call(emulator, "GET", events_path(), when=now).status == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "garbage",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIDCOGNITOEVENTSEMU/20150830/us-east-1/cognito-sync/"
        "aws4_request, SignedHeaders=host;x-amz-date",
        "AWS4-HMAC-SHA512 Credential=AKIDCOGNITOEVENTSEMU/20150830/us-east-1/cognito-sync/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKIDCOGNITOEVENTSEMU/20150830/us-east-1/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKIDCOGNITOEVENTSEMU/20150830/us-east-1/cognito-sync/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=XYZ",
        "AWS4-HMAC-SHA256 Credential=AKIDCOGNITOEVENTSEMU/2015-08-30/us-east-1/cognito-sync/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKIDCOGNITOEVENTSEMU/20150830/us-east-1/cognito-sync/"
        "aws4_request, SignedHeaders=Host;X-Amz-Date, Signature=" + "0" * 64,
        # valid syntax, but Host is not signed
        "AWS4-HMAC-SHA256 Credential=AKIDCOGNITOEVENTSEMU/20150830/us-east-1/cognito-sync/"
        "aws4_request, SignedHeaders=x-amz-date, Signature=" + "0" * 64,
    ],
)
def test_malformed_authorization(fixed_clock_server: EmulatorServer, authorization: str) -> None:
    headers = [("Host", "h"), ("X-Amz-Date", "20150830T124600Z"), ("Authorization", authorization)]
    answer = send(fixed_clock_server, "GET", events_path(), headers=headers)
    assert_aws_error(answer, 403, "IncompleteSignatureException")
    assert "Authorization=" in answer.message


def test_two_authorization_headers(server: EmulatorServer) -> None:
    signed = sign(server, "GET", events_path(), b"")
    auth = dict(signed.headers)["Authorization"]
    answer = send(server, "GET", events_path(), headers=[*signed.headers, ("Authorization", auth)])
    assert_aws_error(answer, 403, "IncompleteSignatureException")


@pytest.mark.parametrize(
    ("amz_date", "fragment"),
    [
        (None, "requires existence of a 'X-Amz-Date' header"),
        ("2015-08-30T12:46:00Z", "Date must be in ISO-8601 'basic format'"),
        ("20150230T124600Z", "Date must be in ISO-8601 'basic format'"),
    ],
)
def test_missing_or_malformed_amz_date(
    server: EmulatorServer, amz_date: str | None, fragment: str
) -> None:
    signed = sign(server, "GET", events_path(), b"")
    headers = [(n, v) for n, v in signed.headers if n != "X-Amz-Date"]
    if amz_date is not None:
        headers.append(("X-Amz-Date", amz_date))
    answer = send(server, "GET", events_path(), headers=headers)
    assert_aws_error(answer, 403, "IncompleteSignatureException")
    assert fragment in answer.message


def test_scope_for_another_service(server: EmulatorServer) -> None:
    answer = call(server, "GET", events_path(), service="cognito-identity")
    assert_aws_error(answer, 403, "InvalidSignatureException")
    assert answer.message.startswith("Credential should be scoped to correct service")


def test_scope_date_must_match_amz_date(server: EmulatorServer) -> None:
    signed = sign(server, "GET", events_path(), b"")
    now = server.now()
    other_day = sigv4.format_amz_date(now + timedelta(days=1))[:8]
    headers = [
        (n, v.replace(f"/{sigv4.format_amz_date(now)[:8]}/", f"/{other_day}/"))
        for n, v in signed.headers
    ]
    answer = send(server, "GET", events_path(), headers=headers)
    assert_aws_error(answer, 403, "InvalidSignatureException")
    assert answer.message.startswith("Date in Credential scope does not match")


def test_session_tokens() -> None:
    temporary = Credentials("ASIATEMPORARY", "temporary-secret", "the-session-token")
    with EmulatorServer(credentials=[temporary, DEV_CREDENTIALS], identity_pools=[POOL]) as emu:
        emu.start()
        assert call(emu, "GET", events_path(), credentials=temporary).status == 200
        for token in (None, "a-wrong-token"):
            other = Credentials(temporary.access_key_id, temporary.secret_access_key, token)
            answer = call(emu, "GET", events_path(), credentials=other)
            assert_aws_error(answer, 403, "UnrecognizedClientException")
            assert answer.message == "The security token included in the request is invalid."
        # A token sent with a long-term key is refused too.
        with_token = Credentials(
            DEV_CREDENTIALS.access_key_id, DEV_CREDENTIALS.secret_access_key, "t"
        )
        answer = call(emu, "GET", events_path(), credentials=with_token)
        assert_aws_error(answer, 403, "UnrecognizedClientException")
        # Two tokens are one too many.
        signed = sign(emu, "GET", events_path(), b"", credentials=temporary)
        doubled = [*signed.headers, ("X-Amz-Security-Token", "the-session-token")]
        answer = send(emu, "GET", events_path(), headers=doubled)
        assert_aws_error(answer, 403, "UnrecognizedClientException")


def test_authentication_comes_before_validation(server: EmulatorServer) -> None:
    answer = send(server, "POST", events_path("bad"), b"not json", headers=[("Host", "h")])
    assert_aws_error(answer, 403, "MissingAuthenticationTokenException")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "Could not parse the request body as JSON"),
        (b"\xff\xfe\xfa", "Could not parse the request body as JSON"),
        (b"[]", "Expected a JSON object as the request body, found list"),
        (b'"Events"', "Expected a JSON object as the request body, found str"),
        (b'{"Events": []}', "Expected a JSON object for 'Events', found list"),
        (b'{"Events": "SyncTrigger"}', "Expected a JSON object for 'Events', found str"),
        (b'{"Events": {"SyncTrigger": 1}}', "Expected a string for the value of"),
        (b'{"Events": {"SyncTrigger": null}}', "Expected a string for the value of"),
    ],
)
def test_unparseable_bodies(server: EmulatorServer, body: bytes, fragment: str) -> None:
    answer = call(server, "POST", events_path(), body)
    assert_aws_error(answer, 400, "SerializationException")
    assert fragment in answer.message


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type(server: EmulatorServer, content_type: str) -> None:
    answer = call(
        server,
        "POST",
        events_path(),
        set_body({"SyncTrigger": ARN}),
        headers=[("Content-Type", content_type)],
    )
    assert_aws_error(answer, 400, "SerializationException")
    assert f"Unsupported Content-Type '{content_type}'" in answer.message


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "application/x-amz-json-1.1"],
)
def test_json_content_types_and_none_are_accepted(
    server: EmulatorServer, content_type: str | None
) -> None:
    body = set_body({"SyncTrigger": ARN})
    signed = sign(
        server,
        "POST",
        events_path(),
        body,
        headers=[] if content_type is None else [("Content-Type", content_type)],
    )
    headers = [(n, v) for n, v in signed.headers if content_type is not None or n != "Content-Type"]
    if content_type is None:  # sign() added one; sign again without it
        signed = sigv4.sign_request(
            method="POST",
            url=server.endpoint_url + events_path(),
            headers=[],
            body=body,
            credentials=DEV_CREDENTIALS,
            region="us-east-1",
            service="cognito-sync",
            timestamp=server.now(),
        )
        headers = list(signed.headers)
    assert send(server, "POST", events_path(), body, headers=headers).status == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"",
            "1 validation error detected: Value null at 'events' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            b"{}",
            "1 validation error detected: Value null at 'events' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            b'{"Events": null}',
            "1 validation error detected: Value null at 'events' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            set_body({"SyncTrigger": ARN, "Other": ""}),
            f"1 validation error detected: Value '{{SyncTrigger={ARN}, Other=}}' at 'events' "
            "failed to satisfy constraint: Member must have length less than or equal to 1",
        ),
        (
            set_body({"SyncTriger": ARN}),
            "Unsupported event type 'SyncTriger'. Supported event types: SyncTrigger",
        ),
        (
            set_body({"SyncTrigger": "not-an-arn"}),
            "Invalid lambda function ARN: 'not-an-arn'",
        ),
        (
            set_body({"SyncTrigger": "arn:aws:sns:us-east-1:123456789012:topic"}),
            "Invalid lambda function ARN: 'arn:aws:sns:us-east-1:123456789012:topic'",
        ),
        (
            set_body({"Nope": "x"}),
            "Unsupported event type 'Nope'. Supported event types: SyncTrigger. "
            "Invalid lambda function ARN: 'x'",
        ),
    ],
)
def test_invalid_events(server: EmulatorServer, body: bytes, message: str) -> None:
    answer = call(server, "POST", events_path(), body)
    assert_aws_error(answer, 400, "InvalidParameterException")
    assert answer.message == message
    assert server.events(POOL) == {}


def _pool_error(value: str, *constraints: str) -> str:
    count = len(constraints)
    head = (
        "1 validation error detected: " if count == 1 else f"{count} validation errors detected: "
    )
    return head + "; ".join(
        f"Value '{value}' at 'identityPoolId' failed to satisfy constraint: {c}"
        for c in constraints
    )


PATTERN = f"Member must satisfy regular expression pattern: {POOL_PATTERN}"
TOO_LONG = "Member must have length less than or equal to 55"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not-a-pool", _pool_error("not-a-pool", PATTERN)),
        ("us-east-1_AbCdEf", _pool_error("us-east-1_AbCdEf", PATTERN)),
        ("us-east-1:ABCDEF", _pool_error("us-east-1:ABCDEF", PATTERN)),
        ("%00", _pool_error("\x00", PATTERN)),
        ("us-east-1%3Aabc%00", _pool_error("us-east-1:abc\x00", PATTERN)),
        ("..", _pool_error("..", PATTERN)),
        ("a%2Fb%3A1", _pool_error("a/b:1", PATTERN)),
        ("", _pool_error("", "Member must have length greater than or equal to 1")),
        ("us-east-1:" + "a" * 46, _pool_error("us-east-1:" + "a" * 46, TOO_LONG)),
        ("us-east-1:" + "z" * 46, _pool_error("us-east-1:" + "z" * 46, PATTERN, TOO_LONG)),
    ],
)
def test_invalid_pool_ids(server: EmulatorServer, raw: str, message: str) -> None:
    path = f"/identitypools/{raw}/events"
    for method, body in (("GET", b""), ("POST", set_body({"SyncTrigger": ARN}))):
        answer = call(server, method, path, body)
        assert_aws_error(answer, 400, "InvalidParameterException")
        assert answer.message == message


def test_all_constraint_violations_are_reported_together(server: EmulatorServer) -> None:
    answer = call(server, "POST", "/identitypools/bad/events", b"{}")
    assert_aws_error(answer, 400, "InvalidParameterException")
    assert answer.message.startswith("2 validation errors detected: Value 'bad' at")
    assert answer.message.endswith(
        "Value null at 'events' failed to satisfy constraint: Member must not be null"
    )


# --------------------------------------------------------------------------- framing


def _signed_head(server: EmulatorServer, body: bytes, *, extra: str = "") -> bytes:
    signed = sign(server, "POST", events_path(), body)
    lines = [f"POST {events_path()} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in signed.headers]
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def test_oversized_content_length_is_refused_unread(server: EmulatorServer) -> None:
    head = (
        f"POST {events_path()} HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    ).encode()
    # No body is sent at all: the answer comes from the header alone, then the close.
    status, headers, body = parse_raw(exchange(server, head))
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")
    assert headers["connection"] == "close"
    assert "65536" in json.loads(body)["message"]


def test_body_at_the_limit_is_read(server: EmulatorServer) -> None:
    prefix, suffix = b'{"Events": {"SyncTrigger": "', b'"}}'
    body = prefix + b"x" * (MAX_BODY_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BODY_BYTES
    answer = call(server, "POST", events_path(), body)
    assert_aws_error(answer, 400, "InvalidParameterException")


def test_expect_continue_with_an_oversized_body(server: EmulatorServer) -> None:
    head = (
        f"POST {events_path()} HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
        f"Content-Length: {10 * MAX_BODY_BYTES}\r\n\r\n"
    ).encode()
    raw = exchange(server, head)
    assert raw.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in raw


def test_expect_continue_with_a_small_body(server: EmulatorServer) -> None:
    body = set_body({"SyncTrigger": ARN})
    head = _signed_head(
        server,
        body,
        extra=f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n",
    )
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(head)
        continue_line = b"HTTP/1.1 100 Continue\r\n\r\n"
        received = b""
        while len(received) < len(continue_line):
            received += sock.recv(len(continue_line) - len(received))
        assert received == continue_line
        sock.sendall(body)
        with sock.makefile("rb") as rest:
            answer = rest.read()
    assert parse_raw(answer)[0] == 200
    assert server.events(POOL) == {"SyncTrigger": ARN}


def _chunked(body: bytes, size: int) -> bytes:
    out = b""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


def test_chunked_body(server: EmulatorServer) -> None:
    body = set_body({"SyncTrigger": ARN})
    data = _signed_head(server, body, extra="Transfer-Encoding: chunked\r\nConnection: close\r\n")
    status, _, _ = parse_raw(exchange(server, data + _chunked(body, 7)))
    assert status == 200
    assert server.events(POOL) == {"SyncTrigger": ARN}


def test_chunked_body_over_the_limit_is_refused(server: EmulatorServer) -> None:
    head = (
        f"POST {events_path()} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    size = MAX_BODY_BYTES // 2 + 1
    chunk = f"{size:x}\r\n".encode() + b"x" * size + b"\r\n"
    # The second chunk is never finished: its size alone goes over the limit.
    status, headers, _ = parse_raw(exchange(server, head + chunk + chunk[:100]))
    assert (status, headers["x-amzn-errortype"]) == (413, "RequestEntityTooLargeException")


@pytest.mark.parametrize(
    "framing",
    [
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "Transfer-Encoding: gzip\r\n\r\n",
        "Content-Length: abc\r\n\r\n",
        "Content-Length: -1\r\n\r\n",
        "Content-Length: \u00b2\r\n\r\n",
        "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabcXYZ",
        "Transfer-Encoding: chunked\r\n\r\n0\r\n",
    ],
)
def test_bad_framing(server: EmulatorServer, framing: str) -> None:
    data = f"POST {events_path()} HTTP/1.1\r\nHost: h\r\n{framing}".encode("latin-1")
    status, headers, body = parse_raw(exchange(server, data))
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    assert json.loads(body)["message"]


def test_truncated_body_closes_quietly(server: EmulatorServer) -> None:
    data = f"POST {events_path()} HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc".encode()
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b""


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "BadRequestException"),
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400, "BadRequestException"),
        (b"GET / HTTP/1.x\r\n\r\n", 400, "BadRequestException"),
        (b"GET / FTP/1.1\r\n\r\n", 400, "BadRequestException"),
        (b"GET / HTTP/2.0\r\n\r\n", 505, "HTTPVersionNotSupportedException"),
        (b"POST /\r\n\r\n", 400, "BadRequestException"),
        (b"GET /\r\n\r\n", 400, "BadRequestException"),
        (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n", 414, "RequestURITooLongException"),
        (
            # Just over the 65536-byte line limit, so the server reads all that is sent.
            b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 65540 + b"\r\n\r\n",
            431,
            "RequestHeaderFieldsTooLargeException",
        ),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"\r\n",
            431,
            "RequestHeaderFieldsTooLargeException",
        ),
    ],
)
def test_malformed_requests_get_json_errors(
    server: EmulatorServer, request_bytes: bytes, status: int, code: str
) -> None:
    answer_status, headers, body = parse_raw(exchange(server, request_bytes))
    assert (answer_status, headers["x-amzn-errortype"]) == (status, code)
    assert headers["content-type"] == "application/json"
    assert UUID_RE.fullmatch(headers["x-amzn-requestid"])
    assert "date" in headers
    assert isinstance(json.loads(body)["message"], str)
    assert b"Traceback" not in body
    assert b"<html" not in body.lower()


def test_empty_request_line_just_closes(server: EmulatorServer) -> None:
    assert exchange(server, b"\r\n") == b""


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/identitypools",
        "/identitypools/",
        f"/identitypools/{POOL}",
        f"/identitypools/{POOL}/events/",
        f"/identitypools/{POOL}/datasets",
        "/../../etc/passwd",
        "/identitypools/x/../../events",
        "/_emulatorx",
        "http://example.com/identitypools/x/events",
    ],
)
def test_unknown_paths(server: EmulatorServer, path: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        answer = call(server, method, path)
        assert_aws_error(answer, 404, "UnknownOperationException")
        assert method in answer.message


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_are_not_allowed(server: EmulatorServer, method: str) -> None:
    answer = call(server, method, events_path())
    assert_aws_error(answer, 405, "MethodNotAllowedException")
    assert answer.headers["Allow"] == "GET, POST"


def test_head_gets_headers_only(server: EmulatorServer) -> None:
    answer = call(server, "HEAD", events_path())
    assert (answer.status, answer.code, answer.body) == (405, "MethodNotAllowedException", b"")


def test_keep_alive_serves_many_requests_on_one_connection(server: EmulatorServer) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        for _ in range(3):
            assert call(server, "GET", events_path(), connection=conn).status == 200
            assert call(server, "GET", "/nope", connection=conn).status == 404
        sock = conn.sock
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        conn.close()
    assert len(server.requests.entries()) == 6


def test_http_1_0_closes_unless_asked_to_keep_alive(server: EmulatorServer) -> None:
    raw = exchange(server, b"GET /x HTTP/1.0\r\n\r\n")
    assert parse_raw(raw)[1]["connection"] == "close"
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        first = sock.recv(65536)
        assert parse_raw(first)[1]["connection"] == "keep-alive"


def test_connection_close_is_honoured(server: EmulatorServer) -> None:
    raw = exchange(server, b"GET /x HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert parse_raw(raw)[1]["connection"] == "close"


def test_each_answer_is_one_write(server: EmulatorServer) -> None:
    # With TCP_NODELAY and a single write, headers and body arrive in one segment.
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        signed = sign(server, "GET", events_path(), b"")
        lines = [f"GET {events_path()} HTTP/1.1", *(f"{n}: {v}" for n, v in signed.headers)]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = sock.recv(65536)
    status, _, body = parse_raw(data)
    assert (status, json.loads(body)) == (200, {"Events": {}})


_TARGET_CHARS = st.characters(min_codepoint=33, max_codepoint=126)


def test_fuzzed_requests_always_get_aws_json(server: EmulatorServer) -> None:
    @settings(max_examples=60, deadline=None, database=None)
    @given(
        method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "BREW"]),
        target=st.one_of(
            st.text(_TARGET_CHARS, max_size=40).map(lambda text: "/" + text),
            st.text(_TARGET_CHARS, max_size=40).map(lambda text: f"/identitypools/{text}/events"),
        ),
        body=st.binary(max_size=64),
        signed=st.booleans(),
    )
    def check(method: str, target: str, body: bytes, signed: bool) -> None:
        headers: list[tuple[str, str]] = [("Host", f"{server.host}:{server.port}")]
        if signed:
            try:
                headers = list(sign(server, method, target, body).headers)
            except ValueError:
                return  # not a URL the signer takes; nothing to send
        data = f"{method} {target} HTTP/1.1\r\n".encode()
        data += "".join(f"{n}: {v}\r\n" for n, v in headers).encode()
        data += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
        raw = exchange(server, data)
        if method == "HEAD":  # headers only
            assert raw.startswith(b"HTTP/1.1 4")
            assert raw.endswith(b"\r\n\r\n")
            return
        status, answer_headers, answer_body = parse_raw(raw)
        assert status in (200, 400, 403, 404, 405), (status, answer_body)
        assert UUID_RE.fullmatch(answer_headers["x-amzn-requestid"])
        document = json.loads(answer_body)
        if status != 200:
            assert answer_headers["x-amzn-errortype"]
            assert isinstance(document["message"], str)

    check()
    assert call(server, "GET", events_path()).status == 200  # still healthy


def test_a_crash_in_the_handler_is_a_json_500(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.store, "events", boom)
    answer = call(server, "GET", events_path())
    assert_aws_error(answer, 500, "InternalErrorException")
    assert "boom" not in answer.body.decode()


# --------------------------------------------------------------------------- faults


def test_throttling_fault_with_retry_after(server: EmulatorServer) -> None:
    fault = {"status": 429, "code": "TooManyRequestsException", "count": 2, "retry_after_ms": 0}
    listed = admin(server, "POST", "faults", fault)
    assert listed.status == 200
    assert listed.json == {
        "faults": [
            {
                "kind": "error",
                "count": 2,
                "status": 429,
                "code": "TooManyRequestsException",
                "message": "Rate exceeded (fault injected by the emulator)",
                "retry_after_ms": 0,
                "operation": None,
            }
        ]
    }
    # Unsigned requests and admin calls do not use the fault up.
    assert send(server, "GET", events_path(), headers=[("Host", "h")]).status == 403
    for _ in range(2):
        answer = call(server, "GET", events_path())
        assert_aws_error(answer, 429, "TooManyRequestsException")
        assert answer.headers["x-amz-retry-after"] == "0"
    assert call(server, "GET", events_path()).status == 200
    assert admin(server, "GET", "faults").json == {"faults": []}


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalErrorException"), (503, "ServiceUnavailableException")]
)
def test_server_error_faults(server: EmulatorServer, status: int, code: str) -> None:
    assert admin(server, "POST", "faults", {"status": status}).status == 200
    answer = call(server, "POST", events_path(), set_body({"SyncTrigger": ARN}))
    assert_aws_error(answer, status, code)
    assert "x-amz-retry-after" not in answer.headers
    assert server.events(POOL) == {}


def test_custom_error_fault(server: EmulatorServer) -> None:
    fault = {"status": 418, "code": "Teapot", "message": "short and stout"}
    assert admin(server, "POST", "faults", fault).status == 200
    answer = call(server, "GET", events_path())
    assert (answer.status, answer.code, answer.message) == (418, "Teapot", "short and stout")


def test_drop_fault_closes_without_answering(server: EmulatorServer) -> None:
    assert admin(server, "POST", "faults", {"kind": "drop"}).status == 200
    with pytest.raises(http.client.RemoteDisconnected):
        call(server, "GET", events_path())
    assert call(server, "GET", events_path()).status == 200
    dropped, answered = server.requests.entries()
    assert (dropped.status, dropped.request_id, answered.status) == (None, None, 200)


def test_delay_fault(server: EmulatorServer) -> None:
    assert admin(server, "POST", "faults", {"kind": "delay", "seconds": 0.05}).status == 200
    started = time.monotonic()
    assert call(server, "GET", events_path()).status == 200
    assert time.monotonic() - started >= 0.05


def test_faults_can_target_one_operation_and_queue_up(server: EmulatorServer) -> None:
    admin(server, "POST", "faults", {"status": 500, "operation": "SetCognitoEvents"})
    admin(server, "POST", "faults", {"status": 503})
    assert call(server, "GET", events_path()).status == 503
    assert call(server, "GET", events_path()).status == 200
    assert call(server, "POST", events_path(), set_body({"SyncTrigger": ARN})).status == 500
    assert admin(server, "DELETE", "faults").json == {"faults": []}


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "explode"},
        {"status": 200},
        {"status": "500"},
        {"status": 499},
        {"status": 500, "count": 0},
        {"status": 500, "count": True},
        {"status": 500, "retry_after_ms": -1},
        {"status": 500, "seconds": 1},
        {"status": 500, "code": "bad code\r\nX-Injected: 1"},
        {"status": 500, "message": 5},
        {"status": 500, "operation": "DeleteEverything"},
        {"kind": "drop", "status": 500},
        {"kind": "delay", "seconds": -1},
        {"kind": "delay", "seconds": 3600},
        {"kind": "delay", "seconds": "1"},
        {"kind": "delay", "code": "X"},
        {"stauts": 500},
    ],
)
def test_invalid_faults_are_refused(server: EmulatorServer, fault: object) -> None:
    answer = admin(server, "POST", "faults", fault)
    assert_aws_error(answer, 400, "InvalidParameterException")
    assert answer.message.startswith("Invalid fault: ")
    assert server.faults.pending() == []


# --------------------------------------------------------------------------- admin API


def test_admin_identity_pools(server: EmulatorServer) -> None:
    assert admin(server, "GET", "identity-pools").json == {
        "identity_pools": sorted([POOL, EU_POOL])
    }
    added = admin(server, "POST", "identity-pools", {"identity_pool_id": OTHER_POOL})
    assert added.json == {"identity_pool_id": OTHER_POOL, "created": True}
    again = admin(server, "POST", "identity-pools", {"identity_pool_id": OTHER_POOL})
    assert again.json == {"identity_pool_id": OTHER_POOL, "created": False}
    generated = admin(server, "POST", "identity-pools", {"region": "ap-south-1"}).json
    region, _, guid = generated["identity_pool_id"].partition(":")
    assert (region, str(uuid.UUID(guid)), generated["created"]) == ("ap-south-1", guid, True)

    assert (
        call(server, "POST", events_path(OTHER_POOL), set_body({"SyncTrigger": ARN})).status == 200
    )
    one = admin(server, "GET", f"identity-pools/{OTHER_POOL.replace(':', '%3A')}")
    assert one.json == {"identity_pool_id": OTHER_POOL, "events": {"SyncTrigger": ARN}}
    assert admin(server, "GET", "events").json == {
        "events": {
            POOL: {},
            EU_POOL: {},
            OTHER_POOL: {"SyncTrigger": ARN},
            generated["identity_pool_id"]: {},
        }
    }
    removed = admin(server, "DELETE", f"identity-pools/{OTHER_POOL}")
    assert removed.json == {"identity_pool_id": OTHER_POOL}
    assert_aws_error(
        admin(server, "DELETE", f"identity-pools/{OTHER_POOL}"), 404, "ResourceNotFoundException"
    )
    assert_aws_error(
        admin(server, "GET", f"identity-pools/{OTHER_POOL}"), 404, "ResourceNotFoundException"
    )
    assert_aws_error(call(server, "GET", events_path(OTHER_POOL)), 404, "ResourceNotFoundException")
    # Registering it again starts with no events.
    admin(server, "POST", "identity-pools", {"identity_pool_id": OTHER_POOL})
    assert server.events(OTHER_POOL) == {}


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ({"identity_pool_id": "bad"}, "InvalidParameterException"),
        ({"identity_pool_id": 5}, "InvalidParameterException"),
        ({"region": 5}, "InvalidParameterException"),
        ({"region": "Not A Region"}, "InvalidParameterException"),
        ({}, "InvalidParameterException"),
        ({"identity_pool_id": POOL, "region": "us-east-1"}, "InvalidParameterException"),
        ({"pool": POOL}, "InvalidParameterException"),
        ([POOL], "SerializationException"),
    ],
)
def test_admin_refuses_bad_pools(server: EmulatorServer, document: object, code: str) -> None:
    assert_aws_error(admin(server, "POST", "identity-pools", document), 400, code)


def test_admin_bad_json_and_unknown_routes(server: EmulatorServer) -> None:
    headers = [("Host", f"127.0.0.1:{server.port}"), ("Content-Type", "application/json")]
    bad = send(server, "POST", "/_emulator/faults", b"{nope", headers=headers)
    assert_aws_error(bad, 400, "SerializationException")
    assert_aws_error(admin(server, "GET", "nothing-here"), 404, "UnknownOperationException")
    assert_aws_error(admin(server, "GET", "identity-pools/a/b"), 404, "UnknownOperationException")
    not_allowed = admin(server, "DELETE", "health")
    assert_aws_error(not_allowed, 405, "MethodNotAllowedException")
    assert not_allowed.headers["Allow"] == "GET"
    pool_method = admin(server, "POST", f"identity-pools/{POOL}")
    assert_aws_error(pool_method, 405, "MethodNotAllowedException")
    assert pool_method.headers["Allow"] == "GET, DELETE"


def test_admin_health_and_clock(server: EmulatorServer) -> None:
    assert admin(server, "GET", "health").json == {
        "status": "ok",
        "endpoint_url": server.endpoint_url,
    }
    assert admin(server, "GET", "clock").json["offset_seconds"] == 0
    moved = admin(server, "PUT", "clock", {"offset_seconds": 600}).json
    assert moved["offset_seconds"] == 600
    server_now = datetime.strptime(moved["now"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(server_now - datetime.now(UTC) - timedelta(minutes=10)) < timedelta(seconds=5)
    assert call(server, "GET", events_path(), when=datetime.now(UTC)).status == 403
    for document in ({"offset_seconds": "1"}, {}, {"offset_seconds": 1e300}, {"x": 1}):
        assert_aws_error(admin(server, "PUT", "clock", document), 400, "InvalidParameterException")


def test_request_log_is_redacted(server: EmulatorServer) -> None:
    temporary = Credentials("ASIATEMP", "temporary-secret", "the-very-secret-token")
    with EmulatorServer(credentials=[temporary], identity_pools=[POOL]) as emulator:
        emulator.start()
        body = set_body({"SyncTrigger": ARN})
        signed = sign(emulator, "POST", events_path(), body, credentials=temporary)
        assert send(emulator, "POST", events_path(), body, headers=signed.headers).status == 200
        assert call(emulator, "GET", "/nowhere?x=1", credentials=temporary).status == 404
        log = admin(emulator, "GET", "requests")
        text = log.body.decode()
        assert signed.signature not in text
        assert "the-very-secret-token" not in text
        assert "temporary-secret" not in text
        first, second = log.json["requests"]
        assert first["headers"]["authorization"] == (
            f"AWS4-HMAC-SHA256 Credential=ASIATEMP/{sigv4.format_amz_date(emulator.now())[:8]}"
            "/us-east-1/cognito-sync/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
            "Signature=<redacted>"
        )
        assert first["headers"]["x-amz-security-token"] == "<redacted>"
        assert first["headers"]["content-type"] == "application/json"
        assert {
            k: first[k] for k in ("method", "path", "query", "body", "status", "operation")
        } == {
            "method": "POST",
            "path": events_path(),
            "query": "",
            "body": body.decode(),
            "status": 200,
            "operation": "SetCognitoEvents",
        }
        assert first["error_code"] is None
        assert UUID_RE.fullmatch(first["request_id"])
        assert re.fullmatch(r"\d{8}T\d{6}Z", first["time"])
        assert (second["query"], second["status"], second["error_code"], second["operation"]) == (
            "x=1",
            404,
            "UnknownOperationException",
            None,
        )
        assert admin(emulator, "DELETE", "requests").json == {"requests": []}
        assert emulator.requests.entries() == []


def test_malformed_authorization_is_redacted_in_the_log(server: EmulatorServer) -> None:
    headers = [("Host", "h"), ("Authorization", "Bearer x, Signature=abc123secret")]
    send(server, "GET", events_path(), headers=headers)
    [entry] = server.requests.entries()
    assert entry.headers["authorization"] == "Bearer <redacted>"
    assert entry.error_code == "IncompleteSignatureException"


def test_admin_calls_are_not_logged(server: EmulatorServer) -> None:
    admin(server, "GET", "health")
    admin(server, "GET", "requests")
    assert server.requests.entries() == []


def test_reset(server: EmulatorServer) -> None:
    admin(server, "POST", "identity-pools", {"identity_pool_id": OTHER_POOL})
    call(server, "POST", events_path(), set_body({"SyncTrigger": ARN}))
    admin(server, "POST", "faults", {"status": 500})
    answer = admin(server, "POST", "reset")
    assert answer.json == {"identity_pools": sorted([POOL, EU_POOL])}
    assert server.events(POOL) == {}
    assert server.faults.pending() == []
    assert server.requests.entries() == []


# --------------------------------------------------------------------------- storage


def test_state_persists_across_restarts_with_a_db(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite"
    with EmulatorServer(identity_pools=[POOL], db=db) as first:
        first.start()
        assert call(first, "POST", events_path(), set_body({"SyncTrigger": ARN})).status == 200
        first.add_identity_pool(OTHER_POOL)
    with EmulatorServer(db=str(db)) as second:
        second.start()
        assert call(second, "GET", events_path()).json == {"Events": {"SyncTrigger": ARN}}
        assert second.identity_pools() == [POOL, OTHER_POOL]
        assert second.remove_identity_pool(OTHER_POOL)
    with EmulatorServer(db=db) as third:
        assert third.identity_pools() == [POOL]
        assert third.events(OTHER_POOL) is None


def test_the_commit_comes_before_the_answer(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite"
    with EmulatorServer(identity_pools=[POOL], db=db) as emulator:
        emulator.start()
        assert call(emulator, "POST", events_path(), set_body({"SyncTrigger": ARN})).status == 200
        # Another connection to the file already sees it.
        with sqlite3.connect(db) as other:
            rows = other.execute("SELECT identity_pool_id, event_type, lambda_arn FROM events")
            assert rows.fetchall() == [(POOL, "SyncTrigger", ARN)]
        other.close()


def test_a_database_of_another_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    with pytest.raises(ValueError, match="schema version"):
        EmulatorServer(db=db)


def test_without_a_db_state_is_per_server() -> None:
    with EmulatorServer(identity_pools=[POOL]) as first:
        first.store.set_event(POOL, "SyncTrigger", ARN)
    with EmulatorServer() as second:
        assert second.identity_pools() == []


# --------------------------------------------------------------------------- concurrency


def test_concurrent_requests(server: EmulatorServer) -> None:
    pools = [f"us-east-1:{i:08x}-0000-4000-8000-000000000000" for i in range(8)]
    for pool in pools:
        server.add_identity_pool(pool)
    failures: list[object] = []

    def work(pool: str) -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            for i in range(15):
                arn = f"arn:aws:lambda:us-east-1:123456789012:function:f{i}"
                answer = call(
                    server,
                    "POST",
                    events_path(pool),
                    set_body({"SyncTrigger": arn}),
                    connection=conn,
                )
                got = call(server, "GET", events_path(pool), connection=conn)
                if answer.status != 200 or got.json != {"Events": {"SyncTrigger": arn}}:
                    failures.append((pool, i, answer, got))
        except Exception as exc:
            failures.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(pool,)) for pool in pools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(server.requests.entries()) == 8 * 15 * 2
    final = server.all_events()
    assert all(
        final[pool] == {"SyncTrigger": "arn:aws:lambda:us-east-1:123456789012:function:f14"}
        for pool in pools
    )


# --------------------------------------------------------------------------- lifecycle


def test_startup_is_fast() -> None:
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        emulator = EmulatorServer(identity_pools=[POOL]).start()
        timings.append(time.perf_counter() - started)
        emulator.shutdown()
    assert statistics.median(timings) < 0.05


def test_shutdown_closes_idle_keep_alive_connections_and_is_idempotent() -> None:
    emulator = EmulatorServer(identity_pools=[POOL]).start()
    conn = http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)
    try:
        assert call(emulator, "GET", events_path(), connection=conn).status == 200
        started = time.monotonic()
        emulator.shutdown()
        emulator.shutdown()
        assert time.monotonic() - started < 1
        sock = conn.sock
        assert sock is not None
        readable, _, _ = select.select([sock], [], [], 1)
        assert readable
        assert sock.recv(1) == b""
    finally:
        conn.close()


def test_shutdown_finishes_requests_in_flight() -> None:
    emulator = EmulatorServer(identity_pools=[POOL]).start()
    emulator.faults.add(DelayFault(seconds=0.2))
    answers: list[Answer] = []
    thread = threading.Thread(target=lambda: answers.append(call(emulator, "GET", events_path())))
    thread.start()
    while emulator.faults.pending():  # until the request is sleeping in the server
        time.sleep(0.002)
    emulator.shutdown()
    thread.join()
    [answer] = answers
    assert answer.status == 200
    assert answer.headers["Connection"] == "close"


def test_shutdown_gives_up_on_a_stalled_request_after_the_grace_period() -> None:
    emulator = EmulatorServer().start()
    with socket.create_connection((emulator.host, emulator.port), timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\npartial")
        time.sleep(0.05)  # let the handler start reading the body
        started = time.monotonic()
        emulator.shutdown(grace=0.1)
        assert time.monotonic() - started < 2
        assert sock.recv(100) == b""


def test_ipv6_endpoint_url() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        emulator = EmulatorServer(host="::1")
    except OSError:
        pytest.skip("::1 is not available")
    with emulator:
        assert emulator.endpoint_url == f"http://[::1]:{emulator.port}"


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="identity pool id"):
        EmulatorServer(identity_pools=["bad"])
    with pytest.raises(ValueError, match="given twice"):
        EmulatorServer(credentials=[DEV_CREDENTIALS, DEV_CREDENTIALS])
    with pytest.raises(TypeError, match="Credentials"):
        EmulatorServer(credentials=[("AKID", "secret")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="timedelta"):
        EmulatorServer(clock_offset=600)  # type: ignore[arg-type]
    with EmulatorServer() as emulator:
        emulator.start()
        with pytest.raises(RuntimeError, match="already started"):
            emulator.start()


def test_verbose_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log_path = tmp_path / "log.txt"
    with log_path.open("w") as log, EmulatorServer(identity_pools=[POOL], log=log) as emulator:
        emulator.start()
        call(emulator, "GET", events_path())
        exchange(emulator, b"GARBAGE\r\n\r\n")

        def boom(*args: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(emulator.store, "events", boom)
        assert call(emulator, "GET", events_path()).status == 500
    text = log_path.read_text()
    assert f'"GET {events_path()} HTTP/1.1" 200 -' in text
    assert "400 BadRequestException" in text
    assert "RuntimeError: boom" in text  # the traceback goes to the log, not the client


# --------------------------------------------------------------------------- serve()


def test_serve_reports_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve(port=port) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("cognito-events emulator: cannot start: ")


def test_serve_reports_a_bad_pool(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(port=0, identity_pools=["nope"]) == 1
    assert "cannot start" in capsys.readouterr().err


class _LineWatcher(io.StringIO):
    """A stdout that says when the first complete line has been written."""

    def __init__(self) -> None:
        super().__init__()
        self.line_written = threading.Event()

    def write(self, text: str) -> int:
        count = super().write(text)
        if "\n" in text:
            self.line_written.set()
        return count


def test_serve_in_process_until_sigterm(tmp_path: Path) -> None:
    own = Credentials("AKIDSERVE", "serve-secret")
    out, err = _LineWatcher(), io.StringIO()
    statuses: list[int] = []
    before = signal.getsignal(signal.SIGTERM)

    def drive() -> None:
        if not out.line_written.wait(10):
            return  # serve() failed to start and has returned
        try:
            port = int(out.getvalue().strip().rsplit(":", 1)[1])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            signed = sigv4.sign_request(
                method="GET",
                url=f"http://127.0.0.1:{port}{events_path()}",
                headers=[],
                body=None,
                credentials=own,
                region="us-east-1",
                service="cognito-sync",
                timestamp=datetime.now(UTC),
            )
            try:
                conn.request("GET", events_path(), headers=dict(signed.headers))
                statuses.append(conn.getresponse().status)
            finally:
                conn.close()
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # serve() handles it: it stops

    thread = threading.Thread(target=drive)
    thread.start()
    code = serve(
        port=0,
        db=tmp_path / "state.sqlite",
        identity_pools=[POOL],
        credentials=[own],
        stdout=out,
        stderr=err,
        verbose=True,
    )
    thread.join()
    assert code == 0
    assert re.fullmatch(r"Listening on http://127\.0\.0\.1:\d+\n", out.getvalue())
    assert statuses == [200]
    assert signal.getsignal(signal.SIGTERM) == before
    log = err.getvalue()
    assert DEV_CREDENTIALS.secret_access_key not in log  # credentials were given
    assert f"identity pool {POOL}" in log
    assert f'"GET {events_path()} HTTP/1.1" 200 -' in log


def test_serve_must_run_in_the_main_thread() -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve(port=0, stdout=io.StringIO(), stderr=io.StringIO())
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    [error] = errors
    assert "main thread" in str(error)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    empty = tmp_path / "empty"
    empty.write_text("")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def pending_faults(port: int) -> list[object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/_emulator/faults")
        faults = json.loads(conn.getresponse().read())["faults"]
    finally:
        conn.close()
    assert isinstance(faults, list)
    return faults


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_in_a_subprocess_stops_cleanly_on_a_signal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    code = (
        "from cognito_events._emulator import serve; "
        f"raise SystemExit(serve(port=0, identity_pools=[{POOL!r}]))"
    )
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_clean_env(tmp_path),
        cwd=tmp_path,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"Listening on http://127\.0\.0\.1:(\d+)\n", line)
        assert match, line
        port = int(match[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        # A request in flight when the signal arrives is still answered.
        conn.request(
            "POST",
            "/_emulator/faults",
            json.dumps({"kind": "delay", "seconds": 0.3}),
            {"Content-Type": "application/json"},
        )
        assert conn.getresponse().read()
        conn.close()
        answers: list[int] = []

        def slow_request() -> None:
            url = f"http://127.0.0.1:{port}"
            signed = sigv4.sign_request(
                method="GET",
                url=url + events_path(),
                headers=[],
                body=None,
                credentials=DEV_CREDENTIALS,
                region="us-east-1",
                service="cognito-sync",
                timestamp=datetime.now(UTC),
            )
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                client.request("GET", events_path(), headers=dict(signed.headers))
                answers.append(client.getresponse().status)
            finally:
                client.close()

        thread = threading.Thread(target=slow_request)
        thread.start()
        while pending_faults(port):  # until the request is sleeping in the server
            time.sleep(0.005)
        proc.send_signal(signum)
        thread.join()
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out == ""  # nothing after the one line already read
    assert answers == [200]
    assert DEV_CREDENTIALS.access_key_id in err
    assert DEV_CREDENTIALS.secret_access_key in err
    assert POOL in err
