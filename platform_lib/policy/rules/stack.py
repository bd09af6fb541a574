"""Stack policies: rules whose truth spans several resources.

A companion (public access block, quota) is matched to its owner the way the engine links them:
through the dependency the companion's input creates (``bucket=bucket.id``,
``namespace=ns.metadata.name``), or through equal names when the owner's name is set explicitly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from ..catalogue import ADVISORY_IN_DEV, Resource, stack_policy
from ..helpers import as_list, containers, get, parse_quantity, pod_spec, scaled
from ..helpers import policy_document, statements
from .aws_s3 import BUCKET, BUCKET_POLICY, ENCRYPTION, LIFECYCLE, PUBLIC_ACCESS_BLOCK, VERSIONING, _denies_insecure_transport
from .cost import BUDGET_CONFIG, instance_cost

NAMESPACE = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"


def known(resource: Resource, *path: str) -> Any:
    """The value at ``path``, or None when absent or unknown during a real preview (an id not yet
    assigned), so that matching falls back to dependencies instead of aborting the policy."""
    try:
        return get(resource.props, *path)
    except UnknownValueError:
        return None


class CompanionIndex:
    """Resources of some types, found by the URNs they depend on and by their ``bucket`` value."""

    def __init__(self, resources: Sequence[Resource], types: Sequence[str]):
        self.by_dependency: dict[str, dict[str, list[Resource]]] = defaultdict(lambda: defaultdict(list))
        self.by_bucket: dict[str, dict[str, list[Resource]]] = defaultdict(lambda: defaultdict(list))
        for resource in resources:
            if resource.type in types:
                for urn in resource.dependencies:
                    self.by_dependency[urn][resource.type].append(resource)
                value = known(resource, "bucket")
                if value:
                    self.by_bucket[str(value)][resource.type].append(resource)

    def of(self, bucket: Resource, types: Sequence[str]) -> list[Resource]:
        """The indexed resources of ``types`` that depend on ``bucket`` or name it (by its ``bucket`` or ``id``)."""
        names = {str(v) for v in (known(bucket, "bucket"), known(bucket, "id")) if v}
        found = [r for t in types for r in self.by_dependency.get(bucket.urn, {}).get(t, [])]
        seen = {id(r) for r in found}
        found += [r for name in names for t in types for r in self.by_bucket.get(name, {}).get(t, []) if id(r) not in seen]
        return found


def _buckets_without(resources: Sequence[Resource], types: Sequence[str]) -> list[Resource]:
    """The S3 buckets with no companion resource of ``types``."""
    index = CompanionIndex(resources, types)
    return [bucket for bucket in resources if bucket.type in BUCKET and not index.of(bucket, types)]


@stack_policy(
    "s3-bucket-companions",
    description="Every S3 bucket has its public access block and default encryption resources.",
    severity="high",
    remediation="Create the bucket through platform_lib's DataBucket, which adds BucketPublicAccessBlock and BucketServerSideEncryptionConfiguration.",
    controls=("AWS FSBP S3.8", "AWS FSBP S3.17", "CKV2_AWS_6"),
    tags=("s3",),
)
def bucket_companions(resources, config):
    index = CompanionIndex(resources, PUBLIC_ACCESS_BLOCK + ENCRYPTION)
    for bucket in (r for r in resources if r.type in BUCKET):
        missing = [label for label, types in (("public access block", PUBLIC_ACCESS_BLOCK), ("encryption configuration", ENCRYPTION))
                   if not index.of(bucket, types)]
        if missing:
            yield f"bucket '{bucket.name}' has no {', no '.join(missing)}", bucket.urn


@stack_policy(
    "s3-bucket-versioning",
    description="Every S3 bucket has a versioning resource (its status is checked by s3-versioning-enabled).",
    severity="medium",
    remediation="Add an aws.s3.BucketVersioning with status 'Enabled' (DataBucket does this).",
    controls=("AWS FSBP S3.14", "CKV_AWS_21"),
    levels=ADVISORY_IN_DEV,
    tags=("s3",),
)
def bucket_versioning(resources, config):
    for bucket in _buckets_without(resources, VERSIONING):
        yield f"bucket '{bucket.name}' has no versioning", bucket.urn


@stack_policy(
    "s3-bucket-tls-only",
    description="Every S3 bucket has a bucket policy that denies requests without TLS.",
    severity="high",
    remediation="Attach an aws.s3.BucketPolicy with a Deny on aws:SecureTransport = false (DataBucket does this).",
    controls=("AWS FSBP S3.5", "CIS AWS 2.1.1"),
    tags=("s3",),
)
def bucket_tls_only(resources, config):
    index = CompanionIndex(resources, BUCKET_POLICY)
    for bucket in (r for r in resources if r.type in BUCKET):
        policies = index.of(bucket, BUCKET_POLICY)
        if not any(_denies_insecure_transport(s) for p in policies for s in statements(policy_document(get(p.props, "policy")))):
            yield f"bucket '{bucket.name}' has no bucket policy denying aws:SecureTransport = false", bucket.urn


@stack_policy(
    "s3-bucket-lifecycle",
    description="Every S3 bucket has a lifecycle configuration.",
    severity="low",
    remediation="Add an aws.s3.BucketLifecycleConfiguration (expire noncurrent versions, abort incomplete uploads).",
    controls=("AWS FSBP S3.13", "CKV2_AWS_61"),
    levels=ADVISORY_IN_DEV,
    tags=("s3",),
)
def bucket_lifecycle(resources, config):
    for bucket in _buckets_without(resources, LIFECYCLE):
        yield f"bucket '{bucket.name}' has no lifecycle configuration", bucket.urn


def _namespace_name(namespace: Resource) -> str | None:
    return known(namespace, "metadata", "name")


@stack_policy(
    "k8s-namespace-quota-and-limits",
    description="Every Kubernetes namespace has a ResourceQuota and a LimitRange.",
    severity="high",
    remediation="Create the namespace through platform_lib's TeamNamespace, which pairs the quota with a LimitRange.",
    controls=("CIS Kubernetes 5.7.1 (namespaces as administrative boundaries)", "Kubernetes docs: Resource Quotas with LimitRange defaults"),
    tags=("kubernetes",),
)
def namespace_quota_and_limits(resources, config):
    present: set[tuple[str, str]] = set()
    for resource in resources:
        if resource.type in (QUOTA, LIMIT_RANGE):
            namespace = known(resource, "metadata", "namespace")
            if namespace:
                present.add((resource.type, f"name:{namespace}"))
            present.update((resource.type, f"urn:{urn}") for urn in resource.dependencies)
    for namespace in (r for r in resources if r.type == NAMESPACE):
        keys = {f"urn:{namespace.urn}"} | ({f"name:{_namespace_name(namespace)}"} if _namespace_name(namespace) else set())
        missing = [kind for kind, token in (("ResourceQuota", QUOTA), ("LimitRange", LIMIT_RANGE))
                   if not any((token, key) in present for key in keys)]
        if missing:
            yield f"namespace '{_namespace_name(namespace) or namespace.name}' has no {' and no '.join(missing)}", namespace.urn


# ---------------------------------------------------------------- requests against quota

QUOTA_KEYS = {"requests.cpu": ("cpu",), "requests.memory": ("memory",), "requests.nvidia.com/gpu": ("nvidia.com/gpu",), "pods": ()}
_ALIASES = {"cpu": "requests.cpu", "memory": "requests.memory"}
_UNITS = {"requests.cpu": ("vCPU", Decimal(1)), "requests.memory": ("GiB", Decimal(2) ** 30), "requests.nvidia.com/gpu": ("GPUs", Decimal(1)), "pods": ("pods", Decimal(1)),
          "limits.cpu": ("vCPU", Decimal(1)), "limits.memory": ("GiB", Decimal(2) ** 30), "cpu": ("vCPU", Decimal(1)), "memory": ("GiB", Decimal(2) ** 30)}
#: The quota keys that cap the summed limits, and the container resource each one sums.
LIMIT_QUOTA_KEYS = {"limits.cpu": "cpu", "limits.memory": "memory"}


def peak_pods(resource: Resource) -> int:
    """The most pods a workload runs at once, counting rollout surge (0 for a DaemonSet: unknown).

    Deployment: replicas + maxSurge (default 25%, rounded up; none for Recreate). Argo Rollout
    canary with traffic routing: replicas + the largest canary step (setWeight / setCanaryScale);
    without traffic routing: replicas + maxSurge. Blue-green: replicas + previewReplicaCount
    (default: replicas). Sources: Kubernetes Deployment docs, Argo Rollouts "Canary" and
    "BlueGreen" feature docs.
    """
    props, kind = resource.props, resource.type.rsplit(":", 1)[-1]
    replicas = int(float(get(props, "spec", "replicas", default=1)))
    if kind == "Deployment":
        if get(props, "spec", "strategy", "type") == "Recreate":
            return replicas
        return replicas + scaled(get(props, "spec", "strategy", "rollingUpdate", "maxSurge", default="25%"), replicas)
    if kind == "Rollout":
        blue_green = get(props, "spec", "strategy", "blueGreen")
        if blue_green is not None:
            return replicas + int(float(get(blue_green, "previewReplicaCount", default=replicas)))
        canary = get(props, "spec", "strategy", "canary", default={})
        if get(canary, "trafficRouting"):
            extra = 0
            for step in as_list(get(canary, "steps")):
                scale = get(step, "setCanaryScale", default={})
                if get(scale, "replicas") is not None:
                    extra = max(extra, int(float(scale["replicas"])))
                elif get(scale, "weight") is not None:
                    extra = max(extra, scaled(f"{scale['weight']}%", replicas))
                elif get(step, "setWeight") is not None:
                    extra = max(extra, scaled(f"{step['setWeight']}%", replicas))
            return replicas + extra
        return replicas + scaled(get(canary, "maxSurge", default="25%"), replicas)
    if kind in ("StatefulSet", "ReplicaSet"):
        return replicas
    if kind == "Job":
        return int(float(get(props, "spec", "parallelism", default=1)))
    if kind == "CronJob":
        return int(float(get(props, "spec", "jobTemplate", "spec", "parallelism", default=1)))
    if kind == "Pod":
        return 1
    return 0


def _limit_range_values(limit_ranges: Sequence[Resource], field: str) -> dict[str, Decimal]:
    """A Container LimitRange field (``defaultRequest``, ``default``, ``max``) by resource name."""
    values: dict[str, Decimal] = {}
    for limit_range in limit_ranges:
        for limit in as_list(get(limit_range.props, "spec", "limits")):
            if get(limit, "type") == "Container":
                for key, value in dict(get(limit, field, default={})).items():
                    quantity = parse_quantity(value)
                    if quantity is not None:
                        values[str(key)] = min(quantity, values.get(str(key), quantity)) if field == "max" else quantity
    return values


def _default_requests(limit_ranges: Sequence[Resource]) -> dict[str, Decimal]:
    return _limit_range_values(limit_ranges, "defaultRequest")


def container_limits(container, defaults: dict[str, Decimal]) -> dict[str, Decimal]:
    """One container's effective limits: its own, else the LimitRange's ``default``."""
    values = dict(defaults)
    for key, value in dict(get(container, "resources", "limits", default={})).items():
        quantity = parse_quantity(value)
        if quantity is not None:
            values[str(key)] = quantity
    return values


def pod_limits(resource: Resource, defaults: dict[str, Decimal]) -> dict[str, Decimal]:
    """One pod's effective limits by resource name: max(sum of containers, largest init container)."""
    spec = pod_spec(resource.type, resource.props) or {}
    total: dict[str, Decimal] = defaultdict(Decimal)
    for label, container in containers(spec):
        for key, value in container_limits(container, defaults).items():
            total[key] = max(total[key], value) if label.startswith("initContainers") else total[key] + value
    return dict(total)


