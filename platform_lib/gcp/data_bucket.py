"""``mlplat:gcp:DataBucket``: a private Cloud Storage bucket for training data, with grants.

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
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..core.errors import Issue, validate_args
from . import KMS_KEY_PATTERN, letter_first
from ..core.grants import AccessLevel, BucketGrants, Grant, GrantTarget, prefix_slug
from ..core.tagging import require_standard_keys

#: The predefined role a grant of each access level binds ("IAM roles for Cloud Storage").
ROLE_FOR_ACCESS = {AccessLevel.READ: "roles/storage.objectViewer", AccessLevel.READ_WRITE: "roles/storage.objectUser"}

#: IAM member kinds a grant may name ("IAM overview", principal identifiers). ``allUsers`` and
#: ``allAuthenticatedUsers`` are refused: a data bucket is never public.
MEMBER_KINDS = ("serviceAccount:", "user:", "group:", "domain:", "principal://", "principalSet://")


class DataBucketArgs(BaseModel):
    """Arguments of the GCS :class:`DataBucket`.

    Attributes:
        location: the bucket location, a region (``europe-west4``) or multi-region (``EU``).
        labels: labels for the bucket: the standard tags as GCP labels, at least ``team`` and
            ``cost-center``.
        versioning: keep non-current object versions.
        noncurrent_version_days: delete non-current versions this many days after they
            became non-current (1 to 3650).
        soft_delete_days: keep deleted objects restorable for this many days: 0 (off) or 7 to 90.
        kms_key_name: a Cloud KMS crypto key id for customer-managed encryption; ``None`` for
            Google-managed keys.
        protect: protect the bucket from deletion by the engine.
        retain_on_delete: keep the bucket when it leaves the program.
        force_destroy: let the engine delete a non-empty bucket (off: data is never deleted
            by a destroy).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    location: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    labels: dict[str, str]
    versioning: bool = True
    noncurrent_version_days: int = Field(default=30, ge=1, le=3650)
    soft_delete_days: int = Field(default=7, ge=0, le=90)
    kms_key_name: str | None = Field(default=None, pattern=KMS_KEY_PATTERN)
    protect: bool = False
    retain_on_delete: bool = False
    force_destroy: bool = False

    @field_validator("soft_delete_days")
    @classmethod
    def _soft_delete(cls, value: int) -> int:
        if 0 < value < 7:
            raise ValueError("0 (soft delete off) or 7 to 90 days (Cloud Storage's allowed retention range)")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        require_standard_keys(value, "labels", keys=("team", "cost-center"))
        for key, label in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key) or not re.fullmatch(r"[a-z0-9_-]{0,63}", label):
                raise ValueError(f"GCP labels: lowercase keys and values of letters, digits, '_' and '-' (bad: {key}={label})")
        return value


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


class DataBucket(BucketGrants, pulumi.ComponentResource):
    """A private GCS bucket with uniform access, versioning, lifecycle, soft delete and grants.

    Args:
        name: the logical name; children are named ``<name>-bucket``, ``<name>-<principal>-read``...
        args: a :class:`DataBucketArgs` or a mapping of its fields.
        opts: resource options for the component.

    Attributes:
        bucket: the ``gcp.storage.Bucket``.
        bucket_name: the bucket's physical name (``Output[str]``).
        url: ``gs://<bucket>`` (``Output[str]``).
        grants: every :class:`~platform_lib.core.grants.Grant` made so far.

    Raises:
        ComponentArgsError: an argument is invalid; nothing was registered.
    """

    grant_component = "DataBucket"

    def __init__(self, name: str, args: DataBucketArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        validated = validate_args(DataBucketArgs, "DataBucket", name, args)
        super().__init__("mlplat:gcp:DataBucket", name, None, opts)
        self.args = validated
        self.grants: list[Grant] = []
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            location=validated.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": validated.versioning},
            soft_delete_policy={"retention_duration_seconds": validated.soft_delete_days * 86400},
            lifecycle_rules=[
                {"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": validated.noncurrent_version_days, "with_state": "ARCHIVED"}},
                {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
            ],
            encryption={"default_kms_key_name": validated.kms_key_name} if validated.kms_key_name else None,
            labels=validated.labels,
            force_destroy=validated.force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=validated.protect, retain_on_delete=validated.retain_on_delete),
        )
        self.bucket_name = self.bucket.name
        self.url = self.bucket.url
        self.register_outputs({"bucketName": self.bucket_name, "url": self.url})

    def _grant_target(self, principal: Any, name: str | None, subject: str) -> tuple[GrantTarget | None, list[Issue]]:
        """The IAM member string of ``principal`` and a label (``name`` when given), or the issue."""
        if isinstance(principal, gcp.serviceaccount.Account):
            return GrantTarget(principal.member, name or principal.pulumi_resource_name), []
        if isinstance(principal, str) and principal.startswith(MEMBER_KINDS):
            return GrantTarget(principal, name or principal.split(":", 1)[-1].split("@")[0].split("/")[-1]), []
        return None, [
            Issue(
                f"{subject}.principal",
                principal if isinstance(principal, str) else type(principal).__name__,
                "a gcp.serviceaccount.Account or an IAM member string (serviceAccount:, user:, group:, domain:, principal://, principalSet://); never allUsers or allAuthenticatedUsers",
            )
        ]

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
            opts=pulumi.ResourceOptions(parent=self),
        )
        return [binding], None


