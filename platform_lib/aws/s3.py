"""S3 and KMS pieces shared by the AWS components that own a bucket (data buckets, the static site).

Each function registers one hardened setting resource for a bucket, or returns the rules it
takes; the components decide the names and pass their child resource options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Mapping

import pulumi
import pulumi_aws as aws
from pydantic import Field

__all__ = [
    "AbortIncompleteMultipartUploadDays",
    "DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS",
    "DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS",
    "DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS",
    "KmsKeyDeletionWindowDays",
    "NoncurrentVersionExpirationDays",
    "VersionedKmsSettings",
    "RESERVED_BUCKET_PREFIXES",
    "RESERVED_BUCKET_SUFFIXES",
    "block_public_access",
    "bucket_name_problem",
    "bucket_kms_key",
    "lifecycle_rules",
    "logical_bucket_name_problem",
    "owner_enforced",
    "sse_kms_rules",
    "versioned_kms_settings",
]


#: Bucket name prefixes and suffixes S3 reserves: ``CreateBucket`` refuses them (source: Amazon S3
#: User Guide, "General purpose bucket naming rules"; ``-s3alias`` and ``--ol-s3`` are access point
#: aliases, ``.mrap`` Multi-Region Access Points, ``--x-s3`` directory buckets, ``--table-s3`` table
#: buckets; ``sthree-configurator`` is covered by ``sthree-``).
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_RESERVED = f"not starting with {', '.join(RESERVED_BUCKET_PREFIXES)} nor ending with {', '.join(RESERVED_BUCKET_SUFFIXES)} (reserved by S3)"
#: A bucket name: 3-63 lowercase letters, digits, '.' and '-', alphanumeric at both ends (same source).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
#: The logical name of an auto-named bucket: Pulumi appends '-' and 7 hex characters, so at most
#: 55 characters; the platform uses no dots in them.
_AUTONAMED_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,53}[a-z0-9]")


def _reserved(name: str) -> bool:
    return name.startswith(RESERVED_BUCKET_PREFIXES) or name.endswith(RESERVED_BUCKET_SUFFIXES)


def bucket_name_problem(name: object) -> str | None:
    """What is wrong with an S3 general purpose bucket name, in words, or ``None`` if S3 accepts it.

    The rules of the Amazon S3 User Guide, "General purpose bucket naming rules": 3-63 lowercase
    letters, digits, '.' and '-', alphanumeric at both ends, no two adjacent periods, not an IP
    address, none of the reserved prefixes and suffixes (:data:`RESERVED_BUCKET_PREFIXES`,
    :data:`RESERVED_BUCKET_SUFFIXES`).
    """
    expected = f"an S3 bucket name (3-63 lowercase letters, digits, '.' and '-', alphanumeric at both ends, no '..', not an IP address, {_RESERVED})"
    if not isinstance(name, str) or not _BUCKET_NAME.fullmatch(name) or ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name) or _reserved(name):
        return expected
    return None


def logical_bucket_name_problem(logical_name: object) -> str | None:
    """What is wrong with the logical name of an auto-named bucket (the physical name is
    ``<logical name>-<7 hex>``), or ``None``: 3-55 lowercase letters, digits and '-', and no reserved
    prefix or suffix (the suffix too: with Pulumi's ``autonaming`` set to ``verbatim`` the logical
    name is the bucket's name)."""
    if not isinstance(logical_name, str) or not _AUTONAMED_BUCKET.fullmatch(logical_name):
        return "3-55 lowercase letters, digits and '-' (the bucket's physical name is derived from it)"
    if _reserved(logical_name):
        return f"a name {_RESERVED}: the bucket's physical name is derived from it"
    return None


#: Days after which a noncurrent object version is deleted (1-3650).
NoncurrentVersionExpirationDays = Annotated[int, Field(ge=1, le=3650)]


#: Days after which an unfinished multipart upload's parts are deleted (1-365).
AbortIncompleteMultipartUploadDays = Annotated[int, Field(ge=1, le=365)]


#: Waiting period in days before a KMS key is deleted (7-30; source: AWS KMS API
#: ``ScheduleKeyDeletion``, ``PendingWindowInDays``).
KmsKeyDeletionWindowDays = Annotated[int, Field(ge=7, le=30)]


#: Defaults of the three settings above for every platform bucket that keeps versions.
DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS = 90


DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS = 7


DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS = 30


def block_public_access(resource_name: str, bucket: aws.s3.Bucket, options: pulumi.ResourceOptions) -> aws.s3.BucketPublicAccessBlock:
    """The bucket's public access block with all four flags on (source: CIS AWS Foundations
    Benchmark v3.0, control 2.1.4). Every platform bucket registers it through this function."""
    return aws.s3.BucketPublicAccessBlock(
        resource_name,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=options,
    )


def owner_enforced(resource_name: str, bucket: aws.s3.Bucket, options: pulumi.ResourceOptions) -> aws.s3.BucketOwnershipControls:
    """``BucketOwnerEnforced`` ownership: ACLs disabled, the bucket owner owns every object
    (source: Amazon S3 User Guide, "Controlling ownership of objects and disabling ACLs")."""
    return aws.s3.BucketOwnershipControls(
        resource_name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=options
    )


def sse_kms_rules(key_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    """Default-encryption rules: SSE-KMS with ``key_arn`` and an S3 Bucket Key (fewer KMS requests;
    source: Amazon S3 User Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys")."""
    return [
        {
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn},
            "bucket_key_enabled": True,
        }
    ]


def lifecycle_rules(noncurrent_version_expiration_days: int, abort_incomplete_multipart_upload_days: int) -> list[dict[str, Any]]:
    """Lifecycle rules for the whole bucket: ``expire-noncurrent-versions`` after the given days,
    ``abort-incomplete-multipart-uploads`` that many days after initiation."""
    return [
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": noncurrent_version_expiration_days},
        },
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abort_incomplete_multipart_upload": {"days_after_initiation": abort_incomplete_multipart_upload_days},
        },
    ]