def pod_requests(resource: Resource, defaults: dict[str, Decimal]) -> dict[str, Decimal]:
    """One pod's effective requests by resource name: max(sum of containers, largest init container)."""
    spec = pod_spec(resource.type, resource.props) or {}

    def requests(container) -> dict[str, Decimal]:
        values = dict(defaults)
        for key, value in dict(get(container, "resources", "requests", default={})).items():
            quantity = parse_quantity(value)
            if quantity is not None:
                values[str(key)] = quantity
        # A container with only a limit gets the limit as its request (Kubernetes defaulting).
        for key, value in dict(get(container, "resources", "limits", default={})).items():
            if str(key) not in dict(get(container, "resources", "requests", default={})):
                quantity = parse_quantity(value)
                if quantity is not None:
                    values[str(key)] = quantity
        return values

    total: dict[str, Decimal] = defaultdict(Decimal)
    for _, container in containers(spec, include_init=False):
        for key, value in requests(container).items():
            total[key] += value
    for _, container in ((l, c) for l, c in containers(spec) if l.startswith("initContainers")):
        for key, value in requests(container).items():
            total[key] = max(total[key], value)
    return dict(total)


def _by_namespace(resources: Sequence[Resource]) -> tuple[dict[str, list[Resource]], dict[str, list[Resource]]]:
    """Workloads and LimitRanges by namespace name."""
    workloads: dict[str, list[Resource]] = defaultdict(list)
    limit_ranges: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        if pod_spec(resource.type, resource.props) is not None:
            workloads[str(get(resource.props, "metadata", "namespace", default=""))].append(resource)
        elif resource.type == LIMIT_RANGE:
            limit_ranges[str(known(resource, "metadata", "namespace"))].append(resource)
    return workloads, limit_ranges


