"""Test helpers: a local Cognito Sync emulator running in a background thread.

::

    from cognito_events import SYNC_TRIGGER
    from cognito_events.testing import Emulator

    with Emulator() as emulator:
        pool = emulator.add_identity_pool()
        with emulator.client() as client:
            client.set_cognito_events(pool, {SYNC_TRIGGER: "arn:aws:lambda:..."})
        assert emulator.events(pool) == {SYNC_TRIGGER: "arn:aws:lambda:..."}

The emulator listens on a free port of 127.0.0.1 and starts in about a millisecond, so
one per test is affordable. It only accepts requests signed with :attr:`Emulator.credentials`
(the documented development pair unless others are given). The pytest plugin
(:mod:`cognito_events.pytest_plugin`) wraps it in fixtures. Importing ``cognito_events``
does not import this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType, TracebackType
from typing import Any, TypedDict, Unpack
from urllib.parse import quote

import attrs
import requests

# Through the facade, so the classes a test sees report the public module.
from . import CognitoEventsClient, Credentials, CredentialsSource, RetryPolicy, sigv4
from ._emulator import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEV_CREDENTIALS,
    FAULT_KINDS,
    DelayFault,
    DropFault,
    EmulatorServer,
    ErrorFault,
    Fault,
    RecordedRequest,
)
from ._emulator._server import check_clock_offset
from ._emulator.services import cognito_identity
from ._emulator.services import lambda_ as _lambda
from ._emulator.services._common import ServiceError as EmulatorServiceError
from ._errors import error_from_response
from ._validation import check_region, pool_source_arn

__all__ = [
    "DEV_CREDENTIALS",
    "FAULT_KINDS",
    "ISOLATED_ENVIRON",
    "ClientOptions",
    "DelayFault",
    "DropFault",
    "Emulator",
    "ErrorFault",
    "Fault",
    "Identity",
    "RecordedRequest",
]

#: A Lambda-style handler: ``handler(event, context)``, JSON in and out.
LambdaHandler = Callable[[Any, Any], Any]


@attrs.frozen(kw_only=True)
class Identity:
    """An unauthenticated Cognito identity and its temporary credentials, as a device
    gets them from GetId and GetCredentialsForIdentity."""

    identity_pool_id: str
    identity_id: str
    credentials: Credentials


#: The environment :meth:`Emulator.client` gives its clients instead of ``os.environ``:
#: empty shared files, no profile, no instance metadata.
ISOLATED_ENVIRON: Mapping[str, str] = MappingProxyType(
    {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of :class:`~cognito_events.CognitoEventsClient`, which
    :meth:`Emulator.client` accepts as overrides (a test keeps the two in step)."""

    region: str | None
    credentials: CredentialsSource | None
    endpoint_url: str | None
    profile: str | None
    environ: Mapping[str, str] | None
    retry: RetryPolicy | None
    timeout: float | tuple[float, float]
    session: requests.Session | None
    sleep: Callable[[float], None] | None
    random: Callable[[], float] | None
    clock: Callable[[], datetime] | None
    total_timeout: float | None


