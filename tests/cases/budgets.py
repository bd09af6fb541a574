"""Contract cases of the team budgets (platform_lib/aws/budget.py, platform_lib/gcp/budget.py)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from platform_lib.aws.budget import AwsTeamBudget
from platform_lib.gcp.budget import GcpTeamBudget

from . import ComponentCase

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"


def _outputs(values: dict) -> dict:
    return {key: pulumi.Output.from_input(value) for key, value in values.items()}


def _aws_minimal() -> dict:
    return {"monthly_budget_usd": 5000, "tags": TAGS}


def _aws_with_outputs() -> dict:
    # A topic the team already owns, and a key of its own: both as Outputs.
    return {
        **_aws_minimal(),
        "tags": _outputs(TAGS),
        "notification_topic_arn": pulumi.Output.from_input("arn:aws:sns:eu-west-1:123456789012:fraud-alerts"),
    }


def _gcp_minimal() -> dict:
    return {"billing_account": BILLING_ACCOUNT, "monthly_budget_usd": 5000, "labels": TAGS}


def _gcp_with_outputs() -> dict:
    return {
        **_gcp_minimal(),
        "billing_account": pulumi.Output.from_input(BILLING_ACCOUNT),
        "labels": _outputs(TAGS),
        "project": pulumi.Output.from_input("ml-platform-prod"),
        "monitoring_notification_channels": [pulumi.Output.from_input("projects/ml-platform-prod/notificationChannels/1234567890")],
    }


CASES = [
    ComponentCase(
        component=AwsTeamBudget,
        minimal=_aws_minimal,
        with_outputs=_aws_with_outputs,
        provider=lambda name: aws.Provider(name, region="eu-west-1"),
        provider_package="aws",
        config={"aws:region": "eu-west-1"},
        name="fraud-budget",
    ),
    ComponentCase(
        component=GcpTeamBudget,
        minimal=_gcp_minimal,
        with_outputs=_gcp_with_outputs,
        provider=lambda name: gcp.Provider(name, project="ml-platform-prod"),
        provider_package="gcp",
        config={"gcp:project": "ml-platform-prod"},
        name="fraud-budget",
    ),
]
