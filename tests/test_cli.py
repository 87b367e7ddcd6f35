"""The ``cognito-events`` command line, against the in-process emulator on 127.0.0.1.

Subprocess tests run ``python -m cognito_events`` with a clean environment (nothing from
the developer's AWS setup leaks in); in-process tests call ``main([...])`` for speed.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pytest
from _sweep import record_output

import cognito_events
from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    CognitoEventsError,
    Credentials,
    CredentialsError,
    InternalError,
    InvalidParameterError,
    NotAuthorizedError,
    Problem,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    ValidationError,
    sigv4,
)
from cognito_events._cli import (
    EXIT_CREDENTIALS,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_NOT_AUTHORIZED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_SERVICE,
    EXIT_THROTTLED,
    EXIT_TRANSPORT,
    EXIT_USAGE,
    _describe,
    _Redactor,
    main,
)
from cognito_events.testing import Emulator

REGION = "us-east-1"
ACCESS_KEY_ID = "AKIDCLITESTEXAMPLE"
# '/' and '+' on purpose: the --credentials parser must keep them.
SECRET = "cli/Secret+Key/MustNeverBePrinted0123456789"
TOKEN = "cliSessionTokenMustNeverBePrinted+/="
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:on-dataset-sync"
UNKNOWN_POOL = f"{REGION}:00000000-0000-0000-0000-00000000dead"
#: For tests that never reach a server.
POOL = f"{REGION}:0f7e2b2c-1111-2222-3333-444455556666"
TIMEOUT = 30


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(REGION, credentials=Credentials(ACCESS_KEY_ID, SECRET, TOKEN)) as running:
        yield running


@pytest.fixture
def pool(emulator: Emulator) -> str:
    return emulator.add_identity_pool()


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """An environment with nothing from this machine's AWS setup (and no credentials)."""
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "aws-config"
    shared_credentials = tmp_path / "aws-credentials"
    config.write_text("")
    shared_credentials.write_text("")
    env = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(shared_credentials),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if "SYSTEMROOT" in os.environ:  # Windows cannot start Python without it
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return env


@pytest.fixture
def env(clean_env: dict[str, str]) -> dict[str, str]:
    """The clean environment plus the emulator's credentials."""
    return {
        **clean_env,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
    }


@pytest.fixture
def in_process_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The same environment for in-process ``main()`` calls."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def run(
    env: Mapping[str, str], *args: str, endpoint: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m cognito_events [--endpoint-url ENDPOINT] ARGS`` as a subprocess."""
    prefix = ["--endpoint-url", endpoint] if endpoint is not None else []
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "cognito_events", *prefix, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    record_output(result.stdout + result.stderr)  # for the secrets sweep (tests/_sweep.py)
    return result


def assert_one_error_line(result: subprocess.CompletedProcess[str], *secrets: str) -> str:
    """stderr is a single ``error:`` line: no traceback, no secret; return it."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secrets(result.stdout + result.stderr, *secrets)
    return lines[0]


def assert_no_secrets(text: str, *extra: str) -> None:
    for secret in (SECRET, TOKEN, *extra):
        assert secret not in text
    assert not re.search(r"Signature=[0-9a-f]{16}", text)


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- commands, output formats ---------------------------------------------------------------


def test_set_get_clear_roundtrip(emulator: Emulator, pool: str, env: dict[str, str]) -> None:
    url = emulator.endpoint_url

    result = run(env, "set", pool, "--event", f"{SYNC_TRIGGER}={ARN}", endpoint=url)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert emulator.events(pool) == {SYNC_TRIGGER: ARN}

    result = run(env, "get", pool, endpoint=url)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {"Events": {SYNC_TRIGGER: ARN}}
    assert result.stdout.startswith('{\n    "Events": {\n')  # pretty, as the AWS CLI prints

    result = run(env, "clear", pool, endpoint=url)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert emulator.events(pool) == {}

    result = run(env, "get", pool, endpoint=url)
    assert json.loads(result.stdout) == {"Events": {}}


