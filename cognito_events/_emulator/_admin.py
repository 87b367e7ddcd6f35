"""The test-only admin API under ``/_emulator/`` (shapes documented in the package), guarded.

:func:`check_access` runs first: a ``Host`` other than the server's own address (or
localhost, 127.0.0.1, [::1]) with its port, or an ``Origin`` off loopback, is refused
with 403 (DNS rebinding, cross-site pages); with an admin token every call needs
``Authorization: Bearer TOKEN`` (401 without, 403 wrong); POST and PUT need
``Content-Type: application/json`` (415), which a cross-site form cannot send. Each route
is then a small function of the server and the request; the handler turns what it
returns (or the :class:`AdminError` it raises) into an HTTP answer.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Final
from urllib.parse import unquote, urlsplit

import attrs

from ._faults import Fault
from ._view import EmulatorView
from .services._common import is_json_object

__all__ = ["ADMIN_PREFIX", "AdminError", "AdminRequest", "check_access", "handle_admin"]

ADMIN_PREFIX: Final = "/_emulator/"
_POOLS_PREFIX: Final = ADMIN_PREFIX + "identity-pools/"
#: Largest clock offset the admin API accepts, either way.
MAX_CLOCK_OFFSET: Final = timedelta(days=3650)


class AdminError(Exception):
    """An admin call was refused; becomes an AWS-style JSON error answer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        allow: str | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow
        self.extra = extra if allow is None else (*extra, ("Allow", allow))


@attrs.frozen(kw_only=True)
class AdminRequest:
    """An admin call as the routes see it."""

    method: str
    path: str
    body: bytes
    host: str


_LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "[::1]"})
_WILDCARDS: Final = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind
_JSON: Final = "application/json"


