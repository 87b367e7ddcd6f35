"""Unit tests of cognito_events.sigv4: each stage, the path rules, inputs, cache, parsing."""

from __future__ import annotations

import ast
import copy
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cognito_events import sigv4
from cognito_events.sigv4 import (
    ALGORITHM,
    EMPTY_SHA256,
    ParsedAuthorization,
    SignedRequest,
    authorization_header,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_uri,
    credential_scope,
    format_amz_date,
    parse_authorization,
    payload_hash,
    sign_request,
    signature,
    signing_key,
    string_to_sign,
)

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLE+token/with==padding"
POOL = "us-east-1%3A0f7e2b2c-1111-2222-3333-444455556666"
COGNITO_URL = f"https://cognito-sync.us-east-1.amazonaws.com/identitypools/{POOL}/events"
TS = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
BODY = b'{"Events": {"SyncTrigger": "arn:aws:lambda:us-east-1:123456789012:function:f"}}'


@dataclass(frozen=True)
class Creds:
    access_key_id: str = AKID
    secret_access_key: str = SECRET
    session_token: str | None = None


def _sign(**overrides: object) -> SignedRequest:
    kwargs: dict[str, object] = {
        "method": "POST",
        "url": COGNITO_URL,
        "headers": {"Content-Type": "application/json"},
        "body": BODY,
        "credentials": Creds(),
        "region": "us-east-1",
        "service": "cognito-sync",
        "timestamp": TS,
    }
    kwargs.update(overrides)
    return sign_request(**kwargs)  # type: ignore[arg-type]


def _header(signed: SignedRequest, name: str) -> list[str]:
    return [value for key, value in signed.headers if key.lower() == name.lower()]


# --------------------------------------------------------------------------- module hygiene


def test_public_names_exported_and_documented() -> None:
    for name in sigv4.__all__:
        obj = getattr(sigv4, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), name


def test_module_imports_only_stdlib_and_attrs() -> None:
    allowed = {
        "__future__",
        "functools",
        "hashlib",
        "hmac",
        "collections.abc",
        "datetime",
        "typing",
        "urllib.parse",
        "attrs",
    }
    tree = ast.parse(Path(sigv4.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports (would risk cycles)"
            imported.add(node.module or "")
    assert imported <= allowed


# --------------------------------------------------------------------------- dates


def test_format_amz_date_utc() -> None:
    assert format_amz_date(TS) == "20150830T123600Z"
    assert format_amz_date(datetime(2001, 2, 3, 4, 5, 6, 999999, tzinfo=UTC)) == "20010203T040506Z"


def test_format_amz_date_converts_to_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    assert format_amz_date(datetime(2015, 8, 31, 0, 10, tzinfo=ist)) == "20150830T184000Z"


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_amz_date(datetime(2015, 8, 30, 12, 36))
    with pytest.raises(ValueError, match="timezone-aware"):
        _sign(timestamp=datetime(2015, 8, 30, 12, 36))


def test_non_utc_timestamp_signs_like_its_utc_equivalent() -> None:
    minus7 = timezone(timedelta(hours=-7))
    local = TS.astimezone(minus7)
    assert local.hour == 5
    assert _sign(timestamp=local) == _sign(timestamp=TS)


def test_scope_date_follows_utc_across_midnight() -> None:
    plus2 = timezone(timedelta(hours=2))
    signed = _sign(timestamp=datetime(2015, 8, 31, 1, 0, tzinfo=plus2))
    assert _header(signed, "X-Amz-Date") == ["20150830T230000Z"]
    assert "/20150830/us-east-1/cognito-sync/aws4_request" in signed.authorization


# --------------------------------------------------------------------------- canonical URI


def test_cognito_pool_id_is_encoded_twice() -> None:
    expected = "/identitypools/us-east-1%253A0f7e2b2c-1111-2222-3333-444455556666/events"
    assert canonical_uri(f"/identitypools/{POOL}/events") == expected
    signed = _sign()
    assert signed.canonical_request.split("\n")[1] == expected
    get = _sign(method="GET", headers={}, body=None)
    assert get.canonical_request.split("\n")[:3] == ["GET", expected, ""]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/example space/", "/example%20space/"),
        ("/\u1234", "/%E1%88%B4"),
        ("/%E1%88%B4", "/%25E1%2588%25B4"),
        ("/a:b+c=d@e!f", "/a%3Ab%2Bc%3Dd%40e%21f"),
        ("/-._~AZaz09", "/-._~AZaz09"),
        ("/caf\u00e9/%20", "/caf%C3%A9/%2520"),
    ],
)
def test_canonical_uri_encoding(path: str, expected: str) -> None:
    assert canonical_uri(path) == expected
    assert canonical_uri(path, normalize=False) == expected


