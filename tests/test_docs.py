"""The documentation is checked, not trusted.

Sphinx cannot be imported in the test environment (the AWS CLI v1, a test dependency,
pins a docutils older than Sphinx needs), so this module reads the ``.rst`` sources
itself and runs, without Sphinx:

* every example of every page, the way ``sphinx-build -b doctest`` runs them: the
  ``testsetup``/``testcode``/``testoutput``/``doctest``/``testcleanup`` directives, with
  ``conf.py``'s ``doctest_global_setup``/``doctest_global_cleanup``, which start a local
  emulator and point the ``AWS_*`` variables at it (``docs/doctest_env.py``);
* every ``$ cognito-events`` line of the ``.. code-block:: console`` transcripts, as a
  subprocess against such an emulator, checking its output and exit code (``$ echo $?``
  gives a non-zero one; ``$ export`` lines are applied, and the port 8000 of the
  examples stands for the emulator's);
* the example project that ``docs/testing.rst`` includes, with its own pytest run;
* the README's two commands, the version in its three places, and the facts pages copy
  from the code: exit codes, options, regions, benchmark figures, internal links.

``nox -s docs`` also runs ``sphinx-build -b doctest``: two runners, one set of examples.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import IO, Any

import pytest

import cognito_events
from cognito_events._cli import build_parser
from cognito_events._config import COGNITO_SYNC_REGIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
README = ROOT / "README.md"
CHANGELOG = ROOT / "CHANGELOG.md"
PAGES = sorted(DOCS.glob("*.rst"))
TIMEOUT = 60

#: The README must open with exactly these; CI runs the second one verbatim.
README_COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/cognito-events demo",
    "python3 -m venv --upgrade-deps .venv && .venv/bin/pip install -e . --group test"
    " && .venv/bin/python -m pytest",
)

#: sphinx.ext.doctest's default ``doctest_default_flags``.
DEFAULT_FLAGS = doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL | doctest.DONT_ACCEPT_TRUE_FOR_1
DOCTEST_DIRECTIVES = frozenset({"testsetup", "testcleanup", "testcode", "testoutput", "doctest"})
#: The directive options this runner understands; anything else would be run wrongly.
KNOWN_OPTIONS = frozenset({"hide", "options"})
#: The console examples' stand-in for the address of a running emulator.
EXAMPLE_ENDPOINT = "http://127.0.0.1:8000"


# -- reading the .rst sources ----------------------------------------------------------------


@dataclass(frozen=True)
class Directive:
    """One ``.. name:: argument`` block of a page, with its options and dedented body."""

    path: Path
    line: int
    name: str
    argument: str
    options: dict[str, str]
    body: str
    body_line: int

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


_DIRECTIVE = re.compile(r"(?P<indent> *)\.\. (?P<name>[\w-]+)::(?: +(?P<argument>.*))?")


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def directives(path: Path) -> list[Directive]:
    """Every directive of a page, nested ones included, in document order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Directive] = []
    for index, text in enumerate(lines):
        match = _DIRECTIVE.fullmatch(text.rstrip())
        if match is None:
            continue
        indent = len(match["indent"])
        cursor = index + 1
        options: dict[str, str] = {}
        while (
            cursor < len(lines)
            and _indent(lines[cursor]) > indent
            and lines[cursor].strip().startswith(":")
        ):
            name, _, value = lines[cursor].strip()[1:].partition(":")
            options[name] = value.strip()
            cursor += 1
        start = cursor
        while cursor < len(lines) and (
            not lines[cursor].strip() or _indent(lines[cursor]) > indent
        ):
            cursor += 1
        body = lines[start:cursor]
        while body and not body[0].strip():
            body.pop(0)
            start += 1
        while body and not body[-1].strip():
            body.pop()
        found.append(
            Directive(
                path=path,
                line=index + 1,
                name=match["name"],
                argument=(match["argument"] or "").strip(),
                options=options,
                body=textwrap.dedent("\n".join(body)),
                body_line=start + 1,
            )
        )
    return found


def _pages_with(names: frozenset[str]) -> list[Path]:
    return [page for page in PAGES if any(d.name in names for d in directives(page))]


