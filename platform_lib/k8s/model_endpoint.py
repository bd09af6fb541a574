"""``mlplat:k8s:ModelEndpoint``: an autoscaled model endpoint with zero-downtime deploys.

Without a ``canary`` or ``ab_test`` the endpoint is a Deployment; with one it is an Argo Rollouts
``Rollout`` (plus an ``AnalysisTemplate`` and stable and canary Services) whose traffic the AWS Load
Balancer Controller splits at the ALB. Either way it gets a Service, an Ingress, a
HorizontalPodAutoscaler, a PodDisruptionBudget, a ServiceMonitor and a PrometheusRule.

External facts used here, by source:

- Pod Security Standards, "Restricted" profile (kubernetes.io/docs/concepts/security/pod-security-standards):
  ``runAsNonRoot: true``, ``allowPrivilegeEscalation: false``, ``capabilities.drop: [ALL]``,
  ``seccompProfile.type: RuntimeDefault``.
- Argo Rollouts (argo-rollouts.readthedocs.io): ``argoproj.io/v1alpha1`` ``Rollout`` and
  ``AnalysisTemplate``; "Canary" (``canaryService``, ``stableService``, ``steps``, background
  ``analysis`` with ``startingStep``); "AWS Load Balancer Controller" traffic routing
  (``trafficRouting.alb.ingress``, ``rootService``, ``servicePort``, and the Ingress backend port name
  ``use-annotation``); "Traffic Management", header based routing (``setHeaderRoute`` with
  ``managedRoutes``; the ALB router implements it in ``rollout/trafficrouting/alb/alb.go``,
  ``SetHeaderRoute``); "Analysis": a measurement whose ``successCondition`` is false is Failed,
  ``failureLimit`` + 1 failures fail the run and abort the rollout, which returns traffic to stable;
  ephemeral ``canaryMetadata`` / ``stableMetadata`` labels.
- Prometheus Operator (prometheus-operator.dev): ``monitoring.coreos.com/v1`` ``ServiceMonitor``
  (``podTargetLabels`` copies pod labels onto the scraped series) and ``PrometheusRule``.
- OpenTelemetry SDK environment variables specification: ``OTEL_EXPORTER_OTLP_ENDPOINT``,
  ``OTEL_SERVICE_NAME``, ``OTEL_PROPAGATORS`` (``tracecontext`` = W3C Trace Context),
  ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``.
- AWS Load Balancer Controller annotations (kubernetes-sigs.github.io/aws-load-balancer-controller):
  ``alb.ingress.kubernetes.io/scheme``, ``target-type``, ``healthcheck-path``, ``listen-ports``,
  ``certificate-arn``, ``ssl-policy``, ``tags``.
- Google SRE Workbook, "Alerting on SLOs": alert when the SLI misses its objective over both a short
  and a long window.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, Mapping, overload

import pulumi
import pulumi_kubernetes as k8s
from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import ComponentArgsError, Issue, located_validation_error
from ..core.inputs import Input, InputCheck, is_output
from ..core.kubernetes_names import check_dns_label, check_dns_subdomain
from ..core.quantities import cpu_quantity, memory_quantity
from ..core.tagging import with_managed_by
from .checks import check_namespace_name
from .labels import check_label_inputs
from .model_endpoint_spec import (
    ENDPOINT_NAME,
    AbTest,
    Analysis,
    Autoscaling,
    Canary,
    EnvValueFrom,
    Exposure,
    GpuPlacement,
    ModelEndpointSpec,
    ModelIdentity,
    Observability,
    Probes,
    Resources,
    Toleration,
    otlp_port,
    startup_failure_threshold,
    toleration_objects,
)

__all__ = ["ALERTS", "ModelEndpoint", "ModelEndpointArgs", "ModelEndpointArgsDict"]

ROLLOUTS_API_VERSION = "argoproj.io/v1alpha1"
MONITORING_API_VERSION = "monitoring.coreos.com/v1"

#: The label key Argo Rollouts' ephemeral metadata sets on pods to ``stable`` or ``canary``; the
#: ServiceMonitor copies it onto every series so queries can select the canary's pods.
TRACK_LABEL = "track"
#: The route name of an A/B header split, declared in ``trafficRouting.managedRoutes``.
HEADER_ROUTE = "ab-header"
#: Annotation keys of the audit trail.
ANNOTATION_PREFIX = "mlplat.io/"
#: The SLI rule names (the PrometheusRule alerts).
ALERTS = ("ModelEndpointHighErrorRate", "ModelEndpointHighLatencyP99", "ModelEndpointQualityBelowObjective")

_READINESS_PERIOD_SECONDS = 5
_LIVENESS_PERIOD_SECONDS = 10
_STARTUP_PERIOD_SECONDS = 5
#: Seconds a terminating pod keeps serving so the ALB deregisters it before it stops (the AWS Load
#: Balancer Controller docs, "Pod readiness gate" / graceful shutdown, recommend a preStop delay).
#: Written as the ``preStop.sleep`` action, on by default since Kubernetes 1.30 (KEP-3960,
#: PodLifecycleSleepAction: beta 1.30, GA 1.34), so no ``sleep`` binary is needed in the image.
_PRESTOP_SLEEP_SECONDS = 15



def _namespace(value: Any) -> str:
    """A team namespace: a DNS label, not one of Kubernetes' own ``kube-*`` namespaces."""
    return check_namespace_name(check_dns_label(value))


