"""Pytest fixtures for code that calls Cognito Sync events: a local emulator per test.

Installed with the package (entry point ``pytest11``), so nothing needs configuring::

    def test_binds_the_trigger(cognito_events_client, cognito_identity_pool_id):
        client, pool = cognito_events_client, cognito_identity_pool_id
        client.set_cognito_events(pool, {"SyncTrigger": ARN})
        assert client.get_cognito_events(pool) == {"SyncTrigger": ARN}

``cognito_sync_emulator``
    A fresh :class:`cognito_events.testing.Emulator` for each test (region ``us-east-1``,
    the development key pair) with **one identity pool already registered**; its id is
    ``cognito_sync_emulator.identity_pools[0]``, also given by the next fixture.
``cognito_identity_pool_id``
    The id of that pool.
``cognito_events_client``
    A :class:`cognito_events.CognitoEventsClient` bound to the emulator: its endpoint,
    region and credentials are set explicitly and its HTTP session ignores the
    environment, so ``AWS_*`` variables, ``~/.aws`` and proxy settings play no part.
``cognito_identity``
    A new unauthenticated identity of that pool with its temporary credentials
    (:class:`cognito_events.testing.Identity`): sync with
    ``cognito_sync_emulator.sync_dataset(cognito_identity, "dataset", {...})`` and the
    pool's SyncTrigger fires, as it does for a device.

To change the emulator (another region, a database file, clock skew), override
``cognito_sync_emulator`` in a ``conftest.py``; the other fixtures follow it.
This module imports nothing heavy: the emulator is imported by the first fixture used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._client import CognitoEventsClient
    from .testing import Emulator, Identity

__all__ = [
    "cognito_events_client",
    "cognito_identity",
    "cognito_identity_pool_id",
    "cognito_sync_emulator",
]


@pytest.fixture
def cognito_sync_emulator() -> Iterator[Emulator]:
    """A running emulator with one registered identity pool, stopped after the test."""
    from .testing import Emulator

    with Emulator() as emulator:
        emulator.add_identity_pool()
        yield emulator


@pytest.fixture
def cognito_identity_pool_id(cognito_sync_emulator: Emulator) -> str:
    """The id of an identity pool registered in ``cognito_sync_emulator``."""
    pools = cognito_sync_emulator.identity_pools
    return pools[0] if pools else cognito_sync_emulator.add_identity_pool()


@pytest.fixture
def cognito_events_client(cognito_sync_emulator: Emulator) -> Iterator[CognitoEventsClient]:
    """A client wired to ``cognito_sync_emulator``; closed after the test."""
    with cognito_sync_emulator.client() as client:
        yield client


@pytest.fixture
def cognito_identity(cognito_sync_emulator: Emulator, cognito_identity_pool_id: str) -> Identity:
    """A new identity of ``cognito_identity_pool_id`` with its temporary credentials."""
    return cognito_sync_emulator.new_identity(cognito_identity_pool_id)
