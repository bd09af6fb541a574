"""Stack config (``mlplat:gpuBoxes`` entries) -> GPU training box arguments.

The platform layer's knowledge of the boxes: which config key feeds which component argument,
and what the stack's environment decides (the standard tags, termination / deletion protection
where the stack protects resources). :mod:`.config` runs the boxes' own argument checks on the
config with these, and :mod:`.compose` builds the boxes from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # config imports this module; the annotations are only for readers and checkers
    from .config import GpuBox

__all__ = ["AWS_CONFIG_KEYS", "GCP_CONFIG_KEYS", "aws_box_values", "gcp_box_values"]

#: :class:`~platform_lib.aws.gpu_training_box.AwsGpuTrainingBoxArgs` field -> ``mlplat:gpuBoxes[*]``
#: key, so an argument the component refuses is reported at the key a user wrote.
AWS_CONFIG_KEYS = {
    "instance_type": "instanceType", "subnet_id": "subnetId", "vpc_id": "vpcId", "root_volume_gib": "rootVolumeGib",
    "data_volume_gib": "dataVolumeGib", "spot": "spot", "idle_stop_minutes": "idleStopMinutes", "tags": "team",
    "egress_https_cidrs": "egressHttpsCidrs",
}

#: :class:`~platform_lib.gcp.gpu_training_box.GcpGpuTrainingBoxArgs` field -> ``mlplat:gpuBoxes[*]`` key.
GCP_CONFIG_KEYS = {
    "machine_type": "machineType", "accelerator": "accelerator", "zone": "zone", "subnetwork": "subnetwork",
    "boot_disk_gib": "rootVolumeGib", "data_disk_gib": "dataVolumeGib", "spot": "spot", "max_run_hours": "maxRunHours", "labels": "team",
}


def aws_box_values(box: GpuBox, tags: Mapping[str, Any], protect: bool) -> dict[str, Any]:
    """The :class:`~platform_lib.aws.gpu_training_box.AwsGpuTrainingBox` arguments of one entry.

    Args:
        box: the ``mlplat:gpuBoxes`` entry.
        tags: the stack's standard tags with the box's team.
        protect: whether the stack protects its resources; the instance then gets EC2
            termination protection.
    """
    return {
        "instance_type": box.instance_type,
        "subnet_id": box.subnet_id,
        "vpc_id": box.vpc_id,
        "root_volume_gib": box.root_volume_gib,
        "data_volume_gib": box.data_volume_gib,
        "spot": box.spot,
        "idle_stop_minutes": box.idle_stop_minutes,
        **({"egress_https_cidrs": box.egress_https_cidrs} if box.egress_https_cidrs else {}),
        "tags": dict(tags),
        "termination_protection": protect,
    }


def gcp_box_values(box: GpuBox, labels: Mapping[str, Any], protect: bool, project: str | None) -> dict[str, Any]:
    """The :class:`~platform_lib.gcp.gpu_training_box.GcpGpuTrainingBox` arguments of one entry.

    Args:
        box: the ``mlplat:gpuBoxes`` entry.
        labels: the stack's standard tags with the box's team.
        protect: whether the stack protects its resources; the VM then gets deletion protection.
        project: the GCP project id, or ``None`` for the provider's.
    """
    return {
        "machine_type": box.machine_type,
        "accelerator": box.accelerator.model_dump() if box.accelerator else None,
        "zone": box.zone,
        "subnetwork": box.subnetwork,
        "project": project,
        "boot_disk_gib": box.root_volume_gib,
        "data_disk_gib": box.data_volume_gib,
        "spot": box.spot,
        "max_run_hours": box.max_run_hours,
        "labels": dict(labels),
        "deletion_protection": protect,
    }
