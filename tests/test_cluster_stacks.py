"""The cluster layer (issue 11): the cluster project clusters/ and the platform stacks reading it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from platform_lib.core.errors import ConfigError
from platform_lib.platform.cluster import parse_cluster_config
from platform_lib.preview import PreviewError, engine, run_preview
from platform_lib.testing import policy_violations

from .cluster_outputs import DATA, PREVIEW_REFERENCED_STACK
from .conftest import REPO_ROOT

CLUSTERS = REPO_ROOT / "clusters"
CLUSTER_STACKS = ["dev", "gcp-dev", "prod", "staging"]
CONTRACT = {"kubeconfig", "clusterName", "kubernetesVersion", "cloud", "gpuNodePools", "otelCollectorEndpoint", "prometheusNamespace"}


@pytest.fixture(scope="module", params=CLUSTER_STACKS)
def cluster(request):
    plan, logs = run_preview(CLUSTERS, request.param)
    return request.param, plan, logs


def test_the_cluster_project_is_its_own_pulumi_project_with_four_stacks():
    project = yaml.safe_load((CLUSTERS / "Pulumi.yaml").read_text())
    assert project["name"] == "ml-platform-cluster" and project["runtime"]["name"] == "python"
    assert sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in CLUSTERS.glob("Pulumi.*.yaml")) == CLUSTER_STACKS
    bindings = yaml.safe_load((CLUSTERS / "policies" / "environments.yaml").read_text())["stacks"]
    assert bindings == {"dev": "dev", "gcp-dev": "dev", "staging": "staging", "prod": "prod"}


def test_each_cluster_stack_passes_its_policy_gate_with_no_mandatory_violation(cluster):
    name, plan, logs = cluster
    violations = policy_violations(plan, CLUSTERS, name)
    assert [v for v in violations if v["level"] == "mandatory"] == []
    # No warning at all: the shipped receivers name Secrets, so no secure: value is left undecrypted.
    assert [message for level, message in logs if level in ("warning", "error")] == []


def test_each_cluster_stack_routes_the_platform_alerts_to_a_receiver_secret_it_does_not_hold(cluster):
    name, plan, _ = cluster
    routes = [r for r in plan.resources if r.type.endswith("AlertmanagerConfig")]
    assert routes, f"{name}: no AlertmanagerConfig for the platform's alerts"
    receivers = [rc for r in routes for rc in r.inputs["spec"]["receivers"] if rc["name"] != "null"]
    keys = [cfg[key] for rc in receivers for kind in ("pagerdutyConfigs", "slackConfigs") for cfg in rc.get(kind, [])
            for key in ("routingKey", "apiURL") if key in cfg]
    assert keys and all(set(k) == {"name", "key"} for k in keys), keys
    assert not [r for r in plan.resources if r.type == "kubernetes:core/v1:Secret" and "receiver" in r.name], "no receiver Secret is made from config"


def test_each_cluster_stack_holds_the_cluster_its_node_groups_a_gpu_one_and_the_add_ons_as_helm_releases(cluster):
    name, plan, _ = cluster
    if name == "gcp-dev":
        assert len(plan.by_type("mlplat:gcp:GkeCluster")) == 1 and len(plan.by_type("gcp:container/cluster:Cluster")) == 1
        pools = plan.by_type("gcp:container/nodePool:NodePool")
        assert any(p.inputs["nodeConfig"].get("guestAccelerators") or "g2-" in p.inputs["nodeConfig"].get("machineType", "") for p in pools)
    else:
        assert len(plan.by_type("mlplat:aws:EksCluster")) == 1 and len(plan.by_type("aws:eks/cluster:Cluster")) == 1
        groups = plan.by_type("aws:eks/nodeGroup:NodeGroup")
        gpu = [g for g in groups if g.inputs.get("amiType", "").endswith("NVIDIA")]
        assert gpu and len(groups) > len(gpu), "a system group and at least one GPU group"
        assert all(g.inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}] for g in gpu)
        (role,) = plan.by_type("mlplat:aws:ControllerRole")
        assert role.name.endswith("aws-load-balancer-controller")
    (addons,) = plan.by_type("mlplat:k8s:PlatformAddons")
    releases = {r.inputs["chart"] for r in plan.by_type("kubernetes:helm.sh/v3:Release")}
    assert {"kube-prometheus-stack", "argo-rollouts", "opentelemetry-collector"} <= releases
    if name != "gcp-dev":
        assert {"aws-load-balancer-controller", "metrics-server", "nvidia-device-plugin"} <= releases
    # Every add-on object goes to the cluster through the provider built from its kubeconfig.
    (provider,) = plan.by_type("pulumi:providers:kubernetes")
    assert "kubeconfig" in provider.secret_inputs
    assert all(r.options.provider.startswith(f"{provider.urn}::") for r in plan.resources if r.type.startswith("kubernetes:"))
    assert addons.urn in {r.parent for r in plan.by_type("kubernetes:helm.sh/v3:Release")} | {addons.urn}


def test_each_cluster_stack_exports_the_outputs_contract_with_the_kubeconfig_secret(cluster):
    name, plan, _ = cluster
    cloud_keys = {"workloadIdentityPool"} if name == "gcp-dev" else {"oidcProviderArn", "oidcIssuer", "vpcCidr"}
    assert CONTRACT | cloud_keys <= set(plan.outputs)
    assert plan.secret_outputs == ["kubeconfig"]
    assert plan.outputs["cloud"] == ("gcp" if name == "gcp-dev" else "aws")
    assert plan.outputs["gpuNodePools"] and all({"name", "labels", "taints"} <= set(pool) for pool in plan.outputs["gpuNodePools"])
    assert plan.outputs["otelCollectorEndpoint"].startswith("http://") and plan.outputs["prometheusNamespace"] == "monitoring"


def test_the_recorded_cluster_outputs_the_platform_tests_use_are_the_cluster_stacks_own(cluster):
    name, plan, _ = cluster
    recorded = json.loads((DATA / f"{name}.json").read_text())
    assert recorded == {key: value for key, value in plan.outputs.items() if key in recorded}
    assert set(plan.outputs) - set(recorded) == {"helmReleases"}


def test_the_platform_stacks_egress_cidrs_are_their_clusters_vpc():
    for env in ("dev", "staging", "prod"):
        platform = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{env}.yaml").read_text())["config"]["mlplat:cluster"]
        assert platform["stack"] == f"organization/ml-platform-cluster/{env}"
        assert platform["egressHttpsCidrs"] == [json.loads((DATA / f"{env}.json").read_text())["vpcCidr"]]


def test_prod_is_private_in_three_zones_with_spot_and_on_demand_gpu_groups_protected_and_retained():
    plan, _ = run_preview(CLUSTERS, "prod")
    (eks,) = plan.by_type("aws:eks/cluster:Cluster")
    assert eks.inputs["vpcConfig"]["endpointPublicAccess"] is False and eks.inputs["vpcConfig"]["endpointPrivateAccess"] is True
    assert eks.inputs.get("deletionProtection") is True
    assert len({s.inputs["availabilityZone"] for s in plan.by_type("aws:ec2/subnet:Subnet")}) == 3
    gpu = {g.inputs["capacityType"] for g in plan.by_type("aws:eks/nodeGroup:NodeGroup") if g.inputs.get("amiType", "").endswith("NVIDIA")}
    assert gpu == {"SPOT", "ON_DEMAND"}
    (component,) = plan.by_type("mlplat:aws:EksCluster")
    cluster_resources = [component, *[r for r in plan.resources if r.urn != component.urn and r.urn.split("::")[2].startswith("mlplat:aws:EksCluster$")]]
    assert len(cluster_resources) > 20
    assert all(r.options.protect and r.options.retain_on_delete for r in cluster_resources)
    # The add-ons are not protected: removing one from the config uninstalls it.
    assert not any(r.options.protect for r in plan.by_type("kubernetes:helm.sh/v3:Release"))


def test_dev_is_the_cheap_one_and_unprotected():
    plan, _ = run_preview(CLUSTERS, "dev")
    assert len(plan.by_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len({s.inputs["availabilityZone"] for s in plan.by_type("aws:ec2/subnet:Subnet")}) == 2
    assert not any(r.options.protect for r in plan.resources)


# --- bad cluster config: one message per problem at its config key, nothing registered ---------

BASE = {
    "environment": "prod",
    "region": "us-east-1",
    "tags": {"team": "ml-platform", "cost-center": "cc-4100"},
    "eks": {"platformAdminRoleArn": "arn:aws:iam::123456789012:role/ml-platform-admin"},
}


@pytest.mark.parametrize("override, path, expected", [
    ({"mlplat:eks": {**BASE["eks"], "gpuNodeGroups": [{"name": "gpu", "instanceTypes": ["m6i.large"]}]}},
     "mlplat:eks.gpuNodeGroups[0].instanceTypes", "EC2 instance types with NVIDIA GPUs"),
    ({"mlplat:eks": {**BASE["eks"], "kubernetesVersion": "1.20"}}, "mlplat:eks.kubernetesVersion", "standard support"),
    # Unquoted in YAML, 1.20 is the number 1.2: the message says to quote it.
    ({"mlplat:eks": {**BASE["eks"], "kubernetesVersion": 1.2}}, "mlplat:eks.kubernetesVersion", 'a quoted version string such as "1.35"'),
    ({"mlplat:eks": {**BASE["eks"], "gpuNodeGroups": [{"name": "gpu", "instanceTypes": ["g5.xlarge"], "minSize": 3, "maxSize": 2}]}},
     "mlplat:eks.gpuNodeGroups[0]", "max"),
    ({"mlplat:eks": {**BASE["eks"], "tags": {"team": "x"}}}, "mlplat:eks.tags", "no value: the stack sets it (mlplat:tags)"),
    ({"mlplat:addons": {"prometheusStorageGib": 0}}, "mlplat:addons.prometheusStorageGib", "a number at least 1 GiB"),
    ({"mlplat:eks": None}, "mlplat:eks", "the EksCluster block of an AWS cluster stack"),
])
def test_bad_cluster_config_is_one_message_at_its_key_and_registers_nothing(override, path, expected):
    overrides = {key: value for key, value in override.items() if value is not None}
    stack_file = CLUSTERS / "Pulumi.prod.yaml"
    with pytest.raises(PreviewError) as caught:
        if None in override.values():
            values = {**BASE}
            values.pop("eks")
            parse_and_build(values)
        else:
            run_preview(CLUSTERS, "prod", config_overrides=overrides)
    error = caught.value.__cause__
    assert isinstance(error, ConfigError), error
    assert len(error.issues) == 1, error.issues
    (issue,) = error.issues
    assert issue.path.startswith(path) and expected in issue.expected, issue
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]
    assert stack_file.is_file()


def parse_and_build(values):
    """Run the cluster program on ``values`` (the ``mlplat`` namespace) with the prod stack's other config."""
    from platform_lib.platform.cluster import build_cluster

    def program():
        build_cluster(parse_cluster_config(values, aws_region="us-east-1"))

    run_preview(CLUSTERS, "prod", program=program)


