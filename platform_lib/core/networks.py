"""CIDR ranges judged together: what a list of ranges covers, not what each range covers.

Shared by the components' argument checks (:mod:`platform_lib.k8s.checks`) and the policies.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["covers_everything"]


def covers_everything(cidrs: Iterable[str | ipaddress.IPv4Network | ipaddress.IPv6Network]) -> list[str]:
    """The address families (``0.0.0.0/0``, ``::/0``) the union of ``cidrs`` covers entirely.

    Ranges are judged together, not one by one: ``0.0.0.0/1`` and ``128.0.0.0/1`` are the whole
    IPv4 internet. Host bits are ignored (``strict=False``, as the clouds read them); what does not
    parse is skipped (the caller reports it).

    Returns:
        ``["0.0.0.0/0"]``, ``["::/0"]``, both or ``[]``.
    """
    families: dict[int, list] = {4: [], 6: []}
    for cidr in cidrs:
        try:
            network = cidr if isinstance(cidr, (ipaddress.IPv4Network, ipaddress.IPv6Network)) else ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            continue
        families[network.version].append(network)
    return [everything for version, everything in ((4, "0.0.0.0/0"), (6, "::/0"))
            if any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(families[version]))]
