"""The client's arguments: checked once, at construction, by the loader's own rules.

The constructor and ``load_config`` share one function per rule (``_validation``), so
an argument and the same value found in a variable or a file are accepted or refused
alike, and a bad argument fails before any I/O rather than at the first call.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cognito_events import CognitoEventsClient, Credentials, ValidationError
from cognito_events._config import load_config

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

pytestmark = pytest.mark.usefixtures("aws_home")


def test_out_of_range_port_is_refused_at_construction() -> None:
    with pytest.raises(ValidationError) as caught:
        CognitoEventsClient(endpoint_url="http://127.0.0.1:99999", credentials=CREDENTIALS)
    [problem] = caught.value.problems
    assert problem.parameter == "endpoint_url"
    assert "'http://127.0.0.1:99999' is not an http(s) URL" in problem.message


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:99999", "http://127.0.0.1:0", "ftp://h", "http://h/?q=1", "http://a b"],
)
def test_argument_and_variable_are_refused_alike(url: str, aws_home: Path) -> None:
    with pytest.raises(ValidationError) as from_argument:
        CognitoEventsClient(endpoint_url=url, credentials=CREDENTIALS)
    with pytest.raises(ValidationError) as from_variable:
        load_config(
            region=None,
            endpoint_url=None,
            profile=None,
            environ={"HOME": str(aws_home), "AWS_ENDPOINT_URL": url},
        )
    [argument_problem] = from_argument.value.problems
    [variable_problem] = from_variable.value.problems
    assert (argument_problem.parameter, variable_problem.parameter) == (
        "endpoint_url",
        "AWS_ENDPOINT_URL",
    )
    assert argument_problem.message == variable_problem.message


@pytest.mark.parametrize("region", ["us east 1", "US-EAST-1", "-x", ""])
def test_region_argument_and_variable_are_refused_alike(region: str, aws_home: Path) -> None:
    with pytest.raises(ValidationError) as from_argument:
        CognitoEventsClient(region=region, credentials=CREDENTIALS)
    environ = {"HOME": str(aws_home), "AWS_REGION": region}
    if region:
        with pytest.raises(ValidationError) as from_variable:
            load_config(region=None, endpoint_url=None, profile=None, environ=environ)
        assert from_variable.value.problems[0].message == from_argument.value.problems[0].message
    else:  # an empty variable counts as unset
        assert (
            load_config(region=None, endpoint_url=None, profile=None, environ=environ).region
            is None
        )


def test_every_bad_argument_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        CognitoEventsClient(
            region="not a region",
            endpoint_url="http://127.0.0.1:99999",
            profile="",
            timeout=-1,
        )
    assert [problem.parameter for problem in caught.value.problems] == [
        "region",
        "endpoint_url",
        "timeout",
        "profile",
    ]


def test_construction_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("construction must not touch files or the network")

    monkeypatch.setattr("builtins.open", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    client = CognitoEventsClient(
        region="fips-us-east-1", endpoint_url="http://127.0.0.1:8000/", profile="dev"
    )
    assert "endpoint_url='http://127.0.0.1:8000'" in repr(client)


def test_a_valid_endpoint_argument_is_kept_as_given_minus_the_slash(aws_home: Path) -> None:
    client = CognitoEventsClient(
        endpoint_url="http://127.0.0.1:8000/",
        credentials=CREDENTIALS,
        environ={"HOME": str(aws_home)},
    )
    assert client.endpoint_url == "http://127.0.0.1:8000"
