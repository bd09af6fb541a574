"""Who an S3 grant is for: the AWS principal kinds ``S3DataBucket.grant_*`` accepts, resolved.

The model is AWS CDK's ``bucket.grantRead(grantee)``: the caller names *who*, the bucket decides
*how* the access is expressed. Two ways exist on AWS (source: Amazon S3 User Guide, "Policies and
permissions in Amazon S3"; IAM User Guide, "Cross account resource access in IAM"):

- an **identity policy**: an inline policy on the IAM role, user or group
  (``aws.iam.RolePolicy`` / ``UserPolicy`` / ``GroupPolicy``), for identities of the bucket's own
  account;
- a **bucket policy statement** naming the principal, for what has no identity policy in this
  account: a role of another account (cross-account access needs BOTH this statement AND an
  identity policy in the other account allowing the same actions), and an AWS service principal
  (e.g. ``logging.s3.amazonaws.com``), limited to requests made for this account
  (``aws:SourceAccount``; source: IAM User Guide, "The confused deputy problem").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["BucketPolicyPrincipal", "IdentityPolicyPrincipal", "ServicePrincipal", "parse_role_arn"]

#: ``arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>`` (source: IAM User Guide,
#: "IAM identifiers", ARNs; role names are 1-64 of ``A-Za-z0-9+=,.@_-``).
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")
ROLE_ARN_EXPECTED = "an IAM role ARN (arn:aws:iam::<12-digit account>:role/[<path>/]<name>)"
#: A service principal's DNS-like name, e.g. ``logging.s3.amazonaws.com``.
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")


def parse_role_arn(arn: Any) -> tuple[str, str]:
    """The account id and role name of an IAM role ARN.

    Args:
        arn: e.g. ``arn:aws:iam::123456789012:role/ml/trainer``.

    Returns:
        ``(account id, role name)``, e.g. ``("123456789012", "trainer")`` (the path is dropped:
        ``aws.iam.RolePolicy`` takes the name).

    Raises:
        ValueError: ``arn`` is not a role ARN; the message says what was expected.
    """
    match = ROLE_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise ValueError(ROLE_ARN_EXPECTED)
    return match.group(1), match.group(2)


@dataclass(frozen=True)
class ServicePrincipal:
    """An AWS service as a grantee, e.g. ``ServicePrincipal("logging.s3.amazonaws.com")``.

    A grant to a service principal becomes a bucket policy statement with
    ``Principal: {"Service": <service>}`` and an ``aws:SourceAccount`` condition equal to the
    bucket's account, so the service can act only for resources of this account.

    Raises:
        ValueError: ``service`` is not a ``<name>.amazonaws.com`` service name.
    """

    service: str

    def __post_init__(self) -> None:
        if not isinstance(self.service, str) or not SERVICE_NAME.fullmatch(self.service):
            raise ValueError(f"ServicePrincipal.service: got {self.service!r}; expected a service principal name such as logging.s3.amazonaws.com")


@dataclass(frozen=True)
class IdentityPolicyPrincipal:
    """A grant expressed as an inline policy on an IAM identity of the bucket's account.

    Attributes:
        kind: ``role``, ``user`` or ``group``: which of ``RolePolicy``/``UserPolicy``/``GroupPolicy``.
        name: the identity's name (a string or an Output).
    """

    kind: Literal["role", "user", "group"]
    name: Any


@dataclass(frozen=True)
class BucketPolicyPrincipal:
    """A grant expressed as statements in the bucket policy.

    Attributes:
        principal: the statements' ``Principal`` (``{"AWS": <role ARN>}`` or ``{"Service": ...}``).
        source_account: add ``aws:SourceAccount`` = the bucket's account (service principals).
    """

    principal: dict[str, str]
    source_account: bool = False
