"""Strict HTTP/1.1 (RFC 9112) on one connection: read a request's head and body, write answers.

Anything ambiguous in the framing -- whitespace before a colon, a line without one, a
bare CR or LF, a malformed chunk size, a missing ``Host`` on HTTP/1.1, conflicting
``Content-Length`` values, ``Content-Length`` with ``Transfer-Encoding`` -- is answered
400 and the connection closed, so a body can never be read as a second request. The
head of a request must arrive complete within the idle timeout and within
:data:`MAX_HEAD_BYTES` (431 above). Every answer is written with one ``sendall``.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import socketserver
import time
import traceback
import uuid
from collections.abc import Iterable
from datetime import datetime
from http import HTTPStatus
from typing import ClassVar, Final, Protocol, TextIO

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "HttpError",
    "HttpHandler",
    "HttpServerView",
    "Responder",
    "http_date",
]

#: Largest request body accepted (Content-Length or the sum of the chunks).
MAX_BODY_BYTES: Final = 64 * 1024
#: Largest request head (request line and header fields), as AWS's front ends cap it.
MAX_HEAD_BYTES: Final = 32 * 1024
#: Longest request line (414 above).
MAX_REQUEST_LINE: Final = 16 * 1024
#: Most header fields in one request (431 above).
MAX_HEADER_FIELDS: Final = 100
_MAX_CHUNK_LINE: Final = 1024
_RECV: Final = 65536
_LINGER_SECONDS: Final = 0.5
_LINGER_BYTES: Final = 1024 * 1024

_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION: Final = re.compile(rb"HTTP/([0-9])\.([0-9])")
_TARGET: Final = re.compile(rb"[\x21-\x7e]+")
_BAD_VALUE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CHUNK_SIZE: Final = re.compile(rb"([0-9A-Fa-f]{1,15})[ \t]*(;[\x20-\x7e\t]*)?")

_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
_STATUS_LINES: Final = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n" for s in HTTPStatus}
_PROTOCOL_CODES: Final = {
    400: "BadRequestException",
    408: "RequestTimeoutException",
    413: "RequestEntityTooLargeException",
    414: "RequestURITooLongException",
    431: "RequestHeaderFieldsTooLargeException",
    505: "HTTPVersionNotSupportedException",
}

_last_date: tuple[datetime, str] = (datetime.min, "")


def http_date(when: datetime) -> str:
    """RFC 9110 ``IMF-fixdate`` of an aware UTC datetime (the last one is cached)."""
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


class HttpError(Exception):
    """A request refused at the HTTP layer; the connection is closed after the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = _PROTOCOL_CODES.get(status, "BadRequestException")
        self.message = message


class HttpServerView(Protocol):
    """What the HTTP layer needs of its server."""

    @property
    def stopping(self) -> bool: ...
    @property
    def idle_timeout(self) -> float: ...
    @property
    def log(self) -> TextIO | None: ...
    def now(self) -> datetime: ...
    def mark_idle(self, connection: socket.socket) -> bool: ...
    def mark_busy(self, connection: socket.socket) -> None: ...


class Responder(Protocol):
    """How a fault (or anything else outside the HTTP layer) answers the current request."""

    def send_error(
        self, status: int, code: str, message: str, extra: Iterable[tuple[str, str]] = ()
    ) -> None: ...
    def drop(self) -> None: ...


class _ClosedError(Exception):
    """The peer went away, or sent nothing in time: close without answering."""


