"""``CognitoEventsClient``: orchestrates validation, signing, sending and retries."""

from __future__ import annotations

import json
import logging
import os
import random as _random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

import requests
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict

from . import sigv4
from ._credentials import Credentials, CredentialsProvider, CredentialsSource
from ._errors import (
    CognitoEventsError,
    NotAuthorizedError,
    Problem,
    ServiceError,
    TransportError,
    ValidationError,
    error_from_response,
    header_value,
)
from ._providers import check_credentials_source
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
from ._transport import environ_proxies, resolve_proxies, resolve_verify, send
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

__all__ = ["DEFAULT_TIMEOUT", "CognitoEventsClient"]

logger = logging.getLogger("cognito_events")

#: (connect, read) seconds. Always set: a request never waits forever.
DEFAULT_TIMEOUT: Final = (3.05, 30.0)
SERVICE: Final = "cognito-sync"
USER_AGENT: Final = (
    f"cognito-events/{__version__} Python/{sys.version_info[0]}.{sys.version_info[1]}."
    f"{sys.version_info[2]} requests/{requests.__version__}"
)
_JSON_HEADERS: Final = (("Content-Type", "application/json"),)
_SKEW_MARKERS: Final = ("Signature expired", "Signature not yet current")
# requests copies a prepared request's cookie jar when it meets a redirect (even one it
# does not follow); this one stays empty because only copies of it are ever written.
_NO_COOKIES: Final = RequestsCookieJar()
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


def _check_timeout(value: object) -> tuple[tuple[float, float] | None, list[Problem]]:
    def usable(number: object) -> bool:
        return (
            isinstance(number, int | float)
            and not isinstance(number, bool)
            and 0 < number < float("inf")
        )

    if usable(value):
        seconds = float(value)  # type: ignore[arg-type]
        return (seconds, seconds), []
    if isinstance(value, tuple) and len(value) == 2 and all(usable(part) for part in value):
        return (float(value[0]), float(value[1])), []
    return None, [
        Problem(
            "timeout",
            "must be a positive finite number of seconds or a (connect, read) pair of them, "
            f"got {value!r}",
        )
    ]


class _State:
    """What a client resolves once, at first use: settings, credentials, retry policy."""

    __slots__ = ("config", "provider", "retry", "verify")

    def __init__(
        self,
        config: ClientConfig,
        provider: CredentialsProvider,
        retry: RetryPolicy,
        verify: bool | str,
    ) -> None:
        self.config = config
        self.provider = provider
        self.retry = retry
        self.verify = verify


