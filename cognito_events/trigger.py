"""The Cognito Sync ``SyncTrigger`` event, typed, for the Lambda functions that receive it.

Cognito Sync invokes the function bound to a pool's ``SyncTrigger`` synchronously when a
device updates a dataset, with this JSON (AWS's documented sample)::

    {"version": 2, "eventType": "SyncTrigger", "region": "us-east-1",
     "identityPoolId": "identityPoolId", "identityId": "identityId",
     "datasetName": "datasetName",
     "datasetRecords": {"SampleKey1": {"oldValue": "oldValue1",
                                       "newValue": "newValue1", "op": "replace"}}}

and stores what the function returns, in the same shape: the function may change a
record's new value, drop a change, remove a record or add one. :class:`SyncTriggerEvent`
reads and writes that shape exactly; :func:`sync_trigger` turns a typed handler into a
Lambda handler. Standard library and attrs only: this module runs inside Lambda.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, TypeAlias, TypeGuard

import attrs

__all__ = [
    "EVENT_TYPE",
    "EVENT_VERSION",
    "MalformedEventError",
    "RecordChange",
    "RecordOp",
    "SyncTriggerEvent",
    "check_output",
    "sync_trigger",
]

#: The ``version`` of the event Cognito Sync sends today.
EVENT_VERSION: Final = 2
#: The ``eventType`` of the event.
EVENT_TYPE: Final = "SyncTrigger"
#: Longest record key and value the service stores (botocore's RecordKey, RecordValue).
MAX_KEY_LENGTH: Final = 1024
MAX_VALUE_LENGTH: Final = 1048575

RecordOp: TypeAlias = Literal["replace", "remove"]
_OPS: Final = ("replace", "remove")
_FIELDS: Final = (
    ("version", "version"),
    ("eventType", "event_type"),
    ("region", "region"),
    ("identityPoolId", "identity_pool_id"),
    ("identityId", "identity_id"),
    ("datasetName", "dataset_name"),
)


class MalformedEventError(ValueError):
    """An event (or a handler's output) is not a SyncTrigger event; ``problems`` names
    each faulty field by its JSON path, all of them at once."""

    def __init__(self, problems: list[str], *, what: str = "SyncTrigger event") -> None:
        self.problems = list(problems)
        count = len(problems)
        head = f"Malformed {what} ({count} problem{'s' if count != 1 else ''}): "
        super().__init__(head + "; ".join(problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_malformed, (self.problems, str(self)))


def _rebuild_malformed(problems: list[str], message: str) -> MalformedEventError:
    error = MalformedEventError.__new__(MalformedEventError)
    ValueError.__init__(error, message)
    error.problems = list(problems)
    return error


@attrs.frozen(kw_only=True)
class RecordChange:
    """One record in ``datasetRecords``: its stored value, the value to store, and
    whether it is written (``"replace"``) or deleted (``"remove"``)."""

    old_value: str | None = None
    new_value: str | None = None
    op: RecordOp = "replace"

    @classmethod
    def from_dict(cls, data: object, *, path: str = "record", strict: bool = False) -> RecordChange:
        """Read ``{"oldValue": ..., "newValue": ..., "op": ...}``; MalformedEventError else
        (with ``strict``, also for a field the event does not document)."""
        problems: list[str] = []
        change = _record_change(data, path, problems, strict)
        if change is None:
            raise MalformedEventError(problems)
        return change

    def to_dict(self) -> dict[str, object]:
        """The JSON object Lambda sees (``None`` values are written as ``null``)."""
        return {"oldValue": self.old_value, "newValue": self.new_value, "op": self.op}


def _is_object(value: object) -> TypeGuard[Mapping[object, object]]:
    """Whether ``value`` is a JSON object (any mapping), typed for reading.

    ``isinstance`` narrows to a mapping of unknown types; any mapping can be read as
    ``object`` keys to ``object`` values.
    """
    return isinstance(value, Mapping)


def _record_change(
    data: object, path: str, problems: list[str], strict: bool
) -> RecordChange | None:
    if not _is_object(data):
        problems.append(f"{path}: expected an object, found {_kind(data)}")
        return None
    before = len(problems)
    values: dict[str, str | None] = {}
    for name in ("oldValue", "newValue"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"{path}.{name}: expected a string or null, found {_kind(value)}")
        elif isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            problems.append(f"{path}.{name}: longer than {MAX_VALUE_LENGTH} characters")
        else:
            values[name] = value
    op = data.get("op")
    if op not in _OPS:
        problems.append(f"{path}.op: expected 'replace' or 'remove', found {op!r}")
    unknown = sorted(str(name) for name in data if name not in ("oldValue", "newValue", "op"))
    if unknown and strict:
        problems.append(f"{path}: unknown field(s) {', '.join(unknown)}")
    if len(problems) > before:
        return None
    return RecordChange(
        old_value=values["oldValue"],
        new_value=values["newValue"],
        op="replace" if op == "replace" else "remove",
    )


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return type(value).__name__


def _copy_records(records: Mapping[str, RecordChange]) -> dict[str, RecordChange]:
    return dict(records)


@attrs.frozen(kw_only=True)
class SyncTriggerEvent:
    """The event a ``SyncTrigger`` function receives, and what it returns.

    ``records`` maps each record key to its :class:`RecordChange`, in the event's order.
    Modified copies come from :meth:`replace`, :meth:`remove`, :meth:`add` and
    :meth:`drop` (the event is frozen).
    """

    version: int = EVENT_VERSION
    event_type: str = EVENT_TYPE
    region: str
    identity_pool_id: str
    identity_id: str
    dataset_name: str
    records: Mapping[str, RecordChange] = attrs.field(
        factory=dict[str, RecordChange], converter=_copy_records
    )

    @classmethod
    def from_dict(cls, event: object, *, strict: bool = False) -> SyncTriggerEvent:
        """Read the JSON Lambda passes; MalformedEventError naming every faulty field.

        Fields the event does not document are ignored, so a function keeps working if
        AWS adds one; with ``strict`` they are errors too (the emulator reads a
        function's output that way).
        """
        return _parse_event(cls, event, "SyncTrigger event", strict)

    def to_dict(self) -> dict[str, object]:
        """The JSON object in Lambda's shape (keys as AWS names them)."""
        return {
            "version": self.version,
            "eventType": self.event_type,
            "region": self.region,
            "identityPoolId": self.identity_pool_id,
            "identityId": self.identity_id,
            "datasetName": self.dataset_name,
            "datasetRecords": {key: change.to_dict() for key, change in self.records.items()},
        }

    # -- modified copies ----------------------------------------------------------------

    def replace(self, key: str, value: str) -> SyncTriggerEvent:
        """Store ``value`` under ``key`` instead of what the device sent (or add the key)."""
        old = self.records.get(key)
        change = RecordChange(old_value=None if old is None else old.old_value, new_value=value)
        return attrs.evolve(self, records={**self.records, key: change})

    def add(self, key: str, value: str) -> SyncTriggerEvent:
        """Add a record the device did not send; ValueError when ``key`` is already there."""
        if key in self.records:
            raise ValueError(f"record {key!r} is already in the event: use replace()")
        return self.replace(key, value)

    def remove(self, key: str) -> SyncTriggerEvent:
        """Delete the stored record ``key`` (op ``"remove"``)."""
        old = self.records.get(key)
        change = RecordChange(
            old_value=None if old is None else old.old_value, new_value=None, op="remove"
        )
        return attrs.evolve(self, records={**self.records, key: change})

    def drop(self, key: str) -> SyncTriggerEvent:
        """Leave ``key`` out of the answer: the device's change to it is not stored."""
        return attrs.evolve(
            self, records={name: c for name, c in self.records.items() if name != key}
        )


def _parse_event(
    cls: type[SyncTriggerEvent], event: object, what: str, strict: bool
) -> SyncTriggerEvent:
    if not _is_object(event):
        raise MalformedEventError([f"event: expected an object, found {_kind(event)}"], what=what)
    problems: list[str] = []
    values: dict[str, Any] = {}
    version = event.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append(f"version: expected an integer, found {_kind(version)}")
    elif version != EVENT_VERSION:
        problems.append(f"version: expected {EVENT_VERSION}, found {version}")
    values["version"] = version
    for name, attribute in _FIELDS[1:]:
        value = event.get(name)
        if not isinstance(value, str):
            problems.append(f"{name}: expected a string, found {_kind(value)}")
        elif not value:
            problems.append(f"{name}: must not be empty")
        values[attribute] = value
    if isinstance(values["event_type"], str) and values["event_type"] not in ("", EVENT_TYPE):
        problems.append(f"eventType: expected {EVENT_TYPE!r}, found {values['event_type']!r}")
    raw_records = event.get("datasetRecords")
    records: dict[str, RecordChange] = {}
    if not _is_object(raw_records):
        problems.append(f"datasetRecords: expected an object, found {_kind(raw_records)}")
    else:
        for key, raw in raw_records.items():
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
                problems.append(
                    f"datasetRecords: key {key!r} must be 1 to {MAX_KEY_LENGTH} characters"
                )
                continue
            change = _record_change(raw, f"datasetRecords.{key}", problems, strict)
            if change is not None:
                records[key] = change
    known = {name for name, _ in _FIELDS} | {"datasetRecords"}
    unknown = sorted(str(name) for name in event if name not in known)
    if unknown and strict:
        problems.append(f"event: unknown field(s) {', '.join(unknown)}")
    if problems:
        raise MalformedEventError(problems, what=what)
    return cls(records=records, **values)


#: What :func:`sync_trigger` wraps: the typed event and Lambda's context in, the event to
#: store out (``None`` stores the event as received).
TypedHandler: TypeAlias = Callable[[SyncTriggerEvent, Any], "SyncTriggerEvent | None"]
LambdaHandler: TypeAlias = Callable[[dict[str, Any], Any], dict[str, Any]]


def sync_trigger(handler: TypedHandler) -> LambdaHandler:
    """Turn ``handler(event: SyncTriggerEvent, context) -> SyncTriggerEvent | None`` into a
    Lambda handler taking and returning the JSON event.

    The input is parsed with :meth:`SyncTriggerEvent.from_dict` and the output checked
    before it leaves: it must be a :class:`SyncTriggerEvent` for the same pool, identity
    and dataset (MalformedEventError otherwise, so the bug shows in the function's own
    logs rather than as Cognito's ``InvalidLambdaFunctionOutputException``).
    """

    @functools.wraps(handler)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        typed = SyncTriggerEvent.from_dict(event)
        result = _handler_result(handler(typed, context), typed)
        output = result.to_dict()
        check_output(typed, output, what="handler output")
        return output

    return lambda_handler


def _handler_result(result: object, received: SyncTriggerEvent) -> SyncTriggerEvent:
    """What a typed handler returned, checked: it may be untyped code returning anything."""
    if result is None:
        return received
    if not isinstance(result, SyncTriggerEvent):
        raise MalformedEventError(
            [f"handler output: expected a SyncTriggerEvent or None, found {_kind(result)}"],
            what="handler output",
        )
    return result


def check_output(
    received: SyncTriggerEvent, output: object, *, what: str = "function output"
) -> SyncTriggerEvent:
    """A function's output read as the event to store: MalformedEventError when it is not
    one, or names another pool, identity, dataset, region, version or event type."""
    result = _parse_event(SyncTriggerEvent, output, what, strict=True)
    mismatched = [
        name
        for name, attribute in _FIELDS
        if getattr(result, attribute) != getattr(received, attribute)
    ]
    if mismatched:
        raise MalformedEventError(
            [f"{name}: differs from the event received" for name in mismatched], what=what
        )
    return result
