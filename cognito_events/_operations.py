"""The operations as data: name, signing name, method, path, signed headers, and how a
2xx answer is read. The client has one call loop for all of them: Cognito Sync's events,
and the Lambda policy and STS calls that setting a working sync trigger needs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote

import attrs

from ._errors import ServiceError, header_value, is_json_object, redact, xml_text
from ._transport import HttpAnswer

__all__ = [
    "ADD_PERMISSION",
    "GET_CALLER_IDENTITY",
    "GET_COGNITO_EVENTS",
    "GET_POLICY",
    "OPERATIONS",
    "REMOVE_PERMISSION",
    "SET_COGNITO_EVENTS",
    "STS_BODY",
    "Operation",
    "PolicyAnswer",
]

_T = TypeVar("_T")

#: How a 2xx answer becomes a result: (status, headers, body) and the secrets of the
#: request, which no error message may quote.
Parse = Callable[[HttpAnswer, Iterable[str | None]], _T]


@attrs.frozen
class Operation(Generic[_T]):
    """One operation of the service, as the client sends it."""

    name: str
    #: The SigV4 signing name (the service part of the credential scope).
    signing_name: str
    method: str
    #: The path below the endpoint, with ``{Name}`` for each percent-encoded path parameter
    #: (botocore's ``requestUri``).
    path: str
    #: Headers sent and signed, besides Host and the signer's own.
    signed_headers: tuple[tuple[str, str], ...]
    parse: Parse[_T] = attrs.field(repr=False)

    def url(self, base: str, **params: str) -> str:
        """The URL of this operation at endpoint ``base`` with these path parameters."""
        return base + self.path.format_map(
            {name: quote(value, safe="") for name, value in params.items()}
        )


def _malformed(
    operation: str, expected: str, answer: HttpAnswer, secrets: Iterable[str | None]
) -> ServiceError:
    """A 2xx answer the client cannot read: a ``ServiceError`` quoting its start."""
    status, headers, content = answer
    shown = content[:200].decode("utf-8", errors="replace")
    return ServiceError(
        status_code=status,
        code=None,
        message=redact(
            f"{operation} answered with a body that is not {expected}: {shown!r}", secrets
        ),
        request_id=header_value(headers, "x-amzn-RequestId"),
    )


def _ignore_answer(answer: HttpAnswer, secrets: Iterable[str | None]) -> None:
    """SetCognitoEvents, AddPermission and RemovePermission: nothing to read."""


def _parse_events(answer: HttpAnswer, secrets: Iterable[str | None]) -> dict[str, str]:
    """Read ``{"Events": {...}}``; a malformed 2xx answer is a ``ServiceError``, never a crash."""
    content = answer[2]
    document: object
    try:
        document = json.loads(content.decode("utf-8")) if content else {}  # AWS sends UTF-8
    except (ValueError, RecursionError):
        document = None
    events = document.get("Events", {}) if is_json_object(document) else None
    if is_json_object(events):
        strings = {key: value for key, value in events.items() if isinstance(value, str)}
        if len(strings) == len(events):
            return strings
    raise _malformed("GetCognitoEvents", '{"Events": {...}}', answer, secrets)


@attrs.frozen
class PolicyAnswer:
    """A function's resource policy as GetPolicy returns it: the parsed document (None when
    the function has no policy yet) and its revision id."""

    document: Mapping[str, Any] | None
    revision_id: str | None = None


def _parse_policy(answer: HttpAnswer, secrets: Iterable[str | None]) -> PolicyAnswer:
    """Read ``{"Policy": "<JSON document>", "RevisionId": ...}``."""
    outer: object
    inner: object = None
    try:
        outer = json.loads(answer[2])
        text = outer.get("Policy") if is_json_object(outer) else None
        if isinstance(text, str):
            inner = json.loads(text)
    except (ValueError, RecursionError):
        outer = None
    if not is_json_object(outer) or not is_json_object(inner):
        raise _malformed("GetPolicy", '{"Policy": "<policy JSON>"}', answer, secrets)
    revision = outer.get("RevisionId")
    return PolicyAnswer(inner, revision if isinstance(revision, str) else None)


_ACCOUNT_ELEMENT: Final = re.compile(rb"<Account>\s*([^<]*?)\s*</Account>")


def _parse_account(answer: HttpAnswer, secrets: Iterable[str | None]) -> str:
    """The 12-digit ``<Account>`` of a GetCallerIdentity answer (read without an XML parser:
    only that element matters, and a regular expression cannot be made to expand entities)."""
    found = _ACCOUNT_ELEMENT.search(answer[2])
    account = xml_text(found[1].decode("utf-8", errors="replace")) if found else ""
    if len(account) != 12 or not account.isascii() or not account.isdigit():
        raise _malformed("GetCallerIdentity", "XML with a 12-digit <Account>", answer, secrets)
    return account


SET_COGNITO_EVENTS: Final = Operation(
    name="SetCognitoEvents",
    signing_name="cognito-sync",
    method="POST",
    path="/identitypools/{IdentityPoolId}/events",
    signed_headers=(("Content-Type", "application/json"),),
    parse=_ignore_answer,
)
GET_COGNITO_EVENTS: Final = Operation(
    name="GetCognitoEvents",
    signing_name="cognito-sync",
    method="GET",
    path="/identitypools/{IdentityPoolId}/events",
    signed_headers=(),
    parse=_parse_events,
)
#: The Cognito Sync operations; a pool's route prepares a request for each.
OPERATIONS: Final[tuple[Operation[Any], ...]] = (SET_COGNITO_EVENTS, GET_COGNITO_EVENTS)

_POLICY_PATH: Final = "/2015-03-31/functions/{FunctionName}/policy"
GET_POLICY: Final = Operation(
    name="GetPolicy",
    signing_name="lambda",
    method="GET",
    path=_POLICY_PATH,
    signed_headers=(),
    parse=_parse_policy,
)
ADD_PERMISSION: Final = Operation(
    name="AddPermission",
    signing_name="lambda",
    method="POST",
    path=_POLICY_PATH,
    signed_headers=(("Content-Type", "application/json"),),
    parse=_ignore_answer,
)
REMOVE_PERMISSION: Final = Operation(
    name="RemovePermission",
    signing_name="lambda",
    method="DELETE",
    path=_POLICY_PATH + "/{StatementId}",
    signed_headers=(),
    parse=_ignore_answer,
)
#: STS's query protocol: the action and version in a form body.
STS_BODY: Final = b"Action=GetCallerIdentity&Version=2011-06-15"
GET_CALLER_IDENTITY: Final = Operation(
    name="GetCallerIdentity",
    signing_name="sts",
    method="POST",
    path="/",
    signed_headers=(("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),),
    parse=_parse_account,
)
