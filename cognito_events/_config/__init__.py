"""Client settings from the arguments, the environment and the shared AWS files.

One concern per module, each importing only those before it:
``ini`` (file parsing) → ``profiles`` (selection, merged settings) → ``lookup`` (the
variable-then-profile lookup) → ``loader`` (``ClientConfig``, ``load_config``);
``endpoints`` (partitions, FIPS, dual-stack) stands alone.
"""

from __future__ import annotations

from .endpoints import COGNITO_SYNC_REGIONS, default_endpoint, dns_suffix, unavailable_region_hint
from .ini import IniFile, Setting, parse_ini, read_ini
from .loader import ClientConfig, load_config
from .lookup import SettingsLookup, parse_bool
from .profiles import Profile, load_profile, where

__all__ = [
    "COGNITO_SYNC_REGIONS",
    "ClientConfig",
    "IniFile",
    "Profile",
    "Setting",
    "SettingsLookup",
    "default_endpoint",
    "dns_suffix",
    "load_config",
    "load_profile",
    "parse_bool",
    "parse_ini",
    "read_ini",
    "unavailable_region_hint",
    "where",
]