@pytest.mark.parametrize(
    ("path", "normalized", "unnormalized"),
    [
        ("/example/..", "/", "/example/.."),
        ("/example1/example2/../..", "/", "/example1/example2/../.."),
        ("/./", "/", "/./"),
        ("//", "/", "//"),
        ("/./example", "/example", "/./example"),
        ("//example//", "/example/", "//example//"),
        ("/a/b/../c/./d/", "/a/c/d/", "/a/b/../c/./d/"),
        ("/../../a", "/a", "/../../a"),
        ("/.hidden/file", "/.hidden/file", "/.hidden/file"),
        ("/a/b/", "/a/b/", "/a/b/"),
        ("/a%2F../b", "/a%252F../b", "/a%252F../b"),  # %2F is not a separator
        ("/a/%2E%2E/b", "/a/%252E%252E/b", "/a/%252E%252E/b"),  # nor is %2E a dot
    ],
)
def test_canonical_uri_normalization(path: str, normalized: str, unnormalized: str) -> None:
    assert canonical_uri(path, normalize=True) == normalized
    assert canonical_uri(path, normalize=False) == unnormalized


def test_sign_request_normalize_flag() -> None:
    url = "https://example.amazonaws.com//a/./b/../c/"
    assert _sign(url=url).canonical_request.split("\n")[1] == "/a/c/"
    assert _sign(url=url, normalize_path=False).canonical_request.split("\n")[1] == "//a/./b/../c/"


# --------------------------------------------------------------------------- query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),
        ("Param2=value2&Param1=value1", "Param1=value1&Param2=value2"),
        ("b=2&a", "a=&b=2"),
        ("a=", "a="),
        ("a=1&&b=2&", "a=1&b=2"),
        ("k=a b", "k=a%20b"),
        ("k=a+b", "k=a%2Bb"),
        ("k=a%20b", "k=a%20b"),
        ("%e1%88%b4=x", "%E1%88%B4=x"),
        ("\u1234=bar", "%E1%88%B4=bar"),
        ("k=%7e%2d", "k=~-"),
        ("k=x=y", "k=x%3Dy"),
        ("a=2&a=1&A=3", "A=3&a=1&a=2"),
        (
            "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3",
        ),
        ("k=%FF", "k=%FF"),
    ],
)
def test_canonical_query(query: str, expected: str) -> None:
    assert canonical_query(query) == expected


def test_query_and_fragment_in_sign_request() -> None:
    signed = _sign(url="https://example.amazonaws.com/p?b=2&a=1#frag")
    assert signed.canonical_request.split("\n")[1:3] == ["/p", "a=1&b=2"]


# --------------------------------------------------------------------------- headers


def test_canonical_headers_trim_collapse_and_repeat_order() -> None:
    block, signed = canonical_headers(
        [
            ("My-Header2", '  "a   b \t  c"  '),
            ("Host", "example.amazonaws.com"),
            ("my-header1", "value2"),
            ("MY-HEADER1", " value2 "),
            ("My-Header1", "value1"),
        ]
    )
    assert block == (
        'host:example.amazonaws.com\nmy-header1:value2,value2,value1\nmy-header2:"a b c"\n'
    )
    assert signed == "host;my-header1;my-header2"


