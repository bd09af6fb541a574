"""The standard tags (AWS) and labels (GCP, Kubernetes) every platform resource carries."""

from __future__ import annotations

from typing import Mapping

#: The four standard keys. The caller gives ``team`` and ``cost-center``; the platform fills in
#: ``environment`` and ``managed-by`` (source: AWS Tagging Best Practices whitepaper, cost allocation).
STANDARD_KEYS = ("team", "cost-center", "environment", "managed-by")
CALLER_KEYS = ("team", "cost-center")


def require_standard_keys(values: Mapping[str, str], noun: str = "tags") -> Mapping[str, str]:
    """Return ``values`` unchanged when ``team`` and ``cost-center`` are present and non-empty.

    Args:
        values: tags or labels.
        noun: ``"tags"`` or ``"labels"``, for the message.

    Raises:
        ValueError: naming the missing keys (pydantic turns it into the field's error).
    """
    missing = [key for key in CALLER_KEYS if not values.get(key)]
    if missing:
        raise ValueError(f"{noun} including the standard keys {', '.join(missing)} (non-empty)")
    return values
