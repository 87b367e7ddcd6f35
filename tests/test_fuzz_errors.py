"""The error parser, fuzzed: any status, any headers, any body bytes become a typed
``ServiceError`` with a bounded message, and nothing else (no exception escapes).

``test_errors.py`` covers the documented cases one by one; here hypothesis throws truncated
and mistyped JSON, invalid UTF-8, huge bodies and headers, and odd mapping types at
``error_from_response`` and at the client's handling of a 2xx body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import pytest
import requests_mock
from hypothesis import example, given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from cognito_events import (
    CognitoEventsClient,
    Credentials,
    InternalError,
    InvalidParameterError,
    NotAuthorizedError,
    ResourceNotFoundError,
    RetryPolicy,
    ServiceError,
    TooManyRequestsError,
)
from cognito_events._errors import (
    _CLASS_BY_CODE,
    MAX_SERVICE_MESSAGE_CHARS,
    error_from_response,
    parse_error_code,
)
from cognito_events._operations import _parse_events
from cognito_events.testing import ISOLATED_ENVIRON

pytestmark = pytest.mark.fuzz

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"

#: The longest ``.message`` may be: a service message is cut at MAX_SERVICE_MESSAGE_CHARS
#: (plus "…"); the description of a body that is not AWS JSON is shorter still.
MESSAGE_BOUND = MAX_SERVICE_MESSAGE_CHARS + 1
#: How deep JSON nests before Python's decoder gives up with RecursionError (the
#: interpreter's limit is 1000 frames); the fuzzed bodies stay well below it, the bug
#: about deeper ones has its own test.
SAFE_DEPTH = 200

_AWS_HEADERS = ("x-amzn-ErrorType", "x-amzn-RequestId", "x-amz-request-id", "Content-Type")
_CODES = (*sorted(_CLASS_BY_CODE), "UnknownOperationException", "Foo#Bar:http://x/", "")
_KEYS = ("message", "Message", "code", "Code", "__type", "Events", "errors")

# Unicode of every kind, control characters and lone surrogates included.
_any_text = st.text(st.characters(exclude_categories=()), max_size=60)
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    _any_text,
    st.sampled_from(_CODES),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS) | _any_text, inner)
    ),
    max_leaves=12,
)
_aws_documents = st.dictionaries(st.sampled_from(_KEYS), _json_values, max_size=5)


def _dump(document: object) -> str:
    return json.dumps(document, allow_nan=True, ensure_ascii=False)


def _with_random_casing(name: str, flips: list[bool]) -> str:
    return "".join(
        char.upper() if flip else char.lower()
        for char, flip in zip(name, flips + [False] * 40, strict=False)
    )


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(
        st.sampled_from(
            ["binary", "json", "truncated", "invalid-utf8", "encoded", "huge", "nested", "html"]
        )
    )
    if kind == "binary":
        return draw(st.binary(max_size=400))
    text = _dump(draw(_aws_documents | _json_values))
    if kind == "json":
        return text.encode("utf-8", errors="surrogatepass")
    if kind == "truncated":
        cut = draw(st.integers(0, max(0, len(text) - 1)))
        return text[:cut].encode("utf-8", errors="surrogatepass")
    if kind == "invalid-utf8":
        data = text.encode("utf-8", errors="surrogatepass")
        at = draw(st.integers(0, len(data)))
        return (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]))
            + data[at:]
        )
    if kind == "encoded":  # json.loads detects UTF-16/32 in bytes
        codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-8-sig", "latin-1"]))
        return text.encode(codec, errors="replace")
    if kind == "huge":
        unit = draw(st.sampled_from([b"x", b"\xff", "é".encode(), b'{"message": "', b"\n\t "]))
        return unit * draw(st.integers(10_000, 300_000))
    if kind == "nested":
        depth = draw(st.integers(1, SAFE_DEPTH))
        inner = _dump({"message": draw(_any_text)})
        return ("[" * depth + inner + "]" * draw(st.integers(0, depth))).encode(
            "utf-8", errors="surrogatepass"
        )
    return b"<html><body><h1>502 Bad Gateway</h1>" + draw(st.binary(max_size=50)) + b"</html>"


@st.composite
def header_sets(draw: st.DrawFn) -> Mapping[str, str]:
    names = st.one_of(
        st.builds(
            _with_random_casing,
            st.sampled_from(_AWS_HEADERS),
            st.lists(st.booleans(), max_size=20),
        ),
        _any_text,
    )
    values = st.one_of(
        _any_text,
        st.sampled_from(_CODES),
        # Long, but below the size at which a Content-Type alone breaks the bound: see
        # test_a_huge_content_type_does_not_make_a_huge_message.
        st.builds(lambda char, count: char * count, st.characters(), st.integers(0, 500)),
    )
    plain = draw(st.dictionaries(names, values, max_size=6))
    wrap = draw(st.sampled_from(["dict", "case-insensitive", "proxy"]))
    if wrap == "case-insensitive":
        return CaseInsensitiveDict(plain)
    if wrap == "proxy":
        return MappingProxyType(plain)
    return plain


def _check(error: object, status: int, headers: Mapping[str, str], attempts: int) -> None:
    assert isinstance(error, ServiceError)
    assert error.status_code == status
    assert error.attempts == attempts
    assert isinstance(error.message, str)
    assert len(error.message) <= MESSAGE_BOUND
    code = error.code
    if code is not None:
        assert code
        assert ":" not in code
        assert "#" not in code
        assert code == code.strip()
    # The class follows the code when it is known, else the status.
    expected = _CLASS_BY_CODE.get(code) if code is not None else None
    if expected is None:
        if status in (401, 403):
            expected = NotAuthorizedError
        elif status == 404:
            expected = ResourceNotFoundError
        elif status == 429:
            expected = TooManyRequestsError
        elif 500 <= status <= 599:
            expected = InternalError
        else:
            expected = ServiceError
    assert type(error) is expected
    text = str(error)
    overhead = len(code or "") + len(error.request_id or "") + len(str(status)) + 120
    assert len(text) <= len(error.message) + overhead
    assert error.message in text
    repr(error)


@given(
    status=st.one_of(st.sampled_from([400, 401, 403, 404, 413, 429, 500, 502, 503]), st.integers()),
    headers=header_sets(),
    body=bodies(),
    attempts=st.integers(1, 10),
)
@example(status=502, headers={"Content-Type": "text/html"}, body=b"", attempts=1)
@example(status=400, headers={}, body=b'{"message": "' + b"y" * 10_000 + b'"}', attempts=1)
@example(status=400, headers={}, body=b'{"message": ' * 50, attempts=1)
@example(status=-1, headers={"x-amzn-ErrorType": ":"}, body=b"\xff" * 100_000, attempts=2)
def test_any_answer_becomes_a_bounded_service_error(
    status: int, headers: Mapping[str, str], body: bytes, attempts: int
) -> None:
    error = error_from_response(status, headers, body, attempts=attempts)
    _check(error, status, headers, attempts)
    # Deterministic: the same answer, the same error.
    again = error_from_response(status, headers, body, attempts=attempts)
    assert (type(again), again.code, again.message) == (type(error), error.code, error.message)


@given(raw=st.one_of(st.none(), _any_text, st.sampled_from(_CODES)))
def test_parse_error_code_never_fails(raw: str | None) -> None:
    code = parse_error_code(raw)
    assert code is None or (code and ":" not in code and "#" not in code)


@given(status=st.integers(200, 299), headers=header_sets(), body=bodies())
@example(status=200, headers={}, body=b'{"Events": {"SyncTrigger": 1}}')
@example(status=200, headers={}, body=b'{"Events": []}')
def test_a_malformed_2xx_body_is_a_service_error_not_a_crash(
    status: int, headers: Mapping[str, str], body: bytes
) -> None:
    refused: ServiceError | None = None
    try:
        events = _parse_events((status, headers, body), ())
    except ServiceError as error:
        refused = error
    if refused is not None:
        assert refused.status_code == status
        assert refused.code is None
        assert len(refused.message) <= MESSAGE_BOUND
    else:
        assert isinstance(events, dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in events.items())


# -- bugs found by fuzzing ----------------------------------------------------------------------
# Each failed before its fix; they stay as regression tests.

_DEEP = [1_000, 100_000]


@pytest.mark.parametrize("depth", _DEEP)
def test_a_deeply_nested_error_body_is_a_service_error(depth: int) -> None:
    error = error_from_response(502, {}, b"[" * depth)
    _check(error, 502, {}, 1)


@pytest.mark.parametrize("depth", _DEEP)
def test_a_deeply_nested_2xx_body_is_a_service_error(depth: int) -> None:
    with pytest.raises(ServiceError):
        _parse_events((200, {}, b'{"Events": ' + b"[" * depth), ())


def test_a_huge_content_type_does_not_make_a_huge_message() -> None:
    # http.client takes header lines up to 64 KiB, so a broken proxy can send this.
    headers: dict[str, Any] = {"Content-Type": "text/" + "x" * 60_000}
    error = error_from_response(502, headers, b"<html>Bad Gateway</html>")
    assert isinstance(error, InternalError)
    assert len(error.message) <= MESSAGE_BOUND


def test_the_bounds_hold_for_the_largest_legitimate_inputs() -> None:
    # A service message at the limit, and a non-JSON body of astral characters (whose
    # repr is longest), each with a long but sane Content-Type.
    longest = json.dumps({"message": "\U0001f600" * (MAX_SERVICE_MESSAGE_CHARS * 2)}).encode()
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ValidationException"}
    error = error_from_response(400, headers, longest)
    assert isinstance(error, InvalidParameterError)
    assert len(error.message) == MESSAGE_BOUND
    astral = ("\U0010fffe" * 5000).encode("utf-8", errors="surrogatepass")
    error = error_from_response(500, {"Content-Type": "a/" + "b" * 200}, astral)
    assert len(error.message) <= MESSAGE_BOUND


@pytest.mark.parametrize("status", [200, 400, 503])
def test_the_client_turns_a_deeply_nested_answer_into_a_service_error(status: int) -> None:
    url = f"https://cognito-sync.test/identitypools/{quote(POOL, safe='')}/events"
    with (
        requests_mock.Mocker() as mocked,
        CognitoEventsClient(
            region="us-east-1",
            endpoint_url="https://cognito-sync.test",
            credentials=Credentials("AKIDFUZZ", "fuzz/Secret+Key/ForTheErrorParser01"),
            environ=ISOLATED_ENVIRON,
            retry=RetryPolicy(max_attempts=1),
        ) as client,
    ):
        mocked.get(url, status_code=status, content=b"[" * 5_000)
        with pytest.raises(ServiceError):
            client.get_cognito_events(POOL)
