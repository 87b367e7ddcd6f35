"""Client-side validation of every input, with every problem reported at once.

The rules are the service's own (see the SetCognitoEvents reference), checked before any
I/O so a bad call costs nothing and says exactly what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple, TypeGuard, TypeVar
from urllib.parse import urlsplit

from ._errors import Problem, RegionMismatch, ValidationError

__all__ = [
    "EVENT_TYPES",
    "SYNC_TRIGGER",
    "FunctionArn",
    "check_endpoint_url",
    "check_events",
    "check_identity_pool_id",
    "check_profile",
    "check_region",
    "endpoint_base",
    "parse_function_arn",
    "pool_region",
    "pool_source_arn",
    "validate_get",
    "validate_set",
]

#: The Cognito Sync event that runs a Lambda function when a dataset is synchronized.
SYNC_TRIGGER = "SyncTrigger"
#: Every event type the service documents.
EVENT_TYPES = frozenset({SYNC_TRIGGER})

POOL_ID_MAX_LENGTH = 55
_POOL_ID = re.compile(r"[\w-]+:[0-9a-f-]+", re.ASCII)
_USER_POOL_ID = re.compile(r"[\w-]+_[0-9A-Za-z]+", re.ASCII)
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
_LAMBDA_ARN = re.compile(
    r"arn:(aws[a-zA-Z-]*):lambda:([a-z]{2}(?:-[a-z0-9]+)+-\d{1,2}):(\d{12}):function:"
    r"([A-Za-z0-9_-]{1,64})(?::(\$LATEST|[A-Za-z0-9_-]{1,128}))?",
    re.ASCII,
)
_SHOWN_CHARS = 80
#: Longest Lambda function ARN accepted: the longest real ones have about 250 characters
#: (partition, region, account, a 64-character name and a 128-character qualifier).
MAX_ARN_LENGTH = 256
_T = TypeVar("_T")


def _show(value: object) -> str:
    """A short, safe rendering of a rejected value for a problem message."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def check_identity_pool_id(value: object, parameter: str = "identity_pool_id") -> list[Problem]:
    """Problems with an identity pool id (``<region>:<guid>``, 1-55 characters)."""
    if not isinstance(value, str):
        return [Problem(parameter, f"must be a str, not {type(value).__name__}")]
    if not value:
        return [Problem(parameter, "must not be empty")]
    problems: list[Problem] = []
    if len(value) > POOL_ID_MAX_LENGTH:
        problems.append(
            Problem(parameter, f"must be at most {POOL_ID_MAX_LENGTH} characters, got {len(value)}")
        )
    if _POOL_ID.fullmatch(value) is None:
        message = (
            f"{_show(value)} is not an identity pool id: expected "
            "'<region>:<guid>' such as 'us-east-1:0f7e2b2c-1111-2222-3333-444455556666' "
            r"(pattern [\w-]+:[0-9a-f-]+)"
        )
        if _USER_POOL_ID.fullmatch(value) is not None:
            message += (
                "; this looks like a Cognito user pool id, but Cognito Sync takes the id "
                "of an identity pool (Cognito console > Identity pools)"
            )
        problems.append(Problem(parameter, message))
    return problems


def pool_region(identity_pool_id: str) -> str:
    """The region prefix of a (valid) identity pool id."""
    return identity_pool_id.split(":", 1)[0]


def check_region(value: object, parameter: str = "region") -> list[Problem]:
    """Problems with a region name such as ``us-east-1``."""
    if not isinstance(value, str):
        return [Problem(parameter, f"must be a str, not {type(value).__name__}")]
    if _REGION.fullmatch(value) is None:
        return [Problem(parameter, f"{_show(value)} is not a region name such as 'us-east-1'")]
    return []


