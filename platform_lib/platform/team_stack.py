"""One team's stack, ``<team>-<environment>`` of the project ``ml-platform-team`` (``team-stack/``).

The program reads the request file of the team its stack name names (``teams/<team>.yaml``),
validates it together with every other request file (cross-team grants), takes the environment's
settings from the shared stack (``stacks/Pulumi.<env>.yaml``: environment, cloud, region, tags,
cluster, protection) and registers only that team's resources, reusing the shared stack's
composition (:mod:`.compose`):

- namespace, quota, LimitRange, RBAC and network policies (``TeamNamespace``), on the cluster the
  cluster stack exports (:func:`~.cluster_reference.reference_cluster`: Kubernetes provider from
  its kubeconfig, OIDC provider for IRSA);
- data buckets and their grants (``S3DataBucket`` / ``GcsDataBucket``); a grant to a team of
  another stack goes to that team's workload role by name (``<team>-<env>-workload``, or the
  ``migratedFrom.workloadRoleName`` its file keeps) or its GCP service account by e-mail;
- the workload identity (IRSA role, or ``TeamWorkloadIdentity`` on GCP), GPU boxes, model endpoints;
- the team's JupyterHub (``MlWorkspace``) and monthly budget (``TeamBudget``);
- the team's observability (``TeamObservability``: its and its endpoints' dashboards, recording
  rules, the hub's ServiceMonitor, its alert route to the receivers of ``alerts.receivers``), and
  a ``DriftMonitor`` per endpoint with ``drift`` (the team's namespace and workload service
  account; the drift job's image from ``teams/_platform.yaml``).

A stack needs no ``Pulumi.<stack>.yaml``: its name says which team and environment it is, and
the request file says the rest, so a team's pull request touches one file. Cloud providers are
explicit (region and project from the shared stack's config), since there is no stack file to
hold ``aws:region``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from ..core.errors import ComponentArgsError, ConfigError, Issue
from ..core.yaml_files import read_yaml_file
from ..k8s.quota import ResourceQuotaSpec
from .compose import StackWiring, build_platform, component_args, connect_cluster, stateful_options
from .config import Cloud, PlatformConfig
from .teams import (
    PLATFORM_FILE, REQUEST_DIR, RequestError, TeamEnvironment, TeamRequests, load_requests, load_shared_config,
    split_stack_name, team_platform_config,
)

__all__ = ["TEAM_PROJECT", "TeamStack", "build_team_stack", "load_team_stack", "workload_role_name"]

#: The team stacks' Pulumi project name (``team-stack/Pulumi.yaml``).
TEAM_PROJECT = "ml-platform-team"


@dataclass
class TeamStack:
    """One team stack, resolved and validated.

    Attributes:
        stack: ``<team>-<environment>``.
        team: the team's name.
        environment: the environment key of ``teams/_platform.yaml``.
        shared_stack: the shared stack whose settings apply (``stacks/Pulumi.<shared_stack>.yaml``).
        requests: every request file, validated.
        section: the team's section for the environment.
        config: the shared stack's config narrowed to this team (:func:`~.teams.team_platform_config`).
        provider_config: the shared stack's ``aws:region``, ``gcp:project``, ``gcp:region`` (those set).
    """

    stack: str
    team: str
    environment: str
    shared_stack: str
    requests: TeamRequests
    section: TeamEnvironment
    config: PlatformConfig
    provider_config: dict[str, str]

    @property
    def file(self) -> str:
        """The request file, relative to the repository root."""
        return self.requests.files[self.team]


def workload_role_name(requests: TeamRequests, team: str, environment: str) -> str:
    """The physical name of a team's IAM workload role in a team stack: the role name its file's
    ``migratedFrom.workloadRoleName`` keeps, else ``<team>-<environment>-workload``."""
    migrated = requests.requests[team].environments[environment].migrated_from
    if migrated is not None and migrated.workload_role_name:
        return migrated.workload_role_name
    return f"{team}-{environment}-workload"


def gcp_workload_member(team: str, project: str) -> str:
    """The IAM member of a team's GCP workload service account (``TeamWorkloadIdentity``'s naming)."""
    from ..gcp import letter_first

    return f"serviceAccount:{letter_first(f'{team[:21].rstrip(chr(45))}-workload')}@{project}.iam.gserviceaccount.com"


def load_team_stack(root: Path | str, stack: str) -> TeamStack:
    """Resolve ``<team>-<environment>`` and validate every request file.

    Raises:
        RequestError: the name names no team with a request file, or an environment the team's
            file has no section for, or any request file is invalid (file and key per problem).
    """
    root = Path(root)
    requests = load_requests(root)
    environments = list(requests.platform.environments)
    try:
        team, environment = split_stack_name(stack, environments)
    except ValueError as error:
        raise RequestError(f"team stack {stack!r}", [Issue("stack", stack, str(error))]) from None
    if team not in requests.requests:
        raise RequestError(f"team stack {stack!r}", [Issue("stack", stack, f"<team>-<environment> of a team with a request file in {REQUEST_DIR}/ "
                                                                       f"({', '.join(sorted(requests.requests)) or 'none'}); create one with: mlplat team new {team}")])
    request = requests.requests[team]
    if environment not in request.environments:
        raise RequestError(f"team stack {stack!r}", [Issue(f"{requests.files[team]}: environments", environment,
                                                           f"a section for {environment} (the file has {', '.join(request.environments)})")])
    shared_stack = requests.platform.environments[environment].shared_stack or environment
    shared = load_shared_config(root, shared_stack)
    document = read_yaml_file(root / "stacks" / f"Pulumi.{shared_stack}.yaml") or {}
    provider_config = {key: str(value) for key, value in (document.get("config") or {}).items() if key in ("aws:region", "gcp:project", "gcp:region")}
    return TeamStack(stack=stack, team=team, environment=environment, shared_stack=shared_stack, requests=requests,
                     section=request.environments[environment], config=team_platform_config(requests, team, environment, shared),
                     provider_config=provider_config)


def _cloud_provider(team_stack: TeamStack) -> pulumi.ProviderResource:
    config = team_stack.config
    if config.cloud is Cloud.AWS:
        import pulumi_aws as aws

        return aws.Provider("aws", region=team_stack.provider_config.get("aws:region", config.region))
    import pulumi_gcp as gcp

    return gcp.Provider("gcp", project=team_stack.provider_config.get("gcp:project"), region=team_stack.provider_config.get("gcp:region", config.region))


def _gcp_project(team_stack: TeamStack) -> str:
    project = team_stack.provider_config.get("gcp:project")
    if not project:
        raise ConfigError("a GCP team stack needs the shared stack's GCP project; nothing was created",
                          [Issue(f"stacks/Pulumi.{team_stack.shared_stack}.yaml: gcp:project", None, "a GCP project id")])
    return project


def wiring_for(team_stack: TeamStack) -> StackWiring:
    """The team stack's :class:`~.compose.StackWiring`: explicit cloud provider, migration
    aliases, role names, other teams' principals (the cluster is the shared stack's
    ``mlplat:cluster.stack``, referenced by the composition)."""
    config, requests, env = team_stack.config, team_stack.requests, team_stack.environment
    migrated = team_stack.section.migrated_from
    aliases = (pulumi.Alias(project=migrated.project, stack=migrated.stack),) if migrated is not None else ()
    others = {grant.team for bucket in team_stack.section.buckets for grant in bucket.grants} - {team_stack.team}
    if config.cloud is Cloud.AWS:
        external = {team: workload_role_name(requests, team, env) for team in others}
        role_names = {team_stack.team: workload_role_name(requests, team_stack.team, env)}
        gcp_project = None
    else:
        gcp_project = _gcp_project(team_stack)
        external = {team: gcp_workload_member(team, gcp_project) for team in others}
        role_names = {}
    return StackWiring(
        aliases=aliases,
        role_names=role_names,
        external_grantees=external,
        cloud_provider=_cloud_provider(team_stack),
        gcp_project=gcp_project,
    )


def build_team_stack(team_stack: TeamStack) -> dict[str, Any]:
    """Register the team's resources and return the stack outputs.

    The cluster is the shared stack's (``mlplat:cluster.stack``: one ``StackReference`` and a
    Kubernetes provider, by the composition); every component's arguments are validated before
    the first resource (as the shared stack's), so a bad request registers nothing.

    Returns:
        ``team``, ``environment``, the shared stack's outputs for the team (``teams.<team>``:
        namespace, service account, workload role, buckets), ``modelEndpoints``, ``gpuBoxes``,
        ``workspace`` and ``budget`` where present.
    """
    config = team_stack.config
    # Every argument is checked before the first resource (the cluster reference and providers too).
    gcp_project = _gcp_project(team_stack) if config.cloud is Cloud.GCP else None
    component_args(config, gcp_project=gcp_project)
    budget_values = _budget_values(team_stack, gcp_project)
    budget_component = _budget_component(config)
    workspace_values = _workspace_values(team_stack)
    observability_values = _observability_values(team_stack)
    drift_values = _drift_values(team_stack)
    issues: list[Issue] = []
    checks = [(budget_component, f"{team_stack.team}-budget", budget_values), (_ml_workspace(), f"{team_stack.team}-workspace", workspace_values),
              (_team_observability(), f"{team_stack.team}-observability", observability_values)]
    checks += [(_drift_monitor(), name, values) for name, values in drift_values.items()]
    for component, name, values in checks:
        if values is None:
            continue
        try:
            component.validate_args(name, values)
        except ComponentArgsError as error:
            issues.extend(error.issues)
    if issues:
        raise ComponentArgsError(f"invalid component arguments from {team_stack.file}; nothing was created", issues)
    wiring = wiring_for(team_stack)
    cluster = connect_cluster(config)
    outputs = build_platform(config, wiring, cluster=cluster)
    budget = budget_component(f"{team_stack.team}-budget", budget_component.validate_args(f"{team_stack.team}-budget", budget_values),
                              wiring.options(stateful_options(config)))  # its topic's KMS key: protected as the stack's other keys
    outputs["budget"] = {"name": budget.budget_name, "monthlyUsd": team_stack.section.budget.monthly_usd}
    team_outputs = (outputs.pop("teams", {}) or {}).get(team_stack.team, {})
    if workspace_values is not None:
        assert cluster is not None and "namespace" in team_outputs  # the request checks: a workspace needs team namespaces
        values = {**workspace_values, "namespace": team_outputs["namespace"], "service_account_name": team_outputs["serviceAccount"]}
        # The hub's database and the users' home volumes live in it: stateful, as the namespace.
        workspace = _ml_workspace()(f"{team_stack.team}-workspace", _ml_workspace().validate_args(f"{team_stack.team}-workspace", values),
                                    wiring.options(stateful_options(config), kubernetes=cluster.provider))
        outputs["workspace"] = {"url": workspace.url, "release": workspace.release_name}
    if observability_values is not None:
        assert cluster is not None
        values = {**observability_values, **({"namespace": team_outputs["namespace"]} if "namespace" in team_outputs else {})}
        observability = _team_observability()(f"{team_stack.team}-observability", values, wiring.options(kubernetes=cluster.provider))
        outputs["dashboards"] = observability.dashboards
    if drift_values:
        assert cluster is not None and "namespace" in team_outputs  # the request checks: drift needs team namespaces
        outputs["driftMonitors"] = {}
        for name, values in drift_values.items():
            monitor = _drift_monitor()(name, {**values, "namespace": team_outputs["namespace"], "service_account_name": team_outputs["serviceAccount"]},
                                       wiring.options(kubernetes=cluster.provider))
            outputs["driftMonitors"][values["endpoint"]] = monitor.cron_job_name
    outputs.pop("region", None)
    result: dict[str, Any] = {"team": team_stack.team, "environment": config.environment.value, "sharedStack": team_stack.shared_stack, **team_outputs, **outputs}
    return result


def _budget_component(config: PlatformConfig) -> type:
    if config.cloud is Cloud.AWS:
        from ..aws.budget import AwsTeamBudget

        return AwsTeamBudget
    from ..gcp.budget import GcpTeamBudget

    return GcpTeamBudget


def _budget_values(team_stack: TeamStack, gcp_project: str | None) -> dict[str, Any]:
    """The team budget's arguments: the request's monthly amount and alert e-mails, the team's
    standard tags (the budget counts the costs tagged ``team=<team>``)."""
    request = team_stack.section.budget
    tags = team_stack.config.standard_tags()
    if team_stack.config.cloud is Cloud.AWS:
        return {"monthly_budget_usd": request.monthly_usd, "tags": {k: v for k, v in tags.items() if k != "managed-by"}, "email_subscribers": list(request.alert_emails)}
    return {"monthly_budget_usd": request.monthly_usd, "labels": {k: v for k, v in tags.items() if k != "managed-by"}, "project": gcp_project,
            "billing_account": team_stack.requests.platform.environments[team_stack.environment].gcp_billing_account}


def _team_observability() -> type:
    from ..k8s.team_observability import TeamObservability

    return TeamObservability


def _drift_monitor() -> type:
    from ..k8s.drift_monitor import DriftMonitor

    return DriftMonitor


def _observability_values(team_stack: TeamStack) -> dict[str, Any] | None:
    """The team's ``TeamObservability`` arguments (``None`` where the shared stack deploys no team
    namespaces or no cluster): the team's view (budget, workspace, the request's receivers, each a
    Secret reference) and one view per endpoint with its own metric names and objectives."""
    config = team_stack.config
    if not config.components.team_namespaces or config.cluster is None:
        return None
    team, section = config.teams[0], team_stack.section
    endpoints = []
    for endpoint in section.endpoints:
        observability = endpoint.observability
        endpoints.append({
            "name": endpoint.name, "namespace": team.name, "team": team.name, "cloud": config.cloud.value,
            "request_metric": observability.request_metric, "latency_metric": observability.latency_metric,
            "quality_metric": observability.slo.quality_metric, "quality_objective": observability.slo.quality_objective,
            "error_rate_percent": observability.slo.error_rate_percent, "latency_p99_seconds": observability.slo.latency_p99_seconds,
            "progressive": endpoint.canary is not None or endpoint.ab_test is not None, "drift": endpoint.drift is not None,
        })
    return {
        "labels": {key: value for key, value in config.standard_tags().items() if key != "managed-by"},
        "team": {"name": team.name, "monthly_budget_usd": float(section.budget.monthly_usd), "workspace": bool(section.workspace.enabled),
                 "receivers": [receiver.receiver() for receiver in section.alerts.receivers]},
        "endpoints": endpoints,
    }


def _drift_values(team_stack: TeamStack) -> dict[str, dict[str, Any]]:
    """A ``DriftMonitor``'s arguments per endpoint with ``drift``, by component name
    (``<team>-<endpoint>-drift``): the request's settings, the drift job's image of the
    environment, the team's namespace and workload service account (their names here; the
    TeamNamespace's outputs when created), alerts paging in prod."""
    config = team_stack.config
    image = team_stack.requests.platform.environments[team_stack.environment].drift_job_image
    labels = {key: value for key, value in config.standard_tags().items() if key != "managed-by"}
    values = {}
    for endpoint in team_stack.section.endpoints:
        if endpoint.drift is None:
            continue
        values[f"{team_stack.team}-{endpoint.name}-drift"] = {
            **endpoint.drift.model_dump(), "endpoint": endpoint.name, "namespace": team_stack.team, "service_account_name": "workload",
            "image": image, "labels": labels, "alert_severity": "page" if config.is_production else "ticket",
        }
    return values


