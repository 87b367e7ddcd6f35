"""A signed raw request to an emulator, for the tests that check exact answers (codes,
messages, shapes) that a high-level client would reshape or refuse to send."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import attrs
import requests

from cognito_events import Credentials, sigv4
from cognito_events.testing import Emulator


@attrs.frozen
class Answer:
    status: int
    code: str | None
    document: Any
    headers: Any


def call(
    emulator: Emulator,
    method: str,
    path: str,
    body: object = None,
    *,
    credentials: Credentials | None = None,
    service: str = "cognito-sync",
    region: str = "us-east-1",
    headers: dict[str, str] | None = None,
    signed: bool = True,
) -> Answer:
    """Send one request (JSON body unless bytes) and return status, error code and JSON."""
    if isinstance(body, bytes):
        data = body
    else:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    url = emulator.endpoint_url + path
    sent = dict(headers or {})
    if data and "Content-Type" not in sent:
        sent["Content-Type"] = "application/json"
    if signed:
        sent = dict(
            sigv4.sign_request(
                method=method,
                url=url,
                headers=sent,
                body=data,
                credentials=credentials or emulator.credentials,
                region=region,
                service=service,
                timestamp=datetime.now(UTC) + emulator.clock_offset,
            ).headers
        )
    with requests.Session() as session:
        session.trust_env = False
        response = session.request(method, url, data=data, headers=sent, timeout=30)
    document = response.json() if response.content else None
    return Answer(
        response.status_code, response.headers.get("x-amzn-ErrorType"), document, response.headers
    )
