"""TeamNamespace: PSS labels, quota values, LimitRange, RBAC, network policies, IRSA, bad args."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s
import pytest

from platform_lib.core.errors import _MISSING as MISSING
from platform_lib.core.errors import ComponentArgsError
from platform_lib.core.quantities import cpu_quantity, memory_quantity
from platform_lib.k8s.quota import ResourceQuotaSpec
from platform_lib.k8s.team_namespace import TEAM_ROLE_RULES, TeamNamespace, TeamNamespaceArgs
from platform_lib.preview import PreviewError, run_preview

from .conftest import REPO_ROOT

LABELS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
QUOTA = ResourceQuotaSpec(cpu=16, memory_gib=64, gpu=2, pods=40, load_balancers=1, storage_gib=200)
ROLE_ARN = "arn:aws:iam::123456789012:role/fraud-workload"


def preview(program):
    plan, _ = run_preview(REPO_ROOT, "dev", program=program)
    return plan


def one(plan, kind, name):
    found = [r for r in plan.resources if r.type.endswith(f":{kind}") and r.name == name]
    assert len(found) == 1, [(r.type, r.name) for r in plan.resources]
    return found[0]


def make(**overrides):
    values = {"labels": LABELS, "identity_group": "ml-fraud-engineers", "quota": QUOTA, **overrides}
    return lambda: TeamNamespace("fraud", **values)


@pytest.fixture(scope="module")
def plan():
    return preview(make(irsa_role_arn=ROLE_ARN, egress_https_cidrs=["10.20.0.0/16"]))


@pytest.mark.parametrize(
    ("vcpu", "quantity"), [(16, "16"), (0.5, "500m"), (1.25, "1250m"), (0.0004, "1m"), (2.0, "2"), (0.1, "100m")]
)
def test_cpu_quantity(vcpu, quantity):
    assert cpu_quantity(vcpu) == quantity


@pytest.mark.parametrize(("gib", "quantity"), [(64, "64Gi"), (0.5, "512Mi"), (0.25, "256Mi"), (1.5, "1536Mi"), (2000, "2000Gi")])
def test_memory_quantity(gib, quantity):
    assert memory_quantity(gib) == quantity


def test_namespace_is_labelled_for_pod_security_standards(plan):
    labels = one(plan, "Namespace", "fraud").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert {k: labels[k] for k in ("team", "cost-center", "environment", "managed-by")} == {**LABELS, "environment": "prod", "managed-by": "pulumi"}
    assert one(plan, "Namespace", "fraud").inputs["metadata"]["name"] == "fraud"


def test_the_component_protects_nothing_itself(plan):
    children = plan.children_of(one(plan, "TeamNamespace", "fraud").urn)
    assert children and all(not c.options.protect and not c.options.retain_on_delete for c in children)


def test_caller_options_reach_every_child():
    def program():
        provider = k8s.Provider("cluster", kubeconfig="{}")
        TeamNamespace("fraud", labels=LABELS, identity_group="g", quota=QUOTA, opts=pulumi.ResourceOptions(provider=provider, protect=True, retain_on_delete=True))

    plan = preview(program)
    provider = one(plan, "kubernetes", "cluster")
    children = plan.children_of(one(plan, "TeamNamespace", "fraud").urn)
    assert len(children) == 9
    for child in children:
        assert child.options.protect and child.options.retain_on_delete, child.name
        assert child.options.provider.startswith(provider.urn), child.name


def test_args_object_and_keywords_register_the_same_resources():
    by_args = preview(lambda: TeamNamespace("fraud", TeamNamespaceArgs(labels=LABELS, identity_group="g", quota=QUOTA)))
    by_keywords = preview(make(identity_group="g"))
    shapes = [sorted(((r.type, r.name, json.dumps(r.inputs, sort_keys=True)) for r in plan.resources)) for plan in (by_args, by_keywords)]
    assert shapes[0] == shapes[1]


def test_identifiers_may_be_outputs():
    def program():
        TeamNamespace(
            "fraud",
            labels={**LABELS, "team": pulumi.Output.from_input("fraud")},
            identity_group=pulumi.Output.from_input("ml-fraud-engineers"),
            quota=QUOTA,
            namespace=pulumi.Output.from_input("fraud-ml"),
            service_account_name=pulumi.Output.from_input("trainer"),
            irsa_role_arn=pulumi.Output.from_input(ROLE_ARN),
        )

    plan = preview(program)
    assert one(plan, "Namespace", "fraud").inputs["metadata"]["name"] == "fraud-ml"
    assert one(plan, "ResourceQuota", "fraud-quota").inputs["metadata"]["namespace"] == "fraud-ml"
    assert one(plan, "RoleBinding", "fraud-member").inputs["subjects"][0]["name"] == "ml-fraud-engineers"
    account = one(plan, "ServiceAccount", "fraud-workload").inputs["metadata"]
    assert (account["name"], account["annotations"]) == ("trainer", {"eks.amazonaws.com/role-arn": ROLE_ARN})
    assert one(plan, "LimitRange", "fraud-limits").inputs["metadata"]["labels"]["team"] == "fraud"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("namespace", "Fraud_Team", "a Kubernetes DNS-1123 label"),
        ("irsa_role_arn", "arn:aws:iam::123456789012:user/x", "an IAM role ARN"),
        ("service_account_name", "Trainer", "a Kubernetes DNS-1123 label"),
        ("identity_group", "", "a group name of 1 to 128 characters"),
    ],
)
def test_an_output_identifier_is_checked_when_its_value_is_known(field, value, expected):
    with pytest.raises(PreviewError) as caught:
        preview(make(**{field: pulumi.Output.from_input(value)}))
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [(i.path, i.expected.startswith(expected)) for i in error.issues] == [(f"TeamNamespace(fraud).{field}", True)]


def test_an_output_label_value_is_checked_when_known():
    with pytest.raises(PreviewError) as caught:
        preview(make(labels={**LABELS, "team": pulumi.Output.from_input("fraud team")}))
    assert [i.path for i in caught.value.__cause__.issues] == ["TeamNamespace(fraud).labels[team]"]


def test_the_name_must_be_a_dns_label_without_a_namespace_argument():
    with pytest.raises(ComponentArgsError) as caught:
        TeamNamespace.validate_args("Fraud Team", labels=LABELS, identity_group="g", quota=QUOTA)
    assert [i.path for i in caught.value.issues] == ["TeamNamespace(Fraud Team).namespace"]
    assert TeamNamespace.validate_args("Fraud Team", labels=LABELS, identity_group="g", quota=QUOTA, namespace="fraud").namespace == "fraud"


def test_baseline_enforcement_still_audits_and_warns_restricted():
    labels = one(preview(make(pod_security="baseline", pod_security_version="v1.31")), "Namespace", "fraud").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.31"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_quota_values_in_kubernetes_quantities(plan):
    quota = one(plan, "ResourceQuota", "fraud-quota")
    assert quota.inputs["metadata"]["namespace"] == "fraud"
    assert quota.inputs["spec"]["hard"] == {
        "requests.cpu": "16",
        "limits.cpu": "32",
        "requests.memory": "64Gi",
        "limits.memory": "128Gi",
        "requests.nvidia.com/gpu": "2",
        "pods": "40",
        "services.loadbalancers": "1",
        "services.nodeports": "0",
        "requests.storage": "200Gi",
        "persistentvolumeclaims": "20",
    }


def test_limit_range_gives_defaults_and_a_maximum(plan):
    (limit,) = one(plan, "LimitRange", "fraud-limits").inputs["spec"]["limits"]
    assert limit["type"] == "Container"
    assert limit["defaultRequest"] == {"cpu": "100m", "memory": "256Mi"}
    assert limit["default"] == {"cpu": "1", "memory": "1Gi"}
    assert limit["max"] == {"cpu": "16", "memory": "64Gi"}


def test_role_lists_explicit_verbs_and_resources(plan):
    rules = one(plan, "Role", "fraud-member").inputs["rules"]
    assert len(rules) == len(TEAM_ROLE_RULES)
    for rule in rules:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
    granted = {(group, resource, verb) for rule in rules for group in rule["apiGroups"] for resource in rule["resources"] for verb in rule["verbs"]}
    assert ("apps", "deployments", "create") in granted
    assert ("batch", "jobs", "delete") in granted
    # The team cannot widen its own namespace.
    assert not any(resource in ("roles", "rolebindings", "resourcequotas", "limitranges", "networkpolicies") and verb in ("create", "update", "patch", "delete") for _, resource, verb in granted)


def test_role_cannot_publish_a_load_balancer(plan):
    """Ingresses and Services are read-only for the team: load balancers go through ModelEndpoint."""
    rules = one(plan, "Role", "fraud-member").inputs["rules"]
    granted = {(group, resource, verb) for rule in rules for group in rule["apiGroups"] for resource in rule["resources"] for verb in rule["verbs"]}
    for group, resource in (("", "services"), ("networking.k8s.io", "ingresses")):
        assert {verb for g, r, verb in granted if (g, r) == (group, resource)} == {"get", "list", "watch"}


def test_the_component_name_may_not_be_a_system_namespace():
    with pytest.raises(ComponentArgsError) as caught:
        TeamNamespace.validate_args("kube-system", labels=LABELS, identity_group="ml-fraud-engineers", quota=QUOTA)
    (issue,) = caught.value.issues
    assert issue.path == "TeamNamespace(kube-system).namespace" and issue.value == "kube-system"
    assert issue.expected.startswith("a namespace name not starting with 'kube-'")


def test_role_binding_binds_the_identity_group(plan):
    binding = one(plan, "RoleBinding", "fraud-member")
    assert binding.inputs["subjects"] == [{"kind": "Group", "name": "ml-fraud-engineers", "apiGroup": "rbac.authorization.k8s.io"}]
    assert binding.inputs["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "team-member"}
    assert binding.inputs["metadata"]["namespace"] == "fraud"


def test_default_deny_covers_ingress_and_egress(plan):
    spec = one(plan, "NetworkPolicy", "fraud-default-deny").inputs["spec"]
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_dns_is_allowed_to_kube_dns_only(plan):
    spec = one(plan, "NetworkPolicy", "fraud-allow-dns").inputs["spec"]
    assert spec["policyTypes"] == ["Egress"]
    (rule,) = spec["egress"]
    assert rule["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    assert sorted((p["protocol"], p["port"]) for p in rule["ports"]) == [("TCP", 53), ("UDP", 53)]


def test_traffic_inside_the_namespace_and_https_egress_to_listed_cidrs(plan):
    same = one(plan, "NetworkPolicy", "fraud-allow-same-namespace").inputs["spec"]
    assert same["ingress"] == [{"from": [{"podSelector": {}}]}]
    assert same["egress"] == [{"to": [{"podSelector": {}}]}]
    https = one(plan, "NetworkPolicy", "fraud-allow-https-egress").inputs["spec"]
    assert https["egress"] == [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 443}]}]


def test_no_https_egress_policy_without_cidrs():
    plan = preview(make())
    assert not [r for r in plan.resources if r.name == "fraud-allow-https-egress"]
    assert "annotations" not in one(plan, "ServiceAccount", "fraud-workload").inputs["metadata"]


def test_service_account_is_annotated_for_irsa_and_does_not_mount_the_api_token(plan):
    account = one(plan, "ServiceAccount", "fraud-workload")
    assert account.inputs["metadata"]["name"] == "workload"
    assert account.inputs["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": ROLE_ARN}
    assert account.inputs["automountServiceAccountToken"] is False


def test_every_child_is_parented_to_the_component(plan):
    component = one(plan, "TeamNamespace", "fraud")
    children = plan.children_of(component.urn)
    assert len(children) == 10
    assert all(r.inputs["metadata"]["labels"]["team"] == "fraud" for r in children)


@pytest.mark.parametrize(
    ("overrides", "path", "value", "expected"),
    [
        ({"labels": {"team": "fraud"}}, "labels", {"team": "fraud"}, "labels including the standard keys team, cost-center, environment (missing: cost-center, environment)"),
        ({"labels": {**LABELS, "note": "has spaces"}}, "labels", {**LABELS, "note": "has spaces"}, "Kubernetes label keys and values"),
        ({"quota": {"cpu": -1, "memory_gib": 8}}, "quota.cpu", -1, "a number greater than 0"),
        ({"quota": {"cpu": 4}}, "quota.memory_gib", MISSING, "a value (this key is required)"),
        # Config allows a quota below the LimitRange's default container limits (1 vCPU, 1 GiB);
        # the namespace refuses it, naming the quota rather than the whole argument set.
        ({"quota": {"cpu": 0.5, "memory_gib": 8}}, "quota.cpu", 0.5, "at least the LimitRange's default container cpu limit (1 vCPU), or a lower default_cpu_limit"),
        ({"pod_security": "privileged"}, "pod_security", "privileged", "one of 'restricted' or 'baseline'"),
        ({"identity_group": ""}, "identity_group", "", "a group name of 1 to 128 characters"),
        ({"irsa_role_arn": "arn:aws:iam::123:user/x"}, "irsa_role_arn", "arn:aws:iam::123:user/x", "an IAM role ARN (arn:aws:iam::<account>:role/<name>)"),
        ({"egress_https_cidrs": ["0.0.0.0/0"]}, "egress_https_cidrs", ["0.0.0.0/0"], "CIDR blocks narrower than the whole internet (0.0.0.0/0 and ::/0 are refused)"),
        ({"egress_https_cidrs": ["10.0.0.1/8"]}, "egress_https_cidrs", ["10.0.0.1/8"], "CIDR blocks such as 10.0.0.0/16 ('10.0.0.1/8' is not one)"),
        ({"namespace": "Fraud_Team"}, "namespace", "Fraud_Team", "a Kubernetes DNS-1123 label (1-63 lowercase letters, digits and '-', alphanumeric at both ends)"),
        ({"default_cpu_limit": 32}, "default_cpu_limit", 32, "at most the per-container maximum (16 vCPU: max_container_cpu, default the quota's cpu)"),
        ({"default_memory_request_gib": 2}, "default_memory_request_gib", 2, "at most default_memory_limit_gib (1 GiB)"),
        ({"max_container_cpu": 0.5}, "max_container_cpu", 0.5, "at least default_cpu_limit (1 vCPU)"),
        ({"allow_privileged": True}, "allow_privileged", True, "no such key (unknown keys are rejected; check the spelling)"),
        # Built-in groups contain every caller of their kind (issue 10).
        *(({"identity_group": group}, "identity_group", group, "a group of the cluster's authenticator, not a built-in Kubernetes 'system:' group or user")
          for group in ("system:authenticated", "system:serviceaccounts", "system:unauthenticated", "system:masters", "system:nodes")),
        *(({"namespace": name}, "namespace", name, "a namespace name not starting with 'kube-'") for name in ("kube-system", "kube-public", "kube-node-lease", "kube-fraud")),
        ({"egress_https_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}, "egress_https_cidrs", ["0.0.0.0/1", "128.0.0.0/1"],
         "CIDR blocks that together are narrower than the whole internet (these cover all of 0.0.0.0/0)"),
        ({"egress_https_cidrs": ["10.0.0.0/8", "::/1", "8000::/1"]}, "egress_https_cidrs", ["10.0.0.0/8", "::/1", "8000::/1"],
         "CIDR blocks that together are narrower than the whole internet (these cover all of ::/0)"),
    ],
)
def test_bad_arguments_raise_before_anything_is_registered(overrides, path, value, expected):
    with pytest.raises(PreviewError) as caught:
        preview(make(**overrides))
    cause = caught.value.__cause__
    assert isinstance(cause, ComponentArgsError)
    (issue,) = [i for i in cause.issues if i.path == f"TeamNamespace(fraud).{path}"] or [None]
    assert issue is not None, [str(i) for i in cause.issues]
    assert (issue.value is MISSING) if value is MISSING else (issue.value == value)
    assert issue.expected.startswith(expected) or expected in issue.expected, issue.expected
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_every_object_is_valid_against_the_kubernetes_openapi_schema(plan):
    """Strict validation (unknown fields refused) against the Kubernetes 1.33 schemas, offline."""
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    objects = [r.inputs for r in plan.resources if r.type.startswith("kubernetes:")]
    assert len(objects) == 10
    for manifest in objects:
        kubernetes_validate.validate(manifest, "1.33.0", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**objects[0], "spec": {"finalizer": []}}, "1.33.0", strict=True)
