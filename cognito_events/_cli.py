"""The ``cognito-events`` command line (also ``python -m cognito_events``).

Importing this module is cheap (argparse and the client), and the package never imports
it; the emulator behind ``serve`` and ``demo`` is imported only when one of them runs.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import re
import socket
import sys
import textwrap
import traceback
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, NoReturn

from ._cli_trigger import EXIT_WONT_FIRE, add_commands
from ._client import CognitoEventsClient
from ._config.endpoints import COGNITO_SYNC_REGIONS
from ._config.loader import REGION_ARGUMENT
from ._config.profiles import PROFILE_ARGUMENT
from ._credentials import Credentials
from ._errors import (
    CognitoEventsError,
    CredentialsError,
    InternalError,
    InvalidParameterError,
    NotAuthorizedError,
    Problem,
    RegionMismatch,
    ResourceNotFoundError,
    ServiceError,
    TooManyRequestsError,
    TransportError,
    ValidationError,
)
from ._retry import RetryPolicy
from ._validation import SYNC_TRIGGER, check_identity_pool_id
from ._version import __version__

__all__ = [
    "EXIT_CREDENTIALS",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_AUTHORIZED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_SERVICE",
    "EXIT_THROTTLED",
    "EXIT_TRANSPORT",
    "EXIT_USAGE",
    "EXIT_WONT_FIRE",
    "build_parser",
    "main",
]

PROG: Final = "cognito-events"

#: Success.
EXIT_OK: Final = 0
#: Anything else that went wrong: ``serve`` could not listen, an unexpected error.
EXIT_FAILURE: Final = 1
#: Bad command line or invalid input; nothing was sent.
EXIT_USAGE: Final = 2
#: No usable AWS credentials.
EXIT_CREDENTIALS: Final = 3
#: The service refused the credentials or the permission (NotAuthorized, bad signature).
EXIT_NOT_AUTHORIZED: Final = 4
#: The identity pool does not exist (in this account and region).
EXIT_NOT_FOUND: Final = 5
#: Still throttled when the retries ran out.
EXIT_THROTTLED: Final = 6
#: Any other error answer from the service.
EXIT_SERVICE: Final = 7
#: No answer at all: connection refused, timeout, TLS or DNS failure.
EXIT_TRANSPORT: Final = 8
#: Interrupted (Ctrl-C).
EXIT_INTERRUPTED: Final = 130

_EPILOG: Final = f"""\
output:
  get prints {{"Events": {{...}}}} as JSON (--output json, the default) or one
  "EVENT<TAB>ARN" line per bound event (--output text; nothing when none is bound).
  set and clear print nothing on success, as the AWS CLI does for SetCognitoEvents.
  ensure prints its changes (its plan with --dry-run), check its diagnosis.

credentials:
  set, get, clear, ensure and check find credentials as boto3 does:
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), then the profile
  (--profile, AWS_DEFAULT_PROFILE, AWS_PROFILE) in ~/.aws, credential_process,
  container and instance credentials.

exit codes:
  {EXIT_OK:>3}  success
  {EXIT_FAILURE:>3}  other failure (e.g. serve could not listen on its port)
  {EXIT_USAGE:>3}  usage error or invalid input; nothing was sent
  {EXIT_CREDENTIALS:>3}  no usable AWS credentials
  {EXIT_NOT_AUTHORIZED:>3}  not authorized: credentials, permissions or clock refused
  {EXIT_NOT_FOUND:>3}  identity pool not found (in this account and region)
  {EXIT_THROTTLED:>3}  throttled, still, after the retries
  {EXIT_SERVICE:>3}  other error answer from the service
  {EXIT_TRANSPORT:>3}  no answer: connection, timeout, TLS or DNS failure
  {EXIT_WONT_FIRE:>3}  check: the sync trigger would not fire
  {EXIT_INTERRUPTED:>3}  interrupted (Ctrl-C)

