"""``DataBucket``: a private, encrypted, versioned S3 bucket for ML data, with CDK-style grants.

What a ``DataBucket`` is made of (pulumi-aws 7, where ``aws.s3.Bucket`` is the bucket itself and
each setting is its own resource):

- ``aws.kms.Key``: a dedicated customer managed key, yearly rotation on, 30-day deletion window;
- ``aws.s3.Bucket``: the bucket, tagged with the four standard tags;
- ``aws.s3.BucketPublicAccessBlock``: all four flags on (source: CIS AWS Foundations Benchmark
  v3.0, control 2.1.4 "Ensure that S3 Buckets are configured with Block public access");
- ``aws.s3.BucketOwnershipControls``: ``BucketOwnerEnforced``, so ACLs are disabled and the
  bucket owner owns every object (source: Amazon S3 User Guide, "Controlling ownership of objects
  and disabling ACLs");
- ``aws.s3.BucketServerSideEncryptionConfiguration``: SSE-KMS with the key above and an S3 Bucket
  Key (fewer KMS requests; source: Amazon S3 User Guide, "Reducing the cost of SSE-KMS with
  Amazon S3 Bucket Keys");
- ``aws.s3.BucketVersioning``: enabled;
- ``aws.s3.BucketLifecycleConfiguration``: noncurrent versions expire after N days, incomplete
  multipart uploads are aborted after N days;
- ``aws.s3.BucketPolicy``: denies every request made without TLS (``aws:SecureTransport`` false;
  source: CIS AWS Foundations Benchmark v3.0, control 2.1.1 "Ensure S3 Bucket Policy is set to
  deny HTTP requests");
- ``aws.s3.BucketLogging`` (optional): server access logs to a log bucket.

Access is granted as in AWS CDK, by the bucket, to a role::

    bucket = DataBucket("features", environment="prod", tags={"team": "fraud", "cost-center": "cc-1"})
    bucket.grant_read(training_role, prefix="daily/")
    bucket.grant_read_write("fraud-pipeline-role")

Each grant is an ``aws.iam.RolePolicy`` (an inline policy on the role) registered as a child of the
bucket, scoped to the bucket's ARN, the objects under the prefix and the bucket's KMS key. The
checks (access level, prefix, repeated grant) and the ``Grant`` record are the ones every cloud's
bucket shares, :class:`platform_lib.core.grants.BucketGrants`; this module only says what a grant is on
AWS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Mapping, TypeVar

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..platform.config import Environment
from ..core.errors import ComponentArgsError, Issue, validate_args
from ..core.grants import AccessLevel, BucketGrants, Grant, GrantTarget, normalize_prefix, prefix_slug
from ..core.tagging import require_standard_keys
from .s3 import (
    DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS,
    DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS,
    DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS,
    AbortIncompleteMultipartUploadDays,
    KmsKeyDeletionWindowDays,
    NoncurrentVersionExpirationDays,
    block_public_access,
    bucket_kms_key,
    owner_enforced,
    versioned_kms_settings,
)
from ..core.policy_documents import (
    READ_ACTIONS,
    READ_WRITE_ACTIONS,
    access_log_bucket_policy_document,
    deny_insecure_transport_statement,
    s3_grant_policy_document,
)

__all__ = ["AccessLogBucket", "AccessLogBucketArgs", "DataBucket", "DataBucketArgs", "validate_bucket_args"]


# S3 bucket names: 3-63 lowercase letters, digits, hyphens (and dots, not used here); autonaming
# appends "-" and 7 hex characters, so the logical name has at most 55 (source: Amazon S3 User
# Guide, "General purpose bucket naming rules").
_BUCKET_LOGICAL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,53}[a-z0-9]$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TAG_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,128}$")


def _is_output(value: Any) -> bool:
    return isinstance(value, pulumi.Output)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    environment: Environment = Field(description="dev, staging or prod; prod refuses force_destroy and turns protect/retain on by default")
    tags: dict[str, str] = Field(description="at least 'team' and 'cost-center'; 'environment' and 'managed-by' are filled in")
    protect: bool | None = None
    retain_on_delete: bool | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        require_standard_keys(tags, "tags", keys=("team", "cost-center"))
        bad = [key for key in tags if not _TAG_KEY.match(key) or key.startswith("aws:")]
        if bad:
            raise ValueError(f"tag keys of 1-128 allowed characters, not starting with 'aws:' (bad: {', '.join(bad)})")
        return tags

    @model_validator(mode="after")
    def _environment_tag(self) -> "_Args":
        given = self.tags.get("environment")
        if given is not None and given != self.environment.value:
            raise ValueError(f"tags.environment equal to environment ({self.environment.value!r}) or left out, not {given!r}")
        return self

    def standard_tags(self) -> dict[str, str]:
        """The caller's tags plus ``environment`` and ``managed-by``."""
        return {**self.tags, "environment": self.environment.value, "managed-by": "pulumi"}

    @property
    def protect_resources(self) -> bool:
        """``protect`` as given, else on in prod."""
        return self.environment is Environment.PROD if self.protect is None else self.protect

    @property
    def retain_resources(self) -> bool:
        """``retain_on_delete`` as given, else on in prod."""
        return self.environment is Environment.PROD if self.retain_on_delete is None else self.retain_on_delete


