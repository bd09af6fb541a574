""":class:`EksCluster` (``mlplat:aws:EksCluster``): a private EKS cluster for the ML platform, with a
system node group, GPU node groups and the managed add-ons, from plain ``pulumi_aws`` resources.

Every child is a plain provider resource (no ``pulumi-eks`` package, no Lambda, no ``kubectl``),
so the offline preview and the policy pack see every one of them. What it registers (children of
the component, named ``<name>-...``, every taggable one with the standard tags):

- **Network**: the given private ``subnet_ids`` (2 or more zones), or a VPC of its own
  (:mod:`platform_lib.aws.network`: private subnets over ``availability_zones`` zones, NAT
  gateway(s), an S3 gateway endpoint, ``ecr.api``/``ecr.dkr``/``sts`` interface endpoints, and VPC
  flow logs to an encrypted log group).
- **Keys**: ``<name>-secrets-key``, a KMS key (rotation on, explicit key policy) for envelope
  encryption of Kubernetes Secrets and for the control-plane log group; ``<name>-ebs-key`` for the
  nodes' root volumes (its key policy lets the EC2 Auto Scaling service-linked role use it, which
  launches the managed node groups' instances; source: Amazon EC2 Auto Scaling User Guide,
  "Required AWS KMS key policy for use with encrypted volumes").
- **Control plane**: ``<name>-cluster-role`` (``AmazonEKSClusterPolicy``), the
  ``/aws/eks/<cluster>/cluster`` log group (retention, KMS) made *before* the cluster so EKS does
  not make an unencrypted one forever, and ``<name>-cluster``: private API endpoint always on,
  the public one only when ``public_access_cidrs`` lists CIDRs; Secrets encrypted with the key;
  all five control-plane log types; ``authenticationMode: API`` (access entries, no ``aws-auth``
  ConfigMap) with no implicit admin for whoever ran ``pulumi up``; a service CIDR that must not
  overlap the VPC; ``upgradePolicy.supportType`` ``STANDARD`` (EKS upgrades the control plane at
  the end of standard support instead of billing extended support) unless ``allow_extended_support``.
- **Access** (EKS access entries; source: Amazon EKS User Guide, "Grant IAM users and roles access
  to Kubernetes APIs"): ``platform_admin_role_arn`` gets ``AmazonEKSClusterAdminPolicy`` at cluster
  scope; each ``team_access`` role gets an access entry mapping it to Kubernetes groups and **no**
  access policy: what a team may do is what the RoleBindings of its namespaces grant those groups
  (:class:`~platform_lib.k8s.team_namespace.TeamNamespace` binds its ``identity_group``).
- **IRSA**: ``<name>-oidc``, the IAM OIDC provider of the cluster's issuer, audience
  ``sts.amazonaws.com``, **no thumbprint**: IAM trusts the EKS OIDC endpoints through its own
  library of root CAs and ignores thumbprints for them (source: IAM User Guide, "Create an OpenID
  Connect (OIDC) identity provider in IAM", note on thumbprints; pulumi-aws makes
  ``thumbprint_lists`` optional since v6). Why IRSA and not EKS Pod Identity: the platform's
  existing roles (TeamNamespace's workload role, the add-on controllers) are IRSA roles whose
  trust policies name the OIDC provider and the ServiceAccount, which the policy pack checks
  (``iam-oidc-trust-requires-subject``); IRSA also works for GKE-style multi-cluster trust and
  needs no agent DaemonSet. Pod Identity can be added later per role without changing the cluster.
- **Nodes**: ``<name>-node-role`` (``AmazonEKSWorkerNodePolicy``, ``AmazonEKS_CNI_Policy``,
  ``AmazonEC2ContainerRegistryReadOnly``); per node group a launch template (IMDSv2 required,
  hop limit 1 so pods cannot reach the node role's credentials: source: Amazon EKS Best
  Practices Guide, Security, "Restrict access to the instance profile assigned to the worker
  node"; an encrypted gp3 root volume with ``<name>-ebs-key``) and an ``aws.eks.NodeGroup`` in the
  private subnets. The ``system`` group runs on-demand ``AL2023_x86_64_STANDARD`` nodes; each GPU
  group runs ``AL2023_x86_64_NVIDIA`` (the EKS-optimized Amazon Linux 2023 AMI with NVIDIA drivers;
  source: Amazon EKS API Reference, ``Nodegroup.amiType``), carries the taint
  ``nvidia.com/gpu=true:NoSchedule`` and the labels ``nvidia.com/gpu.present=true`` and
  ``mlplat.io/node-pool=<group>``, on Spot or on-demand, and may scale to zero (``min_size=0``; the
  Cluster Autoscaler reads a managed node group's labels and taints from the EKS API to scale it
  up from zero, source: cluster-autoscaler AWS cloud provider FAQ, "Scaling a node group to 0").
  The desired size is left to the autoscaler after creation (``ignore_changes``); the groups'
  Kubernetes version follows the control plane's (raise ``kubernetes_version`` one minor at a time).
- **Add-ons** (``aws.eks.Addon``): ``vpc-cni`` with ``enableNetworkPolicy: "true"`` (so the team
  namespaces' NetworkPolicies are enforced; source: Amazon EKS User Guide, "Limit Pod traffic with
  Kubernetes network policies") and ``kube-proxy`` before the node groups (nodes need a CNI to
  become Ready, the cluster is made with ``bootstrap_self_managed_addons=False``), ``coredns`` and
  ``aws-ebs-csi-driver`` (its own IRSA role ``<name>-ebs-csi-role`` with the AWS managed
  ``AmazonEBSCSIDriverPolicy``, trusted by ``kube-system:ebs-csi-controller-sa`` only) after them.
  Versions: ``addon_versions`` pins each one (``v1.19.0-eksbuild.1``); unpinned, EKS installs its
  *default* version for the cluster's Kubernetes version at creation and the provider never moves
  it afterwards, which is reproducible per cluster but not across clusters, hence pin in prod
  (``aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name vpc-cni``).

Outputs (``pulumi.Output``): ``cluster_name``, ``cluster_arn``, ``cluster_endpoint``,
``kubeconfig`` (secret; ``exec`` with ``aws eks get-token``, no token stored), ``kubernetes_version``,
``oidc_provider_arn``, ``oidc_issuer`` (without ``https://``), ``gpu_node_pools`` (list of
``{name, labels, taints: [{key, value, effect}]}`` in Kubernetes form, for tolerations and node
selectors), ``vpc_id``, ``vpc_cidr``, ``private_subnet_ids``, ``cluster_security_group_id``,
``node_role_arn``, ``secrets_kms_key_arn``.

Bad input (one :class:`~platform_lib.core.errors.ComponentArgsError`, nothing registered): a GPU
node group with a non-GPU instance type; a Kubernetes version outside EKS standard support (see
:data:`EKS_KUBERNETES_VERSIONS`); overlapping CIDRs (VPC vs service CIDR, public access CIDRs
inside the VPC); ``public_access_cidrs`` covering the whole internet; a node group whose
``max_size`` is below its ``min_size`` or whose ``desired_size`` is outside them; a group that
scales to zero with no taint (anything would land on it, and it would never scale back to zero).
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import date
from typing import Annotated, Any, Literal, overload

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.networks import covers_everything
from ..core.policy_documents import irsa_trust_policy_document
from ..core.reserved_names import is_system_subject
from ..core.tagging import require_standard_keys, with_managed_by
from .gpu_training_box import EC2_GPU_INSTANCE_TYPES, gpu_families
from .network import flow_log_group_name, private_network
from .principals import ROLE_ARN, ROLE_ARN_EXPECTED

__all__ = [
    "CONTROL_PLANE_LOG_TYPES",
    "EKS_KUBERNETES_VERSIONS",
    "EksCluster",
    "EksClusterArgs",
    "EksClusterArgsDict",
    "GPU_TAINT",
    "NodeGroupSpec",
    "TeamAccess",
    "Taint",
]

#: Amazon EKS Kubernetes release calendar: minor version -> (Amazon EKS release, end of standard
#: support). Sources: Amazon EKS User Guide, "Understand the Kubernetes version lifecycle on EKS",
#: release calendar (https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html),
#: and for 1.35 https://endoflife.date/amazon-eks; checked 2026-12-06. No EKS release date of 1.36
#: was published in those sources when checked: add a row (with its source) to allow it.
EKS_KUBERNETES_VERSIONS: dict[str, tuple[date, date]] = {
    "1.32": (date(2025, 1, 23), date(2026, 3, 23)),
    "1.33": (date(2025, 5, 29), date(2026, 7, 29)),
    "1.34": (date(2025, 10, 2), date(2026, 12, 2)),
    "1.35": (date(2026, 1, 27), date(2027, 3, 27)),
}
#: The date :data:`EKS_KUBERNETES_VERSIONS` was checked; "in standard support" is judged on this
#: date, so a given program validates the same way every day (a new library release moves it).
EKS_VERSIONS_CHECKED = date(2026, 12, 6)
#: EKS extended support lasts 12 months after the end of standard support (same source).
EXTENDED_SUPPORT_MONTHS = 12


def standard_support_versions(on: date = EKS_VERSIONS_CHECKED) -> list[str]:
    """The minor versions in EKS standard support on ``on`` (released, standard support not ended)."""
    return [v for v, (released, ends) in EKS_KUBERNETES_VERSIONS.items() if released <= on <= ends]


def extended_support_versions(on: date = EKS_VERSIONS_CHECKED) -> list[str]:
    """The minor versions in EKS extended support on ``on``."""
    return [v for v, (_, ends) in EKS_KUBERNETES_VERSIONS.items() if ends < on <= date(ends.year + 1, ends.month, ends.day)]


#: The newest version in standard support: the default.
DEFAULT_KUBERNETES_VERSION = standard_support_versions()[-1]

#: Every control-plane log type (source: Amazon EKS User Guide, "Send control plane logs to
#: CloudWatch Logs"; AWS FSBP EKS.8; checkov CKV_AWS_37).
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
#: Retention values CloudWatch Logs accepts, days (source: CloudWatch Logs API, ``PutRetentionPolicy``).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)

#: The taint every GPU node group carries (Kubernetes form), the one the NVIDIA device plugin's
#: and the ModelEndpoint's tolerations match.
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
#: Kubernetes taint effects and their EKS API names (source: Amazon EKS API Reference, ``Taint``).
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}
#: The AMI types (source: Amazon EKS API Reference, ``Nodegroup.amiType``).
STANDARD_AMI_TYPE = "AL2023_x86_64_STANDARD"
GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"

ADMIN_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
CLUSTER_POLICY = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
NODE_POLICIES = {
    "worker": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "cni": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "ecr": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
}
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
#: The EKS managed add-ons installed, in order.
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
#: Kubernetes label keys and values, and taint keys (source: Kubernetes docs, "Labels and Selectors",
#: syntax and character set; a taint key follows the label key syntax, "Taints and Tolerations").
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def _tag_value(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError("a tag value: a string of at most 256 characters")
    return value


def _role_arn(value: Any) -> Any:
    if not isinstance(value, str) or not ROLE_ARN.fullmatch(value):
        raise ValueError(ROLE_ARN_EXPECTED)
    return value


RoleArn = Annotated[Input[str], InputCheck(_role_arn)]
SubnetId = Annotated[Input[str], InputCheck.matching(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})", "a subnet id: 'subnet-' and 8 or 17 hex digits")]
VpcId = Annotated[Input[str], InputCheck.matching(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})", "a VPC id: 'vpc-' and 8 or 17 hex digits")]


def _ipv4_network(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError(f"an IPv4 network address in CIDR form such as 10.40.0.0/16 (bad: {value!r})") from None


def check_gpu_instance_type(instance_type: str) -> str:
    """Return ``instance_type`` when it has NVIDIA GPUs (the families of
    :data:`platform_lib.aws.gpu_training_box.EC2_GPU_INSTANCE_TYPES`: g4dn, g5, g6, gr6, g6e, p3,
    p3dn, p4d, p4de, p5, p5e, p5en, p6-b200; source: Amazon EC2 Instance Types guide, "Accelerated
    computing"); else raise ``ValueError`` saying what would do."""
    if instance_type not in EC2_GPU_INSTANCE_TYPES:
        raise ValueError(f"EC2 instance types with NVIDIA GPUs, from the families {', '.join(gpu_families())} (e.g. g5.xlarge); {instance_type} has none")
    return instance_type


class Taint(BaseModel):
    """A Kubernetes node taint (Kubernetes form: ``effect`` ``NoSchedule``, ``NoExecute`` or ``PreferNoSchedule``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    key: str = Field(min_length=1, max_length=63)
    value: str = Field(default="", max_length=63)
    effect: Literal["NoSchedule", "NoExecute", "PreferNoSchedule"] = "NoSchedule"

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _LABEL_KEY.fullmatch(value):
            raise ValueError("a taint key in label key syntax: [prefix/]name, name of 1-63 alphanumerics, '-', '_', '.'")
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        if not _LABEL_VALUE.fullmatch(value):
            raise ValueError("a taint value in label value syntax: up to 63 alphanumerics, '-', '_', '.', alphanumeric at both ends")
        return value


class NodeGroupSpec(BaseModel):
    """One managed node group.

    Attributes:
        name: short name, 1-31 of ``a-z0-9-`` (the node group and its launch template are
            ``<cluster component>-<name>``).
        instance_types: EC2 instance types (the first one that has capacity is used); with
            ``gpu=True`` each must have NVIDIA GPUs.
        gpu: a GPU group: the NVIDIA AMI type, the ``nvidia.com/gpu`` taint and labels.
        capacity_type: ``ON_DEMAND`` or ``SPOT``.
        min_size, max_size, desired_size: node counts; ``desired_size`` defaults to ``min_size``.
        labels: extra Kubernetes node labels.
        taints: extra taints (a GPU group always has ``nvidia.com/gpu=true:NoSchedule``).
        root_volume_gib: root volume size in GiB (gp3, encrypted).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    name: str
    instance_types: list[str] = Field(min_length=1)
    gpu: bool = False
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(default=0, ge=0, le=1000)
    max_size: int = Field(default=1, ge=1, le=1000)
    desired_size: int | None = Field(default=None, ge=0, le=1000)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    root_volume_gib: int = Field(default=100, ge=20, le=16384)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _GROUP_NAME.fullmatch(value):
            raise ValueError("a node group name of 1-31 lower-case letters, digits and '-', starting with a letter or digit")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value):
                raise ValueError(f"Kubernetes labels: keys [prefix/]name, values up to 63 alphanumerics, '-', '_', '.' (bad: {key!r}: {value!r})")
        return labels

    @model_validator(mode="after")
    def _sizes_and_types(self) -> "NodeGroupSpec":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if self.gpu:
            for index, instance_type in enumerate(self.instance_types):
                try:
                    check_gpu_instance_type(instance_type)
                except ValueError as error:
                    problems.append((("instance_types", index), instance_type, f"{error} (gpu=True)"))
        if self.max_size < self.min_size:
            problems.append((("max_size",), self.max_size, f"a max_size of at least min_size ({self.min_size})"))
        elif self.desired_size is not None and not self.min_size <= self.desired_size <= self.max_size:
            problems.append((("desired_size",), self.desired_size, f"a desired_size between min_size ({self.min_size}) and max_size ({self.max_size})"))
        if self.min_size == 0 and not self.gpu and not any(t.effect in ("NoSchedule", "NoExecute") for t in self.taints):
            problems.append((("taints",), [t.model_dump() for t in self.taints],
                             "a NoSchedule or NoExecute taint on a group that scales to zero (min_size 0): untainted, any pod lands on it and keeps it from scaling back to zero"))
        if problems:
            raise located_validation_error("NodeGroupSpec", problems)
        return self

    @property
    def all_taints(self) -> list[dict[str, str]]:
        """Every taint, Kubernetes form: the GPU taint first for a GPU group, then ``taints``."""
        extra = [t.model_dump() for t in self.taints]
        return ([dict(GPU_TAINT)] if self.gpu and GPU_TAINT not in extra else []) + extra

    def all_labels(self) -> dict[str, str]:
        """Every label: ``mlplat.io/node-pool``, the GPU labels for a GPU group, then ``labels``."""
        base = {"mlplat.io/node-pool": self.name}
        if self.gpu:
            base.update({"nvidia.com/gpu.present": "true", "mlplat.io/accelerator": "nvidia"})
        return {**base, **self.labels}


