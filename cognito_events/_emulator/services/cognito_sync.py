"""Amazon Cognito Sync: the events configuration (SetCognitoEvents, GetCognitoEvents), the
data plane (ListRecords, UpdateRecords, ListDatasets, DescribeDataset, DeleteDataset) and
the SyncTrigger, fired as AWS documents it.

Checks run as the service runs them: the body's JSON (SerializationException), the model's
constraints (InvalidParameterException, "N validation errors detected: ..."), then who
may touch the identity (NotAuthorizedException), then whether the pool, identity and
dataset exist (ResourceNotFoundException).

UpdateRecords, signed with an identity's credentials on a pool whose ``SyncTrigger`` is
bound, invokes the function synchronously with the SyncTrigger event and stores what it
returns; signed with developer credentials it stores the records without invoking
(logged at INFO on the ``cognito_events.emulator`` logger). Nothing is stored when the
function cannot be invoked or fails.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypedDict, TypeVar

from ..._validation import (
    EVENT_TYPES,
    POOL_ID_MAX_LENGTH,
    check_events,
    check_identity_pool_id,
    pool_source_arn,
)
from ..._validation import pool_region as _pool_region
from ...trigger import EVENT_TYPE, EVENT_VERSION, MalformedEventError, SyncTriggerEvent
from ...trigger import check_output as _check_output
from .._store import (
    DatasetLimits,
    RecordWrite,
    StoredDataset,
    StoredRecord,
    UpdateRefusedError,
)
from . import lambda_
from ._common import (
    Answer,
    Context,
    Request,
    ServiceError,
    is_json_array,
    is_json_object,
    json_object,
    validation_message,
)

__all__ = ["LIMITS", "OPERATIONS"]

_log = logging.getLogger("cognito_events.emulator")

#: Cognito Sync's documented quotas: datasets per identity, records and bytes per dataset.
LIMITS: Final = DatasetLimits(
    datasets_per_identity=20, records_per_dataset=1024, bytes_per_dataset=1024 * 1024
)
_POOL_PATTERN: Final = r"[\w-]+:[0-9a-f-]+"
_ID: Final = re.compile(_POOL_PATTERN)
_DATASET: Final = re.compile(r"[a-zA-Z0-9_.:-]+")
_MAX_KEY: Final = 1024
_MAX_VALUE: Final = 1048575
_MAX_RESULTS: Final = 1024
_T = TypeVar("_T")


class _Patch(TypedDict):
    """A record patch of UpdateRecords, its fields type-checked."""

    Op: str
    Key: str
    Value: str | None
    SyncCount: int
    DeviceLastModifiedDate: float | None


# -- validation -------------------------------------------------------------------------


def _pool_violations(pool_id: str) -> list[str]:
    problems = check_identity_pool_id(pool_id)
    if not problems:
        return []
    prefix = f"Value '{pool_id}' at 'identityPoolId' failed to satisfy constraint: "
    if not pool_id:
        return [prefix + "Member must have length greater than or equal to 1"]
    violations: list[str] = []
    too_long = len(pool_id) > POOL_ID_MAX_LENGTH
    if len(problems) > too_long:  # check_identity_pool_id reports the pattern separately
        violations.append(
            prefix + f"Member must satisfy regular expression pattern: {_POOL_PATTERN}"
        )
    if too_long:
        violations.append(
            prefix + f"Member must have length less than or equal to {POOL_ID_MAX_LENGTH}"
        )
    return violations


def _string_violations(
    field: str, value: str, pattern: re.Pattern[str] | None, longest: int
) -> list[str]:
    prefix = f"Value '{value}' at '{field}' failed to satisfy constraint: "
    if not value:
        return [prefix + "Member must have length greater than or equal to 1"]
    violations: list[str] = []
    if pattern is not None and pattern.fullmatch(value) is None:
        violations.append(
            prefix + f"Member must satisfy regular expression pattern: {pattern.pattern}"
        )
    if len(value) > longest:
        violations.append(prefix + f"Member must have length less than or equal to {longest}")
    return violations


def _path_violations(request: Request) -> list[str]:
    params = request.params
    violations = _pool_violations(params["IdentityPoolId"])
    if "IdentityId" in params:
        violations += _string_violations("identityId", params["IdentityId"], _ID, 55)
    if "DatasetName" in params:
        violations += _string_violations("datasetName", params["DatasetName"], _DATASET, 128)
    return violations


def _invalid(violations: list[str]) -> ServiceError:
    return ServiceError(400, "InvalidParameterException", validation_message(violations))


def _pool_not_found(pool_id: str) -> ServiceError:
    return ServiceError(404, "ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")


def _integer_query(
    request: Request, name: str, lowest: int, highest: int
) -> tuple[int | None, list[str]]:
    text = request.query_value(name)
    if text is None:
        return None, []
    if not text.isascii() or not text.isdigit() or not lowest <= int(text) <= highest:
        return None, [
            f"Value '{text}' at '{name}' failed to satisfy constraint: Member must be an "
            f"integer from {lowest} to {highest}"
        ]
    return int(text), []


# -- events -----------------------------------------------------------------------------


def _events_violations(events: Mapping[str, str] | None) -> list[str]:
    if events is None:
        return ["Value null at 'events' failed to satisfy constraint: Member must not be null"]
    if len(events) > 1:
        shown = ", ".join(f"{name}={arn}" for name, arn in events.items())
        return [
            f"Value '{{{shown}}}' at 'events' failed to satisfy constraint: "
            "Member must have length less than or equal to 1"
        ]
    return []


def _events_from(document: dict[str, object]) -> dict[str, str] | None:
    events = document.get("Events")
    if events is None:
        return None
    if not is_json_object(events):
        raise ServiceError(
            400,
            "SerializationException",
            f"Expected a JSON object for 'Events', found {type(events).__name__}",
        )
    checked: dict[str, str] = {}
    for name, arn in events.items():
        if not isinstance(arn, str):
            raise ServiceError(
                400,
                "SerializationException",
                f"Expected a string for the value of 'Events.{name}', found {type(arn).__name__}",
            )
        checked[name] = arn
    return checked


def _semantic_message(events: dict[str, str]) -> str | None:
    """The InvalidParameterException message for a bad event type or ARN, if any."""
    problems = check_events(events)
    if not problems:
        return None
    [(name, arn)] = events.items()
    parts: list[str] = []
    if any(problem.parameter == "events" for problem in problems):
        parts.append(
            f"Unsupported event type '{name}'. Supported event types: "
            + ", ".join(sorted(EVENT_TYPES))
        )
    if any(problem.parameter != "events" for problem in problems):
        parts.append(f"Invalid lambda function ARN: '{arn}'")
    return ". ".join(parts)


def _set_events(context: Context, request: Request) -> Answer:
    pool_id = request.params["IdentityPoolId"]
    events = _events_from(json_object(request))
    violations = _pool_violations(pool_id) + _events_violations(events)
    if violations:
        raise _invalid(violations)
    assert events is not None
    store = context.store
    if not events:  # allowed by the model (no minimum): changes nothing
        if _pool_region(pool_id) != request.region or not store.has_pool(pool_id):
            raise _pool_not_found(pool_id)
        return Answer()
    invalid = _semantic_message(events)
    if invalid is not None:
        raise ServiceError(400, "InvalidParameterException", invalid)
    [(name, arn)] = events.items()
    if _pool_region(pool_id) != request.region or not store.set_event(pool_id, name, arn):
        raise _pool_not_found(pool_id)
    return Answer()


def _get_events(context: Context, request: Request) -> Answer:
    pool_id = request.params["IdentityPoolId"]
    violations = _pool_violations(pool_id)
    if violations:
        raise _invalid(violations)
    events = context.store.events(pool_id) if _pool_region(pool_id) == request.region else None
    if events is None:
        raise _pool_not_found(pool_id)
    return Answer.json({"Events": events})


# -- datasets and records ---------------------------------------------------------------


def _identity(context: Context, request: Request, extra: Sequence[str] = ()) -> tuple[str, str]:
    """``(pool, identity)`` of a data-plane request, checked: constraints, caller, existence."""
    violations = _path_violations(request) + list(extra)
    if violations:
        raise _invalid(violations)
    pool_id = request.params["IdentityPoolId"]
    identity_id = request.params["IdentityId"]
    caller = request.caller
    if caller.kind == "identity" and (
        caller.identity_id != identity_id or caller.identity_pool_id != pool_id
    ):
        raise ServiceError(
            403,
            "NotAuthorizedException",
            f"Access to Identity '{identity_id}' is forbidden: these credentials belong to "
            f"identity '{caller.identity_id}'.",
        )
    if _pool_region(pool_id) != request.region or not context.store.has_pool(pool_id):
        raise _pool_not_found(pool_id)
    if context.store.identity_pool_of(identity_id) != pool_id:
        raise ServiceError(404, "ResourceNotFoundException", f"Identity '{identity_id}' not found.")
    return pool_id, identity_id


def _dataset_json(dataset: StoredDataset) -> dict[str, object]:
    return {
        "IdentityId": dataset.identity_id,
        "DatasetName": dataset.dataset_name,
        "CreationDate": dataset.creation_date,
        "LastModifiedDate": dataset.last_modified_date,
        "LastModifiedBy": dataset.last_modified_by,
        "DataStorage": dataset.data_storage,
        "NumRecords": dataset.num_records,
    }


def _record_json(record: StoredRecord) -> dict[str, object]:
    document: dict[str, object] = {"Key": record.key}
    if record.value is not None:
        document["Value"] = record.value
    document.update(
        SyncCount=record.sync_count,
        LastModifiedDate=record.last_modified_date,
        LastModifiedBy=record.last_modified_by,
    )
    if record.device_last_modified_date is not None:
        document["DeviceLastModifiedDate"] = record.device_last_modified_date
    return document


def _page(request: Request, items: list[Any]) -> tuple[list[Any], str | None, list[str]]:
    limit, problems = _integer_query(request, "maxResults", 1, _MAX_RESULTS)
    token = request.query_value("nextToken")
    start = 0
    if token is not None:
        if not token.isascii() or not token.isdigit() or int(token) > len(items):
            problems.append(f"Invalid nextToken '{token}'")
        else:
            start = int(token)
    end = len(items) if limit is None else start + limit
    return items[start:end], (str(end) if end < len(items) else None), problems


def _list_datasets(context: Context, request: Request) -> Answer:
    limit_problems = _integer_query(request, "maxResults", 1, 60)[1]
    _, identity_id = _identity(context, request, limit_problems)
    datasets = context.store.datasets(identity_id)
    page, next_token, problems = _page(request, datasets)
    if problems:
        raise _invalid(problems)
    document: dict[str, object] = {
        "Datasets": [_dataset_json(dataset) for dataset in page],
        "Count": len(page),
    }
    if next_token is not None:
        document["NextToken"] = next_token
    return Answer.json(document)


def _dataset_or_404(context: Context, identity_id: str, name: str) -> StoredDataset:
    dataset = context.store.dataset(identity_id, name)
    if dataset is None:
        raise ServiceError(404, "ResourceNotFoundException", f"Dataset '{name}' not found.")
    return dataset


def _describe_dataset(context: Context, request: Request) -> Answer:
    _, identity_id = _identity(context, request)
    dataset = _dataset_or_404(context, identity_id, request.params["DatasetName"])
    return Answer.json({"Dataset": _dataset_json(dataset)})


def _delete_dataset(context: Context, request: Request) -> Answer:
    _, identity_id = _identity(context, request)
    name = request.params["DatasetName"]
    dataset = context.store.delete_dataset(identity_id, name)
    if dataset is None:
        raise ServiceError(404, "ResourceNotFoundException", f"Dataset '{name}' not found.")
    return Answer.json({"Dataset": _dataset_json(dataset)})


def _list_records(context: Context, request: Request) -> Answer:
    last_sync_count, problems = _integer_query(request, "lastSyncCount", 0, 2**63 - 1)
    problems += _integer_query(request, "maxResults", 1, _MAX_RESULTS)[1]
    _, identity_id = _identity(context, request, problems)
    name = request.params["DatasetName"]
    store = context.store
    dataset = store.dataset(identity_id, name)
    records = store.records(identity_id, name, last_sync_count or 0)
    page, next_token, problems = _page(request, records)
    if problems:
        raise _invalid(problems)
    token = secrets.token_urlsafe(24)
    store.open_sync_session(token, identity_id, name)
    document: dict[str, object] = {
        "Records": [_record_json(record) for record in page],
        "Count": len(page),
        "DatasetSyncCount": 0 if dataset is None else dataset.sync_count,
        "MergedDatasetNames": [],
        "DatasetExists": dataset is not None,
        "DatasetDeletedAfterRequestedSyncCount": False,
        "SyncSessionToken": token,
    }
    if dataset is not None:
        document["LastModifiedBy"] = dataset.last_modified_by
    if next_token is not None:
        document["NextToken"] = next_token
    return Answer.json(document)


def _patch_field(
    patch: dict[str, object], where: str, name: str, kind: type[_T] | tuple[type[_T], ...]
) -> _T | None:
    """A patch's field, None when absent; SerializationException when of another type."""
    item = patch.get(name)
    if item is not None and (not isinstance(item, kind) or isinstance(item, bool)):
        raise ServiceError(400, "SerializationException", f"Wrong type for '{where}.{name}'")
    return item


