"""The validated shape of a model endpoint: one pydantic model shared by the component and the stack config.

:class:`ModelEndpointSpec` is what a stack's ``mlplat:endpoints`` entry and the
:class:`~platform_lib.k8s.model_endpoint.ModelEndpoint` component's arguments have in common. It
does not import the stack config, so ``platform_lib.platform.config`` can use it without a cycle. A few
fields that the platform fills from the cluster stack's outputs (``gpu_placement``,
``observability.otlp_endpoint``) also take a ``pulumi.Input`` (see :mod:`platform_lib.core.inputs`).
Fields are snake_case in Python (``min_replicas``), and the models also accept the camelCase keys
of the stack YAML (``minReplicas``). Errors name the snake_case field; the stack config turns the
path back into its YAML keys.

Units: CPU in vCPU, memory in GiB, durations in seconds, shares of traffic in percent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..core.errors import located_validation_error
from ..core.inputs import Input, InputCheck, checked_output, is_output  # noqa: F401 - InputCheck is the base
from ..core.secrets import SECRET_PLACEHOLDER, looks_secret
from .checks import LABEL_KEY, check_cidr_blocks, check_labels

#: Kubernetes object names are DNS-1035 labels (Service names must be); 40 characters leaves room
#: for the ``-canary`` / ``-analysis`` suffixes within the 63-character limit.
_NAME = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
#: An endpoint's object name: a DNS-1035 label of 2 to 40 characters (see :data:`_NAME`).
ENDPOINT_NAME = r"^[a-z][-a-z0-9]{0,38}[a-z0-9]$"
#: An OCI digest as registries return it (OCI image spec, "Digests": sha256 is the registered algorithm).
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
#: A repository path: lowercase components separated by ``/``, with an optional registry host and port
#: (OCI distribution spec, "Pulling manifests": ``[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*``).
_REPOSITORY = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_IMAGE_EXPECTED = "an image pinned by digest: <repository>[:<tag>]@sha256:<64 hex digits>"


class SpecModel(BaseModel):
    """Base of the endpoint models: snake_case fields (camelCase aliases accepted for the stack
    YAML), errors located by field name, unknown keys rejected, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, loc_by_alias=False, extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class ImageReference:
    """An image reference split into its parts. ``tag`` is ``None`` when only the digest is given."""

    repository: str
    tag: str | None
    digest: str

    def __str__(self) -> str:
        return f"{self.repository}{':' + self.tag if self.tag else ''}@{self.digest}"


def parse_image(reference: str) -> ImageReference:
    """Split ``repository[:tag]@sha256:<hex>``; raise ``ValueError`` saying what is missing."""
    if "@" not in reference:
        has_tag = ":" in reference.rsplit("/", 1)[-1]
        raise ValueError(f"{_IMAGE_EXPECTED} ({'a tag alone can be moved to another image' if has_tag else 'neither tag nor digest was given'})")
    name, _, digest = reference.partition("@")
    if not _DIGEST.match(digest):
        raise ValueError(f"{_IMAGE_EXPECTED} (the digest {digest!r} is not sha256:<64 lowercase hex digits>)")
    repository, tag = name, None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = name.rpartition(":")
        if not _TAG.match(tag):
            raise ValueError(f"{_IMAGE_EXPECTED} (the tag {tag!r} is not a valid tag)")
    if not _REPOSITORY.match(repository):
        raise ValueError(f"{_IMAGE_EXPECTED} (the repository {repository!r} is not a valid repository path)")
    return ImageReference(repository, tag, digest)


class SecretKeySelector(SpecModel):
    """One key of a Kubernetes Secret in the endpoint's namespace (Kubernetes ``SecretKeySelector``).

    Attributes:
        name: the Secret's name (a DNS-1123 subdomain).
        key: the key inside the Secret's ``data``.
    """

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)


class EnvVarSource(SpecModel):
    """Where an environment variable's value comes from (Kubernetes ``EnvVarSource``): a Secret's key."""

    secret_key_ref: SecretKeySelector


