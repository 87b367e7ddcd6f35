"""credential_process, container and instance-metadata credentials, against real local
processes and HTTP servers on 127.0.0.1 (never the real link-local endpoints)."""

from __future__ import annotations

import json
import os
import shlex
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests_mock

from cognito_events import Credentials, CredentialsError, ValidationError
from cognito_events._chain import make_provider
from cognito_events._config import load_config
from cognito_events._credentials import CredentialsProvider, SourceSettings
from cognito_events._fetchers import CredentialProcessError, parse_expiration

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
NOW = 1_700_000_000.0
FAST = SourceSettings(
    process_timeout=5.0, container_timeout=0.3, container_attempts=2, retry_pause=0.0
)


@pytest.fixture(autouse=True)
def _isolated(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared files under an empty HOME (conftest clears AWS_* and allows only loopback)."""
    # A proxy that does not exist: the metadata requests must ignore it (trust_env=False).
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def provider_for(
    environ: dict[str, str],
    *,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
    settings: SourceSettings = FAST,
    profile: str | None = None,
) -> CredentialsProvider:
    config = load_config(region=None, endpoint_url=None, profile=profile, environ=environ)
    return make_provider(
        None,
        config=config,
        environ=environ,
        clock=clock or Clock(),
        sleep=sleep or Sleeps(),
        settings=settings,
    )


# -- a loopback HTTP server ----------------------------------------------------------------

Reply = tuple[int, bytes] | None  # None: hang until the test ends


class Server:
    """Answers each (method, path) with a function of the request headers."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[dict[str, str]], Reply]] = {}
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                headers = {key.lower(): value for key, value in self.headers.items()}
                outer.seen.append((self.command, self.path, headers))
                route = outer.routes.get((self.command, self.path))
                reply = route(headers) if route is not None else (404, b"not found")
                if reply is None:
                    outer.release.wait(10)
                    self.close_connection = True
                    return
                status, body = reply
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[Server]:
    instance = Server()
    try:
        yield instance
    finally:
        instance.close()


def credentials_json(key: str, expires: float) -> bytes:
    return json.dumps(
        {
            "Code": "Success",
            "Type": "AWS-HMAC",
            "AccessKeyId": key,
            "SecretAccessKey": SECRET,
            "Token": TOKEN,
            "Expiration": iso(expires),
        }
    ).encode()


ROLES = "/latest/meta-data/iam/security-credentials/"


class Imds:
    """An IMDSv2 stand-in on a Server: token PUT, role name, role credentials."""

    def __init__(self, server: Server, clock: Clock, lifetime: float = 6 * 3600) -> None:
        self.server = server
        self.clock = clock
        self.lifetime = lifetime
        self.issued = 0
        server.routes[("PUT", "/latest/api/token")] = self.token
        server.routes[("GET", ROLES)] = self.guarded(lambda: (200, b"my-role\n"))
        server.routes[("GET", ROLES + "my-role")] = self.guarded(self.credentials)

    def token(self, headers: dict[str, str]) -> Reply:
        if headers.get("x-aws-ec2-metadata-token-ttl-seconds") != "21600":
            return 400, b"missing ttl"
        return 200, b"SESSIONTOKEN"

    def guarded(self, answer: Callable[[], Reply]) -> Callable[[dict[str, str]], Reply]:
        def route(headers: dict[str, str]) -> Reply:
            if headers.get("x-aws-ec2-metadata-token") != "SESSIONTOKEN":
                return 401, b""
            return answer()

        return route

    def credentials(self) -> Reply:
        self.issued += 1
        return 200, credentials_json(f"AKIDIMDS{self.issued}", self.clock() + self.lifetime)

    def environ(self, **variables: str) -> dict[str, str]:
        return {
            "HOME": os.environ["HOME"],
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": self.server.url,
            **variables,
        }


# -- instance metadata ----------------------------------------------------------------------


def test_imds_v2_flow(server: Server) -> None:
    clock = Clock()
    imds = Imds(server, clock)
    credentials = provider_for(imds.environ(), clock=clock).get()
    assert credentials == Credentials("AKIDIMDS1", SECRET, TOKEN)
    assert [(method, path) for method, path, _ in server.seen] == [
        ("PUT", "/latest/api/token"),
        ("GET", ROLES),
        ("GET", ROLES + "my-role"),
    ]
    assert server.seen[0][2]["user-agent"].startswith("cognito-events/")


def test_imds_credentials_are_refreshed_before_they_expire(server: Server) -> None:
    clock = Clock()
    imds = Imds(server, clock, lifetime=20 * 60)
    provider = provider_for(imds.environ(), clock=clock)
    assert provider.get().access_key_id == "AKIDIMDS1"
    clock.now += 4 * 60
    assert provider.get().access_key_id == "AKIDIMDS1"
    clock.now += 2 * 60  # 14 minutes left: inside the 15-minute advisory window
    assert provider.get().access_key_id == "AKIDIMDS2"
    assert imds.issued == 2


def test_imds_failure_at_refresh_time_is_a_credentials_error(server: Server) -> None:
    clock = Clock()
    imds = Imds(server, clock, lifetime=20 * 60)
    provider = provider_for(imds.environ(), clock=clock)
    provider.get()
    server.routes[("PUT", "/latest/api/token")] = lambda headers: (503, b"")
    clock.now += 11 * 60  # inside the mandatory window
    with pytest.raises(CredentialsError, match="HTTP 503") as caught:
        provider.get()
    assert "requests" not in type(caught.value).__module__


def test_hanging_imds_times_out_in_about_a_second(server: Server) -> None:
    server.routes[("PUT", "/latest/api/token")] = lambda headers: None
    environ = {"HOME": os.environ["HOME"], "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url}
    started = time.monotonic()
    with pytest.raises(CredentialsError) as caught:
        provider_for(environ).get()
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 3
    message = str(caught.value)
    assert "No AWS credentials found" in message
    assert f"EC2 instance metadata ({server.url}): no answer within 1 s" in message
    assert caught.value.__cause__ is None or not isinstance(caught.value.__cause__, OSError)


def test_imds_timeout_and_attempts_are_configurable(server: Server) -> None:
    clock = Clock()
    imds = Imds(server, clock)
    answers = iter([(500, b""), (502, b"")])
    server.routes[("PUT", "/latest/api/token")] = lambda headers: (
        next(answers, None) or (imds.token(headers))
    )
    sleeps = Sleeps()
    environ = imds.environ(AWS_METADATA_SERVICE_NUM_ATTEMPTS="3")
    assert provider_for(environ, clock=clock, sleep=sleeps).get().access_key_id == "AKIDIMDS1"
    assert len(sleeps.calls) == 2

    server.routes[("PUT", "/latest/api/token")] = lambda headers: None
    environ = imds.environ(AWS_METADATA_SERVICE_TIMEOUT="0.2")
    started = time.monotonic()
    with pytest.raises(CredentialsError, match=r"no answer within 0\.2 s"):
        provider_for(environ).get()
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("routes", "fragment"),
    [
        ({("GET", ROLES + "my-role"): (200, b"<html>" + SECRET.encode())}, "not JSON"),
        ({("GET", ROLES + "my-role"): (200, b'["a"]')}, "not a JSON object"),
        ({("GET", ROLES + "my-role"): (200, b'{"AccessKeyId": "A"}')}, "SecretAccessKey"),
        ({("GET", ROLES): (404, b"")}, "no IAM role is attached"),
        ({("PUT", "/latest/api/token"): (403, b"")}, "IMDSv1 is not used"),
        (
            {("GET", ROLES + "my-role"): (200, b'{"Code": "AssumeRoleUnauthorizedAccess"}')},
            "Code is 'AssumeRoleUnauthorizedAccess'",
        ),
    ],
)
def test_unusable_imds_answers(
    server: Server, routes: dict[tuple[str, str], tuple[int, bytes]], fragment: str
) -> None:
    clock = Clock()
    imds = Imds(server, clock)
    for route, reply in routes.items():
        server.routes[route] = lambda headers, reply=reply: reply  # type: ignore[misc]
    with pytest.raises(CredentialsError) as caught:
        provider_for(imds.environ(), clock=clock).get()
    message = str(caught.value)
    assert fragment in message
    assert "No AWS credentials found" in message
    assert SECRET not in message


def test_imds_default_and_ipv6_addresses() -> None:
    home = os.environ["HOME"]
    for environ, base in (
        ({"HOME": home}, "http://169.254.169.254"),
        (
            {"HOME": home, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"},
            "http://[fd00:ec2::254]",
        ),
    ):
        with requests_mock.Mocker() as mocked:  # intercepted: nothing is sent
            mocked.put(base + "/latest/api/token", text="SESSIONTOKEN")
            mocked.get(base + ROLES, text="role")
            mocked.get(base + ROLES + "role", content=credentials_json("AKIDMOCK", NOW + 3600))
            got = provider_for(environ, clock=Clock()).get()
        assert got.access_key_id == "AKIDMOCK"
        assert mocked.request_history[0].headers["X-aws-ec2-metadata-token-ttl-seconds"] == "21600"


def test_imds_settings_from_the_profile(server: Server, tmp_path: Path) -> None:
    clock = Clock()
    Imds(server, clock)
    config = tmp_path / "config"
    config.write_text(f"[default]\nec2_metadata_service_endpoint = {server.url}\n")
    environ = {"HOME": os.environ["HOME"], "AWS_CONFIG_FILE": str(config)}
    assert provider_for(environ, clock=clock).get().access_key_id == "AKIDIMDS1"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"AWS_METADATA_SERVICE_TIMEOUT": "abc"}, "AWS_METADATA_SERVICE_TIMEOUT"),
        ({"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "0"}, "AWS_METADATA_SERVICE_NUM_ATTEMPTS"),
        ({"AWS_EC2_METADATA_SERVICE_ENDPOINT": "nowhere"}, "AWS_EC2_METADATA_SERVICE_ENDPOINT"),
        (
            {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv7"},
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        ),
        ({"AWS_EC2_METADATA_DISABLED": "yes"}, "AWS_EC2_METADATA_DISABLED"),
    ],
)
def test_invalid_imds_settings(variables: dict[str, str], named: str) -> None:
    environ = {"HOME": os.environ["HOME"], **variables}
    with pytest.raises(ValidationError) as caught:
        provider_for(environ).get()
    assert caught.value.problems[0].parameter == named


# -- container credentials ------------------------------------------------------------------


class Container:
    def __init__(self, server: Server, clock: Clock, lifetime: float = 3600) -> None:
        self.issued = 0
        self.authorizations: list[str | None] = []
        self.clock = clock
        self.lifetime = lifetime
        server.routes[("GET", "/creds")] = self.answer
        self.url = server.url + "/creds"

    def answer(self, headers: dict[str, str]) -> Reply:
        self.authorizations.append(headers.get("authorization"))
        self.issued += 1
        return 200, credentials_json(f"AKIDTASK{self.issued}", self.clock() + self.lifetime)


def test_container_full_uri_with_token_and_refresh(server: Server) -> None:
    clock = Clock()
    container = Container(server, clock, lifetime=30 * 60)
    environ = {
        "HOME": os.environ["HOME"],
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Basic abc",
    }
    provider = provider_for(environ, clock=clock)
    assert provider.get() == Credentials("AKIDTASK1", SECRET, TOKEN)
    clock.now += 16 * 60  # 14 minutes left
    assert provider.get().access_key_id == "AKIDTASK2"
    assert container.authorizations == ["Basic abc", "Basic abc"]


def test_container_token_file_is_read_at_each_fetch(server: Server, tmp_path: Path) -> None:
    clock = Clock()
    container = Container(server, clock, lifetime=30 * 60)
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    environ = {
        "HOME": os.environ["HOME"],
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-a-file-is-set",
    }
    provider = provider_for(environ, clock=clock)
    provider.get()
    token_file.write_text("second-token")
    clock.now += 25 * 60
    provider.get()
    assert container.authorizations == ["first-token", "second-token"]

    token_file.unlink()
    clock.now += 25 * 60
    with pytest.raises(
        CredentialsError, match="Cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
    ):
        provider.get()


def test_container_token_with_a_line_break_is_refused(server: Server) -> None:
    container = Container(server, Clock())
    environ = {
        "HOME": os.environ["HOME"],
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Injected: 1",
    }
    with pytest.raises(CredentialsError, match="line break") as caught:
        provider_for(environ).get()
    assert "X-Injected" not in str(caught.value)
    assert container.issued == 0


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:1/creds", True),
        ("http://[::1]:1/creds", True),
        ("http://localhost:1/creds", True),
        ("http://169.254.170.23/v1/credentials", True),
        ("https://creds.example.com/x", True),
        ("http://creds.example.com/x", False),
        ("http://169.254.169.254/latest", False),
        ("ftp://127.0.0.1/x", False),
    ],
)
def test_container_full_uri_host_rules(url: str, allowed: bool) -> None:
    from cognito_events._fetchers import _check_container_url

    if allowed:
        _check_container_url(url)
    else:
        with pytest.raises(CredentialsError, match="AWS_CONTAINER_CREDENTIALS_FULL_URI"):
            _check_container_url(url)


