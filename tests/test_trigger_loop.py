"""The whole trigger loop, driven by boto3's own cognito-identity, cognito-sync and lambda
clients over real HTTP against an in-process emulator: identity and credentials, records
and session token, UpdateRecords firing the registered function, and each way it fails
with nothing stored."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from cognito_events import SYNC_TRIGGER
from cognito_events.testing import Emulator
from cognito_events.trigger import SyncTriggerEvent, sync_trigger

boto3 = pytest.importorskip("boto3")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

from _trigger_helpers import DATASET, boto3_client, device, stored, sync  # noqa: E402

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"


@sync_trigger
def clamp_scores(event: SyncTriggerEvent, context: Any) -> SyncTriggerEvent:
    """Clamp "score" to 100, delete "cheat" instead of storing it, drop "ignored", add "bonus"."""
    for key, change in event.records.items():
        if key == "score" and change.new_value is not None and int(change.new_value) > 100:
            event = event.replace(key, "100")
        elif key == "cheat":
            event = event.remove(key)
        elif key == "ignored":
            event = event.drop(key)
    return event.replace("bonus", "1")


@pytest.fixture
def calls() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def emulator(calls: list[dict[str, Any]]) -> Iterator[Emulator]:
    def recorded(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(json.loads(json.dumps(event)))
        return clamp_scores(event, context)

    with Emulator() as emulator:
        emulator.add_identity_pool()
        emulator.add_lambda_function(ARN, recorded)
        yield emulator


@pytest.fixture
def pool(emulator: Emulator) -> str:
    pool = emulator.identity_pools[0]
    with emulator.client() as client:
        client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    return pool


@pytest.fixture
def lambda_client(emulator: Emulator) -> Iterator[Any]:
    client = boto3_client(emulator.endpoint_url, "lambda", emulator.credentials)
    yield client
    client.close()


def _allow(lambda_client: Any, emulator: Emulator, pool: str) -> None:
    lambda_client.add_permission(
        FunctionName=ARN,
        StatementId="cognito-sync-trigger",
        Action="lambda:InvokeFunction",
        Principal="cognito-sync.amazonaws.com",
        SourceArn=emulator.sync_source_arn(pool, ARN),
        SourceAccount="123456789012",
    )


def test_the_loop_runs_and_the_function_decides_what_isstored(
    emulator: Emulator, pool: str, lambda_client: Any, calls: list[dict[str, Any]]
) -> None:
    _allow(lambda_client, emulator, pool)
    identity_id, client = device(emulator.endpoint_url, pool)
    first = client.list_records(IdentityPoolId=pool, IdentityId=identity_id, DatasetName=DATASET)
    assert (first["Records"], first["DatasetExists"], first["DatasetSyncCount"]) == ([], False, 0)
    assert first["SyncSessionToken"]

    sync(client, pool, identity_id, {"cheat": "old", "score": "10"})
    calls.clear()
    answer = sync(client, pool, identity_id, {"score": "150", "cheat": "999", "ignored": "x"})

    [event] = calls  # invoked once, synchronously, with the documented event
    assert event == {
        "version": 2,
        "eventType": "SyncTrigger",
        "region": "us-east-1",
        "identityPoolId": pool,
        "identityId": identity_id,
        "datasetName": DATASET,
        "datasetRecords": {
            "score": {"oldValue": "10", "newValue": "150", "op": "replace"},
            "cheat": {"oldValue": None, "newValue": "999", "op": "replace"},  # removed before
            "ignored": {"oldValue": None, "newValue": "x", "op": "replace"},
        },
    }
    # The answer is what the function returned: clamped, removed, dropped, added.
    answered = {record["Key"]: record.get("Value") for record in answer["Records"]}
    assert answered == {"score": "100", "cheat": None, "bonus": "1"}
    assert {record["SyncCount"] for record in answer["Records"]} == {2}
    assert stored(client, pool, identity_id) == {"score": "100", "cheat": None, "bonus": "1"}
    described = client.describe_dataset(
        IdentityPoolId=pool, IdentityId=identity_id, DatasetName=DATASET
    )["Dataset"]
    assert (described["NumRecords"], described["LastModifiedBy"]) == (2, identity_id)
    listed = client.list_datasets(IdentityPoolId=pool, IdentityId=identity_id)
    assert [dataset["DatasetName"] for dataset in listed["Datasets"]] == [DATASET]
    client.close()


def test_developer_credentials_store_without_invoking(
    emulator: Emulator,
    pool: str,
    lambda_client: Any,
    calls: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _allow(lambda_client, emulator, pool)
    identity_id, phone = device(emulator.endpoint_url, pool)
    developer = boto3_client(emulator.endpoint_url, "cognito-sync", emulator.credentials)
    with caplog.at_level(logging.INFO, logger="cognito_events.emulator"):
        answer = sync(developer, pool, identity_id, {"score": "150"})
    assert calls == []
    assert [(r["Key"], r["Value"]) for r in answer["Records"]] == [("score", "150")]
    assert stored(phone, pool, identity_id) == {"score": "150"}
    assert "developer credentials" in caplog.text
    assert "not invoked" in caplog.text
    developer.close()
    phone.close()


def _refused(call: Any, *args: Any) -> dict[str, Any]:
    with pytest.raises(botocore_exceptions.ClientError) as caught:
        call(*args)
    response: dict[str, Any] = caught.value.response
    return response


def test_without_the_permission_the_sync_fails_and_nothing_isstored(
    emulator: Emulator, pool: str, calls: list[dict[str, Any]]
) -> None:
    identity_id, client = device(emulator.endpoint_url, pool)
    error = _refused(sync, client, pool, identity_id, {"score": "1"})
    assert error["Error"]["Code"] == "NotAuthorizedException"
    assert ARN in error["Error"]["Message"]
    assert calls == []
    assert stored(client, pool, identity_id) == {}
    client.close()


def test_a_permission_for_another_pool_does_not_count(
    emulator: Emulator, pool: str, lambda_client: Any, calls: list[dict[str, Any]]
) -> None:
    other = emulator.add_identity_pool()
    lambda_client.add_permission(
        FunctionName="on-sync",
        StatementId="other-pool",
        Action="lambda:InvokeFunction",
        Principal="cognito-sync.amazonaws.com",
        SourceArn=emulator.sync_source_arn(other, ARN),
    )
    identity_id, client = device(emulator.endpoint_url, pool)
    error = _refused(sync, client, pool, identity_id, {"score": "1"})
    assert error["Error"]["Code"] == "NotAuthorizedException"
    assert calls == []
    client.close()


@pytest.mark.parametrize(
    ("handler", "code"),
    [
        (lambda event, context: {"not": "an event"}, "InvalidLambdaFunctionOutputException"),
        (
            lambda event, context: {**event, "identityId": "us-east-1:someone-else"},
            "InvalidLambdaFunctionOutputException",
        ),
        (lambda event, context: 1 / 0, "InvalidLambdaFunctionOutputException"),
    ],
    ids=["malformed-output", "other-identity", "raises"],
)
def test_a_failing_function_fails_the_sync_with_nothingstored(
    emulator: Emulator, pool: str, lambda_client: Any, handler: Any, code: str
) -> None:
    emulator.add_lambda_function(ARN, handler)
    _allow(lambda_client, emulator, pool)
    identity_id, client = device(emulator.endpoint_url, pool)
    error = _refused(sync, client, pool, identity_id, {"score": "1"})
    assert error["Error"]["Code"] == code
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert stored(client, pool, identity_id) == {}
    client.close()


def test_a_throttled_function_gives_lambda_throttled(
    emulator: Emulator, pool: str, lambda_client: Any, calls: list[dict[str, Any]]
) -> None:
    _allow(lambda_client, emulator, pool)
    assert (
        lambda_client.get_function_concurrency(FunctionName=ARN).get("ReservedConcurrentExecutions")
        is None
    )
    lambda_client.put_function_concurrency(FunctionName=ARN, ReservedConcurrentExecutions=0)
    assert (
        lambda_client.get_function_concurrency(FunctionName=ARN)["ReservedConcurrentExecutions"]
        == 0
    )
    identity_id, client = device(emulator.endpoint_url, pool)
    error = _refused(sync, client, pool, identity_id, {"score": "1"})
    assert error["Error"]["Code"] == "LambdaThrottledException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert (calls, stored(client, pool, identity_id)) == ([], {})
    lambda_client.delete_function_concurrency(FunctionName=ARN)
    sync(client, pool, identity_id, {"score": "1"})
    assert len(calls) == 1
    client.close()


def test_a_stale_sync_count_is_a_conflict(
    emulator: Emulator, pool: str, lambda_client: Any
) -> None:
    _allow(lambda_client, emulator, pool)
    identity_id, client = device(emulator.endpoint_url, pool)
    sync(client, pool, identity_id, {"score": "5"})
    where = {"IdentityPoolId": pool, "IdentityId": identity_id, "DatasetName": DATASET}
    token = client.list_records(**where)["SyncSessionToken"]
    stale = [{"Op": "replace", "Key": "score", "Value": "6", "SyncCount": 0}]
    error = _refused(
        lambda: client.update_records(**where, RecordPatches=stale, SyncSessionToken=token)
    )
    assert error["Error"]["Code"] == "ResourceConflictException"
    assert stored(client, pool, identity_id)["score"] == "5"
    bad_token = _refused(
        lambda: client.update_records(**where, RecordPatches=stale, SyncSessionToken="nope")
    )
    assert bad_token["Error"]["Code"] == "InvalidParameterException"
    client.close()


def test_an_identity_cannot_touch_another_identity(emulator: Emulator, pool: str) -> None:
    _, client = device(emulator.endpoint_url, pool)
    other_id, other = device(emulator.endpoint_url, pool)
    error = _refused(
        lambda: client.list_records(IdentityPoolId=pool, IdentityId=other_id, DatasetName=DATASET)
    )
    assert error["Error"]["Code"] == "NotAuthorizedException"
    client.close()
    other.close()


def test_lambda_policy_round_trip_through_boto3(emulator: Emulator, lambda_client: Any) -> None:
    missing = _refused(lambda: lambda_client.get_policy(FunctionName=ARN))
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    added = lambda_client.add_permission(
        FunctionName=ARN,
        StatementId="s1",
        Action="lambda:InvokeFunction",
        Principal="cognito-sync.amazonaws.com",
        SourceArn="arn:aws:cognito-sync:us-east-1:123456789012:identitypool/*",
        SourceAccount="123456789012",
    )
    statement = json.loads(added["Statement"])
    assert statement == {
        "Sid": "s1",
        "Effect": "Allow",
        "Principal": {"Service": "cognito-sync.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": ARN,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
            "ArnLike": {
                "AWS:SourceArn": "arn:aws:cognito-sync:us-east-1:123456789012:identitypool/*"
            },
        },
    }
    got = lambda_client.get_policy(FunctionName="on-sync")
    policy = json.loads(got["Policy"])
    assert policy["Statement"] == [statement]
    assert policy["Version"] == "2012-10-17"
    duplicate = _refused(
        lambda: lambda_client.add_permission(
            FunctionName=ARN, StatementId="s1", Action="lambda:InvokeFunction", Principal="*"
        )
    )
    assert duplicate["Error"]["Code"] == "ResourceConflictException"
    stale = _refused(
        lambda: lambda_client.remove_permission(
            FunctionName=ARN, StatementId="s1", RevisionId="not-the-revision"
        )
    )
    assert stale["Error"]["Code"] == "PreconditionFailedException"
    lambda_client.remove_permission(
        FunctionName=ARN, StatementId="s1", RevisionId=got["RevisionId"]
    )
    assert emulator.lambda_policy(ARN) is None
    gone = _refused(lambda: lambda_client.remove_permission(FunctionName=ARN, StatementId="s1"))
    assert gone["Error"]["Code"] == "ResourceNotFoundException"


def test_lambda_invoke_through_boto3(
    emulator: Emulator, lambda_client: Any, calls: list[dict[str, Any]]
) -> None:
    event = {
        "version": 2,
        "eventType": "SyncTrigger",
        "region": "us-east-1",
        "identityPoolId": "identityPoolId",
        "identityId": "identityId",
        "datasetName": "datasetName",
        "datasetRecords": {"score": {"oldValue": None, "newValue": "500", "op": "replace"}},
    }
    answer = lambda_client.invoke(FunctionName=ARN, Payload=json.dumps(event).encode())
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    result = json.loads(answer["Payload"].read())
    assert result["datasetRecords"]["score"]["newValue"] == "100"
    assert calls == [event]

    emulator.add_lambda_function(ARN, lambda event, context: 1 / 0)
    failed = lambda_client.invoke(FunctionName=ARN, Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ZeroDivisionError"

    emulator.set_function_concurrency(ARN, 0)
    throttled = _refused(lambda: lambda_client.invoke(FunctionName=ARN, Payload=b"{}"))
    assert throttled["Error"]["Code"] == "TooManyRequestsException"
    missing = _refused(lambda: lambda_client.invoke(FunctionName="nothing", Payload=b"{}"))
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
