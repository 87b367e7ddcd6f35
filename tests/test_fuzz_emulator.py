"""The emulator's HTTP surface, fuzzed over raw sockets: malformed request lines, headers,
``Authorization`` values, bodies and paths, tampered signed requests, and slow senders.

What every answer must be (decided here, asserted for every input):

* a sequence of well-formed HTTP/1.1 answers in the AWS style: a parseable status line,
  ``Date``, a UUID ``x-amzn-RequestId``, ``Content-Type: application/json``, a correct
  ``Content-Length``, and for an error ``x-amzn-ErrorType`` plus a JSON
  ``{"message": "..."}`` body; never a traceback, never HTML, never a 500 (the emulator's
  own failure), and never a 200 for a request that is not correctly signed;
* or a clean close with no answer at all, only when there is no request to answer: the
  connection sent nothing, or a first line that is blank (whitespace only), or it
  announced a body and closed before sending all of it.

And for every input: the stored identity pools and events are unchanged (checked through
the emulator's API before and after), and the emulator keeps serving (a correctly signed
call through the real client succeeds afterwards).

``test_emulator.py`` covers each documented error once, and a first fuzz of method and
path; the admin routes (unsigned by design, so a fuzzed call may legitimately change the
state) have their own test, which resets afterwards.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import unquote

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from cognito_events import SYNC_TRIGGER, CognitoEventsClient, RetryPolicy, sigv4
from cognito_events._emulator import MAX_BODY_BYTES
from cognito_events.testing import Emulator

pytestmark = pytest.mark.fuzz

REGION = "us-east-1"
POOL = f"{REGION}:0f7e2b2c-1111-2222-3333-444455556666"
OTHER_POOL = "eu-west-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:on-sync"
#: What an attacker would like to bind instead.
HIJACK_ARN = f"arn:aws:lambda:{REGION}:666666666666:function:hijack"
EVENTS_PATH = "/identitypools/" + POOL.replace(":", "%3A") + "/events"
HIJACK_BODY = json.dumps({"Events": {SYNC_TRIGGER: HIJACK_ARN}}).encode()
NO_OP_BODY = json.dumps({"Events": {SYNC_TRIGGER: ARN}}).encode()
#: Statuses an answer may have (500 means the emulator itself failed).
EXPECTED_STATUSES = frozenset({100, 200, 400, 403, 404, 405, 413, 414, 431, 505})
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
STATUS_LINE = re.compile(r"HTTP/1\.1 (\d{3}) [^\r\n]*")
#: Nesting the fuzzed JSON stays below (deeper nesting has its own test).
SAFE_DEPTH = 200
_ZERO = timedelta(0)


# -- the emulator, and its state ---------------------------------------------------------------


class Running(NamedTuple):
    emulator: Emulator
    client: CognitoEventsClient
    host: str
    port: int


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    with Emulator(REGION, identity_pools=[POOL, OTHER_POOL]) as emulator:
        host, port = emulator.endpoint_url.removeprefix("http://").rsplit(":", 1)
        with emulator.client(retry=RetryPolicy(max_attempts=1)) as client:
            yield Running(emulator, client, host, int(port))


def _baseline(running: Running) -> None:
    running.emulator.reset()
    running.client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})


def _state(emulator: Emulator) -> dict[str, dict[str, str]]:
    return {pool: emulator.events(pool) for pool in emulator.identity_pools}


BASELINE = {POOL: {SYNC_TRIGGER: ARN}, OTHER_POOL: {}}


def _still_serving(running: Running, expected: dict[str, dict[str, str]] | None = None) -> None:
    """The state is as expected (the baseline's) and a correctly signed call succeeds."""
    expected = BASELINE if expected is None else expected
    assert _state(running.emulator) == expected
    assert running.client.get_cognito_events(POOL) == expected[POOL]


# -- raw exchanges -----------------------------------------------------------------------------


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes | None  # None: an answer to HEAD (headers only)


class Exchange(NamedTuple):
    data: bytes
    reset: bool


def exchange(running: Running, chunks: Sequence[bytes], pause: float = 0.0) -> Exchange:
    """Send the chunks (pausing between them), half-close, read until the server closes."""
    received: list[bytes] = []
    reset = False
    with socket.create_connection((running.host, running.port), timeout=10) as sock:
        try:
            for index, chunk in enumerate(chunks):
                if index and pause:
                    time.sleep(pause)
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # EPIPE, ECONNRESET, ENOTCONN: the server answered and closed
            pass  # before taking everything; read what it said
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                reset = True
                break
            if not chunk:
                break
            received.append(chunk)
    return Exchange(b"".join(received), reset)


def parse_answers(data: bytes) -> list[Answer]:
    """Split a byte stream into HTTP/1.1 answers, checking the framing of each."""
    answers: list[Answer] = []
    while data:
        head, separator, rest = data.partition(b"\r\n\r\n")
        assert separator, f"an answer without the end of its headers: {data[:300]!r}"
        lines = head.decode("latin-1").split("\r\n")
        match = STATUS_LINE.fullmatch(lines[0])
        assert match is not None, f"not a status line: {lines[0]!r}"
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            assert colon, f"bad header line {line!r}"
            assert name, f"bad header line {line!r}"
            assert name == name.strip(), f"bad header line {line!r}"
            assert name.lower() not in headers, f"header {name} twice"
            headers[name.lower()] = value.strip()
        status = int(match.group(1))
        if status == 100:  # the interim answer to Expect: 100-continue
            assert headers == {}
            answers.append(Answer(status, headers, b""))
            data = rest
            continue
        length = int(headers["content-length"])
        if length and (len(rest) < length or rest.startswith(b"HTTP/1.")):
            answers.append(Answer(status, headers, None))  # HEAD: headers only
            data = rest
            continue
        answers.append(Answer(status, headers, rest[:length]))
        data = rest[length:]
    return answers


def check_answer(answer: Answer) -> None:
    """One answer is AWS-shaped: status, Date, request id, JSON, error type and message."""
    assert answer.status in EXPECTED_STATUSES, answer
    if answer.status == 100:
        return
    headers = answer.headers
    assert parsedate_to_datetime(headers["date"]).tzinfo is not None
    assert UUID_RE.fullmatch(headers["x-amzn-requestid"]), headers
    assert headers["content-type"] == "application/json"
    body = answer.body
    if answer.status >= 400:
        assert re.fullmatch(r"[A-Za-z]+Exception", headers["x-amzn-errortype"]), headers
    if body is None:
        return
    assert b"Traceback" not in body
    assert b"<html" not in body.lower()
    if answer.status >= 400:
        document = json.loads(body)
        assert isinstance(document, dict)
        assert set(document) == {"message"}
        assert isinstance(document["message"], str)
    elif body:
        json.loads(body)


def _label(answers: list[Answer]) -> None:
    """Tell hypothesis' statistics which answers the examples got."""
    if not answers:
        event("clean close, no answer")
    for answer in answers:
        code = answer.headers.get("x-amzn-errortype", "")
        event(f"{answer.status} {code}".strip())


def _blank_first_line(data: bytes) -> bool:
    first = data.split(b"\n", 1)[0]
    return not first.decode("latin-1").split()


def _truncated_body(data: bytes) -> bool:
    """The request announced (or began) a body it did not finish sending."""
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
    lowered = head.lower()
    for match in re.finditer(rb"content-length:[ \t]*(\d+)", lowered):
        if int(match.group(1)) > len(body):
            return True
    return b"transfer-encoding" in lowered or b"expect:" in lowered


def check_exchange(request: bytes, result: Exchange, *, signed: bool = False) -> list[Answer]:
    """Every answer well-formed; silence only where there is nothing to answer."""
    if not result.data:
        assert _blank_first_line(request) or _truncated_body(request), (
            f"no answer (reset={result.reset}) to {request[:300]!r}"
        )
        return []
    answers = parse_answers(result.data)
    for answer in answers:
        check_answer(answer)
        if not signed:
            assert answer.status != 200, f"an unsigned request succeeded: {request[:300]!r}"
    return answers


# -- strategies --------------------------------------------------------------------------------

any_text = st.text(st.characters(exclude_categories=()), max_size=40)
header_safe = st.text(st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"))

pool_segments = st.one_of(
    st.sampled_from(
        [
            POOL,
            POOL.replace(":", "%3A"),
            POOL.replace(":", "%3a"),
            OTHER_POOL.replace(":", "%3A"),
            "..",
            ".",
            "%2e%2e",
            "%2E",
            "..%2F..%2Fetc%2Fpasswd",
            "%00",
            POOL.replace(":", "%3A") + "%00",
            "%",
            "%G1",
            "%ff%fe",
            "%C3%A9t%C3%A9:0",
            "us-east-1%3A" + "a" * 60,
            "",
            "_emulator",
        ]
    ),
    st.builds(lambda n: "us-east-1%3A" + "0" * n, st.integers(40, 20_000)),
    st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="?#"), max_size=60
    ),
    any_text.map(
        lambda text: "".join(f"%{byte:02X}" for byte in text.encode("utf-8", "surrogatepass"))
    ),
)


