"""AWS Signature Version 4 (header mode, non-S3 rules) as pure functions.

Nothing here does I/O or reads the clock: the caller passes the signing time.
Every stage of the algorithm is a public function so that it can be tested on
its own, and so that a local emulator can verify incoming requests with
:func:`parse_authorization` and the same building blocks.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final, Protocol
from urllib.parse import unquote_to_bytes, urlsplit

import attrs

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "ParsedAuthorization",
    "RequestTemplate",
    "SignedRequest",
    "SigningCredentials",
    "authorization_header",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "credential_scope",
    "format_amz_date",
    "parse_authorization",
    "payload_hash",
    "sign_request",
    "signature",
    "signing_key",
    "string_to_sign",
]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
"""The algorithm name used in the string to sign and the Authorization header."""

EMPTY_SHA256: Final = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
"""Hex SHA-256 of the empty byte string (the payload hash of a request with no body)."""

_TERMINATOR: Final = "aws4_request"
_UTC: Final = UTC
_hmac_digest = hmac.digest  # one C call: no Python-level HMAC object per signature
#: An empty SHA-256 state; ``copy()`` of it starts a hash without looking the algorithm
#: up again (which, with OpenSSL 3, costs more than hashing a canonical request).
_SHA256_START: Final = hashlib.sha256()

# Bytes that URI encoding leaves alone (RFC 3986 "unreserved").
_UNRESERVED: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
# If deleting these bytes from a path leaves nothing, the only thing to encode is "%".
_PATH_SAFE_OR_PERCENT: Final = _UNRESERVED + b"/%"

# str.translate tables over code points 0-255: text is first turned into its UTF-8
# bytes seen as Latin-1, so each code point below is one byte of the UTF-8 form.
_QUERY_TABLE: Final[dict[int, str]] = {i: f"%{i:02X}" for i in range(256) if i not in _UNRESERVED}
_PATH_TABLE: Final[dict[int, str]] = {i: s for i, s in _QUERY_TABLE.items() if i != 0x2F}

# Header names the signer adds itself; callers must not pass them.
_RESERVED_HEADERS: Final = frozenset({"x-amz-date", "authorization", "x-amz-security-token"})
#: The first, in canonical order, of the headers the signer itself may add.
_FIRST_SIGNER_HEADER: Final = "x-amz-content-sha256"
_DEFAULT_PORT_SUFFIX: Final = {"https": ":443", "http": ":80"}


class SigningCredentials(Protocol):
    """What the signer needs from a credentials object (duck-typed)."""

    @property
    def access_key_id(self) -> str:
        """The access key id (public part of the key pair)."""
        ...

    @property
    def secret_access_key(self) -> str:
        """The secret access key."""
        ...

    @property
    def session_token(self) -> str | None:
        """The session token of temporary credentials, or None."""


@attrs.frozen
class SignedRequest:
    """The result of :func:`sign_request`: headers to send plus every signing stage.

    ``repr()`` shows only the signed header names; the rest may carry secrets.
    """

    headers: tuple[tuple[str, str], ...] = attrs.field(repr=False)
    canonical_request: str = attrs.field(repr=False)
    string_to_sign: str = attrs.field(repr=False)
    signature: str = attrs.field(repr=False)
    signed_headers: str
    authorization: str = attrs.field(repr=False)


@attrs.frozen
class ParsedAuthorization:
    """The parts of a SigV4 ``Authorization`` header value."""

    algorithm: str
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str = attrs.field(repr=False)

    @property
    def scope(self) -> str:
        """The credential scope ``date/region/service/aws4_request``."""
        return f"{self.date}/{self.region}/{self.service}/{_TERMINATOR}"


# --------------------------------------------------------------------------- stages


def format_amz_date(timestamp: datetime) -> str:
    """Format an aware datetime as the UTC ``X-Amz-Date`` value ``YYYYMMDDTHHMMSSZ``.

    Raises ValueError for a naive datetime.
    """
    tz = timestamp.tzinfo
    if tz is not _UTC:
        if tz is None or timestamp.utcoffset() is None:
            raise ValueError("timestamp must be a timezone-aware datetime (got a naive one)")
        timestamp = timestamp.astimezone(_UTC)
    return "%04d%02d%02dT%02d%02d%02dZ" % (  # noqa: UP031 - measurably faster than f-strings
        timestamp.year,
        timestamp.month,
        timestamp.day,
        timestamp.hour,
        timestamp.minute,
        timestamp.second,
    )


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if out:
                out.pop()
        elif segment and segment != ".":
            out.append(segment)
    if not out:
        return "/"
    joined = "/" + "/".join(out)
    return joined + "/" if path.endswith("/") else joined


def canonical_uri(path: str, *, normalize: bool = True) -> str:
    """Canonical URI of a (wire-encoded) URL path: optionally drop ``.``, ``..`` and
    empty segments, then URI-encode it once more (``%`` becomes ``%25``).
    """
    if not path:
        return "/"
    if normalize and ("//" in path or "/." in path or path[0] != "/"):
        path = _remove_dot_segments(path)
    if path.isascii():
        if not path.encode("ascii").translate(None, _PATH_SAFE_OR_PERCENT):
            return path.replace("%", "%25") if "%" in path else path
        return path.translate(_PATH_TABLE)
    return path.encode("utf-8").decode("latin-1").translate(_PATH_TABLE)


def _encode_query_part(part: str) -> str:
    return unquote_to_bytes(part).decode("latin-1").translate(_QUERY_TABLE)


def canonical_query(query: str) -> str:
    """Canonical query string: decode each ``key=value``, re-encode it, sort, join with ``&``.

    A part without ``=`` gets an empty value; empty parts (``a=1&&b=2``) are skipped.
    """
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((_encode_query_part(key), _encode_query_part(value)))
    pairs.sort()
    return "&".join([f"{key}={value}" for key, value in pairs])


def _group_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    grouped: dict[str, str] = {}
    for name, value in headers:
        lname = name.lower()
        canon = " ".join(value.split())
        previous = grouped.get(lname)
        grouped[lname] = canon if previous is None else f"{previous},{canon}"
    return grouped


def _render_headers(grouped: dict[str, str]) -> tuple[str, str]:
    names = sorted(grouped)
    block = "".join([f"{name}:{grouped[name]}\n" for name in names])
    return block, ";".join(names)


def canonical_headers(headers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """Return ``(canonical headers block, signed headers)`` for the headers to sign.

    Names are lowercased and sorted; values trimmed with inner whitespace runs collapsed;
    repeated names are joined with ``,`` in arrival order. The block ends with ``\\n``.
    """
    return _render_headers(_group_headers(headers))


def payload_hash(body: bytes | str | None) -> str:
    """Hex SHA-256 of the body (str is encoded as UTF-8; None means empty)."""
    if not body:
        return EMPTY_SHA256
    if isinstance(body, str):
        body = body.encode("utf-8")
    state = _SHA256_START.copy()
    state.update(body)
    return state.hexdigest()


def canonical_request(
    *,
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    payload_hash: str,
    normalize_path: bool = True,
) -> str:
    """Build the canonical request from the wire path and query and the headers to sign.

    Every header given is signed; ``payload_hash`` is the hex SHA-256 of the body.
    """
    block, signed = canonical_headers(headers)
    return (
        f"{method.upper()}\n{canonical_uri(path, normalize=normalize_path)}\n"
        f"{canonical_query(query)}\n{block}\n{signed}\n{payload_hash}"
    )


def credential_scope(*, date: str, region: str, service: str) -> str:
    """The credential scope ``{YYYYMMDD}/{region}/{service}/aws4_request``."""
    if not region or "/" in region:
        raise ValueError(f"invalid region for SigV4 scope: {region!r}")
    if not service or "/" in service:
        raise ValueError(f"invalid service for SigV4 scope: {service!r}")
    return f"{date}/{region}/{service}/{_TERMINATOR}"


def string_to_sign(*, amz_date: str, scope: str, canonical_request: str) -> str:
    """``AWS4-HMAC-SHA256``, the X-Amz-Date, the scope and the hex SHA-256 of the
    canonical request, joined by newlines.
    """
    state = _SHA256_START.copy()
    state.update(canonical_request.encode("utf-8"))
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{state.hexdigest()}"


@functools.lru_cache(maxsize=64)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Derive the SigV4 signing key (HMAC chain from ``"AWS4" + secret``); LRU-cached.

    ``date`` is the scope date ``YYYYMMDD``.
    """
    key = _hmac_digest(("AWS4" + secret).encode("utf-8"), date.encode("utf-8"), "sha256")
    for part in (region, service, _TERMINATOR):
        key = _hmac_digest(key, part.encode("utf-8"), "sha256")
    return key


