"""A team's monthly AWS cost budget with ``AwsTeamBudget``.

The budget counts the costs tagged ``team=<team>`` (the ``team`` cost-allocation tag, activated
once in the payer account's Billing console) and alerts at 80 % and 100 % of actual and of
forecast spend. In dev the component creates the team's alert topic (KMS-encrypted, a topic
policy letting only this account's budgets publish); in prod the team's on-call topic is given.

    mlplat preview --cwd examples/team-budget-aws --stack dev      # offline, no credentials
    pulumi preview --cwd examples/team-budget-aws --stack prod     # with the Pulumi CLI and AWS credentials
"""

import pulumi
import pulumi_aws as aws

from platform_lib.aws.budget import AwsTeamBudget

config = pulumi.Config()
team = config.require("team")
environment = config.require("environment")
production = environment == "prod"
provider = aws.Provider("aws", region=pulumi.Config("aws").require("region"))

budget = AwsTeamBudget(
    f"{team}-budget",
    # The documented minimum: the amount and the standard tags.
    monthly_budget_usd=float(config.require("monthlyBudgetUsd")),
    tags={"team": team, "cost-center": config.require("costCenter"), "environment": environment},
    # Typical additions: the team's own topic and direct e-mail subscribers.
    notification_topic_arn=config.get("notificationTopicArn"),
    email_subscribers=config.get_object("emailSubscribers") or [],
    opts=pulumi.ResourceOptions(provider=provider, protect=production),
)

pulumi.export("budgetName", budget.budget_name)
pulumi.export("notificationTopicArn", budget.notification_topic_arn)
