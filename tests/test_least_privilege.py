"""Least privilege, proven in an AWS emulator: the dev stack's IAM policies, acted out in moto.

The policy documents come from the preview of the shipped ``dev`` stack (the ``RolePolicy`` inputs
and ``RolePolicyAttachment`` ARNs of a role), so what is tested is exactly what ``pulumi up`` would
create. moto creates the buckets, the role and its policies with IAM enforcement off, hands out
assumed-role credentials, and then every S3 call is made with those credentials and IAM
enforcement on (``moto.core.enable_iam_authentication``, the context form of
``set_initial_no_auth_action_count(0)``).

What moto does not evaluate, and is checked on the documents instead: the ``s3:prefix``
``StringLike`` condition on ``ListBucket`` (moto ignores condition operators other than
``StringEquals``) and KMS permissions (moto's S3 does not call KMS as the caller), so the
buckets are created in moto without SSE-KMS and ``test_documents_scope_listing_and_keys`` checks
those statements directly.

Grants to an ``aws.iam.User`` (``UserPolicy``) and an ``aws.iam.Group`` (``GroupPolicy``, acted
out by a member of the group) are proven the same way, on a bucket previewed in the test.
Cross-account and service-principal grants are bucket policy statements, which moto 5.2 does not
evaluate (its S3 authorization reads identity policies only: ``moto/iam/access_control.py``), so
they are checked on the rendered document in ``tests/test_data_bucket.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Callable

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import enable_iam_authentication

from platform_lib.preview import run_preview

from .conftest import REPO_ROOT
from .team_stacks import team_blocks

REGION = "us-east-1"
OUTSIDE_BUCKET = "payments-ledger-prod"  # a bucket nobody was granted


@pytest.fixture(scope="module")
def dev_plan():
    # The shared dev stack composing the shipped dev teams (fraud with its GPU box, search granting
    # fraud read): one plan with both teams' roles and grants, as the team stacks make them.
    plan, _ = run_preview(REPO_ROOT, "dev", config_overrides=team_blocks("dev"))
    return plan


@pytest.fixture(autouse=True)
def _fake_credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="module")
def aws_managed_policies() -> dict[str, dict]:
    """AWS managed policy documents as moto ships them, by name (loaded once, not per backend)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {name: policy["Document"] for name, policy in json.loads(aws_managed_policies_data).items()}


@dataclass
class RoleUnderTest:
    """A role of the plan: its inline policy documents and managed policy ARNs, and the buckets."""

    name: str
    documents: dict[str, dict]
    managed_policy_arns: list[str]
    managed_documents: dict[str, dict] = field(default_factory=dict)  # AWS managed policy name -> document
    buckets: dict[str, str] = field(default_factory=dict)  # logical name -> physical name


def role_from_plan(plan, logical_name: str, aws_managed: dict[str, dict]) -> RoleUnderTest:
    (role,) = [r for r in plan.by_type("aws:iam/role:Role") if r.name == logical_name]
    physical = role.outputs["name"]
    documents = {p.name: json.loads(p.inputs["policy"]) for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == physical}
    managed = [a.inputs["policyArn"] for a in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.inputs["role"] == physical]
    buckets = {b.name: b.outputs["bucket"] for b in plan.by_type("aws:s3/bucket:Bucket")}
    managed_documents = {arn.split("/")[-1]: aws_managed[arn.split("/")[-1]] for arn in managed}
    return RoleUnderTest(physical, documents, managed, managed_documents, buckets)


#: One action taken as the role: (label, call(s3 client, bucket names)).
Action = tuple[str, Callable[[object, dict[str, str]], object]]


def _allowed(call, s3, buckets) -> bool:
    try:
        call(s3, buckets)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("AccessDenied", "403"):
            return False
        raise
    return True


def act_as(role: RoleUnderTest, actions: list[Action]) -> dict[str, bool]:
    """Create the role in moto with exactly its documents, assume it, and try each action.

    Returns:
        Each action's label mapped to whether IAM allowed it.
    """
    with mock_aws():
        admin_s3 = boto3.client("s3", region_name=REGION)
        for bucket in [*role.buckets.values(), OUTSIDE_BUCKET]:
            admin_s3.create_bucket(Bucket=bucket)
            for key in ("features/day1.parquet", "shared/corpus.jsonl", "private/notes.txt", "checkpoints/old.pt"):
                admin_s3.put_object(Bucket=bucket, Key=key, Body=b"seed")
        iam = boto3.client("iam", region_name=REGION)
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName=role.name, AssumeRolePolicyDocument=json.dumps(trust))
        for name, document in role.documents.items():
            iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
        for name, document in role.managed_documents.items():
            # The AWS managed policy's own document, as a policy of the test account: attaching
            # arn:aws:iam::aws:policy/... would need moto to load every AWS managed policy.
            arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
            iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
        credentials = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::123456789012:role/{role.name}", RoleSessionName="least-privilege-test"
        )["Credentials"]
        s3 = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        with enable_iam_authentication():
            return {label: _allowed(call, s3, role.buckets) for label, call in actions}


