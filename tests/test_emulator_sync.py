"""The Cognito Sync data plane of the emulator: records, sync counts and session tokens,
datasets, limits, who may touch an identity, and the model's constraints."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from _signed import Answer, call
from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_events import ResourceNotFoundError
from cognito_events.testing import Emulator, Identity


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_identity_pool()
        yield emulator


@pytest.fixture
def identity(emulator: Emulator) -> Identity:
    return emulator.new_identity()


def _path(identity: Identity, dataset: str | None = "game", tail: str = "") -> str:
    base = (
        f"/identitypools/{quote(identity.identity_pool_id, safe='')}/identities/"
        f"{quote(identity.identity_id, safe='')}/datasets"
    )
    return base if dataset is None else f"{base}/{quote(dataset, safe='')}{tail}"


def _list(emulator: Emulator, identity: Identity, query: str = "") -> Answer:
    return call(
        emulator, "GET", _path(identity, tail="/records" + query), credentials=identity.credentials
    )


def _update(emulator: Emulator, identity: Identity, patches: list[dict[str, object]]) -> Answer:
    token = _list(emulator, identity).document["SyncSessionToken"]
    return call(
        emulator,
        "POST",
        _path(identity),
        {"RecordPatches": patches, "SyncSessionToken": token},
        credentials=identity.credentials,
    )


def test_records_carry_sync_counts_and_removals(emulator: Emulator, identity: Identity) -> None:
    emulator.sync_dataset(identity, "game", {"a": "1", "b": "2"})
    emulator.sync_dataset(identity, "game", {"a": None})
    listing = _list(emulator, identity).document
    by_key = {record["Key"]: record for record in listing["Records"]}
    assert listing["DatasetSyncCount"] == 2
    assert listing["DatasetExists"] is True
    assert listing["Count"] == 2
    assert "Value" not in by_key["a"]  # removed, kept so other devices learn of it
    assert (by_key["a"]["SyncCount"], by_key["b"]["SyncCount"]) == (2, 1)
    assert by_key["b"]["LastModifiedBy"] == identity.identity_id
    changed = _list(emulator, identity, "?lastSyncCount=1").document
    assert [record["Key"] for record in changed["Records"]] == ["a"]
    assert emulator.records(identity, "game") == {"b": "2"}


def test_pagination(emulator: Emulator, identity: Identity) -> None:
    emulator.sync_dataset(identity, "game", {f"k{n}": str(n) for n in range(5)})
    first = _list(emulator, identity, "?maxResults=2").document
    assert (first["Count"], first["NextToken"]) == (2, "2")
    rest = _list(emulator, identity, "?maxResults=10&nextToken=2").document
    assert rest["Count"] == 3
    assert "NextToken" not in rest
    bad = _list(emulator, identity, "?maxResults=0&lastSyncCount=x")
    assert (bad.status, bad.code) == (400, "InvalidParameterException")
    assert bad.document["message"].startswith("2 validation errors detected")


def test_a_session_token_serves_one_update(emulator: Emulator, identity: Identity) -> None:
    token = _list(emulator, identity).document["SyncSessionToken"]
    body = {
        "RecordPatches": [{"Op": "replace", "Key": "a", "Value": "1", "SyncCount": 0}],
        "SyncSessionToken": token,
    }
    first = call(emulator, "POST", _path(identity), body, credentials=identity.credentials)
    assert first.status == 200
    again = call(emulator, "POST", _path(identity), body, credentials=identity.credentials)
    assert (again.status, again.code) == (400, "InvalidParameterException")
    other = _list(emulator, identity).document["SyncSessionToken"]
    elsewhere = call(
        emulator,
        "POST",
        _path(identity, "other"),
        {**body, "SyncSessionToken": other},
        credentials=identity.credentials,
    )
    assert (elsewhere.status, elsewhere.code) == (400, "InvalidParameterException")


def test_stale_sync_count_conflicts_and_stores_nothing(
    emulator: Emulator, identity: Identity
) -> None:
    emulator.sync_dataset(identity, "game", {"a": "1"})
    answer = _update(
        emulator,
        identity,
        [
            {"Op": "replace", "Key": "a", "Value": "2", "SyncCount": 0},
            {"Op": "replace", "Key": "b", "Value": "2", "SyncCount": 0},
        ],
    )
    assert (answer.status, answer.code) == (409, "ResourceConflictException")
    assert "a" in answer.document["message"]
    assert emulator.records(identity, "game") == {"a": "1"}


def test_every_constraint_violation_is_reported_at_once(
    emulator: Emulator, identity: Identity
) -> None:
    answer = call(
        emulator,
        "POST",
        _path(identity, "bad name!"),
        {
            "RecordPatches": [
                {"Op": "upsert", "Key": "", "SyncCount": -1},
                {"Op": "replace", "Key": "k", "SyncCount": 0},
            ]
        },
        credentials=identity.credentials,
    )
    assert (answer.status, answer.code) == (400, "InvalidParameterException")
    message = answer.document["message"]
    assert message.startswith("6 validation errors detected: ")
    for fragment in (
        "at 'datasetName'",
        "recordPatches.1.member.op",
        "recordPatches.1.member.key",
        "recordPatches.1.member.syncCount",
        "recordPatches.2.member.value",
        "'syncSessionToken'",
    ):
        assert fragment in message


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", {"RecordPatches": {}}, {"RecordPatches": [{"Key": 1}]}],
    ids=["not-json", "not-object", "patches-not-list", "key-not-string"],
)
def test_wrong_json_is_a_serialization_error(
    emulator: Emulator, identity: Identity, body: object
) -> None:
    answer = call(emulator, "POST", _path(identity), body, credentials=identity.credentials)
    assert (answer.status, answer.code) == (400, "SerializationException")


def test_limits(emulator: Emulator, identity: Identity) -> None:
    # 1024 records per dataset, 1 MB per dataset, 20 datasets per identity.
    answer = _update(
        emulator,
        identity,
        [{"Op": "replace", "Key": f"{n}", "Value": "", "SyncCount": 0} for n in range(1025)],
    )
    assert (answer.status, answer.code) == (400, "LimitExceededException")
    assert "1024 records" in answer.document["message"]
    chunk = "x" * 60_000  # each request stays under the emulator's 64 KiB body limit
    for number in range(17):
        emulator.sync_dataset(identity, "big", {f"k{number}": chunk})
    answer = _update_dataset(emulator, identity, "big", "k17", chunk)
    assert (answer.status, answer.code) == (400, "LimitExceededException")
    assert len(emulator.records(identity, "big")) == 17  # nothing of the refused update
    for number in range(19):
        emulator.sync_dataset(identity, f"d{number}", {"k": "v"})
    answer = _update_dataset(emulator, identity, "one-too-many", "k", "v")
    assert (answer.status, answer.code) == (400, "LimitExceededException")
    assert "20 datasets" in answer.document["message"]


def _update_dataset(
    emulator: Emulator, identity: Identity, dataset: str, key: str, value: str
) -> Answer:
    listing = call(
        emulator, "GET", _path(identity, dataset, "/records"), credentials=identity.credentials
    )
    return call(
        emulator,
        "POST",
        _path(identity, dataset),
        {
            "RecordPatches": [{"Op": "replace", "Key": key, "Value": value, "SyncCount": 0}],
            "SyncSessionToken": listing.document["SyncSessionToken"],
        },
        credentials=identity.credentials,
    )


def test_datasets_describe_list_delete(emulator: Emulator, identity: Identity) -> None:
    emulator.sync_dataset(identity, "game", {"a": "12345"})
    described = call(emulator, "GET", _path(identity), credentials=identity.credentials)
    dataset = described.document["Dataset"]
    assert (dataset["NumRecords"], dataset["DataStorage"], dataset["DatasetName"]) == (
        1,
        6,
        "game",
    )
    listed = call(emulator, "GET", _path(identity, None), credentials=identity.credentials)
    assert [d["DatasetName"] for d in listed.document["Datasets"]] == ["game"]
    deleted = call(emulator, "DELETE", _path(identity), credentials=identity.credentials)
    assert deleted.document["Dataset"]["DatasetName"] == "game"
    assert emulator.records(identity, "game") == {}
    gone = call(emulator, "GET", _path(identity), credentials=identity.credentials)
    assert (gone.status, gone.code) == (404, "ResourceNotFoundException")
    again = call(emulator, "DELETE", _path(identity), credentials=identity.credentials)
    assert again.status == 404


def test_an_identity_only_touches_its_own_data(emulator: Emulator, identity: Identity) -> None:
    other = emulator.new_identity()
    answer = call(emulator, "GET", _path(other, tail="/records"), credentials=identity.credentials)
    assert (answer.status, answer.code) == (403, "NotAuthorizedException")
    developer = call(emulator, "GET", _path(other, tail="/records"))
    assert developer.status == 200


def test_unknown_pool_and_identity(emulator: Emulator, identity: Identity) -> None:
    ghost = Identity(
        identity_pool_id=identity.identity_pool_id,
        identity_id="us-east-1:00000000-0000-4000-8000-000000000000",
        credentials=emulator.credentials,
    )
    answer = call(emulator, "GET", _path(ghost, tail="/records"))
    assert (answer.status, answer.code) == (404, "ResourceNotFoundException")
    assert "Identity" in answer.document["message"]
    with pytest.raises(ResourceNotFoundError):
        emulator.sync_dataset(ghost, "game", {"a": "1"})
    eu = call(emulator, "GET", _path(identity, tail="/records"), region="eu-west-1")
    assert (eu.status, eu.code) == (404, "ResourceNotFoundException")


def test_expired_identity_credentials(emulator: Emulator, identity: Identity) -> None:
    from datetime import timedelta

    emulator.clock_offset = timedelta(hours=2)
    answer = call(
        emulator, "GET", _path(identity, tail="/records"), credentials=identity.credentials
    )
    assert (answer.status, answer.code) == (403, "ExpiredTokenException")


def test_new_operations_are_logged_and_take_faults(emulator: Emulator, identity: Identity) -> None:
    emulator.inject_fault(status=503, operation="UpdateRecords")
    with pytest.raises(Exception, match="ServiceUnavailable"):
        emulator.sync_dataset(identity, "game", {"a": "1"})
    assert emulator.records(identity, "game") == {}
    assert [entry.operation for entry in emulator.requests] == ["ListRecords", "UpdateRecords"]
    assert [entry.status for entry in emulator.requests] == [200, 503]
    assert emulator.requests[0].headers["x-amz-security-token"] == "<redacted>"


def test_an_empty_update_changes_nothing(emulator: Emulator, identity: Identity) -> None:
    answer = _update(emulator, identity, [])
    assert (answer.status, answer.document) == (200, {"Records": []})
    assert _list(emulator, identity).document["DatasetExists"] is False


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_patch = st.fixed_dictionaries(
    {},
    optional={
        "Op": st.sampled_from(["replace", "remove", "x"]) | _json,
        "Key": st.text(max_size=5) | _json,
        "Value": st.text(max_size=5) | _json,
        "SyncCount": st.integers(-2, 3) | _json,
        "DeviceLastModifiedDate": st.floats(allow_nan=False) | _json,
    },
)
_body = st.fixed_dictionaries(
    {},
    optional={
        "RecordPatches": st.lists(_patch, max_size=4) | _json,
        "SyncSessionToken": st.text(max_size=5) | _json,
        "DeviceId": st.text(max_size=5) | _json,
    },
)


@settings(max_examples=60)
@given(body=_body | _json)
def test_any_update_body_gets_an_aws_answer(
    shared: tuple[Emulator, Identity], body: object
) -> None:
    emulator, identity = shared
    answer = call(emulator, "POST", _path(identity), body, credentials=identity.credentials)
    assert answer.status in (200, 400, 409), answer
    if answer.status != 200:
        assert answer.code in (
            "SerializationException",
            "InvalidParameterException",
            "ResourceConflictException",
        )
        assert answer.document["message"]


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Emulator, Identity]]:
    with Emulator() as emulator:
        emulator.add_identity_pool()
        yield emulator, emulator.new_identity()