def test_a_gcp_cluster_block_on_aws_and_an_aws_one_on_gcp_are_refused():
    with pytest.raises(ConfigError) as caught:
        parse_cluster_config({**BASE, "gke": {"location": "europe-west4"}})
    assert [str(i) for i in caught.value.issues] == ["mlplat:gke: got {'location': 'europe-west4'}; expected no value on an AWS cluster stack (cloud: aws)"]
    with pytest.raises(ConfigError) as caught:
        parse_cluster_config({**BASE, "cloud": "gcp", "region": "europe-west4"})
    assert sorted(i.path for i in caught.value.issues) == ["gcp:project", "mlplat:eks", "mlplat:gke"]


def test_bad_cluster_config_exits_2_with_one_message_from_the_cli(tmp_path):
    clusters = tmp_path / "clusters"
    shutil.copytree(CLUSTERS, clusters)
    stack = yaml.safe_load((clusters / "Pulumi.prod.yaml").read_text())
    stack["config"]["mlplat:eks"]["gpuNodeGroups"][0]["instanceTypes"] = ["m6i.large"]
    (clusters / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack))
    result = _mlplat("preview", "-C", str(clusters), "--stack", "prod", "--no-policy")
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "- mlplat:eks.gpuNodeGroups[0].instanceTypes[0]: got 'm6i.large'; expected EC2 instance types with NVIDIA GPUs" in output
    assert "1 problem" in output and "No resources were registered." in output
    assert "Traceback" not in output


