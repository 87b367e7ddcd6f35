"""The exception hierarchy, and the one place an AWS error response becomes an exception.

::

    CognitoEventsError
     ├── ValidationError (also ValueError)   nothing was sent
     ├── CredentialsError                    no usable credentials
     ├── TransportError                      no usable response (``.retryable`` says if retried)
     │    ├── ConnectTimeoutError            no connection within the connect timeout
     │    ├── ReadTimeoutError               the whole answer did not arrive within the read
     │    │                                  timeout (or the call's deadline)
     │    ├── ConnectError                   connection refused or the host unreachable
     │    ├── ConnectionLostError            connection reset or closed mid-exchange
     │    ├── NameResolutionError            the host name did not resolve (DNS)
     │    ├── TLSError                       TLS handshake or certificate verification failed
     │    ├── ProxyError                     the proxy refused or failed the connection
     │    ├── ResponseTooLargeError          the body exceeded MAX_RESPONSE_BYTES; not read on
     │    └── UnusableResponseError          an encoding the client did not ask for
     └── ServiceError                        the service answered non-2xx
          ├── InvalidParameterError          InvalidParameterException and 400 validation codes
          ├── NotAuthorizedError             signature, key and token codes; 401/403
          ├── ResourceNotFoundError          ResourceNotFoundException; 404
          ├── TooManyRequestsError           TooManyRequestsException and throttling codes; 429
          └── InternalError                  InternalErrorException, ServiceUnavailable; 5xx
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeGuard
from urllib.parse import quote

import attrs

__all__ = [
    "CognitoEventsError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionLostError",
    "CredentialsError",
    "InternalError",
    "InvalidParameterError",
    "NameResolutionError",
    "NotAuthorizedError",
    "Problem",
    "ProxyError",
    "ReadTimeoutError",
    "RegionMismatch",
    "ResourceNotFoundError",
    "ResponseTooLargeError",
    "ServiceError",
    "TLSError",
    "TooManyRequestsError",
    "TransportError",
    "UnusableResponseError",
    "ValidationError",
    "error_from_response",
    "header_value",
    "parse_error_code",
    "redact",
]

#: Longest excerpt (in characters) quoted from an error body that is not AWS-shaped JSON.
MAX_MESSAGE_CHARS = 300
#: Longest service message kept as sent: an InvalidSignatureException carries the
#: canonical request and string to sign the service computed, which is what to compare.
MAX_SERVICE_MESSAGE_CHARS = 4096
#: Longest Content-Type quoted when describing a body that is not AWS error JSON.
MAX_CONTENT_TYPE_CHARS = 100


#: What replaces a secret quoted by a server in an error message.
REDACTED = "<redacted>"


def _restore(cls: type[CognitoEventsError], args: tuple[Any, ...]) -> CognitoEventsError:
    """Unpickle without calling ``__init__``: the attributes come back as they were."""
    error = cls.__new__(cls)
    error.args = args
    return error


class CognitoEventsError(Exception):
    """Base class of every error this library raises.

    Pickles to an equal error (class, args and every attribute), so errors raised in
    ``multiprocessing`` or ``ProcessPoolExecutor`` workers reach the parent intact.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _restore, (type(self), self.args), dict(self.__dict__)


@attrs.frozen
class Problem:
    """One thing wrong with one parameter: which parameter, and what is wrong."""

    parameter: str
    message: str

    def __str__(self) -> str:
        return f"{self.parameter}: {self.message}"


@attrs.frozen(kw_only=True)
class RegionMismatch(Problem):
    """An identity pool of one region asked of a client configured for another.

    The fields let a front end (the command line) say it in its own words.
    """

    #: The region prefix of the identity pool id.
    pool_region: str
    #: The client's configured region.
    configured_region: str
    #: Where the configured region came from (``the region= argument``, ``AWS_REGION``,
    #: a profile line), or None when not known.
    region_source: str | None = None


