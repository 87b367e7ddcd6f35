"""Client settings from the arguments, the environment and the shared AWS files.

``load_config`` resolves everything except credentials (see ``_credentials``) the way
boto3 does, so a client built with no arguments behaves like boto3 on the same machine.
Nothing here runs at import time: the files are read when ``load_config`` is called,
which the client does at its first request.

Profile (first match wins)
    1. ``profile=`` in code (then credentials in the environment are skipped, as boto3
       does for ``Session(profile_name=...)``);
    2. ``AWS_DEFAULT_PROFILE``; 3. ``AWS_PROFILE``; 4. ``default``.

    ``AWS_DEFAULT_PROFILE`` is read before ``AWS_PROFILE`` because that is botocore's order,
    and the point of this module is to pick the profile boto3 would. (The AWS CLI v2 and
    the other SDKs only know ``AWS_PROFILE``.) When both are set and differ, a warning is
    logged. A profile selected in code or by a variable must exist in one of the files;
    the error names the profiles that do. An absent ``default`` profile is not an error.

Files
    ``AWS_SHARED_CREDENTIALS_FILE`` (default ``~/.aws/credentials``; sections ``[name]``)
    and ``AWS_CONFIG_FILE`` (default ``~/.aws/config``; sections ``[default]``,
    ``[profile name]``, ``[services name]``). A setting present in both files for the same
    profile is taken from the credentials file, as botocore merges them. ``~`` and
    ``$VARIABLES`` in the two paths are expanded. A missing file is an empty one.

Region
    ``region=`` → ``AWS_REGION`` → ``AWS_DEFAULT_REGION`` → the profile's ``region`` →
    None (the client then uses the region prefix of each identity pool id).
    Deliberate difference: boto3 ignores ``AWS_REGION``; it is read here, before
    ``AWS_DEFAULT_REGION``, because the other SDKs, the AWS CLI v2 and AWS Lambda use it.

Endpoint
    ``endpoint_url=`` → ``AWS_ENDPOINT_URL_COGNITO_SYNC`` → ``AWS_ENDPOINT_URL`` → the
    ``endpoint_url`` of ``cognito_sync`` in the ``[services NAME]`` section that the
    profile's ``services = NAME`` names → the profile's ``endpoint_url`` → the default
    ``https://cognito-sync.{region}.{dns suffix}`` (``cognito-sync-fips`` when
    ``AWS_USE_FIPS_ENDPOINT`` / ``use_fips_endpoint`` is true).
    ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` (or the profile's
    ``ignore_configured_endpoint_urls``) set to true keeps only ``endpoint_url=``.

Other settings (variable → profile setting → default)
    ``AWS_MAX_ATTEMPTS`` / ``max_attempts`` (total attempts, an int >= 1) → None (the
    client's RetryPolicy default); ``AWS_RETRY_MODE`` / ``retry_mode`` → ``standard``:
    ``legacy`` and ``adaptive`` are accepted and run as ``standard``, the only mode this
    library implements; ``AWS_CA_BUNDLE`` / ``ca_bundle`` → None (the bundle must exist).
    Booleans are ``true`` or ``false`` (any case); anything else is refused rather than
    read as false as botocore does. An empty variable counts as unset. Invalid values
    raise one ``ValidationError`` naming each variable, or each file, profile and line.

Malformed files
    The files are parsed line by line, leniently: a bad line, a bad section header, a
    duplicate section or setting, text that is not UTF-8 is recorded with its line number
    and everything valid is kept. Only problems that touch the data actually used — the
    selected profile's section (a malformed header is attributed to the section it seems
    to name) and the ``[services]`` section it refers to — raise ``CredentialsError``
    naming the file and the lines. Other problems are logged as a warning. (botocore
    refuses the whole file instead.) A file that exists but cannot be read raises
    ``CredentialsError``. Messages give line numbers and never the text of a line, so
    no secret from a file can leak into an error or a log.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from ._errors import CredentialsError, Problem, ValidationError
from ._validation import check_region

__all__ = [
    "COGNITO_SYNC_REGIONS",
    "ClientConfig",
    "IniFile",
    "Profile",
    "default_endpoint",
    "dns_suffix",
    "load_config",
    "load_profile",
    "parse_bool",
    "read_ini",
    "unavailable_region_hint",
]

logger = logging.getLogger("cognito_events.config")

#: The regions where Amazon Cognito Sync is offered (botocore's endpoints.json, service
#: ``cognito-sync``: partition ``aws`` only).
COGNITO_SYNC_REGIONS: Final[tuple[str, ...]] = (
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "us-east-1",
    "us-east-2",
    "us-west-2",
)
_AVAILABLE: Final = frozenset(COGNITO_SYNC_REGIONS)

#: DNS suffix by partition (region-name pattern → suffix), most specific first; every
#: other region is in the ``aws`` partition (``amazonaws.com``).
_PARTITION_SUFFIXES: Final = (
    (re.compile(r"us-iso-\w+-\d+"), "c2s.ic.gov"),
    (re.compile(r"us-isob-\w+-\d+"), "sc2s.sgov.gov"),
    (re.compile(r"us-isof-\w+-\d+"), "csp.hci.ic.gov"),
    (re.compile(r"eu-isoe-\w+-\d+"), "cloud.adc-e.uk"),
    (re.compile(r"eusc-de-\w+-\d+"), "amazonaws.eu"),
    (re.compile(r"cn-\w+-\d+"), "amazonaws.com.cn"),
)

#: The service's key in a ``[services]`` section and its environment variable suffix.
SERVICE_KEY: Final = "cognito_sync"
RETRY_MODES: Final = ("standard", "legacy", "adaptive")


def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's partition (``amazonaws.com`` for commercial)."""
    for pattern, suffix in _PARTITION_SUFFIXES:
        if pattern.fullmatch(region):
            return suffix
    return "amazonaws.com"


