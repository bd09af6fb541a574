"""Stack policies as plain functions: companions, quota pairing, requests against quota, cost."""

from __future__ import annotations

from types import MappingProxyType

from platform_lib.policy.catalogue import Resource, get_rule
from platform_lib.policy.environments import ENVIRONMENT_VALUES
from platform_lib.policy.rules.stack import peak_pods

from .policy_fixtures import BASE, container, resource, wire_name_problems


def r(type_token, name, props, deps=()):
    """A resource for a stack check; plain-dict props must use the provider's wire names."""
    if isinstance(props, dict):
        assert wire_name_problems(type_token, props) == []
    return Resource(type=type_token, name=name, urn=f"urn:{type_token}::{name}", props=props, dependencies=tuple(deps))


def bucket_stack(*companions):
    bucket = r("aws:s3/bucket:Bucket", "data", {})
    others = [r(t, t.rsplit(":", 1)[-1], dict(BASE[t]), deps=[bucket.urn]) for t in companions]
    return bucket, [bucket, *others]


S3 = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")


def test_bucket_with_all_companions_passes():
    _, resources = bucket_stack(*S3)
    for name in ("s3-bucket-companions", "s3-bucket-versioning", "s3-bucket-tls-only", "s3-bucket-lifecycle"):
        assert get_rule(name).run_stack(resources) == []


def test_bucket_without_public_access_block():
    bucket, resources = bucket_stack(*S3[1:])
    assert get_rule("s3-bucket-companions").run_stack(resources) == [("bucket 'data' has no public access block", bucket.urn)]


def test_bucket_without_versioning():
    bucket, resources = bucket_stack(S3[0], S3[1], S3[3], S3[4])
    assert get_rule("s3-bucket-companions").run_stack(resources) == []
    assert get_rule("s3-bucket-versioning").run_stack(resources) == [("bucket 'data' has no versioning", bucket.urn)]


def test_bucket_policy_without_tls_deny():
    bucket, resources = bucket_stack(S3[0], S3[1], S3[2], S3[4])
    assert get_rule("s3-bucket-tls-only").run_stack(resources) == [("bucket 'data' has no bucket policy denying aws:SecureTransport = false", bucket.urn)]


def test_bucket_without_lifecycle_configuration():
    bucket, resources = bucket_stack(*S3[:4])
    assert get_rule("s3-bucket-lifecycle").run_stack(resources) == [("bucket 'data' has no lifecycle configuration", bucket.urn)]
    assert get_rule("s3-bucket-companions").run_stack(resources) == []


def test_companions_match_by_bucket_name_without_a_dependency():
    bucket = r("aws:s3/bucket:Bucket", "data", {"bucket": "data"})
    companions = [r(t, t.rsplit(":", 1)[-1], dict(BASE[t])) for t in S3]  # each names bucket "data", no dependency
    assert get_rule("s3-bucket-companions").run_stack([bucket, *companions]) == []
    other = r("aws:s3/bucket:Bucket", "other", {"bucket": "other"})
    assert get_rule("s3-bucket-companions").run_stack([other, *companions]) == [
        ("bucket 'other' has no public access block, no encryption configuration", other.urn)]


def namespace_stack(quota_hard, workloads, with_limit_range=True):
    namespace = r("kubernetes:core/v1:Namespace", "fraud", {"metadata": {"name": "fraud"}})
    quota = r("kubernetes:core/v1:ResourceQuota", "fraud-quota", {"metadata": {"namespace": "fraud"}, "spec": {"hard": quota_hard}})
    limits = r("kubernetes:core/v1:LimitRange", "fraud-limits", {"metadata": {"namespace": "fraud"}, "spec": {"limits": [
        {"type": "Container", "defaultRequest": {"cpu": "250m", "memory": "256Mi"}, "default": {"cpu": "500m", "memory": "512Mi"}}]}})
    return quota, [namespace, quota, *([limits] if with_limit_range else []), *workloads]


