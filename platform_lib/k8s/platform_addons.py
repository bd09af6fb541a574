"""``PlatformAddons``: the controllers every platform cluster runs, as pinned Helm releases.

What the platform's workloads need from a cluster, and what installs it (one Helm release each,
the chart versions pinned in :data:`platform_lib.k8s.helm.CHARTS`, each in its own namespace):

============================  =======================================================  ==================
add-on (chart)                what needs it                                            default namespace
============================  =======================================================  ==================
kube-prometheus-stack         ModelEndpoint's ServiceMonitor and PrometheusRule (the   ``monitoring``
                              Prometheus Operator's CRDs), Prometheus, Alertmanager,
                              Grafana (dashboard and datasource sidecars)
argo-rollouts                 ModelEndpoint's ``Rollout`` / ``AnalysisTemplate`` CRDs  ``argo-rollouts``
aws-load-balancer-controller  the ALB Ingresses of ModelEndpoint (AWS only)            ``aws-load-balancer-controller``
metrics-server                the HorizontalPodAutoscalers (AWS; GKE ships its own)    ``metrics-server``
nvidia-device-plugin          ``nvidia.com/gpu`` requests and quotas (AWS; GKE         ``nvidia-device-plugin``
                              installs it with the GPU driver)
opentelemetry-collector       the endpoints' OTLP traces, metrics and logs             ``observability``
============================  =======================================================  ==================

Least privilege, per controller: each runs under its own ServiceAccount made by its chart in its
own namespace. Only the AWS Load Balancer Controller calls a cloud API: its ServiceAccount is
annotated ``eks.amazonaws.com/role-arn`` with an IAM role for service accounts (IRSA) the caller
makes for exactly that namespace and ServiceAccount (:class:`platform_lib.aws.controller_roles.ControllerRole`
with the controller's documented policy; names in :data:`LOAD_BALANCER_CONTROLLER_NAMESPACE` and
:data:`LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT`). No other controller gets a cloud identity.
Argo Rollouts gets the RBAC of the one traffic provider the platform uses (the AWS Load Balancer
Controller's, on AWS), not the chart's default of every provider.

Every release's values (the platform's, deep-merged with the caller's ``values`` overrides) are
checked against the chart's vendored ``values.schema.json`` where the chart publishes one, before
anything is registered (:func:`platform_lib.k8s.helm.validate_chart_values`).

Sources: each chart's ``values.yaml`` at the pinned version (keys used here); Amazon EKS User
Guide, "Route internet traffic with AWS Load Balancer Controller" (IRSA, ``clusterName``,
``region``, ``vpcId``); Kubernetes docs, "Pod Security Admission" (namespace labels); NVIDIA
k8s-device-plugin README (``nvidia.com/gpu`` taint toleration, node affinity);
OpenTelemetry Collector docs, "Configuration" (``memory_limiter`` first, then ``batch``; OTLP
receiver ports 4317 gRPC and 4318 HTTP).
"""

from __future__ import annotations

import copy
import re
from typing import Annotated, Any, Literal, Mapping, overload

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import ComponentArgsError, Issue, located_validation_error
from ..core.inputs import Input, InputCheck, is_output
from ..core.kubernetes_names import check_dns_label
from ..core.tagging import with_managed_by
from .checks import check_namespace_name
from .helm import CHARTS, ChartSpec, pinned_release, validate_chart_values
from .labels import check_label_inputs

__all__ = [
    "ADDONS",
    "AddonName",
    "DEFAULT_NAMESPACES",
    "GpuNodePool",
    "LOAD_BALANCER_CONTROLLER_NAMESPACE",
    "LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT",
    "OTLP_GRPC_PORT",
    "OTLP_HTTP_PORT",
    "PlatformAddons",
    "PlatformAddonsArgs",
    "PlatformAddonsArgsDict",
]

AddonName = Literal[
    "kube-prometheus-stack",
    "argo-rollouts",
    "aws-load-balancer-controller",
    "metrics-server",
    "nvidia-device-plugin",
    "opentelemetry-collector",
]
#: Every add-on, in installation order; each is also its chart's name in :data:`CHARTS`.
ADDONS: tuple[str, ...] = AddonName.__args__  # type: ignore[attr-defined]