class ModelEndpointArgs(ModelEndpointSpec, ComponentArgs):
    """The component's arguments: the endpoint spec (see :class:`ModelEndpointSpec`), plus where it
    lives and who is told when it breaks. Every field is snake_case; nested models may be given as
    instances (``Autoscaling(min_replicas=3)``) or mappings of their snake_case fields.

    Attributes:
        service_name: the Kubernetes name of the endpoint's objects (a DNS-1035 label of 2 to 40
            characters, leaving room for the ``-canary`` / ``-analysis`` suffixes); the Service of
            that name is what clients call. Defaults to the component's name.
        namespace: the namespace (the owning team's), a DNS label or an Output of one, not a
            ``kube-*`` namespace (reserved for Kubernetes), e.g. a
            :class:`~platform_lib.k8s.team_namespace.TeamNamespace`'s ``namespace_name`` (the
            endpoint's objects then wait for the namespace).
        labels: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` is added. On every object and pod; ``environment`` is also the
            OpenTelemetry ``deployment.environment.name`` and the ALB's tags.
        service_account_name: the pods' ServiceAccount, a name or an Output of one (e.g. a
            ``TeamNamespace``'s ``service_account_name``); ``None`` uses the namespace default.
        allow_single_replica: the named opt-out from the secure default that ``autoscaling.min_replicas``
            is at least 2, so one pod keeps serving while another is drained (default ``False``; for
            development clusters).
        allow_plain_http: the named opt-out from the secure default that an internet-facing
            endpoint (``exposure.internet_facing``) has a ``certificate_arn`` and listens on HTTPS
            443 only (default ``False``; for development clusters: the platform's stacks allow it
            in dev only). With a certificate every endpoint, internal or not, serves HTTPS only.
        alert_severity: the ``severity`` label of the SLO alerts: ``page`` (default) or ``ticket``.
        image: kept a plain string (not an Output): the digest pin is checked and split into the
            audit annotations before anything is registered.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=False, loc_by_alias=False, extra="forbid", frozen=True, arbitrary_types_allowed=True
    )

    service_name: str | None = Field(default=None, pattern=ENDPOINT_NAME)
    namespace: Annotated[Input[str], InputCheck(_namespace)]
    labels: dict[str, Input[str]]
    service_account_name: Annotated[Input[str], InputCheck(check_dns_subdomain)] | None = None
    allow_single_replica: bool = False
    allow_plain_http: bool = False
    alert_severity: Literal["page", "ticket"] = "page"

    _labels = field_validator("labels")(check_label_inputs)

    @model_validator(mode="after")
    def _secure_defaults(self) -> "ModelEndpointArgs":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if not self.allow_single_replica and self.autoscaling.min_replicas < 2:
            problems.append((("autoscaling", "min_replicas"), self.autoscaling.min_replicas,
                             "at least 2, so one pod keeps serving while another is drained or rescheduled (or allow_single_replica=True)"))
        exposure = self.exposure
        if exposure.enabled and exposure.internet_facing and exposure.certificate_arn is None and not self.allow_plain_http:
            problems.append((("exposure", "certificate_arn"), None,
                             "an ACM certificate ARN for an internet-facing load balancer, so it serves HTTPS only "
                             "(or allow_plain_http=True, for development clusters: plain HTTP on port 80 to the internet)"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self


class ModelEndpointArgsDict(TypedDict, total=False):
    """The fields of :class:`ModelEndpointArgs` as keyword arguments (nested models as instances or mappings)."""

    service_name: str | None
    model: ModelIdentity | Mapping[str, Any]
    image: str
    port: int
    resources: Resources | Mapping[str, Any]
    gpu_placement: GpuPlacement | Mapping[str, Any]
    autoscaling: Autoscaling | Mapping[str, Any]
    max_surge: int
    probes: Probes | Mapping[str, Any]
    canary: Canary | Mapping[str, Any] | None
    ab_test: AbTest | Mapping[str, Any] | None
    observability: Observability | Mapping[str, Any]
    exposure: Exposure | Mapping[str, Any]
    service_account_name: Input[str] | None
    run_as_user: int
    env: Mapping[str, str | EnvValueFrom | Mapping[str, Any]]
    namespace: Input[str]
    labels: Mapping[str, Input[str]]
    allow_single_replica: bool
    allow_plain_http: bool
    alert_severity: Literal["page", "ticket"]


def _env_var(name: str, value: str | EnvValueFrom) -> dict[str, Any]:
    """A container ``env`` entry: ``{"name", "value"}``, or ``{"name", "valueFrom": {"secretKeyRef": {"name", "key"}}}``."""
    if isinstance(value, str):
        return {"name": name, "value": value}
    reference = value.value_from.secret_key_ref
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": reference.name, "key": reference.key}}}


def _first_hostname(status: Any) -> str | None:
    """The first load balancer hostname of an Ingress status (typed or plain), if any."""
    if status is None:
        return None
    load_balancer = status.get("load_balancer") or status.get("loadBalancer") if isinstance(status, dict) else getattr(status, "load_balancer", None)
    entries = (load_balancer.get("ingress") if isinstance(load_balancer, dict) else getattr(load_balancer, "ingress", None)) or []
    for entry in entries:
        hostname = entry.get("hostname") if isinstance(entry, dict) else getattr(entry, "hostname", None)
        if hostname:
            return hostname
    return None


def _duration(seconds: int) -> str:
    return f"{seconds}s"


class ModelEndpoint(Component[ModelEndpointArgs], type_token="mlplat:k8s:ModelEndpoint"):
    """An autoscaled model endpoint on Kubernetes with zero-downtime deploys and observability.

    Children (Kubernetes names in brackets, all in ``args.namespace``):

    - a ``Deployment`` [name], or with ``canary``/``ab_test`` an Argo Rollouts ``Rollout`` [name] and,
      when an analysis is set, an ``AnalysisTemplate`` [name-analysis];
    - a ``Service`` [name] (with ``canary``/``ab_test`` also [name-stable] and [name-canary]);
    - an ``Ingress`` [name] for the AWS Load Balancer Controller (internal ALB unless opted out);
    - a ``HorizontalPodAutoscaler`` (autoscaling/v2) [name] and a ``PodDisruptionBudget`` [name];
    - a ``NetworkPolicy`` [name] letting in the load balancer, Prometheus and listed client
      namespaces on the serving port, and out the OTLP traffic to the collector;
    - a ``ServiceMonitor`` [name] and a ``PrometheusRule`` [name-slo].

    Object names are set explicitly (not auto-named): clients call the Service by name and operators
    run ``kubectl argo rollouts promote <name>``.

    Args:
        name: the logical name; children are ``<name>-deployment``, ``<name>-service``, ...
        args: a :class:`ModelEndpointArgs` or a mapping of its snake_case fields; or pass the fields
            as keyword arguments.
        opts: resource options, passed to every child (e.g. ``provider=`` a ``kubernetes.Provider``).

    Attributes (outputs):
        workload_kind: ``Deployment`` or ``Rollout``.
        service_name: the Service clients call.
        service_dns: ``<service>.<namespace>.svc.cluster.local``.
        namespace: the namespace.
        image: the serving image reference.
        load_balancer_hostname: the ALB's DNS name once the AWS Load Balancer Controller has
            provisioned it (``None`` without an Ingress).
        peak_requests: the most the endpoint requests at once, surge included:
            ``{"pods", "cpu" (vCPU), "memory_gib" (GiB), "gpu"}`` (see :meth:`ModelEndpointSpec.peak_requests`).

    Other attributes: workload, service, ingress, autoscaler, disruption_budget, network_policy,
    service_monitor, prometheus_rule, analysis_template, stable_service, canary_service: the child
    resources (``None`` when absent).

    Raises:
        ComponentArgsError: invalid arguments (canary steps outside 0..100 or not increasing, an
            analysis without a query, an image not pinned by digest, min_replicas above
            max_replicas, fewer than 2 replicas without ``allow_single_replica``, an internet-facing
            load balancer without ``certificate_arn`` or ``allow_plain_http``, ...), before any
            child is registered; an Output ``namespace``, ``service_account_name`` or label value
            that turns out invalid raises it when its value becomes known.
    """

    workload_kind: pulumi.Output[str]
    service_name: pulumi.Output[str]
    service_dns: pulumi.Output[str]
    namespace: pulumi.Output[str]
    image: pulumi.Output[str]
    load_balancer_hostname: pulumi.Output[str | None]
    peak_requests: pulumi.Output[dict[str, float]]

    @overload
    def __init__(self, name: str, args: ModelEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[ModelEndpointArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def validate_args(cls, name: str, args: Any = None, **kwargs: Any) -> ModelEndpointArgs:
        """As :meth:`Component.validate_args`; without ``service_name`` the component's name is the
        objects' name, so it must be a DNS-1035 label of 2 to 40 characters."""
        validated = super().validate_args(name, args, **kwargs)
        if validated.service_name is not None:
            return validated
        if not (isinstance(name, str) and re.fullmatch(ENDPOINT_NAME, name)):
            raise ComponentArgsError(
                f"invalid arguments for {cls.label(name)}; nothing was created",
                [Issue(f"{cls.label(name)}.service_name", name, f"a string matching {ENDPOINT_NAME}: without a service_name argument the component's name names the Kubernetes objects")],
            )
        return validated.model_copy(update={"service_name": name})

    def _create(self, name: str, args: ModelEndpointArgs) -> dict[str, Any]:
        self._name = name
        self._labels = with_managed_by(args.labels)
        self.service = self._service(args.service_name, "service", root=True)
        self.stable_service = self._service(f"{args.service_name}-stable", "stable-service") if args.progressive else None
        self.canary_service = self._service(f"{args.service_name}-canary", "canary-service") if args.progressive else None
        self.ingress = self._ingress() if args.exposure.enabled else None
        self.analysis_template = self._analysis_template()
        self.workload = self._workload()
        self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa", metadata=self._metadata(args.service_name), spec=self._autoscaler_spec(), opts=self.child_options(depends_on=[self.workload])
        )
        self.disruption_budget = self._disruption_budget()
        self.network_policy = k8s.networking.v1.NetworkPolicy(f"{name}-network-policy", metadata=self._metadata(args.service_name), spec=self.network_policy_spec(), opts=self.child_options())
        self.service_monitor, self.prometheus_rule = self._monitoring()
        peak = args.peak_requests()
        return {
            "workload_kind": pulumi.Output.from_input("Rollout" if args.progressive else "Deployment"),
            "service_name": pulumi.Output.from_input(args.service_name),
            "service_dns": pulumi.Output.concat(args.service_name, ".", args.namespace, ".svc.cluster.local"),
            "namespace": pulumi.Output.from_input(args.namespace),
            "image": pulumi.Output.from_input(args.image),
            "load_balancer_hostname": self.ingress.status.apply(_first_hostname) if self.ingress is not None else pulumi.Output.from_input(None),
            "peak_requests": pulumi.Output.from_input({"pods": peak.pods, "cpu": peak.cpu, "memory_gib": peak.memory_gib, "gpu": peak.gpu}),
        }

    # --- children ------------------------------------------------------------------------------

    def _analysis_template(self) -> k8s.apiextensions.CustomResource | None:
        analysis = self._analysis()
        if analysis is None:
            return None
        return k8s.apiextensions.CustomResource(
            f"{self._name}-analysis",
            api_version=ROLLOUTS_API_VERSION,
            kind="AnalysisTemplate",
            metadata=self._metadata(f"{self.args.service_name}-analysis"),
            spec=self._analysis_template_spec(analysis),
            opts=self.child_options(),
        )

    def _workload(self) -> pulumi.CustomResource:
        """The Deployment, or with a canary or A/B test the Rollout; the autoscaler owns ``spec.replicas``."""
        spec = self.args
        if not spec.progressive:
            return k8s.apps.v1.Deployment(
                f"{self._name}-deployment", metadata=self._metadata(spec.service_name), spec=self._deployment_spec(), opts=self.child_options(ignore_changes=["spec.replicas"])
            )
        depends = [r for r in (self.ingress, self.analysis_template, self.stable_service, self.canary_service) if r is not None]
        return k8s.apiextensions.CustomResource(
            f"{self._name}-rollout",
            api_version=ROLLOUTS_API_VERSION,
            kind="Rollout",
            metadata=self._metadata(spec.service_name),
            spec=self._rollout_spec(self._analysis()),
            opts=self.child_options(depends_on=depends, ignore_changes=["spec.replicas"]),
        )

    def _disruption_budget(self) -> k8s.policy.v1.PodDisruptionBudget:
        return k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-pdb",
            metadata=self._metadata(self.args.service_name),
            spec={
                # maxUnavailable 1 always permits one voluntary disruption, so node drains proceed
                # (a minAvailable equal to the replica count would allow zero).
                "maxUnavailable": 1,
                "selector": {"matchLabels": self.selector_labels},
                # Pods that are not ready cannot lose readiness; evicting them never hurts availability.
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
            opts=self.child_options(),
        )

    def _monitoring(self) -> tuple[k8s.apiextensions.CustomResource, k8s.apiextensions.CustomResource]:
        """The ServiceMonitor (scraping) and the PrometheusRule (SLO alerts)."""
        spec = self.args
        prometheus_labels = spec.observability.prometheus_labels
        monitor = k8s.apiextensions.CustomResource(
            f"{self._name}-service-monitor",
            api_version=MONITORING_API_VERSION,
            kind="ServiceMonitor",
            metadata=self._metadata(spec.service_name, extra_labels=prometheus_labels),
            spec=self._service_monitor_spec(),
            opts=self.child_options(),
        )
        rule = k8s.apiextensions.CustomResource(
            f"{self._name}-prometheus-rule",
            api_version=MONITORING_API_VERSION,
            kind="PrometheusRule",
            metadata=self._metadata(f"{spec.service_name}-slo", extra_labels=prometheus_labels),
            spec=pulumi.Output.all(spec.namespace, self._labels["team"]).apply(lambda values: self.prometheus_rule_spec(*values)),
            opts=self.child_options(),
        )
        return monitor, rule

    # --- labels and metadata -------------------------------------------------------------------

    @property
    def selector_labels(self) -> dict[str, str]:
        """The immutable pod selector: the endpoint's name and instance (never the version)."""
        return {"app.kubernetes.io/name": self.args.service_name, "app.kubernetes.io/instance": self.args.service_name}

    @property
    def common_labels(self) -> dict[str, str]:
        """Labels on every object and pod: standard tags, recommended app labels, model name and version."""
        spec = self.args
        return {
            **self._labels,
            **self.selector_labels,
            "app.kubernetes.io/version": spec.model.version,
            "app.kubernetes.io/component": "model-server",
            "app.kubernetes.io/part-of": "ml-platform",
            "app.kubernetes.io/managed-by": "pulumi",
            f"{ANNOTATION_PREFIX}model-name": spec.model.name,
            f"{ANNOTATION_PREFIX}model-version": spec.model.version,
        }

    @property
    def audit_annotations(self) -> dict[str, str]:
        """The audit trail: model name and version, registry version, git SHA and image digest."""
        spec = self.args
        image = spec.image_reference
        return {
            f"{ANNOTATION_PREFIX}model-name": spec.model.name,
            f"{ANNOTATION_PREFIX}model-version": spec.model.version,
            f"{ANNOTATION_PREFIX}model-registry-version": spec.model.registry_version,
            f"{ANNOTATION_PREFIX}git-sha": spec.model.git_sha,
            f"{ANNOTATION_PREFIX}image": str(image),
            f"{ANNOTATION_PREFIX}image-digest": image.digest,
        }

    def _metadata(self, name: str, extra_labels: Mapping[str, str] | None = None, annotations: Mapping[str, str] | None = None) -> dict[str, Any]:
        return {
            "name": name,
            "namespace": self.args.namespace,
            "labels": {**self.common_labels, **(extra_labels or {})},
            "annotations": {**self.audit_annotations, **(annotations or {})},
        }

    # --- services and load balancer --------------------------------------------------------------

    def _service(self, service_name: str, suffix: str, root: bool = False) -> k8s.core.v1.Service:
        # Argo Rollouts adds the pod-template-hash to the stable and canary Services' selectors; the
        # root Service selects every pod and is the one Prometheus scrapes (one series per pod).
        labels = {f"{ANNOTATION_PREFIX}service-role": "root" if root else suffix.removesuffix("-service")}
        return k8s.core.v1.Service(
            f"{self._name}-{suffix}",
            metadata=self._metadata(service_name, extra_labels=labels),
            spec={
                "type": "ClusterIP",
                "selector": self.selector_labels,
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
            opts=self.child_options(),
        )

    def _ingress(self) -> k8s.networking.v1.Ingress:
        spec = self.args
        exposure = spec.exposure
        # The ALB gets the standard labels as its AWS tags.
        tags = pulumi.Output.from_input(self._labels).apply(lambda labels: ",".join(f"{k}={v}" for k, v in labels.items()))
        annotations = {
            "alb.ingress.kubernetes.io/scheme": "internet-facing" if exposure.internet_facing else "internal",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/healthcheck-path": spec.probes.readiness_path,
            "alb.ingress.kubernetes.io/healthcheck-port": str(spec.port),
            "alb.ingress.kubernetes.io/success-codes": "200",
        }
        if exposure.certificate_arn:
            annotations.update(
                {
                    "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTPS": 443}]),
                    "alb.ingress.kubernetes.io/certificate-arn": exposure.certificate_arn,
                    "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                }
            )
        else:
            annotations["alb.ingress.kubernetes.io/listen-ports"] = json.dumps([{"HTTP": 80}])
        annotations["alb.ingress.kubernetes.io/tags"] = tags
        # With ALB traffic routing the backend port must be named "use-annotation": Argo Rollouts
        # writes the weighted forward action into an annotation named after the root Service.
        port = {"name": "use-annotation"} if spec.progressive else {"name": "http"}
        rule: dict[str, Any] = {
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": spec.service_name, "port": port}}}]}
        }
        if exposure.host:
            rule["host"] = exposure.host
        return k8s.networking.v1.Ingress(
            f"{self._name}-ingress",
            metadata=self._metadata(spec.service_name, annotations=annotations),
            spec={"ingressClassName": "alb", "rules": [rule]},
            opts=self.child_options(),
        )

    # --- the pods ----------------------------------------------------------------------------------

    def otel_environment(self) -> list[dict[str, Any]]:
        """The OpenTelemetry SDK settings of the serving container (OTel environment variable spec).

        ``OTEL_RESOURCE_ATTRIBUTES`` is an Output: it holds the namespace and the ``environment``
        label, which may be Outputs.
        """
        spec = self.args

        def resource_attributes(namespace: str, environment: str) -> str:
            attributes = {
                "service.namespace": namespace,
                "service.version": spec.model.version,
                "deployment.environment.name": environment,
                "ml.model.name": spec.model.name,
                "ml.model.registry_version": spec.model.registry_version,
                "vcs.ref.head.revision": spec.model.git_sha,
            }
            return ",".join(f"{k}={v}" for k, v in attributes.items())

        return [
            {"name": "OTEL_SERVICE_NAME", "value": spec.service_name},
            {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": spec.observability.otlp_endpoint},
            {"name": "OTEL_EXPORTER_OTLP_PROTOCOL", "value": "grpc"},
            {"name": "OTEL_PROPAGATORS", "value": "tracecontext,baggage"},
            {"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_traceidratio"},
            {"name": "OTEL_TRACES_SAMPLER_ARG", "value": str(spec.observability.trace_sample_ratio)},
            {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": pulumi.Output.all(spec.namespace, self._labels["environment"]).apply(lambda values: resource_attributes(*values))},
        ]

    def pod_template(self) -> dict[str, Any]:
        """The pod template shared by the Deployment and the Rollout (camelCase, as on the wire)."""
        spec = self.args
        resources = spec.resources
        requests = {"cpu": cpu_quantity(resources.cpu), "memory": memory_quantity(resources.memory_gib)}
        limits = {"cpu": cpu_quantity(resources.effective_cpu_limit), "memory": memory_quantity(resources.memory_gib)}
        if resources.gpu:
            requests["nvidia.com/gpu"] = str(resources.gpu)
            limits["nvidia.com/gpu"] = str(resources.gpu)
        container_security = {
            "runAsNonRoot": True,
            "runAsUser": spec.run_as_user,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        def http_probe(path: str, period: int, failures: int) -> dict[str, Any]:
            return {"httpGet": {"path": path, "port": "http", "scheme": "HTTP"}, "periodSeconds": period, "timeoutSeconds": 2, "failureThreshold": failures, "successThreshold": 1}

        container = {
            "name": "model-server",
            "image": spec.image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
            "env": [
                *self.otel_environment(),
                {"name": "MODEL_NAME", "value": spec.model.name},
                {"name": "MODEL_VERSION", "value": spec.model.version},
                *(_env_var(k, v) for k, v in sorted(spec.env.items())),
            ],
            "resources": {"requests": requests, "limits": limits},
            "readinessProbe": http_probe(spec.probes.readiness_path, _READINESS_PERIOD_SECONDS, 3),
            "livenessProbe": http_probe(spec.probes.liveness_path, _LIVENESS_PERIOD_SECONDS, 3),
            "startupProbe": http_probe(spec.probes.liveness_path, _STARTUP_PERIOD_SECONDS, startup_failure_threshold(spec.probes.startup_seconds, _STARTUP_PERIOD_SECONDS)),
            "lifecycle": {"preStop": {"sleep": {"seconds": _PRESTOP_SLEEP_SECONDS}}},
            "securityContext": container_security,
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        # Spread across zones (hard) and nodes (soft). matchLabelKeys counts each revision on its own,
        # so a rollout's new pods are spread too (Kubernetes docs, "Pod Topology Spread Constraints").
        hash_label = "rollouts-pod-template-hash" if spec.progressive else "pod-template-hash"
        spread = [
            {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": when, "labelSelector": {"matchLabels": self.selector_labels}, "matchLabelKeys": [hash_label]}
            for key, when in (("topology.kubernetes.io/zone", "DoNotSchedule"), ("kubernetes.io/hostname", "ScheduleAnyway"))
        ]
        pod_spec: dict[str, Any] = {
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": spec.run_as_user,
                "runAsGroup": spec.run_as_user,
                "fsGroup": spec.run_as_user,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
            "topologySpreadConstraints": spread,
            "terminationGracePeriodSeconds": _PRESTOP_SLEEP_SECONDS + 30,
        }
        if spec.service_account_name:
            pod_spec["serviceAccountName"] = spec.service_account_name
        if resources.gpu:
            # Either may be an Output (the cluster stack's GPU node pools): the pod spec takes Inputs.
            placement = spec.gpu_placement
            pod_spec["nodeSelector"] = pulumi.Output.from_input(placement.node_selector).apply(dict) if is_output(placement.node_selector) else dict(placement.node_selector)
            pod_spec["tolerations"] = (pulumi.Output.from_input(placement.tolerations).apply(toleration_objects)
                                       if is_output(placement.tolerations) else toleration_objects(placement.tolerations))
        return {"metadata": {"labels": self.common_labels, "annotations": self.audit_annotations}, "spec": pod_spec}

    def network_policy_spec(self) -> dict[str, Any]:
        """What the endpoint's pods may receive and send, on top of the namespace's policies.

        Team namespaces deny all traffic by default (``TeamNamespace``); NetworkPolicies add up, so
        this one opens exactly what serving needs: the serving port from the load balancer's
        addresses, from Prometheus' namespace (scraping) and from ``exposure.clientNamespaces``;
        out to the OpenTelemetry Collector's namespace on the OTLP port.
        """
        spec = self.args
        port = [{"protocol": "TCP", "port": spec.port}]

        def namespace(name: str) -> dict[str, Any]:
            # kubernetes.io/metadata.name is set on every namespace by the API server (Kubernetes docs,
            # "Well-Known Labels, Annotations and Taints").
            return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}

        sources = [{"ipBlock": {"cidr": cidr}} for cidr in spec.exposure.load_balancer_source_cidrs] if spec.exposure.enabled else []
        sources += [namespace(n) for n in [spec.observability.prometheus_namespace, *spec.exposure.client_namespaces]]
        endpoint = spec.observability.otlp_endpoint
        port_out = pulumi.Output.from_input(endpoint).apply(otlp_port) if is_output(endpoint) else otlp_port(endpoint)
        return {
            "podSelector": {"matchLabels": self.selector_labels},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": sources, "ports": port}],
            "egress": [{"to": [namespace(spec.observability.collector_namespace)], "ports": [{"protocol": "TCP", "port": port_out}]}],
        }

    # --- workloads -----------------------------------------------------------------------------

    def _deployment_spec(self) -> dict[str, Any]:
        spec = self.args
        return {
            "replicas": spec.autoscaling.min_replicas,
            "selector": {"matchLabels": self.selector_labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": spec.max_surge}},
            "minReadySeconds": 10,
            "progressDeadlineSeconds": 600,
            "revisionHistoryLimit": 5,
            "template": self.pod_template(),
        }

    def rollout_steps(self) -> list[dict[str, Any]]:
        """The Rollout's steps: setWeight + pause per canary step, or the A/B split held until promoted."""
        spec = self.args
        steps: list[dict[str, Any]] = []
        if spec.canary is not None:
            for step in spec.canary.steps:
                steps.append({"setWeight": step.weight})
                steps.append({"pause": {} if step.pause_seconds is None else {"duration": _duration(step.pause_seconds)}})
            return steps
        assert spec.ab_test is not None
        ab = spec.ab_test
        if ab.split == "weight":
            return [{"setWeight": ab.weight}, {"pause": {}}]
        # Header split: give B as many pods as A's minimum, route the matching requests to it, hold.
        return [
            {"setCanaryScale": {"replicas": spec.autoscaling.min_replicas}},
            {"setHeaderRoute": {"name": HEADER_ROUTE, "match": [{"headerName": ab.header_name, "headerValue": {"exact": ab.header_value}}]}},
            {"pause": {}},
        ]

    def _analysis(self) -> Analysis | None:
        spec = self.args
        if spec.canary is not None:
            return spec.canary.analysis
        return spec.ab_test.analysis if spec.ab_test is not None else None

    def _rollout_spec(self, analysis: Analysis | None) -> dict[str, Any]:
        spec = self.args
        canary: dict[str, Any] = {
            "canaryService": f"{spec.service_name}-canary",
            "stableService": f"{spec.service_name}-stable",
            "trafficRouting": {"alb": {"ingress": spec.service_name, "rootService": spec.service_name, "servicePort": 80}},
            "canaryMetadata": {"labels": {TRACK_LABEL: "canary"}},
            "stableMetadata": {"labels": {TRACK_LABEL: "stable"}},
            # Keep the old ReplicaSet serving until the ALB has shifted all traffic off it.
            "scaleDownDelaySeconds": 30,
            "abortScaleDownDelaySeconds": 30,
            "steps": self.rollout_steps(),
        }
        if spec.ab_test is not None and spec.ab_test.split == "header":
            canary["trafficRouting"]["managedRoutes"] = [{"name": HEADER_ROUTE}]
        if analysis is not None:
            # Background analysis from the first step to full promotion: when it fails the rollout
            # aborts and the ALB sends every request back to the stable version.
            canary["analysis"] = {
                "templates": [{"templateName": f"{spec.service_name}-analysis"}],
                "startingStep": 1,
                "args": [
                    {"name": "namespace", "value": spec.namespace},
                    {"name": "service", "value": spec.service_name},
                    {"name": "track", "value": "canary"},
                ],
            }
        return {
            "replicas": spec.autoscaling.min_replicas,
            "selector": {"matchLabels": self.selector_labels},
            "minReadySeconds": 10,
            "progressDeadlineSeconds": 600,
            "progressDeadlineAbort": True,
            "revisionHistoryLimit": 5,
            "template": self.pod_template(),
            "strategy": {"canary": canary},
        }

    def _autoscaler_spec(self) -> dict[str, Any]:
        spec = self.args
        target = {"apiVersion": ROLLOUTS_API_VERSION, "kind": "Rollout", "name": spec.service_name} if spec.progressive else {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.service_name}
        return {
            "scaleTargetRef": target,
            "minReplicas": spec.autoscaling.min_replicas,
            "maxReplicas": spec.autoscaling.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": spec.autoscaling.target_cpu_utilization_percent}}}],
            "behavior": {
                "scaleDown": {"stabilizationWindowSeconds": spec.autoscaling.scale_down_stabilization_seconds, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
                "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Percent", "value": 100, "periodSeconds": 30}]},
            },
        }

    # --- analysis ------------------------------------------------------------------------------

    def _selector(self, track: str | None = "{{args.track}}") -> str:
        """A PromQL label matcher for the endpoint's series (optionally one track's)."""
        parts = ['namespace="{{args.namespace}}"', 'service="{{args.service}}"']
        if track:
            parts.append(f'{TRACK_LABEL}="{track}"')
        return ",".join(parts)

    def _analysis_template_spec(self, analysis: Analysis) -> dict[str, Any]:
        spec = self.args
        observability = spec.observability
        interval = _duration(analysis.interval_seconds)
        selector = self._selector()
        slo = observability.slo

        def metric(name: str, query: str, condition: str) -> dict[str, Any]:
            return {
                "name": name,
                "interval": interval,
                "failureLimit": analysis.failure_limit,
                "successCondition": condition,
                "provider": {"prometheus": {"address": self._prometheus_address(), "query": query}},
            }

        # "or vector(0)": with no traffic Prometheus returns an empty vector, which Argo Rollouts
        # counts as an Error (tolerated consecutiveErrorLimit times) rather than a failure. Turning
        # it into 0 makes an idle canary fail the request-count condition at once.
        requests = f"sum(increase({observability.request_metric}{{{selector}}}[{interval}])) or vector(0)"
        errors = (
            f'(sum(rate({observability.request_metric}{{{selector},code=~"5.."}}[{interval}])) or vector(0))'
            f" / sum(rate({observability.request_metric}{{{selector}}}[{interval}]))"
        )
        latency = f"histogram_quantile(0.99, sum by (le) (rate({observability.latency_metric}_bucket{{{selector}}}[{interval}])))"
        return {
            "args": [{"name": "namespace"}, {"name": "service"}, {"name": "track", "value": "canary"}],
            "metrics": [
                metric("request-count", requests, f"result[0] >= {analysis.min_request_count}"),
                metric(analysis.name, analysis.query, analysis.success_condition),
                metric("error-rate", errors, f"result[0] <= {slo.error_rate_percent / 100:g}"),
                metric("latency-p99", latency, f"result[0] <= {slo.latency_p99_seconds:g}"),
            ],
        }

    @staticmethod
    def _prometheus_address() -> str:
        """The in-cluster Prometheus the analysis queries (kube-prometheus-stack's default Service)."""
        return "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"

    # --- observability -------------------------------------------------------------------------

    def _service_monitor_spec(self) -> dict[str, Any]:
        spec = self.args
        return {
            "selector": {"matchLabels": {**self.selector_labels, f"{ANNOTATION_PREFIX}service-role": "root"}},
            "endpoints": [{"port": "http", "path": spec.observability.metrics_path, "interval": _duration(spec.observability.scrape_interval_seconds), "scheme": "http"}],
            # Copies the track (stable/canary) and the model version onto every series.
            "podTargetLabels": [TRACK_LABEL, "app.kubernetes.io/version"],
        }

    def prometheus_rule_spec(self, namespace: str, team: str) -> dict[str, Any]:
        """The SLO alerts: error rate, p99 latency and the model-quality SLI, each over two windows.

        Args:
            namespace: the endpoint's namespace (resolved).
            team: the ``team`` label (resolved).
        """
        spec = self.args
        observability = spec.observability
        slo = observability.slo
        selector = f'namespace="{namespace}",service="{spec.service_name}"'
        short, long = slo.quality_windows_seconds

        def error_ratio(window: str) -> str:
            return (
                f'sum(rate({observability.request_metric}{{{selector},code=~"5.."}}[{window}]))'
                f" / sum(rate({observability.request_metric}{{{selector}}}[{window}]))"
            )

        def p99(window: str) -> str:
            return f"histogram_quantile(0.99, sum by (le) (rate({observability.latency_metric}_bucket{{{selector}}}[{window}])))"

        labels = {"severity": spec.alert_severity, "team": team, "namespace": namespace, "service": spec.service_name}
        objective = slo.error_rate_percent / 100
        rules = [
            {
                "alert": ALERTS[0],
                "expr": f"({error_ratio('5m')}) > {objective:g} and ({error_ratio('1h')}) > {objective:g}",
                "for": "2m",
                "labels": labels,
                "annotations": {
                    "summary": f"{spec.service_name}: more than {slo.error_rate_percent:g}% of requests fail (5m and 1h windows)",
                    "description": "The 5xx share of requests is above the SLO objective over both the short and the long window.",
                },
            },
            {
                "alert": ALERTS[1],
                "expr": f"{p99('5m')} > {slo.latency_p99_seconds:g} and {p99('1h')} > {slo.latency_p99_seconds:g}",
                "for": "5m",
                "labels": labels,
                "annotations": {
                    "summary": f"{spec.service_name}: p99 latency above {slo.latency_p99_seconds:g}s (5m and 1h windows)",
                    "description": "The 99th percentile request latency is above the SLO objective over both windows.",
                },
            },
            {
                "alert": ALERTS[2],
                "expr": (
                    f"avg(avg_over_time({slo.quality_metric}{{{selector}}}[{_duration(short)}])) < {slo.quality_objective:g}"
                    f" and avg(avg_over_time({slo.quality_metric}{{{selector}}}[{_duration(long)}])) < {slo.quality_objective:g}"
                ),
                "for": "10m",
                "labels": labels,
                "annotations": {
                    "summary": f"{spec.service_name}: {slo.quality_metric} below {slo.quality_objective:g} over {short}s and {long}s",
                    "description": f"Model {spec.model.name} {spec.model.version} (registry version {spec.model.registry_version}) misses its quality objective over both evaluation windows.",
                },
            },
        ]
        return {"groups": [{"name": f"{namespace}.{spec.service_name}.slo", "rules": rules}]}
