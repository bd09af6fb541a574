"""Kubernetes object names, as the API server validates them.

Source: Kubernetes docs, "Object Names and IDs" (RFC 1123 label names, DNS subdomain names,
path segment names), and the validation the API server runs (``k8s.io/apimachinery``
``IsDNS1123Label`` and ``IsDNS1123Subdomain``, which also refuse an empty label, so ``a..b``).
Namespaces are DNS-1123 labels; ServiceAccounts, ConfigMaps, Secrets, Deployments and most other
objects are DNS-1123 subdomains. Here in ``core`` because the Kubernetes and GCP components, the
stack config and the offline renderer all take such names.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "DNS_LABEL",
    "DNS_LABEL_EXPECTED",
    "DNS_SUBDOMAIN",
    "DNS_SUBDOMAIN_EXPECTED",
    "check_dns_label",
    "check_dns_subdomain",
    "is_dns_label",
    "is_dns_subdomain",
    "is_path_segment_name",
]

#: An RFC 1123 label: 1-63 lowercase letters, digits and ``-``, alphanumeric at both ends.
DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
DNS_LABEL_EXPECTED = "a Kubernetes DNS-1123 label (1-63 lowercase letters, digits and '-', alphanumeric at both ends)"
#: A DNS subdomain: RFC 1123 labels joined by ``.``; at most 253 characters in all (checked apart).
DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
DNS_SUBDOMAIN_EXPECTED = (
    "a Kubernetes DNS-1123 subdomain (at most 253 lowercase letters, digits, '-' and '.', alphanumeric at both ends and around each '.')"
)
_MAX_SUBDOMAIN_LENGTH = 253

_LABEL = re.compile(DNS_LABEL)
_SUBDOMAIN = re.compile(DNS_SUBDOMAIN)


def is_dns_label(value: Any) -> bool:
    """True for a string that is a DNS-1123 label (a namespace name)."""
    return isinstance(value, str) and _LABEL.fullmatch(value) is not None


def is_dns_subdomain(value: Any) -> bool:
    """True for a string that is a DNS-1123 subdomain (most object names)."""
    return isinstance(value, str) and len(value) <= _MAX_SUBDOMAIN_LENGTH and _SUBDOMAIN.fullmatch(value) is not None


def is_path_segment_name(value: Any) -> bool:
    """True for a name the API server accepts for any kind, the loosest rule ("Path Segment
    Names", e.g. RBAC Roles): not empty, not ``.`` or ``..``, no ``/`` or ``%``."""
    return isinstance(value, str) and value not in ("", ".", "..") and "/" not in value and "%" not in value


def check_dns_label(value: Any) -> Any:
    """``value`` if it is a DNS-1123 label; else ``ValueError`` saying what was expected (an
    :class:`~platform_lib.core.inputs.InputCheck` body)."""
    if not is_dns_label(value):
        raise ValueError(DNS_LABEL_EXPECTED)
    return value


def check_dns_subdomain(value: Any) -> Any:
    """``value`` if it is a DNS-1123 subdomain; else ``ValueError`` saying what was expected."""
    if not is_dns_subdomain(value):
        raise ValueError(DNS_SUBDOMAIN_EXPECTED)
    return value
