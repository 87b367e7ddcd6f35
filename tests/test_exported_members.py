"""The facade exports exactly what it documents, under the public module name, lazily."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

import cognito_events


def test_all_is_sorted_and_complete() -> None:
    exported = cognito_events.__all__
    assert exported == sorted(exported, key=lambda name: (not name.isupper(), name))
    for name in exported:
        getattr(cognito_events, name)  # loads the lazy names into the namespace
    public = {
        name
        for name, value in vars(cognito_events).items()
        if name[0].isalpha() and not isinstance(value, types.ModuleType)
    }
    assert public | {"__version__"} == set(exported)
    assert set(dir(cognito_events)) >= set(exported)


def test_public_classes_report_the_public_module() -> None:
    for name in cognito_events.__all__:
        value = getattr(cognito_events, name)
        if isinstance(value, type):
            assert value.__module__ == "cognito_events", name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'CognitoEventsClent'"):
        cognito_events.CognitoEventsClent  # type: ignore[attr-defined]  # noqa: B018


def test_version_is_a_release_string() -> None:
    parts = cognito_events.__version__.split(".")
    assert len(parts) == 3
    assert all(part.isdigit() for part in parts)


HEAVY = ("requests", "urllib3", "attrs", "cognito_events._client", "cognito_events._emulator")


@pytest.mark.parametrize(
    "module", ["cognito_events", "cognito_events.pytest_plugin", "cognito_events._version"]
)
def test_light_modules_import_nothing_heavy(module: str) -> None:
    """The package and its pytest plugin (loaded by every pytest run) cost almost nothing."""
    code = f"import sys, {module}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", result.stdout


def test_first_use_loads_the_facade() -> None:
    code = (
        "import sys, cognito_events\n"
        "assert 'requests' not in sys.modules\n"
        "cognito_events.CognitoEventsClient\n"
        "print('requests' in sys.modules, cognito_events.ServiceError.__module__)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["True", "cognito_events"]


def test_a_client_given_credentials_loads_neither_the_chain_nor_ensure() -> None:
    """What a set/get client with ``credentials=`` needs, and nothing more: no credential
    sources (processes, containers, instance metadata), no ensure/check machinery."""
    code = (
        "import sys\n"
        "from cognito_events import CognitoEventsClient, Credentials\n"
        "client = CognitoEventsClient(region='us-east-1', endpoint_url='http://127.0.0.1:9',"
        " credentials=Credentials('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),"
        " environ={})\n"
        "client.region\n"
        "print(' '.join(m for m in ('cognito_events._chain', 'cognito_events._sources',"
        " 'cognito_events._fetchers', 'cognito_events._ensure') if m in sys.modules))\n"
        "import cognito_events\n"
        "print(cognito_events.EnsureResult.__module__)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split("\n")[:2] == ["", "cognito_events"]