def _get(bucket: str, key: str):
    return lambda s3, b: s3.get_object(Bucket=b.get(bucket, bucket), Key=key)["Body"].read()


def _put(bucket: str, key: str):
    return lambda s3, b: s3.put_object(Bucket=b.get(bucket, bucket), Key=key, Body=b"x")


def _delete(bucket: str, key: str):
    return lambda s3, b: s3.delete_object(Bucket=b.get(bucket, bucket), Key=key)


def _list(bucket: str, prefix: str):
    return lambda s3, b: s3.list_objects_v2(Bucket=b.get(bucket, bucket), Prefix=prefix)


def _put_bucket_policy(bucket: str):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"}]}
    return lambda s3, b: s3.put_bucket_policy(Bucket=b.get(bucket, bucket), Policy=json.dumps(policy))


# The dev GPU box (mlplat:gpuBoxes[0]): read on fraud-features-dev, read-write on its checkpoints/.
BOX_ROLE = "fraud-finetune-role"
BOX_EXPECTED: dict[str, tuple[Callable, bool]] = {
    "read features": (_get("fraud-features-dev", "features/day1.parquet"), True),
    "list the bucket": (_list("fraud-features-dev", "features/"), True),
    "write under checkpoints/": (_put("fraud-features-dev", "checkpoints/step-100.pt"), True),
    "read under checkpoints/": (_get("fraud-features-dev", "checkpoints/old.pt"), True),
    "delete under checkpoints/": (_delete("fraud-features-dev", "checkpoints/old.pt"), True),
    "write another prefix": (_put("fraud-features-dev", "features/day2.parquet"), False),
    "delete where only read was granted": (_delete("fraud-features-dev", "features/day1.parquet"), False),
    "read another team's bucket": (_get("search-corpus-dev", "shared/corpus.jsonl"), False),
    "write a bucket nobody granted": (_put(OUTSIDE_BUCKET, "features/x"), False),
    "read a bucket nobody granted": (_get(OUTSIDE_BUCKET, "features/day1.parquet"), False),
    "change the bucket policy": (_put_bucket_policy("fraud-features-dev"), False),
}

# The fraud team's IRSA workload role: read-write on its own bucket, read on search-corpus-dev/shared/.
WORKLOAD_ROLE = "fraud-workload"
WORKLOAD_EXPECTED: dict[str, tuple[Callable, bool]] = {
    "write own bucket": (_put("fraud-features-dev", "features/day2.parquet"), True),
    "read own bucket": (_get("fraud-features-dev", "features/day1.parquet"), True),
    "read the granted prefix": (_get("search-corpus-dev", "shared/corpus.jsonl"), True),
    "read another prefix": (_get("search-corpus-dev", "private/notes.txt"), False),
    "write where only read was granted": (_put("search-corpus-dev", "shared/corpus.jsonl"), False),
    "delete where only read was granted": (_delete("search-corpus-dev", "shared/corpus.jsonl"), False),
    "read a bucket nobody granted": (_get(OUTSIDE_BUCKET, "features/day1.parquet"), False),
    "change the bucket policy": (_put_bucket_policy("fraud-features-dev"), False),
    "change the other team's bucket policy": (_put_bucket_policy("search-corpus-dev"), False),
}


def violations(role: RoleUnderTest, expected: dict[str, tuple[Callable, bool]]) -> dict[str, bool]:
    """The actions whose outcome differs from the expectation (label -> what moto allowed)."""
    outcomes = act_as(role, [(label, call) for label, (call, _) in expected.items()])
    return {label: outcomes[label] for label, (_, allowed) in expected.items() if outcomes[label] != allowed}


@pytest.mark.parametrize(("role_name", "expected"), [(BOX_ROLE, BOX_EXPECTED), (WORKLOAD_ROLE, WORKLOAD_EXPECTED)], ids=["gpu-box", "team-workload"])
def test_the_preview_policies_allow_exactly_what_was_granted(dev_plan, aws_managed_policies, role_name, expected):
    role = role_from_plan(dev_plan, role_name, aws_managed_policies)
    assert role.documents, f"no role policies for {role_name} in the dev plan"
    assert violations(role, expected) == {}


def test_the_box_role_carries_only_its_grants_and_session_manager(dev_plan, aws_managed_policies):
    role = role_from_plan(dev_plan, BOX_ROLE, aws_managed_policies)
    assert sorted(role.documents) == ["fraud-features-dev-fraud-finetune-role-read", "fraud-features-dev-fraud-finetune-role-read-write-checkpoints"]
    assert role.managed_policy_arns == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]


