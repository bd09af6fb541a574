"""GcsDataBucket: secure defaults, grants as (conditional) IAM bindings, Workload Identity."""

from __future__ import annotations

import re

import pulumi
import pulumi_gcp as gcp
import pytest

from platform_lib.core.errors import ComponentArgsError
from platform_lib.gcp.data_bucket import GcsDataBucket, TeamWorkloadIdentity, object_prefix_condition
from platform_lib.core.grants import AccessLevel, GrantableBucket
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

PROJECT = "ml-platform-dev"
LABELS = {"team": "fraud", "cost-center": "cc-4100", "environment": "dev"}


def _bucket_and_account(**grant_calls):
    holder = {}

    def program():
        bucket = GcsDataBucket("features", {"location": "europe-west4", "labels": LABELS})
        account = gcp.serviceaccount.Account("trainer", account_id="trainer")
        holder["bucket"], holder["account"] = bucket, account
        for call in grant_calls.get("calls", []):
            call(bucket, account)

    return program, holder


def test_bucket_is_private_versioned_with_lifecycle_and_soft_delete():
    program, _ = _bucket_and_account()
    bucket = find(preview(program), "gcp:storage/bucket:Bucket").inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["softDeletePolicy"] == {"retentionDurationSeconds": 7 * 86400}
    actions = {rule["action"]["type"]: rule["condition"] for rule in bucket["lifecycleRules"]}
    assert actions["Delete"]["daysSinceNoncurrentTime"] == 30
    assert actions["AbortIncompleteMultipartUpload"] == {"age": 7}
    assert bucket["forceDestroy"] is False
    assert "encryption" not in bucket
    assert bucket["labels"] == {**LABELS, "managed-by": "pulumi"}


def test_customer_managed_key_sets_default_kms_key():
    key = "projects/ml-platform-dev/locations/europe-west4/keyRings/data/cryptoKeys/features"
    plan = preview(lambda: GcsDataBucket("features", {"location": "europe-west4", "labels": LABELS, "kms_key_name": key}))
    assert find(plan, "gcp:storage/bucket:Bucket").inputs["encryption"] == {"defaultKmsKeyName": key}


