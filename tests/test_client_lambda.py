"""The Lambda and STS operations the client sends for ensure/check (requests-mock), their
errors, and where they go: endpoints per service, as the SDKs resolve them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests_mock

from cognito_events import (
    CognitoEventsClient,
    Credentials,
    InternalError,
    NotAuthorizedError,
    ResourceNotFoundError,
    RetryPolicy,
    ServiceError,
    TooManyRequestsError,
    ValidationError,
)
from cognito_events._config import load_config
from cognito_events._config.endpoints import service_endpoint
from cognito_events._operations import (
    ADD_PERMISSION,
    GET_CALLER_IDENTITY,
    GET_POLICY,
    REMOVE_PERMISSION,
)

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
LAMBDA = "https://lambda.us-east-1.amazonaws.com"
STS = "https://sts.us-east-1.amazonaws.com"
POLICY_URL = f"{LAMBDA}/2015-03-31/functions/{quote(ARN, safe='')}/policy"
IDENTITY_XML = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/me</Arn>"
    "<UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
    "</GetCallerIdentityResponse>"
)

pytestmark = pytest.mark.usefixtures("aws_home")


@pytest.fixture
def mocker() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as mocked:
        yield mocked


def _client(**options: Any) -> CognitoEventsClient:
    options.setdefault("credentials", CREDENTIALS)
    return CognitoEventsClient(sleep=lambda seconds: None, **options)


def test_urls_come_from_the_path_templates() -> None:
    assert GET_POLICY.url(LAMBDA, FunctionName=ARN) == POLICY_URL
    assert ADD_PERMISSION.url(LAMBDA, FunctionName=ARN) == POLICY_URL
    assert REMOVE_PERMISSION.url(LAMBDA, FunctionName="f", StatementId="a b") == (
        f"{LAMBDA}/2015-03-31/functions/f/policy/a%20b"
    )
    assert GET_CALLER_IDENTITY.url(STS) == STS + "/"


def test_operations_match_the_models() -> None:
    from botocore.loaders import Loader

    loader = Loader()
    lambda_model = loader.load_service_model("lambda", "service-2")
    for operation in (GET_POLICY, ADD_PERMISSION, REMOVE_PERMISSION):
        http = lambda_model["operations"][operation.name]["http"]
        assert (operation.method, operation.path) == (http["method"], http["requestUri"])
        assert operation.signing_name == lambda_model["metadata"]["signingName"]
    sts_model = loader.load_service_model("sts", "service-2")
    assert "GetCallerIdentity" in sts_model["operations"]
    assert sts_model["metadata"]["apiVersion"] == "2011-06-15"
    assert GET_CALLER_IDENTITY.signing_name == sts_model["metadata"]["endpointPrefix"] == "sts"


def test_get_policy_is_signed_for_lambda(mocker: requests_mock.Mocker) -> None:
    document = {"Version": "2012-10-17", "Statement": []}
    mocker.get(POLICY_URL, json={"Policy": json.dumps(document), "RevisionId": "r1"})
    answer = _client()._get_policy("us-east-1", ARN)
    assert answer is not None
    assert (answer.document, answer.revision_id) == (document, "r1")
    sent = mocker.last_request
    assert sent is not None
    assert "/us-east-1/lambda/aws4_request" in sent.headers["Authorization"]


def test_add_and_remove_permission(mocker: requests_mock.Mocker) -> None:
    mocker.post(POLICY_URL, status_code=201, json={"Statement": "{}"})
    mocker.delete(POLICY_URL + "/sid-1", status_code=204)
    client = _client()
    client._add_permission("us-east-1", ARN, b'{"StatementId": "sid-1"}')
    client._remove_permission("us-east-1", ARN, "sid-1")
    add, remove = mocker.request_history
    assert add.headers["Content-Type"] == "application/json"
    assert add.body == b'{"StatementId": "sid-1"}'
    assert remove.method == "DELETE"


def test_get_caller_identity_reads_the_account(mocker: requests_mock.Mocker) -> None:
    mocker.post(STS + "/", text=IDENTITY_XML)
    assert _client()._caller_account("us-east-1") == "123456789012"
    sent = mocker.last_request
    assert sent is not None
    assert sent.body == b"Action=GetCallerIdentity&Version=2011-06-15"
    assert sent.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert "/us-east-1/sts/aws4_request" in sent.headers["Authorization"]


@pytest.mark.parametrize(
    "body",
    ["", "<x/>", "<Account>12</Account>", "<Account>" + "\uff11" * 12 + "</Account>", "{}"],
)
def test_an_unreadable_identity_answer_is_a_service_error(
    mocker: requests_mock.Mocker, body: str
) -> None:
    mocker.post(STS + "/", text=body)
    with pytest.raises(ServiceError, match="GetCallerIdentity answered with a body"):
        _client()._caller_account("us-east-1")


@pytest.mark.parametrize("body", ["", "[]", '{"Policy": 3}', '{"Policy": "not json"}'])
def test_an_unreadable_policy_answer_is_a_service_error(
    mocker: requests_mock.Mocker, body: str
) -> None:
    mocker.get(POLICY_URL, text=body)
    with pytest.raises(ServiceError, match="GetPolicy answered with a body"):
        _client()._get_policy("us-east-1", ARN)


def test_no_policy_yet_is_none_but_a_missing_function_raises(
    mocker: requests_mock.Mocker,
) -> None:
    error = {"x-amzn-ErrorType": "ResourceNotFoundException"}
    mocker.get(
        POLICY_URL,
        status_code=404,
        headers=error,
        json={"Message": "The resource you requested does not exist."},
    )
    assert _client()._get_policy("us-east-1", ARN) is None
    mocker.get(
        POLICY_URL, status_code=404, headers=error, json={"Message": f"Function not found: {ARN}"}
    )
    with pytest.raises(ResourceNotFoundError, match="Function not found"):
        _client()._get_policy("us-east-1", ARN)


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (403, "AccessDeniedException", NotAuthorizedError),
        (429, "TooManyRequestsException", TooManyRequestsError),
        (500, "ServiceException", InternalError),
        (400, "InvalidParameterValueException", ServiceError),
    ],
)
def test_lambda_errors_map_into_the_hierarchy(
    mocker: requests_mock.Mocker, status: int, code: str, raised: type[Exception]
) -> None:
    mocker.post(
        POLICY_URL, status_code=status, headers={"x-amzn-ErrorType": code}, json={"message": "m"}
    )
    client = _client(retry=RetryPolicy(max_attempts=2))
    with pytest.raises(raised) as caught:
        client._add_permission("us-east-1", ARN, b"{}")
    assert isinstance(caught.value, ServiceError)
    assert caught.value.code == code
    retried = status in (429, 500)
    assert len(mocker.request_history) == (2 if retried else 1)


def test_sts_xml_errors_map_by_code(mocker: requests_mock.Mocker) -> None:
    mocker.post(
        STS + "/",
        status_code=403,
        text=(
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            "<Type>Sender</Type><Code>InvalidClientTokenId</Code>"
            "<Message>The security token included in the request is invalid.</Message>"
            "</Error><RequestId>req-1</RequestId></ErrorResponse>"
        ),
    )
    with pytest.raises(NotAuthorizedError) as caught:
        _client()._caller_account("us-east-1")
    assert caught.value.code == "InvalidClientTokenId"
    assert caught.value.message == "The security token included in the request is invalid."
    assert caught.value.request_id == "req-1"


# -- endpoints per service ------------------------------------------------------------------


def _env(home: Path, **variables: str) -> dict[str, str]:
    return {"HOME": str(home), **variables}


def _endpoint(home: Path, service: str, endpoint_url: str | None = None, **env: str) -> str:
    config = load_config(
        region="us-east-1", endpoint_url=endpoint_url, profile=None, environ=_env(home, **env)
    )
    return config.service_endpoint(service, "us-east-1")[0]


@pytest.mark.parametrize("service", ["lambda", "sts"])
def test_service_endpoint_precedence(aws_home: Path, service: str) -> None:
    key = service.upper()
    assert _endpoint(aws_home, service) == f"https://{service}.us-east-1.amazonaws.com"
    assert _endpoint(aws_home, service, AWS_ENDPOINT_URL="http://127.0.0.1:1") == (
        "http://127.0.0.1:1"
    )
    assert (
        _endpoint(
            aws_home,
            service,
            AWS_ENDPOINT_URL="http://127.0.0.1:1",
            **{f"AWS_ENDPOINT_URL_{key}": "http://127.0.0.1:2"},
        )
        == "http://127.0.0.1:2"
    )
    # the Cognito Sync variable is not this service's
    assert _endpoint(aws_home, service, AWS_ENDPOINT_URL_COGNITO_SYNC="http://127.0.0.1:3") == (
        f"https://{service}.us-east-1.amazonaws.com"
    )
    # an endpoint_url argument applies to every service
    assert (
        _endpoint(
            aws_home,
            service,
            "http://127.0.0.1:4",
            **{f"AWS_ENDPOINT_URL_{key}": "http://127.0.0.1:2"},
        )
        == "http://127.0.0.1:4"
    )


def test_services_section_and_profile_endpoint(aws_home: Path) -> None:
    (aws_home / ".aws").mkdir(parents=True)
    (aws_home / ".aws" / "config").write_text(
        "[default]\nservices = local\nendpoint_url = http://127.0.0.1:9\n"
        "[services local]\nlambda =\n  endpoint_url = http://127.0.0.1:5\n"
    )
    assert _endpoint(aws_home, "lambda") == "http://127.0.0.1:5"
    assert _endpoint(aws_home, "sts") == "http://127.0.0.1:9"
    # the global variable comes before the services section, as in botocore
    assert _endpoint(aws_home, "lambda", AWS_ENDPOINT_URL="http://127.0.0.1:6") == (
        "http://127.0.0.1:6"
    )
    assert (
        _endpoint(aws_home, "lambda", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="true")
        == "https://lambda.us-east-1.amazonaws.com"
    )


def test_a_bad_lambda_endpoint_fails_only_the_lambda_calls(
    aws_home: Path, mocker: requests_mock.Mocker
) -> None:
    environ = _env(aws_home, AWS_ENDPOINT_URL_LAMBDA="ftp://nowhere")
    mocker.get(
        f"https://cognito-sync.us-east-1.amazonaws.com/identitypools/{quote(POOL, safe='')}/events",
        json={"Events": {}},
    )
    client = _client(environ=environ)
    assert client.get_cognito_events(POOL) == {}
    with pytest.raises(ValidationError) as caught:
        client._get_policy("us-east-1", ARN)
    assert caught.value.problems[0].parameter == "AWS_ENDPOINT_URL_LAMBDA"


def test_client_sends_each_service_to_its_endpoint(
    aws_home: Path, mocker: requests_mock.Mocker
) -> None:
    environ = _env(aws_home, AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:7")
    mocker.get(
        f"http://127.0.0.1:7/2015-03-31/functions/{quote(ARN, safe='')}/policy",
        json={"Policy": "{}"},
    )
    mocker.post(STS + "/", text=IDENTITY_XML)
    client = _client(environ=environ)
    assert client._get_policy("us-east-1", ARN) is not None
    assert client._caller_account("us-east-1") == "123456789012"
    assert [request.netloc for request in mocker.request_history] == [
        "127.0.0.1:7",
        "sts.us-east-1.amazonaws.com",
    ]


REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]


@pytest.mark.parametrize("service", ["lambda", "sts"])
@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("fips", [False, True])
@pytest.mark.parametrize("dual_stack", [False, True])
def test_default_endpoints_are_botocores(
    service: str, region: str, fips: bool, dual_stack: bool
) -> None:
    from botocore.config import Config
    from botocore.session import get_session

    oracle = get_session().create_client(
        service,
        region_name=region,
        aws_access_key_id="a",
        aws_secret_access_key="b",
        config=Config(use_fips_endpoint=fips, use_dualstack_endpoint=dual_stack),
    )
    expected = oracle.meta.endpoint_url
    oracle.close()
    assert service_endpoint(service, region, fips=fips, dual_stack=dual_stack) == expected
