"""A local emulator of Amazon Cognito Sync (events and data plane), the Cognito Identity
calls a device makes, and the Lambda API a sync trigger needs, for tests.

Cognito Sync is closed to new customers and neither moto nor LocalStack implements it,
so this is where code that calls ``SetCognitoEvents``/``GetCognitoEvents`` gets tested,
and where a SyncTrigger function runs the way Cognito Sync runs it.
Standard library plus this package only: ``http.server`` threads, SQLite, the package's
own SigV4 signer (:mod:`cognito_events.sigv4`) and validator.

Running it
----------
``cognito-events serve`` (or :func:`serve`) in a terminal; :class:`EmulatorServer` in
process; :class:`cognito_events.testing.Emulator` and the pytest fixtures in tests.
With no credentials configured it accepts only the development pair
:data:`DEV_CREDENTIALS`: access key id ``AKIDCOGNITOEVENTSEMU``, secret
``cognito-events-emulator-development-secret``. Never give it real AWS credentials.

The services
------------
One endpoint answers three services, routed by :mod:`._router` (one table):

* Cognito Sync (signing name ``cognito-sync``): the events operations below, and
  ``ListRecords``, ``UpdateRecords``, ``ListDatasets``, ``DescribeDataset``,
  ``DeleteDataset`` at the paths of botocore's model (:mod:`.services.cognito_sync`);
* Cognito Identity (``POST /`` with ``X-Amz-Target: AWSCognitoIdentityService.*``,
  unsigned as in the model): ``GetId`` and ``GetCredentialsForIdentity`` for
  unauthenticated identities of registered pools (:mod:`.services.cognito_identity`);
* STS (signing name ``sts``, developer credentials only): ``GetCallerIdentity`` at
  ``POST /`` with a form body, answered in XML (errors too) with the emulator's
  account (``account_id``, default :data:`DEFAULT_ACCOUNT_ID`), which also owns the
  identity pools (the ``aws:SourceAccount`` a trigger's policy must allow);
* Lambda (signing name ``lambda``, developer credentials only): ``AddPermission``,
  ``GetPolicy``, ``RemovePermission``, ``Put``/``Get``/``DeleteFunctionConcurrency`` and
  ``Invoke`` for the functions the emulator knows (:mod:`.services.lambda_`).

A request signed with an identity's temporary credentials is that identity's: it may
touch its own datasets only, and its ``UpdateRecords`` fires the pool's SyncTrigger.
Developer credentials may touch any identity's data and never fire the trigger
(:mod:`.services.cognito_sync` documents the loop and its errors).

``POST /identitypools/{IdentityPoolId}/events`` with ``{"Events": {"SyncTrigger": ARN}}``
answers 200 with an empty body (``""`` removes the binding; other events are left as they
are). ``GET`` on the same path answers ``{"Events": {...}}``. The pool id is
percent-decoded from the path. Requests must be signed with SigV4 for the service
``cognito-sync``; every answer carries ``x-amzn-RequestId`` and ``Date``, every error
``x-amzn-ErrorType`` and ``{"message": ...}``, as AWS sends them:

=====  ===================================  ==============================================
HTTP   ``x-amzn-ErrorType``                 when
=====  ===================================  ==============================================
403    MissingAuthenticationTokenException  no ``Authorization`` header
403    IncompleteSignatureException         malformed ``Authorization``/``X-Amz-Date``;
                                            ``host`` not signed
403    InvalidSignatureException            wrong signature (the message shows the
                                            canonical request and string to sign the
                                            emulator computed); X-Amz-Date more than 5
                                            minutes off (``Signature expired``/``not yet
                                            current``); scope names another service or
                                            another date
403    UnrecognizedClientException          unknown access key; missing or wrong
                                            session token
400    SerializationException               body not JSON or not an object; wrong types;
                                            Content-Type not JSON
400    InvalidParameterException            "N validation errors detected: ..." (pool
                                            id pattern/length, Events null or more than
                                            one entry); unknown event type; value not a
                                            Lambda function ARN
404    ResourceNotFoundException            pool not registered, or its region prefix is
                                            not the region of the credential scope
404    UnknownOperationException            any other path
405    MethodNotAllowedException            a method other than GET/POST on the path
413    RequestEntityTooLargeException       body over 64 KiB (refused unread)
400    BadRequestException                  broken or ambiguous HTTP framing (RFC 9112:
                                            see :mod:`._http`); the connection is closed
408    RequestTimeoutException              head not complete within the idle timeout
431    RequestHeaderFieldsTooLargeException head over 32 KiB or over 100 fields
403    ExpiredTokenException                an identity's temporary credentials expired
=====  ===================================  ==============================================

Known differences from AWS: query-string (presigned) authentication and the ``Date``
header instead of ``X-Amz-Date`` are not supported; ``{"Events": {}}`` is accepted as a
no-op (the model sets no minimum); paths are routed as received, without removing ``.``
or ``..`` segments (the signature check does normalise them, as SigV4 says); Cognito's
other operations, authenticated identities, IAM policies for identities and Lambda
versions and aliases are not emulated. ``docs/testing-sync-trigger.rst`` lists the
strict choices made where AWS does not document the behaviour.

Admin API (test only)
---------------------
Under ``/_emulator/``; JSON in and out; errors as above. Guarded (:mod:`._admin`): a
``Host`` other than the server's address (or localhost/127.0.0.1/[::1]) with its port,
or an ``Origin`` off loopback, is refused with 403; POST and PUT need ``Content-Type:
application/json`` (415); with an ``admin_token`` every call needs ``Authorization:
Bearer TOKEN`` (401 without, 403 wrong). Without a token, anyone who can reach the port
can use it: keep the emulator on 127.0.0.1 or set one.

=======  ====================================  ===========================================
method   path                                  body → answer
=======  ====================================  ===========================================
GET      /_emulator/health                     → ``{"status": "ok", "endpoint_url": URL}``
GET      /_emulator/identity-pools             → ``{"identity_pools": [ID, ...]}``
POST     /_emulator/identity-pools             ``{"identity_pool_id": ID}`` or
                                               ``{"region": "eu-west-1"}`` (generates
                                               ``<region>:<uuid4>``) →
                                               ``{"identity_pool_id": ID, "created": bool}``
GET      /_emulator/identity-pools/{ID}        → ``{"identity_pool_id": ID, "events":
                                               {...}}`` (404 if unknown)
DELETE   /_emulator/identity-pools/{ID}        → ``{"identity_pool_id": ID}`` (404 if
                                               unknown); its events go too
GET      /_emulator/events                     → ``{"events": {ID: {"SyncTrigger": ARN},
                                               ...}}`` (every pool, ``{}`` when none)
POST     /_emulator/faults                     a fault (below) → ``{"faults": [pending]}``
GET      /_emulator/faults                     → ``{"faults": [pending]}``
DELETE   /_emulator/faults                     → ``{"faults": []}``
GET      /_emulator/requests                   → ``{"requests": [request, ...]}`` oldest
                                               first, the latest 1000 (and 4 MiB)
DELETE   /_emulator/requests                   → ``{"requests": []}``
GET      /_emulator/clock                      → ``{"now": "YYYYMMDDTHHMMSSZ",
                                               "offset_seconds": N}``
PUT      /_emulator/clock                      ``{"offset_seconds": N}`` → the same (skew)
POST     /_emulator/reset                      → ``{"identity_pools": [...]}``: back to the
                                               start-up pools, no events, no faults, empty
                                               request log
=======  ====================================  ===========================================

A fault replaces the answer to the next ``count`` (default 1) correctly signed requests,
optionally only of one ``operation`` (any emulated operation's name, e.g.
``"SetCognitoEvents"`` or ``"UpdateRecords"``).
Faults queue up; each request uses the first that applies::

    {"status": 429, "code": "TooManyRequestsException", "count": 2, "retry_after_ms": 0}
    {"status": 503}                     # code defaults: 400 InvalidParameterException,
                                        # 403 NotAuthorizedException, 404
                                        # ResourceNotFoundException, 409
                                        # ResourceConflictException, 429
                                        # TooManyRequestsException, 500
                                        # InternalErrorException, 503
                                        # ServiceUnavailableException
    {"kind": "drop", "count": 3}        # close the connection without answering
    {"kind": "delay", "seconds": 0.2}   # wait, then answer normally
    {"status": 429, "count": 1000000, "probability": 0.3}
                                        # about 30 % of requests, at random

(``"kind"`` defaults to ``"error"``; an error fault may also give ``"message"``;
``retry_after_ms`` adds an ``x-amz-retry-after`` header; ``probability``, above 0 and
at most 1 (the default), makes a fault apply to each matching request with that chance,
``count`` then counting only the requests it applied to.)

A recorded request::

    {"time": "20260101T000000Z", "method": "POST",
     "path": "/identitypools/us-east-1%3A.../events", "query": "",
     "headers": {"authorization": "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
                 Signature=<redacted>", "x-amz-security-token": "<redacted>", ...},
     "body": "{...}", "status": 200, "error_code": null,
     "operation": "SetCognitoEvents", "request_id": "..."}

``status`` is null for a dropped connection; header names are lowercased and only
those a test needs are kept; signature and token query parameters are redacted too.
"""

from __future__ import annotations

from ._faults import FAULT_KINDS, DelayFault, DropFault, ErrorFault, Fault
from ._http import MAX_BODY_BYTES, MAX_HEAD_BYTES
from ._server import (
    ADMIN_TOKEN_ENV,
    DEFAULT_ACCOUNT_ID,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEV_CREDENTIALS,
    EmulatorServer,
    serve,
)
from ._state import RecordedRequest
from ._store import DatabaseInUseError, ForeignDatabaseError

__all__ = [
    "ADMIN_TOKEN_ENV",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEV_CREDENTIALS",
    "FAULT_KINDS",
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "DatabaseInUseError",
    "DelayFault",
    "DropFault",
    "EmulatorServer",
    "ErrorFault",
    "Fault",
    "ForeignDatabaseError",
    "RecordedRequest",
    "serve",
]
