"""The secrets sweep (tests/_sweep.py) catches a leak, and is really running.

The sweep itself checks the whole run at session end (tests/conftest.py): every secret
key, session token and signature made by the suite, searched for in every log record,
repr, package error message and CLI output. These tests point the same hooks at a private
sweep, inject leaks through each channel, and check that each one is found; the session
sweep sees none of it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import _sweep
import pytest

from cognito_events import SYNC_TRIGGER, CognitoEventsClient, Credentials, CredentialsError, sigv4
from cognito_events import _client as client_module
from cognito_events._emulator import DEV_CREDENTIALS
from cognito_events._errors import error_from_response
from cognito_events.testing import Emulator

SECRET = "sweep/Secret+Key/ForTheSelfTest0123456789"
TOKEN = "sweepSessionTokenForTheSelfTest+/=0123456789"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"


@pytest.fixture
def private() -> Iterator[_sweep.Sweep]:
    """A sweep of its own, fed by the session's hooks while the test runs."""
    if _sweep.active() is None:
        pytest.skip("the sweep hooks are not installed (tests/conftest.py)")
    # DEBUG, as the session sets it (a long run elsewhere may pause it: _loopback.quiet).
    logger = logging.getLogger("cognito_events")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    sweep = _sweep.Sweep(ignored={DEV_CREDENTIALS.secret_access_key})
    try:
        with _sweep.redirect(sweep):
            yield sweep
    finally:
        logger.setLevel(level)


def _kinds(sweep: _sweep.Sweep) -> set[tuple[str, str]]:
    return {(hit.kind, hit.origin.split(" [", 1)[0]) for hit in sweep.hits()}


# -- the search, on its own -----------------------------------------------------------------


def test_a_recorded_secret_in_a_recorded_text_is_a_hit() -> None:
    sweep = _sweep.Sweep()
    assert sweep.add_secret(SECRET, "secret access key")
    sweep.add_text("nothing to see", "log record")
    sweep.add_text(f"oops: {SECRET} in a message", "str of CredentialsError")
    [hit] = sweep.hits()
    assert (hit.kind, hit.origin) == ("secret access key", "str of CredentialsError")
    assert SECRET not in str(hit)  # the report does not repeat the secret
    assert "<SECRET>" in hit.excerpt


def test_what_is_not_a_secret_is_ignored() -> None:
    sweep = _sweep.Sweep(ignored={"public-development-secret"})
    assert not sweep.add_secret("short", "secret access key")  # hypothesis makes many
    assert not sweep.add_secret("0000000000000000000", "secret access key")  # too dull
    assert not sweep.add_secret("public-development-secret", "secret access key")
    assert not sweep.add_secret(None, "session token")
    sweep.add_text("short 0000000000000000000 public-development-secret", "log record")
    assert sweep.hits() == []


def test_texts_are_searched_one_by_one_not_across_each_other() -> None:
    sweep = _sweep.Sweep()
    sweep.add_secret(SECRET, "secret access key")
    half = len(SECRET) // 2
    sweep.add_text(SECRET[:half], "first")
    sweep.add_text(SECRET[half:], "second")
    assert sweep.hits() == []


def test_signatures_are_found_inside_longer_hex_and_shaped_ones_in_outputs() -> None:
    sweep = _sweep.Sweep()
    signature = "ab" * 32
    sweep.add_signature(signature)
    sweep.add_text(f"digest {'f' * 10}{signature}{'0' * 6} end", "log record")
    sweep.add_text(f"Authorization: ... Signature={'cd' * 32}", "output of CLI")
    sweep.add_text(f"Signature={'ef' * 32} in a repr", "repr of something")  # not an output
    assert {hit.kind for hit in sweep.hits()} == {"signature", "signature-shaped"}
    assert len(sweep.hits()) == 2


# -- the hooks feed a sweep from every channel ------------------------------------------------


def test_the_hooks_record_secrets_and_signatures_but_redacted_texts_are_clean(
    private: _sweep.Sweep,
) -> None:
    with Emulator(credentials=Credentials("AKIDSWEEPTEST", SECRET, TOKEN)) as emulator:
        pool = emulator.add_identity_pool()
        with emulator.client() as client:
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
            assert client.get_cognito_events(pool) == {SYNC_TRIGGER: ARN}
            repr(client)
        emulator.requests  # noqa: B018 - reading the log builds (redacted) entries
    assert set(private.secrets) == {SECRET, TOKEN}
    assert len(private.signatures) >= 1
    origins = {origin.split(" [", 1)[0] for origin in private.texts.values()}
    assert {"repr of Credentials", "repr of CognitoEventsClient", "repr of SignedRequest",
            "log record cognito_events", "repr of emulator RecordedRequest",
            "repr of testing.Emulator"} <= origins  # fmt: skip
    assert private.hits() == []  # the package redacts everything it should


