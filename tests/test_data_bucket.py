"""DataBucket and AccessLogBucket: registered inputs, options, grants and argument errors."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from platform_lib.aws.data_bucket import AccessLogBucket, DataBucket
from platform_lib.core.policy_documents import s3_grant_policy_document
from platform_lib.core.errors import ComponentArgsError
from platform_lib.core.grants import AccessLevel
from platform_lib.preview import PreviewError, run_preview

from .conftest import REPO_ROOT

TAGS = {"team": "fraud", "cost-center": "cc-4100"}
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
        logs = AccessLogBucket("logs", environment="prod", tags=TAGS)
        bucket = DataBucket("features", environment="prod", tags=TAGS, access_log_bucket=logs.bucket_name, noncurrent_version_expiration_days=30, abort_incomplete_multipart_upload_days=3)
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


def test_prod_protects_and_retains_the_bucket_and_its_settings_but_not_grants(prod_plan):
    component = one(prod_plan, "mlplat:aws:DataBucket", "features")
    children = prod_plan.children_of(component.urn)
    stateful = [r for r in children if r.type != "aws:iam/rolePolicy:RolePolicy"]
    assert len(stateful) == 9  # key, bucket, block, ownership, encryption, versioning, lifecycle, policy, logging
    assert all(r.options.protect and r.options.retain_on_delete for r in stateful), [r.name for r in stateful]
    grants = [r for r in children if r.type == "aws:iam/rolePolicy:RolePolicy"]
    assert len(grants) == 2
    assert not any(r.options.protect for r in grants)
    assert not one(prod_plan, "aws:s3/bucket:Bucket", "features").inputs.get("forceDestroy")


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
    assert set(statements["UseBucketKey"]["Action"]) == {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}


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
        bucket = DataBucket("features", environment="dev", tags=TAGS)
        seen["grant"] = bucket.grant_read("reader-role", prefix="raw")

    preview(program)
    grant = seen["grant"]
    assert (grant.bucket, grant.principal, grant.access, grant.prefix) == ("features", "reader-role", AccessLevel.READ, "raw/")
    assert len(grant.resources) == 1 and isinstance(grant.resources[0], aws.iam.RolePolicy)


def test_dev_defaults_are_not_protected_and_force_destroy_is_allowed():
    def program():
        DataBucket("scratch", environment="dev", tags=TAGS, force_destroy=True)

    plan = preview(program)
    bucket = one(plan, "aws:s3/bucket:Bucket", "scratch")
    assert bucket.inputs["forceDestroy"] is True
    assert not bucket.options.protect and not bucket.options.retain_on_delete
    assert not plan.by_type("aws:s3/bucketLogging:BucketLogging")


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"environment": "prod", "tags": TAGS, "force_destroy": True}, "DataBucket(features)"),
        ({"environment": "dev", "tags": {"team": "fraud"}}, "DataBucket(features).tags"),
        ({"environment": "qa", "tags": TAGS}, "DataBucket(features).environment"),
        ({"environment": "dev", "tags": TAGS, "noncurrent_version_expiration_days": 0}, "DataBucket(features).noncurrent_version_expiration_days"),
        ({"environment": "dev", "tags": TAGS, "kms_key_deletion_window_days": 3}, "DataBucket(features).kms_key_deletion_window_days"),
        ({"environment": "dev", "tags": TAGS, "access_log_bucket": "Not_A_Bucket"}, "DataBucket(features).access_log_bucket"),
        ({"environment": "dev", "tags": TAGS, "access_log_bucket": "logs-bucket", "access_log_prefix": "logs/*"}, "DataBucket(features).access_log_prefix"),
        ({"environment": "dev", "tags": {**TAGS, "environment": "prod"}}, "DataBucket(features)"),
        ({"environment": "dev", "tags": TAGS, "public": True}, "DataBucket(features).public"),
    ],
)
def test_bad_arguments_raise_before_anything_is_registered(kwargs, path):
    error = preview_error(lambda: DataBucket("features", **kwargs))
    cause = error.__cause__
    assert isinstance(cause, ComponentArgsError)
    (issue,) = [issue for issue in cause.issues if issue.path == path] or [None]
    assert issue is not None, [str(i) for i in cause.issues]
    field = path.removeprefix("DataBucket(features)").lstrip(".")
    if field:  # a field's own problem names the value given for it
        assert issue.value == kwargs[field]
    assert issue.expected
    assert [r.type for r in error.plan.resources] == ["pulumi:pulumi:Stack"]


def test_force_destroy_in_prod_error_says_why():
    cause = preview_error(lambda: DataBucket("features", environment="prod", tags=TAGS, force_destroy=True)).__cause__
    assert "force_destroy" in str(cause) and "prod" in str(cause)


def test_bad_logical_name_is_refused():
    error = preview_error(lambda: DataBucket("Features_Bucket", environment="dev", tags=TAGS))
    assert isinstance(error.__cause__, ComponentArgsError)
    assert (error.__cause__.issues[0].path, error.__cause__.issues[0].value) == ("DataBucket(Features_Bucket).name", "Features_Bucket")
    assert "lowercase" in error.__cause__.issues[0].expected
    assert len(error.plan.resources) == 1


@pytest.mark.parametrize(
    ("call", "path", "value"),
    [
        (lambda b: b.grant_read("reader", prefix="raw/*"), "DataBucket(features).grant.prefix", "raw/*"),
        (lambda b: b.grant_read("reader", prefix="/raw"), "DataBucket(features).grant.prefix", "/raw"),
        (lambda b: b.grant_read_write("reader", prefix="a/../b"), "DataBucket(features).grant.prefix", "a/../b"),
        (lambda b: b.grant_read(42), "DataBucket(features).grant.principal", 42),
        (lambda b: b.grant(" reader", "admin"), "DataBucket(features).grant.access", "admin"),
    ],
)
def test_bad_grants_raise_and_register_no_policy(call, path, value):
    def program():
        call(DataBucket("features", environment="dev", tags=TAGS))

    error = preview_error(program)
    assert isinstance(error.__cause__, ComponentArgsError)
    matching = [issue for issue in error.__cause__.issues if issue.path == path]
    assert [issue.value for issue in matching] == [value], [str(i) for i in error.__cause__.issues]
    assert matching[0].expected
    assert not error.plan.by_type("aws:iam/rolePolicy:RolePolicy")


def test_the_same_grant_twice_is_refused():
    def program():
        bucket = DataBucket("features", environment="dev", tags=TAGS)
        bucket.grant_read("reader", prefix="raw")
        bucket.grant_read("reader", prefix="raw/")

    error = preview_error(program)
    assert isinstance(error.__cause__, ComponentArgsError)
    assert [(issue.path, issue.value, issue.expected) for issue in error.__cause__.issues] == [
        ("DataBucket(features).grant", "reader read raw/", "each grant once per bucket")
    ]
    assert len(error.plan.by_type("aws:iam/rolePolicy:RolePolicy")) == 1


def test_prefixes_whose_names_would_collide_are_different_grants():
    def program():
        bucket = DataBucket("features", environment="dev", tags=TAGS)
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
    error = preview_error(lambda: DataBucket("Bad_Name", environment="prod", tags=TAGS, force_destroy=True, abort_incomplete_multipart_upload_days=0))
    paths = sorted(issue.path for issue in error.__cause__.issues)
    assert paths == ["DataBucket(Bad_Name).abort_incomplete_multipart_upload_days", "DataBucket(Bad_Name).name"]
    error = preview_error(lambda: DataBucket("Bad_Name", environment="prod", tags=TAGS, force_destroy=True))
    assert sorted(issue.path for issue in error.__cause__.issues) == ["DataBucket(Bad_Name)", "DataBucket(Bad_Name).name"]
