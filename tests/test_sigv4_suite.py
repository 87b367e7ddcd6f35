"""The AWS SigV4 test vectors (aws-c-auth ``v4`` suite), header-signing mode.

The vectors are vendored in ``tests/sigv4-test-suite/v4`` with their LICENSE and NOTICE
(see that folder's README.md), so a clone and the sdist run them. Only the ``header-*``
expected files are used. A missing vector folder fails the run; it never skips.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from cognito_events.sigv4 import SignedRequest, sign_request

SUITE_DIR = Path(__file__).resolve().parent / "sigv4-test-suite" / "v4"
EXPECTED_CASE_COUNT = 38

CASES = (
    sorted(p.name for p in SUITE_DIR.iterdir() if (p / "request.txt").is_file())
    if SUITE_DIR.is_dir()
    else []
)


@dataclass(frozen=True)
class _Creds:
    access_key_id: str
    secret_access_key: str
    session_token: str | None


@dataclass(frozen=True)
class _HttpText:
    method: str
    uri: str
    headers: tuple[tuple[str, str], ...]
    body: str


def _read_text(path: Path) -> str:
    # Raw UTF-8 (get-utf8 has U+1234 in the request line); drop any CR a checkout added.
    return path.read_bytes().decode("utf-8").replace("\r", "")


def _parse_http(text: str) -> _HttpText:
    """Parse the suite's HTTP/1.1 text: request line, headers (with obs-fold), body."""
    head, _, body = text.partition("\n\n")
    lines = [line for line in head.split("\n") if line]
    method, _, rest = lines[0].partition(" ")
    uri, _, _version = rest.rpartition(" ")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[0] in " \t":  # obs-fold: continues the previous header's value
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    return _HttpText(method=method, uri=uri, headers=tuple(headers), body=body)


def _expected(case: str, name: str) -> str:
    return _read_text(SUITE_DIR / case / name)


@functools.cache
def _request(case: str) -> _HttpText:
    return _parse_http(_read_text(SUITE_DIR / case / "request.txt"))


@functools.cache
def _signed(case: str) -> SignedRequest:
    context = json.loads(_read_text(SUITE_DIR / case / "context.json"))
    request = _request(case)
    host = next(value for name, value in request.headers if name.lower() == "host")
    creds = context["credentials"]
    return sign_request(
        method=request.method,
        url=f"http://{host}{request.uri}",
        headers=request.headers,
        body=request.body.encode("utf-8") or None,
        credentials=_Creds(creds["access_key_id"], creds["secret_access_key"], creds.get("token")),
        region=context["region"],
        service=context["service"],
        timestamp=datetime.fromisoformat(context["timestamp"]),
        normalize_path=context["normalize"],
        content_sha256_header=context["sign_body"],
        omit_session_token=context.get("omit_session_token", False),
    )


def test_all_cases_present() -> None:
    assert len(CASES) == EXPECTED_CASE_COUNT, CASES


@pytest.mark.parametrize("case", CASES)
def test_canonical_request(case: str) -> None:
    assert _signed(case).canonical_request == _expected(case, "header-canonical-request.txt")


@pytest.mark.parametrize("case", CASES)
def test_string_to_sign(case: str) -> None:
    assert _signed(case).string_to_sign == _expected(case, "header-string-to-sign.txt")


@pytest.mark.parametrize("case", CASES)
def test_signature(case: str) -> None:
    assert _signed(case).signature == _expected(case, "header-signature.txt").strip()


@pytest.mark.parametrize("case", CASES)
def test_signed_request_headers(case: str) -> None:
    expected = _parse_http(_expected(case, "header-signed-request.txt"))
    got = _signed(case).headers

    def multiset(headers: tuple[tuple[str, str], ...]) -> Counter[tuple[str, str]]:
        return Counter((name.lower(), value) for name, value in headers)

    # The headers the signer added, and everything sent, both match the expected request.
    added = multiset(got) - multiset(_request(case).headers)
    expected_added = multiset(expected.headers) - multiset(_request(case).headers)
    assert added == expected_added
    assert multiset(got) == multiset(expected.headers)
    assert got[-1][0] == "Authorization"
