"""AWS credentials as values, and the protocols of what hands them out.

Values and protocols only: the providers are in ``_providers``, the sources that find
credentials in ``_sources``, and the ordered chain of sources in ``_chain``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeAlias

import attrs

from ._errors import CredentialsError

__all__ = [
    "Credentials",
    "CredentialsProvider",
    "CredentialsSource",
    "Expiring",
    "FrozenCredentialsSource",
    "KeyAttributes",
    "SourceSettings",
]


def _redact(value: str | None) -> str:
    return "None" if value is None else "'<redacted>'"


def _is_usable(value: object) -> bool:
    """A non-empty str (the fields are typed, but untyped callers may pass anything)."""
    return isinstance(value, str) and bool(value)


@attrs.frozen(repr=False)
class Credentials:
    """An AWS access key pair, optionally with a session token.

    The secret key and the token never appear in ``repr()`` or ``str()``.
    """

    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        if not _is_usable(self.access_key_id):
            problems.append("access_key_id must be a non-empty str")
        if not _is_usable(self.secret_access_key):
            problems.append("secret_access_key must be a non-empty str")
        if self.session_token is not None and not _is_usable(self.session_token):
            problems.append("session_token must be None or a non-empty str")
        if problems:
            # The values are deliberately not echoed: one of them may be a secret.
            raise CredentialsError("Invalid Credentials: " + "; ".join(problems))

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key={_redact(self.secret_access_key)}, "
            f"session_token={_redact(self.session_token)})"
        )

    __str__ = __repr__


@attrs.frozen
class Expiring:
    """Credentials and when they expire (epoch seconds; None: never)."""

    credentials: Credentials
    expires_at: float | None = None


class KeyAttributes(Protocol):
    """Anything with botocore-style ``access_key``/``secret_key``/``token`` attributes."""

    @property
    def access_key(self) -> str | None: ...
    @property
    def secret_key(self) -> str | None: ...
    @property
    def token(self) -> str | None: ...


class FrozenCredentialsSource(Protocol):
    """Anything with ``get_frozen_credentials()``, like botocore's credentials objects."""

    def get_frozen_credentials(self) -> KeyAttributes: ...


#: What the client's ``credentials=`` accepts.
CredentialsSource: TypeAlias = (
    Credentials | FrozenCredentialsSource | KeyAttributes | Callable[[], Credentials]
)


class CredentialsProvider(Protocol):
    """Hands out current credentials."""

    def get(self) -> Credentials:
        """Current credentials: cheap when cached, thread-safe, refreshed ahead of expiry.

        Raises ``CredentialsError`` when none can be had.
        """
        ...


@attrs.frozen(kw_only=True)
class SourceSettings:
    """Limits of the credential sources that run something (tests make them small)."""

    #: Seconds ``credential_process`` may run before it is killed.
    process_timeout: float = 60.0
    #: Seconds per request to the container credentials endpoint, and attempts.
    container_timeout: float = 2.0
    container_attempts: int = 3
    #: Seconds between attempts at the container or instance-metadata endpoints.
    retry_pause: float = 1.0


DEFAULT_SOURCE_SETTINGS = SourceSettings()
