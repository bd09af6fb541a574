"""S3 bucket policies (source of the control ids: AWS Security Hub, "AWS Foundational Security
Best Practices controls for Amazon S3"; checkov's AWS policy index)."""

from __future__ import annotations

from ..catalogue import ADVISORY_IN_DEV, resource_policy, stack_policy
from ..helpers import allow_statements, as_list, get, is_public_principal, policy_document, statements

BUCKET = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
LIFECYCLE = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
             "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
BUCKET_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEE_URIS = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


@resource_policy(
    "s3-public-access-block-all-flags",
    description="An S3 public access block sets all four flags: blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets.",
    severity="critical",
    remediation="Set all four flags of the bucket's aws.s3.BucketPublicAccessBlock to true (DataBucket does this by default).",
    controls=("AWS FSBP S3.8", "CIS AWS 2.1.4", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
    types=PUBLIC_ACCESS_BLOCK,
    tags=("s3",),
)
def public_access_block_flags(resource, config):
    missing = [flag for flag in PUBLIC_ACCESS_FLAGS if get(resource.props, flag) is not True]
    if missing:
        yield f"public access block '{resource.name}' does not set {', '.join(missing)} to true"


@resource_policy(
    "s3-no-public-acl",
    description="An S3 bucket or bucket ACL grants nothing to everyone or to all authenticated AWS users.",
    severity="critical",
    remediation="Remove the public canned ACL (use 'private') and any grant to the AllUsers or AuthenticatedUsers groups.",
    controls=("AWS FSBP S3.2", "AWS FSBP S3.3", "CKV_AWS_20", "CKV_AWS_57"),
    types=BUCKET + ACL,
    tags=("s3",),
)
def no_public_acl(resource, config):
    acl = get(resource.props, "acl")
    if acl in PUBLIC_CANNED_ACLS:
        yield f"'{resource.name}' uses the public canned ACL '{acl}'"
    grants = as_list(get(resource.props, "accessControlPolicy", "grants")) + as_list(get(resource.props, "grants"))
    for grant in grants:
        uri = get(grant, "grantee", "uri") or get(grant, "uri")
        if uri in PUBLIC_GRANTEE_URIS:
            # BucketAcl grants carry one "permission"; the grants of a Bucket carry a "permissions" list.
            permissions = ", ".join(str(p) for p in as_list(get(grant, "permission") or get(grant, "permissions"))) or "access"
            yield f"'{resource.name}' grants {permissions} to {uri.rsplit('/', 1)[-1]}"


@resource_policy(
    "s3-no-public-principal",
    description="An S3 bucket policy has no Allow statement whose Principal is '*' (anyone).",
    severity="critical",
    remediation="Name the AWS principals (role ARNs) in the statement; use grant_read / grant_read_write instead of a hand-written policy.",
    controls=("AWS FSBP S3.2", "AWS FSBP S3.3", "CKV_AWS_70"),
    types=BUCKET_POLICY,
    tags=("s3",),
)
def no_public_principal(resource, config):
    for index, statement in enumerate(allow_statements(policy_document(get(resource.props, "policy")))):
        if is_public_principal(statement):
            yield f"bucket policy '{resource.name}' statement {get(statement, 'Sid', default=index)} allows Principal '*'"


def _denies_insecure_transport(statement) -> bool:
    """A Deny for everyone when ``aws:SecureTransport`` is false (the value may be a string, a bool or a one-item list)."""
    if get(statement, "Effect") != "Deny":
        return False
    values = [str(v).lower() for v in as_list(get(statement, "Condition", "Bool", "aws:SecureTransport"))]
    return values == ["false"] and is_public_principal(statement)


@resource_policy(
    "s3-tls-only-bucket-policy",
    description="An S3 bucket policy denies every request made without TLS (aws:SecureTransport false).",
    severity="high",
    remediation="Add a Deny statement for Principal '*', Action 's3:*', both the bucket and its objects, with Condition Bool aws:SecureTransport = false.",
    controls=("AWS FSBP S3.5", "CIS AWS 2.1.1"),
    types=BUCKET_POLICY,
    tags=("s3",),
)
def tls_only_policy(resource, config):
    document = policy_document(get(resource.props, "policy"))
    if not any(_denies_insecure_transport(s) for s in statements(document)):
        yield f"bucket policy '{resource.name}' has no Deny statement for aws:SecureTransport = false"


LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")


@stack_policy(
    "s3-sse-kms",
    description="S3 default encryption uses AWS KMS keys (aws:kms or aws:kms:dsse), except on server access log target buckets, which only support SSE-S3.",
    severity="high",
    remediation="Set rules[0].applyServerSideEncryptionByDefault.sseAlgorithm to 'aws:kms' with a customer managed key, and bucketKeyEnabled true.",
    controls=("AWS FSBP S3.17", "CKV_AWS_145"),
    levels=ADVISORY_IN_DEV,
    tags=("s3",),
)
def sse_kms(resources, config):
    # Server access logs can only be delivered to a bucket encrypted with SSE-S3 (source: Amazon S3
    # User Guide, "Enabling Amazon S3 server access logging": destination bucket encryption).
    log_targets = {str(get(r.props, "targetBucket")) for r in resources if r.type in LOGGING and get(r.props, "targetBucket")}
    for resource in (r for r in resources if r.type in ENCRYPTION):
        algorithms = [get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") for rule in as_list(get(resource.props, "rules"))]
        if any(a in ("aws:kms", "aws:kms:dsse") for a in algorithms):
            continue
        if str(get(resource.props, "bucket")) in log_targets and algorithms == ["AES256"]:
            continue
        found = ", ".join(str(a) for a in algorithms if a) or "none"
        yield f"encryption configuration '{resource.name}' uses {found}, not aws:kms", resource.urn


@resource_policy(
    "s3-versioning-enabled",
    description="S3 bucket versioning is Enabled.",
    severity="medium",
    remediation="Set versioningConfiguration.status to 'Enabled' on the bucket's aws.s3.BucketVersioning.",
    controls=("AWS FSBP S3.14", "CKV_AWS_21"),
    types=VERSIONING,
    levels=ADVISORY_IN_DEV,
    tags=("s3",),
)
def versioning_enabled(resource, config):
    status = get(resource.props, "versioningConfiguration", "status")
    if status != "Enabled":
        yield f"versioning '{resource.name}' has status {status or 'unset'}, not Enabled"


@resource_policy(
    "s3-lifecycle-rules",
    description="An S3 lifecycle configuration has an enabled rule and aborts incomplete multipart uploads.",
    severity="low",
    remediation="Add an Enabled rule with abortIncompleteMultipartUpload (e.g. 7 days) and noncurrentVersionExpiration.",
    controls=("AWS FSBP S3.13", "CKV2_AWS_61", "CKV_AWS_300"),
    types=LIFECYCLE,
    levels=ADVISORY_IN_DEV,
    tags=("s3",),
)
def lifecycle_rules(resource, config):
    rules = [r for r in as_list(get(resource.props, "rules")) if get(r, "status") == "Enabled"]
    if not rules:
        yield f"lifecycle configuration '{resource.name}' has no Enabled rule"
    elif not any(get(r, "abortIncompleteMultipartUpload", "daysAfterInitiation") for r in rules):
        yield f"lifecycle configuration '{resource.name}' does not abort incomplete multipart uploads"


@resource_policy(
    "s3-no-force-destroy-in-prod",
    description="In prod, an S3 bucket does not set forceDestroy (deleting it would delete every object).",
    severity="high",
    remediation="Remove forceDestroy from prod buckets; empty a bucket deliberately before deleting it.",
    controls=("AWS Well-Architected REL09-BP01",),
    types=BUCKET,
    config={"environment": {"type": "string", "enum": ["dev", "staging", "prod"], "default": "prod"}},
    tags=("s3",),
)
def no_force_destroy_in_prod(resource, config):
    if config.get("environment") == "prod" and get(resource.props, "forceDestroy") is True:
        yield f"bucket '{resource.name}' sets forceDestroy in prod"
