"""examples/team-project: an ML team's own project using DataBucket and TeamNamespace previews offline."""

from __future__ import annotations

import json

import pytest

from platform_lib.preview import run_preview

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
