"""The Lambda API of the emulator (policies and Invoke) and the invoke check Cognito Sync
goes through; routes and constraints compared with botocore's service models."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _signed import Answer, call

from cognito_events._emulator import EmulatorServer
from cognito_events._emulator._router import Route, route
from cognito_events._emulator.services.lambda_ import allows
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
POOL_ARN = "arn:aws:cognito-sync:us-east-1:123456789012:identitypool/us-east-1:1234"


def _model(service: str) -> dict[str, Any]:
    botocore = pytest.importorskip("botocore")
    data = Path(botocore.__file__).parent / "data" / service
    [version] = sorted(data.iterdir())[-1:]
    path = version / "service-2.json"
    if path.exists():
        document: dict[str, Any] = json.loads(path.read_text())
    else:
        document = json.loads(gzip.decompress((version / "service-2.json.gz").read_bytes()))
    return document


@pytest.mark.parametrize(
    ("service", "operations"),
    [
        (
            "lambda",
            [
                "AddPermission",
                "GetPolicy",
                "RemovePermission",
                "Invoke",
                "PutFunctionConcurrency",
                "GetFunctionConcurrency",
                "DeleteFunctionConcurrency",
            ],
        ),
        (
            "cognito-sync",
            [
                "SetCognitoEvents",
                "GetCognitoEvents",
                "ListRecords",
                "UpdateRecords",
                "ListDatasets",
                "DescribeDataset",
                "DeleteDataset",
            ],
        ),
    ],
)
def test_routes_are_the_models(service: str, operations: list[str]) -> None:
    model = _model(service)
    for name in operations:
        http = model["operations"][name]["http"]
        path = http["requestUri"].split("?")[0]
        for placeholder in ("IdentityPoolId", "IdentityId", "DatasetName", "FunctionName",
                            "StatementId"):  # fmt: skip
            path = path.replace("{" + placeholder + "}", "x")
        found = route(http["method"], path, {})
        assert isinstance(found, Route), name
        assert (found.operation, found.signing_name) == (name, service)


def test_identity_operations_are_unsigned_in_the_model() -> None:
    model = _model("cognito-identity")
    for name in ("GetId", "GetCredentialsForIdentity"):
        assert model["operations"][name].get("authtype") == "none"
        found = route("POST", "/", {"x-amz-target": [f"AWSCognitoIdentityService.{name}"]})
        assert isinstance(found, Route)
        assert (found.operation, found.signing_name) == (name, None)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_lambda_function(ARN, lambda event, context: event)
        yield emulator


def _policy_path(name: str = ARN, tail: str = "") -> str:
    from urllib.parse import quote

    return f"/2015-03-31/functions/{quote(name, safe='')}/policy{tail}"


def _add(emulator: Emulator, body: dict[str, Any], name: str = ARN) -> Answer:
    return call(emulator, "POST", _policy_path(name), body, service="lambda")


def test_a_new_function_has_no_policy(emulator: Emulator) -> None:
    assert emulator.lambda_policy(ARN) is None
    answer = call(emulator, "GET", _policy_path(), service="lambda")
    assert (answer.status, answer.code) == (404, "ResourceNotFoundException")


def test_functions_are_found_by_name_partial_and_full_arn(emulator: Emulator) -> None:
    body = {"StatementId": "s", "Action": "lambda:InvokeFunction", "Principal": "*"}
    for number, name in enumerate(
        ["on-sync", "123456789012:function:on-sync", ARN, ARN + ":$LATEST"]
    ):
        assert _add(emulator, {**body, "StatementId": f"s{number}"}, name).status == 201
    qualified = _add(emulator, body, ARN + ":prod")
    assert (qualified.status, qualified.code) == (404, "ResourceNotFoundException")
    elsewhere = call(emulator, "GET", _policy_path("on-sync"), service="lambda", region="eu-west-1")
    assert elsewhere.status == 404
    statements = emulator.lambda_policy(ARN)
    assert statements is not None
    assert [s["Sid"] for s in statements["Statement"]] == ["s0", "s1", "s2", "s3"]
    assert statements["Statement"][0]["Principal"] == "*"


def test_add_permission_constraints_reported_at_once(emulator: Emulator) -> None:
    answer = _add(
        emulator,
        {"StatementId": "bad id!", "Action": "invoke", "SourceAccount": "12"},
    )
    assert (answer.status, answer.code) == (400, "ValidationException")
    message = answer.document["message"]
    assert message.startswith("4 validation errors detected")
    for field in ("'principal'", "'statementId'", "'action'", "'sourceAccount'"):
        assert field in message


def test_principals_become_policy_principals(emulator: Emulator) -> None:
    for sid, principal in (("a", "123456789012"), ("b", "arn:aws:iam::123456789012:role/r")):
        assert (
            _add(
                emulator, {"StatementId": sid, "Action": "lambda:*", "Principal": principal}
            ).status
            == 201
        )
    policy = emulator.lambda_policy(ARN)
    assert policy is not None
    assert [s["Principal"] for s in policy["Statement"]] == [
        {"AWS": "arn:aws:iam::123456789012:root"},
        {"AWS": "arn:aws:iam::123456789012:role/r"},
    ]


@pytest.mark.parametrize(
    ("statement", "allowed"),
    [
        ({}, True),
        ({"Condition": {"ArnLike": {"AWS:SourceArn": POOL_ARN}}}, True),
        ({"Condition": {"ArnLike": {"aws:sourcearn": "arn:aws:cognito-sync:*"}}}, True),
        ({"Condition": {"ArnLike": {"AWS:SourceArn": POOL_ARN + "9"}}}, False),
        ({"Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}}}, True),
        ({"Condition": {"StringEquals": {"AWS:SourceAccount": "999999999999"}}}, False),
        ({"Condition": {"StringLike": {"AWS:SourceArn": "*"}}}, False),  # not emulated
        ({"Principal": {"Service": "s3.amazonaws.com"}}, False),
        ({"Action": "lambda:GetPolicy"}, False),
        ({"Effect": "Deny"}, False),
        ({"Principal": "*", "Action": ["lambda:*"]}, True),
    ],
)
def test_the_invoke_check(statement: dict[str, Any], allowed: bool) -> None:
    base = {
        "Sid": "s",
        "Effect": "Allow",
        "Principal": {"Service": "cognito-sync.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": ARN,
    }
    document = {"Version": "2012-10-17", "Statement": [{**base, **statement}]}
    assert (
        allows(
            document,
            service="cognito-sync.amazonaws.com",
            source_arn=POOL_ARN,
            source_account="123456789012",
        )
        is allowed
    )
    assert not allows(None, service="x", source_arn=POOL_ARN, source_account="1")


def test_policies_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    with EmulatorServer(db=db, functions={ARN: lambda event, context: event}) as server:
        assert server.store.policy(ARN) == (None, server.store.policy(ARN)[1])  # type: ignore[index]
    with Emulator(db=db) as emulator:
        emulator.add_lambda_function(ARN, lambda event, context: event)
        emulator.add_permission(ARN, statement_id="kept")
    with Emulator(db=db) as emulator:
        emulator.add_lambda_function(ARN, lambda event, context: event)  # as serve --function
        policy = emulator.lambda_policy(ARN)
        assert policy is not None
        assert [s["Sid"] for s in policy["Statement"]] == ["kept"]
        emulator.reset()
        assert emulator.lambda_policy(ARN) is None


def test_malformed_function_arns_are_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="not an unqualified Lambda function ARN"):
        emulator.add_lambda_function("arn:aws:lambda:us-east-1:1:function:x", lambda e, c: e)
    with pytest.raises(TypeError, match="callable"):
        emulator.add_lambda_function(ARN, "not callable")  # type: ignore[arg-type]
