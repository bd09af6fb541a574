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
- the team's JupyterHub (``MlWorkspace``) and monthly budget (``TeamBudget``).

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
from .compose import StackWiring, build_platform, component_args, stateful_options
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
    issues: list[Issue] = []
    try:
        budget_component.validate_args(f"{team_stack.team}-budget", budget_values)
    except ComponentArgsError as error:
        issues.extend(error.issues)
    if issues:
        raise ComponentArgsError(f"invalid component arguments from {team_stack.file}; nothing was created", issues)
    wiring = wiring_for(team_stack)
    outputs = build_platform(config, wiring)
    budget = budget_component(f"{team_stack.team}-budget", budget_component.validate_args(f"{team_stack.team}-budget", budget_values),
                              wiring.options(stateful_options(config)))  # its topic's KMS key: protected as the stack's other keys
    outputs["budget"] = {"name": budget.budget_name, "monthlyUsd": team_stack.section.budget.monthly_usd}
    team_outputs = (outputs.pop("teams", {}) or {}).get(team_stack.team, {})
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


def main(root: Path | str) -> None:
    """The team project's program: the stack named by ``pulumi.get_stack()``, exported."""
    team_stack = load_team_stack(root, pulumi.get_stack())
    for name, value in build_team_stack(team_stack).items():
        pulumi.export(name, value)
