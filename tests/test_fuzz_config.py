"""Shared config and credentials files with arbitrary content, fuzzed through
``load_config`` and through the credential chain (``make_provider(None, ...).get()``).

Every outcome is a valid result, a ``CredentialsError`` or (for an invalid setting value,
as documented) a ``ValidationError``; never another exception. And no text of the files
leaks. The lines whose text must never be shown carry unique markers: the values of the
secret keys, comments, stray lines (a secret pasted on a line of its own), undecodable
lines; continuation lines carry markers of their own. Then

* no marker at all appears in any ``CredentialsError`` message or any log record (the
  module promises line numbers, never the text of a line);
* no marker of the first kind appears in any ``ValidationError`` either, which by design
  quotes the (shortened) value of a bad ``region``, ``endpoint_url``…, continuation
  lines included;
* ``credential_process`` runs no program: ``subprocess.run`` is replaced by a fake whose
  output is fuzzed too, and the secrets in that output never reach a message either.

Arbitrary text lines and the values of other settings are unmarked: they only have to
parse without an unexpected exception.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import string
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from cognito_events import Credentials, CredentialsError, ValidationError
from cognito_events._chain import make_provider
from cognito_events._config import load_config, parse_ini, read_ini
from cognito_events._fetchers import CredentialProcessError

pytestmark = pytest.mark.fuzz

#: Markers are distinctive enough never to appear by chance.
_MARKER_ALPHABET = string.ascii_letters + string.digits + "/+"
markers = st.text(_MARKER_ALPHABET, min_size=16, max_size=40).map(lambda text: "zQ9" + text)
#: The fake credential_process's secrets: never equal to a marker of the files.
process_secrets = st.text(_MARKER_ALPHABET, min_size=16, max_size=40).map(lambda t: "pR7" + t)
#: Nesting of the fuzzed process output stays below this (deeper has its own test).
SAFE_DEPTH = 200

_SECRET_KEYS = ("aws_secret_access_key", "aws_session_token", "aws_security_token")
_KEYS = (
    "aws_access_key_id",
    *_SECRET_KEYS,
    "region",
    "endpoint_url",
    "services",
    "credential_process",
    "role_arn",
    "source_profile",
    "credential_source",
    "web_identity_token_file",
    "sso_start_url",
    "sso_region",
    "sso_session",
    "login_session",
    "max_attempts",
    "retry_mode",
    "ca_bundle",
    "use_fips_endpoint",
    "ignore_configured_endpoint_urls",
    "cognito_sync",
    "ec2_metadata_service_endpoint",
    "metadata_service_timeout",
    "AWS_Access_Key_ID",
)
_SECTIONS = (
    "default",
    "profile default",
    "profile dev",
    "dev",
    "profile x y",
    "services svc",
    "services",
    "profile",
    "sso-session s",
    "profile 'dev'",
    'profile "dev',
    " default ",
    "",
)
_VALUES = (
    "",
    "us-east-1",
    "eu-west-1",
    "US EAST",
    "http://127.0.0.1:1",
    "https://",
    "ftp://x",
    "svc",
    "dev",
    "true",
    "false",
    "maybe",
    "3",
    "0",
    "-1",
    "1e3",
    "standard",
    "adaptive",
    "bogus",
    "AKIDEXAMPLE",
    "arn:aws:iam::123456789012:role/r",
    "Environment",
    "fake-process --json",
    "'unbalanced",
    "/nonexistent/ca.pem",
    "~/ca.pem",
    "$HOME/x",
    "\x00",
)
any_text = st.text(st.characters(exclude_categories=()), max_size=40)


class Line(NamedTuple):
    data: bytes
    secret_markers: tuple[str, ...] = ()  # never in any message or log
    other_markers: tuple[str, ...] = ()  # may be quoted by a ValidationError, nowhere else


def _text(line: str, *secret: str, other: tuple[str, ...] = ()) -> Line:
    return Line(line.encode("utf-8", "surrogatepass"), tuple(secret), other)


@st.composite
def lines(draw: st.DrawFn) -> Line:
    kind = draw(
        st.sampled_from(
            [
                "header",
                "header",
                "setting",
                "setting",
                "setting",
                "setting",
                "continuation",
                "comment",
                "blank",
                "stray",
                "text",
                "undecodable",
            ]
        )
    )
    if kind == "header":
        name = draw(st.sampled_from(_SECTIONS) | any_text.filter(lambda t: "\n" not in t))
        shape = draw(st.sampled_from(["[{}]", "[{}]", "[{}", "[ {} ]", "  [{}]  ; note"]))
        return _text(shape.format(name))
    if kind == "setting":
        key = draw(st.sampled_from(_KEYS) | st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
        separator = draw(st.sampled_from([" = ", "=", ": ", " :", " == "]))
        indent = draw(st.sampled_from(["", "", "", "  "]))
        if key.lower() in _SECRET_KEYS:  # not indented: see test_an_indented_secret_line...
            marker = draw(markers)
            return _text(f"{key}{separator}{marker}", marker)
        value = draw(st.sampled_from(_VALUES) | any_text.filter(lambda t: "\n" not in t))
        return _text(f"{indent}{key}{separator}{value}")
    if kind == "continuation":
        # Part of the value above (or a setting of its own): a ValidationError about that
        # value may quote it, as it quotes any bad value.
        marker = draw(markers)
        shape = draw(st.sampled_from(["  {}", "\t{}", "    endpoint_url = {}", "  {} = x"]))
        return _text(shape.format(marker), other=(marker,))
    if kind == "comment":
        marker = draw(markers)
        return _text(draw(st.sampled_from(["# {}", "; {}", "  # {}"])).format(marker), marker)
    if kind == "blank":
        return _text(draw(st.sampled_from(["", "   ", "\t", "\r"])))
    if kind == "stray":  # a pasted secret on a line of its own
        marker = draw(markers)
        return _text(draw(st.sampled_from(["{}", "{} trailing"])).format(marker), marker)
    if kind == "text":
        return _text(draw(any_text.filter(lambda t: "\n" not in t)))
    marker = draw(markers)
    return Line(b"\xff\xfe" + marker.encode() + b"\xc3", (marker,))


_CLEAN_SECTIONS = ("default", "profile dev", "dev", "profile default", "services svc")


@st.composite
def clean_settings(draw: st.DrawFn) -> list[Line]:
    """The settings of one well-formed section, often a usable source of credentials."""
    found: list[Line] = []
    source = draw(st.sampled_from(["keys", "keys", "process", "boto3-only", "none"]))
    if source == "keys":
        found.append(_text("aws_access_key_id = AKIDFUZZ"))
        marker = draw(markers)
        found.append(_text(f"aws_secret_access_key = {marker}", marker))
        if draw(st.booleans()):
            token = draw(markers)
            found.append(_text(f"aws_session_token = {token}", token))
    elif source == "process":
        found.append(_text("credential_process = " + draw(st.sampled_from(_PROCESSES))))
    elif source == "boto3-only":
        found.append(
            _text(
                draw(
                    st.sampled_from(
                        [
                            "role_arn = arn:aws:iam::1:role/r",
                            "sso_start_url = https://x",
                            "login_session = s",
                            "web_identity_token_file = /t",
                        ]
                    )
                )
            )
        )
        found.append(_text("source_profile = dev"))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(_KEYS[4:]))
        found.append(_text(f"{key} = {draw(st.sampled_from(_VALUES))}"))
    return draw(st.permutations(found))


_PROCESSES = ("fake-process", "fake-process --json 'a b'", "'unbalanced", "", '"/bin/x" --y')


@st.composite
def files(draw: st.DrawFn) -> list[Line]:
    """Well-formed sections with a few messy lines among them, or mess throughout."""
    found: list[Line] = []
    if draw(st.integers(0, 3)):
        for name in draw(st.lists(st.sampled_from(_CLEAN_SECTIONS), max_size=3, unique=True)):
            found.append(_text(f"[{name}]"))
            found += draw(clean_settings())
        for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
            found.insert(draw(st.integers(0, len(found))), draw(lines()))
        return found
    found = [draw(lines()) for _ in range(draw(st.integers(0, 14)))]
    if draw(st.booleans()):
        found.insert(0, _text(draw(st.sampled_from(["[default]", "[profile dev]", "[dev]"]))))
    return found


def _bytes(found: list[Line], newline: bytes, bom: bool) -> bytes:
    data = newline.join(line.data for line in found)
    return (b"\xef\xbb\xbf" if bom else b"") + data


class Process(NamedTuple):
    """What the fake credential_process does: its exit status and output, or a failure."""

    returncode: int
    stdout: bytes
    stderr: bytes
    secrets: tuple[str, ...]
    fails_with: str | None = None


@st.composite
def processes(draw: st.DrawFn) -> Process:
    secret, token = draw(process_secrets), draw(process_secrets)
    document: dict[str, Any] = {
        "Version": draw(st.sampled_from([1, 1, 1, 1, 1, 2, "1", None])),
        "AccessKeyId": draw(st.sampled_from(["AKIDPROCESS"] * 4 + ["", None, 7])),
        "SecretAccessKey": secret,
    }
    if draw(st.booleans()):
        document["SessionToken"] = token
    if draw(st.booleans()):
        document["Expiration"] = draw(
            st.sampled_from(
                ["2999-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "2999-01-01", "soon", 5, None]
            )
        )
    kind = draw(st.sampled_from(["json"] * 4 + ["truncated", "garbage", "nested", "list"]))
    text = json.dumps(document)
    if kind == "truncated":
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == "garbage":
        text = draw(any_text)
    elif kind == "nested":
        depth = draw(st.integers(1, SAFE_DEPTH))
        text = "[" * depth + text + "]" * depth
    elif kind == "list":
        text = json.dumps([document])
    stdout = text.encode("utf-8", "surrogatepass")
    # A script that echoes its output to stderr too; only while stdout is JSON the package
    # can tell what in it is secret (see test_a_secret_echoed_beside_broken_json...).
    # (And not when it then hangs: see test_a_secret_echoed_by_a_process_that_hangs...)
    fails_with = draw(st.sampled_from([None, None, None, None, "timeout", "missing"]))
    echo = kind == "json" and fails_with != "timeout" and draw(st.booleans())
    stderr = stdout if echo else draw(st.binary(max_size=60))
    return Process(
        returncode=draw(st.sampled_from([0, 0, 0, 1, 255])),
        stdout=stdout,
        stderr=stderr,
        secrets=(secret, token),
        fails_with=fails_with,
    )


def _fake_run(process: Process) -> Any:
    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        if process.fails_with == "timeout":  # as subprocess.run raises it: what was read
            raise subprocess.TimeoutExpired(
                argv, kwargs.get("timeout", 1), output=process.stdout, stderr=process.stderr
            )
        if process.fails_with == "missing":
            raise FileNotFoundError(2, "No such file or directory")
        return subprocess.CompletedProcess(argv, process.returncode, process.stdout, process.stderr)

    return run


class Files(NamedTuple):
    config: Path
    credentials: Path


@pytest.fixture(scope="module")
def aws_files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("fuzzed-aws-files")
    return Files(directory / "config", directory / "credentials")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _leaks(text: str, found: list[Line], *, secrets_only: bool) -> list[str]:
    leaked = [marker for line in found for marker in line.secret_markers if marker in text]
    if not secrets_only:
        leaked += [marker for line in found for marker in line.other_markers if marker in text]
    return leaked


@given(
    config=files(),
    credentials=files(),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    bom=st.booleans(),
    profile=st.sampled_from([None, None, None, None, "dev", "default", "x y", "missing"]),
    aws_profile=st.sampled_from([None, None, None, None, "dev", "default", "missing"]),
    process=processes(),
)
@example(
    config=[_text("[default]"), _text("credential_process = fake-process")],
    credentials=[],
    newline=b"\n",
    bom=False,
    profile=None,
    aws_profile=None,
    process=Process(
        0,
        b'{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "pR7' + b"s" * 20 + b'"}',
        b"",
        ("pR7" + "s" * 20,),
    ),
)
@example(
    config=[],
    credentials=[
        _text("[default]"),
        _text("aws_access_key_id = AKID"),
        _text("aws_secret_access_key = zQ9secretsecretsecret", "zQ9secretsecretsecret"),
        _text("aws_secret_access_key = zQ9othersecretsecret1", "zQ9othersecretsecret1"),
    ],
    newline=b"\n",
    bom=True,
    profile=None,
    aws_profile=None,
    process=Process(0, b"", b"", ()),
)
def test_any_files_give_credentials_or_a_clean_error(
    aws_files: Files,
    config: list[Line],
    credentials: list[Line],
    newline: bytes,
    bom: bool,
    profile: str | None,
    aws_profile: str | None,
    process: Process,
) -> None:
    aws_files.config.write_bytes(_bytes(config, newline, bom))
    aws_files.credentials.write_bytes(_bytes(credentials, newline, bom))
    environ = {
        "AWS_CONFIG_FILE": str(aws_files.config),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws_files.credentials),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if aws_profile is not None:
        environ["AWS_PROFILE"] = aws_profile
    found = config + credentials
    records = _Records()  # the files are module-scoped, and so is no fixture here: caplog is not
    logger = logging.getLogger("cognito_events")
    logger.addHandler(records)
    try:
        _resolve(environ, profile, process, found)
    finally:
        logger.removeHandler(records)
    for message in records.messages:
        assert not _leaks(message, found, secrets_only=False), message
        assert not any(secret in message for secret in process.secrets), message


def _check_error(error: Exception, found: list[Line], process: Process) -> None:
    """A refusal quotes no marker of the files (a ValidationError may quote a setting's
    value, never a secret's) and no secret of the process."""
    message = str(error)
    event(f"{type(error).__name__}")
    secrets_only = isinstance(error, ValidationError)
    assert not _leaks(message, found, secrets_only=secrets_only), message
    assert not any(secret in message for secret in process.secrets), message
    if isinstance(error, CredentialProcessError):
        assert not any(secret in error.stderr for secret in process.secrets)


def _resolve(
    environ: dict[str, str], profile: str | None, process: Process, found: list[Line]
) -> None:
    refused: Exception | None = None
    try:
        config = load_config(region=None, endpoint_url=None, profile=profile, environ=environ)
    except (CredentialsError, ValidationError) as error:
        refused = error
    if refused is not None:
        event("refused by load_config")
        _check_error(refused, found, process)
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "run", _fake_run(process))
        try:
            credentials = make_provider(None, config=config, environ=environ).get()
        except CredentialsError as error:
            refused = error
    if refused is not None:
        event("refused by the credential chain")
        _check_error(refused, found, process)
        return
    assert isinstance(credentials, Credentials)
    event(
        "credentials from the process"
        if credentials.secret_access_key in process.secrets
        else "credentials from a file"
    )
    # Credentials come from a file's keys or from the process: never from anything else.
    file_secrets = {marker for line in found for marker in line.secret_markers}
    assert credentials.secret_access_key in file_secrets | set(process.secrets)