def _split_host(authority: str) -> tuple[str, str]:
    """``host[:port]`` -> (lowercased host, IPv6 in brackets; port or '')."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return "", ""
        return authority[: end + 1], authority[end + 2 :] if authority[
            end + 1 : end + 2
        ] == ":" else ""
    host, _, port = authority.partition(":")
    return host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_allowed(server: EmulatorView, authority: str) -> bool:
    host, port = _split_host(authority)
    if port != str(server.port):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    bound = server.host.lower()
    if bound in _WILDCARDS:
        # Any of the machine's addresses, but only as an IP literal: a DNS name could be
        # rebound to 127.0.0.1 by a web page's own domain.
        return _is_ip(host)
    return host == (f"[{bound}]" if ":" in bound else bound)


def check_access(server: EmulatorView, method: str, fields: Mapping[str, list[str]]) -> None:
    """Refuse (AdminError) a call from off the guard: Host, Origin, token, Content-Type."""
    hosts = fields.get("host")
    if hosts is None or not _host_allowed(server, hosts[0]):
        raise AdminError(
            403,
            "AccessDeniedException",
            "The admin API answers only requests whose Host is this server's address "
            f"(or localhost) with port {server.port}",
        )
    for origin in fields.get("origin", ()):
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not _is_loopback(_split_host(parts.netloc)[0]):
            raise AdminError(
                403,
                "AccessDeniedException",
                "The admin API refuses requests from web pages off this machine (Origin)",
            )
    token = server.admin_token
    if token is not None:
        given = fields.get("authorization")
        if given is None:
            raise AdminError(
                401,
                "MissingAuthenticationTokenException",
                "The admin API needs 'Authorization: Bearer <admin token>'",
                extra=(("WWW-Authenticate", 'Bearer realm="cognito-events-emulator"'),),
            )
        scheme, _, value = given[0].strip().partition(" ")
        if (
            len(given) != 1
            or scheme.lower() != "bearer"
            or not hmac.compare_digest(value.strip().encode(), token.encode())
        ):
            raise AdminError(403, "AccessDeniedException", "Wrong admin token")
    if method in ("POST", "PUT"):
        types = fields.get("content-type")
        if types is None or types[0].partition(";")[0].strip().lower() != _JSON:
            raise AdminError(
                415,
                "UnsupportedMediaTypeException",
                "Admin POST and PUT requests need 'Content-Type: application/json'",
            )


def _json_object(body: bytes) -> dict[str, object]:
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise AdminError(400, "SerializationException", f"The body is not JSON: {exc}") from None
    except RecursionError:
        raise AdminError(
            400, "SerializationException", "The body is not JSON: it is nested too deeply"
        ) from None
    if not is_json_object(document):
        raise AdminError(
            400,
            "SerializationException",
            f"The body must be a JSON object, not {type(document).__name__}",
        )
    return document


def _invalid(message: str) -> AdminError:
    return AdminError(400, "InvalidParameterException", message)


def _health(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    url = server.endpoint_url
    if server.host.lower() in _WILDCARDS and request.host:
        url = f"http://{request.host}"  # checked by check_access: an IP literal, our port
    return {"status": "ok", "endpoint_url": url}


def _list_pools(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    return {"identity_pools": server.identity_pools()}


def _add_pool(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    document = _json_object(request.body)
    unknown = sorted(set(document) - {"identity_pool_id", "region"})
    if unknown:
        raise _invalid(f"Unknown field(s): {', '.join(unknown)}")
    pool = document.get("identity_pool_id")
    region = document.get("region")
    if pool is not None and region is not None:
        raise _invalid("Give identity_pool_id or region, not both")
    if pool is None:
        if region is None:
            raise _invalid("Give identity_pool_id (or region, to have an id generated)")
        if not isinstance(region, str):
            raise _invalid(f"region must be a string, not {region!r}")
        pool = server.new_identity_pool_id(region)
    if not isinstance(pool, str):
        raise _invalid(f"identity_pool_id must be a string, not {pool!r}")
    try:
        created = server.add_identity_pool(pool)
    except ValueError as exc:
        raise _invalid(str(exc)) from None
    return {"identity_pool_id": pool, "created": created}


def _events(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    return {"events": server.all_events()}


def _list_faults(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    return {"faults": [fault.to_json() for fault in server.faults.pending()]}


def _add_fault(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    try:
        fault = Fault.from_json(_json_object(request.body))
    except ValueError as exc:
        raise _invalid(f"Invalid fault: {exc}") from None
    server.faults.add(fault)
    return _list_faults(server, request)


def _clear_faults(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    server.faults.clear()
    return {"faults": []}


def _list_requests(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    return {"requests": [entry.to_json() for entry in server.requests.entries()]}


def _clear_requests(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    server.requests.clear()
    return {"requests": []}


def _reset(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    server.reset()
    return {"identity_pools": server.identity_pools()}


def _clock(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    from ..sigv4 import format_amz_date

    return {
        "now": format_amz_date(server.now()),
        "offset_seconds": server.clock_offset.total_seconds(),
    }


def _set_clock(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    document = _json_object(request.body)
    if set(document) != {"offset_seconds"}:
        raise _invalid('The body must be {"offset_seconds": <number>}')
    seconds = document["offset_seconds"]
    if (
        not isinstance(seconds, int | float)
        or isinstance(seconds, bool)
        or seconds != seconds  # NaN
    ):
        raise _invalid(f"offset_seconds must be a number, not {seconds!r}")
    try:
        offset = timedelta(seconds=seconds)
    except OverflowError:
        offset = MAX_CLOCK_OFFSET * 2
    if abs(offset) > MAX_CLOCK_OFFSET:
        raise _invalid(f"offset_seconds must be within ±{MAX_CLOCK_OFFSET.days} days")
    server.clock_offset = offset
    return _clock(server, request)


_Route = Callable[[EmulatorView, AdminRequest], dict[str, object]]
_ROUTES: Final[dict[str, dict[str, _Route]]] = {
    "health": {"GET": _health},
    "identity-pools": {"GET": _list_pools, "POST": _add_pool},
    "events": {"GET": _events},
    "faults": {"GET": _list_faults, "POST": _add_fault, "DELETE": _clear_faults},
    "requests": {"GET": _list_requests, "DELETE": _clear_requests},
    "reset": {"POST": _reset},
    "clock": {"GET": _clock, "PUT": _set_clock},
}


def _pool(server: EmulatorView, method: str, pool: str) -> dict[str, object]:
    if method == "GET":
        events = server.events(pool)
        if events is None:
            raise AdminError(404, "ResourceNotFoundException", f"IdentityPool '{pool}' not found.")
        return {"identity_pool_id": pool, "events": events}
    if method == "DELETE":
        if not server.remove_identity_pool(pool):
            raise AdminError(404, "ResourceNotFoundException", f"IdentityPool '{pool}' not found.")
        return {"identity_pool_id": pool}
    raise _not_allowed(method, "GET, DELETE")


def _not_allowed(method: str, allowed: str) -> AdminError:
    return AdminError(
        405, "MethodNotAllowedException", f"Use {allowed} here, not {method}", allow=allowed
    )


def handle_admin(server: EmulatorView, request: AdminRequest) -> dict[str, object]:
    """Run one admin call (already past :func:`check_access`); AdminError when refused."""
    method, path = request.method, request.path
    if path.startswith(_POOLS_PREFIX):
        raw = path[len(_POOLS_PREFIX) :]
        if raw and "/" not in raw:
            return _pool(server, method, unquote(raw))
    routes = _ROUTES.get(path[len(ADMIN_PREFIX) :].rstrip("/"))
    if routes is None or not path.startswith(ADMIN_PREFIX):
        raise AdminError(
            404,
            "UnknownOperationException",
            f"No admin operation at {path}; see the cognito_events._emulator documentation",
        )
    route = routes.get(method)
    if route is None:
        raise _not_allowed(method, ", ".join(routes))
    return route(server, request)