#: Where each add-on is installed unless ``namespaces`` says otherwise. ``monitoring`` and
#: ``observability`` are what ModelEndpoint's ``observability.prometheus_namespace`` and
#: ``collector_namespace`` default to. The AWS Load Balancer Controller's documentation installs it
#: in ``kube-system``; the platform creates nothing in ``kube-*`` namespaces (policy
#: ``k8s-no-system-namespace``), so it gets its own.
DEFAULT_NAMESPACES: dict[str, str] = {
    "kube-prometheus-stack": "monitoring",
    "argo-rollouts": "argo-rollouts",
    "aws-load-balancer-controller": "aws-load-balancer-controller",
    "metrics-server": "metrics-server",
    "nvidia-device-plugin": "nvidia-device-plugin",
    "opentelemetry-collector": "observability",
}
#: The IRSA role of the AWS Load Balancer Controller trusts exactly this namespace and ServiceAccount.
LOAD_BALANCER_CONTROLLER_NAMESPACE = DEFAULT_NAMESPACES["aws-load-balancer-controller"]
LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller"

#: Add-ons on by default per cloud. GKE runs metrics-server itself and installs the NVIDIA device
#: plugin with the GPU driver (GKE docs, "Run GPUs in GKE Standard node pools": gpu-driver
#: installation), and its ingress is GKE's own: those three are AWS-only defaults.
_DEFAULT_ENABLED: dict[str, frozenset[str]] = {
    "aws": frozenset(ADDONS),
    "gcp": frozenset({"kube-prometheus-stack", "argo-rollouts", "opentelemetry-collector"}),
}
_AWS_ONLY = frozenset({"aws-load-balancer-controller"})

#: Pod Security Admission level enforced on each add-on's namespace. Two need ``privileged``:
#: Prometheus' node-exporter (hostNetwork, hostPID, hostPath mounts of /proc and /sys) and the
#: NVIDIA device plugin (hostPath /var/lib/kubelet/device-plugins). The others enforce
#: ``baseline``; ``audit`` and ``warn`` are ``restricted`` everywhere, so what a chart upgrade
#: does outside ``restricted`` is reported.
_POD_SECURITY: dict[str, str] = {
    "kube-prometheus-stack": "privileged",
    "argo-rollouts": "baseline",
    "aws-load-balancer-controller": "baseline",
    "metrics-server": "baseline",
    "nvidia-device-plugin": "privileged",
    "opentelemetry-collector": "baseline",
}

#: OTLP receiver ports (source: OpenTelemetry specification, "OTLP Exporter": 4317 gRPC, 4318 HTTP).
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
#: The collector's Service name (the chart's ``fullnameOverride``), so the endpoint is stable.
_OTEL_SERVICE = "opentelemetry-collector"

#: The chart's default node affinity of the NVIDIA device plugin (values.yaml of nvidia-device-plugin
#: 0.20.0: NFD's PCI vendor 10de label, NVIDIA CPU vendor, or ``nvidia.com/gpu.present``); the
#: GPU node pools' own labels are added as further alternatives.
_NVIDIA_DEFAULT_NODE_TERMS: list[dict[str, Any]] = [
    {"matchExpressions": [{"key": "feature.node.kubernetes.io/pci-10de.present", "operator": "In", "values": ["true"]}]},
    {"matchExpressions": [{"key": "feature.node.kubernetes.io/cpu-model.vendor_id", "operator": "In", "values": ["NVIDIA"]}]},
    {"matchExpressions": [{"key": "nvidia.com/gpu.present", "operator": "In", "values": ["true"]}]},
]
#: The chart's default tolerations, kept: ``nvidia.com/gpu`` (the taint GPU node groups carry) and
#: ``CriticalAddonsOnly``.
_NVIDIA_DEFAULT_TOLERATIONS: list[dict[str, Any]] = [
    {"key": "CriticalAddonsOnly", "operator": "Exists"},
    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
]

