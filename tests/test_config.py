"""Client settings: profile, region, endpoint, retries, CA bundle, and the shared files."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cognito_events import CognitoEventsClient, CredentialsError, ValidationError
from cognito_events._config import (
    COGNITO_SYNC_REGIONS,
    ClientConfig,
    default_endpoint,
    dns_suffix,
    load_config,
    parse_ini,
    read_ini,
    unavailable_region_hint,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


pytestmark = pytest.mark.usefixtures("aws_home")


class Files:
    """A temporary HOME with ~/.aws/config and ~/.aws/credentials to fill in."""

    def __init__(self, root: Path) -> None:
        self.home = root / "home"
        self.config = self.home / ".aws" / "config"
        self.credentials = self.home / ".aws" / "credentials"
        self.home.mkdir(parents=True, exist_ok=True)

    def write_config(self, text: str) -> None:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(textwrap.dedent(text))

    def write_credentials(self, text: str) -> None:
        self.credentials.parent.mkdir(parents=True, exist_ok=True)
        self.credentials.write_text(textwrap.dedent(text))

    def env(self, **variables: str) -> dict[str, str]:
        return {"HOME": str(self.home), "AWS_EC2_METADATA_DISABLED": "true", **variables}

    def load(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        **variables: str,
    ) -> ClientConfig:
        return load_config(
            region=region, endpoint_url=endpoint_url, profile=profile, environ=self.env(**variables)
        )


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path)


# -- defaults and profile selection -------------------------------------------------------


def test_defaults_without_files_or_variables(files: Files) -> None:
    config = files.load()
    assert config == ClientConfig()
    assert config.profile == "default"
    assert not config.profile_explicit
    assert config.region is None
    assert config.endpoint_url is None
    assert config.default_endpoint("eu-west-1") == "https://cognito-sync.eu-west-1.amazonaws.com"
    assert config.retry_mode == "standard"
    assert config.max_attempts is None
    assert config.ca_bundle is None


PROFILES = """
    [default]
    region = us-east-1
    [profile arg]
    region = us-east-2
    [profile dflt]
    region = eu-west-1
    [profile env]
    region = eu-west-2
