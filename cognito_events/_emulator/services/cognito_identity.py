"""Amazon Cognito Identity, for unauthenticated identities of a registered pool: GetId
creates an identity, GetCredentialsForIdentity hands it temporary credentials (one hour)
that the emulator then knows as that identity's. Both are unsigned, as in the model.

Logins (authenticated identities), developer-authenticated identities and roles are not
emulated: a request with ``Logins`` is refused with NotAuthorizedException.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import timedelta
from typing import Final

from ..._validation import pool_region
from .._store import IdentityKey
from ._common import Answer, Context, Request, ServiceError, json_object, validation_message

__all__ = ["CREDENTIALS_LIFETIME", "OPERATIONS", "new_identity", "new_identity_key"]

#: How long the temporary credentials of GetCredentialsForIdentity last.
CREDENTIALS_LIFETIME: Final = timedelta(hours=1)
_ID: Final = re.compile(r"[\w-]+:[0-9a-f-]+")
_ACCOUNT: Final = re.compile(r"\d+")
_KEY_ALPHABET: Final = string.ascii_uppercase + string.digits


def _id_violations(field: str, value: object) -> list[str]:
    if value is None:
        return [f"Value null at '{field}' failed to satisfy constraint: Member must not be null"]
    if not isinstance(value, str):
        raise ServiceError(400, "SerializationException", f"Expected a string for '{field}'")
    problems: list[str] = []
    prefix = f"Value '{value}' at '{field}' failed to satisfy constraint: "
    if not value:
        return [prefix + "Member must have length greater than or equal to 1"]
    if _ID.fullmatch(value) is None:
        problems.append(prefix + f"Member must satisfy regular expression pattern: {_ID.pattern}")
    if len(value) > 55:
        problems.append(prefix + "Member must have length less than or equal to 55")
    return problems


def _refuse_logins(body: dict[str, object]) -> None:
    if body.get("Logins"):
        raise ServiceError(
            400,
            "NotAuthorizedException",
            "Logins are not supported by this emulator: only unauthenticated identities are",
        )


def new_identity(context: Context, identity_pool_id: str) -> str:
    """Create an identity in a registered pool; ServiceError 404 when the pool is unknown."""
    identity_id = f"{pool_region(identity_pool_id)}:{uuid.uuid4()}"
    if not context.store.add_identity(identity_pool_id, identity_id, context.now().timestamp()):
        raise ServiceError(
            404, "ResourceNotFoundException", f"IdentityPool '{identity_pool_id}' not found."
        )
    return identity_id


def new_identity_key(context: Context, identity_id: str) -> IdentityKey:
    """Fresh temporary credentials for an identity (ServiceError 404 if it is unknown)."""
    pool = context.store.identity_pool_of(identity_id)
    if pool is None:
        raise ServiceError(404, "ResourceNotFoundException", f"Identity '{identity_id}' not found.")
    key = IdentityKey(
        identity_id=identity_id,
        identity_pool_id=pool,
        access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
        secret_access_key=secrets.token_urlsafe(30),
        session_token=secrets.token_urlsafe(96),
        expiration=(context.now() + CREDENTIALS_LIFETIME).timestamp(),
    )
    context.store.add_identity_key(key)
    return key


def _get_id(context: Context, request: Request) -> Answer:
    body = json_object(request, required=True)
    pool_id = body.get("IdentityPoolId")
    violations = _id_violations("identityPoolId", pool_id)
    account = body.get("AccountId")
    if account is not None and (
        not isinstance(account, str)
        or not 1 <= len(account) <= 15
        or not _ACCOUNT.fullmatch(account)
    ):
        violations.append(
            f"Value '{account}' at 'accountId' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: \\d+"
        )
    if violations:
        raise ServiceError(400, "InvalidParameterException", validation_message(violations))
    _refuse_logins(body)
    assert isinstance(pool_id, str)  # _id_violations refuses anything else
    return Answer.json({"IdentityId": new_identity(context, pool_id)})


def _get_credentials(context: Context, request: Request) -> Answer:
    body = json_object(request, required=True)
    identity_id = body.get("IdentityId")
    violations = _id_violations("identityId", identity_id)
    if violations:
        raise ServiceError(400, "InvalidParameterException", validation_message(violations))
    _refuse_logins(body)
    if body.get("CustomRoleArn") is not None:
        raise ServiceError(
            400, "InvalidParameterException", "CustomRoleArn is not supported by this emulator"
        )
    assert isinstance(identity_id, str)  # _id_violations refuses anything else
    key = new_identity_key(context, identity_id)
    return Answer.json(
        {
            "IdentityId": key.identity_id,
            "Credentials": {
                "AccessKeyId": key.access_key_id,
                "SecretKey": key.secret_access_key,
                "SessionToken": key.session_token,
                "Expiration": key.expiration,
            },
        }
    )


OPERATIONS: Final = {"GetId": _get_id, "GetCredentialsForIdentity": _get_credentials}
