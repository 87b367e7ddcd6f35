"""ensure/remove/check a sync trigger over real HTTP against the emulator, with boto3's
``lambda`` and ``sts`` clients reading what was written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from _trigger_helpers import boto3_client

from cognito_events import (
    CognitoEventsClient,
    NotAuthorizedError,
    ResourceNotFoundError,
    ServiceError,
    ValidationError,
)
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
OTHER_REGION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:on-sync"
OTHER_ACCOUNT_ARN = "arn:aws:lambda:us-east-1:210987654321:function:on-sync"
WRITES = frozenset({"AddPermission", "RemovePermission", "SetCognitoEvents"})


def _handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event["datasetRecords"]["seen"] = {"newValue": "yes", "op": "replace"}
    return event


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_lambda_function(ARN, _handler)
        emulator.add_lambda_function(OTHER_ACCOUNT_ARN, _handler)
        yield emulator


@pytest.fixture
def pool(emulator: Emulator) -> str:
    return emulator.add_identity_pool()


@pytest.fixture
def client(emulator: Emulator) -> CognitoEventsClient:
    return emulator.client()


def _operations(emulator: Emulator, since: int = 0) -> list[str]:
    """The operations the emulator answered, from the ``since``-th request on."""
    return [entry.operation or "" for entry in emulator.requests[since:]]


def _boto3_policy(emulator: Emulator) -> dict[str, Any]:
    lambda_client = boto3_client(emulator.endpoint_url, "lambda", emulator.credentials)
    try:
        document: dict[str, Any] = json.loads(lambda_client.get_policy(FunctionName=ARN)["Policy"])
    finally:
        lambda_client.close()
    return document


def test_ensure_adds_one_statement_and_the_binding(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    result = client.ensure_sync_trigger(pool, ARN)

    assert [change.action for change in result.changes] == ["add-permission", "set-binding"]
    assert result.changed
    assert not result.dry_run
    statements = _boto3_policy(emulator)["Statement"]
    assert len(statements) == 1
    [statement] = statements
    assert statement["Sid"] == result.statement_id
    assert statement["Principal"] == {"Service": "cognito-sync.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": "123456789012"},
        "ArnLike": {
            "AWS:SourceArn": f"arn:aws:cognito-sync:us-east-1:123456789012:identitypool/{pool}"
        },
    }
    assert client.get_cognito_events(pool) == {"SyncTrigger": ARN}
    assert result.to_json()["changes"][1]["action"] == "set-binding"


def test_a_second_run_only_reads(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    client.ensure_sync_trigger(pool, ARN)
    before = len(emulator.requests)

    again = client.ensure_sync_trigger(pool, ARN)

    assert again.changes == ()
    assert not again.changed
    operations = _operations(emulator, before)
    assert operations
    assert not WRITES & set(operations)
    assert len(_boto3_policy(emulator)["Statement"]) == 1


def test_dry_run_changes_nothing(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    result = client.ensure_sync_trigger(pool, ARN, dry_run=True)

    assert result.dry_run
    assert [change.action for change in result.changes] == ["add-permission", "set-binding"]
    assert not WRITES & set(_operations(emulator))
    assert emulator.lambda_policy(ARN) is None
    assert client.get_cognito_events(pool) == {}


def test_no_grant_binds_only(emulator: Emulator, client: CognitoEventsClient, pool: str) -> None:
    result = client.ensure_sync_trigger(pool, ARN, grant=False)

    assert [change.action for change in result.changes] == ["set-binding"]
    assert emulator.lambda_policy(ARN) is None
    check = client.check_sync_trigger(pool)
    assert not check.ok
    [failing] = [item for item in check.items if not item.ok]
    assert failing.name == "permission"


@pytest.mark.parametrize(
    ("arn", "said"),
    [
        (OTHER_REGION_ARN, "is in region eu-west-1, but the identity pool is in us-east-1"),
        (OTHER_ACCOUNT_ARN, "belongs to account 210987654321, but the identity pool belongs"),
    ],
)
def test_a_function_of_another_region_or_account_is_refused_before_any_write(
    emulator: Emulator, client: CognitoEventsClient, pool: str, arn: str, said: str
) -> None:
    with pytest.raises(ValidationError, match=said):
        client.ensure_sync_trigger(pool, arn)

    assert not WRITES & set(_operations(emulator))
    assert client.get_cognito_events(pool) == {}


def test_a_missing_function_is_resource_not_found(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    missing = ARN.replace("on-sync", "nowhere")
    with pytest.raises(ResourceNotFoundError, match="Function not found"):
        client.ensure_sync_trigger(pool, missing)
    assert not WRITES & set(_operations(emulator))


def test_a_foreign_statement_that_allows_the_pool_is_enough(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    emulator.add_permission(
        ARN, statement_id="by-hand", source_arn=emulator.sync_source_arn(pool, ARN)
    )

    result = client.ensure_sync_trigger(pool, ARN)

    assert [change.action for change in result.changes] == ["set-binding"]
    assert [item["Sid"] for item in _boto3_policy(emulator)["Statement"]] == ["by-hand"]


def test_remove_deletes_only_its_own_statement(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    emulator.add_permission(ARN, statement_id="someone-else", source_arn="arn:aws:s3:::bucket")
    client.ensure_sync_trigger(pool, ARN)
    assert len(_boto3_policy(emulator)["Statement"]) == 2

    removed = client.ensure_sync_trigger(pool, "")

    assert [change.action for change in removed.changes] == [
        "remove-binding",
        "remove-permission",
    ]
    assert [item["Sid"] for item in _boto3_policy(emulator)["Statement"]] == ["someone-else"]
    assert client.get_cognito_events(pool) == {}
    before = len(emulator.requests)
    assert client.remove_sync_trigger(pool).changes == ()
    assert not WRITES & set(_operations(emulator, before))


def test_check_passes_after_ensure_and_fails_with_the_fix_once_the_statement_is_gone(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    result = client.ensure_sync_trigger(pool, ARN)
    check = client.check_sync_trigger(pool)
    assert check.ok, check
    assert [item.name for item in check.items] == [
        "binding",
        "region",
        "account",
        "function",
        "permission",
    ]

    lambda_client = boto3_client(emulator.endpoint_url, "lambda", emulator.credentials)
    lambda_client.remove_permission(FunctionName=ARN, StatementId=result.statement_id)
    lambda_client.close()

    check = client.check_sync_trigger(pool)
    assert not check.ok
    failing = [item for item in check.items if not item.ok]
    assert [item.name for item in failing] == ["permission"]
    assert failing[0].fix == f"cognito-events ensure {pool} --sync-trigger {ARN}"
    assert check.to_json()["ok"] is False


def test_check_without_a_binding(client: CognitoEventsClient, pool: str) -> None:
    check = client.check_sync_trigger(pool)
    assert not check.ok
    assert [item.name for item in check.items] == ["binding"]
    assert check.items[0].fix is not None
    assert "cognito-events ensure" in check.items[0].fix


def test_a_sync_fires_the_function_after_ensure(emulator: Emulator, pool: str) -> None:
    emulator.client().ensure_sync_trigger(pool, ARN)
    identity = emulator.new_identity(pool)

    answer = emulator.sync_dataset(identity, "game", {"score": "1"})

    assert answer == {"score": "1", "seen": "yes"}


def test_a_function_of_another_account_fails_the_sync(emulator: Emulator, pool: str) -> None:
    # Bound by hand (ensure refuses it) with a permission for the function's own account:
    # the pool belongs to the emulator's account, so the policy does not allow it.
    client = emulator.client()
    client.set_cognito_events(pool, {"SyncTrigger": OTHER_ACCOUNT_ARN})
    emulator.add_permission(
        OTHER_ACCOUNT_ARN,
        source_arn=f"arn:aws:cognito-sync:us-east-1:210987654321:identitypool/{pool}",
        source_account="210987654321",
    )
    identity = emulator.new_identity(pool)

    with pytest.raises(NotAuthorizedError):
        emulator.sync_dataset(identity, "game", {"score": "1"})
    check = client.check_sync_trigger(pool)
    assert [item.name for item in check.items if not item.ok] == ["account"]


def test_the_account_is_the_emulators() -> None:
    with Emulator(account_id="000011112222") as emulator:
        sts = boto3_client(emulator.endpoint_url, "sts", emulator.credentials)
        try:
            answer = sts.get_caller_identity()
        finally:
            sts.close()
        assert answer["Account"] == "000011112222"
        assert emulator.client()._caller_account("us-east-1") == "000011112222"


@pytest.mark.parametrize(
    ("status", "code"), [(409, "ResourceConflictException"), (412, "PreconditionFailedException")]
)
def test_a_policy_changed_meanwhile_is_read_again_and_added_once_more(
    emulator: Emulator, client: CognitoEventsClient, pool: str, status: int, code: str
) -> None:
    emulator.inject_fault(status=status, code=code, operation="AddPermission")

    result = client.ensure_sync_trigger(pool, ARN)

    assert [change.action for change in result.changes] == ["add-permission", "set-binding"]
    assert _operations(emulator).count("AddPermission") == 2
    assert client.check_sync_trigger(pool).ok


def test_a_second_conflict_is_raised(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    emulator.inject_fault(
        status=409, code="ResourceConflictException", operation="AddPermission", count=2
    )
    with pytest.raises(ServiceError) as caught:
        client.ensure_sync_trigger(pool, ARN)
    assert caught.value.code == "ResourceConflictException"
    assert client.get_cognito_events(pool) == {}  # not bound without its permission


def test_rebinding_moves_the_statement_to_the_new_function(
    emulator: Emulator, client: CognitoEventsClient, pool: str
) -> None:
    """The statement added for the pool on the function bound before goes with the
    rebinding; statements of other pools on that function stay."""
    new_arn = "arn:aws:lambda:us-east-1:123456789012:function:on-sync-v2"
    emulator.add_lambda_function(new_arn, _handler)
    other_pool = emulator.add_identity_pool()
    client.ensure_sync_trigger(pool, ARN)
    client.ensure_sync_trigger(other_pool, ARN)

    planned = client.ensure_sync_trigger(pool, new_arn, dry_run=True)
    assert [change.action for change in planned.changes] == [
        "add-permission",
        "set-binding",
        "remove-permission",
    ]
    assert len(_boto3_policy(emulator)["Statement"]) == 2  # the dry run wrote nothing

    moved = client.ensure_sync_trigger(pool, new_arn)
    assert [change.action for change in moved.changes] == [
        "add-permission",
        "set-binding",
        "remove-permission",
    ]
    [left] = _boto3_policy(emulator)["Statement"]
    assert other_pool.split(":")[1] in left["Sid"]  # the other pool's statement stays
    assert client.check_sync_trigger(pool).ok
    assert client.check_sync_trigger(other_pool).ok
    since = len(emulator.requests)
    assert not client.ensure_sync_trigger(pool, new_arn).changed
    assert WRITES.isdisjoint(_operations(emulator, since))
