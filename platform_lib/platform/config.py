"""The platform's stack configuration: pydantic models read from ``stacks/Pulumi.<stack>.yaml``.

Every key lives in the ``mlplat`` namespace (``mlplat:environment``, ``mlplat:teams``, ...). Keys
are camelCase, as Pulumi config keys conventionally are. :func:`load_platform_config` reads them
through ``pulumi.Config`` and validates all of them at once, before the program registers any
resource; every problem is reported with its key path, the value given and what was expected.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any, Collection, Literal

import pulumi
import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..aws.gpu_training_box import AwsGpuTrainingBoxArgs
from ..core.errors import ConfigError, Issue, issues_from_validation_error
from ..core.secrets import SECRET_PLACEHOLDER
from ..gcp.gpu_training_box import GcpGpuTrainingBoxArgs
from ..k8s.drift_monitor import DriftSettings
from ..k8s.model_endpoint_spec import ENDPOINT_NAME, ModelEndpointSpec
from ..core.kubernetes_names import DNS_LABEL
from ..k8s.checks import check_cidr_blocks, check_identity_group, check_namespace_name
from ..k8s.quota import LIMITS_PER_REQUEST, ResourceQuotaSpec
from .cluster_reference import STACK_NAME
from .gpu_boxes import AWS_CONFIG_KEYS, GCP_CONFIG_KEYS, aws_box_values, gcp_box_values

NAMESPACE = "mlplat"

_DNS_LABEL = f"^{DNS_LABEL}$"


class Model(BaseModel):
    """Base of every config model: camelCase keys, unknown keys rejected, immutable, numbers finite."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, allow_inf_nan=False)


class Environment(StrEnum):
    """The deployment environment. Production defaults (protect, retain, replicas) follow it."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class Cloud(StrEnum):
    """The cloud of a stack's buckets, boxes and workload identities (``mlplat:cloud``)."""

    AWS = "aws"
    GCP = "gcp"


