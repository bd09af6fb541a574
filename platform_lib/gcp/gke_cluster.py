""":class:`GkeCluster` (``mlplat:gcp:GkeCluster``): a private GKE Standard cluster with a system
node pool and GPU node pools, for the cluster layer of the platform (docs/cluster.md).

What it registers (children of the component, named from its name, each with the caller's
options, every labelable one with the standard labels):

- ``<name>-nodes``: the nodes' own service account (never the Compute Engine default one), and
  ``<name>-nodes-<role>``: one project IAM binding per role of :data:`NODE_ROLES`, the least
  privilege GKE documents for a node service account (GKE docs, "Harden your cluster's
  security": "Use least privilege IAM service accounts"; plus Artifact Registry reader to pull
  images).
- ``<name>-cluster``: the ``gcp.container.Cluster``:

  - private nodes (``privateClusterConfig.enablePrivateNodes``), and a private control-plane
    endpoint by default; with ``private_endpoint=False`` the public endpoint is reachable only
    from ``master_authorized_cidrs`` (never ``0.0.0.0/0``); master authorized networks are always
    on (CIS GKE Benchmark 5.6.3-5.6.5);
  - Workload Identity (``workloadIdentityConfig.workloadPool = <project>.svc.id.goog``), so pods
    use their Kubernetes service account's Google identity, never the node's (CIS GKE 5.2.2);
  - GKE Dataplane V2 (``datapathProvider: ADVANCED_DATAPATH``), which enforces Kubernetes
    NetworkPolicy natively, so the team namespaces' default-deny policies hold (GKE docs, "About
    GKE Dataplane V2": network policy enforcement is built in; the Calico ``networkPolicy`` addon
    is not used with it);
  - shielded GKE nodes, legacy ABAC off, no client certificate (basic authentication is gone from
    GKE), a release channel (REGULAR by default), VPC-native (alias IP) networking;
  - the default node pool removed (``removeDefaultNodePool``): node pools are separate resources;
  - optional Cloud KMS envelope encryption of Secrets (``databaseEncryption``) with
    ``secrets_kms_key`` (CIS GKE 5.3.1).

- ``<name>-system``: the system node pool (on-demand, autoscaled, at least one node).
- ``<name>-<pool>``: one node pool per GPU pool: the accelerators with GKE-managed driver
  installation (``gpuDriverInstallationConfig``), the ``nvidia.com/gpu=present:NoSchedule``
  taint, its labels, Spot or on-demand, autoscaling that may go down to zero.

Every node pool: the nodes' service account with narrow scopes, Shielded VM secure boot and
integrity monitoring, the GKE metadata server (``workloadMetadataConfig.mode: GKE_METADATA``),
COS with containerd, auto-repair and auto-upgrade.

Bad input fails before anything is registered: a GPU pool whose accelerator is not one of the
known GPU types or does not fit its machine type (an A100 needs an ``a2-*`` machine type, an L4 a
``g2-*`` one; the tables of :mod:`platform_lib.gcp.gpu_training_box`, from the Compute Engine docs,
"GPU machine types"), a pool whose maximum is below its minimum, a pool that can scale to zero
without the GPU taint, a control-plane range that is not a private ``/28`` or overlaps the
subnet, pod or service ranges.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Literal, overload

import pulumi
import pulumi_gcp as gcp
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.networks import covers_everything
from ..core.tagging import require_standard_keys, with_managed_by
from . import KMS_KEY_PATTERN, letter_first
from .gpu_training_box import GCE_GPU_MACHINE_TYPES, N1_GPUS, Accelerator, check_machine_type, resolve_accelerator

__all__ = [
    "GPU_TAINT",
    "GkeCluster",
    "GkeClusterArgs",
    "GkeClusterArgsDict",
    "GpuNodePool",
    "KNOWN_ACCELERATORS",
    "NODE_ROLES",
    "NODE_SCOPES",
    "SystemNodePool",
]

#: The roles of the nodes' service account (GKE docs, "Harden your cluster's security", "Use
#: least privilege IAM service accounts": logging.logWriter, monitoring.metricWriter,
#: monitoring.viewer, stackdriver.resourceMetadata.writer; plus artifactregistry.reader to pull
#: images from Artifact Registry, GKE docs "Use private images").
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)

#: The nodes' access scopes: GKE's ``gke-default`` set without service control and trace. What
#: pods may call is decided by Workload Identity, not by these (GKE docs, "Access scopes in GKE").
NODE_SCOPES = (
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring",
)

#: The taint every GPU pool carries, as a Kubernetes taint (GKE adds the same one to GPU pools:
#: GKE docs, "About GPUs in GKE", "Taints and tolerations").
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}

#: Every accelerator type a GPU pool may use: the accelerator-optimized machine types' GPUs and
#: the ones that attach to N1 (Compute Engine docs, "GPU machine types").
KNOWN_ACCELERATORS = tuple(sorted({option.accelerator for option in GCE_GPU_MACHINE_TYPES.values()} | set(N1_GPUS)))

#: Kubernetes taint effects and their GKE API spelling (``NodePool.nodeConfig.taints[].effect``).
_GKE_EFFECT = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}

_POOL_NAME = r"^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$"
_LABEL_KEY = re.compile(r"^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def _label_value(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 63 or value != value.lower() or not re.fullmatch(r"[\w-]*", value):
        raise ValueError("a label value: at most 63 lowercase letters, digits, '_' or '-' (GKE docs, \"Cluster labels\": requirements)")
    return value


Location = Annotated[Input[str], InputCheck.matching(r"[a-z]+-[a-z]+\d+(-[a-z])?", "a region such as europe-west4 (a regional cluster) or a zone such as europe-west4-a")]
NonEmpty = Annotated[Input[str], InputCheck.matching(r".+", "a non-empty string")]
ProjectId = Annotated[Input[str], InputCheck.matching(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", "a project id (6-30 lowercase letters, digits or '-', a letter first)")]
KmsKeyName = Annotated[Input[str], InputCheck.matching(KMS_KEY_PATTERN, "a Cloud KMS crypto key id (projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>)")]


def _machine_types_hint(accelerator: str) -> str:
    """``; <accelerator> comes with <machine types>`` for a GPU that only comes with accelerator-
    optimized machine types (an A100 with ``a2-*``, an L4 with ``g2-*``), else ``""``."""
    families = sorted({machine.rsplit("-", 1)[0] + "-*" for machine, option in GCE_GPU_MACHINE_TYPES.items() if option.accelerator == accelerator})
    return f"; {accelerator} comes with the machine types {', '.join(families)}" if families else ""


def _cidr(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError(f"an IPv4 CIDR block with no host bits set, e.g. 10.0.0.0/20; got {value!r}") from None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class _Autoscaled(_Model):
    min_nodes: int = Field(default=0, ge=0, le=1000)
    max_nodes: int = Field(default=1, ge=1, le=1000)
    disk_gib: int = Field(default=100, ge=10, le=65536)

    @model_validator(mode="after")
    def _bounds(self) -> "_Autoscaled":
        if self.max_nodes < self.min_nodes:
            raise located_validation_error(type(self).__name__, [(("max_nodes",), self.max_nodes, f"at least min_nodes ({self.min_nodes})")])
        return self


class SystemNodePool(_Autoscaled):
    """The system node pool: on-demand nodes for the add-ons (DNS, metrics, controllers).

    Attributes:
        machine_type: a general-purpose machine type (``e2-standard-4``: 4 vCPU, 16 GiB).
        min_nodes, max_nodes: autoscaling bounds per zone; at least one node (the add-ons must run).
        disk_gib: boot disk size in GiB (``pd-balanced``).
    """

    machine_type: str = Field(default="e2-standard-4", pattern=r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
    min_nodes: int = Field(default=1, ge=1, le=1000)
    max_nodes: int = Field(default=3, ge=1, le=1000)


class GpuNodePool(_Autoscaled):
    """A GPU node pool.

    Attributes:
        name: the node pool's name in GKE (a letter, then up to 39 lowercase letters, digits or
            '-'); also ``<cluster name>-<name>`` as the child's logical name.
        machine_type: a GPU machine type (``g2-standard-8`` with one L4, ``a2-highgpu-1g`` with one
            A100, ``a3-highgpu-8g``...) or an N1 type with ``accelerator``.
        accelerator: the GPU type and count; required for N1, optional for the accelerator-optimized
            types (it must then be exactly the GPUs the machine type comes with).
        min_nodes, max_nodes: autoscaling bounds per zone; ``min_nodes=0`` lets the pool scale to
            zero when no pod asks for a GPU, which needs ``taint=True`` (else ordinary pods would
            land on GPU nodes and keep them up).
        spot: Spot VMs: cheaper, may be preempted (training with checkpoints; not serving).
        taint: the ``nvidia.com/gpu=present:NoSchedule`` taint, so only pods that tolerate it
            (GPU workloads) land here. Opt out only for a pool that may never scale to zero.
        labels: Kubernetes node labels (``workload: training``); workloads select the pool by them.
        driver_version: GKE-managed NVIDIA driver installation, ``DEFAULT`` or ``LATEST`` (GKE docs,
            "Run GPUs in GKE Standard node pools": ``gpu-driver-version``).
        disk_gib: boot disk size in GiB (``pd-balanced``; images and models are large).
        zones: the zones of the pool's nodes (``node_locations``) where the GPU is offered; empty
            for the cluster's zones.
    """

    name: str = Field(pattern=_POOL_NAME)
    machine_type: str = Field(min_length=1)
    accelerator: Accelerator | None = None
    spot: bool = False
    taint: bool = True
    labels: dict[str, str] = Field(default_factory=dict)
    driver_version: Literal["DEFAULT", "LATEST"] = "DEFAULT"
    disk_gib: int = Field(default=200, ge=10, le=65536)
    zones: list[Annotated[str, Field(pattern=r"^[a-z]+-[a-z]+\d+-[a-z]$")]] = Field(default_factory=list)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
                raise ValueError(f"Kubernetes label keys and values (a name of up to 63 characters, an optional DNS prefix); got {key!r}: {value!r}")
        return labels

    @model_validator(mode="after")
    def _gpu(self) -> "GpuNodePool":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if self.accelerator is not None and self.accelerator.type not in KNOWN_ACCELERATORS:
            problems.append((("accelerator", "type"), self.accelerator.type, f"a known GPU type ({', '.join(KNOWN_ACCELERATORS)})"))
        else:
            try:
                check_machine_type(self.machine_type)
            except ValueError as error:
                problems.append((("machine_type",), self.machine_type, str(error)))
            else:
                try:
                    resolve_accelerator(self.machine_type, self.accelerator)
                except ValueError as error:
                    hint = _machine_types_hint(self.accelerator.type) if self.accelerator is not None else ""
                    given = self.accelerator.model_dump() if self.accelerator is not None else None
                    problems.append((("accelerator",), given, f"{error}{hint}"))
        if self.min_nodes == 0 and not self.taint:
            problems.append((("taint",), self.taint, "true when min_nodes is 0: a pool that scales to zero keeps the GPU taint, or ordinary pods hold its nodes up"))
        if problems:
            raise located_validation_error("GpuNodePool", problems)
        return self

    def resolved_accelerator(self) -> Accelerator:
        """The GPUs each node gets (type and count), as validated."""
        return resolve_accelerator(self.machine_type, self.accelerator)[0]


class GkeClusterArgs(ComponentArgs):
    """Arguments of :class:`GkeCluster`.

    The documented minimum is ``location``, ``network``, ``subnetwork`` and ``labels`` (with
    ``team``, ``cost-center`` and ``environment``); with those the cluster passes every mandatory
    policy of the shipped policy pack at prod levels.

    Attributes:
        location: a region (a regional cluster: control plane and nodes in three zones; the
            production choice) or a zone (an Input).
        network: the VPC network, name or self link (an Input).
        subnetwork: the subnetwork of the nodes, name or self link (an Input); its primary range
            holds the nodes; reach the internet through Cloud NAT (the nodes have no external IP).
        project: the project id (an Input); ``None`` for the provider's project.
        subnet_cidr: the subnetwork's primary range (``10.10.0.0/20``), when known, so overlaps are
            caught before anything is registered; ``None`` to skip that check.
        pods_cidr, services_cidr: the Pods' and Services' ranges GKE creates as secondary ranges
            (``pods_cidr`` at most /21 per GKE's minimum... usually ``/14``-``/18``); ``None`` to
            let GKE pick (or to use ``pods_range_name`` / ``services_range_name``).
        pods_range_name, services_range_name: existing secondary ranges of the subnetwork (Inputs),
            instead of ``pods_cidr`` / ``services_cidr``.
        master_cidr: the control plane's private range, a ``/28`` in RFC 1918 space that overlaps
            no other range (GKE docs, "Creating a private cluster": ``master-ipv4-cidr``).
        private_endpoint: the control plane has only a private endpoint (reach it from the VPC,
            e.g. a CI runner or bastion there). ``False`` opens a public endpoint, reachable only
            from ``master_authorized_cidrs``.
        master_authorized_cidrs: the CIDRs allowed to reach the control plane (master authorized
            networks); required, non-empty and not the whole internet when ``private_endpoint``
            is ``False``.
        release_channel: ``REGULAR`` (default), ``STABLE`` or ``EXTENDED``; ``RAPID`` needs
            ``allow_rapid_channel`` (its versions are not covered by the GKE SLA).
        allow_rapid_channel: the named opt-out for ``release_channel="RAPID"``.
        kubernetes_version: the minimum control-plane version (``1.33``), ``None`` for the
            channel's default.
        secrets_kms_key: a Cloud KMS crypto key id for envelope encryption of Secrets in etcd (an
            Input); the GKE service agent needs ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on it
            (GKE docs, "Encrypt secrets at the application layer"). ``None``: Google-managed
            encryption at rest only.
        system_pool: the system node pool (:class:`SystemNodePool`).
        gpu_pools: the GPU node pools (:class:`GpuNodePool`); names unique.
        labels: resource labels of the cluster and node pools: ``team``, ``cost-center`` and
            ``environment`` required (values may be Outputs); ``managed-by: pulumi`` is added.
        deletion_protection: GKE's own deletion protection on the cluster (on by default).
    """

    location: Location
    network: NonEmpty
    subnetwork: NonEmpty
    project: ProjectId | None = None
    subnet_cidr: str | None = None
    pods_cidr: str | None = None
    services_cidr: str | None = None
    pods_range_name: NonEmpty | None = None
    services_range_name: NonEmpty | None = None
    master_cidr: str = "172.16.0.0/28"
    private_endpoint: bool = True
    master_authorized_cidrs: list[str] = Field(default_factory=list)
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    allow_rapid_channel: bool = False
    kubernetes_version: str | None = Field(default=None, pattern=r"^1\.\d{2}(\.\d+(-gke\.\d+)?)?$")
    secrets_kms_key: KmsKeyName | None = None
    system_pool: SystemNodePool = Field(default_factory=SystemNodePool)
    gpu_pools: list[GpuNodePool] = Field(default_factory=list)
    labels: Annotated[dict[str, Input[str]], InputCheck.for_values(_label_value)]
    deletion_protection: bool = True

    @field_validator("labels")
    @classmethod
    def _standard_labels(cls, labels: dict[str, Any]) -> dict[str, Any]:
        return dict(require_standard_keys(labels, "labels"))

    @field_validator("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")
    @classmethod
    def _one_cidr(cls, value: str | None) -> str | None:
        if value is not None:
            _cidr(value)
        return value

    @field_validator("master_authorized_cidrs")
    @classmethod
    def _authorized(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.IPv4Network(value, strict=True)
            except ValueError:
                raise ValueError(f"IPv4 CIDR blocks with no host bits set, e.g. 203.0.113.0/24; got {value!r}") from None
        return values

    @model_validator(mode="after")
    def _across_fields(self) -> "GkeClusterArgs":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        master = _cidr(self.master_cidr)
        if master.prefixlen != 28 or not master.is_private:
            problems.append((("master_cidr",), self.master_cidr, "a /28 in private (RFC 1918) address space, e.g. 172.16.0.0/28 (GKE private clusters require a /28)"))
        ranges = {name: getattr(self, name) for name in ("subnet_cidr", "pods_cidr", "services_cidr", "master_cidr")}
        known = {name: _cidr(value) for name, value in ranges.items() if value is not None}
        names = list(known)
        for index, first in enumerate(names):
            for second in names[index + 1:]:
                if known[first].overlaps(known[second]):
                    problems.append(((second,), ranges[second], f"a range that does not overlap {first} ({ranges[first]})"))
        for kind in ("pods", "services"):
            if getattr(self, f"{kind}_cidr") is not None and getattr(self, f"{kind}_range_name") is not None:
                problems.append(((f"{kind}_range_name",), "<given>", f"either {kind}_cidr or {kind}_range_name, not both"))
        if not self.private_endpoint:
            if not self.master_authorized_cidrs:
                problems.append((("master_authorized_cidrs",), [], "at least one CIDR when private_endpoint is false: a public control plane is reachable only from listed networks"))
            elif covers_everything(self.master_authorized_cidrs):
                problems.append((("master_authorized_cidrs",), self.master_authorized_cidrs, "CIDRs that together are not the whole internet (0.0.0.0/0); list the networks that administer the cluster"))
        if self.release_channel == "RAPID" and not self.allow_rapid_channel:
            problems.append((("release_channel",), "RAPID", "REGULAR, STABLE or EXTENDED; RAPID needs allow_rapid_channel=True (its versions are outside the GKE SLA)"))
        seen: set[str] = set()
        for index, pool in enumerate(self.gpu_pools):
            if pool.name in seen or pool.name == "system":
                problems.append((("gpu_pools", index, "name"), pool.name, "a name no other node pool has (the system pool is 'system')"))
            seen.add(pool.name)
        if problems:
            raise located_validation_error("GkeClusterArgs", problems)
        return self


class GkeClusterArgsDict(TypedDict, total=False):
    """The fields of :class:`GkeClusterArgs` as keyword arguments."""

    location: pulumi.Input[str]
    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    project: pulumi.Input[str] | None
    subnet_cidr: str | None
    pods_cidr: str | None
    services_cidr: str | None
    pods_range_name: pulumi.Input[str] | None
    services_range_name: pulumi.Input[str] | None
    master_cidr: str
    private_endpoint: bool
    master_authorized_cidrs: list[str]
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"]
    allow_rapid_channel: bool
    kubernetes_version: str | None
    secrets_kms_key: pulumi.Input[str] | None
    system_pool: SystemNodePool | dict[str, Any]
    gpu_pools: list[GpuNodePool | dict[str, Any]]
    labels: dict[str, pulumi.Input[str]]
    deletion_protection: bool


def _account_id(name: str) -> str:
    """A service account id (6-30 characters) for the nodes, from the cluster name."""
    base = re.sub(r"[^a-z0-9-]", "-", name.lower())[:23].strip("-")
    return letter_first(f"{base}-nodes" if len(base) >= 1 else "gke-nodes")


def kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig (JSON, which is YAML) for one cluster, authenticating through
    ``gke-gcloud-auth-plugin`` (GKE docs, "Install kubectl and configure cluster access": the
    plugin is required since GKE 1.26), so it holds no credential itself.

    Args:
        cluster_name: the context, cluster and user name.
        endpoint: the control plane's IP address or host (``https://`` is added).
        ca_certificate: the cluster CA certificate, base64 (``masterAuth.clusterCaCertificate``).
    """
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_certificate}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "gke-gcloud-auth-plugin",
            "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
            "provideClusterInfo": True,
            "interactiveMode": "IfAvailable",
        }}}],
    }, indent=2)