class EnvValueFrom(SpecModel):
    """An environment variable read from a Secret: ``{"value_from": {"secret_key_ref": {"name": ..., "key": ...}}}``
    (``valueFrom.secretKeyRef`` in the stack YAML, as in a Kubernetes container)."""

    value_from: EnvVarSource


class ModelIdentity(SpecModel):
    """What is served, for the audit trail (labels and annotations on every object and pod).

    Attributes:
        name: the model's name (a label value: at most 63 characters).
        version: the model's version as the team names it, e.g. ``2.4.0``.
        registry_version: the version in the model registry (MLflow or SageMaker model package version).
        git_sha: the commit of the serving code the image was built from (7 to 40 hex digits).
    """

    name: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$")
    version: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$")
    registry_version: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$")
    git_sha: str = Field(pattern=r"^[0-9a-f]{7,40}$")


class Resources(SpecModel):
    """Per-pod compute. Requests are what the scheduler and the namespace quota count.

    Attributes:
        cpu: CPU request in vCPU (``0.5`` = ``500m``).
        memory_gib: memory request in GiB; the memory limit equals it (no overcommit of memory, so the
            kubelet never OOM-kills a pod that stays within its request).
        cpu_limit: CPU limit in vCPU; defaults to twice the request.
        gpu: whole NVIDIA GPUs per pod (``nvidia.com/gpu``, request equals limit as the device plugin
            requires); 0 for CPU serving.
    """

    cpu: float = Field(default=0.5, gt=0, le=64)
    memory_gib: float = Field(default=1.0, gt=0, le=512)
    cpu_limit: float | None = Field(default=None, gt=0, le=128)
    gpu: int = Field(default=0, ge=0, le=8)

    @model_validator(mode="after")
    def _limit_covers_request(self) -> "Resources":
        if self.cpu_limit is not None and self.cpu_limit < self.cpu:
            raise located_validation_error("Resources", [(("cpu_limit",), self.cpu_limit, f"at least the cpu request ({self.cpu:g} vCPU)")])
        return self

    @property
    def effective_cpu_limit(self) -> float:
        """The CPU limit in vCPU: ``cpu_limit``, else twice the request."""
        return self.cpu_limit if self.cpu_limit is not None else self.cpu * 2


class _NestedInputCheck(InputCheck):
    """:class:`InputCheck` for a field of a nested spec model: an Output's late error names the
    field under its parent (``ModelEndpoint(x).gpu_placement.tolerations``), not the bare field."""

    def __init__(self, check: Any, parent: str, plain_type: Any):
        super().__init__(check)
        self.parent = parent
        self.plain_type = plain_type

    def __get_pydantic_core_schema__(self, source_type: Any, handler: Any) -> Any:
        # The JSON schema (e.g. docs/teams.schema.json of the request files) shows the plain type.
        from pydantic_core import core_schema

        return core_schema.with_info_plain_validator_function(self._validate, json_schema_input_schema=handler.generate_schema(self.plain_type))

    def _validate(self, value: Any, info: Any) -> Any:
        if is_output(value):
            label = (info.context or {}).get("component", "component")
            return checked_output(value, self.check, f"{label}.{self.parent}.{info.field_name}")
        return self.check(value)