# --- the platform stacks through the cluster stack: the end-to-end path -------------------------

def test_platform_prod_previews_through_its_cluster_stacks_own_preview(monkeypatch):
    monkeypatch.setattr(engine, "preview_referenced_stack", PREVIEW_REFERENCED_STACK)
    from .team_stacks import team_blocks

    cluster_plan, _ = run_preview(CLUSTERS, "prod")
    # The shared prod stack composing the shipped prod teams (their request files as its config).
    plan, _ = run_preview(REPO_ROOT, "prod", config_overrides=team_blocks("prod"))
    (record,) = plan.stack_references
    assert record.stack == "organization/ml-platform-cluster/prod" and record.kind == "preview"
    assert record.secret_names == ["kubeconfig"]
    (provider,) = plan.by_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == cluster_plan.outputs["kubeconfig"] and "kubeconfig" in provider.secret_inputs
    assert plan.outputs["cluster"] == {"stack": "organization/ml-platform-cluster/prod", "name": "ml-prod"}


def test_a_prod_team_stack_builds_irsa_and_kubernetes_objects_from_its_cluster_stacks_preview(monkeypatch):
    """The team resources moved to team stacks (docs/teams.md); they read the cluster the same way."""
    monkeypatch.setattr(engine, "preview_referenced_stack", PREVIEW_REFERENCED_STACK)
    cluster_plan, _ = run_preview(CLUSTERS, "prod")
    plan, _ = run_preview(REPO_ROOT / "team-stack", "fraud-prod")
    assert [r.kind for r in plan.stack_references] == ["preview"]
    # IRSA: the team's workload role trusts the cluster stack's OIDC provider, read from its outputs.
    arn, issuer = cluster_plan.outputs["oidcProviderArn"], cluster_plan.outputs["oidcIssuer"]
    (role,) = [r for r in plan.by_type("aws:iam/role:Role") if r.name == "fraud-workload"]
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Condition"]["StringEquals"] == {f"{issuer}:sub": "system:serviceaccount:fraud:workload", f"{issuer}:aud": "sts.amazonaws.com"}
    assert role.inputs["description"].endswith("on cluster ml-prod (IRSA)")
    # Kubernetes objects (namespace, endpoint, ...) go through the provider built from the cluster's kubeconfig.
    (provider,) = plan.by_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == cluster_plan.outputs["kubeconfig"]
    objects = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert objects and all(r.options.provider.startswith(f"{provider.urn}::") for r in objects)
    # The endpoints send OTLP to the cluster's collector.
    workloads = plan.by_type("kubernetes:argoproj.io/v1alpha1:Rollout") + plan.by_type("kubernetes:apps/v1:Deployment")
    for workload in workloads:
        env = {e["name"]: e.get("value") for e in workload.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == cluster_plan.outputs["otelCollectorEndpoint"]


def _mlplat(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "platform_lib.cli", *args], capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600)