def signature(*, key: bytes, string_to_sign: str) -> str:
    """The signature: hex HMAC-SHA256 of the string to sign under the signing key."""
    state = _keyed_hmac(key).copy()
    state.update(string_to_sign.encode("utf-8"))
    return state.hexdigest()


@functools.lru_cache(maxsize=64)
def _keyed_hmac(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 state keyed with a signing key, copied per signature: the key is
    set up once per key (a signing key lives a day), not once per request."""
    return hmac.new(key, digestmod=hashlib.sha256)


def authorization_header(
    *, access_key_id: str, scope: str, signed_headers: str, signature: str
) -> str:
    """The ``Authorization`` header value for header-mode SigV4."""
    return (
        f"{ALGORITHM} Credential={access_key_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


def _host_from_url(scheme: str, netloc: str) -> str:
    host = netloc.rpartition("@")[2].lower()
    suffix = _DEFAULT_PORT_SUFFIX.get(scheme.lower())
    if suffix is not None and host.endswith(suffix):
        host = host[: -len(suffix)]
    if not host:
        raise ValueError("url has no host and no Host header was given")
    return host


# --------------------------------------------------------------------------- signing


def _immutable_body(body: object) -> bool:
    """Whether ``body`` is None, bytes or str: what a signature can safely cover."""
    return body is None or isinstance(body, bytes | str)


class RequestTemplate:
    """A request shape (method, URL, headers) whose canonical parts are computed once.

    The canonical URI, query and fixed headers depend only on the shape; :meth:`sign`
    adds what each request brings (time, token, body hash) and computes the HMACs.
    Nothing is remembered between signatures.
    """

    __slots__ = ("_fixed", "_head", "_headers", "_static")

    def __init__(
        self,
        *,
        method: str,
        url: str,
        headers: Mapping[str, str] | Sequence[tuple[str, str]],
        normalize_path: bool = True,
    ) -> None:
        parts = urlsplit(url)
        items: Iterable[tuple[str, str]] = (
            headers.items() if isinstance(headers, Mapping) else headers
        )
        out = list(items)
        grouped = _group_headers(out)
        reserved = _RESERVED_HEADERS.intersection(grouped)
        if reserved:
            raise ValueError(
                f"header {min(reserved)!r} is added by the signer and must not be passed in"
            )
        if "host" not in grouped:
            host = _host_from_url(parts.scheme, parts.netloc)
            out.append(("Host", host))
            grouped["host"] = host
        self._headers = tuple(out)
        self._static = grouped
        # The signer's own headers (x-amz-content-sha256, x-amz-date, x-amz-security-token)
        # sort in that order; when every fixed header sorts before them, which is the usual
        # case, the fixed part of the canonical block is rendered here, once.
        self._fixed = _render_headers(grouped) if max(grouped) < _FIRST_SIGNER_HEADER else None
        self._head = (
            f"{method.upper()}\n{canonical_uri(parts.path, normalize=normalize_path)}\n"
            f"{canonical_query(parts.query)}\n"
        )

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The headers every request of this shape starts with (Host included)."""
        return self._headers

    def sign(
        self,
        *,
        body: bytes | str | None,
        credentials: SigningCredentials,
        region: str,
        service: str,
        timestamp: datetime,
        content_sha256_header: bool = False,
        omit_session_token: bool = False,
    ) -> SignedRequest:
        """Sign one request of this shape at ``timestamp``; see :func:`sign_request`."""
        if not _immutable_body(body):
            # A bytearray or memoryview can change between signing and sending, and the
            # signature would then cover bytes that were never sent.
            raise TypeError(
                f"body must be bytes, str or None, not {type(body).__name__}; "
                "pass bytes(body) to sign a snapshot of a mutable buffer"
            )
        amz_date = format_amz_date(timestamp)
        token = credentials.session_token
        body_hash = payload_hash(body)
        added: dict[str, str] = {}
        if content_sha256_header:
            if "x-amz-content-sha256" in self._static:
                raise ValueError(
                    "header 'x-amz-content-sha256' is added by the signer when "
                    "content_sha256_header=True and must not be passed in"
                )
            added["x-amz-content-sha256"] = body_hash
        added["x-amz-date"] = amz_date
        if token and not omit_session_token:
            added["x-amz-security-token"] = " ".join(token.split())
        if self._fixed is None:
            block, signed = _render_headers(self._static | added)
        else:  # the signer's headers go after the fixed ones, in the order added above
            block = self._fixed[0] + "".join([f"{name}:{value}\n" for name, value in added.items()])
            signed = ";".join([self._fixed[1], *added])
        creq = f"{self._head}{block}\n{signed}\n{body_hash}"
        date = amz_date[:8]
        scope = credential_scope(date=date, region=region, service=service)
        sts = string_to_sign(amz_date=amz_date, scope=scope, canonical_request=creq)
        key = signing_key(credentials.secret_access_key, date, region, service)
        sig = signature(key=key, string_to_sign=sts)
        auth = authorization_header(
            access_key_id=credentials.access_key_id,
            scope=scope,
            signed_headers=signed,
            signature=sig,
        )
        out = [*self._headers, ("X-Amz-Date", amz_date)]
        if token:
            out.append(("X-Amz-Security-Token", token))
        if content_sha256_header:
            out.append(("x-amz-content-sha256", body_hash))
        out.append(("Authorization", auth))
        return SignedRequest(
            headers=tuple(out),
            canonical_request=creq,
            string_to_sign=sts,
            signature=sig,
            signed_headers=signed,
            authorization=auth,
        )


def sign_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str] | Sequence[tuple[str, str]],
    body: bytes | str | None,
    credentials: SigningCredentials,
    region: str,
    service: str,
    timestamp: datetime,
    normalize_path: bool = True,
    content_sha256_header: bool = False,
    omit_session_token: bool = False,
) -> SignedRequest:
    """Sign a request with SigV4 (Authorization header) and return what to send.

    Every given header is signed (the input is not mutated); the signer appends Host (if
    absent), X-Amz-Date, the session token, x-amz-content-sha256 (if asked) and Authorization.
    ``normalize_path`` removes ``.``/``..``/empty path segments first (every service but
    S3); ``content_sha256_header`` adds and signs ``x-amz-content-sha256``;
    ``omit_session_token`` sends the token unsigned (an STS special case).
    To sign many requests of one shape, build a :class:`RequestTemplate` once.
    """
    template = RequestTemplate(
        method=method, url=url, headers=headers, normalize_path=normalize_path
    )
    return template.sign(
        body=body,
        credentials=credentials,
        region=region,
        service=service,
        timestamp=timestamp,
        content_sha256_header=content_sha256_header,
        omit_session_token=omit_session_token,
    )