class Emulator:
    """A Cognito Sync events emulator on ``127.0.0.1``, in a background thread.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`). ``credentials``
    is one :class:`~cognito_events.Credentials` or several (the first is
    :attr:`credentials`); ``identity_pools`` are registered at start and again by
    :meth:`reset`; ``db`` is a SQLite file that keeps the state across restarts;
    ``clock_offset`` moves the emulator's clock to simulate skew. ``admin_token`` makes
    the HTTP admin API need ``Authorization: Bearer TOKEN`` (:meth:`admin_headers`);
    ``idle_timeout`` and ``max_connections`` are the server's connection limits;
    ``account_id`` is the account STS GetCallerIdentity answers and the pools belong to.
    """

    def __init__(
        self,
        region: str = "us-east-1",
        *,
        credentials: Credentials | Sequence[Credentials] | None = None,
        identity_pools: Sequence[str] | None = None,
        db: str | os.PathLike[str] | None = None,
        clock_offset: timedelta = timedelta(0),
        admin_token: str | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        problems = check_region(region)
        if problems:
            raise ValueError(str(problems[0]))
        if credentials is None:
            pairs: tuple[Credentials, ...] = (DEV_CREDENTIALS,)
        elif isinstance(credentials, Credentials):
            pairs = (credentials,)
        else:
            pairs = tuple(credentials)
            if not pairs:
                raise ValueError("credentials must not be empty (pass None for the default)")
        self._region = region
        self._pairs = pairs
        self._identity_pools = tuple(identity_pools or ())
        self._db = db
        self._clock_offset = clock_offset
        self._admin_token = admin_token
        self._idle_timeout = idle_timeout
        self._max_connections = max_connections
        self._account_id = account_id
        self._server: EmulatorServer | None = None
        self._sessions: list[requests.Session] = []

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> Emulator:
        """Start serving (a no-op when already started); returns self."""
        if self._server is None:
            server = EmulatorServer(
                host="127.0.0.1",
                port=0,
                credentials=self._pairs,
                identity_pools=self._identity_pools,
                db=self._db,
                clock_offset=self._clock_offset,
                admin_token=self._admin_token,
                idle_timeout=self._idle_timeout,
                max_connections=self._max_connections,
                account_id=self._account_id,
            )
            self._server = server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the HTTP sessions of the clients from :meth:`client`."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
        sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self._server.endpoint_url if self._server is not None else "not running"
        return f"Emulator(region={self._region!r}, {where})"

    @property
    def _running(self) -> EmulatorServer:
        if self._server is None:
            raise RuntimeError("the emulator is not running: use 'with Emulator() as emulator:'")
        return self._server

    # -- connection details -----------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running emulator."""
        return self._running.endpoint_url

    @property
    def region(self) -> str:
        """The region of the pools :meth:`add_identity_pool` makes and of :meth:`client`."""
        return self._region

    @property
    def credentials(self) -> Credentials:
        """The key pair :meth:`client` signs with (the first one accepted)."""
        return self._pairs[0]

    @property
    def admin_token(self) -> str | None:
        """The bearer token the HTTP admin API needs (None: none needed)."""
        return self._admin_token

    def admin_headers(self) -> dict[str, str]:
        """Headers for a call to the HTTP admin API: JSON, and the bearer token if any."""
        headers = {"Content-Type": "application/json"}
        if self._admin_token is not None:
            headers["Authorization"] = f"Bearer {self._admin_token}"
        return headers

    @property
    def clock_offset(self) -> timedelta:
        """How far the emulator's clock is ahead of this machine's (settable)."""
        return self._running.clock_offset if self._server is not None else self._clock_offset

    @clock_offset.setter
    def clock_offset(self, value: timedelta) -> None:
        check_clock_offset(value)
        self._clock_offset = value
        if self._server is not None:
            self._server.clock_offset = value

    def client(self, **overrides: Unpack[ClientOptions]) -> CognitoEventsClient:
        """A :class:`~cognito_events.CognitoEventsClient` for this emulator.

        Its region, endpoint and credentials are the emulator's; it reads nothing from the
        environment or ``~/.aws`` (its ``environ`` names empty config and credentials
        files) and its HTTP session ignores proxies, CA bundles and netrc. ``overrides``
        are passed to the constructor and win. Sessions made here are closed by
        :meth:`stop`.
        """
        options: ClientOptions = {
            "region": self._region,
            "endpoint_url": self.endpoint_url,
            "credentials": self.credentials,
            "environ": ISOLATED_ENVIRON,
        }
        options.update(overrides)
        if "session" not in options:
            session = requests.Session()
            session.trust_env = False
            self._sessions.append(session)
            options["session"] = session
        return CognitoEventsClient(**options)

    # -- state ------------------------------------------------------------------------

    def add_identity_pool(self, id: str | None = None) -> str:
        """Register an identity pool (``<region>:<uuid4>`` when ``id`` is None); return its id.

        Raises ValueError for a malformed id. Registering a pool twice is harmless.
        """
        server = self._running
        pool = server.new_identity_pool_id(self._region) if id is None else id
        server.add_identity_pool(pool)
        return pool

    def remove_identity_pool(self, id: str) -> None:
        """Forget a pool and its events; KeyError if it is not registered."""
        if not self._running.remove_identity_pool(id):
            raise KeyError(id)

    @property
    def identity_pools(self) -> list[str]:
        """The registered pools, sorted."""
        return self._running.identity_pools()

    def events(self, pool_id: str) -> dict[str, str]:
        """The events stored for a pool (``{}`` when none); KeyError if it is not registered."""
        events = self._running.events(pool_id)
        if events is None:
            raise KeyError(pool_id)
        return events

    def inject_fault(
        self,
        kind: str = "error",
        *,
        count: int = 1,
        operation: str | None = None,
        probability: float | None = None,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        retry_after_ms: int | None = None,
        seconds: float | None = None,
    ) -> Fault:
        """Make the next ``count`` signed requests fail, as a fault of ``kind`` from
        :data:`FAULT_KINDS`: ``"error"`` (an AWS error answer: ``status``, ``code``,
        ``message``, ``retry_after_ms``), ``"drop"`` (close without answering) or
        ``"delay"`` (answer after ``seconds``).

        ``inject_fault(status=429, count=2, retry_after_ms=0)``, ``inject_fault(status=503)``,
        ``inject_fault("drop")``, ``inject_fault("delay", seconds=0.2)``,
        ``inject_fault(status=429, count=10**9, probability=0.3)`` (about 30 % of
        requests throttled from now on). The arguments are the admin API's JSON fields and
        are checked by the same code. Raises ValueError for an impossible fault; returns
        the fault queued.
        """
        given = {
            "count": count,
            "operation": operation,
            "probability": probability,
            "status": status,
            "code": code,
            "message": message,
            "retry_after_ms": retry_after_ms,
            "seconds": seconds,
        }
        document: dict[str, object] = {"kind": kind}
        document.update({key: value for key, value in given.items() if value is not None})
        fault = Fault.from_json(document)
        self._running.faults.add(fault)
        return fault

    @property
    def faults(self) -> list[Fault]:
        """The faults still pending, with their remaining counts, in the order they apply."""
        return self._running.faults.pending()

    @property
    def account_id(self) -> str:
        """The account STS answers for the developer credentials; it owns the pools."""
        return self._account_id

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received so far (signature and session token redacted), oldest first."""
        return self._running.requests.entries()

    def reset(self) -> None:
        """Back to the start: the initial pools only, no events, no faults, no requests,
        no identities or datasets, no function policies (registered functions stay)."""
        self._running.reset()

    # -- identities, datasets, functions ----------------------------------------------

    def add_lambda_function(self, arn: str, handler: LambdaHandler) -> None:
        """Register ``handler(event: dict, context) -> dict`` as the function ``arn``.

        A ``@sync_trigger`` function or a real Lambda module's handler drops in. Like a
        freshly deployed function it has no resource policy: Cognito Sync may invoke it
        only after :meth:`add_permission` (or Lambda's AddPermission). ValueError for an
        ARN that is not ``arn:aws:lambda:REGION:ACCOUNT:function:NAME``.
        """
        self._running.add_lambda_function(arn, handler)

    def add_permission(
        self,
        arn: str,
        *,
        statement_id: str = "cognito-sync",
        principal: str = "cognito-sync.amazonaws.com",
        source_arn: str | None = None,
        source_account: str | None = None,
    ) -> dict[str, Any]:
        """Lambda's AddPermission (``lambda:InvokeFunction``) on a registered function,
        signed with :attr:`credentials`; returns the statement added."""
        body: dict[str, Any] = {
            "StatementId": statement_id,
            "Action": "lambda:InvokeFunction",
            "Principal": principal,
        }
        if source_arn is not None:
            body["SourceArn"] = source_arn
        if source_account is not None:
            body["SourceAccount"] = source_account
        answer = self._call(
            "POST",
            f"/2015-03-31/functions/{quote(arn, safe='')}/policy",
            body,
            credentials=self.credentials,
            service="lambda",
            region=self._function_region(arn),
        )
        statement: dict[str, Any] = json.loads(answer["Statement"])
        return statement

    def lambda_policy(self, arn: str) -> dict[str, Any] | None:
        """A registered function's resource policy document, or None when it has none;
        KeyError for an unknown function."""
        server = self._running
        if server.store.policy(arn) is None:
            raise KeyError(arn)
        return _lambda.resource_policy(server, arn)

    def set_function_concurrency(self, arn: str, reserved: int | None) -> None:
        """Reserve concurrency for a function, as PutFunctionConcurrency does: 0 throttles
        every invocation; None removes the reservation. KeyError for an unknown function."""
        if not self._running.store.set_reserved_concurrency(arn, reserved):
            raise KeyError(arn)

    def sync_source_arn(self, identity_pool_id: str, function_arn: str) -> str:
        """The ``aws:SourceArn`` Cognito Sync presents when it invokes ``function_arn``
        for a pool (the pool's ARN: its account is the emulator's, :attr:`account_id`)."""
        parsed = _lambda.parse_function_arn(function_arn)
        if parsed is None:
            raise ValueError(f"{function_arn!r} is not an unqualified Lambda function ARN")
        region = identity_pool_id.split(":", 1)[0]
        return pool_source_arn("aws", region, self._account_id, identity_pool_id)

    def new_identity(self, identity_pool_id: str | None = None) -> Identity:
        """A new unauthenticated identity of a registered pool (the first one when None)
        with fresh temporary credentials: the credentials a device syncs with."""
        server = self._running
        pool = identity_pool_id
        if pool is None:
            pools = server.identity_pools()
            if not pools:
                raise ValueError("no identity pool is registered: call add_identity_pool()")
            pool = pools[0]
        try:
            identity_id = cognito_identity.new_identity(server, pool)
        except EmulatorServiceError as exc:
            raise KeyError(pool) from exc
        key = cognito_identity.new_identity_key(server, identity_id)
        return Identity(
            identity_pool_id=pool,
            identity_id=identity_id,
            credentials=Credentials(
                access_key_id=key.access_key_id,
                secret_access_key=key.secret_access_key,
                session_token=key.session_token,
            ),
        )

    def sync_dataset(
        self,
        identity: Identity,
        dataset_name: str,
        changes: Mapping[str, str | None],
        *,
        credentials: Credentials | None = None,
    ) -> dict[str, str | None]:
        """Sync a dataset as a device does: ListRecords, then UpdateRecords with
        ``changes`` (a value replaces, None removes), signed with the identity's
        credentials (or ``credentials``, e.g. :attr:`credentials` to sync as a developer,
        which does not fire the SyncTrigger). Returns what UpdateRecords answered, key to
        value (None: removed). Raises the package's ServiceError subclasses on failure
        (e.g. ``code == "InvalidLambdaFunctionOutputException"``).
        """
        signer = identity.credentials if credentials is None else credentials
        path = (
            f"/identitypools/{quote(identity.identity_pool_id, safe='')}/identities/"
            f"{quote(identity.identity_id, safe='')}/datasets/{quote(dataset_name, safe='')}"
        )
        region = identity.identity_pool_id.split(":", 1)[0]
        listing = self._call("GET", path + "/records", None, credentials=signer, region=region)
        counts = {record["Key"]: record["SyncCount"] for record in listing["Records"]}
        patches = [
            {"Op": "remove", "Key": key, "SyncCount": counts.get(key, 0)}
            if value is None
            else {"Op": "replace", "Key": key, "Value": value, "SyncCount": counts.get(key, 0)}
            for key, value in changes.items()
        ]
        answer = self._call(
            "POST",
            path,
            {"RecordPatches": patches, "SyncSessionToken": listing["SyncSessionToken"]},
            credentials=signer,
            region=region,
        )
        return {record["Key"]: record.get("Value") for record in answer["Records"]}

    def records(self, identity: Identity, dataset_name: str) -> dict[str, str]:
        """The records stored in a dataset (removed ones left out), read directly."""
        stored = self._running.store.records(identity.identity_id, dataset_name)
        return {record.key: record.value for record in stored if record.value is not None}

    @staticmethod
    def _function_region(arn: str) -> str:
        parsed = _lambda.parse_function_arn(arn)
        if parsed is None:
            raise ValueError(f"{arn!r} is not an unqualified Lambda function ARN")
        return parsed.region

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        credentials: Credentials,
        region: str,
        service: str = "cognito-sync",
    ) -> dict[str, Any]:
        data = b"" if body is None else json.dumps(body).encode()
        url = self.endpoint_url + path
        headers = {"Content-Type": "application/json"} if body is not None else {}
        signed = sigv4.sign_request(
            method=method,
            url=url,
            headers=headers,
            body=data,
            credentials=credentials,
            region=region,
            service=service,
            timestamp=self._running.now(),
        )
        with requests.Session() as session:
            session.trust_env = False
            response = session.request(
                method, url, data=data, headers=dict(signed.headers), timeout=60
            )
        if response.status_code >= 300:
            raise error_from_response(response.status_code, response.headers, response.content)
        document: dict[str, Any] = response.json() if response.content else {}
        return document
