"""Credentials: never shown; the provider API, the default chain and refreshing."""

from __future__ import annotations

import logging
import textwrap
import threading
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cognito_events import Credentials, CredentialsError, ValidationError
from cognito_events._chain import CHAIN, make_provider
from cognito_events._config import ClientConfig, load_config
from cognito_events._credentials import CredentialsProvider, CredentialsSource, Expiring
from cognito_events._providers import (
    ADVISORY_REFRESH,
    MANDATORY_REFRESH,
    RefreshingProvider,
    check_credentials_source,
)
from cognito_events._sources import credentials_from_environ

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"


def test_repr_and_str_hide_secret_and_token() -> None:
    credentials = Credentials("AKIDEXAMPLE", SECRET, TOKEN)
    for text in (repr(credentials), str(credentials)):
        assert SECRET not in text
        assert TOKEN not in text
    assert repr(credentials) == (
        "Credentials(access_key_id='AKIDEXAMPLE', secret_access_key='<redacted>', "
        "session_token='<redacted>')"
    )
    assert "session_token=None" in repr(Credentials("AKIDEXAMPLE", SECRET))


def test_keywords_and_equality() -> None:
    one = Credentials(access_key_id="A", secret_access_key="S", session_token=None)
    assert one == Credentials("A", "S")
    with pytest.raises(AttributeError):
        one.access_key_id = "B"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "secret", "token", "fragment"),
    [
        ("", SECRET, None, "access_key_id"),
        ("AKID", "", None, "secret_access_key"),
        ("AKID", SECRET, "", "session_token"),
        (None, None, 5, "access_key_id"),
    ],
)
def test_malformed_credentials_are_refused_without_echo(
    key: object, secret: object, token: object, fragment: str
) -> None:
    with pytest.raises(CredentialsError, match=fragment) as caught:
        Credentials(key, secret, token)  # type: ignore[arg-type]
    assert SECRET not in str(caught.value)