Try "{PROG} demo": it runs every call against a local emulator; no AWS
account is needed.
"""

_LOGGER_NAME: Final = "cognito_events"
_MIN_SECRET_LENGTH: Final = 4
#: ``serve`` reads the key pairs it accepts from here when no --credentials is given.
CREDENTIALS_ENV: Final = "COGNITO_EVENTS_EMULATOR_CREDENTIALS"
#: ``serve`` reads its admin token from here when no --admin-token is given (the same
#: name as the emulator's ``ADMIN_TOKEN_ENV``; not imported, to keep the emulator lazy).
ADMIN_TOKEN_ENV: Final = "COGNITO_EVENTS_EMULATOR_ADMIN_TOKEN"  # noqa: S105 - a name
_SECRET_ENVIRONMENT: Final = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    ADMIN_TOKEN_ENV,
)
# Options whose values hold secrets (as prefixes: argparse takes abbreviations).
_SECRET_OPTIONS: Final = ("--cred", "--admin")
_SECRET_PATTERNS: Final = (
    (re.compile(r"(Signature=)[0-9A-Fa-f]+"), r"\1<redacted>"),
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n]+"), r"\1<redacted>"),
    (re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",;]+"), r"\1<redacted>"),
)


class _UsageError(Exception):
    """A command-line mistake found after parsing; exits with ``EXIT_USAGE``."""


class _DemoError(Exception):
    """The demo got an answer other than the one expected; exits with ``EXIT_FAILURE``."""


class _Redactor:
    """Removes secrets from anything the command line prints (errors, tracebacks, logs)."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
        for pattern, replacement in _SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    @classmethod
    def for_invocation(cls, argv: Sequence[str]) -> _Redactor:
        """Secrets of this run: the environment's, and those given to ``--credentials`` or
        ``--admin-token`` (also misspelt, since argparse echoes an unrecognized argument)."""
        redactor = cls([os.environ.get(name, "") for name in _SECRET_ENVIRONMENT])
        for pair in os.environ.get(CREDENTIALS_ENV, "").split():
            for part in pair.split(":", 2)[1:]:
                redactor.add(part)
        flag: str | None = None  # the option whose value the next token is
        for token in argv:
            option, value = flag, token
            flag = None
            if option is None:
                if not token.startswith(_SECRET_OPTIONS):
                    continue
                option, equals, value = token.partition("=")
                if not equals:
                    flag = option
                    continue
            if option.startswith("--admin"):
                redactor.add(value)
            else:
                for part in value.split(":", 2)[1:]:
                    redactor.add(part)
        return redactor


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose error messages go through a redactor."""

    def __init__(self, *args: Any, redact: Callable[[str], str] = str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redact = redact

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {self.redact(message)}\n")


# -- argument types -------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a port number from 0 to 65535 (0 picks a free one), got {text!r}"
        )
    return value


def _event(text: str) -> tuple[str, str]:
    name, equals, arn = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(
            f"expected EVENT=ARN such as {SYNC_TRIGGER}=arn:aws:lambda:us-east-1:"
            f"123456789012:function:my-function (empty ARN to remove), got {text!r}"
        )
    return name, arn


def _credentials(text: str) -> Credentials:
    """Parse AKID:SECRET[:TOKEN]; the secret and token are never echoed."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not all(parts):
        shown = repr(parts[0] + ":<redacted>") if len(parts) > 1 else "a value without ':'"
        raise argparse.ArgumentTypeError(
            f"expected ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN], each part non-empty; "
            f"got {shown}"
        )
    return Credentials(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def _credentials_option(text: str) -> list[Credentials]:
    """``AKID:SECRET[:TOKEN]``, or ``@PATH``: a file of such pairs, one a line."""
    if not text.startswith("@"):
        return [_credentials(text)]
    path = text[1:]
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read(1024 * 1024)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise argparse.ArgumentTypeError(
            f"cannot read credentials file {path!r}: {reason}"
        ) from None
    pairs = _credentials_lines(content, f"credentials file {path!r}")
    if not pairs:
        raise argparse.ArgumentTypeError(f"credentials file {path!r} holds no key pair")
    return pairs


def _credentials_lines(content: str, where: str) -> list[Credentials]:
    """Key pairs separated by whitespace or lines; ``#`` starts a comment line."""
    pairs: list[Credentials] = []
    problems: list[str] = []
    for number, line in enumerate(content.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for word in line.split():
            try:
                pairs.append(_credentials(word))
            except argparse.ArgumentTypeError as exc:
                problems.append(f"line {number}: {exc}")
    if problems:
        raise argparse.ArgumentTypeError(f"in {where}: " + "; ".join(problems))
    return pairs


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 (at most 86400), got {text!r}"
        )
    return value


def _identity_pool(text: str) -> str:
    problems = check_identity_pool_id(text, "identity pool id")
    if problems:
        raise argparse.ArgumentTypeError("; ".join(problem.message for problem in problems))
    return text


_FUNCTION_ARN: Final = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:\d{12}:function:"
    r"[a-zA-Z0-9_-]{1,64}"
)
_HANDLER_REF: Final = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def _function(text: str) -> tuple[str, str]:
    """Parse ARN=package.module:handler (imported only when serve runs)."""
    arn, _, ref = text.partition("=")
    problems: list[str] = []
    if _FUNCTION_ARN.fullmatch(arn) is None:
        problems.append(
            f"{arn!r} is not a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        )
    if _HANDLER_REF.fullmatch(ref) is None:
        problems.append(f"{ref!r} is not package.module:handler")
    if problems:
        raise argparse.ArgumentTypeError(
            "expected ARN=package.module:handler: " + "; ".join(problems)
        )
    return arn, ref


def _account_id(text: str) -> str:
    if re.fullmatch(r"[0-9]{12}", text) is None:
        raise argparse.ArgumentTypeError(f"must be 12 digits, got {text!r}")
    return text


def _lambda_endpoint(text: str) -> str:
    if re.fullmatch(r"https?://[^/\s?#]+/?", text) is None:
        raise argparse.ArgumentTypeError(f"expected http://HOST:PORT or https://HOST, got {text!r}")
    return text.rstrip("/")


def _import_handler(arn: str, ref: str) -> Callable[[Any, Any], Any]:
    import importlib

    module_name, _, attribute = ref.partition(":")
    if os.getcwd() not in sys.path:  # as "python -m" does: the current project is importable
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise _UsageError(f"--function {arn}: cannot import {module_name}: {exc}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise _UsageError(f"--function {arn}: {module_name} has no {attribute}") from None
    if not callable(target):
        raise _UsageError(f"--function {arn}: {ref} is not callable")
    handler: Callable[[Any, Any], Any] = target
    return handler


# -- the parser -----------------------------------------------------------------------------


#: The commands that call AWS (or --endpoint-url) with a client: they take the client
#: options, before or after the command.
CLIENT_COMMANDS: Final = ("set", "get", "clear", "ensure", "check")
#: Client options that other commands take too, because they act there.
_ALSO_ACCEPTED: Final = {"demo": frozenset({"max_attempts"})}
#: The client options' defaults (their arguments default to "absent", so that a value
#: given after the command wins and a value given to the wrong command is seen).
_CLIENT_DEFAULTS: Final = {
    "region": None,
    "profile": None,
    "endpoint_url": None,
    "max_attempts": None,
    "output": "json",
}


def _common_options(*, suppress: bool) -> _Parser:
    """--debug and --version: every command takes them, before or after it.

    The subcommands' copy defaults to SUPPRESS, so a value given after the subcommand
    wins and an absent one leaves the main parser's value (or default) alone.
    """
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("options of every command (before or after it)")
    group.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="log each attempt, its canonical request and string to sign (secrets "
        "redacted) to stderr, and show tracebacks; serve logs each request",
    )
    group.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parent


def _add_max_attempts(add_argument: Callable[..., argparse.Action]) -> None:
    """--max-attempts, for the client commands and demo."""
    add_argument(
        "--max-attempts",
        type=_positive_int,
        metavar="N",
        default=argparse.SUPPRESS,
        help="attempts per call, the first included (default 3; 1 turns retries off)",
    )


def _client_options() -> _Parser:
    """The options of the commands that call the service (CLIENT_COMMANDS), accepted
    before or after the command; defaults are filled in after parsing."""
    parent = _Parser(add_help=False)
    group = parent.add_argument_group(
        f"client options (of {', '.join(CLIENT_COMMANDS)}; before or after the command)"
    )
    group.add_argument(
        "--region",
        default=argparse.SUPPRESS,
        help="AWS region, e.g. us-east-1 (default: AWS_REGION, AWS_DEFAULT_REGION, the "
        "profile's, else the identity pool id's prefix)",
    )
    group.add_argument(
        "--profile", default=argparse.SUPPRESS, help="AWS shared config profile to use"
    )
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="send requests here instead of https://cognito-sync.REGION.amazonaws.com",
    )
    _add_max_attempts(group.add_argument)
    group.add_argument(
        "--output",
        choices=("json", "text"),
        default=argparse.SUPPRESS,
        help="output format of get (default json)",
    )
    return parent


