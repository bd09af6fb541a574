"""``S3DataBucket``: a private, encrypted, versioned S3 bucket for ML data, with CDK-style grants.

What an ``S3DataBucket`` is made of (pulumi-aws 7, where ``aws.s3.Bucket`` is the bucket itself and
each setting is its own resource):

- ``aws.kms.Key``: a dedicated customer managed key, yearly rotation on, 30-day deletion window
  (not created when the caller brings a key: ``kms_key_arn``), with its explicit
  ``aws.kms.KeyPolicy``: the account root statement and the grants to other accounts;
- ``aws.s3.Bucket``: the bucket, with the standard tags;
- ``aws.s3.BucketPublicAccessBlock``: all four flags on (source: CIS AWS Foundations Benchmark
  v3.0, control 2.1.4 "Ensure that S3 Buckets are configured with Block public access");
- ``aws.s3.BucketOwnershipControls``: ``BucketOwnerEnforced``, so ACLs are disabled and the
  bucket owner owns every object (source: Amazon S3 User Guide, "Controlling ownership of objects
  and disabling ACLs");
- ``aws.s3.BucketServerSideEncryptionConfiguration``: SSE-KMS with the key and an S3 Bucket
  Key (fewer KMS requests; source: Amazon S3 User Guide, "Reducing the cost of SSE-KMS with
  Amazon S3 Bucket Keys");
- ``aws.s3.BucketVersioning``: enabled;
- ``aws.s3.BucketLifecycleConfiguration``: noncurrent versions expire after N days, incomplete
  multipart uploads are aborted after N days;
- ``aws.s3.BucketPolicy``: denies every request made without TLS (``aws:SecureTransport`` false;
  source: CIS AWS Foundations Benchmark v3.0, control 2.1.1 "Ensure S3 Bucket Policy is set to
  deny HTTP requests"), plus the statements of grants made by bucket policy;
- ``aws.s3.BucketLogging`` (optional): server access logs to a log bucket.

Access is granted as in AWS CDK (``bucket.grantRead(grantee)``), by the bucket::

    bucket = S3DataBucket("features", tags={"team": "fraud", "cost-center": "cc-1", "environment": "prod"})
    bucket.grant_read(training_role, prefix="daily/")              # aws.iam.Role / User / Group
    bucket.grant_read_write("arn:aws:iam::123456789012:role/etl")  # a role ARN (or name)
    bucket.grant_read(ServicePrincipal("logging.s3.amazonaws.com"), prefix="exports/")

See :mod:`platform_lib.aws.principals` for how each kind of principal is granted. The checks
(access level, prefix, repeated grant) and the ``Grant`` record are shared with the GCS bucket,
:class:`platform_lib.core.grants.BucketGrants`; this module says what a grant is on AWS.

**One bucket policy, many grants.** S3 holds one policy per bucket, so the ``BucketPolicy`` is
registered once, with the bucket, and its document is built from a list that grants by bucket
policy append to: the document is rendered (in an ``apply`` on the bucket's ARN) only after the
program's body has run, since the Pulumi Python SDK resolves Outputs after the program function
returns. A bucket-policy grant made after that (inside an ``apply`` callback) would be lost, so it
is refused with a :class:`~platform_lib.core.errors.ComponentArgsError` instead.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Mapping, TypedDict, overload

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator
from typing_extensions import Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import ComponentArgsError, Issue
from ..core.grants import AccessLevel, BucketGrants, Grant, GrantTarget, normalize_prefix, prefix_slug
from ..core.inputs import Input, InputCheck, checked_output, is_output
from ..core.policy_documents import (
    INLINE_POLICY_MAX_CHARACTERS,
    access_log_bucket_policy_document,
    deny_insecure_transport_statement,
    kms_grant_key_policy_statement,
    kms_key_policy_document,
    policy_size,
    s3_grant_bucket_policy_statements,
    s3_grant_policy_document,
)
from ..core.tagging import require_standard_keys, with_managed_by
from .principals import BucketPolicyPrincipal, IdentityPolicyPrincipal, ServicePrincipal, parse_role_arn
from .s3 import (
    DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS,
    DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS,
    DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS,
    AbortIncompleteMultipartUploadDays,
    KmsKeyDeletionWindowDays,
    NoncurrentVersionExpirationDays,
    block_public_access,
    bucket_kms_key,
    bucket_name_problem,
    logical_bucket_name_problem,
    owner_enforced,
    versioned_kms_settings,
)

__all__ = [
    "AccessLogBucket",
    "AccessLogBucketArgs",
    "AccessLogBucketArgsDict",
    "S3DataBucket",
    "S3DataBucketArgs",
    "S3DataBucketArgsDict",
]


_TAG_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,128}$")
#: A role name (1-64 of ``A-Za-z0-9+=,.@_-``; source: IAM User Guide, "IAM object quotas").
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
#: A grant's label names its policy: 1-64 letters, digits and ``_ . + = @ -``.
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+=@-]{0,63}$")


def _bucket_name(value: Any) -> Any:
    problem = bucket_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _tag_value(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError("a string of at most 256 characters (a tag value)")
    return value


#: An S3 bucket name (string or Output).
BucketNameInput = Annotated[Input[str], InputCheck(_bucket_name)]
#: A KMS key ARN (string or Output).
KmsKeyArnInput = Annotated[
    Input[str], InputCheck.matching(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+", "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
]
#: Tags: values may be Outputs.
Tags = Annotated[dict[str, Input[str]], InputCheck.for_values(_tag_value)]


class _BucketArgs(ComponentArgs):
    tags: Tags = Field(description="at least team, cost-center and environment; managed-by is filled in")

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, Any]) -> dict[str, Any]:
        require_standard_keys(tags, "tags")
        bad = [key for key in tags if not _TAG_KEY.match(key) or key.startswith("aws:")]
        if bad:
            raise ValueError(f"tag keys of 1-128 allowed characters, not starting with 'aws:' (bad: {', '.join(bad)})")
        return tags


def _bucket_name_issues(component: type, name: str) -> list[Issue]:
    problem = logical_bucket_name_problem(name)
    return [Issue(f"{component.label(name)}.name", name, problem)] if problem else []


class S3DataBucketArgs(_BucketArgs):
    """Arguments of :class:`S3DataBucket`.

    Attributes:
        tags: the standard tags ``team``, ``cost-center`` and ``environment`` (plus any others;
            values may be Outputs); ``managed-by: pulumi`` is added. On the bucket and its key.
        noncurrent_version_expiration_days: days after which a noncurrent object version is
            deleted (1-3650, default 90).
        abort_incomplete_multipart_upload_days: days after which an unfinished multipart upload's
            parts are deleted (1-365, default 7).
        kms_key_deletion_window_days: waiting period in days before the dedicated KMS key is
            deleted (7-30, default 30; source: AWS KMS API ``ScheduleKeyDeletion``,
            ``PendingWindowInDays``). Unused with ``kms_key_arn``.
        kms_key_arn: bring your own key: the ARN of a KMS key (string or Output) to encrypt with
            instead of a dedicated key (then no key is created, and grants name this key). Its
            key policy must let the grantees use it (IAM policies decide only if the key policy
            delegates to the account, as the AWS default key policy does).
        access_log_bucket: name of the bucket that receives S3 server access logs (a string or an
            Output, e.g. an :class:`AccessLogBucket`'s ``bucket_name``); ``None`` turns access
            logging off.
        access_log_prefix: key prefix for this bucket's logs in the log bucket; defaults to
            ``s3-access-logs/<component name>/``. Only with ``access_log_bucket``.
        force_destroy: let ``pulumi destroy`` delete a bucket that still holds objects. Off by
            default (secure); the platform stacks never turn it on.
    """

    noncurrent_version_expiration_days: NoncurrentVersionExpirationDays = DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS
    abort_incomplete_multipart_upload_days: AbortIncompleteMultipartUploadDays = DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS
    kms_key_deletion_window_days: KmsKeyDeletionWindowDays = DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS
    kms_key_arn: KmsKeyArnInput | None = None
    access_log_bucket: BucketNameInput | None = None
    access_log_prefix: str | None = None
    force_destroy: bool = False

    @field_validator("access_log_prefix")
    @classmethod
    def _log_prefix(cls, value: str | None) -> str | None:
        return None if value is None else normalize_prefix(value)

    @model_validator(mode="after")
    def _prefix_needs_bucket(self) -> "S3DataBucketArgs":
        if self.access_log_prefix is not None and self.access_log_bucket is None:
            raise ValueError("access_log_prefix only together with access_log_bucket")
        return self


class S3DataBucketArgsDict(TypedDict, total=False):
    """:class:`S3DataBucketArgs` as keyword arguments."""

    tags: Mapping[str, pulumi.Input[str]]
    noncurrent_version_expiration_days: int
    abort_incomplete_multipart_upload_days: int
    kms_key_deletion_window_days: int
    kms_key_arn: pulumi.Input[str] | None
    access_log_bucket: pulumi.Input[str] | None
    access_log_prefix: str | None
    force_destroy: bool


class S3DataBucket(BucketGrants, Component[S3DataBucketArgs], type_token="mlplat:aws:DataBucket"):
    """A private, SSE-KMS encrypted, versioned S3 bucket with lifecycle rules and CDK-style grants.

    Args:
        name: the logical name (3-55 lowercase letters, digits, '-'); the bucket's physical name is
            ``<name>-<7 hex>`` and every child's name starts with it.
        args: a :class:`S3DataBucketArgs` or a mapping of its fields; or pass the fields as keyword
            arguments (:class:`S3DataBucketArgsDict`).
        opts: resource options of the component; they reach every child (provider, ``protect``,
            ``retain_on_delete``, ``depends_on``). The component protects nothing by itself.

    Attributes (outputs):
        bucket_name: the bucket's physical name.
        arn: the bucket's ARN (``arn:aws:s3:::<bucket>``).
        kms_key_arn: the ARN of the bucket's KMS key (the dedicated one, or ``kms_key_arn``).

    Other attributes: ``bucket`` (``aws.s3.Bucket``), ``kms_key`` (``aws.kms.Key``, ``None`` with
    ``kms_key_arn``), ``policy`` (``aws.s3.BucketPolicy``), ``key_policy`` (the dedicated key's
    ``aws.kms.KeyPolicy``, ``None`` with ``kms_key_arn``), ``grants`` (every
    :class:`~platform_lib.core.grants.Grant` made so far).

    Grants: ``grant_read(principal, prefix="", *, name=None)``, ``grant_read_write(...)`` and
    ``grant(principal, access, prefix)``. ``principal`` is one of:

    - an ``aws.iam.Role``, ``aws.iam.User`` or ``aws.iam.Group``: an inline ``RolePolicy`` /
      ``UserPolicy`` / ``GroupPolicy`` on it, named ``<bucket>-<label>-<access>[-<prefix>]``
      (label: ``name``, else the identity's logical name); its document is
      :func:`~platform_lib.core.policy_documents.s3_grant_policy_document` (S3 and the bucket's key);
    - a role ARN (string): statements in the bucket policy naming the ARN
      (:func:`~platform_lib.core.policy_documents.s3_grant_bucket_policy_statements`), in any
      account: within the bucket's account a resource-based allow is enough (source: IAM User
      Guide, "Policy evaluation logic", same-account requests); cross-account access also needs
      the other account to allow the same actions in the role's own IAM policies. For SSE-KMS objects the key policy must allow the role ``kms:Decrypt`` (and
      ``kms:GenerateDataKey`` to write): with the dedicated key each such grant adds a statement to
      ``key_policy`` (after the account root statement; limited by ``kms:ViaService`` to S3 in the
      key's region); with ``kms_key_arn`` the key's owner must allow it;
    - a role name (string): a ``RolePolicy`` on that role;
    - a role ARN or name as an Output (``name`` required): a ``RolePolicy``; the value is checked
      when it arrives and must be a role of the bucket's account;
    - a :class:`~platform_lib.aws.principals.ServicePrincipal`: bucket policy statements with an
      ``aws:SourceAccount`` condition (the bucket's account).

    Raises:
        ComponentArgsError: an invalid argument (bad name, missing standard tag, out-of-range
            days, malformed ARN, ...), each at ``S3DataBucket(<name>).<field>``; nothing is
            registered. Grants raise it at ``S3DataBucket(<name>).grant.<field>``, and at
            ``S3DataBucket(<name>).grant`` when the bucket's inline policies on one identity would
            exceed IAM's quota (2,048 / 10,240 / 5,120 characters for a user / role / group,
            whitespace not counted; checked when the documents are rendered, before the policy is
            registered).
    """

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: S3DataBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[S3DataBucketArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def name_issues(cls, name: str) -> list[Issue]:
        """The logical name names the physical bucket: 3-55 lowercase letters, digits and '-'."""
        return _bucket_name_issues(cls, name)

    def _create(self, name: str, args: S3DataBucketArgs) -> dict[str, Any]:
        tags = with_managed_by(args.tags)
        self.grants: list[Grant] = []
        self._inline_documents: dict[tuple[str, Any], list[pulumi.Output[str]]] = {}  # per identity, for the IAM quota
        self._key_policy_statements: list[pulumi.Output[dict[str, Any]]] = []
        self.kms_key = self._dedicated_key(name, args, tags) if args.kms_key_arn is None else None
        self.key_policy = self._explicit_key_policy(self.kms_key) if self.kms_key is not None else None
        key_arn = self.kms_key.arn if self.kms_key is not None else pulumi.Output.from_input(args.kms_key_arn)
        self.bucket = aws.s3.Bucket(name, force_destroy=args.force_destroy, tags=tags, opts=self.child_options())
        self.public_access_block = block_public_access(f"{name}-public-access-block", self.bucket, self.child_options())
        self.ownership_controls = owner_enforced(f"{name}-ownership", self.bucket, self.child_options())
        settings = versioned_kms_settings(
            name, self.bucket, key_arn, args.noncurrent_version_expiration_days, args.abort_incomplete_multipart_upload_days, self.child_options()
        )
        self.encryption, self.versioning, self.lifecycle = settings.encryption, settings.versioning, settings.lifecycle
        self.policy = self._bucket_policy(name)
        self.logging = self._access_logging(name, args) if args.access_log_bucket is not None else None
        return {"bucket_name": self.bucket.bucket, "arn": self.bucket.arn, "kms_key_arn": key_arn}

    # -- children --------------------------------------------------------------------------------

    def _dedicated_key(self, name: str, args: S3DataBucketArgs, tags: Mapping[str, Any]) -> aws.kms.Key:
        description = f"Encrypts the objects of data bucket {name} (SSE-KMS)"
        return bucket_kms_key(f"{name}-key", description, args.kms_key_deletion_window_days, tags, self.child_options())

    def _bucket_policy(self, name: str) -> aws.s3.BucketPolicy:
        """The one bucket policy: deny plain HTTP, then every bucket-policy grant's statements
        (collected in ``_policy_statements`` until the document is rendered; see the module docstring)."""
        self._policy_statements: list[pulumi.Output[list[dict[str, Any]]]] = []
        self._policy_rendered = False

        def render(bucket_arn: str) -> pulumi.Output[dict[str, Any]]:
            self._policy_rendered = True
            grants = pulumi.Output.all(*self._policy_statements)
            return grants.apply(
                lambda groups: {"Version": "2012-10-17", "Statement": [deny_insecure_transport_statement(bucket_arn), *(s for group in groups for s in group)]}
            )

        return aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(self.bucket.arn.apply(render)),
            # Put the public access block first so the policy is judged with it in place.
            opts=self.child_options(depends_on=[self.public_access_block]),
        )

    def _access_logging(self, name: str, args: S3DataBucketArgs) -> aws.s3.BucketLogging:
        return aws.s3.BucketLogging(
            f"{name}-access-logging",
            bucket=self.bucket.id,
            target_bucket=args.access_log_bucket,
            target_prefix=args.access_log_prefix or f"s3-access-logs/{name}/",
            opts=self.child_options(),
        )

    # -- grants: the shared code path is platform_lib.core.grants.BucketGrants -------------------

    def _grant_target(self, principal: Any, name: str | None, subject: str) -> tuple[GrantTarget | None, list[Issue]]:
        """How ``principal`` is granted (an identity policy or bucket policy statements) and the
        grant's label (``name``, else derived from the principal); see the class docstring."""
        target: IdentityPolicyPrincipal | BucketPolicyPrincipal | None = None
        label = name
        expected = (
            "an aws.iam.Role, User or Group, a role ARN or name (string or Output), or a ServicePrincipal"
        )
        if isinstance(principal, (aws.iam.Role, aws.iam.User, aws.iam.Group)):
            kind = {aws.iam.Role: "role", aws.iam.User: "user", aws.iam.Group: "group"}[type(principal)]
            target, label = IdentityPolicyPrincipal(kind, principal.name), label or principal.pulumi_resource_name
        elif isinstance(principal, ServicePrincipal):
            target = BucketPolicyPrincipal({"Service": principal.service}, source_account=True)
            label = label or principal.service.removesuffix(".cn").removesuffix(".amazonaws.com").replace(".", "-")
        elif isinstance(principal, str) and principal.startswith("arn:"):
            try:
                account, role_name = parse_role_arn(principal)
            except ValueError as error:
                return None, [Issue(f"{subject}.principal", principal, str(error))]
            # Resource-based, in any account: a bucket policy (and key policy) allow is enough in
            # the bucket's own account, and is what another account needs. Deciding "same account"
            # would need a synchronous invoke here, which lets the bucket policy render before the
            # program's later grants are made.
            target, label = BucketPolicyPrincipal({"AWS": principal}), label or f"{account}-{role_name}"
        elif isinstance(principal, str) and _ROLE_NAME.fullmatch(principal):
            target, label = IdentityPolicyPrincipal("role", principal), label or principal
        elif is_output(principal):
            if label is None:
                return None, [Issue(f"{subject}.name", None, "a name for the grant when the principal is an Output")]
            target = IdentityPolicyPrincipal("role", self._role_name_when_known(principal, f"{subject}.principal"))
        else:
            return None, [Issue(f"{subject}.principal", principal, expected)]
        issues = []
        if not _LABEL.fullmatch(label):
            issues.append(Issue(f"{subject}.name", label, "1-64 letters, digits and _ . + = @ - (it names the grant's policy)"))
        if isinstance(target, BucketPolicyPrincipal) and self._policy_rendered:
            issues.append(Issue(subject, label, "a bucket-policy grant made in the program's body, before the bucket policy was rendered (not inside an apply)"))
        return (None, issues) if issues else (GrantTarget(target, label), [])

    def _role_name_when_known(self, principal: Any, path: str) -> pulumi.Output[str]:
        """The role name of an Output role ARN or name, checked when it arrives: a role of the
        bucket's account (an identity policy can only be attached there)."""
        account = aws.get_caller_identity_output(opts=self.invoke_options()).account_id

        def role_name(values: list[Any]) -> str:
            value, own_account = values
            if isinstance(value, str) and value.startswith("arn:"):
                role_account, name = parse_role_arn(value)
                if role_account != own_account:
                    raise ValueError("a role of the bucket's own account when given as an Output (grant a role of another account by its ARN as a string)")
                return name
            if not isinstance(value, str) or not _ROLE_NAME.fullmatch(value):
                raise ValueError("an IAM role ARN or role name")
            return value

        return checked_output(pulumi.Output.all(principal, account), role_name, path)

    def _grant_resource_name(self, label: str, access: AccessLevel, prefix: str) -> str:
        """``<bucket>-<label>-<access>[-<prefix slug>]`` (see :func:`platform_lib.core.grants.prefix_slug`)."""
        return f"{self.pulumi_resource_name}-{label}-{access.value}" + (f"-{prefix_slug(prefix)}" if prefix else "")

    def _register_grant(self, target: GrantTarget, access: AccessLevel, prefix: str, resource_name: str) -> tuple[list[pulumi.Resource], pulumi.Output[str]]:
        """An inline policy on the identity, or the grant's statements in the bucket policy."""
        if isinstance(target.principal, BucketPolicyPrincipal):
            return [], self._bucket_policy_grant(target.principal, access, prefix, resource_name)
        kind, identity = target.principal.kind, target.principal.name
        rendered = pulumi.Output.json_dumps(
            pulumi.Output.all(self.arn, self.kms_key_arn).apply(lambda arns: s3_grant_policy_document(arns[0], arns[1], access, prefix))
        )
        earlier = self._inline_documents.setdefault((kind, identity if isinstance(identity, str) else id(identity)), [])
        document = pulumi.Output.all(rendered, *earlier).apply(lambda texts: self._within_inline_policy_quota(texts, kind, resource_name))
        earlier.append(rendered)
        if kind == "user":
            policy: pulumi.Resource = aws.iam.UserPolicy(resource_name, user=identity, policy=document, opts=self.child_options())
        elif kind == "group":
            policy = aws.iam.GroupPolicy(resource_name, group=identity, policy=document, opts=self.child_options())
        else:
            policy = aws.iam.RolePolicy(resource_name, role=identity, policy=document, opts=self.child_options())
        return [policy], document

    def _within_inline_policy_quota(self, documents: list[str], kind: str, resource_name: str) -> str:
        """The first of ``documents`` (a grant's policy, then this bucket's earlier inline policies on
        the same identity) if IAM accepts them all on one ``kind`` (its quota counts the characters of
        all of an identity's inline policies together, without whitespace:
        :data:`~platform_lib.core.policy_documents.INLINE_POLICY_MAX_CHARACTERS`); else
        :class:`ComponentArgsError` at ``<Component>(<name>).grant``, raised when the documents are
        rendered (an ``apply``), before the policy is registered with it. Inline policies the
        identity has from elsewhere are not counted."""
        size, limit = sum(policy_size(document) for document in documents), INLINE_POLICY_MAX_CHARACTERS[kind]
        if size <= limit:
            return documents[0]
        subject = f"{type(self).__name__}({self.pulumi_resource_name}).grant"
        raise ComponentArgsError(
            f"invalid grant on {type(self).__name__}({self.pulumi_resource_name}): its inline policy is larger than IAM accepts",
            [Issue(subject, f"{resource_name}: {size} characters", f"inline {kind} policies of at most {limit:,} characters without whitespace, all of this bucket's grants to the {kind} together (IAM quota); grant shorter or fewer prefixes")],
        )

    def _bucket_policy_grant(self, principal: BucketPolicyPrincipal, access: AccessLevel, prefix: str, resource_name: str) -> pulumi.Output[str]:
        """Append the grant's statements to the bucket policy; return them as JSON."""
        sid = "Grant" + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", resource_name.removeprefix(self.pulumi_resource_name)) if part)
        account = aws.get_caller_identity_output(opts=self.invoke_options()).account_id if principal.source_account else None
        statements = pulumi.Output.all(self.arn, account).apply(
            lambda values: s3_grant_bucket_policy_statements(values[0], principal.principal, access, prefix, sid=sid, source_account=values[1])
        )
        self._policy_statements.append(statements)
        if self.kms_key is not None and "AWS" in principal.principal:
            self._key_policy_grant(self.kms_key, principal.principal, access, sid)
        return pulumi.Output.json_dumps(statements)

    def _explicit_key_policy(self, key: aws.kms.Key) -> aws.kms.KeyPolicy:
        """The dedicated key's explicit policy (``<name>-key-policy``): the account root statement,
        then one statement per grant to a role named by ARN (:meth:`_key_policy_grant`); like the
        bucket policy, the document is rendered after the program's body. A separate
        ``aws.kms.KeyPolicy`` rather than the key's ``policy`` because the grant statements read
        the key's region from its ARN."""
        document = key.arn.apply(lambda arn: pulumi.Output.all(*self._key_policy_statements).apply(lambda grants: kms_key_policy_document(arn, grants)))
        return aws.kms.KeyPolicy(f"{self.pulumi_resource_name}-key-policy", key_id=key.key_id, policy=pulumi.Output.json_dumps(document), opts=self.child_options())

    def _key_policy_grant(self, key: aws.kms.Key, principal: dict[str, str], access: AccessLevel, sid: str) -> None:
        """Let a role named by ARN use the dedicated key through S3: append its statement to the key policy."""
        self._key_policy_statements.append(key.arn.apply(lambda arn: kms_grant_key_policy_statement(arn, principal, access, sid=f"{sid}Key")))


class AccessLogBucketArgs(_BucketArgs):
    """Arguments of :class:`AccessLogBucket`.

    Attributes:
        tags: as for :class:`S3DataBucketArgs`.
        log_expiration_days: days after which log objects are deleted (1-3650, default 365).
        abort_incomplete_multipart_upload_days: as for :class:`S3DataBucketArgs` (default 7).
    """

    log_expiration_days: int = Field(default=365, ge=1, le=3650)
    abort_incomplete_multipart_upload_days: AbortIncompleteMultipartUploadDays = DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS


class AccessLogBucketArgsDict(TypedDict, total=False):
    """:class:`AccessLogBucketArgs` as keyword arguments."""

    tags: Mapping[str, pulumi.Input[str]]
    log_expiration_days: int
    abort_incomplete_multipart_upload_days: int


class AccessLogBucket(Component[AccessLogBucketArgs], type_token="mlplat:aws:AccessLogBucket"):
    """A private bucket that receives S3 server access logs from a stack's data buckets.

    It is encrypted with SSE-S3 (``AES256``), not SSE-KMS: S3 server access logging cannot deliver
    to a target bucket whose default encryption is SSE-KMS (source: Amazon S3 User Guide, "Enabling
    Amazon S3 server access logging": "the target bucket ... default encryption ... SSE-S3 is
    supported"). Otherwise it is a data bucket: all four public access block flags,
    ``BucketOwnerEnforced``, versioning, a deny-HTTP bucket policy; the policy also lets
    ``logging.s3.amazonaws.com`` write, for source buckets of this account only. Logs expire after
    ``log_expiration_days``.

    Args:
        name: the logical name (3-55 lowercase letters, digits, '-').
        args: an :class:`AccessLogBucketArgs` or a mapping of its fields, or keyword arguments.
        opts: resource options; they reach every child. The component protects nothing itself.

    Attributes (outputs):
        bucket_name: the log bucket's physical name (pass it as an S3DataBucket's ``access_log_bucket``).
        arn: its ARN.

    Raises:
        ComponentArgsError: an invalid argument, at ``AccessLogBucket(<name>).<field>``; nothing is registered.
    """

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[AccessLogBucketArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def name_issues(cls, name: str) -> list[Issue]:
        """The logical name names the physical bucket: 3-55 lowercase letters, digits and '-'."""
        return _bucket_name_issues(cls, name)

    def _create(self, name: str, args: AccessLogBucketArgs) -> dict[str, Any]:
        self.bucket = aws.s3.Bucket(name, tags=with_managed_by(args.tags), opts=self.child_options())
        self.public_access_block = block_public_access(f"{name}-public-access-block", self.bucket, self.child_options())
        self.ownership_controls = owner_enforced(f"{name}-ownership", self.bucket, self.child_options())
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self.child_options(),
        )
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"}, opts=self.child_options()
        )
        self.lifecycle = self._expire_logs(name, args)
        self.policy = self._log_delivery_policy(name)
        return {"bucket_name": self.bucket.bucket, "arn": self.bucket.arn}

    def _expire_logs(self, name: str, args: AccessLogBucketArgs) -> aws.s3.BucketLifecycleConfiguration:
        rule = {
            "id": "expire-logs",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "expiration": {"days": args.log_expiration_days},
            "noncurrent_version_expiration": {"noncurrent_days": 1},
            "abort_incomplete_multipart_upload": {"days_after_initiation": args.abort_incomplete_multipart_upload_days},
        }
        return aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id, rules=[rule], opts=self.child_options(depends_on=[self.versioning])
        )

    def _log_delivery_policy(self, name: str) -> aws.s3.BucketPolicy:
        account_id = aws.get_caller_identity_output(opts=self.invoke_options()).account_id
        return aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(pulumi.Output.all(self.bucket.arn, account_id).apply(lambda v: access_log_bucket_policy_document(v[0], v[1]))),
            opts=self.child_options(depends_on=[self.public_access_block]),
        )
