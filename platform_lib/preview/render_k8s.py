"""Write every Kubernetes object of a preview's plan as a YAML manifest, one file per object.

The manifests are what the Kubernetes provider would send to the API server: ``apiVersion`` and
``kind`` come from the type token (``kubernetes:apps/v1:Deployment`` is ``apps/v1`` ``Deployment``;
the core group is written without a group, ``kubernetes:core/v1:Service`` is ``v1`` ``Service``),
``metadata.name`` is the name the provider assigned (auto-named or explicit), and the rest is the
registered inputs. Unknown values (``None`` in the plan) are left out, as ``kubectl`` leaves out a
field set to null. They are meant for review, diffing and schema validation (``kubernetes-validate``,
``kubeconform``), not for ``kubectl apply``: Pulumi remains what applies them.

The output directory is the renderer's own: it writes a marker file (:data:`MARKER_FILE`, listing
what it wrote) and refuses a non-empty directory without one, so it never mixes its manifests with
other files; rendering again into its own directory first removes the files the marker lists, so no
manifest of an object that left the plan stays behind. Every path is checked to stay inside the
directory, whatever names the plan holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import PlatformError
from ..core.kubernetes_names import DNS_LABEL_EXPECTED, is_dns_label, is_path_segment_name
from ..core.secrets import SECRET_PLACEHOLDER
from .files import make_private_directory, write_private_text
from .plan import Plan, PlannedResource, mask

#: Type tokens of the Kubernetes provider that are not API objects: components made of other
#: resources (their children are rendered instead) and Helm releases (rendered by Helm).
_NOT_OBJECTS = re.compile(r"^kubernetes:(yaml(/v2)?|kustomize(/v2)?|helm\.sh/v[34]):")
#: Where cluster-scoped objects (Namespace, ClusterRole, ...) are written.
CLUSTER_SCOPED_DIRECTORY = "_cluster"
#: The file that marks a directory as written by :func:`render_kubernetes`, a JSON object whose
#: ``files`` lists the manifests written, relative to the directory.
MARKER_FILE = ".mlplat-render.json"


class RenderError(PlatformError, ValueError):
    """The plan cannot be rendered to that directory: a name that is no Kubernetes name, two objects
    in one file, or a directory holding files the renderer did not write (a user error)."""


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
    namespaced one left to the provider's default namespace.

    Raises:
        RenderError: the namespace is not a DNS-1123 label, or the name is not even a path segment
            name (the loosest rule the API server has), so the path could leave its directory.
    """
    metadata = manifest["metadata"]
    namespace, name = metadata.get("namespace"), metadata["name"]
    if namespace and not is_dns_label(namespace):
        raise RenderError(f"{manifest['kind']} {name!r}: metadata.namespace {namespace!r} is not {DNS_LABEL_EXPECTED}")
    if not is_path_segment_name(name):
        raise RenderError(f"{manifest['kind']} in {namespace or 'no namespace'}: metadata.name {name!r} is no Kubernetes name (not '.' or '..', no '/' or '%')")
    return Path(namespace or CLUSTER_SCOPED_DIRECTORY) / f"{manifest['kind'].lower()}-{name}.yaml"


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings (PromQL, scripts) as literal blocks for readable diffs."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def check_render_directory(directory: Path | str) -> list[Path]:
    """Check that ``directory`` may be rendered into: missing, empty, or written by the renderer.

    Returns:
        The files an earlier render wrote there (from its marker), to remove before writing.

    Raises:
        RenderError: it is a file, it holds files but no :data:`MARKER_FILE`, or its marker is
            unreadable or lists a path outside it.
    """
    root = Path(directory)
    if not root.exists():
        return []
    if not root.is_dir():
        raise RenderError(f"--render-k8s {root}: not a directory")
    marker = root / MARKER_FILE
    if not marker.is_file():
        if any(root.iterdir()):
            raise RenderError(f"--render-k8s {root}: the directory is not empty and was not written by --render-k8s (no {MARKER_FILE}); give a new or empty directory")
        return []
    try:
        listed = json.loads(marker.read_text(encoding="utf-8"))["files"]
        return [_inside(root, Path(relative)) for relative in listed]
    except (ValueError, KeyError, TypeError) as error:
        raise RenderError(f"--render-k8s {root}: {MARKER_FILE} is not the renderer's ({error}); remove the directory or give another one") from None


def _inside(root: Path, relative: Path) -> Path:
    """``root / relative``, refused unless it resolves (symbolic links followed) inside ``root``."""
    target = root / relative
    if relative.is_absolute() or not target.resolve().is_relative_to(root.resolve()):
        raise RenderError(f"--render-k8s {root}: {relative} would be written outside the directory")
    return target


def render_kubernetes(plan: Plan, directory: Path | str, *, show_secrets: bool = False) -> list[Path]:
    """Write every Kubernetes object of ``plan`` under ``directory``, one YAML file per object.

    Provider resources (``pulumi:providers:kubernetes``), components and Helm releases are left out.
    Secret values are masked as :func:`to_manifest` says unless ``show_secrets``. Files are created
    with mode 0600, directories with mode 0700 (:mod:`.files`).

    Args:
        plan: a preview's plan (:func:`platform_lib.preview.run_preview`).
        directory: where to write; created if missing. It must be missing, empty, or written by
            an earlier render (see :func:`check_render_directory`): the files that render wrote
            are removed first, so the directory holds exactly this plan's objects.
        show_secrets: write secret values in clear (``--show-secrets``).

    Returns:
        The written files, sorted.

    Raises:
        RenderError: two objects would be written to the same file (same namespace, kind and
            name), a name or namespace is not a Kubernetes name, an object has neither a set nor
            an assigned name, or the directory holds files the renderer did not write; nothing
            is written or removed then.
    """
    root = Path(directory)
    stale = check_render_directory(root)
    known = frozenset() if show_secrets else frozenset(plan.secret_texts())
    manifests: dict[Path, tuple[PlannedResource, dict[str, Any]]] = {}
    for resource in plan.resources:
        if not is_kubernetes_object(resource):
            continue
        try:
            manifest = to_manifest(resource, show_secrets=show_secrets, known_secrets=known)
        except ValueError as error:
            raise RenderError(str(error)) from None
        path = manifest_path(manifest)
        if path in manifests:
            raise RenderError(f"{resource.urn} and {manifests[path][0].urn} are both {path}: same namespace, kind and name")
        manifests[path] = (resource, manifest)
    targets = {relative: _inside(root, relative) for relative in manifests}
    make_private_directory(root)
    for path in stale:
        if path.is_file() or path.is_symlink():
            path.unlink()
        if path.parent != root and path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    written = []
    for relative, (_, manifest) in sorted(manifests.items()):
        target = targets[relative]
        make_private_directory(target.parent)
        write_private_text(target, yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True))
        written.append(target)
    marker = {"written_by": "mlplat preview --render-k8s", "files": [relative.as_posix() for relative in sorted(manifests)]}
    write_private_text(root / MARKER_FILE, json.dumps(marker, indent=2) + "\n")
    return written
