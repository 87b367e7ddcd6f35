"""The secrets sweep: record every secret the suite creates and every text the package
produces, then search all the texts for all the secrets.

Secrets are the secret access keys and session tokens of every ``Credentials`` built
during the run and of every credentials object the signer is given (except short or
repetitive ones, which property tests generate by the thousand, and the emulator's
documented public development pair), and every SigV4 signature the signer computes.

Texts are every log record (the ``cognito_events`` loggers run at DEBUG for the whole
session), the ``str`` and ``repr`` of every ``CognitoEventsError`` the package raises
(errors a test builds itself are not the package's words and are skipped), the ``repr``
of the package's value and service objects, the emulator's request log entries and log
lines, and what the command line prints (``record_output``, called by ``test_cli.py`` for
its subprocesses; the conftest also records what ``capsys``/``capfd`` read and what a
test left uncaptured). Texts are recorded when they are made, so nothing is kept alive.

``tests/conftest.py`` installs the hooks at session start (:func:`install`) and checks the
result at session end: a hit fails the run. :func:`redirect` points the hooks at a private
:class:`Sweep` for a while, which is how ``test_secrets.py`` proves that a leak is caught
without failing the session.
"""

from __future__ import annotations

import bisect
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

__all__ = [
    "MIN_SECRET_LENGTH",
    "Hit",
    "Sweep",
    "active",
    "install",
    "record_output",
    "record_text",
    "redirect",
    "set_current_test",
    "uninstall",
]

#: Shorter secrets are ignored: hypothesis makes many, and they match by chance.
MIN_SECRET_LENGTH = 16
#: So are secrets of fewer distinct characters ("0000000000000000" is not a key).
MIN_DISTINCT_CHARS = 6
_SEPARATOR = "\x00\x1e\x00"
_HEX_RUN = re.compile(r"[0-9a-f]{64,}")
#: A SigV4 signature in a header or message, for outputs of subprocesses, whose
#: signatures this process never sees.
_SIGNATURE_SHAPE = re.compile(r"Signature=[0-9a-f]{64}(?![0-9a-f])")
_PACKAGE = "cognito_events"


@dataclass(frozen=True)
class Hit:
    """A secret found in a text: which kind, a masked form of it, and where."""

    kind: str
    secret: str
    origin: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.kind} {self.secret} in {self.origin}: {self.excerpt}"


def _mask(secret: str) -> str:
    return f"{secret[:4]!r}…({len(secret)} chars)"


def _excerpt(text: str, start: int, secret: str, width: int = 60) -> str:
    before = text[max(0, start - width) : start]
    after = text[start + len(secret) : start + len(secret) + width]
    return repr(f"{before}<SECRET>{after}")


