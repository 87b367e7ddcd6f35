"""Overriding the emulator fixture: here, an emulator of another region."""

from collections.abc import Iterator

import pytest

from cognito_events import SYNC_TRIGGER, CognitoEventsClient
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:on-dataset-sync"


@pytest.fixture
def cognito_sync_emulator() -> Iterator[Emulator]:
    """Replaces the plugin's fixture; cognito_identity_pool_id and cognito_events_client
    follow it."""
    with Emulator("eu-west-1") as emulator:
        emulator.add_identity_pool()
        yield emulator


def test_pool_of_another_region(
    cognito_events_client: CognitoEventsClient, cognito_identity_pool_id: str
) -> None:
    assert cognito_identity_pool_id.startswith("eu-west-1:")
    cognito_events_client.set_cognito_events(cognito_identity_pool_id, {SYNC_TRIGGER: ARN})
    assert cognito_events_client.get_cognito_events(cognito_identity_pool_id) == {SYNC_TRIGGER: ARN}
