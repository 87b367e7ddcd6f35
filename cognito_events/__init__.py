"""cognito-events: a small, fast, typed client for Amazon Cognito Sync's event configuration.

``CognitoEventsClient.set_cognito_events`` binds a Lambda function to an event (such as
``SYNC_TRIGGER``) of an identity pool, and ``get_cognito_events`` reads the bindings.
"""

from ._client import DEFAULT_TIMEOUT, CognitoEventsClient
from ._credentials import Credentials, CredentialsSource
from ._errors import (
    CognitoEventsError,
    ConnectError,
    ConnectionLostError,
    ConnectTimeoutError,
    CredentialsError,
    InternalError,
    InvalidParameterError,
    NameResolutionError,
    NotAuthorizedError,
    Problem,
    ProxyError,
    ReadTimeoutError,
    ResourceNotFoundError,
    ResponseTooLargeError,
    ServiceError,
    TLSError,
    TooManyRequestsError,
    TransportError,
    UnusableResponseError,
    ValidationError,
)
from ._retry import RetryPolicy
from ._validation import EVENT_TYPES, SYNC_TRIGGER
from ._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "EVENT_TYPES",
    "SYNC_TRIGGER",
    "CognitoEventsClient",
    "CognitoEventsError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionLostError",
    "Credentials",
    "CredentialsError",
    "CredentialsSource",
    "InternalError",
    "InvalidParameterError",
    "NameResolutionError",
    "NotAuthorizedError",
    "Problem",
    "ProxyError",
    "ReadTimeoutError",
    "ResourceNotFoundError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServiceError",
    "TLSError",
    "TooManyRequestsError",
    "TransportError",
    "UnusableResponseError",
    "ValidationError",
    "__version__",
]

# Public classes report the public module, so tracebacks say cognito_events.ServiceError.
for _name in __all__:
    _value = globals()[_name]
    if isinstance(_value, type):
        _value.__module__ = __name__
del _name, _value
