"""ControllerRole: the IRSA trust of exactly one ServiceAccount, and the AWS Load Balancer
Controller's vendored policy narrowed to one account, region and VPC without losing an action."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import boto3
import pytest
import yaml
from moto import mock_aws

from platform_lib.aws.controller_roles import (
    LOAD_BALANCER_CONTROLLER_POLICY_FILE,
    LOAD_BALANCER_CONTROLLER_VERSION,
    POLICIES_DIR,
    ControllerRole,
    load_balancer_controller_policy,
    vendored_load_balancer_controller_policy,
)
from platform_lib.core.errors import ComponentArgsError
from platform_lib.core.policy_documents import INLINE_POLICY_MAX_CHARACTERS, policy_size
from platform_lib.k8s.helm import CHARTS, CHARTS_DIR
from platform_lib.policy.gate import run_gate
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

from .cases.controller_roles import ISSUER, PROVIDER_ARN, TAGS, _minimal
from .conftest import REPO_ROOT

VPC = "vpc-0123456789abcdef0"
ACCOUNT = "123456789012"


def _actions(document: dict) -> list[str]:
    return [a for s in document["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]


@pytest.fixture(scope="module")
def narrowed() -> dict:
    return load_balancer_controller_policy("aws", "eu-west-1", ACCOUNT, VPC)


@pytest.fixture(scope="module")
def plan():
    return preview(lambda: ControllerRole("lbc", **_minimal()), config={"aws:region": "eu-west-1"}, stack="prod")


# ---------------------------------------------------------------- the vendored policy

def test_the_vendored_policy_is_the_one_of_the_pinned_charts_controller_version():
    chart = CHARTS["aws-load-balancer-controller"]
    meta = yaml.safe_load((CHARTS_DIR / f"{chart.name}-{chart.version}.Chart.yaml").read_text())
    assert meta["appVersion"] == LOAD_BALANCER_CONTROLLER_VERSION
    sources = (POLICIES_DIR / "SOURCES.md").read_text()
    row = next(line for line in sources.splitlines() if line.startswith(f"| {LOAD_BALANCER_CONTROLLER_POLICY_FILE} "))
    assert f"/blob/{LOAD_BALANCER_CONTROLLER_VERSION}/docs/install/iam_policy.json" in row and "Apache-2.0" in row


def test_narrowing_keeps_every_action_and_condition(narrowed):
    vendored = vendored_load_balancer_controller_policy()
    assert sorted(_actions(narrowed)) == sorted(_actions(vendored))
    vendored_conditions = {json.dumps(s.get("Condition"), sort_keys=True) for s in vendored["Statement"]}
    assert {json.dumps(s.get("Condition"), sort_keys=True) for s in narrowed["Statement"]} == vendored_conditions


def test_only_describe_reads_and_actions_without_resource_types_stay_on_every_resource(narrowed):
    from platform_lib.policy.iam_actions import has_no_resource_types

    on_everything = [a for s in narrowed["Statement"] if s["Resource"] == "*" for a in s["Action"]]
    assert on_everything, "the Describe reads stay on '*'"
    assert [a for a in on_everything if not (fnmatchcase(a, "ec2:Describe*") or fnmatchcase(a, "elasticloadbalancing:Describe*") or has_no_resource_types(a))] == []


def test_every_resource_is_in_the_clusters_account_and_region(narrowed):
    resources = [r for s in narrowed["Statement"] if s["Resource"] != "*" for r in s["Resource"]]
    assert resources and all(r.startswith("arn:aws:") for r in resources)
    for resource in resources:
        service, region, account = resource.split(":")[2:5]
        assert account == ACCOUNT, resource
        assert region == ("" if service in ("iam", "shield") else "eu-west-1"), resource


def test_security_groups_are_made_in_the_clusters_vpc_only(narrowed):
    (statement,) = [s for s in narrowed["Statement"] if "ec2:CreateSecurityGroup" in s["Action"]]
    assert statement["Resource"] == ["arn:aws:ec2:eu-west-1:123456789012:security-group/*", f"arn:aws:ec2:eu-west-1:123456789012:vpc/{VPC}"]


def test_the_narrowed_policy_fits_an_inline_role_policy_and_iam_accepts_it(narrowed, monkeypatch):
    text = json.dumps(narrowed)
    assert policy_size(text) <= INLINE_POLICY_MAX_CHARACTERS["role"]
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_role(RoleName="lbc", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        iam.put_role_policy(RoleName="lbc", PolicyName="lbc", PolicyDocument=text)  # moto validates the document's grammar


def test_an_action_of_a_new_version_without_a_known_scope_is_refused(monkeypatch):
    from platform_lib.aws import controller_roles

    vendored = vendored_load_balancer_controller_policy()
    vendored["Statement"].append({"Effect": "Allow", "Action": ["ec2:CreateVpcEndpoint"], "Resource": "*"})
    monkeypatch.setattr(controller_roles, "vendored_load_balancer_controller_policy", lambda: vendored)
    with pytest.raises(ValueError, match=r"ec2:CreateVpcEndpoint of aws-load-balancer-controller-v3\.5\.0\.iam_policy\.json is on Resource '\*' and has no known scope"):
        load_balancer_controller_policy("aws", "eu-west-1", ACCOUNT, VPC)


# ---------------------------------------------------------------- the role

def test_only_the_controllers_service_account_can_assume_the_role(plan):
    trust = json.loads(find(plan, "aws:iam/role:Role").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {
        f"{ISSUER}:sub": "system:serviceaccount:aws-load-balancer-controller:aws-load-balancer-controller",
        f"{ISSUER}:aud": "sts.amazonaws.com",
    }}


def test_the_role_carries_the_standard_tags_and_the_narrowed_policy(plan, narrowed):
    role = find(plan, "aws:iam/role:Role")
    assert role.inputs["tags"] == {**TAGS, "managed-by": "pulumi"}
    assert role.inputs["maxSessionDuration"] == 3600
    policy = json.loads(find(plan, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy == narrowed


def test_the_unnarrowed_policy_would_fail_the_gate_and_the_narrowed_one_passes(plan, policy_gate):
    """The vendored document as is allows write actions on '*'; the role's does not."""
    def raw():
        ControllerRole("raw", **{**_minimal(), "policy": None, "policy_document": vendored_load_balancer_controller_policy()})

    raw_plan = preview(raw, config={"aws:region": "eu-west-1"}, stack="prod")
    config = {"mlplat:environment": "prod"}
    raw_violations = run_gate(raw_plan, pack_dir=REPO_ROOT / "policies", stack_config=config, gate=policy_gate)
    wildcard = [v["message"] for v in raw_violations if v["policy"] == "iam-no-wildcard-resource"]
    assert any("ec2:CreateSecurityGroup" in m for m in wildcard), wildcard
    violations = run_gate(plan, pack_dir=REPO_ROOT / "policies", stack_config=config, gate=policy_gate)
    assert [(v["policy"], v["message"]) for v in violations if v["policy"].startswith("iam-")] == []


