"""Which cognito_events is under test: CI's artifact run must test the installed wheel.

``nox -s wheel`` runs this suite from the unpacked sdist against the wheel installed in a
fresh virtual environment, and sets ``COGNITO_EVENTS_UNDER_TEST=wheel``; a source checkout
on the import path would then fail here instead of quietly being tested in its place.
"""

from __future__ import annotations

import json
import os
import sysconfig
from importlib import metadata
from pathlib import Path

import cognito_events


def _package_dir() -> Path:
    return Path(cognito_events.__file__).resolve().parent


def _installed_editable() -> bool:
    text = metadata.distribution("cognito-events").read_text("direct_url.json")
    return bool(text and json.loads(text).get("dir_info", {}).get("editable"))


def test_the_package_comes_from_where_pip_installed_it() -> None:
    """An editable install maps to its project folder; any other install to site-packages."""
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    if _installed_editable():
        text = metadata.distribution("cognito-events").read_text("direct_url.json")
        assert text is not None
        project = Path(json.loads(text)["url"].removeprefix("file://")).resolve()
        assert _package_dir() == project / "cognito_events"
    else:
        assert _package_dir() == site_packages / "cognito_events"


def test_the_artifact_run_tests_the_installed_wheel() -> None:
    """Under ``nox -s wheel``: the wheel in site-packages, with its metadata and py.typed."""
    expected = os.environ.get("COGNITO_EVENTS_UNDER_TEST", "any")
    assert expected in {"any", "wheel"}
    if expected == "wheel":
        site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
        assert _package_dir().is_relative_to(site_packages)
        assert not _installed_editable()
        assert (_package_dir() / "py.typed").is_file()
        assert metadata.version("cognito-events") == cognito_events.__version__
