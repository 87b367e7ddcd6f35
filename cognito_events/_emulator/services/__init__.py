"""The emulated services: one module each, and one table of their operations.

A service module never touches the socket: an operation takes the server's
:class:`~._common.Context` and a parsed :class:`~._common.Request` and returns an
:class:`~._common.Answer` or raises :class:`~._common.ServiceError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from . import cognito_identity, cognito_sync, lambda_, sts
from ._common import Answer, Context, Request

__all__ = ["OPERATIONS"]

Operation = Callable[[Context, Request], Answer]

#: (service signing name, operation name) -> the function that answers it.
OPERATIONS: Final[dict[tuple[str, str], Operation]] = {
    **{("cognito-sync", name): op for name, op in cognito_sync.OPERATIONS.items()},
    **{("cognito-identity", name): op for name, op in cognito_identity.OPERATIONS.items()},
    **{("lambda", name): op for name, op in lambda_.OPERATIONS.items()},
    **{("sts", name): op for name, op in sts.OPERATIONS.items()},
}