#: The taint effects Kubernetes knows (Kubernetes API reference, ``Taint.effect``).
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class Toleration(SpecModel):
    """A pod toleration (Kubernetes API reference, ``Toleration``; docs, "Taints and Tolerations").

    Attributes:
        key: the taint key (label key syntax).
        operator: ``Exists`` (any value; then ``value`` is unset) or ``Equal`` (``value`` must match).
        value: the taint value for ``Equal`` (label value syntax).
        effect: the taint effect tolerated: ``NoSchedule``, ``PreferNoSchedule`` or ``NoExecute``.
    """

    key: str = Field(max_length=316)
    operator: Literal["Exists", "Equal"] = "Exists"
    value: str | None = Field(default=None, max_length=63)
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        if not LABEL_KEY.fullmatch(key):
            raise ValueError("a taint key with the syntax of a Kubernetes label key ([prefix/]name, the name at most 63 letters, digits, '-', '_', '.')")
        return key

    @model_validator(mode="after")
    def _value_matches_operator(self) -> "Toleration":
        if self.operator == "Equal" and (self.value is None or not _LABEL_VALUE.fullmatch(self.value)):
            raise located_validation_error("Toleration", [(("value",), self.value, "a taint value (label value syntax) for operator Equal")])
        if self.operator == "Exists" and self.value is not None:
            raise located_validation_error("Toleration", [(("value",), self.value, "no value for operator Exists (it tolerates every value of the key)")])
        return self

    def as_kubernetes(self) -> dict[str, str]:
        """The toleration as the pod spec holds it (camelCase keys, ``value`` only for ``Equal``)."""
        toleration = {"key": self.key, "operator": self.operator, "effect": self.effect}
        if self.value is not None:
            toleration["value"] = self.value
        return toleration


def _check_node_selector(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("a mapping of Kubernetes node label keys to values (strings)")
    return check_labels(value)


def _check_tolerations(value: Any) -> list[str | Toleration]:
    if not isinstance(value, (list, tuple)):
        raise ValueError("a list of taint keys or tolerations ({key, operator, value, effect})")
    bad = [entry for entry in value if isinstance(entry, str) and not LABEL_KEY.fullmatch(entry)]
    if bad:
        raise ValueError(f"taint keys with the syntax of Kubernetes label keys ([prefix/]name, the name at most 63 letters, digits, '-', '_', '.'; bad: {', '.join(bad)})")
    checked: list[str | Toleration] = []
    for entry in value:
        if isinstance(entry, (str, Toleration)):
            checked.append(entry)
        elif isinstance(entry, dict):
            try:
                checked.append(Toleration.model_validate(entry))
            except ValidationError as error:
                details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'toleration'}: {e['msg']}" for e in error.errors())
                raise ValueError(f"tolerations {{key, operator: Exists|Equal, value (for Equal), effect: {'|'.join(TAINT_EFFECTS)}}} ({details})") from None
        else:
            raise ValueError("a list of taint keys or tolerations ({key, operator, value, effect})")
    return checked


def toleration_objects(entries: list[str | Toleration | dict[str, Any]]) -> list[dict[str, str]]:
    """Pod tolerations from :attr:`GpuPlacement.tolerations`: a taint key becomes
    ``{key, operator: Exists, effect: NoSchedule}``, a :class:`Toleration` its pod spec form."""
    objects = []
    for entry in _check_tolerations(list(entries)):
        objects.append({"key": entry, "operator": "Exists", "effect": "NoSchedule"} if isinstance(entry, str) else entry.as_kubernetes())
    return objects


class GpuPlacement(SpecModel):
    """Where GPU pods may run; used only when ``resources.gpu`` > 0.

    The platform's stacks fill both from the cluster stack's ``gpuNodePools`` output (the labels
    every GPU pool carries, and a toleration per taint), so they take a ``pulumi.Input`` for the
    whole value; a plain value is checked at once, an Output when it arrives.

    Attributes:
        node_selector: node labels GPU pods require (default: the NVIDIA GPU feature discovery label).
        tolerations: taint keys tolerated with ``operator: Exists, effect: NoSchedule``
            (default: ``nvidia.com/gpu``, the taint EKS GPU node groups conventionally carry), or
            :class:`Toleration` objects (``{key, operator, value, effect}``) for other effects or
            an exact value. A taint key has the syntax of a label key (source: Kubernetes docs,
            "Taints and Tolerations": "The key must begin with a letter or number, and may contain
            letters, numbers, hyphens, dots, and underscores, up to 253 characters", optionally
            with a DNS subdomain prefix and ``/``, as the API server validates it).
    """

    node_selector: Annotated[Input[dict[str, str]], _NestedInputCheck(_check_node_selector, "gpu_placement", dict[str, str])] = Field(default_factory=lambda: {"nvidia.com/gpu.present": "true"})
    tolerations: Annotated[Input[list[str | Toleration]], _NestedInputCheck(_check_tolerations, "gpu_placement", list[str | Toleration])] = Field(default_factory=lambda: ["nvidia.com/gpu"])