def test_sync_trigger_shorthand_and_text_output(
    emulator: Emulator,
    pool: str,
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = emulator.endpoint_url
    assert main(["--endpoint-url", url, "set", pool, "--sync-trigger", ARN]) == EXIT_OK
    assert emulator.events(pool) == {SYNC_TRIGGER: ARN}
    assert capsys.readouterr().out == ""

    assert main(["--endpoint-url", url, "--output", "text", "get", pool]) == EXIT_OK
    assert capsys.readouterr().out == f"{SYNC_TRIGGER}\t{ARN}\n"

    assert main(["--endpoint-url", url, "clear", pool, "--event", SYNC_TRIGGER]) == EXIT_OK
    assert main(["--endpoint-url", url, "--output", "text", "get", pool]) == EXIT_OK
    assert capsys.readouterr() == ("", "")  # text output of no events is nothing


def test_set_with_an_empty_arn_removes_the_binding(
    emulator: Emulator, pool: str, in_process_env: dict[str, str]
) -> None:
    url = emulator.endpoint_url
    assert main(["set", pool, "--sync-trigger", ARN, "--endpoint-url", url]) == EXIT_OK
    assert main(["set", pool, "--event", f"{SYNC_TRIGGER}=", "--endpoint-url", url]) == EXIT_OK
    assert emulator.events(pool) == {}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--output", "text", "get", "{pool}", "--endpoint-url", "{url}"], "text"),
        (["get", "{pool}", "--output", "text", "--endpoint-url", "{url}"], "text"),
        (["--endpoint-url", "{url}", "get", "{pool}"], "json"),
        # A value after the command wins over one before it.
        (["--output", "json", "get", "{pool}", "--output", "text",
          "--endpoint-url", "{url}"], "text"),
        (["--output", "text", "--endpoint-url", "http://127.0.0.1:1", "get", "{pool}",
          "--output", "json", "--endpoint-url", "{url}"], "json"),
    ],
)  # fmt: skip
def test_global_options_before_or_after_the_command(
    emulator: Emulator,
    pool: str,
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    emulator.client().set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    argv = [arg.format(pool=pool, url=emulator.endpoint_url) for arg in args]
    assert main(argv) == EXIT_OK
    out = capsys.readouterr().out
    if expected == "text":
        assert out == f"{SYNC_TRIGGER}\t{ARN}\n"
    else:
        assert json.loads(out) == {"Events": {SYNC_TRIGGER: ARN}}


def test_global_options_as_subprocess_after_the_command(
    emulator: Emulator, pool: str, env: dict[str, str]
) -> None:
    emulator.client().set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    result = run(
        env, "get", pool, "--region", REGION, "--output", "text", "--max-attempts", "1",
        "--endpoint-url", emulator.endpoint_url,
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{SYNC_TRIGGER}\t{ARN}\n", "")


@pytest.mark.parametrize("args", [["--version"], ["get", "--version"], ["demo", "--version"]])
def test_version(clean_env: dict[str, str], args: list[str]) -> None:
    result = run(clean_env, *args)
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"cognito-events {cognito_events.__version__}\n",
        "",
    )


def test_help_documents_exit_codes_and_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code in (
        EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_CREDENTIALS, EXIT_NOT_AUTHORIZED, EXIT_NOT_FOUND,
        EXIT_THROTTLED, EXIT_SERVICE, EXIT_TRANSPORT, EXIT_INTERRUPTED,
    ):  # fmt: skip
        assert re.search(rf"^ +{code}  \w", out, re.MULTILINE), code
    assert "set and clear print nothing on success" in out
    assert main(["set", "--help"]) == EXIT_OK
    assert "Prints nothing on success" in capsys.readouterr().out


def test_python_dash_m_and_console_script_are_the_same_program(clean_env: dict[str, str]) -> None:
    script = Path(sys.executable).with_name("cognito-events")
    if not script.exists():
        pytest.skip("the cognito-events console script is not installed next to python")
    result = subprocess.run(  # noqa: S603 - the console script this project installs
        [str(script), "--version"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (result.returncode, result.stdout) == (
        0,
        f"cognito-events {cognito_events.__version__}\n",
    )


# -- demo -----------------------------------------------------------------------------------


def test_demo_runs_every_step_against_a_local_emulator(clean_env: dict[str, str]) -> None:
    result = run(clean_env, "demo")  # no credentials, no AWS account
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "emulator" in out
    assert "No AWS account" in out
    for step in ("[1/4] SetCognitoEvents", "[2/4] GetCognitoEvents", "[3/4] SetCognitoEvents",
                 "[4/4] GetCognitoEvents"):  # fmt: skip
        assert step in out
    assert out.count("-> OK") == 2
    assert f"-> {{'{SYNC_TRIGGER}': 'arn:aws:lambda:" in out
    assert "-> {} (no event is bound)" in out
    assert "all 4 calls succeeded" in out


def test_demo_in_process(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # AWS_REGION pointing elsewhere must not derail the demo.
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert main(["demo", "--max-attempts", "2"]) == EXIT_OK
    assert "all 4 calls succeeded" in capsys.readouterr().out


def test_demo_checks_what_comes_back(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(CognitoEventsClient, "get_cognito_events", lambda self, pool: {})
    assert main(["demo"]) == EXIT_FAILURE
    out, err = capsys.readouterr()
    assert "[2/4] GetCognitoEvents" in out
    assert "[3/4]" not in out
    assert err.startswith("error: demo step 2 expected {'SyncTrigger': 'arn:aws:lambda:")
    assert err.endswith(" but got {}\n")


@pytest.mark.parametrize("args", [["demo"], ["--help"], ["get", POOL]])
def test_a_closed_stdout_stops_quietly(env: dict[str, str], args: list[str]) -> None:
    if args[0] == "get":  # a fake, closed endpoint: the write to stdout is never reached
        args = [*args, "--endpoint-url", f"http://127.0.0.1:{free_port()}", "--max-attempts", "1"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "cognito_events", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # before the program writes anything
    _, err = process.communicate(timeout=TIMEOUT)
    record_output(err)
    if args[0] == "get":
        assert process.returncode == EXIT_TRANSPORT
    else:
        assert (process.returncode, err) == (EXIT_FAILURE, "")


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("args", [["--version"], ["demo"]])
def test_a_closed_stdout_in_process(
    in_process_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(args) == EXIT_FAILURE


# -- errors and exit codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (ValidationError([Problem("identity_pool_id", "bad"), Problem("region", "worse"),
                          Problem("region (from AWS_REGION/AWS_DEFAULT_REGION)", "x"),
                          Problem("events['SyncTriger']", "y")]),
         EXIT_USAGE, "invalid input, nothing was sent:\nPOOL: bad\n--region: worse\n"
                     "region (from AWS_REGION/AWS_DEFAULT_REGION): x\n--event SyncTriger: y"),
        (ValidationError([Problem("region", "worse")]), EXIT_USAGE,
         "invalid input, nothing was sent: --region: worse"),
        (CredentialsError("none found"), EXIT_CREDENTIALS,
         "credentials: none found (hint: set AWS_ACCESS_KEY_ID"),
        (TransportError("no route", attempts=3), EXIT_TRANSPORT,
         "no response: no route (after 3 attempts) (hint: check --endpoint-url"),
        (NotAuthorizedError(status_code=403, code="UnrecognizedClientException",
                            message="m", request_id="r-1"),
         EXIT_NOT_AUTHORIZED, "UnrecognizedClientException: m [request id r-1] (hint: check"),
        (ResourceNotFoundError(status_code=404, code="ResourceNotFoundException", message="m",
                               request_id=None),
         EXIT_NOT_FOUND, "ResourceNotFoundException: m (hint: check the identity pool id"),
        (TooManyRequestsError(status_code=429, code=None, message="m", request_id=None,
                              attempts=5),
         EXIT_THROTTLED, "HTTP 429: m (after 5 attempts) (hint: the service is throttling"),
        (InvalidParameterError(status_code=400, code="InvalidParameterException", message="m",
                               request_id="r-2"),
         EXIT_SERVICE, "InvalidParameterException: m [request id r-2] (hint: the service refused"),
        (InternalError(status_code=503, code="ServiceUnavailable", message="m", request_id=None),
         EXIT_SERVICE, "ServiceUnavailable: m (hint: the service failed on its side"),
        (ServiceError(status_code=418, code=None, message="teapot", request_id=None),
         EXIT_SERVICE, "HTTP 418: teapot"),
        (CognitoEventsError("something new"), EXIT_SERVICE, "something new"),
    ],
)  # fmt: skip
def test_each_error_has_its_exit_code_and_line(
    error: CognitoEventsError, code: int, line: str
) -> None:
    described_code, described = _describe(error)
    assert described_code == code
    assert described.startswith(line), described
    # A list is one line per problem; everything else is one line.
    assert described.count("\n") == line.count("\n")


def test_validation_error_lists_every_problem_and_exits_2(env: dict[str, str]) -> None:
    result = run(
        env, "set", "eu-west-1_AbCdEf", "--event", "SyncTriger=arn:nope",
        endpoint="http://127.0.0.1:1",
    )  # fmt: skip
    assert result.returncode == EXIT_USAGE
    assert "Traceback" not in result.stderr
    head, *problems = result.stderr.splitlines()
    assert head == "error: invalid input, nothing was sent:"
    assert len(problems) == 3, result.stderr
    assert problems[0].startswith("  POOL: 'eu-west-1_AbCdEf' is not an identity pool id")
    assert "user pool id" in problems[0]
    assert problems[1].startswith("  --event: unknown event type 'SyncTriger'")
    assert "did you mean 'SyncTrigger'?" in problems[1]
    assert problems[2].startswith("  --event SyncTriger: 'arn:nope' is not a Lambda function ARN")


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["get"],
        ["frobnicate"],
        ["get", "{POOL}", "--no-such-option"],
        ["set", "{POOL}"],
        ["set", "{POOL}", "--event", "SyncTrigger"],
        ["set", "{POOL}", "--event", f"SyncTrigger={ARN}", "--sync-trigger", ARN],
        ["--output", "yaml", "get", "{POOL}"],
        ["--max-attempts", "0", "get", "{POOL}"],
        ["get", "{POOL}", "--max-attempts", "three"],
        ["serve", "--port", "70000"],
        ["serve", "--port", "http"],
        ["serve", "--identity-pool", "not-a-pool"],
    ],
)
def test_usage_errors_exit_2(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main([arg.format(POOL=POOL) for arg in args]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: cognito-events")
    assert "error:" in err


def test_the_same_event_twice_is_a_usage_error(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["set", POOL, "--event", f"{SYNC_TRIGGER}={ARN}", "--event", f"{SYNC_TRIGGER}="]
    assert main(args) == EXIT_USAGE
    assert capsys.readouterr().err == "error: --event SyncTrigger is given more than once\n"


def test_wrong_secret_exit_4_and_never_prints_either_secret(
    emulator: Emulator, pool: str, env: dict[str, str]
) -> None:
    wrong = "wrong/Secret+Key/AlsoNeverPrinted0123456789"
    result = run({**env, "AWS_SECRET_ACCESS_KEY": wrong}, "get", pool,
                 endpoint=emulator.endpoint_url)  # fmt: skip
    assert result.returncode == EXIT_NOT_AUTHORIZED
    line = assert_one_error_line(result, wrong)
    assert re.match(r"error: \w+: .+ \[request id [^\]]+\]", line), line
    assert "hint: check the credentials" in line
    assert "clock" in line


def test_unknown_pool_exit_5(emulator: Emulator, env: dict[str, str]) -> None:
    result = run(env, "get", UNKNOWN_POOL, endpoint=emulator.endpoint_url)
    assert result.returncode == EXIT_NOT_FOUND
    line = assert_one_error_line(result)
    assert line.startswith("error: ResourceNotFoundException: ")
    assert "hint: check the identity pool id and the region" in line


def test_throttled_after_retries_exit_6(emulator: Emulator, pool: str, env: dict[str, str]) -> None:
    emulator.inject_fault(status=429, code="TooManyRequestsException", count=10)
    result = run(env, "--max-attempts", "2", "get", pool, endpoint=emulator.endpoint_url)
    assert result.returncode == EXIT_THROTTLED
    line = assert_one_error_line(result)
    assert line.startswith("error: TooManyRequestsException: ")
    assert "(after 2 attempts)" in line
    assert "--max-attempts" in line


def test_other_service_error_exit_7(
    emulator: Emulator,
    pool: str,
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator.inject_fault(status=500, code="InternalErrorException", count=10)
    args = ["--max-attempts", "1", "--endpoint-url", emulator.endpoint_url, "get", pool]
    assert main(args) == EXIT_SERVICE
    err = capsys.readouterr().err
    assert err.startswith("error: InternalErrorException: ")
    assert err.count("\n") == 1


def test_transport_error_exit_8(env: dict[str, str]) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    result = run(env, "get", POOL, "--max-attempts", "1", endpoint=endpoint)
    assert result.returncode == EXIT_TRANSPORT
    line = assert_one_error_line(result)
    assert line.startswith("error: no response: GetCognitoEvents got no response from " + endpoint)
    assert "hint: check --endpoint-url" in line


def test_bad_endpoint_url_is_a_validation_error(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--endpoint-url", "ftp://example.com", "get", POOL]) == EXIT_USAGE
    assert "--endpoint-url: 'ftp://example.com' is not an http(s) URL" in capsys.readouterr().err


def test_interrupted_exit_130(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(self: CognitoEventsClient, identity_pool_id: str) -> dict[str, str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(CognitoEventsClient, "get_cognito_events", interrupted)
    assert main(["get", POOL]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "error: interrupted\n"


def test_unexpected_error_is_one_line_or_a_redacted_traceback_with_debug(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: CognitoEventsClient, identity_pool_id: str) -> dict[str, str]:
        raise RuntimeError(f"boom with {SECRET} inside")

    monkeypatch.setattr(CognitoEventsClient, "get_cognito_events", broken)
    assert main(["get", POOL]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: unexpected RuntimeError: boom with <redacted> inside")
    assert err.count("--debug") == 1, err  # the advice, once

    assert main(["get", POOL, "--debug"]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    last = err.rstrip().splitlines()[-1]
    assert last.startswith("error: unexpected RuntimeError")
    assert "--debug" not in last  # it was given
    assert_no_secrets(err)


def test_profile_is_passed_to_the_client(
    emulator: Emulator,
    pool: str,
    in_process_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    Path(in_process_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        f"[cli-test]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = {SECRET}\n"
        f"aws_session_token = {TOKEN}\n"
    )
    Path(in_process_env["AWS_CONFIG_FILE"]).write_text(f"[profile cli-test]\nregion = {REGION}\n")
    emulator.client().set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    code = main(["--profile", "cli-test", "get", pool, "--endpoint-url", emulator.endpoint_url])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert json.loads(out) == {"Events": {SYNC_TRIGGER: ARN}}
    # An unknown profile is a credentials problem that names the profiles that exist.
    code = main(["--profile", "nope", "get", pool, "--endpoint-url", emulator.endpoint_url])
    out, err = capsys.readouterr()
    assert code == EXIT_CREDENTIALS
    assert "cli-test" in err


# -- --debug --------------------------------------------------------------------------------


def test_debug_logs_each_attempt_with_secrets_redacted(
    emulator: Emulator, pool: str, env: dict[str, str]
) -> None:
    emulator.inject_fault(status=500, code="InternalErrorException", count=1)
    result = run(env, "--debug", "get", pool, endpoint=emulator.endpoint_url)
    assert result.returncode == EXIT_OK, result.stderr
    err = result.stderr
    # One canonical request and string to sign per attempt: a failed one, then the retry.
    signing = f"Signing GET {emulator.endpoint_url}/identitypools/{quote(pool, safe='')}/events"
    assert err.count(signing) == 2
    assert err.count("canonical request:\nGET\n") == 2
    assert err.count("string to sign:\nAWS4-HMAC-SHA256\n") == 2
    assert "x-amz-security-token:<redacted>" in err
    assert "Retrying GetCognitoEvents" in err
    assert_no_secrets(result.stdout + err)
    # Nor the signatures, which the logged string to sign lets us recompute.
    for amz_date, scope, digest in re.findall(
        r"^AWS4-HMAC-SHA256\n(\d{8}T\d{6}Z)\n(\S+)\n([0-9a-f]{64})$", err, re.MULTILINE
    ):
        date, region, service, _ = scope.split("/")
        key = sigv4.signing_key(SECRET, date, region, service)
        string_to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{digest}"
        signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        assert signature not in err
    assert "Authorization" not in err or "Authorization: <redacted>" in err


def test_debug_logging_is_removed_after_the_run(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    logger = logging.getLogger("cognito_events")
    handlers, level = list(logger.handlers), logger.level
    assert main(["--debug", "get", POOL, "--endpoint-url", "http://127.0.0.1:1",
                 "--max-attempts", "1"]) == EXIT_TRANSPORT  # fmt: skip
    assert (logger.handlers, logger.level) == (handlers, level)
    err = capsys.readouterr().err
    assert "cognito_events DEBUG cognito-events" in err
    assert "Traceback" in err


# -- redaction ------------------------------------------------------------------------------


def test_redactor_removes_known_secrets_and_signing_material() -> None:
    redact = _Redactor([SECRET, "abc"])  # too short to be a secret: left alone
    text = (
        f"secret {SECRET} abc; Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, "
        f"Signature={'0a' * 32}\n"
        f"'Authorization': 'AWS4 x'; x-amz-security-token:{TOKEN}; X-Amz-Security-Token={TOKEN}"
    )
    cleaned = redact(text)
    assert_no_secrets(cleaned)
    assert "abc" in cleaned
    assert "Authorization: <redacted>\n" in cleaned
    assert "'Authorization': '<redacted>'" in cleaned
    assert "x-amz-security-token:<redacted>;" in cleaned


def test_a_mistyped_credentials_option_is_not_echoed(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--credentails", f"{ACCESS_KEY_ID}:{SECRET}:{TOKEN}"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"unrecognized arguments: --credentails {ACCESS_KEY_ID}:<redacted>:<redacted>" in err
    assert_no_secrets(err)
    assert main(["get", f"--credentials={ACCESS_KEY_ID}:{SECRET}"]) == EXIT_USAGE
    assert_no_secrets(capsys.readouterr().err)


@pytest.mark.parametrize(
    "value", [ACCESS_KEY_ID, f"{ACCESS_KEY_ID}:", f":{SECRET}", f"{ACCESS_KEY_ID}:{SECRET}:"]
)
def test_malformed_serve_credentials_never_echo_the_secret(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert main(["serve", "--credentials", value]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "expected ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]" in err
    assert_no_secrets(err)


# -- serve ----------------------------------------------------------------------------------


def test_serve_arguments_reach_the_emulator(
    in_process_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cognito_events import _emulator

    seen: dict[str, Any] = {}

    def fake_serve(**kwargs: Any) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(_emulator, "serve", fake_serve)
    db = str(tmp_path / "events.db")
    args = [
        "serve", "--host", "127.0.0.2", "--port", "0", "--db", db,
        "--identity-pool", UNKNOWN_POOL, "--identity-pool", f"{REGION}:1234",
        "--credentials", f"{ACCESS_KEY_ID}:{SECRET}",
        "--credentials", f"AKIDTWO:{SECRET}:{TOKEN}:with:colons",
    ]  # fmt: skip
    assert main(args) == EXIT_OK
    assert seen == {
        "host": "127.0.0.2",
        "port": 0,
        "db": db,
        "identity_pools": (UNKNOWN_POOL, f"{REGION}:1234"),
        "credentials": (
            Credentials(ACCESS_KEY_ID, SECRET),
            Credentials("AKIDTWO", SECRET, f"{TOKEN}:with:colons"),
        ),
        "stdout": sys.stdout,
        "verbose": False,
        "admin_token": None,
        "idle_timeout": 30.0,
        "max_connections": 256,
        "functions": {},
        "lambda_endpoint": None,
        "account_id": "123456789012",
    }
    assert main(["serve", "--debug", "--account-id", "000011112222"]) == EXIT_OK
    assert seen["account_id"] == "000011112222"
    assert seen["verbose"] is True
    assert (seen["port"], seen["db"], seen["credentials"]) == (8000, None, ())


def test_an_os_error_is_one_line_and_exit_1(
    in_process_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cognito_events import _emulator

    def unwritable(**kwargs: Any) -> int:
        raise PermissionError(13, "Permission denied", "/var/events.db")

    monkeypatch.setattr(_emulator, "serve", unwritable)
    assert main(["serve", "--db", "/var/events.db"]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("error: [Errno 13] Permission denied: '/var/events.db' (run with")
    assert err.count("\n") == 1


def _read_line(stream: IO[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no line within {timeout} s")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_serve_listens_answers_signed_calls_and_stops_on_sigterm(
    clean_env: dict[str, str],
) -> None:
    pool = f"{REGION}:0f7e2b2c-1111-2222-3333-444455556666"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable, "-m", "cognito_events", "serve", "--port", "0",
            "--identity-pool", pool, "--credentials", f"{ACCESS_KEY_ID}:{SECRET}:{TOKEN}",
        ],
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = _read_line(process.stdout, TIMEOUT)
        match = re.fullmatch(r"Listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match is not None, line
        assert int(match.group(2)) != 0
        credentials = Credentials(ACCESS_KEY_ID, SECRET, TOKEN)
        with CognitoEventsClient(
            region=REGION, credentials=credentials, endpoint_url=match.group(1)
        ) as client:
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
            assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN}
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    record_output(line + out + err)
    assert process.returncode == 0, err
    assert_no_secrets(line + out + err)


# -- import cost ----------------------------------------------------------------------------


def test_the_package_never_imports_the_cli_and_the_cli_not_the_emulator() -> None:
    code = (
        "import sys, cognito_events\n"
        "assert 'cognito_events._cli' not in sys.modules\n"
        "import cognito_events._cli\n"
        "heavy = {'cognito_events._emulator', 'cognito_events.testing'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=TIMEOUT)  # noqa: S603


def test_serve_function_and_lambda_endpoint_reach_the_emulator(
    in_process_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cognito_events import _emulator

    seen: dict[str, Any] = {}

    def fake_serve(**kwargs: Any) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(_emulator, "serve", fake_serve)
    (tmp_path / "cli_trigger_module.py").write_text(
        "def handler(event, context):\n    return event\n\nnot_callable = 3\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    args = ["serve", "--function", f"{arn}=cli_trigger_module:handler"]
    assert main([*args, "--lambda-endpoint", "http://127.0.0.1:3001/"]) == EXIT_OK
    assert list(seen["functions"]) == [arn]
    assert seen["functions"][arn]({"x": 1}, None) == {"x": 1}
    assert seen["lambda_endpoint"] == "http://127.0.0.1:3001"

    refusals = [
        ([*args, "--function", f"{arn}=cli_trigger_module:handler"], "given more than once"),
        (["serve", "--function", f"{arn}=no_such_module_here:handler"], "cannot import"),
        (["serve", "--function", f"{arn}=cli_trigger_module:nothing"], "has no nothing"),
        (["serve", "--function", f"{arn}=cli_trigger_module:not_callable"], "not callable"),
        (["serve", "--function", "arn:aws:lambda:x=mod:h"], "is not a function ARN"),
        (["serve", "--function", f"{arn}=module-without-handler"], "package.module:handler"),
        (["serve", "--lambda-endpoint", "localhost:3001"], "expected http://HOST:PORT"),
    ]
    for argv, message in refusals:
        capsys.readouterr()
        assert main(argv) == EXIT_USAGE, argv
        assert message in capsys.readouterr().err, argv


# -- messages written for a terminal --------------------------------------------------------


def _error_lines(err: str) -> list[str]:
    """The ``error:`` report: its first line and the indented lines under it."""
    lines = err.splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].startswith("error: "), err
    assert all(line.startswith("  ") for line in lines[1:]), err
    return lines


def _assert_no_python_advice(text: str) -> None:
    for python_only in ("credentials=", "boto3.Session", "profile= argument", "region= argument",
                        "Use a client", "passed in code"):  # fmt: skip
        assert python_only not in text, (python_only, text)


def test_no_credentials_is_a_short_list_of_cli_ways_exit_3(clean_env: dict[str, str]) -> None:
    result = run(clean_env, "get", POOL, endpoint="http://127.0.0.1:1")
    assert result.returncode == EXIT_CREDENTIALS
    assert result.stdout == ""
    lines = _error_lines(result.stderr)
    assert lines[0] == (
        "error: credentials: none found for profile 'default'; give them in one of these ways:"
    )
    assert len(lines) <= 6, result.stderr
    assert max(map(len, lines)) <= 100, result.stderr
    text = result.stderr
    for way in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "aws configure", "--profile",
                "AWS_PROFILE"):  # fmt: skip
        assert way in text, way
    _assert_no_python_advice(text)
    assert lines[-1] == "  run with --debug to see the 8 sources tried"


def _write_profile(env: Mapping[str, str], text: str) -> Path:
    config = Path(env["AWS_CONFIG_FILE"])
    config.write_text(text)
    return config


def test_no_credentials_in_the_profile_given_by_option_says_so(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _write_profile(in_process_env, "[profile prod]\noutput = json\n")
    assert main(["get", POOL, "--profile", "prod"]) == EXIT_CREDENTIALS
    err = capsys.readouterr().err
    lines = _error_lines(err)
    assert lines[0] == (
        "error: credentials: none found for profile 'prod' (from --profile); "
        "give them in one of these ways:"
    )
    assert "aws configure --profile prod" in err
    assert "choose another profile" not in err  # the profile was chosen with --profile
    assert "not read when --profile is given" in err
    _assert_no_python_advice(err)


def test_no_credentials_in_a_profile_chosen_by_variable_names_it(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    _write_profile(in_process_env, "[profile prod]\noutput = json\n")
    monkeypatch.setenv("AWS_PROFILE", "prod")
    assert main(["get", POOL]) == EXIT_CREDENTIALS
    err = capsys.readouterr().err
    assert "none found for profile 'prod' (from AWS_PROFILE)" in err
    assert "export AWS_ACCESS_KEY_ID" in err  # still read: the profile is not from --profile


def test_debug_lists_the_sources_tried(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _write_profile(in_process_env, "[profile prod]\noutput = json\n")
    assert main(["--debug", "get", POOL, "--profile", "prod"]) == EXIT_CREDENTIALS
    err = capsys.readouterr().err
    report = err[err.index("error: credentials: none found") :]
    assert "sources tried, in order (profile 'prod'):" in report
    assert (
        "  1. the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not read, "
        "because --profile was given"
    ) in report
    assert "  8. EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED=true" in report
    assert "run with --debug" not in report
    _assert_no_python_advice(report)


def test_an_unknown_profile_names_the_option_and_the_profiles_that_exist(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_profile(in_process_env, "[profile prod]\nregion = us-east-1\n")
    assert main(["get", POOL, "--profile", "nope"]) == EXIT_CREDENTIALS
    err = capsys.readouterr().err
    assert _error_lines(err) == [
        f"error: credentials: profile 'nope' (from --profile) does not exist in "
        f"{in_process_env['AWS_SHARED_CREDENTIALS_FILE']} nor in {config}",
        "  profiles there: prod",
        "  create it with: aws configure --profile nope",
    ]


@pytest.mark.parametrize(
    ("args", "variables", "origin", "fix"),
    [
        (["--region", "eu-west-1"], {}, "--region",
         "use --region us-east-1, or leave --region out to use the pool's"),
        ([], {"AWS_REGION": "eu-west-1"}, "AWS_REGION",
         "pass --region us-east-1, or change AWS_REGION"),
        ([], {"AWS_DEFAULT_REGION": "eu-west-1"}, "AWS_DEFAULT_REGION",
         "pass --region us-east-1, or change AWS_DEFAULT_REGION"),
        (["--profile", "prod"], {}, "'region' in [profile prod] of {config} (line 2)",
         "pass --region us-east-1, or change 'region' in [profile prod] of {config} (line 2)"),
    ],
)  # fmt: skip
def test_a_region_that_does_not_match_the_pool_says_where_it_came_from(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    variables: dict[str, str],
    origin: str,
    fix: str,
) -> None:
    config = _write_profile(in_process_env, "[profile prod]\nregion = eu-west-1\n")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert main(["get", POOL, *args]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == (
        "error: invalid input, nothing was sent: POOL: the pool is in region 'us-east-1', "
        f"but the region is 'eu-west-1' (from {origin.format(config=config)}); "
        f"{fix.format(config=config)}\n"
    )


def test_a_region_without_cognito_sync_gets_its_own_text(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["get", POOL, "--region", "mars-1"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(
        "error: invalid input, nothing was sent: POOL: the pool is in region 'us-east-1', but "
        "the region is 'mars-1' (from --region), which is not a Cognito Sync region (those are "
        "ap-northeast-1, "
    )
    assert err.endswith("us-west-2); use --region us-east-1, or leave --region out to use the "
                        "pool's\n")  # fmt: skip
    assert err.count("\n") == 1
    _assert_no_python_advice(err)


def test_a_bad_sync_trigger_is_reported_under_its_own_option(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["set", POOL, "--sync-trigger", "my-function"]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith(
        "error: invalid input, nothing was sent: --sync-trigger: 'my-function' is not a "
        "Lambda function ARN"
    )
    # The long form is named as given.
    assert main(["set", POOL, "--event", "SyncTrigger=my-function"]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith(
        "error: invalid input, nothing was sent: --event SyncTrigger: 'my-function' is not"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--region", REGION],
        ["--region", REGION, "serve"],
        ["serve", "--profile", "prod"],
        ["--endpoint-url", "http://127.0.0.1:1", "serve"],
        ["serve", "--endpoint-url=http://127.0.0.1:1"],
        ["serve", "--output", "text"],
        ["serve", "--max-attempts", "2"],
        ["demo", "--region", REGION],
        ["--profile", "prod", "demo"],
        ["demo", "--endpoint-url", "http://127.0.0.1:1"],
        ["--output", "json", "demo"],
    ],
)
def test_serve_and_demo_refuse_the_client_options_they_would_ignore(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    from cognito_events import _emulator

    def must_not_run(**kwargs: Any) -> int:
        raise AssertionError("serve ran")

    monkeypatch.setattr(_emulator, "serve", must_not_run)
    assert main(args) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    command = "serve" if "serve" in args else "demo"
    option = next(arg for arg in args if arg.startswith("--")).partition("=")[0]
    assert err.startswith("usage: cognito-events")
    assert err.endswith(
        f"cognito-events: error: {command} does not take {option}: it is an option of set, "
        "get, clear, ensure, check, which call the service\n"
    )


def test_options_that_act_are_still_taken_before_or_after_the_command(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # demo uses --max-attempts, in either place; both take --debug.
    assert main(["--max-attempts", "2", "demo"]) == EXIT_OK
    assert main(["demo", "--debug", "--max-attempts", "1"]) == EXIT_OK
    assert "all 4 calls succeeded" in capsys.readouterr().out
    # An unknown option is still just unknown.
    assert main(["serve", "--no-such-option"]) == EXIT_USAGE
    assert capsys.readouterr().err.endswith("error: unrecognized arguments: --no-such-option\n")


def test_serve_on_a_busy_port_names_it_and_suggests_port_0(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == EXIT_FAILURE
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use (another emulator or "
        "program listens there); choose another with --port, or --port 0 for a free one\n"
    )


def test_serve_on_an_address_of_another_machine_says_so(
    in_process_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # 192.0.2.1 (TEST-NET-1) is nobody's address: binding it fails, nothing is sent.
    assert main(["serve", "--host", "192.0.2.1", "--port", "8000"]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("error: cannot listen on 192.0.2.1:8000: 192.0.2.1 is not an address")
    assert "--host" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ensure", POOL, "--sync-trigger", "my-function"],
         "error: invalid input, nothing was sent: --sync-trigger: 'my-function' is not a "
         "Lambda function ARN"),
        (["ensure", POOL, "--sync-trigger", ARN, "--region", "eu-west-1"],
         "error: invalid input, nothing was sent: POOL: the pool is in region 'us-east-1', but "
         "the region is 'eu-west-1' (from --region); use --region us-east-1"),
        (["--region", "mars-1", "check", POOL],
         "error: invalid input, nothing was sent: POOL: the pool is in region 'us-east-1', but "
         "the region is 'mars-1' (from --region), which is not a Cognito Sync region"),
    ],
)  # fmt: skip
def test_ensure_and_check_speak_the_same_cli(
    in_process_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    assert main(args) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(expected), err
    _assert_no_python_advice(err)


def test_ensure_without_credentials_gets_the_cli_report(clean_env: dict[str, str]) -> None:
    result = run(clean_env, "ensure", POOL, "--sync-trigger", ARN, endpoint="http://127.0.0.1:1")
    assert result.returncode == EXIT_CREDENTIALS
    lines = _error_lines(result.stderr)
    assert lines[0].startswith("error: credentials: none found for profile 'default'")
    _assert_no_python_advice(result.stderr)


def test_text_from_elsewhere_cannot_start_lines_of_its_own() -> None:
    # A server's message with line breaks stays on the error's one line.
    forged = ServiceError(
        status_code=400, code="X", message="bad\nerror: forged line\r\n  - another", request_id=None
    )
    assert _describe(forged) == (EXIT_SERVICE, "X: bad error: forged line - another")
    # In a list, each problem stays on its own line.
    listed = ValidationError([Problem("region", "a\nb"), Problem("identity_pool_id", "c\n\nd")])
    assert _describe(listed)[1].splitlines() == [
        "invalid input, nothing was sent:",
        "--region: a b",
        "POOL: c d",
    ]
