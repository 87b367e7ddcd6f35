"""The AWS shared files (``~/.aws/config``, ``~/.aws/credentials``) as parsed data.

The files are parsed line by line, leniently, following configparser's syntax as
botocore uses it: a bad line, a bad section header, a duplicate section or setting,
text that is not UTF-8 is recorded as a ``FileProblem`` with its line number and
everything valid is kept. Which problems matter is decided by ``profiles``, which knows
the sections in use. Messages give line numbers and never the text of a line, so no
secret from a file can leak into an error or a log.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import attrs

from .._errors import CredentialsError

__all__ = [
    "FileProblem",
    "IniFile",
    "Setting",
    "expand_path",
    "file_paths",
    "parse_ini",
    "read_ini",
]


@attrs.frozen
class Setting:
    """One ``key = value`` of a file; ``value`` is a dict for an indented sub-section."""

    value: str | Mapping[str, str] = attrs.field(repr=False)
    line: int


@attrs.frozen
class FileProblem:
    """A problem in a file: line number, what is wrong, and the section it concerns."""

    line: int | None
    message: str
    #: The section the problem belongs to (for a malformed header: the section it seems
    #: to name); None for lines before the first section, which belong to no profile.
    section: str | None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


@attrs.frozen
class IniFile:
    """A parsed shared file: its sections (in file order) and the problems found."""

    path: str
    exists: bool = False
    read_error: str | None = None
    sections: Mapping[str, Mapping[str, Setting]] = attrs.field(
        factory=dict[str, Mapping[str, Setting]], repr=False
    )
    section_lines: Mapping[str, int] = attrs.field(factory=dict[str, int], repr=False)
    problems: tuple[FileProblem, ...] = ()

    def check_readable(self) -> None:
        if self.read_error is not None:
            raise CredentialsError(f"Cannot read the AWS file {self.path}: {self.read_error}")


def _normalize_header(text: str) -> str:
    return " ".join(text.replace('"', " ").replace("'", " ").split())


@attrs.define
class _Entry:
    key: str
    line: int
    first: str
    more: list[tuple[int, str]] = attrs.field(factory=list[tuple[int, str]])


def parse_ini(path: str, data: bytes) -> IniFile:
    """Parse an AWS shared file, leniently and line by line (see the module docstring).

    Follows configparser's syntax as botocore uses it: ``[section]`` headers, ``key = value``
    or ``key: value`` (keys lower-cased), ``#``/``;`` comment lines, values continued on
    more-indented lines; a value that starts on the next, indented, line is a sub-section
    of ``key = value`` lines (``s3 =\\n  addressing_style = path``).
    """
    sections: dict[str, dict[str, Setting]] = {}
    section_lines: dict[str, int] = {}
    problems: list[FileProblem] = []
    entries: dict[str, list[_Entry]] = {}
    current: str | None = None
    entry: _Entry | None = None
    entry_indent = 0
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(FileProblem(number, "is not valid UTF-8 text", current))
            entry = None
            continue
        if number == 1:
            text = text.removeprefix("\ufeff")
        text = text.rstrip("\r")
        stripped = text.strip()
        if not stripped or stripped[0] in "#;":
            continue
        indent = len(text) - len(text.lstrip())
        if entry is not None and indent > entry_indent:
            entry.more.append((number, stripped))
            continue
        entry = None
        if stripped.startswith("["):
            end = stripped.rfind("]")
            name = stripped[1:end].strip() if end > 0 else stripped[1:].strip()
            if end <= 0:
                name = _normalize_header(name)
                problems.append(FileProblem(number, "section header has no closing ']'", name))
            elif not name:
                problems.append(FileProblem(number, "section header has no name", name))
            if name in sections:
                problems.append(
                    FileProblem(
                        number,
                        f"section [{name}] appears a second time (first at line "
                        f"{section_lines[name]})",
                        name,
                    )
                )
            else:
                sections[name] = {}
                section_lines[name] = number
                entries[name] = []
            current = name
            continue
        if current is None:
            problems.append(FileProblem(number, "setting before the first [section]", None))
            continue
        delimiters = [index for index in (stripped.find("="), stripped.find(":")) if index >= 0]
        if not delimiters:
            problems.append(
                FileProblem(number, "expected 'name = value', a [section] or a comment", current)
            )
            continue
        split = min(delimiters)
        key = stripped[:split].strip().lower()
        if not key:
            problems.append(FileProblem(number, "setting has no name before '='", current))
            continue
        entry = _Entry(key, number, stripped[split + 1 :].strip())
        entry_indent = indent
        entries[current].append(entry)

    for name, found in entries.items():
        settings = sections[name]
        first_line: dict[str, int] = {}
        for item in found:
            if item.key in first_line:
                problems.append(
                    FileProblem(
                        item.line,
                        f"setting {item.key!r} appears a second time in [{name}] (first at "
                        f"line {first_line[item.key]})",
                        name,
                    )
                )
            else:
                first_line[item.key] = item.line
            settings[item.key] = Setting(_entry_value(item, name, problems), item.line)
    problems.sort(key=lambda problem: problem.line or 0)
    return IniFile(
        path=path,
        exists=True,
        sections=sections,
        section_lines=section_lines,
        problems=tuple(problems),
    )


def _entry_value(item: _Entry, section: str, problems: list[FileProblem]) -> str | dict[str, str]:
    if not item.more:
        return item.first
    if item.first:
        return "\n".join([item.first, *(text for _, text in item.more)])
    nested: dict[str, str] = {}
    for number, text in item.more:
        key, equals, value = text.partition("=")
        if not equals or not key.strip():
            problems.append(
                FileProblem(
                    number, f"expected 'name = value' inside {item.key!r} of [{section}]", section
                )
            )
            continue
        nested[key.strip()] = value.strip()
    return nested


def read_ini(path: str) -> IniFile:
    """Read and parse a shared file; a missing file is an empty one."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return IniFile(path=path)
    except OSError as exc:
        return IniFile(path=path, exists=True, read_error=exc.strerror or type(exc).__name__)
    return parse_ini(path, data)


def expand_path(path: str, environ: Mapping[str, str]) -> str:
    def variable(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return environ.get(name, match.group(0))

    path = re.sub(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))", variable, path)
    if path == "~" or path.startswith(("~/", "~" + os.sep)):
        home = environ.get("HOME") or environ.get("USERPROFILE") or os.path.expanduser("~")
        path = home + path[1:]
    return os.path.expanduser(path)


def file_paths(environ: Mapping[str, str]) -> tuple[str, str]:
    """The (credentials file, config file) paths, expanded."""
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    config = environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    return expand_path(credentials, environ), expand_path(config, environ)
