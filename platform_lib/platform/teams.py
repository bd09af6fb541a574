"""Team request files (``teams/<team>.yaml``) and the platform's capacity file (``teams/_platform.yaml``).

A team asks for everything it runs in one reviewed file, one section per environment::

    # teams/fraud.yaml
    identityGroup: ml-fraud-engineers
    environments:
      prod:
        quota: {cpu: 96, memoryGib: 384, gpu: 8, pods: 200}
        buckets: [{name: fraud-features-prod, grants: [{team: risk, access: read}]}]
        gpuBoxes: [...]       # GpuBox entries (``team`` is the file's team)
        endpoints: [...]      # Endpoint entries (``team`` is the file's team)
        workspace: {profiles: [{name: cpu-small, cpu: 2, memoryGib: 8}]}
        budget: {monthlyUsd: 20000, alertEmails: [fraud-leads@example.com]}

The models reuse the shared stack's config models (:class:`~.config.TeamQuota`,
:class:`~.config.TeamBucket`, :class:`~.config.GpuBox`, :class:`~.config.Endpoint`, and a
:class:`~.config.Team` is built from each section), so a team's file and the shared stack validate
the same way. :func:`load_requests` reads and validates *every* request file at once (cross-team
grants are checked against the other files), with each problem reported as
``teams/<team>.yaml: <key path>: got <value>; expected <what>``; nothing is registered when one
is wrong. ``docs/teams.md`` documents the format; ``docs/teams.schema.json`` (from
:func:`request_json_schema`) lets editors validate it.

Units: vCPU, GiB, whole GPUs, US dollars per month, minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import Field, field_validator
from pydantic.alias_generators import to_camel

from ..core.errors import ConfigError, Issue, issues_from_validation_error
from ..core.kubernetes_names import DNS_LABEL
from ..core.yaml_files import read_yaml_file
from ..k8s.checks import check_identity_group
from ..k8s.quota import ResourceQuotaSpec
from .config import NAMESPACE, Endpoint, GpuBox, Model, PlatformConfig, Team, TeamBucket, TeamQuota, Tags, cross_reference_issues

__all__ = [
    "PLATFORM_FILE", "REQUEST_DIR", "MigratedFrom", "PlatformTeams", "RequestError", "TeamBudgetRequest", "TeamEnvironment",
    "TeamRequest", "TeamRequests", "WorkspaceProfile", "WorkspaceRequest", "load_requests", "request_json_schema", "split_stack_name",
]

#: The directory of the request files, relative to the repository root.
REQUEST_DIR = "teams"
#: The platform team's file in :data:`REQUEST_DIR`: cluster capacity and shares per environment.
PLATFORM_FILE = "_platform.yaml"
#: A team name: what :class:`~.config.Team` accepts (a DNS label of 2 to 40 characters).
TEAM_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])$")


class RequestError(ConfigError):
    """One or more request files (or ``teams/_platform.yaml``) are invalid; every problem at once.

    Each issue's path is ``<file relative to the repository>: <key path>``.
    """


# ----------------------------------------------------------------------------- request models


class WorkspaceProfile(Model):
    """One JupyterHub server profile a team member can pick (a single-user pod's size).

    Attributes:
        name: the profile's slug (a DNS label), e.g. ``cpu-small`` or ``gpu-1``.
        cpu: vCPU guaranteed to the server (its request; the limit is the same).
        memory_gib: memory in GiB (request and limit).
        gpu: whole NVIDIA GPUs; needs a quota with GPUs.
        default: the profile pre-selected in the spawner (at most one).
    """

    name: str = Field(min_length=1, max_length=40, pattern=f"^{DNS_LABEL}$")
    cpu: float = Field(gt=0, le=256)
    memory_gib: float = Field(gt=0, le=4096)
    gpu: int = Field(default=0, ge=0, le=16)
    default: bool = False


def _default_profiles() -> list[WorkspaceProfile]:
    return [WorkspaceProfile(name="cpu-small", cpu=1, memory_gib=4, default=True)]


class WorkspaceRequest(Model):
    """The team's JupyterHub (an ``MlWorkspace``), in its namespace.

    Attributes:
        enabled: deploy the workspace.
        profiles: the server profiles; each must fit the team's quota, and a GPU profile needs
            GPUs in it.
        idle_cull_minutes: stop a server after this many idle minutes (5 to 10080).
        storage_gib: each user's home volume, in GiB (at most the quota's storage).
        allow_internet_egress: let notebooks reach public IPs (package indexes, model hubs); off
            by default (an explicit opt-out of the default-deny egress).
    """

    enabled: bool = True
    profiles: list[WorkspaceProfile] = Field(default_factory=_default_profiles, min_length=1)
    idle_cull_minutes: int = Field(default=60, ge=5, le=10080)
    storage_gib: int = Field(default=10, ge=1, le=1000)
    allow_internet_egress: bool = False


class TeamBudgetRequest(Model):
    """The team's monthly cost budget in one environment (an AWS Budget or GCP billing budget,
    filtered on the ``team`` tag/label; alerts at 80% and 100% of actual and forecast spend).

    Attributes:
        monthly_usd: the budget in US dollars per month; required, greater than 0.
        alert_emails: who the alerts reach (besides the team's notification topic).
    """

    monthly_usd: float = Field(gt=0, le=10_000_000)
    alert_emails: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", email):
                raise ValueError(f"e-mail addresses (name@domain); {email!r} is not one")
        return emails


class MigratedFrom(Model):
    """Where this team's resources lived before the team got its own stack (see ``docs/teams.md``,
    "Moving a team out of the shared stack"). Each of the team stack's top-level components then
    carries ``aliases=[pulumi.Alias(project=..., stack=...)]``: the old URN, so Pulumi moves the
    resource instead of replacing it.

    Attributes:
        project: the shared stack's project name (``ml-platform``).
        stack: the shared stack's name (``prod``).
        workload_role_name: the team's IAM workload role's physical name in the shared stack
            (``pulumi stack output`` / the console): kept so the role is not renamed, hence not
            replaced; omit for the default ``<team>-<environment>-workload``.
    """

    project: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    stack: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    workload_role_name: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[\w+=,.@-]+$")


class ReceiverSecret(Model):
    """An existing Kubernetes Secret's key in the team's namespace (``{name, key}``), holding a
    receiver's Slack webhook URL, https webhook URL or PagerDuty routing key. Made outside Pulumi
    (e.g. External Secrets from the cloud's secret manager): the request file is reviewed plain
    YAML and holds no secret."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)


class TeamAlertReceiver(Model):
    """Where the team's alerts go (:class:`~platform_lib.k8s.observability_spec.AlertReceiver`,
    with the secret as a Secret reference only).

    Attributes:
        name: the receiver's name, a DNS label, unique in the team's section.
        kind: ``slack``, ``webhook`` (https) or ``pagerduty``.
        secret_ref: the Secret key holding its URL or routing key (:class:`ReceiverSecret`).
        channel: the Slack channel (``#name``), slack only.
        severities: the ``severity`` values routed here (default page, ticket, critical, warning).
    """

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    kind: Literal["slack", "webhook", "pagerduty"]
    secret_ref: ReceiverSecret
    #: Refused: a request file holds no secret (the value is masked before it is reported).
    secret: Any = None
    channel: str | None = None
    severities: list[Literal["page", "ticket", "critical", "warning", "info"]] | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _mask_secret(cls, data: Any) -> Any:
        # ``secret`` and any key a receiver does not have (``webhookUrl``, ``url``, ``routingKey``...)
        # are masked before they can be reported: such a key is where a pasted secret would be.
        if isinstance(data, dict):
            from ..core.secrets import SECRET_PLACEHOLDER

            known = {"name", "kind", "secretRef", "secret_ref", "channel", "severities"}
            data = {key: value if key in known or value is None else SECRET_PLACEHOLDER for key, value in data.items()}
        return data

    @field_validator("secret")
    @classmethod
    def _no_secret(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError("no value: a request file is reviewed plain YAML and holds no secret; name an existing Secret of the team's namespace with secretRef: {name, key}")
        return value

    @pydantic.model_validator(mode="after")
    def _a_receiver(self) -> "TeamAlertReceiver":
        self.receiver()  # the component's own checks (name, channel only on slack)
        return self

    def receiver(self) -> Any:
        """The :class:`~platform_lib.k8s.observability_spec.AlertReceiver` (raises ``ValueError``)."""
        from ..core.errors import ComponentArgsError
        from ..k8s.observability_spec import AlertReceiver

        values = {"name": self.name, "kind": self.kind, "secret_ref": self.secret_ref.model_dump(), "channel": self.channel}
        if self.severities is not None:
            values["severities"] = list(self.severities)
        try:
            return AlertReceiver.model_validate(values)
        except (pydantic.ValidationError, ComponentArgsError) as error:
            raise ValueError(str(error)) from None


class TeamAlerts(Model):
    """Where the team's alerts go in one environment.

    Attributes:
        receivers: the team's receivers (each alert goes to every receiver listing its severity);
            none: the namespace's alerts go to the platform's receivers.
    """

    receivers: list[TeamAlertReceiver] = Field(default_factory=list, max_length=10)

    @field_validator("receivers")
    @classmethod
    def _distinct(cls, receivers: list[TeamAlertReceiver]) -> list[TeamAlertReceiver]:
        names = [r.name for r in receivers]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"receivers with distinct names (repeated: {', '.join(repeated)})")
        return receivers


class TeamEnvironment(Model):
    """What a team runs in one environment.

    Attributes:
        quota: the namespace's resource quota (vCPU, GiB, GPUs, counts); at most the cluster's
            share per team (``teams/_platform.yaml``).
        pod_security: the Pod Security Standards level of the namespace.
        identity_group: overrides the file's ``identityGroup`` in this environment.
        buckets: the team's data buckets, with grants to other teams (named by their files).
        gpu_boxes: GPU training boxes (:class:`~.config.GpuBox`; ``team`` defaults to the file's).
        endpoints: model endpoints (:class:`~.config.Endpoint`; ``team`` defaults to the file's).
        workspace: the team's JupyterHub.
        budget: the monthly budget; required.
        alerts: where the team's alerts go (:class:`TeamAlerts`; receivers reference Secrets).
        migrated_from: the shared stack the team's resources move from (aliases).
    """

    quota: TeamQuota
    pod_security: Literal["restricted", "baseline"] = "restricted"
    identity_group: str | None = Field(default=None, min_length=1, max_length=128)
    buckets: list[TeamBucket] = Field(default_factory=list)
    gpu_boxes: list[GpuBox] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)
    workspace: WorkspaceRequest = Field(default_factory=WorkspaceRequest)
    budget: TeamBudgetRequest
    alerts: TeamAlerts = Field(default_factory=TeamAlerts)
    migrated_from: MigratedFrom | None = None

    # The shared config's Team refuses a 'system:' group too, but only when the team stack builds it:
    # checked here, it is a problem at the file's key (exit 2), not a traceback from the program.
    _identity_group = field_validator("identity_group")(lambda group: group if group is None else check_identity_group(group))


