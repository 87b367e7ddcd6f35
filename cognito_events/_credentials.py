"""AWS credentials: the value class, and the chain that finds them as boto3 does.

``make_provider`` returns a ``CredentialsProvider``: ``get()`` is cheap once credentials
are known (a clock check), thread-safe, and refreshes temporary credentials ahead of
their expiry. Resolution happens at the first ``get()``, and the first source that
applies wins:

1. ``credentials=`` in code: a ``Credentials``; an object with
   ``get_frozen_credentials()`` (such as ``boto3.Session().get_credentials()``: called on
   every use, so botocore's own refreshing works); an object with ``access_key``,
   ``secret_key`` and ``token`` attributes (read on every use); or a zero-argument
   callable returning ``Credentials`` (called on every use: it should cache).
2. ``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY`` (+ ``AWS_SESSION_TOKEN``, or the
   legacy ``AWS_SECURITY_TOKEN``); skipped when ``profile=`` is passed in code.
3. Sources only boto3 implements are detected and refused with advice rather than
   skipped (skipping would silently pick other credentials than boto3 does): a profile
   with ``role_arn`` + ``source_profile``/``credential_source`` (assume role),
   ``web_identity_token_file`` or the ``AWS_WEB_IDENTITY_TOKEN_FILE`` variable (web
   identity, e.g. EKS IRSA) or ``sso_*`` settings (IAM Identity Center); ``login_session``
   (``aws login``) likewise, but after step 4, where botocore checks it.
4. ``aws_access_key_id``/``aws_secret_access_key``/``aws_session_token`` of the profile
   in the shared credentials file.
5. ``credential_process`` of the profile (either file).
6. The same keys in the profile of the config file.
7. Container credentials (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` or ``_FULL_URI``).
8. EC2 instance metadata (IMDSv2), unless ``AWS_EC2_METADATA_DISABLED=true``.

This is botocore's order. A source that applies but fails (half a key pair, a failing
``credential_process``, an unreachable container endpoint) raises at once, as in
botocore; only instance metadata is passed over on failure. When nothing applies,
one ``CredentialsError`` lists each source and why it did not apply.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeAlias

import attrs

from ._errors import CognitoEventsError, CredentialsError, Problem, ValidationError

if TYPE_CHECKING:
    from ._config import ClientConfig, Profile

__all__ = [
    "Credentials",
    "CredentialsProvider",
    "CredentialsSource",
    "FrozenCredentialsSource",
    "KeyAttributes",
    "SourceSettings",
    "check_credentials_source",
    "credentials_from_environ",
    "make_provider",
]

logger = logging.getLogger("cognito_events.credentials")

#: The usage advice for sources only boto3 implements.
BOTO3_HINT = (
    "CognitoEventsClient(credentials=boto3.Session(profile_name={profile!r}).get_credentials())"
)


def _redact(value: str | None) -> str:
    return "None" if value is None else "'<redacted>'"


@attrs.frozen(repr=False)
class Credentials:
    """An AWS access key pair, optionally with a session token.

    The secret key and the token never appear in ``repr()`` or ``str()``.
    """

    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    session_token: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.access_key_id, str) or not self.access_key_id:
            problems.append("access_key_id must be a non-empty str")
        if not isinstance(self.secret_access_key, str) or not self.secret_access_key:
            problems.append("secret_access_key must be a non-empty str")
        if self.session_token is not None and (
            not isinstance(self.session_token, str) or not self.session_token
        ):
            problems.append("session_token must be None or a non-empty str")
        if problems:
            # The values are deliberately not echoed: one of them may be a secret.
            raise CredentialsError("Invalid Credentials: " + "; ".join(problems))

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key={_redact(self.secret_access_key)}, "
            f"session_token={_redact(self.session_token)})"
        )

    __str__ = __repr__


class KeyAttributes(Protocol):
    """Anything with botocore-style ``access_key``/``secret_key``/``token`` attributes."""

    @property
    def access_key(self) -> str | None: ...
    @property
    def secret_key(self) -> str | None: ...
    @property
    def token(self) -> str | None: ...


class FrozenCredentialsSource(Protocol):
    """Anything with ``get_frozen_credentials()``, like botocore's credentials objects."""

    def get_frozen_credentials(self) -> KeyAttributes: ...