"""


@pytest.mark.parametrize(
    ("argument", "variables", "expected", "explicit"),
    [
        (None, {}, "default", False),
        (None, {"AWS_PROFILE": "env"}, "env", False),
        (None, {"AWS_DEFAULT_PROFILE": "dflt"}, "dflt", False),
        # botocore's order: AWS_DEFAULT_PROFILE before AWS_PROFILE.
        (None, {"AWS_DEFAULT_PROFILE": "dflt", "AWS_PROFILE": "env"}, "dflt", False),
        ("arg", {"AWS_DEFAULT_PROFILE": "dflt", "AWS_PROFILE": "env"}, "arg", True),
        (None, {"AWS_PROFILE": ""}, "default", False),
    ],
)
def test_profile_selection_order(
    files: Files,
    argument: str | None,
    variables: dict[str, str],
    expected: str,
    explicit: bool,
) -> None:
    files.write_config(PROFILES)
    config = files.load(profile=argument, **variables)
    assert config.profile == expected
    assert config.profile_explicit is explicit


def test_disagreeing_profile_variables_are_logged(
    files: Files, caplog: pytest.LogCaptureFixture
) -> None:
    files.write_config(PROFILES)
    with caplog.at_level(logging.WARNING, logger="cognito_events"):
        files.load(AWS_DEFAULT_PROFILE="dflt", AWS_PROFILE="env")
    assert "AWS_DEFAULT_PROFILE=dflt and AWS_PROFILE=env disagree" in caplog.text


@pytest.mark.parametrize(
    ("argument", "variables", "selected_by"),
    [
        ("nope", {}, "the profile= argument"),
        (None, {"AWS_PROFILE": "nope"}, "AWS_PROFILE"),
        (None, {"AWS_DEFAULT_PROFILE": "nope"}, "AWS_DEFAULT_PROFILE"),
    ],
)
def test_unknown_profile_names_the_existing_ones(
    files: Files, argument: str | None, variables: dict[str, str], selected_by: str
) -> None:
    files.write_config(PROFILES)
    files.write_credentials("[creds-only]\naws_access_key_id = A\naws_secret_access_key = S\n")
    with pytest.raises(CredentialsError) as caught:
        files.load(profile=argument, **variables)
    message = str(caught.value)
    assert "'nope'" in message
    assert selected_by in message
    assert "arg, creds-only, default, dflt, env" in message
    # The same, in fields, for front ends that word it their own way.
    error = caught.value
    assert (error.profile, error.profile_source) == ("nope", selected_by)
    assert error.profiles == ("arg", "creds-only", "default", "dflt", "env")
    assert error.tried == ()


def test_unknown_profile_without_files(files: Files) -> None:
    with pytest.raises(CredentialsError, match="neither file defines any profile"):
        files.load(profile="x")
    # The implicit default profile may be absent; an explicitly selected one may not.
    assert files.load().profile == "default"
    with pytest.raises(CredentialsError, match="'default'"):
        files.load(AWS_PROFILE="default")


def test_empty_profile_argument_is_refused_at_construction(files: Files) -> None:
    # The constructor checks its arguments, once; load_config takes them as checked.
    with pytest.raises(ValidationError, match="profile"):
        CognitoEventsClient(profile="", environ=files.env())


def test_file_variables_and_path_expansion(files: Files, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "conf").write_text("[profile p]\nregion = ap-south-1\n")
    (elsewhere / "creds").write_text("[p]\nmax_attempts = 4\n")
    config = files.load(
        profile="p",
        AWS_CONFIG_FILE="$PLACE/conf",
        AWS_SHARED_CREDENTIALS_FILE="${PLACE}/creds",
        PLACE=str(elsewhere),
    )
    assert (config.region, config.max_attempts) == ("ap-south-1", 4)
    files.write_config("[default]\nregion = eu-west-2\n")
    assert files.load(AWS_CONFIG_FILE="~/.aws/config").region == "eu-west-2"


# -- region ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "variables", "expected", "source"),
    [
        ("ca-central-1", {"AWS_REGION": "eu-west-1"}, "ca-central-1", "the region= argument"),
        (None, {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-1",
         "AWS_REGION"),
        (None, {"AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-2", "AWS_DEFAULT_REGION"),
        (None, {"AWS_REGION": ""}, "us-west-2", "'region' in [default]"),
        (None, {}, "us-west-2", "'region' in [default]"),
    ],
)  # fmt: skip
def test_region_precedence(
    files: Files, argument: str | None, variables: dict[str, str], expected: str, source: str
) -> None:
    files.write_config("[default]\nregion = us-west-2\n")
    config = files.load(region=argument, **variables)
    assert config.region == expected
    assert config.region_source is not None
    assert config.region_source.startswith(source)


def test_region_of_the_credentials_file_wins_over_the_config_file(files: Files) -> None:
    files.write_config("[profile p]\nregion = us-west-2\n")
    files.write_credentials("[p]\nregion = ap-southeast-2\n")
    config = files.load(profile="p")
    assert config.region == "ap-southeast-2"
    assert str(files.credentials) in (config.region_source or "")


def test_no_region_anywhere(files: Files) -> None:
    files.write_config("[default]\noutput = json\n")
    assert files.load().region is None


@pytest.mark.parametrize(
    ("variables", "config_text", "named"),
    [
        ({"AWS_REGION": "Not A Region"}, "", "AWS_REGION"),
        ({"AWS_DEFAULT_REGION": "us_east_1"}, "", "AWS_DEFAULT_REGION"),
        ({}, "[default]\nregion = eu west 1\n", "'region' in [default] of"),
    ],
)
def test_invalid_region_names_its_source(
    files: Files, variables: dict[str, str], config_text: str, named: str
) -> None:
    files.write_config(config_text)
    with pytest.raises(ValidationError) as caught:
        files.load(**variables)
    assert caught.value.problems[0].parameter.startswith(named)


# -- endpoint -------------------------------------------------------------------------------

SERVICES = """
    [default]
    region = eu-west-1
    services = local
    endpoint_url = http://profile.test:1
    [services local]
    cognito_sync =
      endpoint_url = http://services.test:2
    s3 =
      endpoint_url = http://s3.test:3
