"""The validator, fuzzed: any object, string or mapping is either accepted or refused with
a ``ValidationError`` (never another exception), and what it accepts the emulator accepts.

``test_validation.py`` has the documented cases and a first property; here the inputs are
arbitrary objects, Unicode with control characters and lone surrogates, very long strings
and mappings of every kind, and, differentially, every accepted ``(pool id, events)`` pair is
sent through the real client to the emulator, which must take it.
"""

from __future__ import annotations

import collections
import re
import time
from collections import ChainMap, Counter, OrderedDict, UserDict, defaultdict
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
import requests
from hypothesis import event, example, given
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from cognito_events import (
    EVENT_TYPES,
    SYNC_TRIGGER,
    CognitoEventsClient,
    Problem,
    RetryPolicy,
    ValidationError,
)
from cognito_events._validation import (
    _LAMBDA_ARN,
    _POOL_ID,
    POOL_ID_MAX_LENGTH,
    check_endpoint_url,
    check_events,
    check_identity_pool_id,
    check_region,
    endpoint_base,
    validate_get,
    validate_set,
)
from cognito_events.testing import ISOLATED_ENVIRON, Emulator

pytestmark = pytest.mark.fuzz

#: A message (all problems) never grows past this for inputs of up to 100 characters.
MESSAGE_BOUND = 2_000


# -- strategies -------------------------------------------------------------------------------


class _Str(str):
    """A str subclass, as some libraries hand out (it must be treated as a str)."""


class _LongRepr(str):
    def __repr__(self) -> str:
        return "_LongRepr(" + "x" * 10_000 + ")"


