"""A sync trigger that works, as a pure plan: current state in, actions out.

The state is what the client read (the pool's binding, the function's resource policy,
the caller's account); the plan is the list of writes that bring it to the wanted end
state (the Lambda permission that lets Cognito Sync invoke the function for this pool
only, then the binding). The client executes the plan; nothing here does I/O.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeGuard

import attrs

from ._validation import parse_function_arn, pool_source_arn

__all__ = [
    "PRINCIPAL",
    "Change",
    "CheckItem",
    "EnsureResult",
    "TriggerCheck",
    "allows_pool",
    "check_items",
    "ours",
    "plan_ensure",
    "plan_remove",
    "statement_for",
    "statement_id",
]

#: Who invokes a sync trigger.
PRINCIPAL: Final = "cognito-sync.amazonaws.com"
ACTION: Final = "lambda:InvokeFunction"
#: The prefix of the statement ids this tool adds (Lambda: ``[a-zA-Z0-9-_]+``, 1-100).
STATEMENT_PREFIX: Final = "cognito-events-sync-trigger-"
_INVOKE_ACTIONS: Final = frozenset({"lambda:invokefunction", "lambda:*", "*"})

Action = Literal["add-permission", "set-binding", "remove-permission", "remove-binding"]


@attrs.frozen(kw_only=True)
class Change:
    """One write ensure made (or, in a dry run, would make)."""

    action: Action
    description: str


@attrs.frozen(kw_only=True)
class EnsureResult:
    """What ``ensure_sync_trigger``/``remove_sync_trigger`` did or, with ``dry_run``, would do."""

    identity_pool_id: str
    #: The function bound at the end ("" when removed).
    function_arn: str
    dry_run: bool
    changes: tuple[Change, ...]
    #: The id of the permission statement this tool adds for the pool.
    statement_id: str

    @property
    def changed(self) -> bool:
        """True when a write was made (or would be, in a dry run)."""
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--output json``)."""
        return {
            "identity_pool_id": self.identity_pool_id,
            "function_arn": self.function_arn,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "statement_id": self.statement_id,
            "changes": [
                {"action": change.action, "description": change.description}
                for change in self.changes
            ],
        }


@attrs.frozen(kw_only=True)
class CheckItem:
    """One condition for the trigger to fire, whether it holds, and the one-line fix."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None


@attrs.frozen(kw_only=True)
class TriggerCheck:
    """Whether the pool's sync trigger will fire: every item must hold."""

    identity_pool_id: str
    #: The bound function ("" when none).
    function_arn: str
    items: tuple[CheckItem, ...]

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--output json``)."""
        return {
            "identity_pool_id": self.identity_pool_id,
            "function_arn": self.function_arn,
            "ok": self.ok,
            "items": [attrs.asdict(item) for item in self.items],
        }


def statement_id(identity_pool_id: str) -> str:
    """The id of this tool's statement for a pool: found again by a re-run."""
    return STATEMENT_PREFIX + identity_pool_id.partition(":")[2]


def statement_for(source_arn: str, account: str) -> dict[str, Any]:
    """The statement Lambda stores for our AddPermission, as GetPolicy shows it."""
    return {
        "Effect": "Allow",
        "Principal": {"Service": PRINCIPAL},
        "Action": ACTION,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": account},
            "ArnLike": {"AWS:SourceArn": source_arn},
        },
    }


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object (its keys are strings), typed for reading."""
    return isinstance(value, Mapping)


def _is_list(value: object) -> TypeGuard[list[object]]:
    """A JSON array, typed for reading."""
    return isinstance(value, list)


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if document is None:
        return []
    found: object = document.get("Statement", [])
    if _is_mapping(found):
        return [found]
    return [item for item in found if _is_mapping(item)] if _is_list(found) else []


def _lowered(condition: object) -> dict[str, dict[str, object]]:
    """Condition operators and keys compared case-insensitively, as IAM does for keys."""
    if not _is_mapping(condition):
        return {}
    lowered: dict[str, dict[str, object]] = {}
    for operator, pairs in condition.items():
        if _is_mapping(pairs):
            lowered[operator] = {key.lower(): value for key, value in pairs.items()}
    return lowered


def ours(statement: Mapping[str, Any], sid: str, source_arn: str, account: str) -> bool:
    """True for the statement this tool adds: its id AND its content."""
    if statement.get("Sid") != sid:
        return False
    wanted = statement_for(source_arn, account)
    return (
        statement.get("Effect") == "Allow"
        and statement.get("Principal") == wanted["Principal"]
        and statement.get("Action") == ACTION
        and _lowered(statement.get("Condition")) == _lowered(wanted["Condition"])
    )


def has_our_statement(
    document: Mapping[str, Any] | None, sid: str, source_arn: str, account: str
) -> bool:
    """Whether a policy holds the statement this tool adds for the pool (id and content)."""
    return any(ours(item, sid, source_arn, account) for item in _statements(document))


def _holds(condition: object, values: Mapping[str, str]) -> bool:
    """Whether a statement's conditions hold for the pool (unknown operators: they do not)."""
    if condition is None:
        return True
    for operator, pairs in _lowered(condition).items():
        for key, expected in pairs.items():
            actual = values.get(key)
            given: list[object] = expected if _is_list(expected) else [expected]
            options = [option for option in given if isinstance(option, str)]
            if actual is None or len(options) != len(given):
                return False
            if operator in ("StringEquals", "ArnEquals"):
                matched = actual in options
            elif operator in ("StringLike", "ArnLike"):
                matched = any(fnmatch.fnmatchcase(actual, option) for option in options)
            else:
                return False
            if not matched:
                return False
    return _is_mapping(condition)