def _target(prefix: str, segment: str, suffix: str, query: str) -> str:
    target = f"{prefix}{segment}{suffix}{query}"
    if target.startswith("/_emulator/"):  # the unsigned admin API: fuzzed on its own
        target = "/x" + target
    return target


targets = st.one_of(
    st.builds(
        _target,
        st.sampled_from(
            [
                "/identitypools/",
                "//identitypools/",
                "/identitypools/../identitypools/",
                "/./identitypools/",
                "/IDENTITYPOOLS/",
                "http://127.0.0.1/identitypools/",
                "/identitypools%2F",
                "",
                "/",
            ]
        ),
        pool_segments,
        st.sampled_from(["/events", "/events/", "/events/..", "/events%00", "", "/datasets", "/"]),
        st.sampled_from(["", "?", "?a=1", "?Action=SetCognitoEvents&%zz", "?" + "q" * 100]),
    ),
    st.sampled_from(["*", "/", "/_emulatorx", "http://[::1/", "/\x00", "/%00"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=80),
)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "get", "BREW"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), min_size=1, max_size=12),
)
versions = st.sampled_from(
    [
        "HTTP/1.1",
        "HTTP/1.1",
        "HTTP/1.0",
        "HTTP/2.0",
        "HTTP/0.9",
        "HTTP/1.x",
        "http/1.1",
        "HTTP/1.1 x",
        "",
    ]
)

