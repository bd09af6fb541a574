"""S3DataBucket and AccessLogBucket: registered inputs, options, grants (every principal kind) and argument errors."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from platform_lib.aws.data_bucket import AccessLogBucket, S3DataBucket
from platform_lib.aws.principals import ServicePrincipal
from platform_lib.core.policy_documents import s3_grant_policy_document
from platform_lib.core.errors import ComponentArgsError
from platform_lib.core.grants import AccessLevel
from platform_lib.preview import PreviewError, run_preview

from .conftest import REPO_ROOT

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
DEV_TAGS = {**TAGS, "environment": "dev"}
STATEFUL = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET_ARN = "arn:aws:s3:::features-abc1234"


def preview(program):
    plan, _ = run_preview(REPO_ROOT, "dev", program=program)
    return plan


def one(plan, type_token, name=None):
    found = [r for r in plan.by_type(type_token) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def preview_error(program) -> BaseException:
    with pytest.raises(PreviewError) as caught:
        preview(program)
    return caught.value


@pytest.fixture(scope="module")
def prod_plan():
    def program():
        logs = AccessLogBucket("logs", tags=TAGS, opts=STATEFUL)
        bucket = S3DataBucket("features", tags=TAGS, access_log_bucket=logs.bucket_name, noncurrent_version_expiration_days=30, abort_incomplete_multipart_upload_days=3, opts=STATEFUL)
        role = aws.iam.Role("trainer", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
        bucket.grant_read(role, prefix="daily")
        bucket.grant_read_write("pipeline-role")

    return preview(program)


def test_every_public_access_block_flag_is_on(prod_plan):
    block = one(prod_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "features-public-access-block")
    bucket = one(prod_plan, "aws:s3/bucket:Bucket", "features")
    assert block.inputs["bucket"] == bucket.id
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block.inputs[flag] is True, flag


def test_acls_are_disabled_by_owner_enforced(prod_plan):
    ownership = one(prod_plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "features-ownership")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_encryption_uses_the_dedicated_rotating_kms_key_with_bucket_key(prod_plan):
    key = one(prod_plan, "aws:kms/key:Key", "features-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    encryption = one(prod_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "features-encryption")
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]}
    assert key.outputs["arn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert rule["bucketKeyEnabled"] is True


def test_versioning_and_lifecycle_days(prod_plan):
    versioning = one(prod_plan, "aws:s3/bucketVersioning:BucketVersioning", "features-versioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    lifecycle = one(prod_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "features-lifecycle")
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 3}
    assert all(rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""} for rule in rules.values())
    assert versioning.urn in lifecycle.options.depends_on


def test_bucket_policy_denies_requests_without_tls(prod_plan):
    bucket = one(prod_plan, "aws:s3/bucket:Bucket", "features")
    policy = one(prod_plan, "aws:s3/bucketPolicy:BucketPolicy", "features-policy")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    arn = bucket.outputs["arn"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Resource"] == [arn, f"{arn}/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_standard_tags_on_bucket_and_key(prod_plan):
    expected = {**TAGS, "environment": "prod", "managed-by": "pulumi"}
    assert one(prod_plan, "aws:s3/bucket:Bucket", "features").inputs["tags"] == expected
    assert one(prod_plan, "aws:kms/key:Key", "features-key").inputs["tags"] == expected


def test_the_callers_protect_and_retain_reach_every_child_and_grant(prod_plan):
    component = one(prod_plan, "mlplat:aws:DataBucket", "features")
    children = prod_plan.children_of(component.urn)
    assert len(children) == 12  # key, key policy, bucket, block, ownership, encryption, versioning, lifecycle, policy, logging, 2 grants
    assert all(r.options.protect and r.options.retain_on_delete for r in children), [r.name for r in children]
    assert not one(prod_plan, "aws:s3/bucket:Bucket", "features").inputs.get("forceDestroy")


def test_the_component_protects_nothing_by_itself():
    plan = preview(lambda: S3DataBucket("features", tags=TAGS).grant_read("reader"))
    children = plan.children_of(one(plan, "mlplat:aws:DataBucket", "features").urn)
    assert len(children) == 10
    assert not any(r.options.protect or r.options.retain_on_delete for r in children)


def test_access_logging_targets_the_log_bucket(prod_plan):
    logs = one(prod_plan, "aws:s3/bucket:Bucket", "logs")
    logging = one(prod_plan, "aws:s3/bucketLogging:BucketLogging", "features-access-logging")
    assert logging.inputs["targetBucket"] == logs.outputs["bucket"]
    assert logging.inputs["targetPrefix"] == "s3-access-logs/features/"


def test_log_bucket_is_private_sse_s3_and_lets_only_log_delivery_write(prod_plan):
    encryption = one(prod_plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "logs-encryption")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    block = one(prod_plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "logs-public-access-block")
    assert all(block.inputs[f] for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    statements = {s["Sid"]: s for s in json.loads(one(prod_plan, "aws:s3/bucketPolicy:BucketPolicy", "logs-policy").inputs["policy"])["Statement"]}
    delivery = statements["S3ServerAccessLogsDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"


def _grant_document(plan, name):
    return json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])


def test_read_grant_with_prefix_is_scoped_to_the_prefix_and_key(prod_plan):
    bucket_arn = one(prod_plan, "aws:s3/bucket:Bucket", "features").outputs["arn"]
    key_arn = one(prod_plan, "aws:kms/key:Key", "features-key").outputs["arn"]
    policy = one(prod_plan, "aws:iam/rolePolicy:RolePolicy", "features-trainer-read-daily")
    role = one(prod_plan, "aws:iam/role:Role", "trainer")
    assert policy.inputs["role"] == role.outputs["name"]
    assert policy.parent == one(prod_plan, "mlplat:aws:DataBucket", "features").urn
    statements = {s["Sid"]: s for s in _grant_document(prod_plan, "features-trainer-read-daily")["Statement"]}
    assert statements["ListObjects"] == {
        "Sid": "ListObjects", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn,
        "Condition": {"StringLike": {"s3:prefix": ["daily/", "daily/*"]}},
    }
    assert statements["ReadObjects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statements["ReadObjects"]["Resource"] == f"{bucket_arn}/daily/*"
    assert statements["UseBucketKey"]["Action"] == ["kms:Decrypt"]
    assert statements["UseBucketKey"]["Resource"] == key_arn
    assert "ReadWriteObjects" not in statements


def test_read_write_grant_on_whole_bucket(prod_plan):
    bucket_arn = one(prod_plan, "aws:s3/bucket:Bucket", "features").outputs["arn"]
    policy = one(prod_plan, "aws:iam/rolePolicy:RolePolicy", "features-pipeline-role-read-write")
    assert policy.inputs["role"] == "pipeline-role"
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert "Condition" not in statements["ListObjects"]
    assert set(statements["ReadWriteObjects"]["Action"]) == {
        "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    }
    assert statements["ReadWriteObjects"]["Resource"] == f"{bucket_arn}/*"
    # S3 never calls kms:Encrypt; the key is usable only through S3 (issue 10).
    assert set(statements["UseBucketKey"]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert statements["UseBucketKey"]["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{statements['UseBucketKey']['Resource'].split(':')[3]}.amazonaws.com"}}


@pytest.mark.parametrize("access", ["read", "read-write"])
@pytest.mark.parametrize("prefix", ["", "teams/fraud/"])
def test_grant_documents_never_use_wildcard_actions_or_resources(access, prefix):
    document = s3_grant_policy_document(BUCKET_ARN, KEY_ARN, access, prefix)
    assert document["Version"] == "2012-10-17"
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), actions
        resource = statement["Resource"]
        assert resource != "*"
        assert resource in (BUCKET_ARN, KEY_ARN) or resource == f"{BUCKET_ARN}/{prefix}*"


def test_grant_document_rejects_wildcard_prefix_and_unknown_access():
    with pytest.raises(ValueError):
        s3_grant_policy_document(BUCKET_ARN, KEY_ARN, AccessLevel.READ, "raw/*")
    with pytest.raises(ValueError):
        s3_grant_policy_document(BUCKET_ARN, KEY_ARN, "admin", "")


def test_grant_returns_grant_record():
    seen = {}

    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        seen["grant"] = bucket.grant_read("reader-role", prefix="raw")

    preview(program)
    grant = seen["grant"]
    assert (grant.bucket, grant.principal, grant.access, grant.prefix) == ("features", "reader-role", AccessLevel.READ, "raw/")
    assert len(grant.resources) == 1 and isinstance(grant.resources[0], aws.iam.RolePolicy)


def test_force_destroy_is_an_explicit_opt_in():
    def program():
        S3DataBucket("scratch", tags=DEV_TAGS, force_destroy=True)

    plan = preview(program)
    bucket = one(plan, "aws:s3/bucket:Bucket", "scratch")
    assert bucket.inputs["forceDestroy"] is True
    assert not bucket.options.protect and not bucket.options.retain_on_delete
    assert not plan.by_type("aws:s3/bucketLogging:BucketLogging")


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"tags": {"team": "fraud", "cost-center": "cc-4100"}}, "S3DataBucket(features).tags"),
        ({"tags": TAGS, "environment": "prod"}, "S3DataBucket(features).environment"),
        ({"tags": TAGS, "protect": True}, "S3DataBucket(features).protect"),
        ({"tags": TAGS, "noncurrent_version_expiration_days": 0}, "S3DataBucket(features).noncurrent_version_expiration_days"),
        ({"tags": TAGS, "kms_key_deletion_window_days": 3}, "S3DataBucket(features).kms_key_deletion_window_days"),
        ({"tags": TAGS, "kms_key_arn": "alias/data"}, "S3DataBucket(features).kms_key_arn"),
        ({"tags": TAGS, "access_log_bucket": "Not_A_Bucket"}, "S3DataBucket(features).access_log_bucket"),
        ({"tags": TAGS, "access_log_bucket": "logs-bucket", "access_log_prefix": "logs/*"}, "S3DataBucket(features).access_log_prefix"),
        ({"tags": TAGS, "access_log_prefix": "logs/"}, "S3DataBucket(features)"),
        ({"tags": TAGS, "public": True}, "S3DataBucket(features).public"),
    ],
)
def test_bad_arguments_raise_before_anything_is_registered(kwargs, path):
    error = preview_error(lambda: S3DataBucket("features", **kwargs))
    cause = error.__cause__
    assert isinstance(cause, ComponentArgsError)
    (issue,) = [issue for issue in cause.issues if issue.path == path] or [None]
    assert issue is not None, [str(i) for i in cause.issues]
    field = path.removeprefix("S3DataBucket(features)").lstrip(".")
    if field in kwargs:  # a field's own problem names the value given for it
        assert issue.value == kwargs[field]
    assert issue.expected
    assert [r.type for r in error.plan.resources] == ["pulumi:pulumi:Stack"]


def test_bad_logical_name_is_refused():
    error = preview_error(lambda: S3DataBucket("Features_Bucket", tags=DEV_TAGS))
    assert isinstance(error.__cause__, ComponentArgsError)
    assert (error.__cause__.issues[0].path, error.__cause__.issues[0].value) == ("S3DataBucket(Features_Bucket).name", "Features_Bucket")
    assert "lowercase" in error.__cause__.issues[0].expected
    assert len(error.plan.resources) == 1


@pytest.mark.parametrize(
    ("call", "path", "value"),
    [
        (lambda b: b.grant_read("reader", prefix="raw/*"), "S3DataBucket(features).grant.prefix", "raw/*"),
        (lambda b: b.grant_read("reader", prefix="/raw"), "S3DataBucket(features).grant.prefix", "/raw"),
        (lambda b: b.grant_read_write("reader", prefix="a/../b"), "S3DataBucket(features).grant.prefix", "a/../b"),
        (lambda b: b.grant_read(42), "S3DataBucket(features).grant.principal", 42),
        (lambda b: b.grant(" reader", "admin"), "S3DataBucket(features).grant.access", "admin"),
    ],
)
def test_bad_grants_raise_and_register_no_policy(call, path, value):
    def program():
        call(S3DataBucket("features", tags=DEV_TAGS))

    error = preview_error(program)
    assert isinstance(error.__cause__, ComponentArgsError)
    matching = [issue for issue in error.__cause__.issues if issue.path == path]
    assert [issue.value for issue in matching] == [value], [str(i) for i in error.__cause__.issues]
    assert matching[0].expected
    assert not error.plan.by_type("aws:iam/rolePolicy:RolePolicy")


def test_the_same_grant_twice_is_refused():
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        bucket.grant_read("reader", prefix="raw")
        bucket.grant_read("reader", prefix="raw/")

    error = preview_error(program)
    assert isinstance(error.__cause__, ComponentArgsError)
    assert [(issue.path, issue.value, issue.expected) for issue in error.__cause__.issues] == [
        ("S3DataBucket(features).grant", "reader read raw/", "each grant once per bucket")
    ]
    assert len(error.plan.by_type("aws:iam/rolePolicy:RolePolicy")) == 1


def test_prefixes_whose_names_would_collide_are_different_grants():
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        bucket.grant_read("reader", prefix="a.b/")
        bucket.grant_read("reader", prefix="a-b/")
        bucket.grant_read("reader", prefix="daily/raw/")

    plan = preview(program)
    policies = plan.by_type("aws:iam/rolePolicy:RolePolicy")
    names = [policy.name for policy in policies]
    assert len(set(names)) == 3
    assert "features-reader-read-daily-raw" in names  # a lossless slug keeps the readable name
    bucket_arn = plan.by_type("aws:s3/bucket:Bucket")[0].outputs["arn"]
    object_resources = {json.loads(policy.inputs["policy"])["Statement"][2]["Resource"] for policy in policies}
    assert object_resources == {f"{bucket_arn}/a.b/*", f"{bucket_arn}/a-b/*", f"{bucket_arn}/daily/raw/*"}


@pytest.mark.parametrize("access", ["read", "read-write"])
@pytest.mark.parametrize("prefix", ["", "features/daily/"])
def test_grant_documents_pass_the_iam_policy_validator_of_moto(access, prefix):
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_role(RoleName="trainer", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        document = json.dumps(s3_grant_policy_document(BUCKET_ARN, KEY_ARN, access, prefix))
        iam.put_role_policy(RoleName="trainer", PolicyName="grant", PolicyDocument=document)
        assert json.loads(json.dumps(iam.get_role_policy(RoleName="trainer", PolicyName="grant")["PolicyDocument"])) == json.loads(document)
        # The validator is real: a malformed statement is refused.
        broken = json.loads(document)
        broken["Statement"][0]["Effect"] = "Permit"
        with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
            iam.put_role_policy(RoleName="trainer", PolicyName="broken", PolicyDocument=json.dumps(broken))


def test_name_and_argument_problems_are_reported_together():
    error = preview_error(lambda: S3DataBucket("Bad_Name", tags=TAGS, abort_incomplete_multipart_upload_days=0))
    paths = sorted(issue.path for issue in error.__cause__.issues)
    assert paths == ["S3DataBucket(Bad_Name).abort_incomplete_multipart_upload_days", "S3DataBucket(Bad_Name).name"]


# --- principals: users, groups, role ARNs, other accounts, service principals -----------------

OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/partners/reader"


@pytest.fixture(scope="module")
def principals_plan():
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        bucket.grant_read(aws.iam.User("alice"), prefix="raw")
        bucket.grant_read_write(aws.iam.Group("analysts", name="ml-analysts"), prefix="scratch")
        bucket.grant_read("arn:aws:iam::123456789012:role/ml/etl")
        bucket.grant_read(OTHER_ACCOUNT_ROLE, prefix="shared")
        bucket.grant_read_write(ServicePrincipal("logging.s3.amazonaws.com"), prefix="exports")

    return preview(program)


def test_users_and_groups_get_inline_policies_on_themselves(principals_plan):
    user_policy = one(principals_plan, "aws:iam/userPolicy:UserPolicy", "features-alice-read-raw")
    assert user_policy.inputs["user"] == one(principals_plan, "aws:iam/user:User", "alice").outputs["name"]
    group_policy = one(principals_plan, "aws:iam/groupPolicy:GroupPolicy", "features-analysts-read-write-scratch")
    assert group_policy.inputs["group"] == "ml-analysts"
    bucket_arn = one(principals_plan, "aws:s3/bucket:Bucket", "features").outputs["arn"]
    statements = {s["Sid"]: s for s in json.loads(group_policy.inputs["policy"])["Statement"]}
    assert statements["ReadWriteObjects"]["Resource"] == f"{bucket_arn}/scratch/*"


def test_a_role_arn_of_this_account_is_granted_in_the_bucket_policy_too(principals_plan):
    """No synchronous account lookup: a role ARN is always a resource-based grant (enough within
    the bucket's account), so a later grant never finds the bucket policy already rendered."""
    statements = _bucket_policy_statements(principals_plan)
    etl = statements["Grant123456789012EtlReadObjects"]
    assert etl["Principal"] == {"AWS": "arn:aws:iam::123456789012:role/ml/etl"}
    assert principals_plan.by_type("aws:iam/rolePolicy:RolePolicy") == []


def _bucket_policy_statements(plan):
    return {s["Sid"]: s for s in json.loads(one(plan, "aws:s3/bucketPolicy:BucketPolicy", "features-policy").inputs["policy"])["Statement"]}


def test_one_bucket_policy_holds_tls_denial_and_every_bucket_policy_grant(principals_plan):
    assert len(principals_plan.by_type("aws:s3/bucketPolicy:BucketPolicy")) == 1
    bucket_arn = one(principals_plan, "aws:s3/bucket:Bucket", "features").outputs["arn"]
    statements = _bucket_policy_statements(principals_plan)
    assert sorted(statements) == sorted(
        ["DenyInsecureTransport"]
        + [f"Grant123456789012EtlRead{s}" for s in ("List", "Location", "Objects")]
        + [f"Grant210987654321ReaderReadShared{s}" for s in ("List", "Location", "Objects")]
        + [f"GrantLoggingS3ReadWriteExports{s}" for s in ("List", "Location", "Objects")]
    )
    cross = statements["Grant210987654321ReaderReadSharedObjects"]
    assert cross["Principal"] == {"AWS": OTHER_ACCOUNT_ROLE}
    assert cross["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert cross["Resource"] == f"{bucket_arn}/shared/*"
    assert statements["Grant210987654321ReaderReadSharedList"]["Condition"] == {"StringLike": {"s3:prefix": ["shared/", "shared/*"]}}
    service = statements["GrantLoggingS3ReadWriteExportsObjects"]
    assert service["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert service["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert "s3:PutObject" in service["Action"]
    # No identity policy is made for what the bucket policy grants.
    assert principals_plan.by_type("aws:iam/rolePolicy:RolePolicy") == []


def test_a_bucket_policy_grant_made_after_the_policy_was_rendered_is_refused():
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        bucket.arn.apply(lambda _: bucket.grant_read(OTHER_ACCOUNT_ROLE))

    error = preview_error(program)
    assert isinstance(error.__cause__, ComponentArgsError)
    assert [issue.path for issue in error.__cause__.issues] == ["S3DataBucket(features).grant"]
    assert "before the bucket policy was rendered" in error.__cause__.issues[0].expected


def test_repeated_bucket_policy_grants_are_refused():
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        bucket.grant_read(OTHER_ACCOUNT_ROLE)
        bucket.grant_read(OTHER_ACCOUNT_ROLE)

    error = preview_error(program)
    assert [(i.path, i.expected) for i in error.__cause__.issues] == [("S3DataBucket(features).grant", "each grant once per bucket")]


@pytest.mark.parametrize("principal", ["arn:aws:iam::123456789012:user/alice", "arn:aws:iam::12345:role/x", "not a role!"])
def test_malformed_principal_strings_are_refused(principal):
    error = preview_error(lambda: S3DataBucket("features", tags=DEV_TAGS).grant_read(principal))
    assert [(i.path, i.value) for i in error.__cause__.issues] == [("S3DataBucket(features).grant.principal", principal)]


def test_service_principal_names_are_checked():
    with pytest.raises(ValueError, match="logging.s3.amazonaws.com"):
        ServicePrincipal("logging")


# --- Inputs: Outputs for identifiers, checked when they arrive -------------------------------


def test_outputs_are_accepted_for_tags_log_bucket_key_and_role():
    def program():
        key = aws.kms.Key("shared-key")
        logs = AccessLogBucket("logs", tags=DEV_TAGS)
        team = pulumi.Output.from_input("fraud")
        bucket = S3DataBucket("features", tags={**DEV_TAGS, "team": team}, access_log_bucket=logs.bucket_name, kms_key_arn=key.arn)
        role = aws.iam.Role("trainer", assume_role_policy="{}")
        bucket.grant_read(role.arn, name="trainer")

    plan = preview(program)
    key_arn = one(plan, "aws:kms/key:Key", "shared-key").outputs["arn"]
    assert [k.name for k in plan.by_type("aws:kms/key:Key")] == ["shared-key"], "no dedicated key with kms_key_arn"
    encryption = one(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "features-encryption")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == key_arn
    assert one(plan, "aws:s3/bucket:Bucket", "features").inputs["tags"]["team"] == "fraud"
    policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "features-trainer-read")
    assert policy.inputs["role"] == one(plan, "aws:iam/role:Role", "trainer").outputs["name"]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    assert statements["UseBucketKey"]["Resource"] == key_arn, "grants name the key the caller brought"


RESERVED = "not starting with xn--, sthree-, amzn-s3-demo- nor ending with -s3alias, --ol-s3, .mrap, --x-s3, --table-s3 (reserved by S3)"


@pytest.mark.parametrize("component", [S3DataBucket, AccessLogBucket])
@pytest.mark.parametrize("name", ["xn--features", "sthree-features", "amzn-s3-demo-features", "features-s3alias", "features--ol-s3", "features--x-s3", "features--table-s3"])
def test_a_logical_name_with_a_prefix_or_suffix_s3_reserves_is_refused(component, name):
    with pytest.raises(ComponentArgsError) as raised:
        component.validate_args(name, tags=DEV_TAGS)
    assert [(i.path, i.value, i.expected) for i in raised.value.issues] == [
        (f"{component.__name__}({name}).name", name, f"a name {RESERVED}: the bucket's physical name is derived from it")
    ]


@pytest.mark.parametrize("log_bucket", ["xn--logs", "logs-s3alias", "logs..archive", "192.168.5.4", "amzn-s3-demo-logs", "logs.mrap"])
def test_an_access_log_bucket_name_s3_would_refuse_is_refused(log_bucket):
    with pytest.raises(ComponentArgsError) as raised:
        S3DataBucket.validate_args("features", tags=DEV_TAGS, access_log_bucket=log_bucket)
    (issue,) = raised.value.issues
    assert (issue.path, issue.value) == ("S3DataBucket(features).access_log_bucket", log_bucket)
    assert issue.expected == f"an S3 bucket name (3-63 lowercase letters, digits, '.' and '-', alphanumeric at both ends, no '..', not an IP address, {RESERVED})"
    assert S3DataBucket.validate_args("features", tags=DEV_TAGS, access_log_bucket="ml-logs.archive").access_log_bucket == "ml-logs.archive"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kms_key_arn": pulumi.Output.from_input("alias/data")}, "kms_key_arn"),
        ({"access_log_bucket": pulumi.Output.from_input("Bad_Bucket")}, "access_log_bucket"),
    ],
)
def test_a_bad_output_value_fails_when_known_naming_the_field(kwargs, field):
    error = preview_error(lambda: S3DataBucket("features", tags=DEV_TAGS, **{k: pulumi.Output.from_input(v) for k, v in kwargs.items()}))
    assert isinstance(error.__cause__, ComponentArgsError)
    assert [issue.path for issue in error.__cause__.issues] == [f"S3DataBucket(features).{field}"]


def test_an_output_role_arn_of_another_account_fails_when_known():
    error = preview_error(lambda: S3DataBucket("features", tags=DEV_TAGS).grant_read(pulumi.Output.from_input(OTHER_ACCOUNT_ROLE), name="partner"))
    assert isinstance(error.__cause__, ComponentArgsError)
    (issue,) = error.__cause__.issues
    assert issue.path == "S3DataBucket(features).grant.principal"
    assert "own account" in issue.expected and OTHER_ACCOUNT_ROLE not in str(error.__cause__)


def test_an_output_principal_needs_a_name():
    error = preview_error(lambda: S3DataBucket("features", tags=DEV_TAGS).grant_read(pulumi.Output.from_input("etl")))
    assert [issue.path for issue in error.__cause__.issues] == ["S3DataBucket(features).grant.name"]


# --- the KMS side of grants to another account --------------------------------------------------


def test_a_grant_to_another_account_lets_it_use_the_dedicated_key_through_s3_only(principals_plan):
    (key_policy,) = principals_plan.by_type("aws:kms/keyPolicy:KeyPolicy")
    key = one(principals_plan, "aws:kms/key:Key", "features-key")
    assert key_policy.name == "features-key-policy"
    assert key_policy.parent == one(principals_plan, "mlplat:aws:DataBucket", "features").urn
    assert key_policy.inputs["keyId"] == key.outputs["keyId"]
    statements = json.loads(key_policy.inputs["policy"])["Statement"]
    # The default key policy's root statement stays first: IAM keeps deciding for this account.
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"} and statements[0]["Action"] == "kms:*"
    # The roles granted by ARN are added, in grant order (not the service principal).
    assert [s["Principal"] for s in statements[1:]] == [{"AWS": "arn:aws:iam::123456789012:role/ml/etl"}, {"AWS": OTHER_ACCOUNT_ROLE}]
    assert statements[2]["Action"] == ["kms:Decrypt"]
    assert statements[2]["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{key.outputs['arn'].split(':')[3]}.amazonaws.com"}}


def test_one_key_policy_for_several_grants_to_other_accounts_and_write_adds_generate_data_key():
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        bucket.grant_read(OTHER_ACCOUNT_ROLE, prefix="shared")
        bucket.grant_read_write("arn:aws:iam::345678901234:role/writer", prefix="inbox")

    plan = preview(program)
    region = one(plan, "aws:kms/key:Key", "features-key").outputs["arn"].split(":")[3]
    (key_policy,) = plan.by_type("aws:kms/keyPolicy:KeyPolicy")
    statements = {s["Principal"]["AWS"]: s for s in json.loads(key_policy.inputs["policy"])["Statement"][1:]}
    assert statements[OTHER_ACCOUNT_ROLE]["Action"] == ["kms:Decrypt"]
    writer = statements["arn:aws:iam::345678901234:role/writer"]
    assert writer["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert writer["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def test_the_dedicated_key_always_has_an_explicit_policy_and_the_callers_key_none():
    def program():
        own = S3DataBucket("features", tags=DEV_TAGS)
        own.grant_read("etl")  # a role name: an inline policy on the role, which covers the key
        own.grant_read(ServicePrincipal("logging.s3.amazonaws.com"))
        byo = S3DataBucket("models", tags=DEV_TAGS, kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
        byo.grant_read(OTHER_ACCOUNT_ROLE)  # the key's owner must allow it: documented, not done here

    plan = preview(program)
    (key_policy,) = plan.by_type("aws:kms/keyPolicy:KeyPolicy")
    assert key_policy.name == "features-key-policy"
    # Only the account root statement: the role named and the service principal need nothing in it.
    assert [s["Sid"] for s in json.loads(key_policy.inputs["policy"])["Statement"]] == ["EnableIamUserPermissions"]


@pytest.mark.parametrize(("identity", "kind", "limit", "grants"), [(aws.iam.User, "user", 2_048, 1), (aws.iam.Group, "group", 5_120, 1), (aws.iam.Role, "role", 10_240, 2)])
def test_inline_policies_larger_than_iam_accepts_are_refused(identity, kind, limit, grants):
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        principal = identity("alice", **({"assume_role_policy": "{}"} if identity is aws.iam.Role else {}))
        bucket.grant_read(principal, prefix="raw")  # a short one fits
        for index in range(grants):  # each about 3,800 characters
            bucket.grant_read_write(principal, prefix=f"{index}" + "p" * 1000)
        bucket.grant_read_write(principal, prefix="q" * 1000)

    error = preview_error(program)
    assert isinstance(error.__cause__, ComponentArgsError), error.__cause__
    (issue,) = error.__cause__.issues
    assert issue.path == "S3DataBucket(features).grant"
    assert issue.value.startswith("features-alice-read-write-")
    assert int(issue.value.split(": ")[1].removesuffix(" characters")) > limit
    assert issue.expected.startswith(f"inline {kind} policies of at most {limit:,} characters without whitespace")


def test_inline_policies_within_the_quota_are_registered():
    def program():
        bucket = S3DataBucket("features", tags=DEV_TAGS)
        bucket.grant_read_write(aws.iam.Role("alice", assume_role_policy="{}"), prefix="q" * 1000)
        bucket.grant_read_write(aws.iam.User("bob"), prefix="raw")

    policies = [r for r in preview(program).resources if r.type in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy")]
    assert sorted(p.name.split("-read-write")[0] for p in policies) == ["features-alice", "features-bob"]


def test_policy_size_counts_characters_without_whitespace():
    from platform_lib.core.policy_documents import policy_size

    assert policy_size('{ "Version": "2012-10-17",\n  "Statement": [] }') == len('{"Version":"2012-10-17","Statement":[]}')
