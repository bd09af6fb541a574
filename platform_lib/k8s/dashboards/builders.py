"""The platform's Grafana dashboards, built with the Grafana Foundation SDK's typed builders.

Library: ``grafana-foundation-sdk`` (PyPI; Apache-2.0; the build for Grafana 11.6.x, which
kube-prometheus-stack's Grafana 11 and 12 load), source github.com/grafana/grafana-foundation-sdk.
Builders: ``builders.dashboard.Dashboard``/``Row``/``AnnotationQuery``, ``builders.timeseries``,
``builders.stat``, ``builders.bargauge``, ``builders.prometheus.Dataquery``.

Three kinds, each a function returning the dashboard's JSON model as a dict:

- :func:`endpoint_dashboard`: one model endpoint: request rate, error ratio and p50/p95/p99 latency
  (from its histogram), its quality SLI against the objective, replicas against the autoscaler's
  bounds and CPU target, canary next to stable for a progressive endpoint, data drift for an
  endpoint with a DriftMonitor, and deployment annotations (model version, git SHA, image digest);
- :func:`team_dashboard`: one team: its endpoints, quota use (CPU, memory, GPU), GPU utilisation
  and memory, workspace users, failed batch jobs, and estimated spend against its budget;
- :func:`overview_dashboard`: every team and endpoint of the cluster: deployment health, SLO
  burn, firing SLO alerts, top spenders and spend against budget.

Queries name only metrics of :func:`platform_lib.k8s.dashboards.metrics.producers`; each is
checked by ``tests/test_dashboards.py``. The Prometheus data source is kube-prometheus-stack's
(uid ``prometheus``, the chart's ``grafana.sidecar.datasources.uid`` default).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from grafana_foundation_sdk.builders import bargauge, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import AnnotationQuery, Dashboard, Row, ThresholdsConfig
from grafana_foundation_sdk.builders.prometheus import Dataquery as PrometheusQuery
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, Threshold, ThresholdsMode
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from ...drift import metrics as drift
from ..observability_spec import EndpointView, TeamView
from .metrics import KSM_ANNOTATIONS

__all__ = ["PROMETHEUS_DATASOURCE_UID", "dashboard_uid", "endpoint_dashboard", "overview_dashboard", "team_dashboard"]

#: The uid of kube-prometheus-stack's Prometheus data source in Grafana.
PROMETHEUS_DATASOURCE_UID = "prometheus"
_PROMETHEUS = DataSourceRef(type_val="prometheus", uid=PROMETHEUS_DATASOURCE_UID)
#: Grafana's rate window variable: at least four scrape intervals (Grafana docs, "Prometheus
#: template variables", ``$__rate_interval``).
RATE = "$__rate_interval"
_TAG = "mlplat"


def dashboard_uid(kind: str, *parts: str) -> str:
    """A stable dashboard uid of at most 40 characters (Grafana's limit): ``mlplat-<kind>-<hash>``."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[: 36 - len(kind)]
    return f"mlplat-{kind}-{digest}"[:40]


def _query(expr: str, legend: str | None = None, *, ref: str = "A", instant: bool = False) -> PrometheusQuery:
    query = PrometheusQuery().expr(expr).ref_id(ref).datasource(_PROMETHEUS)
    if legend is not None:
        query = query.legend_format(legend)
    if instant:
        query = query.instant().format(PromQueryFormat.TABLE)
    return query


def _thresholds(*steps: tuple[float | None, str]) -> ThresholdsConfig:
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=value, color=color) for value, color in steps])


def _series(title: str, unit: str, *queries: PrometheusQuery, span: int = 12, description: str | None = None, limit: float | None = None) -> timeseries.Panel:
    """A time series panel; ``limit`` draws the objective as a red threshold line."""
    panel = timeseries.Panel().title(title).unit(unit).span(span).height(8).datasource(_PROMETHEUS).line_width(1).fill_opacity(10)
    for query in queries:
        panel = panel.with_target(query)
    if description:
        panel = panel.description(description)
    if limit is not None:
        panel = panel.thresholds(_thresholds((None, "green"), (limit, "red")))
    return panel