@given(data=st.binary(max_size=2_000))
@example(data=b"[default]\n" + b"  x = 1\n" * 3 + b"[default]\n")
@example(data=b"\xef\xbb\xbf[a\n=\n:\n[]\n\xff\n key\n  =v")
def test_parse_ini_takes_any_bytes(data: bytes) -> None:
    parsed = parse_ini("/fuzz/config", data)
    count = data.count(b"\n") + 1
    for problem in parsed.problems:
        assert problem.line is None or 1 <= problem.line <= count
        assert str(problem)
    for name, settings in parsed.sections.items():
        assert isinstance(name, str)
        assert 1 <= parsed.section_lines[name] <= count
        for key, setting in settings.items():
            assert key == key.lower()
            assert isinstance(setting.value, str | dict)
            assert 1 <= setting.line <= count


@pytest.mark.parametrize("kind", ["directory", "fifo-like", "unreadable"])
def test_an_unreadable_file_is_a_credentials_error(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo-like":
        path.write_text("[default]\n")
        path = path / "not-a-directory"  # NotADirectoryError: read as missing, like botocore
    else:
        path.write_text("[default]\naws_secret_access_key = zQ9neverShownInAnError1234\n")
        # Mode 000 stops nobody when the tests run as root (as CI does): refuse it here.
        real_open = builtins.open
        refused = str(path)

        def refusing_open(file: Any, *args: Any, **kwargs: Any) -> Any:
            if str(file) == refused:
                raise PermissionError(13, "Permission denied", refused)
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", refusing_open)
    parsed = read_ini(str(path))
    if kind == "fifo-like":
        assert not parsed.exists
        return
    environ = {
        "AWS_CONFIG_FILE": str(path),
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with pytest.raises(CredentialsError, match="Cannot read the AWS file") as caught:
        load_config(region=None, endpoint_url=None, profile=None, environ=environ)
    assert "zQ9" not in str(caught.value)


@pytest.fixture
def process_environ(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = fake-process --json\n")
    return {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _process_credentials(environ: dict[str, str], process: Process) -> Credentials:
    config = load_config(region=None, endpoint_url=None, profile=None, environ=environ)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "run", _fake_run(process))
        return make_provider(None, config=config, environ=environ).get()


# -- bugs found by fuzzing ----------------------------------------------------------------------


def test_deeply_nested_process_output_is_a_credentials_error(
    process_environ: dict[str, str],
) -> None:
    output = b"[" * 100_000
    with pytest.raises(CredentialsError):
        _process_credentials(process_environ, Process(0, output, b"", ()))


def test_a_secret_echoed_beside_broken_json_is_redacted(process_environ: dict[str, str]) -> None:
    secret = "zQ9wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"
    output = b'{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "' + secret.encode()
    with pytest.raises(CredentialProcessError) as caught:
        _process_credentials(process_environ, Process(0, output, b"debug: " + output, (secret,)))
    assert secret not in str(caught.value)
    assert secret not in caught.value.stderr


def test_a_secret_echoed_by_a_process_that_hangs_is_redacted(
    process_environ: dict[str, str],
) -> None:
    # Hanging after the output is common: a helper that starts a daemon keeps the pipes
    # open, and subprocess.run waits for them until the timeout.
    secret = "zQ9wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY"
    output = json.dumps(
        {"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": secret}
    ).encode()
    hanging = Process(0, output, b"debug: " + output, (secret,), fails_with="timeout")
    with pytest.raises(CredentialProcessError, match="did not finish") as caught:
        _process_credentials(process_environ, hanging)
    assert secret not in str(caught.value)
    assert secret not in caught.value.stderr


@pytest.mark.parametrize("key", ["region", "endpoint_url", "max_attempts", "retry_mode"])
def test_an_indented_secret_line_is_not_quoted_with_the_value_above(
    tmp_path: Path, key: str
) -> None:
    secret = "zQ9wJalrXUtnFEMIK7MDENG"
    config = tmp_path / "config"
    config.write_text(
        f"[default]\n{key} = bad value\n  aws_secret_access_key = {secret}\n"
        "aws_access_key_id = AKIDEXAMPLE\n"
    )
    environ = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with pytest.raises(ValidationError) as caught:
        load_config(region=None, endpoint_url=None, profile=None, environ=environ)
    assert secret not in str(caught.value)
