"""The pure ensure/check plan (cognito_events._ensure): state in, actions out."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cognito_events import Change, CheckItem, EnsureResult, TriggerCheck
from cognito_events._ensure import (
    allows_pool,
    check_items,
    ours,
    plan_ensure,
    plan_remove,
    statement_for,
    statement_id,
)
from cognito_events._validation import parse_function_arn, pool_source_arn

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ACCOUNT = "123456789012"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
SOURCE = pool_source_arn("aws", "us-east-1", ACCOUNT, POOL)
SID = statement_id(POOL)
ADD = ["add-permission"]


def _ours() -> dict[str, Any]:
    return {"Sid": SID, "Resource": ARN, **statement_for(SOURCE, ACCOUNT)}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "default", "Statement": list(statements)}


def _service(condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "by-hand",
        "Effect": "Allow",
        "Principal": {"Service": "cognito-sync.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        **extra,
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


def test_statement_id_matches_lambdas_pattern_and_length() -> None:
    # botocore's lambda model: StatementId is ([a-zA-Z0-9-_]+), 1 to 100 characters.
    assert SID == "cognito-events-sync-trigger-0f7e2b2c-1111-2222-3333-444455556666"
    longest = statement_id("ap-southeast-2:" + "f" * 40)
    assert re.fullmatch(r"[a-zA-Z0-9-_]+", longest)
    assert len(longest) <= 100


def test_the_pool_arn_is_the_cognito_sync_form() -> None:
    assert SOURCE == (
        "arn:aws:cognito-sync:us-east-1:123456789012:identitypool/"
        "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
    )


@pytest.mark.parametrize(
    ("arn", "parts"),
    [
        (ARN, ("aws", "us-east-1", ACCOUNT, "on-sync", None)),
        (ARN + ":live", ("aws", "us-east-1", ACCOUNT, "on-sync", "live")),
        (
            "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:$LATEST",
            ("aws-us-gov", "us-gov-west-1", ACCOUNT, "f", "$LATEST"),
        ),
        ("arn:aws:lambda:us-east-1:123456789012:layer:f", None),
        ("arn:aws:lambda:us-east-1:12345:function:f", None),
        (ARN + "x" * 300, None),
    ],
)
def test_one_reading_of_function_arns_for_client_and_emulator(
    arn: str, parts: tuple[str, ...] | None
) -> None:
    """The client's check (validation), ensure and the emulator read ARNs by one rule;
    the emulator takes only unqualified ones."""
    from cognito_events._emulator.services import lambda_
    from cognito_events._validation import check_events

    assert parse_function_arn(arn) == parts
    assert (check_events({"SyncTrigger": arn}) == []) == (parts is not None)
    unqualified = parts is not None and parts[4] is None
    assert (lambda_.parse_function_arn(arn) is not None) == unqualified


@pytest.mark.parametrize(
    ("binding", "policy", "grant", "expected"),
    [
        ("", None, True, ["add-permission", "set-binding"]),
        ("", None, False, ["set-binding"]),
        ("", _policy(_ours()), True, ["set-binding"]),
        (ARN, _policy(_ours()), True, []),
        (ARN, None, True, ["add-permission"]),
        (ARN, None, False, []),
        (ARN.replace("on-sync", "old"), _policy(_ours()), True, ["set-binding"]),
        # a foreign statement that allows the pool counts as present
        (ARN, _policy(_service({"ArnLike": {"AWS:SourceArn": SOURCE}})), True, []),
        (ARN, _policy(_service()), True, []),
        (ARN, _policy(_service(Principal="*")), True, []),
        (
            ARN,
            _policy(_service({"ArnLike": {"aws:sourcearn": "arn:aws:cognito-sync:*"}})),
            True,
            [],
        ),
        # ... and one that does not allow it does not
        (ARN, _policy(_service({"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"}})), True, ADD),
        (ARN, _policy(_service({"StringEquals": {"AWS:SourceAccount": "1" * 12}})), True, ADD),
        (ARN, _policy(_service({"NumericEquals": {"AWS:SourceAccount": ACCOUNT}})), True, ADD),
        (ARN, _policy(_service(Effect="Deny")), True, ADD),
        (ARN, _policy(_service(Action="lambda:GetFunction")), True, ADD),
        (ARN, _policy(_service(Principal={"Service": "s3.amazonaws.com"})), True, ADD),
    ],
)  # fmt: skip
def test_plan_ensure(
    binding: str, policy: dict[str, Any] | None, grant: bool, expected: list[str]
) -> None:
    changes = plan_ensure(
        identity_pool_id=POOL,
        function_arn=ARN,
        binding=binding,
        policy=policy,
        source_arn=SOURCE,
        account=ACCOUNT,
        grant=grant,
    )
    assert [change.action for change in changes] == expected
    assert all(ARN in change.description for change in changes)


def test_our_statement_id_with_other_content_is_reported() -> None:
    taken = {**_service({"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"}}), "Sid": SID}
    with pytest.raises(ValueError, match="remove-permission --function-name"):
        plan_ensure(
            identity_pool_id=POOL,
            function_arn=ARN,
            binding="",
            policy=_policy(taken),
            source_arn=SOURCE,
            account=ACCOUNT,
            grant=True,
        )


@pytest.mark.parametrize(
    ("binding", "policy", "expected"),
    [
        ("", None, []),
        ("", _policy(_ours()), []),
        (ARN, None, ["remove-binding"]),
        (ARN, _policy(_ours()), ["remove-binding", "remove-permission"]),
        # only ours: by id and content
        (ARN, _policy(_service({"ArnLike": {"AWS:SourceArn": SOURCE}})), ["remove-binding"]),
        (ARN, _policy({**_ours(), "Action": "lambda:*"}), ["remove-binding"]),
        (ARN, _policy({**_ours(), "Sid": "other"}), ["remove-binding"]),
    ],
)
def test_plan_remove(binding: str, policy: dict[str, Any] | None, expected: list[str]) -> None:
    changes = plan_remove(
        identity_pool_id=POOL, binding=binding, policy=policy, source_arn=SOURCE, account=ACCOUNT
    )
    assert [change.action for change in changes] == expected


def test_ours_compares_condition_keys_without_case() -> None:
    statement = _ours()
    statement["Condition"] = {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:sourcearn": SOURCE},
    }
    assert ours(statement, SID, SOURCE, ACCOUNT)
    assert not ours(statement, SID, SOURCE, "1" * 12)


@pytest.mark.parametrize(
    "document",
    [
        None,
        {},
        {"Statement": "x"},
        {"Statement": [1, "a", None]},
        {"Statement": [{"Condition": 3}]},
    ],
)
def test_odd_policies_allow_nothing(document: Any) -> None:
    assert not allows_pool(document, SOURCE, ACCOUNT)


@pytest.mark.parametrize(
    ("binding", "account", "found", "policy", "failing"),
    [
        ("", None, None, None, ["binding"]),
        ("not-an-arn", None, None, None, ["function-arn"]),
        (ARN, ACCOUNT, True, _policy(_ours()), []),
        (ARN, ACCOUNT, True, None, ["permission"]),
        (ARN, ACCOUNT, False, None, ["function"]),
        (ARN, "1" * 12, None, None, ["account"]),
        (ARN.replace("us-east-1", "eu-west-1"), ACCOUNT, None, None, ["region"]),
    ],
)
def test_check_items(
    binding: str,
    account: str | None,
    found: bool | None,
    policy: dict[str, Any] | None,
    failing: list[str],
) -> None:
    items = check_items(
        identity_pool_id=POOL,
        pool_region="us-east-1",
        binding=binding,
        account=account,
        function_found=found,
        policy=policy,
    )
    assert [item.name for item in items if not item.ok] == failing
    for item in items:
        if item.ok:
            assert item.fix is None
        else:
            assert item.fix is not None
            assert "\n" not in item.fix
            assert f"cognito-events ensure {POOL} --sync-trigger" in item.fix


def test_results_are_frozen_values_with_json() -> None:
    change = Change(action="set-binding", description="bind")
    result = EnsureResult(
        identity_pool_id=POOL, function_arn=ARN, dry_run=True, changes=(change,), statement_id=SID
    )
    assert result.changed
    assert json.loads(json.dumps(result.to_json())) == {
        "identity_pool_id": POOL,
        "function_arn": ARN,
        "dry_run": True,
        "changed": True,
        "statement_id": SID,
        "changes": [{"action": "set-binding", "description": "bind"}],
    }
    check = TriggerCheck(
        identity_pool_id=POOL,
        function_arn=ARN,
        items=(CheckItem(name="binding", ok=True, detail="d"),),
    )
    assert check.ok
    assert check.to_json()["items"] == [{"name": "binding", "ok": True, "detail": "d", "fix": None}]
    with pytest.raises(AttributeError):
        result.dry_run = False  # type: ignore[misc]
