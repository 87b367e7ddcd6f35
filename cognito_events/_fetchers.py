"""What runs or fetches credentials: ``credential_process``, container, instance metadata.

The ``_sources`` entries that need I/O delegate here. HTTP goes through a private
``requests.Session`` per fetch, with ``trust_env=False`` (no proxy, no ``.netrc``: the
metadata endpoints are link-local and must not be proxied) and timeouts always set;
every failure becomes ``CredentialsError``. Nothing a process writes on stdout or an
endpoint returns in a body is ever put in a message or a log line.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final, TypeGuard
from urllib.parse import urlsplit

import attrs
import requests

from ._config.lookup import SettingsLookup, parse_bool
from ._config.profiles import Profile
from ._credentials import Credentials, Expiring, SourceSettings
from ._errors import CredentialsError, Problem, ValidationError
from ._validation import check_endpoint_url, endpoint_base
from ._version import __version__

__all__ = [
    "CredentialProcessError",
    "ImdsSource",
    "ProcessSource",
    "container_source",
    "parse_expiration",
]

logger = logging.getLogger("cognito_events.credentials")

#: Longest stderr (characters) kept from a failing credential_process.
MAX_STDERR_CHARS: Final = 2000

CONTAINER_HOST: Final = "169.254.170.2"
#: Hosts an http:// AWS_CONTAINER_CREDENTIALS_FULL_URI may name besides loopback (the
#: ECS and EKS Pod Identity agents), as the SDKs allow.
CONTAINER_HOSTS: Final = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"})
IMDS_IPV4: Final = "http://169.254.169.254"
IMDS_IPV6: Final = "http://[fd00:ec2::254]"
IMDS_SESSION_SECONDS: Final = "21600"
IMDS_ROLE_PATH: Final = "/latest/meta-data/iam/security-credentials/"
USER_AGENT: Final = f"cognito-events/{__version__}"


class CredentialProcessError(CredentialsError):
    """``credential_process`` failed; ``.stderr`` is what it wrote there (never stdout)."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None):
        super().__init__(message)
        self.stderr = stderr
        self.returncode = returncode


