"""Where Cognito Sync answers: partitions, regions, FIPS and dual-stack hosts.

The rules are botocore's for ``cognito-sync`` (its ``endpoint-rule-set-1.json`` and
``partitions.json``), written out as data so the client never needs botocore:

* ``https://cognito-sync.{region}.{dns suffix}``; ``cognito-sync-fips`` when FIPS is on;
  the partition's dual-stack suffix (``api.aws`` for commercial regions) when dual-stack
  is on; both may be on at once.
* A legacy FIPS pseudo-region (``fips-us-east-1``, ``us-east-1-fips``) means the real
  region with FIPS on: the request goes to the FIPS host and is signed for the real one.
* A configured endpoint URL wins over all of this, FIPS and dual-stack included.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from .._errors import Problem, ValidationError

__all__ = [
    "COGNITO_SYNC_REGIONS",
    "SERVICE_HOSTS",
    "Partition",
    "default_endpoint",
    "dns_suffix",
    "dual_stack_refusal",
    "partition",
    "service_endpoint",
    "split_fips_region",
    "unavailable_region_hint",
]

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


@attrs.frozen
class Partition:
    """An AWS partition: which region names it holds and its DNS suffixes."""

    name: str
    region_pattern: re.Pattern[str]
    dns_suffix: str
    #: None where botocore refuses dual-stack for the service (no such host).
    dual_stack_dns_suffix: str | None


#: botocore's partitions.json, most specific first; a region no pattern matches is in
#: ``aws``, as the endpoint rules decide.
PARTITIONS: Final = (
    Partition("aws-iso", re.compile(r"us-iso-\w+-\d+"), "c2s.ic.gov", "api.aws.ic.gov"),
    Partition("aws-iso-b", re.compile(r"us-isob-\w+-\d+"), "sc2s.sgov.gov", "api.aws.scloud"),
    Partition("aws-iso-f", re.compile(r"us-isof-\w+-\d+"), "csp.hci.ic.gov", None),
    Partition("aws-iso-e", re.compile(r"eu-isoe-\w+-\d+"), "cloud.adc-e.uk", None),
    Partition(
        "aws-eusc", re.compile(r"eusc-de-\w+-\d+"), "amazonaws.eu", "api.amazonwebservices.eu"
    ),
    Partition(
        "aws-cn", re.compile(r"cn-\w+-\d+"), "amazonaws.com.cn", "api.amazonwebservices.com.cn"
    ),
    Partition("aws-us-gov", re.compile(r"us-gov-\w+-\d+"), "amazonaws.com", "api.aws"),
)
AWS: Final = Partition("aws", re.compile(r".*"), "amazonaws.com", "api.aws")


def partition(region: str) -> Partition:
    """The partition a region name belongs to (``aws`` when no other claims it)."""
    for candidate in PARTITIONS:
        if candidate.region_pattern.fullmatch(region):
            return candidate
    return AWS


def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's partition (``amazonaws.com`` for commercial)."""
    return partition(region).dns_suffix


def split_fips_region(region: str) -> tuple[str, bool]:
    """(real region, FIPS) for a legacy pseudo-region such as ``fips-us-east-1``.

    botocore removes every ``fips-`` and ``-fips`` and turns FIPS on; other names pass
    unchanged with FIPS off.
    """
    if "fips" not in region:
        return region, False
    real = region.replace("fips-", "").replace("-fips", "")
    return (real, True) if real and real != region else (region, False)


def dual_stack_refusal(region: str) -> str | None:
    """Why dual-stack cannot be used in ``region``'s partition, or None when it can."""
    found = partition(region)
    if found.dual_stack_dns_suffix is not None:
        return None
    return (
        f"is on, but region {region!r} is in partition {found.name}, which has no "
        "dual-stack endpoint for Cognito Sync (botocore refuses it too); turn it off"
    )


def default_endpoint(region: str, *, fips: bool = False, dual_stack: bool = False) -> str:
    """The service's endpoint in ``region``, as botocore's rules build it.

    Raises ``ValidationError`` for dual-stack in a partition that has no such host.
    """
    found = partition(region)
    host = "cognito-sync-fips" if fips else "cognito-sync"
    suffix = found.dns_suffix
    if dual_stack:
        refused = dual_stack_refusal(region)
        if refused is not None:
            raise ValidationError([Problem("use_dualstack_endpoint", refused)])
        assert found.dual_stack_dns_suffix is not None
        suffix = found.dual_stack_dns_suffix
    return f"https://{host}.{region}.{suffix}"


def unavailable_region_hint(region: str) -> str | None:
    """A sentence for errors when Cognito Sync is not offered in ``region``; else None."""
    if region in _AVAILABLE:
        return None
    return (
        f"Amazon Cognito Sync is not offered in region {region!r}; it is available in "
        + ", ".join(COGNITO_SYNC_REGIONS)
        + "."
    )


#: The other services a client calls (the sync trigger's Lambda permission, and STS for
#: the caller's account): their key in ``[services]``/``AWS_ENDPOINT_URL_<KEY>`` and host.
SERVICE_HOSTS: Final = {"lambda": "lambda", "sts": "sts"}


def service_endpoint(
    service: str, region: str, *, fips: bool = False, dual_stack: bool = False
) -> str:
    """The default endpoint of ``lambda`` or ``sts`` in ``region``, as botocore's rule sets
    build it: ``{host}[-fips].{region}.{suffix}``, the partition's dual-stack suffix when
    dual-stack is on (both services have one in every partition, ``api.aws`` otherwise)."""
    found = partition(region)
    host = SERVICE_HOSTS[service]
    if dual_stack:
        suffix = found.dual_stack_dns_suffix or AWS.dual_stack_dns_suffix
    else:
        suffix = found.dns_suffix
        if fips and service == "sts" and found.name == "aws-us-gov":
            # STS in GovCloud is FIPS on its usual host.
            return f"https://{host}.{region}.{suffix}"
    return f"https://{host}{'-fips' if fips else ''}.{region}.{suffix}"