def test_every_given_header_is_signed() -> None:
    signed = _sign(headers=[("User-Agent", "x/1"), ("Content-Type", "application/json")])
    assert signed.signed_headers == "content-type;host;user-agent;x-amz-date"


def test_header_order_in_result() -> None:
    signed = _sign(
        headers=[("B", "2"), ("a", "1")],
        credentials=Creds(session_token=TOKEN),
        content_sha256_header=True,
    )
    assert [name for name, _ in signed.headers] == [
        "B",
        "a",
        "Host",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "x-amz-content-sha256",
        "Authorization",
    ]
    assert signed.headers[-1] == ("Authorization", signed.authorization)


def test_repeated_headers_survive() -> None:
    given = [("X-Thing", "one"), ("Content-Type", "application/json"), ("x-thing", "two")]
    signed = _sign(headers=given)
    assert list(signed.headers[:3]) == given
    assert "x-thing:one,two\n" in signed.canonical_request


@pytest.mark.parametrize(
    "name", ["X-Amz-Date", "x-amz-date", "AUTHORIZATION", "x-amz-security-token"]
)
@pytest.mark.parametrize("as_list", [False, True])
def test_signer_headers_given_by_caller_rejected(name: str, as_list: bool) -> None:
    headers = {"Content-Type": "application/json", name: "x"}
    with pytest.raises(ValueError, match="added by the signer"):
        _sign(headers=list(headers.items()) if as_list else headers)


def test_content_sha256_header_given_twice_rejected() -> None:
    headers = {"X-Amz-Content-SHA256": EMPTY_SHA256}
    with pytest.raises(ValueError, match="x-amz-content-sha256"):
        _sign(headers=headers, content_sha256_header=True)
    # Without the option it is just another header to sign.
    assert "x-amz-content-sha256" in _sign(headers=headers).signed_headers.split(";")


def test_input_headers_not_mutated() -> None:
    as_dict = {"Content-Type": "application/json", "X-Custom": " spaced  value "}
    as_list = [("Content-Type", "application/json"), ("X-Custom", "a"), ("X-Custom", "b")]
    dict_before, list_before = copy.deepcopy(as_dict), copy.deepcopy(as_list)
    for headers in (as_dict, as_list):
        signed = _sign(headers=headers, credentials=Creds(session_token=TOKEN))
        assert len(signed.headers) == len(headers) + 4  # Host, date, token, Authorization
    assert as_dict == dict_before
    assert list(as_dict) == list(dict_before)
    assert as_list == list_before


# --------------------------------------------------------------------------- host


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://cognito-sync.us-east-1.amazonaws.com/p", "cognito-sync.us-east-1.amazonaws.com"),
        (
            "https://cognito-sync.us-east-1.amazonaws.com:443/p",
            "cognito-sync.us-east-1.amazonaws.com",
        ),
        ("http://localhost:80/p", "localhost"),
        ("http://127.0.0.1:8000/p", "127.0.0.1:8000"),
        ("https://127.0.0.1:8443/p", "127.0.0.1:8443"),
        ("http://example.com:443/p", "example.com:443"),
        ("https://example.com:80/p", "example.com:80"),
        ("https://Example.COM/p", "example.com"),
        ("https://user:pw@example.com/p", "example.com"),
        ("http://[::1]:8000/p", "[::1]:8000"),
        ("http://[::1]:80/p", "[::1]"),
    ],
)
def test_host_derived_from_url(url: str, host: str) -> None:
    signed = _sign(url=url)
    assert _header(signed, "Host") == [host]
    assert f"\nhost:{host}\n" in signed.canonical_request