def _stat(title: str, unit: str, query: PrometheusQuery, *, span: int = 6, description: str | None = None) -> stat.Panel:
    panel = stat.Panel().title(title).unit(unit).span(span).height(5).datasource(_PROMETHEUS).with_target(query)
    return panel.description(description) if description else panel


def _bars(title: str, unit: str, query: PrometheusQuery, *, span: int = 12, maximum: float | None = None, description: str | None = None) -> bargauge.Panel:
    panel = bargauge.Panel().title(title).unit(unit).span(span).height(8).datasource(_PROMETHEUS).with_target(query).min(0)
    if maximum is not None:
        panel = panel.max(maximum).thresholds(_thresholds((None, "green"), (0.8 * maximum, "orange"), (maximum, "red")))
    return panel.description(description) if description else panel


def _render(builder: Dashboard, annotations: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The dashboard's JSON model; ``annotations`` adds fields the typed AnnotationQuery model lacks
    (the Prometheus annotation's ``titleFormat``, ``textFormat``, ``tagKeys``, ``step``) by name."""
    model = json.loads(JSONEncoder(sort_keys=True).encode(builder.build()))
    # The builders leave every panel's id at 0; Grafana links and "view panel" need unique ids.
    for number, panel in enumerate(model.get("panels", []), start=1):
        panel["id"] = number
    for annotation in model.get("annotations", {}).get("list", []):
        annotation.update((annotations or {}).get(annotation.get("name"), {}))
    return model


def _base(title: str, uid: str, tags: list[str], description: str) -> Dashboard:
    return (
        Dashboard(title)
        .uid(uid)
        .tags([_TAG, *tags])
        .description(description)
        .refresh("1m")
        .time("now-6h", "now")
        .timezone("utc")
        .readonly()
    )


# --- per endpoint --------------------------------------------------------------------------------


def endpoint_dashboard(endpoint: EndpointView) -> dict[str, Any]:
    """The dashboard of one model endpoint (see the module docstring).

    Args:
        endpoint: the endpoint, with its own metric names and objectives.

    Returns:
        The Grafana dashboard JSON model (uid from :func:`dashboard_uid`).
    """
    e = endpoint
    selector = f'namespace="{e.namespace}",service="{e.name}"'
    requests = f"{e.request_metric}{{{selector}}}"
    errors = f'{e.request_metric}{{{selector},code=~"5.."}}'
    buckets = f"{e.latency_metric}_bucket{{{selector}}}"
    objective = e.error_rate_percent / 100
    hpa = f'namespace="{e.namespace}",horizontalpodautoscaler="{e.name}"'
    pods = f'namespace="{e.namespace}",pod=~"{e.name}-.*",container="model-server"'

    def error_ratio(by: str) -> str:
        return f"sum by ({by}) (rate({errors}[{RATE}])) / sum by ({by}) (rate({requests}[{RATE}]))"

    def quantile(q: float, by: str = "le") -> str:
        return f"histogram_quantile({q:g}, sum by ({by}) (rate({buckets}[{RATE}])))"

    builder = _base(
        f"Endpoint {e.namespace}/{e.name}",
        dashboard_uid("endpoint", e.namespace, e.name),
        ["endpoint", f"team-{e.team}"],
        f"Model endpoint {e.name} of team {e.team}: traffic, errors, latency, model quality and capacity. Generated by ObservabilityStack.",
    )
    builder = (
        builder.with_row(Row("Traffic and errors"))
        .with_panel(_series("Request rate by track", "reqps", _query(f"sum by (track) (rate({requests}[{RATE}]))", "{{track}}")))
        .with_panel(
            _series(
                "Error ratio (5xx) by track",
                "percentunit",
                _query(error_ratio("track"), "{{track}}"),
                limit=objective,
                description=f"Share of requests answered 5xx; the objective is at most {e.error_rate_percent:g}%.",
            )
        )
        .with_row(Row("Latency"))
        .with_panel(
            _series(
                "Latency p50 / p95 / p99",
                "s",
                _query(quantile(0.5), "p50", ref="A"),
                _query(quantile(0.95), "p95", ref="B"),
                _query(quantile(0.99), "p99", ref="C"),
                span=24,
                limit=e.latency_p99_seconds,
                description=f"From the {e.latency_metric} histogram; the p99 objective is {e.latency_p99_seconds:g}s.",
            )
        )
        .with_row(Row("Model quality"))
        .with_panel(
            _series(
                f"{e.quality_metric} against its objective",
                "none",
                _query(f"avg by (track) ({e.quality_metric}{{{selector}}})", "{{track}}", ref="A"),
                _query(f"vector({e.quality_objective:g})", "objective", ref="B"),
                span=24,
                description=f"The model-quality SLI; the endpoint alerts when it stays below {e.quality_objective:g} over both evaluation windows.",
            )
        )
        .with_row(Row("Capacity"))
        .with_panel(
            _series(
                "Replicas and autoscaler bounds",
                "none",
                _query(f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}}", "current", ref="A"),
                _query(f"kube_horizontalpodautoscaler_status_desired_replicas{{{hpa}}}", "desired", ref="B"),
                _query(f"kube_horizontalpodautoscaler_spec_min_replicas{{{hpa}}}", "min", ref="C"),
                _query(f"kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}", "max", ref="D"),
            )
        )
        .with_panel(
            _series(
                "CPU utilisation against the autoscaler target",
                "percent",
                _query(
                    f"100 * sum(rate(container_cpu_usage_seconds_total{{{pods}}}[{RATE}])) / sum(kube_pod_container_resource_requests{{{pods},resource=\"cpu\"}})",
                    "utilisation of requests",
                    ref="A",
                ),
                _query(f'kube_horizontalpodautoscaler_spec_target_metric{{{hpa},metric_name="cpu",metric_target_type="utilization"}}', "target", ref="B"),
            )
        )
    )
    if e.progressive:
        builder = builder.with_row(Row("Canary against stable"))
        for track in ("stable", "canary"):
            builder = builder.with_panel(
                _series(
                    f"Error ratio: {track}",
                    "percentunit",
                    _query(
                        f'sum(rate({e.request_metric}{{{selector},track="{track}",code=~"5.."}}[{RATE}])) / sum(rate({e.request_metric}{{{selector},track="{track}"}}[{RATE}]))',
                        track,
                    ),
                    limit=objective,
                )
            )
        for track in ("stable", "canary"):
            builder = builder.with_panel(
                _series(
                    f"Latency p99: {track}",
                    "s",
                    _query(f'histogram_quantile(0.99, sum by (le) (rate({e.latency_metric}_bucket{{{selector},track="{track}"}}[{RATE}])))', track),
                    limit=e.latency_p99_seconds,
                )
            )
    if e.drift:
        where = f'namespace="{e.namespace}",endpoint="{e.name}"'
        builder = (
            builder.with_row(Row("Data drift"))
            .with_panel(
                _series(
                    "Share of drifted features",
                    "percentunit",
                    _query(f"max({drift.DRIFTED_FEATURE_SHARE}{{{where}}})", "drifted share"),
                    span=8,
                    description="From the DriftMonitor's last runs: the share of monitored input features whose distribution moved away from the training reference.",
                )
            )
            .with_panel(_series("Drift score by feature", "none", _query(f"max by ({drift.FEATURE_LABEL}) ({drift.FEATURE_DRIFT_SCORE}{{{where}}})", "{{%s}}" % drift.FEATURE_LABEL), span=8))
            .with_panel(_stat("Since the last drift run", "s", _query(f"time() - max({drift.LAST_SUCCESS}{{{where}}})"), span=8))
        )
    labels = [f"annotation_{key.replace('.', '_').replace('/', '_').replace('-', '_')}" for key in KSM_ANNOTATIONS]
    deployments = (
        AnnotationQuery()
        .name("Deployments")
        .datasource(_PROMETHEUS)
        .enable(True)
        .icon_color("blue")
        .expr(f'max by ({", ".join(labels)}) (kube_pod_annotations{{namespace="{e.namespace}",pod=~"{e.name}-.*"}})')
    )
    builder = builder.annotation(deployments)
    return _render(
        builder,
        {
            "Deployments": {
                "titleFormat": "model {{%s}}" % labels[0],
                "textFormat": "git {{%s}} image {{%s}}" % (labels[1], labels[2]),
                "tagKeys": ",".join(labels),
                "step": "1m",
            }
        },
    )


# --- per team ------------------------------------------------------------------------------------


def team_dashboard(team: TeamView, endpoints: Iterable[EndpointView]) -> dict[str, Any]:
    """The dashboard of one team (see the module docstring).

    Args:
        team: the team (its namespace, budget, workspace).
        endpoints: the team's endpoints (others are ignored).
    """
    ns = team.namespace_name
    own = [e for e in endpoints if e.namespace == ns]
    in_ns = f'namespace="{ns}"'
    builder = _base(
        f"Team {team.name}",
        dashboard_uid("team", team.name),
        ["team", f"team-{team.name}"],
        f"Team {team.name} (namespace {ns}): endpoints, quota, GPUs, workspace and spend. Generated by ObservabilityStack.",
    )
    if own:
        builder = (
            builder.with_row(Row("Endpoints"))
            .with_panel(_series("Request rate by endpoint", "reqps", _query(f"sum by (service) (mlplat:endpoint_requests:rate5m{{{in_ns}}})", "{{service}}"), span=8))
            .with_panel(_series("Error ratio by endpoint", "percentunit", _query(f"mlplat:endpoint_error_ratio:rate5m{{{in_ns}}}", "{{service}}"), span=8))
            .with_panel(_series("Latency p99 by endpoint", "s", _query(f"mlplat:endpoint_latency_p99_seconds:5m{{{in_ns}}}", "{{service}}"), span=8))
        )
    used = f'kube_resourcequota{{{in_ns},type="used",resource=~"requests.cpu|requests.memory|requests.nvidia.com/gpu"}}'
    hard = f'kube_resourcequota{{{in_ns},type="hard",resource=~"requests.cpu|requests.memory|requests.nvidia.com/gpu"}}'
    builder = (
        builder.with_row(Row("Quota"))
        .with_panel(
            _bars(
                "Quota used (requests)",
                "percent",
                _query(f"100 * {used} / ignoring (type) {hard}", "{{resource}}", instant=True),
                maximum=100,
                description="Requested CPU, memory and GPUs as a share of the namespace's ResourceQuota.",
            )
        )
        .with_panel(_series("CPU in use", "cores", _query(f"sum(rate(container_cpu_usage_seconds_total{{{in_ns},container!=\"\"}}[{RATE}]))", "vCPU")))
        .with_row(Row("GPUs"))
        .with_panel(_series("GPU utilisation by pod", "percent", _query(f"avg by (pod, gpu) (DCGM_FI_DEV_GPU_UTIL{{{in_ns}}})", "{{pod}} gpu {{gpu}}")))
        .with_panel(_series("GPU memory used by pod", "decmbytes", _query(f"sum by (pod, gpu) (DCGM_FI_DEV_FB_USED{{{in_ns}}})", "{{pod}} gpu {{gpu}}")))
    )
    if team.workspace:
        builder = (
            builder.with_row(Row("Workspace"))
            .with_panel(_stat("Running notebook servers", "none", _query(f"sum(jupyterhub_running_servers{{{in_ns}}})")))
            .with_panel(_stat("Active users (24 h)", "none", _query(f'max(jupyterhub_active_users{{{in_ns},period="24h"}})')))
        )
    spend = f"sum(sum_over_time(mlplat:namespace_cost_usd_per_hour{{{in_ns}}}[30d:1h]))"
    builder = (
        builder.with_row(Row("Spend (estimate from requests)"))
        .with_panel(
            _stat(
                "Estimated spend, last 30 days",
                "currencyUSD",
                _query(spend),
                description="Requested vCPU, memory and GPU hours of running pods times the platform's unit prices: an estimate, not the bill.",
            )
        )
    )
    if team.monthly_budget_usd is not None:
        builder = builder.with_panel(_stat("Monthly budget", "currencyUSD", _query(f"max(mlplat:namespace_monthly_budget_usd{{{in_ns}}})")))
        builder = builder.with_panel(
            _bars("Spend against budget", "percent", _query(f"100 * {spend} / max(mlplat:namespace_monthly_budget_usd{{{in_ns}}})", "budget used", instant=True), maximum=100, span=12)
        )
    builder = (
        builder.with_panel(_series("Estimated cost per hour by resource", "currencyUSD", _query(f"sum by (resource) (mlplat:namespace_cost_usd_per_hour{{{in_ns}}})", "{{resource}}"), span=24))
        .with_row(Row("Batch jobs"))
        .with_panel(_series("Failed jobs (drift monitors, training)", "none", _query(f"sum by (job_name) (kube_job_status_failed{{{in_ns}}}) > 0", "{{job_name}}"), span=24))
    )
    return _render(builder)


# --- platform overview ---------------------------------------------------------------------------


def overview_dashboard(endpoints: Iterable[EndpointView], teams: Iterable[TeamView], *, platform_namespaces: Iterable[str] = ()) -> dict[str, Any]:
    """The platform overview across teams (see the module docstring).

    With no endpoints or teams given (the cluster stack's overview: each team stack adds its own
    dashboards and recording rules), the panels cover every namespace except
    ``platform_namespaces`` (and ``kube-*``), so a new team appears without a change to the overview.

    One per cluster: each cluster's Prometheus sees its own teams. The ``cloud`` and ``team``
    labels on the ``mlplat:endpoint_*`` series let a global Grafana (one data source per cluster,
    or a federating Prometheus) put the clouds side by side.
    """
    endpoints, teams = list(endpoints), list(teams)
    namespaces = "|".join(sorted({t.namespace_name for t in teams} | {e.namespace for e in endpoints}))
    if namespaces:
        services = "|".join(sorted({e.name for e in endpoints})) or "none"
        in_teams = f'namespace=~"{namespaces}"'
    else:
        services = ".+"
        in_teams = 'namespace!~"{}"'.format("|".join(["kube-.*", *sorted(set(platform_namespaces))]))
    builder = _base(
        "ML platform overview",
        dashboard_uid("overview", "platform"),
        ["overview"],
        "Every team's endpoints and spend in this cluster: deployment health, SLO burn, top spenders. Generated by ObservabilityStack.",
    )
    ready = f'sum by (namespace, service) (up{{{in_teams},service=~"{services}"}})'
    desired = f'sum by (namespace, service) (label_replace(kube_horizontalpodautoscaler_status_desired_replicas{{{in_teams}}}, "service", "$1", "horizontalpodautoscaler", "(.*)"))'
    builder = (
        builder.with_row(Row("Deployment health"))
        .with_panel(
            _bars(
                "Ready pods / desired replicas by endpoint",
                "percentunit",
                _query(f"{ready} / {desired}", "{{namespace}}/{{service}}", instant=True),
                maximum=1,
                description="Scrape targets up (ready pods) as a share of the autoscaler's desired replicas; below 1 an endpoint is degraded or mid-rollout.",
            )
        )
        .with_panel(_series("Failed batch jobs by namespace", "none", _query(f"sum by (namespace) (kube_job_status_failed{{{in_teams}}}) > 0", "{{namespace}}")))
        .with_row(Row("SLO burn"))
        .with_panel(
            _series(
                "Error budget burn rate (1 h)",
                "none",
                _query("mlplat:endpoint_error_budget_burn:rate1h", "{{cloud}} {{namespace}}/{{service}}"),
                limit=1,
                description="The 1-hour error ratio divided by each endpoint's objective: above 1 the error budget is being spent faster than it accrues.",
            )
        )
        .with_panel(_series("Firing SLO alerts", "none", _query('sum by (namespace, alertname) (ALERTS{alertname=~"ModelEndpoint.*",alertstate="firing"})', "{{namespace}} {{alertname}}")))
        .with_row(Row("Spend (estimate from requests)"))
        .with_panel(
            _bars(
                "Top spenders, last 30 days",
                "currencyUSD",
                _query("topk(10, sum by (namespace) (sum_over_time(mlplat:namespace_cost_usd_per_hour[30d:1h])))", "{{namespace}}", instant=True),
            )
        )
        .with_panel(
            _bars(
                "Spend against monthly budget",
                "percent",
                _query(
                    "100 * sum by (namespace) (sum_over_time(mlplat:namespace_cost_usd_per_hour[30d:1h])) / on (namespace) max by (namespace) (mlplat:namespace_monthly_budget_usd)",
                    "{{namespace}}",
                    instant=True,
                ),
                maximum=100,
            )
        )
    )
    return _render(builder)
