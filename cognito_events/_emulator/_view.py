"""What handlers and the admin API see of the server: a small protocol, not the class.

:class:`~._server.EmulatorServer` satisfies it; depending on this instead keeps the
imports one way (server -> handler -> admin -> view) with no cycle, type-only included.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from .._credentials import Credentials
from ._faults import FaultQueue
from ._http import HttpServerView
from ._state import RequestLog
from .services._common import Context

__all__ = ["EmulatorView"]


class EmulatorView(HttpServerView, Context, Protocol):
    """The emulator's state and settings, as the request handlers and services use them."""

    credentials_by_key: Mapping[str, Credentials]
    faults: FaultQueue
    requests: RequestLog
    clock_offset: timedelta

    @property
    def admin_token(self) -> str | None: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def endpoint_url(self) -> str: ...
    def add_identity_pool(self, identity_pool_id: str) -> bool: ...
    def new_identity_pool_id(self, region: str) -> str: ...
    def remove_identity_pool(self, identity_pool_id: str) -> bool: ...
    def identity_pools(self) -> list[str]: ...
    def events(self, identity_pool_id: str) -> dict[str, str] | None: ...
    def all_events(self) -> dict[str, dict[str, str]]: ...
    def reset(self) -> None: ...
