"""boto3 and the AWS CLI against the emulator: same results, same error codes.

Nothing here can reach AWS: every client gets an explicit 127.0.0.1 endpoint and explicit
keys, the config and credentials files are empty, instance metadata is disabled, and the
CLI runs with a clean environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cognito_events import SYNC_TRIGGER, Credentials
from cognito_events.testing import Emulator

boto3 = pytest.importorskip("boto3")
botocore_config = pytest.importorskip("botocore.config")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
MISSING_POOL = "us-east-1:00000000-0000-4000-8000-000000000000"
EU_POOL = "eu-west-1:0f7e2b2c-1111-2222-3333-444455556666"


@pytest.fixture(scope="module")
def aws_isolation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Empty AWS config/credentials files and no AWS_* or proxy variables; yields a clean
    environment for subprocesses."""
    home = tmp_path_factory.mktemp("home")
    empty = home / "empty"
    empty.write_text("")
    clean = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AWS_") or name.lower().endswith("_proxy"):
                patch.delenv(name)
        for name, value in clean.items():
            patch.setenv(name, value)
        yield {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **clean}


@pytest.fixture(scope="module")
def shared_emulator(aws_isolation: dict[str, str]) -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(shared_emulator: Emulator) -> Emulator:
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture
def pool(emulator: Emulator) -> str:
    return emulator.add_identity_pool()


def make_boto3_client(emulator: Emulator, credentials: Credentials | None = None) -> Any:
    credentials = credentials or emulator.credentials
    session = boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=emulator.region,
    )
    return session.client(
        "cognito-sync",
        endpoint_url=emulator.endpoint_url,
        config=botocore_config.Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def boto3_client(shared_emulator: Emulator) -> Iterator[Any]:
    client = make_boto3_client(shared_emulator)
    yield client
    client.close()


def client_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(botocore_exceptions.ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


# --------------------------------------------------------------------------- boto3


def test_boto3_set_get_clear_get(boto3_client: Any, emulator: Emulator, pool: str) -> None:
    assert boto3_client.get_cognito_events(IdentityPoolId=pool)["Events"] == {}
    answer = boto3_client.set_cognito_events(IdentityPoolId=pool, Events={SYNC_TRIGGER: ARN})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert boto3_client.get_cognito_events(IdentityPoolId=pool)["Events"] == {SYNC_TRIGGER: ARN}
    # Our own client reads what boto3 wrote.
    with emulator.client() as ours:
        assert ours.get_cognito_events(pool) == {SYNC_TRIGGER: ARN}
        ours.set_cognito_events(pool, {SYNC_TRIGGER: ""})
    assert boto3_client.get_cognito_events(IdentityPoolId=pool)["Events"] == {}


def test_what_botocore_sends(boto3_client: Any, emulator: Emulator, pool: str) -> None:
    boto3_client.set_cognito_events(IdentityPoolId=pool, Events={SYNC_TRIGGER: ARN})
    got = boto3_client.get_cognito_events(IdentityPoolId=pool)
    post, get = emulator.requests
    # Recorded, not assumed: botocore sends JSON with a Content-Type on POST, none on GET.
    assert post.headers["content-type"] == "application/json"
    assert json.loads(post.body) == {"Events": {SYNC_TRIGGER: ARN}}
    assert "content-type" not in get.headers
    assert post.path == get.path == f"/identitypools/{pool.replace(':', '%3A')}/events"
    assert got["ResponseMetadata"]["RequestId"] == get.request_id


def test_boto3_resource_not_found(boto3_client: Any, emulator: Emulator) -> None:
    response = client_error(boto3_client.get_cognito_events, IdentityPoolId=MISSING_POOL)
    assert response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": f"IdentityPool '{MISSING_POOL}' not found.",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert response["ResponseMetadata"]["RequestId"] == emulator.requests[-1].request_id
    with pytest.raises(boto3_client.exceptions.ResourceNotFoundException):
        boto3_client.set_cognito_events(IdentityPoolId=MISSING_POOL, Events={SYNC_TRIGGER: ARN})


def test_boto3_pool_of_another_region(boto3_client: Any, emulator: Emulator) -> None:
    emulator.add_identity_pool(EU_POOL)
    response = client_error(boto3_client.get_cognito_events, IdentityPoolId=EU_POOL)
    assert response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("pool_id", "events", "message"),
    [
        (None, {SYNC_TRIGGER: "not-an-arn"}, "Invalid lambda function ARN: 'not-an-arn'"),
        (None, {"Bogus": ARN}, "Unsupported event type 'Bogus'"),
        (
            "us-east-1_UserPool",
            {SYNC_TRIGGER: ARN},
            "1 validation error detected: Value 'us-east-1_UserPool' at 'identityPoolId' "
            r"failed to satisfy constraint: Member must satisfy regular expression pattern: "
            r"[\w-]+:[0-9a-f-]+",
        ),
    ],
)
def test_boto3_invalid_parameter(
    boto3_client: Any, pool: str, pool_id: str | None, events: dict[str, str], message: str
) -> None:
    response = client_error(
        boto3_client.set_cognito_events, IdentityPoolId=pool_id or pool, Events=events
    )
    assert response["Error"]["Code"] == "InvalidParameterException"
    assert response["Error"]["Message"].startswith(message)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_boto3_wrong_secret(emulator: Emulator, pool: str) -> None:
    wrong = Credentials(emulator.credentials.access_key_id, "not-the-secret")
    client = make_boto3_client(emulator, wrong)
    try:
        response = client_error(client.get_cognito_events, IdentityPoolId=pool)
    finally:
        client.close()
    assert response["Error"]["Code"] == "InvalidSignatureException"
    assert "The Canonical String for this request should have been" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_boto3_unknown_key(emulator: Emulator, pool: str) -> None:
    client = make_boto3_client(emulator, Credentials("AKIDSTRANGER", "secret"))
    try:
        response = client_error(client.get_cognito_events, IdentityPoolId=pool)
    finally:
        client.close()
    assert response["Error"] == {
        "Code": "UnrecognizedClientException",
        "Message": "The security token included in the request is invalid.",
    }


def test_boto3_session_token(emulator: Emulator) -> None:
    temporary = Credentials("ASIAEMULATOR", "temporary-secret", "session-token")
    with Emulator(credentials=temporary) as own:
        pool = own.add_identity_pool()
        client = make_boto3_client(own)
        try:
            client.set_cognito_events(IdentityPoolId=pool, Events={SYNC_TRIGGER: ARN})
            assert client.get_cognito_events(IdentityPoolId=pool)["Events"] == {SYNC_TRIGGER: ARN}
        finally:
            client.close()
        assert own.requests[0].headers["x-amz-security-token"] == "<redacted>"


def test_boto3_sees_injected_throttling(boto3_client: Any, emulator: Emulator, pool: str) -> None:
    emulator.inject_fault(status=429, retry_after_ms=0)
    with pytest.raises(boto3_client.exceptions.TooManyRequestsException) as caught:
        boto3_client.get_cognito_events(IdentityPoolId=pool)
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-retry-after"] == "0"


# --------------------------------------------------------------------------- AWS CLI


def run_cli(
    emulator: Emulator, env: dict[str, str], *args: str, secret: str | None = None
) -> subprocess.CompletedProcess[str]:
    credentials = emulator.credentials
    full_env = {
        **env,
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret or credentials.secret_access_key,
        "AWS_DEFAULT_REGION": emulator.region,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
    }
    command = [
        sys.executable,
        "-m",
        "awscli",
        "--endpoint-url",
        emulator.endpoint_url,
        "--output",
        "json",
        "cognito-sync",
        *args,
    ]
    return subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        command,
        env=full_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=env["HOME"],
    )


