"""The ``ensure`` and ``check`` commands: a sync trigger that works, set in one idempotent
step, and the diagnosis of one that would not fire.

Kept apart from ``_cli`` (which adds them to its parser): they only need a way to make
a client from the parsed arguments, passed in, so nothing here imports ``_cli``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Final

from ._client import CognitoEventsClient
from ._ensure import EnsureResult, TriggerCheck
from ._validation import SYNC_TRIGGER

__all__ = ["EXIT_WONT_FIRE", "add_commands"]

#: ``check``: the sync trigger would not fire (the diagnosis is printed).
EXIT_WONT_FIRE: Final = 9

MakeCommand = Callable[[str, str, str], argparse.ArgumentParser]
MakeClient = Callable[[argparse.Namespace], CognitoEventsClient]


def add_commands(command: MakeCommand, make_client: MakeClient) -> None:
    """Add ``ensure`` and ``check`` with ``command(name, summary, description)``."""
    ensure = command(
        "ensure",
        "bind a sync trigger that can fire: Lambda permission, then binding (idempotent)",
        f"Make ARN the {SYNC_TRIGGER} of the identity pool and let Cognito Sync invoke it: "
        "add the Lambda permission for this pool and account if no statement allows it "
        "yet (AddPermission), bind the function (SetCognitoEvents) and read it back. A "
        "second run changes nothing. --sync-trigger '' unbinds and removes the statement "
        "this command added (only that one). A function of another region or account is "
        "refused before anything is written. Prints the changes (with --dry-run, the plan).",
    )
    ensure.add_argument("pool", metavar="POOL", help="identity pool id")
    ensure.add_argument(
        "--sync-trigger",
        required=True,
        metavar="ARN",
        help="Lambda function ARN to bind ('' to unbind and remove the permission)",
    )
    ensure.add_argument(
        "--dry-run", action="store_true", help="read and print the plan; write nothing"
    )
    ensure.add_argument(
        "--no-grant",
        dest="grant",
        action="store_false",
        help="bind only: do not add the Lambda permission",
    )

    def run_ensure(args: argparse.Namespace) -> int:
        return _run_ensure(args, make_client)

    ensure.set_defaults(handler=run_ensure)

    check = command(
        "check",
        "say whether the sync trigger will fire, with one fix line per problem",
        "Read the identity pool's binding, the caller's account (STS GetCallerIdentity) "
        "and the function's resource policy (GetPolicy), and say whether Cognito Sync "
        "will invoke the function: binding present, region and account of the pool, "
        f"function found, permission for this pool. Exits {EXIT_WONT_FIRE} when not, with "
        "one fix line per failing item. Writes nothing.",
    )
    check.add_argument("pool", metavar="POOL", help="identity pool id")

    def run_check(args: argparse.Namespace) -> int:
        return _run_check(args, make_client)

    check.set_defaults(handler=run_check)


def _run_ensure(args: argparse.Namespace, make_client: MakeClient) -> int:
    with make_client(args) as client:
        result = client.ensure_sync_trigger(
            args.pool, args.sync_trigger, grant=args.grant, dry_run=args.dry_run
        )
    if args.output == "json":
        print(json.dumps(result.to_json(), indent=4))
    else:
        print(_ensure_text(result))
    return 0


def _ensure_text(result: EnsureResult) -> str:
    if not result.changes:
        if result.function_arn:
            return f"no changes: {SYNC_TRIGGER} of {result.identity_pool_id} is already set up"
        return f"no changes: no {SYNC_TRIGGER} is bound to {result.identity_pool_id}"
    head = "would" if result.dry_run else "done"
    return "\n".join(f"{head}: {change.description}" for change in result.changes)


def _run_check(args: argparse.Namespace, make_client: MakeClient) -> int:
    with make_client(args) as client:
        report = client.check_sync_trigger(args.pool)
    if args.output == "json":
        print(json.dumps(report.to_json(), indent=4))
    else:
        print(_check_text(report))
    return 0 if report.ok else EXIT_WONT_FIRE


def _check_text(report: TriggerCheck) -> str:
    lines: list[str] = []
    for item in report.items:
        lines.append(f"{'ok' if item.ok else 'FAIL':<4}  {item.name}: {item.detail}")
        if item.fix is not None:
            lines.append(f"      fix: {item.fix}")
    verdict = "will fire" if report.ok else "will NOT fire"
    lines.append(f"{SYNC_TRIGGER} of {report.identity_pool_id} {verdict}")
    return "\n".join(lines)
