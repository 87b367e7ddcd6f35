"""Validation: the service's rules, checked before I/O, every problem at once."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_events import SYNC_TRIGGER, Problem, ValidationError
from cognito_events._errors import RegionMismatch
from cognito_events._validation import (
    check_endpoint_url,
    check_events,
    check_identity_pool_id,
    check_profile,
    check_region,
    endpoint_base,
    pool_region,
    validate_get,
    validate_set,
)

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:sync-handler"


@pytest.mark.parametrize(
    "pool_id",
    [
        POOL,
        "eu-west-1:abc",
        "a:0",
        "x_y-z:0-0",
        "us-gov-west-1:" + "a" * 40,
        "ap-southeast-2:" + "f" * (55 - len("ap-southeast-2:")),
    ],
)
def test_valid_pool_ids(pool_id: str) -> None:
    assert check_identity_pool_id(pool_id) == []


@pytest.mark.parametrize(
    ("pool_id", "fragment"),
    [
        ("", "must not be empty"),
        ("us-east-1", "is not an identity pool id"),
        ("us-east-1:ABC", "is not an identity pool id"),  # the service's pattern is lowercase hex
        ("us-east-1:0f7e:extra", "is not an identity pool id"),
        ("us east 1:abc", "is not an identity pool id"),
        ("ünï:abc", "is not an identity pool id"),  # ASCII \w, as the service means it
        ("us-east-1:abc\n", "is not an identity pool id"),
        ("us-east-1:" + "a" * 50, "at most 55 characters, got 60"),
        (12345, "must be a str, not int"),
        (None, "must be a str, not NoneType"),
        (b"us-east-1:abc", "must be a str, not bytes"),
    ],
)
def test_invalid_pool_ids(pool_id: object, fragment: str) -> None:
    problems = check_identity_pool_id(pool_id)
    assert problems
    assert all(problem.parameter == "identity_pool_id" for problem in problems)
    assert any(fragment in problem.message for problem in problems)


def test_user_pool_id_gets_a_hint() -> None:
    [problem] = check_identity_pool_id("us-east-1_AbC123")
    assert "user pool" in problem.message
    [plain] = check_identity_pool_id("not a pool")
    assert "user pool" not in plain.message


@pytest.mark.parametrize(
    "events",
    [
        {SYNC_TRIGGER: ARN},
        {SYNC_TRIGGER: ""},
        {SYNC_TRIGGER: ARN + ":$LATEST"},
        {SYNC_TRIGGER: ARN + ":prod"},
        {SYNC_TRIGGER: ARN + ":7"},
        {SYNC_TRIGGER: "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"},
        {SYNC_TRIGGER: "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f_1-2"},
    ],
)
def test_valid_events(events: Mapping[str, str]) -> None:
    assert check_events(events) == []


@pytest.mark.parametrize(
    ("events", "fragment"),
    [
        ({}, "it is empty"),
        ({SYNC_TRIGGER: ARN, "Other": ARN}, "it has 2"),
        ({"SyncTriger": ARN}, "did you mean 'SyncTrigger'?"),
        ({"synctrigger": ARN}, "did you mean 'SyncTrigger'?"),
        ({"Completely": ARN}, "unknown event type 'Completely'"),
        ({SYNC_TRIGGER: None}, "must be a str"),
        ({SYNC_TRIGGER: 5}, "not int"),
        ({SYNC_TRIGGER: ARN.encode()}, "not bytes"),
        ({SYNC_TRIGGER: "my-function"}, "is not a Lambda function ARN"),
        ({SYNC_TRIGGER: "arn:aws:lambda:us-east-1:1234:function:f"}, "Lambda function ARN"),
        ({SYNC_TRIGGER: "arn:aws:sns:us-east-1:123456789012:topic"}, "Lambda function ARN"),
        ({SYNC_TRIGGER: ARN + " "}, "Lambda function ARN"),
        ({7: ARN}, "event type must be a str"),
        ([(SYNC_TRIGGER, ARN)], "must be a mapping"),
        (None, "must be a mapping"),
        ("SyncTrigger=arn", "must be a mapping"),
    ],
)
def test_invalid_events(events: object, fragment: str) -> None:
    problems = check_events(events)
    assert any(fragment in problem.message for problem in problems), problems


def test_unknown_event_and_bad_value_are_both_reported() -> None:
    problems = check_events({"SyncTriger": "nope"})
    assert [problem.parameter for problem in problems] == ["events", "events['SyncTriger']"]


def test_long_values_are_shortened_in_messages() -> None:
    [problem] = check_events({SYNC_TRIGGER: "x" * 10_000})
    assert len(problem.message) < 400


def test_validate_set_reports_every_problem_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_set("us-east-1_AbC123", {"SyncTriger": 5}, None)
    parameters = [problem.parameter for problem in caught.value.problems]
    assert parameters == ["identity_pool_id", "events", "events['SyncTriger']"]
    assert isinstance(caught.value, ValueError)


def test_region_mismatch_names_both_regions() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_get("eu-west-1:abc", "us-east-1")
    [problem] = caught.value.problems
    assert "'eu-west-1'" in problem.message
    assert "'us-east-1'" in problem.message
    validate_get("eu-west-1:abc", "eu-west-1")
    validate_set("eu-west-1:abc", {SYNC_TRIGGER: ""}, None)


def test_region_mismatch_says_where_the_region_came_from_in_fields_too() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_set("eu-west-1:abc", {SYNC_TRIGGER: ""}, "us-east-1", "AWS_REGION")
    [problem] = caught.value.problems
    assert isinstance(problem, RegionMismatch)
    assert (problem.pool_region, problem.configured_region, problem.region_source) == (
        "eu-west-1",
        "us-east-1",
        "AWS_REGION",
    )
    assert "configured for region 'us-east-1' (from AWS_REGION);" in problem.message
    assert str(problem).startswith("identity_pool_id: belongs to region 'eu-west-1'")


def test_pool_prefix_must_be_a_region_when_none_is_configured() -> None:
    with pytest.raises(ValidationError, match="not a region name"):
        validate_get("Bad_Prefix:abc", None)
    # With a configured region the mismatch is what gets reported.
    with pytest.raises(ValidationError, match="belongs to region"):
        validate_get("Bad_Prefix:abc", "us-east-1")


def test_pool_region() -> None:
    assert pool_region(POOL) == "us-east-1"


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "cn-north-1", "local"])
def test_valid_regions(region: str) -> None:
    assert check_region(region) == []


@pytest.mark.parametrize("region", ["", "US-EAST-1", "us east 1", "us-east-1/", "-x", 5, None])
def test_invalid_regions(region: object) -> None:
    assert check_region(region)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    pool=st.one_of(st.text(max_size=70), st.integers(), st.none(), st.binary(max_size=10)),
    events=st.one_of(
        st.dictionaries(
            st.one_of(st.text(max_size=20), st.integers()),
            st.one_of(st.text(max_size=100), st.none(), st.integers()),
            max_size=3,
        ),
        st.lists(st.text(max_size=5), max_size=2),
        st.none(),
    ),
    region=st.one_of(st.none(), st.sampled_from(["us-east-1", "eu-west-1"])),
)
def test_validation_never_raises_anything_else(
    pool: object, events: object, region: str | None
) -> None:
    problems: tuple[Problem, ...] = ()
    try:
        validate_set(pool, events, region)
    except ValidationError as error:
        problems = error.problems
    assert all(problem.message for problem in problems)
    accepted = isinstance(pool, str) and isinstance(events, dict) and len(events) == 1
    assert accepted or problems


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "https://cognito-sync.us-east-1.amazonaws.com",
        "https://cognito-sync.us-east-1.amazonaws.com/",
        "http://[::1]:65535/prefix",
        "http://localhost:1",
    ],
)
def test_valid_endpoint_urls(url: str) -> None:
    assert check_endpoint_url(url) == []


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://127.0.0.1:99999", "is not an http(s) URL"),
        ("http://127.0.0.1:0", "is not an http(s) URL"),
        ("http://127.0.0.1:http", "is not an http(s) URL"),
        ("http://[::1", "is not an http(s) URL"),
        ("ftp://example.com", "is not an http(s) URL"),
        ("https://", "is not an http(s) URL"),
        ("example.com", "is not an http(s) URL"),
        ("http://exa mple.com", "is not an http(s) URL"),
        ("http://example.com\n", "is not an http(s) URL"),
        ("http://é%20", "is not a usable URL"),
        ("http://example.com/?a=1", "must not carry a query"),
        ("http://example.com/#top", "must not carry a query"),
        (b"http://example.com", "must be a str or None, not bytes"),
        (8000, "must be a str or None, not int"),
    ],
)
def test_invalid_endpoint_urls(url: object, fragment: str) -> None:
    [problem] = check_endpoint_url(url, "AWS_ENDPOINT_URL")
    assert problem.parameter == "AWS_ENDPOINT_URL"
    assert fragment in problem.message


def test_user_info_in_an_endpoint_is_refused_without_echoing_it() -> None:
    [problem] = check_endpoint_url("https://user:hunter2@example.com")
    assert "user info" in problem.message
    assert "hunter2" not in problem.message


def test_endpoint_base_drops_trailing_slashes() -> None:
    assert endpoint_base("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert endpoint_base("http://127.0.0.1:8000") == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("value", "valid"),
    [("dev", True), ("my profile", True), ("", False), ("  ", False), (7, False), (None, False)],
)
def test_profile_names(value: object, valid: bool) -> None:
    problems = check_profile(value)
    assert (problems == []) is valid
    if not valid:
        assert problems[0].parameter == "profile"