def test_a_policy_document_of_the_callers_own(monkeypatch):
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeVolumes", "Resource": "*"}]}
    plan = preview(lambda: ControllerRole("ebs", **{**_minimal(), "policy": None, "policy_document": document, "namespace": "kube-system",
                                                    "service_account": "ebs-csi-controller-sa"}), config={"aws:region": "eu-west-1"})
    assert json.loads(find(plan, "aws:iam/rolePolicy:RolePolicy").inputs["policy"]) == document


@pytest.mark.parametrize(
    ("overrides", "path", "expected"),
    [
        ({"policy": None}, "ControllerRole(lbc).policy", "either policy (a documented controller policy) or policy_document, exactly one"),
        ({"policy_document": {"Statement": []}}, "ControllerRole(lbc).policy", "either policy (a documented controller policy) or policy_document, exactly one"),
        ({"vpc_id": None}, "ControllerRole(lbc).vpc_id", "the cluster's VPC id: the load balancer controller's policy lets it make security groups in that VPC only"),
        ({"oidc_issuer": f"https://{ISSUER}"}, "ControllerRole(lbc).oidc_issuer", "an OIDC issuer without https://"),
        ({"namespace": "Bad_NS"}, "ControllerRole(lbc).namespace", "a Kubernetes DNS-1123 label"),
        ({"max_session_duration_seconds": 60}, "ControllerRole(lbc).max_session_duration_seconds", "a number at least 3600 seconds"),
    ],
)
def test_bad_arguments_register_nothing(overrides, path, expected):
    with pytest.raises(PreviewError) as caught:
        preview(lambda: ControllerRole("lbc", **{**_minimal(), **overrides}), config={"aws:region": "eu-west-1"})
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [issue.path for issue in error.issues] == [path]
    assert error.issues[0].expected.startswith(expected)
    assert find_all(caught.value.plan, "aws:iam/role:Role") == []
