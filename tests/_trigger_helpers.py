"""Shared by the trigger-loop tests: boto3 clients for an emulator URL, and what a device
does (get an identity and its credentials, sync a dataset, read it back)."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.config

from cognito_events import Credentials

DATASET = "game"
REGION = "us-east-1"
CONFIG = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1})


def boto3_client(url: str, service: str, credentials: Credentials | None) -> Any:
    """A boto3 client for ``service`` at ``url`` (unsigned calls only when no credentials)."""
    options: dict[str, Any] = {}
    if credentials is not None:
        options = {
            "aws_access_key_id": credentials.access_key_id,
            "aws_secret_access_key": credentials.secret_access_key,
            "aws_session_token": credentials.session_token,
        }
    session = boto3.session.Session(region_name=REGION, **options)
    return session.client(service, endpoint_url=url, config=CONFIG)


def device(url: str, pool: str) -> tuple[str, Any]:
    """What a device does first: GetId and GetCredentialsForIdentity (unsigned), then a
    cognito-sync client signed with the identity's temporary credentials."""
    identity_id, credentials = new_identity(url, pool)
    return identity_id, boto3_client(url, "cognito-sync", credentials)


def new_identity(url: str, pool: str) -> tuple[str, Credentials]:
    """GetId and GetCredentialsForIdentity through boto3's cognito-identity client."""
    identity_client = boto3_client(url, "cognito-identity", None)
    identity_id = identity_client.get_id(IdentityPoolId=pool)["IdentityId"]
    answer = identity_client.get_credentials_for_identity(IdentityId=identity_id)
    identity_client.close()
    assert answer["IdentityId"] == identity_id
    given = answer["Credentials"]
    assert given["AccessKeyId"].startswith("ASIA")
    assert given["Expiration"].tzinfo is not None  # botocore parsed a timestamp
    credentials = Credentials(
        access_key_id=given["AccessKeyId"],
        secret_access_key=given["SecretKey"],
        session_token=given["SessionToken"],
    )
    return identity_id, credentials


def sync(client: Any, pool: str, identity_id: str, changes: dict[str, str | None]) -> Any:
    """ListRecords then UpdateRecords with ``changes`` (None removes), as a device syncs."""
    where = {"IdentityPoolId": pool, "IdentityId": identity_id, "DatasetName": DATASET}
    listing = client.list_records(**where)
    counts = {record["Key"]: record["SyncCount"] for record in listing["Records"]}
    patches = [
        {"Op": "remove", "Key": key, "SyncCount": counts.get(key, 0)}
        if value is None
        else {"Op": "replace", "Key": key, "Value": value, "SyncCount": counts.get(key, 0)}
        for key, value in changes.items()
    ]
    return client.update_records(
        **where, RecordPatches=patches, SyncSessionToken=listing["SyncSessionToken"]
    )


def stored(client: Any, pool: str, identity_id: str) -> dict[str, str | None]:
    """Every record of the dataset from ListRecords (None: removed)."""
    listing = client.list_records(IdentityPoolId=pool, IdentityId=identity_id, DatasetName=DATASET)
    return {record["Key"]: record.get("Value") for record in listing["Records"]}