def default_endpoint(region: str, *, fips: bool = False) -> str:
    """The service's default endpoint in ``region``, as botocore's rules build it."""
    host = "cognito-sync-fips" if fips else "cognito-sync"
    return f"https://{host}.{region}.{dns_suffix(region)}"


def unavailable_region_hint(region: str) -> str | None:
    """A sentence for errors when Cognito Sync is not offered in ``region``; else None."""
    if region in _AVAILABLE:
        return None
    return (
        f"Amazon Cognito Sync is not offered in region {region!r}; it is available in "
        + ", ".join(COGNITO_SYNC_REGIONS)
        + "."
    )


# -- shared-file parsing ------------------------------------------------------------------


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
    sections: Mapping[str, Mapping[str, Setting]] = attrs.field(factory=dict, repr=False)
    section_lines: Mapping[str, int] = attrs.field(factory=dict, repr=False)
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
    more: list[tuple[int, str]] = attrs.field(factory=list)


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


def _expand_path(path: str, environ: Mapping[str, str]) -> str:
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
    return _expand_path(credentials, environ), _expand_path(config, environ)


def _split_header(header: str) -> list[str]:
    if '"' in header or "'" in header:
        import shlex  # only for quoted section names

        try:
            return shlex.split(header)
        except ValueError:
            return []
    return header.split()


def _config_sections(config: IniFile, kind: str) -> dict[str, str]:
    """Map names to section headers for ``[profile NAME]``/``[default]`` or ``[services NAME]``.

    A later section for the same name wins, as in botocore.
    """
    found: dict[str, str] = {}
    for header in config.sections:
        if kind == "profile" and header == "default":
            found["default"] = header
            continue
        parts = _split_header(header)
        if len(parts) == 2 and parts[0] == kind:
            found[parts[1]] = header
    return found


@attrs.frozen
class Profile:
    """The selected profile's settings in both files (credentials file first)."""

    name: str
    credentials_file: IniFile = attrs.field(repr=False)
    config_file: IniFile = attrs.field(repr=False)
    #: The profile's section header in the credentials and config files (None: absent).
    credentials_header: str | None = None
    config_header: str | None = None
    services_header: str | None = None

    @property
    def from_credentials(self) -> Mapping[str, Setting]:
        if self.credentials_header is None:
            return {}
        return self.credentials_file.sections[self.credentials_header]

    @property
    def from_config(self) -> Mapping[str, Setting]:
        if self.config_header is None:
            return {}
        return self.config_file.sections[self.config_header]

    @property
    def services(self) -> Mapping[str, Setting]:
        if self.services_header is None:
            return {}
        return self.config_file.sections[self.services_header]

    def lookup(self, key: str) -> tuple[Setting, str] | None:
        """The setting (credentials file first, as botocore merges) and where it is."""
        for settings, file, header in (
            (self.from_credentials, self.credentials_file, self.credentials_header),
            (self.from_config, self.config_file, self.config_header),
        ):
            setting = settings.get(key)
            if setting is not None:
                return setting, where(file, header, setting.line, key)
        return None

    def has(self, key: str) -> bool:
        return key in self.from_credentials or key in self.from_config


