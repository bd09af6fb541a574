"""The grant interface shared by every data bucket, whatever the cloud.

``bucket.grant_read(principal, prefix="raw/")`` and ``bucket.grant_read_write(principal, prefix=...)``
work the same way on an AWS ``S3DataBucket`` and a GCP ``GcsDataBucket``: the bucket decides how the
access is expressed (an inline IAM policy on a role, user or group, or a bucket policy statement,
on AWS; an IAM binding with a condition on GCP), the caller only says *who*, *how much* and
*where*. This is the style of AWS CDK's ``bucket.grantRead(grantee, objectsKeyPattern)``. The
cloud-specific principal kinds live with each cloud (:mod:`platform_lib.aws.principals`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import pulumi


class AccessLevel(StrEnum):
    """How much a grant allows. ``read``: list and get objects. ``read-write``: also put and delete."""

    READ = "read"
    READ_WRITE = "read-write"


_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9!\-_.'()/]*")
#: The longest object key, in bytes of UTF-8 (source: Amazon S3 User Guide, "Naming Amazon S3
#: objects": "The object key name ... can be up to 1,024 bytes long"); a longer prefix matches no key.
MAX_KEY_BYTES = 1024


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
        ValueError: the prefix is not a string (an Output included: the prefix names the
            grant's resources, so it must be known), has a wildcard, a leading ``/``, an empty segment (``a//b``), a
            ``..`` segment, or a character outside the safe set, or is longer than an object key
            may be (:data:`MAX_KEY_BYTES`, with its trailing ``/``).
    """
    if prefix is None or prefix == "":
        return ""
    if isinstance(prefix, pulumi.Output):
        raise ValueError("a plain string, not an Output: the prefix names the grant's resources, so it must be known when the grant is made")
    if not isinstance(prefix, str):
        raise ValueError("a string key prefix")
    if "*" in prefix or "?" in prefix:
        raise ValueError("a key prefix without wildcards ('*' or '?'): grants are scoped to one literal prefix")
    if not _PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError("a key prefix made of letters, digits and ! - _ . ' ( ) /")
    if prefix.startswith("/"):
        raise ValueError("a key prefix that does not start with '/'")
    stripped = prefix.rstrip("/")
    segments = stripped.split("/")
    if any(segment in ("", "..", ".") for segment in segments):
        raise ValueError("a key prefix without empty, '.' or '..' segments")
    normalized = stripped + "/"
    if len(normalized.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"a key prefix of at most {MAX_KEY_BYTES} bytes with its trailing '/' (the longest S3 object key; got {len(normalized.encode())})")
    return normalized


def prefix_slug(prefix: str, max_length: int = 40, lowercase: bool = False) -> str:
    """A key prefix as a fragment of a resource name, distinct for distinct prefixes.

    Every run of characters other than letters and digits becomes ``-``. When that loses nothing
    (``features/daily/`` gives ``features-daily``) the slug is used as is, so names stay readable;
    when it would merge two prefixes (``a.b/`` and ``a-b/`` both give ``a-b``; ``Raw/`` and
    ``raw/`` when lowercased) or is longer than ``max_length``, six hex digits of the prefix's
    SHA-256 are appended, so two grants never fight over one logical name.

    Args:
        prefix: a normalized prefix (see :func:`normalize_prefix`), not empty.
        max_length: the longest fragment returned, in characters (at least 8).
        lowercase: lowercase the slug (GCP resource names).
    """
    text = prefix.rstrip("/")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    if lowercase:
        slug = slug.lower()
    if slug.replace("-", "/") == text and len(slug) <= max_length:
        return slug
    digest = hashlib.sha256(prefix.encode()).hexdigest()[:6]
    return f"{slug[: max_length - 7].rstrip('-')}-{digest}"


@dataclass
class Grant:
    """What a ``grant_*`` call created, for stack outputs, tests and the preview.

    Attributes:
        bucket: the bucket's logical name.
        principal: a readable label of who received the access (role name, service account).
        access: the access level granted.
        prefix: the key prefix the grant is scoped to ("" for the whole bucket).
        name: the grant's unique name on its bucket (the logical name of its resource, or the
            name its bucket policy statements derive from); a repeated name is a repeated grant.
        resources: the resources the grant registered (a role policy, an IAM member binding, ...;
            none for a grant made by bucket policy statements).
        document: on AWS, the policy document (an identity policy, or the grant's bucket policy
            statements) as an Output of a JSON string; ``None`` elsewhere.
    """

    bucket: str
    principal: str
    access: AccessLevel
    prefix: str
    name: str = ""
    resources: list[pulumi.Resource] = field(default_factory=list)
    document: Any = None


@runtime_checkable
class GrantableBucket(Protocol):
    """What every data bucket offers, on any cloud: the AWS ``S3DataBucket`` (grants to IAM roles,
    users, groups, role ARNs, service principals) and the ``GcsDataBucket`` (grants to a
    ``gcp.serviceaccount.Account`` or an IAM member). Platform code that wires grants (``deploy_gpu_boxes``) depends only on this.
    """

    grants: list[Grant]

    def grant_read(self, principal: Any, prefix: str | None = "", *, name: str | None = None) -> Grant:
        """Read access under ``prefix``; see :meth:`BucketGrants.grant_read`."""
        ...

    def grant_read_write(self, principal: Any, prefix: str | None = "", *, name: str | None = None) -> Grant:
        """Read-write access under ``prefix``; see :meth:`BucketGrants.grant_read_write`."""
        ...

    def grant(self, principal: Any, access: AccessLevel | str, prefix: str | None = "", *, name: str | None = None) -> Grant:
        """``access`` under ``prefix``; see :meth:`BucketGrants.grant`."""
        ...


