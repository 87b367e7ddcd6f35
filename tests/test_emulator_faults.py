"""Faults as data: one class per kind, one registry that the admin API, the handler and
``Emulator.inject_fault`` all go through; and no import cycle among the emulator's modules."""

from __future__ import annotations

import ast
import http.client
import json
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

from cognito_events import SYNC_TRIGGER, CognitoEventsError
from cognito_events._emulator import EmulatorServer, _faults
from cognito_events._emulator._faults import (
    FAULT_KINDS,
    DelayFault,
    DropFault,
    ErrorFault,
    Fault,
)
from cognito_events._emulator._http import Responder
from cognito_events._emulator._view import EmulatorView
from cognito_events.testing import Emulator

ARN = "arn:aws:lambda:us-east-1:123456789012:function:on-sync"
EMULATOR = Path(_faults.__file__).parent


def test_the_registry_holds_one_class_per_kind() -> None:
    assert dict(FAULT_KINDS) == {"error": ErrorFault, "drop": DropFault, "delay": DelayFault}
    for kind, cls in FAULT_KINDS.items():
        assert cls.kind == kind
        assert issubclass(cls, Fault)


@pytest.mark.parametrize(
    "fault",
    [
        ErrorFault(status=429, code="TooManyRequestsException", message="m", retry_after_ms=5),
        DropFault(count=3, operation="GetCognitoEvents"),
        DelayFault(seconds=0.5, probability=0.25),
    ],
)
def test_each_kind_round_trips_through_json(fault: Fault) -> None:
    assert Fault.from_json(fault.to_json()) == fault


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="count must be") as caught:
        Fault.from_json({"status": 200, "count": 0, "probability": 2, "operation": "Nope"})
    message = str(caught.value)
    for fragment in ("count", "probability", "operation", "status"):
        assert fragment in message


def test_fields_of_another_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="a 'drop' fault takes no 'seconds'"):
        Fault.from_json({"kind": "drop", "seconds": 1})
    with pytest.raises(ValueError, match="unknown fault field"):
        Fault.from_json({"kind": "drop", "colour": "red"})


@attrs.frozen(kw_only=True)
class _TeapotFault(Fault):
    """A kind defined outside the emulator: answers 418 with a header of its choosing."""

    kind: ClassVar[str] = "teapot"
    own_keys: ClassVar[frozenset[str]] = frozenset({"brew"})

    brew: str = "earl grey"

    @classmethod
    def own_from_json(cls, document: object) -> dict[str, object]:
        assert isinstance(document, dict)
        brew = document.get("brew", "earl grey")
        if not isinstance(brew, str):
            raise ValueError("brew must be a string")
        return {"brew": brew}

    def own_json(self) -> dict[str, object]:
        return {"brew": self.brew}

    def apply(self, responder: Responder) -> bool:
        responder.send_error(418, "TeapotException", "I'm a teapot", (("x-brew", self.brew),))
        return True


@pytest.fixture
def teapot(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = dict(FAULT_KINDS)
    kinds["teapot"] = _TeapotFault
    monkeypatch.setattr(_faults, "FAULT_KINDS", kinds)


@pytest.mark.usefixtures("teapot")
def test_a_new_kind_is_one_class_for_the_admin_api_the_handler_and_inject_fault() -> None:
    with Emulator() as emulator:
        pool = emulator.add_identity_pool()
        queued = emulator.inject_fault("teapot")
        assert queued == _TeapotFault()
        conn = http.client.HTTPConnection("127.0.0.1", int(emulator.endpoint_url.rsplit(":", 1)[1]))
        body = json.dumps({"kind": "teapot", "brew": "sencha"})
        conn.request("POST", "/_emulator/faults", body, emulator.admin_headers())
        listed = json.loads(conn.getresponse().read())["faults"]
        conn.close()
        assert [fault["kind"] for fault in listed] == ["teapot", "teapot"]
        assert listed[1]["brew"] == "sencha"
        with emulator.client(retry=None) as client:
            for _ in range(2):
                with pytest.raises(CognitoEventsError) as caught:
                    client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
                assert "TeapotException" in str(caught.value) or "418" in str(caught.value)
            client.set_cognito_events(pool, {SYNC_TRIGGER: ARN})
        assert [request.status for request in emulator.requests] == [418, 418, 200]


def _seen_by_handlers(server: EmulatorServer) -> EmulatorView:
    """mypy checks here that the server satisfies the protocol the handlers depend on."""
    return server


def test_handlers_see_the_server_through_the_protocol() -> None:
    from cognito_events._emulator._handler import EmulatorHandler

    emulator = EmulatorHandler.__dict__["emulator"]
    assert isinstance(emulator, property)
    assert emulator.fget is not None
    assert emulator.fget.__annotations__["return"] in ("EmulatorView", EmulatorView)
    with EmulatorServer() as server:
        assert _seen_by_handlers(server) is server


def _imports(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_import_cycles_in_the_emulator_type_only_included() -> None:
    graph = {path.stem: _imports(path) for path in EMULATOR.glob("_*.py")}
    graph.pop("__init__", None)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for name in graph.get(start, ()):
            if name == goal or (name not in seen and reaches(name, goal, seen | {name})):
                return True
        return False

    cycles = [name for name in graph if reaches(name, name, {name})]
    assert cycles == []
    assert "_server" not in set().union(*graph.values())  # nothing sees the concrete server
