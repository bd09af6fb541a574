"""Write every Kubernetes object of a preview's plan as a YAML manifest, one file per object.

The manifests are what the Kubernetes provider would send to the API server: ``apiVersion`` and
``kind`` come from the type token (``kubernetes:apps/v1:Deployment`` is ``apps/v1`` ``Deployment``;
the core group is written without a group, ``kubernetes:core/v1:Service`` is ``v1`` ``Service``),
``metadata.name`` is the name the provider assigned (auto-named or explicit), and the rest is the
registered inputs. Unknown values (``None`` in the plan) are left out, as ``kubectl`` leaves out a
field set to null. They are meant for review, diffing and schema validation (``kubernetes-validate``,
``kubeconform``), not for ``kubectl apply``: Pulumi remains what applies them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..core.secrets import SECRET_PLACEHOLDER
from .files import make_private_directory, write_private_text
from .plan import Plan, PlannedResource, mask

#: Type tokens of the Kubernetes provider that are not API objects: components made of other
#: resources (their children are rendered instead) and Helm releases (rendered by Helm).
_NOT_OBJECTS = re.compile(r"^kubernetes:(yaml(/v2)?|kustomize(/v2)?|helm\.sh/v[34]):")
#: Where cluster-scoped objects (Namespace, ClusterRole, ...) are written.
CLUSTER_SCOPED_DIRECTORY = "_cluster"


def api_version_and_kind(type_token: str) -> tuple[str, str]:
    """``kubernetes:<group>/<version>:<Kind>`` as ``(apiVersion, kind)``; the core group has no group.

    Raises:
        ValueError: the token is not a Kubernetes object's type token.
    """
    provider, _, rest = type_token.partition(":")
    group_version, _, kind = rest.rpartition(":")
    if provider != "kubernetes" or "/" not in group_version or not kind:
        raise ValueError(f"not a Kubernetes object type token: {type_token!r}")
    group, _, version = group_version.rpartition("/")
    return (version if group == "core" else group_version), kind


def is_kubernetes_object(resource: PlannedResource) -> bool:
    """True for a Kubernetes API object: a custom resource with a ``kubernetes:<group>/<version>:<Kind>`` token."""
    if not resource.custom or not resource.type.startswith("kubernetes:") or _NOT_OBJECTS.match(resource.type):
        return False
    try:
        api_version_and_kind(resource.type)
    except ValueError:
        return False
    return True


def _without_nulls(value: Any) -> Any:
    """Drop unknown (``None``) values and sort mapping keys, so two renders of one plan are identical."""
    if isinstance(value, dict):
        return {k: _without_nulls(value[k]) for k in sorted(value) if value[k] is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def to_manifest(resource: PlannedResource, *, show_secrets: bool = False, known_secrets: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """The Kubernetes object a planned resource stands for, as a plain dict.

    Unless ``show_secrets``, the values the program marked secret are ``[secret]``, ``known_secrets``
    are masked inside other strings, and a Secret's ``data`` and ``stringData`` values are all
    ``[secret]`` (their keys are kept), whether the program marked them secret or not.

    Raises:
        ValueError: the resource is not a Kubernetes object, or its inputs name another apiVersion/kind.
    """
    api_version, kind = api_version_and_kind(resource.type)
    inputs = dict(resource.inputs) if show_secrets else mask(resource.inputs, resource.secret_inputs, known_secrets)
    if not show_secrets and (api_version, kind) == ("v1", "Secret"):
        for key in ("data", "stringData"):  # the keys stay (kubectl describe shows them too)
            if isinstance(resource.inputs.get(key), dict):
                inputs[key] = {name: SECRET_PLACEHOLDER for name in resource.inputs[key]}
    inputs = _without_nulls(inputs)
    for key, expected in (("apiVersion", api_version), ("kind", kind)):
        if inputs.get(key) not in (None, expected):
            raise ValueError(f"{resource.urn}: {key} {inputs[key]!r} does not match the type token ({expected!r})")
        inputs.pop(key, None)
    metadata = dict(inputs.pop("metadata", None) or {})
    assigned = (resource.outputs.get("metadata") or {}).get("name")
    if assigned:
        metadata["name"] = assigned
    if not metadata.get("name"):
        raise ValueError(f"{resource.urn}: no metadata.name, neither set nor assigned by the provider")
    first = {key: metadata.pop(key) for key in ("name", "namespace") if key in metadata}
    ordered: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {**first, **metadata}}
    ordered.update(inputs)
    return ordered


def manifest_path(manifest: dict[str, Any]) -> Path:
    """``<namespace>/<kind>-<name>.yaml`` (lower-case kind), or ``_cluster/<kind>-<name>.yaml`` for
    an object without ``metadata.namespace``: a cluster-scoped one (Namespace, ClusterRole), or a
    namespaced one left to the provider's default namespace."""
    metadata = manifest["metadata"]
    directory = metadata.get("namespace") or CLUSTER_SCOPED_DIRECTORY
    return Path(directory) / f"{manifest['kind'].lower()}-{metadata['name']}.yaml"


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings (PromQL, scripts) as literal blocks for readable diffs."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_kubernetes(plan: Plan, directory: Path | str, *, show_secrets: bool = False) -> list[Path]:
    """Write every Kubernetes object of ``plan`` under ``directory``, one YAML file per object.

    Provider resources (``pulumi:providers:kubernetes``), components and Helm releases are left out.
    Secret values are masked as :func:`to_manifest` says unless ``show_secrets``. Files are created
    with mode 0600, directories with mode 0700 (:mod:`.files`).

    Args:
        plan: a preview's plan (:func:`platform_lib.preview.run_preview`).
        directory: where to write; created if missing. Files from an earlier run are overwritten,
            other files are left alone.
        show_secrets: write secret values in clear (``--show-secrets``).

    Returns:
        The written files, sorted.

    Raises:
        ValueError: two objects would be written to the same file (same namespace, kind and name),
            or an object has neither a set nor an assigned name.
    """
    root = Path(directory)
    known = frozenset() if show_secrets else frozenset(plan.secret_texts())
    manifests: dict[Path, tuple[PlannedResource, dict[str, Any]]] = {}
    for resource in plan.resources:
        if not is_kubernetes_object(resource):
            continue
        manifest = to_manifest(resource, show_secrets=show_secrets, known_secrets=known)
        path = manifest_path(manifest)
        if path in manifests:
            raise ValueError(f"{resource.urn} and {manifests[path][0].urn} are both {path}: same namespace, kind and name")
        manifests[path] = (resource, manifest)
    written = []
    for relative, (_, manifest) in sorted(manifests.items()):
        target = root / relative
        make_private_directory(target.parent)
        write_private_text(target, yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True))
        written.append(target)
    return written
