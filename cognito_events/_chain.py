"""The default credential chain: the ordered list of sources, and what it reports.

``CHAIN`` is botocore's order (its ``CredentialResolver`` providers, smithy-aws-core's
ordering), one ``_sources`` class per row; the first source that applies wins:

1. ``credentials=`` in code; 2. ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``
(skipped when ``profile=`` is passed in code); 3. assume role, web identity, IAM
Identity Center (refused with advice: only boto3 implements them); 4. the profile's
keys in the shared credentials file; 5. an ``aws login`` session (refused likewise);
6. ``credential_process``; 7. the profile's keys in the config file; 8. container
credentials; 9. EC2 instance metadata (IMDSv2), unless ``AWS_EC2_METADATA_DISABLED``.

A source that applies but fails raises at once, as in botocore; only instance metadata
is passed over on failure. When nothing applies, one ``CredentialsError`` lists every
row with why it did not apply: the report is the list, read in order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from ._config.loader import ClientConfig
from ._config.profiles import load_profile
from ._credentials import (
    DEFAULT_SOURCE_SETTINGS,
    Credentials,
    CredentialsProvider,
    CredentialsSource,
    SourceSettings,
)
from ._errors import CredentialsError
from ._sources import (
    Boto3OnlyLogin,
    Boto3OnlyRoles,
    ContainerCredentials,
    CredentialProcess,
    CredentialsArgument,
    EnvironmentKeys,
    Found,
    InstanceMetadata,
    SharedConfigFile,
    SharedCredentialsFile,
    Source,
    SourceContext,
)

__all__ = ["CHAIN", "ChainProvider", "make_provider", "resolve"]

logger = logging.getLogger("cognito_events.credentials")

#: The sources, in the order they are tried.
CHAIN: Final[tuple[Source, ...]] = (
    CredentialsArgument(),
    EnvironmentKeys(),
    Boto3OnlyRoles(),
    SharedCredentialsFile(),
    Boto3OnlyLogin(),
    CredentialProcess(),
    SharedConfigFile(),
    ContainerCredentials(),
    InstanceMetadata(),
)


def resolve(context: SourceContext, chain: Sequence[Source] = CHAIN) -> Found:
    """The first source of ``chain`` that applies; ``CredentialsError`` listing all if none."""
    tried: list[tuple[str, str]] = []  # (source name, report line)
    for source in chain:
        why_not = source.why_not(context)
        if why_not is not None:
            tried.append((source.name, f"{source.name}: {why_not}"))
            continue
        try:
            return source.provider(context)
        except CredentialsError as exc:
            if not source.passed_over_on_failure:
                raise
            tried.append((source.name, str(exc)))  # the error names its source
    profile = context.profile
    listed = "\n".join(f"  {number}. {line}" for number, (_, line) in enumerate(tried, 1))
    raise CredentialsError(
        f"No AWS credentials found (profile {profile.name!r}). Tried, in order:\n{listed}\n"
        "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, add keys or credential_process "
        f"to profile {profile.name!r} in {profile.credentials_file.path} or "
        f"{profile.config_file.path}, or pass credentials= (for instance "
        "credentials=boto3.Session().get_credentials()).",
        profile=profile.name,
        profile_source=context.profile_source,
        tried=tuple(tried),
        files=(str(profile.credentials_file.path), str(profile.config_file.path)),
    )


class ChainProvider:
    """Resolves the chain at the first ``get()``, then delegates to the winner.

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
        #: Where the credentials come from, once resolved (for logs and repr).
        self.source: str | None = None

    def get(self) -> Credentials:
        delegate = self._delegate
        if delegate is None:
            delegate = self._resolve()
        return delegate.get()

    def _resolve(self) -> CredentialsProvider:
        with self._lock:
            if self._delegate is None:
                config = self._config
                profile = config.profile_data
                if profile is None:
                    profile = load_profile(config.profile, self._environ)
                context = SourceContext(
                    profile=profile,
                    profile_explicit=config.profile_explicit,
                    profile_source=config.profile_source,
                    environ=self._environ,
                    settings=self._settings,
                    clock=self._clock,
                    sleep=self._sleep,
                )
                found = resolve(context)
                logger.debug("Using AWS credentials from %s", found.origin)
                self.source = found.origin
                self._delegate = found.provider
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

    No I/O here: the chain resolves at the first ``get()``. ``credentials=`` is the
    chain's first row, taken at once (it needs no file). ``clock`` (epoch seconds)
    decides expiry, ``sleep`` waits between attempts; both are for tests.
    Raises ``ValidationError`` when ``explicit`` is none of the accepted kinds.
    """
    if explicit is not None:
        return CredentialsArgument.provider_for(explicit)
    return ChainProvider(config, environ, clock=clock, sleep=sleep, settings=settings)
