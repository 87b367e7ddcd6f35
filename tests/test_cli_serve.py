"""``cognito-events serve``'s options for secrets and limits: credentials from a file or
the environment (never the command line ``ps`` shows), the admin token, the limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from cognito_events import SYNC_TRIGGER, CognitoEventsClient, Credentials, NotAuthorizedError
from cognito_events._cli import ADMIN_TOKEN_ENV, CREDENTIALS_ENV, main
from cognito_events._emulator import ADMIN_TOKEN_ENV as EMULATOR_ADMIN_TOKEN_ENV
from cognito_events._emulator import DEV_CREDENTIALS
from cognito_events.testing import ISOLATED_ENVIRON

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
FILE_KEYS = Credentials("AKIDFROMFILE", "secret-from-a-file-0123456789")
ENV_KEYS = Credentials("AKIDFROMENV", "secret-from-the-env-0123456789")
TOKEN = "admin-token-from-the-environment"


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNITO_EVENTS_")}
    env.update(more)
    return env


@contextmanager
def _serving(args: list[str], env: Mapping[str, str]) -> Iterator[tuple[str, list[str]]]:
    """Run serve; yield its URL and, once stopped, its stderr lines (in the list)."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "cognito_events",
            "serve",
            "--port",
            "0",
            "--identity-pool",
            POOL,
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
    )
    err: list[str] = []
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Listening on "), process.stderr.read() if process.stderr else ""
        yield line.split()[-1], err
    finally:
        process.send_signal(signal.SIGTERM)
        _, text = process.communicate(timeout=10)
        err.extend(text.splitlines())


def _accepts(url: str, keys: Credentials) -> bool:
    with CognitoEventsClient(
        region="us-east-1", endpoint_url=url, credentials=keys, environ=ISOLATED_ENVIRON
    ) as client:
        try:
            client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
        except NotAuthorizedError:
            return False
    return True


def test_credentials_from_a_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(
        f"# emulator keys\n{FILE_KEYS.access_key_id}:{FILE_KEYS.secret_access_key}\n\n",
        encoding="utf-8",
    )
    with _serving(["--credentials", f"@{keys}"], _env()) as (url, err):
        assert _accepts(url, FILE_KEYS)
        assert not _accepts(url, DEV_CREDENTIALS)
    assert not any(FILE_KEYS.secret_access_key in line for line in err)
    assert not any("development key pair" in line for line in err)


def test_credentials_from_the_environment() -> None:
    pairs = f"{ENV_KEYS.access_key_id}:{ENV_KEYS.secret_access_key} AKIDTWO:second-secret-xyz"
    with _serving([], _env(**{CREDENTIALS_ENV: pairs})) as (url, err):
        assert _accepts(url, ENV_KEYS)
        assert _accepts(url, Credentials("AKIDTWO", "second-secret-xyz"))
        assert not _accepts(url, DEV_CREDENTIALS)
    assert not any(ENV_KEYS.secret_access_key in line for line in err)


def test_the_admin_token_from_the_environment() -> None:
    assert ADMIN_TOKEN_ENV == EMULATOR_ADMIN_TOKEN_ENV
    with _serving([], _env(**{ADMIN_TOKEN_ENV: TOKEN})) as (url, err):
        health = f"{url}/_emulator/health"
        assert requests.get(health, timeout=5).status_code == 401
        ok = requests.get(health, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert ok.status_code == 200
    assert not any(TOKEN in line for line in err)


def test_the_limits_reach_the_server() -> None:
    with _serving(["--idle-timeout", "0.3", "--max-connections", "3"], _env()) as (url, _):
        import socket

        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /x HTTP/1.1\r\n")
            assert sock.recv(100).startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--idle-timeout", "0"], "--idle-timeout"),
        (["--idle-timeout", "soon"], "--idle-timeout"),
        (["--max-connections", "0"], "--max-connections"),
        (["--credentials", "@/nonexistent/keys"], "cannot read credentials file"),
    ],
)
def test_bad_values_are_usage_errors(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", *argv]) == 2
    assert fragment in capsys.readouterr().err


def test_a_bad_line_in_the_file_names_the_line_not_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys"
    keys.write_text("AKIDGOOD:good-secret-123\nno-colon-secret-value\n", encoding="utf-8")
    assert main(["serve", "--credentials", f"@{keys}"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err
    assert "no-colon-secret-value" not in err
    assert "good-secret-123" not in err


def test_a_bad_environment_value_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CREDENTIALS_ENV, "AKIDOK:fine-secret-123 :missing-key-id-secret")
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert CREDENTIALS_ENV in err
    assert "missing-key-id-secret" not in err
    assert "fine-secret-123" not in err


def test_the_admin_token_is_redacted_from_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--admin-token", "tok-on-the-line-123", "--max-connections", "x"]) == 2
    assert "tok-on-the-line-123" not in capsys.readouterr().err
