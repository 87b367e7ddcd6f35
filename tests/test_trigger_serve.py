"""The trigger loop against ``cognito-events serve --function`` in a subprocess: the same
answers as in process, survival of a SIGKILL between syncs (``--db``), and
``--lambda-endpoint`` forwarding Invoke to another Lambda endpoint (here: a second
emulator, which serves the Lambda Invoke API)."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cognito_events import SYNC_TRIGGER, CognitoEventsClient
from cognito_events.testing import DEV_CREDENTIALS, ISOLATED_ENVIRON, Emulator

pytest.importorskip("boto3")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

from _trigger_helpers import boto3_client, device, new_identity, stored, sync  # noqa: E402

POOL = "us-east-1:11111111-2222-4333-8444-555555555555"
ACCOUNT = "123456789012"
CLAMP = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:clamp"
MALFORMED = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:malformed"
RAISES = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:raises"
REMOTE = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:remote"
SOURCE_ARN = f"arn:aws:cognito-sync:us-east-1:{ACCOUNT}:identitypool/{POOL}"

HANDLERS = """
from cognito_events.trigger import SyncTriggerEvent, sync_trigger


@sync_trigger
def clamp(event: SyncTriggerEvent, context: object) -> SyncTriggerEvent:
    score = event.records.get("score")
    if score is not None and score.new_value is not None and int(score.new_value) > 100:
        event = event.replace("score", "100")
    return event.replace("invoked", context.function_name)


def malformed(event, context):
    return {"datasetRecords": "nope"}


def raises(event, context):
    raise RuntimeError("the trigger broke")
"""


class Served:
    """``python -m cognito_events serve --port 0 ARGS`` in ``cwd``, up and listening."""

    def __init__(self, args: Sequence[str], cwd: Path) -> None:
        argv = [sys.executable, "-m", "cognito_events", "serve", "--port", "0", *args]
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        env = {**os.environ, "PYTHONPATH": str(cwd)}
        self.process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            argv, stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=cwd, env=env
        )
        stdout = self.process.stdout
        assert stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            ready = selector.select(60)
        line = stdout.readline() if ready else ""
        if not line.startswith("Listening on "):
            self.stop()
            raise RuntimeError(f"serve did not start: {line!r}; stderr: {self.stderr()!r}")
        self.url = line.removeprefix("Listening on ").strip()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "loop_triggers.py").write_text(textwrap.dedent(HANDLERS), encoding="utf-8")
    return tmp_path


def _args(db: Path) -> list[str]:
    return [
        "--db",
        str(db),
        "--identity-pool",
        POOL,
        "--function",
        f"{CLAMP}=loop_triggers:clamp",
        "--function",
        f"{MALFORMED}=loop_triggers:malformed",
        "--function",
        f"{RAISES}=loop_triggers:raises",
    ]


@pytest.fixture
def served(project: Path) -> Iterator[Served]:
    process = Served(_args(project / "emulator.db"), project)
    yield process
    process.stop()


def _bind(url: str, arn: str, *, allow: bool = True) -> None:
    with CognitoEventsClient(
        region="us-east-1",
        endpoint_url=url,
        credentials=DEV_CREDENTIALS,
        environ=ISOLATED_ENVIRON,
    ) as client:
        client.set_cognito_events(POOL, {SYNC_TRIGGER: arn})
    if allow:
        lambda_client = boto3_client(url, "lambda", DEV_CREDENTIALS)
        lambda_client.add_permission(
            FunctionName=arn,
            StatementId="cognito-sync",
            Action="lambda:InvokeFunction",
            Principal="cognito-sync.amazonaws.com",
            SourceArn=SOURCE_ARN,
            SourceAccount=ACCOUNT,
        )
        lambda_client.close()


def _error(call: Any, *args: Any) -> str:
    with pytest.raises(botocore_exceptions.ClientError) as caught:
        call(*args)
    code: str = caught.value.response["Error"]["Code"]
    return code


def test_the_loop_with_serve_function(served: Served) -> None:
    _bind(served.url, CLAMP)
    identity_id, client = device(served.url, POOL)
    answer = sync(client, POOL, identity_id, {"score": "500", "name": "ada"})
    got = {record["Key"]: record["Value"] for record in answer["Records"]}
    assert got == {"score": "100", "name": "ada", "invoked": "clamp"}
    assert stored(client, POOL, identity_id) == got

    developer = boto3_client(served.url, "cognito-sync", DEV_CREDENTIALS)
    answer = sync(developer, POOL, identity_id, {"score": "700"})
    assert [(r["Key"], r["Value"]) for r in answer["Records"]] == [("score", "700")]
    developer.close()
    assert "not invoked" in served.stderr()

    for arn, code in (
        (MALFORMED, "NotAuthorizedException"),  # no permission yet
        (RAISES, "NotAuthorizedException"),
    ):
        _bind(served.url, arn, allow=False)
        assert _error(sync, client, POOL, identity_id, {"score": "1"}) == code
    for arn in (MALFORMED, RAISES):
        _bind(served.url, arn)
        code = _error(sync, client, POOL, identity_id, {"score": "1"})
        assert code == "InvalidLambdaFunctionOutputException"
    assert stored(client, POOL, identity_id)["score"] == "700"  # nothing stored by failures
    client.close()


def test_the_loop_survives_sigkill_between_syncs(project: Path) -> None:
    db = project / "emulator.db"
    first = Served(_args(db), project)
    try:
        _bind(first.url, CLAMP)
        identity_id, credentials = new_identity(first.url, POOL)
        client = boto3_client(first.url, "cognito-sync", credentials)
        acknowledged = sync(client, POOL, identity_id, {"score": "50", "level": "3"})
        client.close()
    finally:
        first.kill()
        first.stop()
    assert acknowledged["Records"]

    second = Served(_args(db), project)
    try:
        # Same identity, same temporary credentials, same permission, same binding.
        client = boto3_client(second.url, "cognito-sync", credentials)
        assert stored(client, POOL, identity_id) == {
            "score": "50",
            "level": "3",
            "invoked": "clamp",
        }
        answer = sync(client, POOL, identity_id, {"score": "900"})
        assert {r["Key"]: r["Value"] for r in answer["Records"]} == {
            "score": "100",
            "invoked": "clamp",
        }
        assert {r["SyncCount"] for r in answer["Records"]} == {2}
        client.close()
    finally:
        second.stop()


def test_lambda_endpoint_forwards_invoke(project: Path) -> None:
    events: list[dict[str, Any]] = []

    def remote(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        event["datasetRecords"]["remote"] = {"oldValue": None, "newValue": "yes", "op": "replace"}
        return event

    with Emulator() as lambda_side:
        lambda_side.add_lambda_function(REMOTE, remote)
        served = Served(
            ["--identity-pool", POOL, "--lambda-endpoint", lambda_side.endpoint_url], project
        )
        try:
            _bind(served.url, REMOTE)  # the permission lives in the emulator that invokes
            identity_id, client = device(served.url, POOL)
            answer = sync(client, POOL, identity_id, {"k": "v"})
            client.close()
        finally:
            served.stop()
        forwarded = [r for r in lambda_side.requests if r.operation == "Invoke"]
    assert {r["Key"]: r["Value"] for r in answer["Records"]} == {"k": "v", "remote": "yes"}
    assert [event["identityId"] for event in events] == [identity_id]
    assert [r.status for r in forwarded] == [200]
    assert forwarded[0].headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
