"""ModelEndpoint: zero-downtime settings, autoscaling, pod security, probes, audit trail, canary
analysis, A/B routing, observability, bad input, and the endpoints of the shipped stacks."""

from __future__ import annotations

import copy
import math

import pytest
from pydantic.alias_generators import to_camel

from platform_lib.platform.config import parse_platform_config
from platform_lib.core.errors import ComponentArgsError, ConfigError
from platform_lib.k8s.model_endpoint import ALERTS, ModelEndpoint
from platform_lib.preview import PreviewError, run_preview
from platform_lib.testing import find, find_all, preview
from tests.conftest import REPO_ROOT

DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud/detector:2.4.0@{DIGEST}"

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
ANALYSIS = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

BASE = {
    "namespace": "fraud",
    "labels": {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"},
    "model": {"name": "fraud-xgb", "version": "2.4.0", "registry_version": "17", "git_sha": "4e1d9c7b2a3f5e6d7c8b9a0f1e2d3c4b5a6f7e8d"},
    "image": IMAGE,
    "resources": {"cpu": 1, "memory_gib": 2},
    "autoscaling": {"min_replicas": 3, "max_replicas": 12, "target_cpu_utilization_percent": 65},
}
CANARY = {
    "steps": [{"weight": 5, "pause_seconds": 600}, {"weight": 20, "pause_seconds": 900}, {"weight": 50, "pause_seconds": None}],
    "analysis": {
        "name": "precision",
        "query": 'avg(model_precision{namespace="{{args.namespace}}",service="{{args.service}}",track="{{args.track}}"})',
        "success_condition": "result[0] >= 0.92",
        "interval_seconds": 120,
        "failure_limit": 2,
        "min_request_count": 200,
    },
}


def args(**changes):
    values = copy.deepcopy(BASE)
    values.update(copy.deepcopy(changes))
    return values


def build(values, name="fraud-detector"):
    return preview(lambda: ModelEndpoint(name, values))


def pod_spec(workload) -> dict:
    return workload.inputs["spec"]["template"]["spec"]


def container(workload) -> dict:
    (only,) = pod_spec(workload)["containers"]
    return only


@pytest.fixture(scope="module")
def deployment_plan():
    return build(args())


@pytest.fixture(scope="module")
def canary_plan():
    return build(args(canary=CANARY))


# --- the base case: a Deployment ---------------------------------------------------------------


def test_component_type_and_children_are_parented_and_named_from_it(deployment_plan):
    component = find(deployment_plan, "mlplat:k8s:ModelEndpoint")
    children = deployment_plan.children_of(component.urn)
    assert sorted(c.type for c in children) == sorted([DEPLOYMENT, SERVICE, INGRESS, HPA, PDB, NETWORK_POLICY, SERVICE_MONITOR, PROMETHEUS_RULE])
    assert all(c.name.startswith("fraud-detector-") for c in children)
    assert all(c.inputs["metadata"]["namespace"] == "fraud" for c in children)
    assert component.outputs["workload_kind"] == "Deployment"
    assert component.outputs["peak_requests"] == {"pods": 13, "cpu": 13, "memory_gib": 26, "gpu": 0}
    assert not find_all(deployment_plan, ROLLOUT)


def test_deployment_rolls_out_with_zero_downtime(deployment_plan):
    deployment = find(deployment_plan, DEPLOYMENT)
    spec = deployment.inputs["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    assert spec["replicas"] == 3
    assert spec["minReadySeconds"] > 0
    # The autoscaler owns the replica count after creation.
    assert deployment.options.ignore_changes == ["spec.replicas"]
    assert spec["selector"]["matchLabels"] == {"app.kubernetes.io/name": "fraud-detector", "app.kubernetes.io/instance": "fraud-detector"}
    hook = container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] > hook > 0


def test_disruption_budget_always_allows_one_eviction(deployment_plan):
    budget = find(deployment_plan, PDB).inputs["spec"]
    assert budget["maxUnavailable"] == 1 and "minAvailable" not in budget
    assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    labels = find(deployment_plan, DEPLOYMENT).inputs["spec"]["template"]["metadata"]["labels"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()


def test_autoscaler_is_autoscaling_v2_on_cpu_utilisation(deployment_plan):
    hpa = find(deployment_plan, HPA)
    spec = hpa.inputs["spec"]
    assert hpa.inputs["apiVersion"] == "autoscaling/v2"
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "fraud-detector"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 12)
    assert spec["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}}]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_pods_spread_across_zones_and_nodes(deployment_plan):
    spread = {c["topologyKey"]: c for c in pod_spec(find(deployment_plan, DEPLOYMENT))["topologySpreadConstraints"]}
    zone = spread["topology.kubernetes.io/zone"]
    assert (zone["maxSkew"], zone["whenUnsatisfiable"]) == (1, "DoNotSchedule")
    assert zone["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "fraud-detector"
    assert zone["matchLabelKeys"] == ["pod-template-hash"]
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "ScheduleAnyway"


def test_pod_meets_the_restricted_pod_security_standard(deployment_plan):
    deployment = find(deployment_plan, DEPLOYMENT)
    pod = pod_spec(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = container(deployment)["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] > 0
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert security["readOnlyRootFilesystem"] is True
    assert "hostNetwork" not in pod and "hostPID" not in pod


def test_requests_limits_and_probes(deployment_plan):
    server = container(find(deployment_plan, DEPLOYMENT))
    assert server["image"] == IMAGE
    assert server["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    ready, live, startup = server["readinessProbe"], server["livenessProbe"], server["startupProbe"]
    assert ready["httpGet"] == {"path": "/ready", "port": "http", "scheme": "HTTP"}
    assert live["httpGet"]["path"] == "/healthz" and startup["httpGet"]["path"] == "/healthz"
    assert (ready["periodSeconds"], ready["failureThreshold"]) == (5, 3)
    assert (live["periodSeconds"], live["failureThreshold"]) == (10, 3)
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 300
    assert server["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_every_object_and_pod_carries_the_audit_trail(deployment_plan):
    expected_annotations = {
        "mlplat.io/model-name": "fraud-xgb",
        "mlplat.io/model-version": "2.4.0",
        "mlplat.io/model-registry-version": "17",
        "mlplat.io/git-sha": "4e1d9c7b2a3f5e6d7c8b9a0f1e2d3c4b5a6f7e8d",
        "mlplat.io/image-digest": DIGEST,
        "mlplat.io/image": IMAGE,
    }
    expected_labels = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod", "app.kubernetes.io/version": "2.4.0", "mlplat.io/model-name": "fraud-xgb", "mlplat.io/model-version": "2.4.0"}
    objects = [r for r in deployment_plan.resources if r.type.startswith("kubernetes:")]
    template = find(deployment_plan, DEPLOYMENT).inputs["spec"]["template"]["metadata"]
    for metadata in [o.inputs["metadata"] for o in objects] + [template]:
        assert expected_annotations.items() <= metadata["annotations"].items()
        assert expected_labels.items() <= metadata["labels"].items()


def test_fractional_resources_become_millicores_and_mebibytes_never_zero():
    server = container(find(build(args(resources={"cpu": 0.0004, "memory_gib": 0.5})), DEPLOYMENT))
    # 0.4 millicores rounds up to 1m (a 0m request would make CPU utilisation undefined for the HPA).
    assert server["resources"] == {"requests": {"cpu": "1m", "memory": "512Mi"}, "limits": {"cpu": "1m", "memory": "512Mi"}}


def test_pods_carry_the_opentelemetry_settings(deployment_plan):
    env = {e["name"]: e["value"] for e in container(find(deployment_plan, DEPLOYMENT))["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://opentelemetry-collector.observability.svc.cluster.local:4317"
    assert env["OTEL_SERVICE_NAME"] == "fraud-detector"
    assert env["OTEL_PROPAGATORS"].split(",")[0] == "tracecontext"  # W3C Trace Context
    attributes = dict(pair.split("=", 1) for pair in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    assert attributes["service.version"] == "2.4.0" and attributes["deployment.environment.name"] == "prod"
    assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"


def test_ingress_is_an_internal_alb_by_default(deployment_plan):
    ingress = find(deployment_plan, INGRESS).inputs
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/ready"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "fraud-detector", "port": {"name": "http"}}
    service = find(deployment_plan, SERVICE).inputs
    assert service["metadata"]["name"] == "fraud-detector" and service["spec"]["type"] == "ClusterIP"


def test_component_reports_the_internal_load_balancer_hostname(deployment_plan):
    hostname = find(deployment_plan, "mlplat:k8s:ModelEndpoint").outputs["load_balancer_hostname"]
    assert hostname.startswith("internal-k8s-fraud-frauddet-") and hostname.endswith(".us-east-1.elb.amazonaws.com")


def test_internet_facing_https_is_an_explicit_opt_out():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"
    plan = build(args(exposure={"internet_facing": True, "certificate_arn": arn, "host": "fraud.example.com"}))
    ingress = find(plan, INGRESS).inputs
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == arn
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS": 443}]'
    assert ingress["spec"]["rules"][0]["host"] == "fraud.example.com"
    assert find(plan, "mlplat:k8s:ModelEndpoint").outputs["load_balancer_hostname"].startswith("k8s-fraud-frauddet-")


def test_plain_http_to_the_internet_is_an_explicit_opt_out_and_flagged_by_the_gate():
    from platform_lib.policy.catalogue import Resource, get_rule

    plan = build(args(allow_plain_http=True, exposure={"internet_facing": True}))
    ingress = find(plan, INGRESS)
    assert ingress.inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTP": 80}]'
    subject = Resource(type=INGRESS, name=ingress.name, urn=ingress.urn, props=ingress.inputs)
    assert get_rule("k8s-internet-facing-load-balancer-tls").run(subject) == [
        "Ingress 'fraud-detector-ingress' is an internet-facing load balancer that has no certificate (alb.ingress.kubernetes.io/certificate-arn or spec.tls)"]


def test_an_internal_endpoint_with_a_certificate_serves_https_only():
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"
    annotations = find(build(args(exposure={"certificate_arn": arn})), INGRESS).inputs["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTPS": 443}]'
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == arn


def test_cluster_only_endpoint_has_no_ingress_and_admits_no_load_balancer():
    plan = build(args(exposure={"enabled": False}))
    assert not find_all(plan, INGRESS)
    assert find(plan, "mlplat:k8s:ModelEndpoint").outputs.get("load_balancer_hostname") is None
    sources = find(plan, NETWORK_POLICY).inputs["spec"]["ingress"][0]["from"]
    assert all("ipBlock" not in source for source in sources)


def test_network_policy_admits_load_balancer_prometheus_and_clients_only():
    plan = build(args(exposure={"load_balancer_source_cidrs": ["10.20.0.0/16"], "client_namespaces": ["risk"]}))
    policy = find(plan, NETWORK_POLICY).inputs["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "fraud-detector", "app.kubernetes.io/instance": "fraud-detector"}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert ingress["from"] == [
        {"ipBlock": {"cidr": "10.20.0.0/16"}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "risk"}}},
    ]
    assert policy["egress"] == [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}], "ports": [{"protocol": "TCP", "port": 4317}]}]


def test_network_policy_refuses_the_whole_internet_as_load_balancer():
    with pytest.raises(PreviewError) as raised:
        build(args(exposure={"load_balancer_source_cidrs": ["0.0.0.0/0"]}))
    assert [(i.path, i.value, i.expected) for i in raised.value.__cause__.issues] == [
        ("ModelEndpoint(fraud-detector).exposure.load_balancer_source_cidrs", ["0.0.0.0/0"], "CIDR blocks narrower than the whole internet (0.0.0.0/0 and ::/0 are refused)")
    ]
    assert [r.type for r in raised.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_gpu_pods_request_gpus_with_tolerations_and_node_selector():
    plan = build(args(resources={"cpu": 4, "memory_gib": 16, "gpu": 1}))
    deployment = find(plan, DEPLOYMENT)
    resources = container(deployment)["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == "1"
    assert pod_spec(deployment)["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod_spec(deployment)["nodeSelector"] == {"nvidia.com/gpu.present": "true"}


def test_gpu_placement_takes_tolerations_with_value_and_effect():
    tolerations = ["nvidia.com/gpu", {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoExecute"}]
    plan = build(args(resources={"cpu": 4, "memory_gib": 16, "gpu": 1}, gpu_placement={"node_selector": {"pool": "gpu"}, "tolerations": tolerations}))
    pod = pod_spec(find(plan, DEPLOYMENT))
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                                  {"key": "dedicated", "operator": "Equal", "effect": "NoExecute", "value": "ml"}]
    assert pod["nodeSelector"] == {"pool": "gpu"}


def test_gpu_placement_and_otlp_endpoint_take_outputs_the_cluster_stack_gives():
    def program():
        import pulumi

        values = {**args(resources={"cpu": 4, "memory_gib": 16, "gpu": 1}),
                  "gpu_placement": {"node_selector": pulumi.Output.from_input({"pool": "gpu"}),
                                    "tolerations": pulumi.Output.from_input([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}])},
                  "observability": {"otlp_endpoint": pulumi.Output.from_input("http://otel-collector.observability.svc:4318")}}
        ModelEndpoint("fraud-detector", values)

    plan = preview(program)
    deployment = find(plan, DEPLOYMENT)
    pod = pod_spec(deployment)
    assert pod["nodeSelector"] == {"pool": "gpu"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "effect": "NoSchedule", "value": "true"}]
    env = {e["name"]: e.get("value") for e in container(deployment)["env"]}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability.svc:4318"
    policy = find(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]
    assert policy["egress"][0]["ports"] == [{"protocol": "TCP", "port": 4318}]


def test_a_bad_toleration_from_an_output_fails_naming_the_field_when_it_arrives():
    def program():
        import pulumi

        ModelEndpoint("fraud-detector", {**args(resources={"cpu": 4, "memory_gib": 16, "gpu": 1}),
                                         "gpu_placement": {"tolerations": pulumi.Output.from_input([{"key": "nvidia.com/gpu", "effect": "Sometimes"}])}})

    with pytest.raises(PreviewError) as raised:
        preview(program)
    (issue,) = raised.value.__cause__.issues
    assert issue.path == "ModelEndpoint(fraud-detector).gpu_placement.tolerations"
    assert issue.expected.startswith("tolerations {key, operator: Exists|Equal, value (for Equal), effect: NoSchedule|PreferNoSchedule|NoExecute} (effect: ")


@pytest.mark.parametrize("toleration, expected", [
    ({"key": "gpu", "operator": "Equal", "effect": "NoSchedule"}, "value: Value error, a taint value (label value syntax) for operator Equal"),
    ({"key": "gpu", "operator": "Exists", "value": "x"}, "value: Value error, no value for operator Exists"),
])
def test_a_toleration_value_must_fit_its_operator(toleration, expected):
    with pytest.raises(PreviewError) as raised:
        build(args(resources={"gpu": 1}, gpu_placement={"tolerations": [toleration]}))
    (issue,) = raised.value.__cause__.issues
    assert issue.path == "ModelEndpoint(fraud-detector).gpu_placement.tolerations" and expected in issue.expected
    assert [r.type for r in raised.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_cpu_pods_have_no_gpu_placement(deployment_plan):
    pod = pod_spec(find(deployment_plan, DEPLOYMENT))
    assert "tolerations" not in pod and "nodeSelector" not in pod
    assert "nvidia.com/gpu" not in container(find(deployment_plan, DEPLOYMENT))["resources"]["limits"]


def test_service_monitor_and_slo_alerts(deployment_plan):
    monitor = find(deployment_plan, SERVICE_MONITOR).inputs
    assert (monitor["apiVersion"], monitor["kind"]) == ("monitoring.coreos.com/v1", "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s", "scheme": "http"}]
    root = find(deployment_plan, SERVICE).inputs["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= root.items()

    rule = find(deployment_plan, PROMETHEUS_RULE).inputs
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    alerts = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}
    assert set(alerts) == set(ALERTS)
    errors = alerts["ModelEndpointHighErrorRate"]["expr"]
    assert 'code=~"5.."' in errors and "[5m]" in errors and "[1h]" in errors and "> 0.01" in errors
    latency = alerts["ModelEndpointHighLatencyP99"]["expr"]
    assert latency.startswith("histogram_quantile(0.99,") and "http_request_duration_seconds_bucket" in latency and "> 0.5" in latency
    quality = alerts["ModelEndpointQualityBelowObjective"]["expr"]
    assert "avg_over_time(model_precision{" in quality and "[3600s]" in quality and "[21600s]" in quality and quality.count("< 0.9") == 2
    assert alerts["ModelEndpointHighErrorRate"]["labels"]["severity"] == "page"


# --- canary: an Argo Rollout with analysis ----------------------------------------------------------


def test_canary_renders_a_rollout_in_place_of_the_deployment(canary_plan):
    assert not find_all(canary_plan, DEPLOYMENT)
    rollout = find(canary_plan, ROLLOUT)
    assert (rollout.inputs["apiVersion"], rollout.inputs["kind"]) == ("argoproj.io/v1alpha1", "Rollout")
    assert rollout.inputs["metadata"]["name"] == "fraud-detector"
    assert rollout.options.ignore_changes == ["spec.replicas"]
    services = {s.inputs["metadata"]["name"] for s in find_all(canary_plan, SERVICE)}
    assert services == {"fraud-detector", "fraud-detector-stable", "fraud-detector-canary"}
    canary = rollout.inputs["spec"]["strategy"]["canary"]
    assert (canary["stableService"], canary["canaryService"]) == ("fraud-detector-stable", "fraud-detector-canary")
    # The same restricted, probed pod template as the Deployment.
    security = container(rollout)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"] == {"drop": ["ALL"]}
    assert {"readinessProbe", "livenessProbe", "startupProbe"} <= container(rollout).keys()
    assert pod_spec(rollout)["topologySpreadConstraints"][0]["matchLabelKeys"] == ["rollouts-pod-template-hash"]
    hpa = find(canary_plan, HPA).inputs["spec"]["scaleTargetRef"]
    assert hpa == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "fraud-detector"}


def test_rollout_steps_follow_the_canary_weights_and_pauses(canary_plan):
    steps = find(canary_plan, ROLLOUT).inputs["spec"]["strategy"]["canary"]["steps"]
    assert steps == [
        {"setWeight": 5}, {"pause": {"duration": "600s"}},
        {"setWeight": 20}, {"pause": {"duration": "900s"}},
        {"setWeight": 50}, {"pause": {}},
    ]


def test_alb_splits_the_traffic(canary_plan):
    canary = find(canary_plan, ROLLOUT).inputs["spec"]["strategy"]["canary"]
    ingress = find(canary_plan, INGRESS).inputs
    assert canary["trafficRouting"] == {"alb": {"ingress": ingress["metadata"]["name"], "rootService": "fraud-detector", "servicePort": 80}}
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "fraud-detector", "port": {"name": "use-annotation"}}
    assert canary["canaryMetadata"] == {"labels": {"track": "canary"}}
    assert canary["stableMetadata"] == {"labels": {"track": "stable"}}


def test_analysis_gates_the_canary_and_needs_traffic(canary_plan):
    rollout = find(canary_plan, ROLLOUT)
    template = find(canary_plan, ANALYSIS)
    analysis = rollout.inputs["spec"]["strategy"]["canary"]["analysis"]
    assert analysis["templates"] == [{"templateName": template.inputs["metadata"]["name"]}]
    assert analysis["startingStep"] == 1
    assert {"name": "track", "value": "canary"} in analysis["args"]
    assert template.urn in rollout.options.depends_on
    metrics = {m["name"]: m for m in template.inputs["spec"]["metrics"]}
    precision = metrics["precision"]
    assert precision["provider"]["prometheus"]["query"] == CANARY["analysis"]["query"]
    assert precision["successCondition"] == "result[0] >= 0.92"
    assert (precision["interval"], precision["failureLimit"]) == ("120s", 2)
    requests = metrics["request-count"]
    assert requests["successCondition"] == "result[0] >= 200"
    query = requests["provider"]["prometheus"]["query"]
    assert query.startswith("sum(increase(http_requests_total{") and 'track="{{args.track}}"' in query and "[120s]" in query
    # With no traffic the query answers 0, not an empty vector, so the condition fails.
    assert query.endswith("or vector(0)")
    assert metrics["error-rate"]["successCondition"] == "result[0] <= 0.01"
    assert metrics["latency-p99"]["successCondition"] == "result[0] <= 0.5"
    monitor = find(canary_plan, SERVICE_MONITOR).inputs["spec"]
    assert "track" in monitor["podTargetLabels"]
    stable = next(s for s in find_all(canary_plan, SERVICE) if s.inputs["metadata"]["name"] == "fraud-detector-stable")
    assert not monitor["selector"]["matchLabels"].items() <= stable.inputs["metadata"]["labels"].items()  # pods scraped once


def test_canary_peak_counts_the_full_surge(canary_plan):
    peak = find(canary_plan, "mlplat:k8s:ModelEndpoint").outputs["peak_requests"]
    assert peak == {"pods": 24, "cpu": 24, "memory_gib": 48, "gpu": 0}


def test_ab_test_by_header_routes_matching_requests_to_b():
    plan = build(args(ab_test={"split": "header", "header_name": "x-model-variant", "header_value": "v2"}))
    canary = find(plan, ROLLOUT).inputs["spec"]["strategy"]["canary"]
    assert canary["trafficRouting"]["managedRoutes"] == [{"name": "ab-header"}]
    assert canary["steps"] == [
        {"setCanaryScale": {"replicas": 3}},
        {"setHeaderRoute": {"name": "ab-header", "match": [{"headerName": "x-model-variant", "headerValue": {"exact": "v2"}}]}},
        {"pause": {}},
    ]
    assert not find_all(plan, ANALYSIS) and "analysis" not in canary


def test_ab_test_by_weight_holds_the_split_with_its_business_metric():
    analysis = {"name": "conversion", "query": "sum(rate(orders_total{track=\"{{args.track}}\"}[10m]))", "success_condition": "result[0] >= 0.05"}
    plan = build(args(ab_test={"split": "weight", "weight": 30, "analysis": analysis}))
    canary = find(plan, ROLLOUT).inputs["spec"]["strategy"]["canary"]
    assert canary["steps"] == [{"setWeight": 30}, {"pause": {}}]
    assert "managedRoutes" not in canary["trafficRouting"]
    metrics = {m["name"] for m in find(plan, ANALYSIS).inputs["spec"]["metrics"]}
    assert {"conversion", "request-count"} <= metrics


# --- bad input: a clear error and nothing registered -------------------------------------------------


def _steps(*weights):
    return {"steps": [{"weight": w} for w in weights], "analysis": CANARY["analysis"]}


MISSING = object()  # the key is absent
NAME = "ModelEndpoint(fraud-detector)"

#: case -> (arguments, issue path, the value the issue names, what it expects).
BAD_INPUTS = {
    "canary weight above 100": (args(canary=_steps(10, 150)), f"{NAME}.canary.steps[1].weight", 150, "a number at most 100"),
    "canary weight below 0": (args(canary=_steps(-5, 50)), f"{NAME}.canary.steps[0].weight", -5, "a number at least 0"),
    "canary weights not increasing": (args(canary=_steps(10, 50, 30)), f"{NAME}.canary.steps", _steps(10, 50, 30)["steps"], "weights strictly increasing from step to step (got [10, 50, 30])"),
    "canary weights repeated": (args(canary=_steps(20, 20)), f"{NAME}.canary.steps", _steps(20, 20)["steps"], "weights strictly increasing from step to step (got [20, 20])"),
    "analysis without a query": (args(canary={"steps": [{"weight": 10}], "analysis": {"success_condition": "result[0] > 0.9"}}), f"{NAME}.canary.analysis.query", MISSING, "a value (this key is required)"),
    "analysis with a blank query": (args(canary={"steps": [{"weight": 10}], "analysis": {"query": "   ", "success_condition": "result[0] > 0.9"}}), f"{NAME}.canary.analysis.query", "   ", "a non-blank value"),
    "canary without analysis": (args(canary={"steps": [{"weight": 10}]}), f"{NAME}.canary.analysis", MISSING, "a value (this key is required)"),
    "image without tag or digest": (args(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud/detector"), f"{NAME}.image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud/detector", "an image pinned by digest: <repository>[:<tag>]@sha256:<64 hex digits> (neither tag nor digest was given)"),
    "image with a tag only": (args(image="ghcr.io/acme/fraud-detector:2.4.0"), f"{NAME}.image", "ghcr.io/acme/fraud-detector:2.4.0", "an image pinned by digest: <repository>[:<tag>]@sha256:<64 hex digits> (a tag alone can be moved to another image)"),
    "image with a short digest": (args(image="ghcr.io/acme/fraud-detector@sha256:abc"), f"{NAME}.image", "ghcr.io/acme/fraud-detector@sha256:abc", "an image pinned by digest: <repository>[:<tag>]@sha256:<64 hex digits> (the digest 'sha256:abc' is not sha256:<64 lowercase hex digits>)"),
    "min replicas above max": (args(autoscaling={"min_replicas": 8, "max_replicas": 4}), f"{NAME}.autoscaling.min_replicas", 8, "at most the maximum number of replicas (4)"),
    "one replica": (args(autoscaling={"min_replicas": 1, "max_replicas": 4}), f"{NAME}.autoscaling.min_replicas", 1, "at least 2, so one pod keeps serving while another is drained or rescheduled (or allow_single_replica=True)"),
    "canary and A/B together": (args(canary=CANARY, ab_test={"split": "weight"}), f"{NAME}.ab_test", {"split": "weight", "weight": 50, "header_name": "x-model-variant", "header_value": "b", "analysis": None}, "no A/B test beside a canary: either a canary or an A/B test, not both (one Rollout runs one strategy at a time)"),
    "CPU limit below the request": (args(resources={"cpu": 2, "cpu_limit": 1}), f"{NAME}.resources.cpu_limit", 1.0, "at least the cpu request (2 vCPU)"),
    "canary without a load balancer": (args(canary=CANARY, exposure={"enabled": False}), f"{NAME}.exposure.enabled", False, "true for a canary or A/B test: the load balancer splits the traffic"),
    "label value with a space": (args(labels={"team": "fraud", "cost-center": "cc 4100", "environment": "prod"}), f"{NAME}.labels", {"team": "fraud", "cost-center": "cc 4100", "environment": "prod"}, "Kubernetes label keys and values (values: at most 63 letters, digits, '-', '_', '.'; bad: cost-center=cc 4100)"),
    "Prometheus selector label with a slash in the value": (args(observability={"prometheus_labels": {"release": "kube/prometheus"}}), f"{NAME}.observability.prometheus_labels", {"release": "kube/prometheus"}, "Kubernetes label keys and values (values: at most 63 letters, digits, '-', '_', '.'; bad: release=kube/prometheus)"),
    "internet-facing without a certificate": (args(exposure={"internet_facing": True}), f"{NAME}.exposure.certificate_arn", None,
        "an ACM certificate ARN for an internet-facing load balancer, so it serves HTTPS only (or allow_plain_http=True, for development clusters: plain HTTP on port 80 to the internet)"),
    "a Kubernetes system namespace": (args(namespace="kube-system"), f"{NAME}.namespace", "kube-system",
        "a namespace name not starting with 'kube-' (kube-system, kube-public, kube-node-lease and every kube-* name are reserved for Kubernetes)"),
    "service account name with an empty DNS label": (args(service_account_name="workload..x"), f"{NAME}.service_account_name", "workload..x", "a Kubernetes DNS-1123 subdomain (at most 253 lowercase letters, digits, '-' and '.', alphanumeric at both ends and around each '.')"),
    "namespace with a path": (args(namespace="../fraud"), f"{NAME}.namespace", "../fraud", "a Kubernetes DNS-1123 label (1-63 lowercase letters, digits and '-', alphanumeric at both ends)"),
    "GPU toleration with a bad taint key": (args(gpu_placement={"tolerations": ["nvidia.com/gpu", "gpu/../x"]}), f"{NAME}.gpu_placement.tolerations", ["nvidia.com/gpu", "gpu/../x"], "taint keys with the syntax of Kubernetes label keys ([prefix/]name, the name at most 63 letters, digits, '-', '_', '.'; bad: gpu/../x)"),
    "GPU toleration with a trailing newline": (args(gpu_placement={"tolerations": ["nvidia.com/gpu\n"]}), f"{NAME}.gpu_placement.tolerations", ["nvidia.com/gpu\n"], "taint keys with the syntax of Kubernetes label keys ([prefix/]name, the name at most 63 letters, digits, '-', '_', '.'; bad: nvidia.com/gpu\n)"),
    "GPU node selector with a trailing newline": (args(gpu_placement={"node_selector": {"gpu": "true\n"}}), f"{NAME}.gpu_placement.node_selector", {"gpu": "true\n"}, "Kubernetes label keys and values (values: at most 63 letters, digits, '-', '_', '.'; bad: gpu=true\n)"),
    "GPU node selector with a bad key": (args(gpu_placement={"node_selector": {"-gpu": "true"}}), f"{NAME}.gpu_placement.node_selector", {"-gpu": "true"}, "Kubernetes label keys and values (values: at most 63 letters, digits, '-', '_', '.'; bad: -gpu=true)"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_refused_before_anything_is_registered(case):
    values, path, value, expected = BAD_INPUTS[case]
    with pytest.raises(PreviewError) as raised:
        build(values)
    error = raised.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [issue.path for issue in error.issues] == [path], [str(i) for i in error.issues]
    (issue,) = error.issues
    assert str(issue).startswith(f"{path}: got {'<missing>' if value is MISSING else repr(value)}; "), str(issue)
    assert issue.expected == expected
    assert "nothing was created" in str(error)
    assert [r.type for r in raised.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_one_replica_is_an_explicit_opt_out():
    plan = build(args(allow_single_replica=True, autoscaling={"min_replicas": 1, "max_replicas": 2}))
    assert find(plan, DEPLOYMENT).inputs["spec"]["replicas"] == 1


def test_digest_only_image_is_accepted():
    image = f"ghcr.io/acme/fraud-detector@{DIGEST}"
    plan = build(args(image=image))
    assert container(find(plan, DEPLOYMENT))["image"] == image
    assert find(plan, DEPLOYMENT).inputs["metadata"]["annotations"]["mlplat.io/image-digest"] == DIGEST


# --- stack config -------------------------------------------------------------------------------------


def yaml_keys(value):
    """``value`` with every mapping key in camelCase, as in the stack YAML."""
    if isinstance(value, dict):
        return {to_camel(k): yaml_keys(v) for k, v in value.items()}
    return [yaml_keys(v) for v in value] if isinstance(value, list) else value


def _config(**overrides):
    values = {
        "environment": "prod",
        "region": "us-east-1",
        "tags": {"team": "ml-platform", "cost-center": "cc-4100"},
        "cluster": {"stack": "organization/ml-platform-cluster/prod"},
        "teams": [{"name": "fraud", "identityGroup": "g", "quota": {"cpu": 32, "memoryGib": 64, "pods": 40}}],
        # As the stack YAML spells it: camelCase keys.
        "endpoints": [yaml_keys({k: v for k, v in args(canary=CANARY, autoscaling={"min_replicas": 2, "max_replicas": 8}).items() if k not in ("namespace", "labels")}) | {"name": "fraud-detector", "team": "fraud"}],
    }
    values.update(overrides)
    return values


def test_config_accepts_an_endpoint_within_quota():
    config = parse_platform_config(_config())
    assert config.endpoints[0].peak_requests().cpu == 16


def test_config_refuses_an_endpoint_of_an_unknown_team():
    values = _config()
    values["endpoints"][0]["team"] = "payments"
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    assert any(i.path == "mlplat:endpoints[0].team" and "fraud" in i.expected for i in raised.value.issues)


def test_config_refuses_endpoints_above_the_team_quota():
    values = _config()
    values["endpoints"][0]["autoscaling"] = {"minReplicas": 2, "maxReplicas": 20}  # 40 pods x 1 vCPU at peak
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    messages = [str(i) for i in raised.value.issues if i.path == "mlplat:endpoints"]
    assert any("40 vCPU for team fraud" in m and "quota of 32 vCPU" in m for m in messages), messages


def test_config_refuses_one_replica_outside_dev():
    values = _config()
    values["endpoints"][0]["autoscaling"] = {"minReplicas": 1, "maxReplicas": 4}
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    assert any(i.path == "mlplat:endpoints[0].autoscaling.minReplicas" for i in raised.value.issues)


def test_config_refuses_a_container_limit_above_the_limit_range_max_and_peak_limits_above_the_quota():
    """Issue 10: cpuLimit above the namespace's LimitRange max passed (only requests were checked)."""
    values = _config()
    values["endpoints"][0]["resources"] = {"cpu": 1, "memoryGib": 2, "cpuLimit": 40}
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    messages = {i.path: str(i) for i in raised.value.issues}
    assert messages["mlplat:endpoints[0].resources.cpuLimit"] == (
        "mlplat:endpoints[0].resources.cpuLimit: got 40.0; expected a CPU limit of at most 32 vCPU, the per-container max of team fraud's LimitRange (the limit is 40 vCPU)")
    assert messages["mlplat:endpoints"] == (
        "mlplat:endpoints: got '640 vCPU of CPU limits for team fraud (endpoints[0])'; expected at most the team's quota's limits.cpu of 64 vCPU of CPU limits at peak (maxReplicas plus rollout surge)")
    values["endpoints"][0]["resources"] = {"cpu": 1, "memoryGib": 2, "cpuLimit": 4}  # 16 pods x 4 = 64 vCPU: exactly the quota's limits.cpu
    assert parse_platform_config(values).endpoints[0].peak_requests().cpu_limit == 64


def test_config_refuses_plain_http_to_the_internet_outside_dev():
    values = _config()
    values["endpoints"][0]["exposure"] = {"internetFacing": True}
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    assert [str(i) for i in raised.value.issues if i.path.startswith("mlplat:endpoints[0].exposure")] == [
        "mlplat:endpoints[0].exposure.certificateArn: got None; expected an ACM certificate ARN for an internet-facing endpoint outside dev (prod): plain HTTP to the internet is refused"]
    assert parse_platform_config({**values, "environment": "dev"}).endpoints[0].exposure.internet_facing


@pytest.mark.parametrize("stack", ["fraud-staging", "recsys-staging", "fraud-prod", "search-prod"])
def test_shipped_stacks_deploy_endpoints_in_their_teams_namespaces_within_quota(stack):
    from .team_stacks import preview_team, team_config

    plan, _ = preview_team(stack)
    endpoints = find_all(plan, "mlplat:k8s:ModelEndpoint")
    assert endpoints
    quotas = {t.name: t.quota.model_dump(by_alias=True) for t in team_config(stack).teams}
    used: dict[str, float] = {}
    for endpoint in endpoints:
        team = endpoint.name.split("-")[0]
        for child in plan.children_of(endpoint.urn):
            assert child.inputs["metadata"]["namespace"] == team
        used[team] = used.get(team, 0) + endpoint.outputs["peak_requests"]["cpu"]
        assert endpoint.outputs["peak_requests"]["memory_gib"] <= quotas[team]["memoryGib"]
    for team, cpu in used.items():
        assert cpu <= quotas[team]["cpu"]


def test_prod_ships_the_fraud_detection_model_by_canary_with_analysis():
    from .team_stacks import preview_team

    plan, _ = preview_team("fraud-prod")
    rollout = next(r for r in find_all(plan, ROLLOUT) if r.inputs["metadata"]["name"] == "fraud-detector")
    assert rollout.inputs["metadata"]["namespace"] == "fraud"
    canary = rollout.inputs["spec"]["strategy"]["canary"]
    weights = [s["setWeight"] for s in canary["steps"] if "setWeight" in s]
    assert weights == sorted(weights) and weights[0] <= 10
    template = next(r for r in find_all(plan, ANALYSIS) if r.inputs["metadata"]["namespace"] == "fraud")
    metrics = {m["name"]: m for m in template.inputs["spec"]["metrics"]}
    assert metrics["request-count"]["successCondition"] == "result[0] >= 200"
    assert metrics["precision"]["successCondition"] == "result[0] >= 0.92"
    assert math.isclose(float(find(plan, HPA, "fraud-fraud-detector-hpa").inputs["spec"]["minReplicas"]), 3)


def test_endpoint_objects_wait_for_their_team_namespace():
    from .team_stacks import preview_team

    plan, _ = preview_team("fraud-prod")
    namespace = next(r for r in plan.resources if r.type == "kubernetes:core/v1:Namespace" and r.outputs["metadata"]["name"] == "fraud")
    endpoint = find(plan, "mlplat:k8s:ModelEndpoint", "fraud-fraud-detector")
    children = [c for c in plan.children_of(endpoint.urn) if c.custom]
    assert len(children) == 11
    for child in children:
        assert namespace.urn in child.options.depends_on, child.name


def test_config_reports_endpoint_cross_field_problems_at_their_keys():
    values = _config()
    values["endpoints"][0]["abTest"] = {"split": "weight"}
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    assert [(i.path, i.value) for i in raised.value.issues] == [
        ("mlplat:endpoints[0].abTest", {"split": "weight", "weight": 50, "header_name": "x-model-variant", "header_value": "b", "analysis": None})
    ]
    values = _config()
    values["endpoints"][0]["autoscaling"] = {"minReplicas": 6, "maxReplicas": 4}
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    assert [str(i) for i in raised.value.issues] == ["mlplat:endpoints[0].autoscaling.minReplicas: got 6; expected at most the maximum number of replicas (4)"]


# --- the component contract: snake_case keywords, Outputs for identifiers, the caller's options -------


def test_keywords_and_an_args_object_register_the_same_resources():
    import json

    from platform_lib.k8s.model_endpoint import ModelEndpointArgs

    by_keywords = preview(lambda: ModelEndpoint("fraud-detector", **args(canary=CANARY)))
    by_args = preview(lambda: ModelEndpoint("fraud-detector", ModelEndpointArgs(**args(canary=CANARY))))
    shapes = [sorted((r.type, r.name, json.dumps(r.inputs, sort_keys=True)) for r in plan.resources) for plan in (by_keywords, by_args)]
    assert shapes[0] == shapes[1]


def test_camel_case_keywords_are_refused_by_name():
    with pytest.raises(ComponentArgsError) as raised:
        ModelEndpoint.validate_args("fraud-detector", **args(), maxSurge=2)
    assert [(i.path, i.expected) for i in raised.value.issues] == [(f"{NAME}.maxSurge", "no such key (unknown keys are rejected; check the spelling)")]


def test_namespace_service_account_and_label_values_may_be_outputs():
    import pulumi

    def program():
        ModelEndpoint(
            "fraud-detector",
            **{
                **args(canary=CANARY),
                "namespace": pulumi.Output.from_input("fraud"),
                "service_account_name": pulumi.Output.from_input("workload"),
                "labels": {"team": pulumi.Output.from_input("fraud"), "cost-center": "cc-4100", "environment": pulumi.Output.from_input("prod")},
            },
        )

    plan = preview(program)
    rollout = find(plan, ROLLOUT)
    assert rollout.inputs["metadata"]["namespace"] == "fraud"
    assert pod_spec(rollout)["serviceAccountName"] == "workload"
    assert {"name": "namespace", "value": "fraud"} in rollout.inputs["spec"]["strategy"]["canary"]["analysis"]["args"]
    env = {e["name"]: e["value"] for e in container(rollout)["env"]}
    attributes = dict(pair.split("=", 1) for pair in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    assert (attributes["service.namespace"], attributes["deployment.environment.name"]) == ("fraud", "prod")
    rule = find(plan, PROMETHEUS_RULE).inputs["spec"]["groups"][0]
    assert rule["name"] == "fraud.fraud-detector.slo"
    assert rule["rules"][0]["labels"] == {"severity": "page", "team": "fraud", "namespace": "fraud", "service": "fraud-detector"}
    assert find(plan, INGRESS).inputs["metadata"]["annotations"]["alb.ingress.kubernetes.io/tags"] == "team=fraud,cost-center=cc-4100,environment=prod,managed-by=pulumi"
    component = find(plan, "mlplat:k8s:ModelEndpoint")
    assert component.outputs["service_dns"] == "fraud-detector.fraud.svc.cluster.local"


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("namespace", "Fraud_Team", f"{NAME}.namespace"),
        ("service_account_name", "Workload Account", f"{NAME}.service_account_name"),
        ("labels", {"team": "fraud team", "cost-center": "cc-4100", "environment": "prod"}, f"{NAME}.labels[team]"),
    ],
)
def test_an_output_that_turns_out_invalid_is_refused_naming_the_field(field, value, path):
    import pulumi

    if field == "labels":
        value = {**value, "team": pulumi.Output.from_input(value["team"])}
    else:
        value = pulumi.Output.from_input(value)
    with pytest.raises(PreviewError) as raised:
        build({**args(), field: value})
    error = raised.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [i.path for i in error.issues] == [path]


def test_labels_need_the_standard_keys():
    with pytest.raises(ComponentArgsError) as raised:
        ModelEndpoint.validate_args("fraud-detector", **args(labels={"team": "fraud"}))
    assert [(i.path, i.expected) for i in raised.value.issues] == [
        (f"{NAME}.labels", "labels including the standard keys team, cost-center, environment (missing: cost-center, environment)")
    ]


def test_alert_severity_is_an_argument_paging_by_default(deployment_plan):
    plan = build(args(alert_severity="ticket"))
    severities = {r["labels"]["severity"] for r in find(plan, PROMETHEUS_RULE).inputs["spec"]["groups"][0]["rules"]}
    assert severities == {"ticket"}
    assert {r["labels"]["severity"] for r in find(deployment_plan, PROMETHEUS_RULE).inputs["spec"]["groups"][0]["rules"]} == {"page"}


def test_the_component_protects_nothing_itself_and_passes_the_callers_options_on():
    import pulumi
    import pulumi_kubernetes as k8s

    unprotected = build(args())
    assert all(not r.options.protect and not r.options.retain_on_delete for r in unprotected.resources)

    def program():
        provider = k8s.Provider("cluster", kubeconfig="{}")
        ModelEndpoint("fraud-detector", args(canary=CANARY), opts=pulumi.ResourceOptions(provider=provider, protect=True))

    plan = preview(program)
    provider = next(r for r in plan.resources if r.name == "cluster")
    children = plan.children_of(find(plan, "mlplat:k8s:ModelEndpoint").urn)
    assert len(children) == 11
    for child in children:
        assert child.options.protect, child.name
        assert child.options.provider.startswith(provider.urn), child.name


def test_the_platform_allows_one_replica_and_tickets_in_dev_only():
    from platform_lib.platform.compose import component_args

    for environment, allowed, severity in (("dev", True, "ticket"), ("staging", False, "ticket"), ("prod", False, "page")):
        values = _config(environment=environment)
        config = parse_platform_config(values)
        (endpoint,) = component_args(config).endpoints.values()
        assert (endpoint.allow_single_replica, endpoint.alert_severity) == (allowed, severity), environment
        assert endpoint.labels["environment"] == environment


def test_service_name_defaults_to_the_component_name_and_may_differ_from_it():
    named = preview(lambda: ModelEndpoint("fraud-endpoint", service_name="fraud-detector", **args()))
    assert find(named, DEPLOYMENT).name == "fraud-endpoint-deployment"
    assert find(named, DEPLOYMENT).inputs["metadata"]["name"] == "fraud-detector"
    assert ModelEndpoint.validate_args("fraud-detector", **args()).service_name == "fraud-detector"
    with pytest.raises(ComponentArgsError) as raised:
        ModelEndpoint.validate_args("Fraud Detector", **args())
    assert [i.path for i in raised.value.issues] == ["ModelEndpoint(Fraud Detector).service_name"]


@pytest.mark.parametrize("variable", ["DB_PASSWORD", "hf_token", "ClientSecret", "API_KEY"])
def test_a_plain_text_credential_in_env_is_refused_without_echoing_it(variable):
    with pytest.raises(PreviewError) as raised:
        build(args(env={"MODE": "serve", variable: "hunter2-in-clear"}))
    error = raised.value.__cause__
    assert isinstance(error, ComponentArgsError)
    (issue,) = error.issues
    assert issue.path == f"{NAME}.env.{variable}"
    assert issue.expected.startswith(f"a value_from with a secret_key_ref (a Kubernetes Secret's key) for {variable}")
    assert "hunter2-in-clear" not in str(error)
    assert [r.type for r in raised.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_env_reads_a_credential_from_a_secret_key():
    plan = build(args(env={"MODE": "serve", "DB_PASSWORD": {"value_from": {"secret_key_ref": {"name": "db-credentials", "key": "password"}}}}))
    env = container(find(plan, DEPLOYMENT))["env"]
    assert {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": "password"}}} in env
    assert {"name": "MODE", "value": "serve"} in env