def workload_identity_member(project: str, namespace: str, service_account: str) -> str:
    """The IAM member of a Kubernetes service account under GKE Workload Identity.

    Format ``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]`` (GKE docs, "Use Workload
    Identity Federation for GKE", linking Kubernetes service accounts to IAM).
    """
    return f"serviceAccount:{project}.svc.id.goog[{namespace}/{service_account}]"


class TeamWorkloadIdentityArgs(BaseModel):
    """Arguments of :class:`TeamWorkloadIdentity`.

    Attributes:
        project: the GCP project id hosting the GKE cluster (its workload pool is
            ``<project>.svc.id.goog``); 6-30 characters (GCP project id rules).
        namespace: the team's Kubernetes namespace (a DNS label).
        kubernetes_service_account: the KSA name in that namespace (a DNS label).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str = Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    namespace: str = Field(max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    kubernetes_service_account: str = Field(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class TeamWorkloadIdentity(pulumi.ComponentResource):
    """A team's Google service account that its Kubernetes service account impersonates.

    Registers a ``gcp.serviceaccount.Account`` (``<name>-workload``) and a
    ``roles/iam.workloadIdentityUser`` binding on it for
    ``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]``. Grant buckets to :attr:`account`;
    pods running as the KSA (annotated ``iam.gke.io/gcp-service-account: <account email>``) then
    get exactly those grants.

    Args:
        name: the logical name (the team's name; at most 21 characters are used in the account id).
        args: a :class:`TeamWorkloadIdentityArgs` or a mapping of its fields.

    Attributes:
        account: the ``gcp.serviceaccount.Account``; email: its e-mail (``Output[str]``);
        member: the Kubernetes service account's IAM member string.

    Raises:
        ComponentArgsError: an invalid project, namespace or KSA name; nothing was registered.
    """

    def __init__(self, name: str, args: TeamWorkloadIdentityArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        validated = validate_args(TeamWorkloadIdentityArgs, "TeamWorkloadIdentity", name, args)
        super().__init__("mlplat:gcp:TeamWorkloadIdentity", name, None, opts)
        self.account = gcp.serviceaccount.Account(
            f"{name}-workload",
            account_id=letter_first(f"{name[:21].rstrip('-')}-workload"),
            display_name=f"Workload identity of team {name} ({validated.namespace}/{validated.kubernetes_service_account})",
            project=validated.project,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.member = workload_identity_member(validated.project, validated.namespace, validated.kubernetes_service_account)
        self.binding = gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity-user",
            service_account_id=self.account.name,
            role="roles/iam.workloadIdentityUser",
            member=self.member,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.email = self.account.email
        self.register_outputs({"email": self.email, "member": self.member})


#: The name the AWS-side documentation and ``platform_lib.core.grants`` use for this class.
GcsDataBucket = DataBucket