#: What the client's ``credentials=`` accepts.
CredentialsSource: TypeAlias = (
    Credentials | FrozenCredentialsSource | KeyAttributes | Callable[[], Credentials]
)


class CredentialsProvider(Protocol):
    """Hands out current credentials."""

    def get(self) -> Credentials:
        """Current credentials: cheap when cached, thread-safe, refreshed ahead of expiry.

        Raises ``CredentialsError`` when none can be had.
        """
        ...


@attrs.frozen(kw_only=True)
class SourceSettings:
    """Limits of the credential sources that run something (tests make them small)."""

    #: Seconds ``credential_process`` may run before it is killed.
    process_timeout: float = 60.0
    #: Seconds per request to the container credentials endpoint, and attempts.
    container_timeout: float = 2.0
    container_attempts: int = 3
    #: Seconds between attempts at the container or instance-metadata endpoints.
    retry_pause: float = 1.0


DEFAULT_SOURCE_SETTINGS = SourceSettings()


def credentials_from_environ(environ: Mapping[str, str]) -> Credentials | None:
    """Read ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``.

    Returns None when neither key variable is set; a half-set pair is an error.
    """
    key_id = environ.get("AWS_ACCESS_KEY_ID", "")
    secret = environ.get("AWS_SECRET_ACCESS_KEY", "")
    token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None
    if not key_id and not secret:
        return None
    if not key_id:
        raise CredentialsError(
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both or neither"
        )
    if not secret:
        raise CredentialsError(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both or neither"
        )
    return Credentials(access_key_id=key_id, secret_access_key=secret, session_token=token)


# -- explicit sources ---------------------------------------------------------------------


def _describe_source(source: object) -> str:
    return f"credentials= ({type(source).__module__}.{type(source).__qualname__})"


def credentials_from_attributes(source: object, what: str) -> Credentials:
    """Credentials from ``access_key``/``secret_key``/``token`` attributes (never echoed)."""
    access_key = getattr(source, "access_key", None)
    secret_key = getattr(source, "secret_key", None)
    token = getattr(source, "token", None)
    missing = [
        name
        for name, value in (("access_key", access_key), ("secret_key", secret_key))
        if not isinstance(value, str) or not value
    ]
    if token is not None and not isinstance(token, str):
        missing.append("token (must be a str or None)")
    if missing:
        raise CredentialsError(f"{what} gave no usable " + " and ".join(missing))
    assert isinstance(access_key, str)
    assert isinstance(secret_key, str)
    return Credentials(access_key, secret_key, token or None)