class GkeCluster(Component[GkeClusterArgs], type_token="mlplat:gcp:GkeCluster"):
    """A private GKE Standard cluster with Workload Identity, Dataplane V2, shielded nodes, a
    system node pool and GPU node pools; see the module docstring for what it registers.

    Construct it as ``GkeCluster(name, args, opts)`` or ``GkeCluster(name, location=...,
    network=..., subnetwork=..., labels=..., opts=opts)``. The caller's options reach every child.

    Args:
        name: the logical name; children are ``<name>-nodes``, ``<name>-cluster``,
            ``<name>-system``, ``<name>-<gpu pool>``.
        args: a :class:`GkeClusterArgs` or a mapping of its fields.
        opts: resource options for the component.
        kwargs: the fields of :class:`GkeClusterArgs`, instead of ``args``.

    Attributes:
        cluster: the ``gcp.container.Cluster``.
        node_service_account: the nodes' ``gcp.serviceaccount.Account``.
        node_pools: the ``gcp.container.NodePool`` by pool name (``system`` first).
        cluster_name: ``Output[str]``, the cluster's name in GKE.
        kubeconfig: ``Output[str]``, secret: a kubeconfig using ``gke-gcloud-auth-plugin``.
        kubernetes_version: ``Output[str]``, the control plane's version.
        workload_identity_pool: ``Output[str]``, ``<project>.svc.id.goog``.
        gpu_node_pools: ``Output[list[dict]]``: per GPU pool ``{name, labels, taints: [{key,
            value, effect}]}``, Kubernetes spelling, for tolerations and node selectors (labels
            include ``cloud.google.com/gke-accelerator``, which GKE sets on GPU nodes).
        network: ``Output[str]``, the VPC network as given.

    Raises:
        ComponentArgsError: see the module docstring (nothing was registered); or, when an Output
            argument arrives with a bad value, naming that argument.
    """

    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    kubernetes_version: pulumi.Output[str]
    workload_identity_pool: pulumi.Output[str]
    gpu_node_pools: pulumi.Output[list]
    network: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[GkeClusterArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: GkeClusterArgs) -> dict[str, Any]:
        labels = with_managed_by(args.labels)
        self.node_service_account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=_account_id(name),
            display_name=f"GKE nodes of {name}",
            description="Dedicated identity of an mlplat GKE cluster's nodes: logs, metrics, image pulls; pods use Workload Identity.",
            project=args.project,
            opts=self.child_options(),
        )
        project = pulumi.Output.from_input(args.project) if args.project is not None else self.node_service_account.project
        self.node_role_bindings = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.removeprefix('roles/').replace('.', '-').lower()}",
                project=project,
                role=role,
                member=self.node_service_account.member,
                opts=self.child_options(),
            )
            for role in NODE_ROLES
        ]
        workload_pool = project.apply(lambda p: f"{p}.svc.id.goog")
        self.cluster = self._cluster(name, args, labels, workload_pool)
        self.node_pools: dict[str, gcp.container.NodePool] = {"system": self._system_pool(name, args, labels)}
        for pool in args.gpu_pools:
            self.node_pools[pool.name] = self._gpu_pool(name, args, pool, labels)
        ca = self.cluster.master_auth.apply(lambda auth: (auth.cluster_ca_certificate if auth else None) or "")
        config = pulumi.Output.all(self.cluster.name, self.cluster.endpoint, ca).apply(lambda values: kubeconfig(values[0], values[1] or "", values[2]))
        return {
            "cluster_name": self.cluster.name,
            "kubeconfig": pulumi.Output.secret(config),
            "kubernetes_version": self.cluster.master_version,
            "workload_identity_pool": self.cluster.workload_identity_config.apply(lambda c: c.workload_pool if c else None),
            "gpu_node_pools": pulumi.Output.from_input([self._pool_output(pool) for pool in args.gpu_pools]),
            "network": pulumi.Output.from_input(args.network),
        }

    @staticmethod
    def _pool_output(pool: GpuNodePool) -> dict[str, Any]:
        accelerator = pool.resolved_accelerator()
        labels = {**pool.labels, "mlplat.io/node-pool": pool.name, "cloud.google.com/gke-accelerator": accelerator.type}
        if pool.spot:
            labels["cloud.google.com/gke-spot"] = "true"
        return {"name": pool.name, "labels": labels, "taints": [dict(GPU_TAINT)] if pool.taint else []}

    def _node_config(self, args: GkeClusterArgs, labels: dict[str, Any], *, machine_type: str, disk_gib: int) -> dict[str, Any]:
        """What every node pool shares: identity, scopes, Shielded VM, GKE metadata server, COS."""
        return {
            "machine_type": machine_type,
            "disk_size_gb": disk_gib,
            "disk_type": "pd-balanced",
            "image_type": "COS_CONTAINERD",
            "service_account": self.node_service_account.email,
            "oauth_scopes": list(NODE_SCOPES),
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "metadata": {"disable-legacy-endpoints": "true"},
            "resource_labels": labels,
        }

    def _cluster(self, name: str, args: GkeClusterArgs, labels: dict[str, Any], workload_pool: pulumi.Output[str]) -> gcp.container.Cluster:
        ip_allocation: dict[str, Any] = {"stack_type": "IPV4"}
        if args.pods_cidr is not None:
            ip_allocation["cluster_ipv4_cidr_block"] = args.pods_cidr
        if args.services_cidr is not None:
            ip_allocation["services_ipv4_cidr_block"] = args.services_cidr
        if args.pods_range_name is not None:
            ip_allocation["cluster_secondary_range_name"] = args.pods_range_name
        if args.services_range_name is not None:
            ip_allocation["services_secondary_range_name"] = args.services_range_name
        return gcp.container.Cluster(
            f"{name}-cluster",
            location=args.location,
            project=args.project,
            network=args.network,
            subnetwork=args.subnetwork,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=ip_allocation,
            remove_default_node_pool=True,
            initial_node_count=1,
            # The default pool lives only until the first apply removes it; it is hardened too.
            node_config={
                "service_account": self.node_service_account.email,
                "oauth_scopes": list(NODE_SCOPES),
                "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
                "workload_metadata_config": {"mode": "GKE_METADATA"},
            },
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": args.private_endpoint,
                "master_ipv4_cidr_block": args.master_cidr,
            },
            master_authorized_networks_config={
                "cidr_blocks": [{"cidr_block": cidr, "display_name": f"authorized-{index}"} for index, cidr in enumerate(args.master_authorized_cidrs)],
                "gcp_public_cidrs_access_enabled": False,
            },
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            workload_identity_config={"workload_pool": workload_pool},
            datapath_provider="ADVANCED_DATAPATH",
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            release_channel={"channel": args.release_channel},
            min_master_version=args.kubernetes_version,
            database_encryption={"state": "ENCRYPTED", "key_name": args.secrets_kms_key} if args.secrets_kms_key is not None else None,
            addons_config={
                "http_load_balancing": {"disabled": False},
                "horizontal_pod_autoscaling": {"disabled": False},
                "gce_persistent_disk_csi_driver_config": {"enabled": True},
            },
            resource_labels=labels,
            deletion_protection=args.deletion_protection,
            opts=self.child_options(ignore_changes=["nodeConfig", "initialNodeCount"]),
        )

    def _system_pool(self, name: str, args: GkeClusterArgs, labels: dict[str, Any]) -> gcp.container.NodePool:
        pool = args.system_pool
        return gcp.container.NodePool(
            f"{name}-system",
            name="system",
            cluster=self.cluster.name,
            location=args.location,
            project=args.project,
            initial_node_count=pool.min_nodes,
            autoscaling={"min_node_count": pool.min_nodes, "max_node_count": pool.max_nodes},
            management={"auto_repair": True, "auto_upgrade": True},
            node_config={
                **self._node_config(args, labels, machine_type=pool.machine_type, disk_gib=pool.disk_gib),
                "labels": {"mlplat.io/node-pool": "system"},
            },
            opts=self.child_options(ignore_changes=["initialNodeCount"]),
        )

    def _gpu_pool(self, name: str, args: GkeClusterArgs, pool: GpuNodePool, labels: dict[str, Any]) -> gcp.container.NodePool:
        accelerator = pool.resolved_accelerator()
        return gcp.container.NodePool(
            f"{name}-{pool.name}",
            name=pool.name,
            cluster=self.cluster.name,
            location=args.location,
            project=args.project,
            node_locations=pool.zones or None,
            initial_node_count=pool.min_nodes,
            autoscaling={"min_node_count": pool.min_nodes, "max_node_count": pool.max_nodes},
            management={"auto_repair": True, "auto_upgrade": True},
            node_config={
                **self._node_config(args, labels, machine_type=pool.machine_type, disk_gib=pool.disk_gib),
                "labels": {**pool.labels, "mlplat.io/node-pool": pool.name},
                "guest_accelerators": [{
                    "type": accelerator.type,
                    "count": accelerator.count,
                    "gpu_driver_installation_config": {"gpu_driver_version": pool.driver_version},
                }],
                "taints": [{"key": GPU_TAINT["key"], "value": GPU_TAINT["value"], "effect": _GKE_EFFECT[GPU_TAINT["effect"]]}] if pool.taint else [],
                "spot": pool.spot,
            },
            opts=self.child_options(ignore_changes=["initialNodeCount"]),
        )
