"""The HTTP handler: framing, routing, SigV4, validation and the two operations.

Order of checks for ``/identitypools/{IdentityPoolId}/events``, as the service does them:
body framing and size, route and method, signature, injected faults, the body's JSON
(``SerializationException``), the model's constraints (``InvalidParameterException``,
"N validation errors detected: ..."), the event type and Lambda ARN, and last whether
the pool exists in the signing region (``ResourceNotFoundException``).

Every answer is written with one ``wfile.write``; errors carry ``x-amzn-ErrorType`` and a
``{"message": ...}`` JSON body, never a traceback or an HTML page.
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote

from .._validation import EVENT_TYPES, POOL_ID_MAX_LENGTH, check_events, check_identity_pool_id
from .._validation import pool_region as _pool_region
from ._admin import ADMIN_PREFIX, AdminError, handle_admin
from ._auth import AuthFailure, verify

if TYPE_CHECKING:
    from ._server import EmulatorServer

__all__ = ["MAX_BODY_BYTES", "EmulatorHandler"]

#: Largest request body accepted (Content-Length or the sum of the chunks).
MAX_BODY_BYTES: Final = 64 * 1024
_MAX_REQUEST_LINE: Final = 16 * 1024
_MAX_CHUNK_LINE: Final = 1024
_JSON_TYPES: Final = frozenset(
    {"application/json", "application/x-amz-json-1.0", "application/x-amz-json-1.1"}
)
_POOL_PATTERN: Final = r"[\w-]+:[0-9a-f-]+"
_ERROR_TYPE: Final = "application/json"
_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
_STATUS_LINES: Final = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n" for s in HTTPStatus}
# AWS-style codes for what http.server itself refuses while parsing a request.
_PROTOCOL_CODES: Final = {
    400: "BadRequestException",
    414: "RequestURITooLongException",
    431: "RequestHeaderFieldsTooLargeException",
    505: "HTTPVersionNotSupportedException",
}


_last_date: tuple[datetime, str] = (datetime.min, "")


def http_date(when: datetime) -> str:
    """RFC 7231 ``IMF-fixdate`` of an aware UTC datetime (the last one is cached)."""
    global _last_date
    second = when.replace(microsecond=0)
    cached_second, text = _last_date
    if second != cached_second:
        text = (
            f"{_DAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {when.year:04d} "
            f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} GMT"
        )
        _last_date = (second, text)
    return text


def _decimal(text: str) -> int | None:
    """A Content-Length value as an int, or None unless it is ASCII digits only."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


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