def where(file: IniFile, header: str | None, line: int | None, key: str | None = None) -> str:
    """``'region' in [profile x] of /path (line 3)``: a place in a file, for messages."""
    head = f"{key!r} in " if key else ""
    tail = f" (line {line})" if line is not None else ""
    return f"{head}[{header}] of {file.path}{tail}"


def _raise_problems(file: IniFile, header: str, problems: Iterable[FileProblem]) -> None:
    listed = "\n".join(f"  - {file.path}, {problem}" for problem in problems)
    raise CredentialsError(
        f"The AWS file {file.path} is malformed in section [{header}], which is in use:\n"
        f"{listed}\nFix these lines (other sections are not affected)."
    )


def _warn_other_problems(file: IniFile, used: set[str | None]) -> None:
    others = [problem for problem in file.problems if problem.section not in used]
    if others:
        logger.warning(
            "Ignoring %d malformed line(s) of %s outside the sections in use: %s",
            len(others),
            file.path,
            "; ".join(str(problem) for problem in others),
        )


def load_profile(
    name: str, environ: Mapping[str, str], *, selected_by: str | None = None
) -> Profile:
    """Read both files and find profile ``name``.

    ``selected_by`` says how an explicitly selected profile was chosen (``profile=
    argument``, ``AWS_PROFILE``…); such a profile must exist. Raises ``CredentialsError``
    for an unreadable file, problems in the sections used, or an unknown profile.
    """
    credentials_path, config_path = file_paths(environ)
    credentials_file = read_ini(credentials_path)
    config_file = read_ini(config_path)
    credentials_file.check_readable()
    config_file.check_readable()

    credentials_header = name if name in credentials_file.sections else None
    profiles = _config_sections(config_file, "profile")
    config_header = profiles.get(name)
    # A malformed header is attributed to the name it seems to have: if it may be this
    # profile's section, the profile is affected even when it was not found.
    config_names = {f"profile {name}"} | ({"default"} if name == "default" else set())
    for file, header, names, shown in (
        (credentials_file, credentials_header, {name}, name),
        (config_file, config_header, config_names, config_header or f"profile {name}"),
    ):
        if header is not None:
            names = names | {header}
        affecting = [problem for problem in file.problems if problem.section in names]
        if affecting:
            _raise_problems(file, shown, affecting)

    services_header: str | None = None
    partial = Profile(
        name=name,
        credentials_file=credentials_file,
        config_file=config_file,
        credentials_header=credentials_header,
        config_header=config_header,
    )
    services = partial.lookup("services")
    if services is not None and isinstance(services[0].value, str):
        services_name = services[0].value.strip()
        services_header = _config_sections(config_file, "services").get(services_name)
        affecting = [
            problem
            for problem in config_file.problems
            if problem.section in {services_header, f"services {services_name}"}
        ]
        if affecting:
            _raise_problems(config_file, services_header or f"services {services_name}", affecting)

    _warn_other_problems(credentials_file, {credentials_header})
    _warn_other_problems(config_file, {config_header, services_header})

    if selected_by is not None and credentials_header is None and config_header is None:
        existing = sorted(set(credentials_file.sections) | set(profiles))
        known = (
            "the profiles that exist are: " + ", ".join(existing)
            if existing
            else "neither file defines any profile"
        )
        raise CredentialsError(
            f"The AWS profile {name!r} (selected by {selected_by}) is not in "
            f"{credentials_path} nor in {config_path}; {known}."
        )
    return attrs.evolve(partial, services_header=services_header)


# -- settings -----------------------------------------------------------------------------


def _show(text: str) -> str:
    """A short rendering of a rejected setting for a message."""
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:59] + "…"