def _widen(role: RoleUnderTest, *, action: str | None = None, resource: str | None = None) -> RoleUnderTest:
    widened = copy.deepcopy(role)
    for document in widened.documents.values():
        for statement in document["Statement"]:
            if action is not None and any(a.startswith("s3:") for a in statement["Action"]):
                statement["Action"] = action
            if resource is not None:
                statement["Resource"] = resource
    return widened


@pytest.mark.parametrize(("role_name", "expected"), [(BOX_ROLE, BOX_EXPECTED), (WORKLOAD_ROLE, WORKLOAD_EXPECTED)], ids=["gpu-box", "team-workload"])
def test_widening_a_grant_to_s3_star_is_caught(dev_plan, aws_managed_policies, role_name, expected):
    found = violations(_widen(role_from_plan(dev_plan, role_name, aws_managed_policies), action="s3:*"), expected)
    assert found.get("change the bucket policy") is True
    assert found.get("delete where only read was granted") is True


@pytest.mark.parametrize(("role_name", "expected"), [(BOX_ROLE, BOX_EXPECTED), (WORKLOAD_ROLE, WORKLOAD_EXPECTED)], ids=["gpu-box", "team-workload"])
def test_widening_a_grant_to_resource_star_is_caught(dev_plan, aws_managed_policies, role_name, expected):
    found = violations(_widen(role_from_plan(dev_plan, role_name, aws_managed_policies), resource="*"), expected)
    assert found.get("read a bucket nobody granted") is True
    other = "write another prefix" if role_name == BOX_ROLE else "read another prefix"
    assert found.get(other) is True


def test_documents_scope_listing_and_keys(dev_plan, aws_managed_policies):
    """What moto cannot evaluate: the ListBucket prefix condition and the KMS key resource."""
    role = role_from_plan(dev_plan, BOX_ROLE, aws_managed_policies)
    keys = {k.name.removesuffix("-key"): k.outputs["arn"] for k in dev_plan.by_type("aws:kms/key:Key")}
    document = role.documents["fraud-features-dev-fraud-finetune-role-read-write-checkpoints"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["ListObjects"]["Condition"] == {"StringLike": {"s3:prefix": ["checkpoints/", "checkpoints/*"]}}
    assert statements["UseBucketKey"]["Resource"] == keys["fraud-features-dev"]
    for document in role.documents.values():
        for statement in document["Statement"]:
            assert statement["Resource"] != "*" and "*" not in statement["Action"] and "s3:*" not in statement["Action"]


@pytest.mark.parametrize("role_name", [BOX_ROLE, WORKLOAD_ROLE])
def test_listing_and_key_use_follow_each_grants_object_scope(dev_plan, aws_managed_policies, role_name):
    """Every grant document of both roles: listing is limited to the prefix moto proved the object
    statement is limited to, and the KMS statement names only that bucket's own key."""
    role = role_from_plan(dev_plan, role_name, aws_managed_policies)
    keys = {k.name.removesuffix("-key"): k.outputs["arn"] for k in dev_plan.by_type("aws:kms/key:Key")}
    logical = {physical: name for name, physical in role.buckets.items()}
    prefixed = 0
    for policy_name, document in role.documents.items():
        statements = {s["Sid"]: s for s in document["Statement"]}
        objects = statements.get("ReadObjects") or statements["ReadWriteObjects"]
        bucket, _, prefix_star = objects["Resource"].removeprefix("arn:aws:s3:::").partition("/")
        prefix = prefix_star.removesuffix("*")
        assert statements["ListObjects"]["Resource"] == f"arn:aws:s3:::{bucket}", policy_name
        if prefix:
            prefixed += 1
            assert statements["ListObjects"]["Condition"] == {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}, policy_name
        else:
            assert "Condition" not in statements["ListObjects"], policy_name
        assert statements["UseBucketKey"]["Resource"] == keys[logical[bucket]], policy_name
    assert prefixed >= 1  # both roles hold one prefix grant (checkpoints/, shared/)


# -- grants to IAM users and groups: UserPolicy / GroupPolicy, acted out in moto ------------------

TAGS = {"team": "fraud", "cost-center": "cc-7310", "environment": "dev"}


@pytest.fixture(scope="module")
def identity_grants_plan():
    """An S3DataBucket granting read under reports/ to an aws.iam.User and read-write under
    scratch/ to an aws.iam.Group, previewed: the documents are the ones ``pulumi up`` would send."""
    import pulumi_aws as aws

    from platform_lib.aws.data_bucket import S3DataBucket
    from platform_lib.testing import preview

    def program():
        bucket = S3DataBucket("shared-data", tags=TAGS)
        bucket.grant_read(aws.iam.User("analyst", tags=TAGS), prefix="reports/")
        bucket.grant_read_write(aws.iam.Group("engineers"), prefix="scratch/")

    return preview(program, config={"aws:region": REGION})


def act_as_user(plan, user_or_group: str, actions: list[Action]) -> dict[str, bool]:
    """Create the plan's bucket, user or group and its inline policies in moto; act as a user
    (the user itself, or a member of the group) with IAM enforcement on."""
    buckets = {b.name: b.outputs["bucket"] for b in plan.by_type("aws:s3/bucket:Bucket")}
    with mock_aws():
        admin_s3 = boto3.client("s3", region_name=REGION)
        for bucket in [*buckets.values(), OUTSIDE_BUCKET]:
            admin_s3.create_bucket(Bucket=bucket)
            for key in ("reports/q1.csv", "scratch/tmp.bin", "private/notes.txt"):
                admin_s3.put_object(Bucket=bucket, Key=key, Body=b"seed")
        iam = boto3.client("iam", region_name=REGION)
        (identity,) = [r for r in plan.resources if r.type in ("aws:iam/user:User", "aws:iam/group:Group") and r.name == user_or_group]
        physical = identity.outputs["name"]
        if identity.type == "aws:iam/user:User":
            iam.create_user(UserName=physical)
            for policy in plan.by_type("aws:iam/userPolicy:UserPolicy"):
                if policy.inputs["user"] == physical:
                    iam.put_user_policy(UserName=physical, PolicyName=policy.name, PolicyDocument=policy.inputs["policy"])
            acting_user = physical
        else:
            iam.create_group(GroupName=physical)
            for policy in plan.by_type("aws:iam/groupPolicy:GroupPolicy"):
                if policy.inputs["group"] == physical:
                    iam.put_group_policy(GroupName=physical, PolicyName=policy.name, PolicyDocument=policy.inputs["policy"])
            acting_user = "group-member"
            iam.create_user(UserName=acting_user)
            iam.add_user_to_group(GroupName=physical, UserName=acting_user)
        key = iam.create_access_key(UserName=acting_user)["AccessKey"]
        s3 = boto3.client(
            "s3", region_name=REGION, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], aws_session_token=""
        )
        with enable_iam_authentication():
            return {label: _allowed(call, s3, buckets) for label, call in actions}