class ValidationError(CognitoEventsError, ValueError):
    """The input was refused before anything was sent; ``.problems`` lists every issue."""

    def __init__(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Invalid input ({head}); nothing was sent:\n{lines}")


class CredentialsError(CognitoEventsError):
    """No usable AWS credentials could be found, or the ones found are malformed.

    When the chain found nothing, or the selected profile does not exist, the error also
    says so in fields, so that a front end can word it for its users: ``.profile`` (the
    profile name), ``.profile_source`` (how it was selected: ``the profile= argument``,
    ``AWS_DEFAULT_PROFILE``, ``AWS_PROFILE``; None for the implicit ``default``),
    ``.tried`` (each source of the chain, in order: its name and the report line
    saying why it did not apply),
    ``.profiles`` (for an unknown profile: those that exist; else None) and ``.files``
    (the shared credentials and config files).
    """

    def __init__(
        self,
        message: str,
        *,
        profile: str | None = None,
        profile_source: str | None = None,
        tried: tuple[tuple[str, str], ...] = (),
        profiles: tuple[str, ...] | None = None,
        files: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.profile = profile
        self.profile_source = profile_source
        self.tried = tried
        self.profiles = profiles
        self.files = files


class TransportError(CognitoEventsError):
    """No usable HTTP response was received; the subclass says why, without parsing text.

    ``.attempts`` is how many attempts were made; the underlying error (if any) is
    ``__cause__``. A plain ``TransportError`` is any other failure to send, such as a
    request that cannot be built (``retryable`` False).
    """

    def __init__(self, message: str, *, attempts: int = 1, retryable: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        #: False when the request could not even be built (bad URL or header): not retried.
        self.retryable = retryable

    def __str__(self) -> str:
        suffix = "" if self.attempts == 1 else f" (after {self.attempts} attempts)"
        return f"{self.message}{suffix}"


class ConnectTimeoutError(TransportError):
    """No connection was made within the connect timeout; retried."""


class ReadTimeoutError(TransportError):
    """The whole answer did not arrive within the read timeout or the call's deadline."""


class ConnectError(TransportError):
    """The connection was refused, or the host or network was unreachable; retried."""


class ConnectionLostError(TransportError):
    """The connection was reset or closed before the whole answer arrived; retried."""


class NameResolutionError(TransportError):
    """The endpoint's host name could not be resolved (DNS); retried."""


class TLSError(TransportError):
    """The TLS handshake or certificate verification failed; retried."""


class ProxyError(TransportError):
    """The HTTP(S) proxy refused or failed the connection; retried."""


class ResponseTooLargeError(TransportError):
    """The answer's body exceeded the client's limit; the rest was not read. Not retried."""


class UnusableResponseError(TransportError):
    """The answer came in a form the client did not ask for (a compressed body). Not retried."""


class ServiceError(CognitoEventsError):
    """The service answered with a non-2xx status.

    ``.code`` is the raw AWS error code (None when the answer carried none), ``.message``
    the service's message, ``.request_id`` the ``x-amzn-RequestId`` to quote to AWS
    Support, ``.attempts`` how many attempts the call made.
    """

    def __init__(
        self,
        *,
        status_code: int,
        code: str | None,
        message: str,
        request_id: str | None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.attempts = attempts

    def __str__(self) -> str:
        head = f"{self.code} (HTTP {self.status_code})" if self.code else f"HTTP {self.status_code}"
        text = f"{head}: {self.message}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r}, "
            f"attempts={self.attempts!r})"
        )


class InvalidParameterError(ServiceError):
    """The service refused a parameter (``InvalidParameterException`` and kin, HTTP 400)."""


class NotAuthorizedError(ServiceError):
    """Authentication or authorization failed: bad signature, unknown key, expired token."""


class ResourceNotFoundError(ServiceError):
    """The identity pool does not exist (in this account and region)."""


class TooManyRequestsError(ServiceError):
    """The request was throttled (HTTP 429 or a throttling code); retried before raising."""


class InternalError(ServiceError):
    """The service failed on its side (HTTP 5xx); 500/502/503/504 are retried first."""


_INVALID_PARAMETER_CODES = frozenset(
    {
        "InvalidParameterException",
        "InvalidParameterValueException",
        "InvalidParameterCombination",
        "InvalidParameterValue",
        "InvalidQueryParameter",
        "MissingParameter",
        "MalformedQueryString",
        "SerializationException",
        "ValidationException",
        "ValidationError",
        "PolicyLengthExceededException",
        "PublicPolicyException",
    }
)
_NOT_AUTHORIZED_CODES = frozenset(
    {
        "NotAuthorizedException",
        "NotAuthorized",
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "IncompleteSignature",
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "RequestExpired",
        "AuthFailure",
    }
)
_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException"})
#: Throttling codes, as the AWS SDKs' standard retry mode lists them, plus Cognito Sync's own.
THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "LambdaThrottledException",
    }
)
_INTERNAL_CODES = frozenset(
    {
        "InternalErrorException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
    }
)

_CLASS_BY_CODE: dict[str, type[ServiceError]] = {
    **dict.fromkeys(_INVALID_PARAMETER_CODES, InvalidParameterError),
    **dict.fromkeys(_NOT_AUTHORIZED_CODES, NotAuthorizedError),
    **dict.fromkeys(_NOT_FOUND_CODES, ResourceNotFoundError),
    **dict.fromkeys(THROTTLING_CODES, TooManyRequestsError),
    **dict.fromkeys(_INTERNAL_CODES, InternalError),
}


def _class_for(status_code: int, code: str | None) -> type[ServiceError]:
    """Pick the class by AWS error code first, by HTTP status only when the code is unknown."""
    if code is not None:
        known = _CLASS_BY_CODE.get(code)
        if known is not None:
            return known
    if status_code in (401, 403):
        return NotAuthorizedError
    if status_code == 404:
        return ResourceNotFoundError
    if status_code == 429:
        return TooManyRequestsError
    if 500 <= status_code <= 599:
        return InternalError
    return ServiceError


def parse_error_code(raw: str | None) -> str | None:
    """Reduce an AWS error code to its bare name, as the SDKs do.

    ``aws.protocoltests#FooError:http://internal.amazon.com/`` becomes ``FooError``.
    """
    if not raw:
        return None
    code = raw.split(":", 1)[0]
    code = code.rsplit("#", 1)[-1].strip()
    return code or None


def _truncate(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE_CHARS:
        return text[:MAX_MESSAGE_CHARS] + "…"
    return text


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works on a plain dict too."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def is_json_object(value: object) -> TypeGuard[dict[str, object]]:
    """Whether parsed JSON is an object, typed for reading its fields.

    ``isinstance`` narrows to a dict of unknown types; a JSON object's keys are strings.
    """
    return isinstance(value, dict)


def _describe_body(body: bytes, content_type: str | None) -> str:
    if not body:
        return "the response had an empty body"
    text = body.decode("utf-8", errors="replace")
    kind = (
        _truncate(content_type.split(";", 1)[0])[:MAX_CONTENT_TYPE_CHARS]
        if content_type
        else "unknown content type"
    )
    return f"the response body was not AWS error JSON ({kind}): {_truncate(text)!r}"


#: Shorter "secrets" (a test's ``"b"``) are not searched for: replacing them would mangle
#: every request id and message, and no real key, token or signature is that short.
MIN_REDACTED_LENGTH: Final = 8


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with each secret (as sent, and percent-encoded) replaced by ``<redacted>``."""
    for secret in secrets:
        if secret and len(secret) >= MIN_REDACTED_LENGTH:
            for form in {secret, quote(secret, safe=""), " ".join(secret.split())}:
                if form:
                    text = text.replace(form, REDACTED)
    return text


_XML_FIELD = re.compile(r"<(Code|Message|RequestId)>([^<]*)</\1>")
#: XML's five predefined entities (``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``). Not
#: html.unescape: HTML's entity table is a different vocabulary, and costs every client
#: process a large import for an answer that is rare.
_XML_ENTITIES: Final = (
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&apos;", "'"),
    ("&amp;", "&"),
)


def xml_text(value: str) -> str:
    """The text of an XML element's character data, predefined entities replaced."""
    if "&" in value:
        for entity, char in _XML_ENTITIES:
            value = value.replace(entity, char)
    return value


def _xml_fields(body: bytes) -> dict[str, str]:
    """``Code``, ``Message`` and ``RequestId`` of an ``<ErrorResponse>`` (STS's query
    protocol), read with a regular expression: no entity expansion, never an exception."""
    text = body[:65536].decode("utf-8", errors="replace")
    if "<ErrorResponse" not in text and "<Error>" not in text:
        return {}
    found: dict[str, str] = {}
    for name, value in _XML_FIELD.findall(text):
        found.setdefault(name, xml_text(value).strip())
    return found


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    attempts: int = 1,
    secrets: Iterable[str | None] = (),
) -> ServiceError:
    """Build the typed error for a non-2xx answer; never raises while parsing.

    The code comes from ``x-amzn-ErrorType``, then the body's ``code``/``Code``, then
    ``__type``; the message from ``message``/``Message``; an XML ``<ErrorResponse>`` (STS)
    gives its ``<Code>``, ``<Message>`` and ``<RequestId>``. Each of ``secrets`` (the
    session token, secret key and signature of the request) is redacted from the message:
    a signature mismatch quotes the canonical request, token included.
    """
    document: object = None
    if body:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            document = None
    fields: Mapping[str, object] = document if is_json_object(document) else {}
    if not fields and body[:1] in (b"<", b"\n", b" ", b"\r", b"\t"):
        fields = _xml_fields(body)

    raw_code = header_value(headers, "x-amzn-ErrorType")
    if not raw_code:
        for key in ("code", "Code", "__type"):
            candidate = fields.get(key)
            if isinstance(candidate, str) and candidate:
                raw_code = candidate
                break
    code = parse_error_code(raw_code)

    message: str | None = None
    for key in ("message", "Message"):
        candidate = fields.get(key)
        if isinstance(candidate, str):
            message = candidate
            if len(message) > MAX_SERVICE_MESSAGE_CHARS:
                message = message[:MAX_SERVICE_MESSAGE_CHARS] + "…"
            break
    if message is None:
        message = _describe_body(body, header_value(headers, "Content-Type"))

    xml_request_id = fields.get("RequestId")
    request_id = (
        header_value(headers, "x-amzn-RequestId")
        or header_value(headers, "x-amz-request-id")
        or (xml_request_id if isinstance(xml_request_id, str) and xml_request_id else None)
    )
    cls = _class_for(status_code, code)
    secrets = tuple(secrets)
    return cls(
        status_code=status_code,
        code=code and redact(code, secrets),
        message=redact(message, secrets),
        request_id=request_id and redact(request_id, secrets),
        attempts=attempts,
    )
