"""Composition of a whole platform stack from its validated config.

``stacks/__main__.py`` calls :func:`build_platform`; each component family has its own
``deploy_*`` function here, so a stack only deploys what ``mlplat:components`` switches on.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from .config import Cloud, Cluster, PlatformConfig
from .aws.data_bucket import AccessLogBucket, DataBucket
from .k8s.team_namespace import TeamNamespace

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
    if config.components.data_buckets or config.components.team_namespaces:
        outputs.update(deploy_teams(config))
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