class _Mapping(Mapping[Any, Any]):
    """A minimal, well-behaved Mapping that is not a dict."""

    def __init__(self, data: dict[Any, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _NotAMapping:
    """Looks like a mapping (items, keys, getitem) without being one."""

    def __init__(self, data: dict[Any, Any]) -> None:
        self._data = data

    def items(self) -> Any:
        return self._data.items()

    def keys(self) -> Any:
        return self._data.keys()

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __len__(self) -> int:
        return len(self._data)


_MAPPING_KINDS: list[Callable[[dict[Any, Any]], object]] = [
    dict,
    OrderedDict,
    lambda data: defaultdict(str, data),
    MappingProxyType,
    UserDict,
    lambda data: ChainMap(data, {}),
    _Mapping,
    _NotAMapping,
    lambda data: CaseInsensitiveDict(data) if all(isinstance(k, str) for k in data) else data,
    lambda data: Counter(data) if all(isinstance(v, int) for v in data.values()) else data,
    lambda data: SimpleNamespace(**{str(k): v for k, v in data.items()}),
    lambda data: list(data.items()),
    lambda data: frozenset(data),
]

#: Every code point category, control characters and lone surrogates included.
any_char = st.characters(exclude_categories=())
any_text = st.text(any_char, max_size=100)
controls = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs"]), max_size=20)


def _long(strategy: st.SearchStrategy[str], top: int) -> st.SearchStrategy[str]:
    """Very long strings: a (short) piece repeated up to ``top`` characters."""
    return st.builds(
        lambda piece, size: (piece * (size // max(1, len(piece)) + 1))[:size],
        strategy.filter(bool),
        st.integers(POOL_ID_MAX_LENGTH - 2, top),
    )


regions = st.from_regex(re.compile(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,3}", re.ASCII), fullmatch=True)
prefixes = st.one_of(
    st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "local", "cn-north-1"]),
    regions,
    st.from_regex(re.compile(r"[\w-]{1,12}", re.ASCII), fullmatch=True),
)
guids = st.one_of(
    st.uuids().map(str), st.from_regex(re.compile(r"[0-9a-f-]{1,40}", re.ASCII), fullmatch=True)
)
valid_looking_pools = st.builds(lambda prefix, guid: f"{prefix}:{guid}", prefixes, guids)
arns = st.from_regex(_LAMBDA_ARN, fullmatch=True)


def _mutate(text: str, at: int, insert: str, drop: int) -> str:
    at = min(at, len(text))
    return text[:at] + insert + text[at + drop :]


def near(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid-looking strings with one character-level edit (insert, delete or replace)."""
    return st.builds(
        _mutate, strategy, st.integers(0, 80), st.text(any_char, max_size=2), st.integers(0, 2)
    )


strings = st.one_of(
    any_text,
    controls,
    valid_looking_pools,
    near(valid_looking_pools),
    arns,
    near(arns),
    st.sampled_from(sorted(EVENT_TYPES)),
    st.sampled_from(["synctrigger", "SyncTriger", "SYNC_TRIGGER", "Sync Trigger", ""]),
    st.builds(_Str, valid_looking_pools | arns | any_text),
)
long_strings = _long(any_text | valid_looking_pools | arns | controls, 200_000)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.complex_numbers(),
    st.decimals(),
    st.fractions(),
    st.binary(max_size=20),
    st.binary(max_size=20).map(bytearray),
    st.just(object()),
    st.just(Ellipsis),
    st.sampled_from([str, dict, Mapping, SYNC_TRIGGER.encode(), memoryview(b"x")]),
)


def _build_mapping(kind: int, data: dict[Any, Any]) -> object:
    return _MAPPING_KINDS[kind](data)


hashables = st.one_of(
    strings, st.none(), st.integers(), st.booleans(), st.binary(max_size=10), st.tuples(st.text())
)
mappings = st.builds(
    _build_mapping,
    st.integers(0, len(_MAPPING_KINDS) - 1),
    st.one_of(
        st.dictionaries(hashables, st.one_of(strings, scalars), max_size=3),
        st.dictionaries(st.sampled_from(sorted(EVENT_TYPES)), arns | near(arns) | st.just("")),
    ),
)
anything = st.recursive(
    st.one_of(scalars, strings, mappings),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(hashables, inner, max_size=3),
    ),
    max_leaves=6,
)


# -- never another exception ------------------------------------------------------------------


def _problems(call: Callable[[], None]) -> tuple[Problem, ...]:
    refused: ValidationError | None = None
    try:
        call()
    except ValidationError as error:
        refused = error
    if refused is None:
        return ()
    assert refused.problems, "a ValidationError lists at least one problem"
    assert str(refused).count("\n  - ") == len(refused.problems)
    return refused.problems


def _assert_well_formed(problems: tuple[Problem, ...]) -> None:
    for problem in problems:
        assert isinstance(problem, Problem)
        assert isinstance(problem.parameter, str)
        assert problem.parameter
        assert isinstance(problem.message, str)
        assert problem.message
        # Rejected values are shown with repr(): no raw control character, line break,
        # bidi override or lone surrogate reaches a terminal or a log line.
        assert problem.message.isprintable(), problem.message
        assert problem.parameter.isprintable(), problem.parameter


@given(
    pool=st.one_of(anything, long_strings),
    events=st.one_of(anything, mappings),
    region=st.one_of(st.none(), regions, st.sampled_from(["us-east-1", "eu-west-1"])),
)
@example(pool="us-east-1_AbC123", events={"SyncTriger": 5}, region=None)
@example(pool=_LongRepr("x"), events={_LongRepr("y"): _LongRepr("z")}, region=None)
@example(pool="a:0", events={SYNC_TRIGGER: "\ud800"}, region="a")
@example(pool="\u202eus-east-1:0", events=OrderedDict([(1, 2)]), region=None)
def test_the_validator_accepts_or_raises_validation_error(
    pool: object, events: object, region: str | None
) -> None:
    set_problems = _problems(lambda: validate_set(pool, events, region))
    get_problems = _problems(lambda: validate_get(pool, region))
    _assert_well_formed(set_problems)
    _assert_well_formed(get_problems)
    # A pool id refused for GetCognitoEvents is refused for SetCognitoEvents, the same way.
    assert [p for p in set_problems if p.parameter == "identity_pool_id"] == list(get_problems)
    if not set_problems:
        # Accepted: a str pool id of the documented shape and exactly one str -> str event.
        assert isinstance(pool, str)
        assert _POOL_ID.fullmatch(pool)
        assert len(pool) <= POOL_ID_MAX_LENGTH
        assert isinstance(events, Mapping)
        [(name, arn)] = events.items()
        assert name in EVENT_TYPES
        assert isinstance(arn, str)
        assert arn == "" or _LAMBDA_ARN.fullmatch(arn)


@given(value=st.one_of(anything, long_strings, regions))
def test_check_region_returns_problems_or_nothing(value: object) -> None:
    problems = check_region(value)
    _assert_well_formed(tuple(problems))
    assert len(problems) <= 1
    assert bool(problems) == (
        not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value, re.ASCII)
    )


@given(
    pool=st.one_of(strings, anything),
    events=st.one_of(mappings, anything),
    region=st.one_of(st.none(), regions),
)
def test_messages_are_bounded_for_inputs_of_ordinary_size(
    pool: object, events: object, region: str | None
) -> None:
    problems = _problems(lambda: validate_set(pool, events, region))
    text = str(ValidationError(problems)) if problems else ""
    assert len(text) <= MESSAGE_BOUND


# -- very long inputs: fast, and bounded where the value is shown -----------------------------

_MEGA = 1_000_000
_ADVERSARIAL = [
    "a" * _MEGA,
    "a:" + "0" * _MEGA,
    "_a" * (_MEGA // 2) + "!",
    "a_" * (_MEGA // 2) + "!",
    ("a-" * (_MEGA // 2)) + ":0!",
    ":" * _MEGA,
    "\x00" * _MEGA,
    "\U0001f600" * _MEGA,
    "arn:aws:lambda:us" + "-1" * (_MEGA // 2),
    "arn:aws:lambda:us" + "-1" * (_MEGA // 2) + ":123456789012:function:f!",
    "arn:aws" + "-" * _MEGA + ":lambda:us-east-1:123456789012:function:f",
    "arn:aws:lambda:us-east-1:123456789012:function:" + "f" * _MEGA,
]


@pytest.mark.parametrize("value", _ADVERSARIAL, ids=lambda value: repr(value[:20]))
def test_a_megabyte_of_adversarial_text_is_refused_quickly_and_briefly(value: str) -> None:
    started = time.perf_counter()
    pool_problems = check_identity_pool_id(value)
    arn_problems = check_events({SYNC_TRIGGER: value})
    region_problems = check_region(value)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"{elapsed:.2f} s: a regular expression backtracks"
    assert pool_problems  # none is a pool id: too long, or not of the pattern
    for problem in (*pool_problems, *arn_problems, *region_problems):
        assert len(str(problem)) < 600


def test_a_long_event_type_is_shown_shortened() -> None:
    [_, problem] = check_events({"x" * 100_000: "not an arn"})
    assert len(str(problem)) < 600


@pytest.mark.parametrize("region", [None, "us-east-1"])
def test_an_over_long_pool_id_is_not_echoed_whole(region: str | None) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_get("A" * 100_000 + ":0", region)
    assert len(str(caught.value)) < 2_000


# -- differential: what the validator accepts, the emulator accepts ----------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


def _send_through_the_client(
    emulator: Emulator, region: str | None, call: Callable[[CognitoEventsClient], object]
) -> object:
    # A session per example, closed at once: nothing stays open between examples.
    with requests.Session() as session:
        session.trust_env = False
        client = CognitoEventsClient(
            region=region,
            endpoint_url=emulator.endpoint_url,
            credentials=emulator.credentials,
            environ=ISOLATED_ENVIRON,
            session=session,
            retry=RetryPolicy(max_attempts=1),
        )
        return call(client)


_EVENT_MAPPINGS: list[Callable[[dict[str, str]], Mapping[str, str]]] = [
    dict,
    MappingProxyType,
    UserDict,
    OrderedDict,
    _Mapping,
    CaseInsensitiveDict,
    lambda data: collections.ChainMap(data),
]


@given(
    pool=st.one_of(
        valid_looking_pools, near(valid_looking_pools), st.builds(_Str, valid_looking_pools)
    ),
    name=st.one_of(
        st.sampled_from(sorted(EVENT_TYPES)), st.builds(_Str, st.sampled_from(sorted(EVENT_TYPES)))
    ),
    arn=st.one_of(arns, st.just(""), near(arns), st.builds(_Str, arns)),
    region=st.one_of(st.none(), st.just("prefix"), st.sampled_from(["us-east-1", "local"])),
    kind=st.integers(0, len(_EVENT_MAPPINGS) - 1),
)
@example(pool="us-east-1:0", name=SYNC_TRIGGER, arn="", region=None, kind=0)
@example(
    pool="a" * 53 + ":0",
    name=SYNC_TRIGGER,
    arn="arn:aws-cn:lambda:cn-north-1:123456789012:function:" + "f" * 64 + ":$LATEST",
    region="prefix",
    kind=4,
)
def test_what_the_validator_accepts_the_emulator_accepts(
    emulator: Emulator, pool: str, name: str, arn: str, region: str | None, kind: int
) -> None:
    emulator.reset()
    if region == "prefix":
        region = pool.split(":", 1)[0]
    events = _EVENT_MAPPINGS[kind]({name: arn})
    try:
        if region is not None and check_region(region):
            raise ValidationError(check_region(region))  # as the client's constructor does
        validate_set(pool, events, region)
    except ValidationError:
        event("refused by the validator")
        return  # refused before anything is sent: nothing to compare
    event("accepted: sent to the emulator")
    emulator.add_identity_pool(pool)
    # Both calls go through the real client, signed, over HTTP; any refusal raises.
    _send_through_the_client(
        emulator, region, lambda client: client.set_cognito_events(pool, events)
    )
    expected = {str(name): str(arn)} if arn else {}
    assert emulator.events(pool) == expected
    got = _send_through_the_client(emulator, region, lambda client: client.get_cognito_events(pool))
    assert got == expected
    assert [(r.operation, r.status) for r in emulator.requests] == [
        ("SetCognitoEvents", 200),
        ("GetCognitoEvents", 200),
    ]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws" + "-" * 70_000 + ":lambda:us-east-1:123456789012:function:f",
        "arn:aws:lambda:us" + "-east" * 14_000 + "-1:123456789012:function:f",
    ],
    ids=["long partition", "long region"],
)
def test_an_accepted_arn_of_any_length_is_accepted_by_the_emulator(
    emulator: Emulator, arn: str
) -> None:
    emulator.reset()
    pool = emulator.add_identity_pool()
    try:
        validate_set(pool, {SYNC_TRIGGER: arn}, None)
    except ValidationError:
        return  # refused up front: as good as accepted by both
    _send_through_the_client(
        emulator, None, lambda client: client.set_cognito_events(pool, {SYNC_TRIGGER: arn})
    )
    assert emulator.events(pool) == {SYNC_TRIGGER: arn}


# -- endpoint URLs ------------------------------------------------------------------------------

_URL_PARTS = st.sampled_from(
    ["http://", "https://", "ftp://", "http:/", "", "127.0.0.1", "[::1]", "[::1", "host",
     "user@", ":", ":0", ":8000", ":65535", ":65536", ":99999", ":-1", ":x", "/", "/path",
     "?q", "#f", " ", "\n", "\x00", "é", "%20", "."]
)  # fmt: skip


@given(st.lists(_URL_PARTS, max_size=6).map("".join) | st.text(max_size=40))
@example("http://127.0.0.1:99999")
@example("http://127.0.0.1:65535")
def test_an_accepted_endpoint_is_one_requests_can_send_to(url: str) -> None:
    """The constructor's rule is the first call's: what it accepts, requests prepares."""
    problems = check_endpoint_url(url)
    if problems:
        event("refused")
        assert all(problem.parameter == "endpoint_url" for problem in problems)
        return
    event("accepted")
    prepared = requests.Request("GET", endpoint_base(url) + "/identitypools/p/events").prepare()
    assert prepared.url is not None
    assert prepared.url.startswith(("http://", "https://"))