def test_container_relative_uri_goes_to_the_ecs_agent_address() -> None:
    environ = {"HOME": os.environ["HOME"], "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/abc"}
    with requests_mock.Mocker() as mocked:  # intercepted: nothing is sent
        mocked.get("http://169.254.170.2/v2/abc", content=credentials_json("AKIDECS", NOW + 3600))
        assert provider_for(environ, clock=Clock()).get().access_key_id == "AKIDECS"
    assert mocked.request_history[0].headers["Accept"] == "application/json"


def test_container_retries_then_fails_without_falling_through(server: Server) -> None:
    clock = Clock()
    container = Container(server, clock)
    answers = iter([(500, b"")])
    server.routes[("GET", "/creds")] = lambda headers: (
        next(answers, None) or container.answer(headers)
    )
    sleeps = Sleeps()
    environ = {
        "HOME": os.environ["HOME"],
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url,
    }
    assert provider_for(environ, clock=clock, sleep=sleeps).get().access_key_id == "AKIDTASK1"
    assert len(sleeps.calls) == 1

    server.routes[("GET", "/creds")] = lambda headers: None  # hangs
    imds_env = Imds(server, clock).environ(AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url)
    started = time.monotonic()
    with pytest.raises(CredentialsError, match=r"no answer within 0\.3 s") as caught:
        provider_for(imds_env, clock=clock).get()
    assert time.monotonic() - started < 2
    assert "container credentials" in str(caught.value)
    assert caught.value.__cause__ is not None  # chained, but never a requests exception raised


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [((200, b"garbage " + SECRET.encode()), "not JSON"), ((403, b"denied"), "answered HTTP 403")],
)
def test_container_unusable_answers(
    server: Server, reply: tuple[int, bytes], fragment: str
) -> None:
    server.routes[("GET", "/creds")] = lambda headers: reply
    environ = {
        "HOME": os.environ["HOME"],
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/creds",
    }
    with pytest.raises(CredentialsError, match=fragment) as caught:
        provider_for(environ).get()
    assert SECRET not in str(caught.value)


