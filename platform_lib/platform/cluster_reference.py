"""Reading the cluster stack from a platform or team stack: ``reference_cluster(stack)``.

The cluster layer (project ``ml-platform-cluster``, directory ``clusters/``, see
``docs/cluster.md``) exports what the stacks above it need, camelCase (the outputs contract):

- ``kubeconfig`` (secret), ``clusterName``, ``kubernetesVersion``, ``cloud`` (``aws`` | ``gcp``);
- AWS: ``oidcProviderArn``, ``oidcIssuer`` (without ``https://``), ``vpcCidr``;
- GCP: ``workloadIdentityPool`` (``<project>.svc.id.goog``);
- ``gpuNodePools``: ``[{name, labels: {k: v}, taints: [{key, value, effect}]}]``;
- ``otelCollectorEndpoint`` (``http://<service>.<namespace>.svc:4317``), ``prometheusNamespace``.

:func:`reference_cluster` makes one ``pulumi.StackReference`` to that stack and one Kubernetes
provider built from its kubeconfig, so every Kubernetes object of the stack goes to that cluster,
and nothing is typed by hand (no OIDC provider ARN in a stack file). Under ``mlplat preview`` the
reference is answered offline (the cluster stack's own preview, or ``--stack-outputs``); under
the Pulumi CLI by the backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import pulumi
import pulumi_kubernetes as k8s

from ..core.errors import ConfigError, Issue, PlatformError

__all__ = [
    "CLUSTER_PROJECT",
    "ClusterReference",
    "ClusterOutputError",
    "GpuScheduling",
    "STACK_NAME",
    "gpu_scheduling",
    "reference_cluster",
]

#: The cluster layer's Pulumi project name (``clusters/Pulumi.yaml``).
CLUSTER_PROJECT = "ml-platform-cluster"
#: A fully qualified stack name, ``<organization>/<project>/<stack>``, as ``pulumi.StackReference``
#: takes it (Pulumi docs, "Stack references": organization, project and stack names are letters,
#: digits, ``-``, ``_`` and ``.``).
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class ClusterOutputError(PlatformError):
    """The referenced cluster stack lacks an output the platform needs, or has one of the wrong shape."""


@dataclass(frozen=True)
class ClusterReference:
    """A cluster stack, read through a ``pulumi.StackReference``.

    Attributes:
        stack: the fully qualified referenced stack, ``<org>/ml-platform-cluster/<env>``.
        cluster_name: the cluster's name.
        kubeconfig: the kubeconfig (a secret Output).
        oidc_provider_arn: the IAM OIDC provider's ARN for IRSA trust policies (AWS clusters);
            ``None`` when the reference was made for a GCP cluster (``cloud="gcp"``).
        oidc_issuer: the OIDC issuer without ``https://`` (AWS); ``None`` as above.
        gpu_node_pools: ``[{name, labels: {k: v}, taints: [{key, value, effect}]}]``, one per GPU
            node pool or group (an empty list for a cluster without GPUs).
        otel_collector_endpoint: the OpenTelemetry Collector's OTLP/gRPC URL inside the cluster.
        provider: a Kubernetes provider built from ``kubeconfig``: pass it to every Kubernetes
            component (``opts=pulumi.ResourceOptions(provider=ref.provider)``).
        cloud: ``aws`` or ``gcp``.
        kubernetes_version: the control plane's ``major.minor``.
        workload_identity_pool: ``<project>.svc.id.goog`` (GCP); ``None`` for an AWS reference.
        prometheus_namespace: where Prometheus runs (its scrapes are let into endpoint pods).
        reference: the ``pulumi.StackReference`` itself, for outputs beyond these.
    """

    stack: str
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str] | None
    oidc_issuer: pulumi.Output[str] | None
    gpu_node_pools: pulumi.Output[list[dict[str, Any]]]
    otel_collector_endpoint: pulumi.Output[str]
    provider: k8s.Provider
    cloud: pulumi.Output[str] | None = None
    kubernetes_version: pulumi.Output[str] | None = None
    workload_identity_pool: pulumi.Output[str] | None = None
    prometheus_namespace: pulumi.Output[str] | None = None
    reference: pulumi.StackReference | None = None


def check_stack_name(stack: Any, path: str = "stack") -> list[Issue]:
    """Problems with a fully qualified stack name (one issue at ``path``, or none)."""
    if isinstance(stack, str) and STACK_NAME.fullmatch(stack):
        return []
    return [Issue(path, stack, "a fully qualified stack name <organization>/<project>/<stack>, e.g. organization/ml-platform-cluster/prod")]


def _required(reference: pulumi.StackReference, stack: str, key: str, check: Callable[[Any], str | None]) -> pulumi.Output[Any]:
    """The output ``key`` of ``reference``, failing with :class:`ClusterOutputError` (naming the
    stack, the output and what was expected) when it is missing or fails ``check`` (which returns
    the expectation in words, or ``None`` when the value is fine). The value is never echoed."""

    def verify(value: Any) -> Any:
        if value is None:
            raise ClusterOutputError(f"the cluster stack {stack} has no output {key!r}: the platform needs it (see docs/cluster.md, the outputs contract)")
        problem = check(value)
        if problem is not None:
            raise ClusterOutputError(f"the cluster stack {stack}'s output {key!r} is not {problem} (see docs/cluster.md, the outputs contract)")
        return value

    return reference.get_output(key).apply(verify)


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "a non-empty string"


def _oidc_arn(value: Any) -> str | None:
    ok = isinstance(value, str) and re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+", value)
    return None if ok else "an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>)"


def _issuer(value: Any) -> str | None:
    ok = isinstance(value, str) and re.fullmatch(r"[a-z0-9.-]+(/[A-Za-z0-9._-]+)*", value)
    return None if ok else "an OIDC issuer host and path without https:// (oidc.eks.<region>.amazonaws.com/id/<id>)"


def _pools(value: Any) -> str | None:
    expected = "a list of {name, labels: {key: value}, taints: [{key, value, effect}]}"
    if not isinstance(value, list):
        return expected
    for pool in value:
        if not isinstance(pool, dict) or not isinstance(pool.get("name"), str) or not isinstance(pool.get("labels", {}), dict):
            return expected
        for taint in pool.get("taints") or []:
            if not isinstance(taint, dict) or not isinstance(taint.get("key"), str) or taint.get("effect") not in _TAINT_EFFECTS:
                return f"{expected} (effect one of {', '.join(_TAINT_EFFECTS)})"
    return None


def _endpoint(value: Any) -> str | None:
    return None if isinstance(value, str) and re.fullmatch(r"https?://[^\s]+", value) else "an http(s):// URL"


def reference_cluster(stack: str, opts: pulumi.ResourceOptions | None = None, *, cloud: str | None = None, name: str = "cluster") -> ClusterReference:
    """Reference the cluster stack ``stack`` and build a Kubernetes provider from its kubeconfig.

    Args:
        stack: the fully qualified cluster stack, ``<org>/ml-platform-cluster/<env>``.
        opts: options for the ``StackReference`` and the provider (e.g. ``parent``).
        cloud: ``"aws"`` or ``"gcp"`` when the caller knows the cluster's cloud: the other cloud's
            identity fields are then ``None`` and the needed ones are required outputs. ``None``
            (default): both are given, as Outputs that are ``None`` when the stack lacks them.
        name: the logical name of the provider (``<name>-kubernetes``); the ``StackReference`` is
            named by ``stack``, as Pulumi's docs name them.

    Returns:
        The :class:`ClusterReference`. Its Outputs check the referenced outputs when they arrive:
        a missing or malformed one fails the program with :class:`ClusterOutputError` naming the
        stack and the output (a value is never echoed: the kubeconfig is a secret).

    Raises:
        ConfigError: ``stack`` is not a fully qualified stack name, or ``cloud`` is not ``aws`` /
            ``gcp``; nothing was registered.
    """
    issues = check_stack_name(stack)
    if cloud not in (None, "aws", "gcp"):
        issues.append(Issue("cloud", cloud, "'aws', 'gcp' or None"))
    if issues:
        raise ConfigError("invalid cluster reference; nothing was created", issues)
    reference = pulumi.StackReference(stack, stack_name=stack, opts=opts)
    kubeconfig = pulumi.Output.secret(_required(reference, stack, "kubeconfig", _text))
    optional = lambda key: reference.get_output(key)  # noqa: E731 - None when the stack lacks it
    if cloud == "aws":
        oidc_arn, issuer, pool = _required(reference, stack, "oidcProviderArn", _oidc_arn), _required(reference, stack, "oidcIssuer", _issuer), None
    elif cloud == "gcp":
        oidc_arn, issuer, pool = None, None, _required(reference, stack, "workloadIdentityPool", _text)
    else:
        oidc_arn, issuer, pool = optional("oidcProviderArn"), optional("oidcIssuer"), optional("workloadIdentityPool")
    provider = k8s.Provider(
        f"{name}-kubernetes",
        kubeconfig=kubeconfig,
        # Server-side apply (the provider's default since v4) is stated: field managers keep the
        # platform's objects apart from what controllers write into them.
        enable_server_side_apply=True,
        opts=opts,
    )
    return ClusterReference(
        stack=stack,
        cluster_name=_required(reference, stack, "clusterName", _text),
        kubeconfig=kubeconfig,
        oidc_provider_arn=oidc_arn,
        oidc_issuer=issuer,
        gpu_node_pools=reference.get_output("gpuNodePools").apply(lambda pools: pools if pools is not None else []).apply(
            lambda pools: _checked_pools(stack, pools)
        ),
        otel_collector_endpoint=_required(reference, stack, "otelCollectorEndpoint", _endpoint),
        provider=provider,
        cloud=_required(reference, stack, "cloud", lambda v: None if v in ("aws", "gcp") else "'aws' or 'gcp'"),
        kubernetes_version=reference.get_output("kubernetesVersion"),
        workload_identity_pool=pool,
        prometheus_namespace=reference.get_output("prometheusNamespace").apply(lambda value: value or "monitoring"),
        reference=reference,
    )


def _checked_pools(stack: str, pools: Any) -> list[dict[str, Any]]:
    problem = _pools(pools)
    if problem is not None:
        raise ClusterOutputError(f"the cluster stack {stack}'s output 'gpuNodePools' is not {problem} (see docs/cluster.md, the outputs contract)")
    return pools


@dataclass(frozen=True)
class GpuScheduling:
    """Where a GPU pod may run on a cluster: the node labels every GPU pool carries, and a
    toleration per taint any GPU pool carries (so the pod fits whichever pool has room).

    Attributes:
        node_selector: labels common to every GPU node pool (``{}`` when there is none).
        tolerations: Kubernetes tolerations ``{key, operator: Equal, value, effect}`` (``Exists``
            when the taint has no value), one per distinct taint, in pool order.
    """

    node_selector: dict[str, str]
    tolerations: list[dict[str, str]]


def gpu_scheduling(pools: list[dict[str, Any]]) -> GpuScheduling:
    """The node selector and tolerations that let a GPU pod run on any of ``pools``.

    Args:
        pools: the cluster's ``gpuNodePools`` output.

    Returns:
        The labels all pools share (a pod selecting them fits every pool) and the union of their
        taints as tolerations. Kubernetes docs, "Taints and Tolerations": a toleration matches a
        taint with the same key and effect, and the same value (``Equal``) or any (``Exists``).
    """
    if not pools:
        return GpuScheduling({}, [])
    common = dict(pools[0].get("labels") or {})
    for pool in pools[1:]:
        labels = pool.get("labels") or {}
        common = {key: value for key, value in common.items() if labels.get(key) == value}
    tolerations: list[dict[str, str]] = []
    for pool in pools:
        for taint in pool.get("taints") or []:
            value = taint.get("value")
            toleration = {"key": taint["key"], "operator": "Equal", "value": str(value), "effect": taint["effect"]} if value not in (None, "") else {
                "key": taint["key"], "operator": "Exists", "effect": taint["effect"]}
            if toleration not in tolerations:
                tolerations.append(toleration)
    return GpuScheduling(common, tolerations)
