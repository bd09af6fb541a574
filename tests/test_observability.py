"""ObservabilityStack: what it registers (dashboards, data sources, GPU metrics, traces and logs,
alert routing), its argument checks, and how it meets PlatformAddons and ModelEndpoint."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from platform_lib.core.errors import ComponentArgsError
from platform_lib.k8s.helm import CHARTS
from platform_lib.k8s.model_endpoint import ModelEndpoint
from platform_lib.k8s.observability import ALERTMANAGER_CONFIG_LABEL, ObservabilityStack, ObservabilityStackArgs, platform_addons_values
from platform_lib.k8s.platform_addons import PlatformAddons, PlatformAddonsArgs, release_values
from platform_lib.testing import PreviewError, find, find_all, preview

from .cases.kubernetes import IMAGE, MODEL
from .cases.observability import LABELS, PAGERDUTY_KEY, SLACK_URL

WEBHOOK = "https://alerts.example.com/hooks/search"
TEAMS = [
    {"name": "fraud", "monthly_budget_usd": 5000.0, "workspace": True,
     "receivers": [{"name": "fraud-slack", "kind": "slack", "secret": SLACK_URL, "channel": "#fraud-alerts", "severities": ["ticket"]},
                   {"name": "fraud-pager", "kind": "pagerduty", "secret": PAGERDUTY_KEY, "severities": ["page"]}]},
    {"name": "search", "namespace": "search-prod"},
]
ENDPOINTS = [
    {"name": "fraud-detector", "namespace": "fraud", "team": "fraud", "progressive": True, "drift": True},
    {"name": "ranker", "namespace": "search-prod", "team": "search", "cloud": "gcp", "request_metric": "ranker_requests_total"},
]


def _args(**changes) -> dict:
    return {
        "labels": LABELS,
        "platform_receivers": [{"name": "platform-oncall", "kind": "pagerduty", "secret": PAGERDUTY_KEY},
                               {"name": "platform-hook", "kind": "webhook", "secret": WEBHOOK, "severities": ["ticket", "info"]}],
        "teams": TEAMS,
        "endpoints": ENDPOINTS,
        **changes,
    }


@pytest.fixture(scope="module")
def plan():
    return preview(lambda: ObservabilityStack("obs", **_args()))


def _by_object_name(plan, type_token: str) -> dict:
    return {r.inputs["metadata"]["name"] + "@" + r.inputs["metadata"]["namespace"]: r for r in find_all(plan, type_token)}


def test_one_dashboard_config_map_per_dashboard_for_the_grafana_sidecar(plan):
    maps = [r for r in find_all(plan, "kubernetes:core/v1:ConfigMap") if r.inputs["metadata"]["labels"].get("grafana_dashboard") == "1"]
    names = sorted(r.inputs["metadata"]["name"] for r in maps)
    assert names == ["mlplat-dashboard-endpoint-fraud-fraud-detector", "mlplat-dashboard-endpoint-search-prod-ranker",
                     "mlplat-dashboard-overview", "mlplat-dashboard-team-fraud", "mlplat-dashboard-team-search"]
    for config_map in maps:
        assert config_map.inputs["metadata"]["namespace"] == "monitoring"
        assert config_map.inputs["metadata"]["labels"]["team"] == "platform"
        assert config_map.inputs["metadata"]["annotations"] == {"grafana_folder": "ML platform"}
        (body,) = config_map.inputs["data"].values()
        model = json.loads(body)
        assert model["panels"] and model["uid"].startswith("mlplat-")
    ranker = next(r for r in maps if r.inputs["metadata"]["name"].endswith("ranker"))
    assert "ranker_requests_total" in next(iter(ranker.inputs["data"].values()))


def test_data_sources_link_traces_and_logs_both_ways(plan):
    (config_map,) = [r for r in find_all(plan, "kubernetes:core/v1:ConfigMap") if r.inputs["metadata"]["labels"].get("grafana_datasource") == "1"]
    assert config_map.inputs["metadata"]["namespace"] == "monitoring"
    sources = {s["uid"]: s for s in yaml.safe_load(config_map.inputs["data"]["mlplat-datasources.yaml"])["datasources"]}
    assert set(sources) == {"tempo", "loki"}
    assert sources["tempo"]["url"] == "http://tempo.observability.svc.cluster.local:3200"
    to_logs = sources["tempo"]["jsonData"]["tracesToLogsV2"]
    assert to_logs["datasourceUid"] == "loki" and to_logs["filterByTraceID"] is True
    assert 'trace_id="$${__trace.traceId}"' in to_logs["query"]  # $$: a literal $ in a provisioning file
    (derived,) = sources["loki"]["jsonData"]["derivedFields"]
    assert derived == {"name": "TraceID", "matcherType": "label", "matcherRegex": "trace_id", "datasourceUid": "tempo", "url": "$${__value.raw}", "urlDisplayLabel": "View trace"}


def test_dcgm_exporter_runs_on_gpu_nodes_and_is_scraped_with_its_pod_labels(plan):
    release = find(plan, "kubernetes:helm.sh/v3:Release", "obs-dcgm-exporter")
    chart = CHARTS["dcgm-exporter"]
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["repositoryOpts"]["repo"]) == (chart.name, "4.8.2", chart.repository)
    values = release.inputs["values"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {"matchExpressions": [{"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]}]} in terms
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]
    assert values["securityContext"]["capabilities"] == {"drop": ["ALL"]}  # no SYS_ADMIN
    assert values["serviceMonitor"] == {"enabled": False}
    monitor = find(plan, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "obs-dcgm-exporter-monitor")
    assert monitor.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor.inputs["spec"]["endpoints"][0]["honorLabels"] is True


def test_the_exporter_follows_the_clusters_gpu_pools_even_as_an_output():
    pools = [{"name": "gpu-l4", "labels": {"cloud.google.com/gke-accelerator": "nvidia-l4"}, "taints": [{"key": "gpu-pool", "value": "l4", "effect": "NoExecute"}]}]
    for as_output in (False, True):
        plan = preview(lambda: ObservabilityStack("obs", **_args(gpu_node_pools=pulumi.Output.from_input(pools) if as_output else pools)))
        values = find(plan, "kubernetes:helm.sh/v3:Release", "obs-dcgm-exporter").inputs["values"]
        terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert {"matchExpressions": [{"key": "cloud.google.com/gke-accelerator", "operator": "In", "values": ["nvidia-l4"]}]} in terms
        assert {"key": "gpu-pool", "operator": "Exists", "effect": "NoExecute"} in values["tolerations"]
    with pytest.raises(ComponentArgsError) as error:
        ObservabilityStack.validate_args("obs", **_args(gpu_node_pools=[{"name": "x", "taints": [{"key": "k", "effect": "Sometimes"}]}]))
    assert "ObservabilityStack(obs).gpu_node_pools: got" in str(error.value)


def test_gpu_alerts_follow_the_arguments():
    plan = preview(lambda: ObservabilityStack("obs", **_args(idle_gpu_utilization_percent=5, idle_gpu_hours=4, gpu_memory_pressure_percent=90)))
    rule = find(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "obs-gpu-alerts")
    idle, memory = rule.inputs["spec"]["groups"][0]["rules"]
    assert (idle["alert"], memory["alert"]) == ("GpuAllocatedButIdle", "GpuMemoryPressure")
    assert "[4h]" in idle["expr"] and idle["expr"].endswith("< 5") and memory["expr"].endswith("> 90")


def test_without_gpu_metrics_no_exporter_and_no_gpu_alerts():
    plan = preview(lambda: ObservabilityStack("obs", **_args(gpu_metrics=False)))
    assert [r.name for r in find_all(plan, "kubernetes:helm.sh/v3:Release")] == ["obs-pushgateway", "obs-tempo", "obs-loki"]
    assert [r.name for r in find_all(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")] == ["obs-recording"]


def test_tempo_and_loki_are_pinned_and_only_reachable_from_the_collector_and_monitoring(plan):
    tempo = find(plan, "kubernetes:helm.sh/v3:Release", "obs-tempo")
    loki = find(plan, "kubernetes:helm.sh/v3:Release", "obs-loki")
    assert (tempo.inputs["version"], tempo.inputs["namespace"]) == ("2.2.4", "observability")
    assert (loki.inputs["version"], loki.inputs["namespace"]) == ("18.11.0", "observability")
    assert tempo.inputs["values"]["tempo"]["receivers"]["jaeger"] is None
    assert tempo.inputs["values"]["tempo"]["retention"] == "336h"
    assert loki.inputs["values"]["loki"]["limits_config"]["allow_structured_metadata"] is True
    assert loki.inputs["values"]["deploymentMode"] == "Monolithic"
    policy = find(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "obs-loki-ingress")
    sources = policy.inputs["spec"]["ingress"][0]["from"]
    assert sources == [{"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def test_a_loki_override_is_checked_against_the_charts_schema():
    with pytest.raises(ComponentArgsError) as error:
        ObservabilityStack.validate_args("obs", **_args(values={"loki": {"singleBinary": {"replicas": "one"}}}))
    assert "ObservabilityStack(obs).values.loki.singleBinary.replicas: got 'one'; expected a value of JSON type integer" in str(error.value)


def test_each_team_with_receivers_gets_its_alertmanager_config_in_its_namespace(plan):
    configs = _by_object_name(plan, "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig")
    assert sorted(configs) == ["platform-alerts@monitoring", "team-alerts@fraud"]
    team = configs["team-alerts@fraud"].inputs
    assert team["metadata"]["labels"][ALERTMANAGER_CONFIG_LABEL] == "true"
    route = team["spec"]["route"]
    assert route["receiver"] == "null"  # an alert of a severity no receiver takes is not sent
    assert [(r["receiver"], r["matchers"][0]["value"], r["continue"]) for r in route["routes"]] == [("fraud-slack", "ticket", True), ("fraud-pager", "page", True)]
    assert {"name": "null"} in team["spec"]["receivers"]
    receivers = {r["name"]: r for r in team["spec"]["receivers"]}
    assert receivers["fraud-slack"]["slackConfigs"] == [{"apiURL": {"name": "team-alerts-receivers", "key": "fraud-slack"}, "sendResolved": True, "channel": "#fraud-alerts"}]
    assert receivers["fraud-pager"]["pagerdutyConfigs"][0]["routingKey"] == {"name": "team-alerts-receivers", "key": "fraud-pager"}
    platform = configs["platform-alerts@monitoring"].inputs["spec"]
    receivers = {r["name"]: r for r in platform["receivers"]}
    assert receivers["platform-hook"]["webhookConfigs"][0]["urlSecret"] == {"name": "platform-alerts-receivers", "key": "platform-hook"}
    # The operator puts the teams' routes first with continue: true; the platform's first route ends
    # the alerts of teams with their own receivers, so search's (no receivers) still reach the platform.
    first, *severities = platform["route"]["routes"]
    assert first == {"receiver": "null", "matchers": [{"name": "namespace", "matchType": "=~", "value": "fraud"}], "continue": False}
    assert [(r["receiver"], r["matchers"][0]["value"]) for r in severities] == [("platform-oncall", "page|ticket|critical|warning"), ("platform-hook", "ticket|info")]
    # The URLs and keys are in Secrets only, marked secret.
    assert SLACK_URL not in json.dumps(team) and PAGERDUTY_KEY not in json.dumps(platform)
    secrets = _by_object_name(plan, "kubernetes:core/v1:Secret")
    assert set(secrets) == {"platform-alerts-receivers@monitoring", "team-alerts-receivers@fraud"}
    team_secret = secrets["team-alerts-receivers@fraud"]
    assert team_secret.inputs["stringData"] == {"fraud-slack": SLACK_URL, "fraud-pager": PAGERDUTY_KEY}
    assert team_secret.secret_inputs and all(p.startswith("stringData") for p in team_secret.secret_inputs)


def test_a_malformed_receiver_secret_is_refused_without_being_shown():
    leaked = "https://hooks.slack.example.org/not-slack-but-secret-token-123"
    with pytest.raises(ComponentArgsError) as error:
        ObservabilityStack.validate_args("obs", **_args(platform_receivers=[{"name": "oncall", "kind": "slack", "secret": leaked}]))
    text = str(error.value)
    assert "ObservabilityStack(obs).platform_receivers[0].secret: got '[secret]'; expected a Slack incoming-webhook URL" in text
    assert leaked not in text and "secret-token" not in text


def test_a_malformed_receiver_secret_output_fails_when_known_without_being_shown():
    def program():
        ObservabilityStack("obs", **_args(platform_receivers=[{"name": "oncall", "kind": "pagerduty", "secret": pulumi.Output.secret("too-short-key")}]))

    with pytest.raises(PreviewError) as error:
        preview(program)
    cause = error.value.__cause__
    assert isinstance(cause, ComponentArgsError), cause
    assert "ObservabilityStack(obs).platform_receivers[0].secret" in str(cause) and "too-short-key" not in str(cause)


@pytest.mark.parametrize(
    ("changes", "path", "expected"),
    [
        ({"endpoints": [{**ENDPOINTS[0], "team": "risk"}]}, "endpoints[0].team", "one of the teams given (fraud, search)"),
        ({"teams": [TEAMS[0], {"name": "fraud"}]}, "teams[1].name", "a team name given once"),
        ({"platform_receivers": []}, "platform_receivers", "at least 1 items"),
        ({"idle_gpu_utilization_percent": 0}, "idle_gpu_utilization_percent", "a number greater than 0"),
        ({"tracing": False, "values": {"tempo": {"replicas": 2}}}, "values.tempo", "no values: tempo is off"),
        ({"teams": [{"name": "sys", "namespace": "kube-system"}], "endpoints": []}, "teams[0].namespace", "a namespace name not starting with 'kube-'"),
        ({"platform_receivers": [{"name": "oncall", "kind": "webhook", "secret": WEBHOOK, "channel": "#x"}]}, "platform_receivers[0].channel", "no channel"),
        ({"platform_receivers": [{"name": "null", "kind": "webhook", "secret": WEBHOOK}]}, "platform_receivers[0].name", "a name other than 'null'"),
    ],
)
def test_bad_arguments_are_named(changes, path, expected):
    with pytest.raises(ComponentArgsError) as error:
        ObservabilityStack.validate_args("obs", **_args(**changes))
    assert f"ObservabilityStack(obs).{path}: got" in str(error.value)
    assert expected in str(error.value)


def test_workspace_teams_hub_is_scraped_through_its_default_deny(plan):
    monitor = find(plan, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "obs-hub-monitor-fraud")
    assert monitor.inputs["metadata"]["namespace"] == "fraud"
    assert monitor.inputs["spec"]["endpoints"] == [{"port": "hub", "path": "/hub/metrics", "interval": "60s"}]
    policy = find(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "obs-hub-metrics-fraud")
    assert policy.inputs["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8081}]
    assert not [r for r in find_all(plan, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor") if r.inputs["metadata"]["namespace"] == "search-prod"]


def test_recording_rules_cover_every_endpoint_and_team_budget(plan):
    rule = find(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "obs-recording")
    groups = {g["name"]: g for g in rule.inputs["spec"]["groups"]}
    assert set(groups) == {"mlplat.endpoint.fraud.fraud-detector", "mlplat.endpoint.search-prod.ranker", "mlplat.cost"}
    assert "ranker_requests_total" in groups["mlplat.endpoint.search-prod.ranker"]["rules"][0]["expr"]
    assert 'namespace=~"fraud|search-prod"' in groups["mlplat.cost"]["rules"][0]["expr"]


def test_platform_addons_accept_the_values_the_stack_needs():
    """The collector's exporters and kube-prometheus-stack's settings pass PlatformAddons' checks
    (the collector chart's schema) and land where the stack expects them."""
    args = ObservabilityStack.validate_args("obs", **_args())
    needed = platform_addons_values(args)
    addons = PlatformAddons.validate_args("addons", cloud="gcp", cluster_name="ml-staging", labels=LABELS, values=needed)
    collector = release_values(addons, "opentelemetry-collector")["config"]
    assert collector["exporters"]["otlp/tempo"]["endpoint"] == "tempo.observability.svc.cluster.local:4317"
    assert collector["exporters"]["otlphttp/loki"]["endpoint"] == "http://loki.observability.svc.cluster.local:3100/otlp"
    pipelines = collector["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["otlp/tempo"] and pipelines["traces"]["receivers"] == ["otlp"]
    assert pipelines["logs"]["exporters"] == ["otlphttp/loki"]
    stack = release_values(addons, "kube-prometheus-stack")
    assert stack["alertmanager"]["alertmanagerSpec"]["alertmanagerConfiguration"] == {"name": "platform-alerts"}
    assert stack["kube-state-metrics"]["metricAnnotationsAllowList"] == ["pods=[mlplat.io/model-version,mlplat.io/git-sha,mlplat.io/image-digest]"]
    assert stack["grafana"]["sidecar"]["dashboards"]["label"] == "grafana_dashboard"  # PlatformAddons' own, kept


def test_model_endpoints_propagate_w3c_trace_context():
    """Traces link across services only while the endpoints keep W3C Trace Context on."""
    plan = preview(lambda: ModelEndpoint("fraud-detector", namespace="fraud", labels={**LABELS, "team": "fraud"}, model=MODEL, image=IMAGE))
    env = {e["name"]: e.get("value") for e in find(plan, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "tracecontext" in env["OTEL_PROPAGATORS"].split(",")


def test_outputs():
    def program():
        stack = ObservabilityStack("obs", **_args(logs=False))
        pulumi.export("tempo", stack.tempo_endpoint)
        pulumi.export("loki", stack.loki_otlp_endpoint)
        pulumi.export("dashboards", stack.dashboards)

    plan = preview(program)
    outputs = plan.outputs
    assert outputs["tempo"] == "tempo.observability.svc.cluster.local:4317" and outputs.get("loki") is None
    assert len(outputs["dashboards"]) == 5 and all(v.startswith("mlplat-dashboard-") for v in outputs["dashboards"].values())


def test_args_model_is_exported():
    import platform_lib

    assert platform_lib.ObservabilityStack is ObservabilityStack and platform_lib.ObservabilityStackArgs is ObservabilityStackArgs


def test_an_undecryptable_secure_value_is_not_refused():
    """An offline preview without the passphrase gets '[secret]' for each secure: value; the
    receiver's check lets it through rather than failing every CI preview."""
    plan = preview(lambda: ObservabilityStack("obs", **_args(platform_receivers=[{"name": "oncall", "kind": "pagerduty", "secret": pulumi.Output.secret("[secret]")}])))
    assert find(plan, "kubernetes:core/v1:Secret", "obs-alerts-platform-receivers").inputs["stringData"] == {"oncall": "[secret]"}


def test_the_pushgateway_takes_drift_pushes_from_team_namespaces_and_keeps_their_labels(plan):
    """DriftMonitor pushes to prometheus-pushgateway.monitoring:9091 (its default) with the
    endpoint's namespace in the grouping key; honorLabels keeps that namespace on the series."""
    from platform_lib.k8s.drift_monitor import DriftMonitorArgs

    release = find(plan, "kubernetes:helm.sh/v3:Release", "obs-pushgateway")
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["namespace"]) == ("prometheus-pushgateway", "3.8.0", "monitoring")
    assert release.inputs["values"]["serviceMonitor"]["honorLabels"] is True
    assert release.inputs["values"]["serviceMonitor"]["additionalLabels"] == {"release": "kube-prometheus-stack"}
    service = f"http://{release.inputs['name']}.{release.inputs['namespace']}.svc.cluster.local:9091"
    assert DriftMonitorArgs.model_fields["pushgateway_url"].default == service
    policy = find(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "obs-pushgateway-ingress")
    (rule,) = policy.inputs["spec"]["ingress"]
    assert rule["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"] == ["fraud", "monitoring", "search-prod"]


def test_an_endpoint_with_a_drift_monitor_shows_its_drift(plan):
    from platform_lib.drift import metrics

    maps = {r.inputs["metadata"]["name"]: r for r in find_all(plan, "kubernetes:core/v1:ConfigMap")}
    fraud = json.loads(next(iter(maps["mlplat-dashboard-endpoint-fraud-fraud-detector"].inputs["data"].values())))
    ranker = json.loads(next(iter(maps["mlplat-dashboard-endpoint-search-prod-ranker"].inputs["data"].values())))
    exprs = [t["expr"] for p in fraud["panels"] for t in p.get("targets", [])]
    assert f'max({metrics.DRIFTED_FEATURE_SHARE}{{namespace="fraud",endpoint="fraud-detector"}})' in exprs
    assert not any("drift" in p["title"].lower() for p in ranker["panels"])


def test_rendered_objects_are_valid_kubernetes(tmp_path):
    from platform_lib.preview.render_k8s import render_kubernetes

    from .test_render_k8s import KUBERNETES_VERSIONS, _load, validate_manifest

    plan = preview(lambda: ObservabilityStack("obs", **_args()))
    paths = render_kubernetes(plan, tmp_path / "out")
    core = [p for p in paths if p.name.split("-", 1)[0] in ("configmap", "secret", "networkpolicy")]
    assert len(core) == 12, sorted(p.name for p in paths)
    for version in KUBERNETES_VERSIONS:
        assert {p.name: validate_manifest(_load(p), version) for p in core} == {p.name: "schema" for p in core}
    # The receiver secrets are not written in clear.
    assert not any(SLACK_URL in p.read_text() or PAGERDUTY_KEY in p.read_text() for p in paths)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("platformPagerdutyKey", "not-a-routing-key", "ObservabilityStack(observability).platform_receivers[0].secret: got <the value of an Output>; expected a PagerDuty Events API v2 routing key"),
    ("fraudSlackWebhook", "http://hooks.slack.com/services/T0/B0/x", "ObservabilityStack(observability).teams[0].receivers[0].secret: got <the value of an Output>; expected a Slack incoming-webhook URL"),
])
def test_mlplat_preview_exits_2_on_a_bad_receiver_without_showing_it(tmp_path, key, value, message):
    import shutil

    from typer.testing import CliRunner

    from platform_lib.cli import EXIT_USER_ERROR, app

    from .conftest import REPO_ROOT

    project = tmp_path / "observability"
    shutil.copytree(REPO_ROOT / "examples" / "observability", project)
    (project / "Pulumi.yaml").write_text((project / "Pulumi.yaml").read_text().replace("virtualenv: ../../.venv", f"virtualenv: {REPO_ROOT / '.venv'}"))
    stack_file = project / "Pulumi.prod.yaml"
    stack = yaml.safe_load(stack_file.read_text())
    stack["config"][f"observability-example:{key}"] = value
    stack_file.write_text(yaml.safe_dump(stack))
    result = CliRunner().invoke(app, ["preview", "--cwd", str(project), "--stack", "prod", "--no-policy"], catch_exceptions=False, env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert message in " ".join(result.output.split())
    assert value not in result.output