def _ml_workspace() -> type:
    from ..k8s.ml_workspace import MlWorkspace

    return MlWorkspace


def _workspace_values(team_stack: TeamStack) -> dict[str, Any] | None:
    """The team's ``MlWorkspace`` arguments (``None`` without a workspace): its group, quota and
    profiles from the request; hostname, OIDC client and Ingress class from ``teams/_platform.yaml``
    (the client secret is a Kubernetes Secret in the team's namespace, never in Pulumi's state);
    egress to the cluster's HTTPS CIDRs; the cloud's workload identity. ``namespace`` is the team's
    name here and the TeamNamespace's output when the workspace is created."""
    request = team_stack.section.workspace
    if not request.enabled or not team_stack.config.components.team_namespaces:
        return None
    platform = team_stack.requests.platform.environments[team_stack.environment].workspace
    assert platform is not None  # load_requests refuses a workspace without it
    config, team = team_stack.config, team_stack.config.teams[0]
    issuer = platform.oidc_issuer.rstrip("/")
    tags = config.standard_tags()
    return {
        "namespace": team.name,
        "labels": {key: value for key, value in tags.items() if key != "managed-by"},
        "identity_group": team.identity_group,
        "quota": ResourceQuotaSpec(**team.quota.model_dump()),
        "oidc": {
            "client_id": platform.client_id.replace("{team}", team.name).replace("{environment}", team_stack.environment),
            "client_secret_ref": {"name": platform.client_secret_name, "key": "client-secret"},
            "authorize_url": f"{issuer}/authorize",
            "token_url": f"{issuer}/token",
            "userdata_url": f"{issuer}/userinfo",
        },
        "hostname": f"{team.name}.{platform.domain}",
        "profiles": [{"slug": p.name, "cpu": p.cpu, "memory_gib": p.memory_gib, "gpu": p.gpu, "default": p.default} for p in request.profiles],
        "idle_timeout_seconds": request.idle_cull_minutes * 60,
        "user_storage_gib": request.storage_gib,
        "egress_https_cidrs": list(config.cluster.egress_https_cidrs) if config.cluster is not None else [],
        "allow_internet_egress": request.allow_internet_egress,
        "workload_identity": "aws-irsa" if config.cloud is Cloud.AWS else "gke",
        "ingress_class_name": platform.ingress_class_name,
    }


def main(root: Path | str) -> None:
    """The team project's program: the stack named by ``pulumi.get_stack()``, exported."""
    team_stack = load_team_stack(root, pulumi.get_stack())
    for name, value in build_team_stack(team_stack).items():
        pulumi.export(name, value)