# --------------------------------------------------------------------------- parsing


def _is_lower_hex(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and all(c in "0123456789abcdef" for c in value)


def parse_authorization(value: str) -> ParsedAuthorization:
    """Parse a SigV4 ``Authorization`` header value into its parts.

    Raises ValueError with a description of the problem when it is malformed.
    """
    prefix = "malformed SigV4 Authorization header: "
    algorithm, sep, rest = value.strip().partition(" ")
    if not sep:
        raise ValueError(
            prefix + "expected '<algorithm> Credential=..., SignedHeaders=..., Signature=...'"
        )
    if algorithm != ALGORITHM:
        raise ValueError(prefix + f"unsupported algorithm {algorithm!r} (expected {ALGORITHM!r})")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        key, eq, val = item.strip().partition("=")
        if not eq:
            raise ValueError(prefix + f"component {item.strip()!r} is not of the form key=value")
        if key not in ("Credential", "SignedHeaders", "Signature"):
            raise ValueError(prefix + f"unknown component {key!r}")
        if key in fields:
            raise ValueError(prefix + f"component {key!r} appears more than once")
        fields[key] = val
    for key in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(key):
            raise ValueError(prefix + f"missing or empty {key}=")

    credential = fields["Credential"].split("/")
    if len(credential) != 5:
        raise ValueError(
            prefix + "Credential must be '<access key id>/<YYYYMMDD>/<region>/<service>/"
            f"aws4_request' (got {len(credential)} '/'-separated parts)"
        )
    access_key_id, date, region, service, terminator = credential
    if not access_key_id:
        raise ValueError(prefix + "empty access key id in Credential")
    if len(date) != 8 or not (date.isascii() and date.isdigit()):
        raise ValueError(prefix + f"credential scope date {date!r} is not YYYYMMDD")
    try:
        datetime(int(date[:4]), int(date[4:6]), int(date[6:]))
    except ValueError:
        raise ValueError(prefix + f"credential scope date {date!r} is not a valid date") from None
    if not region:
        raise ValueError(prefix + "empty region in credential scope")
    if not service:
        raise ValueError(prefix + "empty service in credential scope")
    if terminator != _TERMINATOR:
        raise ValueError(
            prefix + f"credential scope must end with {_TERMINATOR!r} (got {terminator!r})"
        )

    signed_headers = tuple(fields["SignedHeaders"].split(";"))
    for name in signed_headers:
        if not name or name != name.lower() or name.strip() != name:
            raise ValueError(
                prefix + f"SignedHeaders entry {name!r} is empty, not lowercase or padded"
            )

    sig = fields["Signature"]
    if not _is_lower_hex(sig, 64):
        raise ValueError(prefix + "Signature must be 64 lowercase hex characters")

    return ParsedAuthorization(
        algorithm=algorithm,
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        signed_headers=signed_headers,
        signature=sig,
    )
