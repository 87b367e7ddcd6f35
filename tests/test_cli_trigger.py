"""``cognito-events ensure`` and ``check`` against the emulator over real HTTP, exactly as
against AWS (only ``--endpoint-url`` differs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _sweep import record_output
from _trigger_helpers import boto3_client

from cognito_events._cli import EXIT_OK, EXIT_USAGE, EXIT_WONT_FIRE, main
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
WRITES = frozenset({"AddPermission", "RemovePermission", "SetCognitoEvents"})


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_lambda_function(ARN, lambda event, context: event)
        yield emulator


@pytest.fixture
def pool(emulator: Emulator) -> str:
    return emulator.add_identity_pool()


@pytest.fixture
def env(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Only the emulator's credentials and empty shared files, here and for subprocesses."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    (tmp_path / "empty").write_text("")
    values = {
        "AWS_ACCESS_KEY_ID": emulator.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": emulator.credentials.secret_access_key,
        "AWS_CONFIG_FILE": str(tmp_path / "empty"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "empty"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def cli(emulator: Emulator, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--endpoint-url", emulator.endpoint_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def _operations(emulator: Emulator, since: int) -> set[str]:
    return {entry.operation or "" for entry in emulator.requests[since:]}


@pytest.mark.usefixtures("env")
def test_ensure_then_again_then_check(
    emulator: Emulator, pool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(emulator, capsys, "ensure", pool, "--sync-trigger", ARN)
    assert (code, err) == (EXIT_OK, "")
    result = json.loads(out)
    assert [change["action"] for change in result["changes"]] == ["add-permission", "set-binding"]
    lambda_client = boto3_client(emulator.endpoint_url, "lambda", emulator.credentials)
    policy = json.loads(lambda_client.get_policy(FunctionName=ARN)["Policy"])
    lambda_client.close()
    assert [statement["Sid"] for statement in policy["Statement"]] == [result["statement_id"]]

    before = len(emulator.requests)
    code, out, _ = cli(emulator, capsys, "ensure", pool, "--sync-trigger", ARN, "--output", "text")
    assert code == EXIT_OK
    assert out == f"no changes: SyncTrigger of {pool} is already set up\n"
    assert not WRITES & _operations(emulator, before)

    code, out, _ = cli(emulator, capsys, "check", pool, "--output", "text")
    assert code == EXIT_OK
    assert out.splitlines()[-1] == f"SyncTrigger of {pool} will fire"


@pytest.mark.usefixtures("env")
def test_dry_run_prints_the_plan_and_writes_nothing(
    emulator: Emulator, pool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(
        emulator, capsys, "ensure", pool, "--sync-trigger", ARN, "--dry-run", "--output", "text"
    )
    assert code == EXIT_OK
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("would: ") for line in lines)
    assert not WRITES & _operations(emulator, 0)
    assert emulator.lambda_policy(ARN) is None


@pytest.mark.usefixtures("env")
def test_no_grant_binds_without_the_permission(
    emulator: Emulator, pool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(emulator, capsys, "ensure", pool, "--sync-trigger", ARN, "--no-grant")
    assert code == EXIT_OK
    assert [change["action"] for change in json.loads(out)["changes"]] == ["set-binding"]
    assert emulator.lambda_policy(ARN) is None


@pytest.mark.usefixtures("env")
def test_a_function_in_another_region_is_refused_before_any_write(
    emulator: Emulator, pool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = ARN.replace("us-east-1", "eu-west-1")
    code, out, err = cli(emulator, capsys, "ensure", pool, "--sync-trigger", other)
    assert code == EXIT_USAGE
    assert out == ""
    assert err.startswith("error: invalid input, nothing was sent: --sync-trigger: is in region")
    assert not WRITES & _operations(emulator, 0)


@pytest.mark.usefixtures("env")
def test_removing_deletes_only_its_statement(
    emulator: Emulator, pool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.add_permission(ARN, statement_id="someone-else", source_arn="arn:aws:s3:::b")
    assert cli(emulator, capsys, "ensure", pool, "--sync-trigger", ARN)[0] == EXIT_OK

    code, out, _ = cli(emulator, capsys, "ensure", pool, "--sync-trigger", "", "--output", "text")

    assert code == EXIT_OK
    assert [line.split()[1] for line in out.splitlines()] == ["unbind", "remove"]
    policy = emulator.lambda_policy(ARN)
    assert policy is not None
    assert [statement["Sid"] for statement in policy["Statement"]] == ["someone-else"]


@pytest.mark.usefixtures("env")
def test_check_fails_with_the_fix_when_the_statement_is_removed_by_hand(
    emulator: Emulator, pool: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(emulator, capsys, "ensure", pool, "--sync-trigger", ARN)
    statement_id = json.loads(out)["statement_id"]
    lambda_client = boto3_client(emulator.endpoint_url, "lambda", emulator.credentials)
    lambda_client.remove_permission(FunctionName=ARN, StatementId=statement_id)
    lambda_client.close()

    code, out, _ = cli(emulator, capsys, "check", pool, "--output", "text")

    assert code == EXIT_WONT_FIRE
    lines = out.splitlines()
    failing = [line for line in lines if line.startswith("FAIL")]
    assert len(failing) == 1
    assert failing[0].startswith("FAIL  permission: ")
    assert f"      fix: cognito-events ensure {pool} --sync-trigger {ARN}" in lines
    code, out, _ = cli(emulator, capsys, "check", pool)
    report: dict[str, Any] = json.loads(out)
    assert code == EXIT_WONT_FIRE
    assert report["ok"] is False


def test_check_as_a_subprocess(emulator: Emulator, pool: str, env: dict[str, str]) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "cognito_events", "check", pool, "--output", "text"],
        env={**env, "AWS_ENDPOINT_URL": emulator.endpoint_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    record_output(result.stdout + result.stderr)
    assert result.returncode == EXIT_WONT_FIRE
    assert result.stderr == ""
    assert f"fix: cognito-events ensure {pool} --sync-trigger <function ARN>" in result.stdout


def test_serve_refuses_an_account_id_that_is_not_12_digits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--account-id", "12345"]) == EXIT_USAGE
    assert "--account-id: must be 12 digits, got '12345'" in capsys.readouterr().err


def test_serve_answers_sts_with_its_account_id() -> None:
    result = subprocess.Popen(
        [sys.executable, "-m", "cognito_events", "serve", "--port", "0", "--account-id",
         "000011112222"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert result.stdout is not None
        line = result.stdout.readline()
        assert line.startswith("Listening on ")
        url = line.split()[-1]
        from cognito_events import Credentials

        sts = boto3_client(
            url,
            "sts",
            Credentials("AKIDCOGNITOEVENTSEMU", "cognito-events-emulator-development-secret"),
        )
        assert sts.get_caller_identity()["Account"] == "000011112222"
        sts.close()
    finally:
        result.terminate()
        result.wait(timeout=60)
        if result.stdout is not None:
            result.stdout.close()
