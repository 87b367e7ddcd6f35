"""Typed user code: what a user of the installed package writes, right and wrong."""
# pyright: strict, reportUnnecessaryTypeIgnoreComment=true

from __future__ import annotations

from datetime import timedelta

import cognito_events
from cognito_events import (
    SYNC_TRIGGER,
    CognitoEventsClient,
    Credentials,
    NotAuthorizedError,
    RetryPolicy,
    ServiceError,
    ValidationError,
)
from cognito_events.testing import Emulator, RecordedRequest

POOL = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-dataset-sync"


def configure() -> CognitoEventsClient:
    return CognitoEventsClient(
        region="us-east-1",
        credentials=Credentials(access_key_id="AKIDEXAMPLE", secret_access_key="secret"),
        retry=RetryPolicy(max_attempts=2),
        timeout=(1.0, 2.0),
    )


def bind(client: CognitoEventsClient) -> dict[str, str]:
    client.set_cognito_events(POOL, {SYNC_TRIGGER: ARN})
    events: dict[str, str] = client.get_cognito_events(POOL)
    return events


def handle(client: CognitoEventsClient) -> int | None:
    try:
        bind(client)
    except NotAuthorizedError as error:
        return error.status_code
    except ServiceError as error:
        print(error.code, error.request_id, error.attempts)
    except ValidationError as error:
        print([problem.parameter for problem in error.problems])
    return None


def in_a_test() -> str | None:
    with Emulator(clock_offset=timedelta(seconds=1)) as emulator:
        pool: str = emulator.add_identity_pool()
        with emulator.client(sleep=lambda seconds: None, retry=RetryPolicy()) as client:
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
        seen: list[RecordedRequest] = emulator.requests
        return seen[0].operation


def no_sleep(seconds: float) -> None:
    del seconds


def misuse(emulator: Emulator, client: CognitoEventsClient) -> None:
    client.set_cognito_events(POOL, {SYNC_TRIGGER: 42})  # type: ignore[dict-item]  # pyright: ignore[reportArgumentType]
    emulator.client(slep=no_sleep)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    emulator.client(timeout="2s")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    operation = emulator.requests[0].operaton  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
    missing = cognito_events.CognitoEventsClent  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
    CognitoEventsClient(regoin="us-east-1")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    print(operation, missing)  # pyright: ignore[reportUnknownArgumentType]
