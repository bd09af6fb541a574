"""``mlplat:k8s:ModelEndpoint``: an autoscaled model endpoint with zero-downtime deploys.

Without a ``canary`` or ``abTest`` block the endpoint is a Deployment; with one it is an Argo Rollouts
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
from typing import Any, Literal, Mapping

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from ..core.errors import located_validation_error, validate_args
from .checks import check_labels
from .model_endpoint_spec import Analysis, ModelEndpointSpec, PeakRequests, startup_failure_threshold
from ..core.quantities import cpu_quantity, memory_quantity

TYPE_TOKEN = "mlplat:k8s:ModelEndpoint"

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


class ModelEndpointArgs(ModelEndpointSpec):
    """The component's arguments: the shared spec, plus where it lives.

    Attributes:
        namespace: the namespace (the owning team's namespace).
        environment: ``dev``, ``staging`` or ``prod``; outside dev ``autoscaling.minReplicas`` must be
            at least 2, so one pod can be disrupted while another serves.
        labels: labels put on every object and pod (the standard tags: team, cost-center,
            environment, managed-by).
    """

    namespace: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    environment: Literal["dev", "staging", "prod"] = "prod"
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_labels(labels)

    @model_validator(mode="after")
    def _replicas_outside_dev(self) -> "ModelEndpointArgs":
        if self.environment != "dev" and self.autoscaling.min_replicas < 2:
            raise located_validation_error(
                type(self).__name__,
                [(("autoscaling", "minReplicas"), self.autoscaling.min_replicas, f"at least 2 outside dev ({self.environment}): one pod must keep serving while another is drained or rescheduled")],
            )
        return self


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


class ModelEndpoint(pulumi.ComponentResource):
    """An autoscaled model endpoint on Kubernetes with zero-downtime deploys and observability.

    Children (Kubernetes names in brackets, all in ``args.namespace``):

    - a ``Deployment`` [name], or with ``canary``/``abTest`` an Argo Rollouts ``Rollout`` [name] and,
      when an analysis is set, an ``AnalysisTemplate`` [name-analysis];
    - a ``Service`` [name] (with ``canary``/``abTest`` also [name-stable] and [name-canary]);
    - an ``Ingress`` [name] for the AWS Load Balancer Controller (internal ALB unless opted out);
    - a ``HorizontalPodAutoscaler`` (autoscaling/v2) [name] and a ``PodDisruptionBudget`` [name];
    - a ``NetworkPolicy`` [name] letting in the load balancer, Prometheus and listed client
      namespaces on the serving port, and out the OTLP traffic to the collector;
    - a ``ServiceMonitor`` [name] and a ``PrometheusRule`` [name-slo].

    Object names are set explicitly (not auto-named): clients call the Service by name and operators
    run ``kubectl argo rollouts promote <name>``.

    Attributes (outputs):
        workload_kind: ``Deployment`` or ``Rollout``.
        service_name: the Service clients call.
        service_dns: ``<service>.<namespace>.svc.cluster.local``.
        peak: the most the endpoint requests at once (pods, vCPU, GiB, GPUs), surge included.
        workload, service, ingress, autoscaler, disruption_budget, network_policy, service_monitor, prometheus_rule,
        analysis_template, stable_service, canary_service: the child resources (``None`` when absent).

    Raises:
        ComponentArgsError: invalid arguments (canary steps outside 0..100 or not increasing, an
            analysis without a query, an image not pinned by digest, minReplicas above maxReplicas,
            fewer than 2 replicas outside dev, ...), before any child is registered.
    """

    workload_kind: str
    service_name: str
    service_dns: str
    peak: PeakRequests

    def __init__(self, name: str, args: ModelEndpointArgs | Mapping[str, Any], opts: pulumi.ResourceOptions | None = None):
        spec = validate_args(ModelEndpointArgs, "ModelEndpoint", name, args)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.args = spec
        self._name = name
        # Children wait for whatever the component waits for (e.g. the team's namespace).
        inherited = opts.depends_on if opts is not None and opts.depends_on is not None else []
        self._inherited_depends_on: list[Any] = list(inherited) if isinstance(inherited, (list, tuple)) else [inherited]
        child = pulumi.ResourceOptions(parent=self, depends_on=self._inherited_depends_on)
        self.workload_kind = "Rollout" if spec.progressive else "Deployment"
        self.service_name = spec.name
        self.service_dns = f"{spec.name}.{spec.namespace}.svc.cluster.local"
        self.peak = spec.peak_requests()

        self.service = self._service(spec.name, "service", child, root=True)
        self.stable_service = self._service(f"{spec.name}-stable", "stable-service", child) if spec.progressive else None
        self.canary_service = self._service(f"{spec.name}-canary", "canary-service", child) if spec.progressive else None
        self.ingress = self._ingress(child) if spec.exposure.enabled else None
        #: The ALB's DNS name, once the AWS Load Balancer Controller has provisioned it (None without an Ingress).
        self.load_balancer_hostname: pulumi.Output[str | None] = (
            self.ingress.status.apply(lambda status: _first_hostname(status)) if self.ingress is not None else pulumi.Output.from_input(None)
        )

        analysis = self._analysis()
        self.analysis_template = (
            k8s.apiextensions.CustomResource(
                f"{name}-analysis",
                api_version=ROLLOUTS_API_VERSION,
                kind="AnalysisTemplate",
                metadata=self._metadata(f"{spec.name}-analysis"),
                spec=self._analysis_template_spec(analysis),
                opts=child,
            )
            if analysis is not None
            else None
        )

        if spec.progressive:
            depends = [r for r in (self.ingress, self.analysis_template, self.stable_service, self.canary_service) if r is not None]
            self.workload: pulumi.CustomResource = k8s.apiextensions.CustomResource(
                f"{name}-rollout",
                api_version=ROLLOUTS_API_VERSION,
                kind="Rollout",
                metadata=self._metadata(spec.name),
                spec=self._rollout_spec(analysis),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._inherited_depends_on, *depends], ignore_changes=["spec.replicas"]),
            )
        else:
            self.workload = k8s.apps.v1.Deployment(
                f"{name}-deployment",
                metadata=self._metadata(spec.name),
                spec=self._deployment_spec(),
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._inherited_depends_on, ignore_changes=["spec.replicas"]),
            )

        self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa", metadata=self._metadata(spec.name), spec=self._autoscaler_spec(), opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._inherited_depends_on, self.workload])
        )
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=self._metadata(spec.name),
            spec={
                # maxUnavailable 1 always permits one voluntary disruption, so node drains proceed
                # (a minAvailable equal to the replica count would allow zero).
                "maxUnavailable": 1,
                "selector": {"matchLabels": self.selector_labels},
                # Pods that are not ready cannot lose readiness; evicting them never hurts availability.
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
            opts=child,
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(f"{name}-network-policy", metadata=self._metadata(spec.name), spec=self.network_policy_spec(), opts=child)
        self.service_monitor = k8s.apiextensions.CustomResource(
            f"{name}-service-monitor",
            api_version=MONITORING_API_VERSION,
            kind="ServiceMonitor",
            metadata=self._metadata(spec.name, extra_labels=spec.observability.prometheus_labels),
            spec=self._service_monitor_spec(),
            opts=child,
        )
        self.prometheus_rule = k8s.apiextensions.CustomResource(
            f"{name}-prometheus-rule",
            api_version=MONITORING_API_VERSION,
            kind="PrometheusRule",
            metadata=self._metadata(f"{spec.name}-slo", extra_labels=spec.observability.prometheus_labels),
            spec=self.prometheus_rule_spec(),
            opts=child,
        )

        self.register_outputs(
            {
                "workloadKind": self.workload_kind,
                "serviceName": self.service_name,
                "serviceDns": self.service_dns,
                "namespace": spec.namespace,
                "image": spec.image,
                "loadBalancerHostname": self.load_balancer_hostname,
                "peakRequests": {"pods": self.peak.pods, "cpu": self.peak.cpu, "memoryGib": self.peak.memory_gib, "gpu": self.peak.gpu},
            }
        )

    # --- labels and metadata -------------------------------------------------------------------

    @property
    def selector_labels(self) -> dict[str, str]:
        """The immutable pod selector: the endpoint's name and instance (never the version)."""
        return {"app.kubernetes.io/name": self.args.name, "app.kubernetes.io/instance": self.args.name}

    @property
    def common_labels(self) -> dict[str, str]:
        """Labels on every object and pod: standard tags, recommended app labels, model name and version."""
        spec = self.args
        return {
            **spec.labels,
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

    def _service(self, service_name: str, suffix: str, opts: pulumi.ResourceOptions, root: bool = False) -> k8s.core.v1.Service:
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
            opts=opts,
        )

    def _ingress(self, opts: pulumi.ResourceOptions) -> k8s.networking.v1.Ingress:
        spec = self.args
        exposure = spec.exposure
        tags = ",".join(f"{k}={v}" for k, v in spec.labels.items())
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
        if tags:
            annotations["alb.ingress.kubernetes.io/tags"] = tags
        # With ALB traffic routing the backend port must be named "use-annotation": Argo Rollouts
        # writes the weighted forward action into an annotation named after the root Service.
        port = {"name": "use-annotation"} if spec.progressive else {"name": "http"}
        rule: dict[str, Any] = {
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": spec.name, "port": port}}}]}
        }
        if exposure.host:
            rule["host"] = exposure.host
        return k8s.networking.v1.Ingress(
            f"{self._name}-ingress",
            metadata=self._metadata(spec.name, annotations=annotations),
            spec={"ingressClassName": "alb", "rules": [rule]},
            opts=opts,
        )

    # --- the pods ----------------------------------------------------------------------------------

    def otel_environment(self) -> list[dict[str, str]]:
        """The OpenTelemetry SDK settings of the serving container (OTel environment variable spec)."""
        spec = self.args
        attributes = {
            "service.namespace": spec.namespace,
            "service.version": spec.model.version,
            "deployment.environment.name": spec.environment,
            "ml.model.name": spec.model.name,
            "ml.model.registry_version": spec.model.registry_version,
            "vcs.ref.head.revision": spec.model.git_sha,
        }
        return [
            {"name": "OTEL_SERVICE_NAME", "value": spec.name},
            {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": spec.observability.otlp_endpoint},
            {"name": "OTEL_EXPORTER_OTLP_PROTOCOL", "value": "grpc"},
            {"name": "OTEL_PROPAGATORS", "value": "tracecontext,baggage"},
            {"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_traceidratio"},
            {"name": "OTEL_TRACES_SAMPLER_ARG", "value": str(spec.observability.trace_sample_ratio)},
            {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": ",".join(f"{k}={v}" for k, v in attributes.items())},
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
                *({"name": k, "value": v} for k, v in sorted(spec.env.items())),
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
            pod_spec["nodeSelector"] = dict(spec.gpu_placement.node_selector)
            pod_spec["tolerations"] = [{"key": key, "operator": "Exists", "effect": "NoSchedule"} for key in spec.gpu_placement.tolerations]
        return {"metadata": {"labels": self.common_labels, "annotations": self.audit_annotations}, "spec": pod_spec}

    def network_policy_spec(self) -> dict[str, Any]:
        """What the endpoint's pods may receive and send, on top of the namespace's policies.

        Team namespaces deny all traffic by default (``TeamNamespace``); NetworkPolicies add up, so
        this one opens exactly what serving needs: the serving port from the load balancer's
        addresses, from Prometheus' namespace (scraping) and from ``exposure.clientNamespaces``;
        out to the OpenTelemetry Collector's namespace on the OTLP port.
        """
        from urllib.parse import urlparse

        spec = self.args
        port = [{"protocol": "TCP", "port": spec.port}]

        def namespace(name: str) -> dict[str, Any]:
            # kubernetes.io/metadata.name is set on every namespace by the API server (Kubernetes docs,
            # "Well-Known Labels, Annotations and Taints").
            return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}

        sources = [{"ipBlock": {"cidr": cidr}} for cidr in spec.exposure.load_balancer_source_cidrs] if spec.exposure.enabled else []
        sources += [namespace(n) for n in [spec.observability.prometheus_namespace, *spec.exposure.client_namespaces]]
        otlp_port = urlparse(spec.observability.otlp_endpoint).port or (443 if spec.observability.otlp_endpoint.startswith("https") else 80)
        return {
            "podSelector": {"matchLabels": self.selector_labels},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": sources, "ports": port}],
            "egress": [{"to": [namespace(spec.observability.collector_namespace)], "ports": [{"protocol": "TCP", "port": otlp_port}]}],
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
            "canaryService": f"{spec.name}-canary",
            "stableService": f"{spec.name}-stable",
            "trafficRouting": {"alb": {"ingress": spec.name, "rootService": spec.name, "servicePort": 80}},
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
                "templates": [{"templateName": f"{spec.name}-analysis"}],
                "startingStep": 1,
                "args": [
                    {"name": "namespace", "value": spec.namespace},
                    {"name": "service", "value": spec.name},
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
        target = {"apiVersion": ROLLOUTS_API_VERSION, "kind": "Rollout", "name": spec.name} if spec.progressive else {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name}
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

    def prometheus_rule_spec(self) -> dict[str, Any]:
        """The SLO alerts: error rate, p99 latency and the model-quality SLI, each over two windows."""
        spec = self.args
        observability = spec.observability
        slo = observability.slo
        selector = f'namespace="{spec.namespace}",service="{spec.name}"'
        short, long = slo.quality_windows_seconds

        def error_ratio(window: str) -> str:
            return (
                f'sum(rate({observability.request_metric}{{{selector},code=~"5.."}}[{window}]))'
                f" / sum(rate({observability.request_metric}{{{selector}}}[{window}]))"
            )

        def p99(window: str) -> str:
            return f"histogram_quantile(0.99, sum by (le) (rate({observability.latency_metric}_bucket{{{selector}}}[{window}])))"

        labels = {"severity": "page" if spec.environment == "prod" else "ticket", "team": spec.labels.get("team", spec.namespace), "namespace": spec.namespace, "service": spec.name}
        objective = slo.error_rate_percent / 100
        rules = [
            {
                "alert": ALERTS[0],
                "expr": f"({error_ratio('5m')}) > {objective:g} and ({error_ratio('1h')}) > {objective:g}",
                "for": "2m",
                "labels": labels,
                "annotations": {
                    "summary": f"{spec.name}: more than {slo.error_rate_percent:g}% of requests fail (5m and 1h windows)",
                    "description": "The 5xx share of requests is above the SLO objective over both the short and the long window.",
                },
            },
            {
                "alert": ALERTS[1],
                "expr": f"{p99('5m')} > {slo.latency_p99_seconds:g} and {p99('1h')} > {slo.latency_p99_seconds:g}",
                "for": "5m",
                "labels": labels,
                "annotations": {
                    "summary": f"{spec.name}: p99 latency above {slo.latency_p99_seconds:g}s (5m and 1h windows)",
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
                    "summary": f"{spec.name}: {slo.quality_metric} below {slo.quality_objective:g} over {short}s and {long}s",
                    "description": f"Model {spec.model.name} {spec.model.version} (registry version {spec.model.registry_version}) misses its quality objective over both evaluation windows.",
                },
            },
        ]
        return {"groups": [{"name": f"{spec.namespace}.{spec.name}.slo", "rules": rules}]}