#: Each client option's spelling, by destination (for "does not apply" messages).
_CLIENT_OPTION_NAMES: Final = {
    "region": "--region",
    "profile": "--profile",
    "endpoint_url": "--endpoint-url",
    "max_attempts": "--max-attempts",
    "output": "--output",
}


def _not_accepted(command: str, option: str) -> str:
    return (
        f"{command} does not take {option}: it is an option of "
        f"{', '.join(CLIENT_COMMANDS)}, which call the service"
    )


def _parse(parser: argparse.ArgumentParser, arguments: list[str]) -> argparse.Namespace:
    """Parse, refuse client options given to a command they do nothing for, and fill in
    the client options' defaults."""
    args, extras = parser.parse_known_args(arguments)
    command = getattr(args, "command", None)
    if extras:
        options = {name.partition("=")[0] for name in extras if name.startswith("--")}
        for option in _CLIENT_OPTION_NAMES.values():
            if option in options and command is not None:
                parser.error(_not_accepted(command, option))
        parser.error("unrecognized arguments: " + " ".join(extras))
    if command not in CLIENT_COMMANDS:
        accepted = _ALSO_ACCEPTED.get(command or "", frozenset())
        for dest, option in _CLIENT_OPTION_NAMES.items():
            if hasattr(args, dest) and dest not in accepted:
                parser.error(_not_accepted(command or "this command", option))
    for dest, default in _CLIENT_DEFAULTS.items():
        if not hasattr(args, dest):
            setattr(args, dest, default)
    return args


