"""The one settings lookup: an ``AWS_*`` variable first, then the profile's setting.

Every configured value -- the client's settings and the instance-metadata settings of
the credential chain alike -- is found here, with where it came from (the variable's
name, or the file, section and line) for messages. An empty variable counts as unset.
Booleans are ``true`` or ``false`` (any case); anything else is refused rather than
read as false as botocore does.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._errors import Problem
from .profiles import Profile

__all__ = ["SettingsLookup", "parse_bool", "show"]


def show(text: str) -> str:
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
    problems.append(Problem(parameter, f"must be true or false, got {show(text)}"))
    return None


class SettingsLookup:
    """Finds settings (variable first, then profile) and collects the problems met."""

    def __init__(
        self, environ: Mapping[str, str], profile: Profile, problems: list[Problem]
    ) -> None:
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

    def boolean(self, variable: str | None, key: str | None) -> bool | None:
        """A ``true``/``false`` setting; None when unset or invalid (then a problem)."""
        found = self.get(variable, key)
        if found is None:
            return None
        return parse_bool(found[0], found[1], self.problems)

    def whole_number(self, variable: str | None, key: str | None) -> int | None:
        """A whole number >= 1; None when unset or invalid (then a problem)."""
        found = self.get(variable, key)
        if found is None:
            return None
        text, source = found
        try:
            number = int(text.strip())
        except ValueError:
            number = 0
        if number < 1:
            self.problems.append(Problem(source, f"must be a whole number >= 1, got {show(text)}"))
            return None
        return number

    def seconds(self, variable: str | None, key: str | None) -> float | None:
        """A positive, finite number of seconds; None when unset or invalid (a problem)."""
        found = self.get(variable, key)
        if found is None:
            return None
        text, source = found
        try:
            number = float(text)
        except ValueError:
            number = -1.0
        if not 0 < number < float("inf"):
            self.problems.append(
                Problem(source, f"must be a number of seconds > 0, got {show(text)}")
            )
            return None
        return number