def test_a_secret_in_a_log_line_is_caught(private: _sweep.Sweep) -> None:
    Credentials("AKIDSWEEPTEST", SECRET)
    logging.getLogger("cognito_events.credentials").debug("refreshed: secret=%s", SECRET)
    assert _kinds(private) == {("secret access key", "log record cognito_events.credentials")}


def test_a_secret_in_a_package_error_is_caught_but_not_in_a_test_built_one(
    private: _sweep.Sweep,
) -> None:
    Credentials("AKIDSWEEPTEST", SECRET, TOKEN)
    CredentialsError(f"built by a test, quoting {TOKEN}")  # not the package's words
    assert private.hits() == []
    body = json.dumps({"message": f"the token {TOKEN} has expired"}).encode()
    error_from_response(403, {"x-amzn-ErrorType": "ExpiredTokenException"}, body)
    assert _kinds(private) == {
        ("session token", "str of NotAuthorizedError"),
        ("session token", "repr of NotAuthorizedError"),
    }


def test_a_secret_in_a_repr_is_caught(
    private: _sweep.Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    def leaky(self: Credentials) -> str:
        return f"Credentials({self.access_key_id!r}, {self.secret_access_key!r})"

    monkeypatch.setattr(Credentials, "__repr__", leaky)
    CognitoEventsClient(credentials=Credentials("AKIDSWEEPTEST", SECRET), region="us-east-1")
    assert ("secret access key", "repr of Credentials") in _kinds(private)
    assert ("secret access key", "repr of CognitoEventsClient") in _kinds(private)


def test_a_secret_in_cli_output_is_caught(private: _sweep.Sweep) -> None:
    Credentials("AKIDSWEEPTEST", SECRET, TOKEN)
    _sweep.record_output(f"error: bad token {TOKEN}\n", "CLI")
    assert _kinds(private) == {("session token", "output of CLI")}


def test_a_regression_that_logs_the_signature_and_token_is_caught(
    private: _sweep.Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the sweep is for: the signing log line forgets to redact."""

    def careless(
        method: str, url: str, signed: sigv4.SignedRequest, session_token: str | None
    ) -> None:
        client_module.logger.debug("Signing %s %s: %s", method, url, dict(signed.headers))

    monkeypatch.setattr(client_module, "_log_signing", careless)
    with Emulator(credentials=Credentials("AKIDSWEEPTEST", SECRET, TOKEN)) as emulator:
        pool = emulator.add_identity_pool()
        with emulator.client() as client:
            client.get_cognito_events(pool)
    assert {kind for kind, _ in _kinds(private)} == {"session token", "signature"}


def test_the_session_sweep_is_running() -> None:
    sweep = _sweep.active()
    if sweep is None:
        pytest.skip("the sweep hooks are not installed (tests/conftest.py)")
    Credentials("AKIDSWEEPTEST", "session/Sweep+Secret/Recorded0123456789")
    assert "session/Sweep+Secret/Recorded0123456789" in sweep.secrets
    assert sweep.texts  # the suite so far produced texts to check


# -- errors quoting the service -------------------------------------------------------------


def test_a_signature_mismatch_quoting_the_token_is_redacted_in_every_error_text() -> None:
    from cognito_events import NotAuthorizedError, RetryPolicy
    from cognito_events.testing import ISOLATED_ENVIRON

    keys = Credentials("AKIDMISMATCHTEST", "the-secret-the-emulator-knows", session_token=TOKEN)
    wrong = Credentials(keys.access_key_id, SECRET, session_token=TOKEN)
    pool = "us-east-1:0f7e2b2c-1111-2222-3333-444455556666"
    with Emulator("us-east-1", credentials=keys, identity_pools=[pool]) as emulator:
        client = CognitoEventsClient(
            region="us-east-1",
            credentials=wrong,
            endpoint_url=emulator.endpoint_url,
            environ=ISOLATED_ENVIRON,
            retry=RetryPolicy(max_attempts=1),
        )
        with pytest.raises(NotAuthorizedError) as caught:
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
    error = caught.value
    assert error.code == "InvalidSignatureException"
    # The service quoted its canonical request, token line included, and it was redacted.
    assert "x-amz-security-token:<redacted>" in error.message
    texts = [str(error), repr(error), error.message, *map(str, error.args)]
    for text in texts:
        assert TOKEN not in text
        assert SECRET not in text
