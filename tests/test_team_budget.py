"""Team budgets on AWS and GCP: registered inputs (filter, amount, alerts, topic and its policies)
and the errors for a missing or zero budget."""

from __future__ import annotations

import json

import pulumi
import pytest

from platform_lib.aws.budget import AwsTeamBudget, team_cost_filter_value
from platform_lib.core.errors import ComponentArgsError
from platform_lib.gcp.budget import BUDGET_ALERT_MEMBER, GcpTeamBudget, budget_amount
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
STANDARD = {**TAGS, "managed-by": "pulumi"}
BILLING_ACCOUNT = "01A2B3-C4D5E6-F7A8B9"
AWS = {"aws:region": "eu-west-1"}
GCP = {"gcp:project": "ml-platform-prod"}


def _aws(**overrides):
    return preview(lambda: AwsTeamBudget("fraud-budget", {"monthly_budget_usd": 5000, "tags": TAGS, **overrides}), config=AWS)


def _gcp(**overrides):
    args = {"billing_account": BILLING_ACCOUNT, "monthly_budget_usd": 5000, "labels": TAGS, **overrides}
    return preview(lambda: GcpTeamBudget("fraud-budget", args), config=GCP)


def _error(program, config) -> tuple[str, list[str]]:
    with pytest.raises(PreviewError) as caught:
        preview(program, config=config)
    assert isinstance(caught.value.__cause__, ComponentArgsError)
    return str(caught.value.__cause__), [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"]


# --- AWS ---------------------------------------------------------------------------------


def test_aws_budget_is_monthly_cost_in_usd_on_the_team_cost_allocation_tag():
    budget = find(_aws(), "aws:budgets/budget:Budget", "fraud-budget-budget").inputs
    assert (budget["budgetType"], budget["timeUnit"], budget["limitAmount"], budget["limitUnit"]) == ("COST", "MONTHLY", "5000.00", "USD")
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": ["user:team$fraud"]}]
    assert budget["tags"] == STANDARD


def test_aws_alerts_on_actual_and_forecast_at_80_and_100_percent_to_the_team_topic():
    plan = _aws()
    topic = find(plan, "aws:sns/topic:Topic", "fraud-budget-alerts")
    budget = find(plan, "aws:budgets/budget:Budget").inputs
    assert sorted((n["notificationType"], n["threshold"]) for n in budget["notifications"]) == [
        ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 80), ("FORECASTED", 100)]
    assert {(n["comparisonOperator"], n["thresholdType"]) for n in budget["notifications"]} == {("GREATER_THAN", "PERCENTAGE")}
    assert all(n["subscriberSnsTopicArns"] == [topic.outputs["arn"]] for n in budget["notifications"])


def test_aws_topic_is_encrypted_with_a_key_budgets_may_use_and_lets_only_this_accounts_budgets_publish():
    plan = _aws()
    key = find(plan, "aws:kms/key:Key", "fraud-budget-key")
    topic = find(plan, "aws:sns/topic:Topic", "fraud-budget-alerts")
    assert key.inputs["enableKeyRotation"] is True and key.inputs["tags"] == STANDARD
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"] and topic.inputs["tags"] == STANDARD
    key_policy = json.loads(find(plan, "aws:kms/keyPolicy:KeyPolicy", "fraud-budget-key-policy").inputs["policy"])
    budgets = next(s for s in key_policy["Statement"] if s["Sid"] == "AllowBudgetsToUseKey")
    assert budgets["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert budgets["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert budgets["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    topic_policy = find(plan, "aws:sns/topicPolicy:TopicPolicy", "fraud-budget-alerts-policy").inputs
    statements = {s["Sid"]: s for s in json.loads(topic_policy["policy"])["Statement"]}
    allow = statements["AllowBudgetsToPublish"]
    assert (allow["Effect"], allow["Principal"], allow["Action"], allow["Resource"]) == ("Allow", {"Service": "budgets.amazonaws.com"}, "SNS:Publish", topic.outputs["arn"])
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}, "ArnLike": {"aws:SourceArn": "arn:aws:budgets::123456789012:*"}}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_aws_budget_waits_for_the_topic_policy():
    plan = _aws()
    budget = find(plan, "aws:budgets/budget:Budget")
    assert find(plan, "aws:sns/topicPolicy:TopicPolicy").urn in budget.options.depends_on


def test_aws_given_topic_creates_no_topic_and_is_subscribed():
    arn = "arn:aws:sns:eu-west-1:123456789012:fraud-alerts"
    plan = _aws(notification_topic_arn=arn, email_subscribers=["ml-fraud@example.com"], alert_thresholds_percent=[100, 50])
    assert find_all(plan, "aws:sns/topic:Topic") == [] and find_all(plan, "aws:kms/key:Key") == []
    notifications = find(plan, "aws:budgets/budget:Budget").inputs["notifications"]
    assert [(n["notificationType"], n["threshold"]) for n in notifications] == [("ACTUAL", 50), ("ACTUAL", 100), ("FORECASTED", 50), ("FORECASTED", 100)]
    assert all(n["subscriberSnsTopicArns"] == [arn] and n["subscriberEmailAddresses"] == ["ml-fraud@example.com"] for n in notifications)