def test_namespace_needs_quota_and_limit_range():
    _, resources = namespace_stack({"requests.cpu": "4"}, [], with_limit_range=False)
    namespace = resources[0]
    assert get_rule("k8s-namespace-quota-and-limits").run_stack(resources) == [("namespace 'fraud' has no LimitRange", namespace.urn)]
    _, resources = namespace_stack({"requests.cpu": "4"}, [])
    assert get_rule("k8s-namespace-quota-and-limits").run_stack(resources) == []
    without_quota = [x for x in resources if x.type != "kubernetes:core/v1:ResourceQuota"]
    assert get_rule("k8s-namespace-quota-and-limits").run_stack(without_quota) == [("namespace 'fraud' has no ResourceQuota", namespace.urn)]


def rollout(replicas, steps, traffic_routing=True, cpu="1"):
    def mutate(p):
        p["spec"]["replicas"] = replicas
        p["spec"]["strategy"] = {"canary": {"steps": steps, **({"trafficRouting": {"nginx": {"stableIngress": "scorer"}}} if traffic_routing else {})}}
        p["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu, "memory": "2Gi", "nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 1}}
    return resource("kubernetes:argoproj.io/v1alpha1:Rollout", mutate, name="scorer")


def test_peak_pods_counts_surge_and_canary():
    assert peak_pods(resource("kubernetes:apps/v1:Deployment")) == 3  # 2 + 25% of 2 rounded up
    assert peak_pods(rollout(4, [{"setWeight": 50}])) == 6
    assert peak_pods(rollout(4, [{"setWeight": 50}], traffic_routing=False)) == 5
    assert peak_pods(rollout(4, [{"setCanaryScale": {"replicas": 3}}])) == 7


def test_canary_exhausting_the_gpu_quota_is_caught_before_deploy():
    quota, resources = namespace_stack({"requests.cpu": "16", "requests.memory": "64Gi", "requests.nvidia.com/gpu": "4", "pods": "20"},
                                       [rollout(4, [{"setWeight": 25}, {"pause": {}}, {"setWeight": 50}])])
    assert get_rule("k8s-requests-fit-quota").run_stack(resources) == [
        ("namespace 'fraud' needs 6 GPUs of requests.nvidia.com/gpu at peak (scorer 6x), over its quota of 4 GPUs", quota.urn)]
    quota, resources = namespace_stack({"requests.cpu": "16", "requests.nvidia.com/gpu": "6"}, [rollout(4, [{"setWeight": 50}])])
    assert get_rule("k8s-requests-fit-quota").run_stack(resources) == []


def test_limit_range_defaults_count_against_the_quota():
    deployment = resource("kubernetes:apps/v1:Deployment", lambda p: (p["spec"].update(replicas=8), p["spec"]["template"]["spec"]["containers"][0].pop("resources")))
    quota, resources = namespace_stack({"requests.cpu": "2", "memory": "10Gi"}, [deployment])
    assert get_rule("k8s-requests-fit-quota").run_stack(resources) == [
        ("namespace 'fraud' needs 2.50 vCPU of requests.cpu at peak (subject 10x), over its quota of 2 vCPU", quota.urn)]


def test_stack_cost_within_budget():
    boxes = [resource("aws:ec2/instance:Instance", lambda p: p.update(instanceType="g5.12xlarge"), name=f"box-{i}") for i in range(2)]
    rule = get_rule("stack-monthly-cost-within-budget")
    assert rule.run_stack(boxes, ENVIRONMENT_VALUES["staging"]) == [
        ("estimated compute cost 8,281.12 USD per month exceeds the budget of 8,000.00 USD "
         "(largest: box-1 (g5.12xlarge) 4,140.56; box-0 (g5.12xlarge) 4,140.56)", None)]
    assert rule.run_stack(boxes, ENVIRONMENT_VALUES["prod"]) == []


def _encryption(algorithm, bucket="logs-1"):
    return r("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "enc",
             {"bucket": bucket, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}]})


def test_sse_kms_required_except_on_access_log_targets():
    rule = get_rule("s3-sse-kms")
    encryption = _encryption("AES256")
    assert rule.run_stack([encryption]) == [("encryption configuration 'enc' uses AES256, not aws:kms", encryption.urn)]
    logging = r("aws:s3/bucketLogging:BucketLogging", "data-logging", {"bucket": "data-1", "targetBucket": "logs-1"})
    assert rule.run_stack([encryption, logging]) == []
    assert rule.run_stack([_encryption("aws:kms")]) == []


