"""Contract case for the cluster add-ons (platform_lib/k8s/platform_addons.py)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.platform_addons import PlatformAddons

from . import ComponentCase

LABELS = {"team": "platform", "cost-center": "cc-1000", "environment": "prod"}
ROLE_ARN = "arn:aws:iam::123456789012:role/prod-aws-load-balancer-controller"
VPC_ID = "vpc-0123456789abcdef0"
GPU_POOLS = [{"name": "gpu-a10g", "labels": {"mlplat.io/gpu": "a10g"}, "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]}]


def _minimal() -> dict:
    return {
        "cloud": "aws",
        "cluster_name": "ml-prod",
        "labels": LABELS,
        "region": "eu-west-1",
        "vpc_id": VPC_ID,
        "load_balancer_controller_role_arn": ROLE_ARN,
    }


def _with_outputs() -> dict:
    # The typical wiring: everything read from the cluster stack (a StackReference's outputs).
    return {
        **_minimal(),
        "cluster_name": pulumi.Output.from_input("ml-prod"),
        "labels": {key: pulumi.Output.from_input(value) for key, value in LABELS.items()},
        "region": pulumi.Output.from_input("eu-west-1"),
        "vpc_id": pulumi.Output.from_input(VPC_ID),
        "load_balancer_controller_role_arn": pulumi.Output.from_input(ROLE_ARN),
        "gpu_node_pools": pulumi.Output.from_input(GPU_POOLS),
        "grafana_admin_password": pulumi.Output.secret("correct-horse-battery-staple"),
    }


CASES = [
    ComponentCase(
        component=PlatformAddons,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: k8s.Provider(name, kubeconfig="{}"),
        provider_package="kubernetes",
        name="addons",
    ),
]