_AUTH_BASE = (
    "AWS4-HMAC-SHA256 Credential=AKIDCOGNITOEVENTSEMU/20260101/us-east-1/cognito-sync/"
    "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
authorizations = st.one_of(
    st.sampled_from(
        [
            _AUTH_BASE,
            _AUTH_BASE.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
            _AUTH_BASE.replace("Credential=", "Credential = "),
            _AUTH_BASE + ", Signature=" + "1" * 64,
            _AUTH_BASE.replace("host;", "Host;"),
            _AUTH_BASE.replace("/aws4_request", "/aws4_request/extra"),
            _AUTH_BASE.replace("20260101", "20261399"),
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ",
            "Bearer abc",
            "Basic dXNlcjpwYXNz",
            "AWS AKID:signature",
            "",
        ]
    ),
    st.builds(_target, st.just(""), header_safe, st.just(""), st.just("")),
    st.builds(lambda text: _AUTH_BASE[: len(text) % len(_AUTH_BASE)] + text, header_safe),
    st.builds(lambda n: "AWS4-HMAC-SHA256 Credential=" + "A" * n, st.integers(100, 60_000)),
)
amz_dates = st.one_of(
    st.sampled_from(["20260101T000000Z", "20260101T000000", "2026-01-01T00:00:00Z", "", "0" * 16]),
    header_safe,
)


def _json_body(depth: int, payload: object) -> bytes:
    text = json.dumps(payload)
    return ("[" * depth + text + "]" * depth).encode()


bodies = st.one_of(
    st.just(b""),
    st.just(HIJACK_BODY),
    st.binary(max_size=300),
    st.builds(lambda cut: HIJACK_BODY[:cut], st.integers(0, len(HIJACK_BODY))),
    st.builds(
        _json_body,
        st.integers(0, SAFE_DEPTH),
        st.recursive(
            st.one_of(
                st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text
            ),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3)
            ),
            max_leaves=8,
        ),
    ),
    st.builds(
        lambda events: json.dumps({"Events": events}).encode(),
        st.dictionaries(any_text, any_text | st.integers(), max_size=3),
    ),
)


