"""Credentials: never shown, resolved from the argument or the environment."""

from __future__ import annotations

import pytest

from cognito_events import Credentials, CredentialsError
from cognito_events._credentials import credentials_from_environ, resolve_credentials

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"


def test_repr_and_str_hide_secret_and_token() -> None:
    credentials = Credentials("AKIDEXAMPLE", SECRET, TOKEN)
    for text in (repr(credentials), str(credentials)):
        assert SECRET not in text
        assert TOKEN not in text
    assert repr(credentials) == (
        "Credentials(access_key_id='AKIDEXAMPLE', secret_access_key='<redacted>', "
        "session_token='<redacted>')"
    )
    assert "session_token=None" in repr(Credentials("AKIDEXAMPLE", SECRET))


def test_keywords_and_equality() -> None:
    one = Credentials(access_key_id="A", secret_access_key="S", session_token=None)
    assert one == Credentials("A", "S")
    with pytest.raises(AttributeError):
        one.access_key_id = "B"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "secret", "token", "fragment"),
    [
        ("", SECRET, None, "access_key_id"),
        ("AKID", "", None, "secret_access_key"),
        ("AKID", SECRET, "", "session_token"),
        (None, None, 5, "access_key_id"),
    ],
)
def test_malformed_credentials_are_refused_without_echo(
    key: object, secret: object, token: object, fragment: str
) -> None:
    with pytest.raises(CredentialsError, match=fragment) as caught:
        Credentials(key, secret, token)  # type: ignore[arg-type]
    assert SECRET not in str(caught.value)


def test_environment_credentials() -> None:
    found = credentials_from_environ(
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
    )
    assert found == Credentials("AKID", SECRET, TOKEN)
    legacy = credentials_from_environ(
        {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SECURITY_TOKEN": TOKEN}
    )
    assert legacy is not None
    assert legacy.session_token == TOKEN
    assert credentials_from_environ({}) is None


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKID"}, "AWS_SECRET_ACCESS_KEY is not"),
        ({"AWS_SECRET_ACCESS_KEY": SECRET}, "AWS_ACCESS_KEY_ID is not"),
    ],
)
def test_half_a_pair_is_an_error(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(CredentialsError, match=fragment) as caught:
        credentials_from_environ(environ)
    assert SECRET not in str(caught.value)


def test_resolution_order_and_nothing_found(monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = Credentials("EXPLICIT", SECRET)
    environ = {"AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": SECRET}
    assert resolve_credentials(explicit, environ) is explicit
    resolved = resolve_credentials(None, environ)
    assert resolved.access_key_id == "ENV"
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(None, {})
    message = str(caught.value)
    assert "credentials= argument" in message
    assert "AWS_ACCESS_KEY_ID" in message
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FROMOS")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    assert resolve_credentials(None).access_key_id == "FROMOS"
