"""Contract case for the IRSA roles of cluster controllers (platform_lib/aws/controller_roles.py)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platform_lib.aws.controller_roles import ControllerRole

from . import ComponentCase

TAGS = {"team": "platform", "cost-center": "cc-1000", "environment": "prod"}
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"


def _minimal() -> dict:
    return {
        "tags": TAGS,
        "oidc_provider_arn": PROVIDER_ARN,
        "oidc_issuer": ISSUER,
        "namespace": "aws-load-balancer-controller",
        "service_account": "aws-load-balancer-controller",
        "policy": "aws-load-balancer-controller",
        "vpc_id": "vpc-0123456789abcdef0",
    }


def _with_outputs() -> dict:
    # The typical wiring: the cluster stack's OIDC provider and VPC.
    return {
        **_minimal(),
        "tags": {key: pulumi.Output.from_input(value) for key, value in TAGS.items()},
        "oidc_provider_arn": pulumi.Output.from_input(PROVIDER_ARN),
        "oidc_issuer": pulumi.Output.from_input(ISSUER),
        "vpc_id": pulumi.Output.from_input("vpc-0123456789abcdef0"),
        "region": pulumi.Output.from_input("eu-west-1"),
    }


CASES = [
    ComponentCase(
        component=ControllerRole,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: aws.Provider(name, region="eu-west-1"),
        provider_package="aws",
        config={"aws:region": "eu-west-1"},
        name="lbc",
    ),
]