def _framing_headers(body: bytes, how: str) -> list[str]:
    if how == "length":
        return [f"Content-Length: {len(body)}"]
    if how == "short":
        return [f"Content-Length: {len(body) + 10}"]
    if how == "long":
        return [f"Content-Length: {max(0, len(body) - 1)}"]
    if how == "twice":
        return [f"Content-Length: {len(body)}", f"Content-Length: {len(body) + 1}"]
    if how == "junk":
        return ["Content-Length: 1e3", "Content-Length: -1", "Content-Length: ٣"][len(body) % 3 :][
            :1
        ]
    if how == "huge":
        return [f"Content-Length: {MAX_BODY_BYTES + 1}"]
    if how == "expect":
        return [f"Content-Length: {len(body)}", "Expect: 100-continue"]
    if how == "chunked":
        return ["Transfer-Encoding: chunked"]
    if how == "te-both":
        return ["Transfer-Encoding: chunked", f"Content-Length: {len(body)}"]
    if how == "te-other":
        return ["Transfer-Encoding: gzip, chunked"]
    return []


def _encode_body(body: bytes, how: str, chunk_size: int) -> bytes:
    if how not in ("chunked", "te-both"):
        return body
    size = max(1, chunk_size)
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


class Draft(NamedTuple):
    """A request to send: raw bytes, or parts to sign (at send time) and render."""

    raw: bytes | None = None
    method: str = "POST"
    target: str = EVENTS_PATH
    version: str = "HTTP/1.1"
    space: str = " "
    newline: str = "\r\n"
    headers: tuple[str, ...] = ()
    body: bytes = b""
    framing: str = "length"
    chunk_size: int = 16
    sign_region: str | None = None  # sign for this region (None: send unsigned)


FOCUSES = ("garbage", "request line", "path", "headers", "authorization", "body", "framing")
_SIGNABLE = ("path", "headers", "body")


@st.composite
def drafts(draw: st.DrawFn) -> Draft:
    """One aspect of a request fuzzed (the focus), the rest well-formed, so that every
    stage of the handler is reached: framing, routing, signature, body, validation."""
    focus = draw(st.sampled_from((*FOCUSES, "body", "path", "authorization")))
    if focus == "garbage":
        return Draft(
            raw=draw(
                st.one_of(
                    st.binary(max_size=500),
                    st.lists(st.binary(max_size=40), max_size=6).map(b"\r\n".join),
                    st.sampled_from(
                        [
                            b"",
                            b"\r\n",
                            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)),
                            b"SSH-2.0-OpenSSH_9.6\r\n",
                            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                        ]
                    ),
                )
            )
        )
    draft = Draft(
        method=draw(st.sampled_from(["GET", "POST"])),
        headers=("Host: 127.0.0.1", "Content-Type: application/json"),
        body=draw(st.sampled_from([b"", HIJACK_BODY, NO_OP_BODY])),
    )
    if focus in _SIGNABLE and draw(st.integers(0, 3)):
        draft = draft._replace(sign_region=draw(st.sampled_from([REGION, REGION, "eu-west-1"])))
    if focus == "request line":
        words = [draw(methods), draw(targets), draw(versions)]
        del words[len(words) - draw(st.integers(0, 1)) :]  # sometimes no version
        draft = draft._replace(
            method=words[0],
            target=words[1] if len(words) > 1 else "",
            version=words[2] if len(words) > 2 else "",
            space=draw(st.sampled_from([" ", "  ", "\t", "\x0b", "\xa0"])),
            newline=draw(st.sampled_from(["\r\n", "\n", "\r\r\n"])),
        )
    elif focus == "path":
        draft = draft._replace(
            method=draw(st.sampled_from(["GET", "POST", "DELETE", "HEAD"])), target=draw(targets)
        )
    elif focus == "headers":
        extra = draw(
            st.lists(
                st.one_of(
                    st.builds(lambda name, value: f"{name}: {value}", any_text, header_safe),
                    st.sampled_from(
                        [
                            " folded continuation",
                            "\tfolded: too",
                            "NoColonHere",
                            ": empty name",
                            "Bad Name: x",
                            "Content-Type: text/plain",
                            "Content-Type: application/x-amz-json-1.1; charset=utf-8",
                            "Host: evil.example",
                            "Connection: close",
                            "Connection: keep-alive",
                            "X-Amz-Date: 20260101T000000Z",
                            "x-amz-security-token: " + "t" * 100,
                        ]
                    ),
                    st.builds(lambda n: "X-Long: " + "v" * n, st.integers(1000, 70_000)),
                    st.builds(
                        lambda n: "".join(f"X-{i}: 1\r\n" for i in range(n))[:-2],
                        st.integers(90, 130),
                    ),
                ),
                min_size=1,
                max_size=3,
            )
        )
        draft = draft._replace(headers=(*draft.headers, *extra))
    elif focus == "authorization":
        auth = [f"Authorization: {draw(authorizations)}" for _ in range(draw(st.integers(1, 2)))]
        if draw(st.booleans()):
            auth.append(f"X-Amz-Date: {draw(amz_dates)}")
        if draw(st.booleans()):
            auth.append(f"X-Amz-Security-Token: {draw(header_safe)}")
        draft = draft._replace(headers=(*draft.headers, *auth))
    elif focus == "body":
        draft = draft._replace(method="POST", body=draw(bodies))
    elif focus == "framing":
        draft = draft._replace(
            body=draw(bodies),
            framing=draw(
                st.sampled_from(
                    [
                        "none",
                        "short",
                        "long",
                        "twice",
                        "junk",
                        "huge",
                        "expect",
                        "chunked",
                        "te-both",
                        "te-other",
                    ]
                )
            ),
            chunk_size=draw(st.integers(1, 64)),
        )
    return draft


