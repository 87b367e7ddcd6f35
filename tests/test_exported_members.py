"""The facade exports exactly what it documents, under the public module name."""

from __future__ import annotations

import types

import cognito_events


def test_all_is_sorted_and_complete() -> None:
    exported = cognito_events.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    public = {
        name
        for name, value in vars(cognito_events).items()
        if name[0].isalpha() and not isinstance(value, types.ModuleType)
    }
    assert public | {"__version__"} == set(exported)


def test_public_classes_report_the_public_module() -> None:
    for name in cognito_events.__all__:
        value = getattr(cognito_events, name)
        if isinstance(value, type):
            assert value.__module__ == "cognito_events", name


def test_version_is_a_release_string() -> None:
    parts = cognito_events.__version__.split(".")
    assert len(parts) == 3
    assert all(part.isdigit() for part in parts)