def parse_bool(text: str, parameter: str, problems: list[Problem]) -> bool | None:
    """``true``/``false`` in any case; records a problem (and returns None) otherwise."""
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    problems.append(Problem(parameter, f"must be true or false, got {_show(text)}"))
    return None


class _Settings:
    """Looks settings up: environment variable first, then the profile."""

    def __init__(self, environ: Mapping[str, str], profile: Profile, problems: list[Problem]):
        self.environ = environ
        self.profile = profile
        self.problems = problems

    def get(self, variable: str | None, key: str | None) -> tuple[str, str] | None:
        """(value, where it came from) from the variable, else from the profile."""
        if variable is not None:
            value = self.environ.get(variable)
            if value:
                return value, variable
        if key is not None:
            found = self.profile.lookup(key)
            if found is not None:
                setting, place = found
                if isinstance(setting.value, str) and "\n" in setting.value:
                    # Indented lines continue a value: they may be other settings indented
                    # by mistake, secrets among them, so the value is not quoted.
                    self.problems.append(
                        Problem(
                            place,
                            "must be a single line; the lines indented below it "
                            "continue it (remove their indentation)",
                        )
                    )
                    return None
                if isinstance(setting.value, str):
                    return setting.value, place
                self.problems.append(Problem(place, "must be a single value, not a sub-section"))
        return None

    def boolean(self, variable: str | None, key: str) -> bool | None:
        found = self.get(variable, key)
        if found is None:
            return None
        return parse_bool(found[0], found[1], self.problems)


def check_url(value: str, parameter: str, problems: list[Problem]) -> str | None:
    """An http(s) URL without query, fragment or user info, trailing '/' removed."""
    from urllib.parse import urlsplit  # already loaded by requests

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(
            Problem(parameter, f"{_show(value)} is not an http(s) URL such as 'https://host:443'")
        )
        return None
    if parts.query or parts.fragment or "@" in parts.netloc:
        problems.append(Problem(parameter, "must not carry a query, a fragment or user info"))
        return None
    return value.rstrip("/")


@attrs.frozen(kw_only=True)
class ClientConfig:
    """What a client needs besides credentials, with where each value came from."""

    #: The selected profile name.
    profile: str = "default"
    #: True when the profile was passed in code (then environment credentials are skipped).
    profile_explicit: bool = False
    #: None: the client uses the region prefix of the identity pool id.
    region: str | None = None
    #: Explicit or configured endpoint; None: ``default_endpoint(region)``.
    endpoint_url: str | None = None
    use_fips_endpoint: bool = False
    #: Total attempts; None: the client's RetryPolicy default.
    max_attempts: int | None = None
    #: Always "standard" (``legacy`` and ``adaptive`` are mapped to it).
    retry_mode: str = "standard"
    #: TLS verification bundle (a path); None: the default bundle.
    ca_bundle: str | None = None
    #: Where ``region``/``endpoint_url`` came from, for messages (None: not set).
    region_source: str | None = None
    endpoint_source: str | None = None
    #: The parsed profile, for the credential chain; None: it reads the files itself.
    profile_data: Profile | None = attrs.field(default=None, repr=False, eq=False)

    def default_endpoint(self, region: str) -> str:
        """The endpoint for ``region`` when none is configured (FIPS when enabled)."""
        return default_endpoint(region, fips=self.use_fips_endpoint)


def select_profile(profile: str | None, environ: Mapping[str, str]) -> tuple[str, bool, str | None]:
    """(name, explicit in code, how it was selected or None for the implicit default)."""
    if profile is not None:
        if not isinstance(profile, str) or not profile.strip():
            raise ValidationError([Problem("profile", f"must be a non-empty str, got {profile!r}")])
        return profile, True, "the profile= argument"
    default_profile = environ.get("AWS_DEFAULT_PROFILE")
    aws_profile = environ.get("AWS_PROFILE")
    if default_profile and aws_profile and default_profile != aws_profile:
        logger.warning(
            "AWS_DEFAULT_PROFILE=%s and AWS_PROFILE=%s disagree; using %s, as boto3 does",
            default_profile,
            aws_profile,
            default_profile,
        )
    if default_profile:
        return default_profile, False, "AWS_DEFAULT_PROFILE"
    if aws_profile:
        return aws_profile, False, "AWS_PROFILE"
    return "default", False, None