def _patches(body: dict[str, object]) -> tuple[list[_Patch], list[str]]:
    """The record patches, type-checked (SerializationException), and their violations.

    A patch lacking a required field is left out of the list: it has a violation, and
    the request is refused.
    """
    raw = body.get("RecordPatches")
    if raw is None:
        return [], []
    if not is_json_array(raw):
        raise ServiceError(400, "SerializationException", "Expected a list for 'RecordPatches'")
    patches: list[_Patch] = []
    violations: list[str] = []
    seen: set[str] = set()
    for index, patch in enumerate(raw, start=1):
        where = f"recordPatches.{index}.member"
        if not is_json_object(patch):
            raise ServiceError(400, "SerializationException", f"Expected an object at '{where}'")
        op = _patch_field(patch, where, "Op", str)
        key = _patch_field(patch, where, "Key", str)
        value = _patch_field(patch, where, "Value", str)
        count = _patch_field(patch, where, "SyncCount", int)
        device = _patch_field(patch, where, "DeviceLastModifiedDate", (int, float))
        for name, item in (("op", op), ("key", key), ("syncCount", count)):
            if item is None:
                violations.append(
                    f"Value null at '{where}.{name}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        if op is not None and op not in ("replace", "remove"):
            violations.append(
                f"Value '{op}' at '{where}.op' failed to satisfy constraint: Member must "
                "satisfy enum value set: [replace, remove]"
            )
        if key is not None:
            violations += _string_violations(f"{where}.key", key, None, _MAX_KEY)
            if key in seen:
                violations.append(f"Key '{key}' is given more than once in recordPatches")
            seen.add(key)
        if value is not None and len(value) > _MAX_VALUE:
            violations.append(
                f"Value at '{where}.value' failed to satisfy constraint: Member must have "
                f"length less than or equal to {_MAX_VALUE}"
            )
        if count is not None and count < 0:
            violations.append(f"Value '{count}' at '{where}.syncCount' must not be negative")
        if op == "replace" and value is None:
            violations.append(f"A 'replace' patch needs a value ('{where}.value')")
        if op is not None and key is not None and count is not None:
            patches.append(
                {
                    "Op": op,
                    "Key": key,
                    "Value": value,
                    "SyncCount": count,
                    "DeviceLastModifiedDate": device,
                }
            )
    return patches, violations


def _update_records(context: Context, request: Request) -> Answer:
    body = json_object(request)
    patches, violations = _patches(body)
    token = body.get("SyncSessionToken")
    device = body.get("DeviceId")
    if token is None:
        violations.append(
            "Value null at 'syncSessionToken' failed to satisfy constraint: Member must not be null"
        )
    elif not isinstance(token, str):
        raise ServiceError(
            400, "SerializationException", "Expected a string for 'SyncSessionToken'"
        )
    if device is not None:
        if not isinstance(device, str):
            raise ServiceError(400, "SerializationException", "Expected a string for 'DeviceId'")
        violations += _string_violations("deviceId", device, None, 256)
    pool_id, identity_id = _identity(context, request, violations)
    assert isinstance(token, str)
    name = request.params["DatasetName"]
    store = context.store
    if store.sync_session(token) != (identity_id, name):
        raise ServiceError(
            400,
            "InvalidParameterException",
            "The sync session token is not valid for this dataset: call ListRecords first",
        )
    expected = {patch["Key"]: patch["SyncCount"] for patch in patches}
    stale = store.stale_keys(identity_id, name, expected)
    if stale:
        raise ServiceError(
            409,
            "ResourceConflictException",
            f"Current SyncCount for: {', '.join(stale)} does not match the one given.",
        )
    writes = [
        RecordWrite(
            key=patch["Key"],
            value=patch.get("Value") if patch["Op"] == "replace" else None,
            device_last_modified_date=patch.get("DeviceLastModifiedDate"),
        )
        for patch in patches
    ]
    trigger = (store.events(pool_id) or {}).get(EVENT_TYPE)
    if trigger is not None and patches:
        if request.caller.kind == "identity":
            writes, expected = _run_trigger(context, request, trigger, writes, expected)
        else:
            _log.info(
                "UpdateRecords on %s/%s/%s was signed with developer credentials: the "
                "SyncTrigger %s is not invoked (Cognito Sync invokes it only for requests "
                "signed with an identity's credentials from GetCredentialsForIdentity)",
                pool_id,
                identity_id,
                name,
                trigger,
            )
    try:
        records = store.update_records(
            identity_id=identity_id,
            dataset_name=name,
            token=token,
            expected=expected,
            writes=writes,
            by=device if isinstance(device, str) else request.caller.label,
            now=context.now().timestamp(),
            limits=LIMITS,
        )
    except UpdateRefusedError as refused:
        if refused.kind == "limit":
            raise ServiceError(400, "LimitExceededException", refused.message) from None
        raise ServiceError(409, "ResourceConflictException", refused.message) from None
    return Answer.json({"Records": [_record_json(record) for record in records]})


def _run_trigger(
    context: Context,
    request: Request,
    arn: str,
    writes: list[RecordWrite],
    expected: dict[str, int],
) -> tuple[list[RecordWrite], dict[str, int]]:
    """Invoke the SyncTrigger; the writes and sync-count checks its answer asks for."""
    pool_id = request.params["IdentityPoolId"]
    identity_id = request.params["IdentityId"]
    name = request.params["DatasetName"]
    region = _pool_region(pool_id)
    stored = {record.key: record.value for record in context.store.records(identity_id, name)}
    event = SyncTriggerEvent.from_dict(
        {
            "version": EVENT_VERSION,
            "eventType": EVENT_TYPE,
            "region": region,
            "identityPoolId": pool_id,
            "identityId": identity_id,
            "datasetName": name,
            "datasetRecords": {
                write.key: {
                    "oldValue": stored.get(write.key),
                    "newValue": write.value,
                    "op": "replace" if write.value is not None else "remove",
                }
                for write in writes
            },
        }
    )
    # The pool belongs to the emulator's account: a function of another account is not
    # allowed by a policy scoped to it, as in AWS.
    source = pool_source_arn("aws", region, context.account_id, pool_id)
    try:
        result = lambda_.invoke_for_service(
            context,
            arn,
            json.dumps(event.to_dict()).encode(),
            service="cognito-sync.amazonaws.com",
            source_arn=source,
        )
    except ServiceError as exc:
        if exc.code == "AccessDeniedException":
            raise ServiceError(
                403,
                "NotAuthorizedException",
                f"Cognito Sync is not allowed to invoke the SyncTrigger {arn}: {exc.message}",
            ) from None
        raise ServiceError(
            400,
            "InvalidLambdaFunctionOutputException",
            f"The SyncTrigger {arn} could not be invoked: {exc.message}",
        ) from None
    if result.throttled:
        raise ServiceError(
            429, "LambdaThrottledException", f"The SyncTrigger {arn} was throttled by Lambda."
        )
    if result.function_error is not None:
        raise ServiceError(
            400,
            "InvalidLambdaFunctionOutputException",
            f"The SyncTrigger {arn} failed ({result.function_error}): "
            f"{_error_summary(result.payload)}",
        )
    try:
        output = _check_output(event, json.loads(result.payload))
    except (ValueError, MalformedEventError) as exc:
        raise ServiceError(
            400,
            "InvalidLambdaFunctionOutputException",
            f"The SyncTrigger {arn} returned invalid output: {exc}",
        ) from None
    problems = [
        f"datasetRecords.{key}.newValue: a 'replace' needs a value"
        for key, change in output.records.items()
        if change.op == "replace" and change.new_value is None
    ]
    if problems:
        raise ServiceError(
            400,
            "InvalidLambdaFunctionOutputException",
            f"The SyncTrigger {arn} returned invalid output: {'; '.join(problems)}",
        )
    by_key = {write.key: write for write in writes}
    new_writes = [
        RecordWrite(
            key=key,
            value=change.new_value if change.op == "replace" else None,
            device_last_modified_date=(
                by_key[key].device_last_modified_date if key in by_key else None
            ),
        )
        for key, change in output.records.items()
    ]
    return new_writes, {key: count for key, count in expected.items() if key in output.records}


def _error_summary(payload: bytes) -> str:
    try:
        document = json.loads(payload)
    except ValueError:
        return "no error details"
    if is_json_object(document):
        return f"{document.get('errorType', 'Error')}: {document.get('errorMessage', '')}"
    return "no error details"


OPERATIONS: Final = {
    "SetCognitoEvents": _set_events,
    "GetCognitoEvents": _get_events,
    "ListDatasets": _list_datasets,
    "DescribeDataset": _describe_dataset,
    "DeleteDataset": _delete_dataset,
    "ListRecords": _list_records,
    "UpdateRecords": _update_records,
}
