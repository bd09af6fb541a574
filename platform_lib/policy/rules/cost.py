"""Cost policies: instance prices against the environment's budget, and each team's estimated
monthly cost against that team's own budget.

Prices are on-demand Linux hourly list prices in USD (AWS us-east-1, Google Cloud us-central1),
one data file, ``platform_lib/policy/data/prices.json``: each price with the URL it comes from and
the date it was recorded (``tests/test_prices.py`` fails once the oldest is more than
``maxAgeDays`` old). No maintained package ships AWS and Google Cloud on-demand prices offline
(the pricing packages on PyPI call the AWS Price List API, which needs credentials), hence the
file. A month is 730 hours (AWS Pricing Calculator's convention).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

from ..catalogue import ADVISORY_IN_DEV, resource_policy, stack_policy
from ..helpers import as_list, get, parse_quantity, pod_spec


@cache
def price_data() -> dict[str, Any]:
    """``prices.json`` as a dict (see the module docstring)."""
    return json.loads(files("platform_lib.policy").joinpath("data/prices.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class MachinePrice:
    """One machine type's on-demand price and shape: hourly USD, GPUs, vCPUs, memory in GiB."""

    hourly_usd: float
    gpus: int
    vcpus: int
    memory_gib: float


def _machines(section: str) -> dict[str, MachinePrice]:
    return {name: MachinePrice(e["hourlyUsd"], e["gpus"], e["vcpus"], e["memoryGib"]) for name, e in price_data()[section].items()}


HOURS_PER_MONTH: int = price_data()["hoursPerMonth"]
#: EC2 instance type -> price and shape.
EC2_MACHINES: dict[str, MachinePrice] = _machines("ec2")
#: GCE machine type -> price and shape (GPUs built in for A2/A3/G2).
GCE_MACHINES: dict[str, MachinePrice] = _machines("gceMachines")
#: EC2 instance type -> (hourly USD, GPUs).
EC2_PRICES: dict[str, tuple[float, int]] = {name: (m.hourly_usd, m.gpus) for name, m in EC2_MACHINES.items()}
#: GCE machine type -> (hourly USD, GPUs built in).
GCE_MACHINE_PRICES: dict[str, tuple[float, int]] = {name: (m.hourly_usd, m.gpus) for name, m in GCE_MACHINES.items()}
#: GCE accelerator type -> hourly USD per GPU.
GCE_GPU_PRICES: dict[str, float] = {name: e["hourlyUsdPerGpu"] for name, e in price_data()["gceGpus"].items()}


def machine_price(machine_type: str) -> MachinePrice | None:
    """An EC2 instance type's or a GCE machine type's price and shape, ``None`` when unknown."""
    return EC2_MACHINES.get(machine_type) or GCE_MACHINES.get(machine_type)


EC2_TYPES = ("aws:ec2/instance:Instance",)
GCE_TYPES = ("gcp:compute/instance:Instance",)


def instance_cost(type_token: str, props) -> tuple[float | None, int, str]:
    """(monthly USD or None when the price is unknown, GPU count, description) of one instance."""
    if type_token in EC2_TYPES:
        instance_type = str(get(props, "instanceType", default=""))
        if instance_type not in EC2_PRICES:
            return None, 0, instance_type
        hourly, gpus = EC2_PRICES[instance_type]
        return round(hourly * HOURS_PER_MONTH, 2), gpus, instance_type
    if type_token in GCE_TYPES:
        machine = str(get(props, "machineType", default="")).rsplit("/", 1)[-1]
        if machine not in GCE_MACHINE_PRICES:
            return None, 0, machine
        hourly, gpus = GCE_MACHINE_PRICES[machine]
        description = machine
        for accelerator in as_list(get(props, "guestAccelerators")):
            kind = str(get(accelerator, "type", default="")).rsplit("/", 1)[-1]
            count = int(float(get(accelerator, "count", default=0)))
            if kind not in GCE_GPU_PRICES:
                return None, gpus + count, f"{machine} + {count}x {kind}"
            hourly += GCE_GPU_PRICES[kind] * count
            gpus += count
            description += f" + {count}x {kind}"
        return round(hourly * HOURS_PER_MONTH, 2), gpus, description
    return 0.0, 0, ""