def render(running: Running, draft: Draft) -> tuple[bytes, bool]:
    """The bytes to send, and whether they carry a correct signature."""
    if draft.raw is not None:
        return draft.raw, False
    headers = list(draft.headers)
    signed = False
    if draft.sign_region is not None and draft.target.startswith("/"):
        to_sign = [
            tuple(part.strip() for part in line.split(":", 1))
            for line in headers
            if line.lower().startswith("content-type:")
        ]
        try:
            result = sigv4.sign_request(
                method=draft.method,
                url=running.emulator.endpoint_url + draft.target,
                headers=[(name, value) for name, value in to_sign],
                body=draft.body,
                credentials=running.emulator.credentials,
                region=draft.sign_region,
                service="cognito-sync",
                timestamp=datetime.now(UTC) + running.emulator.clock_offset,
            )
        except ValueError:
            pass  # not a URL the signer takes: send it unsigned
        else:
            signed = True
            others = [
                line for line in headers if not line.lower().startswith(("content-type:", "host:"))
            ]
            headers = [*(f"{name}: {value}" for name, value in result.headers), *others]
    words = [word for word in (draft.method, draft.target, draft.version) if word]
    headers += _framing_headers(draft.body, draft.framing)
    text = draft.newline.join([draft.space.join(words), *headers]) + draft.newline * 2
    body = _encode_body(draft.body, draft.framing, draft.chunk_size)
    return text.encode("utf-8", "surrogatepass") + body, signed


def expected_state(draft: Draft, signed: bool, answers: list[Answer]) -> dict[str, dict[str, str]]:
    """The baseline, or for a signed SetCognitoEvents answered 200: exactly what it asked."""
    state = {pool: dict(events) for pool, events in BASELINE.items()}
    if signed and draft.method == "POST" and any(answer.status == 200 for answer in answers):
        path = draft.target.partition("?")[0]
        pool = unquote(path.split("/")[2])
        for name, arn in json.loads(draft.body)["Events"].items():
            if arn:
                state[pool][name] = arn
            else:
                state[pool].pop(name, None)
    return state


# -- the fuzz targets --------------------------------------------------------------------------


@given(draft=drafts())
@example(draft=Draft(raw=b""))
@example(draft=Draft(raw=b"\r\n"))
@example(draft=Draft(raw=b"GARBAGE\r\n\r\n"))
@example(draft=Draft(body=b"{", framing="short"))
@example(draft=Draft(method="GET", target="/identitypools/" + "a" * 20_000 + "/events"))
@example(draft=Draft(headers=("X-Long: " + "v" * 70_000,)))
@example(draft=Draft(method="GET", target="/%00/../identitypools/x/events"))
@example(draft=Draft(body=HIJACK_BODY, headers=("Content-Type: application/json",)))
@example(draft=Draft(body=HIJACK_BODY, sign_region=REGION, target=EVENTS_PATH + "%00"))
@example(draft=Draft(body=b"[]", sign_region=REGION, headers=("Content-Type: application/json",)))
def test_any_request_gets_an_aws_error_or_a_clean_close(running: Running, draft: Draft) -> None:
    _baseline(running)
    request, signed = render(running, draft)
    answers = check_exchange(request, exchange(running, [request]), signed=signed)
    _label(answers)
    _still_serving(running, expected_state(draft, signed, answers))


