"""Small readers shared by the checks: property paths, IAM documents, pod templates, quantities.

Values may arrive as plain dicts and lists (offline, in tests) or as the policy SDK's read-only
``Mapping`` / ``Sequence`` proxies (inside the pack), so every reader tests for the abstract types.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any


def is_map(value: Any) -> bool:
    """Whether ``value`` is a mapping (a dict, or the policy SDK's read-only proxy of an object)."""
    return isinstance(value, Mapping)


def is_list(value: Any) -> bool:
    """Whether ``value`` is a list-like sequence (strings and bytes are not)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """The value at ``path`` below ``value`` (keys and list indexes), or ``default``."""
    for key in path:
        if isinstance(key, int):
            if not is_list(value) or key >= len(value):
                return default
            value = value[key]
        else:
            if not is_map(value) or key not in value:
                return default
            value = value[key]
    return default if value is None else value


def as_list(value: Any) -> list[Any]:
    """A list of the value's items: [] for None, [value] for a single item."""
    if value is None:
        return []
    return list(value) if is_list(value) else [value]


# ---------------------------------------------------------------- IAM policy documents

def policy_document(value: Any) -> Mapping[str, Any] | None:
    """A policy document from a JSON string or a mapping; None when absent or not parseable."""
    if value is None or value == "":
        return None
    if is_map(value):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The document's statements as a list of mappings."""
    if document is None:
        return []
    return [s for s in as_list(get(document, "Statement")) if is_map(s)]


def allow_statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The document's statements with ``"Effect": "Allow"``."""
    return [s for s in statements(document) if get(s, "Effect") == "Allow"]


def principal_values(statement: Mapping[str, Any]) -> dict[str, list[str]]:
    """The statement's Principal as {kind: [values]}; ``"*"`` becomes {"*": ["*"]}."""
    principal = get(statement, "Principal")
    if principal is None:
        return {}
    if isinstance(principal, str):
        return {"*": [principal]} if principal == "*" else {"AWS": [principal]}
    if is_map(principal):
        return {str(k): [str(v) for v in as_list(principal[k])] for k in principal}
    return {}


def is_public_principal(statement: Mapping[str, Any]) -> bool:
    """Principal ``*`` or ``{"AWS": "*"}``: anyone, including anonymous callers."""
    principals = principal_values(statement)
    return "*" in principals.get("*", []) or "*" in principals.get("AWS", [])


def policy_documents_of(props: Mapping[str, Any], type_token: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The identity-policy documents a resource carries, as (property path, document)."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    if type_token in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"):
        document = policy_document(get(props, "policy"))
        if document is not None:
            found.append(("policy", document))
    if type_token == "aws:iam/role:Role":
        for index, inline in enumerate(as_list(get(props, "inlinePolicies"))):
            document = policy_document(get(inline, "policy"))
            if document is not None:
                found.append((f"inlinePolicies[{index}].policy", document))
    return found


# ---------------------------------------------------------------- Kubernetes pod templates

#: Workload kinds and where their pod spec lives (source: Kubernetes API reference; Argo Rollouts
#: ``Rollout.spec.template`` mirrors a Deployment's).
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:argoproj.io/v1alpha1:Rollout": ("spec", "template", "spec"),
}
WORKLOAD_TYPES = tuple(POD_SPEC_PATHS)
#: Long-running workloads (readiness probes make sense for them).
SERVING_TYPES = tuple(t for t in WORKLOAD_TYPES if not t.startswith("kubernetes:batch/"))


def pod_spec(type_token: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of a workload (see :data:`POD_SPEC_PATHS`); None for other kinds or when absent."""
    path = POD_SPEC_PATHS.get(type_token)
    if path is None:
        return None
    spec = get(props, *path)
    return spec if is_map(spec) else None


def containers(spec: Mapping[str, Any], include_init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container) for every container of the pod spec; label like ``containers[app]``."""
    keys = ("initContainers", "containers", "ephemeralContainers") if include_init else ("containers",)
    for key in keys:
        for index, container in enumerate(as_list(get(spec, key))):
            if is_map(container):
                yield f"{key}[{get(container, 'name', default=index)}]", container


# ---------------------------------------------------------------- Kubernetes quantities

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIX = {
    "": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18, "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}


def parse_quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (``500m``, ``4Gi``, ``2``) as a Decimal; None when not parseable.

    Suffixes follow the Kubernetes API reference, "Quantity" (decimal SI and binary IEC).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation:
        return None


def scaled(value: Any, replicas: int) -> int:
    """``maxSurge`` style value (an int or ``"25%"``) against ``replicas``, rounded up."""
    if isinstance(value, str) and value.endswith("%"):
        try:
            return math.ceil(float(value[:-1]) * replicas / 100)
        except ValueError:
            return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