def test_given_host_header_is_used_not_added() -> None:
    signed = _sign(url="http://127.0.0.1:8000/p", headers={"host": "example.amazonaws.com"})
    assert _header(signed, "Host") == ["example.amazonaws.com"]
    assert "\nhost:example.amazonaws.com\n" in signed.canonical_request


def test_url_without_host_rejected() -> None:
    with pytest.raises(ValueError, match="no host"):
        _sign(url="/relative/path")


# --------------------------------------------------------------------------- token and body hash


def test_session_token_added_and_signed() -> None:
    signed = _sign(credentials=Creds(session_token=TOKEN))
    assert _header(signed, "X-Amz-Security-Token") == [TOKEN]
    assert signed.signed_headers == "content-type;host;x-amz-date;x-amz-security-token"
    assert f"\nx-amz-security-token:{TOKEN}\n" in signed.canonical_request


def test_no_token_no_header() -> None:
    signed = _sign()
    assert _header(signed, "X-Amz-Security-Token") == []
    assert "x-amz-security-token" not in signed.canonical_request


def test_omit_session_token_sends_but_does_not_sign() -> None:
    with_token = _sign(credentials=Creds(session_token=TOKEN), omit_session_token=True)
    assert _header(with_token, "X-Amz-Security-Token") == [TOKEN]
    assert "x-amz-security-token" not in with_token.signed_headers
    assert TOKEN not in with_token.canonical_request
    assert with_token.signature == _sign().signature


def test_content_sha256_header() -> None:
    signed = _sign(content_sha256_header=True)
    digest = hashlib.sha256(BODY).hexdigest()
    assert _header(signed, "x-amz-content-sha256") == [digest]
    assert "x-amz-content-sha256" in signed.signed_headers.split(";")
    assert signed.canonical_request.endswith("\n" + digest)


def test_payload_hash() -> None:
    assert payload_hash(None) == payload_hash(b"") == payload_hash("") == EMPTY_SHA256
    assert hashlib.sha256(b"").hexdigest() == EMPTY_SHA256
    assert payload_hash("\u1234") == hashlib.sha256("\u1234".encode()).hexdigest()
    assert _sign(body=BODY.decode()) == _sign(body=BODY)
    assert _sign(method="GET", body=None).canonical_request.endswith("\n" + EMPTY_SHA256)


def test_method_is_uppercased() -> None:
    assert _sign(method="post") == _sign(method="POST")


# --------------------------------------------------------------------------- stages compose


def test_stages_compose_to_sign_request() -> None:
    signed = _sign(credentials=Creds(session_token=TOKEN))
    sent = [(n, v) for n, v in signed.headers if n != "Authorization"]
    creq = canonical_request(
        method="POST",
        path=f"/identitypools/{POOL}/events",
        query="",
        headers=sent,
        payload_hash=payload_hash(BODY),
    )
    assert creq == signed.canonical_request
    scope = credential_scope(date="20150830", region="us-east-1", service="cognito-sync")
    assert scope == "20150830/us-east-1/cognito-sync/aws4_request"
    sts = string_to_sign(amz_date="20150830T123600Z", scope=scope, canonical_request=creq)
    assert sts == signed.string_to_sign
    assert sts == (
        f"{ALGORITHM}\n20150830T123600Z\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"
    )
    key = signing_key(SECRET, "20150830", "us-east-1", "cognito-sync")
    sig = signature(key=key, string_to_sign=sts)
    assert sig == signed.signature
    assert len(sig) == 64
    assert sig == sig.lower()
    auth = authorization_header(
        access_key_id=AKID, scope=scope, signed_headers=signed.signed_headers, signature=sig
    )
    assert auth == signed.authorization
    assert auth == (
        f"AWS4-HMAC-SHA256 Credential={AKID}/{scope}, "
        f"SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature={sig}"
    )


