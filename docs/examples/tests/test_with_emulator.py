"""Tests against the local emulator, through the fixtures the package installs."""

import pytest
from myapp import triggers

from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    ResourceNotFoundError,
    TooManyRequestsError,
)
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-dataset-sync"


@pytest.fixture(autouse=True)
def triggers_use_the_emulator(
    monkeypatch: pytest.MonkeyPatch, cognito_events_client: CognitoEventsClient
) -> None:
    """Swap the module-level client for one wired to this test's emulator."""
    monkeypatch.setattr(triggers, "client", cognito_events_client)


def test_binds_the_trigger_when_missing(
    cognito_sync_emulator: Emulator, cognito_identity_pool_id: str
) -> None:
    assert triggers.ensure_sync_trigger(cognito_identity_pool_id, ARN) is True
    assert cognito_sync_emulator.events(cognito_identity_pool_id) == {SYNC_TRIGGER: ARN}


def test_leaves_a_bound_trigger_alone(
    cognito_sync_emulator: Emulator, cognito_identity_pool_id: str
) -> None:
    triggers.ensure_sync_trigger(cognito_identity_pool_id, ARN)

    assert triggers.ensure_sync_trigger(cognito_identity_pool_id, ARN) is False
    operations = [request.operation for request in cognito_sync_emulator.requests]
    assert operations == ["GetCognitoEvents", "SetCognitoEvents", "GetCognitoEvents"]


def test_unknown_pool() -> None:
    with pytest.raises(ResourceNotFoundError):
        triggers.ensure_sync_trigger("us-east-1:00000000-0000-0000-0000-000000000000", ARN)


def test_rides_out_throttling(
    monkeypatch: pytest.MonkeyPatch, cognito_sync_emulator: Emulator, cognito_identity_pool_id: str
) -> None:
    # A client that retries without waiting, for this test only.
    monkeypatch.setattr(triggers, "client", cognito_sync_emulator.client(sleep=lambda s: None))
    cognito_sync_emulator.inject_fault(status=429, count=2)

    assert triggers.ensure_sync_trigger(cognito_identity_pool_id, ARN) is True
    statuses = [request.status for request in cognito_sync_emulator.requests]
    assert statuses == [429, 429, 200, 200]


def test_gives_up_when_throttling_lasts(
    monkeypatch: pytest.MonkeyPatch, cognito_sync_emulator: Emulator, cognito_identity_pool_id: str
) -> None:
    monkeypatch.setattr(triggers, "client", cognito_sync_emulator.client(sleep=lambda s: None))
    cognito_sync_emulator.inject_fault(status=429, count=3)

    with pytest.raises(TooManyRequestsError) as caught:
        triggers.ensure_sync_trigger(cognito_identity_pool_id, ARN)
    assert caught.value.attempts == 3