class TeamAccess(BaseModel):
    """A team's access to the cluster: an IAM role mapped to Kubernetes groups, no access policy.

    Attributes:
        role_arn: the team's IAM role (an Input).
        kubernetes_groups: the groups the role's sessions belong to, e.g. the ``identity_group`` of
            the team's :class:`~platform_lib.k8s.team_namespace.TeamNamespace`; never a ``system:`` group.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True)
    role_arn: RoleArn
    kubernetes_groups: list[str] = Field(min_length=1)

    @field_validator("kubernetes_groups")
    @classmethod
    def _groups(cls, groups: list[str]) -> list[str]:
        for group in groups:
            if not group or is_system_subject(group) or len(group) > 128:
                raise ValueError(f"Kubernetes group names of 1-128 characters, none starting with 'system:' (EKS refuses them in access entries; bad: {group!r})")
        return groups


def _default_system_group() -> NodeGroupSpec:
    return NodeGroupSpec(name="system", instance_types=["m6i.large"], min_size=2, max_size=4)


class EksClusterArgs(ComponentArgs):
    """Arguments of :class:`EksCluster`.

    The documented minimum is ``platform_admin_role_arn`` and ``tags`` (``team``, ``cost-center``,
    ``environment``): the cluster then makes its own VPC (10.0.0.0/16, 3 zones), has a private
    endpoint only, a ``system`` node group and no GPU group; it passes every mandatory policy of
    the shipped pack at prod levels.

    Attributes:
        tags: the standard tags (values may be Outputs); ``managed-by: pulumi`` is added.
        platform_admin_role_arn: the IAM role of the platform team (an Input): cluster admin.
        cluster_name: the EKS cluster's name; default the component's name.
        kubernetes_version: ``<major>.<minor>``, in EKS standard support (:data:`EKS_KUBERNETES_VERSIONS`).
        allow_extended_support: also accept a version in EKS *extended* support (paid, per cluster
            hour), e.g. while an existing cluster is upgraded one minor version at a time; sets
            ``upgradePolicy.supportType`` to ``EXTENDED``.
        subnet_ids: private subnets (Inputs) in at least 2 zones; ``None`` makes a VPC.
        vpc_id: the subnets' VPC (an Input); required with ``subnet_ids``.
        vpc_cidr: the VPC's IPv4 range: the made VPC's (a /16 to /20), or the given subnets' VPC's
            (required with ``subnet_ids``, for the overlap checks and the ``vpc_cidr`` output).
        availability_zones: zones of the made VPC (2 or 3).
        single_nat_gateway: the made VPC gets one NAT gateway instead of one per zone (cheaper;
            a zone outage then cuts the others' egress).
        service_ipv4_cidr: the Kubernetes Service range (a /12 to /24 inside 10.0.0.0/8,
            172.16.0.0/12 or 192.168.0.0/16, not overlapping the VPC).
        public_access_cidrs: CIDRs allowed to reach the *public* API endpoint; empty (default)
            turns the public endpoint off. Ranges covering the whole internet (``0.0.0.0/0``, or
            ``0.0.0.0/1`` plus ``128.0.0.0/1``) are refused, with no opt-out: the control plane of
            every team's workloads is no place for one, and a VPN, a bastion or CI runner CIDRs
            serve every legitimate caller (CIS Amazon EKS Benchmark 5.4.2; AWS FSBP EKS.1).
        team_access: per-team role to Kubernetes groups mappings (no cluster-wide access policy).
        system_node_group: the on-demand node group for the platform's add-ons (must not be GPU).
        gpu_node_groups: GPU node groups (``gpu`` is set for you).
        log_retention_days: control-plane log retention (a CloudWatch Logs value: 1, 3, 5, 7, 14, 30, 60, 90, ...).
        kms_key_deletion_window_days: waiting period before the keys are deleted (7-30).
        addon_versions: pinned versions per add-on (``vpc-cni``, ``kube-proxy``, ``coredns``,
            ``aws-ebs-csi-driver``), e.g. ``{"vpc-cni": "v1.20.4-eksbuild.1"}``; others get EKS's default.
        deletion_protection: EKS cluster deletion protection (off by default; the platform's
            prod stack turns it on).
    """

    tags: Annotated[dict[str, Input[str]], InputCheck.for_values(_tag_value)]
    platform_admin_role_arn: RoleArn
    cluster_name: str | None = None
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    allow_extended_support: bool = False
    subnet_ids: list[SubnetId] | None = Field(default=None, min_length=2)
    vpc_id: VpcId | None = None
    vpc_cidr: str = "10.0.0.0/16"
    availability_zones: int = Field(default=3, ge=2, le=3)
    single_nat_gateway: bool = False
    service_ipv4_cidr: str = "172.20.0.0/16"
    public_access_cidrs: list[str] = Field(default_factory=list)
    team_access: list[TeamAccess] = Field(default_factory=list)
    system_node_group: NodeGroupSpec = Field(default_factory=_default_system_group)
    gpu_node_groups: list[NodeGroupSpec] = Field(default_factory=list)
    log_retention_days: int = 90
    kms_key_deletion_window_days: int = Field(default=30, ge=7, le=30)
    addon_versions: dict[Literal["vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"], str] = Field(default_factory=dict)
    deletion_protection: bool = False

    @field_validator("tags")
    @classmethod
    def _standard_tags(cls, tags: dict[str, Any]) -> dict[str, Any]:
        return dict(require_standard_keys(tags, "tags"))

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, value: str | None) -> str | None:
        if value is not None and not _CLUSTER_NAME.fullmatch(value):
            raise ValueError("an EKS cluster name: 1-100 letters, digits, '-' and '_', starting with a letter or digit")
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        network = _ipv4_network(value)
        if not 16 <= network.prefixlen <= 20:
            raise ValueError(f"a VPC range of prefix /16 to /20 (AWS allows /16 to /28; below /20 the private subnets are too small for pod IPs; got /{network.prefixlen})")
        return value

    @field_validator("service_ipv4_cidr")
    @classmethod
    def _service_cidr(cls, value: str) -> str:
        network = _ipv4_network(value)
        private = [ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
        if not 12 <= network.prefixlen <= 24 or not any(network.subnet_of(p) for p in private):
            raise ValueError("a /12 to /24 range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (Amazon EKS API, KubernetesNetworkConfigRequest.serviceIpv4Cidr)")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, cidrs: list[str]) -> list[str]:
        for cidr in cidrs:
            _ipv4_network(cidr)
        wide = covers_everything(cidrs)
        if wide:
            raise ValueError(f"CIDRs narrower than the whole internet for the public API endpoint (these cover {', '.join(wide)}); "
                             "leave the list empty for a private endpoint and reach it through a VPN, a bastion or CI runners' CIDRs")
        return cidrs

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"a CloudWatch Logs retention in days, one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value

    @field_validator("addon_versions")
    @classmethod
    def _addon_versions(cls, versions: dict[str, str]) -> dict[str, str]:
        for addon, version in versions.items():
            if not isinstance(version, str) or not _ADDON_VERSION.fullmatch(version):
                raise ValueError(f"add-on versions such as v1.20.4-eksbuild.1 (bad: {addon}: {version!r})")
        return versions

    @model_validator(mode="after")
    def _across_fields(self) -> "EksClusterArgs":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        version = self.kubernetes_version
        standard = standard_support_versions()
        extended = extended_support_versions() if self.allow_extended_support else []
        if version not in standard + extended:
            checked = EKS_VERSIONS_CHECKED.isoformat()
            known = EKS_KUBERNETES_VERSIONS.get(version)
            why = f"its standard support ended {known[1].isoformat()}" if known else "it is not in the EKS release calendar"
            more = f", or with allow_extended_support one of {', '.join(extended_support_versions())} (paid extended support)" if not self.allow_extended_support else ""
            problems.append((("kubernetes_version",), version,
                             f"a Kubernetes version in Amazon EKS standard support on {checked}: {', '.join(standard)}{more} ({why}; source: Amazon EKS release calendar)"))
        if (self.subnet_ids is None) != (self.vpc_id is None):
            problems.append((("vpc_id",), self.vpc_id, "vpc_id together with subnet_ids (the subnets' VPC), or neither (the cluster makes its VPC)"))
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        service = ipaddress.IPv4Network(self.service_ipv4_cidr)
        if vpc.overlaps(service):
            problems.append((("service_ipv4_cidr",), self.service_ipv4_cidr, f"a Service range that does not overlap the VPC's {self.vpc_cidr} (e.g. 172.20.0.0/16)"))
        for index, cidr in enumerate(self.public_access_cidrs):
            if ipaddress.IPv4Network(cidr).overlaps(vpc):
                problems.append((("public_access_cidrs", index), cidr, f"public addresses outside the VPC's {self.vpc_cidr} (callers inside the VPC use the private endpoint)"))
        if self.system_node_group.gpu:
            problems.append((("system_node_group", "gpu"), True, "false: GPU groups go in gpu_node_groups"))
        names = [self.system_node_group.name, *(g.name for g in self.gpu_node_groups)]
        for index, group in enumerate(self.gpu_node_groups):
            if names.count(group.name) > 1:
                problems.append((("gpu_node_groups", index, "name"), group.name, f"a node group name used once (taken: {', '.join(names)})"))
            if not group.gpu:
                problems.append((("gpu_node_groups", index, "gpu"), False, "true (or leave it out: gpu_node_groups are GPU groups)"))
        # An IAM principal can be in one access entry only (Amazon EKS User Guide, "Create access entries").
        seen = [self.platform_admin_role_arn] if isinstance(self.platform_admin_role_arn, str) else []
        for index, team in enumerate(self.team_access):
            if isinstance(team.role_arn, str):
                if team.role_arn in seen:
                    problems.append((("team_access", index, "role_arn"), team.role_arn, "a role not already given access (an IAM principal can be in one EKS access entry only)"))
                seen.append(team.role_arn)
        if problems:
            raise located_validation_error("EksClusterArgs", problems)
        return self

    @field_validator("gpu_node_groups", mode="before")
    @classmethod
    def _mark_gpu(cls, groups: Any) -> Any:
        if isinstance(groups, list):
            return [{"gpu": True, **g} if isinstance(g, dict) else g for g in groups]
        return groups


class EksClusterArgsDict(TypedDict, total=False):
    """The fields of :class:`EksClusterArgs` as keyword arguments."""

    tags: dict[str, pulumi.Input[str]]
    platform_admin_role_arn: pulumi.Input[str]
    cluster_name: str | None
    kubernetes_version: str
    allow_extended_support: bool
    subnet_ids: list[pulumi.Input[str]] | None
    vpc_id: pulumi.Input[str] | None
    vpc_cidr: str
    availability_zones: int
    single_nat_gateway: bool
    service_ipv4_cidr: str
    public_access_cidrs: list[str]
    team_access: list[TeamAccess | dict[str, Any]]
    system_node_group: NodeGroupSpec | dict[str, Any]
    gpu_node_groups: list[NodeGroupSpec | dict[str, Any]]
    log_retention_days: int
    kms_key_deletion_window_days: int
    addon_versions: dict[str, str]
    deletion_protection: bool


def _assume_role(service: str, *, tag_session: bool = False) -> str:
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else "sts:AssumeRole"
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}]})


def _account_root(role_arn: str) -> tuple[str, str]:
    """``(partition, account)`` of a role ARN."""
    _, partition, _, _, account, _ = role_arn.split(":", 5)
    return partition, account


def secrets_key_policy(cluster_role_arn: str, region: str, log_groups: list[str]) -> dict[str, Any]:
    """The explicit policy of the Secrets/logs key: the account root (IAM policies keep deciding for
    the account's identities; AWS KMS Developer Guide, "Default key policy"), the cluster role for
    envelope encryption (Amazon EKS User Guide, "Encrypt Kubernetes secrets with KMS on existing
    clusters": Encrypt, Decrypt, ListGrants, DescribeKey), and CloudWatch Logs for the named log
    groups only (``log_groups``: the control-plane and VPC flow log groups; CloudWatch Logs User
    Guide, "Encrypt log data in CloudWatch Logs using AWS KMS")."""
    partition, account = _account_root(cluster_role_arn)
    arns = [f"arn:{partition}:logs:{region}:{account}:log-group:{group}" for group in log_groups]
    log_group = arns[0] if len(arns) == 1 else arns
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "EnableIamUserPermissions", "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "ClusterSecretsEnvelopeEncryption", "Effect": "Allow", "Principal": {"AWS": cluster_role_arn},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], "Resource": "*"},
        {"Sid": "ControlPlaneLogGroup", "Effect": "Allow", "Principal": {"Service": f"logs.{region}.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], "Resource": "*",
         "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group}}},
    ]}


def ebs_key_policy(node_role_arn: str) -> dict[str, Any]:
    """The explicit policy of the nodes' volume key: the account root, and the EC2 Auto Scaling
    service-linked role, which launches the managed node groups' instances (Amazon EC2 Auto Scaling
    User Guide, "Required AWS KMS key policy for use with encrypted volumes")."""
    partition, account = _account_root(node_role_arn)
    autoscaling = f"arn:{partition}:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "EnableIamUserPermissions", "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "AutoScalingUseOfTheKey", "Effect": "Allow", "Principal": {"AWS": autoscaling},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"},
        {"Sid": "AutoScalingGrantsForVolumes", "Effect": "Allow", "Principal": {"AWS": autoscaling}, "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ]}


def kubeconfig_document(cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    """A kubeconfig (JSON, which kubectl reads as YAML) for the cluster: its endpoint and CA, and an
    ``exec`` user running ``aws eks get-token`` (client.authentication.k8s.io/v1beta1), so no token
    is stored (source: Amazon EKS User Guide, "Connect kubectl to an EKS cluster by creating a
    kubeconfig file")."""
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "users": [{"name": cluster_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }}}],
    }, indent=2)


