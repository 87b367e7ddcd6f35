"""One emulator database per pytest-xdist worker (tests/test_emulator_xdist.py runs it)."""

import pytest

from cognito_events.testing import Emulator


@pytest.fixture
def worker_emulator(tmp_path_factory, worker_id):
    # One file per worker ("gw0", "gw1", ...; "master" without -n), kept across
    # that worker's tests, which run one after another.
    db = tmp_path_factory.getbasetemp() / f"emulator-{worker_id}.db"
    with Emulator(db=db) as emulator:
        emulator.reset()
        emulator.add_identity_pool()
        yield emulator