def test_aws_team_from_an_output_reaches_the_cost_filter():
    tags = {**TAGS, "team": pulumi.Output.from_input("risk")}
    plan = preview(lambda: AwsTeamBudget("risk-budget", monthly_budget_usd=100.5, tags=tags), config=AWS)
    budget = find(plan, "aws:budgets/budget:Budget").inputs
    assert budget["costFilters"][0]["values"] == [team_cost_filter_value("risk")] == ["user:team$risk"]
    assert budget["limitAmount"] == "100.50"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"monthly_budget_usd": 0}, "AwsTeamBudget(fraud-budget).monthly_budget_usd: got 0; expected a number greater than 0 USD"),
        ({"monthly_budget_usd": -5}, "AwsTeamBudget(fraud-budget).monthly_budget_usd: got -5; expected a number greater than 0 USD"),
        ({"monthly_budget_usd": None}, "AwsTeamBudget(fraud-budget).monthly_budget_usd: got <missing>; expected a value (this key is required)"),
        ({"alert_thresholds_percent": [80, 80]}, "AwsTeamBudget(fraud-budget).alert_thresholds_percent: got [80, 80]; expected distinct thresholds"),
        ({"tags": {**TAGS, "team": "a$b"}}, "AwsTeamBudget(fraud-budget).tags: got"),
        ({"email_subscribers": ["not-an-address"]}, "AwsTeamBudget(fraud-budget).email_subscribers: got ['not-an-address']; expected e-mail addresses"),
    ],
)
def test_aws_bad_budget_registers_nothing(overrides, expected):
    args = {"monthly_budget_usd": 5000, "tags": TAGS, **overrides}
    args = {key: value for key, value in args.items() if value is not None}
    message, registered = _error(lambda: AwsTeamBudget("fraud-budget", args), AWS)
    assert expected in message
    assert registered == []


# --- GCP ---------------------------------------------------------------------------------


def test_gcp_budget_is_monthly_usd_on_the_team_label_with_current_and_forecast_thresholds():
    plan = _gcp(monthly_budget_usd=5000.5)
    budget = find(plan, "gcp:billing/budget:Budget", "fraud-budget-budget").inputs
    assert budget["billingAccount"] == BILLING_ACCOUNT
    assert budget["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "5000", "nanos": 500_000_000}}
    assert budget["budgetFilter"]["labels"] == {"team": "fraud"}
    assert budget["budgetFilter"]["calendarPeriod"] == "MONTH"
    assert sorted((r["spendBasis"], r["thresholdPercent"]) for r in budget["thresholdRules"]) == [
        ("CURRENT_SPEND", 0.8), ("CURRENT_SPEND", 1.0), ("FORECASTED_SPEND", 0.8), ("FORECASTED_SPEND", 1.0)]


def test_gcp_alerts_go_to_a_labelled_topic_the_billing_service_account_may_publish_to():
    plan = _gcp()
    topic = find(plan, "gcp:pubsub/topic:Topic", "fraud-budget-alerts")
    assert topic.inputs["labels"] == STANDARD
    member = find(plan, "gcp:pubsub/topicIAMMember:TopicIAMMember", "fraud-budget-alerts-publisher").inputs
    assert (member["topic"], member["role"], member["member"]) == (topic.id, "roles/pubsub.publisher", BUDGET_ALERT_MEMBER)
    budget = find(plan, "gcp:billing/budget:Budget")
    assert budget.inputs["allUpdatesRule"]["pubsubTopic"] == topic.id
    assert find(plan, "gcp:pubsub/topicIAMMember:TopicIAMMember").urn in budget.options.depends_on


def test_gcp_given_topic_and_channels_are_used_as_given():
    topic, channel = "projects/ml-platform-prod/topics/fraud-alerts", "projects/ml-platform-prod/notificationChannels/42"
    plan = _gcp(pubsub_topic=topic, monitoring_notification_channels=[channel])
    assert find_all(plan, "gcp:pubsub/topic:Topic") == []
    rule = find(plan, "gcp:billing/budget:Budget").inputs["allUpdatesRule"]
    assert (rule["pubsubTopic"], rule["monitoringNotificationChannels"]) == (topic, [channel])


def test_budget_amount_splits_dollars_and_nanos():
    assert budget_amount(1234.56) == {"currency_code": "USD", "units": "1234", "nanos": 560_000_000}
    assert budget_amount(10) == {"currency_code": "USD", "units": "10", "nanos": 0}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"monthly_budget_usd": 0}, "GcpTeamBudget(fraud-budget).monthly_budget_usd: got 0; expected a number greater than 0 USD"),
        ({"monthly_budget_usd": None}, "GcpTeamBudget(fraud-budget).monthly_budget_usd: got <missing>; expected a value (this key is required)"),
        ({"billing_account": "my-account"}, "GcpTeamBudget(fraud-budget).billing_account: got 'my-account'; expected a billing account id"),
    ],
)
def test_gcp_bad_budget_registers_nothing(overrides, expected):
    args = {"billing_account": BILLING_ACCOUNT, "monthly_budget_usd": 5000, "labels": TAGS, **overrides}
    args = {key: value for key, value in args.items() if value is not None}
    message, registered = _error(lambda: GcpTeamBudget("fraud-budget", args), GCP)
    assert expected in message
    assert registered == []
