"""The standard tags (AWS) and labels (GCP, Kubernetes) every platform resource carries: one place.

Every component takes ``tags`` (AWS) or ``labels`` (GCP, Kubernetes) holding at least ``team``,
``cost-center`` and ``environment``, fills in ``managed-by: pulumi``, and puts the result on
every child that takes tags or labels. So the documented minimum arguments of a component pass
the policy pack's ``aws-required-tags`` / ``gcp-required-labels`` (source: AWS Tagging Best
Practices whitepaper, "cost allocation tags"). The platform layer builds them from the stack
config (:meth:`platform_lib.platform.config.Tags.for_environment`); a team passes its own.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["CALLER_KEYS", "MANAGED_BY", "STANDARD_KEYS", "require_standard_keys", "with_managed_by"]

#: The four standard keys, as the policy pack requires them.
STANDARD_KEYS = ("team", "cost-center", "environment", "managed-by")
#: The keys a caller gives; ``managed-by`` is filled in.
CALLER_KEYS = ("team", "cost-center", "environment")
#: The value of ``managed-by`` on everything the components create.
MANAGED_BY = "pulumi"


def require_standard_keys(values: Mapping[str, Any], noun: str = "tags", keys: tuple[str, ...] = CALLER_KEYS) -> Mapping[str, Any]:
    """Return ``values`` unchanged when ``team``, ``cost-center`` and ``environment`` are present
    and non-empty (a value may be a ``pulumi.Output``).

    Args:
        values: tags or labels.
        noun: ``"tags"`` or ``"labels"``, for the message.
        keys: the keys required (default :data:`CALLER_KEYS`).

    Raises:
        ValueError: naming the missing keys (pydantic turns it into the field's error).
    """
    missing = [key for key in keys if key not in values or values[key] in (None, "")]
    if missing:
        raise ValueError(f"{noun} including the standard keys {', '.join(keys)} (missing: {', '.join(missing)})")
    return values


def with_managed_by(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with ``managed-by: pulumi`` added unless the caller set ``managed-by``."""
    return {**values, "managed-by": values.get("managed-by") or MANAGED_BY}
