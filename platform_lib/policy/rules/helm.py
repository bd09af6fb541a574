"""Helm releases: every chart pinned to one exact version.

A ``kubernetes:helm.sh/v3:Release`` without a version installs whatever the repository holds as
newest when ``pulumi up`` runs, and a range (``^1.2``, ``~1.2.3``, ``>=1``) does the same within
its bounds: two applies of one commit can install two different charts, and a chart's new major
version (CRD changes, renamed values) arrives unreviewed. Source: Helm docs, "helm install"
(``--version``: "specify a version constraint for the chart version to use... If this is not
specified, the latest version is used"); pulumi-kubernetes ``helm.v3.Release`` (``chart``,
``version``, ``repositoryOpts``).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

from ...core.versions import EXACT_VERSION, is_exact_version
from ..catalogue import resource_policy
from ..helpers import get

RELEASE_TYPES = ("kubernetes:helm.sh/v3:Release",)

#: A chart archive's file name, ``<name>-<version>.tgz`` (Helm's ``helm package`` naming).
_ARCHIVE = re.compile(r"^(?P<name>.+?)-(?P<version>v?\d+\.\d+\.\d+[^/]*?)\.tgz$")


def _archive_version(url: str) -> str | None:
    """The version a chart archive URL names (``.../kube-prometheus-stack-77.0.0.tgz``), if any."""
    match = _ARCHIVE.match(urlparse(url).path.rsplit("/", 1)[-1])
    return match.group("version") if match and EXACT_VERSION.fullmatch(match.group("version")) else None


def _is_local_path(chart: str) -> bool:
    """A chart in the program's own repository (``./charts/x``, ``../x``, ``/abs``, ``file://``):
    pinned by the repository's commit."""
    return chart.startswith(("./", "../", "/", "file://"))


@resource_policy(
    "helm-release-pinned-version",
    description="A Helm release names one exact chart version (no missing version, no range such as ^1.2 or >=1.0, no chart URL without a version).",
    severity="high",
    remediation="Set version to one exact chart version (e.g. 77.0.0); platform_lib's pinned_release takes it from platform_lib.k8s.helm.CHARTS, "
                "the one place the platform pins charts. A chart given by URL names its archive, <name>-<version>.tgz.",
    controls=("Helm docs: helm install --version (without it the latest version is used)", "SLSA: pinned dependencies"),
    types=RELEASE_TYPES,
    tags=("kubernetes", "helm", "supply-chain"),
)
def release_pinned_version(resource, config):
    chart = str(get(resource.props, "chart", default="") or "")
    version = get(resource.props, "version")
    what = f"Helm release '{resource.name}' (chart {chart or '(none)'})"
    if chart.startswith(("https://", "http://")):
        if _archive_version(chart) is None:
            yield f"{what} is a chart URL that names no exact version (expected .../<name>-<version>.tgz)"
        elif version not in (None, "") and not is_exact_version(version):
            yield f"{what} has version {version!r}, a range, not one exact version"
        return
    if _is_local_path(chart):
        return
    if version in (None, ""):
        yield f"{what} has no chart version: Helm installs the newest one at every apply"
    elif not is_exact_version(version):
        yield f"{what} has version {version!r}, a range, not one exact version"
