"""Differential: botocore and this library resolve the same environments and files alike.

botocore (a test-only dependency) resolves credentials, region and endpoint from the same
variables and files; the access key, region, endpoint and max attempts must agree, except
where this library deliberately differs (``AWS_REGION``), which the scenarios name.
Instance metadata is disabled throughout, and ``create_client`` does no network I/O.
"""

from __future__ import annotations

import os
import shlex
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cognito_events import ValidationError
from cognito_events._chain import make_provider
from cognito_events._config import load_config

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
KEYS = "aws_access_key_id = {key}\naws_secret_access_key = " + SECRET + "\n"


def keys(key: str) -> str:
    return KEYS.format(key=key)


pytestmark = pytest.mark.usefixtures("aws_home")


@dataclass(frozen=True)
class Scenario:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    config: str = ""
    credentials: str = ""
    #: A profile passed in code (``Session(profile=...)`` / ``load_config(profile=...)``).
    profile: str | None = None
    #: The region this library resolves where it deliberately differs from botocore.
    our_region: str | None = None


ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": SECRET}

SCENARIOS = [
    Scenario("env only", env={**ENV_KEYS, "AWS_DEFAULT_REGION": "us-east-1"}),
    Scenario(
        "env with session token",
        env={**ENV_KEYS, "AWS_SESSION_TOKEN": TOKEN, "AWS_DEFAULT_REGION": "eu-west-1"},
    ),
    Scenario(
        "default profile: credentials file and config region",
        credentials="[default]\n" + keys("AKIDDEFAULT"),
        config="[default]\nregion = ap-northeast-1\n",
    ),
    Scenario(
        "AWS_PROFILE selects a [profile x] section with keys",
        env={"AWS_PROFILE": "dev"},
        config="[default]\nregion = us-east-1\n[profile dev]\nregion = eu-central-1\n"
        + keys("AKIDDEVCONFIG"),
    ),
    Scenario(
        "AWS_PROFILE: keys in the credentials file, region in the config file",
        env={"AWS_PROFILE": "dev"},
        credentials="[dev]\n" + keys("AKIDDEV"),
        config="[profile dev]\nregion = us-west-2\n",
    ),
    Scenario(
        "credentials file over config file",
        credentials="[default]\n" + keys("AKIDCREDFILE"),
        config="[default]\nregion = us-east-2\n" + keys("AKIDCONFIGFILE"),
    ),
    Scenario(
        "environment over AWS_PROFILE",
        env={**ENV_KEYS, "AWS_PROFILE": "dev"},
        credentials="[dev]\n" + keys("AKIDDEV"),
        config="[profile dev]\nregion = eu-west-2\n",
    ),
    Scenario(
        "profile passed in code skips the environment",
        env={**ENV_KEYS},
        credentials="[dev]\n" + keys("AKIDDEV"),
        config="[profile dev]\nregion = eu-west-2\n",
        profile="dev",
    ),
    Scenario(
        "AWS_DEFAULT_PROFILE before AWS_PROFILE",
        env={"AWS_DEFAULT_PROFILE": "one", "AWS_PROFILE": "two"},
        credentials="[one]\n" + keys("AKIDONE") + "[two]\n" + keys("AKIDTWO"),
        config="[profile one]\nregion = us-east-1\n[profile two]\nregion = us-west-2\n",
    ),
    Scenario(
        "AWS_DEFAULT_REGION over the profile region",
        env={"AWS_DEFAULT_REGION": "ap-south-1"},
        credentials="[default]\n" + keys("AKIDDEFAULT"),
        config="[default]\nregion = us-east-1\n",
    ),
    Scenario(
        "region in the credentials file",
        credentials="[default]\nregion = ap-southeast-2\n" + keys("AKIDDEFAULT"),
        config="[default]\nregion = us-east-1\n",
    ),
    Scenario(
        "quoted profile name",
        env={"AWS_PROFILE": "my profile"},
        config='[profile "my profile"]\nregion = eu-west-1\n' + keys("AKIDQUOTED"),
    ),
    Scenario(
        "custom file locations",
        env={
            "AWS_SHARED_CREDENTIALS_FILE": "{tmp}/elsewhere/creds",
            "AWS_CONFIG_FILE": "{tmp}/elsewhere/conf",
        },
        credentials="[default]\n" + keys("AKIDHOME"),  # in ~/.aws: must be ignored
        config="[default]\nregion = us-east-1\n",
    ),
    Scenario(
        "AWS_ENDPOINT_URL_COGNITO_SYNC over AWS_ENDPOINT_URL",
        env={
            **ENV_KEYS,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_COGNITO_SYNC": "http://localhost:4566",
            "AWS_ENDPOINT_URL": "http://localhost:1111",
        },
    ),
    Scenario(
        "AWS_ENDPOINT_URL",
        env={
            **ENV_KEYS,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:8000",
        },
    ),
    Scenario(
        "services section over profile endpoint_url",
        env={**ENV_KEYS},
        config=textwrap.dedent(
            """\
            [default]
            region = eu-west-1
            services = local
            endpoint_url = http://profile.localhost:1
            [services local]
            cognito_sync =
              endpoint_url = http://services.localhost:2
            """
        ),
    ),
    Scenario(
        "profile endpoint_url",
        env={**ENV_KEYS},
        config="[default]\nregion = eu-west-1\nendpoint_url = http://profile.localhost:1\n",
    ),
    Scenario(
        "ignore_configured_endpoint_urls in the profile",
        env={**ENV_KEYS, "AWS_ENDPOINT_URL": "http://env.localhost:1"},
        config="[default]\nregion = eu-west-1\nignore_configured_endpoint_urls = true\n"
        "endpoint_url = http://profile.localhost:1\n",
    ),
    Scenario(
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        env={
            **ENV_KEYS,
            "AWS_DEFAULT_REGION": "us-east-2",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
            "AWS_ENDPOINT_URL_COGNITO_SYNC": "http://env.localhost:1",
        },
    ),
    Scenario(
        "AWS_USE_FIPS_ENDPOINT",
        env={**ENV_KEYS, "AWS_DEFAULT_REGION": "us-east-1", "AWS_USE_FIPS_ENDPOINT": "true"},
    ),
    Scenario(
        "use_fips_endpoint in the profile",
        env={**ENV_KEYS},
        config="[default]\nregion = us-west-2\nuse_fips_endpoint = true\n",
    ),
    Scenario(
        "China region endpoint",
        env={**ENV_KEYS},
        config="[default]\nregion = cn-north-1\n",
    ),
    Scenario(
        "credential_process",
        env={"AWS_PROFILE": "proc"},
        config="[profile proc]\nregion = eu-west-2\ncredential_process = {process}\n",
    ),
    Scenario(
        "max_attempts and retry_mode",
        env={**ENV_KEYS, "AWS_MAX_ATTEMPTS": "6"},
        config="[default]\nregion = us-east-1\nretry_mode = adaptive\n",
    ),
    # Deliberate differences: botocore ignores AWS_REGION.
    Scenario(
        "AWS_REGION only (botocore: no region)",
        env={**ENV_KEYS, "AWS_REGION": "eu-west-1"},
        our_region="eu-west-1",
    ),
    Scenario(
        "AWS_REGION over AWS_DEFAULT_REGION (botocore: AWS_DEFAULT_REGION)",
        env={**ENV_KEYS, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"},
        our_region="eu-west-1",
    ),
]

PROCESS = """\
import json
print(json.dumps({"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "%s",
                  "SessionToken": "%s", "Expiration": "2999-01-01T00:00:00Z"}))
""" % (SECRET, TOKEN)  # noqa: UP031


def prepare(scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "process.py"
    script.write_text(PROCESS)
    command = shlex.join([sys.executable, str(script)])
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (aws / "credentials").write_text(scenario.credentials)
    (aws / "config").write_text(scenario.config.replace("{process}", command))
    (elsewhere / "creds").write_text("[default]\n" + keys("AKIDELSEWHERE"))
    (elsewhere / "conf").write_text("[default]\nregion = sa-east-1\n")
    for name, value in scenario.env.items():
        monkeypatch.setenv(name, value.replace("{tmp}", str(tmp_path)))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_same_resolution_as_botocore(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.session

    prepare(scenario, tmp_path, monkeypatch)

    config = load_config(
        region=None, endpoint_url=None, profile=scenario.profile, environ=os.environ
    )
    ours = make_provider(None, config=config, environ=os.environ).get()

    session = botocore.session.Session(profile=scenario.profile)
    theirs = session.get_credentials().get_frozen_credentials()
    assert ours.access_key_id == theirs.access_key
    assert ours.secret_access_key == theirs.secret_key
    assert ours.session_token == theirs.token

    botocore_region = session.get_config_variable("region")
    if scenario.our_region is None:
        assert config.region == botocore_region
    else:  # the deliberate difference: AWS_REGION first
        assert config.region == scenario.our_region
        assert botocore_region == os.environ.get("AWS_DEFAULT_REGION")
    assert config.region is not None

    client = session.create_client("cognito-sync", region_name=config.region)
    try:
        our_endpoint = config.endpoint_url or config.default_endpoint(config.region)
        assert our_endpoint == client.meta.endpoint_url
        assert config.max_attempts == client.meta.config.retries.get("total_max_attempts")
    finally:
        client.close()


# -- endpoints and signing regions: FIPS, dual-stack, legacy FIPS pseudo-regions -----------


@dataclass(frozen=True)
class EndpointCase:
    name: str
    region: str
    env: dict[str, str] = field(default_factory=dict)
    config: str = ""
    #: ``endpoint_url=`` in code.
    endpoint_url: str | None = None


ENDPOINT_CASES = [
    EndpointCase("plain", "us-east-1"),
    EndpointCase("AWS_USE_DUALSTACK_ENDPOINT", "us-east-1", {"AWS_USE_DUALSTACK_ENDPOINT": "true"}),
    EndpointCase(
        "use_dualstack_endpoint in the profile",
        "eu-west-1",
        config="[default]\nuse_dualstack_endpoint = true\n",
    ),
    EndpointCase(
        "dual-stack and FIPS",
        "us-west-2",
        {"AWS_USE_DUALSTACK_ENDPOINT": "TRUE", "AWS_USE_FIPS_ENDPOINT": "true"},
    ),
    EndpointCase("dual-stack false", "us-east-1", {"AWS_USE_DUALSTACK_ENDPOINT": "false"}),
    EndpointCase("legacy fips- prefix", "fips-us-east-1"),
    EndpointCase("legacy -fips suffix", "us-east-1-fips"),
    EndpointCase("both legacy forms", "fips-us-west-2-fips"),
    EndpointCase("legacy FIPS region in China", "fips-cn-north-1"),
    EndpointCase(
        "legacy FIPS region with dual-stack",
        "eu-west-2-fips",
        {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
    ),
    EndpointCase(
        "legacy FIPS region from the profile", "", config="[default]\nregion = fips-us-east-2\n"
    ),
    EndpointCase(
        "legacy FIPS region with an endpoint_url",
        "fips-us-east-1",
        endpoint_url="http://127.0.0.1:9",
    ),
    EndpointCase(
        "dual-stack with an endpoint_url",
        "us-east-1",
        {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
        endpoint_url="http://127.0.0.1:9",
    ),
    EndpointCase(
        "dual-stack with a configured endpoint",
        "us-east-1",
        {"AWS_USE_DUALSTACK_ENDPOINT": "true", "AWS_ENDPOINT_URL": "http://localhost:4566"},
    ),
    *(
        EndpointCase(f"{region} {flags or 'plain'}", region, env)
        for region in (
            "cn-north-1",
            "us-gov-west-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "us-isof-south-1",
            "eu-isoe-west-1",
            "eusc-de-east-1",
            "ap-southeast-3",
        )
        for flags, env in (
            ("", {}),
            ("fips", {"AWS_USE_FIPS_ENDPOINT": "true"}),
            ("dual-stack", {"AWS_USE_DUALSTACK_ENDPOINT": "true"}),
            (
                "fips dual-stack",
                {"AWS_USE_FIPS_ENDPOINT": "true", "AWS_USE_DUALSTACK_ENDPOINT": "true"},
            ),
        )
    ),
]


class _SentError(Exception):
    """Raised from botocore's before-send hook: the request is built, nothing is sent."""


def _botocore_request(case: EndpointCase) -> tuple[str, str]:
    """(endpoint, signing region) of the request botocore builds for GetCognitoEvents."""
    import botocore.session

    session = botocore.session.Session()
    client = session.create_client(
        "cognito-sync", region_name=case.region or None, endpoint_url=case.endpoint_url
    )
    seen: dict[str, str] = {}

    def grab(request: Any, **kwargs: object) -> None:
        authorization = request.headers["Authorization"]
        if isinstance(authorization, bytes):
            authorization = authorization.decode()
        seen["url"] = request.url
        seen["scope"] = authorization.split("Credential=")[1].split(",")[0]
        raise _SentError

    client.meta.events.register("before-send", grab)
    try:
        with pytest.raises(_SentError):
            client.get_cognito_events(IdentityPoolId=POOL)
    finally:
        client.close()
    endpoint = seen["url"].split("/identitypools/")[0]
    return endpoint, seen["scope"].split("/")[2]


POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"


@pytest.mark.parametrize("case", ENDPOINT_CASES, ids=[case.name for case in ENDPOINT_CASES])
def test_same_endpoint_and_signing_region_as_botocore(
    case: EndpointCase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text(case.config)
    for name, value in {**ENV_KEYS, **case.env}.items():
        monkeypatch.setenv(name, value)
    import botocore.exceptions

    def ours() -> tuple[str, str]:
        config = load_config(
            region=case.region or None,
            endpoint_url=case.endpoint_url,
            profile=None,
            environ=os.environ,
        )
        assert config.region is not None
        return config.endpoint_url or config.default_endpoint(config.region), config.region

    try:
        theirs = _botocore_request(case)
    except botocore.exceptions.EndpointVariantError:
        # botocore has no dual-stack host here: refused, with the setting named.
        with pytest.raises(ValidationError) as caught:
            ours()
        [problem] = caught.value.problems
        assert problem.parameter == "AWS_USE_DUALSTACK_ENDPOINT"
        assert "no dual-stack endpoint" in problem.message
    else:
        assert ours() == theirs