_ArgsT = TypeVar("_ArgsT", bound=_Args)


class DataBucketArgs(_Args):
    """Arguments of :class:`DataBucket`.

    Attributes:
        environment: ``dev``, ``staging`` or ``prod``.
        tags: the standard tags' ``team`` and ``cost-center`` (plus any others); ``environment``
            and ``managed-by`` are added. Applied to the bucket and its KMS key.
        noncurrent_version_expiration_days: days after which a noncurrent object version is
            deleted (1-3650, default 90).
        abort_incomplete_multipart_upload_days: days after which an unfinished multipart upload's
            parts are deleted (1-365, default 7).
        kms_key_deletion_window_days: waiting period in days before the KMS key is deleted
            (7-30, default 30; source: AWS KMS API ``ScheduleKeyDeletion``, ``PendingWindowInDays``).
        access_log_bucket: name of the bucket that receives S3 server access logs (a string or an
            Output); ``None`` turns access logging off.
        access_log_prefix: key prefix for this bucket's logs in the log bucket; defaults to
            ``s3-access-logs/<component name>/``.
        force_destroy: let ``pulumi destroy`` delete a bucket that still holds objects. Off by
            default; refused when ``environment`` is ``prod``.
        protect: ``protect`` on the bucket, its key and its settings; ``None`` means on in prod.
        retain_on_delete: keep the bucket, key and settings in AWS when they leave the program;
            ``None`` means on in prod.
    """

    noncurrent_version_expiration_days: NoncurrentVersionExpirationDays = DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS
    abort_incomplete_multipart_upload_days: AbortIncompleteMultipartUploadDays = DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS
    kms_key_deletion_window_days: KmsKeyDeletionWindowDays = DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS
    access_log_bucket: Any = None
    access_log_prefix: str | None = None
    force_destroy: bool = False

    @field_validator("access_log_bucket")
    @classmethod
    def _log_bucket(cls, value: Any) -> Any:
        if value is None or _is_output(value):
            return value
        if isinstance(value, str) and _BUCKET_NAME.match(value):
            return value
        raise ValueError("an S3 bucket name (3-63 lowercase letters, digits, '.', '-') or a pulumi.Output of one")

    @field_validator("access_log_prefix")
    @classmethod
    def _log_prefix(cls, value: str | None) -> str | None:
        return None if value is None else normalize_prefix(value)

    @model_validator(mode="after")
    def _no_force_destroy_in_prod(self) -> "DataBucketArgs":
        if self.force_destroy and self.environment is Environment.PROD:
            raise ValueError("force_destroy=False in prod: a production bucket holding data must not be deletable with its objects")
        if self.access_log_prefix is not None and self.access_log_bucket is None:
            raise ValueError("access_log_prefix only together with access_log_bucket")
        return self


def validate_bucket_args(model: type[_ArgsT], component: str, name: str, values: Any) -> _ArgsT:
    """Validate a bucket component's logical name and its args together, every problem at once.

    Args:
        model: ``DataBucketArgs`` or ``AccessLogBucketArgs``.
        component: the component's class name, for messages.
        name: the logical name; the physical bucket name derives from it (3-55 characters).
        values: a model instance or a mapping of field names to values.

    Returns:
        The validated args.

    Raises:
        ComponentArgsError: naming every invalid field (and the name), the value and what was expected.
    """
    issues: list[Issue] = []
    if not _BUCKET_LOGICAL_NAME.match(name):
        issues.append(Issue(f"{component}({name}).name", name, "3-55 lowercase letters, digits and '-' (the bucket's physical name is derived from it)"))
    try:
        validated = validate_args(model, component, name, values)
    except ComponentArgsError as error:
        issues.extend(error.issues)
    if issues:
        raise ComponentArgsError(f"invalid arguments for {component}({name!r}); nothing was created", issues)
    return validated


