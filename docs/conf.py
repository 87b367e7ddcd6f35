"""Sphinx configuration for the cognito-events documentation.

Build the site, then run every example in it (``nox -s docs`` does both)::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html
    sphinx-build -W --keep-going -n -b doctest docs docs/_build/doctest

Only built-in extensions and the built-in alabaster theme are used, and nothing is
fetched from the network (no intersphinx), so the build works offline.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
from sphinx.application import Sphinx

import cognito_events

# -- Project -----------------------------------------------------------------------------

project = "cognito-events"
author = "cognito-events developers"
copyright = "cognito-events developers"
# The version lives in one place, cognito_events/_version.py.
release = cognito_events.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

root_doc = "index"
exclude_patterns = ["_build", "examples"]
nitpicky = True
python_use_unqualified_type_names = True

# -- autodoc -----------------------------------------------------------------------------

autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
# Show the alias, not its four-way expansion, in CognitoEventsClient's signature.
autodoc_type_aliases = {"CredentialsSource": "CredentialsSource"}

# Standard-library and requests names that appear in signatures. There is no
# intersphinx (the build must work offline), so they cannot resolve; nitpicky mode
# would fail on them. Builtins such as ValueError resolve on their own.
nitpick_ignore = [
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "datetime.datetime"),
    ("py:class", "datetime.timedelta"),
    ("py:class", "os.PathLike"),
    ("py:class", "requests.sessions.Session"),
    # The emulator's internal protocol in Fault.apply's signature (not a public name).
    ("py:class", "cognito_events._emulator._http.Responder"),
]

# -- doctest -----------------------------------------------------------------------------

# Every page's examples run against a local emulator that the ``AWS_*`` variables point
# at (doctest_env.py), never against AWS. tests/test_docs.py reads these two settings
# from this file and runs the same examples without Sphinx.
doctest_path = [str(Path(__file__).parent)]
doctest_global_setup = (
    "import doctest_env as _doctest_env\n_docs_environment = _doctest_env.DocsEnvironment().start()"
)
doctest_global_cleanup = "_docs_environment.stop()"

# -- HTML --------------------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"cognito-events {release}"
html_theme_options = {
    "description": "A small, fast, typed client for Cognito Sync's event configuration.",
    "fixed_sidebar": True,
    "show_relbars": True,
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"],
}
html_static_path: list[str] = []


# -- Hooks -------------------------------------------------------------------------------


def _drop_builtin_docstring(
    app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Constants such as ``SYNC_TRIGGER`` are plain str/frozenset/tuple values with no
    docstring of their own: keep autodoc from printing the docstring of their type
    (``str(object='') -> str`` ...) in front of the text written in the .rst file."""
    if what not in ("data", "attribute") or obj is None or not lines:
        return
    type_doc = type(obj).__doc__ or ""
    if type_doc and lines[0].strip() == type_doc.strip().splitlines()[0].strip():
        lines.clear()


def _attrs_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Show the real defaults of attrs classes, and no signature for protocols.

    ``autodoc_preserve_defaults`` (wanted for ``CognitoEventsClient(sleep=time.sleep)``)
    reads defaults from the source of ``__init__``, which for an attrs class is generated
    code: ``attr_dict['max_attempts'].default``. Put the value itself there instead.
    """
    if what not in ("class", "exception") or not signature:
        return None
    if getattr(obj, "_is_protocol", False):
        # A typing.Protocol is never instantiated; its "(*args, **kwargs)" says nothing.
        return "", return_annotation
    if not isinstance(obj, type) or not attrs.has(obj):
        return None
    fields = attrs.fields_dict(obj)

    def default(match: re.Match[str]) -> str:
        field = fields.get(match[1])
        if field is None or field.default is attrs.NOTHING:
            return match[0]
        return repr(field.default)

    return _ATTRS_DEFAULT.sub(default, signature), return_annotation


_ATTRS_DEFAULT = re.compile(r"attr_dict\['(\w+)'\]\.default")


def _alias_names(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Show ``CredentialsSource | None``, not ``TypeAliasForwardRef('CredentialsSource') |
    None``: Sphinx 9 renders an ``autodoc_type_aliases`` entry inside a union by its repr."""
    if not signature or "TypeAliasForwardRef(" not in signature:
        return None
    return _FORWARD_REF.sub(r"\1", signature), return_annotation


_FORWARD_REF = re.compile(r"TypeAliasForwardRef\('([\w.]+)'\)")


def setup(app: Sphinx) -> None:
    app.connect("autodoc-process-docstring", _drop_builtin_docstring)
    app.connect("autodoc-process-signature", _attrs_signature)
    app.connect("autodoc-process-signature", _alias_names)
