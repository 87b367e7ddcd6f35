"""The pytest plugin, exercised the way a user meets it: in a pytest run of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

THREE_LINE_TEST = """
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"

def test_binds_the_trigger(cognito_events_client, cognito_identity_pool_id):
    cognito_events_client.set_cognito_events(cognito_identity_pool_id, {"SyncTrigger": ARN})
    assert cognito_events_client.get_cognito_events(cognito_identity_pool_id)["SyncTrigger"] == ARN
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Hypothesis' plugin would re-import hypothesis in every in-process run (~1 s each).
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "error", *args
    )


def test_a_users_three_line_test_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=THREE_LINE_TEST)
    run(pytester).assert_outcomes(passed=1)


def test_each_test_gets_a_fresh_emulator_with_one_pool(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        from cognito_events import CognitoEventsClient
        from cognito_events.testing import Emulator

        ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
        seen = []

        def test_first(cognito_sync_emulator, cognito_identity_pool_id, cognito_events_client):
            assert isinstance(cognito_sync_emulator, Emulator)
            assert isinstance(cognito_events_client, CognitoEventsClient)
            assert cognito_sync_emulator.identity_pools == [cognito_identity_pool_id]
            assert cognito_identity_pool_id.startswith("us-east-1:")
            assert cognito_events_client.endpoint_url == cognito_sync_emulator.endpoint_url
            cognito_events_client.set_cognito_events(cognito_identity_pool_id, {"SyncTrigger": ARN})
            assert cognito_sync_emulator.events(cognito_identity_pool_id) == {"SyncTrigger": ARN}
            seen.append((cognito_sync_emulator.endpoint_url, cognito_identity_pool_id))

        def test_second(cognito_sync_emulator, cognito_identity_pool_id, cognito_events_client):
            assert (cognito_sync_emulator.endpoint_url, cognito_identity_pool_id) != seen[0]
            assert cognito_events_client.get_cognito_events(cognito_identity_pool_id) == {}
            assert len(cognito_sync_emulator.requests) == 1

        def test_emulator_alone(cognito_sync_emulator):
            with cognito_sync_emulator.client() as client:
                pool = cognito_sync_emulator.identity_pools[0]
                assert client.get_cognito_events(pool) == {}
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_the_client_ignores_the_environment_and_dot_aws(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDFROMDOTAWS\naws_secret_access_key = dotaws\n"
    )
    (home / ".aws" / "config").write_text(
        "[default]\nregion = ap-southeast-2\nendpoint_url = http://127.0.0.1:9\n"
    )
    monkeypatch.setenv("HOME", str(home))
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDFROMENVIRONMENT",
        "AWS_SECRET_ACCESS_KEY": "from-environment",
        "AWS_SESSION_TOKEN": "token-from-environment",
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_PROFILE": "nonexistent",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "REQUESTS_CA_BUNDLE": str(tmp_path / "no-such-bundle.pem"),
    }.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_user=THREE_LINE_TEST)
    pytester.makepyfile(
        test_env="""
        def test_signed_with_the_emulator_key(cognito_sync_emulator, cognito_events_client,
                                              cognito_identity_pool_id):
            assert cognito_events_client.region == "us-east-1"
            cognito_events_client.get_cognito_events(cognito_identity_pool_id)
            [request] = cognito_sync_emulator.requests
            auth = request.headers["authorization"]
            assert "Credential=AKIDCOGNITOEVENTSEMU/" in auth
            assert "/us-east-1/cognito-sync/" in auth
            assert "x-amz-security-token" not in request.headers
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_overriding_the_emulator_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from cognito_events.testing import Emulator

        @pytest.fixture
        def cognito_sync_emulator():
            with Emulator("eu-west-1") as emulator:
                yield emulator
        """
    )
    pytester.makepyfile(
        test_user="""
        def test_follows_the_override(cognito_events_client, cognito_identity_pool_id):
            assert cognito_identity_pool_id.startswith("eu-west-1:")
            assert cognito_events_client.region == "eu-west-1"
            assert cognito_events_client.get_cognito_events(cognito_identity_pool_id) == {}
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_fixtures_are_listed_with_their_docs(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--fixtures")
    result.stdout.fnmatch_lines(
        [
            "*cognito_sync_emulator*",
            "*A running emulator with one registered identity pool*",
            "*cognito_identity_pool_id*",
            "*cognito_events_client*",
            "*cognito_identity*",
            "*A new identity of*",
        ]
    )


def test_loading_the_plugin_imports_no_emulator() -> None:
    code = (
        "import sys, cognito_events.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith('cognito_events.')))"
    )
    done = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = done.stdout
    assert "cognito_events.pytest_plugin" in loaded
    assert "cognito_events.testing" not in loaded
    assert "cognito_events._emulator" not in loaded


TRIGGER_TEST = """
from cognito_events.trigger import SyncTriggerEvent, sync_trigger

ARN = "arn:aws:lambda:us-east-1:123456789012:function:clamp"


@sync_trigger
def clamp(event: SyncTriggerEvent, context) -> SyncTriggerEvent:
    score = event.records.get("score")
    if score is not None and score.new_value is not None and int(score.new_value) > 100:
        return event.replace("score", "100")
    return event


def test_the_trigger_clamps(cognito_sync_emulator, cognito_events_client, cognito_identity):
    emulator, pool = cognito_sync_emulator, cognito_identity.identity_pool_id
    emulator.add_lambda_function(ARN, clamp)
    emulator.add_permission(ARN, source_arn=emulator.sync_source_arn(pool, ARN))
    cognito_events_client.set_cognito_events(pool, {"SyncTrigger": ARN})
    assert emulator.sync_dataset(cognito_identity, "game", {"score": "500"}) == {"score": "100"}
    assert emulator.records(cognito_identity, "game") == {"score": "100"}


def test_developer_credentials_do_not_fire(cognito_sync_emulator, cognito_events_client,
                                           cognito_identity):
    emulator, pool = cognito_sync_emulator, cognito_identity.identity_pool_id
    emulator.add_lambda_function(ARN, clamp)
    cognito_events_client.set_cognito_events(pool, {"SyncTrigger": ARN})
    stored = emulator.sync_dataset(
        cognito_identity, "game", {"score": "500"}, credentials=emulator.credentials
    )
    assert stored == {"score": "500"}


def test_without_permission_the_sync_fails(cognito_sync_emulator, cognito_events_client,
                                           cognito_identity):
    import pytest
    from cognito_events import NotAuthorizedError

    emulator, pool = cognito_sync_emulator, cognito_identity.identity_pool_id
    emulator.add_lambda_function(ARN, clamp)
    cognito_events_client.set_cognito_events(pool, {"SyncTrigger": ARN})
    with pytest.raises(NotAuthorizedError):
        emulator.sync_dataset(cognito_identity, "game", {"score": "5"})
    assert emulator.records(cognito_identity, "game") == {}
"""


def test_a_users_trigger_test_is_a_few_lines(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=TRIGGER_TEST)
    run(pytester).assert_outcomes(passed=3)