class HttpHandler(socketserver.BaseRequestHandler):
    """One connection: HTTP/1.1 keep-alive, requests read and answered in turn.

    Subclasses implement :meth:`dispatch` and may override :meth:`on_answer` (called
    once per answer, before it is written) and :meth:`handle_expect_100`.
    """

    server: HttpServerView  # type: ignore[assignment]
    connection: socket.socket
    max_body_bytes: ClassVar[int] = MAX_BODY_BYTES

    # Per request; reset before each one.
    command = ""
    path = ""
    request_version = ""
    requestline = ""
    close_connection = True
    fields: dict[str, list[str]] = {}  # noqa: RUF012 - replaced, never mutated
    _responded = False
    _deadline = 0.0

    # -- connection loop --------------------------------------------------------------

    def setup(self) -> None:
        """Keep a receive buffer that outlives one request (pipelined requests)."""
        self.connection = self.request
        self._buffer = bytearray()

    def handle(self) -> None:
        """Serve requests until one asks to close, fails, or the peer goes quiet."""
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        """Read one request and answer it; sets ``close_connection`` to end the loop."""
        server = self.server
        connection = self.connection
        self.close_connection = True
        if not server.mark_idle(connection):
            return
        self._deadline = time.monotonic() + server.idle_timeout
        try:
            head = self._read_head()
        except _ClosedError:
            return
        except HttpError as exc:
            self._reset_request()
            self._refuse(exc)
            return
        server.mark_busy(connection)
        self._reset_request()
        try:
            self._parse_head(head)
            expects_continue = self.fields.get("expect", [""])[0].lower() == "100-continue"
            if expects_continue and not self.handle_expect_100():
                return
            self.close_connection = not self._keep_alive()
            self.dispatch()
        except HttpError as exc:
            self._refuse(exc)
        except _ClosedError:
            self.close_connection = True
        except OSError:  # reset, broken pipe: nothing more can be said
            self.close_connection = True
        except Exception:
            self.close_connection = True
            if server.log is not None:
                traceback.print_exc(file=server.log)
            if not self._responded:
                self.send_error(
                    500, "InternalErrorException", "The emulator failed on this request."
                )

    def _reset_request(self) -> None:
        self.command = ""
        self.path = ""
        self.request_version = ""
        self.requestline = ""
        self.fields = {}
        self._responded = False
        self.begin_request()

    def _refuse(self, exc: HttpError) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.send_error(exc.status, exc.code, exc.message)
            self._linger()

    def _linger(self) -> None:
        """Read and drop what the client still sends, briefly, before closing: closing with
        unread input would reset the connection and could destroy the answer in flight."""
        connection = self.connection
        connection.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + _LINGER_SECONDS
        dropped = 0
        while dropped < _LINGER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            connection.settimeout(remaining)
            data = connection.recv(_RECV)
            if not data:
                return
            dropped += len(data)

    # -- reading ----------------------------------------------------------------------

    def _fill(self) -> None:
        """Receive more bytes before the deadline; _ClosedError on end of stream or time-out."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _ClosedError
        connection = self.connection
        try:
            connection.settimeout(remaining)
            data = connection.recv(_RECV)
        except TimeoutError:
            raise _ClosedError from None
        except OSError:
            raise _ClosedError from None
        if not data:
            raise _ClosedError
        self._buffer += data

    def _read_head(self) -> bytes:
        """The request line and fields, without the blank line; HttpError when too big."""
        buffer = self._buffer
        start = 0
        while True:
            # RFC 9112 2.2: ignore empty lines before the request line.
            while buffer.startswith(b"\r\n"):
                del buffer[:2]
            end = buffer.find(b"\r\n\r\n", start)
            if end >= 0:
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                line_end = head.find(b"\r\n")
                if (line_end if line_end >= 0 else end) > MAX_REQUEST_LINE:
                    raise HttpError(414, "The request line is too long")
                if end > MAX_HEAD_BYTES:
                    raise HttpError(431, "The request's header fields are too large")
                return head
            line_end = buffer.find(b"\r\n")
            if (line_end < 0 and len(buffer) > MAX_REQUEST_LINE) or line_end > MAX_REQUEST_LINE:
                raise HttpError(414, "The request line is too long")
            if len(buffer) > MAX_HEAD_BYTES + 4:
                raise HttpError(431, "The request's header fields are too large")
            start = max(0, len(buffer) - 3)
            try:
                self._fill()
            except _ClosedError:
                if not buffer:
                    raise
                if time.monotonic() >= self._deadline:
                    raise HttpError(408, "The request did not arrive in time") from None
                raise HttpError(400, "The request ended before its header fields did") from None

    def _read_exact(self, size: int) -> bytes:
        buffer = self._buffer
        while len(buffer) < size:
            self._fill()
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    def _read_line(self, limit: int) -> bytes:
        buffer = self._buffer
        start = 0
        while True:
            end = buffer.find(b"\r\n", start)
            if end >= 0:
                if end > limit:
                    break
                line = bytes(buffer[:end])
                del buffer[: end + 2]
                return line
            if len(buffer) > limit:
                break
            start = max(0, len(buffer) - 1)
            try:
                self._fill()
            except _ClosedError:
                raise HttpError(400, "Malformed chunked request body") from None
        raise HttpError(400, "Malformed chunked request body: a line is too long")

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        request_line = lines[0]
        self.requestline = request_line.decode("latin-1")
        parts = request_line.split(b" ")
        if len(parts) != 3:
            raise HttpError(400, f"Bad request line {self.requestline[:200]!r}")
        method, target, version = parts
        match = _VERSION.fullmatch(version)
        if match is None:
            raise HttpError(400, f"Bad HTTP version {version.decode('latin-1')[:20]!r}")
        major, minor = int(match[1]), int(match[2])
        if major != 1:
            raise HttpError(505, f"HTTP/{major}.{minor} is not supported: use HTTP/1.1")
        self.request_version = "HTTP/1.0" if minor == 0 else "HTTP/1.1"
        if _TOKEN.fullmatch(method) is None or _TARGET.fullmatch(target) is None:
            raise HttpError(400, f"Bad request line {self.requestline[:200]!r}")
        self.command = method.decode("ascii")
        self.path = target.decode("ascii")
        if len(lines) - 1 > MAX_HEADER_FIELDS:
            raise HttpError(431, f"More than {MAX_HEADER_FIELDS} header fields")
        fields: dict[str, list[str]] = {}
        for line in lines[1:]:
            colon = line.find(b":")
            if colon < 0:
                raise HttpError(400, "A header line has no colon")
            name = line[:colon]
            if _TOKEN.fullmatch(name) is None:
                raise HttpError(
                    400, "Bad header field name (no whitespace is allowed before the colon)"
                )
            value = line[colon + 1 :].strip(b" \t")
            if _BAD_VALUE.search(value) is not None:
                raise HttpError(400, "A header field value holds a control character")
            key = name.decode("ascii").lower()
            text = value.decode("latin-1")
            values = fields.get(key)
            if values is None:
                fields[key] = [text]
            else:
                values.append(text)
        self.fields = fields
        hosts = fields.get("host")
        if hosts is None:
            if self.request_version == "HTTP/1.1":
                raise HttpError(400, "HTTP/1.1 requests must have a Host header")
        elif len(hosts) > 1:
            raise HttpError(400, "More than one Host header")
        lengths = fields.get("content-length")
        if lengths is not None:
            if "transfer-encoding" in fields:
                raise HttpError(400, "Both Transfer-Encoding and Content-Length were given")
            values_seen = {part.strip() for value in lengths for part in value.split(",")}
            if len(values_seen) != 1:
                raise HttpError(400, "Conflicting Content-Length values")
            (text,) = values_seen
            if not (text.isascii() and text.isdigit()):
                raise HttpError(400, "Invalid Content-Length")

    def _keep_alive(self) -> bool:
        tokens = {
            token.strip().lower()
            for value in self.fields.get("connection", ())
            for token in value.split(",")
        }
        if self.request_version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    def content_length(self) -> int | None:
        """The declared Content-Length (already checked), or None."""
        lengths = self.fields.get("content-length")
        return None if lengths is None else int(lengths[0].split(",")[0])

    def read_body(self) -> bytes:
        """The body; HttpError for bad framing or a body over :attr:`max_body_bytes`."""
        self._deadline = time.monotonic() + self.server.idle_timeout
        encodings = self.fields.get("transfer-encoding")
        if encodings is not None:
            encoding = ", ".join(encodings)
            if encoding.strip().lower() != "chunked" or self.request_version == "HTTP/1.0":
                raise HttpError(400, f"Unsupported Transfer-Encoding '{encoding}'")
            return self._read_chunked()
        length = self.content_length()
        if not length:
            return b""
        if length > self.max_body_bytes:
            raise self._too_large()
        return self._read_exact(length)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            match = _CHUNK_SIZE.fullmatch(self._read_line(_MAX_CHUNK_LINE))
            if match is None:
                raise HttpError(400, "Malformed chunked request body: bad chunk size")
            size = int(match[1], 16)
            if size == 0:
                break
            total += size
            if total > self.max_body_bytes:
                raise self._too_large()
            try:
                chunk = self._read_exact(size + 2)
            except _ClosedError:
                raise HttpError(400, "Malformed chunked request body: truncated") from None
            if not chunk.endswith(b"\r\n"):
                raise HttpError(400, "Malformed chunked request body: no CRLF after a chunk")
            parts.append(chunk[:-2])
        trailer_bytes = 0
        while True:  # trailer fields, up to the blank line
            line = self._read_line(_MAX_CHUNK_LINE)
            if not line:
                return b"".join(parts)
            trailer_bytes += len(line)
            name, colon, _ = line.partition(b":")
            if not colon or _TOKEN.fullmatch(name) is None or trailer_bytes > MAX_HEAD_BYTES:
                raise HttpError(400, "Malformed chunked request body: bad trailer field")

    def _too_large(self) -> HttpError:
        # The rest of the body is never read, so the connection cannot be reused.
        return HttpError(413, f"Request must be smaller than {self.max_body_bytes} bytes")

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it, else say 100 Continue."""
        length = self.content_length()
        if length is not None and length > self.max_body_bytes:
            raise self._too_large()
        if self.request_version == "HTTP/1.1":
            self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    # -- writing ----------------------------------------------------------------------

    def begin_request(self) -> None:
        """Called before each request is read: reset per-request state."""

    def dispatch(self) -> None:
        """Answer the request whose head is parsed (``command``, ``path``, ``fields``)."""
        raise NotImplementedError

    def on_answer(
        self, now: datetime, status: int | None, code: str | None, request_id: str | None
    ) -> None:
        """Called once per answer (and with status None for a dropped request)."""

    def send(
        self,
        status: int,
        body: bytes = b"",
        *,
        error_code: str | None = None,
        extra: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json",
    ) -> None:
        """Write one answer (JSON unless said otherwise), with a request id and the date."""
        server = self.server
        now = server.now()
        request_id = str(uuid.uuid4())
        self.on_answer(now, status, error_code, request_id)
        if server.stopping:
            self.close_connection = True
        head = [
            _STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n",
            "Date: ",
            http_date(now),
            "\r\nx-amzn-RequestId: ",
            request_id,
            "\r\nContent-Type: ",
            content_type,
            "\r\nContent-Length: ",
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
        self.connection.settimeout(self.server.idle_timeout)
        self.connection.sendall(data)

    def send_error(
        self, status: int, code: str, message: str, extra: Iterable[tuple[str, str]] = ()
    ) -> None:
        """An AWS-style error: ``x-amzn-ErrorType`` and ``{"message": ...}``."""
        body = json.dumps({"message": message}).encode()
        self.send(status, body, error_code=code, extra=extra)

    def send_json(self, document: object) -> None:
        """A 200 answer with this JSON document."""
        self.send(200, json.dumps(document, separators=(",", ":")).encode())

    def drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        self._responded = True
        self.on_answer(self.server.now(), None, None, None)

    def address_string(self) -> str:
        """The peer's address, for the log."""
        return str(self.client_address[0])

    def log_message(self, format: str, *args: object) -> None:
        """One line on the server's log stream, if it has one."""
        log = self.server.log
        if log is not None:
            log.write(f"{self.address_string()} - {format % args}\n")
            log.flush()