def check_endpoint_url(value: object, parameter: str = "endpoint_url") -> list[Problem]:
    """Problems with an endpoint: an http(s) URL with a host and a valid port, no more.

    The client's ``endpoint_url=`` and every configured endpoint (variables, files, the
    instance-metadata endpoint) go through this one rule.
    """
    if not isinstance(value, str):
        return [Problem(parameter, f"must be a str or None, not {type(value).__name__}")]
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        parts, port = None, None
    host = parts.hostname if parts is not None else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not host
        or port == 0
        or any(char.isspace() or not char.isprintable() for char in value)
    ):
        return [
            Problem(parameter, f"{_show(value)} is not an http(s) URL such as 'https://host:443'")
        ]
    if parts.query or parts.fragment or "@" in parts.netloc:
        # The value is not echoed: user info may hold a password.
        return [Problem(parameter, "must not carry a query, a fragment or user info")]
    # What the first call will do with it (a host that is no IDNA name, say). Imported
    # here: the emulator and the trigger use the other rules and need not load requests.
    import requests

    try:
        requests.Request("GET", value).prepare()
    except requests.RequestException as exc:
        return [Problem(parameter, f"{_show(value)} is not a usable URL: {type(exc).__name__}")]
    return []


def endpoint_base(url: str) -> str:
    """A checked endpoint URL as the client joins paths to it (no trailing ``/``)."""
    return url.rstrip("/")


def check_profile(value: object, parameter: str = "profile") -> list[Problem]:
    """Problems with a profile name: a non-empty str."""
    if not isinstance(value, str) or not value.strip():
        return [Problem(parameter, f"must be a non-empty str or None, got {_show(value)}")]
    return []


def _is_mapping(value: object) -> TypeGuard[Mapping[object, object]]:
    """``isinstance(value, Mapping)``, typed for reading a caller's mapping of anything.

    ``isinstance`` narrows to a mapping of unknown types; any mapping can be read as
    ``object`` keys to ``object`` values.
    """
    return isinstance(value, Mapping)


def _is_exact_dict(value: object) -> TypeGuard[Mapping[object, object]]:
    """``type(value) is dict`` (no subclass), typed for reading as ``_is_mapping``."""
    return type(value) is dict


def _close_event_type(name: str) -> str | None:
    import difflib  # only on the error path: keeps import time down

    matches = difflib.get_close_matches(name, sorted(EVENT_TYPES), n=1, cutoff=0.6)
    if not matches:
        lowered = {event.lower(): event for event in EVENT_TYPES}
        return lowered.get(name.lower())
    return matches[0]


class FunctionArn(NamedTuple):
    """The parts of a Lambda function ARN, as :func:`check_events` accepts it."""

    partition: str
    region: str
    account: str
    name: str
    qualifier: str | None


def parse_function_arn(arn: str) -> FunctionArn | None:
    """The parts of a Lambda function ARN (with or without a version or alias), or None:
    the one reading of these ARNs, for the client's ensure/check and the emulator alike."""
    match = _LAMBDA_ARN.fullmatch(arn) if len(arn) <= MAX_ARN_LENGTH else None
    return None if match is None else FunctionArn(*match.groups())


def pool_source_arn(partition: str, region: str, account: str, identity_pool_id: str) -> str:
    """The pool's ARN as Cognito Sync presents it as ``aws:SourceArn`` when it invokes a
    function (the ``cognito-sync`` form; see docs/aws-setup.rst on the other one)."""
    return f"arn:{partition}:cognito-sync:{region}:{account}:identitypool/{identity_pool_id}"


def check_events(value: object, parameter: str = "events") -> list[Problem]:
    """Problems with an events mapping: exactly one known event type to '' or a Lambda ARN."""
    if not _is_mapping(value):
        return [
            Problem(
                parameter,
                f"must be a mapping such as {{'{SYNC_TRIGGER}': '<lambda arn>'}}, "
                f"not {type(value).__name__}",
            )
        ]
    if len(value) != 1:
        if not value:
            why = "it is empty, which would change nothing"
        else:
            why = f"it has {len(value)} (the service takes at most one per request)"
        return [Problem(parameter, f"must hold exactly one event type; {why}")]
    problems: list[Problem] = []
    [(name, arn)] = value.items()
    if not isinstance(name, str):
        problems.append(Problem(parameter, f"event type must be a str, not {type(name).__name__}"))
    elif name not in EVENT_TYPES:
        message = f"unknown event type {_show(name)}; known: {', '.join(sorted(EVENT_TYPES))}"
        suggestion = _close_event_type(name)
        if suggestion is not None:
            message += f" (did you mean {suggestion!r}?)"
        problems.append(Problem(parameter, message))
    label = f"{parameter}[{_show(name)}]" if isinstance(name, str) else parameter
    if not isinstance(arn, str):
        problems.append(
            Problem(
                label,
                f"must be a str (a Lambda function ARN, or '' to remove), not {type(arn).__name__}",
            )
        )
    elif arn and (len(arn) > MAX_ARN_LENGTH or _LAMBDA_ARN.fullmatch(arn) is None):
        problems.append(
            Problem(
                label,
                f"{_show(arn)} is not a Lambda function ARN: expected "
                "'arn:aws:lambda:<region>:<12-digit account>:function:<name>[:<version or alias>]'"
                ", or '' to remove the binding",
            )
        )
    return problems