def test_container_wins_over_instance_metadata(server: Server) -> None:
    clock = Clock()
    container = Container(server, clock)
    imds = Imds(server, clock)
    environ = imds.environ(AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url)
    assert provider_for(environ, clock=clock).get().access_key_id == "AKIDTASK1"
    assert imds.issued == 0


# -- credential_process ---------------------------------------------------------------------


class Scripts:
    def __init__(self, root: Path) -> None:
        self.root = root / "scripts with space"
        self.root.mkdir()
        self.config = root / "config"
        self.credentials = root / "credentials"

    def command(self, body: str, name: str = "process.py") -> str:
        path = self.root / name
        path.write_text(textwrap.dedent(body))
        return shlex.join([sys.executable, str(path)])

    def output(self, document: dict[str, object], *, stderr: str = "", code: int = 0) -> str:
        return self.command(
            f"""
            import json, sys
            sys.stderr.write({stderr!r})
            print(json.dumps({document!r}))
            sys.exit({code})
            """
        )

    def environ(self, config_text: str, credentials_text: str = "") -> dict[str, str]:
        self.config.write_text(config_text)
        self.credentials.write_text(credentials_text)
        return {
            "HOME": os.environ["HOME"],
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
        }


@pytest.fixture
def scripts(tmp_path: Path) -> Scripts:
    return Scripts(tmp_path)