def _resource_options(parent: pulumi.Resource, protect: bool, retain: bool, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=retain, depends_on=depends_on)


class DataBucket(BucketGrants, pulumi.ComponentResource):
    """A private, SSE-KMS encrypted, versioned S3 bucket with lifecycle rules and CDK-style grants.

    Args:
        name: the logical name (3-55 lowercase letters, digits, '-'); the bucket's physical name is
            ``<name>-<7 hex>`` and every child's name starts with it.
        args: a :class:`DataBucketArgs` or a mapping of its fields; or pass the fields as keyword
            arguments.
        opts: resource options of the component.

    Attributes:
        bucket_name: the bucket's physical name.
        arn: the bucket's ARN (``arn:aws:s3:::<bucket>``).
        kms_key_arn: the ARN of the bucket's KMS key.
        bucket: the ``aws.s3.Bucket``; kms_key: the ``aws.kms.Key``.
        grants: every :class:`~platform_lib.core.grants.Grant` made so far.

    Grants: ``grant_read(role, prefix="", *, name=None)``, ``grant_read_write(...)`` and
    ``grant(role, access, prefix)`` from :class:`~platform_lib.core.grants.BucketGrants`; ``role`` is an
    ``aws.iam.Role`` or a role name (string or Output; an Output needs ``name``). Each registers
    one ``aws.iam.RolePolicy`` named ``<bucket>-<label>-<access>[-<prefix>]`` under this bucket, and
    the returned ``Grant.document`` is its policy JSON (:func:`s3_grant_policy_document`).

    Raises:
        ComponentArgsError: an invalid argument (bad name, missing standard tag, out-of-range
            days, ``force_destroy`` in prod, ...); nothing is registered.
    """

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    TYPE = "mlplat:aws:DataBucket"

    def __init__(
        self,
        name: str,
        args: DataBucketArgs | Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        self.args = validate_bucket_args(DataBucketArgs, "DataBucket", name, args if args is not None else kwargs)
        super().__init__(self.TYPE, name, None, opts)
        a = self.args
        tags = a.standard_tags()
        protect, retain = a.protect_resources, a.retain_resources

        def options(depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
            return _resource_options(self, protect, retain, depends_on)

        self.kms_key = bucket_kms_key(
            f"{name}-key", f"Encrypts the objects of data bucket {name} (SSE-KMS)", a.kms_key_deletion_window_days, tags, options()
        )
        self.bucket = aws.s3.Bucket(name, force_destroy=a.force_destroy, tags=tags, opts=options())
        self.public_access_block = block_public_access(f"{name}-public-access-block", self.bucket, options())
        self.ownership_controls = owner_enforced(f"{name}-ownership", self.bucket, options())
        settings = versioned_kms_settings(
            name, self.bucket, self.kms_key.arn, a.noncurrent_version_expiration_days, a.abort_incomplete_multipart_upload_days, options()
        )
        self.encryption, self.versioning, self.lifecycle = settings.encryption, settings.versioning, settings.lifecycle
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(
                self.bucket.arn.apply(lambda arn: {"Version": "2012-10-17", "Statement": [deny_insecure_transport_statement(arn)]})
            ),
            # Put the public access block first so the policy is judged with it in place.
            opts=options([self.public_access_block]),
        )
        self.logging: aws.s3.BucketLogging | None = None
        if a.access_log_bucket is not None:
            self.logging = aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=self.bucket.id,
                target_bucket=a.access_log_bucket,
                target_prefix=a.access_log_prefix or f"s3-access-logs/{name}/",
                opts=options(),
            )

        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.kms_key_arn = self.kms_key.arn
        self.grants: list[Grant] = []
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn, "kms_key_arn": self.kms_key_arn})

    # -- grants: the shared code path is platform_lib.core.grants.BucketGrants ---------------------------

    def _grant_target(self, principal: Any, name: str | None, subject: str) -> tuple[GrantTarget | None, list[Issue]]:
        """The role name of ``principal`` (an ``aws.iam.Role``, or a role name as a string or
        Output) and the grant's label: ``name``, else the role's logical name or the role name.
        The label names the role policy, so it is 1-64 letters, digits and ``_ . + = @ -``; an
        Output principal needs ``name``."""
        issues: list[Issue] = []
        role_name: pulumi.Input[str] | None = None
        label = name
        if isinstance(principal, aws.iam.Role):
            role_name = principal.name
            label = label or principal.pulumi_resource_name
        elif isinstance(principal, str) and principal:
            role_name = principal
            label = label or principal
        elif _is_output(principal):
            role_name = principal
            if label is None:
                issues.append(Issue(f"{subject}.name", None, "a name for the grant when the principal is an Output"))
        else:
            issues.append(Issue(f"{subject}.principal", principal, "an aws.iam.Role or a role name (string or Output)"))
        if label is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+=@-]{0,63}", label):
            issues.append(Issue(f"{subject}.name", label, "1-64 letters, digits and _ . + = @ - (it names the role policy)"))
        if issues or label is None:
            return None, issues
        return GrantTarget(role_name, label), []

    def _grant_resource_name(self, label: str, access: AccessLevel, prefix: str) -> str:
        """``<bucket>-<label>-<access>[-<prefix slug>]`` (see :func:`platform_lib.core.grants.prefix_slug`)."""
        return f"{self.pulumi_resource_name}-{label}-{access.value}" + (f"-{prefix_slug(prefix)}" if prefix else "")

    def _register_grant(self, target: GrantTarget, access: AccessLevel, prefix: str, resource_name: str) -> tuple[list[pulumi.Resource], pulumi.Output[str]]:
        """One ``aws.iam.RolePolicy`` on the role, child of this bucket, with the document of
        :func:`s3_grant_policy_document`; returns it and the document (an ``Output`` of JSON)."""
        document = pulumi.Output.json_dumps(
            pulumi.Output.all(self.arn, self.kms_key_arn).apply(lambda arns: s3_grant_policy_document(arns[0], arns[1], access, prefix))
        )
        policy = aws.iam.RolePolicy(resource_name, role=target.principal, policy=document, opts=pulumi.ResourceOptions(parent=self))
        return [policy], document


