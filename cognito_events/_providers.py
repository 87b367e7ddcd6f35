"""Credential providers: how credentials, once found, are handed out on every call.

``StaticProvider`` for fixed keys; the converting providers for what ``credentials=``
accepts besides ``Credentials`` (botocore's credentials objects, objects with key
attributes, functions), read on every use; ``RefreshingProvider`` for temporary
credentials, refreshed ahead of their expiry. Where credentials come from is
``_sources``; in which order the sources are tried is ``_chain``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, TypeGuard

import attrs

from ._credentials import Credentials, CredentialsProvider, Expiring, FrozenCredentialsSource
from ._errors import CognitoEventsError, CredentialsError, Problem

__all__ = [
    "ADVISORY_REFRESH",
    "MANDATORY_REFRESH",
    "CallableProvider",
    "FrozenProvider",
    "RefreshingProvider",
    "StaticProvider",
    "check_credentials_source",
    "credentials_from_attributes",
    "explicit_provider",
]

logger = logging.getLogger("cognito_events.credentials")

#: Seconds before expiry when a refresh is attempted while others keep the current
#: credentials (advisory), and when callers must wait for one (mandatory): the SDKs'.
ADVISORY_REFRESH: Final = 15 * 60.0
MANDATORY_REFRESH: Final = 10 * 60.0
#: After a failed advisory refresh, wait this long before trying again.
ADVISORY_RETRY_PAUSE: Final = 60.0


# -- what credentials= accepts ----------------------------------------------------------


def _describe_source(source: object) -> str:
    return f"credentials= ({type(source).__module__}.{type(source).__qualname__})"


def credentials_from_attributes(source: object, what: str) -> Credentials:
    """Credentials from ``access_key``/``secret_key``/``token`` attributes (never echoed)."""
    access_key = getattr(source, "access_key", None)
    secret_key = getattr(source, "secret_key", None)
    token = getattr(source, "token", None)
    missing = [
        name
        for name, value in (("access_key", access_key), ("secret_key", secret_key))
        if not isinstance(value, str) or not value
    ]
    if token is not None and not isinstance(token, str):
        missing.append("token (must be a str or None)")
    if missing:
        raise CredentialsError(f"{what} gave no usable " + " and ".join(missing))
    assert isinstance(access_key, str)
    assert isinstance(secret_key, str)
    return Credentials(access_key, secret_key, token or None)


class StaticProvider:
    """Always the same credentials."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def get(self) -> Credentials:
        return self._credentials

    def __repr__(self) -> str:
        return f"StaticProvider({self._credentials!r})"


