"""Issue 13 as shipped: staging's cluster stack and team stack previewed together show the
dashboards, the DCGM exporter, a DriftMonitor, Tempo and Loki and the alert routes, gated with no
mandatory violation; bad drift settings in a request file exit 2 naming the file and the key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from platform_lib.cli import app
from platform_lib.core.errors import ComponentArgsError, ConfigError
from platform_lib.k8s.ml_workspace import MlWorkspace
from platform_lib.k8s.team_observability import TeamObservability
from platform_lib.platform.cluster import team_routed_namespaces
from platform_lib.preview import preview_many

from .conftest import REPO_ROOT
from .team_stacks import stack_output_args

LABELS = {"team": "fraud", "cost-center": "cc-1000", "environment": "staging"}


@pytest.fixture(scope="module")
def staging() -> dict[str, dict[str, Any]]:
    """The staging cluster stack's and team fraud's staging stack's gated plans, by stack."""
    result = preview_many([(REPO_ROOT / "clusters", "staging"), (REPO_ROOT / "team-stack", "fraud-staging")], jobs=1, keep_plans=True)
    assert result.exit_code == 0, [(r.stack, r.error) for r in result.results]
    return {r.stack: r.plan for r in result.results}


def _of(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_]


def _release(plan: dict[str, Any], chart: str) -> dict[str, Any]:
    (release,) = [r for r in _of(plan, "kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == chart]
    return release


def test_staging_previews_pass_the_gate_with_no_mandatory_violation(staging):
    for stack, plan in staging.items():
        assert [v for v in plan["violations"] if v["level"] == "mandatory"] == [], stack


def test_the_cluster_stack_holds_the_dcgm_exporter_tempo_loki_the_overview_and_the_platform_route(staging):
    cluster = staging["staging"]
    for chart in ("dcgm-exporter", "tempo", "loki", "prometheus-pushgateway"):
        assert _release(cluster, chart)["inputs"]["version"]
    dashboards = [c["inputs"]["metadata"]["name"] for c in _of(cluster, "kubernetes:core/v1:ConfigMap") if c["inputs"]["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert dashboards == ["mlplat-dashboard-overview"]  # the teams' dashboards are their stacks'
    overview = json.loads(next(c for c in _of(cluster, "kubernetes:core/v1:ConfigMap") if c["inputs"]["metadata"]["name"] == "mlplat-dashboard-overview")["inputs"]["data"]["overview.json"])
    exprs = [t["expr"] for panel in overview["panels"] for t in panel.get("targets", [])]
    assert any('namespace!~"kube-.*|' in e for e in exprs)  # every team namespace, none listed
    rules = [r["name"] for r in _of(cluster, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")]
    assert rules == ["ml-staging-observability-gpu-alerts"]  # no empty recording rule: the team stacks record theirs
    (route,) = [r for r in _of(cluster, "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig")]
    assert route["inputs"]["metadata"]["name"] == "platform-alerts" and route["inputs"]["metadata"]["namespace"] == "monitoring"
    routes = route["inputs"]["spec"]["route"]["routes"]
    # fraud routes its own alerts (teams/fraud.yaml): the platform's route ends them first.
    assert routes[0] == {"receiver": "null", "matchers": [{"name": "namespace", "matchType": "=~", "value": "fraud"}], "continue": False}
    assert [r["name"] for r in route["inputs"]["spec"]["receivers"]] == ["null", "platform-oncall"]


def test_platform_addons_get_the_values_the_observability_stack_needs(staging):
    cluster = staging["staging"]
    collector = _release(cluster, "opentelemetry-collector")["inputs"]["values"]["config"]
    assert set(collector["exporters"]) >= {"otlp/tempo", "otlphttp/loki"}
    assert "otlp/tempo" in collector["service"]["pipelines"]["traces"]["exporters"]
    assert "otlphttp/loki" in collector["service"]["pipelines"]["logs"]["exporters"]
    alertmanager = _release(cluster, "kube-prometheus-stack")["inputs"]["values"]["alertmanager"]["alertmanagerSpec"]
    assert alertmanager["alertmanagerConfiguration"] == {"name": "platform-alerts"}


def test_the_team_stack_holds_its_dashboards_drift_monitor_and_route_to_a_secret_reference(staging):
    team = staging["fraud-staging"]
    dashboards = sorted(c["inputs"]["metadata"]["name"] for c in _of(team, "kubernetes:core/v1:ConfigMap") if c["inputs"]["metadata"]["labels"].get("grafana_dashboard") == "1")
    assert dashboards == ["mlplat-dashboard-endpoint-fraud-fraud-detector", "mlplat-dashboard-team-fraud"]
    (config_map,) = [c for c in _of(team, "kubernetes:core/v1:ConfigMap") if c["inputs"]["metadata"]["name"] == "mlplat-dashboard-endpoint-fraud-fraud-detector"]
    endpoint_dashboard = json.loads(next(iter(config_map["inputs"]["data"].values())))
    assert "mlplat_drift" in json.dumps(endpoint_dashboard)  # the endpoint's drift panels
    (monitor,) = _of(team, "mlplat:k8s:DriftMonitor")
    (cron,) = _of(team, "kubernetes:batch/v1:CronJob")
    assert cron["inputs"]["metadata"]["namespace"] == "fraud" and cron["inputs"]["spec"]["schedule"] == "0 * * * *"
    pod = cron["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "workload"
    (route,) = _of(team, "kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig")
    assert route["inputs"]["metadata"]["namespace"] == "fraud"
    (slack,) = route["inputs"]["spec"]["receivers"][1]["slackConfigs"]
    assert slack["apiURL"] == {"name": "alert-receivers", "key": "slack-webhook"} and slack["channel"] == "#fraud-alerts"
    assert _of(team, "kubernetes:core/v1:Secret") == []  # the receiver's URL never passes through Pulumi


def test_the_cluster_reads_which_namespaces_route_their_own_alerts_per_environment():
    assert team_routed_namespaces(REPO_ROOT, "staging") == ["fraud"]
    assert team_routed_namespaces(REPO_ROOT, "prod") == []


def test_the_workspace_hub_lets_prometheus_scrape_its_metrics():
    from tests.cases.ml_workspace import CASES  # the contract case's minimal workspace

    args = MlWorkspace.validate_args("ws", CASES[0].minimal())
    from platform_lib.k8s.ml_workspace import workspace_values

    values = workspace_values(args, "ws")
    assert values["hub"]["config"]["JupyterHub"]["authenticate_prometheus"] is False


# ---------------------------------------------------------------- TeamObservability's own checks


def test_a_team_receiver_needs_exactly_one_of_secret_and_secret_ref_and_never_shows_the_secret():
    url = "https://hooks.slack.com/services/T0/B0/SECRETSECRET"
    with pytest.raises(ComponentArgsError) as caught:
        TeamObservability.validate_args("t", labels=LABELS, team={"name": "fraud", "receivers": [
            {"name": "s", "kind": "slack", "secret": url, "secret_ref": {"name": "alert-receivers", "key": "slack"}}]})
    assert "exactly one of secret" in str(caught.value) and "SECRETSECRET" not in str(caught.value)


def test_an_endpoint_of_another_team_is_refused():
    with pytest.raises(ComponentArgsError) as caught:
        TeamObservability.validate_args("t", labels=LABELS, team={"name": "fraud"},
                                        endpoints=[{"name": "ranker", "namespace": "search", "team": "search"}])
    assert [i.path for i in caught.value.issues] == ["TeamObservability(t).endpoints[0].team", "TeamObservability(t).endpoints[0].namespace"]


# ---------------------------------------------------------------- bad request files: exit 2, file and key


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for directory in ("teams", "stacks", "team-stack", ".github", "policies"):
        shutil.copytree(REPO_ROOT / directory, tmp_path / directory)
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def _edit_drift(repo: Path, change) -> None:
    path = repo / "teams" / "fraud.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["environments"]["staging"]["endpoints"][0]["drift"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["featureThresholds"].update(merchant_id=0.2),
     "teams/fraud.yaml: environments.staging.endpoints[0].drift.featureThresholds.merchant_id: got 0.2; expected a threshold for a listed feature"),
    (lambda d: d.update(featureThreshold=1.5),
     "teams/fraud.yaml: environments.staging.endpoints[0].drift.featureThreshold: got 1.5; expected"),
    (lambda d: d.update(schedule="every hour"),
     "teams/fraud.yaml: environments.staging.endpoints[0].drift.schedule: got 'every hour'; expected a cron schedule"),
])
def test_bad_drift_settings_exit_2_naming_the_request_file_and_key(repo, change, expected):
    _edit_drift(repo, change)
    result = CliRunner().invoke(app, ["preview", "-C", str(repo / "team-stack"), "-s", "fraud-staging", "--no-policy", *stack_output_args()],
                                env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == 2, result.output
    assert expected in result.output, result.output
    assert "No resources were registered." in result.output


def test_a_receiver_secret_in_a_request_file_is_refused(repo):
    path = repo / "teams" / "fraud.yaml"
    document = yaml.safe_load(path.read_text())
    document["environments"]["staging"]["alerts"]["receivers"][0]["secret"] = "https://hooks.slack.com/services/T0/B0/X"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    result = CliRunner().invoke(app, ["preview", "-C", str(repo / "team-stack"), "-s", "fraud-staging", "--no-policy", *stack_output_args()],
                                env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "teams/fraud.yaml: environments.staging.alerts.receivers[0].secret" in result.output
    assert "hooks.slack.com/services/T0/B0/X" not in result.output


def test_a_shared_stack_endpoint_refuses_drift():
    from platform_lib.preview import PreviewError, run_preview

    from .team_stacks import team_blocks

    blocks = team_blocks("staging")
    blocks["mlplat:endpoints"][0]["drift"] = {"features": ["amount"], "referencePath": "s3://fraud-features-stg/ref.parquet", "currentPath": "s3://fraud-features-stg/inference/"}
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, "staging", config_overrides=blocks)
    assert "mlplat:endpoints[0].drift" in str(caught.value.__cause__)
    assert "set drift on the endpoint in its team's request file" in str(caught.value.__cause__)


def test_the_team_routes_and_hub_monitor_wait_for_the_team_namespace():
    from .team_stacks import preview_team

    plan, _ = preview_team("fraud-staging")
    namespace = "urn:pulumi:fraud-staging::ml-platform-team::mlplat:k8s:TeamNamespace$kubernetes:core/v1:Namespace::fraud"
    for type_ in ("kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig", "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"):
        in_team_namespace = [r for r in plan.by_type(type_) if r.inputs["metadata"]["namespace"] == "fraud" and "observability" in r.urn]
        assert in_team_namespace and all(namespace in r.options.depends_on for r in in_team_namespace), type_


def test_a_plain_namespace_other_than_the_teams_is_refused():
    with pytest.raises(ComponentArgsError) as caught:
        TeamObservability.validate_args("t", labels=LABELS, team={"name": "fraud"}, namespace="search")
    assert [i.path for i in caught.value.issues] == ["TeamObservability(t).namespace"]


# ---------------------------------------------------------------- the cluster stack's mlplat:observability

CLUSTER_BASE = {
    "environment": "prod",
    "region": "us-east-1",
    "tags": {"team": "ml-platform", "cost-center": "cc-4100"},
    "eks": {"platformAdminRoleArn": "arn:aws:iam::123456789012:role/ml-platform-admin"},
}
PAGERDUTY = {"name": "platform-oncall", "kind": "pagerduty", "secret": "0123456789abcdef0123456789abcdef"}


def test_the_addons_get_the_observability_values_with_their_own_config_merged_over():
    from platform_lib.platform.cluster import cluster_component_args, parse_cluster_config

    config = parse_cluster_config({**CLUSTER_BASE, "observability": {"platformReceivers": [PAGERDUTY], "logs": False},
                                   "addons": {"values": {"kube-prometheus-stack": {"grafana": {"sidecar": {"dashboards": {"folderAnnotation": "folder"}}}}}}})
    args = cluster_component_args(config, routed_namespaces=["fraud"])
    values = args.addons["values"]
    assert values["kube-prometheus-stack"]["grafana"]["sidecar"]["dashboards"]["folderAnnotation"] == "folder"  # the stack's config wins
    assert values["kube-prometheus-stack"]["alertmanager"]["alertmanagerSpec"]["alertmanagerConfiguration"] == {"name": "platform-alerts"}
    assert set(values["opentelemetry-collector"]["config"]["exporters"]) == {"otlp/tempo"}  # logs off: no Loki exporter
    assert args.observability["team_routed_namespaces"] == ["fraud"] and args.observability["labels"]["team"] == "ml-platform"


def test_observability_config_problems_are_reported_at_their_keys_without_the_secret():
    from platform_lib.platform.cluster import cluster_component_args, parse_cluster_config

    leaked = "https://hooks.slack.com/services/T0/B0/NOTAWEBHOOK"
    config = parse_cluster_config({**CLUSTER_BASE, "observability": {
        "platformReceivers": [{"name": "platform", "kind": "pagerduty", "secret": leaked}], "idleGpuHours": 0, "teams": [{"name": "fraud"}]}})
    with pytest.raises(ConfigError) as caught:
        cluster_component_args(config)
    paths = sorted(str(issue).split(":")[0] + ":" + str(issue).split(":")[1] for issue in caught.value.issues)
    assert paths == ["mlplat:observability.idleGpuHours", "mlplat:observability.platformReceivers[0].secret", "mlplat:observability.teams"]
    assert "NOTAWEBHOOK" not in str(caught.value)


@pytest.mark.parametrize("key", ["webhookUrl", "url", "routingKey"])
def test_a_secret_pasted_under_an_unknown_receiver_key_is_masked(repo, key):
    # Only `secret:` was masked: an unknown key was reported with its value, the pasted secret.
    path = repo / "teams" / "fraud.yaml"
    document = yaml.safe_load(path.read_text())
    document["environments"]["staging"]["alerts"]["receivers"][0][key] = "https://hooks.slack.com/services/T0/B0/SUPERSECRETXYZ"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    result = CliRunner().invoke(app, ["team", "check", "--root", str(repo)], env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == 2, result.output
    assert f"environments.staging.alerts.receivers[0].{key}: got '[secret]'; expected no such key" in result.output, result.output
    assert "SUPERSECRETXYZ" not in result.output