def parse_expiration(text: object, source: str) -> float:
    """An ISO 8601 ``Expiration`` as epoch seconds (a timestamp without zone is UTC)."""
    if not isinstance(text, str):
        raise CredentialsError(f"{source}: Expiration must be an ISO 8601 timestamp string")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CredentialsError(
            f"{source}: Expiration {text[:40]!r} is not an ISO 8601 timestamp"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _is_json_object(value: object) -> TypeGuard[dict[str, object]]:
    """Whether parsed JSON is an object, typed for reading its fields.

    ``isinstance`` narrows to a dict of unknown types; a JSON object's keys are strings.
    """
    return isinstance(value, dict)


def _credentials_from_document(
    document: object, source: str, *, session_field: str, session_required: bool
) -> tuple[Credentials, object]:
    """(Credentials, raw Expiration) from a JSON object; errors name fields only."""
    if not _is_json_object(document):
        raise CredentialsError(f"{source}: the answer is not a JSON object")
    access_key = document.get("AccessKeyId")
    secret_key = document.get("SecretAccessKey")
    token = document.get(session_field)
    missing = [
        key
        for key, value in (
            ("AccessKeyId", access_key),
            ("SecretAccessKey", secret_key),
            *(((session_field, token),) if session_required else ()),
        )
        if not isinstance(value, str) or not value
    ]
    if missing:
        raise CredentialsError(f"{source}: the answer has no usable " + ", ".join(missing))
    if token is not None and not isinstance(token, str):
        raise CredentialsError(f"{source}: {session_field} must be a string")
    assert isinstance(access_key, str)
    assert isinstance(secret_key, str)
    credentials = Credentials(access_key, secret_key, token or None)
    return credentials, document.get("Expiration")


# -- credential_process -------------------------------------------------------------------


def _split_command(command: str) -> list[str]:
    """Shell-style words (POSIX rules; on Windows, double quotes group words)."""
    import shlex

    if os.name == "nt":
        return [part.strip('"') for part in shlex.split(command, posix=False)]
    return shlex.split(command)


class ProcessSource:
    """Runs ``credential_process`` (no shell) and reads its JSON (``Version`` 1)."""

    def __init__(
        self, command: str, *, place: str, timeout: float, clock: Callable[[], float]
    ) -> None:
        self._command = command
        self._place = place
        self._timeout = timeout
        self._clock = clock

    def fetch(self) -> Expiring:
        import subprocess

        source = f"credential_process ({self._place})"
        try:
            argv = _split_command(self._command)
        except ValueError as exc:
            raise CredentialProcessError(f"{source} is not a valid command line: {exc}") from None
        if not argv:
            raise CredentialProcessError(f"{source} is empty")
        try:
            completed = subprocess.run(  # noqa: S603 (no shell; the user's own command)
                argv, capture_output=True, timeout=self._timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            stderr = _redact_output_secrets(_decode(exc.stderr), exc.output or b"")
            raise CredentialProcessError(
                f"{source} did not finish within {self._timeout:g} s and was stopped"
                + _stderr_suffix(stderr),
                stderr=stderr,
            ) from None
        except OSError as exc:
            raise CredentialProcessError(
                f"{source} could not start {argv[0]!r}: {exc.strerror or type(exc).__name__}"
            ) from None
        stderr = _redact_output_secrets(_decode(completed.stderr), completed.stdout)
        try:
            if completed.returncode != 0:
                raise CredentialProcessError(
                    f"{source} exited with status {completed.returncode}" + _stderr_suffix(stderr),
                    stderr=stderr,
                    returncode=completed.returncode,
                )
            return self._parse(completed.stdout, source)
        except CredentialProcessError:
            raise
        except CredentialsError as exc:
            raise CredentialProcessError(
                str(exc) + _stderr_suffix(stderr), stderr=stderr, returncode=0
            ) from None

    def _parse(self, stdout: bytes, source: str) -> Expiring:
        try:
            document = json.loads(stdout)
        except RecursionError:
            raise CredentialsError(f"{source}: its output is nested too deeply") from None
        except ValueError as exc:
            position = (
                f" (at line {exc.lineno}, column {exc.colno})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            raise CredentialsError(f"{source}: its output is not JSON{position}") from None
        if _is_json_object(document) and document.get("Version") != 1:
            version = document.get("Version")
            shown = repr(version) if isinstance(version, int | float | None) else "not a number"
            raise CredentialsError(f"{source}: Version must be 1, got {shown}")
        credentials, expiration = _credentials_from_document(
            document, source, session_field="SessionToken", session_required=False
        )
        if expiration is None:
            return Expiring(credentials)
        return Expiring(credentials, parse_expiration(expiration, source))


_SECRET_FIELD = re.compile(r'"(?:SecretAccessKey|SessionToken)"\s*:\s*"([^"\\]+)')


def _redact_output_secrets(stderr: str, stdout: bytes) -> str:
    """Remove from stderr any secret that stdout holds (a script echoing its output)."""
    if not stderr:
        return stderr
    try:
        document = json.loads(stdout)
    except (ValueError, RecursionError):
        document = None
    values: list[object]
    if _is_json_object(document):
        values = [document.get(key) for key in ("SecretAccessKey", "SessionToken")]
    else:  # not a JSON object (cut short, say): find the fields by their shape
        values = _SECRET_FIELD.findall(stdout.decode("utf-8", errors="replace"))
    for value in values:
        if isinstance(value, str) and len(value) >= 8:
            stderr = stderr.replace(value, "<redacted>")
    return stderr


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text.strip()
    if len(text) > MAX_STDERR_CHARS:
        text = text[:MAX_STDERR_CHARS] + "…"
    return text


def _stderr_suffix(stderr: str) -> str:
    return f"; its stderr:\n{stderr}" if stderr else " (nothing on stderr)"


# -- HTTP ---------------------------------------------------------------------------------


class _HttpError(Exception):
    """A request got no usable answer; ``retryable`` for connection errors and 5xx."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


def _describe_request_error(exc: requests.RequestException, timeout: float) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeout:g} s"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed"
    return f"request failed ({type(exc).__name__})"


def _request(
    method: str, url: str, headers: Mapping[str, str], timeout: float
) -> tuple[int, bytes]:
    """One request through a private, proxy-free session that is closed afterwards."""
    with requests.Session() as session:
        session.trust_env = False
        try:
            response = session.request(
                method,
                url,
                headers={"User-Agent": USER_AGENT, **headers},
                timeout=(timeout, timeout),
                allow_redirects=False,
            )
            with response:
                return response.status_code, response.content
        except requests.RequestException as exc:
            raise _HttpError(_describe_request_error(exc, timeout), retryable=True) from exc


def _attempts(
    call: Callable[[], tuple[int, bytes]],
    *,
    attempts: int,
    pause: float,
    sleep: Callable[[float], None],
) -> tuple[int, bytes]:
    """Run ``call`` until it answers below 500, up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            status, body = call()
        except _HttpError as failure:
            if attempt >= attempts:
                raise
            logger.debug("Metadata request failed (%s); trying again", failure)
        else:
            if status < 500:
                return status, body
            if attempt >= attempts:
                raise _HttpError(f"HTTP {status}", retryable=True, status=status)
            logger.debug("Metadata request answered HTTP %d; trying again", status)
        sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def _json(body: bytes, source: str) -> object:
    try:
        return json.loads(body)
    except ValueError:
        raise CredentialsError(f"{source}: the answer is not JSON") from None


# -- container credentials ----------------------------------------------------------------


@attrs.frozen
class _ContainerSource:
    name: str
    url: str
    token: str | None
    token_file: str | None
    settings: SourceSettings
    sleep: Callable[[float], None]

    def _authorization(self) -> dict[str, str]:
        token = self.token
        if self.token_file is not None:
            try:
                with open(self.token_file, encoding="utf-8") as handle:
                    token = handle.read().strip()
            except (OSError, UnicodeDecodeError) as exc:
                detail = getattr(exc, "strerror", None) or type(exc).__name__
                raise CredentialsError(
                    f"Cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {self.token_file}: "
                    f"{detail}"
                ) from exc
        if token is None:
            return {}
        if "\r" in token or "\n" in token:
            raise CredentialsError(
                "The container authorization token contains a line break, which is not "
                "allowed in an HTTP header"
            )
        return {"Authorization": token}

    def fetch(self) -> Expiring:
        headers = {"Accept": "application/json", **self._authorization()}
        timeout = self.settings.container_timeout
        try:
            status, body = _attempts(
                lambda: _request("GET", self.url, headers, timeout),
                attempts=self.settings.container_attempts,
                pause=self.settings.retry_pause,
                sleep=self.sleep,
            )
        except _HttpError as failure:
            raise CredentialsError(f"{self.name}: {failure}") from failure
        if status != 200:
            raise CredentialsError(f"{self.name}: answered HTTP {status}")
        credentials, expiration = _credentials_from_document(
            _json(body, self.name), self.name, session_field="Token", session_required=False
        )
        if expiration is None:
            return Expiring(credentials)
        return Expiring(credentials, parse_expiration(expiration, self.name))


def _check_container_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise CredentialsError(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL"
            + (f": {url[:80]!r}" if "@" not in url else "")
        )
    if parts.scheme == "https" or host in CONTAINER_HOSTS:
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise CredentialsError(
            f"AWS_CONTAINER_CREDENTIALS_FULL_URI names host {host!r}: over http only a "
            "loopback address or the ECS/EKS agent hosts ("
            + ", ".join(sorted(CONTAINER_HOSTS))
            + ") are allowed, as in the AWS SDKs; use https for any other host"
        )


def container_source(
    environ: Mapping[str, str],
    *,
    settings: SourceSettings,
    sleep: Callable[[float], None],
) -> _ContainerSource | None:
    """The container credentials source, when its variables are set."""
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if relative:
        url = f"http://{CONTAINER_HOST}{relative}"
        name = f"container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, {CONTAINER_HOST})"
    elif full:
        _check_container_url(full)
        url = full
        parts = urlsplit(full)
        name = f"container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI, {parts.netloc})"
    else:
        return None
    return _ContainerSource(
        name=name,
        url=url,
        token=environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN") or None,
        token_file=environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") or None,
        settings=settings,
        sleep=sleep,
    )


# -- EC2 instance metadata ----------------------------------------------------------------


@attrs.frozen
class ImdsSource:
    """IMDSv2: PUT a session token, GET the role name, GET the role's credentials."""

    endpoint: str
    timeout: float
    attempts: int
    pause: float
    sleep: Callable[[float], None]

    @property
    def name(self) -> str:
        return f"EC2 instance metadata ({self.endpoint})"

    @classmethod
    def from_settings(
        cls,
        environ: Mapping[str, str],
        profile: Profile,
        *,
        settings: SourceSettings,
        sleep: Callable[[float], None],
    ) -> ImdsSource | None:
        """None when disabled; raises ``ValidationError`` for invalid settings."""
        problems: list[Problem] = []
        disabled = environ.get("AWS_EC2_METADATA_DISABLED")
        if disabled and parse_bool(disabled, "AWS_EC2_METADATA_DISABLED", problems):
            return None
        lookup = SettingsLookup(environ, profile, problems)
        timeout = lookup.seconds("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout")
        attempts = lookup.whole_number(
            "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts"
        )
        endpoint = IMDS_IPV4
        found = lookup.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint")
        if found is not None:
            endpoint_problems = check_endpoint_url(found[0], found[1])
            problems += endpoint_problems
            endpoint = endpoint_base(found[0])
        else:
            mode = lookup.get(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode"
            )
            if mode is not None:
                if mode[0].strip().lower() == "ipv6":
                    endpoint = IMDS_IPV6
                elif mode[0].strip().lower() != "ipv4":
                    problems.append(Problem(mode[1], f"must be IPv4 or IPv6, got {mode[0]!r}"))
        if problems:
            raise ValidationError(problems)
        return cls(
            endpoint=endpoint,
            timeout=timeout or 1.0,
            attempts=attempts or 1,
            pause=settings.retry_pause,
            sleep=sleep,
        )

    def _call(self, method: str, path: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
        url = self.endpoint + path
        return _attempts(
            lambda: _request(method, url, headers, self.timeout),
            attempts=self.attempts,
            pause=self.pause,
            sleep=self.sleep,
        )

    def fetch(self) -> Expiring:
        """Credentials of the instance's role; ``CredentialsError`` names this source."""
        try:
            return self._fetch()
        except (_HttpError, CredentialsError) as exc:
            raise CredentialsError(f"{self.name}: {exc}") from exc

    def _fetch(self) -> Expiring:
        status, body = self._call(
            "PUT",
            "/latest/api/token",
            {"X-aws-ec2-metadata-token-ttl-seconds": IMDS_SESSION_SECONDS},
        )
        if status != 200 or not body.strip():
            raise CredentialsError(
                f"no IMDSv2 session token (HTTP {status} to PUT /latest/api/token); "
                "IMDSv1 is not used"
            )
        try:
            token = body.decode("ascii").strip()
        except UnicodeDecodeError:
            raise CredentialsError("the IMDSv2 session token is not ASCII") from None
        if "\r" in token or "\n" in token:
            raise CredentialsError("the IMDSv2 session token contains a line break")
        headers = {"X-aws-ec2-metadata-token": token}
        status, body = self._call("GET", IMDS_ROLE_PATH, headers)
        role = body.decode("utf-8", errors="replace").strip().splitlines()
        if status == 404 or (status == 200 and not role):
            raise CredentialsError("no IAM role is attached to this instance")
        if status != 200:
            raise CredentialsError(f"HTTP {status} to GET {IMDS_ROLE_PATH}")
        role_name = role[0].strip()
        if "/" in role_name or not role_name.isprintable():
            raise CredentialsError("the role name it gave is not usable")
        status, body = self._call("GET", IMDS_ROLE_PATH + role_name, headers)
        if status != 200:
            raise CredentialsError(f"HTTP {status} to GET {IMDS_ROLE_PATH}{role_name}")
        source = f"role {role_name!r}"
        document = _json(body, source)
        if _is_json_object(document) and document.get("Code", "Success") != "Success":
            code = document.get("Code")
            shown = code[:60] if isinstance(code, str) else "not a string"
            raise CredentialsError(f"{source}: Code is {shown!r}, not 'Success'")
        credentials, expiration = _credentials_from_document(
            document, source, session_field="Token", session_required=True
        )
        if expiration is None:
            raise CredentialsError(f"{source}: the answer has no Expiration")
        return Expiring(credentials, parse_expiration(expiration, source))
