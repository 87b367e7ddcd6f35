"""AWS Lambda, for the functions the emulator knows: resource policies (AddPermission,
GetPolicy, RemovePermission), reserved concurrency (Put/Get/DeleteFunctionConcurrency:
0 throttles every invocation) and Invoke, run in process or forwarded, signed, to a
Lambda endpoint such as ``sam local start-lambda``.

A function is known once registered (``Emulator.add_lambda_function``, ``serve
--function``) or, with a Lambda endpoint configured, once any full function ARN is named.
Its policy is stored as the JSON document GetPolicy returns, with a RevisionId that
changes on every edit. Versions and aliases are not emulated (only ``$LATEST``).
"""

from __future__ import annotations

import fnmatch
import http.client
import json
import logging
import re
import traceback
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final
from urllib.parse import quote, urlsplit

import attrs

from ... import sigv4
from ..._validation import FunctionArn
from ..._validation import parse_function_arn as parse_any_function_arn
from ._common import (
    Answer,
    Context,
    Request,
    ServiceError,
    is_json_array,
    is_mapping,
    json_object,
    validation_message,
)

__all__ = ["Invocation", "add_function", "invoke_for_service", "resource_policy"]

_log = logging.getLogger("cognito_events.emulator")

_NAME: Final = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso(?:[a-z]?)))?-"
    r"[a-z]+-\d{1}:)?(?:\d{12}:)?(?:function:)?([a-zA-Z0-9-_\.]+)(?::(\$LATEST(?:\.PUBLISHED)?|"
    r"[a-zA-Z0-9-_]+))?"
)
_STATEMENT_ID: Final = re.compile(r"[a-zA-Z0-9-_]+")
_ACTION: Final = re.compile(r"lambda:[*]|lambda:[a-zA-Z]+|[*]")
_ARN: Final = re.compile(
    r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-"
    r"\d{1})?:(\d{12})?:(.*)"
)
_ACCOUNT: Final = re.compile(r"\d{12}")
_INVOKE_ACTIONS: Final = frozenset({"lambda:invokefunction", "lambda:*", "*"})
_TIMEOUT_SECONDS: Final = 60.0


def parse_function_arn(arn: str) -> FunctionArn | None:
    """The parts of an unqualified function ARN (the only kind the emulator registers),
    read by the client's own rule; None for anything else."""
    parsed = parse_any_function_arn(arn)
    return None if parsed is None or parsed.qualifier is not None else parsed


