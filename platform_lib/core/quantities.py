"""Kubernetes resource quantities from the platform's units (vCPU, GiB)."""

from __future__ import annotations

import math

__all__ = ["cpu_quantity", "memory_quantity"]


def cpu_quantity(vcpu: float) -> str:
    """A CPU amount in vCPU as a Kubernetes quantity: whole cores as ``"16"``, else millicores ``"500m"``.

    Fractions below a millicore are rounded up (source: Kubernetes docs, "Resource Management for
    Pods and Containers", CPU resource units: 1 CPU = 1000m, precision finer than 1m is refused).
    """
    if vcpu < 0:
        raise ValueError(f"a CPU amount >= 0, not {vcpu}")
    millis = math.ceil(round(vcpu * 1000, 6))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory_quantity(gib: float) -> str:
    """A memory or storage amount in GiB as a Kubernetes quantity: ``"64Gi"``, or ``"512Mi"`` for fractions.

    Fractions of a MiB are rounded up (binary suffixes; source: Kubernetes docs, "Memory resource
    units").
    """
    if gib < 0:
        raise ValueError(f"an amount >= 0 GiB, not {gib}")
    mib = math.ceil(round(gib * 1024, 6))
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"