def test_mlplat_preview_of_prod_previews_the_cluster_first_and_passes_both_gates():
    result = _mlplat("preview", "--stack", "prod")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Referenced stack ml-platform-cluster/prod previewed first" in result.stdout
    assert "preview of" in result.stdout and "organization/ml-platform-cluster/prod" in result.stdout
    assert result.stdout.count("Policies: no violations") == 2


def test_mlplat_preview_of_the_prod_cluster_stack():
    result = _mlplat("preview", "-C", "clusters", "--stack", "prod")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "mlplat:aws:EksCluster" in result.stdout and "kubernetes:helm.sh/v3:Release" in result.stdout
    assert "Policies: no violations" in result.stdout


def test_every_problem_of_every_block_is_reported_at_once_at_its_config_key():
    from platform_lib.platform.cluster import cluster_component_args

    config = parse_cluster_config({**BASE, "eks": {**BASE["eks"], "bogusKey": 1, "systemNodeGroup": {"name": "system", "instanceTypes": ["m6i.large"], "minSize": 5, "maxSize": 2}},
                                   "addons": {"clusterName": "x", "prometheusRetentionDays": 0}})
    with pytest.raises(ConfigError) as caught:
        cluster_component_args(config)
    assert sorted(str(issue).split(";")[0] for issue in caught.value.issues) == [
        "mlplat:addons.clusterName: got 'x'",
        "mlplat:addons.prometheusRetentionDays: got 0",
        "mlplat:eks.bogusKey: got 1",
        "mlplat:eks.systemNodeGroup.maxSize: got 2",
    ]