def bucket_kms_key(
    resource_name: str, description: str, deletion_window_days: int, tags: Mapping[str, str], opts: pulumi.ResourceOptions
) -> aws.kms.Key:
    """A dedicated symmetric customer managed key for one bucket: yearly rotation on, the given
    deletion window in days. Its owner registers the key's explicit ``aws.kms.KeyPolicy`` with it
    (the policy names what only exists later, such as the key's region or a distribution); until
    then AWS applies the default key policy, which is the same account root statement."""
    return aws.kms.Key(
        resource_name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        tags=dict(tags),
        opts=opts,
    )


@dataclass(frozen=True)
class VersionedKmsSettings:
    """The setting resources :func:`versioned_kms_settings` registers."""

    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    versioning: aws.s3.BucketVersioning
    lifecycle: aws.s3.BucketLifecycleConfiguration


def versioned_kms_settings(
    name: str,
    bucket: aws.s3.Bucket,
    key_arn: pulumi.Input[str],
    noncurrent_version_expiration_days: int,
    abort_incomplete_multipart_upload_days: int,
    opts: pulumi.ResourceOptions,
) -> VersionedKmsSettings:
    """Register a bucket's SSE-KMS encryption, versioning (``Enabled``) and lifecycle rules.

    Resources are named ``<name>-encryption``, ``<name>-versioning`` and ``<name>-lifecycle``, all
    with ``opts``; the lifecycle configuration also depends on the versioning (S3 needs versioning
    in place before a noncurrent-version rule is meaningful). See :func:`sse_kms_rules` and
    :func:`lifecycle_rules` for the values.
    """
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", bucket=bucket.id, rules=sse_kms_rules(key_arn), opts=opts)
    versioning = aws.s3.BucketVersioning(f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=opts)
    lifecycle = aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=lifecycle_rules(noncurrent_version_expiration_days, abort_incomplete_multipart_upload_days),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[versioning])),
    )
    return VersionedKmsSettings(encryption, versioning, lifecycle)