@pytest.mark.parametrize("bad", ["", "us/east"])
def test_credential_scope_rejects_bad_parts(bad: str) -> None:
    with pytest.raises(ValueError, match="region"):
        credential_scope(date="20150830", region=bad, service="s")
    with pytest.raises(ValueError, match="service"):
        credential_scope(date="20150830", region="us-east-1", service=bad)


# --------------------------------------------------------------------------- signing key


def test_signing_key_matches_aws_documentation_example() -> None:
    # "Derive a signing key" example from the AWS SigV4 documentation.
    key = signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_signing_key_is_the_hmac_chain() -> None:
    k = ("AWS4" + SECRET).encode()
    for part in ("20150830", "eu-west-1", "cognito-sync", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    assert signing_key(SECRET, "20150830", "eu-west-1", "cognito-sync") == k


def test_signing_key_cache_is_hit() -> None:
    signing_key.cache_clear()
    first = _sign()
    info = signing_key.cache_info()
    assert (info.hits, info.misses) == (0, 1)
    second = _sign(headers={"Content-Type": "application/json", "X-Other": "1"})
    info = signing_key.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert first.signature != second.signature
    _sign(region="eu-west-1")
    assert signing_key.cache_info().misses == 2


def test_signing_key_cache_is_bounded() -> None:
    signing_key.cache_clear()
    maxsize = signing_key.cache_info().maxsize
    assert maxsize is not None
    assert 1 <= maxsize <= 1024
    for i in range(maxsize + 40):
        signing_key(SECRET, f"2015{i % 12 + 1:02d}{i % 28 + 1:02d}", f"r-{i}", "s")
    assert signing_key.cache_info().currsize == maxsize
    signing_key.cache_clear()


# --------------------------------------------------------------------------- repr


def test_repr_hides_secrets() -> None:
    signed = _sign(credentials=Creds(session_token=TOKEN))
    text = repr(signed)
    assert text == f"SignedRequest(signed_headers={signed.signed_headers!r})"
    for secret in (signed.signature, SECRET, TOKEN, signed.authorization):
        assert secret not in text
    assert signed.signature not in repr(parse_authorization(signed.authorization))


# --------------------------------------------------------------------------- parse_authorization


def test_parse_authorization_round_trip() -> None:
    signed = _sign(credentials=Creds(session_token=TOKEN))
    parsed = parse_authorization(signed.authorization)
    assert parsed == ParsedAuthorization(
        algorithm=ALGORITHM,
        access_key_id=AKID,
        date="20150830",
        region="us-east-1",
        service="cognito-sync",
        signed_headers=("content-type", "host", "x-amz-date", "x-amz-security-token"),
        signature=signed.signature,
    )
    assert parsed.scope == "20150830/us-east-1/cognito-sync/aws4_request"
    assert ";".join(parsed.signed_headers) == signed.signed_headers


def test_parse_authorization_tolerates_spacing() -> None:
    sig = "a" * 64
    value = (
        f"  {ALGORITHM} Credential=AK/20150830/us-east-1/svc/aws4_request,"
        f"SignedHeaders=host;x-amz-date ,  Signature={sig} "
    )
    parsed = parse_authorization(value)
    assert parsed.signed_headers == ("host", "x-amz-date")
    assert parsed.signature == sig


_GOOD_CRED = "AK/20150830/us-east-1/svc/aws4_request"
_GOOD_SIG = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "expected"),
        (ALGORITHM, "expected"),
        (
            f"AWS4-HMAC-SHA1 Credential={_GOOD_CRED}, SignedHeaders=host, Signature={_GOOD_SIG}",
            "unsupported algorithm",
        ),
        (f"AWS AK:{_GOOD_SIG}", "unsupported algorithm"),
        (f"{ALGORITHM} SignedHeaders=host, Signature={_GOOD_SIG}", "missing or empty Credential"),
        (f"{ALGORITHM} Credential={_GOOD_CRED}, Signature={_GOOD_SIG}", "missing or empty SignedH"),
        (f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host", "missing or empty Signature"),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host, Signature=",
            "missing or empty Signature",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED} SignedHeaders=host Signature={_GOOD_SIG}",
            "not of the form key=value|missing",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host, Signature={_GOOD_SIG}, X=1",
            "unknown component",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, Credential={_GOOD_CRED}, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "more than once",
        ),
        (
            f"{ALGORITHM} Credential=AK/20150830/us-east-1/svc, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "Credential must be",
        ),
        (
            f"{ALGORITHM} Credential=AK/20150830/us-east-1/svc/aws4_request/x, SignedHeaders=host,"
            f" Signature={_GOOD_SIG}",
            "Credential must be",
        ),
        (
            f"{ALGORITHM} Credential=/20150830/us-east-1/svc/aws4_request, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "empty access key",
        ),
        (
            f"{ALGORITHM} Credential=AK/2015083/us-east-1/svc/aws4_request, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "not YYYYMMDD",
        ),
        (
            f"{ALGORITHM} Credential=AK/20151340/us-east-1/svc/aws4_request, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "not a valid date",
        ),
        (
            f"{ALGORITHM} Credential=AK/20150830//svc/aws4_request, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "empty region",
        ),
        (
            f"{ALGORITHM} Credential=AK/20150830/us-east-1//aws4_request, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "empty service",
        ),
        (
            f"{ALGORITHM} Credential=AK/20150830/us-east-1/svc/aws5_request, SignedHeaders=host, "
            f"Signature={_GOOD_SIG}",
            "must end with",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host;;x-amz-date, "
            f"Signature={_GOOD_SIG}",
            "SignedHeaders entry",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=Host;x-amz-date, "
            f"Signature={_GOOD_SIG}",
            "SignedHeaders entry",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host, Signature={_GOOD_SIG[:-1]}",
            "64 lowercase hex",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host, "
            f"Signature={_GOOD_SIG.upper()}",
            "64 lowercase hex",
        ),
        (
            f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host, Signature={'g' * 64}",
            "64 lowercase hex",
        ),
    ],
)
def test_parse_authorization_malformed(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_authorization(value)


def test_parse_authorization_valid_baseline() -> None:
    # The malformed cases above are each one edit away from this valid header.
    value = f"{ALGORITHM} Credential={_GOOD_CRED}, SignedHeaders=host, Signature={_GOOD_SIG}"
    assert parse_authorization(value).signed_headers == ("host",)


def test_a_template_reused_signs_like_fresh_requests() -> None:
    """Layouts cached per (token, content-sha) variant must not leak between variants."""
    from cognito_events.sigv4 import RequestTemplate

    url = "https://cognito-sync.us-east-1.amazonaws.com/identitypools/us-east-1%3Aabc/events"
    headers = [("Content-Type", "application/json"), ("X-Amz-Meta", " a  b "), ("zeta", "z")]
    template = RequestTemplate(method="post", url=url, headers=headers)
    with_token = Creds(session_token="tok en")
    without = Creds()
    for minute, creds, sha, body in [
        (0, with_token, False, b"{}"),
        (1, without, False, b"{}"),
        (2, with_token, True, b'{"a":1}'),
        (3, without, True, None),
        (4, with_token, False, "text"),
    ]:
        when = datetime(2026, 1, 2, 3, minute, tzinfo=UTC)
        reused = template.sign(
            body=body,
            credentials=creds,
            region="us-east-1",
            service="cognito-sync",
            timestamp=when,
            content_sha256_header=sha,
        )
        fresh = sign_request(
            method="POST",
            url=url,
            headers=headers,
            body=body,
            credentials=creds,
            region="us-east-1",
            service="cognito-sync",
            timestamp=when,
            content_sha256_header=sha,
        )
        assert reused == fresh
        assert ("x-amz-security-token" in reused.signed_headers) is (
            creds.session_token is not None
        )


def _sign_set(template: sigv4.RequestTemplate | None, body: object) -> SignedRequest:
    """Sign the Set request shape with a template, or with sign_request when None."""
    if template is not None:
        return template.sign(
            body=body,  # type: ignore[arg-type]
            credentials=Creds(),
            region="us-east-1",
            service="cognito-sync",
            timestamp=TS,
        )
    return sign_request(
        method="POST",
        url=COGNITO_URL,
        headers={"Content-Type": "x"},
        body=body,  # type: ignore[arg-type]
        credentials=Creds(),
        region="us-east-1",
        service="cognito-sync",
        timestamp=TS,
    )


def test_a_template_signs_every_request_afresh() -> None:
    """No signature is reused: equal inputs give an equal, newly computed result."""
    template = sigv4.RequestTemplate(method="POST", url=COGNITO_URL, headers={"Content-Type": "x"})
    first = _sign_set(template, BODY)
    second = _sign_set(template, bytes(BODY))
    assert second == first
    assert second is not first
    changed = _sign_set(template, BODY + b" ")
    assert changed.signature != first.signature
    assert changed == _sign_set(None, BODY + b" ")


@pytest.mark.parametrize("wrap", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_a_mutable_body_is_refused_clearly(wrap: type[bytearray] | type[memoryview]) -> None:
    """A buffer changed in place after signing would be sent with a stale signature."""
    buffer = bytearray(BODY)
    template = sigv4.RequestTemplate(method="POST", url=COGNITO_URL, headers={"Content-Type": "x"})
    before = _sign_set(template, bytes(buffer))
    buffer[0:1] = b"["  # changed in place
    for signer in (template, None):
        with pytest.raises(TypeError, match=r"bytes\(body\)") as caught:
            _sign_set(signer, wrap(buffer))
        assert wrap.__name__ in str(caught.value)
    after = _sign_set(template, bytes(buffer))
    assert after.signature != before.signature  # a snapshot of the new content signs afresh
    assert after == _sign_set(None, bytes(buffer))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("Content-Type", "application/json")], id="fixed-headers-sort-first"),
        pytest.param(
            [("X-Amz-Target", "Svc.Op"), ("Content-Type", "application/x-amz-json-1.1")],
            id="a-fixed-header-sorts-after-the-signer-s",
        ),
        pytest.param([("zz-last", "1"), ("aa-first", " a  b ")], id="both-sides"),
    ],
)
@pytest.mark.parametrize("token", [None, "IQoJb3JpZ2luX2VjEAoaCXVzLWVhc3QtMSJHMEUCIQ token"])
@pytest.mark.parametrize("sha256_header", [False, True])
def test_a_template_s_canonical_request_is_the_general_one(
    headers: list[tuple[str, str]], token: str | None, sha256_header: bool
) -> None:
    """However the template renders its fixed headers (once, or merged per call), the
    canonical request is the one built from every header at once."""
    url = "https://cognito-sync.us-east-1.amazonaws.com/identitypools/p%3Aq/events?b=2&a=1"
    credentials = Creds(session_token=token)
    when = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
    body = b'{"Events": {}}'
    signed = sigv4.RequestTemplate(method="POST", url=url, headers=headers).sign(
        body=body,
        credentials=credentials,
        region="us-east-1",
        service="cognito-sync",
        timestamp=when,
        content_sha256_header=sha256_header,
    )
    every = [*headers, ("Host", "cognito-sync.us-east-1.amazonaws.com")]
    every.append(("X-Amz-Date", "20261202T073000Z"))
    if token:
        every.append(("X-Amz-Security-Token", token))
    if sha256_header:
        every.append(("x-amz-content-sha256", sigv4.payload_hash(body)))
    expected = sigv4.canonical_request(
        method="POST",
        path="/identitypools/p%3Aq/events",
        query="b=2&a=1",
        headers=every,
        payload_hash=sigv4.payload_hash(body),
    )
    assert signed.canonical_request == expected
