"""Kubernetes labels as component arguments: the standard keys required, values may be Outputs.

Keys are checked at construction; a plain value is checked at construction, an Output value when
it becomes known (:func:`platform_lib.core.inputs.checked_output`), against the Kubernetes label
syntax (:data:`platform_lib.k8s.checks.LABEL_KEY`, :data:`~platform_lib.k8s.checks.LABEL_VALUE`).
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import ValidationInfo

from ..core.inputs import checked_output, is_output
from ..core.tagging import require_standard_keys
from .checks import LABEL_KEY, LABEL_VALUE

__all__ = ["check_label_inputs", "check_label_value"]

_VALUE_EXPECTED = "a Kubernetes label value (at most 63 letters, digits, '-', '_', '.', alphanumeric at both ends)"


def check_label_value(value: Any) -> str:
    """Return ``value`` if it is a valid label value, else raise ``ValueError`` saying what was expected."""
    if not isinstance(value, str) or not LABEL_VALUE.fullmatch(value):
        raise ValueError(_VALUE_EXPECTED)
    return value


def check_label_inputs(labels: Mapping[str, Any], info: ValidationInfo) -> dict[str, Any]:
    """A pydantic ``field_validator`` body for ``labels: dict[str, Input[str]]``.

    Args:
        labels: label keys to values (strings or ``pulumi.Output``).
        info: pydantic's validation info (its context ``component`` names the component).

    Returns:
        The labels, each Output value wrapped so it is checked when known.

    Raises:
        ValueError: a standard key (team, cost-center, environment) missing, or bad plain keys or
            values, all named (pydantic turns it into the field's error).
    """
    require_standard_keys(labels, "labels")
    bad = [f"{key}={value}" for key, value in labels.items() if not LABEL_KEY.fullmatch(key) or (not is_output(value) and not (isinstance(value, str) and LABEL_VALUE.fullmatch(value)))]
    if bad:
        raise ValueError(f"Kubernetes label keys and values (values: at most 63 letters, digits, '-', '_', '.'; bad: {', '.join(bad)})")
    label = (info.context or {}).get("component", "component")
    return {key: checked_output(value, check_label_value, f"{label}.{info.field_name}[{key}]") if is_output(value) else value for key, value in labels.items()}
