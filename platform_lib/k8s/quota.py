"""A team namespace's resource quota, as a model: the component's argument and the stack config's.

Pydantic only (no Pulumi), so the stack config (``platform_lib.platform.config.TeamQuota``, which
adds camelCase YAML keys) can derive from it. Units: vCPU, GiB, whole GPUs, counts.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..core.quantities import cpu_quantity, memory_quantity

__all__ = ["LIMITS_PER_REQUEST", "ResourceQuotaSpec", "resource_quota_hard"]

#: The quota's ``limits.cpu`` and ``limits.memory`` are this many times its requests: the burst a team may use.
LIMITS_PER_REQUEST = 2


class ResourceQuotaSpec(BaseModel):
    """A team's Kubernetes resource quota (snake_case fields; unknown fields refused; frozen).

    Attributes:
        cpu: total CPU requests in vCPU (``requests.cpu``); limits are capped at twice this.
        memory_gib: total memory requests in GiB (``requests.memory``); limits at twice this.
        gpu: total NVIDIA GPUs requested (``requests.nvidia.com/gpu``); 0 forbids GPU pods.
        pods: the number of pods.
        load_balancers: Services of type LoadBalancer (``services.loadbalancers``).
        storage_gib: total persistent volume claim storage in GiB (``requests.storage``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    cpu: float = Field(gt=0, le=4096)
    memory_gib: float = Field(gt=0, le=65536)
    gpu: int = Field(default=0, ge=0, le=512)
    pods: int = Field(default=50, ge=1, le=10000)
    load_balancers: int = Field(default=0, ge=0, le=100)
    storage_gib: float = Field(default=100, ge=0, le=1_000_000)


def resource_quota_hard(quota: ResourceQuotaSpec, persistent_volume_claims: int) -> dict[str, str]:
    """The ``spec.hard`` map of a team's ResourceQuota (source: Kubernetes docs, "Resource Quotas").

    CPU and memory limits are capped at twice the requests (the burst a team may use); NodePort
    Services are forbidden (they open a port on every node).

    Args:
        quota: the quota in vCPU, GiB, GPUs and counts.
        persistent_volume_claims: the most PersistentVolumeClaims the namespace may hold.

    Returns:
        Resource names to quantity strings, e.g. ``{"requests.cpu": "16", "limits.memory": "128Gi", ...}``.
    """
    return {
        "requests.cpu": cpu_quantity(quota.cpu),
        "limits.cpu": cpu_quantity(quota.cpu * LIMITS_PER_REQUEST),
        "requests.memory": memory_quantity(quota.memory_gib),
        "limits.memory": memory_quantity(quota.memory_gib * LIMITS_PER_REQUEST),
        "requests.nvidia.com/gpu": str(quota.gpu),
        "pods": str(quota.pods),
        "services.loadbalancers": str(quota.load_balancers),
        "services.nodeports": "0",
        "requests.storage": memory_quantity(quota.storage_gib),
        "persistentvolumeclaims": str(persistent_volume_claims),
    }