class Sweep:
    """Recorded secrets, signatures and texts; :meth:`hits` searches one in the other."""

    def __init__(self, *, ignored: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._ignored = frozenset(ignored)
        self.secrets: dict[str, str] = {}  # secret -> what it is
        self.signatures: set[str] = set()
        self.texts: dict[str, str] = {}  # text -> where it was first seen
        self.hook_errors: list[str] = []
        #: Secrets too short or too dull to search for (counted for the summary).
        self.skipped_short: set[str] = set()

    # -- recording ------------------------------------------------------------------------

    def add_secret(self, value: object, kind: str) -> bool:
        """Remember a secret; False when it is ignored (not a str, short, dull, public)."""
        if not isinstance(value, str):
            return False
        if len(value) < MIN_SECRET_LENGTH or len(set(value)) < MIN_DISTINCT_CHARS:
            with self._lock:
                self.skipped_short.add(value)
            return False
        if value in self._ignored:
            return False
        with self._lock:
            self.secrets.setdefault(value, kind)
        return True

    def add_signature(self, value: object) -> None:
        if isinstance(value, str) and len(value) == 64:
            with self._lock:
                self.signatures.add(value)

    def add_text(self, text: object, origin: str) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        if not isinstance(text, str) or not text:
            return
        with self._lock:
            self.texts.setdefault(text, origin)

    # -- searching ------------------------------------------------------------------------

    def hits(self, *, limit_per_secret: int = 3) -> list[Hit]:
        """Every recorded secret or signature found in a recorded text."""
        with self._lock:
            texts = list(self.texts.items())
            secrets = dict(self.secrets)
            signatures = set(self.signatures)
        found: list[Hit] = []
        starts: list[int] = []
        position = 0
        for text, _ in texts:
            starts.append(position)
            position += len(text) + len(_SEPARATOR)
        blob = _SEPARATOR.join(text for text, _ in texts)

        def locate(index: int) -> tuple[str, str, int]:
            number = bisect.bisect_right(starts, index) - 1
            text, origin = texts[number]
            return text, origin, index - starts[number]

        for secret, kind in secrets.items():
            if _SEPARATOR in secret:  # cannot be searched in the joined texts
                for text, origin in texts:
                    where = text.find(secret)
                    if where >= 0:
                        found.append(
                            Hit(kind, _mask(secret), origin, _excerpt(text, where, secret))
                        )
                continue
            index = blob.find(secret)
            count = 0
            while index >= 0 and count < limit_per_secret:
                text, origin, offset = locate(index)
                found.append(Hit(kind, _mask(secret), origin, _excerpt(text, offset, secret)))
                count += 1
                index = blob.find(secret, index + 1)
        if signatures:
            for match in _HEX_RUN.finditer(blob):
                run = match.group()
                for shift in range(len(run) - 63):
                    candidate = run[shift : shift + 64]
                    if candidate in signatures:
                        text, origin, offset = locate(match.start() + shift)
                        found.append(
                            Hit(
                                "signature",
                                _mask(candidate),
                                origin,
                                _excerpt(text, offset, candidate),
                            )
                        )
        for text, origin in texts:
            if origin.startswith("output"):
                for match in _SIGNATURE_SHAPE.finditer(text):
                    value = match.group()
                    found.append(
                        Hit(
                            "signature-shaped",
                            _mask(value),
                            origin,
                            _excerpt(text, match.start(), value),
                        )
                    )
        return found

    def summary(self) -> str:
        return (
            f"{len(self.texts)} distinct texts checked for {len(self.secrets)} secrets "
            f"(secret keys and session tokens) and {len(self.signatures)} signatures; "
            f"{len(self.skipped_short)} short or repetitive secrets not searched for"
        )


# -- the hooks ------------------------------------------------------------------------------

_active: list[Sweep] = []
_current_test = "(outside any test)"
_restore: list[Callable[[], None]] = []


def active() -> Sweep | None:
    """The sweep the hooks record into, if installed."""
    return _active[0] if _active else None


def set_current_test(nodeid: str) -> None:
    global _current_test
    _current_test = nodeid


def _origin(what: str) -> str:
    return f"{what} [{_current_test}]"


def record_text(text: object, what: str) -> None:
    for sweep in _active:
        sweep.add_text(text, _origin(what))


def record_output(text: object, what: str = "CLI") -> None:
    """Record what a program printed (the origin starts with 'output', so subprocess
    outputs are also searched for anything shaped like a signature)."""
    for sweep in _active:
        sweep.add_text(text, _origin(f"output of {what}"))


def _record_secret(value: object, kind: str) -> None:
    for sweep in _active:
        sweep.add_secret(value, kind)


def _hook_failed(where: str, exc: BaseException) -> None:
    for sweep in _active:
        sweep.hook_errors.append(f"{where}: {type(exc).__name__}: {exc}")


@contextmanager
def redirect(sweep: Sweep) -> Iterator[Sweep]:
    """Record into ``sweep`` only, for the duration (the session sweep sees nothing)."""
    saved = list(_active)
    _active[:] = [sweep]
    try:
        yield sweep
    finally:
        _active[:] = saved


class _RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not _active:
            return
        try:
            text = self.format(record)
        except Exception:  # a broken format string is the test's business
            return
        record_text(text, f"log record {record.name}")


def _patch(owner: Any, name: str, replacement: object) -> None:
    had = name in vars(owner)
    previous = vars(owner).get(name)
    setattr(owner, name, replacement)

    def undo() -> None:
        if had:
            setattr(owner, name, previous)
        else:
            delattr(owner, name)

    _restore.append(undo)


def _after_init(cls: type, record: Callable[[Any], None]) -> None:
    """Call ``record(instance)`` after every successful ``cls(...)``."""
    original: Callable[..., None] = vars(cls)["__init__"]  # each of these defines its own

    def patched_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if type(self) is cls and _active:
            try:
                record(self)
            except Exception as exc:
                _hook_failed(f"{cls.__name__} hook", exc)

    patched_init.__wrapped__ = original  # type: ignore[attr-defined]
    _patch(cls, "__init__", patched_init)


def _record_repr(what: str) -> Callable[[Any], None]:
    def record(instance: Any) -> None:
        record_text(repr(instance), f"repr of {what}")
        record_text(str(instance), f"str of {what}")

    return record


def _by_package(instance: object, frame: FrameType | None) -> bool:
    """Whether the code that built ``instance`` is the package's (not a test's)."""
    while (
        frame is not None
        and frame.f_code.co_name == "__init__"
        and frame.f_locals.get("self") is instance
    ):
        frame = frame.f_back
    if frame is None:
        return False
    module = str(frame.f_globals.get("__name__", ""))
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")


def _wrap_errors(base: type[BaseException]) -> None:
    """Record str and repr of every package-raised error, once it is fully built."""
    classes = [base]
    pending = list(base.__subclasses__())
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    wrapped = {cls for cls in classes if cls is base or "__init__" in vars(cls)}
    outermost: dict[type, type | None] = {}

    def first_wrapped(kind: type) -> type | None:
        """The wrapped class whose ``__init__`` ``kind(...)`` calls first."""
        if kind not in outermost:
            outermost[kind] = next((cls for cls in kind.__mro__ if cls in wrapped), None)
        return outermost[kind]

    for cls in wrapped:
        original = vars(cls).get("__init__")

        def make(cls: type[Any], original: Any) -> Callable[..., None]:
            def patched_init(self: Any, *args: Any, **kwargs: Any) -> None:
                if original is None:
                    super(cls, self).__init__(*args, **kwargs)
                else:
                    original(self, *args, **kwargs)
                if not _active or first_wrapped(type(self)) is not cls:
                    return
                try:
                    if _by_package(self, sys._getframe(1)):
                        name = type(self).__name__
                        record_text(str(self), f"str of {name}")
                        record_text(repr(self), f"repr of {name}")
                except Exception as exc:
                    _hook_failed(f"{cls.__name__} hook", exc)

            return patched_init

        _patch(cls, "__init__", make(cls, original))


def install(sweep: Sweep) -> None:
    """Point every hook at ``sweep`` (once per session; :func:`uninstall` undoes it)."""
    from cognito_events import (
        CognitoEventsClient,
        CognitoEventsError,
        Credentials,
        _chain,
        _config,
        _credentials,
        _providers,
        _sources,
        sigv4,
        testing,
    )
    from cognito_events._emulator import _handler, _state

    if _restore:
        raise RuntimeError("the sweep hooks are already installed")
    _active[:] = [sweep]

    def credentials(instance: Credentials) -> None:
        _record_secret(instance.secret_access_key, "secret access key")
        _record_secret(instance.session_token, "session token")
        record_text(repr(instance), "repr of Credentials")
        record_text(str(instance), "str of Credentials")

    def signed(instance: sigv4.SignedRequest) -> None:
        for active_sweep in _active:
            active_sweep.add_signature(instance.signature)
        record_text(repr(instance), "repr of SignedRequest")

    _after_init(Credentials, credentials)
    _after_init(sigv4.SignedRequest, signed)

    # The signer also takes duck-typed credentials (botocore's, in some tests).
    original_sign = sigv4.RequestTemplate.sign

    def sign(self: sigv4.RequestTemplate, **kwargs: Any) -> sigv4.SignedRequest:
        signing = kwargs.get("credentials")
        _record_secret(getattr(signing, "secret_access_key", None), "secret access key")
        _record_secret(getattr(signing, "session_token", None), "session token")
        return original_sign(self, **kwargs)

    _patch(sigv4.RequestTemplate, "sign", sign)
    for cls, what in (
        (CognitoEventsClient, "CognitoEventsClient"),
        (testing.Emulator, "testing.Emulator"),
        (sigv4.ParsedAuthorization, "ParsedAuthorization"),
        (_providers.StaticProvider, "StaticProvider"),
        (_chain.ChainProvider, "ChainProvider"),
        (_providers.RefreshingProvider, "RefreshingProvider"),
        (_credentials.Expiring, "Expiring"),
        (_sources.SourceContext, "credential SourceContext"),
        (_sources.Found, "credential source Found"),
        (_config.Setting, "config Setting"),
        (_config.IniFile, "IniFile"),
        (_config.ClientConfig, "ClientConfig"),
        (_config.Profile, "Profile"),
        (_state.RecordedRequest, "emulator RecordedRequest"),
    ):
        _after_init(cls, _record_repr(what))

    original_start = testing.Emulator.start

    def start(self: testing.Emulator) -> testing.Emulator:
        result = original_start(self)
        record_text(repr(self), "repr of testing.Emulator")
        return result

    _patch(testing.Emulator, "start", start)

    original_log_message = _handler.EmulatorHandler.log_message

    def log_message(self: Any, format: str, *args: object) -> None:
        try:
            record_text(format % args, "emulator log line")
        except Exception as exc:
            _hook_failed("emulator log hook", exc)
        original_log_message(self, format, *args)

    _patch(_handler.EmulatorHandler, "log_message", log_message)
    _wrap_errors(CognitoEventsError)

    handler = _RecordingHandler()
    root = logging.getLogger()
    package_logger = logging.getLogger(_PACKAGE)
    previous_level = package_logger.level
    root.addHandler(handler)
    package_logger.setLevel(logging.DEBUG)

    def undo_logging() -> None:
        root.removeHandler(handler)
        package_logger.setLevel(previous_level)

    _restore.append(undo_logging)


def uninstall() -> None:
    """Undo :func:`install` (in reverse order); the sweep keeps what it recorded."""
    while _restore:
        _restore.pop()()
    _active.clear()
