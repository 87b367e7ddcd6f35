"""The credential sources, one class per source, each a row of the chain in ``_chain``.

A source has a ``name`` (how the "tried" report names it), ``why_not`` (None when it
applies, else the reason it does not, for the report) and ``provider`` (the provider of
its credentials; raises ``CredentialsError`` when the source applies but fails, which
ends the chain, as in botocore, unless ``passed_over_on_failure``).

Sources only boto3 implements (assume role, web identity, IAM Identity Center, ``aws
login``) are rows too: they apply where boto3 would use them, and refuse with advice
rather than be skipped, since skipping would silently pick other credentials than boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar, Final, Protocol

import attrs

from ._config.ini import IniFile
from ._config.profiles import Profile, where
from ._credentials import Credentials, CredentialsProvider, CredentialsSource, SourceSettings
from ._errors import CredentialsError, ValidationError
from ._fetchers import ImdsSource, ProcessSource, container_source
from ._providers import (
    RefreshingProvider,
    StaticProvider,
    check_credentials_source,
    explicit_provider,
)

__all__ = [
    "BOTO3_HINT",
    "Boto3OnlyLogin",
    "Boto3OnlyRoles",
    "ContainerCredentials",
    "CredentialProcess",
    "CredentialsArgument",
    "EnvironmentKeys",
    "Found",
    "InstanceMetadata",
    "SharedConfigFile",
    "SharedCredentialsFile",
    "Source",
    "SourceContext",
    "credentials_from_environ",
    "section_keys",
    "section_keys_absent",
]

#: The usage advice for sources only boto3 implements.
BOTO3_HINT: Final = (
    "CognitoEventsClient(credentials=boto3.Session(profile_name={profile!r}).get_credentials())"
)


@attrs.frozen(kw_only=True)
class SourceContext:
    """What every source looks at: the arguments, the environment and the profile."""

    #: The client's ``credentials=`` argument (None: not given).
    explicit: CredentialsSource | None = attrs.field(default=None, repr=False)
    profile: Profile
    #: True when ``profile=`` was passed in code (environment keys are then skipped).
    profile_explicit: bool
    #: How the profile was selected (see ``select_profile``); None: the implicit default.
    profile_source: str | None = None
    environ: Mapping[str, str] = attrs.field(repr=False)
    settings: SourceSettings
    clock: Callable[[], float] = attrs.field(repr=False)
    sleep: Callable[[float], None] = attrs.field(repr=False)


@attrs.frozen
class Found:
    """A source's provider, and exactly where its credentials come from (for logs)."""

    origin: str
    provider: CredentialsProvider


class Source(Protocol):
    """A row of the credential chain."""

    name: ClassVar[str]
    passed_over_on_failure: ClassVar[bool]

    def why_not(self, context: SourceContext) -> str | None:
        """None when this source applies; else why not, for the "tried" report."""
        ...

    def provider(self, context: SourceContext) -> Found:
        """Its provider; ``CredentialsError`` when the source applies but fails."""
        ...


class CredentialsArgument:
    """``credentials=`` in code (then no other source is looked at)."""

    name: ClassVar[str] = "the credentials= argument"
    passed_over_on_failure: ClassVar[bool] = False

    def why_not(self, context: SourceContext) -> str | None:
        return "not given" if context.explicit is None else None

    def provider(self, context: SourceContext) -> Found:
        return Found(self.name, self.provider_for(context.explicit))

    @staticmethod
    def provider_for(explicit: object) -> CredentialsProvider:
        """The provider of a ``credentials=`` value; ``ValidationError`` for other kinds."""
        provider = explicit_provider(explicit)
        if provider is None:
            raise ValidationError(check_credentials_source(explicit))
        return provider


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


class EnvironmentKeys:
    """``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY`` (+ ``AWS_SESSION_TOKEN``)."""

    name: ClassVar[str] = "the environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    passed_over_on_failure: ClassVar[bool] = False

    def why_not(self, context: SourceContext) -> str | None:
        if context.profile_explicit:
            return "skipped because profile= was passed in code"
        environ = context.environ
        if not environ.get("AWS_ACCESS_KEY_ID") and not environ.get("AWS_SECRET_ACCESS_KEY"):
            return "not set"
        return None

    def provider(self, context: SourceContext) -> Found:
        found = credentials_from_environ(context.environ)
        assert found is not None  # why_not said the variables are set
        return Found("the environment variables", StaticProvider(found))


