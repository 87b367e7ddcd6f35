"""The SyncTrigger of myapp, run the way Cognito Sync runs it, against the local emulator."""

import pytest
from myapp.sync_trigger import handler

from cognito_events import CognitoEventsClient, NotAuthorizedError
from cognito_events.testing import Emulator, Identity

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-dataset-sync"


@pytest.fixture
def bound(
    cognito_sync_emulator: Emulator,
    cognito_events_client: CognitoEventsClient,
    cognito_identity: Identity,
) -> Emulator:
    """The function registered, allowed to be invoked by Cognito Sync for this pool, and
    bound to the pool's SyncTrigger: what a deployment does."""
    emulator, pool = cognito_sync_emulator, cognito_identity.identity_pool_id
    emulator.add_lambda_function(ARN, handler)
    emulator.add_permission(ARN, source_arn=emulator.sync_source_arn(pool, ARN))
    cognito_events_client.set_cognito_events(pool, {"SyncTrigger": ARN})
    return emulator


def test_the_trigger_rewrites_the_sync(bound: Emulator, cognito_identity: Identity) -> None:
    answer = bound.sync_dataset(cognito_identity, "game", {"score": "250", "cheat": "on"})

    assert answer == {"score": "100", "cheat": None, "badge": "scorer"}
    assert bound.records(cognito_identity, "game") == {"score": "100", "badge": "scorer"}


def test_a_bad_score_keeps_the_stored_one(bound: Emulator, cognito_identity: Identity) -> None:
    bound.sync_dataset(cognito_identity, "game", {"score": "42"})

    bound.sync_dataset(cognito_identity, "game", {"score": "lots"})
    assert bound.records(cognito_identity, "game")["score"] == "42"


def test_developer_credentials_do_not_run_the_trigger(
    bound: Emulator, cognito_identity: Identity
) -> None:
    answer = bound.sync_dataset(
        cognito_identity, "game", {"score": "250"}, credentials=bound.credentials
    )
    assert answer == {"score": "250"}  # stored as sent: the function never ran


def test_without_the_permission_the_sync_fails(
    cognito_sync_emulator: Emulator,
    cognito_events_client: CognitoEventsClient,
    cognito_identity: Identity,
) -> None:
    cognito_sync_emulator.add_lambda_function(ARN, handler)
    cognito_events_client.set_cognito_events(
        cognito_identity.identity_pool_id, {"SyncTrigger": ARN}
    )
    with pytest.raises(NotAuthorizedError):
        cognito_sync_emulator.sync_dataset(cognito_identity, "game", {"score": "1"})
    assert cognito_sync_emulator.records(cognito_identity, "game") == {}
