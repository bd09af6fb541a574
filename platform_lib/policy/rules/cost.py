"""Cost policies: GPU instance prices against the environment's monthly budget.

Prices are on-demand Linux hourly prices in USD, us-east-1 / us-central1 (sources: AWS "Amazon
EC2 On-Demand Pricing" and Google Cloud "VM instance pricing" and "GPU pricing" pages, 2025
list prices). A month is 730 hours (AWS Pricing Calculator's convention).
"""

from __future__ import annotations

from ..catalogue import resource_policy
from ..helpers import as_list, get

HOURS_PER_MONTH = 730

#: EC2 instance type -> (hourly USD, GPUs).
EC2_PRICES: dict[str, tuple[float, int]] = {
    "t3.medium": (0.0416, 0), "m5.xlarge": (0.192, 0), "m5.2xlarge": (0.384, 0), "c5.2xlarge": (0.34, 0),
    "g4dn.xlarge": (0.526, 1), "g4dn.2xlarge": (0.752, 1), "g4dn.12xlarge": (3.912, 4),
    "g5.xlarge": (1.006, 1), "g5.2xlarge": (1.212, 1), "g5.4xlarge": (1.624, 1), "g5.12xlarge": (5.672, 4), "g5.48xlarge": (16.288, 8),
    "g6.xlarge": (0.8048, 1), "g6.12xlarge": (4.6016, 4),
    "p3.2xlarge": (3.06, 1), "p3.8xlarge": (12.24, 4), "p4d.24xlarge": (32.7726, 8), "p5.48xlarge": (98.32, 8),
}
#: GCE machine type -> (hourly USD, GPUs built in).
GCE_MACHINE_PRICES: dict[str, tuple[float, int]] = {
    "e2-standard-4": (0.134, 0), "n1-standard-4": (0.19, 0), "n1-standard-8": (0.38, 0), "n1-standard-16": (0.76, 0),
    "g2-standard-4": (0.7068, 1), "g2-standard-8": (0.8536, 1), "g2-standard-24": (1.9996, 2),
    "a2-highgpu-1g": (3.6733, 1), "a2-highgpu-2g": (7.3466, 2), "a2-highgpu-8g": (29.3879, 8), "a3-highgpu-8g": (88.2539, 8),
}
#: GCE accelerator type -> hourly USD per GPU.
GCE_GPU_PRICES: dict[str, float] = {"nvidia-tesla-t4": 0.35, "nvidia-tesla-v100": 2.48, "nvidia-l4": 0.56, "nvidia-tesla-a100": 2.93}

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
