""":class:`MlWorkspace` (``mlplat:k8s:MlWorkspace``): a JupyterHub for one ML team, in the team's
namespace, from the Zero to JupyterHub Helm chart.

One child: ``<name>-hub``, a ``kubernetes.helm.v3.Release`` of the ``jupyterhub`` chart pinned in
:data:`platform_lib.k8s.helm.CHARTS` (version :data:`JUPYTERHUB_CHART_VERSION`, repository
https://hub.jupyter.org/helm-chart/), its values built by :func:`workspace_values` and checked
against the chart's own ``values.schema.json`` (vendored under ``platform_lib/k8s/charts/``) before
anything is registered. What the values set (each key from the chart's values reference, "Zero to
JupyterHub with Kubernetes" docs, "Configuration Reference", chart 4.4.0):

- **Login through the team's identity group**: ``hub.config.JupyterHub.authenticator_class``
  ``generic-oauth`` and ``hub.config.GenericOAuthenticator`` (OAuthenticator docs, "Generic
  OAuthenticator"): the OIDC provider's authorize, token and userinfo URLs, ``client_id``,
  ``client_secret`` (a secret Input: the release's values become secret and the value is never
  printed), ``oauth_callback_url`` ``https://<hostname>/hub/oauth_callback``, the groups read from
  the userinfo claim ``groups_claim`` (``auth_state_groups_key``, ``manage_groups``) and
  ``allowed_groups`` = the team's identity group only; ``admin_groups`` when an admin group is given.
- **Server profiles** (``singleuser.profileList``, KubeSpawner's ``profile_list``): CPU profiles,
  and GPU profiles (``extra_resource_limits`` ``nvidia.com/gpu``, tolerating the GPU nodes' taint)
  only when the team's quota has GPUs. Each profile's requests and limits must fit the team's quota
  (:class:`~platform_lib.k8s.quota.ResourceQuotaSpec`): limits at most the quota's CPU and memory
  (the TeamNamespace LimitRange's per-container maximum), GPUs at most the quota's GPUs.
- **Idle-server culling**: ``cull.enabled``, ``cull.timeout`` (seconds without activity) and
  ``cull.every`` (how often to check).
- **Per-user storage**: ``singleuser.storage.type`` ``dynamic`` (a PVC per user),
  ``singleuser.storage.capacity`` ``<n>Gi``, at most :data:`MAX_USER_STORAGE_GIB` and the quota's storage.
- **Restricted Pod Security Standard for the notebook pods** (Kubernetes docs, "Pod Security
  Standards", restricted): ``singleuser.uid`` (non-root), ``singleuser.fsGid``,
  ``singleuser.allowPrivilegeEscalation`` false, and KubeSpawner's ``pod_security_context``
  (``runAsNonRoot``, ``fsGroup``, ``seccompProfile`` ``RuntimeDefault``) and
  ``container_security_context`` (``runAsNonRoot``, ``allowPrivilegeEscalation`` false,
  ``capabilities.drop`` ``[ALL]``, ``seccompProfile`` ``RuntimeDefault``) through ``hub.config``.
  ``singleuser.cloudMetadata.blockWithIptables`` is off: it adds a *privileged* init container,
  which the restricted standard refuses; the notebooks' NetworkPolicy blocks the metadata server
  instead (``egressAllowRules.cloudMetadataServer`` false).
- **Network policies on** for hub, proxy and notebooks (``*.networkPolicy.enabled``). Notebook
  egress: DNS, the hub, HTTPS to ``egress_https_cidrs`` (e.g. the VPC's S3/STS endpoints), and the
  internet only with ``allow_internet_egress``; never the cloud metadata server or other private IPs.
- **The team's workload identity**: ``singleuser.serviceAccountName`` = the team's workload
  ServiceAccount (annotated for IRSA or bound by GKE Workload Identity), so notebooks read the
  team's buckets without keys; with ``workload_identity="gke"`` the notebooks may reach the GKE
  metadata server's ports (:data:`GKE_METADATA_EGRESS`). KubeSpawner's
  ``automount_service_account_token`` is false: notebooks get no Kubernetes API token.
- **Nothing cluster-wide**: ``scheduling.userScheduler``, ``scheduling.userPlaceholder`` and the
  ``prePuller`` DaemonSets are off (they need cluster-scoped RBAC and capacity; one hub per team
  shares the cluster), the proxy's Service is ``ClusterIP`` (reached through an Ingress for
  ``hostname`` when ``ingress_class_name`` is given).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Mapping, overload

import pulumi
from pydantic import Field, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.kubernetes_names import check_dns_label
from ..core.quantities import memory_quantity
from ..core.tagging import with_managed_by
from .checks import LABEL_KEY, LABEL_VALUE, check_cidr_blocks, check_identity_group, check_namespace_name
from .helm import CHARTS, ChartSpec, pinned_release, validate_chart_values
from .labels import check_label_inputs
from .quota import ResourceQuotaSpec

__all__ = [
    "JUPYTERHUB_CHART",
    "JUPYTERHUB_CHART_VERSION",
    "MAX_USER_STORAGE_GIB",
    "MlWorkspace",
    "MlWorkspaceArgs",
    "MlWorkspaceArgsDict",
    "OidcLogin",
    "SecretKeyRef",
    "ServerProfile",
    "workspace_values",
]

#: The Zero to JupyterHub chart version the platform installs (chart 4.4.0, tag 4.4.0 of
#: github.com/jupyterhub/zero-to-jupyterhub-k8s: JupyterHub 5.5.0, jupyterhub-kubespawner 7.0.0 and
#: oauthenticator 17.4.0 in its hub image, per ``images/hub/requirements.txt``; the KubeSpawner
#: traits and OAuthenticator options the values set exist in those versions).
JUPYTERHUB_CHART_VERSION = CHARTS["jupyterhub"].version
#: The pinned chart, registered in the platform's one list of charts.
JUPYTERHUB_CHART: ChartSpec = CHARTS["jupyterhub"]

#: The largest per-user volume a workspace may give, in GiB (a platform limit: larger data
#: belongs in the team's buckets, not on a notebook's disk).
MAX_USER_STORAGE_GIB = 1024
#: The GPU nodes' taint that GPU profiles tolerate (the NVIDIA device plugin's convention, which
#: the platform's GPU node pools use: ``nvidia.com/gpu`` ``NoSchedule``).
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
#: Where GKE Workload Identity serves a pod its Google credentials: the GKE metadata server. Pods
#: connect to 169.254.169.254 port 80; on the iptables dataplane (GKE Dataplane V1) the node
#: rewrites that to the metadata daemon at 169.254.169.252 port 988 *before* NetworkPolicy is
#: evaluated, while Dataplane V2 evaluates the original address, so a policy restricting egress
#: must allow both (GKE docs, "Authenticate to Google Cloud APIs from GKE workloads", network
#: policy restrictions). With Workload Identity on, the node's own credentials are not served
#: there, so opening it exposes only the pod's own identity.
GKE_METADATA_EGRESS = (("169.254.169.254/32", 80), ("169.254.169.252/32", 988))
#: What the chart's hub uses for the notebooks' home directory owner (the Jupyter Docker Stacks'
#: ``jovyan`` user, uid 1000, group ``users``, gid 100).
DEFAULT_UID, DEFAULT_FS_GID = 1000, 100

_HTTPS_URL = r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s]*)?"
_HOSTNAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def _identity_group(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise ValueError("a group name of 1 to 128 characters")
    return check_identity_group(value)


def _namespace_name(value: Any) -> str:
    return check_namespace_name(check_dns_label(value))


def _secret_text(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        raise ValueError("a non-empty string (the OAuth client secret)")
    return value


def jupyterhub_bytes(gib: float) -> str:
    """A memory size for KubeSpawner (JupyterHub's ``ByteSpecification``, where ``G`` and ``M``
    are powers of 1024): whole GiB as ``<n>G``, else ``<n>M``."""
    return f"{int(gib)}G" if float(gib).is_integer() else f"{round(gib * 1024)}M"


class ServerProfile(ComponentArgs):
    """One server size users choose from when they start a notebook (KubeSpawner profile).

    Attributes:
        slug: the profile's id, a DNS label (``cpu-small``, ``gpu-1``).
        display_name: what users see; default the slug.
        cpu: CPU request in vCPU.
        cpu_limit: CPU limit in vCPU; default twice the request.
        memory_gib: memory request in GiB.
        memory_limit_gib: memory limit in GiB; default the request (a notebook over its memory is
            killed rather than starving its neighbours).
        gpu: NVIDIA GPUs (``nvidia.com/gpu`` limit); 0 for a CPU profile. Needs GPUs in the team's quota.
        node_selector: node labels the server's pod must run on (e.g. a GPU pool's label).
        default: the profile selected by default (at most one; default the first).
    """

    slug: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    cpu: float = Field(gt=0, le=512)
    cpu_limit: float | None = Field(default=None, gt=0, le=512)
    memory_gib: float = Field(gt=0, le=4096)
    memory_limit_gib: float | None = Field(default=None, gt=0, le=4096)
    gpu: int = Field(default=0, ge=0, le=16)
    node_selector: dict[str, str] = Field(default_factory=dict)
    default: bool = False

    @field_validator("node_selector")
    @classmethod
    def _node_selector(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [f"{key}={item}" for key, item in value.items() if not LABEL_KEY.fullmatch(key) or not LABEL_VALUE.fullmatch(item)]
        if bad:
            raise ValueError(f"node labels (Kubernetes label keys and values; bad: {', '.join(bad)})")
        return value

    @model_validator(mode="after")
    def _requests_within_limits(self) -> "ServerProfile":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if self.cpu_limit is not None and self.cpu_limit < self.cpu:
            problems.append((("cpu_limit",), self.cpu_limit, f"at least the CPU request ({self.cpu:g} vCPU)"))
        if self.memory_limit_gib is not None and self.memory_limit_gib < self.memory_gib:
            problems.append((("memory_limit_gib",), self.memory_limit_gib, f"at least the memory request ({self.memory_gib:g} GiB)"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self

    @property
    def effective_cpu_limit(self) -> float:
        """The CPU limit in vCPU: ``cpu_limit``, else twice the request."""
        return self.cpu_limit if self.cpu_limit is not None else self.cpu * 2

    @property
    def effective_memory_limit_gib(self) -> float:
        """The memory limit in GiB: ``memory_limit_gib``, else the request."""
        return self.memory_limit_gib if self.memory_limit_gib is not None else self.memory_gib


class SecretKeyRef(ComponentArgs):
    """A key of a Kubernetes Secret in the workspace's namespace (e.g. synced there by External
    Secrets from the cloud's secret manager): the secret then never enters Pulumi's state.

    Attributes:
        name: the Secret's name (a DNS subdomain).
        key: the key in the Secret.
    """

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]{1,253}$")


class OidcLogin(ComponentArgs):
    """How users log in: an OAuth 2.0 / OpenID Connect client at the organisation's identity provider.

    Attributes:
        client_id: the OAuth client id.
        client_secret: the OAuth client secret, a string or (better) a secret Output such as
            ``config.require_secret("oidcClientSecret")``; made secret either way, never printed.
        client_secret_ref: instead of ``client_secret``, the Kubernetes Secret key holding it: the
            hub reads it from the environment variable ``OAUTH_CLIENT_SECRET`` (OAuthenticator's
            default for ``client_secret``), set from the Secret (``hub.extraEnv`` ``valueFrom``).
            Exactly one of the two.
        authorize_url / token_url / userdata_url: the provider's authorization, token and userinfo
            endpoints (``https://``; from its ``/.well-known/openid-configuration``).
        scopes: the scopes asked for (default ``openid profile email groups``).
        username_claim: the userinfo claim that becomes the JupyterHub user name (default
            ``preferred_username``).
        groups_claim: the userinfo claim holding the user's groups (default ``groups``).
        admin_group: a group whose members are hub admins; ``None`` (default) for no admins.
    """

    client_id: str = Field(min_length=1, max_length=256)
    client_secret: Annotated[Input[str], InputCheck(_secret_text)] | None = None
    client_secret_ref: SecretKeyRef | None = None
    authorize_url: str = Field(pattern=f"^{_HTTPS_URL}$")
    token_url: str = Field(pattern=f"^{_HTTPS_URL}$")
    userdata_url: str = Field(pattern=f"^{_HTTPS_URL}$")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email", "groups"], min_length=1)
    username_claim: str = Field(default="preferred_username", min_length=1, max_length=128)
    groups_claim: str = Field(default="groups", pattern=r"^[A-Za-z0-9_:.-]{1,128}$")
    admin_group: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _one_secret(self) -> "OidcLogin":
        if (self.client_secret is None) == (self.client_secret_ref is None):
            given = "both" if self.client_secret is not None else "neither"
            raise located_validation_error(type(self).__name__, [(("client_secret",), given, "exactly one of client_secret and client_secret_ref")])
        return self

    def __repr__(self) -> str:  # the secret never reaches a log line through repr
        return f"OidcLogin(client_id={self.client_id!r}, client_secret='[secret]', authorize_url={self.authorize_url!r})"

    __str__ = __repr__


def _default_profiles() -> list[ServerProfile]:
    return [ServerProfile(slug="cpu-small", display_name="Small (1 vCPU, 4 GiB)", cpu=1, memory_gib=4)]


class MlWorkspaceArgs(ComponentArgs):
    """Arguments of :class:`MlWorkspace`.

    The documented minimum: ``namespace``, ``labels``, ``identity_group``, ``quota``, ``oidc`` and
    ``hostname``.

    Attributes:
        namespace: the team's namespace (a DNS label or an Output of one, e.g.
            ``TeamNamespace.namespace_name``), not a ``kube-*`` name.
        labels: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` added; put on the notebook pods (``singleuser.extraLabels``).
        identity_group: the team's group at the identity provider; only its members may log in.
        quota: the team's namespace quota (vCPU, GiB, GPUs, storage GiB): every profile must fit it.
        oidc: the OAuth/OIDC client (:class:`OidcLogin`).
        hostname: the hub's DNS name, e.g. ``fraud.notebooks.example.com`` (the OAuth callback is
            ``https://<hostname>/hub/oauth_callback``).
        profiles: the server sizes (:class:`ServerProfile`); default one CPU profile (1 vCPU, 4 GiB).
        service_account_name: the team's workload ServiceAccount the notebooks run as (a DNS label
            or an Output; default ``workload``, TeamNamespace's).
        cull_idle_servers: stop servers idle for ``idle_timeout_seconds`` (on by default).
        idle_timeout_seconds: seconds without activity before a server is stopped (300 to 604800,
            default 3600).
        user_storage_gib: each user's home volume in GiB (1 to :data:`MAX_USER_STORAGE_GIB`, at
            most the quota's storage; default 10).
        storage_class: the StorageClass of the home volumes; default the cluster's default class.
        image: the notebook image ``<name>:<tag>``; default the chart's pinned sample image.
        egress_https_cidrs: CIDRs notebooks may reach on TCP 443 (the VPC's S3/STS endpoints...).
        allow_internet_egress: let notebooks reach public IPs (package indexes, model hubs); off by default.
        workload_identity: how the workload ServiceAccount gets cloud credentials: ``aws-irsa``
            (default; a projected token exchanged at STS over HTTPS, so the instance metadata
            service stays blocked) or ``gke`` (GKE Workload Identity: notebooks may reach the GKE
            metadata server, :data:`GKE_METADATA_EGRESS`, and nothing else link-local).
        ingress_class_name: make an Ingress for ``hostname`` with this class (TLS from
            ``tls_secret_name``); ``None`` (default): no Ingress, the platform's gateway routes to
            the ``proxy-public`` ClusterIP Service.
        tls_secret_name: the TLS Secret of the Ingress (default ``<release>-tls``).
        uid / fs_gid: the notebook user's uid (non-root, at least 1000) and the volume group.
    """

    namespace: Annotated[Input[str], InputCheck(_namespace_name)]
    labels: dict[str, Input[str]]
    identity_group: Annotated[Input[str], InputCheck(_identity_group)]
    quota: ResourceQuotaSpec
    oidc: OidcLogin
    hostname: str = Field(max_length=253)
    profiles: list[ServerProfile] = Field(default_factory=_default_profiles, min_length=1, max_length=20)
    service_account_name: Annotated[Input[str], InputCheck(check_dns_label)] = "workload"
    cull_idle_servers: bool = True
    idle_timeout_seconds: int = Field(default=3600, ge=300, le=604_800)
    user_storage_gib: int = Field(default=10, ge=1, le=MAX_USER_STORAGE_GIB)
    storage_class: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    image: str | None = Field(default=None, pattern=r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+:[A-Za-z0-9._-]{1,128}$")
    egress_https_cidrs: list[str] = Field(default_factory=list)
    allow_internet_egress: bool = False
    workload_identity: Literal["aws-irsa", "gke"] = "aws-irsa"
    ingress_class_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    tls_secret_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    uid: int = Field(default=DEFAULT_UID, ge=1000, le=2_147_483_647)
    fs_gid: int = Field(default=DEFAULT_FS_GID, ge=1, le=2_147_483_647)

    _labels = field_validator("labels")(check_label_inputs)

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        if not _HOSTNAME.fullmatch(value):
            raise ValueError("a lowercase DNS name such as fraud.notebooks.example.com")
        return value

    @field_validator("egress_https_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        return check_cidr_blocks(cidrs)

    @model_validator(mode="after")
    def _within_quota(self) -> "MlWorkspaceArgs":
        """Every profile and the per-user volume fit the team's quota; each problem at its field."""
        quota = self.quota
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        slugs = [profile.slug for profile in self.profiles]
        for index, profile in enumerate(self.profiles):
            where = ("profiles", index)
            if slugs.count(profile.slug) > 1:
                problems.append(((*where, "slug"), profile.slug, "a slug no other profile has"))
            if profile.gpu and quota.gpu == 0:
                problems.append(((*where, "gpu"), profile.gpu, "0: the team's quota has no GPUs (quota.gpu is 0), so a GPU profile could never start"))
            elif profile.gpu > quota.gpu:
                problems.append(((*where, "gpu"), profile.gpu, f"at most the team quota's gpu ({quota.gpu} GPUs)"))
            if profile.effective_cpu_limit > quota.cpu:
                field = "cpu_limit" if profile.cpu_limit is not None else "cpu"
                value = profile.cpu_limit if profile.cpu_limit is not None else profile.cpu
                problems.append(((*where, field), value, f"a CPU limit ({profile.effective_cpu_limit:g} vCPU) at most the team quota's cpu ({quota.cpu:g} vCPU)"))
            if profile.effective_memory_limit_gib > quota.memory_gib:
                field = "memory_limit_gib" if profile.memory_limit_gib is not None else "memory_gib"
                value = profile.memory_limit_gib if profile.memory_limit_gib is not None else profile.memory_gib
                problems.append(((*where, field), value, f"a memory limit ({profile.effective_memory_limit_gib:g} GiB) at most the team quota's memory_gib ({quota.memory_gib:g} GiB)"))
        if sum(profile.default for profile in self.profiles) > 1:
            problems.append((("profiles",), [p.slug for p in self.profiles if p.default], "at most one profile with default true"))
        if self.user_storage_gib > quota.storage_gib:
            problems.append((("user_storage_gib",), self.user_storage_gib, f"at most the team quota's storage_gib ({quota.storage_gib:g} GiB)"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self

    @property
    def default_profile(self) -> ServerProfile:
        """The profile marked default, else the first."""
        return next((profile for profile in self.profiles if profile.default), self.profiles[0])


class MlWorkspaceArgsDict(TypedDict, total=False):
    """:class:`MlWorkspaceArgs` as keyword arguments."""

    namespace: pulumi.Input[str]
    labels: Mapping[str, pulumi.Input[str]]
    identity_group: pulumi.Input[str]
    quota: ResourceQuotaSpec | Mapping[str, Any]
    oidc: OidcLogin | Mapping[str, Any]
    hostname: str
    profiles: list[ServerProfile | Mapping[str, Any]]
    service_account_name: pulumi.Input[str]
    cull_idle_servers: bool
    idle_timeout_seconds: int
    user_storage_gib: int
    storage_class: str | None
    image: str | None
    egress_https_cidrs: list[str]
    allow_internet_egress: bool
    workload_identity: Literal["aws-irsa", "gke"]
    ingress_class_name: str | None
    tls_secret_name: str | None
    uid: int
    fs_gid: int


def _profile_entry(profile: ServerProfile, default: bool) -> dict[str, Any]:
    """One ``singleuser.profileList`` entry (KubeSpawner ``profile_list``)."""
    override: dict[str, Any] = {
        "cpu_guarantee": profile.cpu,
        "cpu_limit": profile.effective_cpu_limit,
        "mem_guarantee": jupyterhub_bytes(profile.memory_gib),
        "mem_limit": jupyterhub_bytes(profile.effective_memory_limit_gib),
    }
    if profile.gpu:
        # An extended resource is requested by its limit (Kubernetes docs, "Schedule GPUs").
        override["extra_resource_limits"] = {"nvidia.com/gpu": str(profile.gpu)}
        override["tolerations"] = [dict(GPU_TOLERATION)]
    if profile.node_selector:
        override["node_selector"] = dict(profile.node_selector)
    gpus = f", {profile.gpu} GPU{'s' if profile.gpu > 1 else ''}" if profile.gpu else ""
    description = f"{profile.cpu:g} vCPU (up to {profile.effective_cpu_limit:g}), {profile.memory_gib:g} GiB memory{gpus}"
    return {
        "display_name": profile.display_name or profile.slug,
        "slug": profile.slug,
        "description": description,
        "default": default,
        "kubespawner_override": override,
    }


def workspace_values(args: MlWorkspaceArgs, release_name: str, *, client_secret: Any = None) -> dict[str, Any]:
    """The ``jupyterhub`` chart values of a workspace (see the module docstring for each key).

    Args:
        args: the validated arguments.
        release_name: the Helm release name (names the default TLS Secret).
        client_secret: what to put for the OAuth client secret; default ``oidc.client_secret`` as
            a secret Output (a placeholder string when only the values' shape is checked).

    Returns:
        The values, with Outputs as leaves where arguments were Outputs; the OAuth client secret
        is always a secret Output.
    """
    oidc = args.oidc
    default = args.default_profile
    labels = with_managed_by(args.labels)
    if client_secret is None and oidc.client_secret is not None:
        client_secret = pulumi.Output.secret(oidc.client_secret)
    authenticator: dict[str, Any] = {
        "client_id": oidc.client_id,
        **({"client_secret": client_secret} if oidc.client_secret is not None else {}),
        "oauth_callback_url": f"https://{args.hostname}/hub/oauth_callback",
        "authorize_url": oidc.authorize_url,
        "token_url": oidc.token_url,
        "userdata_url": oidc.userdata_url,
        "scope": list(oidc.scopes),
        "username_claim": oidc.username_claim,
        "manage_groups": True,
        "auth_state_groups_key": f"oauth_user.{oidc.groups_claim}",
        "allowed_groups": [args.identity_group],
        "admin_groups": [oidc.admin_group] if oidc.admin_group else [],
    }
    pod_security_context = {"runAsNonRoot": True, "runAsUser": args.uid, "fsGroup": args.fs_gid, "seccompProfile": {"type": "RuntimeDefault"}}
    container_security_context = {
        "runAsNonRoot": True,
        "runAsUser": args.uid,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    https_egress = [{"to": [{"ipBlock": {"cidr": cidr}} for cidr in args.egress_https_cidrs], "ports": [{"protocol": "TCP", "port": 443}]}] if args.egress_https_cidrs else []
    if args.workload_identity == "gke":
        https_egress += [{"to": [{"ipBlock": {"cidr": cidr}}], "ports": [{"protocol": "TCP", "port": port}]} for cidr, port in GKE_METADATA_EGRESS]
    singleuser: dict[str, Any] = {
        "uid": args.uid,
        "fsGid": args.fs_gid,
        "allowPrivilegeEscalation": False,
        "serviceAccountName": args.service_account_name,
        "cloudMetadata": {"blockWithIptables": False, "ip": "169.254.169.254"},
        "networkPolicy": {
            "enabled": True,
            "egress": https_egress,
            "egressAllowRules": {
                "cloudMetadataServer": False,
                "dnsPortsCloudMetadataServer": False,
                "dnsPortsKubeSystemNamespace": True,
                "dnsPortsPrivateIPs": True,
                "privateIPs": False,
                "nonPrivateIPs": args.allow_internet_egress,
            },
        },
        "storage": {
            "type": "dynamic",
            "capacity": memory_quantity(args.user_storage_gib),
            "dynamic": {"storageClass": args.storage_class, "storageAccessModes": ["ReadWriteOnce"]},
        },
        "cpu": {"guarantee": default.cpu, "limit": default.effective_cpu_limit},
        "memory": {"guarantee": jupyterhub_bytes(default.memory_gib), "limit": jupyterhub_bytes(default.effective_memory_limit_gib)},
        "profileList": [_profile_entry(profile, profile is default) for profile in args.profiles],
        "extraLabels": {**labels, "hub.jupyter.org/network-access-hub": "true"},
    }
    if args.image is not None:
        name, _, tag = args.image.rpartition(":")
        singleuser["image"] = {"name": name, "tag": tag}
    values: dict[str, Any] = {
        "hub": {
            "config": {
                # authenticate_prometheus off: Prometheus scrapes /hub/metrics without a token (the
                # hub's NetworkPolicy admits only the monitoring namespace; JupyterHub docs, "Monitoring").
                "JupyterHub": {"authenticator_class": "generic-oauth", "admin_access": False, "authenticate_prometheus": False},
                "GenericOAuthenticator": authenticator,
                # No Kubernetes API token in notebooks (CIS Kubernetes 5.1.6): IRSA projects its own
                # token, GKE Workload Identity uses the metadata server.
                "KubeSpawner": {"pod_security_context": pod_security_context, "container_security_context": container_security_context,
                                "automount_service_account_token": False},
            },
            "networkPolicy": {"enabled": True, "egressAllowRules": {"cloudMetadataServer": False}},
            "labels": labels,
            **({"extraEnv": {"OAUTH_CLIENT_SECRET": {"valueFrom": {"secretKeyRef": {"name": oidc.client_secret_ref.name, "key": oidc.client_secret_ref.key}}}}}
               if oidc.client_secret_ref is not None else {}),
        },
        "proxy": {
            "service": {"type": "ClusterIP"},
            "chp": {"networkPolicy": {"enabled": True}},
        },
        "singleuser": singleuser,
        "cull": {
            "enabled": args.cull_idle_servers,
            "users": False,
            "timeout": args.idle_timeout_seconds,
            "every": min(600, max(60, args.idle_timeout_seconds // 6)),
        },
        "scheduling": {"userScheduler": {"enabled": False}, "userPlaceholder": {"enabled": False}},
        "prePuller": {"hook": {"enabled": False}, "continuous": {"enabled": False}},
        "ingress": {"enabled": False},
    }
    if args.ingress_class_name is not None:
        values["ingress"] = {
            "enabled": True,
            "ingressClassName": args.ingress_class_name,
            "hosts": [args.hostname],
            "tls": [{"hosts": [args.hostname], "secretName": args.tls_secret_name or f"{release_name}-tls"}],
        }
    return values


#: The Helm release name of every workspace: one hub per team namespace, so the chart's objects
#: have stable names (``hub``, ``proxy``, ``proxy-public``...).
RELEASE_NAME = "jupyterhub"


class MlWorkspace(Component[MlWorkspaceArgs], type_token="mlplat:k8s:MlWorkspace"):
    """A team's JupyterHub: OIDC login for the team's group, quota-bounded server profiles, idle
    culling, per-user volumes, restricted notebook pods with network policies and the team's
    workload identity (see the module docstring).

    Args:
        name: the logical name; the release is ``<name>-hub``.
        args: an :class:`MlWorkspaceArgs` or a mapping of its fields, or keyword arguments.
        opts: resource options (e.g. ``provider=`` the cluster's ``kubernetes.Provider``); they
            reach the release.

    Attributes (outputs):
        release_name: the Helm release's name.
        namespace: the namespace the hub runs in.
        url: ``https://<hostname>``.

    Raises:
        ComponentArgsError: an invalid argument, a profile above the team's quota, a GPU profile
            when the quota has no GPUs (at ``MlWorkspace(<name>).profiles[<i>].gpu``), or values
            the chart's ``values.schema.json`` refuses (at ``MlWorkspace(<name>).helm_values.<path>``);
            nothing is registered.
    """

    release_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    url: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: MlWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[MlWorkspaceArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def validate_args(cls, name: str, args: Any = None, **kwargs: Any) -> MlWorkspaceArgs:
        """As :meth:`Component.validate_args`, and the chart values must pass the chart's schema."""
        validated = super().validate_args(name, args, **kwargs)
        validate_chart_values(JUPYTERHUB_CHART, _schema_view(validated), field=f"{cls.label(name)}.helm_values")
        return validated

    def _create(self, name: str, args: MlWorkspaceArgs) -> dict[str, Any]:
        values = workspace_values(args, RELEASE_NAME)
        self.release = pinned_release(
            f"{name}-hub", JUPYTERHUB_CHART, namespace=args.namespace, values=values, release_name=RELEASE_NAME, opts=self.child_options()
        )
        return {
            "release_name": self.release.name,
            "namespace": pulumi.Output.from_input(args.namespace),
            "url": pulumi.Output.from_input(f"https://{args.hostname}"),
        }


def _schema_view(args: MlWorkspaceArgs) -> dict[str, Any]:
    """The values as the schema check sees them, with a placeholder for the client secret (the
    schema only needs it present; no secret Output is made before the component registers)."""
    return workspace_values(args, RELEASE_NAME, client_secret="[secret]")
