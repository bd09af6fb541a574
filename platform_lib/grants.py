"""The grant interface shared by every data bucket, whatever the cloud.

``bucket.grant_read(principal, prefix="raw/")`` and ``bucket.grant_read_write(principal, prefix=...)``
work the same way on an AWS ``DataBucket`` and a GCP ``GcsDataBucket``: the bucket decides how the
access is expressed (an IAM policy attached to a role on AWS; an IAM binding with a condition on
GCP), the caller only says *who*, *how much* and *where*. This is the style of AWS CDK's
``bucket.grant_read(principal, objects_key_pattern)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import pulumi


class AccessLevel(StrEnum):
    """How much a grant allows. ``read``: list and get objects. ``read-write``: also put and delete."""

    READ = "read"
    READ_WRITE = "read-write"


_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9!\-_.'()/]*$")


def normalize_prefix(prefix: str | None) -> str:
    """Validate an object key prefix and return it ending in ``/`` (or ``""`` for the whole bucket).

    A prefix scopes a grant to the keys under it. It may hold the characters S3 calls safe for
    object keys (letters, digits, ``! - _ . ' ( ) /``; source: Amazon S3 User Guide, "Naming
    Amazon S3 objects", safe characters). Wildcards would widen the grant, so ``*`` and ``?``
    are rejected rather than escaped.

    Args:
        prefix: e.g. ``"raw"``, ``"raw/"``, ``"teams/fraud/features/"``; ``None`` or ``""`` for
            the whole bucket.

    Returns:
        The prefix with one trailing ``/``, or ``""``.

    Raises:
        ValueError: the prefix has a wildcard, a leading ``/``, an empty segment (``a//b``), a
            ``..`` segment, or a character outside the safe set.
    """
    if prefix is None or prefix == "":
        return ""
    if "*" in prefix or "?" in prefix:
        raise ValueError("a key prefix without wildcards ('*' or '?'): grants are scoped to one literal prefix")
    if not _PREFIX_PATTERN.match(prefix):
        raise ValueError("a key prefix made of letters, digits and ! - _ . ' ( ) /")
    if prefix.startswith("/"):
        raise ValueError("a key prefix that does not start with '/'")
    stripped = prefix.rstrip("/")
    segments = stripped.split("/")
    if any(segment in ("", "..", ".") for segment in segments):
        raise ValueError("a key prefix without empty, '.' or '..' segments")
    return stripped + "/"


@dataclass
class Grant:
    """What a ``grant_*`` call created, for stack outputs, tests and the preview.

    Attributes:
        bucket: the bucket's logical name.
        principal: a readable label of who received the access (role name, service account).
        access: the access level granted.
        prefix: the key prefix the grant is scoped to ("" for the whole bucket).
        resources: the resources the grant registered (a role policy, an IAM member binding, ...).
        document: on AWS, the IAM policy document as an Output of a JSON string; ``None`` elsewhere.
    """

    bucket: str
    principal: str
    access: AccessLevel
    prefix: str
    resources: list[pulumi.Resource] = field(default_factory=list)
    document: Any = None


@runtime_checkable
class GrantableBucket(Protocol):
    """What every data bucket offers, on any cloud: the AWS ``DataBucket`` (grants to an
    ``aws.iam.Role``) and the GCP ``DataBucket`` (grants to a ``gcp.serviceaccount.Account`` or an
    IAM member string). Platform code that wires grants (``deploy_gpu_boxes``) depends only on this.
    """

    grants: list[Grant]

    def grant_read(self, principal: Any, prefix: str = "") -> Grant: ...

    def grant_read_write(self, principal: Any, prefix: str = "") -> Grant: ...

    def grant(self, principal: Any, access: AccessLevel | str, prefix: str = "") -> Grant: ...


class BucketGrants:
    """The grant interface shared by the AWS and GCP data buckets (a mixin for their components).

    A bucket class inherits from this and implements one method, ``_grant(principal, access,
    prefix)``, which registers whatever its cloud needs (an IAM role policy on AWS, a conditional
    IAM member binding on GCP) and returns a :class:`Grant`. ``grant_read`` and
    ``grant_read_write`` validate the prefix first, so a bad prefix registers nothing.

    Class attributes:
        grant_component: the component's class name used in error paths (``DataBucket``).
    """

    grant_component: str = "DataBucket"

    def grant_read(self, principal: Any, prefix: str | None = "") -> Grant:
        """Let ``principal`` list the bucket and get objects under ``prefix`` ("" for all keys).

        Raises:
            ComponentArgsError: the prefix has a wildcard or is otherwise not a literal key prefix.
        """
        return self.grant(principal, AccessLevel.READ, prefix)

    def grant_read_write(self, principal: Any, prefix: str | None = "") -> Grant:
        """Like :meth:`grant_read`, and also put and delete objects under ``prefix``."""
        return self.grant(principal, AccessLevel.READ_WRITE, prefix)

    def grant(self, principal: Any, access: AccessLevel | str, prefix: str | None = "") -> Grant:
        """Grant ``access`` (``read`` or ``read-write``) under ``prefix`` to ``principal``.

        Raises:
            ComponentArgsError: the access level or the prefix is invalid; nothing was registered.
        """
        from .errors import ComponentArgsError, Issue

        label = f"{self.grant_component}({getattr(self, 'pulumi_resource_name', '?')})"
        try:
            level = AccessLevel(access)
        except ValueError:
            raise ComponentArgsError(f"invalid grant on {label}; nothing was created", [Issue(f"{label}.grant.access", access, "read or read-write")]) from None
        try:
            normalized = normalize_prefix(prefix)
        except ValueError as error:
            raise ComponentArgsError(f"invalid grant on {label}; nothing was created", [Issue(f"{label}.grant.prefix", prefix, str(error))]) from None
        return self._grant(principal, level, normalized)

    def _grant(self, principal: Any, access: AccessLevel, prefix: str) -> Grant:  # pragma: no cover - abstract
        raise NotImplementedError