def _refusal(reason: str, profile: str) -> CredentialsError:
    return CredentialsError(
        f"{reason}; cognito_events does not implement that source itself. Pass boto3's "
        "credentials instead (they refresh themselves): " + BOTO3_HINT.format(profile=profile)
    )


def _place(profile: Profile, key: str) -> str:
    found = profile.lookup(key)
    return found[1] if found is not None else key


class Boto3OnlyRoles:
    """Assume role, web identity, IAM Identity Center: refused with advice."""

    name: ClassVar[str] = "roles and IAM Identity Center (only boto3 implements them)"
    passed_over_on_failure: ClassVar[bool] = False

    def why_not(self, context: SourceContext) -> str | None:
        if self._reason(context) is None:
            return f"not configured in profile {context.profile.name!r}"
        return None

    def provider(self, context: SourceContext) -> Found:
        reason = self._reason(context)
        assert reason is not None  # why_not said it applies
        raise _refusal(reason, context.profile.name)

    @staticmethod
    def _reason(context: SourceContext) -> str | None:
        """What makes boto3 use such a source, or None."""
        profile = context.profile
        if not context.profile_explicit and context.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
            return (
                "AWS_WEB_IDENTITY_TOKEN_FILE is set: boto3 would assume the role in AWS_ROLE_ARN "
                "with that web identity token (as on EKS with IAM roles for service accounts)"
            )
        if profile.has("role_arn") and (
            profile.has("source_profile") or profile.has("credential_source")
        ):
            return f"{_place(profile, 'role_arn')} makes boto3 assume that role (sts:AssumeRole)"
        if profile.has("web_identity_token_file"):
            return (
                f"{_place(profile, 'web_identity_token_file')} makes boto3 assume a role with "
                "a web identity token"
            )
        sso = sorted(
            key
            for key in (*profile.from_credentials, *profile.from_config)
            if key.startswith("sso_") and key != "sso_region"
        )
        if sso:
            return (
                f"{_place(profile, sso[0])} makes boto3 get credentials from IAM Identity "
                "Center (SSO)"
            )
        return None


def section_keys_absent(file: IniFile, header: str | None, profile: str) -> str | None:
    """Why a profile's section holds no static keys, or None when it holds some."""
    if not file.exists:
        return f"{file.path} does not exist"
    if header is None:
        return f"{file.path} has no section for profile {profile!r}"
    section = file.sections[header]
    if "aws_access_key_id" not in section and "aws_secret_access_key" not in section:
        return f"no aws_access_key_id in [{header}] of {file.path}"
    return None


def section_keys(file: IniFile, header: str) -> Credentials:
    """The static keys of a section that has some.

    Half a pair (or an empty or multi-line value) raises ``CredentialsError`` naming the
    file, section and line.
    """
    section = file.sections[header]
    key_id = section.get("aws_access_key_id")
    secret = section.get("aws_secret_access_key")
    values: dict[str, str] = {}
    for key, setting in (
        ("aws_access_key_id", key_id),
        ("aws_secret_access_key", secret),
        ("aws_session_token", section.get("aws_session_token")),
        ("aws_security_token", section.get("aws_security_token")),
    ):
        if setting is None:
            continue
        value = setting.value
        if value == "" and key in ("aws_session_token", "aws_security_token"):
            continue  # an emptied token line means no token
        if not isinstance(value, str) or not value or "\n" in value:
            raise CredentialsError(
                f"{where(file, header, setting.line, key)} must be a non-empty single-line value"
            )
        values[key] = value
    for present, absent in (
        ("aws_access_key_id", "aws_secret_access_key"),
        ("aws_secret_access_key", "aws_access_key_id"),
    ):
        if present in values and absent not in values:
            line = section[present].line
            raise CredentialsError(
                f"{where(file, header, line, present)} is set but {absent} is not: "
                "set both or neither"
            )
    token = values.get("aws_session_token") or values.get("aws_security_token")
    return Credentials(values["aws_access_key_id"], values["aws_secret_access_key"], token)


