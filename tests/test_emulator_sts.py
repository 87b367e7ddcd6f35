"""The emulator's STS GetCallerIdentity: boto3's ``sts`` client reads it, errors in XML."""

from __future__ import annotations

import pytest
from _trigger_helpers import boto3_client
from botocore.exceptions import ClientError

from cognito_events import Credentials
from cognito_events.testing import Emulator


def test_boto3_reads_the_emulators_account() -> None:
    with Emulator(account_id="000011112222") as emulator:
        sts = boto3_client(emulator.endpoint_url, "sts", emulator.credentials)
        answer = sts.get_caller_identity()
        sts.close()
        assert answer["Account"] == "000011112222"
        assert answer["UserId"] == emulator.credentials.access_key_id
        assert answer["Arn"].startswith("arn:aws:iam::000011112222:")
        assert emulator.requests[-1].operation == "GetCallerIdentity"


def test_errors_are_xml_that_boto3_parses() -> None:
    with Emulator() as emulator:
        wrong = Credentials(emulator.credentials.access_key_id, "not-the-secret")
        sts = boto3_client(emulator.endpoint_url, "sts", wrong)
        with pytest.raises(ClientError) as caught:
            sts.get_caller_identity()
        sts.close()
        assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_identitys_credentials_are_refused() -> None:
    with Emulator() as emulator:
        identity = emulator.new_identity(emulator.add_identity_pool())
        sts = boto3_client(emulator.endpoint_url, "sts", identity.credentials)
        with pytest.raises(ClientError) as caught:
            sts.get_caller_identity()
        sts.close()
        assert caught.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.parametrize("account", ["12345", "abcdefghijkl", "\uff11" * 12])
def test_the_account_must_be_12_digits(account: str) -> None:
    with pytest.raises(ValueError, match="account_id must be 12 digits"):
        Emulator(account_id=account).start()
