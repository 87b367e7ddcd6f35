"""cognito-events: a small, fast, typed client for Amazon Cognito Sync's event configuration.

``CognitoEventsClient.set_cognito_events`` binds a Lambda function to an event (such as
``SYNC_TRIGGER``) of an identity pool, and ``get_cognito_events`` reads the bindings.

Importing the package is free: the names below are loaded, all together, the first time
one of them is used (the result classes of ``ensure``/``check`` apart, on their own first
use). That keeps ``cognito_events.trigger`` (which runs inside Lambda) and the pytest
plugin (loaded by every pytest run where the package is installed) from paying for
requests and the client.
"""

import importlib
import typing

from ._version import __version__

if typing.TYPE_CHECKING:
    from ._client import DEFAULT_TIMEOUT, CognitoEventsClient
    from ._credentials import Credentials, CredentialsSource
    from ._ensure import Change, CheckItem, EnsureResult, TriggerCheck
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

__all__ = [
    "DEFAULT_TIMEOUT",
    "EVENT_TYPES",
    "SYNC_TRIGGER",
    "Change",
    "CheckItem",
    "CognitoEventsClient",
    "CognitoEventsError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionLostError",
    "Credentials",
    "CredentialsError",
    "CredentialsSource",
    "EnsureResult",
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
    "TriggerCheck",
    "UnusableResponseError",
    "ValidationError",
    "__version__",
]

#: Where each public name lives (the private module, relative to this package).
_HOMES = {
    "DEFAULT_TIMEOUT": "._client",
    "CognitoEventsClient": "._client",
    "Credentials": "._credentials",
    "CredentialsSource": "._credentials",
    "Change": "._ensure",
    "CheckItem": "._ensure",
    "EnsureResult": "._ensure",
    "TriggerCheck": "._ensure",
    "CognitoEventsError": "._errors",
    "CredentialsError": "._errors",
    "InternalError": "._errors",
    "InvalidParameterError": "._errors",
    "NotAuthorizedError": "._errors",
    "Problem": "._errors",
    "ResourceNotFoundError": "._errors",
    "ServiceError": "._errors",
    "TooManyRequestsError": "._errors",
    "TransportError": "._errors",
    "ValidationError": "._errors",
    "ConnectError": "._errors",
    "ConnectTimeoutError": "._errors",
    "ConnectionLostError": "._errors",
    "NameResolutionError": "._errors",
    "ProxyError": "._errors",
    "ReadTimeoutError": "._errors",
    "ResponseTooLargeError": "._errors",
    "TLSError": "._errors",
    "UnusableResponseError": "._errors",
    "RetryPolicy": "._retry",
    "EVENT_TYPES": "._validation",
    "SYNC_TRIGGER": "._validation",
}


#: Homes loaded on their own, at the first use of one of their names: only
#: ``ensure_sync_trigger``/``check_sync_trigger`` need them, so a client that sets and
#: reads the trigger never pays for them.
_ON_THEIR_OWN = frozenset({"._ensure"})


def _load(name: str) -> None:
    """Import ``name`` with every public name of its group (its own home when that is on
    its own, else all the others); classes report this module, as tracebacks show."""
    home = _HOMES[name]
    wanted = {home} if home in _ON_THEIR_OWN else set(_HOMES.values()) - _ON_THEIR_OWN
    namespace = globals()
    for each, where in _HOMES.items():
        if where in wanted:
            value = getattr(importlib.import_module(where, __name__), each)
            if isinstance(value, type):
                value.__module__ = __name__
            namespace[each] = value


if not typing.TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error for them

    def __getattr__(name: str) -> object:
        if name not in _HOMES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        _load(name)
        return globals()[name]

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