def _signed_parts(running: Running, method: str, body: bytes) -> tuple[str, list[tuple[str, str]]]:
    signed = sigv4.sign_request(
        method=method,
        url=running.emulator.endpoint_url + EVENTS_PATH,
        headers=[("Content-Type", "application/json")] if body else [],
        body=body,
        credentials=running.emulator.credentials,
        region=REGION,
        service="cognito-sync",
        timestamp=datetime.now(UTC) + running.emulator.clock_offset,
    )
    return EVENTS_PATH, list(signed.headers)


def _admin_headers(running: Running) -> list[tuple[str, str]]:
    """What the admin API's guard wants: its own Host, and JSON."""
    return [("Host", f"127.0.0.1:{running.port}"), ("Content-Type", "application/json")]


def _render(method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass") + body


TAMPERS = (
    "hijack body",
    "flip signature",
    "flip credential",
    "other signed headers",
    "other date",
    "other path",
    "add query",
    "drop header",
    "duplicate authorization",
    "duplicate date",
    "add token",
    "replace authorization",
    "other method",
)


def _query(text: str) -> str:
    return "".join(text.split()) or "x"  # whitespace would end the request target


def _tamper(
    how: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    position: int,
    text: str,
) -> tuple[str, str, list[tuple[str, str]], bytes]:
    method = "POST"
    auth_index = next(i for i, (name, _) in enumerate(headers) if name == "Authorization")
    auth = headers[auth_index][1]

    def replace_auth(value: str) -> None:
        headers[auth_index] = ("Authorization", value)

    def flip(value: str, start: int, end: int) -> str:
        at = start + position % max(1, end - start)
        char = value[at]
        return value[:at] + ("0" if char != "0" else "1") + value[at + 1 :]

    if how == "hijack body":
        body = HIJACK_BODY
    elif how == "flip signature":
        start = auth.index("Signature=") + len("Signature=")
        replace_auth(flip(auth, start, len(auth)))
    elif how == "flip credential":
        start = auth.index("Credential=") + len("Credential=")
        replace_auth(flip(auth, start, auth.index(",")))
    elif how == "other signed headers":
        replace_auth(auth.replace("SignedHeaders=", "SignedHeaders=" + (text or "x") + ";", 1))
    elif how == "other date":
        index = next(i for i, (name, _) in enumerate(headers) if name == "X-Amz-Date")
        value = headers[index][1]
        headers[index] = ("X-Amz-Date", flip(value, 9, 15))
    elif how == "other path":
        path = "/identitypools/" + OTHER_POOL.replace(":", "%3A") + "/events"
    elif how == "add query":
        path += "?" + _query(text)
    elif how == "drop header":
        names = [name for name, _ in headers if name != "Authorization"]
        dropped = names[position % len(names)]
        headers = [(name, value) for name, value in headers if name != dropped]
    elif how == "duplicate authorization":
        headers.append(("Authorization", auth))
    elif how == "duplicate date":
        headers.append(("X-Amz-Date", "20260101T000000Z"))
    elif how == "add token":
        headers.append(("X-Amz-Security-Token", text or "token"))
    elif how == "replace authorization":
        replace_auth(text)
    elif how == "other method":
        method = "PUT" if position % 2 else "GET"
    return method, path, headers, body


@given(
    how=st.sampled_from(TAMPERS),
    position=st.integers(0, 200),
    text=st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters=","), max_size=30
    ),
)
def test_a_tampered_signed_request_changes_nothing(
    running: Running, how: str, position: int, text: str
) -> None:
    _baseline(running)
    # Signed to set what is already set: even a tamper that happens to keep the signature
    # valid cannot change the state, unless the emulator takes what was not signed.
    path, headers = _signed_parts(running, "POST", NO_OP_BODY)
    method, path, headers, body = _tamper(how, path, headers, NO_OP_BODY, position, text)
    request = _render(method, path, headers, body)
    answers = check_exchange(request, exchange(running, [request]), signed=True)
    _label(answers)
    assert len(answers) == 1
    [answer] = answers
    if how == "hijack body":
        assert (answer.status, answer.headers["x-amzn-errortype"]) == (
            403,
            "InvalidSignatureException",
        )
    elif how == "add query" and not sigv4.canonical_query(_query(text)):
        pass  # "?", "?&&": no query at all once canonical, so the signature still holds
    elif how in ("flip signature", "other date", "other path", "add query", "other method"):
        assert answer.status in (403, 405), answer
    _still_serving(running)


