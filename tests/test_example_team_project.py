"""examples/team-project: an ML team's own project using DataBucket and TeamNamespace previews offline."""

from __future__ import annotations

import json

import pytest

from platform_lib.core.errors import ComponentArgsError, ConfigError
from platform_lib.preview import PreviewError, run_preview

from .conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "team-project"


@pytest.fixture(scope="module")
def plan():
    plan, _ = run_preview(EXAMPLE, "dev")
    return plan


def test_example_registers_two_buckets_and_a_namespace(plan):
    assert plan.project == "fraud-team"
    assert sorted(r.name for r in plan.by_type("mlplat:aws:DataBucket")) == ["fraud-features", "fraud-models"]
    assert [r.name for r in plan.by_type("mlplat:k8s:TeamNamespace")] == ["fraud"]
    assert plan.outputs["namespace"] == "fraud"
    assert plan.outputs["featuresBucket"].startswith("fraud-features-")


def test_example_grants_and_irsa(plan):
    trainer = plan.by_type("aws:iam/role:Role")[0]
    trust = json.loads(trainer.inputs["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:fraud:trainer" in trust.values()
    policies = {r.name: r.inputs for r in plan.by_type("aws:iam/rolePolicy:RolePolicy")}
    assert sorted(policies) == ["fraud-features-fraud-trainer-read-write", "fraud-models-fraud-analysts-read-published", "fraud-models-fraud-trainer-read-write-candidates"]
    assert policies["fraud-models-fraud-analysts-read-published"]["role"] == "fraud-analysts"
    assert policies["fraud-features-fraud-trainer-read-write"]["role"] == trainer.outputs["name"]
    account = plan.by_type("kubernetes:core/v1:ServiceAccount")[0]
    assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": trainer.outputs["arn"]}


def test_example_quota_comes_from_its_stack_config(plan):
    (quota,) = plan.by_type("kubernetes:core/v1:ResourceQuota")
    assert quota.inputs["spec"]["hard"]["requests.cpu"] == "8"
    assert quota.inputs["spec"]["hard"]["requests.nvidia.com/gpu"] == "1"


@pytest.mark.parametrize(
    ("overrides", "error_type", "issue"),
    [
        # Config mistakes are ConfigErrors naming the key (the CLI's exit 2), not a pydantic traceback.
        ({"fraud-team:quota": {"cpu": -1, "memoryGib": 8}}, ConfigError, "fraud-team:quota.cpu: got -1; expected a number greater than 0"),
        # The namespace refuses these; it is validated before the buckets and the role are registered.
        ({"fraud-team:quota": {"cpu": 0.5, "memoryGib": 8}}, ComponentArgsError, "TeamNamespace(fraud).quota.cpu: got 0.5; expected at least the LimitRange's default container cpu limit (1 vCPU), or a lower default_cpu_limit"),
        ({"fraud-team:vpcCidr": "0.0.0.0/0"}, ComponentArgsError, "TeamNamespace(fraud).egress_https_cidrs: got ['0.0.0.0/0']; expected CIDR blocks narrower than the whole internet (0.0.0.0/0 and ::/0 are refused)"),
    ],
    ids=["bad-quota", "quota-under-default-limits", "whole-internet-egress"],
)
def test_example_bad_config_registers_nothing(overrides, error_type, issue):
    with pytest.raises(PreviewError) as caught:
        run_preview(EXAMPLE, "dev", config_overrides=overrides)
    error = caught.value.__cause__
    assert type(error) is error_type
    assert [str(i) for i in error.issues] == [issue]
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]