class _Route:
    """The region, URL, proxies and signing templates of one identity pool's events."""

    __slots__ = ("get", "get_store", "hint", "post", "post_store", "proxies", "region", "url")

    def __init__(self, region: str, url: str, proxies: dict[str, str], hint: str | None) -> None:
        self.region = region
        self.url = url
        self.proxies = proxies
        self.hint = hint
        self.post = sigv4.RequestTemplate(method="POST", url=url, headers=_JSON_HEADERS)
        self.get = sigv4.RequestTemplate(method="GET", url=url, headers=())
        self.post_store = _header_store(self.post.headers)
        self.get_store = _header_store(self.get.headers)


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
        if _wrong_type(session, requests.Session):
            problems.append(
                Problem(
                    "session", f"must be a requests.Session or None, not {type(session).__name__}"
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
        self._state: _State | None = None
        self._owns_session = session is None
        self._session: requests.Session = session if session is not None else requests.Session()
        self._verify = resolve_verify(self._session)
        self._proxies: dict[str, dict[str, str]] = {}
        # HTTPS_PROXY/NO_PROXY are read here, once; endpoints known later use this copy.
        self._environ_proxies = environ_proxies(self._session)
        self._routes: dict[str, _Route] = {}
        self._lock = threading.Lock()
        self._clock_offset = timedelta(0)
        self._sleep = sleep or _sleep
        self._random = random or _jitter
        self._clock = clock or _utc_now
        if endpoint is not None:
            self._proxies[endpoint] = resolve_proxies(
                self._session, endpoint, self._environ_proxies
            )

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
        validate_set(identity_pool_id, events, state.config.region)
        [(name, arn)] = events.items()
        # Exactly one validated str pair: cheaper than a JSONEncoder, same bytes.
        body = f'{{"Events":{{{_json_str(name)}:{_json_str(arn)}}}}}'.encode()
        self._call(state, "SetCognitoEvents", "POST", identity_pool_id, body)

    def get_cognito_events(self, identity_pool_id: str) -> dict[str, str]:
        """Return the events of an identity pool and their Lambda ARNs (empty when none)."""
        state = self._resolve()
        validate_get(identity_pool_id, state.config.region)
        status, headers, content = self._call(
            state, "GetCognitoEvents", "GET", identity_pool_id, None
        )
        return _parse_events(status, headers, content)

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
        # The file parser and the credential sources stay out of import time.
        from ._chain import make_provider
        from ._config import load_config

        environ = os.environ if self._environ is None else self._environ
        config = load_config(
            region=self._region_arg,
            endpoint_url=self._endpoint_arg,
            profile=self._profile,
            environ=environ,
        )
        provider = make_provider(self._explicit_credentials, config=config, environ=environ)
        retry = self._retry_arg
        if retry is None:
            retry = (
                RetryPolicy(max_attempts=config.max_attempts)
                if config.max_attempts is not None
                else DEFAULT_RETRY_POLICY
            )
        verify = self._verify
        if config.ca_bundle is not None and self._session.verify is not False:
            verify = config.ca_bundle
        return _State(config, provider, retry, verify)

    def _proxies_for(self, base: str) -> dict[str, str]:
        proxies = self._proxies.get(base)
        if proxies is None:
            proxies = resolve_proxies(self._session, base, self._environ_proxies)
            self._proxies[base] = proxies
        return proxies

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
            url = f"{base}/identitypools/{quote(identity_pool_id, safe='')}/events"
            route = _Route(region, url, self._proxies_for(base), hint)
            if len(self._routes) >= _MAX_ROUTES:
                self._routes.clear()
            self._routes[identity_pool_id] = route
        return route

    def _prepare(
        self,
        method: str,
        route: _Route,
        body: bytes | None,
        credentials: Credentials,
    ) -> requests.PreparedRequest:
        template = route.post if body is not None else route.get
        signed = template.sign(
            body=body,
            credentials=credentials,
            region=route.region,
            service=SERVICE,
            timestamp=self._clock() + offset if (offset := self._clock_offset) else self._clock(),
        )
        if logger.isEnabledFor(logging.DEBUG):
            _log_signing(method, route.url, signed, credentials.session_token)
        # The same objects requests' own prepare() builds, filled in directly: its generic
        # path (URL parsing, header merging, hooks) is most of a call's cost here.
        # The template's own headers (and User-Agent) come first, already keyed; then
        # what the signer added: X-Amz-Date, the token, Authorization.
        static = route.post_store if body is not None else route.get_store
        store = static.copy()
        for name, value in signed.headers[len(template.headers) :]:
            store[name.lower()] = (name, value)
        if body is not None:
            store["content-length"] = ("Content-Length", str(len(body)))
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict.__new__(CaseInsensitiveDict)
        headers._store = store  # type: ignore[attr-defined]
        prepared = requests.PreparedRequest.__new__(requests.PreparedRequest)
        prepared.method = method
        prepared.url = route.url
        prepared.headers = headers
        prepared.body = body
        prepared.hooks = {"response": []}
        prepared._cookies = _NO_COOKIES  # type: ignore[attr-defined]
        prepared._body_position = None  # type: ignore[attr-defined]
        return prepared

    def _call(
        self, state: _State, operation: str, method: str, identity_pool_id: str, body: bytes | None
    ) -> tuple[int, Mapping[str, str], bytes]:
        route = self._route(state.config, identity_pool_id)
        proxies = route.proxies
        provider = state.provider
        policy = state.retry
        attempts = 0
        limit = policy.max_attempts
        skew_corrected = False
        retry_cost = 0
        while True:
            attempts += 1
            headers: Mapping[str, str] = {}
            try:
                prepared = self._prepare(method, route, body, provider.get())
                status, headers, content = send(
                    self._session,
                    prepared,
                    timeout=self._timeout,
                    proxies=proxies,
                    verify=state.verify,
                    operation=operation,
                    hint=route.hint,
                )
            except TransportError as exc:
                error: CognitoEventsError = exc
                exc.attempts = attempts
            else:
                if 200 <= status < 300:
                    self._quota.release(retry_cost or NO_RETRY_REFUND)
                    return status, headers, content
                service_error = error_from_response(status, headers, content, attempts=attempts)
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
            if not self._quota.acquire(cost):
                logger.debug(
                    "Not retrying %s: the client's retry quota is exhausted (%s)",
                    operation,
                    self._quota,
                )
                raise error
            retry_cost = cost
            delay = backoff_delay(
                policy, attempts - (1 if skew_corrected else 0), throttled, self._random()
            )
            delay = apply_hint(policy, delay, retry_after_hint(headers))
            logger.debug(
                "Retrying %s: attempt %d of %d failed with %s; next attempt in %.3f s%s",
                operation,
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


def _header_store(
    headers: tuple[tuple[str, str], ...],
) -> dict[str, tuple[str, str]]:
    """A CaseInsensitiveDict's store of a template's fixed headers plus User-Agent."""
    store = {name.lower(): (name, value) for name, value in headers}
    store["user-agent"] = ("User-Agent", USER_AGENT)
    return store


def _error_label(error: CognitoEventsError) -> str:
    if isinstance(error, ServiceError):
        return f"{error.code or 'no error code'} (HTTP {error.status_code})"
    return type(error).__name__


def _request_id_suffix(error: CognitoEventsError) -> str:
    if isinstance(error, ServiceError) and error.request_id:
        return f" [request id {error.request_id}]"
    return ""


def _parse_events(status: int, headers: Mapping[str, str], content: bytes) -> dict[str, str]:
    """Read ``{"Events": {...}}``; a malformed 2xx answer is a ``ServiceError``, never a crash."""
    try:
        document = json.loads(content) if content else {}
    except (ValueError, RecursionError):
        document = None
    events = document.get("Events", {}) if type(document) is dict else None
    if type(events) is dict:
        for key, value in events.items():
            if type(key) is not str or type(value) is not str:
                break
        else:
            return events
    shown = content[:200].decode("utf-8", errors="replace")
    raise ServiceError(
        status_code=status,
        code=None,
        message='GetCognitoEvents answered with a body that is not {"Events": {...}}: '
        + repr(shown),
        request_id=header_value(headers, "x-amzn-RequestId"),
    )
