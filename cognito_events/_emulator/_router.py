"""Which operation a request names: ``(method, path)`` for the REST services (Cognito Sync,
Lambda), ``X-Amz-Target`` for Cognito Identity. One table; adding an operation is one row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import unquote

import attrs

__all__ = ["OPERATION_NAMES", "Route", "RouteError", "route"]

COGNITO_SYNC: Final = "cognito-sync"
COGNITO_IDENTITY: Final = "cognito-identity"
LAMBDA: Final = "lambda"
STS: Final = "sts"

_IDENTITY_TARGET: Final = "AWSCognitoIdentityService."
#: Cognito Identity operations by X-Amz-Target suffix; both are unsigned in the model.
_IDENTITY_OPERATIONS: Final = ("GetId", "GetCredentialsForIdentity")

_POOL: Final = ("identitypools", "{IdentityPoolId}")
_DATASET: Final = (*_POOL, "identities", "{IdentityId}", "datasets", "{DatasetName}")
_LAMBDA_FUNCTION: Final = ("2015-03-31", "functions", "{FunctionName}")

#: (service, path template, {method: operation}); templates are matched segment by segment.
_REST_ROUTES: Final[tuple[tuple[str, tuple[str, ...], dict[str, str]], ...]] = (
    (COGNITO_SYNC, (*_POOL, "events"), {"GET": "GetCognitoEvents", "POST": "SetCognitoEvents"}),
    (COGNITO_SYNC, (*_POOL, "identities", "{IdentityId}", "datasets"), {"GET": "ListDatasets"}),
    (
        COGNITO_SYNC,
        _DATASET,
        {"GET": "DescribeDataset", "POST": "UpdateRecords", "DELETE": "DeleteDataset"},
    ),
    (COGNITO_SYNC, (*_DATASET, "records"), {"GET": "ListRecords"}),
    (LAMBDA, (*_LAMBDA_FUNCTION, "policy"), {"GET": "GetPolicy", "POST": "AddPermission"}),
    (LAMBDA, (*_LAMBDA_FUNCTION, "policy", "{StatementId}"), {"DELETE": "RemovePermission"}),
    (LAMBDA, (*_LAMBDA_FUNCTION, "invocations"), {"POST": "Invoke"}),
    (
        LAMBDA,
        ("2017-10-31", "functions", "{FunctionName}", "concurrency"),
        {"PUT": "PutFunctionConcurrency", "DELETE": "DeleteFunctionConcurrency"},
    ),
    (
        LAMBDA,
        ("2019-09-30", "functions", "{FunctionName}", "concurrency"),
        {"GET": "GetFunctionConcurrency"},
    ),
)


#: Every operation a request can name, the events operations first.
OPERATION_NAMES: Final = tuple(
    dict.fromkeys(
        [name for _, _, methods in _REST_ROUTES for name in sorted(methods.values(), reverse=True)]
        + list(_IDENTITY_OPERATIONS)
        + ["GetCallerIdentity"]
    )
)


@attrs.frozen
class Route:
    """The operation a request names, its service (the SigV4 signing name, or None for an
    unsigned operation) and the percent-decoded path parameters."""

    service: str
    operation: str
    signing_name: str | None
    params: Mapping[str, str]


@attrs.frozen
class RouteError:
    """No operation matches: 404 UnknownOperationException or 405 with ``allow``."""

    status: int
    code: str
    message: str
    allow: str | None = None


def _match(template: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    for expected, segment in zip(template, segments, strict=True):
        if expected.startswith("{"):  # may be empty: the service reports it
            params[expected[1:-1]] = unquote(segment)
        elif expected != segment:
            return None
    return params


def route(method: str, path: str, headers: Mapping[str, list[str]]) -> Route | RouteError:
    """The operation for a request (``path`` without its query, as received)."""
    targets = headers.get("x-amz-target")
    if path == "/" and targets is not None:
        target = targets[0] if len(targets) == 1 else ""
        name = target.removeprefix(_IDENTITY_TARGET)
        if method != "POST":
            return RouteError(
                405, "MethodNotAllowedException", f"Use POST for {target}", allow="POST"
            )
        if target.startswith(_IDENTITY_TARGET) and name in _IDENTITY_OPERATIONS:
            return Route(COGNITO_IDENTITY, name, None, {})
        return RouteError(
            400,
            "UnknownOperationException",
            f"Unknown X-Amz-Target '{target}': this emulator answers "
            + ", ".join(_IDENTITY_TARGET + op for op in _IDENTITY_OPERATIONS),
        )
    content_types = headers.get("content-type") or [""]
    if (
        path == "/"
        and method == "POST"
        and content_types[0].partition(";")[0].strip().lower()
        == "application/x-www-form-urlencoded"
    ):
        # STS's query protocol: the action is in the form body (the service reads it).
        return Route(STS, "GetCallerIdentity", STS, {})
    segments = path.split("/")
    if segments[0] == "":
        segments = segments[1:]
        for service, template, methods in _REST_ROUTES:
            params = _match(template, segments)
            if params is None:
                continue
            operation = methods.get(method)
            if operation is None:
                allowed = ", ".join(sorted(methods))
                return RouteError(
                    405,
                    "MethodNotAllowedException",
                    f"The method {method} is not allowed for {path}: use {allowed}",
                    allow=allowed,
                )
            return Route(service, operation, service, params)
    return RouteError(
        404,
        "UnknownOperationException",
        f"No operation matches {method} {path}: this emulator answers Cognito Sync "
        "(/identitypools/...), Lambda (/2015-03-31/functions/...), Cognito Identity "
        "(POST / with X-Amz-Target) and STS GetCallerIdentity (POST / with a form body)",
    )
