"""The fraud team's own unit tests for its project, with ml-platform's test kit (platform_lib.testing).

They preview the whole program with its stack file under mocked providers (no credentials) and
assert on what it registers; ``pytest tests`` from the project directory runs them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from platform_lib.testing import find, find_all, policy_violations, preview_project

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    return request.param, preview_project(PROJECT, request.param)


def test_every_aws_resource_uses_the_project_provider(stack):
    _, plan = stack
    provider = find(plan, "pulumi:providers:aws", "aws")
    aws_resources = [r for r in plan.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources and all(r.options.provider.startswith(provider.urn) for r in aws_resources)


def test_the_trainer_runs_in_the_projects_own_private_subnet(stack):
    _, plan = stack
    subnet = find(plan, "aws:ec2/subnet:Subnet", "fraud-private-0")
    instance = find(plan, "aws:ec2/instance:Instance")
    assert instance.inputs["subnetId"] == subnet.id
    assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_the_trainer_reads_only_curated_features(stack):
    _, plan = stack
    trainer_role = find(plan, "aws:iam/role:Role", "fraud-trainer-role")
    policies = [r for r in find_all(plan, "aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == trainer_role.outputs["name"]]
    assert len(policies) == 1
    statements = json.loads(policies[0].inputs["policy"])["Statement"]
    objects = next(s for s in statements if s["Sid"] == "ReadObjects")
    assert objects["Resource"].endswith("/curated/*")


def test_prod_protects_what_holds_data_and_dev_nothing(stack):
    name, plan = stack
    bucket = find(plan, "aws:s3/bucket:Bucket", "fraud-features")
    namespace = find(plan, "kubernetes:core/v1:Namespace")
    assert bucket.options.protect is (name == "prod") and namespace.options.protect is (name == "prod")
    assert not find(plan, "aws:ec2/vpc:Vpc").options.protect


def test_the_endpoint_lives_in_the_team_namespace(stack):
    _, plan = stack
    namespace = find(plan, "kubernetes:core/v1:Namespace")
    service = find(plan, "kubernetes:core/v1:Service")
    assert service.inputs["metadata"]["namespace"] == namespace.inputs["metadata"]["name"] == "fraud"


def test_the_stack_passes_the_policy_pack(stack):
    name, plan = stack
    mandatory = [f"{v['policy']}: {v['message']}" for v in policy_violations(plan, PROJECT, name) if v["level"] == "mandatory"]
    assert mandatory == []