def _format(key: str, value: Decimal) -> str:
    unit, scale = _UNITS[key]
    number = value / scale
    return f"{number.normalize():f} {unit}" if number == number.to_integral_value() else f"{float(number):.2f} {unit}"


def _peak_over_quota(quota, namespace: str, workloads, hard: dict[str, Decimal], amounts):
    """One violation per quota key whose summed peak use in ``namespace`` is over ``hard``.

    ``amounts(workload, pods)`` gives a workload's peak use per quota key for ``pods`` pods (its
    peak pod count, rollout surge and canary included); workloads with no pods are skipped.
    """
    used: dict[str, Decimal] = defaultdict(Decimal)
    contributors: dict[str, list[str]] = defaultdict(list)
    for workload in workloads:
        pods = peak_pods(workload)
        if pods == 0:
            continue
        for key, amount in amounts(workload, pods).items():
            if amount:
                used[key] += amount
                contributors[key].append(f"{workload.name} {pods}x")
    for key, limit in hard.items():
        if used[key] > limit:
            yield (f"namespace '{namespace}' needs {_format(key, used[key])} of {key} at peak "
                   f"({', '.join(contributors[key])}), over its quota of {_format(key, limit)}"), quota.urn


@stack_policy(
    "k8s-requests-fit-quota",
    description="The summed peak requests of the workloads in a namespace (rollout surge and canary pods included) fit its ResourceQuota.",
    severity="high",
    remediation="Lower replicas or per-pod requests, reduce maxSurge / the canary step, or raise the team's quota in mlplat:teams.",
    controls=("Kubernetes docs: Resource Quotas (requests.cpu, requests.memory, requests.nvidia.com/gpu, pods)",),
    tags=("kubernetes", "cost"),
)
def requests_fit_quota(resources, config):
    workloads_by_namespace, limit_ranges = _by_namespace(resources)
    for quota in (r for r in resources if r.type == QUOTA):
        namespace = str(get(quota.props, "metadata", "namespace", default=""))
        hard = {}
        for key, value in dict(get(quota.props, "spec", "hard", default={})).items():
            key = _ALIASES.get(str(key), str(key))
            if key in QUOTA_KEYS and parse_quantity(value) is not None:
                hard[key] = parse_quantity(value)
        if not hard:
            continue
        defaults = _default_requests(limit_ranges.get(namespace, []))

        def requested(workload, pods: int) -> dict[str, Decimal]:
            per_pod = pod_requests(workload, defaults)
            return {key: Decimal(pods) if key == "pods" else sum((per_pod.get(n, Decimal(0)) for n in names), Decimal(0)) * pods
                    for key, names in QUOTA_KEYS.items()}

        yield from _peak_over_quota(quota, namespace, workloads_by_namespace.get(namespace, []), hard, requested)


KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


@stack_policy(
    "kms-key-explicit-policy",
    description="Every KMS key the stack creates has an explicit key policy: its policy property, or an aws.kms.KeyPolicy for it.",
    severity="medium",
    remediation="Pass policy= to aws.kms.Key (the account root statement plus what the key's users need), or register an aws.kms.KeyPolicy "
                "with key_id=key.key_id; platform_lib's buckets and sites do this.",
    controls=("AWS KMS Developer Guide: Key policies", "CKV2_AWS_64"),
    tags=("kms",),
)
def kms_key_explicit_policy(resources, config):
    by_dependency, by_key_id = set(), set()
    for resource in resources:
        if resource.type == KMS_KEY_POLICY:
            by_dependency.update(resource.dependencies)
            key_id = known(resource, "keyId")
            if key_id:
                by_key_id.add(str(key_id))
    for key in (r for r in resources if r.type == KMS_KEY):
        ids = {str(v) for v in (known(key, "keyId"), known(key, "id"), known(key, "arn")) if v}
        if known(key, "policy") or key.urn in by_dependency or ids & by_key_id:
            continue
        yield f"KMS key '{key.name}' has no explicit key policy (neither policy nor an aws.kms.KeyPolicy)", key.urn


@stack_policy(
    "k8s-limits-fit-limit-range-and-quota",
    description="Every container's CPU and memory limits are within its namespace's LimitRange max, and the summed peak limits of the workloads "
                "(rollout surge and canary pods included) fit the ResourceQuota's limits.cpu and limits.memory.",
    severity="high",
    remediation="Lower the container's limits (mlplat:endpoints[*].resources.cpuLimit / memoryGib), the replicas or the canary step, "
                "or raise the team's quota in mlplat:teams (the LimitRange max follows it).",
    controls=("Kubernetes docs: Limit Ranges (max)", "Kubernetes docs: Resource Quotas (limits.cpu, limits.memory)"),
    tags=("kubernetes", "cost"),
)
def limits_fit_limit_range_and_quota(resources, config):
    workloads_by_namespace, limit_ranges = _by_namespace(resources)
    for namespace, workloads in workloads_by_namespace.items():
        ranges = limit_ranges.get(namespace, [])
        maximum, defaults = _limit_range_values(ranges, "max"), _limit_range_values(ranges, "default")
        for workload in workloads:
            for label, container in containers(pod_spec(workload.type, workload.props) or {}):
                limits = container_limits(container, defaults)
                for key in ("cpu", "memory"):
                    if key in maximum and key in limits and limits[key] > maximum[key]:
                        yield (f"{workload.name} {label} limits.{key} {_format(key, limits[key])} is above the LimitRange max of "
                               f"{_format(key, maximum[key])} in namespace '{namespace}'"), workload.urn
    for quota in (r for r in resources if r.type == QUOTA):
        namespace = str(get(quota.props, "metadata", "namespace", default=""))
        hard = {str(key): parse_quantity(value) for key, value in dict(get(quota.props, "spec", "hard", default={})).items()
                if str(key) in LIMIT_QUOTA_KEYS and parse_quantity(value) is not None}
        if not hard:
            continue
        defaults = _limit_range_values(limit_ranges.get(namespace, []), "default")

        def limited(workload, pods: int) -> dict[str, Decimal]:
            per_pod = pod_limits(workload, defaults)
            return {key: per_pod.get(name, Decimal(0)) * pods for key, name in LIMIT_QUOTA_KEYS.items()}

        yield from _peak_over_quota(quota, namespace, workloads_by_namespace.get(namespace, []), hard, limited)


@stack_policy(
    "stack-monthly-cost-within-budget",
    description="The stack's estimated monthly compute cost (EC2 and Compute Engine instances, on-demand, 730 h) is within the environment's budget.",
    severity="high",
    remediation="Remove or shrink GPU boxes, use fewer GPUs, or raise mlplat:monthlyBudgetUsd (and the pack's monthlyBudgetUsd) with finance's approval.",
    controls=("AWS Well-Architected COST02-BP05", "FinOps Framework: budget management"),
    config=BUDGET_CONFIG,
    levels=ADVISORY_IN_DEV,
    tags=("cost",),
)
def monthly_cost_within_budget(resources, config):
    budget = float(config["monthlyBudgetUsd"])
    items: list[tuple[float, str]] = []
    for resource in resources:
        monthly, _, description = instance_cost(resource.type, resource.props)
        if monthly:
            items.append((monthly, f"{resource.name} ({description}) {monthly:,.2f}"))
    total = round(sum(m for m, _ in items), 2)
    if total > budget:
        largest = "; ".join(text for _, text in sorted(items, reverse=True)[:3])
        yield f"estimated compute cost {total:,.2f} USD per month exceeds the budget of {budget:,.2f} USD (largest: {largest})", None