class _ProfileKeys:
    """Static keys of the profile's section in one of the two shared files."""

    name: ClassVar[str]
    passed_over_on_failure: ClassVar[bool] = False

    def _section(self, profile: Profile) -> tuple[IniFile, str | None]:
        raise NotImplementedError

    def why_not(self, context: SourceContext) -> str | None:
        file, header = self._section(context.profile)
        return section_keys_absent(file, header, context.profile.name)

    def provider(self, context: SourceContext) -> Found:
        file, header = self._section(context.profile)
        assert header is not None  # why_not said the section holds keys
        return Found(where(file, header, None), StaticProvider(section_keys(file, header)))


class SharedCredentialsFile(_ProfileKeys):
    """``aws_access_key_id``/``aws_secret_access_key`` in ``~/.aws/credentials``."""

    name: ClassVar[str] = "the shared credentials file"

    def _section(self, profile: Profile) -> tuple[IniFile, str | None]:
        return profile.credentials_file, profile.credentials_header


class SharedConfigFile(_ProfileKeys):
    """The same keys in the profile's section of ``~/.aws/config``."""

    name: ClassVar[str] = "the shared config file"

    def _section(self, profile: Profile) -> tuple[IniFile, str | None]:
        return profile.config_file, profile.config_header


class Boto3OnlyLogin:
    """``login_session`` (``aws login``): refused with advice, where botocore checks it."""

    name: ClassVar[str] = "an 'aws login' session (only boto3 implements it)"
    passed_over_on_failure: ClassVar[bool] = False

    def why_not(self, context: SourceContext) -> str | None:
        if context.profile.has("login_session"):
            return None
        return f"not configured in profile {context.profile.name!r}"

    def provider(self, context: SourceContext) -> Found:
        place = _place(context.profile, "login_session")
        raise _refusal(
            f"{place} makes boto3 use the credentials of an 'aws login' session",
            context.profile.name,
        )


class CredentialProcess:
    """``credential_process`` of the profile (either file), refreshed before expiry."""

    name: ClassVar[str] = "credential_process"
    passed_over_on_failure: ClassVar[bool] = False

    def why_not(self, context: SourceContext) -> str | None:
        if context.profile.has("credential_process"):
            return None
        return f"not set in profile {context.profile.name!r}"

    def provider(self, context: SourceContext) -> Found:
        found = context.profile.lookup("credential_process")
        assert found is not None  # why_not said it is set
        setting, place = found
        if not isinstance(setting.value, str) or not setting.value.strip():
            raise CredentialsError(f"{place} must be a command line")
        origin = f"credential_process ({place})"
        runner = ProcessSource(
            setting.value,
            place=place,
            timeout=context.settings.process_timeout,
            clock=context.clock,
        )
        return Found(origin, RefreshingProvider(runner.fetch, name=origin, clock=context.clock))


class ContainerCredentials:
    """The ECS / EKS Pod Identity endpoint named by ``AWS_CONTAINER_CREDENTIALS_*_URI``."""

    name: ClassVar[str] = "container credentials"
    passed_over_on_failure: ClassVar[bool] = False

    def why_not(self, context: SourceContext) -> str | None:
        environ = context.environ
        if environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or environ.get(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI"
        ):
            return None
        return (
            "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is set"
        )

    def provider(self, context: SourceContext) -> Found:
        source = container_source(context.environ, settings=context.settings, sleep=context.sleep)
        assert source is not None  # why_not said a variable is set
        refreshing = RefreshingProvider(source.fetch, name=source.name, clock=context.clock)
        return Found(source.name, refreshing)


class InstanceMetadata:
    """EC2 instance metadata (IMDSv2); passed over when it cannot be reached."""

    name: ClassVar[str] = "EC2 instance metadata"
    passed_over_on_failure: ClassVar[bool] = True

    def why_not(self, context: SourceContext) -> str | None:
        if self._source(context) is None:
            return "disabled by AWS_EC2_METADATA_DISABLED=true"
        return None

    def provider(self, context: SourceContext) -> Found:
        imds = self._source(context)
        assert imds is not None  # why_not said it is enabled
        first = imds.fetch()
        return Found(
            imds.name,
            RefreshingProvider(imds.fetch, name=imds.name, clock=context.clock, initial=first),
        )

    @staticmethod
    def _source(context: SourceContext) -> ImdsSource | None:
        return ImdsSource.from_settings(
            context.environ, context.profile, settings=context.settings, sleep=context.sleep
        )
