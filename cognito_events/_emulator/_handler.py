"""The HTTP handler: framing, routing, SigV4, validation and the two operations.

Order of checks for ``/identitypools/{IdentityPoolId}/events``, as the service does them:
body framing and size, route and method, signature, injected faults, the body's JSON
(``SerializationException``), the model's constraints (``InvalidParameterException``,
"N validation errors detected: ..."), the event type and Lambda ARN, and last whether
the pool exists in the signing region (``ResourceNotFoundException``).

Framing is :mod:`._http`'s; every answer is one write. Errors carry ``x-amzn-ErrorType`` and a
``{"message": ...}`` JSON body, never a traceback or an HTML page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final
from urllib.parse import unquote

from .._validation import EVENT_TYPES, POOL_ID_MAX_LENGTH, check_events, check_identity_pool_id
from .._validation import pool_region as _pool_region
from ._admin import ADMIN_PREFIX, AdminError, AdminRequest, check_access, handle_admin
from ._auth import AuthFailure, verify
from ._http import MAX_BODY_BYTES, HttpHandler
from ._view import EmulatorView

__all__ = ["MAX_BODY_BYTES", "EmulatorHandler"]

_JSON_TYPES: Final = frozenset(
    {"application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1"}
)
_POOL_PATTERN: Final = r"[\w-]+:[0-9a-f-]+"


def _validation_message(violations: list[str]) -> str:
    count = len(violations)
    head = (
        "1 validation error detected: " if count == 1 else f"{count} validation errors detected: "
    )
    return head + "; ".join(violations)


def _pool_violations(pool_id: str) -> list[str]:
    problems = check_identity_pool_id(pool_id)
    if not problems:
        return []
    prefix = f"Value '{pool_id}' at 'identityPoolId' failed to satisfy constraint: "
    if not pool_id:
        return [prefix + "Member must have length greater than or equal to 1"]
    violations: list[str] = []
    too_long = len(pool_id) > POOL_ID_MAX_LENGTH
    if len(problems) > too_long:  # check_identity_pool_id reports the pattern separately
        violations.append(
            prefix + f"Member must satisfy regular expression pattern: {_POOL_PATTERN}"
        )
    if too_long:
        violations.append(
            prefix + f"Member must have length less than or equal to {POOL_ID_MAX_LENGTH}"
        )
    return violations


def _events_violations(events: Mapping[str, str] | None) -> list[str]:
    if events is None:
        return ["Value null at 'events' failed to satisfy constraint: Member must not be null"]
    if len(events) > 1:
        shown = ", ".join(f"{name}={arn}" for name, arn in events.items())
        return [
            f"Value '{{{shown}}}' at 'events' failed to satisfy constraint: "
            "Member must have length less than or equal to 1"
        ]
    return []


def _parse_set_body(body: bytes) -> tuple[dict[str, str] | None, str | None]:
    """``(events or None when absent, None)`` or ``(None, SerializationException message)``."""
    if not body.strip():
        return None, None
    try:
        document = json.loads(body)
    except ValueError as exc:
        return None, f"Could not parse the request body as JSON: {exc}"
    except RecursionError:
        return None, "Could not parse the request body as JSON: it is nested too deeply"
    if not isinstance(document, dict):
        return None, (
            f"Expected a JSON object as the request body, found {type(document).__name__}"
        )
    events = document.get("Events")
    if events is None:
        return None, None
    if not isinstance(events, dict):
        return None, f"Expected a JSON object for 'Events', found {type(events).__name__}"
    for name, arn in events.items():
        if not isinstance(arn, str):
            return None, (
                f"Expected a string for the value of 'Events.{name}', found {type(arn).__name__}"
            )
    return events, None


def _semantic_message(events: dict[str, str]) -> str | None:
    """The InvalidParameterException message for a bad event type or ARN, if any."""
    problems = check_events(events)
    if not problems:
        return None
    [(name, arn)] = events.items()
    parts: list[str] = []
    if any(problem.parameter == "events" for problem in problems):
        parts.append(
            f"Unsupported event type '{name}'. Supported event types: "
            + ", ".join(sorted(EVENT_TYPES))
        )
    if any(problem.parameter != "events" for problem in problems):
        parts.append(f"Invalid lambda function ARN: '{arn}'")
    return ". ".join(parts)


class EmulatorHandler(HttpHandler):
    """One connection of the emulator: the admin API and the service's operations."""

    server: EmulatorView

    # Per request; reset by begin_request.
    _recording = False
    _operation: str | None = None
    _body = b""

    # Names the operations below use.
    @property
    def _fields(self) -> dict[str, list[str]]:
        return self.fields

    def _send_error(
        self, status: int, code: str, message: str, extra: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.send_error(status, code, message, extra)

    def _send(self, status: int, body: bytes = b"") -> None:
        self.send(status, body)

    def _send_json(self, document: object) -> None:
        self.send_json(document)

    def begin_request(self) -> None:
        """Nothing recorded yet for this request."""
        self._recording = False
        self._operation = None
        self._body = b""

    # -- the request log --------------------------------------------------------------

    def on_answer(
        self, now: datetime, status: int | None, code: str | None, request_id: str | None
    ) -> None:
        """Record service requests (not admin calls) in the request log."""
        if self._recording:
            self.server.requests.add(
                now,
                self.command,
                self.path,
                self.fields,
                self._body,
                status,
                code,
                self._operation,
                request_id,
            )

    # -- routing ----------------------------------------------------------------------

    def dispatch(self) -> None:
        """Admin calls are guarded before their body is read; the rest go to the service."""
        path, _, query = self.path.partition("?")
        if path.startswith(ADMIN_PREFIX):
            self._recording = False
            self._admin(path)
            return
        self._recording = True
        body = self.read_body()
        self._body = body
        self._service(path, query, body)

    def _admin(self, path: str) -> None:
        server = self.server
        try:
            check_access(server, self.command, self.fields)
        except AdminError as exc:
            self.close_connection = True  # the body, if any, is left unread
            self.send_error(exc.status, exc.code, exc.message, exc.extra)
            return
        body = self.read_body()
        request = AdminRequest(
            method=self.command, path=path, body=body, host=self.fields["host"][0]
        )
        try:
            document = handle_admin(server, request)
        except AdminError as exc:
            self.send_error(exc.status, exc.code, exc.message, exc.extra)
            return
        self.send_json(document)

    def _service(self, path: str, query: str, body: bytes) -> None:
        segments = path.split("/")
        if (
            len(segments) != 4
            or segments[0]
            or segments[1] != "identitypools"
            or segments[3] != "events"
        ):
            self._send_error(
                404,
                "UnknownOperationException",
                f"No operation matches {self.command} {path}: this service answers POST and "
                "GET /identitypools/{IdentityPoolId}/events",
            )
            return
        method = self.command
        if method == "POST":
            operation = "SetCognitoEvents"
        elif method == "GET":
            operation = "GetCognitoEvents"
        else:
            self._send_error(
                405,
                "MethodNotAllowedException",
                f"The method {method} is not allowed for {path}: use POST or GET",
                (("Allow", "GET, POST"),),
            )
            return
        self._operation = operation
        server = self.server
        auth = verify(
            method=method,
            path=path,
            query=query,
            headers=self._fields,
            body=body,
            now=server.now(),
            credentials=server.credentials_by_key,
        )
        if isinstance(auth, AuthFailure):
            self._send_error(403, auth.code, auth.message)
            return
        fault = server.faults.take(operation)
        if fault is not None and fault.apply(self):
            return
        pool_id = unquote(segments[2])
        if operation == "SetCognitoEvents":
            self._set_events(pool_id, auth.region, body)
        else:
            self._get_events(pool_id, auth.region)

    # -- operations -------------------------------------------------------------------

    def _not_found(self, pool_id: str) -> None:
        self._send_error(404, "ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")

    def _set_events(self, pool_id: str, region: str, body: bytes) -> None:
        content_types = self._fields.get("content-type")
        content_type = None if content_types is None else ", ".join(content_types)
        if content_type is not None and (
            content_type.partition(";")[0].strip().lower() not in _JSON_TYPES
        ):
            self._send_error(
                400,
                "SerializationException",
                f"Unsupported Content-Type '{content_type}': send application/json",
            )
            return
        events, serialization_problem = _parse_set_body(body)
        if serialization_problem is not None:
            self._send_error(400, "SerializationException", serialization_problem)
            return
        violations = _pool_violations(pool_id) + _events_violations(events)
        if violations:
            self._send_error(400, "InvalidParameterException", _validation_message(violations))
            return
        assert events is not None
        store = self.server.store
        if not events:  # allowed by the model (no minimum): changes nothing
            if _pool_region(pool_id) != region or not store.has_pool(pool_id):
                self._not_found(pool_id)
                return
            self._send(200)
            return
        invalid = _semantic_message(events)
        if invalid is not None:
            self._send_error(400, "InvalidParameterException", invalid)
            return
        [(name, arn)] = events.items()
        if _pool_region(pool_id) != region or not store.set_event(pool_id, name, arn):
            self._not_found(pool_id)
            return
        self._send(200)

    def _get_events(self, pool_id: str, region: str) -> None:
        violations = _pool_violations(pool_id)
        if violations:
            self._send_error(400, "InvalidParameterException", _validation_message(violations))
            return
        events = self.server.store.events(pool_id) if _pool_region(pool_id) == region else None
        if events is None:
            self._not_found(pool_id)
            return
        self._send_json({"Events": events})