@dataclass(frozen=True)
class GrantTarget:
    """Who a grant is for, as a cloud's bucket resolved it (see :meth:`BucketGrants._grant_target`).

    Attributes:
        principal: what the cloud's grant resource names: an IAM role name on AWS (a string or an
            Output), an IAM member string on GCP (``serviceAccount:...``).
        label: the readable label used in the grant's resource name and in :attr:`Grant.principal`.
    """

    principal: Any
    label: str


class BucketGrants:
    """The grant code path shared by the AWS and GCP data buckets (a mixin for their components).

    ``grant_read`` / ``grant_read_write`` / ``grant`` check the access level and the prefix
    (:func:`normalize_prefix`), let the bucket resolve the principal, refuse a repeated grant,
    and only then let the bucket register its resources; every problem is reported at once in
    one :class:`~platform_lib.core.errors.ComponentArgsError`, and nothing is registered. A bucket
    class implements three methods:

    - ``_grant_target(principal, name, subject) -> (GrantTarget | None, list[Issue])``: what the
      cloud's resource names (a role name, an IAM member) and a label, or the issues;
    - ``_grant_resource_name(label, access, prefix) -> str``: the logical name of the grant's
      resource (unique per grant: a repeated name is a repeated grant);
    - ``_register_grant(target, access, prefix, resource_name) -> (resources, document)``: the
      resources (an IAM inline policy or bucket policy statements on AWS, a conditional IAM member
      binding on GCP) and, on AWS, the policy document (``None`` elsewhere).

    Error paths name the component by its class name: ``S3DataBucket(<name>).grant.prefix``.
    """

    def grant_read(self, principal: Any, prefix: str | None = "", *, name: str | None = None) -> Grant:
        """Let ``principal`` list the bucket and get objects under ``prefix`` ("" for all keys).

        Args:
            principal: on AWS an ``aws.iam.Role``/``User``/``Group``, a role ARN or name (string
                or Output) or a :class:`~platform_lib.aws.principals.ServicePrincipal`; on GCP a
                ``gcp.serviceaccount.Account`` or an IAM member (string or Output).
            prefix: the key prefix the grant is limited to; ``""`` or ``None`` for the whole bucket.
            name: a short label for the grant's resource name instead of the principal's; needed
                when the principal is an Output.

        Returns:
            The :class:`Grant`, also appended to ``self.grants``.

        Raises:
            ComponentArgsError: a wildcard or otherwise invalid prefix, an unsupported principal,
                or a repeated grant; every issue names ``<Component>(<name>).grant.<field>``;
                nothing was registered. A principal given as an Output is checked when its value
                arrives (the error then names the same field).
        """
        return self.grant(principal, AccessLevel.READ, prefix, name=name)

    def grant_read_write(self, principal: Any, prefix: str | None = "", *, name: str | None = None) -> Grant:
        """Like :meth:`grant_read`, and also put and delete objects under ``prefix``."""
        return self.grant(principal, AccessLevel.READ_WRITE, prefix, name=name)

    def grant(self, principal: Any, access: AccessLevel | str, prefix: str | None = "", *, name: str | None = None) -> Grant:
        """Grant ``access`` (``read`` or ``read-write``) under ``prefix`` to ``principal``.

        Args and Returns: as for :meth:`grant_read`, plus ``access``.

        Raises:
            ComponentArgsError: the access level, the prefix, the principal or the name is
                invalid, or the same grant was made before; nothing was registered.
        """
        from .errors import ComponentArgsError, Issue

        component = f"{type(self).__name__}({getattr(self, 'pulumi_resource_name', '?')})"
        subject = f"{component}.grant"
        issues: list[Issue] = []
        try:
            level = AccessLevel(access)
        except ValueError:
            level = AccessLevel.READ
            issues.append(Issue(f"{subject}.access", access, "'read' or 'read-write'"))
        try:
            normalized = normalize_prefix(prefix)
        except ValueError as error:
            normalized = ""
            issues.append(Issue(f"{subject}.prefix", prefix, str(error)))
        target, principal_issues = self._grant_target(principal, name, subject)
        issues.extend(principal_issues)
        resource_name = ""
        if not issues and target is not None:
            resource_name = self._grant_resource_name(target.label, level, normalized)
            if resource_name in {made.name for made in self.grants}:
                issues.append(Issue(subject, f"{target.label} {level.value} {normalized or '<whole bucket>'}", "each grant once per bucket"))
        if issues or target is None:
            raise ComponentArgsError(f"invalid grant on {component}; nothing was created", issues)
        resources, document = self._register_grant(target, level, normalized, resource_name)
        made = Grant(
            bucket=getattr(self, "pulumi_resource_name", "?"),
            principal=target.label,
            access=level,
            prefix=normalized,
            name=resource_name,
            resources=list(resources),
            document=document,
        )
        self.grants.append(made)
        return made

    # -- what each cloud's bucket implements -------------------------------------------------------

    grants: list[Grant]

    def _grant_target(self, principal: Any, name: str | None, subject: str) -> tuple[GrantTarget | None, list[Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grant_resource_name(self, label: str, access: AccessLevel, prefix: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _register_grant(self, target: GrantTarget, access: AccessLevel, prefix: str, resource_name: str) -> tuple[list[pulumi.Resource], Any]:  # pragma: no cover - abstract
        raise NotImplementedError