class _ConvertingProvider:
    """Reads an outside object on every use; converts only when its values change."""

    def __init__(self, source: object) -> None:
        self._source = source
        self._what = _describe_source(source)
        self._last: tuple[object, object, object, Credentials] | None = None

    def _read(self) -> object:
        return self._source

    def get(self) -> Credentials:
        try:
            holder = self._read()
        except CognitoEventsError:
            raise
        except Exception as exc:
            raise CredentialsError(
                f"{self._what} failed to give credentials: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(holder, Credentials):
            return holder
        values = (
            getattr(holder, "access_key", None),
            getattr(holder, "secret_key", None),
            getattr(holder, "token", None),
        )
        last = self._last
        if last is not None and last[:3] == values:
            return last[3]
        credentials = credentials_from_attributes(holder, self._what)
        self._last = (*values, credentials)
        return credentials


class FrozenProvider(_ConvertingProvider):
    """Calls ``get_frozen_credentials()`` on every use (botocore refreshes inside it)."""

    def __init__(self, source: FrozenCredentialsSource) -> None:
        super().__init__(source)
        self._frozen_source = source

    def _read(self) -> object:
        return self._frozen_source.get_frozen_credentials()


class CallableProvider(_ConvertingProvider):
    """Calls a zero-argument function on every use; it must return ``Credentials``."""

    def __init__(self, source: Callable[[], object]) -> None:
        super().__init__(source)
        self._function = source

    def _read(self) -> object:
        result = self._function()
        if not isinstance(result, Credentials):
            raise CredentialsError(
                f"{self._what} returned {type(result).__name__}, not Credentials"
            )
        return result


def _has_frozen_credentials(source: object) -> TypeGuard[FrozenCredentialsSource]:
    """Whether ``source`` has a callable ``get_frozen_credentials`` (a structural check
    ``isinstance`` cannot make: the protocol is not runtime-checkable)."""
    return callable(getattr(source, "get_frozen_credentials", None))


def explicit_provider(source: object) -> CredentialsProvider | None:
    if isinstance(source, Credentials):
        return StaticProvider(source)
    if _has_frozen_credentials(source):
        return FrozenProvider(source)
    if hasattr(source, "access_key") and hasattr(source, "secret_key"):
        return _ConvertingProvider(source)
    if callable(source):
        return CallableProvider(source)
    return None


def check_credentials_source(value: object) -> list[Problem]:
    """Problems with a ``credentials=`` argument (for the client's constructor; no I/O)."""
    if value is None or explicit_provider(value) is not None:
        return []
    return [
        Problem(
            "credentials",
            "must be Credentials, an object with get_frozen_credentials() (such as "
            "boto3.Session().get_credentials()), an object with access_key/secret_key/token "
            f"attributes, or a function returning Credentials; not {type(value).__name__}",
        )
    ]


# -- refreshing -------------------------------------------------------------------------


@attrs.frozen
class _State:
    credentials: Credentials
    #: Before this (epoch seconds) the credentials are simply returned.
    advisory_at: float
    #: From this on, callers wait for a refresh.
    mandatory_at: float


class RefreshingProvider:
    """Temporary credentials from ``fetch``, refreshed ahead of expiry, thread-safe.

    ``get()`` returns the cached credentials after a single clock check until the
    advisory window (15 min before expiry): then one caller refreshes while the others
    keep the current credentials, and a failure there is logged, not raised. From the
    mandatory window (10 min before expiry) on, callers wait for the one refresh in
    progress, and its failure is raised. Credentials issued for less than 20 minutes
    are refreshed after a quarter (advisory) and half (mandatory) of their lifetime
    instead, so they are used rather than fetched again on every call.
    """

    def __init__(
        self,
        fetch: Callable[[], Expiring],
        *,
        name: str,
        clock: Callable[[], float],
        initial: Expiring | None = None,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self.name = name
        self._lock = threading.Lock()
        self._state: _State | None = None
        self.refreshes = 0
        if initial is not None:
            self._state = self._new_state(initial)

    def get(self) -> Credentials:
        state = self._state
        if state is not None and self._clock() < state.advisory_at:
            return state.credentials
        return self._refresh(state)

    def _new_state(self, fetched: Expiring) -> _State:
        if fetched.expires_at is None:
            inf = float("inf")
            return _State(fetched.credentials, inf, inf)
        now = self._clock()
        remaining = fetched.expires_at - now
        if remaining <= 0:
            raise CredentialsError(
                f"{self.name} gave credentials that expired {-remaining:.0f} s ago; "
                "check this machine's clock"
            )
        advisory = fetched.expires_at - min(ADVISORY_REFRESH, remaining * 0.75)
        mandatory = fetched.expires_at - min(MANDATORY_REFRESH, remaining * 0.5)
        return _State(fetched.credentials, advisory, mandatory)

    def _fetch_state(self) -> _State:
        state = self._new_state(self._fetch())
        self.refreshes += 1
        return state

    def _refresh(self, seen: _State | None) -> Credentials:
        if seen is not None and self._clock() < seen.mandatory_at:
            # Advisory window: one caller refreshes, nobody waits.
            if not self._lock.acquire(blocking=False):
                return seen.credentials
            try:
                current = self._state
                if current is not seen and current is not None:
                    return current.credentials
                try:
                    self._state = self._fetch_state()
                except CredentialsError as exc:
                    pause = min(self._clock() + ADVISORY_RETRY_PAUSE, seen.mandatory_at)
                    self._state = attrs.evolve(seen, advisory_at=pause)
                    logger.warning(
                        "Refreshing AWS credentials from %s failed; the current ones stay in "
                        "use until %s: %s",
                        self.name,
                        datetime.fromtimestamp(seen.mandatory_at, UTC).isoformat(),
                        exc,
                    )
                return self._state.credentials
            finally:
                self._lock.release()
        with self._lock:
            current = self._state
            if current is not None and self._clock() < current.mandatory_at:
                return current.credentials
            state = self._fetch_state()
            self._state = state
            return state.credentials

    def __repr__(self) -> str:
        return f"RefreshingProvider({self.name})"