class StaticProvider:
    """Always the same credentials."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def get(self) -> Credentials:
        return self._credentials

    def __repr__(self) -> str:
        return f"StaticProvider({self._credentials!r})"


class _ConvertingProvider:
    """Reads an outside object on every use; converts only when its values change."""

    def __init__(self, source: object) -> None:
        self._source = source
        self._what = _describe_source(source)
        self._last: tuple[object, object, object, Credentials] | None = None

    def _read(self) -> object:
        return self._source

    def get(self) -> Credentials:
        try:
            holder = self._read()
        except CognitoEventsError:
            raise
        except Exception as exc:
            raise CredentialsError(
                f"{self._what} failed to give credentials: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(holder, Credentials):
            return holder
        values = (
            getattr(holder, "access_key", None),
            getattr(holder, "secret_key", None),
            getattr(holder, "token", None),
        )
        last = self._last
        if last is not None and last[:3] == values:
            return last[3]
        credentials = credentials_from_attributes(holder, self._what)
        self._last = (*values, credentials)
        return credentials


class FrozenProvider(_ConvertingProvider):
    """Calls ``get_frozen_credentials()`` on every use (botocore refreshes inside it)."""

    def _read(self) -> object:
        return self._source.get_frozen_credentials()  # type: ignore[attr-defined]


class CallableProvider(_ConvertingProvider):
    """Calls a zero-argument function on every use; it must return ``Credentials``."""

    def _read(self) -> object:
        result = self._source()  # type: ignore[operator]
        if not isinstance(result, Credentials):
            raise CredentialsError(
                f"{self._what} returned {type(result).__name__}, not Credentials"
            )
        return result


def _explicit_provider(source: object) -> CredentialsProvider | None:
    if isinstance(source, Credentials):
        return StaticProvider(source)
    if callable(getattr(source, "get_frozen_credentials", None)):
        return FrozenProvider(source)
    if hasattr(source, "access_key") and hasattr(source, "secret_key"):
        return _ConvertingProvider(source)
    if callable(source):
        return CallableProvider(source)
    return None


def check_credentials_source(value: object) -> list[Problem]:
    """Problems with a ``credentials=`` argument (for the client's constructor; no I/O)."""
    if value is None or _explicit_provider(value) is not None:
        return []
    return [
        Problem(
            "credentials",
            "must be Credentials, an object with get_frozen_credentials() (such as "
            "boto3.Session().get_credentials()), an object with access_key/secret_key/token "
            f"attributes, or a function returning Credentials; not {type(value).__name__}",
        )
    ]


# -- the chain ----------------------------------------------------------------------------


class ChainProvider:
    """Resolves the default chain at the first ``get()``, then delegates to the winner.

    A failed resolution is not cached: the next ``get()`` tries again.
    """

    def __init__(
        self,
        config: ClientConfig,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        settings: SourceSettings,
    ) -> None:
        self._config = config
        self._environ = environ
        self._clock = clock
        self._sleep = sleep
        self._settings = settings
        self._lock = threading.Lock()
        self._delegate: CredentialsProvider | None = None
        #: Which source won, once resolved (for logs and repr).
        self.source: str | None = None

    def get(self) -> Credentials:
        delegate = self._delegate
        if delegate is None:
            delegate = self._resolve()
        return delegate.get()

    def _resolve(self) -> CredentialsProvider:
        with self._lock:
            if self._delegate is None:
                source, delegate = _resolve_chain(
                    self._config,
                    self._environ,
                    clock=self._clock,
                    sleep=self._sleep,
                    settings=self._settings,
                )
                logger.debug("Using AWS credentials from %s", source)
                self.source = source
                self._delegate = delegate
            return self._delegate

    def __repr__(self) -> str:
        return f"ChainProvider(profile={self._config.profile!r}, source={self.source!r})"


def make_provider(
    explicit: CredentialsSource | None,
    *,
    config: ClientConfig,
    environ: Mapping[str, str],
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    settings: SourceSettings = DEFAULT_SOURCE_SETTINGS,
) -> CredentialsProvider:
    """The provider for ``credentials=`` (when given) or for the default chain.

    No I/O here: the chain resolves at the first ``get()``. ``clock`` (epoch seconds)
    decides expiry, ``sleep`` waits between attempts; both are for tests.
    Raises ``ValidationError`` when ``explicit`` is none of the accepted kinds.
    """
    if explicit is not None:
        provider = _explicit_provider(explicit)
        if provider is None:
            raise ValidationError(check_credentials_source(explicit))
        return provider
    return ChainProvider(config, environ, clock=clock, sleep=sleep, settings=settings)


def _boto3_only(profile: Profile, environ: Mapping[str, str], explicit: bool) -> str | None:
    """What makes boto3 use a source this library lacks, or None."""

    def place(key: str) -> str:
        found = profile.lookup(key)
        return found[1] if found is not None else key

    if not explicit and environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return (
            "AWS_WEB_IDENTITY_TOKEN_FILE is set: boto3 would assume the role in AWS_ROLE_ARN "
            "with that web identity token (as on EKS with IAM roles for service accounts)"
        )
    if profile.has("role_arn") and (
        profile.has("source_profile") or profile.has("credential_source")
    ):
        return f"{place('role_arn')} makes boto3 assume that role (sts:AssumeRole)"
    if profile.has("web_identity_token_file"):
        return (
            f"{place('web_identity_token_file')} makes boto3 assume a role with a web "
            "identity token"
        )
    sso = sorted(
        key
        for key in (*profile.from_credentials, *profile.from_config)
        if key.startswith("sso_") and key != "sso_region"
    )
    if sso:
        return f"{place(sso[0])} makes boto3 get credentials from IAM Identity Center (SSO)"
    return None


def _refuse_boto3_only(reason: str, profile: str) -> CredentialsError:
    return CredentialsError(
        f"{reason}; cognito_events does not implement that source itself. Pass boto3's "
        "credentials instead (they refresh themselves): " + BOTO3_HINT.format(profile=profile)
    )


def _resolve_chain(
    config: ClientConfig,
    environ: Mapping[str, str],
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    settings: SourceSettings,
) -> tuple[str, CredentialsProvider]:
    from . import _providers  # the sources' code loads at first use only
    from ._config import load_profile, where

    profile = config.profile_data
    if profile is None:
        profile = load_profile(config.profile, environ)
    tried = ["the credentials= argument: not given"]

    if config.profile_explicit:
        tried.append(
            "the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: skipped "
            "because profile= was passed in code"
        )
    else:
        found = credentials_from_environ(environ)
        if found is not None:
            return "the environment variables", StaticProvider(found)
        tried.append("the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: not set")

    reason = _boto3_only(profile, environ, config.profile_explicit)
    if reason is not None:
        raise _refuse_boto3_only(reason, config.profile)

    static = _providers.static_from_section(
        profile.credentials_file, profile.credentials_header, profile.name
    )
    if isinstance(static, Credentials):
        place = where(profile.credentials_file, profile.credentials_header, None)
        return place, StaticProvider(static)
    tried.append(f"the shared credentials file: {static}")

    if profile.has("login_session"):
        found_login = profile.lookup("login_session")
        assert found_login is not None
        raise _refuse_boto3_only(
            f"{found_login[1]} makes boto3 use the credentials of an 'aws login' session",
            config.profile,
        )

    process = profile.lookup("credential_process")
    if process is not None:
        setting, place = process
        if not isinstance(setting.value, str) or not setting.value.strip():
            raise CredentialsError(f"{place} must be a command line")
        command = setting.value
        runner = _providers.ProcessSource(
            command, place=place, timeout=settings.process_timeout, clock=clock
        )
        return f"credential_process ({place})", _providers.RefreshingProvider(
            runner.fetch, name=f"credential_process ({place})", clock=clock
        )
    tried.append(f"credential_process: not set in profile {config.profile!r}")

    static = _providers.static_from_section(
        profile.config_file, profile.config_header, profile.name
    )
    if isinstance(static, Credentials):
        place = where(profile.config_file, profile.config_header, None)
        return place, StaticProvider(static)
    tried.append(f"the shared config file: {static}")

    container = _providers.container_source(environ, settings=settings, sleep=sleep)
    if container is not None:
        return container.name, _providers.RefreshingProvider(
            container.fetch, name=container.name, clock=clock
        )
    tried.append(
        "container credentials: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
        "AWS_CONTAINER_CREDENTIALS_FULL_URI is set"
    )

    imds = _providers.ImdsSource.from_settings(environ, profile, settings=settings, sleep=sleep)
    if imds is None:
        tried.append("EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED=true")
    else:
        try:
            first = imds.fetch()
        except CredentialsError as exc:
            tried.append(str(exc))
        else:
            return imds.name, _providers.RefreshingProvider(
                imds.fetch, name=imds.name, clock=clock, initial=first
            )

    listed = "\n".join(f"  {number}. {line}" for number, line in enumerate(tried, 1))
    raise CredentialsError(
        f"No AWS credentials found (profile {config.profile!r}). Tried, in order:\n{listed}\n"
        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, add keys or credential_process "
        f"to profile {config.profile!r} in {profile.credentials_file.path} or "
        f"{profile.config_file.path}, or pass credentials= (for instance "
        "credentials=boto3.Session().get_credentials())."
    )