def _conf_settings() -> dict[str, object]:
    """The literal assignments of docs/conf.py (it cannot be imported without Sphinx)."""
    settings: dict[str, object] = {}
    for node in ast.parse((DOCS / "conf.py").read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            with contextlib.suppress(ValueError):
                settings[node.targets[0].id] = ast.literal_eval(node.value)
    return settings


@contextlib.contextmanager
def _docs_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """docs/doctest_env.py's emulator and environment; os.environ restored afterwards."""
    monkeypatch.syspath_prepend(str(DOCS))
    import doctest_env  # type: ignore[import-not-found]

    saved = dict(os.environ)
    environment = doctest_env.DocsEnvironment().start()
    try:
        yield environment
    finally:
        environment.stop()
        os.environ.clear()
        os.environ.update(saved)


# -- running the examples of a page ------------------------------------------------------------


def _flags(base: int, options: str) -> int:
    """``+ELLIPSIS, -IGNORE_EXCEPTION_DETAIL``-style options applied to ``base``."""
    flags = base
    for item in options.replace(",", " ").split():
        flag = doctest.OPTIONFLAGS_BY_NAME[item[1:]]
        if item[0] == "+":
            flags |= flag
        elif item[0] == "-":
            flags &= ~flag
        else:
            raise ValueError(f"doctest option {item!r} must start with + or -")
    return flags


def _compile(source: str, path: Path, first_line: int) -> CodeType:
    # Padded so that tracebacks point at the line of the .rst file.
    return compile("\n" * (first_line - 1) + source + "\n", str(path), "exec")


def _exec(code: CodeType, namespace: dict[str, Any]) -> None:
    exec(code, namespace)  # noqa: S102 - the documentation's own examples


@dataclass
class _Test:
    code: Directive
    output: Directive | None = None


@dataclass
class _Page:
    setup: list[Directive] = field(default_factory=list)
    cleanup: list[Directive] = field(default_factory=list)
    tests: list[_Test] = field(default_factory=list)


def _collect(path: Path) -> _Page:
    page = _Page()
    for block in directives(path):
        if block.name not in DOCTEST_DIRECTIVES:
            continue
        unknown = set(block.options) - KNOWN_OPTIONS
        assert not unknown, f"{block.where}: option(s) {unknown} are not run by tests/test_docs.py"
        # Only the default group: this runner keeps one namespace per page, as Sphinx does
        # for the group "default".
        allowed = ("", "*") if block.name in ("testsetup", "testcleanup") else ("",)
        assert block.argument in allowed, f"{block.where}: doctest groups are not supported"
        if block.name == "testsetup":
            page.setup.append(block)
        elif block.name == "testcleanup":
            page.cleanup.append(block)
        elif block.name == "testoutput":
            last = page.tests[-1] if page.tests else None
            message = f"{block.where}: a testoutput must follow its testcode"
            assert last is not None, message
            assert last.code.name == "testcode", message
            assert last.output is None, message
            last.output = block
        else:
            page.tests.append(_Test(block))
    return page


def _run_testcode(test: _Test, namespace: dict[str, Any]) -> str | None:
    """Run a testcode block; its printed output must match the testoutput (or be empty)."""
    block = test.code
    want = test.output.body + "\n" if test.output is not None and test.output.body else ""
    assert not want.startswith("Traceback"), f"{block.where}: expected exceptions: use doctest"
    flags = _flags(DEFAULT_FLAGS | doctest.DONT_ACCEPT_BLANKLINE, "")
    if test.output is not None:
        flags = _flags(flags, test.output.options.get("options", ""))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        _exec(_compile(block.body, block.path, block.body_line), namespace)
    checker = doctest.OutputChecker()
    if checker.check_output(want, printed.getvalue(), flags):
        return None
    example = doctest.Example(block.body, want)
    return f"{block.where}:\n" + checker.output_difference(example, printed.getvalue(), flags)


def _run_doctest(block: Directive, namespace: dict[str, Any]) -> str | None:
    """Run a doctest block in the page's namespace, as Sphinx does."""
    test = doctest.DocTestParser().get_doctest(
        block.body, {}, block.where, str(block.path), block.body_line - 1
    )
    options = _flags(DEFAULT_FLAGS, block.options.get("options", ""))
    for example in test.examples:
        directive_options = {
            flag: bool(options & flag) for flag in doctest.OPTIONFLAGS_BY_NAME.values()
        }
        example.options = {**directive_options, **example.options}
    test.globs = namespace  # DocTest copies its globals; the page shares one namespace
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=DEFAULT_FLAGS)
    runner.run(test, out=report.append, clear_globs=False)
    return "".join(report) if runner.failures else None


