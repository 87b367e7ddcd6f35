"""``load_config``: the client's settings from its arguments, the environment and files.

Everything except credentials (see ``_chain``) is resolved the way boto3 does, so a
client built with no arguments behaves like boto3 on the same machine. Nothing runs at
import time: the files are read when ``load_config`` is called, at the client's first
request. The client's own arguments were checked by its constructor with the same rules
(``_validation``) that are applied here to configured values.

Region
    ``region=`` → ``AWS_REGION`` → ``AWS_DEFAULT_REGION`` → the profile's ``region`` →
    None (the client then uses the region prefix of each identity pool id).
    Deliberate difference: boto3 ignores ``AWS_REGION``; it is read here, before
    ``AWS_DEFAULT_REGION``, because the other SDKs, the AWS CLI v2 and AWS Lambda use it.
    A legacy FIPS pseudo-region (``fips-us-east-1``, ``us-east-1-fips``) becomes the
    real region with FIPS on, as in botocore.

Endpoint
    ``endpoint_url=`` → ``AWS_ENDPOINT_URL_COGNITO_SYNC`` → ``AWS_ENDPOINT_URL`` → the
    ``endpoint_url`` of ``cognito_sync`` in the ``[services NAME]`` section that the
    profile's ``services = NAME`` names → the profile's ``endpoint_url`` → the default
    (see ``endpoints``: FIPS with ``AWS_USE_FIPS_ENDPOINT`` / ``use_fips_endpoint``,
    dual-stack with ``AWS_USE_DUALSTACK_ENDPOINT`` / ``use_dualstack_endpoint``).
    ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` (or the profile's
    ``ignore_configured_endpoint_urls``) set to true keeps only ``endpoint_url=``.

Endpoints of the other services a call uses (Lambda, STS)
    The same order with the service's own key: ``AWS_ENDPOINT_URL_LAMBDA`` /
    ``AWS_ENDPOINT_URL_STS`` → ``AWS_ENDPOINT_URL`` → ``lambda``/``sts`` in ``[services
    NAME]`` → the profile's ``endpoint_url`` → the service's default host. An
    ``endpoint_url=`` argument applies to every service (one emulator serves them all).
    A bad value there is reported when that service is first called, not before.

Other settings (variable → profile setting → default)
    ``AWS_MAX_ATTEMPTS`` / ``max_attempts`` (total attempts, an int >= 1) → None (the
    client's RetryPolicy default); ``AWS_RETRY_MODE`` / ``retry_mode`` → ``standard``:
    ``legacy`` and ``adaptive`` are accepted and run as ``standard``, the only mode this
    library implements; ``AWS_CA_BUNDLE`` / ``ca_bundle`` → None (the bundle must exist).
    Invalid values raise one ``ValidationError`` naming each variable, or each file,
    profile and line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

import attrs

from .._errors import Problem, ValidationError
from .._validation import check_endpoint_url, check_region, endpoint_base
from .endpoints import (
    SERVICE_HOSTS,
    default_endpoint,
    dual_stack_refusal,
    service_endpoint,
    split_fips_region,
    unavailable_region_hint,
)
from .ini import expand_path
from .lookup import SettingsLookup, parse_bool, show
from .profiles import Profile, load_profile, select_profile, where

__all__ = ["REGION_ARGUMENT", "RETRY_MODES", "SERVICE_KEY", "ClientConfig", "load_config"]

#: The service's key in a ``[services]`` section and its environment variable suffix.
SERVICE_KEY: Final = "cognito_sync"
RETRY_MODES: Final = ("standard", "legacy", "adaptive")
#: ``ClientConfig.region_source`` when the region is the client's ``region=`` argument.
REGION_ARGUMENT: Final = "the region= argument"
#: Said when a request to a dual-stack host gets no answer: AWS lists none for the service.
DUAL_STACK_HINT: Final = (
    "dual-stack is on (AWS_USE_DUALSTACK_ENDPOINT / use_dualstack_endpoint): this is the "
    "host botocore's rules build, but AWS's endpoint list names no dual-stack host for "
    "Cognito Sync; if it does not resolve, turn dual-stack off."
)


@attrs.frozen(kw_only=True)
class ClientConfig:
    """What a client needs besides credentials, with where each value came from."""

    #: The selected profile name.
    profile: str = "default"
    #: True when the profile was passed in code (then environment credentials are skipped).
    profile_explicit: bool = False
    #: How the profile was selected (``PROFILE_ARGUMENT``, ``AWS_DEFAULT_PROFILE``,
    #: ``AWS_PROFILE``), or None for the implicit ``default``.
    profile_source: str | None = None
    #: The signing region; None: the client uses the region prefix of the identity pool id.
    region: str | None = None
    #: Explicit or configured endpoint; None: ``default_endpoint(region)``.
    endpoint_url: str | None = None
    use_fips_endpoint: bool = False
    use_dualstack_endpoint: bool = False
    #: Total attempts; None: the client's RetryPolicy default.
    max_attempts: int | None = None
    #: Always "standard" (``legacy`` and ``adaptive`` are mapped to it).
    retry_mode: str = "standard"
    #: TLS verification bundle (a path); None: the default bundle.
    ca_bundle: str | None = None
    #: Where ``region``/``endpoint_url`` came from, for messages (None: not set).
    region_source: str | None = None
    endpoint_source: str | None = None
    #: ``lambda``/``sts`` -> (configured endpoint or None, its source, its problems).
    service_endpoints: Mapping[str, tuple[str | None, str | None, tuple[Problem, ...]]] = (
        attrs.field(factory=lambda: {}, repr=False)  # noqa: PIE807 - typed for pyright
    )
    #: The parsed profile, for the credential chain; None: it reads the files itself.
    profile_data: Profile | None = attrs.field(default=None, repr=False, eq=False)

    def default_endpoint(self, region: str) -> str:
        """The endpoint for ``region`` when none is configured (FIPS, dual-stack if on)."""
        return default_endpoint(
            region, fips=self.use_fips_endpoint, dual_stack=self.use_dualstack_endpoint
        )

    def service_endpoint(self, service: str, region: str) -> tuple[str, str | None]:
        """(endpoint, where it came from) for ``lambda``/``sts`` calls in ``region``.

        Raises ``ValidationError`` when that service's configured endpoint is invalid.
        """
        configured, source, problems = self.service_endpoints.get(service, (None, None, ()))
        if problems:
            raise ValidationError(list(problems))
        if configured is not None:
            return configured, source
        return (
            service_endpoint(
                service,
                region,
                fips=self.use_fips_endpoint,
                dual_stack=self.use_dualstack_endpoint,
            ),
            None,
        )

    def default_endpoint_hint(self, region: str) -> str | None:
        """What to say when the default endpoint of ``region`` does not answer, or None."""
        hints = [unavailable_region_hint(region)]
        if self.use_dualstack_endpoint:
            hints.append(DUAL_STACK_HINT)
        return " ".join(hint for hint in hints if hint) or None


def load_config(
    *,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
    environ: Mapping[str, str],
) -> ClientConfig:
    """Resolve the client settings (see the module docstring for every precedence rule).

    ``region``, ``endpoint_url`` and ``profile`` are the client's arguments, already
    checked. Reads both shared files. Raises ``ValidationError`` for invalid configured
    values (all of them at once) and ``CredentialsError`` for an unknown profile or a
    file problem in use.
    """
    name, explicit, selected_by = select_profile(profile, environ)
    data = load_profile(name, environ, selected_by=selected_by)
    problems: list[Problem] = []
    settings = SettingsLookup(environ, data, problems)

    region_source: str | None = None
    if region is not None:
        region_source = REGION_ARGUMENT
    else:
        found = settings.get("AWS_REGION", None) or settings.get("AWS_DEFAULT_REGION", "region")
        if found is not None:
            region, region_source = found
            problems += check_region(region, region_source)
    fips_region = False
    if region is not None:
        region, fips_region = split_fips_region(region)

    endpoint_source: str | None = None
    services: dict[str, tuple[str | None, str | None, tuple[Problem, ...]]] = {}
    if endpoint_url is not None:
        endpoint_url, endpoint_source = endpoint_base(endpoint_url), "the endpoint_url= argument"
        services = dict.fromkeys(SERVICE_HOSTS, (endpoint_url, endpoint_source, ()))
    else:
        found = _configured_endpoint(settings, environ, data, problems)
        if found is not None:
            endpoint_problems = check_endpoint_url(found[0], found[1])
            problems += endpoint_problems
            if not endpoint_problems:
                endpoint_url, endpoint_source = endpoint_base(found[0]), found[1]
        for service in SERVICE_HOSTS:
            service_problems: list[Problem] = []
            service_settings = SettingsLookup(environ, data, service_problems)
            found = _configured_endpoint(service_settings, environ, data, service_problems, service)
            url = where_from = None
            if found is not None:
                service_problems += check_endpoint_url(found[0], found[1])
                if not service_problems:
                    url, where_from = endpoint_base(found[0]), found[1]
            if url is not None or service_problems:  # else: the service's default host
                services[service] = (url, where_from, tuple(service_problems))

    use_fips = bool(settings.boolean("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"))
    use_dualstack = False
    found = settings.get("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint")
    if found is not None:
        use_dualstack = bool(parse_bool(found[0], found[1], problems))
        refused = dual_stack_refusal(region) if region is not None else None
        if use_dualstack and endpoint_url is None and refused is not None:
            problems.append(Problem(found[1], refused))
    max_attempts = settings.whole_number("AWS_MAX_ATTEMPTS", "max_attempts")

    found = settings.get("AWS_RETRY_MODE", "retry_mode")
    if found is not None and found[0].strip().lower() not in RETRY_MODES:
        problems.append(
            Problem(found[1], f"must be one of {', '.join(RETRY_MODES)}, got {show(found[0])}")
        )

    ca_bundle: str | None = None
    found = settings.get("AWS_CA_BUNDLE", "ca_bundle")
    if found is not None:
        ca_bundle = expand_path(found[0].strip(), environ)
        if not os.path.isfile(ca_bundle):
            problems.append(Problem(found[1], f"{show(found[0])} is not an existing file"))
            ca_bundle = None

    if problems:
        raise ValidationError(problems)
    return ClientConfig(
        profile=name,
        profile_explicit=explicit,
        profile_source=selected_by,
        region=region,
        endpoint_url=endpoint_url,
        use_fips_endpoint=use_fips or fips_region,
        use_dualstack_endpoint=use_dualstack,
        max_attempts=max_attempts,
        retry_mode="standard",
        ca_bundle=ca_bundle,
        region_source=region_source,
        endpoint_source=endpoint_source,
        service_endpoints=services,
        profile_data=data,
    )


def _configured_endpoint(
    settings: SettingsLookup,
    environ: Mapping[str, str],
    profile: Profile,
    problems: list[Problem],
    service: str = SERVICE_KEY,
) -> tuple[str, str] | None:
    """(URL, where) of the endpoint configured in variables or files, unless ignored."""
    ignore_env = environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    if ignore_env:
        ignore = parse_bool(ignore_env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", problems)
    else:
        ignore = settings.boolean(None, "ignore_configured_endpoint_urls")
    if ignore:
        return None
    return (
        settings.get("AWS_ENDPOINT_URL_" + service.upper(), None)
        or settings.get("AWS_ENDPOINT_URL", None)
        or _services_endpoint(profile, problems, service)
        or settings.get(None, "endpoint_url")
    )


def _services_endpoint(
    profile: Profile, problems: list[Problem], service_key: str = SERVICE_KEY
) -> tuple[str, str] | None:
    found = profile.lookup("services")
    if found is None:
        return None
    setting, place = found
    if not isinstance(setting.value, str) or not setting.value.strip():
        problems.append(Problem(place, "must name a [services NAME] section"))
        return None
    if profile.services_header is None:
        problems.append(
            Problem(
                place,
                f"names the services section {setting.value!r}, but "
                f"{profile.config_file.path} has no [services {setting.value}] section",
            )
        )
        return None
    service = profile.services.get(service_key)
    if service is None:
        return None
    section_place = where(
        profile.config_file, profile.services_header, service.line, service_key + ".endpoint_url"
    )
    if not isinstance(service.value, Mapping):
        problems.append(
            Problem(
                section_place,
                f"must be a sub-section such as '{service_key} =' followed by "
                "an indented 'endpoint_url = ...' line",
            )
        )
        return None
    url = service.value.get("endpoint_url")
    if not url:
        return None
    return url, section_place