def test_aws_cli_set_and_get(
    emulator: Emulator, pool: str, aws_isolation: dict[str, str], boto3_client: Any
) -> None:
    done = run_cli(
        emulator,
        aws_isolation,
        "set-cognito-events",
        "--identity-pool-id",
        pool,
        "--events",
        f"{SYNC_TRIGGER}={ARN}",
    )
    assert (done.returncode, done.stdout.strip()) == (0, ""), done.stderr
    assert emulator.events(pool) == {SYNC_TRIGGER: ARN}
    got = run_cli(emulator, aws_isolation, "get-cognito-events", "--identity-pool-id", pool)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == {"Events": {SYNC_TRIGGER: ARN}}
    # Same answer as boto3 and as our client.
    assert (
        json.loads(got.stdout)["Events"]
        == boto3_client.get_cognito_events(IdentityPoolId=pool)["Events"]
    )


@pytest.mark.parametrize(
    ("pool_id", "secret", "code"),
    [
        (MISSING_POOL, None, "ResourceNotFoundException"),
        (None, "not-the-secret", "InvalidSignatureException"),
    ],
)
def test_aws_cli_errors(
    emulator: Emulator,
    pool: str,
    aws_isolation: dict[str, str],
    pool_id: str | None,
    secret: str | None,
    code: str,
) -> None:
    done = run_cli(
        emulator,
        aws_isolation,
        "get-cognito-events",
        "--identity-pool-id",
        pool_id or pool,
        secret=secret,
    )
    assert done.returncode not in (0, None)
    assert f"An error occurred ({code}) when calling the GetCognitoEvents operation" in done.stderr


def test_nothing_left_in_the_environment_points_at_aws(aws_isolation: dict[str, str]) -> None:
    assert Path(aws_isolation["AWS_CONFIG_FILE"]).read_text() == ""
    assert not [name for name in os.environ if name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE")]
