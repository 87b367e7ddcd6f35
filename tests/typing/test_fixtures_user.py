"""A user's pytest file that uses the plugin's fixtures, typed (type-checked, and run by
the artifact check against the installed wheel)."""
# pyright: strict, reportUnnecessaryTypeIgnoreComment=true

from __future__ import annotations

from cognito_events import SYNC_TRIGGER, CognitoEventsClient
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-dataset-sync"


def test_binds_the_trigger(
    cognito_events_client: CognitoEventsClient, cognito_identity_pool_id: str
) -> None:
    cognito_events_client.set_cognito_events(cognito_identity_pool_id, {SYNC_TRIGGER: ARN})
    assert cognito_events_client.get_cognito_events(cognito_identity_pool_id) == {SYNC_TRIGGER: ARN}


def test_the_emulator_saw_it(
    cognito_sync_emulator: Emulator, cognito_events_client: CognitoEventsClient
) -> None:
    pool = cognito_sync_emulator.identity_pools[0]
    cognito_events_client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    assert cognito_sync_emulator.events(pool) == {SYNC_TRIGGER: ARN}
    assert [request.operation for request in cognito_sync_emulator.requests] == ["SetCognitoEvents"]
