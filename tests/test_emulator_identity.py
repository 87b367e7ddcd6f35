"""Cognito Identity in the emulator: GetId and GetCredentialsForIdentity (unsigned, as in
the model), for unauthenticated identities of registered pools only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _signed import Answer, call

from cognito_events.testing import Emulator

_TARGET = "AWSCognitoIdentityService."


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_identity_pool()
        yield emulator


def _identity_call(emulator: Emulator, operation: str, body: object) -> Answer:
    return call(
        emulator,
        "POST",
        "/",
        body,
        signed=False,
        headers={
            "X-Amz-Target": _TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
        },
    )


def test_get_id_then_credentials(emulator: Emulator) -> None:
    pool = emulator.identity_pools[0]
    first = _identity_call(emulator, "GetId", {"IdentityPoolId": pool}).document["IdentityId"]
    second = _identity_call(emulator, "GetId", {"IdentityPoolId": pool}).document["IdentityId"]
    assert first != second  # no logins: every GetId is a new identity
    assert first.startswith("us-east-1:")
    answer = _identity_call(emulator, "GetCredentialsForIdentity", {"IdentityId": first})
    assert answer.status == 200
    credentials = answer.document["Credentials"]
    assert set(credentials) == {"AccessKeyId", "SecretKey", "SessionToken", "Expiration"}
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert len(credentials["AccessKeyId"]) == 20
    now = emulator._running.now().timestamp()
    assert now + 3500 < credentials["Expiration"] <= now + 3600


@pytest.mark.parametrize(
    ("operation", "body", "status", "code"),
    [
        ("GetId", {"IdentityPoolId": "us-east-1:00000000-0000-4000-8000-000000000000"}, 404,
         "ResourceNotFoundException"),
        ("GetId", {"IdentityPoolId": "not a pool"}, 400, "InvalidParameterException"),
        ("GetId", {}, 400, "InvalidParameterException"),
        ("GetId", b"{", 400, "SerializationException"),
        ("GetCredentialsForIdentity", {"IdentityId": "us-east-1:00000000-0000-4000-8000-0"},
         404, "ResourceNotFoundException"),
        ("GetCredentialsForIdentity", {"IdentityId": 3}, 400, "SerializationException"),
        ("ListIdentities", {}, 400, "UnknownOperationException"),
    ],
)  # fmt: skip
def test_refusals(emulator: Emulator, operation: str, body: object, status: int, code: str) -> None:
    answer = _identity_call(emulator, operation, body)
    assert (answer.status, answer.code) == (status, code)
    assert answer.document["message"]


def test_logins_are_refused(emulator: Emulator) -> None:
    pool = emulator.identity_pools[0]
    answer = _identity_call(
        emulator, "GetId", {"IdentityPoolId": pool, "Logins": {"graph.facebook.com": "token"}}
    )
    assert (answer.status, answer.code) == (400, "NotAuthorizedException")


def test_identity_credentials_are_for_cognito_sync_only(emulator: Emulator) -> None:
    identity = emulator.new_identity()
    answer = call(
        emulator,
        "GET",
        "/2015-03-31/functions/anything/policy",
        credentials=identity.credentials,
        service="lambda",
    )
    assert (answer.status, answer.code) == (403, "AccessDeniedException")


def test_identities_go_with_their_pool(emulator: Emulator) -> None:
    identity = emulator.new_identity()
    emulator.sync_dataset(identity, "game", {"a": "1"})
    emulator.remove_identity_pool(identity.identity_pool_id)
    emulator.add_identity_pool(identity.identity_pool_id)
    answer = _identity_call(
        emulator, "GetCredentialsForIdentity", {"IdentityId": identity.identity_id}
    )
    assert (answer.status, answer.code) == (404, "ResourceNotFoundException")
    assert emulator.records(identity, "game") == {}


def test_temporary_secrets_stay_out_of_reprs(emulator: Emulator) -> None:
    identity = emulator.new_identity()
    stored = emulator._running.store.identity_key(identity.credentials.access_key_id)
    assert stored is not None
    for text in (repr(identity), repr(stored)):
        assert identity.credentials.secret_access_key not in text
        assert str(identity.credentials.session_token) not in text
        assert identity.credentials.access_key_id in text