#: Override paths refused, with what to use instead: the component sets them from a safer argument.
_OWNED_VALUES: dict[str, dict[tuple[str, ...], str]] = {
    "kube-prometheus-stack": {("grafana", "adminPassword"): "no plain-text password in Helm values: pass grafana_admin_password (a secret Output)"},
    "aws-load-balancer-controller": {("serviceAccount", "annotations"): "the IRSA annotation set from load_balancer_controller_role_arn"},
}


class _Taint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    key: str = Field(min_length=1, max_length=316)
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class GpuNodePool(BaseModel):
    """One GPU node pool as the cluster stack exports it (``gpuNodePools``; see docs/cluster.md).

    Attributes:
        name: the pool's (node group's) name.
        labels: labels every node of the pool carries; the device plugin's node affinity matches them.
        taints: the pool's taints (``{key, value, effect}``); the device plugin tolerates each.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(min_length=1, max_length=63)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[_Taint] = Field(default_factory=list)


_POOLS = TypeAdapter(list[GpuNodePool])


def _gpu_node_pools(value: Any) -> list[dict[str, Any]]:
    """The pools as plain dicts, or ``ValueError`` naming the first problem."""
    try:
        pools = _POOLS.validate_python(value)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise ValueError(f"a list of GPU node pools {{name, labels: {{key: value}}, taints: [{{key, value, effect}}]}} "
                         f"(at {where or 'the list'}: {first['msg']})") from None
    return [pool.model_dump() for pool in pools]


def _cluster_name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", value):
        raise ValueError("a cluster name: 1 to 100 letters, digits, '-' and '_', starting with a letter or digit (EKS and GKE naming rules)")
    return value


def _add_on_namespace(value: Any) -> str:
    return check_namespace_name(check_dns_label(value))


_IAM_ROLE_ARN = r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}"
_AWS_REGION = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d"
_HTTP_ENDPOINT = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$|^https?://[^\s]+$")


class PlatformAddonsArgs(ComponentArgs):
    """Arguments of :class:`PlatformAddons`.

    The documented minimum: ``cloud``, ``cluster_name`` and ``labels``; on AWS also ``region``,
    ``vpc_id`` and ``load_balancer_controller_role_arn`` (the controller is on by default there).

    Attributes:
        cloud: ``aws`` or ``gcp``; decides which add-ons are on by default (see the module docstring).
        cluster_name: the cluster's name (the cluster stack's ``clusterName``), a string or an
            Output; the AWS Load Balancer Controller tags what it makes with it.
        labels: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` is added. Put on every namespace.
        region: the AWS region of the cluster (e.g. ``eu-west-1``), a string or an Output; AWS only.
        vpc_id: the cluster's VPC id (``vpc-...``), a string or an Output; AWS only. The
            controller is given it rather than reading it from the instance metadata service,
            which the platform's nodes close to pods (IMDSv2, hop limit 1).
        load_balancer_controller_role_arn: the IAM role (IRSA) of the AWS Load Balancer
            Controller, a string or an Output; required when that add-on is on. Make it with
            ``ControllerRole`` for namespace :data:`LOAD_BALANCER_CONTROLLER_NAMESPACE` and
            ServiceAccount :data:`LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT`.
        gpu_node_pools: the cluster's GPU node pools (the cluster stack's ``gpuNodePools``,
            ``[{name, labels, taints}]``), a list or an Output of one: the NVIDIA device plugin
            tolerates their taints and may run on nodes with their labels, besides the chart's
            defaults (the ``nvidia.com/gpu`` taint; NFD's NVIDIA labels).
        enabled: per add-on, on or off (a key per add-on name); what is not given follows the
            cloud's default. The AWS Load Balancer Controller cannot be on for ``gcp``.
        namespaces: per add-on, its namespace (DNS labels, not ``kube-*``, all different);
            defaults in :data:`DEFAULT_NAMESPACES`.
        values: per add-on, Helm values deep-merged over the platform's (mappings merge, anything
            else replaces); checked against the chart's values.schema.json where it has one. An
            add-on that is off takes none.
        otel_exporter_endpoint: where the OpenTelemetry collector sends traces, metrics and logs
            over OTLP/gRPC (``host:port`` or a URL, e.g. ``tempo.observability.svc:4317``); ``None``
            (default) uses the collector's ``debug`` exporter (it logs what it receives).
        otel_exporter_insecure: send to ``otel_exporter_endpoint`` without TLS (an in-cluster
            backend with no certificate); off by default, so the exporter verifies TLS.
        grafana_admin_password: Grafana's admin password (a secret Output, e.g. from
            ``pulumi config set --secret``); stored in a Kubernetes Secret that Grafana reads
            (``admin.existingSecret``), never in the Helm values. ``None``: the Grafana chart
            generates a random password in its own Secret.
        prometheus_retention_days: how long Prometheus keeps samples (days, default 15).
        prometheus_storage_gib: Prometheus' persistent volume (GiB, default 50).
    """

    cloud: Literal["aws", "gcp"]
    cluster_name: Annotated[Input[str], InputCheck(_cluster_name)]
    labels: dict[str, Input[str]]
    region: Annotated[Input[str], InputCheck.matching(_AWS_REGION, "an AWS region such as eu-west-1")] | None = None
    vpc_id: Annotated[Input[str], InputCheck.matching(r"vpc-[0-9a-f]{8,17}", "a VPC id (vpc-...)")] | None = None
    load_balancer_controller_role_arn: Annotated[Input[str], InputCheck.matching(_IAM_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")] | None = None
    gpu_node_pools: Annotated[Input[list[Any]], InputCheck(_gpu_node_pools)] | None = None
    enabled: dict[AddonName, bool] = Field(default_factory=dict)
    namespaces: dict[AddonName, str] = Field(default_factory=dict)
    values: dict[AddonName, dict[str, Any]] = Field(default_factory=dict)
    otel_exporter_endpoint: str | None = Field(default=None, max_length=2048)
    otel_exporter_insecure: bool = False
    grafana_admin_password: Input[str] | None = None
    prometheus_retention_days: int = Field(default=15, ge=1, le=3650)
    prometheus_storage_gib: int = Field(default=50, ge=1, le=65536)

    _labels = field_validator("labels")(check_label_inputs)

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, namespaces: dict[str, str]) -> dict[str, str]:
        for addon, namespace in namespaces.items():
            try:
                _add_on_namespace(namespace)
            except ValueError as error:
                raise located_validation_error("namespaces", [((addon,), namespace, str(error))]) from None
        return namespaces

    @field_validator("otel_exporter_endpoint")
    @classmethod
    def _endpoint(cls, endpoint: str | None) -> str | None:
        if endpoint is not None and not _HTTP_ENDPOINT.fullmatch(endpoint):
            raise ValueError("an OTLP/gRPC endpoint: host:port (e.g. tempo.observability.svc:4317) or an http(s):// URL")
        return endpoint

    @model_validator(mode="after")
    def _consistent(self) -> "PlatformAddonsArgs":
        """Checks across fields, each reported at the field to change."""
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        for addon, on in self.enabled.items():
            if on and addon in _AWS_ONLY and self.cloud != "aws":
                problems.append((("enabled", addon), on, f"false for cloud {self.cloud!r}: the {addon} runs on AWS only"))
        if "aws-load-balancer-controller" in self.enabled_addons:
            for field in ("region", "vpc_id", "load_balancer_controller_role_arn"):
                if getattr(self, field) is None:
                    problems.append(((field,), None, "a value: the AWS Load Balancer Controller is on (enabled['aws-load-balancer-controller'] false turns it off)"))
        for addon in self.values:
            if addon not in self.enabled_addons:
                problems.append((("values", addon), self.values[addon], f"no values: {addon} is not enabled"))
            for path, instead in _OWNED_VALUES.get(addon, {}).items():
                if _has_path(self.values[addon], path):
                    problems.append((("values", addon, *path), "<given>", f"no such override ({instead})"))
        seen: dict[str, str] = {}
        for addon in self.enabled_addons:
            namespace = self.namespace_of(addon)
            if namespace in seen:
                problems.append((("namespaces", addon), namespace, f"a namespace of its own (also {seen[namespace]}'s): each add-on runs in its own namespace"))
            seen[namespace] = addon
        if self.cloud != "aws":
            for field in ("region", "vpc_id", "load_balancer_controller_role_arn"):
                if getattr(self, field) is not None:
                    problems.append(((field,), "<given>", "no value for cloud 'gcp' (AWS only)"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self

    @property
    def enabled_addons(self) -> tuple[str, ...]:
        """The add-ons installed, in installation order."""
        return tuple(a for a in ADDONS if self.enabled.get(a, a in _DEFAULT_ENABLED[self.cloud]))  # type: ignore[call-overload]

    def namespace_of(self, addon: str) -> str:
        """The add-on's namespace: ``namespaces[addon]`` or :data:`DEFAULT_NAMESPACES`."""
        return self.namespaces.get(addon, DEFAULT_NAMESPACES[addon])  # type: ignore[call-overload]


class PlatformAddonsArgsDict(TypedDict, total=False):
    """The fields of :class:`PlatformAddonsArgs` as keyword arguments."""

    cloud: Literal["aws", "gcp"]
    cluster_name: Input[str]
    labels: Mapping[str, Input[str]]
    region: Input[str] | None
    vpc_id: Input[str] | None
    load_balancer_controller_role_arn: Input[str] | None
    gpu_node_pools: Input[list[Any]] | None
    enabled: Mapping[str, bool]
    namespaces: Mapping[str, str]
    values: Mapping[str, Mapping[str, Any]]
    otel_exporter_endpoint: str | None
    otel_exporter_insecure: bool
    grafana_admin_password: Input[str] | None
    prometheus_retention_days: int
    prometheus_storage_gib: int


def _has_path(values: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key, anything else (lists too) replaces,
    as Helm merges ``--values`` files."""
    merged = copy.copy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and not is_output(value) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ------------------------------------------------------------------ the platform's values per chart

_RESTRICTED_POD = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
_RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def _kube_prometheus_stack_values(args: PlatformAddonsArgs) -> dict[str, Any]:
    """kube-prometheus-stack: the operator and its CRDs, Prometheus with a persistent volume,
    Alertmanager, Grafana with the dashboard sidecar (ConfigMaps labelled ``grafana_dashboard``,
    every namespace) and the datasource sidecar. Scrapes of control-plane components a managed
    control plane (EKS, GKE) does not expose are off (etcd, scheduler, controller manager;
    kube-proxy binds its metrics to localhost on EKS and is absent under GKE Dataplane V2)."""
    grafana: dict[str, Any] = {
        "enabled": True,
        "sidecar": {
            "dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"},
            "datasources": {"enabled": True},
        },
    }
    if args.grafana_admin_password is not None:
        grafana["admin"] = {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}
    return {
        "crds": {"enabled": True},
        "prometheusOperator": {"enabled": True},
        "prometheus": {
            "enabled": True,
            "prometheusSpec": {
                "retention": f"{args.prometheus_retention_days}d",
                "storageSpec": {"volumeClaimTemplate": {"spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": f"{args.prometheus_storage_gib}Gi"}},
                }}},
            },
        },
        "alertmanager": {"enabled": True},
        "grafana": grafana,
        "kubeEtcd": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeProxy": {"enabled": False},
    }


def _argo_rollouts_values(args: PlatformAddonsArgs) -> dict[str, Any]:
    """Argo Rollouts: its CRDs (kept when the release is deleted), two controller replicas, no
    dashboard, and the RBAC of only the traffic provider the platform uses: ModelEndpoint routes
    canaries through the AWS Load Balancer Controller's ALB (on by default in the chart: every
    provider, Istio to Gateway API)."""
    providers = ("istio", "smi", "ambassador", "awsLoadBalancerController", "awsAppMesh", "traefik", "apisix", "contour", "glooPlatform", "gatewayAPI")
    alb = args.cloud == "aws"
    return {
        "installCRDs": True,
        "keepCRDs": True,
        "controller": {"replicas": 2},
        "dashboard": {"enabled": False},
        "providerRBAC": {"enabled": alb, "providers": {p: (alb and p == "awsLoadBalancerController") for p in providers}},
    }


def _load_balancer_controller_values(args: PlatformAddonsArgs) -> dict[str, Any]:
    """AWS Load Balancer Controller: the cluster, region and VPC given (not read from instance
    metadata), its ServiceAccount annotated with the IRSA role."""
    return {
        "clusterName": args.cluster_name,
        "region": args.region,
        "vpcId": args.vpc_id,
        "replicaCount": 2,
        "serviceAccount": {
            "create": True,
            "name": LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": args.load_balancer_controller_role_arn},
        },
    }


def _metrics_server_values(args: PlatformAddonsArgs) -> dict[str, Any]:
    """metrics-server: two replicas and a PodDisruptionBudget, so HPAs keep their metrics while a
    node drains."""
    return {"replicas": 2, "podDisruptionBudget": {"enabled": True, "minAvailable": 1}}


def _gpu_affinity(pools: list[dict[str, Any]]) -> dict[str, Any]:
    terms = list(_NVIDIA_DEFAULT_NODE_TERMS)
    for pool in pools:
        if pool["labels"]:
            term = {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(pool["labels"].items())]}
            if term not in terms:
                terms.append(term)
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}


def _gpu_tolerations(pools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tolerations = list(_NVIDIA_DEFAULT_TOLERATIONS)
    for pool in pools:
        for taint in pool["taints"]:
            toleration = {"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}
            if toleration not in tolerations:
                tolerations.append(toleration)
    return tolerations


def _nvidia_device_plugin_values(args: PlatformAddonsArgs) -> dict[str, Any]:
    """NVIDIA device plugin: a DaemonSet on GPU nodes only (node affinity: the chart's NVIDIA
    labels or any GPU pool's labels), tolerating the ``nvidia.com/gpu`` taint and each GPU
    pool's taints."""
    pools = args.gpu_node_pools if args.gpu_node_pools is not None else []
    if is_output(pools):
        affinity: Any = pulumi.Output.from_input(pools).apply(_gpu_affinity)
        tolerations: Any = pulumi.Output.from_input(pools).apply(_gpu_tolerations)
    else:
        affinity, tolerations = _gpu_affinity(pools), _gpu_tolerations(pools)
    return {"affinity": affinity, "tolerations": tolerations}


def _otel_collector_values(args: PlatformAddonsArgs) -> dict[str, Any]:
    """OpenTelemetry collector, deployment mode: OTLP receivers (gRPC 4317, HTTP 4318),
    ``memory_limiter`` then ``batch``, exporting over OTLP to ``otel_exporter_endpoint`` (TLS
    unless ``otel_exporter_insecure``) or to ``debug``; the Jaeger and Zipkin ports of the chart's
    defaults closed; restricted-compliant security contexts."""
    if args.otel_exporter_endpoint is not None:
        exporters = {"otlp": {"endpoint": args.otel_exporter_endpoint, "tls": {"insecure": args.otel_exporter_insecure}}}
    else:
        exporters = {"debug": {}}
    names = list(exporters)
    processors = ["memory_limiter", "batch"]
    return {
        "mode": "deployment",
        "fullnameOverride": _OTEL_SERVICE,
        "replicaCount": 2,
        "image": {"repository": "otel/opentelemetry-collector-k8s"},
        "ports": {
            "otlp": {"enabled": True, "containerPort": OTLP_GRPC_PORT, "servicePort": OTLP_GRPC_PORT, "protocol": "TCP"},
            "otlp-http": {"enabled": True, "containerPort": OTLP_HTTP_PORT, "servicePort": OTLP_HTTP_PORT, "protocol": "TCP"},
            "jaeger-compact": {"enabled": False},
            "jaeger-thrift": {"enabled": False},
            "jaeger-grpc": {"enabled": False},
            "zipkin": {"enabled": False},
        },
        "config": {
            "receivers": {"otlp": {"protocols": {
                "grpc": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_GRPC_PORT}"},
                "http": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_HTTP_PORT}"},
            }}},
            "processors": {
                "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
                "batch": {},
            },
            "exporters": exporters,
            "service": {"pipelines": {
                "traces": {"receivers": ["otlp"], "processors": processors, "exporters": names},
                "metrics": {"receivers": ["otlp"], "processors": processors, "exporters": names},
                "logs": {"receivers": ["otlp"], "processors": processors, "exporters": names},
            }},
        },
        "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "podSecurityContext": {**_RESTRICTED_POD, "runAsUser": 10001},
        "securityContext": _RESTRICTED_CONTAINER,
    }


_VALUES = {
    "kube-prometheus-stack": _kube_prometheus_stack_values,
    "argo-rollouts": _argo_rollouts_values,
    "aws-load-balancer-controller": _load_balancer_controller_values,
    "metrics-server": _metrics_server_values,
    "nvidia-device-plugin": _nvidia_device_plugin_values,
    "opentelemetry-collector": _otel_collector_values,
}


def release_values(args: PlatformAddonsArgs, addon: str) -> dict[str, Any]:
    """The Helm values of one add-on: the platform's, with ``args.values[addon]`` merged over them."""
    return deep_merge(_VALUES[addon](args), args.values.get(addon, {}))  # type: ignore[call-overload]


#: The requests a container that sets none is given in add-on namespaces (LimitRange ``defaultRequest``).
_DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}


def _name_of(metadata: Any) -> Any:
    return metadata["name"] if isinstance(metadata, dict) else metadata.name


class PlatformAddons(Component[PlatformAddonsArgs], type_token="mlplat:k8s:PlatformAddons"):
    """The platform's cluster add-ons: one pinned Helm release each, each in its own namespace.

    Args:
        name: the logical name; children are ``<name>-<add-on>`` (the release) and
            ``<name>-<add-on>-namespace``.
        args: a :class:`PlatformAddonsArgs` or a mapping of its fields; or the fields as keywords.
        opts: resource options for every child: ``provider=`` the cluster's Kubernetes provider.

    Attributes:
        namespaces: add-on name -> its namespace, for the add-ons installed.
        otel_collector_endpoint: the collector's OTLP/gRPC URL inside the cluster
            (``http://opentelemetry-collector.<namespace>.svc.cluster.local:4317``); ``None`` when
            the collector is off. ModelEndpoint's ``observability.otlp_endpoint`` defaults to it.
        prometheus_namespace: where Prometheus runs (``None`` when kube-prometheus-stack is off).
        releases: add-on name -> ``{release, chart, version, namespace}``.
        releases_by_addon: the ``kubernetes.helm.v3.Release`` objects (depend on one to order
            resources that need its CRDs, e.g. a ModelEndpoint after ``argo-rollouts``).

    Raises:
        ComponentArgsError: an invalid argument, or values that break a chart's values.schema.json
            (at ``PlatformAddons(<name>).values.<add-on>.<json path>``); nothing is registered.
    """

    namespaces: pulumi.Output[dict[str, str]]
    otel_collector_endpoint: pulumi.Output[str | None]
    prometheus_namespace: pulumi.Output[str | None]
    releases: pulumi.Output[dict[str, dict[str, str]]]

    @overload
    def __init__(self, name: str, args: PlatformAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[PlatformAddonsArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def validate_args(cls, name: str, args: Any = None, **kwargs: Any) -> PlatformAddonsArgs:
        """As :meth:`Component.validate_args`, and every release's values against its chart's schema."""
        validated = super().validate_args(name, args, **kwargs)
        issues: list[Issue] = []
        for addon in validated.enabled_addons:
            try:
                validate_chart_values(CHARTS[addon], release_values(validated, addon), field=f"{cls.label(name)}.values.{addon}")
            except ComponentArgsError as error:
                issues.extend(error.issues)
        if issues:
            raise ComponentArgsError(f"invalid arguments for {cls.label(name)}; nothing was created", issues)
        return validated

    def _create(self, name: str, args: PlatformAddonsArgs) -> dict[str, Any]:
        labels = with_managed_by(args.labels)
        self.releases_by_addon: dict[str, k8s.helm.v3.Release] = {}
        namespaces: dict[str, str] = {}
        releases: dict[str, dict[str, str]] = {}
        # The AWS Load Balancer Controller's webhooks intercept every Service and pod it serves;
        # until its pods are ready they refuse them, so the other releases wait for it.
        first: list[pulumi.Resource] = []
        for addon in args.enabled_addons:
            chart: ChartSpec = CHARTS[addon]
            namespace = self._namespace(name, addon, args.namespace_of(addon), labels)
            extra: list[pulumi.Resource] = [namespace, *self._guardrails(name, addon, namespace, labels), *first]
            if addon == "kube-prometheus-stack" and args.grafana_admin_password is not None:
                extra.append(self._grafana_admin_secret(name, args, namespace, labels))
            release = pinned_release(
                f"{name}-{addon}",
                chart,
                namespace=namespace.metadata.apply(_name_of),
                values=release_values(args, addon),
                opts=self.child_options(depends_on=extra),
            )
            if addon == "aws-load-balancer-controller":
                first = [release]
            self.releases_by_addon[addon] = release
            namespaces[addon] = args.namespace_of(addon)
            releases[addon] = {"release": chart.name, "chart": chart.name, "version": chart.version, "namespace": args.namespace_of(addon)}
        otel = namespaces.get("opentelemetry-collector")
        endpoint = f"http://{_OTEL_SERVICE}.{otel}.svc.cluster.local:{OTLP_GRPC_PORT}" if otel else None
        return {
            "namespaces": pulumi.Output.from_input(namespaces),
            "otel_collector_endpoint": pulumi.Output.from_input(endpoint),
            "prometheus_namespace": pulumi.Output.from_input(namespaces.get("kube-prometheus-stack")),
            "releases": pulumi.Output.from_input(releases),
        }

    def _namespace(self, name: str, addon: str, namespace: str, labels: dict[str, Any]) -> k8s.core.v1.Namespace:
        level = _POD_SECURITY[addon]
        return k8s.core.v1.Namespace(
            f"{name}-{addon}-namespace",
            metadata={
                "name": namespace,
                "labels": {
                    **labels,
                    "app.kubernetes.io/part-of": "ml-platform-addons",
                    "app.kubernetes.io/name": addon,
                    "pod-security.kubernetes.io/enforce": level,
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
            opts=self.child_options(),
        )

    def _guardrails(self, name: str, addon: str, namespace: k8s.core.v1.Namespace, labels: dict[str, Any]) -> list[pulumi.Resource]:
        """The namespace's ResourceQuota and LimitRange (policy ``k8s-namespace-quota-and-limits``).

        The quota allows no Service of type LoadBalancer or NodePort: no add-on publishes one
        (Grafana, Prometheus and the collector are ClusterIP services), so a chart upgrade or an
        override that would open one to the network fails instead. The LimitRange gives a
        container that sets no requests :data:`_DEFAULT_REQUEST` (so the scheduler counts it) and
        no default *limit*: a default limit would cap charts whose containers set none
        (Prometheus' memory grows with its series) and have them killed.
        """
        namespace_name = namespace.metadata.apply(_name_of)
        quota = k8s.core.v1.ResourceQuota(
            f"{name}-{addon}-quota",
            metadata={"name": "addon-quota", "namespace": namespace_name, "labels": labels},
            spec={"hard": {"services.loadbalancers": "0", "services.nodeports": "0"}},
            opts=self.child_options(),
        )
        limits = k8s.core.v1.LimitRange(
            f"{name}-{addon}-limits",
            metadata={"name": "addon-defaults", "namespace": namespace_name, "labels": labels},
            spec={"limits": [{"type": "Container", "defaultRequest": dict(_DEFAULT_REQUEST)}]},
            opts=self.child_options(),
        )
        return [quota, limits]

    def _grafana_admin_secret(self, name: str, args: PlatformAddonsArgs, namespace: k8s.core.v1.Namespace, labels: dict[str, Any]) -> k8s.core.v1.Secret:
        """The Secret Grafana reads its admin credentials from (``admin.existingSecret``)."""
        return k8s.core.v1.Secret(
            f"{name}-grafana-admin",
            metadata={"name": "grafana-admin", "namespace": namespace.metadata.apply(_name_of), "labels": labels},
            type="Opaque",
            string_data={"admin-user": "admin", "admin-password": pulumi.Output.secret(args.grafana_admin_password)},
            opts=self.child_options(),
        )
