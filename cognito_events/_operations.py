"""The service's operations as data: name, signing name, method, path, signed headers, and
how a 2xx answer is read. The client has one call loop for all of them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote

import attrs

from ._errors import ServiceError, header_value, is_json_object, redact
from ._transport import HttpAnswer

__all__ = ["GET_COGNITO_EVENTS", "OPERATIONS", "SET_COGNITO_EVENTS", "Operation"]

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
    #: The path below the endpoint, with ``{pool}`` for the percent-encoded pool id.
    path: str
    #: Headers sent and signed, besides Host and the signer's own.
    signed_headers: tuple[tuple[str, str], ...]
    parse: Parse[_T] = attrs.field(repr=False)

    def url(self, base: str, identity_pool_id: str) -> str:
        """The URL of this operation for one identity pool at endpoint ``base``."""
        return base + self.path.format(pool=quote(identity_pool_id, safe=""))


def _ignore_answer(answer: HttpAnswer, secrets: Iterable[str | None]) -> None:
    """SetCognitoEvents answers 200 with an empty body: nothing to read."""


def _parse_events(answer: HttpAnswer, secrets: Iterable[str | None]) -> dict[str, str]:
    """Read ``{"Events": {...}}``; a malformed 2xx answer is a ``ServiceError``, never a crash."""
    status, headers, content = answer
    document: object
    try:
        document = json.loads(content) if content else {}
    except (ValueError, RecursionError):
        document = None
    events = document.get("Events", {}) if is_json_object(document) else None
    if is_json_object(events):
        strings = {key: value for key, value in events.items() if isinstance(value, str)}
        if len(strings) == len(events):
            return strings
    shown = content[:200].decode("utf-8", errors="replace")
    raise ServiceError(
        status_code=status,
        code=None,
        message=redact(
            'GetCognitoEvents answered with a body that is not {"Events": {...}}: ' + repr(shown),
            secrets,
        ),
        request_id=header_value(headers, "x-amzn-RequestId"),
    )


SET_COGNITO_EVENTS: Final = Operation(
    name="SetCognitoEvents",
    signing_name="cognito-sync",
    method="POST",
    path="/identitypools/{pool}/events",
    signed_headers=(("Content-Type", "application/json"),),
    parse=_ignore_answer,
)
GET_COGNITO_EVENTS: Final = Operation(
    name="GetCognitoEvents",
    signing_name="cognito-sync",
    method="GET",
    path="/identitypools/{pool}/events",
    signed_headers=(),
    parse=_parse_events,
)
#: Every operation the client sends; a route prepares a request for each.
OPERATIONS: Final[tuple[Operation[Any], ...]] = (SET_COGNITO_EVENTS, GET_COGNITO_EVENTS)
