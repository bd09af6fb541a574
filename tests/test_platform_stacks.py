"""The shipped teams composed by deploy_teams: buckets, namespaces, IRSA, grants.

Each team is its own stack (``team-stack/``, ``<team>-<env>``, docs/teams.md); the fixture
previews every AWS team stack. Tests of the shared composition with several teams in one stack
give the shared stack the shipped teams as config (:func:`tests.team_stacks.team_blocks`).
"""

from __future__ import annotations

import json

import pytest
import yaml

from platform_lib.platform.config import ConfigError, parse_platform_config
from platform_lib.core.errors import ComponentArgsError
from platform_lib.core.policy_documents import irsa_trust_policy_document
from platform_lib.platform import build_platform
from platform_lib.preview import PreviewError, run_preview
from platform_lib.preview.engine import run_program

from .cluster_outputs import aws_outputs
from .conftest import REPO_ROOT, SHIPPED_STACKS
from .team_stacks import preview_team, shared_config_with_teams, team_blocks, team_config, team_stacks

# The AWS team stacks; the GCP ones (GCS buckets, GCE box) are tested in test_gpu_training_box.py.
AWS_TEAM_STACKS = team_stacks(cloud="aws")


def stack_config(stack: str):
    """The shared stack's config of an environment with every shipped team of it."""
    return shared_config_with_teams(stack)


@pytest.fixture(scope="module", params=AWS_TEAM_STACKS)
def stack(request):
    plan, logs = preview_team(request.param)
    config = team_config(request.param)
    return config.environment.value, config, plan, logs


def test_the_aws_team_stacks_are_shipped():
    assert AWS_TEAM_STACKS == ["fraud-dev", "fraud-prod", "fraud-staging", "recsys-prod", "recsys-staging", "risk-prod", "search-dev", "search-prod"]


def test_the_shared_stacks_keep_no_team():
    for name in SHIPPED_STACKS:
        raw = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text())["config"]
        assert not {"mlplat:teams", "mlplat:endpoints", "mlplat:gpuBoxes"} & set(raw), name
        plan, _ = run_preview(REPO_ROOT, name)
        assert not plan.by_type("mlplat:k8s:TeamNamespace") and not plan.by_type("mlplat:aws:DataBucket")


def test_one_namespace_per_team_and_one_bucket_per_configured_bucket(stack):
    _, config, plan, logs = stack
    assert sorted(r.inputs["metadata"]["name"] for r in plan.by_type("kubernetes:core/v1:Namespace")) == sorted(t.name for t in config.teams)
    assert sorted(r.name for r in plan.by_type("mlplat:aws:DataBucket")) == sorted(b.name for t in config.teams for b in t.buckets)
    assert len(plan.by_type("mlplat:aws:AccessLogBucket")) == 1
    assert not [message for level, message in logs if level in ("warning", "error")]


def test_bucket_tags_name_the_owning_team(stack):
    name, config, plan, _ = stack
    owner = {b.name: t.name for t in config.teams for b in t.buckets}  # name: the environment
    buckets = {bucket.name: bucket for bucket in plan.by_type("aws:s3/bucket:Bucket")}
    assert owner and set(owner) <= set(buckets)  # every configured bucket is checked below
    for bucket_name, team in owner.items():
        assert buckets[bucket_name].inputs["tags"] == {"team": team, "cost-center": "cc-4100", "environment": name, "managed-by": "pulumi"}


def _role_arns(plan):
    return {r.name.removesuffix("-workload"): r.outputs["arn"] for r in plan.by_type("aws:iam/role:Role")}


def _grants(plan, env: str = ""):
    """(bucket, team, access, prefix) of every RolePolicy, read back from the registered inputs;
    a grant to another team's stack names that team's role (``<team>-<env>-workload``)."""
    buckets = {r.urn: r.name for r in plan.by_type("mlplat:aws:DataBucket")}
    role_names = {r.outputs["name"]: r.name.removesuffix("-workload") for r in plan.by_type("aws:iam/role:Role")}
    role_names = _OtherTeams(role_names, env)
    found = set()
    for policy in plan.by_type("aws:iam/rolePolicy:RolePolicy"):
        document = json.loads(policy.inputs["policy"])
        statements = {s["Sid"]: s for s in document["Statement"]}
        access = "read-write" if "ReadWriteObjects" in statements else "read"
        objects = statements.get("ReadWriteObjects") or statements["ReadObjects"]
        bucket_arn = statements["ListObjects"]["Resource"]
        prefix = objects["Resource"].removeprefix(f"{bucket_arn}/").removesuffix("*")
        found.add((buckets[policy.parent], role_names[policy.inputs["role"]], access, prefix))
    return found


