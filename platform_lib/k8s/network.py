"""Checks on network addresses shared by the stack config and the Kubernetes components."""

from __future__ import annotations

import ipaddress


def check_cidr_blocks(cidrs: list[str]) -> list[str]:
    """Validate CIDR blocks for an allow-list (NetworkPolicy ``ipBlock.cidr``, security group rules).

    Each must be a network address (``10.0.0.0/16``, not ``10.0.0.1/16``) and narrower than the
    whole internet: ``0.0.0.0/0`` and ``::/0`` are refused, an allow-list of everything is no
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
    return cidrs