"""


@pytest.mark.parametrize(
    ("argument", "variables", "expected"),
    [
        ("http://arg.test:9/", {"AWS_ENDPOINT_URL": "http://x.test"}, "http://arg.test:9"),
        (
            None,
            {"AWS_ENDPOINT_URL_COGNITO_SYNC": "http://svc-env.test", "AWS_ENDPOINT_URL": "http://x"},
            "http://svc-env.test",
        ),
        (None, {"AWS_ENDPOINT_URL": "https://global-env.test/"}, "https://global-env.test"),
        (None, {}, "http://services.test:2"),
        (None, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, None),
        (None, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE",
                "AWS_ENDPOINT_URL": "http://ignored.test"}, None),
        ("http://arg.test", {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "http://arg.test"),
        (None, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}, "http://services.test:2"),
    ],
)  # fmt: skip
def test_endpoint_precedence(
    files: Files, argument: str | None, variables: dict[str, str], expected: str | None
) -> None:
    files.write_config(SERVICES)
    assert files.load(endpoint_url=argument, **variables).endpoint_url == expected


def test_profile_endpoint_url_when_the_services_section_lacks_the_service(files: Files) -> None:
    files.write_config(
        """
        [profile p]
        services = other
        endpoint_url = http://profile.test:1
        [services other]
        s3 =
          endpoint_url = http://s3.test
        """
    )
    config = files.load(profile="p")
    assert config.endpoint_url == "http://profile.test:1"
    assert config.endpoint_source is not None
    assert "'endpoint_url' in [profile p]" in config.endpoint_source


def test_ignore_configured_endpoint_urls_in_the_profile(files: Files) -> None:
    files.write_config(
        SERVICES.replace("[default]", "[default]\n    ignore_configured_endpoint_urls = true")
    )
    assert files.load().endpoint_url is None
    assert files.load(AWS_ENDPOINT_URL="http://e.test").endpoint_url is None
    # The variable overrides the profile setting.
    config = files.load(AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="false")
    assert config.endpoint_url == "http://services.test:2"


def test_missing_services_section_is_an_error(files: Files) -> None:
    files.write_config("[default]\nservices = nowhere\n")
    with pytest.raises(ValidationError, match=r"no \[services nowhere\] section"):
        files.load()


def test_services_entry_must_be_a_sub_section(files: Files) -> None:
    files.write_config("[default]\nservices = s\n[services s]\ncognito_sync = http://flat.test\n")
    with pytest.raises(ValidationError, match="must be a sub-section"):
        files.load()


@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_ENDPOINT_URL": "ftp://nope"},
        {"AWS_ENDPOINT_URL_COGNITO_SYNC": "not a url"},
        {"AWS_ENDPOINT_URL": "https://user:pw@host.test"},
    ],
)
def test_invalid_configured_endpoint_names_the_variable(
    files: Files, variables: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        files.load(**variables)
    assert caught.value.problems[0].parameter == next(iter(variables))
    assert "pw@" not in str(caught.value) or "user:pw" in next(iter(variables.values()))


def test_fips_and_partitions(files: Files) -> None:
    config = files.load(AWS_USE_FIPS_ENDPOINT="true")
    assert config.use_fips_endpoint
    assert (
        config.default_endpoint("us-east-1") == "https://cognito-sync-fips.us-east-1.amazonaws.com"
    )
    files.write_config("[default]\nuse_fips_endpoint = True\n")
    assert files.load().use_fips_endpoint
    assert not files.load(AWS_USE_FIPS_ENDPOINT="false").use_fips_endpoint
    assert default_endpoint("cn-north-1") == "https://cognito-sync.cn-north-1.amazonaws.com.cn"
    assert dns_suffix("us-gov-west-1") == "amazonaws.com"
    assert dns_suffix("us-iso-east-1") == "c2s.ic.gov"
    assert dns_suffix("us-isob-east-1") == "sc2s.sgov.gov"
    assert dns_suffix("eusc-de-east-1") == "amazonaws.eu"
    assert dns_suffix("xx-new-1") == "amazonaws.com"


@pytest.mark.parametrize(
    "variables",
    [{"AWS_USE_FIPS_ENDPOINT": "1"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "yes"}],
)
def test_booleans_are_true_or_false(files: Files, variables: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="must be true or false"):
        files.load(**variables)


# -- regions where the service exists -----------------------------------------------------


def test_regions_match_botocore_endpoints_data() -> None:
    import botocore

    path = Path(botocore.__file__).parent / "data" / "endpoints.json"
    data = json.loads(path.read_text())
    regions: set[str] = set()
    for partition in data["partitions"]:
        regions |= set(partition["services"].get("cognito-sync", {}).get("endpoints", {}))
    assert set(COGNITO_SYNC_REGIONS) == regions
    assert list(COGNITO_SYNC_REGIONS) == sorted(COGNITO_SYNC_REGIONS)


def test_unavailable_region_hint() -> None:
    assert unavailable_region_hint("us-east-1") is None
    hint = unavailable_region_hint("eu-north-1")
    assert hint is not None
    assert "'eu-north-1'" in hint
    assert "us-east-1" in hint
    assert "eu-west-2" in hint


# -- retries and CA bundle ----------------------------------------------------------------


def test_max_attempts_and_retry_mode(files: Files) -> None:
    assert files.load(AWS_MAX_ATTEMPTS="5").max_attempts == 5
    files.write_config("[default]\nmax_attempts = 7\nretry_mode = adaptive\n")
    config = files.load()
    assert (config.max_attempts, config.retry_mode) == (7, "standard")
    assert files.load(AWS_MAX_ATTEMPTS="2", AWS_RETRY_MODE="legacy").max_attempts == 2


def test_invalid_retry_settings_are_all_reported(files: Files) -> None:
    with pytest.raises(ValidationError) as caught:
        files.load(AWS_MAX_ATTEMPTS="abc", AWS_RETRY_MODE="turbo")
    assert [problem.parameter for problem in caught.value.problems] == [
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    ]
    assert "'turbo'" in str(caught.value)
    with pytest.raises(ValidationError, match="AWS_MAX_ATTEMPTS"):
        files.load(AWS_MAX_ATTEMPTS="0")
    files.write_config("[profile p]\nmax_attempts = -1\n")
    with pytest.raises(ValidationError) as caught:
        files.load(profile="p")
    parameter = caught.value.problems[0].parameter
    assert parameter == f"'max_attempts' in [profile p] of {files.config} (line 2)"


def test_ca_bundle(files: Files, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert files.load(AWS_CA_BUNDLE=str(bundle)).ca_bundle == str(bundle)
    files.write_config(f"[default]\nca_bundle = {bundle}\n")
    assert files.load().ca_bundle == str(bundle)
    with pytest.raises(ValidationError, match="AWS_CA_BUNDLE"):
        files.load(AWS_CA_BUNDLE=str(tmp_path / "missing.pem"))


# -- the file parser ----------------------------------------------------------------------


def test_parser_syntax() -> None:
    text = (
        "\ufeff# comment\n"
        "[default]\r\n"
        "Region = us-east-1\n"
        "; another comment\n"
        "output: json\n"
        "  # indented comment\n"
        "s3 =\n"
        "    addressing_style = path\n"
        "    signature_version = s3v4\n"
        "long = first\n"
        "  second\n"
        '[profile "with space"]\n'
        "region=eu-west-1\n"
        "empty =\n"
    )
    parsed = parse_ini("f", text.encode())
    assert parsed.problems == ()
    default = parsed.sections["default"]
    assert default["region"].value == "us-east-1"
    assert default["region"].line == 3
    assert default["output"].value == "json"
    assert default["s3"].value == {"addressing_style": "path", "signature_version": "s3v4"}
    assert default["long"].value == "first\nsecond"
    assert parsed.sections['profile "with space"']["empty"].value == ""


def test_profile_section_names(files: Files) -> None:
    files.write_config(
        """
        [profile "with space"]
        region = eu-west-1
        [profile   spaced]
        region = eu-west-2
        [profilex]
        region = eu-central-1
        [default]
        region = us-east-1
        [profile default]
        region = us-east-2
        """
    )
    assert files.load(profile="with space").region == "eu-west-1"
    assert files.load(profile="spaced").region == "eu-west-2"
    with pytest.raises(CredentialsError):
        files.load(profile="x")
    # As in botocore, the later of [default] and [profile default] wins.
    assert files.load().region == "us-east-2"


def test_bad_line_in_another_profile_is_only_logged(
    files: Files, caplog: pytest.LogCaptureFixture
) -> None:
    files.write_config(
        f"""
        [profile broken]
        this line has no equals sign {SECRET}
        [default]
        region = eu-west-1
        """
    )
    with caplog.at_level(logging.WARNING, logger="cognito_events"):
        assert files.load().region == "eu-west-1"
    assert "line 3" in caplog.text
    assert SECRET not in caplog.text


def test_bad_line_in_the_selected_profile_names_file_and_line(files: Files) -> None:
    files.write_credentials(
        f"""
        [default]
        aws_access_key_id = AKID
        {SECRET}
        """
    )
    with pytest.raises(CredentialsError) as caught:
        files.load()
    message = str(caught.value)
    assert str(files.credentials) in message
    assert "line 4" in message
    assert SECRET not in message


def test_malformed_header_is_attributed_to_the_profile_it_names(files: Files) -> None:
    files.write_config("[profile good]\nregion = eu-west-1\n[profile bad\nregion = x\n")
    assert files.load(profile="good").region == "eu-west-1"
    with pytest.raises(CredentialsError, match=r"line 3: section header has no closing"):
        files.load(profile="bad")


def test_duplicates_in_the_selected_profile_are_errors(files: Files) -> None:
    files.write_config("[default]\nregion = a\nregion = eu-west-1\n[other]\nx = 1\n[other]\n")
    with pytest.raises(CredentialsError, match="'region' appears a second time"):
        files.load()
    files.write_config("[default]\nregion = eu-west-1\n[profile o]\nx = 1\n[profile o]\n")
    assert files.load().region == "eu-west-1"
    with pytest.raises(CredentialsError, match=r"section \[profile o\] appears a second time"):
        files.load(profile="o")


def test_partly_readable_file_keeps_what_is_valid(files: Files) -> None:
    files.config.parent.mkdir(parents=True)
    files.config.write_bytes(
        b"[profile latin]\nregion = caf\xe9\n[default]\nregion = eu-west-1\n"
        b"[profile ok]\nregion = us-east-2\n"
    )
    assert files.load().region == "eu-west-1"
    assert files.load(profile="ok").region == "us-east-2"
    with pytest.raises(CredentialsError, match="line 2: is not valid UTF-8"):
        files.load(profile="latin")


def test_settings_before_any_section_are_ignored(files: Files) -> None:
    files.write_config("region = us-east-1\n[default]\nregion = eu-west-1\n")
    assert files.load().region == "eu-west-1"
    parsed = read_ini(str(files.config))
    assert [problem.section for problem in parsed.problems] == [None]


def test_unreadable_file_is_an_error(files: Files) -> None:
    files.config.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(CredentialsError, match=f"Cannot read the AWS file {files.config}"):
        files.load()


def test_nested_value_with_a_bad_line(files: Files) -> None:
    files.write_config("[default]\nservices = s\n[services s]\ncognito_sync =\n  endpoint_url\n")
    with pytest.raises(CredentialsError, match="line 5"):
        files.load()


def test_config_repr_shows_no_file_contents(files: Files) -> None:
    files.write_credentials(
        f"[default]\naws_access_key_id = AKID\naws_secret_access_key = {SECRET}\n"
    )
    config = files.load()
    assert SECRET not in repr(config)
    assert config.profile_data is not None
    assert SECRET not in repr(config.profile_data)


# -- cold start -----------------------------------------------------------------------------


def test_import_loads_no_parser_nor_process_modules() -> None:
    code = (
        "import sys, cognito_events, cognito_events._config, cognito_events._credentials\n"
        "heavy = {'configparser', 'shlex', 'subprocess', 'cognito_events._sources',\n"
        "         'cognito_events._fetchers', 'cognito_events._chain'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_loading_reads_no_network(files: Files, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_config must not open connections")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    files.write_config(SERVICES)
    files.load()