def test_companions_match_by_dependency_when_ids_are_unknown_during_a_real_preview():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    bucket = r("aws:s3/bucket:Bucket", "data", unknown_checking_proxy({"bucket": UNKNOWN_STRING_VALUE}))
    companions = [r(t, t.rsplit(":", 1)[-1], unknown_checking_proxy({**BASE[t], "bucket": UNKNOWN_STRING_VALUE}), deps=[bucket.urn]) for t in S3[:3]]
    assert get_rule("s3-bucket-companions").run_stack([bucket, *companions]) == []
    assert get_rule("s3-bucket-companions").run_stack([bucket, *companions[1:]]) == [("bucket 'data' has no public access block", bucket.urn)]


def test_every_kms_key_has_an_explicit_key_policy():
    rule = get_rule("kms-key-explicit-policy")
    key = r("aws:kms/key:Key", "data-key", {"description": "data", "enableKeyRotation": True})
    assert rule.run_stack([key]) == [("KMS key 'data-key' has no explicit key policy (neither policy nor an aws.kms.KeyPolicy)", key.urn)]
    inline = r("aws:kms/key:Key", "data-key", {"enableKeyRotation": True, "policy": '{"Version": "2012-10-17", "Statement": []}'})
    assert rule.run_stack([inline]) == []
    separate = r("aws:kms/keyPolicy:KeyPolicy", "data-key-policy", {"keyId": "1234abcd", "policy": "{}"}, deps=[key.urn])
    assert rule.run_stack([key, separate]) == []
    by_id = r("aws:kms/keyPolicy:KeyPolicy", "data-key-policy", {"keyId": "1234abcd", "policy": "{}"})
    known_key = r("aws:kms/key:Key", "data-key", MappingProxyType({"keyId": "1234abcd"}))  # keyId is an output: a stack policy sees outputs too
    assert rule.run_stack([known_key, by_id]) == []


def limit_range(maximum):
    return r("kubernetes:core/v1:LimitRange", "fraud-limits", {"metadata": {"namespace": "fraud"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"}, "max": maximum}]}})


def test_a_container_limit_above_the_limit_range_max_is_caught():
    """Issue 10: cpuLimit 100 with a LimitRange max of 96 passed; only requests were checked."""
    rule = get_rule("k8s-limits-fit-limit-range-and-quota")
    big = resource("kubernetes:apps/v1:Deployment", lambda p: container(p)["resources"]["limits"].update(cpu="100"))
    assert rule.run_stack([limit_range({"cpu": "96", "memory": "384Gi"}), big]) == [
        ("subject containers[server] limits.cpu 100 vCPU is above the LimitRange max of 96 vCPU in namespace 'fraud'", big.urn)]
    assert rule.run_stack([limit_range({"cpu": "96", "memory": "384Gi"}), resource("kubernetes:apps/v1:Deployment")]) == []
    # A container without limits gets the LimitRange's default, which is judged too.
    bare = resource("kubernetes:apps/v1:Deployment", lambda p: container(p).pop("resources"))
    assert rule.run_stack([limit_range({"cpu": "250m"}), bare]) == [
        ("subject containers[server] limits.cpu 0.50 vCPU is above the LimitRange max of 0.25 vCPU in namespace 'fraud'", bare.urn)]


def test_peak_limits_above_the_quota_limits_are_caught():
    rule = get_rule("k8s-limits-fit-limit-range-and-quota")
    quota, resources = namespace_stack({"requests.cpu": "16", "limits.cpu": "8", "limits.memory": "64Gi"}, [rollout(4, [{"setWeight": 50}], cpu="1")])
    # The rollout's containers set no cpu/memory limits: the LimitRange default (500m, 512Mi) applies, 6 pods at peak.
    assert rule.run_stack(resources) == []
    limited = resource("kubernetes:argoproj.io/v1alpha1:Rollout", lambda p: (p["spec"].update(replicas=4, strategy={"canary": {
        "steps": [{"setWeight": 50}], "trafficRouting": {"nginx": {"stableIngress": "scorer"}}}}), container(p)["resources"]["limits"].update(cpu="2")), name="scorer")
    quota, resources = namespace_stack({"requests.cpu": "16", "limits.cpu": "8"}, [limited])
    assert rule.run_stack(resources) == [
        ("namespace 'fraud' needs 12 vCPU of limits.cpu at peak (scorer 6x), over its quota of 8 vCPU", quota.urn)]