class Autoscaling(SpecModel):
    """The HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation.

    Attributes:
        min_replicas: the fewest pods; at least 2 unless the endpoint allows a single replica.
        max_replicas: the most pods the autoscaler may run.
        target_cpu_utilization_percent: the average CPU use, in percent of the CPU request, the
            autoscaler steers towards.
        scale_down_stabilization_seconds: how long the autoscaler looks back before removing pods
            (the Kubernetes default is 300 seconds).
    """

    min_replicas: int = Field(default=2, ge=1, le=1000)
    max_replicas: int = Field(default=6, ge=1, le=1000)
    target_cpu_utilization_percent: int = Field(default=70, ge=10, le=100)
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)

    @model_validator(mode="after")
    def _min_at_most_max(self) -> "Autoscaling":
        if self.min_replicas > self.max_replicas:
            raise located_validation_error("Autoscaling", [(("min_replicas",), self.min_replicas, f"at most the maximum number of replicas ({self.max_replicas})")])
        return self


class Probes(SpecModel):
    """HTTP health endpoints of the model server.

    Attributes:
        readiness_path: answers 200 once the model is loaded and the pod can take traffic.
        liveness_path: answers 200 while the process is healthy; failing it restarts the container.
        startup_seconds: the longest a model may take to load before liveness checks begin
            (the startup probe's ``failureThreshold`` x ``periodSeconds``).
    """

    readiness_path: str = Field(default="/ready", pattern=r"^/[\x21-\x7e]*$")
    liveness_path: str = Field(default="/healthz", pattern=r"^/[\x21-\x7e]*$")
    startup_seconds: int = Field(default=300, ge=10, le=3600)


class CanaryStep(SpecModel):
    """One canary step: send ``weight`` percent of the traffic to the new version, then wait.

    Attributes:
        weight: the canary's share of traffic, in percent (0 to 100).
        pause_seconds: how long to hold this weight while the analysis runs; ``None`` holds it until
            someone promotes the rollout (``kubectl argo rollouts promote``).
    """

    weight: int = Field(ge=0, le=100)
    pause_seconds: int | None = Field(default=300, ge=0, le=86400)


class Analysis(SpecModel):
    """The metric that gates a canary: measured every ``interval_seconds`` on the canary's pods only.

    The query may use ``{{args.namespace}}``, ``{{args.service}}`` and ``{{args.track}}`` (``canary``),
    which the Rollout fills in (Argo Rollouts analysis arguments).

    Attributes:
        name: the metric's name in the AnalysisTemplate.
        query: the PromQL query; its first sample is ``result[0]``.
        success_condition: an Argo Rollouts expression on ``result``, e.g. ``result[0] >= 0.92``.
        interval_seconds: seconds between measurements.
        failure_limit: failed measurements tolerated; one more aborts the rollout and sends all
            traffic back to the stable version.
        min_request_count: the fewest requests the canary must have served in each interval. Checked
            as a metric of its own, so a canary that receives no traffic fails instead of passing.
    """

    name: str = Field(default="model-quality", pattern=_NAME, max_length=63)
    query: str = Field(min_length=1, max_length=4000)
    success_condition: str = Field(min_length=1, max_length=500)
    interval_seconds: int = Field(default=60, ge=10, le=3600)
    failure_limit: int = Field(default=2, ge=0, le=100)
    min_request_count: int = Field(default=100, ge=1, le=10_000_000)

    @field_validator("query", "success_condition")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a non-blank value")
        return value.strip()


class Canary(SpecModel):
    """A canary rollout with metric-gated automatic rollback (Argo Rollouts ``canary`` strategy).

    Attributes:
        steps: traffic weights in strictly increasing order, each with its pause.
        analysis: the metric gate, run in the background from the first step to full promotion.
    """

    steps: list[CanaryStep] = Field(min_length=1, max_length=20)
    analysis: Analysis

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: list[CanaryStep]) -> list[CanaryStep]:
        weights = [step.weight for step in steps]
        for before, after in zip(weights, weights[1:]):
            if after <= before:
                raise ValueError(f"weights strictly increasing from step to step (got {weights})")
        return steps