class TeamRequest(Model):
    """One request file, ``teams/<team>.yaml``; the team's name is the file's name.

    Attributes:
        identity_group: the group whose members administer the team's namespace (see :class:`~.config.Team`).
        cost_center: the ``cost-center`` tag of the team's resources; default: the shared stack's.
        environments: the team's sections by environment (keys of ``teams/_platform.yaml``).
    """

    identity_group: str = Field(min_length=1, max_length=128)
    cost_center: str | None = Field(default=None, min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")
    environments: dict[str, TeamEnvironment] = Field(min_length=1)

    _identity_group = field_validator("identity_group")(check_identity_group)


# ----------------------------------------------------------------------------- platform file


class ClusterCapacity(ResourceQuotaSpec):
    """What a cluster can give all teams together (camelCase keys; fields as a quota's)."""

    model_config = pydantic.ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class WorkspacePlatform(Model):
    """How the teams' workspaces of one environment are reached and logged into.

    Attributes:
        domain: each team's hub is ``<team>.<domain>`` (the OAuth callback
            ``https://<team>.<domain>/hub/oauth_callback`` is registered at the identity provider).
        oidc_issuer: the identity provider's base URL; its ``/authorize``, ``/token`` and
            ``/userinfo`` endpoints are used.
        client_id: the OAuth client id of a team's hub; ``{team}`` and ``{environment}`` are replaced.
        client_secret_name: the Kubernetes Secret in the team's namespace holding the client
            secret (synced there by External Secrets from the cloud's secret manager; never in
            Pulumi's state); its key ``client-secret``.
        ingress_class_name: the IngressClass of the hubs' Ingresses; ``None``: no Ingress (the
            platform's gateway routes to each hub's ``proxy-public`` Service).
    """

    domain: str = Field(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$", max_length=200)
    oidc_issuer: str = Field(pattern=r"^https://[^\s/]+(/[^\s]*)?$")
    client_id: str = Field(default="jupyterhub-{team}-{environment}", min_length=1, max_length=200)
    client_secret_name: str = Field(default="jupyterhub-oidc", pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    ingress_class_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class EnvironmentCapacity(Model):
    """One environment's team stacks.

    Attributes:
        shared_stack: the shared platform stack (``stacks/Pulumi.<name>.yaml``) whose settings
            (environment, cloud, region, tags, cluster) the team stacks use; default: the key.
        gcp_billing_account: the Cloud Billing account of the teams' budgets (GCP environments;
            ``XXXXXX-XXXXXX-XXXXXX``).
        capacity: the cluster's allocatable capacity for team namespaces.
        max_team_share_percent: the most of each capacity dimension one team's quota may take.
        drift_job_image: the drift job's image (``pulumi-mlplat[drift]`` installed), pinned by
            digest: required when an endpoint of the environment has ``drift``.
        workspace: how the environment's team workspaces are reached and logged into; required
            when a team's section has a workspace.
    """

    shared_stack: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    drift_job_image: str | None = Field(default=None, pattern=r"^[^\s@]+@sha256:[0-9a-f]{64}$")
    gcp_billing_account: str | None = Field(default=None, pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
    capacity: ClusterCapacity
    max_team_share_percent: float = Field(default=50, gt=0, le=100)
    workspace: WorkspacePlatform | None = None

    def share(self, field_name: str) -> float:
        """The most one team may ask of ``field_name`` (a quota field)."""
        return getattr(self.capacity, field_name) * self.max_team_share_percent / 100


class PlatformTeams(Model):
    """``teams/_platform.yaml``, owned by the platform team.

    Attributes:
        codeowners: the CODEOWNERS owner of a team's file; ``{team}`` is replaced by the team name.
        environments: the environments team stacks exist in (the stack ``<team>-<environment>``).
    """

    codeowners: str = Field(default="@org/{team}-team", min_length=2)
    environments: dict[str, EnvironmentCapacity] = Field(min_length=1)


# ----------------------------------------------------------------------------- loading


@dataclass
class TeamRequests:
    """Every request file and the platform file, validated together.

    Attributes:
        root: the repository root.
        platform: ``teams/_platform.yaml``.
        requests: by team name, the validated request.
        files: by team name, the request file's path relative to ``root``.
    """

    root: Path
    platform: PlatformTeams
    requests: dict[str, TeamRequest] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def stacks(self) -> list[str]:
        """Every team stack name, ``<team>-<environment>``, sorted."""
        return sorted(f"{team}-{env}" for team, request in self.requests.items() for env in request.environments)

    def team(self, name: str) -> Team:
        """The :class:`~.config.Team` of ``name`` in no environment in particular (first section)."""
        request = self.requests[name]
        env = next(iter(request.environments))
        return team_model(name, request, env)


def team_model(name: str, request: TeamRequest, env: str) -> Team:
    """The shared stack's :class:`~.config.Team` for one team in one environment."""
    section = request.environments[env]
    return Team(name=name, identity_group=section.identity_group or request.identity_group, quota=section.quota,
                buckets=section.buckets, pod_security=section.pod_security)


def split_stack_name(stack: str, environments: list[str] | dict[str, Any]) -> tuple[str, str]:
    """``(team, environment)`` of a team stack name ``<team>-<environment>`` (the longest
    environment that ends the name wins: ``fraud-gcp-dev`` is ``fraud`` in ``gcp-dev``).

    Raises:
        ValueError: no known environment ends the name, or nothing is left for the team.
    """
    for env in sorted(environments, key=len, reverse=True):
        if stack.endswith(f"-{env}") and len(stack) > len(env) + 1:
            return stack[: -len(env) - 1], env
    raise ValueError(f"a team stack name <team>-<environment> with an environment of teams/{PLATFORM_FILE} ({', '.join(environments)})")


def _read(path: Path, root: Path, issues: list[Issue]) -> Any:
    where = _relative(path, root)
    try:
        return read_yaml_file(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        issues.append(Issue(where, "<file>", f"a readable UTF-8 YAML file ({str(error).splitlines()[0]})"))
        return None


class _Described(str):
    """A value described, not echoed, in an :class:`Issue` (``got a symbolic link``)."""

    def __repr__(self) -> str:
        return str(self)


def _relative(path: Path, root: Path) -> str:
    # The path as given first: a symbolic link is named, not its target.
    for candidate, base in ((path, root), (path.resolve(), root.resolve())):
        try:
            return str(candidate.relative_to(base))
        except ValueError:
            continue
    return str(path)


def _located(file: str, issues: list[Issue]) -> list[Issue]:
    return [Issue(f"{file}: {issue.path}" if issue.path else file, issue.value, issue.expected) for issue in issues]


#: Mappings whose keys are data (feature names, label keys), spelled in errors as the file has them.
_DATA_KEY_FIELDS = ("featureThresholds", "labels", "annotations", "nodeSelector")


def _yaml_keys(path: str) -> str:
    """A pydantic location in YAML keys: the endpoint models locate errors by snake_case field
    names (``autoscaling.min_replicas``); the file spells them camelCase. A key of a data mapping
    (``drift.featureThresholds.merchant_id``) stays as written."""
    parts = path.split(".")
    converted: list[str] = []
    for part in parts:
        if converted and converted[-1] in _DATA_KEY_FIELDS:
            converted.append(part)
        else:
            converted.append(re.sub(r"[a-z0-9]+(?:_[a-z0-9]+)+", lambda match: to_camel(match.group()), part))
    return ".".join(converted)


def _with_team(raw: Any, team: str, file: str, issues: list[Issue]) -> Any:
    """Fill in ``team`` of the ``gpuBoxes`` and ``endpoints`` entries (the file's team); an entry
    naming another team is an issue."""
    if not isinstance(raw, dict) or not isinstance(raw.get("environments"), dict):
        return raw
    environments = {}
    for env, section in raw["environments"].items():
        if isinstance(section, dict):
            section = dict(section)
            for key in ("gpuBoxes", "endpoints"):
                entries = section.get(key)
                if isinstance(entries, list):
                    filled = []
                    for index, entry in enumerate(entries):
                        if isinstance(entry, dict):
                            if "team" in entry and entry["team"] != team:
                                issues.append(Issue(f"{file}: environments.{env}.{key}[{index}].team", entry["team"],
                                                    f"{team!r} (the file's team) or no value: a team requests only its own {key}"))
                            entry = {**entry, "team": team}
                        filled.append(entry)
                    section[key] = filled
        environments[env] = section
    return {**raw, "environments": environments}


def load_platform(root: Path) -> PlatformTeams:
    """``teams/_platform.yaml`` below ``root``, validated.

    Raises:
        RequestError: the file is missing or invalid (each problem at its key).
    """
    path = root / REQUEST_DIR / PLATFORM_FILE
    issues: list[Issue] = []
    if not path.is_file():
        raise RequestError("team requests", [Issue(_relative(path, root), "<missing>", "the platform's team capacity file (environments: {<env>: {capacity: ...}})")])
    if path.is_symlink():
        raise RequestError("invalid team platform file; nothing was created",
                           [Issue(_relative(path, root), _Described("a symbolic link"), "a regular file (a link is never read)")])
    raw = _read(path, root, issues)
    if not issues:
        try:
            return PlatformTeams.model_validate(raw)
        except pydantic.ValidationError as error:
            issues = _located(_relative(path, root), issues_from_validation_error(error))
    raise RequestError("invalid team platform file; nothing was created", issues)


def request_files(root: Path) -> dict[str, Path]:
    """By team name, every ``teams/<team>.yaml`` below ``root`` (``_platform.yaml`` excluded)."""
    directory = root / REQUEST_DIR
    return {path.stem: path for path in sorted(directory.glob("*.yaml")) if not path.name.startswith("_")}


#: :func:`load_requests` results by the files' identity (path, size, modification time): a worker
#: process previewing many team stacks reads and validates the request files once.
_LOADED: dict[tuple[Any, ...], TeamRequests] = {}


def _files_key(root: Path) -> tuple[Any, ...]:
    paths = [root / REQUEST_DIR / PLATFORM_FILE, *request_files(root).values(), *sorted((root / "stacks").glob("Pulumi.*.yaml"))]
    stats = []
    for path in paths:
        try:
            stat = path.stat()
            stats.append((str(path), stat.st_size, stat.st_mtime_ns))
        except OSError:
            stats.append((str(path), None, None))
    return (str(root.resolve()), tuple(stats))


def load_requests(root: Path | str, shared_configs: dict[str, PlatformConfig] | None = None) -> TeamRequests:
    """Read and validate every request file below ``root`` together.

    Checks each file's keys and values (the config models' own rules), and across files: the file
    name is a team name, every environment is one of ``teams/_platform.yaml``, bucket names are
    unique in an environment, a grant names a team with a file and a section in that environment,
    each quota is within the cluster's share, each workspace profile fits the quota (a GPU profile
    needs GPUs), and the shared stack's own cross-key checks (endpoints and GPU boxes against the
    quota and buckets).

    Args:
        root: the repository root (holding ``teams/`` and ``stacks/``).
        shared_configs: the shared stacks' configs by stack name; read from
            ``stacks/Pulumi.<stack>.yaml`` when not given.

    Returns:
        The validated requests.

    Raises:
        RequestError: every problem of every file at once, each as ``teams/<file>: <key>: got
            <value>; expected <what>``.
    """
    root = Path(root)
    key = _files_key(root) if shared_configs is None else None
    if key is not None and key in _LOADED:
        return _LOADED[key]
    platform = load_platform(root)
    issues: list[Issue] = []
    requests = TeamRequests(root=root, platform=platform)
    for path in sorted((root / REQUEST_DIR).glob("*.yml")):
        issues.append(Issue(_relative(path, root), _Described("a .yml file"), "a request file named <team>.yaml (a .yml file is never read)"))
    for team, path in request_files(root).items():
        file = _relative(path, root)
        if not TEAM_NAME.fullmatch(team) or team.startswith("kube-"):
            issues.append(Issue(file, team, "a file named <team>.yaml with a team name of 2-40 lowercase letters, digits and '-' (a DNS label, not kube-*)"))
            continue
        if path.is_symlink():
            # Never followed: a link in a pull request could print any file of the CI runner.
            issues.append(Issue(file, _Described("a symbolic link"), "a regular file (a link is never read)"))
            continue
        raw = _read(path, root, issues)
        if raw is not None and not isinstance(raw, dict):
            # Not echoed: whatever the file holds is not a request, and may be anything.
            issues.append(Issue(file, _Described(f"a {type(raw).__name__} (not shown)"), "a mapping (identityGroup, environments)"))
            continue
        raw = _with_team(raw, team, file, issues)
        if raw is None and not any(i.path == file for i in issues):
            issues.append(Issue(file, None, "a request (identityGroup, environments); the file is empty"))
            continue
        try:
            requests.requests[team] = TeamRequest.model_validate(raw)
            requests.files[team] = file
        except pydantic.ValidationError as error:
            issues.extend(_located(file, [Issue(_yaml_keys(i.path), i.value, i.expected) for i in issues_from_validation_error(error)]))
    # Cross-file checks run on every file that parsed; a grant to a team whose own file is invalid
    # is not reported again (that file's problems are).
    shared = shared_configs if shared_configs is not None else _shared_configs(root, platform, requests)
    unparsed = set(request_files(root)) - set(requests.requests)
    issues.extend(request_issues(requests, shared, unparsed))
    if issues:
        raise RequestError("invalid team request files; nothing was created", issues)
    if key is not None:
        _LOADED.clear()  # one repository state at a time
        _LOADED[key] = requests
    return requests


def _shared_configs(root: Path, platform: PlatformTeams, requests: TeamRequests) -> dict[str, PlatformConfig]:
    used = {env for request in requests.requests.values() for env in request.environments if env in platform.environments}
    return {env: load_shared_config(root, platform.environments[env].shared_stack or env) for env in sorted(used)}


def load_shared_config(root: Path, stack: str) -> PlatformConfig:
    """The ``mlplat`` config of the shared stack ``stacks/Pulumi.<stack>.yaml``, validated as the
    shared stack validates it (the team stacks take its environment, cloud, region, tags, cluster).

    Raises:
        ConfigError: the file is missing or its config invalid.
    """
    from .config import parse_platform_config

    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise RequestError("team requests", [Issue(f"teams/{PLATFORM_FILE}", stack, f"a shared stack with a config file ({_relative(path, root)} does not exist)")])
    document = read_yaml_file(path) or {}
    raw = {key.split(":", 1)[1]: value for key, value in (document.get("config") or {}).items() if key.startswith(f"{NAMESPACE}:")}
    aws_region = (document.get("config") or {}).get("aws:region")
    return parse_platform_config(raw, aws_region=aws_region)


#: Quota fields checked against the cluster's share, with their units.
_SHARED_FIELDS = (("cpu", "cpu", "vCPU"), ("memory_gib", "memoryGib", "GiB"), ("gpu", "gpu", "GPUs"), ("pods", "pods", "pods"),
                  ("load_balancers", "loadBalancers", "load balancers"), ("storage_gib", "storageGib", "GiB"))


def request_issues(requests: TeamRequests, shared: dict[str, PlatformConfig], unparsed: set[str] | frozenset[str] = frozenset()) -> list[Issue]:
    """The cross-file problems of validated requests (see :func:`load_requests`); ``unparsed``
    are teams whose files exist but did not validate (grants to them are not judged)."""
    issues: list[Issue] = []
    platform = requests.platform
    bucket_owner: dict[tuple[str, str], str] = {}
    for team, request in requests.requests.items():
        file = requests.files[team]
        for env, section in request.environments.items():
            where = f"{file}: environments.{env}"
            if env not in platform.environments:
                issues.append(Issue(f"{file}: environments.{env}", env, f"an environment of teams/{PLATFORM_FILE} ({', '.join(platform.environments)})"))
                continue
            capacity = platform.environments[env]
            read_back = split_stack_name(f"{team}-{env}", platform.environments)
            if read_back != (team, env):
                issues.append(Issue(f"{file}: environments.{env}", env, f"an environment whose stack name {team}-{env} reads back as team {team!r}: "
                                    f"it reads as team {read_back[0]!r} in {read_back[1]!r}; rename the team"))
                continue
            for field_name, key, unit in _SHARED_FIELDS:
                asked, share = getattr(section.quota, field_name), capacity.share(field_name)
                if asked > share:
                    issues.append(Issue(f"{where}.quota.{key}", asked, f"at most {share:g} {unit}, the cluster's share per team in {env} "
                                        f"({capacity.max_team_share_percent:g}% of its {getattr(capacity.capacity, field_name):g} {unit}, teams/{PLATFORM_FILE})"))
            for index, bucket in enumerate(section.buckets):
                owner = bucket_owner.setdefault((env, bucket.name), team)
                if owner != team:
                    issues.append(Issue(f"{where}.buckets[{index}].name", bucket.name, f"a bucket name unique in {env} (team {owner!r} has it, {requests.files[owner]})"))
                for grant_index, grant in enumerate(bucket.grants):
                    key = f"{where}.buckets[{index}].grants[{grant_index}].team"
                    other = requests.requests.get(grant.team)
                    if grant.team in unparsed:
                        continue
                    if other is None:
                        issues.append(Issue(key, grant.team, f"a team with a request file in {REQUEST_DIR}/ ({', '.join(sorted(requests.requests))})"))
                    elif env not in other.environments:
                        issues.append(Issue(key, grant.team, f"a team with a {env} section (team {grant.team!r} has {', '.join(other.environments)} in {requests.files[grant.team]})"))
            issues.extend(_workspace_issues(section, where))
            if env in shared and shared[env].cloud.value == "gcp" and capacity.gcp_billing_account is None:
                issues.append(Issue(f"teams/{PLATFORM_FILE}: environments.{env}.gcpBillingAccount", None,
                                    f"the Cloud Billing account of the team budgets in {env} (a GCP environment; team {team} asks for a budget)"))
            if section.workspace.enabled and capacity.workspace is None:
                issues.append(Issue(f"teams/{PLATFORM_FILE}: environments.{env}.workspace", None,
                                    f"the workspaces' domain and identity provider of {env} (team {team} asks for a workspace there)"))
            drifting = [endpoint.name for endpoint in section.endpoints if endpoint.drift is not None]
            if drifting and capacity.drift_job_image is None:
                issues.append(Issue(f"teams/{PLATFORM_FILE}: environments.{env}.driftJobImage", None,
                                    f"the drift job's image pinned by digest (team {team}'s endpoint {drifting[0]} has drift in {env})"))
            if env in shared:
                reported = {issue.path for issue in issues}
                if drifting and not shared[env].components.team_namespaces:
                    issues.append(Issue(f"{where}.endpoints", drifting, f"no drift: the shared stack of {env} deploys no team namespaces "
                                        f"(mlplat:components.teamNamespaces), and a DriftMonitor runs in the team's namespace"))
                if section.workspace.enabled and not shared[env].components.team_namespaces:
                    issues.append(Issue(f"{where}.workspace.enabled", True, f"false: the shared stack of {env} deploys no team namespaces "
                                        f"(mlplat:components.teamNamespaces), and a workspace lives in the team's namespace"))
                # The shared checks repeat some of the above (a grant to an unknown team): the first wording stays.
                issues.extend(issue for issue in _shared_stack_issues(requests, team, env, shared[env], where) if issue.path not in reported)
    return issues


def _workspace_issues(section: TeamEnvironment, where: str) -> list[Issue]:
    workspace, quota = section.workspace, section.quota
    issues: list[Issue] = []
    if not workspace.enabled:
        return issues
    if workspace.storage_gib > quota.storage_gib:
        issues.append(Issue(f"{where}.workspace.storageGib", workspace.storage_gib, f"at most the quota's {quota.storage_gib:g} GiB of storage"))
    if sum(1 for p in workspace.profiles if p.default) > 1:
        issues.append(Issue(f"{where}.workspace.profiles", [p.name for p in workspace.profiles if p.default], "at most one default profile"))
    names: set[str] = set()
    for index, profile in enumerate(workspace.profiles):
        path = f"{where}.workspace.profiles[{index}]"
        if profile.name in names:
            issues.append(Issue(f"{path}.name", profile.name, "a profile name not used by another profile"))
        names.add(profile.name)
        if profile.gpu and quota.gpu == 0:
            issues.append(Issue(f"{path}.gpu", profile.gpu, f"0: the team's quota has no GPU ({where.split(': ', 1)[1]}.quota.gpu is 0); ask for GPUs in the quota first"))
        elif profile.gpu > quota.gpu:
            issues.append(Issue(f"{path}.gpu", profile.gpu, f"at most the quota's {quota.gpu} GPUs"))
        if profile.cpu > quota.cpu:
            issues.append(Issue(f"{path}.cpu", profile.cpu, f"at most the quota's {quota.cpu:g} vCPU"))
        if profile.memory_gib > quota.memory_gib:
            issues.append(Issue(f"{path}.memoryGib", profile.memory_gib, f"at most the quota's {quota.memory_gib:g} GiB"))
    return issues


def team_platform_config(requests: TeamRequests, team: str, env: str, shared: PlatformConfig) -> PlatformConfig:
    """The shared stack's config narrowed to one team in one environment: its environment, cloud,
    region, cluster and protection, the team's cost center, and only this team's buckets, GPU
    boxes and endpoints (static sites stay in the shared stack)."""
    request = requests.requests[team]
    section = request.environments[env]
    tags = Tags.model_validate({"team": team, "cost-center": request.cost_center or shared.tags.cost_center})
    return shared.model_copy(update={
        "tags": tags,
        "teams": [team_model(team, request, env)],
        "endpoints": list(section.endpoints),
        "gpu_boxes": list(section.gpu_boxes),
        "static_sites": [],
        "monthly_budget_usd": section.budget.monthly_usd,
    })


def _all_teams(requests: TeamRequests) -> set[str]:
    return set(request_files(requests.root)) | set(requests.requests)


#: Shared stack config key prefixes -> request file keys, for issues found by the shared checks.
_SHARED_PATHS = ((re.compile(rf"^{NAMESPACE}:teams\[0\]\."), ""), (re.compile(rf"^{NAMESPACE}:gpuBoxes"), "gpuBoxes"),
                 (re.compile(rf"^{NAMESPACE}:endpoints"), "endpoints"))


def _shared_stack_issues(requests: TeamRequests, team: str, env: str, shared: PlatformConfig, where: str) -> list[Issue]:
    """The shared stack's cross-key checks on this team's section (endpoints against the quota,
    GPU boxes' types and bucket grants...), at the request file's keys. Grants to other teams
    are checked by :func:`request_issues` against their files."""
    config = team_platform_config(requests, team, env, shared)
    issues = []
    for issue in cross_reference_issues(config, other_teams=_all_teams(requests) - {team}):
        path = issue.path
        for pattern, replacement in _SHARED_PATHS:
            if pattern.match(path):
                path = pattern.sub(replacement, path)
                break
        else:
            path = path.removeprefix(f"{NAMESPACE}:")
        issues.append(Issue(f"{where}.{path}" if path else where, issue.value, issue.expected))
    return issues


# ----------------------------------------------------------------------------- schema


def request_json_schema() -> dict[str, Any]:
    """The JSON schema (draft 2020-12) of a request file, from :class:`TeamRequest`, for editors
    (``# yaml-language-server: $schema=../docs/teams.schema.json``). ``team`` of GPU box and
    endpoint entries is optional there: it defaults to the file's team."""
    from pydantic.json_schema import GenerateJsonSchema

    class _Generator(GenerateJsonSchema):
        # A field that also takes a pulumi.Output (a plain validator: ModelEndpoint's gpuPlacement,
        # otlpEndpoint) has no JSON schema of its own: any value there, checked by the model.
        def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> dict[str, Any]:
            return {}

    schema = TeamRequest.model_json_schema(by_alias=True, mode="validation", schema_generator=_Generator)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ml-platform.example.com/schemas/team-request.json"
    schema["title"] = "ml-platform team request (teams/<team>.yaml)"
    for name in ("GpuBox", "Endpoint"):
        definition = schema.get("$defs", {}).get(name)
        if definition and "team" in definition.get("required", []):
            definition["required"] = [key for key in definition["required"] if key != "team"]
            definition["properties"]["team"]["description"] = "The owning team: the request file's team (the default)."
    return schema


# ----------------------------------------------------------------------------- scaffolding (mlplat team new)

#: The quota of a new team: small, no GPU (vCPU, GiB, counts).
NEW_TEAM_QUOTA = {"cpu": 4, "memoryGib": 16, "gpu": 0, "pods": 20, "loadBalancers": 0, "storageGib": 50}
#: The monthly budget of a new team in US dollars: small, so a mistake costs little; raise it in review.
NEW_TEAM_BUDGET_USD = 200
#: Where GitHub reads code owners (source: GitHub docs, "About code owners").
CODEOWNERS_FILE = Path(".github") / "CODEOWNERS"


class ScaffoldError(ConfigError):
    """``mlplat team new`` refuses: a bad name, an existing team, or an unknown environment."""


def scaffold_request(root: Path | str, team: str, *, environments: list[str] | None = None, identity_group: str | None = None,
                     owner: str | None = None) -> tuple[Path, str]:
    """Write ``teams/<team>.yaml`` with safe defaults and add its CODEOWNERS entry.

    Defaults: the quota :data:`NEW_TEAM_QUOTA` (no GPU), the restricted Pod Security Standard, no
    buckets, boxes or endpoints, a workspace with one small CPU profile (none where the shared
    stack has no team namespaces), and a budget of :data:`NEW_TEAM_BUDGET_USD` USD a month.

    Args:
        root: the repository root.
        team: the team's name (a DNS label of 2-40 characters, not ``kube-*``).
        environments: the sections to write; default: ``dev`` when ``teams/_platform.yaml`` has
            it, else its first environment.
        identity_group: the team's group; default ``ml-<team>-engineers``.
        owner: the CODEOWNERS owner; default ``codeowners`` of ``teams/_platform.yaml`` with
            ``{team}`` replaced.

    Returns:
        The request file's path and the CODEOWNERS line added.

    Raises:
        ScaffoldError: a bad name, an existing request file, an unknown environment, or a bad owner;
            nothing is written.
        RequestError: the repository's request files do not validate with the new one (it is
            removed again).
    """
    root = Path(root)
    file = f"{REQUEST_DIR}/{team}.yaml"
    if not TEAM_NAME.fullmatch(team) or team.startswith("kube-"):
        raise ScaffoldError("mlplat team new", [Issue("NAME", team, "a team name of 2-40 lowercase letters, digits and '-', alphanumeric at both ends (a DNS label), not kube-*")])
    path = root / REQUEST_DIR / f"{team}.yaml"
    if path.exists():
        raise ScaffoldError("mlplat team new", [Issue("NAME", team, f"a new team: {file} exists already (edit it instead)")])
    platform = load_platform(root)
    chosen = environments or (["dev"] if "dev" in platform.environments else [next(iter(platform.environments))])
    unknown = [env for env in chosen if env not in platform.environments]
    if unknown:
        raise ScaffoldError("mlplat team new", [Issue("--env", env, f"an environment of teams/{PLATFORM_FILE} ({', '.join(platform.environments)})") for env in unknown])
    owner = owner or platform.codeowners.replace("{team}", team)
    if not re.fullmatch(r"@[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?|[^@\s]+@[^@\s]+\.[a-z]{2,}", owner):
        raise ScaffoldError("mlplat team new", [Issue("--owner", owner, "a GitHub user (@name), team (@org/team) or e-mail address")])
    group = identity_group or f"ml-{team}-engineers"
    lines = [
        "# yaml-language-server: $schema=../docs/teams.schema.json",
        f"# Team {team}: scaffolded by `mlplat team new`. Format and review rules: docs/teams.md.",
        "# Safe defaults: a small quota without GPUs, the restricted Pod Security Standard, one small",
        f"# CPU workspace profile and a {NEW_TEAM_BUDGET_USD} USD monthly budget. Ask for more in review.",
        f"identityGroup: {group}",
        "environments:",
    ]
    for env in chosen:
        shared_stack = platform.environments[env].shared_stack or env
        namespaces = True
        shared_file = root / "stacks" / f"Pulumi.{shared_stack}.yaml"
        if shared_file.is_file():
            namespaces = load_shared_config(root, shared_stack).components.team_namespaces
        quota = ", ".join(f"{key}: {value}" for key, value in NEW_TEAM_QUOTA.items())
        lines += [f"  {env}:", f"    quota: {{{quota}}}", "    podSecurity: restricted"]
        if namespaces:
            lines += ["    workspace:", "      profiles:", "        - {name: cpu-small, cpu: 1, memoryGib: 4, default: true}", "      idleCullMinutes: 60"]
        else:
            lines += [f"    workspace: {{enabled: false}}  # the shared stack {shared_stack} has no team namespaces"]
        lines += [f"    budget: {{monthlyUsd: {NEW_TEAM_BUDGET_USD}}}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:  # "x": never overwrite a file that appeared meanwhile
        handle.write("\n".join(lines) + "\n")
    try:
        load_requests(root)
    except Exception:
        path.unlink()
        raise
    entry = f"/{file} {owner}"
    codeowners = root / CODEOWNERS_FILE
    existing = codeowners.read_text(encoding="utf-8") if codeowners.is_file() else ""
    if not any(line.split()[:1] == [f"/{file}"] for line in existing.splitlines()):
        codeowners.parent.mkdir(parents=True, exist_ok=True)
        with open(codeowners, "a", encoding="utf-8") as handle:
            if existing and not existing.endswith("\n"):
                handle.write("\n")
            handle.write(entry + "\n")
    return path, entry


# ----------------------------------------------------------------------------- which team stacks to preview

#: Paths whose change can change every team stack: the capacity file, the team program and the
#: library it runs (a change there previews every team stack).
ALL_TEAMS_PATHS = (f"{REQUEST_DIR}/{PLATFORM_FILE}", "team-stack/", "platform_lib/", "pyproject.toml", "requirements.lock")


class SelectionError(ConfigError):
    """``--teams`` names a team without a request file, or ``--changed-since`` cannot be read."""


def select_team_stacks(requests: TeamRequests, teams: list[str] | None = None, environments: list[str] | None = None) -> list[str]:
    """The team stacks ``<team>-<env>`` of ``teams`` (default: every team), in ``environments``
    (default: every environment each team has), sorted.

    Raises:
        SelectionError: a team without a request file.
    """
    unknown = [team for team in teams or [] if team not in requests.requests]
    if unknown:
        raise SelectionError("--teams", [Issue("--teams", team, f"a team with a request file in {REQUEST_DIR}/ ({', '.join(sorted(requests.requests))})") for team in unknown])
    chosen = teams or sorted(requests.requests)
    return sorted(f"{team}-{env}" for team in chosen for env in requests.requests[team].environments if environments is None or env in environments)


def changed_paths(root: Path, ref: str) -> list[str]:
    """The files changed between ``ref`` and the working tree (``git diff --name-only ref``),
    relative to the repository root, plus untracked files (a new request file not yet committed).

    Raises:
        SelectionError: not a git repository, or ``ref`` is not a commit.
    """
    import subprocess

    def git(*args: str) -> list[str]:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise SelectionError("--changed-since", [Issue("--changed-since", ref, f"a git revision of the repository at {root} ({done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'git failed'})")])
        return [line for line in done.stdout.splitlines() if line]

    git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return sorted(set(git("diff", "--name-only", ref, "--")) | set(git("ls-files", "--others", "--exclude-standard")))


def stacks_for_changes(requests: TeamRequests, paths: list[str]) -> list[str]:
    """The team stacks a change of ``paths`` touches: a team's request file previews that team's
    stacks; a shared stack file ``stacks/Pulumi.<env>.yaml`` previews every team stack of that
    environment; a path of :data:`ALL_TEAMS_PATHS` previews them all. A deleted request file
    previews nothing (its stacks are destroyed, not previewed)."""
    stacks: set[str] = set()
    for path in paths:
        if path.startswith(ALL_TEAMS_PATHS):
            return select_team_stacks(requests)
        if path.startswith(f"{REQUEST_DIR}/") and path.endswith(".yaml"):
            team = Path(path).stem
            if team in requests.requests:
                stacks.update(select_team_stacks(requests, [team]))
        elif path.startswith("stacks/Pulumi.") and path.endswith(".yaml"):
            shared = path[len("stacks/Pulumi."):-len(".yaml")]
            envs = [env for env, settings in requests.platform.environments.items() if (settings.shared_stack or env) == shared]
            stacks.update(select_team_stacks(requests, environments=envs))
    return sorted(stacks)
