"""cognito_events.trigger: the documented sample and generated events round-trip; malformed
events and outputs name their fields; the decorator checks what leaves; nothing heavy loads."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cognito_events.trigger import (
    MalformedEventError,
    RecordChange,
    SyncTriggerEvent,
    check_output,
    sync_trigger,
)

# AWS's documented sample event (Lambda developer guide, "Cognito Sync trigger").
AWS_SAMPLE: dict[str, Any] = {
    "version": 2,
    "eventType": "SyncTrigger",
    "region": "us-east-1",
    "identityPoolId": "identityPoolId",
    "identityId": "identityId",
    "datasetName": "datasetName",
    "datasetRecords": {
        "SampleKey1": {"oldValue": "oldValue1", "newValue": "newValue1", "op": "replace"},
        "SampleKey2": {"oldValue": "oldValue2", "newValue": "newValue2", "op": "replace"},
    },
}


def test_the_documented_sample_round_trips_unchanged() -> None:
    event = SyncTriggerEvent.from_dict(copy.deepcopy(AWS_SAMPLE))
    assert event.version == 2
    assert event.event_type == "SyncTrigger"
    assert (event.region, event.identity_pool_id, event.identity_id, event.dataset_name) == (
        "us-east-1",
        "identityPoolId",
        "identityId",
        "datasetName",
    )
    assert event.records["SampleKey1"] == RecordChange(
        old_value="oldValue1", new_value="newValue1", op="replace"
    )
    assert event.to_dict() == AWS_SAMPLE
    assert json.dumps(event.to_dict()) == json.dumps(AWS_SAMPLE)  # same key order too


_text = st.text(min_size=1, max_size=20)
_values = st.none() | st.text(max_size=30)
_changes = st.builds(
    lambda old, new, op: {"oldValue": old, "newValue": new, "op": op},
    _values,
    _values,
    st.sampled_from(["replace", "remove"]),
)
_events = st.fixed_dictionaries(
    {
        "version": st.just(2),
        "eventType": st.just("SyncTrigger"),
        "region": _text,
        "identityPoolId": _text,
        "identityId": _text,
        "datasetName": _text,
        "datasetRecords": st.dictionaries(st.text(min_size=1, max_size=40), _changes, max_size=8),
    }
)


@given(_events)
def test_generated_events_round_trip(raw: dict[str, Any]) -> None:
    event = SyncTriggerEvent.from_dict(raw)
    assert event.to_dict() == raw
    assert SyncTriggerEvent.from_dict(json.loads(json.dumps(event.to_dict()))) == event


@given(_events, st.sampled_from(["version", "region", "identityId", "datasetRecords"]))
def test_a_missing_field_is_named(raw: dict[str, Any], field: str) -> None:
    del raw[field]
    with pytest.raises(MalformedEventError) as caught:
        SyncTriggerEvent.from_dict(raw)
    assert any(problem.startswith(f"{field}:") for problem in caught.value.problems)


def test_every_problem_is_reported_at_once() -> None:
    raw = copy.deepcopy(AWS_SAMPLE)
    raw["version"] = "2"
    raw["identityId"] = 7
    raw["datasetRecords"]["SampleKey1"]["op"] = "delete"
    raw["datasetRecords"]["SampleKey2"]["newValue"] = ["x"]
    raw["extra"] = True
    with pytest.raises(MalformedEventError) as caught:
        SyncTriggerEvent.from_dict(raw, strict=True)
    problems = caught.value.problems
    assert problems == [
        "version: expected an integer, found a string",
        "identityId: expected a string, found the number 7",
        "datasetRecords.SampleKey1.op: expected 'replace' or 'remove', found 'delete'",
        "datasetRecords.SampleKey2.newValue: expected a string or null, found an array",
        "event: unknown field(s) extra",
    ]
    assert str(caught.value).startswith("Malformed SyncTrigger event (5 problems): version:")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([], "event: expected an object, found an array"),
        ({**AWS_SAMPLE, "version": 1}, "version: expected 2, found 1"),
        ({**AWS_SAMPLE, "version": True}, "version: expected an integer, found a boolean"),
        ({**AWS_SAMPLE, "eventType": "Other"}, "eventType: expected 'SyncTrigger', found 'Other'"),
        ({**AWS_SAMPLE, "datasetName": ""}, "datasetName: must not be empty"),
        ({**AWS_SAMPLE, "datasetRecords": None}, "datasetRecords: expected an object, found null"),
        (
            {**AWS_SAMPLE, "datasetRecords": {"": {"op": "remove"}}},
            "datasetRecords: key '' must be 1 to 1024 characters",
        ),
        (
            {**AWS_SAMPLE, "datasetRecords": {"k": "v"}},
            "datasetRecords.k: expected an object, found a string",
        ),
    ],
)
def test_malformed_events_name_the_field(raw: object, problem: str) -> None:
    with pytest.raises(MalformedEventError) as caught:
        SyncTriggerEvent.from_dict(raw)
    assert caught.value.problems == [problem]


def test_undocumented_fields_are_ignored_unless_strict() -> None:
    raw = copy.deepcopy(AWS_SAMPLE)
    raw["newTopLevelField"] = {"x": 1}
    raw["datasetRecords"]["SampleKey1"]["syncCount"] = 3
    assert SyncTriggerEvent.from_dict(raw).to_dict() == AWS_SAMPLE
    with pytest.raises(MalformedEventError) as caught:
        SyncTriggerEvent.from_dict(raw, strict=True)
    assert caught.value.problems == [
        "datasetRecords.SampleKey1: unknown field(s) syncCount",
        "event: unknown field(s) newTopLevelField",
    ]
    with pytest.raises(MalformedEventError, match="unknown field"):
        check_output(SyncTriggerEvent.from_dict(AWS_SAMPLE), raw)


def test_the_error_survives_pickling() -> None:
    with pytest.raises(MalformedEventError) as caught:
        SyncTriggerEvent.from_dict({})
    copy_ = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert (str(copy_), copy_.problems) == (str(caught.value), caught.value.problems)


def test_helpers_replace_remove_add_and_drop() -> None:
    event = SyncTriggerEvent.from_dict(AWS_SAMPLE)
    changed = (
        event.replace("SampleKey1", "clamped")
        .remove("SampleKey2")
        .add("bonus", "1")
        .add("gone", "x")
        .drop("gone")
    )
    assert changed.to_dict()["datasetRecords"] == {
        "SampleKey1": {"oldValue": "oldValue1", "newValue": "clamped", "op": "replace"},
        "SampleKey2": {"oldValue": "oldValue2", "newValue": None, "op": "remove"},
        "bonus": {"oldValue": None, "newValue": "1", "op": "replace"},
    }
    assert event.to_dict() == AWS_SAMPLE  # the original is untouched
    with pytest.raises(ValueError, match="already in the event"):
        event.add("SampleKey1", "x")


def test_the_decorator_parses_the_input_and_checks_the_output() -> None:
    seen: list[SyncTriggerEvent] = []

    @sync_trigger
    def handler(event: SyncTriggerEvent, context: object) -> SyncTriggerEvent:
        seen.append(event)
        return event.replace("SampleKey1", "42")

    answer = handler(copy.deepcopy(AWS_SAMPLE), None)
    assert seen == [SyncTriggerEvent.from_dict(AWS_SAMPLE)]
    assert answer["datasetRecords"]["SampleKey1"]["newValue"] == "42"
    assert handler.__name__ == "handler"
    with pytest.raises(MalformedEventError, match="datasetRecords"):
        handler({**AWS_SAMPLE, "datasetRecords": []}, None)


def test_the_decorator_passes_the_event_through_on_none() -> None:
    @sync_trigger
    def handler(event: SyncTriggerEvent, context: object) -> None:
        return None

    assert handler(copy.deepcopy(AWS_SAMPLE), None) == AWS_SAMPLE


def test_the_decorator_refuses_a_bad_output() -> None:
    @sync_trigger
    def wrong_type(event: SyncTriggerEvent, context: object) -> Any:
        return event.to_dict()

    @sync_trigger
    def wrong_identity(event: SyncTriggerEvent, context: object) -> SyncTriggerEvent:
        import attrs

        return attrs.evolve(event, identity_id="someone-else")

    with pytest.raises(MalformedEventError, match="expected a SyncTriggerEvent or None"):
        wrong_type(AWS_SAMPLE, None)
    with pytest.raises(MalformedEventError) as caught:
        wrong_identity(AWS_SAMPLE, None)
    assert caught.value.problems == ["identityId: differs from the event received"]


def test_check_output_reads_a_function_answer() -> None:
    event = SyncTriggerEvent.from_dict(AWS_SAMPLE)
    assert check_output(event, AWS_SAMPLE) == event
    with pytest.raises(MalformedEventError) as caught:
        check_output(event, {**AWS_SAMPLE, "datasetName": "other", "region": 3})
    assert caught.value.problems == ["region: expected a string, found the number 3"]
    with pytest.raises(MalformedEventError) as caught:
        check_output(event, {**AWS_SAMPLE, "datasetName": "other"})
    assert caught.value.problems == ["datasetName: differs from the event received"]


_HEAVY = ("requests", "urllib3", "cognito_events._client")


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys; {statement}; print([m for m in {_HEAVY!r} if m in sys.modules])"
    result = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(result.stdout.replace("'", '"'))
    return loaded


def test_importing_the_module_loads_nothing_heavy() -> None:
    # The package facade is being made lazy on main; until then the trigger module must
    # add nothing heavy of its own to what "import cognito_events" loads.
    baseline = _loaded_after("import cognito_events")
    assert _loaded_after("import cognito_events.trigger") == baseline
    if not baseline:  # once the facade is lazy, this is the whole criterion
        assert _loaded_after("import cognito_events.trigger") == []