def add_function(context: Context, arn: str) -> None:
    """Know a function (ValueError for a malformed ARN); a stored policy is kept."""
    if parse_function_arn(arn) is None:
        raise ValueError(
            f"{arn!r} is not an unqualified Lambda function ARN "
            "(arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        )
    context.store.add_function(arn, str(uuid.uuid4()))


# -- names and policies -----------------------------------------------------------------


def _not_found(what: str) -> ServiceError:
    return ServiceError(404, "ResourceNotFoundException", f"Function not found: {what}")


def _resolve(context: Context, request: Request) -> str:
    """The ARN of the function a request names (name, partial or full ARN)."""
    name = request.params["FunctionName"]
    if not 1 <= len(name) <= 256 or _NAME.fullmatch(name) is None:
        raise ServiceError(
            400,
            "ValidationException",
            validation_message(
                [
                    f"Value '{name}' at 'functionName' failed to satisfy constraint: Member "
                    "must satisfy regular expression pattern: " + _NAME.pattern
                ]
            ),
        )
    qualifier = request.query_value("Qualifier")
    base, _, suffix = name.partition(":function:") if ":function:" in name else ("", "", name)
    short, _, inline_qualifier = suffix.partition(":")
    for given in (qualifier, inline_qualifier or None):
        if given is not None and given != "$LATEST":
            raise _not_found(f"{name} (qualifier {given}: versions and aliases are not emulated)")
    known = context.store.functions()
    if base.startswith("arn:"):
        arn = f"{base}:function:{short}"
        if arn in known:
            return arn
        if context.lambda_endpoint is not None and parse_function_arn(arn) is not None:
            add_function(context, arn)
            return arn
        raise _not_found(arn)
    matches = [
        arn
        for arn in known
        if (parsed := parse_function_arn(arn)) is not None
        and parsed.name == short
        and parsed.region == request.region
        and (not base or arn.endswith(f":{base}:function:{short}"))
    ]
    if len(matches) != 1:
        raise _not_found(name)
    return matches[0]


def resource_policy(context: Context, arn: str) -> dict[str, Any] | None:
    """A function's policy document, or None when it has no statement."""
    stored = context.store.policy(arn)
    if stored is None or stored[0] is None:
        return None
    document: dict[str, Any] = json.loads(stored[0])
    return document


def _principal(principal: str) -> object:
    if principal == "*":
        return "*"
    if _ACCOUNT.fullmatch(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def _add_permission(context: Context, request: Request) -> Answer:
    arn = _resolve(context, request)
    body = json_object(request, required=True)
    violations: list[str] = []
    statement_id = body.get("StatementId")
    action = body.get("Action")
    principal = body.get("Principal")
    source_arn = body.get("SourceArn")
    source_account = body.get("SourceAccount")
    revision = body.get("RevisionId")
    for field, value in (
        ("statementId", statement_id),
        ("action", action),
        ("principal", principal),
    ):
        if value is None:
            violations.append(
                f"Value null at '{field}' failed to satisfy constraint: Member must not be null"
            )
    checks = (
        ("statementId", statement_id, _STATEMENT_ID, 100),
        ("action", action, _ACTION, 10000),
        ("principal", principal, re.compile(r"[^\s]+"), 2048),
        ("sourceArn", source_arn, _ARN, 10000),
        ("sourceAccount", source_account, _ACCOUNT, 12),
    )
    for field, value, pattern, longest in checks:
        if value is None:
            continue
        if not isinstance(value, str):
            raise ServiceError(400, "SerializationException", f"Expected a string for '{field}'")
        if len(value) > longest:
            violations.append(
                f"Value '{value}' at '{field}' failed to satisfy constraint: Member must have "
                f"length less than or equal to {longest}"
            )
        elif pattern.fullmatch(value) is None:
            violations.append(
                f"Value '{value}' at '{field}' failed to satisfy constraint: Member must "
                f"satisfy regular expression pattern: {pattern.pattern}"
            )
    unsupported = sorted(
        key
        for key in body
        if key
        not in {"StatementId", "Action", "Principal", "SourceArn", "SourceAccount", "RevisionId"}
    )
    if unsupported:
        violations.append(f"Not emulated: {', '.join(unsupported)}")
    if violations:
        raise ServiceError(400, "ValidationException", validation_message(violations))
    assert isinstance(statement_id, str)
    assert isinstance(action, str)
    assert isinstance(principal, str)
    assert source_arn is None or isinstance(source_arn, str)
    assert source_account is None or isinstance(source_account, str)
    document = resource_policy(context, arn) or {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [],
    }
    if any(item.get("Sid") == statement_id for item in document["Statement"]):
        raise ServiceError(
            409,
            "ResourceConflictException",
            f"The statement id ({statement_id}) provided already exists. Please provide a new "
            "statement id, or remove the existing statement.",
        )
    statement: dict[str, Any] = {
        "Sid": statement_id,
        "Effect": "Allow",
        "Principal": _principal(principal),
        "Action": action,
        "Resource": arn,
    }
    condition: dict[str, dict[str, str]] = {}
    if source_account is not None:
        condition["StringEquals"] = {"AWS:SourceAccount": source_account}
    if source_arn is not None:
        condition["ArnLike"] = {"AWS:SourceArn": source_arn}
    if condition:
        statement["Condition"] = condition
    document["Statement"].append(statement)
    _store_policy(context, arn, document, revision)
    return Answer.json({"Statement": json.dumps(statement, separators=(",", ":"))}, 201)


def _store_policy(
    context: Context, arn: str, document: dict[str, Any] | None, revision: object
) -> None:
    stored = context.store.policy(arn)
    assert stored is not None
    current = stored[1]
    if revision is not None and revision != current:
        raise ServiceError(
            412,
            "PreconditionFailedException",
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id",
        )
    text = None if document is None else json.dumps(document, separators=(",", ":"))
    if not context.store.set_policy(arn, text, str(uuid.uuid4()), current):
        raise ServiceError(
            409,
            "ResourceConflictException",
            "The policy was changed by another request; try again.",
        )


def _get_policy(context: Context, request: Request) -> Answer:
    arn = _resolve(context, request)
    stored = context.store.policy(arn)
    assert stored is not None
    if stored[0] is None:
        raise ServiceError(
            404, "ResourceNotFoundException", "The resource you requested does not exist."
        )
    return Answer.json({"Policy": stored[0], "RevisionId": stored[1]})


def _remove_permission(context: Context, request: Request) -> Answer:
    arn = _resolve(context, request)
    statement_id = request.params["StatementId"]
    document = resource_policy(context, arn)
    statements: list[dict[str, Any]] = [] if document is None else document["Statement"]
    kept = [item for item in statements if item.get("Sid") != statement_id]
    if document is None or len(kept) == len(statements):
        raise ServiceError(
            404,
            "ResourceNotFoundException",
            f"Statement {statement_id} is not found in resource policy.",
        )
    document["Statement"] = kept
    _store_policy(context, arn, document if kept else None, request.query_value("RevisionId"))
    return Answer(204)


def _condition_holds(condition: Mapping[str, object], values: Mapping[str, str]) -> bool:
    for operator, pairs in condition.items():
        if not is_mapping(pairs):
            return False
        for key, expected in pairs.items():
            actual = values.get(str(key).lower())
            options = expected if is_json_array(expected) else [expected]
            patterns = [option for option in options if isinstance(option, str)]
            if actual is None or len(patterns) != len(options):
                return False
            if operator == "StringEquals":
                if actual not in patterns:
                    return False
            elif operator == "ArnLike":
                if not any(fnmatch.fnmatchcase(actual, pattern) for pattern in patterns):
                    return False
            else:  # any other operator is not emulated: the statement does not apply
                return False
    return True


def allows(
    document: Mapping[str, Any] | None, *, service: str, source_arn: str, source_account: str
) -> bool:
    """Whether a resource policy lets ``service`` invoke the function, for this source."""
    if document is None:
        return False
    values = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    for statement in document.get("Statement", []):
        principal = statement.get("Principal")
        actions = statement.get("Action")
        action_list = actions if is_json_array(actions) else [actions]
        if (
            statement.get("Effect") == "Allow"
            and (principal == "*" or principal == {"Service": service})
            and any(str(action).lower() in _INVOKE_ACTIONS for action in action_list)
            and _condition_holds(statement.get("Condition", {}), values)
        ):
            return True
    return False


# -- invoking ---------------------------------------------------------------------------


@attrs.frozen
class Invocation:
    """What a function answered: the payload and, when it failed, ``function_error``
    (``"Unhandled"``), or ``throttled`` when it did not run at all."""

    payload: bytes
    function_error: str | None = None
    throttled: bool = False


class LambdaContext:
    """The ``context`` argument given to an in-process handler (the common attributes)."""

    def __init__(self, arn: str, remaining: timedelta) -> None:
        parsed = parse_function_arn(arn)
        self.function_name = parsed.name if parsed is not None else arn
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "cognito-events-emulator"
        self._remaining_ms = int(remaining.total_seconds() * 1000)

    def get_remaining_time_in_millis(self) -> int:
        """A fixed budget: the emulator does not time handlers out."""
        return self._remaining_ms


def _error_payload(exc: BaseException, error_type: str | None = None) -> bytes:
    return json.dumps(
        {
            "errorMessage": str(exc),
            "errorType": error_type or type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
    ).encode()


def _run_in_process(context: Context, arn: str, payload: bytes) -> Invocation:
    handler = context.lambda_handlers[arn]
    if not context.invocation_slot(arn, context.store.reserved_concurrency(arn)):
        return Invocation(b"", throttled=True)
    try:
        try:
            event: object = json.loads(payload) if payload.strip() else {}
        except ValueError as exc:
            return Invocation(_error_payload(exc, "Runtime.UnmarshalError"), "Unhandled")
        try:
            result = handler(event, LambdaContext(arn, timedelta(seconds=_TIMEOUT_SECONDS)))
        except Exception as exc:
            _log.info("Lambda function %s raised %s: %s", arn, type(exc).__name__, exc)
            return Invocation(_error_payload(exc), "Unhandled")
        try:
            return Invocation(json.dumps(result).encode())
        except (TypeError, ValueError) as exc:
            return Invocation(_error_payload(exc, "Runtime.MarshalError"), "Unhandled")
    finally:
        context.release_slot(arn)


def _forward(context: Context, arn: str, payload: bytes) -> Invocation:
    endpoint = context.lambda_endpoint
    assert endpoint is not None
    parsed = parse_function_arn(arn)
    region = parsed.region if parsed is not None else "us-east-1"
    url = endpoint.rstrip("/") + f"/2015-03-31/functions/{quote(arn, safe='')}/invocations"
    signed = sigv4.sign_request(
        method="POST",
        url=url,
        headers={"Content-Type": "application/json"},
        body=payload,
        credentials=context.credentials[0],
        region=region,
        service="lambda",
        timestamp=context.now(),
    )
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.netloc, timeout=_TIMEOUT_SECONDS)
    try:
        connection.request("POST", parts.path, body=payload, headers=dict(signed.headers))
        response = connection.getresponse()
        body = response.read()
    except OSError as exc:
        raise ServiceError(
            502, "ServiceException", f"Could not reach the Lambda endpoint {endpoint}: {exc}"
        ) from None
    finally:
        connection.close()
    if response.status == 429:
        return Invocation(body, throttled=True)
    if response.status == 404:
        raise _not_found(arn)
    if response.status >= 300:
        raise ServiceError(
            502,
            "ServiceException",
            f"The Lambda endpoint {endpoint} answered {response.status} for {arn}",
        )
    return Invocation(body, response.getheader("X-Amz-Function-Error"))


def invoke(context: Context, arn: str, payload: bytes) -> Invocation:
    """Run a known function: in process when it has a handler, else at the endpoint."""
    if arn in context.lambda_handlers:
        return _run_in_process(context, arn, payload)
    if context.lambda_endpoint is not None:
        return _forward(context, arn, payload)
    raise _not_found(arn)


def invoke_for_service(
    context: Context, arn: str, payload: bytes, *, service: str, source_arn: str
) -> Invocation:
    """Invoke on behalf of an AWS service: the function must exist and its resource
    policy must allow ``service`` for ``source_arn`` (ServiceError 403 AccessDenied else)."""
    parsed = parse_function_arn(arn)
    if parsed is None:
        raise _not_found(arn)
    if context.store.policy(arn) is None:
        if context.lambda_endpoint is None:
            raise _not_found(arn)
        add_function(context, arn)
    if not allows(
        resource_policy(context, arn),
        service=service,
        source_arn=source_arn,
        source_account=context.account_id,
    ):
        raise ServiceError(
            403,
            "AccessDeniedException",
            f"The resource policy of {arn} does not allow {service} to invoke it for "
            f"{source_arn} (add a permission with AddPermission)",
        )
    return invoke(context, arn, payload)


def _invoke(context: Context, request: Request) -> Answer:
    arn = _resolve(context, request)
    invocation_type = request.header("x-amz-invocation-type") or "RequestResponse"
    if invocation_type not in ("RequestResponse", "Event", "DryRun"):
        raise ServiceError(
            400,
            "InvalidParameterValueException",
            f"Unsupported invocation type {invocation_type!r}",
        )
    if invocation_type == "DryRun":
        return Answer(204)
    result = invoke(context, arn, request.body)
    if result.throttled:
        raise ServiceError(
            429,
            "TooManyRequestsException",
            "Rate Exceeded.",
            (("Retry-After", "1"),),
        )
    headers = [("X-Amz-Executed-Version", "$LATEST")]
    if result.function_error is not None:
        headers.append(("X-Amz-Function-Error", result.function_error))
    if invocation_type == "Event":
        return Answer(202, b"", tuple(headers))
    return Answer(200, result.payload, tuple(headers))


def _put_concurrency(context: Context, request: Request) -> Answer:
    arn = _resolve(context, request)
    value = json_object(request, required=True).get("ReservedConcurrentExecutions")
    if value is None:
        raise ServiceError(
            400,
            "ValidationException",
            validation_message(
                [
                    "Value null at 'reservedConcurrentExecutions' failed to satisfy "
                    "constraint: Member must not be null"
                ]
            ),
        )
    if not isinstance(value, int) or isinstance(value, bool):
        raise ServiceError(
            400, "SerializationException", "Expected an integer for 'ReservedConcurrentExecutions'"
        )
    if value < 0:
        raise ServiceError(
            400,
            "ValidationException",
            validation_message(
                [
                    f"Value '{value}' at 'reservedConcurrentExecutions' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 0"
                ]
            ),
        )
    context.store.set_reserved_concurrency(arn, value)
    return Answer.json({"ReservedConcurrentExecutions": value})


def _delete_concurrency(context: Context, request: Request) -> Answer:
    context.store.set_reserved_concurrency(_resolve(context, request), None)
    return Answer(204)


def _get_concurrency(context: Context, request: Request) -> Answer:
    value = context.store.reserved_concurrency(_resolve(context, request))
    return Answer.json({} if value is None else {"ReservedConcurrentExecutions": value})


def _developers_only(operation: Any) -> Any:
    def checked(context: Context, request: Request) -> Answer:
        if request.caller.kind != "developer":
            raise ServiceError(
                403,
                "AccessDeniedException",
                "Only developer credentials may call Lambda in this emulator "
                "(IAM policies for identities are not emulated)",
            )
        answer: Answer = operation(context, request)
        return answer

    return checked


OPERATIONS: Final = {
    "AddPermission": _developers_only(_add_permission),
    "GetPolicy": _developers_only(_get_policy),
    "RemovePermission": _developers_only(_remove_permission),
    "Invoke": _developers_only(_invoke),
    "PutFunctionConcurrency": _developers_only(_put_concurrency),
    "DeleteFunctionConcurrency": _developers_only(_delete_concurrency),
    "GetFunctionConcurrency": _developers_only(_get_concurrency),
}