def build_parser(redact: Callable[[str], str] = str) -> argparse.ArgumentParser:
    """The ``cognito-events`` argument parser; ``redact`` cleans its error messages.

    Parse with ``_parse``: it checks which client options the command takes.
    """
    parser = _Parser(
        prog=PROG,
        redact=redact,
        description="Set and read the AWS Lambda function bound to Amazon Cognito Sync's\n"
        f"{SYNC_TRIGGER} event of an identity pool (SetCognitoEvents, GetCognitoEvents).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(suppress=False), _client_options()],
    )
    common = _common_options(suppress=True)
    client = _client_options()
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )

    def command(
        name: str, summary: str, description: str, *, calls_service: bool = True
    ) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=textwrap.fill(description, 80),
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[common, client] if calls_service else [common],
            redact=redact,
        )

    set_ = command(
        "set",
        "bind a Lambda function to an event of an identity pool (SetCognitoEvents)",
        "Bind a Lambda function to an event of an identity pool (SetCognitoEvents). "
        "Other events of the pool are left as they are. Prints nothing on success.",
    )
    set_.add_argument("pool", metavar="POOL", help="identity pool id, e.g. us-east-1:0f7e…")
    which = set_.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--event",
        type=_event,
        action="append",
        metavar="EVENT=ARN",
        help=f"event and Lambda function ARN, e.g. {SYNC_TRIGGER}=arn:aws:lambda:… "
        "(an empty ARN removes the binding)",
    )
    which.add_argument("--sync-trigger", metavar="ARN", help=f"same as --event {SYNC_TRIGGER}=ARN")
    set_.set_defaults(handler=_run_set)

    get = command(
        "get",
        "print the events of an identity pool (GetCognitoEvents)",
        "Print the events of an identity pool and their Lambda function ARNs (GetCognitoEvents).",
    )
    get.add_argument("pool", metavar="POOL", help="identity pool id")
    get.set_defaults(handler=_run_get)

    clear = command(
        "clear",
        "remove the Lambda function bound to an event (SetCognitoEvents with '')",
        "Remove the Lambda function bound to an event of an identity pool: "
        "SetCognitoEvents with an empty value. Prints nothing on success.",
    )
    clear.add_argument("pool", metavar="POOL", help="identity pool id")
    clear.add_argument(
        "--event",
        default=SYNC_TRIGGER,
        metavar="EVENT",
        help=f"the event to clear (default {SYNC_TRIGGER})",
    )
    clear.set_defaults(handler=_run_clear)

    add_commands(command, _client)

    serve = command(
        "serve",
        "run the local Cognito Sync emulator (for tests and development)",
        "Run the local Cognito Sync emulator until SIGINT or SIGTERM. It prints "
        "'Listening on http://HOST:PORT' once it accepts connections. Without "
        "--credentials it accepts a development key pair, printed to stderr. With --debug "
        "it logs one line per request to stderr.",
        calls_service=False,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8000, help="port to bind; 0 picks a free one (default 8000)"
    )
    serve.add_argument("--db", metavar="PATH", help="keep the pools and events in this file")
    serve.add_argument(
        "--identity-pool",
        type=_identity_pool,
        action="append",
        default=[],
        metavar="ID",
        help="create this identity pool at start (repeatable)",
    )
    serve.add_argument(
        "--credentials",
        type=_credentials_option,
        action="extend",
        default=[],
        metavar="AKID:SECRET[:TOKEN]|@FILE",
        help="accept requests signed with this key (repeatable); @FILE reads pairs from a "
        f"file, one a line; default: ${CREDENTIALS_ENV}, else the development pair",
    )
    serve.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help=f"make the admin API need 'Authorization: Bearer TOKEN' (default: ${ADMIN_TOKEN_ENV})",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="close a connection that sends no complete request in this time (default 30)",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive_int,
        default=None,
        metavar="N",
        help="serve at most N connections at once; more wait (default 256)",
    )
    serve.add_argument(
        "--function",
        type=_function,
        action="append",
        default=[],
        metavar="ARN=MODULE:HANDLER",
        help="register a Lambda function run in this process, e.g. "
        "arn:aws:lambda:us-east-1:123456789012:function:on-sync=myapp.triggers:handler "
        "(repeatable; the current directory is importable)",
    )
    serve.add_argument(
        "--lambda-endpoint",
        type=_lambda_endpoint,
        metavar="URL",
        help="invoke functions not registered with --function through the Lambda Invoke API "
        "at URL (e.g. sam local start-lambda), signed with the first credentials",
    )
    serve.add_argument(
        "--account-id",
        type=_account_id,
        default="123456789012",
        metavar="ACCOUNT",
        help="the 12-digit account of the accepted credentials, which owns the pools "
        "(STS GetCallerIdentity answers it; default 123456789012)",
    )
    serve.set_defaults(handler=_run_serve)

    demo = command(
        "demo",
        "try every call against a local emulator (no AWS account needed)",
        "Start a local Cognito Sync emulator in this process and run set, get, clear and "
        "get against it with the real client over real HTTP, printing each step. "
        "Nothing is sent to AWS; no account or credentials are needed.",
        calls_service=False,
    )
    _add_max_attempts(demo.add_argument)
    demo.set_defaults(handler=_run_demo)
    return parser


