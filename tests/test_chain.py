"""The credential chain as data: an ordered list of sources that can be read and reordered.

Every row answers the same three questions (``name``, ``why_not``, ``provider``); the
chain tries them in order and its report is the list itself.
"""

from __future__ import annotations

import pickle
import socket
import time
from pathlib import Path

import attrs
import pytest

from cognito_events import CredentialsError, ValidationError
from cognito_events._chain import CHAIN, ChainProvider, resolve
from cognito_events._config import load_profile
from cognito_events._config.loader import ClientConfig
from cognito_events._credentials import SourceSettings
from cognito_events._sources import (
    CredentialsArgument,
    EnvironmentKeys,
    InstanceMetadata,
    SharedConfigFile,
    SharedCredentialsFile,
    SourceContext,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

pytestmark = pytest.mark.usefixtures("aws_home")


def _context(home: Path, *, explicit: object = None, **variables: str) -> SourceContext:
    environ = {"HOME": str(home), **variables}
    return SourceContext(
        explicit=explicit,  # type: ignore[arg-type]
        profile=load_profile("default", environ),
        profile_explicit=False,
        environ=environ,
        settings=SourceSettings(retry_pause=0.0),
        clock=time.time,
        sleep=lambda seconds: None,
    )


def _write(home: Path, name: str, text: str) -> None:
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    (home / ".aws" / name).write_text(text)


def test_the_chain_is_botocore_s_order() -> None:
    assert [type(source).__name__ for source in CHAIN] == [
        "CredentialsArgument",
        "EnvironmentKeys",
        "Boto3OnlyRoles",
        "SharedCredentialsFile",
        "Boto3OnlyLogin",
        "CredentialProcess",
        "SharedConfigFile",
        "ContainerCredentials",
        "InstanceMetadata",
    ]
    assert [source.passed_over_on_failure for source in CHAIN].count(True) == 1


def test_first_source_that_applies_wins_and_the_order_is_the_list_s(aws_home: Path) -> None:
    _write(
        aws_home,
        "credentials",
        f"[default]\naws_access_key_id = AKIDCRED\naws_secret_access_key = {SECRET}\n",
    )
    _write(
        aws_home,
        "config",
        f"[default]\naws_access_key_id = AKIDCONF\naws_secret_access_key = {SECRET}\n",
    )
    context = _context(aws_home)
    found = resolve(context)
    assert found.provider.get().access_key_id == "AKIDCRED"
    assert found.origin.startswith("[default] of ")
    reordered = resolve(context, (SharedConfigFile(), SharedCredentialsFile()))
    assert reordered.provider.get().access_key_id == "AKIDCONF"


def test_the_report_lists_exactly_the_rows_given(aws_home: Path) -> None:
    chain = (EnvironmentKeys(), SharedConfigFile())
    with pytest.raises(CredentialsError) as caught:
        resolve(_context(aws_home), chain)
    rows = [line.strip() for line in str(caught.value).splitlines() if line.startswith("  ")]
    assert rows == [
        "1. the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set",
        f"2. the shared config file: {aws_home / '.aws' / 'config'} does not exist",
    ]


def test_the_report_is_also_in_fields_for_front_ends(aws_home: Path) -> None:
    context = attrs.evolve(_context(aws_home), profile_source="AWS_PROFILE")
    with pytest.raises(CredentialsError) as caught:
        resolve(context, (EnvironmentKeys(), SharedConfigFile()))
    error = caught.value
    assert (error.profile, error.profile_source, error.profiles) == ("default", "AWS_PROFILE", None)
    assert error.tried == (
        (
            EnvironmentKeys.name,
            "the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set",
        ),
        (
            SharedConfigFile.name,
            f"the shared config file: {aws_home / '.aws' / 'config'} does not exist",
        ),
    )
    assert error.files == (
        str(aws_home / ".aws" / "credentials"),
        str(aws_home / ".aws" / "config"),
    )
    # The fields travel with the error across processes.
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.tried, copy.files, str(copy)) == (error.tried, error.files, str(error))


def test_a_source_that_applies_but_fails_ends_the_chain(aws_home: Path) -> None:
    _write(
        aws_home,
        "config",
        f"[default]\naws_access_key_id = AKIDCONF\naws_secret_access_key = {SECRET}\n",
    )
    context = _context(aws_home, AWS_ACCESS_KEY_ID="AKIDHALF")
    with pytest.raises(CredentialsError, match="AWS_SECRET_ACCESS_KEY is not"):
        resolve(context)


def test_instance_metadata_is_passed_over_on_failure(aws_home: Path) -> None:
    # A port bound then closed: nothing listens, the fetch fails, the report says how.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    context = _context(
        aws_home,
        AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{port}",
        AWS_METADATA_SERVICE_TIMEOUT="0.5",
    )
    with pytest.raises(CredentialsError) as caught:
        resolve(context, (InstanceMetadata(),))
    assert f"1. EC2 instance metadata (http://127.0.0.1:{port}): connection failed" in str(
        caught.value
    )


def test_instance_metadata_settings_use_the_one_lookup(aws_home: Path) -> None:
    _write(aws_home, "config", "[default]\nmetadata_service_num_attempts = none\n")
    context = _context(aws_home, AWS_METADATA_SERVICE_TIMEOUT="-1")
    with pytest.raises(ValidationError) as caught:
        resolve(context, (InstanceMetadata(),))
    assert [problem.parameter.split(" in ")[0] for problem in caught.value.problems] == [
        "AWS_METADATA_SERVICE_TIMEOUT",
        "'metadata_service_num_attempts'",
    ]


def test_the_argument_row_applies_only_when_given(aws_home: Path) -> None:
    source = CredentialsArgument()
    assert source.why_not(_context(aws_home)) == "not given"
    with pytest.raises(ValidationError, match="credentials"):
        source.provider(_context(aws_home, explicit=42))


def test_chain_provider_resolves_once_and_names_its_source(aws_home: Path) -> None:
    environ = {
        "HOME": str(aws_home),
        "AWS_ACCESS_KEY_ID": "AKIDENV",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
    provider = ChainProvider(
        ClientConfig(), environ, clock=time.time, sleep=lambda s: None, settings=SourceSettings()
    )
    before = provider.source
    assert provider.get().access_key_id == "AKIDENV"
    assert (before, provider.source) == (None, "the environment variables")
    assert SECRET not in repr(provider)