class _OtherTeams(dict):
    def __init__(self, names, env):
        super().__init__(names)
        self.env = env

    def __missing__(self, role_name):
        return role_name.removesuffix(f"-{self.env}-workload")


def test_grants_are_exactly_owner_read_write_plus_config(stack):
    env, config, plan, _ = stack
    expected = set()
    for team in config.teams:
        for bucket in team.buckets:
            expected.add((bucket.name, team.name, "read-write", ""))
            expected.update((bucket.name, g.team, g.access, g.prefix) for g in bucket.grants)
    for box in config.gpu_boxes:  # GPU training boxes' roles (mlplat:gpuBoxes)
        expected.update((g.bucket, f"{box.name}-role", g.access, g.prefix) for g in box.grants)
    assert _grants(plan, env) == expected


def test_workload_roles_trust_only_their_namespace_service_account(stack):
    # The OIDC provider and issuer are the cluster stack's outputs (mlplat:cluster.stack), not typed in the stack file.
    name, config, plan, _ = stack
    cluster = aws_outputs(name)
    assert config.cluster.stack == f"organization/ml-platform-cluster/{name}"
    issuer = cluster["oidcIssuer"]
    box_roles = {f"{box.name}-role" for box in config.gpu_boxes}
    roles = {r.name: r for r in plan.by_type("aws:iam/role:Role") if r.name not in box_roles}
    assert sorted(roles) == sorted(f"{t.name}-workload" for t in config.teams)
    for team in config.teams:
        trust = json.loads(roles[f"{team.name}-workload"].inputs["assumeRolePolicy"])
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Federated": cluster["oidcProviderArn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {f"{issuer}:sub": f"system:serviceaccount:{team.name}:workload", f"{issuer}:aud": "sts.amazonaws.com"}
        }


def test_service_accounts_carry_their_teams_role_arn(stack):
    _, config, plan, _ = stack
    arns = _role_arns(plan)
    accounts = plan.by_type("kubernetes:core/v1:ServiceAccount")
    assert sorted(a.inputs["metadata"]["namespace"] for a in accounts) == sorted(t.name for t in config.teams)
    for account in accounts:
        metadata = account.inputs["metadata"]
        assert metadata["annotations"]["eks.amazonaws.com/role-arn"] == arns[metadata["namespace"]]


def test_quota_comes_from_team_config(stack):
    _, config, plan, _ = stack
    quotas = {r.inputs["metadata"]["namespace"]: r.inputs["spec"]["hard"] for r in plan.by_type("kubernetes:core/v1:ResourceQuota")}
    for team in config.teams:
        assert quotas[team.name]["requests.nvidia.com/gpu"] == str(team.quota.gpu)
        assert quotas[team.name]["pods"] == str(team.quota.pods)
        assert quotas[team.name]["requests.memory"] == f"{int(team.quota.memory_gib)}Gi"


def test_https_egress_goes_to_the_cluster_cidrs(stack):
    _, config, plan, _ = stack
    policies = [r for r in plan.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if r.inputs["metadata"]["name"] == "allow-https-egress"]
    assert len(policies) == len(config.teams)
    for policy in policies:
        assert policy.inputs["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": c}} for c in config.cluster.egress_https_cidrs]