class EksCluster(Component[EksClusterArgs], type_token="mlplat:aws:EksCluster"):
    """A private EKS cluster with system and GPU node groups; see the module docstring.

    Construct it as ``EksCluster(name, args, opts)`` or ``EksCluster(name, platform_admin_role_arn=...,
    tags=..., gpu_node_groups=[...], opts=opts)``. The caller's options reach every child.

    Attributes:
        cluster: the ``aws.eks.Cluster``.
        network: the made :class:`~platform_lib.aws.network.PrivateNetwork`, or ``None`` with ``subnet_ids``.
        node_groups: ``{group name: aws.eks.NodeGroup}``, the system group first.
        launch_templates: ``{group name: aws.ec2.LaunchTemplate}``.
        addons: ``{add-on name: aws.eks.Addon}``.
        oidc_provider: the ``aws.iam.OpenIdConnectProvider``.
        node_role, cluster_role, ebs_csi_role: the ``aws.iam.Role`` s.

    Raises:
        ComponentArgsError: any bad argument (see the module docstring), nothing registered.
    """

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    cluster_endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    kubernetes_version: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    gpu_node_pools: pulumi.Output[list]
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list]
    cluster_security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    secrets_kms_key_arn: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[EksClusterArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: EksClusterArgs) -> dict[str, Any]:
        tags = with_managed_by(args.tags)
        cluster_name = args.cluster_name or name
        region = aws.get_region_output(opts=self.invoke_options()).region

        self.cluster_role = aws.iam.Role(f"{name}-cluster-role", assume_role_policy=_assume_role("eks.amazonaws.com", tag_session=True),
                                         description=f"EKS control plane of {cluster_name}", tags=tags, opts=self.child_options())
        cluster_policy = aws.iam.RolePolicyAttachment(f"{name}-cluster-policy", role=self.cluster_role.name, policy_arn=CLUSTER_POLICY, opts=self.child_options())
        log_groups = [f"/aws/eks/{cluster_name}/cluster"] + ([flow_log_group_name(name)] if args.subnet_ids is None else [])
        self.secrets_key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"EKS {cluster_name}: envelope encryption of Kubernetes Secrets and the control-plane (and VPC flow) logs",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_key_deletion_window_days,
            policy=pulumi.Output.all(self.cluster_role.arn, region).apply(lambda v: json.dumps(secrets_key_policy(v[0], v[1], log_groups))),
            tags=tags,
            opts=self.child_options(),
        )
        if args.subnet_ids is None:
            self.network = private_network(self, name, vpc_cidr=args.vpc_cidr, zones=args.availability_zones, single_nat_gateway=args.single_nat_gateway,
                                           tags=tags, log_key_arn=self.secrets_key.arn, log_retention_days=args.log_retention_days)
            subnet_ids: list[Any] = [s.id for s in self.network.private_subnets]
            vpc_id: pulumi.Input[str] = self.network.vpc.id
        else:
            self.network = None
            subnet_ids, vpc_id = list(args.subnet_ids), args.vpc_id  # type: ignore[assignment]
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=self.secrets_key.arn,
            tags=tags,
            opts=self.child_options(),
        )
        public = bool(args.public_access_cidrs)
        vpc_config: dict[str, Any] = {"subnet_ids": subnet_ids, "endpoint_private_access": True, "endpoint_public_access": public}
        if public:
            vpc_config["public_access_cidrs"] = list(args.public_access_cidrs)
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            role_arn=self.cluster_role.arn,
            version=args.kubernetes_version,
            vpc_config=vpc_config,
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False},
            encryption_config={"provider": {"key_arn": self.secrets_key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            kubernetes_network_config={"service_ipv4_cidr": args.service_ipv4_cidr, "ip_family": "ipv4"},
            upgrade_policy={"support_type": "EXTENDED" if args.allow_extended_support else "STANDARD"},
            bootstrap_self_managed_addons=False,
            deletion_protection=args.deletion_protection,
            tags=tags,
            opts=self.child_options(depends_on=[cluster_policy, log_group]),
        )
        self._access(name, args, tags)
        issuer_url = self.cluster.identities.apply(lambda ids: ids[0]["oidcs"][0]["issuer"] if isinstance(ids[0], dict) else ids[0].oidcs[0].issuer)
        self.oidc_provider = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer_url, client_id_lists=["sts.amazonaws.com"], tags=tags, opts=self.child_options())
        issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))

        self.node_role = aws.iam.Role(f"{name}-node-role", assume_role_policy=_assume_role("ec2.amazonaws.com"),
                                      description=f"EKS {cluster_name} nodes", tags=tags, opts=self.child_options())
        node_policies = [aws.iam.RolePolicyAttachment(f"{name}-node-{label}", role=self.node_role.name, policy_arn=arn, opts=self.child_options())
                         for label, arn in NODE_POLICIES.items()]
        self.ebs_key = aws.kms.Key(
            f"{name}-ebs-key",
            description=f"EKS {cluster_name}: node root volumes",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_key_deletion_window_days,
            policy=self.node_role.arn.apply(lambda arn: json.dumps(ebs_key_policy(arn))),
            tags=tags,
            opts=self.child_options(),
        )

        self.addons: dict[str, aws.eks.Addon] = {}
        early = [self._addon(name, args, "vpc-cni", tags, configuration={"enableNetworkPolicy": "true"}),
                 self._addon(name, args, "kube-proxy", tags)]
        self.node_groups: dict[str, aws.eks.NodeGroup] = {}
        self.launch_templates: dict[str, aws.ec2.LaunchTemplate] = {}
        for group in [args.system_node_group, *args.gpu_node_groups]:
            self._node_group(name, group, subnet_ids, tags, depends_on=[*node_policies, *early])
        groups = list(self.node_groups.values())
        self._addon(name, args, "coredns", tags, depends_on=groups)
        self.ebs_csi_role = aws.iam.Role(
            f"{name}-ebs-csi-role",
            assume_role_policy=pulumi.Output.all(self.oidc_provider.arn, issuer).apply(
                lambda v: json.dumps(irsa_trust_policy_document(v[0], v[1], "kube-system", "ebs-csi-controller-sa"))),
            description=f"EKS {cluster_name}: EBS CSI controller (IRSA, kube-system:ebs-csi-controller-sa)",
            tags=tags,
            opts=self.child_options(),
        )
        ebs_policy = aws.iam.RolePolicyAttachment(f"{name}-ebs-csi-policy", role=self.ebs_csi_role.name, policy_arn=EBS_CSI_POLICY, opts=self.child_options())
        self._addon(name, args, "aws-ebs-csi-driver", tags, service_account_role_arn=self.ebs_csi_role.arn, depends_on=[*groups, ebs_policy])

        kubeconfig = pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority, region).apply(
            lambda v: kubeconfig_document(v[0], v[1], v[2]["data"] if isinstance(v[2], dict) else v[2].data, v[3]))
        gpu_pools = [{"name": g.name, "labels": g.all_labels(), "taints": g.all_taints} for g in args.gpu_node_groups]
        return {
            "cluster_name": self.cluster.name,
            "cluster_arn": self.cluster.arn,
            "cluster_endpoint": self.cluster.endpoint,
            "kubeconfig": pulumi.Output.secret(kubeconfig),
            "kubernetes_version": self.cluster.version,
            "oidc_provider_arn": self.oidc_provider.arn,
            "oidc_issuer": issuer,
            "gpu_node_pools": pulumi.Output.from_input(gpu_pools),
            "vpc_id": pulumi.Output.from_input(vpc_id),
            "vpc_cidr": pulumi.Output.from_input(args.vpc_cidr),
            "private_subnet_ids": pulumi.Output.all(*subnet_ids),
            "cluster_security_group_id": self.cluster.vpc_config.apply(
                lambda c: c["cluster_security_group_id"] if isinstance(c, dict) else c.cluster_security_group_id),
            "node_role_arn": self.node_role.arn,
            "secrets_kms_key_arn": self.secrets_key.arn,
        }

    def _access(self, name: str, args: EksClusterArgs, tags: dict[str, Any]) -> None:
        """Access entries: the platform admin (cluster admin policy, cluster scope), then one per team (groups only)."""
        admin = aws.eks.AccessEntry(f"{name}-platform-admin", cluster_name=self.cluster.name, principal_arn=args.platform_admin_role_arn,
                                    type="STANDARD", tags=tags, opts=self.child_options())
        aws.eks.AccessPolicyAssociation(f"{name}-platform-admin", cluster_name=self.cluster.name, principal_arn=admin.principal_arn,
                                        policy_arn=ADMIN_ACCESS_POLICY, access_scope={"type": "cluster"}, opts=self.child_options())
        for index, team in enumerate(args.team_access):
            aws.eks.AccessEntry(f"{name}-team-{index}", cluster_name=self.cluster.name, principal_arn=team.role_arn, type="STANDARD",
                                kubernetes_groups=list(team.kubernetes_groups), tags=tags, opts=self.child_options())

    def _node_group(self, name: str, group: NodeGroupSpec, subnet_ids: list[Any], tags: dict[str, Any], *, depends_on: list[Any]) -> None:
        """A launch template (IMDSv2, hop limit 1, encrypted gp3 root) and the managed node group using it."""
        resource = f"{name}-{group.name}"
        node_tags = {**tags, "Name": resource, "mlplat.io/node-pool": group.name}
        template = aws.ec2.LaunchTemplate(
            resource,
            description=f"EKS node group {resource}: IMDSv2 with hop limit 1, encrypted gp3 root volume",
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1, "instance_metadata_tags": "disabled"},
            block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {
                "volume_size": group.root_volume_gib, "volume_type": "gp3", "encrypted": "true", "kms_key_id": self.ebs_key.arn, "delete_on_termination": "true"}}],
            tag_specifications=[{"resource_type": kind, "tags": node_tags} for kind in ("instance", "volume")],
            update_default_version=True,
            tags=node_tags,
            opts=self.child_options(),
        )
        self.launch_templates[group.name] = template
        self.node_groups[group.name] = aws.eks.NodeGroup(
            resource,
            cluster_name=self.cluster.name,
            node_role_arn=self.node_role.arn,
            subnet_ids=subnet_ids,
            ami_type=GPU_AMI_TYPE if group.gpu else STANDARD_AMI_TYPE,
            # The control plane's version (an Output of the cluster): raising kubernetes_version upgrades
            # the control plane first, then the node groups (EKS: nodes may not be newer than it).
            version=self.cluster.version,
            capacity_type=group.capacity_type,
            instance_types=list(group.instance_types),
            scaling_config={"min_size": group.min_size, "max_size": group.max_size,
                            "desired_size": group.desired_size if group.desired_size is not None else group.min_size},
            labels=group.all_labels(),
            taints=[{"key": t["key"], "value": t["value"] or None, "effect": TAINT_EFFECTS[t["effect"]]} for t in group.all_taints],
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            update_config={"max_unavailable_percentage": 33},
            tags=node_tags,
            opts=self.child_options(depends_on=depends_on, ignore_changes=["scalingConfig.desiredSize"]),
        )

    def _addon(self, name: str, args: EksClusterArgs, addon: str, tags: dict[str, Any], *, configuration: dict[str, Any] | None = None,
               service_account_role_arn: Any = None, depends_on: list[Any] | None = None) -> aws.eks.Addon:
        resource = aws.eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            addon_version=args.addon_versions.get(addon),  # type: ignore[call-overload]
            configuration_values=json.dumps(configuration) if configuration else None,
            service_account_role_arn=service_account_role_arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            tags=tags,
            opts=self.child_options(depends_on=depends_on or []),
        )
        self.addons[addon] = resource
        return resource
