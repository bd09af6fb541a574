"""Contract case for the EKS cluster (platform_lib/aws/eks_cluster.py)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platform_lib.aws.eks_cluster import EksCluster

from . import ComponentCase

TAGS = {"team": "platform", "cost-center": "cc-1000", "environment": "prod"}
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"


def _minimal() -> dict:
    return {"platform_admin_role_arn": ADMIN, "tags": TAGS}


def _with_outputs() -> dict:
    vpc = aws.ec2.Vpc("case-vpc", cidr_block="10.30.0.0/16")
    subnets = [aws.ec2.Subnet(f"case-private-{i}", vpc_id=vpc.id, cidr_block=f"10.30.{i * 32}.0/19") for i in range(2)]
    team_role = aws.iam.Role("case-team", assume_role_policy='{"Version": "2012-10-17", "Statement": []}')
    return {
        "platform_admin_role_arn": pulumi.Output.from_input(ADMIN),
        "subnet_ids": [s.id for s in subnets],
        "vpc_id": vpc.id,
        "vpc_cidr": "10.30.0.0/16",
        "team_access": [{"role_arn": team_role.arn, "kubernetes_groups": ["fraud-developers"]}],
        "gpu_node_groups": [{"name": "gpu", "instance_types": ["g5.xlarge"], "max_size": 2}],
        "tags": {key: pulumi.Output.from_input(value) for key, value in TAGS.items()},
    }


CASES = [
    ComponentCase(
        component=EksCluster,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: aws.Provider(name, region="eu-west-1"),
        provider_package="aws",
        config={"aws:region": "eu-west-1"},
    ),
]
