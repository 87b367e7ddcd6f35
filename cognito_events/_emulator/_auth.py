"""SigV4 verification of incoming requests, answering as AWS does when it fails.

The canonical request is rebuilt from the request as received (method, wire path and
query, exactly the headers the client says it signed, the SHA-256 of the body) with the
stage functions of :mod:`cognito_events.sigv4`, signed with the secret stored for the
access key at the request's own ``X-Amz-Date``, and compared in constant time. The scope
must name the signing name of the service the request was routed to (``cognito-sync``,
``lambda``). :func:`identify` then says whose key it was: a developer's (configured at
start) or an identity's temporary one (handed out by GetCredentialsForIdentity).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

import attrs

from .. import sigv4
from .._credentials import Credentials

__all__ = ["MAX_CLOCK_SKEW", "SERVICE", "AuthFailure", "KeyLookup", "verify"]

#: The default signing name (Cognito Sync); Lambda requests are checked for "lambda".
SERVICE: Final = "cognito-sync"
#: How far a request's X-Amz-Date may be from the server's clock.
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)

_MISSING_TOKEN: Final = "Missing Authentication Token"  # noqa: S105 - a message
_INVALID_TOKEN: Final = "The security token included in the request is invalid."  # noqa: S105
_MISMATCH: Final = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details.\n\n"
    "The Canonical String for this request should have been\n'{canonical}'\n\n"
    "The String-to-Sign should have been\n'{string_to_sign}'\n"
)
_DIGITS: Final = frozenset("0123456789")


class KeyLookup(Protocol):
    """Where the secret of an access key id is found (a Mapping will do)."""

    def get(self, access_key_id: str, /) -> Credentials | None: ...


@attrs.frozen
class AuthFailure:
    """Why a request was refused: the AWS error code and message (always HTTP 403)."""

    code: str
    message: str


def _incomplete(message: str) -> AuthFailure:
    return AuthFailure("IncompleteSignatureException", message)


def _invalid(message: str) -> AuthFailure:
    return AuthFailure("InvalidSignatureException", message)


def parse_amz_date(value: str) -> datetime | None:
    """``YYYYMMDDTHHMMSSZ`` as an aware UTC datetime, or None when it is not that."""
    if (
        len(value) != 16
        or value[8] != "T"
        or value[15] != "Z"
        or not _DIGITS.issuperset(value[:8])
        or not _DIGITS.issuperset(value[9:15])
    ):
        return None
    try:
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _skew_failure(amz_date: str, when: datetime, now: datetime) -> AuthFailure | None:
    if when < now - MAX_CLOCK_SKEW:
        return _invalid(
            f"Signature expired: {amz_date} is now earlier than "
            f"{sigv4.format_amz_date(now - MAX_CLOCK_SKEW)} "
            f"({sigv4.format_amz_date(now)} - 5 min.)"
        )
    if when > now + MAX_CLOCK_SKEW:
        return _invalid(
            f"Signature not yet current: {amz_date} is still later than "
            f"{sigv4.format_amz_date(now + MAX_CLOCK_SKEW)} "
            f"({sigv4.format_amz_date(now)} + 5 min.)"
        )
    return None


def _token_matches(received: str | None, expected: str | None) -> bool:
    if expected is None:
        return received is None
    if received is None:
        return False
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def verify(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, list[str]],
    body: bytes,
    now: datetime,
    credentials: KeyLookup,
    service: str = SERVICE,
) -> sigv4.ParsedAuthorization | AuthFailure:
    """Check a request's SigV4 ``Authorization`` header.

    ``headers`` maps lowercased names to the values received, in order. Returns the
    parsed header (its ``region`` is the credential scope's) when the request
    is authentic, else the :class:`AuthFailure` AWS would answer with. The checks run in
    this order: presence, syntax, X-Amz-Date, scope, clock skew, access key, session
    token, signature.
    """
    values = headers.get("authorization")
    if not values:
        return AuthFailure("MissingAuthenticationTokenException", _MISSING_TOKEN)
    if len(values) > 1:
        return _incomplete("Only one Authorization header may be given.")
    value = values[0]
    try:
        parsed = sigv4.parse_authorization(value)
    except ValueError as exc:
        return _incomplete(f"{exc} Authorization={value}")
    if "host" not in parsed.signed_headers:
        return _incomplete(
            f"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization. "
            f"Authorization={value}"
        )
    amz_dates = headers.get("x-amz-date")
    if amz_dates is None:
        return _incomplete(
            "Authorization header requires existence of a 'X-Amz-Date' header "
            f"(this emulator does not read 'Date'). Authorization={value}"
        )
    amz_date = amz_dates[0].strip()
    when = parse_amz_date(amz_date) if len(amz_dates) == 1 else None
    if when is None:
        return _incomplete(
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        )
    if parsed.service != service:
        return _invalid(f"Credential should be scoped to correct service: '{service}'. ")
    if parsed.date != amz_date[:8]:
        return _invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{parsed.date}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    skewed = _skew_failure(amz_date, when, now)
    if skewed is not None:
        return skewed

    known = credentials.get(parsed.access_key_id)
    if known is None:
        return AuthFailure("UnrecognizedClientException", _INVALID_TOKEN)
    tokens = headers.get("x-amz-security-token")
    received_token = tokens[0] if tokens is not None and len(tokens) == 1 else None
    if (tokens is not None and len(tokens) > 1) or not _token_matches(
        received_token, known.session_token
    ):
        return AuthFailure("UnrecognizedClientException", _INVALID_TOKEN)

    signed: list[tuple[str, str]] = []
    for name in parsed.signed_headers:
        received = headers.get(name)
        if received is None:
            signed.append((name, ""))
        else:
            signed.extend((name, item) for item in received)
    canonical = sigv4.canonical_request(
        method=method,
        path=path,
        query=query,
        headers=signed,
        payload_hash=sigv4.payload_hash(body),
    )
    string_to_sign = sigv4.string_to_sign(
        amz_date=amz_date, scope=parsed.scope, canonical_request=canonical
    )
    key = sigv4.signing_key(known.secret_access_key, parsed.date, parsed.region, parsed.service)
    expected = sigv4.signature(key=key, string_to_sign=string_to_sign)
    if not hmac.compare_digest(expected, parsed.signature):
        return _invalid(_MISMATCH.format(canonical=canonical, string_to_sign=string_to_sign))
    return parsed
