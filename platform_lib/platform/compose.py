"""Composition of a whole platform stack from its validated config.

``stacks/__main__.py`` calls :func:`build_platform`; each component family has its own
``deploy_*`` function here, so a stack only deploys what ``mlplat:components`` switches on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws

from .cluster_reference import ClusterOutputError, ClusterReference, gpu_scheduling, reference_cluster
from .config import Cloud, Environment, PlatformConfig, endpoint_issues
from ..aws.data_bucket import AccessLogBucket, AccessLogBucketArgs, S3DataBucket, S3DataBucketArgs
from ..aws.gpu_training_box import AwsGpuTrainingBox, AwsGpuTrainingBoxArgs
from ..gcp.data_bucket import GcsDataBucket, GcsDataBucketArgs, TeamWorkloadIdentity, TeamWorkloadIdentityArgs
from ..gcp.gpu_training_box import GcpGpuTrainingBox, GcpGpuTrainingBoxArgs
from ..core.grants import GrantableBucket
from ..k8s.model_endpoint import ModelEndpoint, ModelEndpointArgs
from ..k8s.team_namespace import TeamNamespace, TeamNamespaceArgs
from ..aws.static_site import StaticSite, StaticSiteArgs, protect_stateful_children
from ..core.errors import ComponentArgsError, ConfigError, Issue
from ..core.policy_documents import irsa_trust_policy_document
from .gpu_boxes import aws_box_values, gcp_box_values

#: The name of every team's workload ServiceAccount (the subject of its IRSA trust policy).
WORKLOAD_SERVICE_ACCOUNT = "workload"
#: The logical name of the stack's S3 server access log bucket.
ACCESS_LOG_BUCKET = "access-logs"


@dataclass(frozen=True)
class StackWiring:
    """How a stack's team resources connect to what lives outside it (the cluster itself comes from
    ``mlplat:cluster.stack``, :func:`connect_cluster`). The defaults are the shared platform
    stack's (every team in the stack, default cloud providers, no aliases); a team stack
    (:mod:`.team_stack`) sets them.

    Attributes:
        cloud_provider: the explicit AWS or GCP provider of every cloud resource (a team stack has
            no stack file to hold ``aws:region`` / ``gcp:project``); ``None``: the default provider.
        gcp_project: the GCP project; ``None``: the stack's ``gcp:project``.
        aliases: added to every top-level resource and component (children inherit them): the
            resources' URNs in the stack they move from (see ``docs/teams.md``).
        role_names: physical names of the teams' IAM workload roles, by team; a team not listed
            gets an auto-named role (the shared stack's behaviour).
        external_grantees: by team name, the grant principal of a team that lives in another
            stack (its workload role's name on AWS, ``serviceAccount:<email>`` on GCP): bucket
            grants to it are made in this stack, to that principal.
    """

    aliases: tuple[pulumi.Alias, ...] = ()
    role_names: Mapping[str, str] = field(default_factory=dict)
    external_grantees: Mapping[str, str] = field(default_factory=dict)
    cloud_provider: pulumi.ProviderResource | None = None
    gcp_project: str | None = None

    def options(self, base: pulumi.ResourceOptions | None = None, *, kubernetes: pulumi.ProviderResource | None = None) -> pulumi.ResourceOptions:
        """``base`` with this stack's aliases and providers (a component's: the cloud provider, and
        ``kubernetes``, the cluster's provider, for a Kubernetes component)."""
        providers = [p for p in (self.cloud_provider, kubernetes) if p is not None]
        extra = pulumi.ResourceOptions(aliases=list(self.aliases) or None, providers=providers or None)
        return pulumi.ResourceOptions.merge(base or pulumi.ResourceOptions(), extra)

    def resource_options(self) -> pulumi.ResourceOptions:
        """A plain (custom) resource's options: the aliases and the cloud provider."""
        return pulumi.ResourceOptions(aliases=list(self.aliases) or None, provider=self.cloud_provider)


SHARED_STACK = StackWiring()


def build_platform(config: PlatformConfig, wiring: StackWiring = SHARED_STACK, *, cluster: ClusterReference | None = None) -> dict[str, Any]:
    """Register every resource the config asks for and return the stack outputs.

    Every component's arguments are validated first (:func:`component_args`), so a problem in
    any family registers nothing at all, not half a stack.

    Args:
        config: the validated stack config (see :func:`platform_lib.platform.config.load_platform_config`).
        wiring: how team resources reach what is outside the stack (a team stack's; default: the shared stack's).
        cluster: the stack's cluster when the caller has connected it already (:func:`connect_cluster`);
            default: connected here, after every argument was validated.

    Returns:
        Stack outputs by name (plain values or ``pulumi.Output``).

    Raises:
        ComponentArgsError: a component refuses an argument the stack config gave it (every one
            at once); nothing was registered.
        ConfigError: GPU boxes are granted buckets the stack does not deploy; nothing was registered.
    """
    args = component_args(config, gcp_project=wiring.gcp_project)
    outputs: dict[str, Any] = {"environment": config.environment.value, "region": config.region}
    cluster = cluster if cluster is not None else connect_cluster(config)
    if cluster is not None:
        outputs["cluster"] = cluster_summary(config, cluster, gcp_project=wiring.gcp_project)
    buckets: dict[str, GrantableBucket] = {}
    if config.components.data_buckets or config.components.team_namespaces:
        outputs.update(deploy_teams(config, args, buckets, cluster=cluster, wiring=wiring))
    if args.gcs_buckets or args.identities:
        for team, gcp_outputs in deploy_gcp_teams(config, args, buckets, wiring)["teams"].items():
            outputs.setdefault("teams", {}).setdefault(team, {}).update(gcp_outputs)
    if args.boxes:
        outputs.update(deploy_gpu_boxes(config, args, buckets, wiring))
    if args.sites:
        outputs.update(deploy_static_sites(args.sites, protect=config.protect_resources, retain_on_delete=config.retain_resources))
    if args.endpoints:
        namespaces = {team: info["namespace"] for team, info in (outputs.get("teams") or {}).items() if "namespace" in info}
        endpoints = deploy_model_endpoints(args, namespaces, cluster=cluster, wiring=wiring)
        outputs["modelEndpoints"] = {key: {"service": endpoint.service_dns, "loadBalancer": endpoint.load_balancer_hostname} for key, endpoint in endpoints.items()}
    return outputs


@dataclass
class ComponentArgs:
    """Every component's validated arguments for one stack, built before any resource is registered.

    Arguments only known once another resource exists (a role ARN, the log bucket's name) are
    added with ``model_copy`` when that resource is registered; both fields accept an Output.

    Attributes:
        access_log_bucket: the stack's :class:`AccessLogBucket` when any AWS bucket logs access.
        data_buckets: AWS :class:`S3DataBucket` arguments by bucket short name.
        namespaces: :class:`TeamNamespace` arguments by team name.
        identities: GCP :class:`TeamWorkloadIdentity` arguments by team name.
        gcs_buckets: :class:`GcsDataBucket` arguments by bucket short name.
        boxes: GPU training box arguments (AWS or GCP) by box name.
        sites: ``(name, StaticSiteArgs)`` per static site.
        endpoints: ``ModelEndpointArgs`` by ``<team>/<endpoint name>``.
    """

    access_log_bucket: AccessLogBucketArgs | None = None
    data_buckets: dict[str, S3DataBucketArgs] = field(default_factory=dict)
    namespaces: dict[str, TeamNamespaceArgs] = field(default_factory=dict)
    identities: dict[str, TeamWorkloadIdentityArgs] = field(default_factory=dict)
    gcs_buckets: dict[str, GcsDataBucketArgs] = field(default_factory=dict)
    boxes: dict[str, AwsGpuTrainingBoxArgs | GcpGpuTrainingBoxArgs] = field(default_factory=dict)
    sites: list[tuple[str, StaticSiteArgs]] = field(default_factory=list)
    endpoints: dict[str, ModelEndpointArgs] = field(default_factory=dict)


class _Collected:
    """Runs component argument checks and keeps every problem, so all are reported at once."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def component(self, component: type, name: str, values: Mapping[str, Any]) -> Any:
        """``component.validate_args(name, values)``, keeping its problems (``None`` then)."""
        try:
            return component.validate_args(name, values)
        except ComponentArgsError as error:
            self.issues.extend(error.issues)
            return None


def stateful_options(config: PlatformConfig) -> pulumi.ResourceOptions:
    """Options of a stateful component (buckets...): the stack's protect and retain-on-delete
    settings (on in prod unless the stack config says otherwise)."""
    return pulumi.ResourceOptions(protect=config.protect_resources, retain_on_delete=config.retain_resources)


def component_args(config: PlatformConfig, gcp_project: str | None = None) -> ComponentArgs:
    """Validate the arguments of every component the stack config asks for, registering nothing.

    The config models check most things already; this runs each component's own argument model
    too (its bounds can be tighter, e.g. a TeamNamespace's default container limits must fit a
    quota below 1 vCPU), so :func:`build_platform` fails before its first resource.

    Args:
        config: the validated stack config.
        gcp_project: the GCP project of a GCP stack; default: the stack's ``gcp:project``.

    Returns:
        The validated arguments, by family.

    Raises:
        ComponentArgsError: every refused argument of every component at once.
        ConfigError: GPU boxes are granted buckets the stack does not deploy, or endpoints name
            unknown teams.
    """
    collected = _Collected()
    args = ComponentArgs()
    components = config.components
    standard = config.standard_tags()
    on_aws = config.cloud is Cloud.AWS
    cluster = config.cluster

    if components.data_buckets and on_aws:
        if any(bucket.access_logging for team in config.teams for bucket in team.buckets):
            args.access_log_bucket = collected.component(AccessLogBucket, ACCESS_LOG_BUCKET, {"tags": standard})
        for team in config.teams:
            for bucket in team.buckets:
                args.data_buckets[bucket.name] = collected.component(S3DataBucket, bucket.name, {"tags": {**standard, "team": team.name}})
    if components.data_buckets and not on_aws:
        project = gcp_project or _gcp_project()
        for team in config.teams:
            identity = {"project": project, "namespace": team.name, "kubernetes_service_account": WORKLOAD_SERVICE_ACCOUNT}
            args.identities[team.name] = collected.component(TeamWorkloadIdentity, team.name, identity)
            for bucket in team.buckets:
                values = {"location": config.region, "labels": {**standard, "team": team.name}}
                args.gcs_buckets[bucket.name] = collected.component(GcsDataBucket, bucket.name, values)
    if components.team_namespaces:
        for team in config.teams:
            values = {
                "labels": {**standard, "team": team.name},
                "identity_group": team.identity_group,
                "quota": team.quota,
                "pod_security": team.pod_security,
                "service_account_name": WORKLOAD_SERVICE_ACCOUNT,
                "egress_https_cidrs": cluster.egress_https_cidrs if cluster is not None else [],
            }
            args.namespaces[team.name] = collected.component(TeamNamespace, team.name, values)
    if components.gpu_boxes:
        for box in config.gpu_boxes:
            tags = {**standard, "team": box.team}
            if on_aws:
                box_args = collected.component(AwsGpuTrainingBox, box.name, aws_box_values(box, tags, config.protect_resources))
            else:
                box_args = collected.component(GcpGpuTrainingBox, box.name, gcp_box_values(box, tags, config.protect_resources, gcp_project or _gcp_project()))
            args.boxes[box.name] = box_args  # None when refused: its grants are still checked below
    if components.static_sites:
        args.sites = _static_site_args(config, collected)
    if components.model_endpoints:
        for endpoint in config.endpoints:
            if endpoint.team not in {team.name for team in config.teams}:
                continue  # reported below as a ConfigError
            values = {
                **{field: value for field, value in endpoint if field not in ("team", "name", "drift")},
                "service_name": endpoint.name,
                # The team's namespace; deploy_model_endpoints wires in the TeamNamespace's name when the stack makes it.
                "namespace": endpoint.team,
                "labels": {**standard, "team": endpoint.team},
                # Environment policy: one replica and plain HTTP to the internet are fine in dev only; prod alerts page, others open a ticket.
                "allow_single_replica": config.environment is Environment.DEV,
                "allow_plain_http": config.environment is Environment.DEV,
                "alert_severity": "page" if config.is_production else "ticket",
            }
            key = f"{endpoint.team}/{endpoint.name}"
            args.endpoints[key] = collected.component(ModelEndpoint, f"{endpoint.team}-{endpoint.name}", values)

    config_issues = _undeployed_references(config, args)
    if config_issues:
        raise ConfigError("the stack config refers to what this stack does not deploy; nothing was created", config_issues + collected.issues)
    if collected.issues:
        raise ComponentArgsError("invalid component arguments from the stack config; nothing was created", collected.issues)
    return args


def _undeployed_references(config: PlatformConfig, args: ComponentArgs) -> list[Issue]:
    """Box grants on buckets the stack does not deploy, and endpoints of unknown teams."""
    deployed = set(args.data_buckets) | set(args.gcs_buckets)
    issues = [
        Issue(f"mlplat:gpuBoxes[{index}].grants[{grant_index}].bucket", grant.bucket, "a bucket this stack deploys (is components.dataBuckets on?)")
        for index, box in enumerate(config.gpu_boxes)
        if box.name in args.boxes
        for grant_index, grant in enumerate(box.grants)
        if grant.bucket not in deployed
    ]
    if config.components.model_endpoints:
        issues += [issue for issue in endpoint_issues(config) if issue.path.endswith(".team")]
    return issues


def connect_cluster(config: PlatformConfig) -> ClusterReference | None:
    """The stack's cluster (``mlplat:cluster.stack``), read through a ``pulumi.StackReference``,
    with a Kubernetes provider built from its kubeconfig; ``None`` when the stack sets no cluster.

    Called after every component's arguments were validated, so bad config registers nothing.
    """
    if config.cluster is None:
        return None
    return reference_cluster(config.cluster.stack, cloud=config.cloud.value)


def cluster_summary(config: PlatformConfig, cluster: ClusterReference, gcp_project: str | None = None) -> dict[str, Any]:
    """The ``cluster`` stack output: the referenced stack and the cluster's name (and, on GCP, the
    workload identity pool, checked to be the GCP project's (``gcp_project``, default the stack's
    ``gcp:project``): the teams' Google service accounts trust that pool)."""
    summary: dict[str, Any] = {"stack": cluster.stack, "name": cluster.cluster_name}
    if config.cloud is Cloud.GCP and cluster.workload_identity_pool is not None:
        project = gcp_project or _gcp_project()

        def same_project(pool: str) -> str:
            if pool != f"{project}.svc.id.goog":
                raise ClusterOutputError(f"the cluster stack {cluster.stack}'s workloadIdentityPool {pool!r} is not the pool of this stack's gcp:project "
                                         f"({project}.svc.id.goog): the teams' Workload Identity bindings would trust another project's cluster")
            return pool

        summary["workloadIdentityPool"] = cluster.workload_identity_pool.apply(same_project)
    return summary


def _irsa_role(cluster: ClusterReference, team_name: str, tags: dict[str, str], wiring: StackWiring | None = None) -> aws.iam.Role:
    """The team's workload role, trusted by its ``workload`` ServiceAccount through the cluster's
    OIDC provider (both read from the cluster stack's outputs); named ``wiring.role_names[team]``
    when set (team stacks), else auto-named."""
    wiring = wiring or SHARED_STACK
    assert cluster.oidc_provider_arn is not None and cluster.oidc_issuer is not None
    document = pulumi.Output.all(cluster.oidc_provider_arn, cluster.oidc_issuer).apply(
        lambda values: json.dumps(irsa_trust_policy_document(values[0], values[1], team_name, WORKLOAD_SERVICE_ACCOUNT))
    )
    return aws.iam.Role(
        f"{team_name}-workload",
        name=wiring.role_names.get(team_name),
        description=cluster.cluster_name.apply(lambda name: f"Workload identity of team {team_name} on cluster {name} (IRSA)"),
        assume_role_policy=document,
        max_session_duration=3600,
        tags=tags,
        opts=wiring.resource_options(),
    )


def deploy_teams(config: PlatformConfig, args: ComponentArgs, buckets: dict[str, GrantableBucket] | None = None, *, cluster: ClusterReference | None = None,
                 wiring: StackWiring | None = None) -> dict[str, Any]:
    """Register every team's buckets, namespace, workload role and grants.

    Per team, when ``components.dataBuckets`` is on and the cloud is AWS: one :class:`S3DataBucket`
    per configured bucket. When ``components.teamNamespaces`` is on: a :class:`TeamNamespace`
    (namespace = team name) on the cluster, through the cluster's Kubernetes provider. With a
    cluster on AWS: an IAM workload role trusted by the namespace's ``workload`` ServiceAccount
    through the cluster's OIDC provider (IRSA, both from the cluster stack's outputs), granted
    read-write on the team's own buckets and whatever other teams' buckets grant it in config. A stack with any
    ``accessLogging`` bucket also gets one :class:`AccessLogBucket` (SSE-S3, since S3 server access
    logging cannot write to an SSE-KMS bucket).

    Args:
        config: the validated stack config.
        args: the components' validated arguments (:func:`component_args`).
        buckets: filled with each AWS bucket's short name to its :class:`S3DataBucket`, for
            :func:`deploy_gpu_boxes`' grants.
        cluster: the stack's cluster (:func:`connect_cluster`); required for team namespaces.
        wiring: aliases, role names, providers and the principals of teams in other stacks
            (:class:`StackWiring`; default: the shared stack's).

    Returns:
        ``{"teams": {team: {"namespace", "serviceAccount", "workloadRoleArn", "buckets": {bucket:
        {"name", "arn", "kmsKeyArn"}}}}}`` plus ``"accessLogBucket"`` when there is one.
    """
    standard = config.standard_tags()
    irsa = config.cloud is Cloud.AWS and cluster is not None and cluster.oidc_provider_arn is not None
    if args.namespaces and cluster is None:
        raise ConfigError("team namespaces need the stack's cluster; nothing was created",
                          [Issue("mlplat:cluster", None, "a cluster block (stack: <organization>/ml-platform-cluster/<env>) when team namespaces are deployed")])
    wiring = wiring or SHARED_STACK
    outputs: dict[str, Any] = {}
    teams: dict[str, dict[str, Any]] = {team.name: {} for team in config.teams}

    roles: dict[str, aws.iam.Role] = {}
    if irsa:
        assert cluster is not None
        for team in config.teams:
            roles[team.name] = _irsa_role(cluster, team.name, {**standard, "team": team.name}, wiring)
            teams[team.name]["workloadRoleArn"] = roles[team.name].arn

    if args.data_buckets:
        log_bucket = None
        if args.access_log_bucket is not None:
            log_bucket = AccessLogBucket(ACCESS_LOG_BUCKET, args.access_log_bucket, stateful_options(config))  # never aliased: one stack keeps the shared one
            outputs["accessLogBucket"] = log_bucket.bucket_name
        if not roles:
            pulumi.log.warn("no cluster (mlplat:cluster.stack), so no workload roles: buckets are created without grants")
        for team in config.teams:
            team_buckets: dict[str, Any] = {}
            for bucket_config in team.buckets:
                bucket_args = args.data_buckets[bucket_config.name]
                if log_bucket is not None and bucket_config.access_logging:
                    bucket_args = bucket_args.model_copy(update={"access_log_bucket": log_bucket.bucket_name})
                bucket = S3DataBucket(bucket_config.name, bucket_args, wiring.options(stateful_options(config)))
                if roles:
                    bucket.grant_read_write(roles[team.name])
                    for access in bucket_config.grants:
                        if access.team in roles:
                            bucket.grant(roles[access.team], access.access, access.prefix)
                        else:  # a team of another stack: its role by name, the grant named as in the shared stack
                            bucket.grant(wiring.external_grantees[access.team], access.access, access.prefix, name=f"{access.team}-workload")
                team_buckets[bucket_config.name] = {"name": bucket.bucket_name, "arn": bucket.arn, "kmsKeyArn": bucket.kms_key_arn}
                if buckets is not None:  # for deploy_gpu_boxes' grants
                    buckets[bucket_config.name] = bucket
            teams[team.name]["buckets"] = team_buckets

    for team_name, namespace_args in args.namespaces.items():
        if team_name in roles:
            namespace_args = namespace_args.model_copy(update={"irsa_role_arn": roles[team_name].arn})
        # Deleting a namespace deletes every workload and volume claim in it: stateful.
        assert cluster is not None
        namespace = TeamNamespace(team_name, namespace_args, opts=wiring.options(stateful_options(config), kubernetes=cluster.provider))
        teams[team_name]["namespace"] = namespace.namespace_name
        teams[team_name]["serviceAccount"] = namespace.service_account_name

    outputs["teams"] = teams
    return outputs


# --- GPU training boxes and GCP teams (issue 4) ---------------------------------------------


def _gcp_project() -> str:
    """The stack's ``gcp:project``.

    Raises:
        ConfigError: the stack config does not set ``gcp:project`` (a GCP stack needs it: the
            workload identity pool and every service account are in that project).
    """
    project = pulumi.Config("gcp").get("project")
    if not project:
        raise ConfigError(
            "a GCP stack needs the project it deploys to; nothing was created",
            [Issue("gcp:project", None, "a GCP project id (set it in stacks/Pulumi.<stack>.yaml: gcp:project: <project id>)")],
        )
    return project


def deploy_gcp_teams(config: PlatformConfig, args: ComponentArgs, buckets: dict[str, GrantableBucket], wiring: StackWiring = SHARED_STACK) -> dict[str, Any]:
    """On a GCP stack: per team a Workload Identity service account and its GCS data buckets.

    Each team gets a Google service account bound (``roles/iam.workloadIdentityUser``) to the
    ``workload`` Kubernetes ServiceAccount of its namespace; it gets read-write on its own buckets
    and whatever other teams' buckets grant it in config.

    Args:
        config: the validated stack config (``cloud: gcp``).
        args: the components' validated arguments (:func:`component_args`).
        buckets: filled with each bucket's short name to its :class:`~platform_lib.gcp.data_bucket.GcsDataBucket`,
            for :func:`deploy_gpu_boxes`.

    Returns:
        ``{"teams": {team: {"googleServiceAccount", "buckets": {bucket: {"name", "url"}}}}}``.
    """
    identities = {team: TeamWorkloadIdentity(team, identity_args, wiring.options()) for team, identity_args in args.identities.items()}
    teams: dict[str, Any] = {}
    for team in config.teams:
        team_buckets: dict[str, Any] = {}
        for bucket_config in team.buckets:
            bucket = GcsDataBucket(bucket_config.name, args.gcs_buckets[bucket_config.name], wiring.options(stateful_options(config)))
            bucket.grant_read_write(identities[team.name].account)
            for access in bucket_config.grants:
                if access.team in identities:
                    bucket.grant(identities[access.team].account, access.access, access.prefix)
                else:  # a team of another stack: its service account by e-mail, the grant named as in the shared stack
                    bucket.grant(wiring.external_grantees[access.team], access.access, access.prefix, name=f"{access.team}-workload")
            buckets[bucket_config.name] = bucket
            team_buckets[bucket_config.name] = {"name": bucket.bucket_name, "url": bucket.url}
        teams[team.name] = {"googleServiceAccount": identities[team.name].email, "buckets": team_buckets}
    return {"teams": teams}


def deploy_gpu_boxes(config: PlatformConfig, args: ComponentArgs, buckets: dict[str, GrantableBucket], wiring: StackWiring = SHARED_STACK) -> dict[str, Any]:
    """Register ``mlplat:gpuBoxes``: one GPU training box per entry, on the stack's cloud, with its grants.

    Args:
        config: the validated stack config.
        args: the components' validated arguments (:func:`component_args`; it has checked that
            every granted bucket is deployed).
        buckets: the stack's data buckets by short name (``S3DataBucket`` or ``GcsDataBucket``).

    Returns:
        ``{"gpuBoxes": {box: {"instanceId", "roleArn" (AWS) or "instanceName", "serviceAccount" (GCP),
        "grants": ["<access> <bucket>/<prefix>", ...]}}}``.
    """
    # A box holds a data volume: the stack's protect / retain-on-delete reach all its children.
    stateful = wiring.options(stateful_options(config))
    boxes: dict[str, Any] = {}
    for box_config in config.gpu_boxes:
        box_args = args.boxes[box_config.name]
        if isinstance(box_args, AwsGpuTrainingBoxArgs):
            box = AwsGpuTrainingBox(box_config.name, box_args, stateful)
            principal, summary = box.role, {"instanceId": box.instance_id, "roleArn": box.role_arn}
        else:
            box = GcpGpuTrainingBox(box_config.name, box_args, stateful)
            principal, summary = box.service_account, {"instanceName": box.instance_name, "serviceAccount": box.service_account_email}
        grants = [buckets[g.bucket].grant(principal, g.access, g.prefix) for g in box_config.grants]
        summary["grants"] = [f"{g.access.value} {g.bucket}/{g.prefix}" for g in grants]
        boxes[box_config.name] = summary
    return {"gpuBoxes": boxes}


def project_directory() -> Path:
    """The directory holding the running project's ``Pulumi.yaml`` (the engine's root directory,
    else the nearest one above the working directory)."""
    root = pulumi.runtime.get_root_directory() if hasattr(pulumi.runtime, "get_root_directory") else None
    if root and (Path(root) / "Pulumi.yaml").is_file():  # under mocks it is a placeholder string
        return Path(root)
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    return here


def static_site_args(config: PlatformConfig) -> list[tuple[str, StaticSiteArgs]]:
    """Validate every ``mlplat:staticSites`` entry as :class:`StaticSiteArgs`, before any resource.

    ``siteDir`` is relative to the project directory. Sites get the standard tags; the stack's
    protect / retain-on-delete settings are options given by :func:`deploy_static_sites`.

    Returns:
        ``(site name, validated arguments)`` per site, in config order.

    Raises:
        ComponentArgsError: a site's directory is missing or empty, or another argument is
            invalid (every problem of every site at once).
    """
    collected = _Collected()
    sites = _static_site_args(config, collected)
    if collected.issues:
        raise ComponentArgsError("invalid StaticSite arguments from the stack config; nothing was created", collected.issues)
    return sites


def _static_site_args(config: PlatformConfig, collected: _Collected) -> list[tuple[str, StaticSiteArgs]]:
    root = project_directory()
    tags = config.standard_tags()
    sites = []
    for site in config.static_sites:
        values = {
            "site_dir": root / site.site_dir,
            "domain_name": site.domain_name,
            "hosted_zone_id": site.hosted_zone_id,
            "certificate_arn": site.certificate_arn,
            "html_ttl_seconds": site.html_ttl_seconds,
            "asset_ttl_seconds": site.asset_ttl_seconds,
            "content_security_policy": site.content_security_policy,
            "tags": tags,
        }
        args = collected.component(StaticSite, site.name, values)
        if args is not None:
            sites.append((site.name, args))
    return sites


def deploy_static_sites(sites: list[tuple[str, StaticSiteArgs]], *, protect: bool = False, retain_on_delete: bool = False) -> dict[str, Any]:
    """Register one :class:`StaticSite` per validated site.

    Args:
        sites: ``(name, validated arguments)`` per site (:func:`static_site_args`).
        protect: protect each site's bucket, KMS key and distribution (the stack's
            ``protectResources``); content objects stay unprotected so a removed file can be
            deleted (see :func:`~platform_lib.aws.static_site.protect_stateful_children`).
        retain_on_delete: keep those in AWS when they leave the program (``retainResources``).

    Returns:
        ``{"staticSites": {name: {"url", "bucketName", "distributionId"}}}``.
    """
    opts = None
    if protect or retain_on_delete:
        opts = pulumi.ResourceOptions(transformations=[protect_stateful_children(protect, retain_on_delete)])
    outputs: dict[str, Any] = {}
    for name, args in sites:
        site = StaticSite(name, args, opts)
        outputs[name] = {"url": site.url, "bucketName": site.bucket_name, "distributionId": site.distribution_id}
    return {"staticSites": outputs}


def deploy_model_endpoints(args: ComponentArgs, namespaces: Mapping[str, pulumi.Input[str]] | None = None, *, cluster: ClusterReference | None = None,
                           wiring: StackWiring | None = None) -> dict[str, ModelEndpoint]:
    """Deploy every ``mlplat:endpoints`` entry as a ``ModelEndpoint`` in its team's namespace.

    Args:
        args: the components' validated arguments (:func:`component_args`), whose ``endpoints``
            are by ``<team>/<endpoint name>`` with the team's namespace set.
        namespaces: by team name, the name of the team's namespace when the stack creates it
            (``TeamNamespace.namespace_name``): it becomes the endpoint's ``namespace``, so every
            object of the endpoint waits for its team's namespace.
        cluster: the stack's cluster (:func:`connect_cluster`): every endpoint is registered
            through its Kubernetes provider, sends OTLP to its ``otelCollectorEndpoint`` and, when
            it requests GPUs, selects and tolerates its GPU node pools (:func:`cluster_endpoint_args`)
            unless the endpoint's config sets ``observability.otlpEndpoint`` / ``gpuPlacement``.
        wiring: aliases and providers (:class:`StackWiring`).

    Returns:
        The ``ModelEndpoint`` components by ``<team>/<endpoint name>``.
    """
    endpoints: dict[str, ModelEndpoint] = {}
    for key, endpoint_args in args.endpoints.items():
        team = key.split("/", 1)[0]
        name = f"{team}-{endpoint_args.service_name}"
        if namespaces and team in namespaces:
            endpoint_args = endpoint_args.model_copy(update={"namespace": namespaces[team]})
        opts = (wiring or SHARED_STACK).options()
        if cluster is not None:
            endpoint_args = cluster_endpoint_args(name, endpoint_args, cluster)
            opts = (wiring or SHARED_STACK).options(kubernetes=cluster.provider)
        endpoints[key] = ModelEndpoint(name, endpoint_args, opts)
    return endpoints


def cluster_endpoint_args(name: str, endpoint_args: ModelEndpointArgs, cluster: ClusterReference) -> ModelEndpointArgs:
    """An endpoint's arguments on ``cluster``: its OTLP endpoint is the cluster's OpenTelemetry
    Collector, and a GPU endpoint's pods select the labels every GPU node pool of the cluster
    carries and tolerate each pool's taints (:func:`~platform_lib.platform.cluster_reference.gpu_scheduling`).
    What the endpoint's config sets explicitly (``observability.otlpEndpoint``, ``gpuPlacement``) is kept.

    The new values are Outputs, checked by the component when they arrive; a GPU endpoint on a
    cluster without GPU node pools fails then with :class:`ClusterOutputError`.
    """
    values = {field: getattr(endpoint_args, field) for field in type(endpoint_args).model_fields}
    observability = endpoint_args.observability
    if "otlp_endpoint" not in observability.model_fields_set:
        values["observability"] = {**{field: getattr(observability, field) for field in type(observability).model_fields}, "otlp_endpoint": cluster.otel_collector_endpoint}
    if endpoint_args.resources.gpu and not endpoint_args.gpu_placement.model_fields_set:

        def scheduling(pools: list[dict[str, Any]]) -> Any:
            if not pools:
                raise ClusterOutputError(f"the endpoint {name} requests GPUs, but the cluster stack {cluster.stack} has no GPU node pools (gpuNodePools is empty)")
            return gpu_scheduling(pools)

        placement = cluster.gpu_node_pools.apply(scheduling)
        values["gpu_placement"] = {"node_selector": placement.apply(lambda p: p.node_selector), "tolerations": placement.apply(lambda p: p.tolerations)}
    return ModelEndpoint.validate_args(name, values)
