"""``TeamNamespace``: a Kubernetes namespace for one ML team that is safe by construction.

What a ``TeamNamespace`` is made of (all in ``core/v1``, ``rbac.authorization.k8s.io/v1`` and
``networking.k8s.io/v1``):

- ``Namespace`` labelled for Pod Security Admission: ``pod-security.kubernetes.io/enforce``
  (``restricted`` by default), ``enforce-version``, and ``audit`` / ``warn`` always at
  ``restricted`` so a ``baseline`` namespace still reports what ``restricted`` would refuse
  (source: Kubernetes docs, "Pod Security Admission" and "Enforce Pod Security Standards with
  Namespace Labels"); plus the four standard labels;
- ``ResourceQuota`` from :class:`platform_lib.platform.config.TeamQuota` (source: Kubernetes docs,
  "Resource Quotas": ``requests.cpu``, ``limits.cpu``, ``requests.memory``, ``limits.memory``,
  ``requests.nvidia.com/gpu``, ``pods``, ``services.loadbalancers``, ``services.nodeports``,
  ``requests.storage``, ``persistentvolumeclaims``);
- ``LimitRange``, always paired with the quota: once a quota covers CPU and memory, a pod without
  requests and limits is rejected, so the LimitRange gives containers defaults (and a per-container
  maximum) (source: Kubernetes docs, "Limit Ranges" and "Configure Default CPU Requests and Limits
  for a Namespace");
- a ``Role`` with explicit API groups, resources and verbs (no ``*``), bound by a ``RoleBinding`` to
  the team's identity group (subject kind ``Group``; source: Kubernetes docs, "Using RBAC
  Authorization"). It cannot edit RBAC, quotas, limit ranges or network policies, so the team cannot
  widen its own namespace;
- ``NetworkPolicy`` objects: default deny for ingress and egress, DNS to kube-system's kube-dns
  (UDP and TCP 53), traffic between pods of the namespace, and optionally HTTPS egress to listed
  CIDRs (source: Kubernetes docs, "Network Policies", "Default policies");
- a workload ``ServiceAccount``, annotated ``eks.amazonaws.com/role-arn`` for IAM roles for service
  accounts when a role ARN is given (source: Amazon EKS User Guide, "Configure Kubernetes service
  accounts to assume an IAM role").
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Mapping

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..platform.config import Environment, TeamQuota
from .checks import check_cidr_blocks, check_labels
from ..core.errors import ComponentArgsError, Issue, located_validation_error, validate_args
from ..core.tagging import require_standard_keys
from ..core.quantities import cpu_quantity, memory_quantity

__all__ = [
    "TEAM_ROLE_RULES",
    "TeamNamespace",
    "TeamNamespaceArgs",
    "cpu_quantity",
    "memory_quantity",
    "resource_quota_hard",
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")

_FULL = ["get", "list", "watch", "create", "update", "patch", "delete"]
_READ = ["get", "list", "watch"]

#: The rules of the team's namespaced Role: (API groups, resources, verbs). Explicit, no ``*``.
TEAM_ROLE_RULES: tuple[dict[str, list[str]], ...] = (
    {"api_groups": [""], "resources": ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims"], "verbs": _FULL},
    {"api_groups": [""], "resources": ["pods/log", "events", "serviceaccounts", "resourcequotas", "limitranges"], "verbs": _READ},
    {"api_groups": [""], "resources": ["pods/exec", "pods/portforward"], "verbs": ["create", "get"]},
    {"api_groups": ["apps"], "resources": ["deployments", "statefulsets", "replicasets"], "verbs": _FULL},
    {"api_groups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": _FULL},
    {"api_groups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": _FULL},
    {"api_groups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": _FULL},
    {"api_groups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": _FULL},
    {"api_groups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": _READ},
)


def resource_quota_hard(quota: TeamQuota, persistent_volume_claims: int) -> dict[str, str]:
    """The ``spec.hard`` map of a team's ResourceQuota.

    CPU and memory limits are capped at twice the requests (the burst a team may use); NodePort
    Services are forbidden (they open a port on every node).

    Returns:
        Resource names to quantity strings, e.g. ``{"requests.cpu": "16", "limits.memory": "128Gi", ...}``.
    """
    return {
        "requests.cpu": cpu_quantity(quota.cpu),
        "limits.cpu": cpu_quantity(quota.cpu * 2),
        "requests.memory": memory_quantity(quota.memory_gib),
        "limits.memory": memory_quantity(quota.memory_gib * 2),
        "requests.nvidia.com/gpu": str(quota.gpu),
        "pods": str(quota.pods),
        "services.loadbalancers": str(quota.load_balancers),
        "services.nodeports": "0",
        "requests.storage": memory_quantity(quota.storage_gib),
        "persistentvolumeclaims": str(persistent_volume_claims),
    }


class TeamNamespaceArgs(BaseModel):
    """Arguments of :class:`TeamNamespace`.

    Attributes:
        environment: ``dev``, ``staging`` or ``prod`` (the ``environment`` label).
        labels: the standard labels' ``team`` and ``cost-center`` (plus any others);
            ``environment`` and ``managed-by`` are added. Applied to every object.
        identity_group: the group name in the cluster's authenticator (EKS access entry group or
            OIDC ``groups`` claim) bound to the team Role.
        quota: the namespace's quota (vCPU, GiB, GPUs, counts); see
            :class:`platform_lib.platform.config.TeamQuota`.
        namespace: the namespace's name; defaults to the component's name (a DNS label).
        pod_security: the Pod Security Standards level enforced (``restricted`` or ``baseline``).
        pod_security_version: the PSS version enforced, ``latest`` or ``v1.<minor>``.
        persistent_volume_claims: the most PVCs the namespace may hold (default 20).
        default_cpu_request / default_cpu_limit: a container's CPU request / limit in vCPU when it
            sets none (default 0.1 / 1).
        default_memory_request_gib / default_memory_limit_gib: likewise for memory in GiB
            (default 0.25 / 1).
        max_container_cpu / max_container_memory_gib: the largest limit one container may set;
            default: the team's whole request quota.
        service_account_name: the workload ServiceAccount's name (default ``workload``).
        irsa_role_arn: an IAM role ARN for the ServiceAccount (IRSA), a string or an Output.
        automount_service_account_token: mount the Kubernetes API token into pods. Off by default
            (CIS Kubernetes Benchmark 5.1.6); IRSA does not need it.
        egress_https_cidrs: CIDRs pods may reach on TCP 443 (e.g. the VPC's S3 and STS endpoints);
            empty (default) means no egress beyond DNS and the namespace.
        protect: ``protect`` on the Namespace (deleting a namespace deletes every workload and
            volume claim in it); ``None`` means on in prod.
        retain_on_delete: leave the Namespace in the cluster when it leaves the program; ``None``
            means on in prod.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    environment: Environment
    labels: dict[str, str]
    identity_group: str = Field(min_length=1, max_length=128)
    quota: TeamQuota
    namespace: str | None = Field(default=None, max_length=63, pattern=_DNS_LABEL.pattern)
    pod_security: Literal["restricted", "baseline"] = "restricted"
    pod_security_version: str = Field(default="latest", pattern=r"^(latest|v1\.\d{1,3})$")
    persistent_volume_claims: int = Field(default=20, ge=0, le=10000)
    default_cpu_request: float = Field(default=0.1, gt=0, le=1024)
    default_cpu_limit: float = Field(default=1, gt=0, le=1024)
    default_memory_request_gib: float = Field(default=0.25, gt=0, le=4096)
    default_memory_limit_gib: float = Field(default=1, gt=0, le=4096)
    max_container_cpu: float | None = Field(default=None, gt=0, le=4096)
    max_container_memory_gib: float | None = Field(default=None, gt=0, le=65536)
    service_account_name: str = Field(default="workload", max_length=63, pattern=_DNS_LABEL.pattern)
    irsa_role_arn: Any = None
    automount_service_account_token: bool = False
    egress_https_cidrs: list[str] = Field(default_factory=list)
    protect: bool | None = None
    retain_on_delete: bool | None = None

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        require_standard_keys(labels, "labels", keys=("team", "cost-center"))
        return check_labels(labels)

    @field_validator("irsa_role_arn")
    @classmethod
    def _role_arn(cls, value: Any) -> Any:
        if value is None or isinstance(value, pulumi.Output) or (isinstance(value, str) and _IAM_ROLE_ARN.match(value)):
            return value
        raise ValueError("an IAM role ARN (arn:aws:iam::<account>:role/<name>) or a pulumi.Output of one")

    @field_validator("egress_https_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        return check_cidr_blocks(cidrs)

    @model_validator(mode="after")
    def _consistent(self) -> "TeamNamespaceArgs":
        """Checks across fields, each reported at the field to change (not at the whole args)."""
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if self.labels.get("environment") not in (None, self.environment.value):
            problems.append((("labels",), self.labels, f"labels.environment equal to environment ({self.environment.value!r}) or left out"))
        for kind, unit, request, limit, maximum, quota_key in (
            ("cpu", "vCPU", "default_cpu_request", "default_cpu_limit", "max_container_cpu", "cpu"),
            ("memory", "GiB", "default_memory_request_gib", "default_memory_limit_gib", "max_container_memory_gib", "memoryGib"),
        ):
            request_value, limit_value = getattr(self, request), getattr(self, limit)
            container_max = getattr(self, f"container_{kind}_max")
            if request_value > limit_value:
                problems.append(((request,), request_value, f"at most {limit} ({limit_value:g} {unit})"))
            if limit_value > container_max:
                # Blame what the caller set: the default limit, the per-container maximum, or else the quota.
                if limit in self.model_fields_set:
                    where, value = (limit,), limit_value
                    expected = f"at most the per-container maximum ({container_max:g} {unit}: {maximum}, default the quota's {quota_key})"
                elif getattr(self, maximum) is not None:
                    where, value, expected = (maximum,), container_max, f"at least {limit} ({limit_value:g} {unit})"
                else:
                    where, value = ("quota", quota_key), container_max
                    expected = f"at least the LimitRange's default container {kind} limit ({limit_value:g} {unit}), or a lower {limit}"
                problems.append((where, value, expected))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self

    @property
    def container_cpu_max(self) -> float:
        """The LimitRange's per-container CPU maximum in vCPU: ``max_container_cpu``, else the quota's ``cpu``."""
        return self.max_container_cpu if self.max_container_cpu is not None else self.quota.cpu

    @property
    def container_memory_max(self) -> float:
        """The per-container memory maximum in GiB: ``max_container_memory_gib``, else the quota's ``memory_gib``."""
        return self.max_container_memory_gib if self.max_container_memory_gib is not None else self.quota.memory_gib

    @property
    def protect_namespace(self) -> bool:
        """Whether the Namespace gets ``protect``: the explicit setting, else on in prod."""
        return self.environment is Environment.PROD if self.protect is None else self.protect

    @property
    def retain_namespace(self) -> bool:
        """Whether the Namespace gets ``retain_on_delete``: the explicit setting, else on in prod."""
        return self.environment is Environment.PROD if self.retain_on_delete is None else self.retain_on_delete

    def standard_labels(self) -> dict[str, str]:
        """``labels`` plus ``environment`` and ``managed-by: pulumi``: the labels of every object."""
        return {**self.labels, "environment": self.environment.value, "managed-by": "pulumi"}


class TeamNamespace(pulumi.ComponentResource):
    """One team's namespace with PSS labels, quota + LimitRange, RBAC, network policies and a workload identity.

    Args:
        name: the logical name; also the namespace name unless ``namespace`` is given.
        args: a :class:`TeamNamespaceArgs` or a mapping of its fields; or pass the fields as
            keyword arguments.
        opts: resource options (e.g. ``provider=`` a ``kubernetes.Provider`` for the cluster).

    Attributes:
        namespace_name: the namespace's name.
        service_account_name: the workload ServiceAccount's name.
        role_name: the team Role's name.
        namespace / quota / limit_range / role / role_binding / service_account: the objects.
        network_policies: the NetworkPolicy objects by purpose.

    Raises:
        ComponentArgsError: an invalid argument; nothing is registered.
    """

    namespace_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]
    role_name: pulumi.Output[str]

    TYPE = "mlplat:k8s:TeamNamespace"

    def __init__(
        self,
        name: str,
        args: TeamNamespaceArgs | Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        self.args = a = validate_args(TeamNamespaceArgs, "TeamNamespace", name, args if args is not None else kwargs)
        namespace = a.namespace or name
        if not _DNS_LABEL.match(namespace):
            raise ComponentArgsError(
                f"invalid arguments for TeamNamespace({name!r}); nothing was created",
                [Issue(f"TeamNamespace({name}).namespace", namespace, "a DNS label (at most 63 lowercase letters, digits and '-')")],
            )
        super().__init__(self.TYPE, name, None, opts)
        labels = a.standard_labels()
        child = pulumi.ResourceOptions(parent=self)

        def metadata(object_name: str, extra_labels: dict[str, str] | None = None, **more: Any) -> dict[str, Any]:
            return {"name": object_name, "namespace": self.namespace_name, "labels": {**labels, **(extra_labels or {})}, **more}

        self.namespace = k8s.core.v1.Namespace(
            name,
            metadata={
                "name": namespace,
                "labels": {
                    **labels,
                    "pod-security.kubernetes.io/enforce": a.pod_security,
                    "pod-security.kubernetes.io/enforce-version": a.pod_security_version,
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/audit-version": a.pod_security_version,
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/warn-version": a.pod_security_version,
                },
            },
            opts=pulumi.ResourceOptions(parent=self, protect=a.protect_namespace, retain_on_delete=a.retain_namespace),
        )
        self.namespace_name = self.namespace.metadata.apply(lambda m: m["name"] if isinstance(m, dict) else m.name)

        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=metadata("team-quota"),
            spec={"hard": resource_quota_hard(a.quota, a.persistent_volume_claims)},
            opts=child,
        )
        self.limit_range = k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=metadata("team-limits"),
            spec={
                "limits": [
                    {
                        "type": "Container",
                        "default_request": {"cpu": cpu_quantity(a.default_cpu_request), "memory": memory_quantity(a.default_memory_request_gib)},
                        "default": {"cpu": cpu_quantity(a.default_cpu_limit), "memory": memory_quantity(a.default_memory_limit_gib)},
                        "max": {"cpu": cpu_quantity(a.container_cpu_max), "memory": memory_quantity(a.container_memory_max)},
                    }
                ]
            },
            opts=child,
        )

        self.role = k8s.rbac.v1.Role(f"{name}-member", metadata=metadata("team-member"), rules=[dict(rule) for rule in TEAM_ROLE_RULES], opts=child)
        self.role_name = self.role.metadata.apply(lambda m: m["name"] if isinstance(m, dict) else m.name)
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-member",
            metadata=metadata("team-member"),
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": self.role_name},
            subjects=[{"kind": "Group", "name": a.identity_group, "api_group": "rbac.authorization.k8s.io"}],
            opts=child,
        )

        self.network_policies: dict[str, k8s.networking.v1.NetworkPolicy] = {}

        def network_policy(purpose: str, spec: dict[str, Any]) -> None:
            self.network_policies[purpose] = k8s.networking.v1.NetworkPolicy(
                f"{name}-{purpose}", metadata=metadata(purpose), spec={"pod_selector": {}, **spec}, opts=child
            )

        network_policy("default-deny", {"policy_types": ["Ingress", "Egress"]})
        network_policy(
            "allow-dns",
            {
                "policy_types": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "pod_selector": {"match_labels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        )
        network_policy(
            "allow-same-namespace",
            {
                "policy_types": ["Ingress", "Egress"],
                "ingress": [{"from": [{"pod_selector": {}}]}],
                "egress": [{"to": [{"pod_selector": {}}]}],
            },
        )
        if a.egress_https_cidrs:
            network_policy(
                "allow-https-egress",
                {
                    "policy_types": ["Egress"],
                    "egress": [{"to": [{"ip_block": {"cidr": cidr}} for cidr in a.egress_https_cidrs], "ports": [{"protocol": "TCP", "port": 443}]}],
                },
            )

        annotations = {"eks.amazonaws.com/role-arn": a.irsa_role_arn} if a.irsa_role_arn is not None else None
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-workload",
            metadata=metadata(a.service_account_name, annotations=annotations) if annotations else metadata(a.service_account_name),
            automount_service_account_token=a.automount_service_account_token,
            opts=child,
        )
        self.service_account_name = self.service_account.metadata.apply(lambda m: m["name"] if isinstance(m, dict) else m.name)
        self.register_outputs(
            {"namespace_name": self.namespace_name, "service_account_name": self.service_account_name, "role_name": self.role_name}
        )
