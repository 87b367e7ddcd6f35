"""AWS credentials: the value class and where the client finds them."""

from __future__ import annotations

import os
from collections.abc import Mapping

import attrs

from ._errors import CredentialsError

__all__ = ["Credentials", "resolve_credentials"]


def _redact(value: str | None) -> str:
    return "None" if value is None else "'<redacted>'"


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
        if not isinstance(self.access_key_id, str) or not self.access_key_id:
            problems.append("access_key_id must be a non-empty str")
        if not isinstance(self.secret_access_key, str) or not self.secret_access_key:
            problems.append("secret_access_key must be a non-empty str")
        if self.session_token is not None and (
            not isinstance(self.session_token, str) or not self.session_token
        ):
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


def credentials_from_environ(environ: Mapping[str, str]) -> Credentials | None:
    """Read ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``.

    Returns None when neither key variable is set; a half-set pair is an error.
    """
    key_id = environ.get("AWS_ACCESS_KEY_ID", "")
    secret = environ.get("AWS_SECRET_ACCESS_KEY", "")
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None
    if not key_id and not secret:
        return None
    if not key_id:
        raise CredentialsError(
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both or neither"
        )
    if not secret:
        raise CredentialsError(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both or neither"
        )
    return Credentials(access_key_id=key_id, secret_access_key=secret, session_token=token)


def resolve_credentials(
    explicit: Credentials | None, environ: Mapping[str, str] | None = None
) -> Credentials:
    """Return the explicit credentials, else those in the environment, else raise."""
    if explicit is not None:
        return explicit
    found = credentials_from_environ(os.environ if environ is None else environ)
    if found is None:
        raise CredentialsError(
            "No AWS credentials found. Looked in: the credentials= argument (not given); "
            "the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(not set). Pass credentials=Credentials(...) or set those variables."
        )
    return found
