"""Input checks shared by the stack config, the Kubernetes components and the policies: CIDR blocks,
labels, namespace names and RBAC subjects.

Pydantic-only (no Pulumi), so the config models and the endpoint spec can use them.
"""

from __future__ import annotations

import ipaddress
import re

from ..core.networks import covers_everything
from ..core.reserved_names import is_system_namespace, is_system_subject

#: A label key: an optional DNS subdomain prefix and ``/``, then a name of at most 63 characters
#: (source: Kubernetes docs, "Labels and Selectors", syntax and character set).
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
#: A label value: empty, or at most 63 alphanumerics, '-', '_' and '.', alphanumeric at both ends.
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def check_identity_group(name: str) -> str:
    """Refuse a built-in ``system:`` group as a team's identity group (see :data:`platform_lib.core.reserved_names.SYSTEM_SUBJECT_PREFIX`).

    Raises:
        ValueError: a pydantic validator's message naming what was expected.
    """
    if is_system_subject(name):
        raise ValueError("a group of the cluster's authenticator, not a built-in Kubernetes 'system:' group or user "
                         "(system:authenticated, system:serviceaccounts, system:unauthenticated... contain every caller of their kind)")
    return name


def check_namespace_name(name: str) -> str:
    """Refuse a namespace reserved for Kubernetes (``kube-system``, ``kube-public``, any ``kube-*``).

    Raises:
        ValueError: a pydantic validator's message naming what was expected.
    """
    if is_system_namespace(name):
        raise ValueError("a namespace name not starting with 'kube-' (kube-system, kube-public, kube-node-lease and every kube-* name are reserved for Kubernetes)")
    return name


def check_cidr_blocks(cidrs: list[str]) -> list[str]:
    """Validate CIDR blocks for an allow-list (NetworkPolicy ``ipBlock.cidr``, security group rules).

    Each must be a network address (``10.0.0.0/16``, not ``10.0.0.1/16``) and the list, taken
    together, narrower than the whole internet: ``0.0.0.0/0`` and ``::/0`` are refused, and so is
    ``[0.0.0.0/1, 128.0.0.0/1]`` (see :func:`covers_everything`); an allow-list of everything is no
    allow-list.

    Args:
        cidrs: IPv4 or IPv6 CIDR blocks.

    Returns:
        ``cidrs`` unchanged.

    Raises:
        ValueError: naming what was expected and the first bad block (a pydantic validator's
            message).
    """
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise ValueError(f"CIDR blocks such as 10.0.0.0/16 ({cidr!r} is not one)") from None
        if network.prefixlen == 0:
            raise ValueError("CIDR blocks narrower than the whole internet (0.0.0.0/0 and ::/0 are refused)")
    everything = covers_everything(cidrs)
    if everything:
        raise ValueError(f"CIDR blocks that together are narrower than the whole internet (these cover all of {', '.join(everything)})")
    return cidrs


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    """Validate Kubernetes label keys and values (see :data:`LABEL_KEY`, :data:`LABEL_VALUE`).

    Returns:
        ``labels`` unchanged.

    Raises:
        ValueError: naming every bad ``key=value`` (a pydantic validator's message).
    """
    bad = [f"{k}={v}" for k, v in labels.items() if not LABEL_KEY.fullmatch(k) or not LABEL_VALUE.fullmatch(v)]
    if bad:
        raise ValueError(f"Kubernetes label keys and values (values: at most 63 letters, digits, '-', '_', '.'; bad: {', '.join(bad)})")
    return labels