def _check_region_match(
    identity_pool_id: object, region: str | None, region_source: str | None
) -> list[Problem]:
    if not isinstance(identity_pool_id, str) or _POOL_ID.fullmatch(identity_pool_id) is None:
        return []
    prefix = pool_region(identity_pool_id)
    if region is None:
        # The endpoint is derived from the prefix, so it must be a usable region name.
        if _REGION.fullmatch(prefix) is None:
            return [
                Problem(
                    "identity_pool_id",
                    f"region prefix {_show(prefix)} is not a region name such as 'us-east-1', "
                    "and no region is configured to fall back on",
                )
            ]
        return []
    if prefix == region:
        return []
    source = f" (from {region_source})" if region_source else ""
    return [
        RegionMismatch(
            parameter="identity_pool_id",
            message=f"belongs to region {_show(prefix)} but the client is configured for "
            f"region {_show(region)}{source}; the service would answer "
            f"ResourceNotFoundException. Use a client for region {_show(prefix)}",
            pool_region=prefix,
            configured_region=region,
            region_source=region_source,
        )
    ]


# Inputs already accepted (plain, immutable str only): the same pool and ARN are usually
# validated again and again, and a set lookup is far cheaper than the regular expressions.
_ACCEPTED_POOLS: set[tuple[str, str | None]] = set()
_ACCEPTED_EVENTS: set[tuple[str, str]] = set()
_MAX_REMEMBERED = 1024


def _remember(accepted: set[_T], key: _T) -> None:
    if len(accepted) >= _MAX_REMEMBERED:
        accepted.clear()
    accepted.add(key)


def validate_set(
    identity_pool_id: object,
    events: object,
    region: str | None,
    region_source: str | None = None,
) -> None:
    """Raise ``ValidationError`` listing every problem with a SetCognitoEvents call.

    ``region_source`` says where ``region`` came from, for the mismatch message.
    """
    pool_key = (identity_pool_id, region)
    if type(identity_pool_id) is str and _is_exact_dict(events) and len(events) == 1:
        [event] = events.items()
        if (
            type(event[0]) is str
            and type(event[1]) is str
            and pool_key in _ACCEPTED_POOLS
            and event in _ACCEPTED_EVENTS
        ):
            return
    problems = check_identity_pool_id(identity_pool_id)
    problems += check_events(events)
    problems += _check_region_match(identity_pool_id, region, region_source)
    if problems:
        raise ValidationError(problems)
    if type(identity_pool_id) is str and _is_exact_dict(events):
        [(name, arn)] = events.items()
        if type(name) is str and type(arn) is str:
            _remember(_ACCEPTED_POOLS, (identity_pool_id, region))
            _remember(_ACCEPTED_EVENTS, (name, arn))


def validate_get(
    identity_pool_id: object, region: str | None, region_source: str | None = None
) -> None:
    """Raise ``ValidationError`` listing every problem with a GetCognitoEvents call."""
    if type(identity_pool_id) is str and (identity_pool_id, region) in _ACCEPTED_POOLS:
        return
    problems = check_identity_pool_id(identity_pool_id)
    problems += _check_region_match(identity_pool_id, region, region_source)
    if problems:
        raise ValidationError(problems)
    if type(identity_pool_id) is str:
        _remember(_ACCEPTED_POOLS, (identity_pool_id, region))
