"""The emulator's request handler: route, SigV4, injected faults and the service.

Framing (strict HTTP/1.1, one write per answer) is :mod:`._http`'s. Order of checks, as
the services do them: body framing and size, route and method (:mod:`._router`),
signature for the route's signing name and whose key it is (:mod:`._auth`), injected
faults (:mod:`._faults`), then the operation (:mod:`.services`), which checks the
body's JSON, the model's constraints and the resources. Admin calls (:mod:`._admin`)
pass its guard before their body is read. Errors carry ``x-amzn-ErrorType`` and a
``{"message": ...}`` JSON body, never a traceback or an HTML page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast
from urllib.parse import parse_qs

from .._credentials import Credentials
from ._admin import ADMIN_PREFIX, AdminError, AdminRequest, check_access, handle_admin
from ._auth import AuthFailure, verify
from ._http import MAX_BODY_BYTES, HttpHandler
from ._router import Route, RouteError, route
from ._view import EmulatorView
from .services import OPERATIONS
from .services._common import Caller, Request, ServiceError
from .services.sts import error_body as sts_error_body

__all__ = ["MAX_BODY_BYTES", "EmulatorHandler"]


class EmulatorHandler(HttpHandler):
    """One connection of the emulator: the admin API and the services' operations."""

    @property
    def emulator(self) -> EmulatorView:
        """The server, as the handler and the services see it."""
        # socketserver gives each handler the server that made it: an EmulatorServer,
        # which the HTTP layer types as its own HttpServerView. EmulatorView is a Protocol,
        # which isinstance cannot check, so this narrowing is stated, not tested.
        return cast("EmulatorView", self.server)

    # Per request; reset by begin_request.
    _recording = False
    _operation: str | None = None
    _service_name: str | None = None
    _body = b""

    # Names the operations below use.
    @property
    def _fields(self) -> dict[str, list[str]]:
        return self.fields

    def _send_error(
        self, status: int, code: str, message: str, extra: Iterable[tuple[str, str]] = ()
    ) -> None:
        if self._service_name == "sts":  # the query protocol answers errors in XML
            body = sts_error_body(code, message)
            self.send(status, body, error_code=code, extra=extra, content_type="text/xml")
            return
        self.send_error(status, code, message, extra)

    def begin_request(self) -> None:
        """Nothing recorded yet for this request."""
        self._recording = False
        self._operation = None
        self._service_name = None
        self._body = b""

    # -- the request log --------------------------------------------------------------

    def on_answer(
        self, now: datetime, status: int | None, code: str | None, request_id: str | None
    ) -> None:
        """Record service requests (not admin calls) in the request log."""
        if self._recording:
            self.emulator.requests.add(
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
        server = self.emulator
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
        server = self.emulator
        method = self.command
        found = route(method, path, self._fields)
        if isinstance(found, RouteError):
            extra = () if found.allow is None else (("Allow", found.allow),)
            self._send_error(found.status, found.code, found.message, extra)
            return
        operation = found.operation
        self._operation = operation
        self._service_name = found.service
        caller, region = self._authenticate(found, path, query, body)
        if caller is None:
            return
        fault = server.faults.take(operation)
        if fault is not None and fault.apply(self):
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
        headers = dict(answer.headers)
        content_type = headers.pop("Content-Type", "application/json")
        self.send(
            answer.status, answer.body, extra=tuple(headers.items()), content_type=content_type
        )

    def _authenticate(
        self, found: Route, path: str, query: str, body: bytes
    ) -> tuple[Caller | None, str | None]:
        """Whose request this is, and its signing region; ``(None, None)`` once refused."""
        if found.signing_name is None:
            return Caller(kind="anonymous"), None
        server = self.emulator
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

    def __init__(self, server: EmulatorView) -> None:
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
