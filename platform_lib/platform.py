"""Composition of a whole platform stack from its validated config.

``stacks/__main__.py`` calls :func:`build_platform`; each component family has its own
``deploy_*`` function here, so a stack only deploys what ``mlplat:components`` switches on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pulumi
import pulumi_aws as aws

from .config import Cloud, Cluster, PlatformConfig
from .aws.data_bucket import AccessLogBucket, DataBucket
from .k8s.team_namespace import TeamNamespace
from .aws.static_site import StaticSite, StaticSiteArgs
from .errors import ComponentArgsError, validate_args

#: The name of every team's workload ServiceAccount (the subject of its IRSA trust policy).
WORKLOAD_SERVICE_ACCOUNT = "workload"


def build_platform(config: PlatformConfig) -> dict[str, Any]:
    """Register every resource the config asks for and return the stack outputs.

    Args:
        config: the validated stack config (see :func:`platform_lib.config.load_platform_config`).

    Returns:
        Stack outputs by name (plain values or ``pulumi.Output``).
    """
    outputs: dict[str, Any] = {"environment": config.environment.value, "region": config.region}
    sites = static_site_args(config) if config.components.static_sites else []  # validated before anything is registered
    if config.components.data_buckets or config.components.team_namespaces:
        outputs.update(deploy_teams(config))
    if sites:
        outputs.update(deploy_static_sites(sites))
    if config.components.model_endpoints and config.endpoints:
        namespaces = {team: info["namespace"] for team, info in (outputs.get("teams") or {}).items() if "namespace" in info}
        endpoints = deploy_model_endpoints(config, namespaces)
        outputs["modelEndpoints"] = {key: {"service": endpoint.service_dns, "loadBalancer": endpoint.load_balancer_hostname} for key, endpoint in endpoints.items()}
    return outputs


def irsa_trust_policy_document(oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> dict[str, Any]:
    """The trust policy of an IAM role for a Kubernetes service account (IRSA).

    Only the named ServiceAccount of the named namespace may assume the role, with a token issued
    for STS (source: Amazon EKS User Guide, "Assign IAM roles to Kubernetes service accounts":
    ``sts:AssumeRoleWithWebIdentity`` with ``<issuer>:sub`` and ``<issuer>:aud`` conditions).

    Args:
        oidc_provider_arn: the cluster's IAM OIDC provider ARN.
        oidc_issuer: the issuer URL without ``https://``.
        namespace: the ServiceAccount's namespace.
        service_account: the ServiceAccount's name.

    Returns:
        A policy document as a dict.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{oidc_issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{oidc_issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def _irsa_role(config: PlatformConfig, cluster: Cluster, team_name: str, tags: dict[str, str]) -> aws.iam.Role:
    assert cluster.oidc_provider_arn is not None and cluster.oidc_issuer is not None
    document = irsa_trust_policy_document(cluster.oidc_provider_arn, cluster.oidc_issuer, team_name, WORKLOAD_SERVICE_ACCOUNT)
    return aws.iam.Role(
        f"{team_name}-workload",
        description=f"Workload identity of team {team_name} on cluster {cluster.name} (IRSA)",
        assume_role_policy=json.dumps(document),
        max_session_duration=3600,
        tags=tags,
    )


def deploy_teams(config: PlatformConfig) -> dict[str, Any]:
    """Register every team's buckets, namespace, workload role and grants.

    Per team, when ``components.dataBuckets`` is on and the cloud is AWS: one :class:`DataBucket`
    per configured bucket. When ``components.teamNamespaces`` is on: a :class:`TeamNamespace`
    (namespace = team name). When the cluster has OIDC settings (AWS): an IAM workload role
    trusted by the namespace's ``workload`` ServiceAccount (IRSA), granted read-write on the team's
    own buckets and whatever other teams' buckets grant it in config. A stack with any
    ``accessLogging`` bucket also gets one :class:`AccessLogBucket` (SSE-S3, since S3 server access
    logging cannot write to an SSE-KMS bucket).

    Returns:
        ``{"teams": {team: {"namespace", "serviceAccount", "workloadRoleArn", "buckets": {bucket:
        {"name", "arn", "kmsKeyArn"}}}}}`` plus ``"accessLogBucket"`` when there is one.
    """
    components = config.components
    standard = config.standard_tags()
    on_aws = config.cloud is Cloud.AWS
    cluster = config.cluster
    irsa = on_aws and cluster is not None and cluster.oidc_provider_arn is not None
    outputs: dict[str, Any] = {}
    teams: dict[str, dict[str, Any]] = {team.name: {} for team in config.teams}

    roles: dict[str, aws.iam.Role] = {}
    if irsa:
        assert cluster is not None
        for team in config.teams:
            roles[team.name] = _irsa_role(config, cluster, team.name, {**standard, "team": team.name})
            teams[team.name]["workloadRoleArn"] = roles[team.name].arn

    buckets_wanted = components.data_buckets and on_aws and any(team.buckets for team in config.teams)
    if buckets_wanted:
        log_bucket = None
        if any(bucket.access_logging for team in config.teams for bucket in team.buckets):
            log_bucket = AccessLogBucket(
                "access-logs",
                environment=config.environment,
                tags=standard,
                protect=config.protect_resources,
                retain_on_delete=config.retain_resources,
            )
            outputs["accessLogBucket"] = log_bucket.bucket_name
        if not roles:
            pulumi.log.warn("no cluster OIDC settings (mlplat:cluster.oidcProviderArn/oidcIssuer): buckets are created without grants")
        for team in config.teams:
            team_buckets: dict[str, Any] = {}
            for bucket_config in team.buckets:
                bucket = DataBucket(
                    bucket_config.name,
                    environment=config.environment,
                    tags={**standard, "team": team.name},
                    access_log_bucket=log_bucket.bucket_name if (log_bucket is not None and bucket_config.access_logging) else None,
                    protect=config.protect_resources,
                    retain_on_delete=config.retain_resources,
                )
                if roles:
                    bucket.grant_read_write(roles[team.name])
                    for access in bucket_config.grants:
                        bucket.grant(roles[access.team], access.access, access.prefix)
                team_buckets[bucket_config.name] = {"name": bucket.bucket_name, "arn": bucket.arn, "kmsKeyArn": bucket.kms_key_arn}
            teams[team.name]["buckets"] = team_buckets

    if components.team_namespaces:
        for team in config.teams:
            namespace = TeamNamespace(
                team.name,
                environment=config.environment,
                labels={**standard, "team": team.name},
                identity_group=team.identity_group,
                quota=team.quota,
                pod_security=team.pod_security,
                service_account_name=WORKLOAD_SERVICE_ACCOUNT,
                irsa_role_arn=roles[team.name].arn if team.name in roles else None,
                egress_https_cidrs=cluster.egress_https_cidrs if cluster is not None else [],
                protect=config.protect_resources,
                retain_on_delete=config.retain_resources,
            )
            teams[team.name]["namespace"] = namespace.namespace_name
            teams[team.name]["serviceAccount"] = namespace.service_account_name

    outputs["teams"] = teams
    return outputs


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

    ``siteDir`` is relative to the project directory. Sites get the standard tags, and the
    stack's protect / retain-on-delete settings for their bucket and distribution.

    Raises:
        ComponentArgsError: a site's directory is missing or empty, or another argument is invalid.
    """
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
            "protect": config.protect_resources,
            "retain_on_delete": config.retain_resources,
        }
        args = validate_args(StaticSiteArgs, "StaticSite", site.name, values)
        problems = args.cross_field_issues(f"StaticSite({site.name})")
        if problems:
            raise ComponentArgsError(f"invalid arguments for StaticSite({site.name!r}); nothing was created", problems)
        sites.append((site.name, args))
    return sites


def deploy_static_sites(sites: list[tuple[str, StaticSiteArgs]]) -> dict[str, Any]:
    """Register one :class:`StaticSite` per validated site.

    Returns:
        ``{"staticSites": {name: {"url", "bucketName", "distributionId"}}}``.
    """
    outputs: dict[str, Any] = {}
    for name, args in sites:
        site = StaticSite(name, args)
        outputs[name] = {"url": site.url, "bucketName": site.bucket_name, "distributionId": site.distribution_id}
    return {"staticSites": outputs}


def deploy_model_endpoints(config: PlatformConfig, namespaces: Mapping[str, pulumi.Resource | pulumi.Output[Any]] | None = None) -> dict[str, Any]:
    """Deploy every ``mlplat:endpoints`` entry as a ``ModelEndpoint`` in its team's namespace.

    Args:
        config: the validated stack config; each endpoint's team exists (checked when the config
            is loaded, see :func:`platform_lib.config.endpoint_issues`).
        namespaces: by team name, the team's Namespace resource or an output derived from it (e.g.
            ``TeamNamespace.namespace_name``), when the stack creates them: every object of the
            endpoint then waits for its team's namespace.

    Returns:
        The ``ModelEndpoint`` components by ``<team>/<endpoint name>``.

    Raises:
        ConfigError: an endpoint names a team the stack does not define.
    """
    from .config import endpoint_issues
    from .errors import ConfigError
    from .k8s.model_endpoint import ModelEndpoint

    unknown = [issue for issue in endpoint_issues(config) if issue.path.endswith(".team")]
    if unknown:
        raise ConfigError("model endpoints name unknown teams", unknown)
    endpoints: dict[str, Any] = {}
    for endpoint in config.endpoints:
        team = config.team(endpoint.team)
        labels = {**config.standard_tags(), "team": team.name}
        values = {**endpoint.model_dump(exclude={"team"}), "namespace": team.name, "environment": config.environment.value, "labels": labels}
        depends: list[Any] = []
        if namespaces and team.name in namespaces:
            namespace = namespaces[team.name]
            # An output in depends_on counts the resources it was derived from (pulumi.runtime._depends_on).
            depends.append(namespace if isinstance(namespace, pulumi.Resource) else pulumi.Output.from_input(namespace).apply(lambda _: None))
        endpoints[f"{team.name}/{endpoint.name}"] = ModelEndpoint(
            f"{team.name}-{endpoint.name}", values, pulumi.ResourceOptions(depends_on=depends)
        )
    return endpoints