_SIGNED_NO_OP = Draft(body=NO_OP_BODY, sign_region=REGION)


@given(
    draft=st.one_of(drafts(), st.just(_SIGNED_NO_OP)),
    cuts=st.lists(st.integers(0, 2_000), max_size=6),
)
def test_a_slow_sender_gets_the_same_answers(
    running: Running, draft: Draft, cuts: list[int]
) -> None:
    """The same requests sent in pieces, with pauses: TCP segmentation changes nothing."""
    _baseline(running)
    request, signed = render(running, draft)
    points = sorted({cut % (len(request) + 1) for cut in cuts})
    pieces = [request[a:b] for a, b in zip([0, *points], [*points, len(request)], strict=True)]
    answers = check_exchange(request, exchange(running, pieces, pause=0.002), signed=signed)
    _label(answers)
    if draft == _SIGNED_NO_OP:  # correctly signed: must succeed however it arrives
        assert [(answer.status, answer.body) for answer in answers] == [(200, b"")]
    _still_serving(running, expected_state(draft, signed, answers))


def test_a_valid_request_sent_a_byte_at_a_time_succeeds(running: Running) -> None:
    _baseline(running)
    path, headers = _signed_parts(running, "POST", NO_OP_BODY)
    request = _render("POST", path, headers, NO_OP_BODY)
    result = exchange(running, [request[i : i + 1] for i in range(len(request))], pause=0.0005)
    [answer] = check_exchange(request, result, signed=True)
    assert (answer.status, answer.body) == (200, b"")
    _still_serving(running)