def allows_pool(document: Mapping[str, Any] | None, source_arn: str, account: str) -> bool:
    """Whether any statement lets Cognito Sync invoke the function for this pool."""
    values = {"aws:sourcearn": source_arn, "aws:sourceaccount": account}
    for statement in _statements(document):
        principal = statement.get("Principal")
        actions: object = statement.get("Action")
        action_list: list[object] = actions if _is_list(actions) else [actions]
        if (
            statement.get("Effect") == "Allow"
            and principal in ("*", {"Service": PRINCIPAL}, {"AWS": "*"})
            and any(str(action).lower() in _INVOKE_ACTIONS for action in action_list)
            and _holds(statement.get("Condition"), values)
        ):
            return True
    return False


def _sid_taken(document: Mapping[str, Any] | None, sid: str) -> bool:
    return any(item.get("Sid") == sid for item in _statements(document))


def plan_ensure(
    *,
    identity_pool_id: str,
    function_arn: str,
    binding: str,
    policy: Mapping[str, Any] | None,
    source_arn: str,
    account: str,
    grant: bool,
) -> tuple[Change, ...]:
    """The writes that bind ``function_arn`` with a permission that lets it fire.

    Raises ``ValueError`` when our statement id is taken by a statement of other content.
    """
    sid = statement_id(identity_pool_id)
    changes: list[Change] = []
    if grant and not allows_pool(policy, source_arn, account):
        if _sid_taken(policy, sid):
            raise ValueError(
                f"the policy of {function_arn} has a statement {sid!r} that does not allow "
                f"this pool; remove it (aws lambda remove-permission --function-name "
                f"{function_arn} --statement-id {sid}) and run again"
            )
        changes.append(
            Change(
                action="add-permission",
                description=f"allow {PRINCIPAL} to invoke {function_arn} for {source_arn} "
                f"(statement {sid})",
            )
        )
    if binding != function_arn:
        was = f" (was {binding})" if binding else ""
        changes.append(
            Change(
                action="set-binding",
                description=f"bind SyncTrigger of {identity_pool_id} to {function_arn}{was}",
            )
        )
    return tuple(changes)


def plan_remove(
    *,
    identity_pool_id: str,
    binding: str,
    policy: Mapping[str, Any] | None,
    source_arn: str,
    account: str,
) -> tuple[Change, ...]:
    """The writes that unbind the pool and remove the statement this tool added (only it)."""
    sid = statement_id(identity_pool_id)
    changes: list[Change] = []
    if binding:
        changes.append(
            Change(
                action="remove-binding",
                description=f"unbind SyncTrigger of {identity_pool_id} (was {binding})",
            )
        )
        if has_our_statement(policy, sid, source_arn, account):
            changes.append(
                Change(
                    action="remove-permission",
                    description=f"remove statement {sid} from the policy of {binding}",
                )
            )
    return tuple(changes)


def ensure_command(identity_pool_id: str, function_arn: str) -> str:
    """The one-line fix that sets everything up."""
    return f"cognito-events ensure {identity_pool_id} --sync-trigger {function_arn}"


def check_items(
    *,
    identity_pool_id: str,
    pool_region: str,
    binding: str,
    account: str | None,
    function_found: bool | None,
    policy: Mapping[str, Any] | None,
) -> tuple[CheckItem, ...]:
    """Each condition for the trigger to fire, in the order they are worth fixing.

    ``account`` is the caller's; ``function_found`` None when not looked up.
    """
    if not binding:
        return (
            CheckItem(
                name="binding",
                ok=False,
                detail=f"no SyncTrigger is bound to {identity_pool_id}",
                fix=ensure_command(identity_pool_id, "<function ARN>"),
            ),
        )
    items = [CheckItem(name="binding", ok=True, detail=f"SyncTrigger is {binding}")]
    parsed = parse_function_arn(binding)
    if parsed is None:
        items.append(
            CheckItem(
                name="function-arn",
                ok=False,
                detail=f"{binding} is not a Lambda function ARN",
                fix=ensure_command(identity_pool_id, "<function ARN>"),
            )
        )
        return tuple(items)
    partition, region, function_account = parsed.partition, parsed.region, parsed.account
    items.append(
        CheckItem(
            name="region",
            ok=region == pool_region,
            detail=f"function region {region}, pool region {pool_region}",
            fix=None
            if region == pool_region
            else f"bind a function in {pool_region}: "
            + ensure_command(identity_pool_id, "<function ARN in " + pool_region + ">"),
        )
    )
    if account is not None:
        items.append(
            CheckItem(
                name="account",
                ok=function_account == account,
                detail=f"function account {function_account}, pool account {account}",
                fix=None
                if function_account == account
                else "bind a function of account "
                + account
                + ": "
                + ensure_command(identity_pool_id, "<function ARN>"),
            )
        )
    if function_found is not None:
        items.append(
            CheckItem(
                name="function",
                ok=function_found,
                detail=f"{binding} {'exists' if function_found else 'was not found'}",
                fix=None
                if function_found
                else "create the function, or bind another: "
                + ensure_command(identity_pool_id, "<function ARN>"),
            )
        )
    if function_found and account is not None:
        source = pool_source_arn(partition, pool_region, account, identity_pool_id)
        allowed = allows_pool(policy, source, account)
        items.append(
            CheckItem(
                name="permission",
                ok=allowed,
                detail=(
                    f"the policy of {binding} "
                    + ("allows" if allowed else "does not allow")
                    + f" {PRINCIPAL} to invoke it for {source}"
                ),
                fix=None if allowed else ensure_command(identity_pool_id, binding),
            )
        )
    return tuple(items)