def test_environment_credentials() -> None:
    found = credentials_from_environ(
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
    )
    assert found == Credentials("AKID", SECRET, TOKEN)
    legacy = credentials_from_environ(
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SECURITY_TOKEN": TOKEN}
    )
    assert legacy is not None
    assert legacy.session_token == TOKEN
    assert credentials_from_environ({}) is None


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKID"}, "AWS_SECRET_ACCESS_KEY is not"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET}, "AWS_ACCESS_KEY_ID is not"),
    ],
)
def test_half_a_pair_is_an_error(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(CredentialsError, match=fragment) as caught:
        credentials_from_environ(environ)
    assert SECRET not in str(caught.value)


# == the provider API and the default chain ==============================================

NOW = 1_700_000_000.0


pytestmark = pytest.mark.usefixtures("aws_home")


class Clock:
    """An injected clock (epoch seconds) that only moves when told."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Home:
    def __init__(self, root: Path) -> None:
        self.root = root / "home"
        self.config = self.root / ".aws" / "config"
        self.credentials = self.root / ".aws" / "credentials"
        self.config.parent.mkdir(parents=True)

    def environ(self, **variables: str) -> dict[str, str]:
        return {"HOME": str(self.root), "AWS_EC2_METADATA_DISABLED": "true", **variables}

    def provider(
        self, explicit: CredentialsSource | None = None, *, profile: str | None = None,
        environ: dict[str, str] | None = None,
    ) -> CredentialsProvider:  # fmt: skip
        environ = self.environ() if environ is None else environ
        config = load_config(region=None, endpoint_url=None, profile=profile, environ=environ)
        return make_provider(explicit, config=config, environ=environ)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


# -- explicit sources -----------------------------------------------------------------------


def test_explicit_credentials_are_returned_as_they_are(home: Home) -> None:
    explicit = Credentials("AKID", SECRET)
    provider = home.provider(explicit, environ=home.environ(AWS_ACCESS_KEY_ID="ENV"))
    assert provider.get() is explicit
    assert SECRET not in repr(provider)


class FrozenSource:
    """Stands in for botocore's credentials: get_frozen_credentials() on every use."""

    Frozen = namedtuple("Frozen", "access_key secret_key token")

    def __init__(self) -> None:
        self.calls = 0
        self.key = "AKID1"

    def get_frozen_credentials(self) -> FrozenSource.Frozen:
        self.calls += 1
        return self.Frozen(self.key, SECRET, TOKEN)


def test_get_frozen_credentials_is_called_on_every_use(home: Home) -> None:
    source = FrozenSource()
    provider = home.provider(source)
    assert source.calls == 0  # nothing happens before the first use
    first = provider.get()
    assert first == Credentials("AKID1", SECRET, TOKEN)
    assert provider.get() is first  # unchanged values: the same object, no new conversion
    source.key = "AKID2"
    assert provider.get().access_key_id == "AKID2"
    assert source.calls == 3


def test_botocore_credentials_plug_in_and_refresh_themselves(home: Home) -> None:
    from botocore.credentials import Credentials as BotoCredentials
    from botocore.credentials import RefreshableCredentials

    static = home.provider(BotoCredentials("AKIDBOTO", SECRET))
    assert static.get() == Credentials("AKIDBOTO", SECRET)

    issued = iter(range(1, 10))

    def refresh() -> dict[str, str]:
        expiry = datetime.now(UTC) + timedelta(minutes=1)  # always inside botocore's window
        return {
            "access_key": f"AKIDREFRESH{next(issued)}",
            "secret_key": SECRET,
            "token": TOKEN,
            "expiry_time": expiry.isoformat(),
        }

    refreshable = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    provider = home.provider(refreshable)
    assert provider.get().access_key_id == "AKIDREFRESH2"  # botocore refreshed on use
    assert provider.get().access_key_id == "AKIDREFRESH3"


def test_attribute_objects_are_read_on_every_use(home: Home) -> None:
    class Keys:
        access_key = "AKIDATTR"
        secret_key = SECRET
        token: str | None = None

    keys = Keys()
    provider = home.provider(keys)
    assert provider.get() == Credentials("AKIDATTR", SECRET)
    keys.token = TOKEN
    assert provider.get().session_token == TOKEN


def test_callables_are_called_on_every_use(home: Home) -> None:
    calls: list[int] = []

    def supply() -> Credentials:
        calls.append(1)
        return Credentials("AKIDFN", SECRET)

    provider = home.provider(supply)
    assert provider.get().access_key_id == "AKIDFN"
    provider.get()
    assert len(calls) == 2


def test_failing_explicit_sources_become_credentials_errors(home: Home) -> None:
    def broken() -> Credentials:
        raise RuntimeError("token expired")

    with pytest.raises(CredentialsError, match="RuntimeError: token expired") as caught:
        home.provider(broken).get()
    assert isinstance(caught.value.__cause__, RuntimeError)

    with pytest.raises(CredentialsError, match="not Credentials"):
        home.provider(lambda: ("AKID", SECRET)).get()  # type: ignore[arg-type]

    class Empty:
        def get_frozen_credentials(self) -> object:
            return FrozenSource.Frozen("AKID", "", None)

    with pytest.raises(CredentialsError, match="secret_key") as caught:
        home.provider(Empty()).get()  # type: ignore[arg-type]

    class Raises:
        def get_frozen_credentials(self) -> object:
            raise KeyError("sso token")

    with pytest.raises(CredentialsError, match="KeyError") as caught:
        home.provider(Raises()).get()  # type: ignore[arg-type]
    assert isinstance(caught.value.__cause__, KeyError)


@pytest.mark.parametrize("value", [42, "AKIDEXAMPLE", (("AKID", SECRET))])
def test_unusable_explicit_values_are_refused_up_front(home: Home, value: object) -> None:
    assert check_credentials_source(value)[0].parameter == "credentials"
    with pytest.raises(ValidationError, match="get_frozen_credentials"):
        home.provider(value)  # type: ignore[arg-type]
    assert check_credentials_source(None) == []
    assert check_credentials_source(Credentials("A", "S")) == []


# -- the chain: environment and shared files ------------------------------------------------

CREDENTIALS_FILE = f"""
[default]
aws_access_key_id = AKIDCREDFILE
aws_secret_access_key = {SECRET}
[other]
aws_access_key_id = AKIDOTHER
aws_secret_access_key = {SECRET}
aws_session_token = {TOKEN}
"""
CONFIG_FILE = f"""
[default]
aws_access_key_id = AKIDCONFIG
aws_secret_access_key = {SECRET}
[profile configonly]
aws_access_key_id = AKIDCONFIGONLY
aws_secret_access_key = {SECRET}
aws_security_token = {TOKEN}
"""


def write_both(home: Home) -> None:
    home.credentials.write_text(dedent(CREDENTIALS_FILE))
    home.config.write_text(dedent(CONFIG_FILE))


def test_environment_wins_unless_a_profile_is_passed_in_code(home: Home) -> None:
    write_both(home)
    environ = home.environ(AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY=SECRET)
    assert home.provider(environ=environ).get().access_key_id == "AKIDENV"
    # AWS_PROFILE does not skip the environment (as in botocore); profile= in code does.
    environ["AWS_PROFILE"] = "other"
    assert home.provider(environ=environ).get().access_key_id == "AKIDENV"
    assert home.provider(profile="other", environ=environ).get().access_key_id == "AKIDOTHER"


def test_half_an_environment_pair_is_an_error(home: Home) -> None:
    write_both(home)
    with pytest.raises(CredentialsError, match="AWS_SECRET_ACCESS_KEY is not"):
        home.provider(environ=home.environ(AWS_ACCESS_KEY_ID="AKIDENV")).get()


def test_credentials_file_wins_over_config_file(home: Home) -> None:
    write_both(home)
    assert home.provider().get() == Credentials("AKIDCREDFILE", SECRET)
    assert home.provider(profile="other").get() == Credentials("AKIDOTHER", SECRET, TOKEN)
    only = home.provider(environ=home.environ(AWS_PROFILE="configonly")).get()
    assert only == Credentials("AKIDCONFIGONLY", SECRET, TOKEN)


def test_half_a_pair_in_a_file_names_file_and_line(home: Home) -> None:
    home.credentials.write_text(
        f"[default]\nregion = eu-west-1\naws_secret_access_key = {SECRET}\n"
    )
    with pytest.raises(CredentialsError) as caught:
        home.provider().get()
    message = str(caught.value)
    assert f"'aws_secret_access_key' in [default] of {home.credentials} (line 3)" in message
    assert "aws_access_key_id is not" in message
    assert SECRET not in message


def test_chain_is_resolved_lazily_and_failures_are_not_cached(home: Home) -> None:
    environ = home.environ()
    provider = make_provider(None, config=ClientConfig(), environ=environ)
    # Files written after make_provider are seen: nothing was read yet.
    home.credentials.write_text(dedent(CREDENTIALS_FILE))
    assert provider.get().access_key_id == "AKIDCREDFILE"

    empty = home.environ(AWS_SHARED_CREDENTIALS_FILE=str(home.root / "none"))
    provider = make_provider(None, config=ClientConfig(), environ=empty)
    with pytest.raises(CredentialsError, match="No AWS credentials found"):
        provider.get()
    empty["AWS_ACCESS_KEY_ID"] = "AKIDLATER"
    empty["AWS_SECRET_ACCESS_KEY"] = SECRET
    assert provider.get().access_key_id == "AKIDLATER"


def test_nothing_found_lists_every_source(home: Home) -> None:
    with pytest.raises(CredentialsError) as caught:
        home.provider().get()
    message = str(caught.value)
    for fragment in (
        "1. the credentials= argument: not given",
        "2. the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set",
        "3. roles and IAM Identity Center (only boto3 implements them): not configured "
        "in profile 'default'",
        f"4. the shared credentials file: {home.credentials} does not exist",
        "5. an 'aws login' session (only boto3 implements it): not configured in profile 'default'",
        "6. credential_process: not set in profile 'default'",
        f"7. the shared config file: {home.config} does not exist",
        "8. container credentials: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "9. EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED=true",
        "credentials=boto3.Session().get_credentials()",
    ):
        assert fragment in message
    # The report is the chain, row by row.
    rows = [line for line in message.splitlines() if line.startswith("  ")]
    assert [row.split(". ", 1)[1].split(":", 1)[0] for row in rows] == [
        source.name for source in CHAIN
    ]
    home.config.write_text("[profile p]\nregion = eu-west-1\n")
    with pytest.raises(CredentialsError) as caught:
        home.provider(profile="p").get()
    assert "skipped because profile= was passed in code" in str(caught.value)
    assert "no aws_access_key_id in [profile p]" in str(caught.value)


# -- sources only boto3 implements ----------------------------------------------------------


@pytest.mark.parametrize(
    ("profile_text", "fragment"),
    [
        ("role_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n", "assume"),
        ("role_arn = arn:aws:iam::123456789012:role/r\ncredential_source = Ec2InstanceMetadata\n",
         "assume"),
        ("role_arn = arn:aws:iam::123456789012:role/r\nweb_identity_token_file = /t\n",
         "web identity"),
        ("sso_session = corp\nsso_account_id = 123456789012\nsso_role_name = r\n",
         "IAM Identity Center"),
        ("sso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n",
         "IAM Identity Center"),
        ("login_session = arn:aws:iam::123456789012:user/u\n", "aws login"),
    ],
)  # fmt: skip
def test_profiles_needing_boto3_are_refused_with_advice(
    home: Home, profile_text: str, fragment: str
) -> None:
    home.config.write_text("[profile x]\n" + profile_text + "[profile base]\nregion = us-east-1\n")
    with pytest.raises(CredentialsError) as caught:
        home.provider(profile="x").get()
    message = str(caught.value)
    assert fragment in message
    assert "CognitoEventsClient(credentials=boto3.Session(profile_name='x').get_credentials())" in (
        message
    )
    assert str(home.config) in message


def test_web_identity_variables_are_refused_unless_a_profile_is_passed(home: Home) -> None:
    home.credentials.write_text(dedent(CREDENTIALS_FILE))
    environ = home.environ(
        AWS_WEB_IDENTITY_TOKEN_FILE="/var/run/token", AWS_ROLE_ARN="arn:aws:iam::1:role/r"
    )
    with pytest.raises(CredentialsError, match="AWS_WEB_IDENTITY_TOKEN_FILE is set"):
        home.provider(environ=environ).get()
    assert home.provider(profile="default", environ=environ).get().access_key_id == "AKIDCREDFILE"


def test_role_arn_without_a_source_is_ignored_as_in_botocore(home: Home) -> None:
    home.credentials.write_text(
        f"[default]\nrole_arn = arn:aws:iam::1:role/r\naws_access_key_id = AKIDKEYS\n"
        f"aws_secret_access_key = {SECRET}\n"
    )
    assert home.provider().get().access_key_id == "AKIDKEYS"


# -- refreshing -----------------------------------------------------------------------------


class Fetcher:
    """Hands out numbered credentials that expire ``lifetime`` seconds after ``clock``."""

    def __init__(self, clock: Clock, lifetime: float = 3600.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.fail: Exception | None = None
        self.started = threading.Event()
        self.release: threading.Event | None = None

    def __call__(self) -> Expiring:
        self.calls += 1
        self.started.set()
        if self.release is not None:
            assert self.release.wait(5)
        if self.fail is not None:
            raise self.fail
        return Expiring(
            Credentials(f"AKID{self.calls}", SECRET, TOKEN), self.clock() + self.lifetime
        )


def test_refresh_ahead_of_expiry() -> None:
    clock = Clock()
    fetch = Fetcher(clock)
    provider = RefreshingProvider(fetch, name="test source", clock=clock)
    assert provider.get().access_key_id == "AKID1"
    clock.now += 3600 - ADVISORY_REFRESH - 1
    assert provider.get().access_key_id == "AKID1"
    assert fetch.calls == 1
    clock.now += 2  # inside the advisory window: refreshed
    assert provider.get().access_key_id == "AKID2"
    assert fetch.calls == 2


def test_failed_advisory_refresh_keeps_current_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    fetch = Fetcher(clock)
    provider = RefreshingProvider(fetch, name="test source", clock=clock)
    provider.get()
    clock.now += 3600 - ADVISORY_REFRESH + 1
    fetch.fail = CredentialsError("endpoint down")
    with caplog.at_level(logging.WARNING, logger="cognito_events"):
        assert provider.get().access_key_id == "AKID1"
    assert "endpoint down" in caplog.text
    assert provider.get().access_key_id == "AKID1"
    assert fetch.calls == 2  # no new attempt on every call: paused for a minute
    clock.now += 61
    provider.get()
    assert fetch.calls == 3
    clock.now = NOW + 3600 - MANDATORY_REFRESH + 1  # mandatory window: the failure is raised
    with pytest.raises(CredentialsError, match="endpoint down"):
        provider.get()
    fetch.fail = None
    assert provider.get().access_key_id == "AKID5"


def test_short_lived_credentials_are_used_before_they_are_refreshed() -> None:
    clock = Clock()
    fetch = Fetcher(clock, lifetime=300)
    provider = RefreshingProvider(fetch, name="test source", clock=clock)
    provider.get()
    clock.now += 70  # before a quarter of the lifetime
    provider.get()
    assert fetch.calls == 1
    clock.now += 10  # past a quarter: advisory refresh
    assert provider.get().access_key_id == "AKID2"


def test_expired_or_eternal_credentials() -> None:
    clock = Clock()
    provider = RefreshingProvider(
        lambda: Expiring(Credentials("AKID", SECRET), clock() - 5), name="stale source", clock=clock
    )
    with pytest.raises(
        CredentialsError, match="stale source gave credentials that expired 5 s ago"
    ):
        provider.get()
    calls: list[int] = []

    def eternal() -> Expiring:
        calls.append(1)
        return Expiring(Credentials("AKID", SECRET))

    forever = RefreshingProvider(eternal, name="static", clock=clock)
    forever.get()
    clock.now += 10**9
    forever.get()
    assert len(calls) == 1


def run_threads(count: int, target: object) -> list[threading.Thread]:
    threads = [threading.Thread(target=target) for _ in range(count)]  # type: ignore[arg-type]
    for thread in threads:
        thread.start()
    return threads


def test_mandatory_refresh_happens_once_while_everyone_waits() -> None:
    clock = Clock()
    fetch = Fetcher(clock)
    provider = RefreshingProvider(fetch, name="test source", clock=clock)
    provider.get()
    clock.now += 3600 - MANDATORY_REFRESH + 1
    fetch.release = threading.Event()
    barrier = threading.Barrier(8)
    results: list[str] = []

    def worker() -> None:
        barrier.wait(5)
        results.append(provider.get().access_key_id)

    threads = run_threads(8, worker)
    assert fetch.started.wait(5)
    threading.Event().wait(0.05)  # let the others reach the lock
    fetch.release.set()
    for thread in threads:
        thread.join(5)
    assert fetch.calls == 2  # the initial fetch and exactly one refresh
    assert results == ["AKID2"] * 8


def test_advisory_refresh_happens_once_and_nobody_waits() -> None:
    clock = Clock()
    fetch = Fetcher(clock)
    provider = RefreshingProvider(fetch, name="test source", clock=clock)
    provider.get()
    clock.now += 3600 - ADVISORY_REFRESH + 1
    fetch.release = threading.Event()
    fetch.started.clear()
    refreshed: list[str] = []
    refresher = run_threads(1, lambda: refreshed.append(provider.get().access_key_id))
    assert fetch.started.wait(5)
    # While the refresh is blocked, other callers get the current credentials at once.
    others: list[str] = []
    threads = run_threads(7, lambda: others.append(provider.get().access_key_id))
    for thread in threads:
        thread.join(5)
    assert others == ["AKID1"] * 7
    fetch.release.set()
    refresher[0].join(5)
    assert refreshed == ["AKID2"]
    assert fetch.calls == 2
    assert provider.get().access_key_id == "AKID2"


def test_an_emptied_token_line_means_no_token(home: Home) -> None:
    home.credentials.write_text(
        f"[default]\naws_access_key_id = AKID\naws_secret_access_key = {SECRET}\n"
        "aws_session_token =\n"
    )
    assert home.provider().get() == Credentials("AKID", SECRET)
    home.credentials.write_text(
        f"[default]\naws_access_key_id =\naws_secret_access_key = {SECRET}\n"
    )
    with pytest.raises(CredentialsError, match="must be a non-empty single-line value"):
        home.provider().get()