def document(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": SECRET}
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def test_process_success_and_refresh_before_expiration(scripts: Scripts) -> None:
    counter = scripts.root / "count"
    command = scripts.command(
        f"""
        import json, pathlib
        counter = pathlib.Path({str(counter)!r})
        count = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(count))
        print(json.dumps({{"Version": 1, "AccessKeyId": f"AKIDPROC{{count}}",
                          "SecretAccessKey": {SECRET!r}, "SessionToken": {TOKEN!r},
                          "Expiration": {iso(NOW + 3600)!r}}}))
        """
    )
    clock = Clock()
    environ = scripts.environ(f"[profile p]\ncredential_process = {command}\n")
    provider = provider_for(environ, clock=clock, profile="p")
    assert provider.get() == Credentials("AKIDPROC1", SECRET, TOKEN)
    clock.now += 30 * 60
    assert provider.get().access_key_id == "AKIDPROC1"
    clock.now += 20 * 60  # ten minutes left
    assert provider.get().access_key_id == "AKIDPROC2"


def test_process_without_expiration_runs_once(scripts: Scripts) -> None:
    clock = Clock()
    command = scripts.output(document())
    provider = provider_for(
        scripts.environ(f"[default]\ncredential_process = {command}\n"), clock=clock
    )
    first = provider.get()
    clock.now += 10**8
    assert provider.get() is first
    assert first.session_token is None


@pytest.mark.parametrize(
    ("document_", "stderr", "code", "fragments"),
    [
        (document(), "boom: token expired", 3, ["exited with status 3", "boom: token expired"]),
        (document(SecretAccessKey=None), "", 0, ["no usable SecretAccessKey"]),
        (document(Version=2), "", 0, ["Version must be 1, got 2"]),
        (document(Expiration="next tuesday"), "", 0, ["'next tuesday' is not an ISO 8601"]),
        (document(Expiration=iso(NOW - 60)), "", 0, ["expired 60 s ago"]),
    ],
)
def test_process_failures_carry_stderr_never_stdout(
    scripts: Scripts,
    document_: dict[str, object],
    stderr: str,
    code: int,
    fragments: list[str],
) -> None:
    command = scripts.output(document_, stderr=stderr, code=code)
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n")
    with pytest.raises(CredentialsError) as caught:
        provider_for(environ).get()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert SECRET not in message
    assert "AKIDPROC" not in message
    if code:
        assert isinstance(caught.value, CredentialProcessError)
        assert caught.value.stderr == stderr
        assert caught.value.returncode == code


def test_process_output_that_is_not_json(scripts: Scripts) -> None:
    command = scripts.command(
        f"""
        import sys
        print("AccessKeyId={SECRET}")
        sys.stderr.write("warning: legacy format")
        """
    )
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n")
    with pytest.raises(CredentialProcessError) as caught:
        provider_for(environ).get()
    message = str(caught.value)
    assert "its output is not JSON" in message
    assert "warning: legacy format" in message
    assert SECRET not in message
    assert caught.value.__cause__ is None


def test_process_timeout(scripts: Scripts) -> None:
    command = scripts.command(
        """
        import sys, time
        sys.stderr.write("waiting for MFA")
        sys.stderr.flush()
        time.sleep(30)
        """
    )
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n")
    started = time.monotonic()
    with pytest.raises(CredentialProcessError, match=r"did not finish within 0\.5 s"):
        provider_for(environ, settings=SourceSettings(process_timeout=0.5)).get()
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("command", "fragment"),
    [("/nonexistent/helper --flag", "could not start '/nonexistent/helper'"),
     ("'unbalanced", "not a valid command line")],
)  # fmt: skip
def test_process_that_cannot_start(scripts: Scripts, command: str, fragment: str) -> None:
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n")
    with pytest.raises(CredentialProcessError, match=fragment):
        provider_for(environ).get()


