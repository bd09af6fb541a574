"""``TeamNamespace``: a Kubernetes namespace for one ML team that is safe by construction.

What a ``TeamNamespace`` is made of (all in ``core/v1``, ``rbac.authorization.k8s.io/v1`` and
``networking.k8s.io/v1``):

- ``Namespace`` labelled for Pod Security Admission: ``pod-security.kubernetes.io/enforce``
  (``restricted`` by default), ``enforce-version``, and ``audit`` / ``warn`` always at
  ``restricted`` so a ``baseline`` namespace still reports what ``restricted`` would refuse
  (source: Kubernetes docs, "Pod Security Admission" and "Enforce Pod Security Standards with
  Namespace Labels"); plus the four standard labels;
- ``ResourceQuota`` from :class:`platform_lib.k8s.quota.ResourceQuotaSpec` (source: Kubernetes docs,
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
  widen its own namespace, and it only reads Services and Ingresses, so the team cannot publish a
  load balancer outside the policy gate (ModelEndpoint makes them);
- ``NetworkPolicy`` objects: default deny for ingress and egress, DNS to kube-system's kube-dns
  (UDP and TCP 53), traffic between pods of the namespace, and optionally HTTPS egress to listed
  CIDRs (source: Kubernetes docs, "Network Policies", "Default policies");
- a workload ``ServiceAccount``, annotated ``eks.amazonaws.com/role-arn`` for IAM roles for service
  accounts when a role ARN is given (source: Amazon EKS User Guide, "Configure Kubernetes service
  accounts to assume an IAM role").
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Mapping, overload

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import ComponentArgsError, Issue, located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.kubernetes_names import check_dns_label
from ..core.quantities import cpu_quantity, memory_quantity
from ..core.tagging import with_managed_by
from .checks import check_cidr_blocks, check_identity_group, check_namespace_name
from .labels import check_label_inputs
from .quota import ResourceQuotaSpec, resource_quota_hard

__all__ = [
    "TEAM_ROLE_RULES",
    "TeamNamespace",
    "TeamNamespaceArgs",
    "TeamNamespaceArgsDict",
    "resource_quota_hard",
]

_IAM_ROLE_ARN = r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}"

_FULL = ["get", "list", "watch", "create", "update", "patch", "delete"]
_READ = ["get", "list", "watch"]

#: The rules of the team's namespaced Role: (API groups, resources, verbs). Explicit, no ``*``.
#: Services and Ingresses are read-only: either can publish a load balancer (an Ingress becomes an
#: ALB, a Service of type LoadBalancer an NLB, and RBAC cannot restrict a Service's type), so load
#: balancers go through ModelEndpoint, which the policy gate reviews (docs/components.md).
TEAM_ROLE_RULES: tuple[dict[str, list[str]], ...] = (
    {"api_groups": [""], "resources": ["pods", "configmaps", "secrets", "persistentvolumeclaims"], "verbs": _FULL},
    {"api_groups": [""], "resources": ["services", "pods/log", "events", "serviceaccounts", "resourcequotas", "limitranges"], "verbs": _READ},
    {"api_groups": [""], "resources": ["pods/exec", "pods/portforward"], "verbs": ["create", "get"]},
    {"api_groups": ["apps"], "resources": ["deployments", "statefulsets", "replicasets"], "verbs": _FULL},
    {"api_groups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": _FULL},
    {"api_groups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": _FULL},
    {"api_groups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": _FULL},
    {"api_groups": ["networking.k8s.io"], "resources": ["ingresses", "networkpolicies"], "verbs": _READ},
)



def _identity_group(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise ValueError("a group name of 1 to 128 characters")
    return check_identity_group(value)


def _namespace_name(value: Any) -> str:
    return check_namespace_name(check_dns_label(value))


class TeamNamespaceArgs(ComponentArgs):
    """Arguments of :class:`TeamNamespace`.

    Attributes:
        labels: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` is added. Applied to every object.
        identity_group: the group name in the cluster's authenticator (EKS access entry group or
            OIDC ``groups`` claim) bound to the team Role; a string or an Output (1 to 128
            characters). A built-in ``system:`` group or user (``system:authenticated``...) is
            refused: it would give the Role to every caller of its kind.
        quota: the namespace's quota (vCPU, GiB, GPUs, counts); see :class:`ResourceQuotaSpec`.
        namespace: the namespace's name, a DNS label or an Output of one, not a ``kube-*`` name
            (reserved for Kubernetes); defaults to the component's name.
        pod_security: the Pod Security Standards level enforced (``restricted`` or ``baseline``).
        pod_security_version: the PSS version enforced, ``latest`` or ``v1.<minor>``.
        persistent_volume_claims: the most PVCs the namespace may hold (default 20).
        default_cpu_request / default_cpu_limit: a container's CPU request / limit in vCPU when it
            sets none (default 0.1 / 1).
        default_memory_request_gib / default_memory_limit_gib: likewise for memory in GiB
            (default 0.25 / 1).
        max_container_cpu / max_container_memory_gib: the largest limit one container may set;
            default: the team's whole request quota.
        service_account_name: the workload ServiceAccount's name, a DNS label or an Output of one
            (default ``workload``).
        irsa_role_arn: an IAM role ARN for the ServiceAccount (IRSA), a string or an Output.
        automount_service_account_token: mount the Kubernetes API token into pods. Off by default
            (CIS Kubernetes Benchmark 5.1.6); IRSA does not need it.
        egress_https_cidrs: CIDRs pods may reach on TCP 443 (e.g. the VPC's S3 and STS endpoints);
            empty (default) means no egress beyond DNS and the namespace.

    Deleting a namespace deletes every workload and volume claim in it: pass
    ``opts=pulumi.ResourceOptions(protect=True, retain_on_delete=True)`` in production (the
    platform's stacks do). The component never sets them itself.
    """

    labels: dict[str, Input[str]]
    identity_group: Annotated[Input[str], InputCheck(_identity_group)]
    quota: ResourceQuotaSpec
    namespace: Annotated[Input[str], InputCheck(_namespace_name)] | None = None
    pod_security: Literal["restricted", "baseline"] = "restricted"
    pod_security_version: str = Field(default="latest", pattern=r"^(latest|v1\.\d{1,3})$")
    persistent_volume_claims: int = Field(default=20, ge=0, le=10000)
    default_cpu_request: float = Field(default=0.1, gt=0, le=1024)
    default_cpu_limit: float = Field(default=1, gt=0, le=1024)
    default_memory_request_gib: float = Field(default=0.25, gt=0, le=4096)
    default_memory_limit_gib: float = Field(default=1, gt=0, le=4096)
    max_container_cpu: float | None = Field(default=None, gt=0, le=4096)
    max_container_memory_gib: float | None = Field(default=None, gt=0, le=65536)
    service_account_name: Annotated[Input[str], InputCheck(check_dns_label)] = "workload"
    irsa_role_arn: Annotated[Input[str], InputCheck.matching(_IAM_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")] | None = None
    automount_service_account_token: bool = False
    egress_https_cidrs: list[str] = Field(default_factory=list)

    _labels = field_validator("labels")(check_label_inputs)

    @field_validator("egress_https_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        return check_cidr_blocks(cidrs)

    @model_validator(mode="after")
    def _consistent(self) -> "TeamNamespaceArgs":
        """Checks across fields, each reported at the field to change (not at the whole args)."""
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        for kind, unit, request, limit, maximum, quota_key in (
            ("cpu", "vCPU", "default_cpu_request", "default_cpu_limit", "max_container_cpu", "cpu"),
            ("memory", "GiB", "default_memory_request_gib", "default_memory_limit_gib", "max_container_memory_gib", "memory_gib"),
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


class TeamNamespaceArgsDict(TypedDict, total=False):
    """The fields of :class:`TeamNamespaceArgs` as keyword arguments."""

    labels: Mapping[str, Input[str]]
    identity_group: Input[str]
    quota: ResourceQuotaSpec | Mapping[str, Any]
    namespace: Input[str] | None
    pod_security: Literal["restricted", "baseline"]
    pod_security_version: str
    persistent_volume_claims: int
    default_cpu_request: float
    default_cpu_limit: float
    default_memory_request_gib: float
    default_memory_limit_gib: float
    max_container_cpu: float | None
    max_container_memory_gib: float | None
    service_account_name: Input[str]
    irsa_role_arn: Input[str] | None
    automount_service_account_token: bool
    egress_https_cidrs: list[str]


def _name_of(metadata: Any) -> Any:
    return metadata["name"] if isinstance(metadata, dict) else metadata.name


class TeamNamespace(Component[TeamNamespaceArgs], type_token="mlplat:k8s:TeamNamespace"):
    """One team's namespace with PSS labels, quota + LimitRange, RBAC, network policies and a workload identity.

    Args:
        name: the logical name (children are ``<name>-quota``, ``<name>-member``, ...); also the
            namespace name unless ``namespace`` is given (then it must be a DNS label).
        args: a :class:`TeamNamespaceArgs` or a mapping of its fields; or pass the fields as
            keyword arguments.
        opts: resource options, passed to every child (e.g. ``provider=`` a ``kubernetes.Provider``
            for the cluster, ``protect=True`` in production).

    Attributes:
        namespace_name: the namespace's name.
        service_account_name: the workload ServiceAccount's name.
        role_name: the team Role's name.
        namespace / quota / limit_range / role / role_binding / service_account: the objects.
        network_policies: the NetworkPolicy objects by purpose.

    Raises:
        ComponentArgsError: an invalid argument (or, without ``namespace``, a name that is not a
            DNS label); nothing is registered. An Output argument that turns out invalid raises it
            when its value becomes known.
    """

    namespace_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]
    role_name: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: TeamNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[TeamNamespaceArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def validate_args(cls, name: str, args: Any = None, **kwargs: Any) -> TeamNamespaceArgs:
        """As :meth:`Component.validate_args`, and without ``namespace`` the name must be a DNS label."""
        validated = super().validate_args(name, args, **kwargs)
        if validated.namespace is None:
            try:
                _namespace_name(name)
            except ValueError as error:
                raise ComponentArgsError(
                    f"invalid arguments for {cls.label(name)}; nothing was created",
                    [Issue(f"{cls.label(name)}.namespace", name, f"{error}: without a namespace argument the component's name is the namespace's name")],
                ) from None
        return validated

    def _create(self, name: str, args: TeamNamespaceArgs) -> dict[str, Any]:
        self._labels = with_managed_by(args.labels)
        self.namespace = self._namespace(name, args)
        self.namespace_name = self.namespace.metadata.apply(_name_of)
        self.quota = self._resource_quota(name, args)
        self.limit_range = self._limit_range(name, args)
        self.role, self.role_binding = self._rbac(name, args)
        self.network_policies = self._network_policies(name, args)
        self.service_account = self._service_account(name, args)
        return {
            "namespace_name": self.namespace_name,
            "service_account_name": self.service_account.metadata.apply(_name_of),
            "role_name": self.role.metadata.apply(_name_of),
        }

    def _metadata(self, object_name: Input[str], **more: Any) -> dict[str, Any]:
        return {"name": object_name, "namespace": self.namespace_name, "labels": self._labels, **more}

    def _namespace(self, name: str, args: TeamNamespaceArgs) -> k8s.core.v1.Namespace:
        """The Namespace, labelled for Pod Security Admission (``audit``/``warn`` always ``restricted``)."""
        version = args.pod_security_version
        pod_security = {
            "pod-security.kubernetes.io/enforce": args.pod_security,
            "pod-security.kubernetes.io/enforce-version": version,
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": version,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": version,
        }
        namespace = args.namespace if args.namespace is not None else name
        return k8s.core.v1.Namespace(name, metadata={"name": namespace, "labels": {**self._labels, **pod_security}}, opts=self.child_options())

    def _resource_quota(self, name: str, args: TeamNamespaceArgs) -> k8s.core.v1.ResourceQuota:
        hard = resource_quota_hard(args.quota, args.persistent_volume_claims)
        return k8s.core.v1.ResourceQuota(f"{name}-quota", metadata=self._metadata("team-quota"), spec={"hard": hard}, opts=self.child_options())

    def _limit_range(self, name: str, args: TeamNamespaceArgs) -> k8s.core.v1.LimitRange:
        """Container defaults and maximum, so pods without requests still fit the quota."""
        limits = {
            "type": "Container",
            "default_request": {"cpu": cpu_quantity(args.default_cpu_request), "memory": memory_quantity(args.default_memory_request_gib)},
            "default": {"cpu": cpu_quantity(args.default_cpu_limit), "memory": memory_quantity(args.default_memory_limit_gib)},
            "max": {"cpu": cpu_quantity(args.container_cpu_max), "memory": memory_quantity(args.container_memory_max)},
        }
        return k8s.core.v1.LimitRange(f"{name}-limits", metadata=self._metadata("team-limits"), spec={"limits": [limits]}, opts=self.child_options())

    def _rbac(self, name: str, args: TeamNamespaceArgs) -> tuple[k8s.rbac.v1.Role, k8s.rbac.v1.RoleBinding]:
        """The team Role (:data:`TEAM_ROLE_RULES`) bound to the identity group."""
        role = k8s.rbac.v1.Role(f"{name}-member", metadata=self._metadata("team-member"), rules=[dict(rule) for rule in TEAM_ROLE_RULES], opts=self.child_options())
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-member",
            metadata=self._metadata("team-member"),
            role_ref={"api_group": "rbac.authorization.k8s.io", "kind": "Role", "name": role.metadata.apply(_name_of)},
            subjects=[{"kind": "Group", "name": args.identity_group, "api_group": "rbac.authorization.k8s.io"}],
            opts=self.child_options(),
        )
        return role, binding

    def _network_policies(self, name: str, args: TeamNamespaceArgs) -> dict[str, k8s.networking.v1.NetworkPolicy]:
        """Default deny, DNS to kube-dns, traffic inside the namespace, and HTTPS to listed CIDRs."""
        specs: dict[str, dict[str, Any]] = {
            "default-deny": {"policy_types": ["Ingress", "Egress"]},
            "allow-dns": {
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
            "allow-same-namespace": {
                "policy_types": ["Ingress", "Egress"],
                "ingress": [{"from": [{"pod_selector": {}}]}],
                "egress": [{"to": [{"pod_selector": {}}]}],
            },
        }
        if args.egress_https_cidrs:
            specs["allow-https-egress"] = {
                "policy_types": ["Egress"],
                "egress": [{"to": [{"ip_block": {"cidr": cidr}} for cidr in args.egress_https_cidrs], "ports": [{"protocol": "TCP", "port": 443}]}],
            }
        return {
            purpose: k8s.networking.v1.NetworkPolicy(f"{name}-{purpose}", metadata=self._metadata(purpose), spec={"pod_selector": {}, **spec}, opts=self.child_options())
            for purpose, spec in specs.items()
        }

    def _service_account(self, name: str, args: TeamNamespaceArgs) -> k8s.core.v1.ServiceAccount:
        """The workload ServiceAccount, annotated for IRSA when a role ARN is given."""
        more = {"annotations": {"eks.amazonaws.com/role-arn": args.irsa_role_arn}} if args.irsa_role_arn is not None else {}
        return k8s.core.v1.ServiceAccount(
            f"{name}-workload",
            metadata=self._metadata(args.service_account_name, **more),
            automount_service_account_token=args.automount_service_account_token,
            opts=self.child_options(),
        )