class AbTest(SpecModel):
    """An A/B comparison of the new model version (B) with the running one (A).

    The split holds until someone promotes B or aborts (``kubectl argo rollouts promote|abort``).

    Attributes:
        split: ``weight`` sends ``weight`` percent of requests to B; ``header`` sends the requests
            whose ``header_name`` equals ``header_value`` to B.
        weight: B's share of traffic in percent, for a weight split.
        header_name: the HTTP header for a header split.
        header_value: the exact header value routed to B.
        analysis: an optional business-metric gate that aborts B when it fails.
    """

    split: Literal["weight", "header"] = "weight"
    weight: int = Field(default=50, ge=1, le=99)
    header_name: str = Field(default="x-model-variant", pattern=r"^[A-Za-z0-9-]{1,64}$")
    header_value: str = Field(default="b", min_length=1, max_length=128)
    analysis: Analysis | None = None


class SloObjectives(SpecModel):
    """The endpoint's service level objectives; each becomes an alert in the PrometheusRule.

    Attributes:
        error_rate_percent: the highest share of requests answered 5xx, in percent.
        latency_p99_seconds: the highest 99th percentile request latency, in seconds.
        quality_metric: a gauge the model server exports with its online quality (e.g. precision
            measured on labelled feedback).
        quality_objective: the lowest acceptable value of ``quality_metric``.
        quality_windows_seconds: the two evaluation windows; the alert fires when the average is
            below the objective over both (a short window for speed, a long one against noise).
    """

    error_rate_percent: float = Field(default=1.0, gt=0, le=100)
    latency_p99_seconds: float = Field(default=0.5, gt=0, le=600)
    quality_metric: str = Field(default="model_precision", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    quality_objective: float = Field(default=0.9, ge=0)
    quality_windows_seconds: tuple[int, int] = (3600, 21600)

    @field_validator("quality_windows_seconds")
    @classmethod
    def _short_then_long(cls, windows: tuple[int, int]) -> tuple[int, int]:
        if not 60 <= windows[0] < windows[1]:
            raise ValueError("two windows in seconds, the first at least 60 and shorter than the second")
        return windows


def _check_otlp_endpoint(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s]+", value):
        raise ValueError("an http:// or https:// URL without spaces, e.g. http://otel-collector.observability.svc:4317")
    return value


def otlp_port(endpoint: str) -> int:
    """The TCP port of an OTLP endpoint URL (its explicit port, else 443 for https and 80 for http)."""
    from urllib.parse import urlparse

    return urlparse(endpoint).port or (443 if endpoint.startswith("https") else 80)


class Observability(SpecModel):
    """Metrics, alerts and traces.

    Attributes:
        metrics_path: the HTTP path Prometheus scrapes on the serving port.
        scrape_interval_seconds: the ServiceMonitor's scrape interval.
        request_metric: the request counter (Prometheus convention ``http_requests_total`` with a
            ``code`` label).
        latency_metric: the request duration histogram, without ``_bucket``.
        prometheus_labels: labels the Prometheus Operator selects ServiceMonitors and PrometheusRules
            by (kube-prometheus-stack selects ``release: <release name>``).
        prometheus_namespace: the namespace Prometheus scrapes from (allowed in by the endpoint's
            NetworkPolicy on the serving port).
        collector_namespace: the OpenTelemetry Collector's namespace (allowed out on the OTLP port).
        otlp_endpoint: where the pods send traces and metrics (OTLP over gRPC), an ``http(s)://`` URL
            or an Output of one (the platform's stacks give the cluster stack's ``otelCollectorEndpoint``).
        trace_sample_ratio: the share of root traces sampled (0 to 1), parent-based.
        slo: the objectives alerted on.
    """

    metrics_path: str = Field(default="/metrics", pattern=r"^/[\x21-\x7e]*$")
    scrape_interval_seconds: int = Field(default=30, ge=5, le=300)
    request_metric: str = Field(default="http_requests_total", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    latency_metric: str = Field(default="http_request_duration_seconds", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    prometheus_labels: dict[str, str] = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    prometheus_namespace: str = Field(default="monitoring", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    collector_namespace: str = Field(default="observability", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    otlp_endpoint: Annotated[Input[str], _NestedInputCheck(_check_otlp_endpoint, "observability", Annotated[str, Field(pattern=r"^https?://[^\s]+$")])] = "http://opentelemetry-collector.observability.svc.cluster.local:4317"
    trace_sample_ratio: float = Field(default=0.1, ge=0, le=1)
    slo: SloObjectives = Field(default_factory=SloObjectives)

    @field_validator("prometheus_labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_labels(labels)


class Exposure(SpecModel):
    """How clients reach the endpoint: an Ingress served by the AWS Load Balancer Controller (an ALB).

    Attributes:
        enabled: create the Ingress; ``False`` keeps the endpoint reachable only inside the cluster.
            A canary or A/B test needs the Ingress (the ALB splits the traffic).
        internet_facing: the named opt-out from the secure default, an ``internal`` load balancer;
            it needs ``certificate_arn`` (the component refuses plain HTTP to the internet unless
            told ``allow_plain_http``, which the platform's stacks allow in dev only).
        host: the host name routed to the endpoint; ``None`` routes every host.
        certificate_arn: an ACM certificate; with it the ALB listens on HTTPS 443 only (internal
            or internet-facing), with the TLS 1.2/1.3 security policy.
        load_balancer_source_cidrs: where the ALB's nodes are (the VPC's CIDRs): with ``target-type:
            ip`` the pods see the ALB's private addresses, and the endpoint's NetworkPolicy admits
            these on the serving port. Defaults to the RFC 1918 private ranges.
        client_namespaces: namespaces whose pods may call the Service directly (the endpoint's own
            namespace always may).
    """

    enabled: bool = True
    internet_facing: bool = False
    host: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
    certificate_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")
    load_balancer_source_cidrs: list[str] = Field(default_factory=lambda: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], min_length=1)
    client_namespaces: list[str] = Field(default_factory=list)

    @field_validator("load_balancer_source_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        return check_cidr_blocks(cidrs)

    @field_validator("client_namespaces")
    @classmethod
    def _namespaces(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) or len(name) > 63:
                raise ValueError(f"namespace names (DNS labels; got {name!r})")
        return names


@dataclass(frozen=True)
class PeakRequests:
    """The most an endpoint can request at once, rollout surge included. Units: vCPU, GiB, GPUs, pods.

    ``cpu_limit`` is the summed CPU limits of those pods in vCPU (memory limits equal the requests).
    """

    pods: int
    cpu: float
    memory_gib: float
    gpu: int
    cpu_limit: float = 0.0


class ModelEndpointSpec(SpecModel):
    """One model endpoint: what to serve, how big, how to roll it out and how to watch it.

    The Kubernetes name of the endpoint's objects is not part of the spec: the stack config calls
    it ``name``, the component ``service_name`` (``name`` is the component's logical name).

    Attributes:
        model: the model's identity, for the audit trail.
        image: the serving image, pinned by digest (``repo[:tag]@sha256:...``).
        port: the container's HTTP port (serving, probes and metrics).
        resources: per-pod requests and limits.
        gpu_placement: node selector and tolerations for GPU pods.
        autoscaling: the HorizontalPodAutoscaler's bounds and target.
        max_surge: extra pods a rolling update may add (at least 1; ``maxUnavailable`` is always 0).
        probes: health endpoints.
        canary: a canary rollout with analysis; renders an Argo Rollouts Rollout.
        ab_test: an A/B split between the running and the new version; renders a Rollout too.
        observability: metrics, alerts and traces.
        exposure: the load balancer in front of the endpoint.
        service_account_name: the pod's ServiceAccount (e.g. the team's ``workload`` account with its
            IRSA role); ``None`` uses the namespace default. The Kubernetes API token is never
            mounted: a model server does not call the API, and the IRSA web identity token is
            injected separately (Amazon EKS user guide, "IAM roles for service accounts").
        run_as_user: the non-root UID the container runs as.
        env: extra environment variables for the model server: a plain-text value, or
            :class:`EnvValueFrom` reading a Secret's key. A variable whose name says it holds a
            credential (``*PASSWORD*``, ``*TOKEN*``, ``*SECRET*``, ``*KEY*``, any case) must read a
            Secret: its plain-text value would be stored in clear in the Deployment.
    """

    model: ModelIdentity
    image: str
    port: int = Field(default=8080, ge=1024, le=65535)
    resources: Resources = Field(default_factory=Resources)
    gpu_placement: GpuPlacement = Field(default_factory=GpuPlacement)
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    max_surge: int = Field(default=1, ge=1, le=100)
    probes: Probes = Field(default_factory=Probes)
    canary: Canary | None = None
    ab_test: AbTest | None = None
    observability: Observability = Field(default_factory=Observability)
    exposure: Exposure = Field(default_factory=Exposure)
    service_account_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    run_as_user: int = Field(default=65532, ge=1, le=2147483647)
    env: dict[str, str | EnvValueFrom] = Field(default_factory=dict)

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        parse_image(value)
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str | EnvValueFrom]) -> dict[str, str | EnvValueFrom]:
        for key in env:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise ValueError(f"environment variable names made of letters, digits and _ (got {key!r})")
            if key.startswith("OTEL_"):
                raise ValueError(f"no OTEL_* variables ({key!r}): set them through observability")
        return env

    @model_validator(mode="after")
    def _one_strategy(self) -> "ModelEndpointSpec":
        problems: list[tuple[tuple[str | int, ...], object, str]] = []
        if self.canary is not None and self.ab_test is not None:
            problems.append((("ab_test",), self.ab_test.model_dump(), "no A/B test beside a canary: either a canary or an A/B test, not both (one Rollout runs one strategy at a time)"))
        if self.progressive and not self.exposure.enabled:
            problems.append((("exposure", "enabled"), False, "true for a canary or A/B test: the load balancer splits the traffic"))
        for key, value in self.env.items():
            if isinstance(value, str) and looks_secret(key):
                # The value is not echoed: it is the credential.
                problems.append((("env", key), SECRET_PLACEHOLDER, f"a value_from with a secret_key_ref (a Kubernetes Secret's key) for {key}: "
                                 "a variable named like a credential (*PASSWORD*, *TOKEN*, *SECRET*, *KEY*) must not hold a plain-text value"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self

    @property
    def image_reference(self) -> ImageReference:
        """``image`` split into repository, tag and digest."""
        return parse_image(self.image)

    @property
    def progressive(self) -> bool:
        """True when the endpoint is an Argo Rollouts Rollout (canary or A/B) rather than a Deployment."""
        return self.canary is not None or self.ab_test is not None

    def peak_requests(self) -> PeakRequests:
        """The most this endpoint can request at once, for quota planning.

        A Deployment peaks at ``maxReplicas + maxSurge`` pods. A Rollout keeps the stable ReplicaSet at
        full size while the canary grows, and at full promotion both are at full size until the old
        one is scaled down (``scaleDownDelaySeconds``; Argo Rollouts docs, "Canary" and "Traffic
        Management"), so it peaks at ``2 x maxReplicas`` pods.
        """
        replicas = self.autoscaling.max_replicas
        pods = replicas * 2 if self.progressive else replicas + self.max_surge
        return PeakRequests(
            pods=pods,
            cpu=round(pods * self.resources.cpu, 3),
            memory_gib=round(pods * self.resources.memory_gib, 3),
            gpu=pods * self.resources.gpu,
            cpu_limit=round(pods * self.resources.effective_cpu_limit, 3),
        )


def startup_failure_threshold(startup_seconds: int, period_seconds: int) -> int:
    """The startup probe's failureThreshold giving at least ``startup_seconds`` to start."""
    return max(1, math.ceil(startup_seconds / period_seconds))