def run_page(path: Path) -> list[str]:
    """Run every example of a page; return the failure reports."""
    page = _collect(path)
    settings = _conf_settings()
    setup, cleanup = settings["doctest_global_setup"], settings["doctest_global_cleanup"]
    assert isinstance(setup, str)
    assert isinstance(cleanup, str)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    failures: list[str] = []
    _exec(compile(setup, "conf.py:doctest_global_setup", "exec"), namespace)
    try:
        for block in page.setup:
            _exec(_compile(block.body, block.path, block.body_line), namespace)
        for test in page.tests:
            if test.code.name == "doctest":
                failure = _run_doctest(test.code, namespace)
            else:
                failure = _run_testcode(test, namespace)
            if failure is not None:
                failures.append(failure)
    finally:
        try:
            for block in page.cleanup:
                _exec(_compile(block.body, block.path, block.body_line), namespace)
        finally:
            _exec(compile(cleanup, "conf.py:doctest_global_cleanup", "exec"), namespace)
    return failures


EXAMPLE_PAGES = _pages_with(frozenset({"testcode", "doctest"}))


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=[page.name for page in EXAMPLE_PAGES])
def test_page_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DOCS))
    saved = dict(os.environ)
    try:
        failures = run_page(page)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert not failures, "\n".join(failures)


def test_the_parser_finds_every_example() -> None:
    """A cross-check of directives(): no example may escape the runner unnoticed."""
    pattern = re.compile(r"^\s*\.\. (testcode|doctest|testoutput|testsetup|testcleanup)::", re.M)
    for page in PAGES:
        written = len(pattern.findall(page.read_text(encoding="utf-8")))
        parsed = sum(1 for d in directives(page) if d.name in DOCTEST_DIRECTIVES)
        assert written == parsed, page.name
    assert len(EXAMPLE_PAGES) >= 7


def test_no_python_example_goes_untested() -> None:
    """Python is shown only in doctest directives or included from docs/examples."""
    for page in PAGES:
        blocks = directives(page)
        for block in blocks:
            if block.name in ("code-block", "code", "sourcecode"):
                assert block.argument not in ("python", "py", "python3", "pycon"), (
                    f"{block.where}: use testcode or doctest, so that the example runs"
                )
            if block.name == "literalinclude" and block.argument.endswith(".py"):
                included = (page.parent / block.argument).resolve()
                assert included.is_relative_to(EXAMPLES), (
                    f"{block.where}: Python files shown must live in docs/examples (tested)"
                )
        in_doctest = {
            block.body_line + offset
            for block in blocks
            if block.name == "doctest"
            for offset in range(block.body.count("\n") + 1)
        }
        for number, text in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if text.lstrip().startswith(">>>"):
                assert number in in_doctest, f"{page.name}:{number}: >>> outside a doctest"


# -- the console transcripts -------------------------------------------------------------------


@dataclass
class _Step:
    line: int
    command: str
    output: list[str]


def _steps(block: Directive) -> list[_Step]:
    lines = block.body.splitlines()
    steps: list[_Step] = []
    index = 0
    while index < len(lines):
        text = lines[index]
        assert text.startswith("$ "), f"{block.where}: a transcript starts with '$ '"
        line = block.body_line + index
        command = text[2:]
        while command.endswith("\\"):
            index += 1
            command = command[:-1].rstrip() + " " + lines[index].strip()
        index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        steps.append(_Step(line, command, output))
    return steps