def test_config_blocks_become_component_fields_but_data_keys_stay_as_written():
    from platform_lib.aws.eks_cluster import EksCluster
    from platform_lib.platform.cluster import snake_case_keys

    block = {"gpuNodeGroups": [{"instanceTypes": ["g5.xlarge"], "labels": {"myLabel": "x"}}], "addonVersions": {"vpc-cni": "v1"}, "typoKey": 1}
    assert snake_case_keys(block, EksCluster.args_model) == {
        "gpu_node_groups": [{"instance_types": ["g5.xlarge"], "labels": {"myLabel": "x"}}], "addon_versions": {"vpc-cni": "v1"}, "typoKey": 1,
    }


def test_gcp_dev_checks_that_its_clusters_workload_identity_pool_is_its_projects(monkeypatch, cluster_stack_outputs):
    from platform_lib.platform.cluster_reference import ClusterOutputError

    from .cluster_outputs import answer_stack_references

    plan, _ = run_preview(REPO_ROOT, "gcp-dev")
    assert plan.outputs["cluster"]["workloadIdentityPool"] == "ml-platform-dev.svc.id.goog"
    stack = "organization/ml-platform-cluster/gcp-dev"
    answer_stack_references(monkeypatch, {stack: {**cluster_stack_outputs[stack], "workloadIdentityPool": "other-project.svc.id.goog"}})
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, "gcp-dev")
    assert isinstance(caught.value.__cause__, ClusterOutputError)
    assert "workloadIdentityPool 'other-project.svc.id.goog' is not the pool of this stack's gcp:project (ml-platform-dev.svc.id.goog)" in str(caught.value.__cause__)


def test_a_plain_text_receiver_key_in_a_cluster_stack_file_is_refused_without_showing_it(tmp_path):
    # secure: values pass (the offline preview gets [secret]); plain text in the committed file did too.
    clusters = tmp_path / "clusters"
    shutil.copytree(CLUSTERS, clusters)
    stack = yaml.safe_load((clusters / "Pulumi.dev.yaml").read_text())
    receiver = stack["config"]["mlplat:observability"]["platformReceivers"][0]
    del receiver["secretRef"]
    receiver["secret"] = "https://hooks.slack.com/services/T0/B0/SUPERSECRETXYZ"
    (clusters / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    result = _mlplat("preview", "-C", str(clusters), "--stack", "dev", "--no-policy")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "- mlplat:observability.platformReceivers[0].secret: got '[secret]'; expected a secure: value" in output
    assert "SUPERSECRETXYZ" not in output and "No resources were registered." in output

    receiver["secret"] = {"secure": "v1:c2FsdA==:Y2lwaGVydGV4dA=="}  # as `pulumi config set --secret` writes it
    (clusters / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    result = _mlplat("preview", "-C", str(clusters), "--stack", "dev", "--no-policy")
    assert result.returncode == 0, result.stdout + result.stderr
