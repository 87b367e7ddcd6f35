"""The unsigned, test-only admin API under ``/_emulator/`` (shapes documented in the package).

Each route is a small function of the server and the decoded request; the handler turns
what it returns (or the :class:`AdminError` it raises) into an HTTP answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Final
from urllib.parse import unquote

from ._state import Fault

if TYPE_CHECKING:
    from ._server import EmulatorServer

__all__ = ["ADMIN_PREFIX", "AdminError", "handle_admin"]

ADMIN_PREFIX: Final = "/_emulator/"
_POOLS_PREFIX: Final = ADMIN_PREFIX + "identity-pools/"
#: Largest clock offset the admin API accepts, either way.
MAX_CLOCK_OFFSET: Final = timedelta(days=3650)


class AdminError(Exception):
    """An admin call was refused; becomes an AWS-style JSON error answer."""

    def __init__(self, status: int, code: str, message: str, *, allow: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow


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
    if not isinstance(document, dict):
        raise AdminError(
            400,
            "SerializationException",
            f"The body must be a JSON object, not {type(document).__name__}",
        )
    return document


def _invalid(message: str) -> AdminError:
    return AdminError(400, "InvalidParameterException", message)


def _health(server: EmulatorServer, body: bytes) -> dict[str, object]:
    return {"status": "ok", "endpoint_url": server.endpoint_url}


def _list_pools(server: EmulatorServer, body: bytes) -> dict[str, object]:
    return {"identity_pools": server.identity_pools()}


def _add_pool(server: EmulatorServer, body: bytes) -> dict[str, object]:
    document = _json_object(body)
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


def _events(server: EmulatorServer, body: bytes) -> dict[str, object]:
    return {"events": server.all_events()}


def _list_faults(server: EmulatorServer, body: bytes) -> dict[str, object]:
    return {"faults": [fault.to_json() for fault in server.faults.pending()]}


def _add_fault(server: EmulatorServer, body: bytes) -> dict[str, object]:
    try:
        fault = Fault.from_json(_json_object(body))
    except ValueError as exc:
        raise _invalid(f"Invalid fault: {exc}") from None
    server.faults.add(fault)
    return _list_faults(server, body)


def _clear_faults(server: EmulatorServer, body: bytes) -> dict[str, object]:
    server.faults.clear()
    return {"faults": []}


def _list_requests(server: EmulatorServer, body: bytes) -> dict[str, object]:
    return {"requests": [entry.to_json() for entry in server.requests.entries()]}


def _clear_requests(server: EmulatorServer, body: bytes) -> dict[str, object]:
    server.requests.clear()
    return {"requests": []}


def _reset(server: EmulatorServer, body: bytes) -> dict[str, object]:
    server.reset()
    return {"identity_pools": server.identity_pools()}


def _clock(server: EmulatorServer, body: bytes) -> dict[str, object]:
    from ..sigv4 import format_amz_date

    return {
        "now": format_amz_date(server.now()),
        "offset_seconds": server.clock_offset.total_seconds(),
    }


def _set_clock(server: EmulatorServer, body: bytes) -> dict[str, object]:
    document = _json_object(body)
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
    return _clock(server, body)


_Route = Callable[["EmulatorServer", bytes], dict[str, object]]
_ROUTES: Final[dict[str, dict[str, _Route]]] = {
    "health": {"GET": _health},
    "identity-pools": {"GET": _list_pools, "POST": _add_pool},
    "events": {"GET": _events},
    "faults": {"GET": _list_faults, "POST": _add_fault, "DELETE": _clear_faults},
    "requests": {"GET": _list_requests, "DELETE": _clear_requests},
    "reset": {"POST": _reset},
    "clock": {"GET": _clock, "PUT": _set_clock},
}


def _pool(server: EmulatorServer, method: str, pool: str) -> dict[str, object]:
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


def handle_admin(server: EmulatorServer, method: str, path: str, body: bytes) -> dict[str, object]:
    """Run one admin call; raises :class:`AdminError` for anything refused."""
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
    return route(server, body)
