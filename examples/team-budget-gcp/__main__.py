"""A team's monthly Cloud Billing budget with ``GcpTeamBudget``.

The budget counts the costs labelled ``team=<team>`` on the billing account and alerts at 80 %
and 100 % of current and forecast spend, to a Pub/Sub topic the component creates (the Cloud
Billing budget service account may publish to it) and, in prod, a monitoring notification channel.

    mlplat preview --cwd examples/team-budget-gcp --stack dev      # offline, no credentials
"""

import pulumi
import pulumi_gcp as gcp

from platform_lib.gcp.budget import GcpTeamBudget

config = pulumi.Config()
team = config.require("team")
environment = config.require("environment")
project = pulumi.Config("gcp").require("project")
provider = gcp.Provider("gcp", project=project)

budget = GcpTeamBudget(
    f"{team}-budget",
    # The documented minimum: the billing account, the amount and the standard labels.
    billing_account=config.require("billingAccount"),
    monthly_budget_usd=float(config.require("monthlyBudgetUsd")),
    labels={"team": team, "cost-center": config.require("costCenter"), "environment": environment},
    project=project,
    monitoring_notification_channels=config.get_object("notificationChannels") or [],
    opts=pulumi.ResourceOptions(provider=provider, protect=environment == "prod"),
)

pulumi.export("budgetName", budget.budget_name)
pulumi.export("pubsubTopic", budget.pubsub_topic)
