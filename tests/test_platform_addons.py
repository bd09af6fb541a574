"""PlatformAddons: the pinned releases it registers (versions, namespaces, values the platform
relies on), per-cloud defaults, GPU scheduling from the cluster's pools, the IRSA annotation,
the Grafana secret, and bad input refused before anything is registered."""

from __future__ import annotations

import json

import pulumi
import pytest

from platform_lib.core.errors import ComponentArgsError
from platform_lib.k8s.helm import CHARTS
from platform_lib.k8s.model_endpoint_spec import Observability
from platform_lib.k8s.platform_addons import ADDONS, DEFAULT_NAMESPACES, PlatformAddons
from platform_lib.policy.gate import run_gate
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

from .cases.platform_addons import GPU_POOLS, LABELS, ROLE_ARN, VPC_ID, _minimal
from .conftest import REPO_ROOT

RELEASE = "kubernetes:helm.sh/v3:Release"
PASSWORD = "correct-horse-battery-staple-42"


def _build(**overrides):
    outputs: dict = {}

    def program():
        # An Output is made inside the program (its event loop): a callable override is called here.
        given = {key: value() if callable(value) else value for key, value in overrides.items()}
        addons = PlatformAddons("prod", **{**_minimal(), **given})
        outputs["addons"] = addons
        pulumi.export("otelCollectorEndpoint", addons.otel_collector_endpoint)
        pulumi.export("prometheusNamespace", addons.prometheus_namespace)
        pulumi.export("namespaces", addons.namespaces)
        pulumi.export("releases", addons.releases)

    return preview(program, stack="prod")


@pytest.fixture(scope="module")
def plan():
    return _build(gpu_node_pools=GPU_POOLS, grafana_admin_password=lambda: pulumi.Output.secret(PASSWORD))


def _values(plan, addon):
    return find(plan, RELEASE, f"prod-{addon}").inputs["values"]


def test_every_add_on_is_one_release_of_its_pinned_chart_in_its_own_namespace(plan):
    releases = find_all(plan, RELEASE)
    assert [r.name for r in releases] == [f"prod-{a}" for a in ADDONS]
    for addon in ADDONS:
        inputs = find(plan, RELEASE, f"prod-{addon}").inputs
        chart = CHARTS[addon]
        assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (chart.name, chart.version, chart.repository)
        assert (inputs["name"], inputs["namespace"]) == (addon, DEFAULT_NAMESPACES[addon])
        assert (inputs["atomic"], inputs["skipAwait"]) == (True, False)
    namespaces = [r.inputs["metadata"]["name"] for r in find_all(plan, "kubernetes:core/v1:Namespace")]
    assert namespaces == [DEFAULT_NAMESPACES[a] for a in ADDONS] and len(set(namespaces)) == len(namespaces)


def test_namespaces_carry_the_standard_labels_and_pod_security_levels(plan):
    by_name = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"] for r in find_all(plan, "kubernetes:core/v1:Namespace")}
    for labels in by_name.values():
        assert {k: labels[k] for k in ("team", "cost-center", "environment", "managed-by")} == {**LABELS, "managed-by": "pulumi"}
        assert (labels["pod-security.kubernetes.io/audit"], labels["pod-security.kubernetes.io/warn"]) == ("restricted", "restricted")
    enforced = {name: labels["pod-security.kubernetes.io/enforce"] for name, labels in by_name.items()}
    assert enforced == {"monitoring": "privileged", "argo-rollouts": "baseline", "aws-load-balancer-controller": "baseline",
                        "metrics-server": "baseline", "nvidia-device-plugin": "privileged", "observability": "baseline"}


