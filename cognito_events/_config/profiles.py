"""Profiles: which one is selected, and its settings in both shared files.

Selection (first match wins): ``profile=`` in code; ``AWS_DEFAULT_PROFILE``;
``AWS_PROFILE``; ``default``. ``AWS_DEFAULT_PROFILE`` is read before ``AWS_PROFILE``
because that is botocore's order (the AWS CLI v2 and the other SDKs only know
``AWS_PROFILE``); when both are set and differ, a warning is logged. A profile selected
in code or by a variable must exist in one of the files; the error names the profiles
that do. An absent ``default`` profile is not an error.

A setting present in both files for the same profile is taken from the credentials
file, as botocore merges them. Only file problems that touch the data actually used --
the selected profile's section (a malformed header is attributed to the section it
seems to name) and the ``[services]`` section it refers to -- raise
``CredentialsError``; the others are logged as a warning. (botocore refuses the whole
file instead.) A file that exists but cannot be read raises ``CredentialsError``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from .._errors import CredentialsError
from .ini import FileProblem, IniFile, Setting, file_paths, read_ini

__all__ = [
    "PROFILE_ARGUMENT",
    "Profile",
    "config_sections",
    "load_profile",
    "select_profile",
    "where",
]

logger = logging.getLogger("cognito_events.config")

#: How ``select_profile`` says the profile is the client's ``profile=`` argument.
PROFILE_ARGUMENT: Final = "the profile= argument"


def _split_header(header: str) -> list[str]:
    if '"' in header or "'" in header:
        import shlex  # only for quoted section names

        try:
            return shlex.split(header)
        except ValueError:
            return []
    return header.split()


def config_sections(config: IniFile, kind: str) -> dict[str, str]:
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
    profiles = config_sections(config_file, "profile")
    config_header = profiles.get(name)
    # A malformed header is attributed to the name it seems to have: if it may be this
    # profile's section, the profile is affected even when it was not found.
    config_names = {f"profile {name}"}
    if name == "default":
        config_names.add("default")
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
        services_header = config_sections(config_file, "services").get(services_name)
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
            f"{credentials_path} nor in {config_path}; {known}.",
            profile=name,
            profile_source=selected_by,
            profiles=tuple(existing),
            files=(str(credentials_path), str(config_path)),
        )
    return attrs.evolve(partial, services_header=services_header)


def select_profile(profile: str | None, environ: Mapping[str, str]) -> tuple[str, bool, str | None]:
    """(name, explicit in code, how it was selected or None for the implicit default).

    ``profile`` is the client's argument, already checked by ``check_profile``.
    """
    if profile is not None:
        return profile, True, PROFILE_ARGUMENT
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
