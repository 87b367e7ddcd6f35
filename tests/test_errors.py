"""Error parsing and classification: code first, status second, never a crash."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_events import (
    CognitoEventsError,
    CredentialsError,
    InternalError,
    InvalidParameterError,
    NotAuthorizedError,
    Problem,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)
from cognito_events._errors import (
    MAX_MESSAGE_CHARS,
    MAX_SERVICE_MESSAGE_CHARS,
    error_from_response,
    parse_error_code,
)


def _json(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "InvalidParameterException", InvalidParameterError),
        (400, "ValidationException", InvalidParameterError),
        (400, "SerializationException", InvalidParameterError),
        (403, "NotAuthorizedException", NotAuthorizedError),
        (400, "AccessDeniedException", NotAuthorizedError),
        (403, "UnrecognizedClientException", NotAuthorizedError),
        (403, "InvalidSignatureException", NotAuthorizedError),
        (403, "IncompleteSignatureException", NotAuthorizedError),
        (403, "MissingAuthenticationTokenException", NotAuthorizedError),
        (400, "ExpiredTokenException", NotAuthorizedError),
        (404, "ResourceNotFoundException", ResourceNotFoundError),
        (429, "TooManyRequestsException", TooManyRequestsError),
        (400, "ThrottlingException", TooManyRequestsError),
        (429, "LambdaThrottledException", TooManyRequestsError),
        (400, "LimitExceededException", TooManyRequestsError),
        (500, "InternalErrorException", InternalError),
        (503, "ServiceUnavailable", InternalError),
        # Unknown codes fall back on the status.
        (401, "SomethingNew", NotAuthorizedError),
        (403, None, NotAuthorizedError),
        (404, "Whatever", ResourceNotFoundError),
        (429, None, TooManyRequestsError),
        (502, None, InternalError),
        (599, "Odd", InternalError),
        (400, "ConcurrentModificationException", ServiceError),
        (409, None, ServiceError),
        (302, None, ServiceError),
        # The code wins over the status.
        (500, "ResourceNotFoundException", ResourceNotFoundError),
    ],
)
def test_class_by_code_then_status(
    status: int, code: str | None, expected: type[ServiceError]
) -> None:
    headers = {"x-amzn-ErrorType": code} if code else {}
    error = error_from_response(status, headers, _json(message="m"))
    assert type(error) is expected
    assert error.code == code
    assert error.status_code == status


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        (
            {"x-amzn-ErrorType": "InvalidParameterException:http://internal/"},
            b"",
            "InvalidParameterException",
        ),
        ({"X-Amzn-Errortype": "ResourceNotFoundException"}, b"", "ResourceNotFoundException"),
        ({}, _json(code="TooManyRequestsException"), "TooManyRequestsException"),
        ({}, _json(Code="InternalErrorException"), "InternalErrorException"),
        (
            {},
            _json(__type="com.amazonaws.cognito.sync#NotAuthorizedException"),
            "NotAuthorizedException",
        ),
        (
            {},
            _json(__type="aws.protocoltests.restjson#FooError:http://internal.amazon.com/"),
            "FooError",
        ),
        # The header comes first, then code, then __type.
        ({"x-amzn-ErrorType": "A"}, _json(code="B", __type="C"), "A"),
        ({}, _json(code="B", __type="C"), "B"),
        ({}, _json(code=5, __type="C"), "C"),
        ({}, b"<html>oops</html>", None),
    ],
)
def test_code_is_read_as_the_sdks_read_it(
    headers: dict[str, str], body: bytes, code: str | None
) -> None:
    assert error_from_response(400, headers, body).code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("Plain", "Plain"),
        ("ns#Name", "Name"),
        ("a.b#c#Name:extra:more", "Name"),
        (":nothing", None),
    ],
)
def test_parse_error_code(raw: str | None, expected: str | None) -> None:
    assert parse_error_code(raw) == expected


def test_message_request_id_and_str() -> None:
    error = error_from_response(
        400,
        {"x-amzn-ErrorType": "InvalidParameterException", "x-amzn-RequestId": "rid-1"},
        _json(message="1 validation error detected"),
    )
    assert error.message == "1 validation error detected"
    assert error.request_id == "rid-1"
    assert str(error) == (
        "InvalidParameterException (HTTP 400): 1 validation error detected [request id rid-1]"
    )
    assert "rid-1" in repr(error)


def test_capitalised_message_field_and_attempts_in_str() -> None:
    error = error_from_response(503, {}, _json(Message="Slow down"), attempts=3)
    assert error.message == "Slow down"
    assert error.attempts == 3
    assert str(error) == "HTTP 503: Slow down (after 3 attempts)"


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"", None, "empty body"),
        (b"<html><body>Bad Gateway</body></html>", "text/html", "text/html"),
        (b"not json at all", None, "not json at all"),
        (b'{"truncated": ', "application/json", "truncated"),
        (b"[1, 2, 3]", "application/json", "[1, 2, 3]"),
        (b"\xff\xfe\x00garbage", None, "garbage"),
    ],
)
def test_non_json_bodies_still_classify_and_explain(
    body: bytes, content_type: str | None, fragment: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    error = error_from_response(502, headers, body)
    assert isinstance(error, InternalError)
    assert fragment in error.message


def test_long_bodies_are_truncated() -> None:
    error = error_from_response(500, {}, b"x" * 100_000)
    assert len(error.message) < MAX_MESSAGE_CHARS + 100
    long_message = error_from_response(400, {}, _json(message="y" * 10_000)).message
    assert len(long_message) == MAX_SERVICE_MESSAGE_CHARS + 1


def test_a_signature_mismatch_message_is_kept_whole() -> None:
    message = (
        "The request signature we calculated does not match the signature you provided.\n\n"
        "The Canonical String for this request should have been\n'GET\n/identitypools/x\n'\n"
    )
    error = error_from_response(
        403, {"x-amzn-ErrorType": "InvalidSignatureException"}, _json(message=message)
    )
    assert error.message == message


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    status=st.integers(min_value=100, max_value=999),
    headers=st.dictionaries(
        st.sampled_from(["x-amzn-ErrorType", "x-amzn-RequestId", "Content-Type", "X-Other"]),
        st.text(max_size=40),
    ),
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(
            st.sampled_from(["code", "Code", "__type", "message", "Message"]),
            st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers())),
        ).map(lambda d: json.dumps(d).encode()),
    ),
)
def test_any_answer_yields_a_service_error(
    status: int, headers: dict[str, str], body: bytes
) -> None:
    error = error_from_response(status, headers, body)
    assert isinstance(error, ServiceError)
    assert isinstance(error.message, str)
    assert len(error.message) <= MAX_SERVICE_MESSAGE_CHARS + 1
    str(error)
    repr(error)


def test_hierarchy() -> None:
    for cls in (ValidationError, CredentialsError, TransportError, ServiceError):
        assert issubclass(cls, CognitoEventsError)
    assert issubclass(ValidationError, ValueError)
    for cls in (
        InvalidParameterError,
        NotAuthorizedError,
        ResourceNotFoundError,
        TooManyRequestsError,
        InternalError,
    ):
        assert issubclass(cls, ServiceError)


def test_validation_error_lists_every_problem() -> None:
    error = ValidationError([Problem("a", "is bad"), Problem("b", "is worse")])
    assert error.problems == (Problem("a", "is bad"), Problem("b", "is worse"))
    text = str(error)
    assert "2 problems" in text
    assert "a: is bad" in text
    assert "b: is worse" in text
    assert str(ValidationError([Problem("x", "y")])) == (
        "Invalid input (1 problem); nothing was sent:\n  - x: y"
    )


def test_transport_error_str() -> None:
    assert str(TransportError("boom")) == "boom"
    assert str(TransportError("boom", attempts=3)) == "boom (after 3 attempts)"


# -- errors that travel -------------------------------------------------------------------

_SERVICE_FIELDS: dict[str, object] = {
    "status_code": 403,
    "code": "InvalidSignatureException",
    "message": "The request signature we calculated does not match the signature you provided.",
    "request_id": "4f8d2a56-9b3e-4c11-8e0f-2d6c1a7b9e30",
    "attempts": 2,
}


def _realistic_errors() -> list[CognitoEventsError]:
    import cognito_events

    transport_classes = [
        cls
        for cls in vars(cognito_events).values()
        if isinstance(cls, type) and issubclass(cls, TransportError)
    ]
    service_classes = [
        cls
        for cls in vars(cognito_events).values()
        if isinstance(cls, type) and issubclass(cls, ServiceError)
    ]
    errors: list[CognitoEventsError] = [
        CognitoEventsError("something failed"),
        CredentialsError("no credentials: tried environment (AWS_ACCESS_KEY_ID unset), ..."),
        ValidationError(
            [
                Problem("identity_pool_id", "'x' is not '<region>:<GUID>'"),
                Problem("events", "must hold exactly one entry, got 0"),
            ]
        ),
    ]
    for kind in sorted(transport_classes, key=lambda cls: cls.__name__):
        error = kind(
            f"GetCognitoEvents got no response from https://127.0.0.1:1: {kind.__name__}",
            attempts=3,
            retryable=False,
        )
        errors.append(error)
    for cls in sorted(service_classes, key=lambda cls: cls.__name__):
        errors.append(cls(**_SERVICE_FIELDS))  # type: ignore[arg-type]
    return errors


def _fields(error: BaseException) -> tuple[object, ...]:
    return (type(error), error.args, vars(error), str(error), repr(error))


@pytest.mark.parametrize("error", _realistic_errors(), ids=lambda error: type(error).__name__)
def test_every_public_error_pickles_to_an_equal_error(error: CognitoEventsError) -> None:
    import pickle

    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(error, protocol=protocol))  # noqa: S301 - our own bytes
        assert _fields(copy) == _fields(error)
    if isinstance(error, ValidationError):
        assert isinstance(copy, ValidationError)
        assert copy.problems == error.problems


def test_every_public_error_class_is_in_the_pickling_test() -> None:
    import cognito_events

    public = {
        cls
        for cls in vars(cognito_events).values()
        if isinstance(cls, type) and issubclass(cls, CognitoEventsError)
    }
    assert public == {type(error) for error in _realistic_errors()}


def test_errors_cross_a_process_boundary() -> None:
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        future = pool.submit(_raise_not_found)
        with pytest.raises(ResourceNotFoundError) as caught:
            future.result(timeout=60)
    assert caught.value.code == "ResourceNotFoundException"
    assert caught.value.request_id == "rid-1"
    assert caught.value.attempts == 1


def _raise_not_found() -> None:
    raise error_from_response(
        404,
        {"x-amzn-RequestId": "rid-1"},
        _json(__type="ResourceNotFoundException", message="IdentityPool 'x' not found."),
    )


def test_not_authorized_common_code_is_not_authorized_error() -> None:
    error = error_from_response(400, {"x-amzn-ErrorType": "NotAuthorized"}, b"{}")
    assert type(error) is NotAuthorizedError


def test_secrets_quoted_by_the_service_are_redacted() -> None:
    token = "FwoGZXIvYXdzEJr//////////wEaDH+token/with=signs"
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    signature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    message = (
        "The request signature we calculated does not match the signature you provided. "
        "The Canonical String for this request should have been\n'POST\n/\n\n"
        f"x-amz-security-token:{token}\n' (sent {signature}; key {secret}; "
        f"encoded {quote(token, safe='')})"
    )
    error = error_from_response(
        403,
        {"x-amzn-RequestId": f"rid-{token}"},
        _json(__type="InvalidSignatureException", message=message),
        secrets=(token, secret, signature, None),
    )
    for text in (str(error), repr(error), error.message, *map(str, error.args)):
        for value in (token, secret, signature, quote(token, safe="")):
            assert value not in text
    assert "<redacted>" in error.message
    assert error.message.startswith("The request signature we calculated")


def test_a_short_test_secret_does_not_mangle_messages() -> None:
    """A one-letter secret (tests use such keys) is no reason to rewrite request ids."""
    from cognito_events._errors import MIN_REDACTED_LENGTH, redact

    text = "UnrecognizedClientException [request id 6f75e8f1-aee7-480a-9be3-96f7338bae8b]"
    assert redact(text, ["b", "e3", None, ""]) == text
    long_secret = "b" * MIN_REDACTED_LENGTH
    assert redact(f"key {long_secret}.", [long_secret]) == "key <redacted>."


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("plain", "plain"),
        ("a &lt;b&gt; &quot;c&quot; &apos;d&apos; &amp; e", "a <b> \"c\" 'd' & e"),
        ("&amp;lt; stays an escaped entity", "&lt; stays an escaped entity"),
        ("&nbsp; is HTML, not XML", "&nbsp; is HTML, not XML"),
    ],
)
def test_xml_character_data_is_unescaped_as_xml(raw: str, text: str) -> None:
    from cognito_events._errors import xml_text

    assert xml_text(raw) == text
