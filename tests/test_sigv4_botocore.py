"""Differential test: our signer against botocore's SigV4Auth on Cognito Sync requests.

botocore is a test-only dependency; its signer reads the clock through
``botocore.auth.get_current_datetime`` (botocore >= 1.36), which is patched here
to return the generated timestamp (naive UTC, as botocore itself produces it).
"""

from __future__ import annotations

import json
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cognito_events.sigv4 import sign_request

botocore_auth = pytest.importorskip("botocore.auth")
botocore_awsrequest = pytest.importorskip("botocore.awsrequest")
botocore_credentials = pytest.importorskip("botocore.credentials")

MAX_EXAMPLES = 200
SERVICE = "cognito-sync"

REAL_REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
    "cn-north-1",
    "us-gov-west-1",
]

regions = st.one_of(
    st.sampled_from(REAL_REGIONS),
    st.from_regex(r"[a-z]{2}-[a-z]+-[1-9]", fullmatch=True),
)
access_keys = st.from_regex(r"(AKIA|ASIA)[A-Z2-7]{16}", fullmatch=True)
secrets = st.text(alphabet=string.ascii_letters + string.digits + "+/", min_size=40, max_size=40)
# The prefix (as STS tokens have) keeps a drawn token from being a plain word that
# hypothesis took from the project's own source, such as an error code, which the
# secrets sweep would then find in every error message.
tokens = st.none() | st.text(
    alphabet=string.ascii_letters + string.digits + "+/=", min_size=16, max_size=400
).map(lambda token: "IQoJ" + token)
timestamps = st.datetimes(
    # st.datetimes takes naive bounds; the values get tzinfo=UTC.
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
)
lambda_arns = st.builds(
    lambda region, account, name: f"arn:aws:lambda:{region}:{account}:function:{name}",
    regions,
    st.from_regex(r"[0-9]{12}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
)


@dataclass(frozen=True)
class _Creds:
    access_key_id: str
    secret_access_key: str
    session_token: str | None


def _botocore_sign(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    creds: _Creds,
    region: str,
    timestamp: datetime,
) -> Any:
    request = botocore_awsrequest.AWSRequest(method, url, headers=dict(headers), data=body)
    credentials = botocore_credentials.Credentials(
        creds.access_key_id, creds.secret_access_key, creds.session_token
    )
    signer = botocore_auth.SigV4Auth(credentials, SERVICE, region)
    naive_utc = timestamp.astimezone(UTC).replace(tzinfo=None)
    with mock.patch.object(botocore_auth, "get_current_datetime", return_value=naive_utc):
        signer.add_auth(request)
    return request


def test_botocore_reads_clock_where_we_patch_it() -> None:
    # If botocore changes how it reads the time, the differential test below would
    # silently compare against "now"; make that loud instead.
    assert callable(getattr(botocore_auth, "get_current_datetime", None))
    creds = _Creds("AKIDEXAMPLE", "secret", None)
    ts = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    request = _botocore_sign(
        method="GET",
        url="https://example.amazonaws.com/",
        headers={},
        body=None,
        creds=creds,
        region="us-east-1",
        timestamp=ts,
    )
    assert request.headers["X-Amz-Date"] == "20010203T040506Z"


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True)
@given(
    region=regions,
    pool_uuid=st.uuids(),
    access_key=access_keys,
    secret=secrets,
    token=tokens,
    timestamp=timestamps,
    method=st.sampled_from(["POST", "GET"]),
    sync_trigger=st.just("") | lambda_arns,
)
def test_matches_botocore(
    region: str,
    pool_uuid: uuid.UUID,
    access_key: str,
    secret: str,
    token: str | None,
    timestamp: datetime,
    method: str,
    sync_trigger: str,
) -> None:
    pool_id = f"{region}:{pool_uuid}"
    path = f"/identitypools/{quote(pool_id, safe='')}/events"
    url = f"https://cognito-sync.{region}.amazonaws.com{path}"
    headers: dict[str, str]
    body: bytes | None
    if method == "POST":
        headers = {"Content-Type": "application/json"}
        body = json.dumps({"Events": {"SyncTrigger": sync_trigger}}).encode()
    else:
        headers = {}
        body = None
    creds = _Creds(access_key, secret, token)

    theirs = _botocore_sign(
        method=method,
        url=url,
        headers=headers,
        body=body,
        creds=creds,
        region=region,
        timestamp=timestamp,
    )
    ours = sign_request(
        method=method,
        url=url,
        headers=headers,
        body=body,
        credentials=creds,
        region=region,
        service=SERVICE,
        timestamp=timestamp,
    )
    sent = {name.lower(): value for name, value in ours.headers}

    assert sent["authorization"] == theirs.headers["Authorization"]
    assert sent["x-amz-date"] == theirs.headers["X-Amz-Date"]
    assert sent.get("x-amz-security-token") == theirs.headers.get("X-Amz-Security-Token")
    assert ours.signature == theirs.headers["Authorization"].rpartition("Signature=")[2]
    assert ours.authorization == sent["authorization"]
