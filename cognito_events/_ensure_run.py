"""Running the ensure/check plans of :mod:`._ensure`: read, validate, write, read back.

The client hands in the calls it makes (:class:`Calls`, its bound methods), so this
module does not import the client: calls flow down, answers up.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._ensure import (
    ACTION,
    PRINCIPAL,
    Change,
    EnsureResult,
    TriggerCheck,
    check_items,
    has_our_statement,
    ours,
    plan_ensure,
    plan_remove,
    statement_id,
)
from ._errors import (
    CognitoEventsError,
    Problem,
    ResourceNotFoundError,
    ServiceError,
    ValidationError,
)
from ._operations import PolicyAnswer
from ._validation import (
    SYNC_TRIGGER,
    check_events,
    check_identity_pool_id,
    parse_function_arn,
    pool_source_arn,
)

__all__ = ["Calls", "check", "ensure", "remove"]

#: Lambda's answers when a policy changed between our read and our write.
_CONFLICTS = frozenset({"ResourceConflictException", "PreconditionFailedException"})


@attrs.frozen(kw_only=True)
class Calls:
    """The client calls ensure and check make (with its credentials, retries, endpoints)."""

    #: GetCognitoEvents and SetCognitoEvents.
    get_events: Callable[[str], dict[str, str]]
    set_events: Callable[[str, Mapping[str, str]], None]
    #: The region calls about a pool are signed for (validating the pool id).
    region_of: Callable[[str], str]
    #: STS GetCallerIdentity in a region: the caller's account.
    caller_account: Callable[[str], str]
    #: Lambda GetPolicy (None: no policy yet), AddPermission, RemovePermission.
    get_policy: Callable[[str, str], PolicyAnswer | None]
    add_permission: Callable[[str, str, bytes], None]
    remove_permission: Callable[[str, str, str], None]


def _document(answer: PolicyAnswer | None) -> Mapping[str, Any] | None:
    return None if answer is None else answer.document


def _validate(identity_pool_id: object, function_arn: object) -> None:
    problems = check_identity_pool_id(identity_pool_id)
    problems += [
        Problem("function_arn", problem.message)
        for problem in check_events({SYNC_TRIGGER: function_arn})
    ]
    if problems:
        raise ValidationError(problems)


def ensure(
    client: Calls, identity_pool_id: str, function_arn: str, *, grant: bool, dry_run: bool
) -> EnsureResult:
    """Permission, then binding, then read back; no write when all is in place."""
    _validate(identity_pool_id, function_arn)
    region = client.region_of(identity_pool_id)
    parsed = parse_function_arn(function_arn)
    assert parsed is not None  # validated above
    partition, function_region, function_account = parsed.partition, parsed.region, parsed.account
    if function_region != region:
        raise ValidationError(
            [
                Problem(
                    "function_arn",
                    f"is in region {function_region}, but the identity pool is in {region}: "
                    "Cognito Sync only invokes functions of its own region",
                )
            ]
        )
    binding = client.get_events(identity_pool_id).get(SYNC_TRIGGER, "")
    account = client.caller_account(region)
    if function_account != account:
        raise ValidationError(
            [
                Problem(
                    "function_arn",
                    f"belongs to account {function_account}, but the identity pool belongs to "
                    f"account {account} (the caller's): Cognito Sync only invokes functions "
                    "of the pool's account",
                )
            ]
        )
    source = pool_source_arn(partition, region, account, identity_pool_id)
    sid = statement_id(identity_pool_id)
    policy = client.get_policy(region, function_arn) if grant else None

    def plan(policy: PolicyAnswer | None) -> tuple[Any, ...]:
        try:
            return plan_ensure(
                identity_pool_id=identity_pool_id,
                function_arn=function_arn,
                binding=binding,
                policy=_document(policy),
                source_arn=source,
                account=account,
                grant=grant,
            )
        except ValueError as exc:
            raise ValidationError([Problem("function_arn", str(exc))]) from None

    # Rebinding: the statement this tool added for the pool on the function bound before
    # lets Cognito Sync invoke a function it no longer calls; it goes, after the rebinding.
    stale = _stale_statement(client, binding, function_arn, region, account, sid, source, grant)
    changes = plan(policy) + stale
    result = EnsureResult(
        identity_pool_id=identity_pool_id,
        function_arn=function_arn,
        dry_run=dry_run,
        changes=changes,
        statement_id=sid,
    )
    if dry_run:
        return result
    if any(change.action == "add-permission" for change in changes):
        body = json.dumps(
            {
                "StatementId": sid,
                "Action": ACTION,
                "Principal": PRINCIPAL,
                "SourceArn": source,
                "SourceAccount": account,
                **({"RevisionId": policy.revision_id} if policy and policy.revision_id else {}),
            }
        ).encode()
        try:
            client.add_permission(region, function_arn, body)
        except ServiceError as exc:
            if exc.code not in _CONFLICTS:
                raise
            # The policy changed since we read it: read it again, once, and re-plan.
            policy = client.get_policy(region, function_arn)
            if any(change.action == "add-permission" for change in plan(policy)):
                retry = json.loads(body)
                retry.pop("RevisionId", None)
                client.add_permission(region, function_arn, json.dumps(retry).encode())
    if binding != function_arn:
        client.set_events(identity_pool_id, {SYNC_TRIGGER: function_arn})
    read_back = client.get_events(identity_pool_id).get(SYNC_TRIGGER, "")
    if read_back != function_arn:
        raise CognitoEventsError(
            f"SyncTrigger of {identity_pool_id} reads back as {read_back or 'unset'!r} "
            f"after binding {function_arn}: another writer changed it; run again"
        )
    if stale:
        with contextlib.suppress(ResourceNotFoundError):  # removed meanwhile: fine
            client.remove_permission(region, binding, sid)
    return result


def _stale_statement(
    client: Calls,
    binding: str,
    function_arn: str,
    region: str,
    account: str,
    sid: str,
    source: str,
    grant: bool,
) -> tuple[Change, ...]:
    """The removal of our statement from the previously bound function, if it has one."""
    if not grant or not binding or binding == function_arn:
        return ()
    parsed = parse_function_arn(binding)
    if parsed is None or parsed.region != region or parsed.account != account:
        return ()
    try:
        policy = client.get_policy(region, binding)
    except ResourceNotFoundError:  # the function is gone, and its policy with it
        return ()
    if not has_our_statement(_document(policy), sid, source, account):
        return ()
    return (
        Change(
            action="remove-permission",
            description=f"remove statement {sid} from the policy of {binding}, "
            "which is no longer bound",
        ),
    )


def remove(client: Calls, identity_pool_id: str, *, dry_run: bool) -> EnsureResult:
    """Unbind, then remove our statement from the function that was bound (only ours)."""
    _validate(identity_pool_id, "")
    region = client.region_of(identity_pool_id)
    binding = client.get_events(identity_pool_id).get(SYNC_TRIGGER, "")
    sid = statement_id(identity_pool_id)
    policy: PolicyAnswer | None = None
    source = account = ""
    parsed = parse_function_arn(binding) if binding else None
    if parsed is not None and parsed.region == region:
        account = client.caller_account(region)
        source = pool_source_arn(parsed.partition, region, account, identity_pool_id)
        try:
            policy = client.get_policy(region, binding)
        except ResourceNotFoundError:  # the function is gone, and its policy with it
            policy = None
    changes = plan_remove(
        identity_pool_id=identity_pool_id,
        binding=binding,
        policy=_document(policy),
        source_arn=source,
        account=account,
    )
    result = EnsureResult(
        identity_pool_id=identity_pool_id,
        function_arn="",
        dry_run=dry_run,
        changes=changes,
        statement_id=sid,
    )
    if dry_run:
        return result
    for change in changes:
        if change.action == "remove-binding":
            client.set_events(identity_pool_id, {SYNC_TRIGGER: ""})
        elif change.action == "remove-permission":
            document = _document(policy) or {}
            assert any(ours(item, sid, source, account) for item in document.get("Statement", []))
            with contextlib.suppress(ResourceNotFoundError):  # removed meanwhile: fine
                client.remove_permission(region, binding, sid)
    return result


def check(client: Calls, identity_pool_id: str) -> TriggerCheck:
    """Read the binding, the caller's account and the function's policy; diagnose."""
    _validate(identity_pool_id, "")
    region = client.region_of(identity_pool_id)
    binding = client.get_events(identity_pool_id).get(SYNC_TRIGGER, "")
    account: str | None = None
    found: bool | None = None
    policy: PolicyAnswer | None = None
    parsed = parse_function_arn(binding) if binding else None
    if parsed is not None:
        account = client.caller_account(region)
        if parsed.region == region and parsed.account == account:
            try:
                policy = client.get_policy(region, binding)
                found = True
            except ResourceNotFoundError:
                found = False
    return TriggerCheck(
        identity_pool_id=identity_pool_id,
        function_arn=binding,
        items=check_items(
            identity_pool_id=identity_pool_id,
            pool_region=region,
            binding=binding,
            account=account,
            function_found=found,
            policy=_document(policy),
        ),
    )