def test_stack_outputs_give_each_team_its_names_and_arns(stack):
    _, config, plan, _ = stack
    (team,) = config.teams
    assert plan.outputs["team"] == team.name
    arns = _role_arns(plan)
    bucket_arns = {r.name: r.outputs["arn"] for r in plan.by_type("aws:s3/bucket:Bucket")}
    for team in config.teams:
        out = plan.outputs  # a team stack's outputs are its team's
        assert out["namespace"] == team.name and out["serviceAccount"] == "workload"
        assert out["workloadRoleArn"] == arns[team.name]
        assert sorted(out["buckets"]) == sorted(b.name for b in team.buckets)
        for bucket in team.buckets:
            assert out["buckets"][bucket.name]["arn"] == bucket_arns[bucket.name]
            assert out["buckets"][bucket.name]["kmsKeyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert plan.outputs["accessLogBucket"].startswith("access-logs-")


def test_prod_protects_and_retains_buckets_and_keys_dev_does_not(stack):
    name, _, plan, _ = stack
    stateful = plan.by_type("aws:s3/bucket:Bucket") + plan.by_type("aws:kms/key:Key") + plan.by_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") + plan.by_type("kubernetes:core/v1:Namespace")
    assert stateful
    expected = name == "prod"
    assert all(r.options.protect is expected and r.options.retain_on_delete is expected for r in stateful), name


def test_prod_protects_and_retains_every_team_namespace_object_dev_does_not(stack):
    # The platform layer passes protect/retain_on_delete as the TeamNamespace's options; they reach every child.
    name, _, plan, _ = stack
    expected = name == "prod"
    for component in plan.by_type("mlplat:k8s:TeamNamespace"):
        children = plan.children_of(component.urn)
        assert children
        assert all(r.options.protect is expected and r.options.retain_on_delete is expected for r in children), (name, component.name)


def test_irsa_trust_policy_document_is_pure():
    document = irsa_trust_policy_document("arn:aws:iam::123456789012:oidc-provider/oidc.example/id/X", "oidc.example/id/X", "fraud", "workload")
    condition = document["Statement"][0]["Condition"]["StringEquals"]
    assert condition == {"oidc.example/id/X:sub": "system:serviceaccount:fraud:workload", "oidc.example/id/X:aud": "sts.amazonaws.com"}


def test_components_switch_families_off():
    teams = team_blocks("dev")
    plan, _ = run_preview(REPO_ROOT, "dev", config_overrides={**teams, "mlplat:components": {"dataBuckets": False, "teamNamespaces": True}, "mlplat:gpuBoxes": []})
    assert not plan.by_type("mlplat:aws:DataBucket") and not plan.by_type("mlplat:aws:AccessLogBucket")
    assert len(plan.by_type("mlplat:k8s:TeamNamespace")) == 2
    plan, _ = run_preview(REPO_ROOT, "dev", config_overrides={**teams, "mlplat:components": {"dataBuckets": True, "teamNamespaces": False}})
    assert plan.by_type("mlplat:aws:DataBucket") and not plan.by_type("mlplat:k8s:TeamNamespace")


def test_no_access_log_bucket_when_no_bucket_logs():
    teams = [{"name": "fraud", "identityGroup": "g", "quota": {"cpu": 1, "memoryGib": 1}, "buckets": [{"name": "fraud-raw", "accessLogging": False}]}]
    plan, _ = run_preview(REPO_ROOT, "dev", config_overrides={"mlplat:teams": teams, "mlplat:gpuBoxes": []})
    assert not plan.by_type("mlplat:aws:AccessLogBucket")
    assert not plan.by_type("aws:s3/bucketLogging:BucketLogging")
    assert "accessLogBucket" not in plan.outputs


def test_without_a_cluster_no_roles_no_grants_and_a_warning():
    config = stack_config("dev").model_copy(update={"cluster": None, "gpu_boxes": []})
    config = config.model_copy(update={"components": config.components.model_copy(update={"team_namespaces": False, "model_endpoints": False})})
    plan, logs = run_program(lambda: build_platform(config), project="ml-platform", stack="dev")
    assert not plan.by_type("aws:iam/role:Role") and not plan.by_type("aws:iam/rolePolicy:RolePolicy")
    assert any(level == "warning" and "without grants" in message for level, message in logs)
    assert plan.by_type("mlplat:aws:DataBucket") and "cluster" not in plan.outputs


def test_kubernetes_objects_go_to_the_cluster_through_its_kubeconfig(stack):
    name, config, plan, _ = stack
    (provider,) = plan.by_type("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == aws_outputs(name)["kubeconfig"] and "kubeconfig" in provider.secret_inputs
    objects = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    types = {r.urn: r.type for r in plan.resources}
    assert {types.get(r.parent) for r in objects} >= {"mlplat:k8s:TeamNamespace", *(["mlplat:k8s:ModelEndpoint"] if config.endpoints else [])}
    for kubernetes_object in objects:
        assert kubernetes_object.options.provider.startswith(f"{provider.urn}::"), kubernetes_object.urn
    assert plan.outputs["cluster"] == {"stack": f"organization/ml-platform-cluster/{name}", "name": f"ml-{name}"}


@pytest.mark.parametrize("typed", [{"name": "ml-dev"}, {"oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/x", "oidcIssuer": "x"}])
def test_a_hand_typed_cluster_is_refused_naming_the_stack_output_instead(typed):
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, "dev", config_overrides={"mlplat:cluster": {"stack": "organization/ml-platform-cluster/dev", **typed}})
    error = caught.value.__cause__
    assert isinstance(error, ConfigError) and len(error.issues) == 1
    assert error.issues[0].path == "mlplat:cluster"
    assert error.issues[0].expected.startswith(f"no {', '.join(typed)}: the cluster's name and OIDC settings are the cluster stack's outputs")
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_a_cluster_stack_name_that_is_not_fully_qualified_is_a_config_error():
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, "dev", config_overrides={"mlplat:cluster": {"stack": "ml-platform-cluster/dev"}})
    assert "mlplat:cluster.stack: got 'ml-platform-cluster/dev'" in str(caught.value.__cause__)
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_wildcard_egress_cidr_in_config_is_a_config_error():
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, "dev", config_overrides={"mlplat:cluster": {"stack": "organization/ml-platform-cluster/dev", "egressHttpsCidrs": ["0.0.0.0/0"]}})
    assert isinstance(caught.value.__cause__, ConfigError)
    assert "mlplat:cluster.egressHttpsCidrs" in str(caught.value.__cause__)


