"""Composition of a whole platform stack from its validated config.

``stacks/__main__.py`` calls :func:`build_platform`; each component family has its own
``deploy_*`` function here, so a stack only deploys what ``mlplat:components`` switches on.
"""

from __future__ import annotations

from typing import Any

import pulumi

from .config import Cloud, PlatformConfig
from .grants import GrantableBucket


def build_platform(config: PlatformConfig) -> dict[str, Any]:
    """Register every resource the config asks for and return the stack outputs.

    Args:
        config: the validated stack config (see :func:`platform_lib.config.load_platform_config`).

    Returns:
        Stack outputs by name (plain values or ``pulumi.Output``).
    """
    outputs: dict[str, Any] = {"environment": config.environment.value, "region": config.region}
    buckets: dict[str, Any] = {}
    if config.cloud is Cloud.GCP and config.components.data_buckets:
        outputs.update(deploy_gcp_teams(config, buckets))
    if config.components.gpu_boxes and config.gpu_boxes:
        outputs.update(deploy_gpu_boxes(config, buckets))
    return outputs


# --- GPU training boxes and GCP teams (issue 4) ---------------------------------------------

#: The Kubernetes ServiceAccount every team's workloads run as (the IRSA / Workload Identity subject).
GCP_WORKLOAD_SERVICE_ACCOUNT = "workload"


def _gcp_project() -> str:
    from .preview.mocks import GCP_PROJECT

    return pulumi.Config("gcp").get("project") or GCP_PROJECT


def deploy_gcp_teams(config: PlatformConfig, buckets: dict[str, GrantableBucket]) -> dict[str, Any]:
    """On a GCP stack: per team a Workload Identity service account and its GCS data buckets.

    Each team gets a Google service account bound (``roles/iam.workloadIdentityUser``) to the
    ``workload`` Kubernetes ServiceAccount of its namespace; it gets read-write on its own buckets
    and whatever other teams' buckets grant it in config.

    Args:
        config: the validated stack config (``cloud: gcp``).
        buckets: filled with each bucket's short name to its :class:`~platform_lib.gcp.data_bucket.DataBucket`,
            for :func:`deploy_gpu_boxes`.

    Returns:
        ``{"teams": {team: {"serviceAccount", "buckets": {bucket: {"name", "url"}}}}}``.
    """
    from .gcp.data_bucket import DataBucket, TeamWorkloadIdentity

    project = _gcp_project()
    labels = config.standard_tags()
    identities = {
        team.name: TeamWorkloadIdentity(team.name, project=project, namespace=team.name, kubernetes_service_account=GCP_WORKLOAD_SERVICE_ACCOUNT)
        for team in config.teams
    }
    teams: dict[str, Any] = {}
    for team in config.teams:
        team_buckets: dict[str, Any] = {}
        for bucket_config in team.buckets:
            bucket = DataBucket(
                bucket_config.name,
                {
                    "location": config.region,
                    "labels": {**labels, "team": team.name},
                    "protect": config.protect_resources,
                    "retain_on_delete": config.retain_resources,
                },
            )
            bucket.grant_read_write(identities[team.name].account)
            for access in bucket_config.grants:
                bucket.grant(identities[access.team].account, access.access, access.prefix)
            buckets[bucket_config.name] = bucket
            team_buckets[bucket_config.name] = {"name": bucket.bucket_name, "url": bucket.url}
        teams[team.name] = {"serviceAccount": identities[team.name].email, "buckets": team_buckets}
    return {"teams": teams}


def deploy_gpu_boxes(config: PlatformConfig, buckets: dict[str, GrantableBucket]) -> dict[str, Any]:
    """Register ``mlplat:gpuBoxes``: one GPU training box per entry, on the stack's cloud, with its grants.

    Args:
        config: the validated stack config.
        buckets: the stack's data buckets by short name (AWS ``DataBucket`` or GCS ``DataBucket``);
            config validation has already checked every granted bucket is defined.

    Returns:
        ``{"gpuBoxes": {box: {"instanceId" | "instanceName", "identity", "grants": [...]}}}``.

    Raises:
        ConfigError: a granted bucket was not deployed (``components.dataBuckets`` off).
    """
    from .errors import ConfigError, Issue

    missing = [
        Issue(f"mlplat:gpuBoxes[{index}].grants[{grant_index}].bucket", grant.bucket, "a bucket this stack deploys (is components.dataBuckets on?)")
        for index, box in enumerate(config.gpu_boxes)
        for grant_index, grant in enumerate(box.grants)
        if grant.bucket not in buckets
    ]
    if missing:
        raise ConfigError("GPU boxes are granted buckets this stack does not deploy", missing)
    boxes: dict[str, Any] = {}
    for box_config in config.gpu_boxes:
        tags = {**config.standard_tags(), "team": box_config.team}
        if config.cloud is Cloud.AWS:
            from .aws.gpu_training_box import GpuTrainingBox as AwsGpuTrainingBox

            box = AwsGpuTrainingBox(box_config.name, {
                "instance_type": box_config.instance_type,
                "subnet_id": box_config.subnet_id,
                "vpc_id": box_config.vpc_id,
                "root_volume_gib": box_config.root_volume_gib,
                "data_volume_gib": box_config.data_volume_gib,
                "spot": box_config.spot,
                "idle_stop_minutes": box_config.idle_stop_minutes,
                "tags": tags,
                "protect": config.protect_resources,
            })
            principal, summary = box.role, {"instanceId": box.instance_id, "roleArn": box.role_arn}
        else:
            from .gcp.gpu_training_box import GpuTrainingBox as GceGpuTrainingBox

            box = GceGpuTrainingBox(box_config.name, {
                "machine_type": box_config.machine_type,
                "accelerator": box_config.accelerator.model_dump() if box_config.accelerator else None,
                "zone": box_config.zone,
                "subnetwork": box_config.subnetwork,
                "project": _gcp_project(),
                "boot_disk_gib": box_config.root_volume_gib,
                "data_disk_gib": box_config.data_volume_gib,
                "spot": box_config.spot,
                "max_run_hours": box_config.max_run_hours,
                "labels": tags,
                "protect": config.protect_resources,
            })
            principal, summary = box.service_account, {"instanceName": box.instance_name, "serviceAccount": box.service_account_email}
        grants = [buckets[g.bucket].grant(principal, g.access, g.prefix) for g in box_config.grants]
        summary["grants"] = [f"{g.access.value} {g.bucket}/{g.prefix}" for g in grants]
        boxes[box_config.name] = summary
    return {"gpuBoxes": boxes}