class AccessLogBucketArgs(_Args):
    """Arguments of :class:`AccessLogBucket`.

    Attributes:
        environment, tags, protect, retain_on_delete: as for :class:`DataBucketArgs`.
        log_expiration_days: days after which log objects are deleted (1-3650, default 365).
        abort_incomplete_multipart_upload_days: as for :class:`DataBucketArgs` (default 7).
    """

    log_expiration_days: int = Field(default=365, ge=1, le=3650)
    abort_incomplete_multipart_upload_days: AbortIncompleteMultipartUploadDays = DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS


class AccessLogBucket(pulumi.ComponentResource):
    """A private bucket that receives S3 server access logs from a stack's data buckets.

    It is encrypted with SSE-S3 (``AES256``), not SSE-KMS: S3 server access logging cannot deliver
    to a target bucket whose default encryption is SSE-KMS (source: Amazon S3 User Guide, "Enabling
    Amazon S3 server access logging": "the target bucket ... default encryption ... SSE-S3 is
    supported"). Otherwise it is a data bucket: all four public access block flags,
    ``BucketOwnerEnforced``, versioning, a deny-HTTP bucket policy; the policy also lets
    ``logging.s3.amazonaws.com`` write, for source buckets of this account only. Logs expire after
    ``log_expiration_days``.

    Attributes:
        bucket_name: the log bucket's physical name (pass it as a DataBucket's ``access_log_bucket``).
        arn: its ARN.
    """

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    TYPE = "mlplat:aws:AccessLogBucket"

    def __init__(
        self,
        name: str,
        args: AccessLogBucketArgs | Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        self.args = validate_bucket_args(AccessLogBucketArgs, "AccessLogBucket", name, args if args is not None else kwargs)
        super().__init__(self.TYPE, name, None, opts)
        a = self.args
        protect, retain = a.protect_resources, a.retain_resources

        def options(depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
            return _resource_options(self, protect, retain, depends_on)

        self.bucket = aws.s3.Bucket(name, tags=a.standard_tags(), opts=options())
        self.public_access_block = block_public_access(f"{name}-public-access-block", self.bucket, options())
        self.ownership_controls = owner_enforced(f"{name}-ownership", self.bucket, options())
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=options(),
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"}, opts=options()
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "expire-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": a.log_expiration_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": a.abort_incomplete_multipart_upload_days},
                }
            ],
            opts=options([self.versioning]),
        )
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(
                pulumi.Output.all(self.bucket.arn, account_id).apply(lambda v: access_log_bucket_policy_document(v[0], v[1]))
            ),
            opts=options([self.public_access_block]),
        )
        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})
