"""``mlplat:k8s:Observability``: dashboards, GPU metrics, traces, logs and alert routing for the platform.

What an ``ObservabilityStack`` adds to a cluster that runs :class:`~platform_lib.k8s.platform_addons.PlatformAddons`
(kube-prometheus-stack in ``monitoring``, the OpenTelemetry collector in ``observability``):

===========================  ================================================================  ===============================
what                         objects                                                           namespace
===========================  ================================================================  ===============================
dashboards as code           one ConfigMap per dashboard, labelled ``grafana_dashboard: "1"``  monitoring
                             (Grafana's dashboard sidecar loads it): overview, per team, per
                             endpoint (:mod:`platform_lib.k8s.dashboards`)
recording rules              PrometheusRule ``<name>-recording``: per-endpoint SLO series,     monitoring
                             spend estimate, budgets
GPU metrics                  NVIDIA dcgm-exporter (Helm, pinned) on GPU nodes, its             monitoring
                             ServiceMonitor, PrometheusRule with the idle-GPU and GPU-memory
                             alerts
drift metrics                Prometheus Pushgateway (Helm, pinned) the DriftMonitor jobs       monitoring
                             push to, scraped with ``honorLabels``
traces                       Grafana Tempo (Helm ``tempo``, single binary, pinned)             observability
logs                         Grafana Loki (Helm ``loki``, monolithic, filesystem, pinned)      observability
data sources                 ConfigMap labelled ``grafana_datasource: "1"``: Tempo (traces to  monitoring
                             logs in Loki), Loki (trace ids link to Tempo)
workspace metrics            ServiceMonitor + NetworkPolicy for each workspace team's hub      the team's
alert routing                AlertmanagerConfig + Secrets: the platform's (the global route)   monitoring / the team's
                             and one per team with receivers (matched by namespace)
===========================  ================================================================  ===============================

What PlatformAddons must be given so the pieces meet (:func:`platform_addons_values`, also the
output ``platform_addons_values``): the collector's trace and log exporters (Tempo over OTLP/gRPC,
Loki's native OTLP endpoint), kube-state-metrics' pod-annotation allow-list (the dashboards'
deployment annotations) and Alertmanager's global AlertmanagerConfig. The platform composition
passes them as PlatformAddons' ``values``.

Sources: Prometheus Operator API (``monitoring.coreos.com/v1alpha1`` AlertmanagerConfig: route,
receivers, ``slackConfigs.apiURL``, ``webhookConfigs.urlSecret``, ``pagerdutyConfigs.routingKey``
as Secret key references; a namespaced AlertmanagerConfig only receives alerts whose ``namespace``
label is its namespace; ``alertmanagerConfiguration.name`` names the global one); Grafana docs,
"Provision Grafana" (data source YAML; ``$$`` for a literal ``$``), "Tempo data source"
(``tracesToLogsV2``), "Loki data source" (``derivedFields``, ``matcherType: label``); Loki docs,
"Ingesting logs to Loki using OpenTelemetry Collector" (``otlphttp`` to ``/otlp``; trace and span
ids become structured metadata ``trace_id``/``span_id``); dcgm-exporter chart values
(``kubernetes.enablePodLabels``; the pod-resources socket); each chart's values.yaml at the
pinned version.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, Mapping, overload

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import Field, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import ComponentArgsError, Issue, located_validation_error
from ..core.inputs import Input, InputCheck, checked_output, is_output
from ..core.kubernetes_names import check_dns_label
from ..core.secrets import SECRET_PLACEHOLDER, mask_text
from ..core.tagging import with_managed_by
from .checks import check_labels, check_namespace_name
from .dashboards import KSM_ANNOTATIONS, PROMETHEUS_DATASOURCE_UID, endpoint_dashboard, gpu_alert_rules, overview_dashboard, recording_rules, team_dashboard
from .helm import CHARTS, ChartSpec, pinned_release, validate_chart_values
from .labels import check_label_inputs
# The device plugin's GPU placement (PlatformAddons): the exporter runs where the plugin runs.
from .platform_addons import DEFAULT_NAMESPACES, deep_merge, _gpu_affinity as gpu_affinity, _gpu_node_pools, _gpu_tolerations as gpu_tolerations
from .observability_spec import NULL_RECEIVER, AlertReceiver, EndpointView, TeamView, UnitPrices, check_receiver_secret

__all__ = [
    "ALERTMANAGER_CONFIG_LABEL",
    "LOKI_UID",
    "ObservabilityStack",
    "ObservabilityStackArgs",
    "ObservabilityStackArgsDict",
    "TEMPO_UID",
    "platform_addons_values",
]

MONITORING_API_VERSION = "monitoring.coreos.com/v1"
ALERTMANAGER_CONFIG_API_VERSION = "monitoring.coreos.com/v1alpha1"

#: Grafana data source uids (the dashboards and links refer to them).
TEMPO_UID = "tempo"
LOKI_UID = "loki"
#: The label selecting the platform's AlertmanagerConfigs (Alertmanager's ``alertmanagerConfigSelector``).
ALERTMANAGER_CONFIG_LABEL = "mlplat.io/alertmanager-config"
#: Grafana's folder for the platform's dashboards (the sidecar's ``folderAnnotation``).
DASHBOARD_FOLDER_ANNOTATION = "grafana_folder"
DASHBOARD_FOLDER = "ML platform"
#: ConfigMap data is at most 1 MiB (Kubernetes docs, "ConfigMaps").
_CONFIGMAP_LIMIT_BYTES = 1024 * 1024

_TEMPO_HTTP_PORT = 3200
_OTLP_GRPC_PORT = 4317
_LOKI_HTTP_PORT = 3100
_DCGM_PORT = 9400
#: JupyterHub's hub: Service ``hub``, port ``hub`` (8081), metrics at ``/hub/metrics``
#: (Zero to JupyterHub chart; JupyterHub docs, "Monitoring").
_HUB_PORT = 8081

#: Namespaces of the platform's own add-ons (PlatformAddons' defaults), left out of the overview's
#: "every team namespace" selectors.
PLATFORM_NAMESPACES = ("default", *DEFAULT_NAMESPACES.values())

_HelmChart = Literal["dcgm-exporter", "tempo", "loki", "prometheus-pushgateway"]
_PUSHGATEWAY_PORT = 9091


def _namespace(value: Any) -> str:
    return check_namespace_name(check_dns_label(value))


class ObservabilityStackArgs(ComponentArgs):
    """Arguments of :class:`ObservabilityStack`.

    The documented minimum: ``labels`` and ``platform_receivers``.

    Attributes:
        labels: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` is added. On every object.
        platform_receivers: where the platform's own alerts go, and every alert no team route
            takes (at least one; see :class:`AlertReceiver`).
        endpoints: the model endpoints (:class:`EndpointView`): a dashboard and SLO recording
            rules each.
        teams: the teams (:class:`TeamView`): a dashboard each, their spend estimate and budget,
            their workspace's hub scraped, their alert receivers.
        monitoring_namespace: kube-prometheus-stack's namespace (PlatformAddons' ``monitoring``):
            dashboards, data sources, rules, the DCGM exporter and the platform's
            AlertmanagerConfig go there.
        telemetry_namespace: the collector's namespace (PlatformAddons' ``observability``): Tempo
            and Loki go there.
        prometheus_labels: the labels kube-prometheus-stack selects ServiceMonitors and
            PrometheusRules by (default ``release: kube-prometheus-stack``).
        unit_prices: USD per requested vCPU-hour, GiB-hour and GPU-hour for the spend estimate.
        gpu_metrics: install the DCGM exporter and the GPU alerts (default on).
        gpu_node_pools: the cluster's GPU node pools (the cluster stack's ``gpuNodePools``,
            ``[{name, labels, taints}]``), a list or an Output of one: the exporter may run on nodes
            with any pool's labels, besides the NVIDIA defaults (``nvidia.com/gpu.present``, NFD's
            PCI vendor label), and tolerates each pool's taints besides ``nvidia.com/gpu``.
        idle_gpu_utilization_percent: below this average utilisation an allocated GPU is idle (default 10 %).
        idle_gpu_hours: over how many hours (default 2 h).
        gpu_memory_pressure_percent: framebuffer use above which a GPU is under memory pressure (default 95 %).
        pushgateway: install the Prometheus Pushgateway the DriftMonitor jobs push their drift
            scores to (``prometheus-pushgateway.<monitoring_namespace>:9091``, DriftMonitor's
            default; default on). It admits pushes from the teams' namespaces only.
        tracing: install Tempo and send the collector's traces to it (default on).
        logs: install Loki and send the collector's logs to it (default on).
        trace_retention_hours / log_retention_hours: how long traces / logs are kept (default 336 h, 14 days).
        tempo_storage_gib / loki_storage_gib: their persistent volumes (GiB; default 20 / 50).
        values: per chart (``dcgm-exporter``, ``prometheus-pushgateway``, ``tempo``, ``loki``), Helm values deep-merged over the
            component's; checked against the chart's schema where it publishes one (Loki).
        team_routed_namespaces: namespaces whose alerts a team's own AlertmanagerConfig delivers
            (registered elsewhere, e.g. by :class:`~platform_lib.k8s.team_observability.TeamObservability`
            in the team stacks): the platform's route ends their alerts, as it does for ``teams``
            with receivers.
    """

    labels: dict[str, Input[str]]
    platform_receivers: list[AlertReceiver] = Field(min_length=1)
    endpoints: list[EndpointView] = Field(default_factory=list)
    teams: list[TeamView] = Field(default_factory=list)
    monitoring_namespace: str = "monitoring"
    telemetry_namespace: str = "observability"
    prometheus_labels: dict[str, str] = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    unit_prices: UnitPrices = Field(default_factory=UnitPrices)
    gpu_metrics: bool = True
    gpu_node_pools: Annotated[Input[list[Any]], InputCheck(_gpu_node_pools)] | None = None
    idle_gpu_utilization_percent: float = Field(default=10, gt=0, le=100)
    idle_gpu_hours: float = Field(default=2, ge=0.25, le=168)
    gpu_memory_pressure_percent: float = Field(default=95, gt=0, le=100)
    pushgateway: bool = True
    tracing: bool = True
    logs: bool = True
    trace_retention_hours: int = Field(default=336, ge=1, le=8760)
    log_retention_hours: int = Field(default=336, ge=24, le=8760)
    tempo_storage_gib: int = Field(default=20, ge=1, le=65536)
    loki_storage_gib: int = Field(default=50, ge=1, le=65536)
    values: dict[_HelmChart, dict[str, Any]] = Field(default_factory=dict)
    team_routed_namespaces: list[Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]] = Field(default_factory=list)

    _labels = field_validator("labels")(check_label_inputs)

    @field_validator("monitoring_namespace", "telemetry_namespace")
    @classmethod
    def _namespaces(cls, value: str) -> str:
        return _namespace(value)

    @field_validator("prometheus_labels")
    @classmethod
    def _label_maps(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_labels(labels)

    @model_validator(mode="after")
    def _consistent(self) -> "ObservabilityStackArgs":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        names = [t.name for t in self.teams]
        namespaces = [t.namespace_name for t in self.teams]
        for index, team in enumerate(self.teams):
            if names.index(team.name) != index:
                problems.append((("teams", index, "name"), team.name, "a team name given once"))
            elif namespaces.index(team.namespace_name) != index:
                problems.append((("teams", index, "namespace"), team.namespace_name, "a namespace no other team has"))
        seen: set[tuple[str, str]] = set()
        for index, endpoint in enumerate(self.endpoints):
            if (endpoint.namespace, endpoint.name) in seen:
                problems.append((("endpoints", index, "name"), endpoint.name, f"an endpoint given once per namespace ({endpoint.namespace})"))
            seen.add((endpoint.namespace, endpoint.name))
            if self.teams and endpoint.team not in names:
                problems.append((("endpoints", index, "team"), endpoint.team, f"one of the teams given ({', '.join(names)})"))
        receivers = [r.name for r in self.platform_receivers]
        for index, receiver in enumerate(self.platform_receivers):
            if receivers.index(receiver.name) != index:
                problems.append((("platform_receivers", index, "name"), receiver.name, "a receiver name given once"))
        for chart in ("tempo", "loki"):
            if chart in self.values and not getattr(self, "tracing" if chart == "tempo" else "logs"):
                problems.append((("values", chart), "…", f"no values: {chart} is off"))
        if "dcgm-exporter" in self.values and not self.gpu_metrics:
            problems.append((("values", "dcgm-exporter"), "…", "no values: gpu_metrics is off"))
        if "prometheus-pushgateway" in self.values and not self.pushgateway:
            problems.append((("values", "prometheus-pushgateway"), "…", "no values: pushgateway is off"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self


class ObservabilityStackArgsDict(TypedDict, total=False):
    """The fields of :class:`ObservabilityStackArgs` as keyword arguments."""

    labels: Mapping[str, Input[str]]
    platform_receivers: list[AlertReceiver | Mapping[str, Any]]
    endpoints: list[EndpointView | Mapping[str, Any]]
    teams: list[TeamView | Mapping[str, Any]]
    monitoring_namespace: str
    telemetry_namespace: str
    prometheus_labels: Mapping[str, str]
    unit_prices: UnitPrices | Mapping[str, Any]
    gpu_metrics: bool
    gpu_node_pools: Input[list[Any]] | None
    idle_gpu_utilization_percent: float
    idle_gpu_hours: float
    gpu_memory_pressure_percent: float
    pushgateway: bool
    tracing: bool
    logs: bool
    trace_retention_hours: int
    log_retention_hours: int
    tempo_storage_gib: int
    loki_storage_gib: int
    values: Mapping[str, Mapping[str, Any]]
    team_routed_namespaces: list[str]


def _service_host(service: str, namespace: str) -> str:
    return f"{service}.{namespace}.svc.cluster.local"


# ------------------------------------------------------------------------- what PlatformAddons needs


def platform_addons_values(args: ObservabilityStackArgs) -> dict[str, dict[str, Any]]:
    """The Helm values PlatformAddons must merge (its ``values`` argument) for this stack to work.

    - ``opentelemetry-collector``: exporters ``otlp/tempo`` (traces, OTLP/gRPC to Tempo) and
      ``otlphttp/loki`` (logs, to Loki's native OTLP endpoint, which keeps each record's trace and
      span ids as structured metadata ``trace_id``/``span_id``), set as the exporters of the
      ``traces`` and ``logs`` pipelines. In-cluster plain text, admitted only from the
      collector's namespace by Tempo's and Loki's NetworkPolicies.
    - ``kube-prometheus-stack``: kube-state-metrics exports ModelEndpoint's audit annotations
      (model version, git SHA, image digest) as ``kube_pod_annotations`` labels; Alertmanager
      takes the platform's AlertmanagerConfig as its global configuration and selects the
      platform's AlertmanagerConfigs by label; Grafana's dashboard sidecar files dashboards into
      folders by the ``grafana_folder`` annotation.

    Args:
        args: the stack's validated arguments.

    Returns:
        Add-on name to values (the add-on names of PlatformAddons).
    """
    telemetry = args.telemetry_namespace
    values: dict[str, dict[str, Any]] = {}
    exporters: dict[str, Any] = {}
    pipelines: dict[str, Any] = {}
    if args.tracing:
        exporters["otlp/tempo"] = {"endpoint": f"{_service_host('tempo', telemetry)}:{_OTLP_GRPC_PORT}", "tls": {"insecure": True}}
        pipelines["traces"] = {"exporters": ["otlp/tempo"]}
    if args.logs:
        exporters["otlphttp/loki"] = {"endpoint": f"http://{_service_host('loki', telemetry)}:{_LOKI_HTTP_PORT}/otlp"}
        pipelines["logs"] = {"exporters": ["otlphttp/loki"]}
    if exporters:
        values["opentelemetry-collector"] = {"config": {"exporters": exporters, "service": {"pipelines": pipelines}}}
    annotations = ",".join(KSM_ANNOTATIONS)
    values["kube-prometheus-stack"] = {
        "kube-state-metrics": {"metricAnnotationsAllowList": [f"pods=[{annotations}]"]},
        "alertmanager": {
            "alertmanagerSpec": {
                "alertmanagerConfiguration": {"name": "platform-alerts"},
                "alertmanagerConfigSelector": {"matchLabels": {ALERTMANAGER_CONFIG_LABEL: "true"}},
                "alertmanagerConfigNamespaceSelector": {},
            }
        },
        "grafana": {"sidecar": {"dashboards": {"folderAnnotation": DASHBOARD_FOLDER_ANNOTATION, "provider": {"foldersFromFilesStructure": True}}}},
    }
    return values


# ------------------------------------------------------------------------------ the charts' values

_RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def dcgm_values(args: ObservabilityStackArgs) -> dict[str, Any]:
    """dcgm-exporter: on GPU nodes only (the same node affinity and tolerations as the NVIDIA
    device plugin, PlatformAddons' ``_gpu_affinity``), pod mapping on (series carry the GPU's pod and namespace),
    the chart's ServiceMonitor off (the component makes its own, honouring those labels), and none
    of the chart's ``SYS_ADMIN``: that capability is for the profiling counters (``DCGM_FI_PROF_*``),
    which the default counters the platform reads do not need. It still runs as root: it reads the
    kubelet's pod-resources socket (a root-owned hostPath) to map GPUs to pods, so it goes in the
    monitoring namespace, whose Pod Security level is ``privileged`` (PlatformAddons)."""
    pools = args.gpu_node_pools if args.gpu_node_pools is not None else []
    if is_output(pools):
        affinity: Any = pulumi.Output.from_input(pools).apply(gpu_affinity)
        tolerations: Any = pulumi.Output.from_input(pools).apply(gpu_tolerations)
    else:
        affinity, tolerations = gpu_affinity(pools), gpu_tolerations(pools)
    return {
        "affinity": affinity,
        "tolerations": tolerations,
        "serviceMonitor": {"enabled": False},
        "kubernetes": {"enablePodLabels": False, "enablePodUID": False},
        "securityContext": {"runAsNonRoot": False, "runAsUser": 0, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "512Mi"}},
    }


def tempo_values(args: ObservabilityStackArgs) -> dict[str, Any]:
    """Tempo, single binary: OTLP receivers only (the chart's Jaeger receivers removed), traces
    kept ``trace_retention_hours`` on a persistent volume, no usage reporting, restricted
    security contexts, its own ServiceMonitor."""
    return {
        "tempo": {
            "retention": f"{args.trace_retention_hours}h",
            "reportingEnabled": False,
            "receivers": {
                "jaeger": None,
                "otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{_OTLP_GRPC_PORT}"}, "http": {"endpoint": "0.0.0.0:4318"}}},
            },
            "securityContext": _RESTRICTED_CONTAINER,
            "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        },
        "securityContext": {"runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "serviceAccount": {"automountServiceAccountToken": False},
        "persistence": {"enabled": True, "size": f"{args.tempo_storage_gib}Gi"},
        "serviceMonitor": {"enabled": True, "additionalLabels": dict(args.prometheus_labels)},
    }


def loki_values(args: ObservabilityStackArgs) -> dict[str, Any]:
    """Loki, monolithic (one binary) on a persistent volume (filesystem storage; for a larger
    platform override with object storage and ``SimpleScalable``), structured metadata on (OTLP
    trace ids), retention ``log_retention_hours`` enforced by the compactor, single tenant (no
    ``X-Scope-OrgID``: Loki is reachable only from the collector and Grafana, NetworkPolicy), no
    gateway, caches, canary, test pod or MinIO, no usage reporting."""
    return {
        "deploymentMode": "Monolithic",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {"configs": [{"from": "2024-04-01", "store": "tsdb", "object_store": "filesystem", "schema": "v13", "index": {"prefix": "loki_index_", "period": "24h"}}]},
            "limits_config": {"retention_period": f"{args.log_retention_hours}h", "allow_structured_metadata": True, "volume_enabled": True},
            "compactor": {"retention_enabled": True, "delete_request_store": "filesystem"},
            "analytics": {"reporting_enabled": False},
        },
        "singleBinary": {
            "replicas": 1,
            "persistence": {"enabled": True, "size": f"{args.loki_storage_gib}Gi"},
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        },
        "backend": {"replicas": 0},
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "gateway": {"enabled": False},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        "minio": {"enabled": False},
    }


def pushgateway_values(args: ObservabilityStackArgs) -> dict[str, Any]:
    """Prometheus Pushgateway: its ServiceMonitor with ``honorLabels`` (the pushed series keep the
    ``namespace`` and ``endpoint`` of the DriftMonitor's grouping key), restricted security
    contexts, no API token mounted, no persistence (the next drift run pushes again)."""
    return {
        "serviceMonitor": {"enabled": True, "namespace": args.monitoring_namespace, "honorLabels": True, "additionalLabels": dict(args.prometheus_labels)},
        "securityContext": {"fsGroup": 65534, "runAsUser": 65534, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
        "automountServiceAccountToken": False,
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    }


def chart_values(args: ObservabilityStackArgs, chart: str) -> dict[str, Any]:
    """A chart's values: the component's, with ``args.values[chart]`` merged over them."""
    own = {"dcgm-exporter": dcgm_values, "tempo": tempo_values, "loki": loki_values, "prometheus-pushgateway": pushgateway_values}[chart](args)
    return deep_merge(own, args.values.get(chart, {}))  # type: ignore[call-overload]


def datasources(args: ObservabilityStackArgs) -> dict[str, Any]:
    """Grafana's data source provisioning file (``apiVersion: 1``): Tempo, whose spans link to
    their log lines in Loki (by trace id, within five minutes of the span) and to Prometheus; Loki,
    whose ``trace_id`` (structured metadata of OTLP logs) links to the trace in Tempo. A literal
    ``$`` is written ``$$`` (Grafana expands environment variables in provisioning files)."""
    telemetry = args.telemetry_namespace
    sources: list[dict[str, Any]] = []
    if args.tracing:
        tempo: dict[str, Any] = {
            "name": "Tempo",
            "type": "tempo",
            "uid": TEMPO_UID,
            "access": "proxy",
            "url": f"http://{_service_host('tempo', telemetry)}:{_TEMPO_HTTP_PORT}",
            "editable": False,
            "jsonData": {
                "serviceMap": {"datasourceUid": PROMETHEUS_DATASOURCE_UID},
                "nodeGraph": {"enabled": True},
            },
        }
        if args.logs:
            tempo["jsonData"]["tracesToLogsV2"] = {
                "datasourceUid": LOKI_UID,
                "spanStartTimeShift": "-5m",
                "spanEndTimeShift": "5m",
                "filterByTraceID": True,
                "customQuery": True,
                "query": '{service_name="$${__span.tags["service.name"]}"} | trace_id="$${__trace.traceId}"',
            }
            tempo["jsonData"]["lokiSearch"] = {"datasourceUid": LOKI_UID}
        sources.append(tempo)
    if args.logs:
        loki: dict[str, Any] = {
            "name": "Loki",
            "type": "loki",
            "uid": LOKI_UID,
            "access": "proxy",
            "url": f"http://{_service_host('loki', telemetry)}:{_LOKI_HTTP_PORT}",
            "editable": False,
            "jsonData": {"maxLines": 1000},
        }
        if args.tracing:
            loki["jsonData"]["derivedFields"] = [
                {"name": "TraceID", "matcherType": "label", "matcherRegex": "trace_id", "datasourceUid": TEMPO_UID, "url": "$${__value.raw}", "urlDisplayLabel": "View trace"}
            ]
        sources.append(loki)
    return {"apiVersion": 1, "datasources": sources}


def _receiver_spec(receiver: AlertReceiver, secret_name: str) -> dict[str, Any]:
    if receiver.secret_ref is not None:
        reference = {"name": receiver.secret_ref.name, "key": receiver.secret_ref.key}
    else:
        reference = {"name": secret_name, "key": receiver.name}
    if receiver.kind == "slack":
        slack: dict[str, Any] = {"apiURL": reference, "sendResolved": True}
        if receiver.channel:
            slack["channel"] = receiver.channel
        return {"name": receiver.name, "slackConfigs": [slack]}
    if receiver.kind == "webhook":
        return {"name": receiver.name, "webhookConfigs": [{"urlSecret": reference, "sendResolved": True}]}
    return {"name": receiver.name, "pagerdutyConfigs": [{"routingKey": reference, "sendResolved": True}]}


def alertmanager_config_spec(receivers: list[AlertReceiver], secret_name: str, *, delivered_namespaces: list[str] | None = None) -> dict[str, Any]:
    """An AlertmanagerConfig ``spec``: each receiver gets the alerts of the severities it lists
    (every matching receiver: ``continue``), grouped by alert name, namespace and service; the
    top-level receiver is :data:`NULL_RECEIVER`, so an alert of another severity (``info``, the
    always-firing ``Watchdog``) is not sent.

    The Prometheus Operator puts the namespaced AlertmanagerConfigs' routes *before* the global
    configuration's, each with ``continue: true`` (prometheus-operator ``pkg/alertmanager/amcfg.go``,
    ``AddAlertmanagerConfigs``): a team's alert reaches the team's route and then falls through to
    the platform's. ``delivered_namespaces`` (the global configuration's) are the teams with their
    own receivers: a first route ends their alerts at the null receiver, so the platform is not
    paged for a team's model.

    Args:
        receivers: at least one.
        secret_name: the Secret holding each receiver's URL or key under the receiver's name.
        delivered_namespaces: namespaces whose alerts their own AlertmanagerConfig delivers.
    """
    routes: list[dict[str, Any]] = []
    if delivered_namespaces:
        routes.append({
            "receiver": NULL_RECEIVER,
            "matchers": [{"name": "namespace", "matchType": "=~", "value": "|".join(sorted(delivered_namespaces))}],
            "continue": False,
        })
    routes += [
        {"receiver": r.name, "matchers": [{"name": "severity", "matchType": "=~", "value": "|".join(r.severities)}], "continue": True}
        for r in receivers
    ]
    return {
        "route": {
            "receiver": NULL_RECEIVER,
            "groupBy": ["alertname", "namespace", "service"],
            "groupWait": "30s",
            "groupInterval": "5m",
            "repeatInterval": "4h",
            "routes": routes,
        },
        "receivers": [{"name": NULL_RECEIVER}, *(_receiver_spec(r, secret_name) for r in receivers)],
    }


def _secret_values(receivers: list[AlertReceiver], label: str) -> dict[str, Any]:
    """The Secret's ``stringData``: each receiver's secret as a secret Output, checked on arrival."""
    data: dict[str, Any] = {}
    for index, receiver in enumerate(receivers):
        if receiver.secret_ref is not None:
            continue  # an existing Secret's key: nothing to store
        value = receiver.secret
        if is_output(value):
            value = checked_output(value, lambda v, kind=receiver.kind: (check_receiver_secret(kind, v), v)[1], f"{label}[{index}].secret")
        data[receiver.name] = pulumi.Output.secret(value)
    return data


def _name_of(metadata: Any) -> Any:
    return metadata["name"] if isinstance(metadata, dict) else metadata.name


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


class ObservabilityObjects:
    """The objects both :class:`ObservabilityStack` (the cluster's) and
    :class:`~platform_lib.k8s.team_observability.TeamObservability` (a team's) register: dashboard
    ConfigMaps, custom resources, hub monitors, alert routes. Used by a ``Component`` that sets
    ``self._name`` and ``self._labels`` in its ``_create``."""

    _name: str
    _labels: Mapping[str, Any]

    # --- helpers -------------------------------------------------------------------------------

    def _metadata(self, object_name: str, namespace: str, extra_labels: Mapping[str, str] | None = None, annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": object_name, "namespace": namespace, "labels": {**self._labels, **(extra_labels or {})}}
        if annotations:
            metadata["annotations"] = dict(annotations)
        return metadata

    def _custom(self, resource_name: str, api_version: str, kind: str, object_name: str, namespace: str, spec: Any,
                extra_labels: Mapping[str, str] | None = None, depends_on: Any = None) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            resource_name,
            api_version=api_version,
            kind=kind,
            metadata=self._metadata(object_name, namespace, extra_labels),
            spec=spec,
            opts=self.child_options(depends_on=depends_on),
        )

    def _dashboard_config_maps(self, models: list[tuple[str, dict[str, Any]]], monitoring_namespace: str, field: str) -> dict[str, str]:
        """One ConfigMap per ``(key, dashboard model)`` in ``monitoring_namespace``, labelled for
        Grafana's dashboard sidecar; returns the ConfigMap names by dashboard uid."""
        names: dict[str, str] = {}
        self.dashboard_config_maps = []
        for key, model in models:
            body = json.dumps(model, sort_keys=True, separators=(",", ":"))
            if len(body.encode()) > _CONFIGMAP_LIMIT_BYTES:  # pragma: no cover - a dashboard of this platform is a few dozen KiB
                raise ComponentArgsError(f"dashboard {key} too large", [Issue(f"{self.label(self._name)}.{field}", key, "a dashboard under 1 MiB (a ConfigMap's limit)")])
            object_name = f"mlplat-dashboard-{_slug(key)}"[:63].rstrip("-")
            config_map = k8s.core.v1.ConfigMap(
                f"{self._name}-dashboard-{_slug(key)}",
                metadata=self._metadata(object_name, monitoring_namespace, {"grafana_dashboard": "1"}, {DASHBOARD_FOLDER_ANNOTATION: DASHBOARD_FOLDER}),
                data={f"{_slug(key)}.json": body},
                opts=self.child_options(),
            )
            self.dashboard_config_maps.append(config_map)
            names[model["uid"]] = object_name
        return names

    def _pushgateway_ingress(self, resource_name: str, object_name: str, monitoring_namespace: str, namespaces: list[str]) -> k8s.networking.v1.NetworkPolicy:
        """Admit ``namespaces`` to the Pushgateway's port (NetworkPolicies add up: each team stack
        admits its own namespace)."""
        return k8s.networking.v1.NetworkPolicy(
            resource_name,
            metadata=self._metadata(object_name, monitoring_namespace),
            spec={
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-pushgateway", "app.kubernetes.io/instance": "prometheus-pushgateway"}},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(namespaces)}]}}],
                    "ports": [{"protocol": "TCP", "port": _PUSHGATEWAY_PORT}],
                }],
            },
            opts=self.child_options(),
        )

    # --- workspace hubs ------------------------------------------------------------------------

    def _hub_monitor(self, monitoring_namespace: str, prometheus_labels: Mapping[str, str], team: TeamView,
                     namespace: Any = None) -> k8s.apiextensions.CustomResource:
        """Scrape the team's JupyterHub hub (``/hub/metrics``), and let Prometheus through the
        team namespace's default-deny policy to the hub's port. ``namespace``: the team's
        namespace as an Output to wait for (default ``team.namespace_name``)."""
        namespace = team.namespace_name if namespace is None else namespace
        hub = {"app": "jupyterhub", "component": "hub"}
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-hub-metrics-{team.name}",
            metadata=self._metadata("allow-prometheus-hub-metrics", namespace),
            spec={
                "podSelector": {"matchLabels": hub},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": monitoring_namespace}}}],
                             "ports": [{"protocol": "TCP", "port": _HUB_PORT}]}],
            },
            opts=self.child_options(),
        )
        return self._custom(
            f"{self._name}-hub-monitor-{team.name}",
            MONITORING_API_VERSION,
            "ServiceMonitor",
            "jupyterhub-hub",
            namespace,
            {"selector": {"matchLabels": hub}, "endpoints": [{"port": "hub", "path": "/hub/metrics", "interval": "60s"}]},
            extra_labels=prometheus_labels,
        )

    # --- alert routing -------------------------------------------------------------------------

    def _route(self, key: str, object_name: str, namespace: Any, receivers: list[AlertReceiver], label: str,
               delivered_namespaces: list[str] | None = None) -> k8s.apiextensions.CustomResource:
        secret_name = f"{object_name}-receivers"
        depends_on = []
        if any(r.secret_ref is None for r in receivers):  # values given: stored in a Secret beside the route
            depends_on.append(k8s.core.v1.Secret(
                f"{self._name}-alerts-{key}-receivers",
                metadata=self._metadata(secret_name, namespace),
                type="Opaque",
                string_data=_secret_values(receivers, label),
                opts=self.child_options(),
            ))
        return self._custom(
            f"{self._name}-alerts-{key}",
            ALERTMANAGER_CONFIG_API_VERSION,
            "AlertmanagerConfig",
            object_name,
            namespace,
            alertmanager_config_spec(receivers, secret_name, delivered_namespaces=delivered_namespaces),
            extra_labels={ALERTMANAGER_CONFIG_LABEL: "true"},
            depends_on=depends_on,
        )



class ObservabilityStack(ObservabilityObjects, Component[ObservabilityStackArgs], type_token="mlplat:k8s:Observability"):
    """The platform's dashboards, GPU metrics, trace and log backends and alert routing (see the
    module docstring).

    Args:
        name: the logical name; children are ``<name>-dashboard-...``, ``<name>-dcgm-exporter``,
            ``<name>-tempo``, ``<name>-loki``, ``<name>-alerts-<team>``...
        args: an :class:`ObservabilityStackArgs` or a mapping of its fields; or the fields as keywords.
        opts: resource options for every child (``provider=`` the cluster's Kubernetes provider;
            ``depends_on=`` the PlatformAddons, whose CRDs and namespaces this needs).

    Attributes (outputs):
        dashboards: the dashboards' ConfigMap names, by dashboard uid.
        tempo_endpoint: Tempo's OTLP/gRPC ``host:port`` (``None`` without tracing).
        loki_otlp_endpoint: Loki's OTLP/HTTP URL (``None`` without logs).
        platform_addons_values: what PlatformAddons' ``values`` must merge
            (:func:`platform_addons_values`).

    Raises:
        ComponentArgsError: invalid arguments (a receiver secret of the wrong shape, shown as
            ``[secret]``; an endpoint of a team not given; values for a chart that is off...),
            before anything is registered. A receiver secret given as an Output that turns out
            malformed raises it when its value is known.
    """

    dashboards: pulumi.Output[dict[str, str]]
    tempo_endpoint: pulumi.Output[str | None]
    loki_otlp_endpoint: pulumi.Output[str | None]
    platform_addons_values: pulumi.Output[dict[str, Any]]

    @overload
    def __init__(self, name: str, args: ObservabilityStackArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[ObservabilityStackArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def validate_args(cls, name: str, args: Any = None, **kwargs: Any) -> ObservabilityStackArgs:
        """As :meth:`Component.validate_args`, with every plain receiver secret masked in the
        error, and the charts' values checked against their schemas."""
        try:
            validated = super().validate_args(name, args, **kwargs)
        except ComponentArgsError as error:
            raise _masked(error, _plain_secrets(args if args is not None else kwargs)) from None
        label = cls.label(name)
        for chart, enabled in (("dcgm-exporter", validated.gpu_metrics), ("prometheus-pushgateway", validated.pushgateway), ("tempo", validated.tracing), ("loki", validated.logs)):
            if enabled:
                validate_chart_values(CHARTS[chart], chart_values(validated, chart), field=f"{label}.values.{chart}")
        return validated

    def _create(self, name: str, args: ObservabilityStackArgs) -> dict[str, Any]:
        self._name = name
        self._labels = with_managed_by(args.labels)
        dashboards = self._dashboards(args)
        rules = recording_rules(args.endpoints, args.teams, args.unit_prices)
        # No endpoints or teams (the cluster stack's: team stacks record their own): no empty rule.
        self.recording_rule = self._custom(f"{name}-recording", MONITORING_API_VERSION, "PrometheusRule", f"{name}-recording", args.monitoring_namespace,
                                           rules, extra_labels=args.prometheus_labels) if rules["groups"] else None
        self.dcgm_exporter = self._gpu_metrics(args) if args.gpu_metrics else None
        self.pushgateway = self._pushgateway(args) if args.pushgateway else None
        self.tempo = self._release("tempo", args) if args.tracing else None
        self.loki = self._release("loki", args) if args.logs else None
        self.telemetry_network_policies = self._telemetry_network_policies(args)
        self.datasources = self._datasources(args) if (args.tracing or args.logs) else None
        self.hub_monitors = [self._hub_monitor(args.monitoring_namespace, args.prometheus_labels, team) for team in args.teams if team.workspace]
        self.alert_routes = self._alert_routing(args)
        return {
            "dashboards": pulumi.Output.from_input(dashboards),
            "tempo_endpoint": pulumi.Output.from_input(f"{_service_host('tempo', args.telemetry_namespace)}:{_OTLP_GRPC_PORT}" if args.tracing else None),
            "loki_otlp_endpoint": pulumi.Output.from_input(f"http://{_service_host('loki', args.telemetry_namespace)}:{_LOKI_HTTP_PORT}/otlp" if args.logs else None),
            "platform_addons_values": pulumi.Output.from_input(platform_addons_values(args)),
        }

    # --- dashboards ----------------------------------------------------------------------------

    def _dashboards(self, args: ObservabilityStackArgs) -> dict[str, str]:
        """One ConfigMap per dashboard, for kube-prometheus-stack's Grafana dashboard sidecar."""
        platform = [args.monitoring_namespace, args.telemetry_namespace, *PLATFORM_NAMESPACES]
        models: list[tuple[str, dict[str, Any]]] = [("overview", overview_dashboard(args.endpoints, args.teams, platform_namespaces=platform))]
        models += [(f"team-{t.name}", team_dashboard(t, args.endpoints)) for t in args.teams]
        models += [(f"endpoint-{e.namespace}-{e.name}", endpoint_dashboard(e)) for e in args.endpoints]
        return self._dashboard_config_maps(models, args.monitoring_namespace, "endpoints")

    def _datasources(self, args: ObservabilityStackArgs) -> k8s.core.v1.ConfigMap:
        """Tempo and Loki for Grafana's data source sidecar (``grafana_datasource: "1"``)."""
        return k8s.core.v1.ConfigMap(
            f"{self._name}-datasources",
            metadata=self._metadata("mlplat-datasources", args.monitoring_namespace, {"grafana_datasource": "1"}),
            data={"mlplat-datasources.yaml": yaml.safe_dump(datasources(args), sort_keys=False)},
            opts=self.child_options(),
        )

    # --- GPU metrics ---------------------------------------------------------------------------

    def _gpu_metrics(self, args: ObservabilityStackArgs) -> k8s.helm.v3.Release:
        """dcgm-exporter, its ServiceMonitor (honouring the exporter's pod labels) and the GPU alerts."""
        release = pinned_release(
            f"{self._name}-dcgm-exporter",
            CHARTS["dcgm-exporter"],
            namespace=args.monitoring_namespace,
            values=chart_values(args, "dcgm-exporter"),
            opts=self.child_options(),
        )
        self.dcgm_service_monitor = self._custom(
            f"{self._name}-dcgm-exporter-monitor",
            MONITORING_API_VERSION,
            "ServiceMonitor",
            "dcgm-exporter",
            args.monitoring_namespace,
            {
                "selector": {"matchLabels": {"app.kubernetes.io/name": "dcgm-exporter"}},
                "namespaceSelector": {"matchNames": [args.monitoring_namespace]},
                # honorLabels keeps the exporter's namespace/pod of the GPU's workload rather than
                # renaming them exported_namespace/exported_pod.
                "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "15s", "honorLabels": True}],
            },
            extra_labels=args.prometheus_labels,
            depends_on=[release],
        )
        self.gpu_alerts = self._custom(
            f"{self._name}-gpu-alerts",
            MONITORING_API_VERSION,
            "PrometheusRule",
            f"{self._name}-gpu-alerts"[:63],
            args.monitoring_namespace,
            gpu_alert_rules(
                idle_utilization_percent=args.idle_gpu_utilization_percent,
                idle_hours=args.idle_gpu_hours,
                memory_pressure_percent=args.gpu_memory_pressure_percent,
            ),
            extra_labels=args.prometheus_labels,
        )
        return release

    # --- drift metrics -------------------------------------------------------------------------

    def _pushgateway(self, args: ObservabilityStackArgs) -> k8s.helm.v3.Release:
        """The Pushgateway, and a NetworkPolicy admitting only the teams' namespaces (the drift
        jobs push) and the monitoring namespace (Prometheus scrapes) on its port."""
        release = pinned_release(
            f"{self._name}-pushgateway",
            CHARTS["prometheus-pushgateway"],
            namespace=args.monitoring_namespace,
            values=chart_values(args, "prometheus-pushgateway"),
            opts=self.child_options(),
        )
        namespaces = sorted({args.monitoring_namespace, *(t.namespace_name for t in args.teams)})
        self._pushgateway_ingress(f"{self._name}-pushgateway-ingress", "prometheus-pushgateway-ingress", args.monitoring_namespace, namespaces)
        return release

    # --- traces and logs -----------------------------------------------------------------------

    def _release(self, chart: str, args: ObservabilityStackArgs) -> k8s.helm.v3.Release:
        return pinned_release(f"{self._name}-{chart}", CHARTS[chart], namespace=args.telemetry_namespace, values=chart_values(args, chart), opts=self.child_options())

    def _telemetry_network_policies(self, args: ObservabilityStackArgs) -> list[k8s.networking.v1.NetworkPolicy]:
        """Tempo and Loki admit only their own namespace (the collector) and the monitoring
        namespace (Grafana's queries, Prometheus' scrapes), on their ports."""
        policies = []
        for chart, enabled, ports in (("tempo", args.tracing, [_TEMPO_HTTP_PORT, _OTLP_GRPC_PORT, 4318]), ("loki", args.logs, [_LOKI_HTTP_PORT])):
            if not enabled:
                continue
            sources = [{"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": args.monitoring_namespace}}}]
            policies.append(
                k8s.networking.v1.NetworkPolicy(
                    f"{self._name}-{chart}-ingress",
                    metadata=self._metadata(f"{chart}-ingress", args.telemetry_namespace),
                    spec={
                        "podSelector": {"matchLabels": {"app.kubernetes.io/name": chart, "app.kubernetes.io/instance": chart}},
                        "policyTypes": ["Ingress"],
                        "ingress": [{"from": sources, "ports": [{"protocol": "TCP", "port": p} for p in ports]}],
                    },
                    opts=self.child_options(),
                )
            )
        return policies

    # --- alert routing -------------------------------------------------------------------------

    def _alert_routing(self, args: ObservabilityStackArgs) -> dict[str, k8s.apiextensions.CustomResource]:
        """The platform's global AlertmanagerConfig and one per team with receivers, each with the
        Secret of its receivers' URLs and keys beside it."""
        label = self.label(self._name)
        delivered = sorted({t.namespace_name for t in args.teams if t.receivers} | set(args.team_routed_namespaces))
        routes = {"platform": self._route("platform", "platform-alerts", args.monitoring_namespace, args.platform_receivers, f"{label}.platform_receivers", delivered)}
        for index, team in enumerate(args.teams):
            if team.receivers:
                routes[team.name] = self._route(f"team-{team.name}", "team-alerts", team.namespace_name, team.receivers, f"{label}.teams[{index}].receivers")
        return routes


def _plain_secrets(raw: Any) -> list[str]:
    """Every plain string given as a receiver ``secret`` anywhere in the raw arguments."""
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "secret" and isinstance(value, str):
                    found.append(value)
                else:
                    visit(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                visit(item)
        elif isinstance(node, AlertReceiver) and isinstance(node.secret, str):
            found.append(node.secret)
        elif hasattr(node, "model_dump") and not isinstance(node, AlertReceiver):
            visit({k: getattr(node, k) for k in type(node).model_fields})

    visit(raw)
    return found


def _masked(error: ComponentArgsError, secrets: list[str]) -> ComponentArgsError:
    """``error`` with every receiver secret replaced by ``[secret]`` in its issues' values."""
    if not secrets:
        return error
    issues = []
    for issue in error.issues:
        value = issue.value
        if isinstance(value, str):
            value = mask_text(value, secrets) if value not in secrets else SECRET_PLACEHOLDER
        elif isinstance(value, (Mapping, list, tuple)):
            value = mask_text(repr(value), secrets)
        issues.append(Issue(issue.path, value, issue.expected))
    masked = ComponentArgsError(error.subject, issues)
    return masked
