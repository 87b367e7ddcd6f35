"""Unit tests with requests-mock: no server at all, every answer scripted.

requests-mock patches requests itself, so it intercepts every client, including the
one myapp.triggers made at import time, before any mocker existed.
"""

import pytest
from myapp import triggers
from requests_mock import ANY, Mocker

from cognito_events import CognitoEventsClient, ResourceNotFoundError

POOL_ID = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-dataset-sync"


def test_binds_the_trigger_when_missing(requests_mock: Mocker) -> None:
    requests_mock.get(ANY, json={"Events": {}})
    requests_mock.post(ANY, text="")

    assert triggers.ensure_sync_trigger(POOL_ID, ARN) is True
    sent = requests_mock.last_request
    assert sent is not None
    assert sent.url == (
        "https://cognito-sync.us-east-1.amazonaws.com/identitypools/"
        "us-east-1%3A0f7e2b2c-1111-2222-3333-444455556666/events"
    )
    assert sent.json() == {"Events": {"SyncTrigger": ARN}}


def test_leaves_a_bound_trigger_alone(requests_mock: Mocker) -> None:
    requests_mock.get(ANY, json={"Events": {"SyncTrigger": ARN}})

    assert triggers.ensure_sync_trigger(POOL_ID, ARN) is False
    assert requests_mock.call_count == 1


def test_unknown_pool(requests_mock: Mocker) -> None:
    # Error answers as AWS sends them: a JSON body with __type (or an x-amzn-ErrorType
    # header) and message. The class is chosen from that code.
    requests_mock.get(
        ANY,
        status_code=404,
        json={"__type": "ResourceNotFoundException", "message": "IdentityPool not found"},
        headers={"x-amzn-RequestId": "4f8d2a56-1e3b-4c2e-9d61-0a1b2c3d4e5f"},
    )

    with pytest.raises(ResourceNotFoundError) as caught:
        triggers.ensure_sync_trigger(POOL_ID, ARN)
    assert caught.value.request_id == "4f8d2a56-1e3b-4c2e-9d61-0a1b2c3d4e5f"


def test_a_503_is_retried(requests_mock: Mocker, monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries wait for real: give this test a client that does not.
    monkeypatch.setattr(triggers, "client", CognitoEventsClient(sleep=lambda seconds: None))
    requests_mock.get(ANY, [{"status_code": 503}, {"json": {"Events": {"SyncTrigger": ARN}}}])

    assert triggers.ensure_sync_trigger(POOL_ID, ARN) is False
    assert requests_mock.call_count == 2


def test_without_the_pytest_fixture() -> None:
    # Mocker works as a context manager (or a decorator) too.
    with Mocker() as mocker:
        mocker.get(ANY, json={"Events": {}})
        mocker.post(ANY, text="")
        assert triggers.ensure_sync_trigger(POOL_ID, ARN) is True