def test_no_add_on_namespace_may_open_a_load_balancer_or_node_port(plan):
    quotas = find_all(plan, "kubernetes:core/v1:ResourceQuota")
    assert sorted(q.inputs["metadata"]["namespace"] for q in quotas) == sorted(DEFAULT_NAMESPACES.values())
    assert all(q.inputs["spec"]["hard"] == {"services.loadbalancers": "0", "services.nodeports": "0"} for q in quotas)
    limit_ranges = find_all(plan, "kubernetes:core/v1:LimitRange")
    assert [lr.inputs["spec"]["limits"] for lr in limit_ranges] == [[{"type": "Container", "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]] * len(ADDONS)


def test_the_load_balancer_controller_runs_as_its_irsa_service_account(plan):
    values = _values(plan, "aws-load-balancer-controller")
    assert values["serviceAccount"] == {"create": True, "name": "aws-load-balancer-controller", "annotations": {"eks.amazonaws.com/role-arn": ROLE_ARN}}
    assert (values["clusterName"], values["region"], values["vpcId"]) == ("ml-prod", "eu-west-1", VPC_ID)


def test_no_other_controller_gets_a_cloud_identity(plan):
    for addon in ADDONS:
        if addon == "aws-load-balancer-controller":
            continue
        assert "eks.amazonaws.com/role-arn" not in repr(_values(plan, addon)), addon


def test_the_other_releases_wait_for_the_load_balancer_controller(plan):
    controller = find(plan, RELEASE, "prod-aws-load-balancer-controller")
    for addon in ADDONS:
        release = find(plan, RELEASE, f"prod-{addon}")
        namespace = find(plan, "kubernetes:core/v1:Namespace", f"prod-{addon}-namespace")
        assert namespace.urn in release.options.depends_on
        if ADDONS.index(addon) > ADDONS.index("aws-load-balancer-controller"):
            assert controller.urn in release.options.depends_on, addon


def test_the_nvidia_device_plugin_tolerates_and_targets_the_gpu_pools(plan):
    values = _values(plan, "nvidia-device-plugin")
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"matchExpressions": [{"key": "mlplat.io/gpu", "operator": "In", "values": ["a10g"]}]} in terms
    assert {"matchExpressions": [{"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]}]} in terms


def test_gpu_pools_given_as_an_output_reach_the_device_plugin():
    pools = [{"name": "spot-gpu", "labels": {"pool": "spot-gpu", "mlplat.io/gpu": "l4"}, "taints": [{"key": "spot", "value": "true", "effect": "NoExecute"}]}]
    values = _values(_build(gpu_node_pools=lambda: pulumi.Output.from_input(pools)), "nvidia-device-plugin")
    assert {"key": "spot", "operator": "Exists", "effect": "NoExecute"} in values["tolerations"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[-1] == {"matchExpressions": [{"key": "mlplat.io/gpu", "operator": "In", "values": ["l4"]}, {"key": "pool", "operator": "In", "values": ["spot-gpu"]}]}


def test_monitoring_installs_the_operator_crds_and_grafana_sidecars(plan):
    values = _values(plan, "kube-prometheus-stack")
    assert values["crds"] == {"enabled": True}
    assert values["grafana"]["sidecar"]["dashboards"] == {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"}
    assert values["grafana"]["sidecar"]["datasources"] == {"enabled": True}
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"] == {"requests": {"storage": "50Gi"}}


def test_the_grafana_password_is_a_secret_never_in_the_helm_values(plan):
    values = _values(plan, "kube-prometheus-stack")
    assert values["grafana"]["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}
    assert PASSWORD not in repr(values)
    secret = find(plan, "kubernetes:core/v1:Secret", "prod-grafana-admin")
    assert secret.inputs["metadata"]["namespace"] == "monitoring"
    assert "stringData" in secret.secret_inputs  # the whole map is secret once one value is
    assert PASSWORD not in json.dumps(plan.to_json())


def test_endpoints_send_telemetry_to_the_collector_by_default(plan):
    """ModelEndpoint's default OTLP endpoint and namespaces are the ones the add-ons install."""
    defaults = Observability.model_fields
    assert plan.outputs["otelCollectorEndpoint"] == defaults["otlp_endpoint"].default == "http://opentelemetry-collector.observability.svc.cluster.local:4317"
    assert plan.outputs["prometheusNamespace"] == defaults["prometheus_namespace"].default == "monitoring"
    assert DEFAULT_NAMESPACES["opentelemetry-collector"] == defaults["collector_namespace"].default


def test_the_collector_receives_otlp_and_exports_through_memory_limiter_and_batch(plan):
    values = _values(plan, "opentelemetry-collector")
    assert (values["mode"], values["fullnameOverride"]) == ("deployment", "opentelemetry-collector")
    protocols = values["config"]["receivers"]["otlp"]["protocols"]
    assert (protocols["grpc"]["endpoint"], protocols["http"]["endpoint"]) == ("${env:MY_POD_IP}:4317", "${env:MY_POD_IP}:4318")
    assert values["config"]["exporters"] == {"debug": {}}
    for pipeline in values["config"]["service"]["pipelines"].values():
        assert pipeline == {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"], "exporters": ["debug"]}
    assert sorted(p for p, v in values["ports"].items() if v["enabled"]) == ["otlp", "otlp-http"]


def test_the_collector_exports_to_a_given_endpoint_over_tls_unless_told_otherwise():
    values = _values(_build(otel_exporter_endpoint="tempo.observability.svc:4317"), "opentelemetry-collector")
    assert values["config"]["exporters"] == {"otlp": {"endpoint": "tempo.observability.svc:4317", "tls": {"insecure": False}}}
    assert values["config"]["service"]["pipelines"]["traces"]["exporters"] == ["otlp"]
    insecure = _values(_build(otel_exporter_endpoint="tempo.observability.svc:4317", otel_exporter_insecure=True), "opentelemetry-collector")
    assert insecure["config"]["exporters"]["otlp"]["tls"] == {"insecure": True}


def test_argo_rollouts_gets_only_the_alb_traffic_provider_rbac(plan):
    values = _values(plan, "argo-rollouts")
    assert values["installCRDs"] is True and values["keepCRDs"] is True
    assert [p for p, on in values["providerRBAC"]["providers"].items() if on] == ["awsLoadBalancerController"]


def test_outputs_name_every_release_and_version(plan):
    assert plan.outputs["namespaces"] == DEFAULT_NAMESPACES
    assert plan.outputs["releases"]["opentelemetry-collector"] == {"release": "opentelemetry-collector", "chart": "opentelemetry-collector", "version": "0.170.0", "namespace": "observability"}
    assert {a: r["version"] for a, r in plan.outputs["releases"].items()} == {a: CHARTS[a].version for a in ADDONS}


def test_gcp_installs_only_what_gke_does_not_run_itself():
    plan = preview(lambda: PlatformAddons("gke", cloud="gcp", cluster_name="ml-gke", labels=LABELS))
    assert [r.name for r in find_all(plan, RELEASE)] == ["gke-kube-prometheus-stack", "gke-argo-rollouts", "gke-opentelemetry-collector"]
    assert not any(find(plan, RELEASE, "gke-argo-rollouts").inputs["values"]["providerRBAC"]["providers"].values())


def test_add_ons_can_be_turned_off_and_values_overridden():
    plan = _build(enabled={"metrics-server": False, "nvidia-device-plugin": False}, values={"argo-rollouts": {"controller": {"replicas": 3}}},
                  namespaces={"argo-rollouts": "rollouts"})
    assert [r.name for r in find_all(plan, RELEASE)] == ["prod-kube-prometheus-stack", "prod-argo-rollouts", "prod-aws-load-balancer-controller", "prod-opentelemetry-collector"]
    argo = find(plan, RELEASE, "prod-argo-rollouts").inputs
    assert argo["namespace"] == "rollouts"
    assert argo["values"]["controller"] == {"replicas": 3} and argo["values"]["installCRDs"] is True  # merged, not replaced


def test_the_add_ons_pass_the_prod_policies_including_the_helm_pin(plan, policy_gate):
    violations = run_gate(plan, pack_dir=REPO_ROOT / "policies", stack_config={"mlplat:environment": "prod"}, gate=policy_gate)
    assert [(v["policy"], v["resource_name"], v["message"]) for v in violations if v["level"] == "mandatory"] == []


# ---------------------------------------------------------------- bad input

def _refused(**overrides) -> list:
    with pytest.raises(PreviewError) as caught:
        _build(**overrides)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError), error
    assert find_all(caught.value.plan, RELEASE) == [] and find_all(caught.value.plan, "kubernetes:core/v1:Namespace") == []
    return [(issue.path, issue.expected) for issue in error.issues]


def test_a_bad_override_names_its_json_path_and_the_schema():
    assert _refused(values={"opentelemetry-collector": {"mode": "sidecar", "replicas": 3}}) == [
        ("PlatformAddons(prod).values.opentelemetry-collector.mode",
         "one of ['daemonset', 'deployment', 'statefulset', ''] (values.schema.json of opentelemetry-collector 0.170.0)"),
        ("PlatformAddons(prod).values.opentelemetry-collector.replicas",
         "no such key: the chart allows no other keys here; did you mean replicaCount? (values.schema.json of opentelemetry-collector 0.170.0)"),
    ]


def test_a_misspelt_top_level_key_of_a_chart_without_a_schema_is_refused():
    assert _refused(values={"argo-rollouts": {"controler": {"replicas": 3}}}) == [
        ("PlatformAddons(prod).values.argo-rollouts.controler",
         "no such key: not a top-level key of the chart's values.yaml, so Helm would ignore it; did you mean controller? (values.yaml of argo-rollouts 2.41.0)"),
    ]


def test_the_load_balancer_controller_needs_its_role_vpc_and_region_on_aws():
    issues = _refused(load_balancer_controller_role_arn=None, vpc_id=None)
    assert [path for path, _ in issues] == ["PlatformAddons(prod).vpc_id", "PlatformAddons(prod).load_balancer_controller_role_arn"]
    assert issues[0][1].startswith("a value: the AWS Load Balancer Controller is on")


def test_the_load_balancer_controller_cannot_run_on_gcp():
    with pytest.raises(ComponentArgsError) as caught:
        PlatformAddons.validate_args("gke", cloud="gcp", cluster_name="ml-gke", labels=LABELS, enabled={"aws-load-balancer-controller": True})
    assert [(i.path, i.expected) for i in caught.value.issues] == [
        ("PlatformAddons(gke).enabled.aws-load-balancer-controller", "false for cloud 'gcp': the aws-load-balancer-controller runs on AWS only")]


@pytest.mark.parametrize(
    ("overrides", "path", "expected"),
    [
        ({"values": {"kube-prometheus-stack": {"grafana": {"adminPassword": "x"}}}}, "PlatformAddons(prod).values.kube-prometheus-stack.grafana.adminPassword",
         "no such override (no plain-text password in Helm values: pass grafana_admin_password (a secret Output))"),
        ({"values": {"aws-load-balancer-controller": {"serviceAccount": {"annotations": {}}}}},
         "PlatformAddons(prod).values.aws-load-balancer-controller.serviceAccount.annotations",
         "no such override (the IRSA annotation set from load_balancer_controller_role_arn)"),
        ({"enabled": {"metrics-server": False}, "values": {"metrics-server": {"replicas": 3}}}, "PlatformAddons(prod).values.metrics-server",
         "no values: metrics-server is not enabled"),
        ({"namespaces": {"argo-rollouts": "monitoring"}}, "PlatformAddons(prod).namespaces.argo-rollouts",
         "a namespace of its own (also kube-prometheus-stack's): each add-on runs in its own namespace"),
        ({"namespaces": {"argo-rollouts": "kube-system"}}, "PlatformAddons(prod).namespaces.argo-rollouts",
         "a namespace name not starting with 'kube-'"),
        ({"enabled": {"istio": True}}, "PlatformAddons(prod).enabled.istio", "one of 'kube-prometheus-stack', 'argo-rollouts', 'aws-load-balancer-controller'"),
        ({"gpu_node_pools": [{"name": "gpu", "taints": [{"key": "nvidia.com/gpu", "effect": "NoScheduled"}]}]}, "PlatformAddons(prod).gpu_node_pools",
         "a list of GPU node pools {name, labels: {key: value}, taints: [{key, value, effect}]} (at [0].taints[0].effect"),
        ({"otel_exporter_endpoint": "tempo"}, "PlatformAddons(prod).otel_exporter_endpoint", "an OTLP/gRPC endpoint: host:port"),
        ({"cluster_name": "ml prod"}, "PlatformAddons(prod).cluster_name", "a cluster name"),
        ({"labels": {"team": "platform"}}, "PlatformAddons(prod).labels", "labels including the standard keys"),
    ],
)
def test_bad_arguments_register_nothing(overrides, path, expected):
    issues = _refused(**overrides)
    assert [p for p, _ in issues] == [path], issues
    assert issues[0][1].startswith(expected), issues[0][1]


def test_a_bad_override_is_a_user_error_of_mlplat_preview(make_project):
    """``mlplat preview`` of a project with a bad override exits 2 with the path, no traceback."""
    from typer.testing import CliRunner

    from platform_lib.cli import EXIT_USER_ERROR, app

    program = """
    from platform_lib.k8s.platform_addons import PlatformAddons

    PlatformAddons("gke", cloud="gcp", cluster_name="ml-gke", labels={"team": "platform", "cost-center": "cc-1000", "environment": "dev"},
                   values={"opentelemetry-collector": {"replicas": 3}})
    """
    project = make_project(program, {"dev": {}}, name="addons-project")
    result = CliRunner().invoke(app, ["preview", "--cwd", str(project), "--stack", "dev", "--no-policy"], catch_exceptions=False,
                                env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "PlatformAddons(gke).values.opentelemetry-collector.replicas: got 3; expected no such key" in result.output
    assert "did you mean replicaCount?" in result.output and "Traceback" not in result.output