# -- the commands ---------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> CognitoEventsClient:
    options: dict[str, Any] = {"region": args.region, "endpoint_url": args.endpoint_url}
    if args.max_attempts is not None:
        options["retry"] = RetryPolicy(max_attempts=args.max_attempts)
    return CognitoEventsClient(**options, profile=args.profile or None)


def _run_set(args: argparse.Namespace) -> int:
    if args.sync_trigger is not None:
        events = {SYNC_TRIGGER: args.sync_trigger}
    else:
        events = {}
        for name, arn in args.event:
            if name in events:
                raise _UsageError(f"--event {name} is given more than once")
            events[name] = arn
    with _client(args) as client:
        client.set_cognito_events(args.pool, events)
    return EXIT_OK


def _run_clear(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.set_cognito_events(args.pool, {args.event: ""})
    return EXIT_OK


def _run_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        events = client.get_cognito_events(args.pool)
    if args.output == "text":
        for name in sorted(events):
            print(f"{name}\t{events[name]}")
    else:
        print(json.dumps({"Events": events}, indent=4, sort_keys=True))
    return EXIT_OK


class _ServeError(Exception):
    """``serve`` cannot listen where it was asked to; exits with ``EXIT_FAILURE``."""


def _check_listen(host: str, port: int) -> None:
    """Raise ``_ServeError`` naming the port if ``host:port`` cannot be bound now.

    The emulator would report the bare ``[Errno 98]``; this says which port and what to
    do. Port 0 always binds. The probe binds as the server does (``SO_REUSEADDR`` off
    Windows), so a port in TIME_WAIT is not refused.
    """
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return  # the emulator says what is wrong with the host
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        if sys.platform != "win32":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise _ServeError(
                    f"cannot listen on {host}:{port}: the port is in use (another emulator "
                    "or program listens there); choose another with --port, or --port 0 "
                    "for a free one"
                ) from exc
            if exc.errno == errno.EACCES:
                raise _ServeError(
                    f"cannot listen on {host}:{port}: permission denied (ports below 1024 "
                    "need privileges); choose another with --port, or --port 0 for a free one"
                ) from exc
            if exc.errno == errno.EADDRNOTAVAIL:
                raise _ServeError(
                    f"cannot listen on {host}:{port}: {host} is not an address of this "
                    "machine; give another --host (127.0.0.1 by default)"
                ) from exc


def _run_serve(args: argparse.Namespace) -> int:
    from ._emulator import DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, serve

    credentials: list[Credentials] = list(args.credentials)
    from_env = os.environ.get(CREDENTIALS_ENV, "")
    if not credentials and from_env.strip():
        try:
            credentials = _credentials_lines(from_env, f"${CREDENTIALS_ENV}")
        except argparse.ArgumentTypeError as exc:
            raise _UsageError(str(exc)) from None
    admin_token = args.admin_token
    if admin_token is None:
        admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
    if admin_token is not None and (not admin_token.strip() or admin_token != admin_token.strip()):
        raise _UsageError("the admin token must be non-empty, without spaces at either end")
    functions: dict[str, Callable[[Any, Any], Any]] = {}
    for arn, ref in args.function:
        if arn in functions:
            raise _UsageError(f"--function {arn} is given more than once")
        functions[arn] = _import_handler(arn, ref)
    _check_listen(args.host, args.port)
    return serve(
        host=args.host,
        port=args.port,
        db=args.db,
        identity_pools=tuple(args.identity_pool),
        credentials=tuple(credentials),
        stdout=sys.stdout,
        verbose=args.debug,
        admin_token=admin_token,
        idle_timeout=args.idle_timeout or DEFAULT_IDLE_TIMEOUT,
        max_connections=args.max_connections or DEFAULT_MAX_CONNECTIONS,
        functions=functions,
        lambda_endpoint=args.lambda_endpoint,
        account_id=args.account_id,
    )


def _run_demo(args: argparse.Namespace) -> int:
    from .testing import Emulator

    def say(text: str = "") -> None:
        print(text, flush=True)

    overrides: dict[str, Any] = {}
    if args.max_attempts is not None:
        overrides["retry"] = RetryPolicy(max_attempts=args.max_attempts)
    with Emulator() as emulator:
        region = emulator.region
        arn = f"arn:aws:lambda:{region}:123456789012:function:cognito-events-demo"
        say(f"{PROG} demo: a local emulator of Amazon Cognito Sync is running in this process")
        say(f"at {emulator.endpoint_url}. No AWS account, credentials or network are needed:")
        say("each step is a real, signed HTTP call to the emulator; nothing is sent to AWS.")
        say()
        pool = emulator.add_identity_pool()
        say(f"pool = {pool!r}  (created in the emulator)")
        say(f"arn  = {arn!r}")
        say()
        with emulator.client(region=region, **overrides) as client:
            steps: list[tuple[str, str, Callable[[], object], object]] = [
                (
                    f"SetCognitoEvents: bind the Lambda function to {SYNC_TRIGGER}",
                    f"client.set_cognito_events(pool, {{{SYNC_TRIGGER!r}: arn}})",
                    lambda: client.set_cognito_events(pool, {SYNC_TRIGGER: arn}),
                    None,
                ),
                (
                    "GetCognitoEvents: read the pool's events",
                    "client.get_cognito_events(pool)",
                    lambda: client.get_cognito_events(pool),
                    {SYNC_TRIGGER: arn},
                ),
                (
                    "SetCognitoEvents: remove the binding (an empty value removes it)",
                    f"client.set_cognito_events(pool, {{{SYNC_TRIGGER!r}: ''}})",
                    lambda: client.set_cognito_events(pool, {SYNC_TRIGGER: ""}),
                    None,
                ),
                (
                    "GetCognitoEvents: read them again",
                    "client.get_cognito_events(pool)",
                    lambda: client.get_cognito_events(pool),
                    {},
                ),
            ]
            for number, (what, code, call, expected) in enumerate(steps, 1):
                say(f"[{number}/{len(steps)}] {what}")
                say(f"      {code}")
                answer = call()
                if answer is None:
                    say("      -> OK (the service answers with an empty body)")
                elif answer == {}:
                    say("      -> {} (no event is bound)")
                else:
                    say(f"      -> {answer!r}")
                if answer != expected:
                    raise _DemoError(f"demo step {number} expected {expected!r} but got {answer!r}")
    say()
    say(f"Demo finished: all {len(steps)} calls succeeded. Against AWS, the same steps are:")
    say(f"  {PROG} set POOL --sync-trigger ARN")
    say(f"  {PROG} get POOL")
    say(f"  {PROG} clear POOL")
    return EXIT_OK


# -- errors ---------------------------------------------------------------------------------

_CLI_PARAMETERS: Final = {
    "identity_pool_id": "POOL",
    "events": "--event",
    "function_arn": "--sync-trigger",
    "endpoint_url": "--endpoint-url",
    "region": "--region",
}


def _cli_parameter(parameter: str, renames: Mapping[str, str] | None = None) -> str:
    """The command-line spelling of a library parameter name in a validation problem.

    ``renames`` maps the names an option of this invocation stands for (``--sync-trigger``
    is ``events['SyncTrigger']``) to that option.
    """
    if renames and parameter in renames:
        return renames[parameter]
    event = re.fullmatch(r"events\['(.*)'\]", parameter)
    if event is not None:
        return f"--event {event.group(1)}"
    return _CLI_PARAMETERS.get(parameter, parameter)


def _renames(args: argparse.Namespace | None) -> dict[str, str]:
    """The library parameters that an option given in ``args`` stands for."""
    if args is None or getattr(args, "sync_trigger", None) is None:
        return {}
    return {
        "events": "--sync-trigger",
        f"events[{SYNC_TRIGGER!r}]": "--sync-trigger",
        "function_arn": "--sync-trigger",
    }


def _region_origin(source: str | None) -> str:
    """Where a configured region came from, in command-line terms."""
    if source is None or source == REGION_ARGUMENT:
        return "--region"
    return source


def _region_mismatch(problem: RegionMismatch) -> str:
    """The pool is in one region, the configured region is another: say which, from where."""
    pool, region = problem.pool_region, problem.configured_region
    origin = _region_origin(problem.region_source)
    text = f"the pool is in region {pool!r}, but the region is {region!r} (from {origin})"
    if region not in COGNITO_SYNC_REGIONS:
        text += (
            f", which is not a Cognito Sync region (those are {', '.join(COGNITO_SYNC_REGIONS)})"
        )
    if origin == "--region":
        return f"{text}; use --region {pool}, or leave --region out to use the pool's"
    return f"{text}; pass --region {pool}, or change {origin}"


def _problem_text(problem: Problem, renames: Mapping[str, str]) -> str:
    message = _region_mismatch(problem) if isinstance(problem, RegionMismatch) else problem.message
    return f"{_cli_parameter(problem.parameter, renames)}: {message}"


def _profile_origin(source: str | None) -> str | None:
    """How the profile was selected, in command-line terms (None: the implicit default)."""
    return "--profile" if source == PROFILE_ARGUMENT else source


def _credentials_report(error: CredentialsError, debug: bool) -> list[str] | None:
    """A short, terminal-worded report of a missing profile or of no credentials found;
    None for other credential errors (a source that failed says why itself)."""
    profile = error.profile
    if profile is None:
        return None
    origin = _profile_origin(error.profile_source)
    chosen = f"profile {profile!r}" + (f" (from {origin})" if origin else "")
    configure = "aws configure" + ("" if profile == "default" else f" --profile {profile}")
    if error.profiles is not None:
        lines = [
            f"credentials: {chosen} does not exist in "
            + " nor in ".join(error.files or ("the AWS files",)),
            "profiles there: " + (", ".join(error.profiles) or "none"),
            f"create it with: {configure}",
        ]
        if origin != "--profile":
            lines.append("or choose one with --profile NAME")
        return lines
    if not error.tried:
        return None
    lines = [f"credentials: none found for {chosen}; give them in one of these ways:"]
    if origin == "--profile":
        lines.append(f"- store keys in that profile: {configure}")
        lines.append(
            "- or leave out --profile to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(not read when --profile is given)"
        )
    else:
        lines.append("- export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)")
        lines.append(f"- store keys in the profile: {configure}")
        lines.append("- choose another profile: --profile NAME, or AWS_PROFILE=NAME")
    tried = _sources_tried(error, origin)
    if debug:
        lines.append(f"sources tried, in order (profile {profile!r}):")
        lines.extend(f"  {number}. {line}" for number, line in enumerate(tried, 1))
    else:
        lines.append(f"run with --debug to see the {len(tried)} sources tried")
    return lines


def _sources_tried(error: CredentialsError, profile_origin: str | None) -> list[str]:
    """The chain's report rows, for the command line: without the ``credentials=`` row
    (a Python argument the command line never gives), and saying why the environment
    keys were not read when --profile was given."""
    from ._sources import CredentialsArgument, EnvironmentKeys  # the chain loads it lazily too

    rows: list[str] = []
    for source, line in error.tried:
        if source == CredentialsArgument.name:
            continue
        if source == EnvironmentKeys.name and profile_origin == "--profile":
            line = f"{source}: not read, because --profile was given"
        rows.append(line)
    return rows


def _service_hint(error: ServiceError) -> tuple[int, str | None]:
    if isinstance(error, NotAuthorizedError):
        return EXIT_NOT_AUTHORIZED, (
            "check the credentials (or --profile), a session token's expiry, their "
            "permission to call cognito-sync, and this machine's clock"
        )
    if isinstance(error, ResourceNotFoundError):
        return EXIT_NOT_FOUND, (
            "check the identity pool id and the region (--region, else the pool id's "
            "prefix); the pool must exist in the account of these credentials"
        )
    if isinstance(error, TooManyRequestsError):
        return EXIT_THROTTLED, "the service is throttling: wait and retry, or raise --max-attempts"
    if isinstance(error, InvalidParameterError):
        return EXIT_SERVICE, "the service refused the input; check the pool id and the Lambda ARN"
    if isinstance(error, InternalError):
        return EXIT_SERVICE, "the service failed on its side; try again later"
    return EXIT_SERVICE, None


def _describe(
    error: CognitoEventsError, args: argparse.Namespace | None = None, *, debug: bool = False
) -> tuple[int, str]:
    """The exit code and the message of an error: one line, or a few for a list.

    ``args`` (the parsed command line) lets problems be named by the options given.
    Whitespace is collapsed within each line, so that text from elsewhere (a server's
    message, a file name) cannot start lines of its own.
    """
    hint: str | None = None
    if isinstance(error, ValidationError):
        code = EXIT_USAGE
        renames = _renames(args)
        problems = [_one_line(_problem_text(problem, renames)) for problem in error.problems]
        if len(problems) == 1:
            text = f"invalid input, nothing was sent: {problems[0]}"
        else:
            return code, "\n".join(["invalid input, nothing was sent:", *problems])
    elif isinstance(error, CredentialsError):
        code = EXIT_CREDENTIALS
        lines = _credentials_report(error, debug)
        if lines is not None:
            return code, "\n".join(_one_line(line) for line in lines)
        text = f"credentials: {error}"
        hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile"
    elif isinstance(error, TransportError):
        code = EXIT_TRANSPORT
        text = f"no response: {error}"
        hint = "check --endpoint-url, the network and any proxy settings"
    elif isinstance(error, ServiceError):
        code, hint = _service_hint(error)
        # The first paragraph: a signature mismatch appends the service's canonical
        # request, which --debug shows beside this client's own.
        message = error.message.split("\n\n", 1)[0]
        text = f"{error.code or f'HTTP {error.status_code}'}: {message}"
        if error.request_id:
            text += f" [request id {error.request_id}]"
        if error.attempts > 1:
            text += f" (after {error.attempts} attempts)"
    else:
        code, text = EXIT_SERVICE, str(error)
    if hint is not None:
        text += f" (hint: {hint})"
    return code, _one_line(text)


def _one_line(text: str) -> str:
    """``text`` with every run of whitespace, line breaks included, made one space."""
    return " ".join(text.split())


def _fail(redact: _Redactor, lines: Sequence[str]) -> None:
    """Print ``error: LINE`` and the further lines indented under it, each on one line."""
    first, *rest = lines
    shown = ["error: " + _one_line(first), *("  " + _one_line(line) for line in rest)]
    print(redact("\n".join(shown)), file=sys.stderr)


def _print_traceback(redact: _Redactor, error: BaseException) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(error))))


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redact: _Redactor) -> None:
        super().__init__("%(asctime)s %(name)s %(levelname)s %(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


@contextmanager
def _debug_logging(enabled: bool, redact: _Redactor) -> Generator[None, None, None]:
    """With --debug, log the ``cognito_events`` logger at DEBUG to stderr, redacted."""
    if not enabled:
        yield
        return
    logger = logging.getLogger(_LOGGER_NAME)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter(redact))
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