def test_process_sits_between_the_two_files(scripts: Scripts) -> None:
    command = scripts.output(document())
    keys = f"aws_access_key_id = AKIDFILE\naws_secret_access_key = {SECRET}\n"
    # Keys in the credentials file win over credential_process ...
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n", "[default]\n" + keys)
    assert provider_for(environ).get().access_key_id == "AKIDFILE"
    # ... which wins over keys in the config file.
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n{keys}")
    assert provider_for(environ).get().access_key_id == "AKIDPROC"
    # credential_process may be in the credentials file too.
    environ = scripts.environ("", f"[default]\ncredential_process = {command}\n")
    assert provider_for(environ).get().access_key_id == "AKIDPROC"


def test_process_wins_over_container(scripts: Scripts) -> None:
    command = scripts.output(document())
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n")
    environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/never"
    assert provider_for(environ).get().access_key_id == "AKIDPROC"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-11-14T22:13:20Z", NOW),
        ("2023-11-14T22:13:20+00:00", NOW),
        ("2023-11-14T23:13:20.000+01:00", NOW),
        ("2023-11-14T22:13:20", NOW),
    ],
)
def test_expiration_formats(text: str, expected: float) -> None:
    assert parse_expiration(text, "test") == expected


def test_secrets_echoed_to_stderr_are_redacted(scripts: Scripts) -> None:
    command = scripts.command(
        f"""
        import json, sys
        text = json.dumps({document(SessionToken=TOKEN)!r})
        print(text)
        sys.stderr.write("debug: " + text)
        sys.exit(2)
        """
    )
    environ = scripts.environ(f"[default]\ncredential_process = {command}\n")
    with pytest.raises(CredentialProcessError) as caught:
        provider_for(environ).get()
    assert "debug: " in caught.value.stderr
    for text in (str(caught.value), caught.value.stderr):
        assert SECRET not in text
        assert TOKEN not in text


def test_credential_process_error_survives_pickling() -> None:
    import pickle

    error = CredentialProcessError("credential_process ([default]) exited with status 2",
                                   stderr="boom", returncode=2)  # fmt: skip
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert type(copy) is CredentialProcessError
    assert (str(copy), copy.stderr, copy.returncode) == (str(error), "boom", 2)