BUDGET_CONFIG = {"monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0, "default": 10000}}


@resource_policy(
    "gpu-instance-within-budget",
    description="A compute instance has a known price, at most maxGpusPerInstance GPUs, and costs less per month than the environment's budget.",
    severity="high",
    remediation="Choose a smaller or priced instance type (see platform_lib.policy.rules.cost), fewer GPUs, or raise mlplat:monthlyBudgetUsd with finance's approval.",
    controls=("AWS Well-Architected COST02-BP05", "FinOps Framework: budget management"),
    types=EC2_TYPES + GCE_TYPES,
    config={**BUDGET_CONFIG, "maxGpusPerInstance": {"type": "integer", "minimum": 0, "default": 8}},
    tags=("cost",),
)
def gpu_instance_within_budget(resource, config):
    monthly, gpus, description = instance_cost(resource.type, resource.props)
    budget = float(config["monthlyBudgetUsd"])
    if monthly is None:
        yield f"'{resource.name}' uses {description or 'no instance type'}, which has no known price"
        return
    if gpus > int(config["maxGpusPerInstance"]):
        yield f"'{resource.name}' has {gpus} GPUs, more than the {config['maxGpusPerInstance']} allowed per instance"
    if monthly > budget:
        yield f"'{resource.name}' ({description}) costs {monthly:,.2f} USD per month, over the budget of {budget:,.2f} USD"


# ---------------------------------------------------------------- each team against its own budget

AWS_BUDGET = "aws:budgets/budget:Budget"
GCP_BUDGET = "gcp:billing/budget:Budget"
NAMESPACE = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
AUTOSCALER = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
#: The long-running workloads an endpoint is made of (ModelEndpoint: a Deployment or an Argo Rollout).
ENDPOINT_KINDS = ("Deployment", "Rollout", "StatefulSet")
GPU_RESOURCE = "nvidia.com/gpu"
_GIB = Decimal(2) ** 30

#: The cluster's node types when the config names none, by the cloud of the team's budget:
#: (GPU node type, CPU node type). EKS: g5.12xlarge (4 A10G) and m5.2xlarge; GKE: g2-standard-24
#: (2 L4) and n1-standard-8.
DEFAULT_NODE_TYPES = {"aws": ("g5.12xlarge", "m5.2xlarge"), "gcp": ("g2-standard-24", "n1-standard-8")}

TEAM_COST_CONFIG = {
    "gpuNodeInstanceType": {"type": "string", "default": "",
                            "description": "The cluster's GPU node type (an EC2 or GCE type in prices.json): a GPU's price is its hourly price / its GPUs. "
                                           "Empty: g5.12xlarge for a team with an AWS budget, g2-standard-24 for a GCP one."},
    "cpuNodeInstanceType": {"type": "string", "default": "",
                            "description": "The cluster's CPU node type: a CPU pod costs its share of it (the larger of its vCPU and memory shares). "
                                           "Empty: m5.2xlarge (AWS budget) or n1-standard-8 (GCP budget)."},
}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def team_budgets(resources) -> dict[str, tuple[float, Any]]:
    """Each team's monthly budget in USD and the budget resource, from the AWS budgets tagged
    ``team`` (else filtered on ``TagKeyValue user:team$<team>``) and the GCP billing budgets filtered
    on the label ``team``; the smallest when a team has several."""
    found: dict[str, tuple[float, Any]] = {}
    for resource in resources:
        team, amount = "", None
        if resource.type == AWS_BUDGET and _text(get(resource.props, "limitUnit", default="USD")) == "USD":
            team = _text(get(resource.props, "tags", "team"))
            if not team:
                for cost_filter in as_list(get(resource.props, "costFilters")):
                    if get(cost_filter, "name") == "TagKeyValue":
                        team = next((str(v).split("$", 1)[1] for v in as_list(get(cost_filter, "values")) if str(v).startswith("user:team$")), "")
            limit = get(resource.props, "limitAmount")
            amount = float(limit) if limit not in (None, "") else None
        elif resource.type == GCP_BUDGET:
            team = _text(get(resource.props, "budgetFilter", "labels", "team"))
            specified = get(resource.props, "amount", "specifiedAmount")
            if specified is not None and _text(get(specified, "currencyCode", default="USD")) == "USD":
                amount = float(get(specified, "units", default=0) or 0) + float(get(specified, "nanos", default=0) or 0) / 1e9
        if team and amount is not None and (team not in found or amount < found[team][0]):
            found[team] = (amount, resource)
    return found


def _namespace_teams(resources) -> dict[str, str]:
    return {_text(get(r.props, "metadata", "name")): _text(get(r.props, "metadata", "labels", "team"))
            for r in resources if r.type == NAMESPACE and get(r.props, "metadata", "name")}


def _team_of(resource, namespace_teams: dict[str, str]) -> str:
    if resource.type.startswith("aws:"):
        return _text(get(resource.props, "tags", "team"))
    if resource.type.startswith("gcp:"):
        return _text(get(resource.props, "labels", "team"))
    if resource.type.startswith("kubernetes:"):
        return _text(get(resource.props, "metadata", "labels", "team")) or namespace_teams.get(_text(get(resource.props, "metadata", "namespace")), "")
    return ""


def _max_replicas(resources) -> dict[tuple[str, str, str], int]:
    """(namespace, kind, name) of each autoscaled workload -> its HPA's ``maxReplicas``."""
    found = {}
    for resource in resources:
        if resource.type == AUTOSCALER:
            target = get(resource.props, "spec", "scaleTargetRef", default={})
            key = (_text(get(resource.props, "metadata", "namespace")), _text(get(target, "kind")), _text(get(target, "name")))
            found[key] = int(float(get(resource.props, "spec", "maxReplicas", default=1)))
    return found


@dataclass
class TeamCost:
    """One team's estimated monthly cost in USD, item by item (description, USD)."""

    items: list[tuple[str, float]]

    @property
    def total(self) -> float:
        return round(sum(usd for _, usd in self.items), 2)


def node_types(config, cloud: str) -> tuple[str, str]:
    """(GPU node type, CPU node type): the config's, else :data:`DEFAULT_NODE_TYPES` of ``cloud``."""
    gpu_default, cpu_default = DEFAULT_NODE_TYPES.get(cloud, DEFAULT_NODE_TYPES["aws"])
    return str(config.get("gpuNodeInstanceType") or gpu_default), str(config.get("cpuNodeInstanceType") or cpu_default)


def team_costs(resources, config, clouds: dict[str, str] | None = None) -> dict[str, TeamCost]:
    """Each team's estimated monthly cost (see ``team-monthly-cost-within-team-budget``).

    Args:
        resources: the stack's resources.
        config: the policy's config (node types).
        clouds: each team's cloud (``aws``/``gcp``), for the default node types; default ``aws``.
    """
    from .stack import _default_requests, pod_requests  # stack.py imports this module

    clouds = clouds or {}
    namespace_teams = _namespace_teams(resources)
    max_replicas = _max_replicas(resources)
    limit_ranges: dict[str, list] = defaultdict(list)
    for resource in resources:
        if resource.type == LIMIT_RANGE:
            limit_ranges[_text(get(resource.props, "metadata", "namespace"))].append(resource)
    items: dict[str, list[tuple[str, float]]] = defaultdict(list)
    quota_gpus: dict[str, int] = defaultdict(int)
    endpoint_gpus: dict[str, int] = defaultdict(int)
    for resource in resources:
        team = _team_of(resource, namespace_teams)
        if not team:
            continue
        if resource.type in EC2_TYPES + GCE_TYPES:
            monthly, _, description = instance_cost(resource.type, resource.props)
            if monthly:
                items[team].append((f"{resource.name} ({description})", monthly))
        elif resource.type == QUOTA:
            hard = dict(get(resource.props, "spec", "hard", default={}))
            gpus = parse_quantity(hard.get(f"requests.{GPU_RESOURCE}", hard.get(GPU_RESOURCE)))
            quota_gpus[team] += int(gpus or 0)
        elif resource.type.rsplit(":", 1)[-1] in ENDPOINT_KINDS and pod_spec(resource.type, resource.props) is not None:
            namespace = _text(get(resource.props, "metadata", "namespace"))
            kind, name = resource.type.rsplit(":", 1)[-1], _text(get(resource.props, "metadata", "name"))
            replicas = max_replicas.get((namespace, kind, name), int(float(get(resource.props, "spec", "replicas", default=1))))
            requests = pod_requests(resource, _default_requests(limit_ranges.get(namespace, [])))
            gpus = int(requests.get(GPU_RESOURCE, Decimal(0)))
            if gpus:
                endpoint_gpus[team] += gpus * replicas
            elif replicas:
                cpu_type = node_types(config, clouds.get(team, "aws"))[1]
                cpu_node = machine_price(cpu_type)
                if cpu_node is None:
                    continue
                share = max(requests.get("cpu", Decimal(0)) / Decimal(cpu_node.vcpus),
                            requests.get("memory", Decimal(0)) / _GIB / Decimal(str(cpu_node.memory_gib)))
                monthly = round(float(share) * cpu_node.hourly_usd * HOURS_PER_MONTH * replicas, 2)
                if monthly:
                    items[team].append((f"{resource.name} {replicas}x (share of {cpu_type})", monthly))
    for team in set(quota_gpus) | set(endpoint_gpus):
        gpus = max(quota_gpus[team], endpoint_gpus[team])
        gpu_type = node_types(config, clouds.get(team, "aws"))[0]
        gpu_node = machine_price(gpu_type)
        if gpus and gpu_node is not None and gpu_node.gpus:
            items[team].append((f"GPU node share {gpus}x {gpu_type} GPU", round(gpus * gpu_node.hourly_usd / gpu_node.gpus * HOURS_PER_MONTH, 2)))
    return {team: TeamCost(found) for team, found in items.items()}


@stack_policy(
    "team-monthly-cost-within-team-budget",
    description="Each team's estimated monthly cost (its GPU boxes; its share of the GPU node pool: the larger of its quota's GPUs and its "
                "endpoints' GPUs at max replicas; its CPU endpoints at max replicas) is within that team's own budget (the AWS or GCP "
                "TeamBudget of the same stack, found by the team tag or label). On-demand prices from policy/data/prices.json, 730 h.",
    severity="high",
    remediation="Shrink or remove GPU boxes, lower the team's GPU quota or its endpoints' max replicas and requests, or raise the team's "
                "monthly budget (its TeamBudget / request file) with finance's approval.",
    controls=("AWS Well-Architected COST02-BP05", "FinOps Framework: budget management", "FinOps Framework: allocation"),
    config={**TEAM_COST_CONFIG},
    levels=ADVISORY_IN_DEV,
    tags=("cost",),
)
def team_cost_within_team_budget(resources, config):
    budgets = team_budgets(resources)
    if not budgets:
        return
    clouds = {team: ("gcp" if found.type == GCP_BUDGET else "aws") for team, (_, found) in budgets.items()}
    for team, cost in sorted(team_costs(resources, config, clouds).items()):
        if team not in budgets:
            continue
        budget, budget_resource = budgets[team]
        if cost.total > budget:
            largest = "; ".join(f"{what} {usd:,.2f}" for what, usd in sorted(cost.items, key=lambda item: -item[1])[:3])
            yield (f"team '{team}' is estimated at {cost.total:,.2f} USD per month, over its budget of {budget:,.2f} USD "
                   f"({budget_resource.name}); largest: {largest}"), budget_resource.urn
