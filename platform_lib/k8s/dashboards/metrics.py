"""Which exporter or recording rule produces each metric the dashboards query.

Every metric name in a panel's PromQL must be in :func:`producers` for the platform it is built for
(``tests/test_dashboards.py`` parses each query and checks). A metric with no producer is a panel
that stays empty in production, so the registry names *what* exports the series and *how* it gets
scraped:

- **kube-state-metrics** (bundled with kube-prometheus-stack, PlatformAddons): object state. Metric
  names from the kube-state-metrics docs (``docs/metrics/``: resourcequota, horizontalpodautoscaler,
  pod, job). ``kube_pod_annotations`` carries only allow-listed annotations: the stack asks
  PlatformAddons for ``metricAnnotationsAllowList`` (:data:`KSM_ANNOTATIONS`).
- **cAdvisor** (the kubelet's ``/metrics/cadvisor``, scraped by kube-prometheus-stack's kubelet
  ServiceMonitor): container CPU and memory use.
- **DCGM exporter** (NVIDIA dcgm-exporter, installed by ObservabilityStack on GPU nodes with pod
  mapping, scraped by its ServiceMonitor): GPU utilisation and framebuffer memory; names from the
  exporter's ``etc/default-counters.csv``.
- **Prometheus** itself: ``up`` per scrape target and ``ALERTS`` per pending/firing alert
  (Prometheus docs, "Jobs and instances", "Alerting rules": inspecting alerts).
- **JupyterHub** (the hub's ``/hub/metrics``; ObservabilityStack scrapes each workspace team's
  hub): ``jupyterhub_running_servers``, ``jupyterhub_active_users`` (JupyterHub docs, "List of
  Prometheus Metrics").
- **the drift job** (each DriftMonitor's CronJob, metric names from :mod:`platform_lib.drift.metrics`):
  pushed to the Prometheus Pushgateway ObservabilityStack installs, scraped with ``honorLabels``.
- **ModelEndpoint** (each endpoint's ServiceMonitor): its own request counter, latency histogram
  and quality gauge, by the names the endpoint declares.
- **ObservabilityStack's recording rules** (``mlplat:...``): the per-endpoint SLO series, the
  spend estimate and the budgets (:mod:`platform_lib.k8s.dashboards.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from ...drift import metrics as drift_metrics
from ..observability_spec import EndpointView

__all__ = ["KSM_ANNOTATIONS", "MetricProducer", "RULE_METRICS", "STATIC_PRODUCERS", "producers"]


@dataclass(frozen=True)
class MetricProducer:
    """What produces a metric.

    Attributes:
        producer: the exporter or rule group, e.g. ``kube-state-metrics``.
        kind: ``exporter`` (scraped from a process) or ``recording-rule`` (computed by Prometheus).
        source: how it reaches Prometheus (which chart or component installs and scrapes it).
    """

    producer: str
    kind: Literal["exporter", "recording-rule"]
    source: str


_KSM = MetricProducer("kube-state-metrics", "exporter", "kube-prometheus-stack's kube-state-metrics subchart (PlatformAddons)")
_CADVISOR = MetricProducer("cAdvisor", "exporter", "the kubelet's /metrics/cadvisor, kube-prometheus-stack's kubelet ServiceMonitor (PlatformAddons)")
_DCGM = MetricProducer("dcgm-exporter", "exporter", "NVIDIA dcgm-exporter DaemonSet on GPU nodes, with its ServiceMonitor (ObservabilityStack)")
_PROMETHEUS = MetricProducer("prometheus", "exporter", "Prometheus itself: synthetic series per scrape target and per alert")
_DRIFT = MetricProducer("drift job", "exporter", "each DriftMonitor's CronJob, pushed to the Prometheus Pushgateway and its ServiceMonitor (ObservabilityStack)")
_JUPYTERHUB = MetricProducer("jupyterhub", "exporter", "each workspace team's JupyterHub hub /hub/metrics, ObservabilityStack's ServiceMonitor (MlWorkspace)")

#: The pod annotations ModelEndpoint writes (its audit trail) that kube-state-metrics must export
#: as ``kube_pod_annotations`` labels (``annotation_mlplat_io_model_version``...): the deployment
#: annotations of the endpoint dashboard read them.
KSM_ANNOTATIONS = ("mlplat.io/model-version", "mlplat.io/git-sha", "mlplat.io/image-digest")

#: Metrics with a fixed name and producer.
STATIC_PRODUCERS: dict[str, MetricProducer] = {
    **{
        name: _KSM
        for name in (
            "kube_resourcequota",
            "kube_horizontalpodautoscaler_status_current_replicas",
            "kube_horizontalpodautoscaler_status_desired_replicas",
            "kube_horizontalpodautoscaler_spec_min_replicas",
            "kube_horizontalpodautoscaler_spec_max_replicas",
            "kube_horizontalpodautoscaler_spec_target_metric",
            "kube_pod_annotations",
            "kube_pod_container_resource_requests",
            "kube_pod_status_phase",
            "kube_job_status_failed",
        )
    },
    "container_cpu_usage_seconds_total": _CADVISOR,
    "container_memory_working_set_bytes": _CADVISOR,
    "DCGM_FI_DEV_GPU_UTIL": _DCGM,
    "DCGM_FI_DEV_FB_USED": _DCGM,
    "DCGM_FI_DEV_FB_FREE": _DCGM,
    "up": _PROMETHEUS,
    "ALERTS": _PROMETHEUS,
    "jupyterhub_running_servers": _JUPYTERHUB,
    "jupyterhub_active_users": _JUPYTERHUB,
    **{name: _DRIFT for name in drift_metrics.METRIC_NAMES},
}

#: The series ObservabilityStack's recording rules write, by name (see :mod:`.rules`).
RULE_METRICS: dict[str, str] = {
    "mlplat:endpoint_requests:rate5m": "requests per second per endpoint and track",
    "mlplat:endpoint_error_ratio:rate5m": "share of requests answered 5xx over 5 minutes",
    "mlplat:endpoint_error_ratio:rate1h": "share of requests answered 5xx over 1 hour",
    "mlplat:endpoint_error_budget_burn:rate1h": "the 1-hour error ratio divided by the error objective (1 = burning the budget exactly)",
    "mlplat:endpoint_latency_p99_seconds:5m": "p99 request latency over 5 minutes, in seconds",
    "mlplat:namespace_cost_usd_per_hour": "estimated USD per hour of the requests of a namespace's running pods, by resource",
    "mlplat:namespace_monthly_budget_usd": "a team's monthly budget in USD (a constant)",
}

_RULES = MetricProducer("ObservabilityStack recording rules", "recording-rule", "the PrometheusRule <name>-recording in the monitoring namespace")


def producers(endpoints: Iterable[EndpointView]) -> dict[str, MetricProducer]:
    """Every metric a platform with these endpoints exports, with its producer.

    Args:
        endpoints: the model endpoints; each adds its request counter, its latency histogram's
            ``_bucket``/``_sum``/``_count`` series and its quality gauge.

    Returns:
        Metric name to producer.
    """
    found = dict(STATIC_PRODUCERS)
    found.update({name: _RULES for name in RULE_METRICS})
    for endpoint in endpoints:
        own = MetricProducer(f"ModelEndpoint {endpoint.namespace}/{endpoint.name}", "exporter", f"the endpoint's pods, its ServiceMonitor {endpoint.namespace}/{endpoint.name}")
        for name in (endpoint.request_metric, endpoint.quality_metric, *(f"{endpoint.latency_metric}_{s}" for s in ("bucket", "sum", "count"))):
            found.setdefault(name, own)
    return found