USER_EXPECTED: dict[str, tuple[Callable, bool]] = {
    "read under reports/": (_get("shared-data", "reports/q1.csv"), True),
    "list under reports/": (_list("shared-data", "reports/"), True),
    "read another prefix": (_get("shared-data", "private/notes.txt"), False),
    "write under reports/ (read only)": (_put("shared-data", "reports/q2.csv"), False),
    "delete under reports/ (read only)": (_delete("shared-data", "reports/q1.csv"), False),
    "read a bucket nobody granted": (_get(OUTSIDE_BUCKET, "reports/q1.csv"), False),
    "change the bucket policy": (_put_bucket_policy("shared-data"), False),
}
GROUP_EXPECTED: dict[str, tuple[Callable, bool]] = {
    "write under scratch/": (_put("shared-data", "scratch/new.bin"), True),
    "read under scratch/": (_get("shared-data", "scratch/tmp.bin"), True),
    "delete under scratch/": (_delete("shared-data", "scratch/tmp.bin"), True),
    "read another prefix": (_get("shared-data", "reports/q1.csv"), False),
    "write another prefix": (_put("shared-data", "private/x"), False),
    "write a bucket nobody granted": (_put(OUTSIDE_BUCKET, "scratch/x"), False),
    "change the bucket policy": (_put_bucket_policy("shared-data"), False),
}


@pytest.mark.parametrize(("identity", "expected"), [("analyst", USER_EXPECTED), ("engineers", GROUP_EXPECTED)], ids=["user-policy", "group-policy"])
def test_user_and_group_grants_allow_exactly_what_was_granted(identity_grants_plan, identity, expected):
    outcomes = act_as_user(identity_grants_plan, identity, [(label, call) for label, (call, _) in expected.items()])
    assert {label: outcomes[label] for label, (_, allowed) in expected.items() if outcomes[label] != allowed} == {}


def test_user_and_group_grants_are_inline_policies_on_them_only(identity_grants_plan):
    users = identity_grants_plan.by_type("aws:iam/userPolicy:UserPolicy")
    groups = identity_grants_plan.by_type("aws:iam/groupPolicy:GroupPolicy")
    assert [p.name for p in users] == ["shared-data-analyst-read-reports"]
    assert [p.name for p in groups] == ["shared-data-engineers-read-write-scratch"]
    assert identity_grants_plan.by_type("aws:iam/rolePolicy:RolePolicy") == []
