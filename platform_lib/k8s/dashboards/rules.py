"""The PrometheusRule specs ObservabilityStack registers: recording rules the dashboards read, and
the GPU alerts.

Recording rules (Prometheus docs, "Recording rules"; names follow its ``level:metric:operations``
convention) turn each endpoint's own metric names into uniform ``mlplat:endpoint_*`` series, so
the platform overview can compare endpoints whose counters are named differently, and estimate
each team's spend from what its running pods request.

The GPU alerts read the DCGM exporter with pod mapping, whose series carry the ``namespace`` and
``pod`` of the pod a GPU is allocated to (dcgm-exporter README, "Kubernetes": pod attributes), so
an alert lands in the owning team's namespace and the team's Alertmanager route.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..observability_spec import EndpointView, TeamView, UnitPrices

__all__ = ["GPU_ALERTS", "gpu_alert_rules", "recording_rules"]

#: The GPU alert names.
GPU_ALERTS = ("GpuAllocatedButIdle", "GpuMemoryPressure")

_BYTES_PER_GIB = 1024**3


def _selector(endpoint: EndpointView, extra: str = "") -> str:
    return f'{{namespace="{endpoint.namespace}",service="{endpoint.name}"{extra}}}'


def _endpoint_rules(endpoint: EndpointView) -> list[dict[str, Any]]:
    selector, errors = _selector(endpoint), _selector(endpoint, ',code=~"5.."')
    labels = {"team": endpoint.team, "cloud": endpoint.cloud}

    def ratio(window: str) -> str:
        return (
            f"(sum by (namespace, service) (rate({endpoint.request_metric}{errors}[{window}])) or sum by (namespace, service) (rate({endpoint.request_metric}{selector}[{window}])) * 0)"
            f" / sum by (namespace, service) (rate({endpoint.request_metric}{selector}[{window}]))"
        )

    objective = endpoint.error_rate_percent / 100
    return [
        {"record": "mlplat:endpoint_requests:rate5m", "expr": f"sum by (namespace, service, track) (rate({endpoint.request_metric}{selector}[5m]))", "labels": labels},
        {"record": "mlplat:endpoint_error_ratio:rate5m", "expr": ratio("5m"), "labels": labels},
        {"record": "mlplat:endpoint_error_ratio:rate1h", "expr": ratio("1h"), "labels": labels},
        {"record": "mlplat:endpoint_error_budget_burn:rate1h", "expr": f"({ratio('1h')}) / {objective:g}", "labels": labels},
        {
            "record": "mlplat:endpoint_latency_p99_seconds:5m",
            "expr": f"histogram_quantile(0.99, sum by (namespace, service, le) (rate({endpoint.latency_metric}_bucket{selector}[5m])))",
            "labels": labels,
        },
    ]


def _cost_rules(teams: list[TeamView], prices: UnitPrices) -> list[dict[str, Any]]:
    if not teams:
        return []
    namespaces = "|".join(sorted(team.namespace_name for team in teams))
    running = f'* on (namespace, pod) group_left () (max by (namespace, pod) (kube_pod_status_phase{{namespace=~"{namespaces}",phase="Running"}}) == 1)'
    rules = []
    for resource, ksm_resource, price, scale in (
        ("cpu", "cpu", prices.vcpu_hour_usd, ""),
        ("memory", "memory", prices.memory_gib_hour_usd, f" / {_BYTES_PER_GIB}"),
        ("gpu", "nvidia_com_gpu", prices.gpu_hour_usd, ""),
    ):
        requests = f'sum by (namespace, pod) (kube_pod_container_resource_requests{{namespace=~"{namespaces}",resource="{ksm_resource}"}})'
        rules.append(
            {
                "record": "mlplat:namespace_cost_usd_per_hour",
                "expr": f"sum by (namespace) ({requests} {running}){scale} * {price:g}",
                "labels": {"resource": resource},
            }
        )
    for team in teams:
        if team.monthly_budget_usd is not None:
            rules.append(
                {
                    "record": "mlplat:namespace_monthly_budget_usd",
                    "expr": f"vector({team.monthly_budget_usd:g})",
                    "labels": {"namespace": team.namespace_name, "team": team.name},
                }
            )
    return rules


def recording_rules(endpoints: Iterable[EndpointView], teams: Iterable[TeamView], prices: UnitPrices) -> dict[str, Any]:
    """The ``spec`` of the recording-rule PrometheusRule.

    Args:
        endpoints: one group of SLO series per endpoint (evaluated every 30 s).
        teams: the spend estimate covers their namespaces; a team with a budget gets a constant
            ``mlplat:namespace_monthly_budget_usd`` series.
        prices: USD per requested vCPU-hour, GiB-hour and GPU-hour.

    Returns:
        ``{"groups": [...]}``; empty groups are left out.
    """
    groups = [{"name": f"mlplat.endpoint.{e.namespace}.{e.name}", "interval": "30s", "rules": _endpoint_rules(e)} for e in endpoints]
    cost = _cost_rules(list(teams), prices)
    if cost:
        groups.append({"name": "mlplat.cost", "interval": "1m", "rules": cost})
    return {"groups": groups}


def gpu_alert_rules(*, idle_utilization_percent: float, idle_hours: float, memory_pressure_percent: float) -> dict[str, Any]:
    """The ``spec`` of the GPU alerts' PrometheusRule.

    - ``GpuAllocatedButIdle`` (severity ``ticket``): a GPU allocated to a pod (its DCGM series has a
      ``pod``) averaged less than ``idle_utilization_percent`` % utilisation over ``idle_hours``
      hours: a reserved accelerator doing nothing costs its full price.
    - ``GpuMemoryPressure`` (severity ``ticket``): framebuffer memory in use above
      ``memory_pressure_percent`` % of the total for 15 minutes: the next allocation may fail with
      CUDA out-of-memory.

    Both keep ``namespace`` and ``pod``, so each team's route receives its own GPUs' alerts.
    """
    window = f"{idle_hours:g}h"
    used = 'DCGM_FI_DEV_FB_USED{pod!=""}'
    free = 'DCGM_FI_DEV_FB_FREE{pod!=""}'
    return {
        "groups": [
            {
                "name": "mlplat.gpu",
                "rules": [
                    {
                        "alert": GPU_ALERTS[0],
                        "expr": f'avg by (namespace, pod, gpu, Hostname) (avg_over_time(DCGM_FI_DEV_GPU_UTIL{{pod!=""}}[{window}])) < {idle_utilization_percent:g}',
                        "for": "15m",
                        "labels": {"severity": "ticket"},
                        "annotations": {
                            "summary": f"GPU {{{{ $labels.gpu }}}} of {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} below {idle_utilization_percent:g}% utilisation for {window}",
                            "description": "The GPU is allocated to the pod but nearly unused: release it (scale the workload down or stop the notebook) to stop paying for it.",
                        },
                    },
                    {
                        "alert": GPU_ALERTS[1],
                        "expr": f"100 * {used} / ({used} + {free}) > {memory_pressure_percent:g}",
                        "for": "15m",
                        "labels": {"severity": "ticket"},
                        "annotations": {
                            "summary": f"GPU {{{{ $labels.gpu }}}} of {{{{ $labels.namespace }}}}/{{{{ $labels.pod }}}} has more than {memory_pressure_percent:g}% of its memory in use",
                            "description": "Framebuffer memory is nearly full: the next allocation may fail with CUDA out-of-memory. Lower the batch size or use a larger GPU.",
                        },
                    },
                ],
            }
        ]
    }
