"""``CognitoEventsClient``: orchestrates validation, signing, sending and retries."""

from __future__ import annotations

import json
import logging
import math
import os
import random as _random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeGuard, TypeVar

import requests
from requests.__version__ import __version__ as _requests_version

from . import sigv4
from ._credentials import Credentials, CredentialsProvider, CredentialsSource
from ._errors import (
    CognitoEventsError,
    NotAuthorizedError,
    Problem,
    ReadTimeoutError,
    ResourceNotFoundError,
    ServiceError,
    TransportError,
    ValidationError,
    error_from_response,
    header_value,
    redact,
)
from ._operations import (
    ADD_PERMISSION,
    GET_CALLER_IDENTITY,
    GET_COGNITO_EVENTS,
    GET_POLICY,
    OPERATIONS,
    REMOVE_PERMISSION,
    SET_COGNITO_EVENTS,
    STS_BODY,
    Operation,
    PolicyAnswer,
)
from ._providers import check_credentials_source, explicit_provider
from ._retry import (
    DEFAULT_RETRY_POLICY,
    NO_RETRY_REFUND,
    RetryPolicy,
    RetryQuota,
    apply_hint,
    backoff_delay,
    is_throttling,
    is_transient,
    parse_http_date,
    retry_after_hint,
)
from ._transport import (
    SendSettings,
    check_session,
    new_session,
    prepare,
    send,
    send_settings,
)
from ._validation import (
    check_endpoint_url,
    check_profile,
    check_region,
    endpoint_base,
    pool_region,
    validate_get,
    validate_set,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._config import ClientConfig
    from ._ensure import EnsureResult, TriggerCheck
    from ._ensure_run import Calls

__all__ = ["DEFAULT_TIMEOUT", "CognitoEventsClient"]

logger = logging.getLogger("cognito_events")

#: (connect, read) seconds. Always set: a request never waits forever.
DEFAULT_TIMEOUT: Final = (3.05, 30.0)
USER_AGENT: Final = (
    f"cognito-events/{__version__} Python/{sys.version_info[0]}.{sys.version_info[1]}."
    f"{sys.version_info[2]} requests/{_requests_version}"
)
#: Headers sent but not signed: who we are, and no content encoding (bodies are read raw).
_UNSIGNED_HEADERS: Final = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
_SKEW_MARKERS: Final = ("Signature expired", "Signature not yet current")
_T = TypeVar("_T")
#: Pools whose routes a client remembers before it starts over.
_MAX_ROUTES: Final = 256
_json_str = json.encoder.encode_basestring_ascii


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up at call time, so patching time.sleep works


def _jitter() -> float:
    return _random.random()


def _wrong_type(value: object, expected: type) -> bool:
    """True when an optional argument is set to something of the wrong type."""
    return value is not None and not isinstance(value, expected)


def _positive_seconds(value: object) -> TypeGuard[int | float]:
    """A finite, positive number of seconds (``True`` is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf


def _is_tuple(value: object) -> TypeGuard[tuple[object, ...]]:
    return isinstance(value, tuple)


def _check_timeout(value: object) -> tuple[tuple[float, float] | None, list[Problem]]:
    if _positive_seconds(value):
        seconds = float(value)
        return (seconds, seconds), []
    if _is_tuple(value) and len(value) == 2:
        connect, read = value
        if _positive_seconds(connect) and _positive_seconds(read):
            return (float(connect), float(read)), []
    return None, [
        Problem(
            "timeout",
            "must be a positive finite number of seconds or a (connect, read) pair of them, "
            f"got {value!r}",
        )
    ]


class _State:
    """What a client resolves once, at first use: settings, credentials, retry policy."""

    __slots__ = ("config", "provider", "retry")

    def __init__(
        self,
        config: ClientConfig,
        provider: CredentialsProvider,
        retry: RetryPolicy,
    ) -> None:
        self.config = config
        self.provider = provider
        self.retry = retry


class _Shape:
    """One operation's request for one pool: the prepared request copied per attempt, and
    the signing template built from the URL that request carries."""

    __slots__ = ("request", "template")

    def __init__(self, session: requests.Session, operation: Operation[Any], url: str) -> None:
        headers = {**dict(operation.signed_headers), **_UNSIGNED_HEADERS}
        self.request = prepare(session, operation.method, url, headers)
        self.template = sigv4.RequestTemplate(
            method=operation.method,
            url=self.request.url or url,
            headers=operation.signed_headers,
        )
        self.request.headers.update(self.template.headers)  # Host, as signed


class _Target:
    """Where one service's requests go: signing region, send settings, what to say when
    the host does not answer."""

    __slots__ = ("base", "hint", "region", "settings")

    def __init__(self, *, region: str, base: str, settings: SendSettings, hint: str | None) -> None:
        self.region = region
        self.base = base
        self.settings = settings
        self.hint = hint


class _Route(_Target):
    """The region, send settings and per-operation requests of one identity pool."""

    __slots__ = ("shapes",)

    def __init__(
        self,
        session: requests.Session,
        *,
        region: str,
        base: str,
        identity_pool_id: str,
        settings: SendSettings,
        hint: str | None,
    ) -> None:
        super().__init__(region=region, base=base, settings=settings, hint=hint)
        self.shapes = {
            operation.name: _Shape(
                session, operation, operation.url(base, IdentityPoolId=identity_pool_id)
            )
            for operation in OPERATIONS
        }


class CognitoEventsClient:
    """Sets and reads the Lambda functions bound to Cognito Sync events of identity pools.

    Construction does no I/O. At the first call the client resolves its settings and
    credentials as the AWS SDKs do (arguments, then ``AWS_*`` environment variables, then
    the shared config and credentials files, container and instance credentials) and
    keeps them; ``environ`` replaces ``os.environ`` for that.
    Thread-safe: one client may be shared by many threads. Use it as a context manager,
    or call :meth:`close`, to release the HTTP session it created (never one passed in).
    ``sleep``, ``random`` and ``clock`` replace the retry loop's waiting (``time.sleep``),
    jitter (``random.random``) and clock (UTC now), so tests never wait.
    ``total_timeout`` bounds a whole call in seconds, every attempt and wait included.

    A ``session`` passed in sends every request (so its adapters and mocks see them):
    its headers go under the client's own, its response hooks run, its proxies, verify
    and cert settings apply as requests resolves them; its cookies are never sent, and a
    session with ``auth`` set is refused, since SigV4 must be the last change to a request.
    """

    def __init__(
        self,
        *,
        region: str | None = None,
        credentials: CredentialsSource | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        environ: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] | None = None,
        clock: Callable[[], datetime] | None = None,
        total_timeout: float | None = None,
    ) -> None:
        # Each rule is the one the configuration loader applies to configured values.
        problems: list[Problem] = []
        if region is not None:
            problems += check_region(region)
        if endpoint_url is not None:
            problems += check_endpoint_url(endpoint_url)
        checked_timeout, timeout_problems = _check_timeout(timeout)
        problems += timeout_problems
        if _wrong_type(retry, RetryPolicy):
            problems.append(
                Problem("retry", f"must be a RetryPolicy or None, not {type(retry).__name__}")
            )
        problems += check_credentials_source(credentials)
        if profile is not None:
            problems += check_profile(profile)
        problems += check_session(session)
        if total_timeout is not None and not _positive_seconds(total_timeout):
            problems.append(
                Problem(
                    "total_timeout",
                    f"must be a positive finite number of seconds or None, got {total_timeout!r}",
                )
            )
        if problems:
            raise ValidationError(problems)

        endpoint = endpoint_base(endpoint_url) if endpoint_url is not None else None
        self._region_arg = region
        self._endpoint_arg = endpoint
        self._profile = profile
        self._environ = environ
        self._timeout: tuple[float, float] = checked_timeout or DEFAULT_TIMEOUT
        self._retry_arg = retry
        self._quota = RetryQuota((retry or DEFAULT_RETRY_POLICY).retry_quota)
        self._explicit_credentials = credentials
        # A wrapper, no I/O: what ``credentials=`` gives is asked for at each call.
        self._credentials_provider = None if credentials is None else explicit_provider(credentials)
        self._state: _State | None = None
        self._owns_session = session is None
        self._session: requests.Session = session if session is not None else new_session()
        self._total_timeout = None if total_timeout is None else float(total_timeout)
        # Proxies, verify and cert per endpoint, resolved at its first use.
        self._settings: dict[str, SendSettings] = {}
        self._routes: dict[str, _Route] = {}
        self._targets: dict[str, _Target] = {}
        self._lock = threading.Lock()
        self._clock_offset = timedelta(0)
        self._sleep = sleep or _sleep
        self._random = random or _jitter
        self._clock = clock or _utc_now

    # -- public API ---------------------------------------------------------------------

    @property
    def region(self) -> str | None:
        """The configured region, or None when each call takes its pool id's prefix.

        Reading it resolves the configuration (environment and shared files) if no call
        has yet; the same goes for :attr:`endpoint_url` and :attr:`retry`.
        """
        return self._resolve().config.region

    @property
    def endpoint_url(self) -> str | None:
        """The configured endpoint, or None for the default regional endpoint."""
        return self._resolve().config.endpoint_url

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._resolve().retry

    @property
    def clock_offset(self) -> timedelta:
        """How far the service's clock is ahead of this machine's, as last measured."""
        return self._clock_offset

    def set_cognito_events(self, identity_pool_id: str, events: Mapping[str, str]) -> None:
        """Bind a Lambda function to an event of an identity pool; ``""`` removes the binding.

        ``events`` holds exactly one entry, e.g. ``{SYNC_TRIGGER: "arn:aws:lambda:…"}``;
        other events of the pool are left as they are.
        """
        state = self._resolve()
        config = state.config
        validate_set(identity_pool_id, events, config.region, config.region_source)
        [(name, arn)] = events.items()
        # Exactly one validated str pair: cheaper than a JSONEncoder, same bytes.
        body = f'{{"Events":{{{_json_str(name)}:{_json_str(arn)}}}}}'.encode()
        route = self._route(config, identity_pool_id)
        self._call(state, SET_COGNITO_EVENTS, route, route.shapes[SET_COGNITO_EVENTS.name], body)

    def get_cognito_events(self, identity_pool_id: str) -> dict[str, str]:
        """Return the events of an identity pool and their Lambda ARNs (empty when none)."""
        state = self._resolve()
        config = state.config
        validate_get(identity_pool_id, config.region, config.region_source)
        route = self._route(config, identity_pool_id)
        return self._call(
            state, GET_COGNITO_EVENTS, route, route.shapes[GET_COGNITO_EVENTS.name], None
        )

    def ensure_sync_trigger(
        self,
        identity_pool_id: str,
        function_arn: str,
        *,
        grant: bool = True,
        dry_run: bool = False,
    ) -> EnsureResult:
        """Bind ``function_arn`` as the pool's SyncTrigger, with the Lambda permission that
        lets Cognito Sync invoke it for this pool (unless ``grant=False``). Idempotent:
        a second identical call makes no write. ``""`` is :meth:`remove_sync_trigger`.

        A function in another region or account than the pool raises ``ValidationError``
        before anything is written; ``dry_run`` reads and plans but writes nothing. When
        the pool was bound to another function, the statement this tool added there for
        the pool is removed after the rebinding (other statements stay).
        """
        if function_arn == "":
            return self.remove_sync_trigger(identity_pool_id, dry_run=dry_run)
        from ._ensure_run import ensure

        return ensure(self._calls(), identity_pool_id, function_arn, grant=grant, dry_run=dry_run)

    def remove_sync_trigger(self, identity_pool_id: str, *, dry_run: bool = False) -> EnsureResult:
        """Unbind the pool's SyncTrigger and remove the permission statement this tool
        added to the bound function (only that one: other statements stay)."""
        from ._ensure_run import remove

        return remove(self._calls(), identity_pool_id, dry_run=dry_run)

    def check_sync_trigger(self, identity_pool_id: str) -> TriggerCheck:
        """Whether the pool's SyncTrigger will fire: binding, function, region, account and
        permission, each with a one-line fix. Reads only."""
        from ._ensure_run import check

        return check(self._calls(), identity_pool_id)

    def close(self) -> None:
        """Release the connections of the session this client created; a session passed in
        stays open. A closed client that is used again opens new connections."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> CognitoEventsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        # Only what was passed in: a repr must not read files or the environment.
        explicit = self._explicit_credentials
        if explicit is None:
            credentials = "<resolved at first call>"
        elif isinstance(explicit, Credentials):
            credentials = repr(explicit)
        else:
            credentials = f"<{type(explicit).__name__}>"
        return (
            f"CognitoEventsClient(region={self._region_arg!r}, "
            f"endpoint_url={self._endpoint_arg!r}, profile={self._profile!r}, "
            f"credentials={credentials}, retry={self._retry_arg!r}, timeout={self._timeout!r})"
        )

    # -- internals ----------------------------------------------------------------------

    def _resolve(self) -> _State:
        """Resolve configuration and the credentials chain once, at first use."""
        state = self._state
        if state is None:
            with self._lock:
                if self._state is None:
                    self._state = self._load_state()
                state = self._state
        return state

    def _load_state(self) -> _State:
        # The file parser stays out of import time, and the credential chain with its
        # sources (processes, containers, instance metadata) out of any client given
        # credentials=.
        from ._config import load_config

        environ = os.environ if self._environ is None else self._environ
        config = load_config(
            region=self._region_arg,
            endpoint_url=self._endpoint_arg,
            profile=self._profile,
            environ=environ,
        )
        provider = self._credentials_provider
        if provider is None:
            from ._chain import make_provider

            provider = make_provider(None, config=config, environ=environ)
        retry = self._retry_arg
        if retry is None:
            retry = (
                RetryPolicy(max_attempts=config.max_attempts)
                if config.max_attempts is not None
                else DEFAULT_RETRY_POLICY
            )
        return _State(config, provider, retry)

    def _settings_for(self, base: str, ca_bundle: str | None) -> SendSettings:
        settings = self._settings.get(base)
        if settings is None:
            settings = send_settings(self._session, base, ca_bundle=ca_bundle)
            self._settings[base] = settings
        return settings

    def _route(self, config: ClientConfig, identity_pool_id: str) -> _Route:
        """Where and how requests for this pool go; computed once per pool id."""
        route = self._routes.get(identity_pool_id)
        if route is None:
            region = config.region or pool_region(identity_pool_id)
            hint = None
            base = config.endpoint_url
            if base is None:
                base = config.default_endpoint(region)
                hint = config.default_endpoint_hint(region)
            route = _Route(
                self._session,
                region=region,
                base=base,
                identity_pool_id=identity_pool_id,
                settings=self._settings_for(base, config.ca_bundle),
                hint=hint,
            )
            if len(self._routes) >= _MAX_ROUTES:
                self._routes.clear()
            self._routes[identity_pool_id] = route
        return route

    # -- Lambda and STS, for ensure/check (see ``_ensure_run``) --------------------------

    def _calls(self) -> Calls:
        """The calls ensure and check make, as this client's bound methods."""
        from ._ensure_run import Calls

        return Calls(
            get_events=self.get_cognito_events,
            set_events=self.set_cognito_events,
            region_of=self._region_of,
            caller_account=self._caller_account,
            get_policy=self._get_policy,
            add_permission=self._add_permission,
            remove_permission=self._remove_permission,
        )

    def _region_of(self, identity_pool_id: str) -> str:
        """The region calls about this pool are signed for (validating the pool id)."""
        config = self._resolve().config
        validate_get(identity_pool_id, config.region, config.region_source)
        return config.region or pool_region(identity_pool_id)

    def _caller_account(self, region: str) -> str:
        """STS GetCallerIdentity: the account of the client's credentials."""
        return self._call_service(self._resolve(), GET_CALLER_IDENTITY, region, STS_BODY)

    def _get_policy(self, region: str, function_arn: str) -> PolicyAnswer | None:
        """The function's resource policy; None when it has none yet.

        ``ResourceNotFoundError`` when the function does not exist: Lambda answers
        ResourceNotFoundException for both, "Function not found" only for that one.
        """
        try:
            return self._call_service(
                self._resolve(), GET_POLICY, region, FunctionName=function_arn
            )
        except ResourceNotFoundError as exc:
            if exc.message.startswith("Function not found"):
                raise
            return None

    def _add_permission(self, region: str, function_arn: str, body: bytes) -> None:
        self._call_service(self._resolve(), ADD_PERMISSION, region, body, FunctionName=function_arn)

    def _remove_permission(self, region: str, function_arn: str, statement_id: str) -> None:
        self._call_service(
            self._resolve(),
            REMOVE_PERMISSION,
            region,
            FunctionName=function_arn,
            StatementId=statement_id,
        )

    def _target(self, config: ClientConfig, service: str, region: str) -> _Target:
        """Where ``lambda``/``sts`` requests for ``region`` go; resolved once per pair."""
        key = f"{service} {region}"
        target = self._targets.get(key)
        if target is None:
            base, source = config.service_endpoint(service, region)
            target = _Target(
                region=region,
                base=base,
                settings=self._settings_for(base, config.ca_bundle),
                hint=None
                if source is not None
                else f"{base} is the default {service} endpoint of region {region!r}.",
            )
            self._targets[key] = target
        return target

    def _call_service(
        self,
        state: _State,
        operation: Operation[_T],
        region: str,
        body: bytes | None = None,
        **params: str,
    ) -> _T:
        """One Lambda or STS call in ``region``, with the client's credentials and retries."""
        target = self._target(state.config, operation.signing_name, region)
        shape = _Shape(self._session, operation, operation.url(target.base, **params))
        return self._call(state, operation, target, shape, body)

    def _prepare(
        self,
        operation: Operation[Any],
        route: _Target,
        shape: _Shape,
        body: bytes | None,
        credentials: Credentials,
    ) -> tuple[requests.PreparedRequest, tuple[str | None, ...]]:
        """A signed copy of the shape's request; with the secrets no error may quote."""
        signed = shape.template.sign(
            body=body,
            credentials=credentials,
            region=route.region,
            service=operation.signing_name,
            timestamp=self._clock() + offset if (offset := self._clock_offset) else self._clock(),
        )
        if logger.isEnabledFor(logging.DEBUG):
            _log_signing(
                operation.method, shape.request.url or "", signed, credentials.session_token
            )
        prepared = shape.request.copy()
        # The template's own headers are in the prepared request already; add the signer's.
        headers = prepared.headers
        for name, value in signed.headers[len(shape.template.headers) :]:
            headers[name] = value
        if body is not None:
            prepared.body = body
            headers["Content-Length"] = str(len(body))  # what prepare_content_length sets
        secrets = (credentials.session_token, credentials.secret_access_key, signed.signature)
        return prepared, secrets

    def _call(
        self,
        state: _State,
        operation: Operation[_T],
        route: _Target,
        shape: _Shape,
        body: bytes | None,
    ) -> _T:
        provider = state.provider
        policy = state.retry
        connect_timeout, read_timeout = self._timeout
        total = self._total_timeout
        call_deadline = math.inf if total is None else time.monotonic() + total
        attempts = 0
        limit = policy.max_attempts
        skew_corrected = False
        retry_cost = 0
        last_error: CognitoEventsError | None = None
        while True:
            attempts += 1
            headers: Mapping[str, str] = {}
            secrets: tuple[str | None, ...] = ()
            started = time.monotonic()
            remaining = call_deadline - started
            if remaining <= 0:  # a wait or a re-signed retry ran past total_timeout
                raise last_error or ReadTimeoutError(
                    f"{operation.name}: the call's total_timeout of {total} s passed",
                    attempts=attempts - 1,
                )
            try:
                prepared, secrets = self._prepare(operation, route, shape, body, provider.get())
                status, headers, content = send(
                    self._session,
                    prepared,
                    settings=route.settings,
                    timeout=(min(connect_timeout, remaining), min(read_timeout, remaining)),
                    deadline=min(started + connect_timeout + read_timeout, call_deadline),
                    operation=operation.name,
                    hint=route.hint,
                )
            except TransportError as exc:
                error: CognitoEventsError = exc
                exc.attempts = attempts
                exc.message = redact(exc.message, secrets)
                exc.args = (exc.message,)
                last_error = exc
            else:
                if 200 <= status < 300:
                    self._quota.release(retry_cost or NO_RETRY_REFUND)
                    return operation.parse((status, headers, content), secrets)
                service_error = error_from_response(
                    status, headers, content, attempts=attempts, secrets=secrets
                )
                last_error = service_error
                if not skew_corrected and self._correct_clock(service_error, headers):
                    # A re-signed retry with the service's time; not charged to the budget.
                    skew_corrected = True
                    limit += 1
                    continue
                error = service_error
            throttled = is_throttling(error)
            if not (throttled or is_transient(error)):
                raise error
            if attempts >= limit:
                raise error
            cost = (
                RetryPolicy.THROTTLING_RETRY_COST if throttled else RetryPolicy.TRANSIENT_RETRY_COST
            )
            delay = backoff_delay(
                policy, attempts - (1 if skew_corrected else 0), throttled, self._random()
            )
            delay = apply_hint(policy, delay, retry_after_hint(headers))
            if time.monotonic() + delay >= call_deadline:
                logger.debug(
                    "Not retrying %s: the next attempt would start after the call's "
                    "total_timeout of %.3f s",
                    operation.name,
                    total,
                )
                raise error
            if not self._quota.acquire(cost):
                logger.debug(
                    "Not retrying %s: the client's retry quota is exhausted (%s)",
                    operation.name,
                    self._quota,
                )
                raise error
            retry_cost = cost
            logger.debug(
                "Retrying %s: attempt %d of %d failed with %s; next attempt in %.3f s%s",
                operation.name,
                attempts,
                limit,
                _error_label(error),
                delay,
                _request_id_suffix(error),
            )
            self._sleep(delay)

    def _correct_clock(self, error: ServiceError, headers: Mapping[str, str]) -> bool:
        """On a clock-skew rejection, learn the service's time from ``Date``; True if learned."""
        if not (
            isinstance(error, NotAuthorizedError)
            and error.status_code == 403
            and error.code == "InvalidSignatureException"
            and any(marker in error.message for marker in _SKEW_MARKERS)
        ):
            return False
        date = header_value(headers, "Date")
        if date is None:
            return False
        server_time = parse_http_date(date)
        if server_time is None:
            return False
        offset = server_time - self._clock()
        self._clock_offset = offset
        logger.debug(
            "Clock skew: the service's clock is %.0f s off this machine's; re-signing%s",
            offset.total_seconds(),
            _request_id_suffix(error),
        )
        return True


def _log_signing(
    method: str, url: str, signed: sigv4.SignedRequest, session_token: str | None
) -> None:
    """One DEBUG line per attempt with what was signed; the token is redacted."""
    canonical = signed.canonical_request
    if session_token:
        canonical = canonical.replace(session_token, "<redacted>")
    logger.debug(
        "Signing %s %s (signed headers %s)\ncanonical request:\n%s\nstring to sign:\n%s",
        method,
        url,
        signed.signed_headers,
        canonical,
        signed.string_to_sign,
    )


def _error_label(error: CognitoEventsError) -> str:
    if isinstance(error, ServiceError):
        return f"{error.code or 'no error code'} (HTTP {error.status_code})"
    return type(error).__name__


def _request_id_suffix(error: CognitoEventsError) -> str:
    if isinstance(error, ServiceError) and error.request_id:
        return f" [request id {error.request_id}]"
    return ""