def test_stalled_connections_do_not_block_others(running: Running) -> None:
    _baseline(running)
    path, headers = _signed_parts(running, "POST", NO_OP_BODY)
    request = _render("POST", path, headers, NO_OP_BODY)
    stalled: list[socket.socket] = []
    try:
        for stop in (1, len(request) // 3, len(request) - 5, 10, 40) * 4:
            sock = socket.create_connection((running.host, running.port), timeout=5)
            stalled.append(sock)
            sock.sendall(request[:stop])  # and then nothing
        time.sleep(0.05)
        started = time.monotonic()
        for _ in range(5):
            _still_serving(running)
        assert time.monotonic() - started < 2
        # A stalled sender that finally finishes is answered like any other.
        stalled[1].sendall(request[len(request) // 3 :])
        stalled[1].shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := stalled[1].recv(65536):
            answer += chunk
        [parsed] = parse_answers(answer)
        assert parsed.status == 200
    finally:
        for sock in stalled:
            sock.close()
    _still_serving(running)


def test_many_connections_at_once_keep_the_state(running: Running) -> None:
    _baseline(running)
    requests = [
        b"GARBAGE\r\n\r\n",
        _render("POST", EVENTS_PATH, [("Content-Type", "application/json")], HIJACK_BODY),
        b"\x16\x03\x01\x00",
        b"GET "
        + EVENTS_PATH.encode()
        + b" HTTP/1.1\r\nAuthorization: "
        + b"A" * 5000
        + b"\r\n\r\n",
    ]
    results: list[tuple[bytes, Exchange]] = []
    lock = threading.Lock()

    def send(request: bytes) -> None:
        result = exchange(running, [request])
        with lock:
            results.append((request, result))

    threads = [threading.Thread(target=send, args=(requests[i % 4],)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 40
    for request, result in results:
        check_exchange(request, result)
    _still_serving(running)


def test_a_connection_that_sends_nothing_is_closed_cleanly(running: Running) -> None:
    assert exchange(running, []) == Exchange(b"", False)
    assert exchange(running, [b"\r\n"]) == Exchange(b"", False)
    _still_serving(running)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)),  # a TLS ClientHello
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",  # the HTTP/2 preface
        b"\x00" * 64,
        bytes(range(256)),
    ],
    ids=["tls", "ssh", "http2", "nul", "bytes"],
)
def test_other_protocols_get_one_well_formed_error(running: Running, request_bytes: bytes) -> None:
    """Not HTTP/1.x at all: one AWS-style error (400, or 505 for HTTP/2), then close."""
    result = exchange(running, [request_bytes])
    [answer] = check_exchange(request_bytes, result)
    assert answer.status in (400, 505)
    assert answer.headers.get("connection") == "close"
    _still_serving(running)


# -- the admin API (unsigned: the state may change, so it is reset afterwards) -----------------

_ADMIN_ROUTES = [
    ("POST", "identity-pools"),
    ("POST", "faults"),
    ("PUT", "clock"),
    ("POST", "reset"),
    ("GET", "identity-pools/" + POOL.replace(":", "%3A")),
    ("DELETE", "identity-pools/%00"),
    ("DELETE", "requests"),
]
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),  # NaN has its own test
        any_text,
        st.sampled_from(["us-east-1", POOL, "drop", "delay", "error", "SetCognitoEvents"]),
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "identity_pool_id",
                    "region",
                    "kind",
                    "status",
                    "code",
                    "count",
                    "seconds",
                    "offset_seconds",
                    "message",
                    "retry_after_ms",
                    "operation",
                ]
            )
            | any_text,
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@given(
    route=st.sampled_from(_ADMIN_ROUTES),
    body=st.one_of(
        json_values.map(lambda value: json.dumps(value).encode()), st.binary(max_size=100)
    ),
)
@example(route=("PUT", "clock"), body=b'{"offset_seconds": 1e308}')
@example(route=("POST", "faults"), body=b'{"kind": "delay", "seconds": NaN}')
def test_admin_calls_with_any_body_get_json_answers(
    running: Running, route: tuple[str, str], body: bytes
) -> None:
    method, path = route
    request = _render(method, f"/_emulator/{path}", _admin_headers(running), body)
    try:
        answers = check_exchange(request, exchange(running, [request]), signed=True)
        _label(answers)
        assert len(answers) == 1
    finally:
        running.emulator.reset()
        running.emulator.clock_offset = _ZERO
    _baseline(running)
    _still_serving(running)


# -- bugs found by fuzzing ---------------------------------------------------------------------


def _deep(depth: int) -> bytes:
    return b'{"Events": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [1_000, 30_000])  # 30 000: still under the 64 KiB limit
def test_a_deeply_nested_body_is_a_serialization_error(running: Running, depth: int) -> None:
    _baseline(running)
    body = _deep(depth)
    signed = sigv4.sign_request(
        method="POST",
        url=running.emulator.endpoint_url + EVENTS_PATH,
        headers=[("Content-Type", "application/json")],
        body=body,
        credentials=running.emulator.credentials,
        region=REGION,
        service="cognito-sync",
        timestamp=datetime.now(UTC),
    )
    request = _render("POST", EVENTS_PATH, list(signed.headers), body)
    [answer] = check_exchange(request, exchange(running, [request]), signed=True)
    assert (answer.status, answer.headers["x-amzn-errortype"]) == (400, "SerializationException")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_emulator/faults", b"[" * 5_000),
        ("/_emulator/identity-pools", _deep(5_000)),
    ],
    ids=["deep faults", "deep pools"],
)
def test_admin_bodies_that_python_cannot_take_are_400(
    running: Running, path: str, body: bytes
) -> None:
    request = _render("POST", path, _admin_headers(running), body)
    [answer] = check_exchange(request, exchange(running, [request]), signed=True)
    running.emulator.reset()
    assert answer.status == 400


def test_a_nan_clock_offset_is_refused(running: Running) -> None:
    body = b'{"offset_seconds": NaN}'
    request = _render("PUT", "/_emulator/clock", _admin_headers(running), body)
    [answer] = check_exchange(request, exchange(running, [request]), signed=True)
    running.emulator.clock_offset = _ZERO
    assert (answer.status, answer.headers["x-amzn-errortype"]) == (400, "InvalidParameterException")