# -- entry point ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    try:
        status = _run(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a reader gone away shows here rather than at interpreter exit
    except BrokenPipeError:  # stdout was closed (``| head``): stop quietly
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    return status


def _run(arguments: list[str]) -> int:
    redact = _Redactor.for_invocation(arguments)
    try:
        args = _parse(build_parser(redact), arguments)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    for credentials in args.credentials if args.command == "serve" else ():
        redact.add(credentials.secret_access_key)
        redact.add(credentials.session_token)
    if args.command == "serve":
        redact.add(args.admin_token)

    with _debug_logging(args.debug, redact):
        logging.getLogger(_LOGGER_NAME).debug(
            "%s %s, Python %s; command %r", PROG, __version__, sys.version.split()[0], args.command
        )
        error: BaseException
        try:
            handler: Callable[[argparse.Namespace], int] = args.handler
            return handler(args)
        except BrokenPipeError:
            raise
        except CognitoEventsError as exc:
            code, described = _describe(exc, args, debug=args.debug)
            if args.debug:
                _print_traceback(redact, exc)
            _fail(redact, described.split("\n"))  # its lines, each already one line
            return code
        except _UsageError as exc:
            code, message, error = EXIT_USAGE, str(exc), exc
        except (_DemoError, _ServeError) as exc:
            code, message, error = EXIT_FAILURE, str(exc), exc
        except KeyboardInterrupt as exc:
            code, message, error = EXIT_INTERRUPTED, "interrupted", exc
        except OSError as exc:
            code, message, error = EXIT_FAILURE, str(exc) or type(exc).__name__, exc
        except Exception as exc:
            code, error = EXIT_FAILURE, exc
            message = f"unexpected {type(exc).__name__}: {exc} (a bug: please report it"
            message += ")" if args.debug else " with the output of --debug)"
        if args.debug:
            _print_traceback(redact, error)
        elif isinstance(error, OSError):
            message += " (run with --debug for the traceback)"
        _fail(redact, [message])  # other messages are one line, whatever they hold
        return code