# --- A bad component argument registers nothing (build_platform validates every component first) ---


def _refused(stack: str, *, overrides=None, program=None):
    """Run the stack; return the program's error and what it registered besides the Stack resource."""
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, stack, config_overrides=overrides, program=program)
    return caught.value.__cause__, [r.urn for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"]


def _raw_config(stack: str, key: str):
    if key in ("mlplat:teams", "mlplat:endpoints", "mlplat:gpuBoxes"):  # the shipped teams, as shared stack config
        return team_blocks(stack)[key]
    return yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"][key]


def test_team_namespace_refusing_a_quota_registers_nothing():
    # Config accepts a quota of 0.5 vCPU; TeamNamespace refuses it (its 1 vCPU default container
    # limit would exceed the quota). The buckets and roles built before the namespaces used to stay.
    teams = _raw_config("dev", "mlplat:teams")
    teams[-1]["quota"]["cpu"] = 0.5
    error, registered = _refused("dev", overrides={**team_blocks("dev"), "mlplat:teams": teams})
    assert isinstance(error, ComponentArgsError)
    team = teams[-1]["name"]
    assert [(i.path, i.value, i.expected) for i in error.issues] == [
        (f"TeamNamespace({team}).quota.cpu", 0.5, "at least the LimitRange's default container cpu limit (1 vCPU), or a lower default_cpu_limit")
    ]
    assert registered == []


def test_gcp_workload_identity_refusing_the_project_registers_nothing():
    error, registered = _refused("gcp-dev", overrides={**team_blocks("gcp-dev"), "gcp:project": "Bad_Project"})
    assert isinstance(error, ComponentArgsError)
    teams = [team["name"] for team in _raw_config("gcp-dev", "mlplat:teams")]
    boxes = [box["name"] for box in _raw_config("gcp-dev", "mlplat:gpuBoxes")]
    assert boxes and [(i.path, i.value) for i in error.issues] == [
        *((f"TeamWorkloadIdentity({team}).project", "Bad_Project") for team in teams),
        *((f"GcpGpuTrainingBox({box}).project", "Bad_Project") for box in boxes),
    ]
    assert all(i.expected.startswith(("a GCP project id", "a string matching ^[a-z][-a-z0-9]{4,28}[a-z0-9]$", "a project id")) for i in error.issues)
    assert registered == []


def test_a_gcp_stack_without_gcp_project_is_a_config_error_naming_the_key():
    error, registered = _refused("gcp-dev", overrides={"gcp:project": ""})
    assert isinstance(error, ConfigError)
    assert [issue.path for issue in error.issues] == ["gcp:project"]
    assert registered == []


def test_grants_follow_the_stacks_protection_and_the_buckets_theirs(stack):
    name, _, plan, _ = stack
    grants = plan.by_type("aws:iam/rolePolicy:RolePolicy")
    assert grants and all(r.options.protect is (name == "prod") for r in grants)


def test_gcs_bucket_refusing_the_location_registers_nothing():
    region = "europe-" + "w" * 40 + "4"  # a region by the config's pattern, longer than a GCS location may be
    error, registered = _refused("gcp-dev", overrides={**team_blocks("gcp-dev"), "mlplat:region": region})
    assert isinstance(error, ComponentArgsError)
    buckets = [b["name"] for team in _raw_config("gcp-dev", "mlplat:teams") for b in team.get("buckets", [])]
    assert buckets and [(i.path, i.value, i.expected) for i in error.issues] == [
        (f"GcsDataBucket({name}).location", region, "a string of at most 40 characters") for name in buckets
    ]
    assert registered == []


def test_static_site_refusing_its_directory_registers_nothing():
    error, registered = _refused("staging", overrides={"mlplat:staticSites": [{"name": "docs", "siteDir": "no/such/site"}]})
    assert isinstance(error, ComponentArgsError)
    assert [i.path for i in error.issues] == ["StaticSite(docs).site_dir"]
    assert str(error.issues[0].value).endswith("no/such/site")
    assert registered == []


# The config models already enforce these components' bounds, so the stack config cannot reach
# them; a config whose checked values were changed afterwards (model_copy skips validation)
# stands for a component bound tighter than the config's.


def test_data_bucket_refusing_its_name_registers_nothing():
    config = stack_config("staging")
    first, *others = config.teams
    bad_bucket = first.buckets[0].model_copy(update={"name": "Bad_Bucket"})
    bad = config.model_copy(update={"teams": [first.model_copy(update={"buckets": [bad_bucket, *first.buckets[1:]]}), *others]})
    error, registered = _refused("staging", program=lambda: build_platform(bad))
    assert isinstance(error, ComponentArgsError)
    assert [(i.path, i.value) for i in error.issues] == [("S3DataBucket(Bad_Bucket).name", "Bad_Bucket")]
    assert registered == []


def test_gpu_box_refusing_its_root_volume_registers_nothing():
    config = stack_config("dev")
    box = config.gpu_boxes[0]
    bad = config.model_copy(update={"gpu_boxes": [box.model_copy(update={"root_volume_gib": 60})]})
    error, registered = _refused("dev", program=lambda: build_platform(bad))
    assert isinstance(error, ComponentArgsError)
    assert [(i.path, i.value, i.expected) for i in error.issues] == [(f"AwsGpuTrainingBox({box.name}).root_volume_gib", 60, "a number at least 75 GiB")]
    assert registered == []


def test_model_endpoint_refusing_one_replica_outside_dev_registers_nothing():
    config = stack_config("staging")
    endpoint = config.endpoints[0]
    one = endpoint.model_copy(update={"autoscaling": endpoint.autoscaling.model_copy(update={"min_replicas": 1})})
    bad = config.model_copy(update={"endpoints": [one, *config.endpoints[1:]]})
    error, registered = _refused("staging", program=lambda: build_platform(bad))
    assert isinstance(error, ComponentArgsError)
    assert [(i.path, i.value) for i in error.issues] == [(f"ModelEndpoint({endpoint.team}-{endpoint.name}).autoscaling.min_replicas", 1)]
    assert error.issues[0].expected.startswith("at least 2, so one pod keeps serving")
    assert registered == []


def test_every_refused_argument_of_every_family_is_reported_at_once():
    teams = _raw_config("dev", "mlplat:teams")
    teams[-1]["quota"]["cpu"] = 0.5
    error, registered = _refused("dev", overrides={**team_blocks("dev"), "mlplat:teams": teams, "mlplat:staticSites": [{"name": "docs", "siteDir": "no/such/site"}]})
    assert sorted(i.path for i in error.issues) == ["StaticSite(docs).site_dir", f"TeamNamespace({teams[-1]['name']}).quota.cpu"]
    assert registered == []


# --- Endpoints on the cluster: OTel collector and GPU node pools from the cluster stack (issue 11) ---

def _prod_endpoints(**changes):
    """The shipped prod teams as shared stack config, the fraud-detector endpoint changed by ``changes``."""
    blocks = team_blocks("prod")
    endpoints = [{**endpoint, **changes} if endpoint["name"] == "fraud-detector" else endpoint for endpoint in blocks["mlplat:endpoints"]]
    return {**blocks, "mlplat:endpoints": endpoints}


def test_endpoints_send_traces_to_the_clusters_collector(monkeypatch, cluster_stack_outputs):
    from .cluster_outputs import answer_stack_references

    stack = "organization/ml-platform-cluster/prod"
    collector = "http://collector.telemetry.svc:4317"  # not ModelEndpoint's default: the value must come from the cluster
    answer_stack_references(monkeypatch, {stack: {**cluster_stack_outputs[stack], "otelCollectorEndpoint": collector}})
    plan, _ = run_preview(REPO_ROOT, "prod", config_overrides=team_blocks("prod"))
    workloads = plan.by_type("kubernetes:apps/v1:Deployment") + plan.by_type("kubernetes:argoproj.io/v1alpha1:Rollout")
    assert len(workloads) == len(team_blocks("prod")["mlplat:endpoints"]) >= 2
    for workload in workloads:
        (container,) = workload.inputs["spec"]["template"]["spec"]["containers"]
        assert {e["name"]: e.get("value") for e in container["env"]}["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector


def test_gpu_endpoint_pods_select_and_tolerate_the_clusters_gpu_node_pools():
    endpoints = _prod_endpoints(resources={"cpu": 1, "memoryGib": 2, "cpuLimit": 2, "gpu": 1}, autoscaling={"minReplicas": 2, "maxReplicas": 4})
    plan, _ = run_preview(REPO_ROOT, "prod", config_overrides=endpoints)
    (rollout,) = plan.by_type("kubernetes:argoproj.io/v1alpha1:Rollout")
    pod = rollout.inputs["spec"]["template"]["spec"]
    # The labels both prod GPU groups (gpu-spot, gpu-on-demand) carry; their mlplat.io/node-pool labels differ.
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true", "mlplat.io/gpu-class": "inference", "mlplat.io/accelerator": "nvidia"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    (deployment,) = plan.by_type("kubernetes:apps/v1:Deployment")  # the CPU endpoint: no GPU placement
    assert "tolerations" not in deployment.inputs["spec"]["template"]["spec"]


def test_an_endpoints_own_gpu_placement_wins_over_the_clusters():
    placement = {"nodeSelector": {"mlplat.io/node-pool": "gpu"}, "tolerations": ["nvidia.com/gpu"]}
    endpoints = _prod_endpoints(resources={"cpu": 1, "memoryGib": 2, "cpuLimit": 2, "gpu": 1}, autoscaling={"minReplicas": 2, "maxReplicas": 4}, gpuPlacement=placement)
    plan, _ = run_preview(REPO_ROOT, "prod", config_overrides=endpoints)
    pod = plan.by_type("kubernetes:argoproj.io/v1alpha1:Rollout")[0].inputs["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"mlplat.io/node-pool": "gpu"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_a_gpu_endpoint_on_a_cluster_without_gpu_pools_fails_naming_both(monkeypatch, cluster_stack_outputs):
    from platform_lib.platform.cluster_reference import ClusterOutputError

    from .cluster_outputs import answer_stack_references

    stack = "organization/ml-platform-cluster/prod"
    answer_stack_references(monkeypatch, {**cluster_stack_outputs, stack: {**cluster_stack_outputs[stack], "gpuNodePools": []}})
    endpoints = _prod_endpoints(resources={"cpu": 1, "memoryGib": 2, "cpuLimit": 2, "gpu": 1}, autoscaling={"minReplicas": 2, "maxReplicas": 4})
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, "prod", config_overrides=endpoints)
    assert isinstance(caught.value.__cause__, ClusterOutputError)
    assert str(caught.value.__cause__) == f"the endpoint fraud-fraud-detector requests GPUs, but the cluster stack {stack} has no GPU node pools (gpuNodePools is empty)"
