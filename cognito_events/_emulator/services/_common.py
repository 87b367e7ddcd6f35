"""What every service module shares: the parsed request, the answer, the error, the caller,
and the small view of the server a service may use (a Protocol, so nothing imports up)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, Literal, Protocol, TypeGuard

import attrs

from ..._credentials import Credentials
from .._store import Store

__all__ = [
    "Answer",
    "Caller",
    "Context",
    "LambdaHandler",
    "Request",
    "ServiceError",
    "is_json_array",
    "is_json_object",
    "is_mapping",
    "json_object",
    "validation_message",
]

#: A Lambda-style callable: the event as JSON in, the answer as JSON out.
LambdaHandler = Callable[[Any, Any], Any]

_JSON_TYPES: Final = frozenset(
    {"application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1"}
)


@attrs.frozen(kw_only=True)
class Caller:
    """Whose credentials signed a request: a developer key, an identity's temporary key,
    or nobody (the unsigned Cognito Identity operations)."""

    kind: Literal["developer", "identity", "anonymous"]
    access_key_id: str | None = None
    identity_id: str | None = None
    identity_pool_id: str | None = None

    @property
    def label(self) -> str:
        """What ``LastModifiedBy`` shows for a change made by this caller."""
        return self.identity_id if self.identity_id is not None else "developer"


ANONYMOUS: Final = Caller(kind="anonymous")


@attrs.frozen(kw_only=True)
class Request:
    """A request as a service sees it: routed, authenticated, body read."""

    operation: str
    method: str
    params: Mapping[str, str]
    query: Mapping[str, list[str]]
    headers: Mapping[str, list[str]]
    body: bytes
    region: str | None
    caller: Caller = ANONYMOUS

    def header(self, name: str) -> str | None:
        """The value of a header given once (lowercase ``name``), else None."""
        values = self.headers.get(name)
        return values[0] if values is not None and len(values) == 1 else None

    def query_value(self, name: str) -> str | None:
        """A query parameter's last value, or None."""
        values = self.query.get(name)
        return values[-1] if values else None


@attrs.frozen
class Answer:
    """What a service returns: status, body, extra headers."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, document: object, status: int = 200) -> Answer:
        """A compact JSON answer."""
        return cls(status, json.dumps(document, separators=(",", ":")).encode())


class ServiceError(Exception):
    """An AWS error answer: status, ``x-amzn-ErrorType`` code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


class Context(Protocol):
    """The part of the server a service uses."""

    store: Store
    lambda_handlers: dict[str, LambdaHandler]
    lambda_endpoint: str | None
    credentials: tuple[Credentials, ...]
    #: The account of the developer credentials: STS answers it, and pools belong to it.
    account_id: str

    def now(self) -> datetime: ...

    def invocation_slot(self, arn: str, limit: int | None) -> bool: ...

    def release_slot(self, arn: str) -> None: ...


def validation_message(violations: list[str]) -> str:
    """AWS's "N validation error(s) detected: ..." text."""
    count = len(violations)
    head = (
        "1 validation error detected: " if count == 1 else f"{count} validation errors detected: "
    )
    return head + "; ".join(violations)


def is_json_object(value: object) -> TypeGuard[dict[str, object]]:
    """Whether parsed JSON is an object, typed for reading its fields.

    ``isinstance`` narrows to a dict of unknown types; a JSON object's keys are strings.
    """
    return isinstance(value, dict)


def is_json_array(value: object) -> TypeGuard[list[object]]:
    """Whether parsed JSON is an array, typed for reading (``isinstance`` leaves the
    item type unknown)."""
    return isinstance(value, list)


def is_mapping(value: object) -> TypeGuard[Mapping[object, object]]:
    """``isinstance(value, Mapping)``, typed for reading a mapping of anything (``isinstance``
    leaves the key and value types unknown; any mapping reads as ``object`` to ``object``)."""
    return isinstance(value, Mapping)


def json_object(request: Request, *, required: bool = False) -> dict[str, object]:
    """The body as a JSON object ({} when empty), or SerializationException."""
    content_type = request.header("content-type")
    if content_type is not None and content_type.partition(";")[0].strip().lower() not in (
        _JSON_TYPES
    ):
        raise ServiceError(
            400,
            "SerializationException",
            f"Unsupported Content-Type '{content_type}': send application/json",
        )
    body = request.body
    if not body.strip():
        if required:
            raise ServiceError(400, "SerializationException", "The request body is empty")
        return {}
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ServiceError(
            400, "SerializationException", f"Could not parse the request body as JSON: {exc}"
        ) from None
    except RecursionError:
        raise ServiceError(
            400,
            "SerializationException",
            "Could not parse the request body as JSON: it is nested too deeply",
        ) from None
    if not is_json_object(document):
        raise ServiceError(
            400,
            "SerializationException",
            f"Expected a JSON object as the request body, found {type(document).__name__}",
        )
    return document
