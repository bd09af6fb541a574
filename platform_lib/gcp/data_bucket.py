"""``GcsDataBucket`` (``mlplat:gcp:DataBucket``): a private Cloud Storage bucket for training data, with grants;
``TeamWorkloadIdentity``: a team's Google service account for GKE Workload Identity.

Secure defaults (each fact from the Cloud Storage documentation):

- uniform bucket-level access, so only IAM decides access (no object ACLs; "Uniform
  bucket-level access");
- public access prevention ``enforced`` ("Public access prevention");
- object versioning, with non-current versions deleted after ``noncurrent_version_days``
  ("Object Lifecycle Management": ``daysSinceNoncurrentTime``), and incomplete multipart
  uploads aborted after 7 days (``AbortIncompleteMultipartUpload``);
- soft delete for ``soft_delete_days`` (7 to 90 days, or 0 to switch it off; "Soft delete");
- an optional customer-managed Cloud KMS key (``encryption.defaultKmsKeyName``).

Grants (the same interface as the AWS bucket, :class:`platform_lib.core.grants.BucketGrants`) become
``gcp.storage.BucketIAMMember`` bindings: ``roles/storage.objectViewer`` for read and
``roles/storage.objectUser`` for read-write ("IAM roles for Cloud Storage"). A prefix grant
carries an IAM condition limiting objects to ``projects/_/buckets/<bucket>/objects/<prefix>``
and listing to requests whose ``storage.googleapis.com/objectListPrefix`` starts with the prefix
("IAM Conditions attribute reference": resource name and API attributes for Cloud Storage).
A principal is a ``gcp.serviceaccount.Account`` or an IAM member (a string, checked now, or an
Output, checked when its value arrives).
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any, Mapping, TypedDict, overload

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator
from typing_extensions import Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import Issue
from ..core.grants import AccessLevel, BucketGrants, Grant, GrantTarget, prefix_slug
from ..core.inputs import Input, InputCheck, checked_output, is_output
from ..core.kubernetes_names import check_dns_label, check_dns_subdomain
from ..core.tagging import require_standard_keys, with_managed_by
from . import KMS_KEY_PATTERN, letter_first

__all__ = [
    "GcsDataBucket",
    "GcsDataBucketArgs",
    "GcsDataBucketArgsDict",
    "TeamWorkloadIdentity",
    "TeamWorkloadIdentityArgs",
    "TeamWorkloadIdentityArgsDict",
    "object_prefix_condition",
    "workload_identity_member",
]

#: The predefined role a grant of each access level binds ("IAM roles for Cloud Storage").
ROLE_FOR_ACCESS = {AccessLevel.READ: "roles/storage.objectViewer", AccessLevel.READ_WRITE: "roles/storage.objectUser"}

#: IAM member kinds a grant may name ("IAM overview", principal identifiers). ``allUsers`` and
#: ``allAuthenticatedUsers`` are refused: a data bucket is never public.
MEMBER_KINDS = ("serviceAccount:", "user:", "group:", "domain:", "principal://", "principalSet://")
MEMBER_EXPECTED = (
    "a gcp.serviceaccount.Account or an IAM member (serviceAccount:, user:, group:, domain:, principal://, principalSet://); "
    "never allUsers or allAuthenticatedUsers"
)


def _member(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(MEMBER_KINDS) or ":" not in value or value.endswith(":"):
        raise ValueError(MEMBER_EXPECTED)
    return value


def _label_value(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9_-]{0,63}", value):
        raise ValueError("a GCP label value: at most 63 lowercase letters, digits, '_' and '-'")
    return value


#: A GCP project id (6-30 characters, a letter first; "Creating and managing projects").
ProjectInput = Annotated[Input[str], InputCheck.matching(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", "a GCP project id (6-30 lowercase letters, digits, '-', a letter first)")]
#: A Kubernetes DNS label (namespace, service account name).
DnsLabelInput = Annotated[Input[str], InputCheck(check_dns_label)]
#: A Kubernetes DNS subdomain (service account name).
DnsSubdomainInput = Annotated[Input[str], InputCheck(check_dns_subdomain)]


class GcsDataBucketArgs(ComponentArgs):
    """Arguments of :class:`GcsDataBucket`.

    Attributes:
        location: the bucket location, a region (``europe-west4``) or multi-region (``EU``).
        labels: the standard labels ``team``, ``cost-center`` and ``environment`` (plus any
            others; values may be Outputs); ``managed-by: pulumi`` is added.
        versioning: keep non-current object versions (default on).
        noncurrent_version_days: delete non-current versions this many days after they
            became non-current (1 to 3650, default 30).
        soft_delete_days: keep deleted objects restorable for this many days: 0 (off) or 7 to 90
            (default 7).
        kms_key_name: a Cloud KMS crypto key id (string or Output) for customer-managed
            encryption; ``None`` for Google-managed keys.
        force_destroy: let the engine delete a non-empty bucket (off: data is never deleted
            by a destroy).
    """

    location: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    labels: Annotated[dict[str, Input[str]], InputCheck.for_values(_label_value)]
    versioning: bool = True
    noncurrent_version_days: int = Field(default=30, ge=1, le=3650)
    soft_delete_days: int = Field(default=7, ge=0, le=90)
    kms_key_name: Annotated[Input[str], InputCheck.matching(KMS_KEY_PATTERN.strip("^$"), "a Cloud KMS crypto key id (projects/.../cryptoKeys/<key>)")] | None = None
    force_destroy: bool = False

    @field_validator("soft_delete_days")
    @classmethod
    def _soft_delete(cls, value: int) -> int:
        if 0 < value < 7:
            raise ValueError("0 (soft delete off) or 7 to 90 days (Cloud Storage's allowed retention range)")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, Any]) -> dict[str, Any]:
        require_standard_keys(value, "labels")
        bad = [key for key in value if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key)]
        if bad:
            raise ValueError(f"GCP label keys: lowercase letters, digits, '_' and '-', a letter first (bad: {', '.join(bad)})")
        return value


class GcsDataBucketArgsDict(TypedDict, total=False):
    """:class:`GcsDataBucketArgs` as keyword arguments."""

    location: str
    labels: Mapping[str, pulumi.Input[str]]
    versioning: bool
    noncurrent_version_days: int
    soft_delete_days: int
    kms_key_name: pulumi.Input[str] | None
    force_destroy: bool


def object_prefix_condition(bucket_name: str, prefix: str) -> str:
    """The CEL expression limiting a Cloud Storage role to the objects under ``prefix``.

    Object permissions are checked on ``projects/_/buckets/<bucket>/objects/<key>``; listing is
    checked on the bucket, where the ``objectListPrefix`` API attribute carries the requested
    prefix.
    """
    return (
        f'resource.name.startsWith("projects/_/buckets/{bucket_name}/objects/{prefix}") || '
        f'(resource.type == "storage.googleapis.com/Bucket" && '
        f'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("{prefix}"))'
    )


def _slug(text: str, length: int = 24) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > length:
        slug = f"{slug[: length - 7]}-{hashlib.sha256(text.encode()).hexdigest()[:6]}"
    return slug or "all"


class GcsDataBucket(BucketGrants, Component[GcsDataBucketArgs], type_token="mlplat:gcp:DataBucket"):
    """A private GCS bucket with uniform access, versioning, lifecycle, soft delete and grants.

    Args:
        name: the logical name; children are named ``<name>-bucket``, ``<name>-<principal>-read``...
        args: a :class:`GcsDataBucketArgs` or a mapping of its fields, or keyword arguments
            (:class:`GcsDataBucketArgsDict`).
        opts: resource options; they reach every child. The component protects nothing itself.

    Attributes (outputs):
        bucket_name: the bucket's physical name.
        url: ``gs://<bucket>``.

    Other attributes: ``bucket`` (the ``gcp.storage.Bucket``), ``grants`` (every
    :class:`~platform_lib.core.grants.Grant` made so far).

    Grants: ``grant_read(principal, prefix="", *, name=None)`` etc. (see
    :class:`~platform_lib.core.grants.BucketGrants`); ``principal`` is a
    ``gcp.serviceaccount.Account`` or an IAM member string (checked now) or Output (``name``
    required; checked when its value arrives).

    Raises:
        ComponentArgsError: an argument is invalid, at ``GcsDataBucket(<name>).<field>``; nothing
            was registered.
    """

    bucket_name: pulumi.Output[str]
    url: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: GcsDataBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[GcsDataBucketArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: GcsDataBucketArgs) -> dict[str, Any]:
        self.grants: list[Grant] = []
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            location=args.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": args.versioning},
            soft_delete_policy={"retention_duration_seconds": args.soft_delete_days * 86400},
            lifecycle_rules=[
                {"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": args.noncurrent_version_days, "with_state": "ARCHIVED"}},
                {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
            ],
            encryption={"default_kms_key_name": args.kms_key_name} if args.kms_key_name else None,
            labels=with_managed_by(args.labels),
            force_destroy=args.force_destroy,
            opts=self.child_options(),
        )
        return {"bucket_name": self.bucket.name, "url": self.bucket.url}

    def _grant_target(self, principal: Any, name: str | None, subject: str) -> tuple[GrantTarget | None, list[Issue]]:
        """The IAM member of ``principal`` and a label (``name`` when given), or the issue."""
        if isinstance(principal, gcp.serviceaccount.Account):
            return GrantTarget(principal.member, name or principal.pulumi_resource_name), []
        if is_output(principal):
            if name is None:
                return None, [Issue(f"{subject}.name", None, "a name for the grant when the principal is an Output")]
            return GrantTarget(checked_output(principal, _member, f"{subject}.principal"), name), []
        try:
            member = _member(principal)
        except ValueError as error:
            return None, [Issue(f"{subject}.principal", principal if isinstance(principal, str) else type(principal).__name__, str(error))]
        return GrantTarget(member, name or member.split(":", 1)[-1].split("@")[0].split("/")[-1]), []

    def _grant_resource_name(self, label: str, access: AccessLevel, prefix: str) -> str:
        """``<bucket>-<label slug>-<access>[-<prefix slug>]``."""
        return f"{self.pulumi_resource_name}-{_slug(label)}-{access.value}" + (f"-{prefix_slug(prefix, 20, lowercase=True)}" if prefix else "")

    def _register_grant(self, target: GrantTarget, access: AccessLevel, prefix: str, resource_name: str) -> tuple[list[pulumi.Resource], None]:
        """One ``gcp.storage.BucketIAMMember`` of :data:`ROLE_FOR_ACCESS`, with the prefix condition."""
        condition = None
        if prefix:
            condition = {
                "title": f"{access.value} under {prefix}"[:100],
                "description": f"mlplat grant: {access.value} on objects under the key prefix {prefix!r}",
                "expression": self.bucket.name.apply(lambda bucket_name: object_prefix_condition(bucket_name, prefix)),
            }
        binding = gcp.storage.BucketIAMMember(
            resource_name,
            bucket=self.bucket.name,
            role=ROLE_FOR_ACCESS[access],
            member=target.principal,
            condition=condition,
            opts=self.child_options(),
        )
        return [binding], None


def workload_identity_member(project: str, namespace: str, service_account: str) -> str:
    """The IAM member of a Kubernetes service account under GKE Workload Identity.

    Format ``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]`` (GKE docs, "Use Workload
    Identity Federation for GKE", linking Kubernetes service accounts to IAM).
    """
    return f"serviceAccount:{project}.svc.id.goog[{namespace}/{service_account}]"


class TeamWorkloadIdentityArgs(ComponentArgs):
    """Arguments of :class:`TeamWorkloadIdentity`.

    Attributes:
        project: the GCP project id hosting the GKE cluster (its workload pool is
            ``<project>.svc.id.goog``); 6-30 characters (GCP project id rules). String or Output.
        namespace: the team's Kubernetes namespace (a DNS label; string or Output).
        kubernetes_service_account: the KSA name in that namespace (a DNS subdomain; string or Output).
    """

    project: ProjectInput
    namespace: DnsLabelInput
    kubernetes_service_account: DnsSubdomainInput


class TeamWorkloadIdentityArgsDict(TypedDict, total=False):
    """:class:`TeamWorkloadIdentityArgs` as keyword arguments."""

    project: pulumi.Input[str]
    namespace: pulumi.Input[str]
    kubernetes_service_account: pulumi.Input[str]


class TeamWorkloadIdentity(Component[TeamWorkloadIdentityArgs], type_token="mlplat:gcp:TeamWorkloadIdentity"):
    """A team's Google service account that its Kubernetes service account impersonates.

    Registers a ``gcp.serviceaccount.Account`` (``<name>-workload``, in ``project``) and a
    ``roles/iam.workloadIdentityUser`` binding on it for
    ``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]``. Grant buckets to :attr:`account`;
    pods running as the KSA (annotated ``iam.gke.io/gcp-service-account: <account email>``) then
    get exactly those grants.

    Args:
        name: the logical name (the team's name; at most 21 characters are used in the account id).
        args: a :class:`TeamWorkloadIdentityArgs` or a mapping of its fields, or keyword arguments.
        opts: resource options; they reach every child.

    Attributes (outputs):
        email: the service account's e-mail.
        member: the Kubernetes service account's IAM member string.

    Other attributes: ``account`` (the ``gcp.serviceaccount.Account``; pass it to ``grant_*``).

    Raises:
        ComponentArgsError: an invalid project, namespace or KSA name; nothing was registered.
    """

    email: pulumi.Output[str]
    member: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: TeamWorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[TeamWorkloadIdentityArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: TeamWorkloadIdentityArgs) -> dict[str, Any]:
        self.account = gcp.serviceaccount.Account(
            f"{name}-workload",
            account_id=letter_first(f"{name[:21].rstrip('-')}-workload"),
            display_name=pulumi.Output.concat("Workload identity of team ", name, " (", args.namespace, "/", args.kubernetes_service_account, ")"),
            project=args.project,
            opts=self.child_options(),
        )
        member = pulumi.Output.all(args.project, args.namespace, args.kubernetes_service_account).apply(lambda v: workload_identity_member(*v))
        self.binding = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity-user",
            service_account_id=self.account.name,
            role="roles/iam.workloadIdentityUser",
            member=member,
            opts=self.child_options(),
        )
        return {"email": self.account.email, "member": member}