class Tags(Model):
    """The standard tags every taggable resource carries (AWS tags; GCP and Kubernetes labels).

    ``environment`` and ``managed-by`` are filled in by the platform; the stack sets the owning
    team and the cost center (source: AWS Tagging Best Practices whitepaper, "cost allocation").
    """

    model_config = ConfigDict(alias_generator=None, populate_by_name=True, extra="forbid", frozen=True)

    team: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]*$")
    cost_center: str = Field(alias="cost-center", min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")

    def for_environment(self, environment: Environment) -> dict[str, str]:
        """The four standard tags as a dict: team, cost-center, environment, managed-by."""
        return {"team": self.team, "cost-center": self.cost_center, "environment": environment.value, "managed-by": "pulumi"}


class TeamQuota(ResourceQuotaSpec):
    """A team's Kubernetes resource quota in the stack YAML (camelCase keys, e.g. ``memoryGib``).

    The fields and units are :class:`~platform_lib.k8s.quota.ResourceQuotaSpec`'s (vCPU, GiB,
    whole GPUs, counts); an instance is the ``quota`` argument of a ``TeamNamespace``.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class GrantScope(Model):
    """What a bucket grant in config allows: an access level, limited to an object key prefix.

    The shared part of :class:`BucketAccess` (a grant to a team) and :class:`BoxBucketGrant` (a
    grant to a GPU training box); the platform turns each into a
    :class:`~platform_lib.core.grants.Grant`.

    Attributes:
        access: ``read`` (list and get) or ``read-write`` (also put and delete).
        prefix: the object key prefix the access is limited to; "" for the whole bucket. Checked
            by :func:`platform_lib.core.grants.normalize_prefix` (no wildcards).
    """

    access: Literal["read", "read-write"] = "read"
    prefix: str = ""

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        from ..core.grants import normalize_prefix

        return normalize_prefix(value)


class BucketAccess(GrantScope):
    """Who may use one of a team's buckets, and where.

    Attributes:
        team: the team receiving the access (a name from ``mlplat:teams``).
        access, prefix: see :class:`GrantScope`.
    """

    team: str


class TeamBucket(Model):
    """A data bucket owned by a team. The owning team always gets read-write on the whole bucket.

    Attributes:
        name: the bucket's short name, unique in the stack (the physical name gets a suffix).
        grants: other teams' access.
        access_logging: write S3 server access logs to the stack's log bucket.
    """

    name: str = Field(min_length=3, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
    grants: list[BucketAccess] = Field(default_factory=list)
    access_logging: bool = True


class Team(Model):
    """One ML team: its namespace, its quota, its identity group and its buckets.

    Attributes:
        name: the team's name; also its namespace name (a DNS label, at most 40 characters, not
            ``kube-*``: those namespaces are Kubernetes' own).
        identity_group: the group in the cluster's authenticator (EKS access entries or OIDC
            groups claim) whose members administer the namespace's workloads; not a built-in
            ``system:`` group (``system:authenticated`` is every authenticated caller).
        quota: the namespace's resource quota.
        buckets: the team's data buckets.
        pod_security: the Pod Security Standards level enforced in the namespace.
    """

    name: str = Field(min_length=2, max_length=40, pattern=_DNS_LABEL)
    identity_group: str = Field(min_length=1, max_length=128)
    quota: TeamQuota
    buckets: list[TeamBucket] = Field(default_factory=list)
    pod_security: Literal["restricted", "baseline"] = "restricted"

    _name = field_validator("name")(check_namespace_name)
    _identity_group = field_validator("identity_group")(check_identity_group)


class Cluster(Model):
    """The Kubernetes cluster the team namespaces and endpoints live in: a cluster stack of the
    ``ml-platform-cluster`` project (``clusters/``, see ``docs/cluster.md``), read through a
    ``pulumi.StackReference``. Its name, kubeconfig, OIDC provider (AWS) or workload identity pool
    (GCP), GPU node pools and OpenTelemetry collector come from that stack's outputs: nothing about
    the cluster is typed by hand here.

    Attributes:
        stack: the fully qualified cluster stack, ``<organization>/ml-platform-cluster/<env>``.
        egress_https_cidrs: CIDRs every team namespace may reach on TCP 443 past its default-deny
            egress policy: typically the cluster VPC's CIDR, where its S3 and STS interface
            endpoints live (IRSA and data buckets need them). 0.0.0.0/0 is refused.
    """

    stack: str = Field(examples=["organization/ml-platform-cluster/prod"])
    egress_https_cidrs: list[str] = Field(default_factory=list)

    @field_validator("stack")
    @classmethod
    def _fully_qualified(cls, stack: str) -> str:
        if not STACK_NAME.fullmatch(stack):
            raise ValueError("a fully qualified stack name <organization>/<project>/<stack>, e.g. organization/ml-platform-cluster/prod")
        return stack

    @model_validator(mode="before")
    @classmethod
    def _no_hand_typed_cluster(cls, values: Any) -> Any:
        if isinstance(values, dict):
            typed = [key for key in ("name", "oidcProviderArn", "oidc_provider_arn", "oidcIssuer", "oidc_issuer") if key in values]
            if typed:
                raise ValueError(f"no {', '.join(typed)}: the cluster's name and OIDC settings are the cluster stack's outputs "
                                 "(set stack: <organization>/ml-platform-cluster/<env>, see docs/cluster.md)")
        return values

    @field_validator("egress_https_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        return check_cidr_blocks(cidrs)


class Components(Model):
    """Which component families this stack deploys."""

    data_buckets: bool = True
    team_namespaces: bool = True
    gpu_boxes: bool = True
    static_sites: bool = True
    model_endpoints: bool = True


class BoxBucketGrant(GrantScope):
    """One bucket access a GPU training box receives.

    Attributes:
        bucket: the short name of a bucket defined in this stack (``mlplat:teams[*].buckets``).
        access, prefix: see :class:`GrantScope`.
    """

    bucket: str = Field(min_length=3, max_length=40)


class GpuBoxAccelerator(Model):
    """The GPUs attached to a GCE box (``guestAccelerators``): an accelerator type and a count."""

    type: str = Field(min_length=1, examples=["nvidia-tesla-t4", "nvidia-l4", "nvidia-tesla-a100"])
    count: int = Field(ge=1, le=16)


class GpuBox(Model):
    """A team's GPU training box: one VM with GPUs, no public address, access to granted buckets only.

    AWS stacks set ``instanceType``, ``subnetId`` and ``vpcId``; GCP stacks set ``machineType``,
    ``zone`` and ``subnetwork`` (and ``accelerator`` for N1 machine types). The component's own
    argument model checks the instance or machine type against its GPU table.

    Attributes:
        name: the box's name, unique in the stack (a DNS label).
        team: the owning team (a name from ``mlplat:teams``); it goes in the ``team`` tag.
        instance_type: AWS EC2 instance type, e.g. ``g5.xlarge``.
        subnet_id: AWS private subnet id (``subnet-...``); the box gets no public IP.
        vpc_id: AWS VPC id (``vpc-...``) of that subnet, for the box's security group.
        machine_type: GCE machine type, e.g. ``g2-standard-8`` or ``n1-standard-8``.
        accelerator: GCE accelerator type and count.
        zone: GCE zone, e.g. ``europe-west4-a``.
        subnetwork: GCE subnetwork self link or name; the box gets no external IP.
        root_volume_gib: root (boot) disk size in GiB.
        data_volume_gib: data disk size in GiB; 0 for none.
        spot: run on Spot capacity (interruptible, cheaper).
        idle_stop_minutes: stop the box after this many minutes of low utilisation (AWS); 0 to keep it running.
        max_run_hours: GCE ``maxRunDuration`` in hours; the box stops after it (0: no limit).
        egress_https_cidrs: AWS: where the box may connect on TCP 443 (default 0.0.0.0/0 via NAT).
        grants: the bucket access the box's role or service account receives.
    """

    name: str = Field(min_length=2, max_length=40, pattern=_DNS_LABEL)
    team: str
    instance_type: str | None = None
    subnet_id: str | None = Field(default=None, pattern=r"^subnet-[0-9a-f]{8,17}$")
    vpc_id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]{8,17}$")
    machine_type: str | None = None
    accelerator: GpuBoxAccelerator | None = None
    zone: str | None = Field(default=None, pattern=r"^[a-z]+-[a-z]+\d+-[a-z]$")
    subnetwork: str | None = None
    root_volume_gib: int = Field(default=150, ge=50, le=16384)
    data_volume_gib: int = Field(default=500, ge=0, le=16384)
    spot: bool = False
    idle_stop_minutes: int = Field(default=60, ge=0, le=1440)
    max_run_hours: int = Field(default=0, ge=0, le=720)
    egress_https_cidrs: list[str] | None = None
    grants: list[BoxBucketGrant] = Field(default_factory=list)


class StaticSiteConfig(Model):
    """One static web site on S3 and CloudFront (see :class:`platform_lib.aws.static_site.StaticSite`).

    Attributes:
        name: the site's name, unique in the stack; also the component's name.
        site_dir: the directory of the site's files, relative to the project directory (the one
            holding ``Pulumi.yaml``), e.g. ``examples/static-site/site``.
        domain_name: the site's host name; needs ``hostedZoneId`` or ``certificateArn``.
        hosted_zone_id: the Route 53 zone of ``domainName`` (DNS validation and alias records).
        certificate_arn: an existing ACM certificate in us-east-1 for ``domainName``.
        html_ttl_seconds: cache lifetime of HTML and other non-fingerprinted files, in seconds.
        asset_ttl_seconds: cache lifetime of fingerprinted assets, in seconds.
        content_security_policy: the ``Content-Security-Policy`` header; omit to send none.
    """

    name: str = Field(min_length=2, max_length=40, pattern=_DNS_LABEL)
    site_dir: str = Field(min_length=1)
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    certificate_arn: str | None = None
    html_ttl_seconds: int = Field(default=60, ge=0)
    asset_ttl_seconds: int = Field(default=31_536_000, ge=0)
    content_security_policy: str | None = None


class Endpoint(ModelEndpointSpec):
    """A model endpoint in a team's namespace (``mlplat:endpoints`` entry); see ``docs/model-endpoint.md``.

    Attributes:
        name: the Kubernetes name of the endpoint's objects (a DNS-1035 label of 2 to 40
            characters); the Service ``<name>`` is what clients call (the component's ``service_name``).
        team: the owning team (a name from ``mlplat:teams``); the endpoint lives in its namespace.
        drift: data-drift detection for the endpoint (:class:`~platform_lib.k8s.drift_monitor.DriftSettings`,
            camelCase keys: ``features``, ``referencePath``, ``currentPath``, ``schedule``,
            ``featureThreshold``, ``featureThresholds``...): a team stack builds a ``DriftMonitor``
            for it in the team's namespace with the team's workload service account. Team stacks
            only (``teams/<team>.yaml``); a shared stack refuses it.
        (every other key: :class:`~platform_lib.k8s.model_endpoint_spec.ModelEndpointSpec`)
    """

    name: str = Field(min_length=2, max_length=40, pattern=ENDPOINT_NAME)
    team: str = Field(min_length=2, max_length=40, pattern=_DNS_LABEL)
    drift: DriftSettings | None = None


class StackSettings(Model):
    """What every stack of the platform states first: its environment, cloud, region, standard tags
    and the protection of its stateful resources (shared by the platform, team and cluster stacks'
    config models).

    Attributes:
        environment: dev, staging or prod.
        cloud: the cloud the stack's resources are on.
        region: the cloud region (``us-east-1``, ``europe-west4``).
        tags: the standard tags' team and cost center.
        protect: protect stateful resources from deletion; defaults to on in prod.
        retain_on_delete: keep cloud resources when they leave the program; defaults to on in prod.
    """

    environment: Environment
    cloud: Cloud = Cloud.AWS
    region: str = Field(pattern=r"^[a-z]+(-[a-z]+)*-?\d+$")  # us-east-1 (AWS), europe-west4 (GCP)
    tags: Tags
    protect: bool | None = None
    retain_on_delete: bool | None = None

    @property
    def is_production(self) -> bool:
        """True for the ``prod`` environment (protect and retain default on)."""
        return self.environment is Environment.PROD

    @property
    def protect_resources(self) -> bool:
        """Whether stateful resources get ``protect``: the explicit setting, else on in prod."""
        return self.is_production if self.protect is None else self.protect

    @property
    def retain_resources(self) -> bool:
        """Whether stateful resources get ``retain_on_delete``: the explicit setting, else on in prod."""
        return self.is_production if self.retain_on_delete is None else self.retain_on_delete

    def standard_tags(self) -> dict[str, str]:
        """The four standard tags for this stack's environment."""
        return self.tags.for_environment(self.environment)


class PlatformConfig(StackSettings):
    """The whole ``mlplat`` namespace of one stack.

    Attributes:
        environment: dev, staging or prod.
        cloud: the cloud the stack's buckets and boxes are on.
        region: the cloud region (``us-east-1``, ``europe-west4``).
        tags: the standard tags' team and cost center.
        protect: protect stateful resources from deletion; defaults to on in prod.
        retain_on_delete: keep cloud resources when they leave the program; defaults to on in prod.
        cluster: the Kubernetes cluster for team namespaces.
        teams: the ML teams.
        components: which component families to deploy.
        static_sites: static web sites on S3 and CloudFront.
        monthly_budget_usd: the environment's monthly budget in US dollars, for cost policies.
        gpu_boxes: the teams' GPU training boxes.
    """

    cluster: Cluster | None = None
    teams: list[Team] = Field(default_factory=list)
    components: Components = Field(default_factory=Components)
    static_sites: list[StaticSiteConfig] = Field(default_factory=list)
    monthly_budget_usd: float = Field(default=10_000, gt=0)
    endpoints: list[Endpoint] = Field(default_factory=list)
    gpu_boxes: list[GpuBox] = Field(default_factory=list)


    def team(self, name: str) -> Team:
        """The team with this name. Raises ``KeyError`` if there is none."""
        for team in self.teams:
            if team.name == name:
                return team
        raise KeyError(name)


def cross_reference_issues(config: PlatformConfig, namespace: str = NAMESPACE, other_teams: Collection[str] = ()) -> list[Issue]:
    """Problems that span several keys: repeated names, grants to unknown teams or given twice,
    a missing cluster, GPU boxes, static sites and endpoints (see :func:`gpu_box_issues`,
    :func:`endpoint_issues`).

    ``other_teams`` are teams defined elsewhere (a team stack's config holds one team; the others
    are in their own request files): bucket grants may name them.

    Returns:
        One :class:`~platform_lib.core.errors.Issue` per problem (empty when there is none), each
        with its key path under ``namespace``.
    """
    issues: list[Issue] = []
    names = [t.name for t in config.teams]
    seen_teams: set[str] = set()
    seen_buckets: dict[str, str] = {}
    for index, team in enumerate(config.teams):
        if team.name in seen_teams:
            issues.append(Issue(f"{namespace}:teams[{index}].name", team.name, "a team name not used by another team"))
        seen_teams.add(team.name)
        for bucket_index, bucket in enumerate(team.buckets):
            path = f"{namespace}:teams[{index}].buckets[{bucket_index}]"
            if bucket.name in seen_buckets:
                issues.append(Issue(f"{path}.name", bucket.name, f"a bucket name unique in the stack (team {seen_buckets[bucket.name]!r} has it too)"))
            seen_buckets.setdefault(bucket.name, team.name)
            for grant_index, grant in enumerate(bucket.grants):
                if grant.team not in names and grant.team not in other_teams:
                    issues.append(Issue(f"{path}.grants[{grant_index}].team", grant.team, f"one of the stack's teams ({', '.join(names)})"))
            # The owner's read-write on the whole bucket comes first: the buckets refuse a grant given twice.
            issues.extend(_repeated_grants([(team.name, "read-write", ""), *((g.team, g.access, g.prefix) for g in bucket.grants)], f"{path}.grants", "team", offset=1))
    issues.extend(gpu_box_issues(config, namespace))
    if config.components.team_namespaces and config.teams and config.cluster is None:
        issues.append(Issue(f"{namespace}:cluster", None, "a cluster block (stack: <organization>/ml-platform-cluster/<env>) when team namespaces are deployed"))
    issues.extend(_static_site_issues(config, namespace))
    issues.extend(endpoint_issues(config, namespace))
    return issues


def _static_site_issues(config: PlatformConfig, namespace: str) -> list[Issue]:
    """Repeated site names, and a domain with neither a zone nor a certificate."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for index, site in enumerate(config.static_sites):
        path = f"{namespace}:staticSites[{index}]"
        if site.name in seen:
            issues.append(Issue(f"{path}.name", site.name, "a site name not used by another site"))
        seen.add(site.name)
        if site.domain_name and not site.hosted_zone_id and not site.certificate_arn:
            issues.append(Issue(f"{path}.domainName", site.domain_name, "hostedZoneId or certificateArn with it (the certificate is needed for the domain)"))
    return issues


def endpoint_issues(config: PlatformConfig, namespace: str = NAMESPACE) -> list[Issue]:
    """Problems with ``endpoints``: unknown teams, repeated names, too few replicas or an
    internet-facing endpoint without a certificate outside dev, quota overruns.

    Each team's endpoints together, at their peak (``maxReplicas`` plus the rollout surge, see
    :meth:`ModelEndpointSpec.peak_requests`), must fit the team's quota: CPU, memory, GPUs and pods.
    """
    issues: list[Issue] = []
    teams = {team.name: team for team in config.teams}
    seen: set[tuple[str, str]] = set()
    peaks: dict[str, list[tuple[int, Any]]] = {}
    for index, endpoint in enumerate(config.endpoints):
        path = f"{namespace}:endpoints[{index}]"
        if endpoint.team not in teams:
            issues.append(Issue(f"{path}.team", endpoint.team, f"one of the stack's teams ({', '.join(teams) or 'none defined'})"))
            continue
        if (endpoint.team, endpoint.name) in seen:
            issues.append(Issue(f"{path}.name", endpoint.name, f"a name not used by another endpoint of team {endpoint.team!r}"))
        seen.add((endpoint.team, endpoint.name))
        if config.environment is not Environment.DEV and endpoint.autoscaling.min_replicas < 2:
            issues.append(Issue(f"{path}.autoscaling.minReplicas", endpoint.autoscaling.min_replicas, f"at least 2 outside dev ({config.environment.value}), for zero-downtime deploys"))
        issues.extend(_container_limit_issues(endpoint, teams[endpoint.team], path))
        exposure = endpoint.exposure
        if config.environment is not Environment.DEV and exposure.enabled and exposure.internet_facing and exposure.certificate_arn is None:
            issues.append(Issue(f"{path}.exposure.certificateArn", None, f"an ACM certificate ARN for an internet-facing endpoint outside dev ({config.environment.value}): plain HTTP to the internet is refused"))
        peaks.setdefault(endpoint.team, []).append((index, endpoint.peak_requests()))
    for team_name, entries in peaks.items():
        quota = teams[team_name].quota
        for field, limit, unit, what in (("cpu", quota.cpu, "vCPU", "quota"), ("memory_gib", quota.memory_gib, "GiB", "quota"), ("gpu", quota.gpu, "GPUs", "quota"),
                                         ("pods", quota.pods, "pods", "quota"), ("cpu_limit", quota.cpu * LIMITS_PER_REQUEST, "vCPU of CPU limits", "quota's limits.cpu")):
            total = round(sum(getattr(peak, field) for _, peak in entries), 3)
            if total > limit:
                where = ", ".join(f"endpoints[{i}]" for i, _ in entries)
                issues.append(Issue(f"{namespace}:endpoints", f"{total:g} {unit} for team {team_name} ({where})", f"at most the team's {what} of {limit:g} {unit} at peak (maxReplicas plus rollout surge)"))
    if config.components.model_endpoints and config.endpoints and config.cluster is None:
        issues.append(Issue(f"{namespace}:cluster", None, "a cluster block (stack: <organization>/ml-platform-cluster/<env>) when model endpoints are deployed"))
    return issues


def _container_limit_issues(endpoint: Endpoint, team: Team, path: str) -> list[Issue]:
    """An endpoint container's limits above its team namespace's LimitRange max, which the platform
    sets to the team's quota (``TeamNamespace``'s default ``max_container_cpu`` / ``max_container_memory_gib``):
    Kubernetes would refuse every pod at admission."""
    resources = endpoint.resources
    issues = []
    if resources.effective_cpu_limit > team.quota.cpu:
        key, value = ("cpuLimit", resources.cpu_limit) if resources.cpu_limit is not None else ("cpu", resources.cpu)
        issues.append(Issue(f"{path}.resources.{key}", value, f"a CPU limit of at most {team.quota.cpu:g} vCPU, the per-container max of team {team.name}'s LimitRange "
                                                              f"(the limit is {resources.effective_cpu_limit:g} vCPU{'' if resources.cpu_limit is not None else ': twice the request'})"))
    if resources.memory_gib > team.quota.memory_gib:
        issues.append(Issue(f"{path}.resources.memoryGib", resources.memory_gib, f"at most {team.quota.memory_gib:g} GiB, the per-container max of team {team.name}'s LimitRange"))
    return issues


def gpu_box_issues(config: PlatformConfig, namespace: str = NAMESPACE) -> list[Issue]:
    """Problems with ``mlplat:gpuBoxes`` that span keys: names, teams, buckets, per-cloud fields,
    repeated grants, and the box component's own argument checks.

    Returns:
        One :class:`~platform_lib.core.errors.Issue` per problem, at its ``mlplat:gpuBoxes[i]`` key.
    """
    issues: list[Issue] = []
    team_names = [t.name for t in config.teams]
    bucket_names = [b.name for t in config.teams for b in t.buckets]
    if config.components.gpu_boxes and config.gpu_boxes and not config.components.data_buckets:
        granted = any(box.grants for box in config.gpu_boxes)
        if granted:
            issues.append(Issue(f"{namespace}:components.dataBuckets", False, "true when GPU boxes are granted buckets"))
    if config.cloud is Cloud.AWS:
        required, foreign = ("instance_type", "subnet_id", "vpc_id"), ("machine_type", "accelerator", "zone", "subnetwork", "max_run_hours")
    else:
        required, foreign = ("machine_type", "zone", "subnetwork"), ("instance_type", "subnet_id", "vpc_id", "egress_https_cidrs")
    seen: set[str] = set()
    for index, box in enumerate(config.gpu_boxes):
        path = f"{namespace}:gpuBoxes[{index}]"
        if box.name in seen:
            issues.append(Issue(f"{path}.name", box.name, "a GPU box name not used by another box in the stack"))
        seen.add(box.name)
        if box.team not in team_names:
            issues.append(Issue(f"{path}.team", box.team, f"one of the stack's teams ({', '.join(team_names) or 'none defined'})"))
        for field_name in required:
            if getattr(box, field_name) is None:
                issues.append(Issue(f"{path}.{to_camel(field_name)}", None, f"a value: GPU boxes on {config.cloud.value} need {', '.join(to_camel(f) for f in required)}"))
        for field_name in foreign:
            value = getattr(box, field_name)
            if value not in (None, 0):
                issues.append(Issue(f"{path}.{to_camel(field_name)}", value if not isinstance(value, BaseModel) else value.model_dump(), f"no value: {to_camel(field_name)} is not used on {config.cloud.value}"))
        reported = {issue.path for issue in issues}
        issues.extend(issue for issue in _gpu_type_issues(config, box, path) if issue.path not in reported)
        for grant_index, grant in enumerate(box.grants):
            if grant.bucket not in bucket_names:
                issues.append(Issue(f"{path}.grants[{grant_index}].bucket", grant.bucket, f"a bucket this stack defines ({', '.join(bucket_names) or 'none defined'})"))
        issues.extend(_repeated_grants([(g.bucket, g.access, g.prefix) for g in box.grants], f"{path}.grants", "bucket"))
    return issues


def _repeated_grants(grants: list[tuple[str, str, str]], path: str, key: str, offset: int = 0) -> list[Issue]:
    """Grants given twice: a bucket registers one policy per (grantee, access, prefix) and refuses
    a second, so a repeat would fail the program after other resources were registered.

    Args:
        grants: ``(grantee or bucket, access, normalised prefix)`` in config order; the first
            ``offset`` entries are implicit (the owner's own access) and have no config index.
        path: the config path of the grants list, e.g. ``mlplat:teams[0].buckets[1].grants``.
        key: the config key of the first tuple member (``team`` or ``bucket``).

    Returns:
        One issue per repeat, at the later grant, with the grant as the config gives it.
    """
    issues: list[Issue] = []
    first: dict[tuple[str, str, str], int] = {}
    for position, grant in enumerate(grants):
        if grant in first:
            earlier = first[grant] - offset
            already = f"grants[{earlier}]" if earlier >= 0 else "the owning team's read-write on the whole bucket"
            who, access, prefix = grant
            issues.append(Issue(f"{path}[{position - offset}]", {key: who, "access": access, "prefix": prefix}, f"a grant not given already (it repeats {already})"))
        first.setdefault(grant, position)
    return issues


def _gpu_type_issues(config: PlatformConfig, box: GpuBox, path: str) -> list[Issue]:
    """The box component's own argument checks (GPU tables, sizes, idle minutes), run on config.

    So a bad ``mlplat:gpuBoxes`` entry fails before any resource is registered, with the config
    key path rather than the component argument name.
    """
    tags = {**config.standard_tags(), "team": box.team}
    if config.cloud is Cloud.AWS:
        model, keys, values = AwsGpuTrainingBoxArgs, AWS_CONFIG_KEYS, aws_box_values(box, tags, config.protect_resources)
    else:
        model, keys, values = GcpGpuTrainingBoxArgs, GCP_CONFIG_KEYS, gcp_box_values(box, tags, config.protect_resources, None)
    try:
        model.model_validate(values)
    except pydantic.ValidationError as error:
        issues = []
        # The component's own wording of what it expects (as for every other config issue), at the
        # config key the argument comes from, with the value as the stack config gave it.
        for issue in issues_from_validation_error(error):
            field_name = re.match(r"[^.\[]*", issue.path).group()  # the argument, without [index] or .sub-field
            key = keys.get(field_name, to_camel(field_name))
            value = box.team if field_name in ("tags", "labels") else getattr(box, field_name, issue.value)
            if isinstance(value, BaseModel):
                value = value.model_dump()
            issues.append(Issue(f"{path}.{key}" if key else path, value, issue.expected))
        return issues
    return []


def _stack_config_values(namespace: str) -> dict[str, Any]:
    """Every ``namespace:key`` config value the engine passed to this program."""
    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = {}
    values.update(runtime_config.get_config_env())
    values.update(runtime_config.CONFIG.get())
    found = {}
    for full_key, raw in values.items():
        space, _, key = full_key.partition(":")
        if space != namespace or not key:
            continue
        found[key] = raw
    return found


def aws_region_issues(region: Any, key: str = "aws:region") -> list[Issue]:
    """An AWS region the AWS provider knows, or one issue at ``key``.

    The list is the provider's own (``pulumi_aws.Region``, the regions of the installed
    ``pulumi-aws``), so the stack fails here rather than when the provider is configured at deploy.
    """
    import pulumi_aws

    known = {region.value for region in pulumi_aws.Region}
    if region in known:
        return []
    return [Issue(key, region, f"an AWS region the AWS provider knows (pulumi_aws.Region, e.g. us-east-1, eu-west-1; {len(known)} in all)")]


def parse_config_strings(values: dict[str, Any], namespace: str = NAMESPACE) -> tuple[dict[str, Any], list[Issue]]:
    """Parse raw config values as the Pulumi CLI passes them to a program: JSON for a string
    starting with ``[`` or ``{``, booleans, numbers; anything else as it is.

    Returns:
        The parsed values by key, and the problems (a ``secure:`` value the offline preview could
        not decrypt, malformed JSON), each at ``<namespace>:<key>``.
    """
    parsed: dict[str, Any] = {}
    issues: list[Issue] = []
    for key, raw in values.items():
        value = raw
        if raw == SECRET_PLACEHOLDER:
            issues.append(Issue(f"{namespace}:{key}", raw, "a value the offline preview can read; this secure: value was not decrypted "
                                "(set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE for a passphrase-encrypted stack)"))
            continue
        if isinstance(raw, str) and raw[:1] in "[{":
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as error:
                issues.append(Issue(f"{namespace}:{key}", raw, f"valid YAML/JSON structure ({error.msg})"))
                continue
        elif isinstance(raw, str) and raw in ("true", "false"):
            value = raw == "true"
        elif isinstance(raw, str) and re.fullmatch(r"-?\d+(\.\d+)?", raw):
            value = json.loads(raw)
        parsed[key] = value
    return parsed, issues


def parse_platform_config(values: dict[str, Any], namespace: str = NAMESPACE, aws_region: str | None = None) -> PlatformConfig:
    """Validate raw config values (key without namespace to a string or parsed value).

    Strings are parsed as the Pulumi CLI passes them: JSON for ``[``/``{``, ``true``/``false``,
    numbers. ``aws_region`` is the AWS provider's ``aws:region``, when the stack sets it: it must be
    a region of the provider's list (:func:`aws_region_issues`), and so must ``region`` when the
    stack's cloud is AWS.

    Returns:
        The validated config, cross-key checks included (:func:`cross_reference_issues`).

    Raises:
        ConfigError: with one :class:`~platform_lib.core.errors.Issue` per problem, each naming the
            key path (``mlplat:teams[1].quota.gpu``), the value and what was expected.
    """
    import pydantic

    parsed, issues = parse_config_strings(values, namespace)
    try:
        config = PlatformConfig.model_validate(parsed)
    except pydantic.ValidationError as error:
        issues.extend(_endpoint_keys_in_yaml(issue, namespace) for issue in issues_from_validation_error(error, prefix=namespace, separator=":"))
        config = None
    if aws_region is not None:
        issues.extend(aws_region_issues(aws_region))
    if config is not None:
        if config.cloud is Cloud.AWS:
            issues.extend(aws_region_issues(config.region, f"{namespace}:region"))
        issues.extend(cross_reference_issues(config, namespace))
    issues = [_with_suggestion(issue, namespace) for issue in issues]
    if issues:
        raise ConfigError(f"invalid stack configuration for {pulumi.get_stack() if _in_program() else 'stack'}", issues)
    assert config is not None
    return config


def _endpoint_keys_in_yaml(issue: Issue, namespace: str) -> Issue:
    """An ``endpoints`` issue at its YAML keys: the endpoint spec models locate errors by their
    snake_case field names (``autoscaling.min_replicas``), the stack YAML spells them camelCase."""
    head = f"{namespace}:endpoints["
    if not issue.path.startswith(head):
        return issue
    first, *rest = issue.path.split(".")
    keys = [re.sub(r"^[a-z0-9_]+", lambda match: to_camel(match.group()), part) for part in rest]
    return Issue(".".join([first, *keys]), issue.value, issue.expected)


def _with_suggestion(issue: Issue, namespace: str) -> Issue:
    """Add "did you mean" to an unknown top-level key that is close to a known one."""
    import difflib

    if not issue.expected.startswith("no such key") or issue.path.count(":") != 1 or "." in issue.path or "[" in issue.path:
        return issue
    key = issue.path.split(":", 1)[1]
    known = [field.alias or name for name, field in PlatformConfig.model_fields.items()]
    close = difflib.get_close_matches(key, known, n=1)
    if not close:
        return issue
    return Issue(issue.path, issue.value, f"no such key; did you mean {namespace}:{close[0]}?")


def _in_program() -> bool:
    try:
        pulumi.get_stack()
        return True
    except Exception:  # noqa: BLE001 - outside a program the SDK raises
        return False


def load_platform_config(namespace: str = NAMESPACE) -> PlatformConfig:
    """Read and validate the ``mlplat`` config of the running stack.

    Call it first in a program, before registering resources, so that bad config registers
    nothing.

    Returns:
        The validated config.

    Raises:
        ConfigError: every problem at once (see :func:`parse_platform_config`), ``aws:region``
            included; an endpoint with ``drift`` (drift monitors are built by the team stacks,
            from ``teams/<team>.yaml``).
    """
    config = parse_platform_config(_stack_config_values(namespace), namespace, aws_region=_stack_config_values("aws").get("region"))
    drifting = [Issue(f"{namespace}:endpoints[{index}].drift", endpoint.drift.model_dump(by_alias=True), "no value in a shared stack: set drift on the endpoint in its team's request file (teams/<team>.yaml)")
                for index, endpoint in enumerate(config.endpoints) if endpoint.drift is not None]
    if drifting:
        raise ConfigError("invalid stack configuration", drifting)
    return config