def load_config(
    *,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
    environ: Mapping[str, str],
) -> ClientConfig:
    """Resolve the client settings (see the module docstring for every precedence rule).

    Reads both shared files. Raises ``ValidationError`` for invalid values (all of them
    at once) and ``CredentialsError`` for an unknown profile or a file problem in use.
    """
    name, explicit, selected_by = select_profile(profile, environ)
    data = load_profile(name, environ, selected_by=selected_by)
    problems: list[Problem] = []
    settings = _Settings(environ, data, problems)

    # Region.
    region_source: str | None = None
    if region is not None:
        region_source = "the region= argument"
        problems += check_region(region)
    else:
        found = settings.get("AWS_REGION", None) or settings.get("AWS_DEFAULT_REGION", "region")
        if found is not None:
            region, region_source = found
            problems += check_region(region, region_source)

    # Endpoint.
    endpoint_source: str | None = None
    if endpoint_url is not None:
        endpoint_source = "the endpoint_url= argument"
        endpoint_url = check_url(endpoint_url, "endpoint_url", problems)
    else:
        ignore_env = environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        if ignore_env:
            ignore = parse_bool(ignore_env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", problems)
        else:
            ignore = settings.boolean(None, "ignore_configured_endpoint_urls")
        if not ignore:
            found = (
                settings.get("AWS_ENDPOINT_URL_COGNITO_SYNC", None)
                or settings.get("AWS_ENDPOINT_URL", None)
                or _services_endpoint(data, problems)
                or settings.get(None, "endpoint_url")
            )
            if found is not None:
                endpoint_url = check_url(found[0], found[1], problems)
                endpoint_source = found[1]

    use_fips = bool(settings.boolean("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"))

    max_attempts: int | None = None
    found = settings.get("AWS_MAX_ATTEMPTS", "max_attempts")
    if found is not None:
        text, source = found
        try:
            max_attempts = int(text.strip())
        except ValueError:
            max_attempts = None
        if max_attempts is None or max_attempts < 1:
            problems.append(Problem(source, f"must be a whole number >= 1, got {_show(text)}"))
            max_attempts = None

    found = settings.get("AWS_RETRY_MODE", "retry_mode")
    if found is not None and found[0].strip().lower() not in RETRY_MODES:
        problems.append(
            Problem(found[1], f"must be one of {', '.join(RETRY_MODES)}, got {_show(found[0])}")
        )

    ca_bundle: str | None = None
    found = settings.get("AWS_CA_BUNDLE", "ca_bundle")
    if found is not None:
        ca_bundle = _expand_path(found[0].strip(), environ)
        if not os.path.isfile(ca_bundle):
            problems.append(Problem(found[1], f"{_show(found[0])} is not an existing file"))
            ca_bundle = None

    if problems:
        raise ValidationError(problems)
    return ClientConfig(
        profile=name,
        profile_explicit=explicit,
        region=region,
        endpoint_url=endpoint_url,
        use_fips_endpoint=use_fips,
        max_attempts=max_attempts,
        retry_mode="standard",
        ca_bundle=ca_bundle,
        region_source=region_source,
        endpoint_source=endpoint_source,
        profile_data=data,
    )


def _services_endpoint(profile: Profile, problems: list[Problem]) -> tuple[str, str] | None:
    found = profile.lookup("services")
    if found is None:
        return None
    setting, place = found
    if not isinstance(setting.value, str) or not setting.value.strip():
        problems.append(Problem(place, "must name a [services NAME] section"))
        return None
    if profile.services_header is None:
        problems.append(
            Problem(
                place,
                f"names the services section {setting.value!r}, but "
                f"{profile.config_file.path} has no [services {setting.value}] section",
            )
        )
        return None
    service = profile.services.get(SERVICE_KEY)
    if service is None:
        return None
    section_place = where(
        profile.config_file, profile.services_header, service.line, SERVICE_KEY + ".endpoint_url"
    )
    if not isinstance(service.value, Mapping):
        problems.append(
            Problem(
                section_place,
                "must be a sub-section such as 'cognito_sync =' followed by "
                "an indented 'endpoint_url = ...' line",
            )
        )
        return None
    url = service.value.get("endpoint_url")
    if not url:
        return None
    return url, section_place