class EmulatorHandler(BaseHTTPRequestHandler):
    """One connection: HTTP/1.1 keep-alive, one thread, requests handled in turn."""

    protocol_version = "HTTP/1.1"
    server_version = "cognito-events-emulator"
    server: EmulatorServer

    # Per request; reset by handle_one_request.
    _recording = False
    _responded = False
    _operation: str | None = None
    _body = b""
    _fields: dict[str, list[str]] = {}  # noqa: RUF012 - replaced, never mutated

    # -- framing ----------------------------------------------------------------------

    def handle_one_request(self) -> None:
        """Read one request and answer it; sets ``close_connection`` to end the loop."""
        server = self.server
        connection = self.connection
        if not server.mark_idle(connection):
            self.close_connection = True
            return
        try:
            raw = self.rfile.readline(_MAX_REQUEST_LINE + 1)
        except OSError:
            self.close_connection = True
            return
        if not raw:
            self.close_connection = True
            return
        server.mark_busy(connection)
        self.raw_requestline = raw
        self._recording = False
        self._responded = False
        self._operation = None
        self._body = b""
        self._fields = {}
        try:
            if len(raw) > _MAX_REQUEST_LINE:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.parse_request():
                return
            self._dispatch()
        except OSError:  # reset, broken pipe, timeout: nothing more can be said
            self.close_connection = True
        except Exception:
            self.close_connection = True
            if server.log is not None:
                traceback.print_exc(file=server.log)
            if not self._responded:
                self._send_error(
                    500, "InternalErrorException", "The emulator failed on this request."
                )

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it."""
        length = _decimal(self.headers.get("Content-Length", ""))
        if length is not None and length > MAX_BODY_BYTES:
            self._too_large()
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """AWS-style JSON for what http.server refuses (bad request line, headers, version)."""
        self.close_connection = True
        text = message or HTTPStatus(code).phrase
        if explain and explain != text:
            text = f"{text}: {explain}"
        self._send_error(code, _PROTOCOL_CODES.get(code, "BadRequestException"), text)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet unless the server has a log stream."""
        log = self.server.log
        if log is not None:
            log.write(f"{self.address_string()} - {format % args}\n")
            log.flush()

    def _read_body(self) -> bytes | None:
        """The body, or None when it was refused (the answer is already sent)."""
        fields = self._fields
        encodings = fields.get("transfer-encoding")
        lengths = fields.get("content-length")
        if encodings is not None:
            if lengths is not None:
                self._bad_framing("Both Transfer-Encoding and Content-Length were given")
                return None
            encoding = ", ".join(encodings)
            if encoding.strip().lower() != "chunked":
                self._bad_framing(f"Unsupported Transfer-Encoding '{encoding}'")
                return None
            return self._read_chunked()
        if lengths is None:
            return b""
        length = _decimal(lengths[0]) if len(lengths) == 1 else None
        if length is None:
            self._bad_framing("Invalid Content-Length")
            return None
        if length > MAX_BODY_BYTES:
            self._too_large()
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            self.close_connection = True
            return None
        return body

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        rfile = self.rfile
        while True:
            line = rfile.readline(_MAX_CHUNK_LINE + 1)
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                size = -1
            if size < 0 or len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
                self._bad_framing("Malformed chunked request body")
                return None
            if size == 0:
                break
            total += size
            if total > MAX_BODY_BYTES:
                self._too_large()
                return None
            chunk = rfile.read(size)
            if len(chunk) != size or rfile.readline(3) not in (b"\r\n", b"\n"):
                self._bad_framing("Malformed chunked request body")
                return None
            parts.append(chunk)
        while True:  # trailer fields, up to the blank line
            line = rfile.readline(_MAX_CHUNK_LINE + 1)
            if line in (b"\r\n", b"\n"):
                return b"".join(parts)
            if not line or len(line) > _MAX_CHUNK_LINE:
                self._bad_framing("Malformed chunked request body")
                return None

    def _bad_framing(self, message: str) -> None:
        self.close_connection = True
        self._send_error(400, "BadRequestException", message)

    def _too_large(self) -> None:
        # The rest of the body is never read, so the connection cannot be reused.
        self.close_connection = True
        self._send_error(
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {MAX_BODY_BYTES} bytes",
        )

    # -- answers ----------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes = b"",
        *,
        error_code: str | None = None,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        server = self.server
        now = server.now()
        request_id = str(uuid.uuid4())
        if self._recording:
            self._record(now, status, error_code, request_id)
        if server.stopping:
            self.close_connection = True
        head = [
            _STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n",
            "Date: ",
            http_date(now),
            "\r\nx-amzn-RequestId: ",
            request_id,
            "\r\nContent-Type: application/json\r\nContent-Length: ",
            str(len(body)),
            "\r\n",
        ]
        if error_code is not None:
            head += ("x-amzn-ErrorType: ", error_code, "\r\n")
        for name, value in extra:
            head += (name, ": ", value, "\r\n")
        if self.close_connection:
            head.append("Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            head.append("Connection: keep-alive\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1")
        if self.command != "HEAD":
            data += body
        if server.log is not None:
            self.log_message('"%s" %s %s', self.requestline, status, error_code or "-")
        self._responded = True
        self.wfile.write(data)

    def _send_error(
        self, status: int, code: str, message: str, extra: Iterable[tuple[str, str]] = ()
    ) -> None:
        body = json.dumps({"message": message}).encode()
        self._send(status, body, error_code=code, extra=extra)

    def _send_json(self, document: object) -> None:
        self._send(200, json.dumps(document, separators=(",", ":")).encode())

    def _record(
        self, now: datetime, status: int | None, error_code: str | None, request_id: str | None
    ) -> None:
        self.server.requests.add(
            now,
            self.command or "",
            self.path,
            self._fields,
            self._body,
            status,
            error_code,
            self._operation,
            request_id,
        )

    # -- routing ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        if self.request_version == "HTTP/0.9":
            self.send_error(400, "HTTP/0.9 is not supported")
            return
        fields: dict[str, list[str]] = {}
        for name, value in self.headers.raw_items():
            key = name.lower()
            values = fields.get(key)
            if values is None:
                fields[key] = [value]
            else:
                values.append(value)
        self._fields = fields
        path, _, query = self.path.partition("?")
        admin = path.startswith(ADMIN_PREFIX)
        self._recording = not admin
        body = self._read_body()
        if body is None:
            return
        self._body = body
        if admin:
            self._admin(path, body)
        else:
            self._service(path, query, body)

    def _admin(self, path: str, body: bytes) -> None:
        try:
            document = handle_admin(self.server, self.command, path, body)
        except AdminError as exc:
            extra = () if exc.allow is None else (("Allow", exc.allow),)
            self._send_error(exc.status, exc.code, exc.message, extra)
            return
        self._send_json(document)

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
        if fault is not None:
            if fault.kind == "drop":
                self.close_connection = True
                self._record(server.now(), None, None, None)
                return
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            else:
                extra = (
                    ()
                    if fault.retry_after_ms is None
                    else (("x-amz-retry-after", str(fault.retry_after_ms)),)
                )
                self._send_error(fault.status, fault.code, fault.message, extra)
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