def _console_blocks() -> list[Directive]:
    return [
        block
        for page in PAGES
        for block in directives(page)
        if block.name == "code-block"
        and block.argument == "console"
        and any(step.command.startswith("cognito-events") for step in _steps(block))
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _matches(want_lines: list[str], got: str) -> bool:
    want = "\n".join(line.rstrip() for line in want_lines).strip("\n")
    got = "\n".join(line.rstrip() for line in got.splitlines()).strip("\n")
    if not want:
        return not got
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    return doctest.OutputChecker().check_output(want + "\n", got + "\n", flags)


def _argv(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[0] == "cognito-events"
    return [sys.executable, "-m", "cognito_events", *words[1:]]


def _run_serve(step: _Step, env: dict[str, str]) -> tuple[int, str]:
    """Start ``serve`` on a free port instead of the example's, wait until it listens,
    stop it with SIGINT (Ctrl-C), and return its exit code and output."""
    port = _free_port()
    argv = [str(port) if word == "8000" else word for word in _argv(step.command)]
    lines: queue.Queue[str | None] = queue.Queue()

    def read(stream: IO[str]) -> None:
        for text in stream:
            lines.put(text)
        lines.put(None)

    seen: list[str] = []
    with subprocess.Popen(  # noqa: S603 - our own interpreter and the docs' arguments
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        reader = threading.Thread(target=read, args=(process.stdout,), daemon=True)
        reader.start()
        try:
            while not any(text.startswith("Listening on") for text in seen):
                text = lines.get(timeout=TIMEOUT)
                if text is None:
                    break
                seen.append(text)
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=TIMEOUT)
            reader.join(timeout=TIMEOUT)
    while (text := lines.get_nowait() if not lines.empty() else None) is not None:
        seen.append(text)
    return code, "".join(seen).replace(f":{port}", ":8000")


CONSOLE_BLOCKS = _console_blocks()


@pytest.mark.parametrize("block", CONSOLE_BLOCKS, ids=[block.where for block in CONSOLE_BLOCKS])
def test_console_transcript(block: Directive, monkeypatch: pytest.MonkeyPatch) -> None:
    with _docs_environment(monkeypatch) as environment:
        env = dict(os.environ)
        previous: tuple[_Step, int] | None = None
        checked_code = True
        for step in _steps(block):
            where = f"{block.path.relative_to(ROOT)}:{step.line}"
            if step.command == "echo $?":
                assert previous is not None, f"{where}: no command before 'echo $?'"
                assert previous[1] == int(step.output[0]), f"{where}: exit code"
                checked_code = True
                continue
            assert checked_code, f"{where}: the command before exited with {previous}"
            if step.command.startswith("export "):
                for assignment in shlex.split(step.command)[1:]:
                    name, _, value = assignment.partition("=")
                    env[name] = value.replace(EXAMPLE_ENDPOINT, environment.emulator.endpoint_url)
                continue
            if not step.command.startswith("cognito-events"):
                continue  # pip, aws, nox...: shown, not run
            if "serve" in shlex.split(step.command):
                code, output = _run_serve(step, env)
            else:
                result = subprocess.run(  # noqa: S603 - our own interpreter, the docs' arguments
                    _argv(step.command),
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=TIMEOUT,
                    check=False,
                )
                code, output = result.returncode, result.stdout
            assert _matches(step.output, output), (
                f"{where}: $ {step.command}\nexpected:\n"
                + "\n".join(step.output)
                + f"\ngot:\n{output}"
            )
            previous = (step, code)
            checked_code = code == 0
        assert checked_code, f"the last command exited with {previous}"


def test_console_transcripts_are_found() -> None:
    assert len(CONSOLE_BLOCKS) >= 8
    pages = {block.path.name for block in CONSOLE_BLOCKS}
    assert {"index.rst", "quickstart.rst", "cli.rst", "testing.rst", "aws-setup.rst"} <= pages


# -- the example project of docs/testing.rst --------------------------------------------------


def test_the_included_example_project_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed is not None
    assert int(passed[1]) >= 10, result.stdout


# -- README, CHANGELOG and the version ---------------------------------------------------------


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first = re.search(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    assert first is not None
    assert first[1].splitlines() == list(README_COMMANDS)
    assert text.index("```") < text.index("\n## "), "the commands come before any section"


def test_the_readme_usage_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) == 1, "the README has one Python example"
    with _docs_environment(monkeypatch):
        _exec(_compile(blocks[0], README, 1), {"__name__": "readme"})
    code, request_id = capsys.readouterr().out.split()
    assert code == "ResourceNotFoundException"
    assert len(request_id) == 36  # the emulator's request ids are UUIDs


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    assert README_COMMANDS[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_demo_runs() -> None:
    assert README_COMMANDS[0].endswith("/cognito-events demo")
    result = subprocess.run(
        [sys.executable, "-m", "cognito_events", "demo"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo finished: all 4 calls succeeded." in result.stdout


def test_the_version_is_the_same_everywhere() -> None:
    headings = re.findall(r"^## (\d+\.\d+\.\d+)\b", CHANGELOG.read_text(encoding="utf-8"), re.M)
    assert headings, "CHANGELOG.md has no '## X.Y.Z' heading"
    versions = [tuple(int(part) for part in heading.split(".")) for heading in headings]
    assert versions == sorted(versions, reverse=True), "newest first"
    result = subprocess.run(
        [sys.executable, "-m", "cognito_events", "--version"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0
    assert headings[0] == cognito_events.__version__
    assert result.stdout.strip() == f"cognito-events {cognito_events.__version__}"
    # The docs and the package metadata read it from cognito_events/_version.py.
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert "release = cognito_events.__version__" in conf
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"] == {"path": "cognito_events/_version.py"}


# -- facts the pages copy from the code -------------------------------------------------------


def _section(path: Path, label: str) -> str:
    """The text of a page from ``.. _label:`` to the next label."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f".. _{label}:")
    end = text.find("\n.. _", start + 1)
    return text[start : end if end >= 0 else len(text)]


def test_the_region_list_is_the_code_s() -> None:
    listed = re.findall(r"``([a-z]{2}-[a-z]+-\d)``", _section(DOCS / "aws-setup.rst", "regions"))
    assert sorted(listed) == sorted(COGNITO_SYNC_REGIONS)


def test_the_cli_page_covers_every_command_option_and_exit_code() -> None:
    from cognito_events import _cli

    text = (DOCS / "cli.rst").read_text(encoding="utf-8")
    parser = build_parser()
    parsers = [parser]
    for action in parser._actions:
        if action.choices is not None and isinstance(action.choices, dict):
            for name, subparser in action.choices.items():
                assert f"\n``{name}``\n" in text or f"``{name} POOL``" in text, name
                parsers.append(subparser)
    for each in parsers:
        for action in each._actions:
            for option in action.option_strings:
                assert f"``{option}" in text, option
    codes = {
        value
        for name, value in vars(_cli).items()
        if name.startswith("EXIT_") and type(value) is int
    }
    table = text[text.index("Errors and exit codes") :]
    documented = {int(number) for number in re.findall(r"^   \* - (\d+)$", table, re.M)}
    assert documented == codes


def test_benchmark_figures_are_those_of_the_last_run() -> None:
    figures = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    page = (DOCS / "performance.rst").read_text(encoding="utf-8")
    numbers = re.findall(r"(?<![\w.])\d+\.\d+(?:\.\d+)*(?![\w.]*\d)", page)
    assert len(numbers) >= 20
    missing = [number for number in numbers if number not in figures]
    assert not missing, f"not in benchmarks/README.md: {missing}"


def test_internal_links_resolve() -> None:
    labels = {
        match
        for page in PAGES
        for match in re.findall(r"^\.\. _([\w-]+):\s*$", page.read_text(encoding="utf-8"), re.M)
    }
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r":doc:`(?:[^`<]*<)?([^`>]+)>?`", text):
            assert (DOCS / f"{target}.rst").is_file(), f"{page.name}: :doc:`{target}`"
        for target in re.findall(r":ref:`(?:[^`<]*<)?([^`>]+)>?`", text):
            assert target in labels, f"{page.name}: :ref:`{target}`"
        for block in directives(page):
            if block.name == "literalinclude":
                assert (page.parent / block.argument).is_file(), block.where
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    for page in PAGES:
        if page.stem != "index":
            assert re.search(rf"^   {re.escape(page.stem)}$", index, re.M), (
                f"{page.name} in toctree"
            )


def test_readme_links_work_on_pypi() -> None:
    """The README is the PyPI long description: links are absolute, and those into this
    repository name files that exist."""
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert links
    assert all(link.startswith("https://") for link in links), links
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    home = project["urls"]["Source"]
    for link in links:
        if link.startswith(home):
            path = link.removeprefix(home).removeprefix("/blob/main/").removeprefix("/tree/main/")
            assert (ROOT / path).exists(), link
