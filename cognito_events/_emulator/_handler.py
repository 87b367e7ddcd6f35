"""The HTTP handler: framing, then route, SigV4, injected faults and the service.

Order of checks, as the services do them: body framing and size, route and method
(:mod:`._router`), signature for the route's signing name and whose key it is
(:mod:`._auth`), injected faults, then the operation (:mod:`.services`), which checks
the body's JSON, the model's constraints and the resources.

Every answer is written with one ``wfile.write``; errors carry ``x-amzn-ErrorType`` and a
``{"message": ...}`` JSON body, never a traceback or an HTML page.
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Iterable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs

from .._credentials import Credentials
from ._admin import ADMIN_PREFIX, AdminError, handle_admin
from ._auth import AuthFailure, verify
from ._router import Route, RouteError, route
from .services import OPERATIONS
from .services._common import Caller, Request, ServiceError

if TYPE_CHECKING:
    from ._server import EmulatorServer

__all__ = ["MAX_BODY_BYTES", "EmulatorHandler"]

#: Largest request body accepted (Content-Length or the sum of the chunks).
MAX_BODY_BYTES: Final = 64 * 1024
_MAX_REQUEST_LINE: Final = 16 * 1024
_MAX_CHUNK_LINE: Final = 1024
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
        server = self.server
        method = self.command
        found = route(method, path, self._fields)
        if isinstance(found, RouteError):
            extra = () if found.allow is None else (("Allow", found.allow),)
            self._send_error(found.status, found.code, found.message, extra)
            return
        operation = found.operation
        self._operation = operation
        caller, region = self._authenticate(found, path, query, body)
        if caller is None:
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
        request = Request(
            operation=operation,
            method=method,
            params=found.params,
            query=parse_qs(query, keep_blank_values=True),
            headers=self._fields,
            body=body,
            region=region,
            caller=caller,
        )
        try:
            answer = OPERATIONS[found.service, operation](server, request)
        except ServiceError as exc:
            self._send_error(exc.status, exc.code, exc.message, exc.headers)
            return
        self._send(answer.status, answer.body, extra=answer.headers)

    def _authenticate(
        self, found: Route, path: str, query: str, body: bytes
    ) -> tuple[Caller | None, str | None]:
        """Whose request this is, and its signing region; ``(None, None)`` once refused."""
        if found.signing_name is None:
            return Caller(kind="anonymous"), None
        server = self.server
        now = server.now()
        auth = verify(
            method=self.command,
            path=path,
            query=query,
            headers=self._fields,
            body=body,
            now=now,
            credentials=_Keys(server),
            service=found.signing_name,
        )
        if isinstance(auth, AuthFailure):
            self._send_error(403, auth.code, auth.message)
            return None, None
        key_id = auth.access_key_id
        if key_id in server.credentials_by_key:
            return Caller(kind="developer", access_key_id=key_id), auth.region
        identity = server.store.identity_key(key_id)
        assert identity is not None  # verify found its secret
        if identity.expiration <= now.timestamp():
            self._send_error(
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            )
            return None, None
        caller = Caller(
            kind="identity",
            access_key_id=key_id,
            identity_id=identity.identity_id,
            identity_pool_id=identity.identity_pool_id,
        )
        return caller, auth.region


class _Keys:
    """The developer keys, then the identities' temporary keys in the store."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server

    def get(self, access_key_id: str, /) -> Credentials | None:
        known = self._server.credentials_by_key.get(access_key_id)
        if known is not None:
            return known
        identity = self._server.store.identity_key(access_key_id)
        if identity is None:
            return None
        return Credentials(
            access_key_id=access_key_id,
            secret_access_key=identity.secret_access_key,
            session_token=identity.session_token,
        )
