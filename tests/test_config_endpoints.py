"""Endpoints: partitions, FIPS, dual-stack and the legacy FIPS pseudo-regions.

botocore is the oracle for every combination (tests/test_config_botocore.py); these
tests pin the rules themselves and what a client sends with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests_mock

from cognito_events import CognitoEventsClient, Credentials, ValidationError
from cognito_events._config import load_config
from cognito_events._config.endpoints import (
    default_endpoint,
    dual_stack_refusal,
    partition,
    split_fips_region,
)

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
PATH = "/identitypools/us-east-1%3A0f7e2b2c-1111-2222-3333-444455556666/events"

pytestmark = pytest.mark.usefixtures("aws_home")


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-east-1", ("us-east-1", False)),
        ("fips-us-east-1", ("us-east-1", True)),
        ("us-east-1-fips", ("us-east-1", True)),
        ("fips-us-gov-west-1-fips", ("us-gov-west-1", True)),
        ("fips", ("fips", False)),
    ],
)
def test_split_fips_region(region: str, expected: tuple[str, bool]) -> None:
    assert split_fips_region(region) == expected


@pytest.mark.parametrize(
    ("fips", "dual_stack", "expected"),
    [
        (False, False, "https://cognito-sync.eu-west-1.amazonaws.com"),
        (True, False, "https://cognito-sync-fips.eu-west-1.amazonaws.com"),
        (False, True, "https://cognito-sync.eu-west-1.api.aws"),
        (True, True, "https://cognito-sync-fips.eu-west-1.api.aws"),
    ],
)
def test_default_endpoint_variants(fips: bool, dual_stack: bool, expected: str) -> None:
    assert default_endpoint("eu-west-1", fips=fips, dual_stack=dual_stack) == expected


def test_partitions() -> None:
    assert partition("cn-north-1").dual_stack_dns_suffix == "api.amazonwebservices.com.cn"
    assert partition("us-gov-west-1").name == "aws-us-gov"
    assert partition("mars-north-1").name == "aws"  # unknown names fall back to aws
    assert dual_stack_refusal("us-east-1") is None
    refusal = dual_stack_refusal("eu-isoe-west-1")
    assert refusal is not None
    assert "aws-iso-e" in refusal


def test_dual_stack_refused_where_no_host_exists_even_for_a_pool_region() -> None:
    with pytest.raises(ValidationError, match="no dual-stack endpoint"):
        default_endpoint("us-isof-south-1", dual_stack=True)


def _env(home: Path, **variables: str) -> dict[str, str]:
    return {"HOME": str(home), **variables}


def test_dual_stack_from_the_variable_and_the_profile(aws_home: Path) -> None:
    config = load_config(
        region="us-east-1",
        endpoint_url=None,
        profile=None,
        environ=_env(aws_home, AWS_USE_DUALSTACK_ENDPOINT="true"),
    )
    assert config.use_dualstack_endpoint
    assert config.default_endpoint("us-east-1") == "https://cognito-sync.us-east-1.api.aws"
    (aws_home / ".aws").mkdir(parents=True)
    (aws_home / ".aws" / "config").write_text("[default]\nuse_dualstack_endpoint = false\n")
    config = load_config(
        region="us-east-1", endpoint_url=None, profile=None, environ=_env(aws_home)
    )
    assert not config.use_dualstack_endpoint


def test_bad_dual_stack_value_is_refused(aws_home: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        load_config(
            region=None,
            endpoint_url=None,
            profile=None,
            environ=_env(aws_home, AWS_USE_DUALSTACK_ENDPOINT="yes"),
        )
    [problem] = caught.value.problems
    assert problem.parameter == "AWS_USE_DUALSTACK_ENDPOINT"
    assert "must be true or false" in problem.message


def test_legacy_fips_region_is_the_real_region_with_fips(aws_home: Path) -> None:
    config = load_config(
        region=None,
        endpoint_url=None,
        profile=None,
        environ=_env(aws_home, AWS_DEFAULT_REGION="us-east-1-fips"),
    )
    assert (config.region, config.use_fips_endpoint) == ("us-east-1", True)
    assert config.region_source == "AWS_DEFAULT_REGION"


@pytest.fixture
def mocker() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as mocked:
        yield mocked


def _sent(mocker: requests_mock.Mocker) -> Any:
    request = mocker.last_request
    assert request is not None
    return request


def test_client_with_a_legacy_fips_region_signs_for_the_real_one(
    mocker: requests_mock.Mocker,
) -> None:
    mocker.get(f"https://cognito-sync-fips.us-east-1.amazonaws.com{PATH}", json={"Events": {}})
    client = CognitoEventsClient(region="fips-us-east-1", credentials=CREDENTIALS)
    assert client.get_cognito_events(POOL) == {}  # the pool's region matches the real one
    assert "/us-east-1/cognito-sync/aws4_request" in _sent(mocker).headers["Authorization"]
    assert client.region == "us-east-1"


def test_client_with_dual_stack_sends_to_the_dual_stack_host(
    mocker: requests_mock.Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_USE_DUALSTACK_ENDPOINT", "true")
    mocker.get(f"https://cognito-sync.us-east-1.api.aws{PATH}", json={"Events": {}})
    client = CognitoEventsClient(credentials=CREDENTIALS)  # region from the pool id
    assert client.get_cognito_events(POOL) == {}
    assert _sent(mocker).url.startswith("https://cognito-sync.us-east-1.api.aws/")


def test_the_hint_for_an_unanswered_default_endpoint_names_dual_stack() -> None:
    from cognito_events._config import ClientConfig

    assert ClientConfig().default_endpoint_hint("us-east-1") is None
    hint = ClientConfig(use_dualstack_endpoint=True).default_endpoint_hint("us-east-1")
    assert hint is not None
    assert "turn dual-stack off" in hint
    both = ClientConfig(use_dualstack_endpoint=True).default_endpoint_hint("sa-east-1")
    assert both is not None
    assert "not offered in region 'sa-east-1'" in both
    assert "dual-stack" in both
