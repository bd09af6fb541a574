"""Dashboards as code: the platform's Grafana dashboards (:mod:`.builders`), the registry of what
produces each metric they query (:mod:`.metrics`), and the recording and GPU alert rules the stack
registers (:mod:`.rules`)."""

from .builders import PROMETHEUS_DATASOURCE_UID, dashboard_uid, endpoint_dashboard, overview_dashboard, team_dashboard
from .metrics import KSM_ANNOTATIONS, RULE_METRICS, STATIC_PRODUCERS, MetricProducer, producers
from .rules import GPU_ALERTS, gpu_alert_rules, recording_rules

__all__ = [
    "GPU_ALERTS",
    "KSM_ANNOTATIONS",
    "MetricProducer",
    "PROMETHEUS_DATASOURCE_UID",
    "RULE_METRICS",
    "STATIC_PRODUCERS",
    "dashboard_uid",
    "endpoint_dashboard",
    "gpu_alert_rules",
    "overview_dashboard",
    "producers",
    "recording_rules",
    "team_dashboard",
]