def test_whole_bucket_read_is_an_unconditional_object_viewer_binding():
    program, _ = _bucket_and_account(calls=[lambda b, a: b.grant_read(a)])
    binding = find(preview(program), "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert binding.name == "features-trainer-read"
    assert binding.inputs["role"] == "roles/storage.objectViewer"
    assert binding.inputs["member"] == f"serviceAccount:trainer@{PROJECT}.iam.gserviceaccount.com"
    assert "condition" not in binding.inputs


def test_prefix_read_write_is_an_object_user_binding_limited_to_the_prefix():
    program, holder = _bucket_and_account(calls=[lambda b, a: b.grant_read_write(a, prefix="checkpoints")])
    plan = preview(program)
    bucket_name = find(plan, "gcp:storage/bucket:Bucket").outputs["name"]
    binding = find(plan, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert binding.name == "features-trainer-read-write-checkpoints"
    assert binding.inputs["role"] == "roles/storage.objectUser"
    expression = binding.inputs["condition"]["expression"]
    assert expression == object_prefix_condition(bucket_name, "checkpoints/")
    assert f'resource.name.startsWith("projects/_/buckets/{bucket_name}/objects/checkpoints/")' in expression
    assert 'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("checkpoints/")' in expression
    grant = holder["bucket"].grants[0]
    assert (grant.access, grant.prefix, grant.principal) == (AccessLevel.READ_WRITE, "checkpoints/", "trainer")


def test_member_strings_are_accepted_as_principals():
    program, _ = _bucket_and_account(calls=[lambda b, a: b.grant_read("group:ml-fraud@example.com", prefix="shared/")])
    binding = find(preview(program), "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert binding.inputs["member"] == "group:ml-fraud@example.com"


@pytest.mark.parametrize(
    ("principal", "prefix", "path"),
    [
        ("serviceAccount:x@p.iam.gserviceaccount.com", "raw/*", "GcsDataBucket(features).grant.prefix"),
        ("serviceAccount:x@p.iam.gserviceaccount.com", "raw/?", "GcsDataBucket(features).grant.prefix"),
        ("allUsers", "", "GcsDataBucket(features).grant.principal"),
        ("allAuthenticatedUsers", "", "GcsDataBucket(features).grant.principal"),
    ],
)
def test_bad_grants_raise_a_clear_error_and_register_no_binding(principal, prefix, path):
    program, _ = _bucket_and_account(calls=[lambda b, a: b.grant_read(principal, prefix=prefix)])
    with pytest.raises(PreviewError) as caught:
        preview(program)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [(issue.path, issue.value) for issue in error.issues] == [(path, prefix if path.endswith(".prefix") else principal)]
    assert error.issues[0].expected
    assert "nothing was created" in str(error)
    assert find_all(caught.value.plan, "gcp:storage/bucketIAMMember:BucketIAMMember") == []


def test_the_same_grant_twice_is_refused():
    program, _ = _bucket_and_account(calls=[lambda b, a: b.grant_read(a), lambda b, a: b.grant_read(a)])
    with pytest.raises(PreviewError) as caught:
        preview(program)
    assert [(issue.path, issue.value, issue.expected) for issue in caught.value.__cause__.issues] == [
        ("GcsDataBucket(features).grant", "trainer read <whole bucket>", "each grant once per bucket")
    ]
    assert len(find_all(caught.value.plan, "gcp:storage/bucketIAMMember:BucketIAMMember")) == 1


def test_prefixes_whose_names_would_collide_are_different_grants():
    program, _ = _bucket_and_account(calls=[lambda b, a: b.grant_read(a, prefix="Raw/"), lambda b, a: b.grant_read(a, prefix="raw/"), lambda b, a: b.grant_read(a, prefix="a.b/"), lambda b, a: b.grant_read(a, prefix="a-b/")])
    bindings = find_all(preview(program), "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert len({binding.name for binding in bindings}) == 4
    granted = {binding.inputs["condition"]["expression"].split("/objects/", 1)[1].split('"', 1)[0] for binding in bindings}
    assert granted == {"Raw/", "raw/", "a.b/", "a-b/"}


def test_invalid_arguments_register_nothing():
    with pytest.raises(PreviewError) as caught:
        preview(lambda: GcsDataBucket("features", {"location": "europe-west4", "labels": LABELS, "soft_delete_days": 3}))
    assert [issue.path for issue in caught.value.__cause__.issues] == ["GcsDataBucket(features).soft_delete_days"]
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_both_clouds_buckets_offer_the_same_grant_interface():
    from platform_lib.aws.data_bucket import S3DataBucket as AwsDataBucket

    seen = {}

    def program():
        seen["gcp"] = GcsDataBucket("features", {"location": "europe-west4", "labels": LABELS})
        seen["aws"] = AwsDataBucket("features-aws", tags=LABELS)

    preview(program)
    assert isinstance(seen["gcp"], GrantableBucket) and isinstance(seen["aws"], GrantableBucket)


def test_workload_identity_binds_the_team_kubernetes_service_account():
    plan = preview(lambda: TeamWorkloadIdentity("fraud", {"project": PROJECT, "namespace": "fraud", "kubernetes_service_account": "workload"}))
    account = find(plan, "gcp:serviceaccount/account:Account")
    binding = find(plan, "gcp:serviceaccount/iAMMember:IAMMember")
    assert account.inputs["accountId"] == "fraud-workload"
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[fraud/workload]"
    assert binding.inputs["serviceAccountId"] == account.outputs["name"]


def test_bucket_needs_the_standard_labels():
    with pytest.raises(PreviewError) as caught:
        preview(lambda: GcsDataBucket("features", {"location": "europe-west4", "labels": {"team": "fraud"}}))
    assert [issue.path for issue in caught.value.__cause__.issues] == ["GcsDataBucket(features).labels"]
    assert "cost-center" in str(caught.value.__cause__)


def test_workload_identity_with_a_bad_namespace_registers_nothing():
    with pytest.raises(PreviewError) as caught:
        preview(lambda: TeamWorkloadIdentity("fraud", {"project": PROJECT, "namespace": "Fraud_Team", "kubernetes_service_account": "workload"}))
    assert [issue.path for issue in caught.value.__cause__.issues] == ["TeamWorkloadIdentity(fraud).namespace"]
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_both_clouds_grant_through_the_one_shared_code_path():
    from platform_lib.aws.data_bucket import S3DataBucket as AwsDataBucket
    from platform_lib.core.grants import BucketGrants

    for bucket_class in (GcsDataBucket, AwsDataBucket):
        for method in ("grant", "grant_read", "grant_read_write"):
            assert getattr(bucket_class, method) is getattr(BucketGrants, method), (bucket_class, method)


@pytest.mark.parametrize("cloud", ["gcp", "aws"])
def test_every_grant_problem_is_reported_at_once_and_nothing_is_registered(cloud):
    from platform_lib.aws.data_bucket import S3DataBucket as AwsDataBucket

    def program():
        if cloud == "gcp":
            bucket = GcsDataBucket("features", {"location": "europe-west4", "labels": LABELS})
        else:
            bucket = AwsDataBucket("features", tags=LABELS)
        bucket.grant(42, "admin", "raw/*")

    with pytest.raises(PreviewError) as caught:
        preview(program)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    component = "GcsDataBucket" if cloud == "gcp" else "S3DataBucket"
    assert {(issue.path, issue.value) for issue in error.issues} == {
        (f"{component}(features).grant.access", "admin"),
        (f"{component}(features).grant.prefix", "raw/*"),
        (f"{component}(features).grant.principal", "int" if cloud == "gcp" else 42),
    }
    assert all(issue.expected for issue in error.issues)
    assert find_all(caught.value.plan, "gcp:storage/bucketIAMMember:BucketIAMMember") == []
    assert find_all(caught.value.plan, "aws:iam/rolePolicy:RolePolicy") == []


def test_service_account_ids_start_with_a_letter_even_for_names_starting_with_a_digit():
    from platform_lib.gcp.gpu_training_box import GcpGpuTrainingBox

    network = {"machine_type": "g2-standard-8", "zone": "europe-west4-a", "subnetwork": "ml-private", "labels": {**LABELS, "environment": "dev"}}
    plan = preview(lambda: (
        TeamWorkloadIdentity("1fraud", {"project": PROJECT, "namespace": "1fraud", "kubernetes_service_account": "workload"}),
        GcpGpuTrainingBox("7tune", network),
        GcpGpuTrainingBox("tune", network),
    ))
    ids = sorted(account.inputs["accountId"] for account in find_all(plan, "gcp:serviceaccount/account:Account"))
    assert ids == ["sa-1fraud-workload", "sa-7tune-box", "tune-box"]
    # IAM's accountId rule: 6-30 characters, a letter first, no trailing '-'.
    assert all(re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account_id) for account_id in ids)


def test_labels_need_the_environment_and_may_be_outputs():
    with pytest.raises(PreviewError) as caught:
        preview(lambda: GcsDataBucket("features", location="europe-west4", labels={"team": "fraud", "cost-center": "cc-4100"}))
    assert [issue.path for issue in caught.value.__cause__.issues] == ["GcsDataBucket(features).labels"]
    plan = preview(lambda: GcsDataBucket("features", location="europe-west4", labels={**LABELS, "team": pulumi.Output.from_input("fraud")}))
    assert find(plan, "gcp:storage/bucket:Bucket").inputs["labels"]["team"] == "fraud"


def test_the_callers_options_reach_the_bucket_and_grants_and_nothing_is_protected_by_default():
    def program():
        bucket = GcsDataBucket("features", location="europe-west4", labels=LABELS, opts=pulumi.ResourceOptions(protect=True, retain_on_delete=True))
        bucket.grant_read("group:ml@example.com")
        GcsDataBucket("scratch", location="europe-west4", labels=LABELS)

    plan = preview(program)
    buckets = {b.name: b for b in find_all(plan, "gcp:storage/bucket:Bucket")}
    assert buckets["features-bucket"].options.protect and buckets["features-bucket"].options.retain_on_delete
    assert find(plan, "gcp:storage/bucketIAMMember:BucketIAMMember").options.retain_on_delete
    assert not buckets["scratch-bucket"].options.protect and not buckets["scratch-bucket"].options.retain_on_delete


def test_an_output_member_is_granted_and_a_bad_one_fails_when_known():
    def good():
        GcsDataBucket("features", location="europe-west4", labels=LABELS).grant_read(pulumi.Output.from_input("group:ml@example.com"), name="ml")

    binding = find(preview(good), "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert (binding.name, binding.inputs["member"]) == ("features-ml-read", "group:ml@example.com")

    def bad():
        GcsDataBucket("features", location="europe-west4", labels=LABELS).grant_read(pulumi.Output.from_input("allUsers"), name="everyone")

    with pytest.raises(PreviewError) as caught:
        preview(bad)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [issue.path for issue in error.issues] == ["GcsDataBucket(features).grant.principal"]


def test_workload_identity_takes_outputs_and_checks_them_when_known():
    plan = preview(lambda: TeamWorkloadIdentity("fraud", project=pulumi.Output.from_input(PROJECT), namespace=pulumi.Output.from_input("fraud"), kubernetes_service_account="workload"))
    assert find(plan, "gcp:serviceaccount/iAMMember:IAMMember").inputs["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[fraud/workload]"
    with pytest.raises(PreviewError) as caught:
        preview(lambda: TeamWorkloadIdentity("fraud", project=PROJECT, namespace=pulumi.Output.from_input("Fraud_Team"), kubernetes_service_account="workload"))
    assert [issue.path for issue in caught.value.__cause__.issues] == ["TeamWorkloadIdentity(fraud).namespace"]
