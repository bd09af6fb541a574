""":class:`AwsTeamBudget` (``mlplat:aws:TeamBudget``): one team's monthly AWS cost budget, with
alerts on actual and forecast spend to a notification topic the team owns.

What it registers (children named from the component's name, each with the caller's options and
the standard tags where the type takes tags):

- ``<name>-budget``: an ``aws.budgets.Budget`` of type ``COST``, ``MONTHLY``, in USD, filtered on
  the ``team`` cost-allocation tag: cost filter ``TagKeyValue`` = ``user:team$<team>`` (AWS Billing
  User Guide, "Using user-defined cost allocation tags": user tags appear as ``user:<key>``; AWS
  Budgets API reference, ``Budget.CostFilters``). The ``team`` tag must be activated as a cost
  allocation tag in the payer account's Billing console once; until then the budget sees no cost.
  One notification per threshold (default 80 % and 100 %) and per kind (``ACTUAL`` and
  ``FORECASTED``), ``GREATER_THAN`` the threshold in ``PERCENTAGE`` of the budget, each sent to
  the topic (and optional e-mail subscribers).
- Unless ``notification_topic_arn`` is given: ``<name>-alerts``, an ``aws.sns.Topic`` encrypted
  with ``<name>-key`` (a customer managed KMS key, yearly rotation on, with its explicit
  ``<name>-key-policy``: the account root statement plus ``kms:GenerateDataKey*`` and
  ``kms:Decrypt`` for ``budgets.amazonaws.com`` limited to the account by ``aws:SourceAccount``),
  or with ``kms_key_arn``; and ``<name>-alerts-policy``, its topic policy letting
  ``budgets.amazonaws.com`` publish (only for budgets of this account: ``aws:SourceAccount`` and
  ``aws:SourceArn`` ``arn:<partition>:budgets::<account>:*``) and denying publishing without TLS.
  Source: AWS Cost Management User Guide, "Creating an Amazon SNS topic for budget
  notifications" and its note on encrypted topics (the AWS managed key ``alias/aws/sns`` cannot be
  used: its key policy does not allow the Budgets service principal).

A topic given as ``notification_topic_arn`` must already allow ``budgets.amazonaws.com`` to
publish (and, when encrypted, its key must allow the service); the component does not change it.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Mapping, overload

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.inputs import Input, InputCheck
from ..core.policy_documents import kms_key_policy_document
from ..core.tagging import require_standard_keys, with_managed_by

__all__ = [
    "AwsTeamBudget",
    "AwsTeamBudgetArgs",
    "AwsTeamBudgetArgsDict",
    "BUDGETS_SERVICE_PRINCIPAL",
    "NOTIFICATION_TYPES",
    "budgets_key_policy_statement",
    "budgets_topic_policy_document",
    "team_cost_filter_value",
]

#: The service principal AWS Budgets publishes notifications as (AWS Cost Management User Guide,
#: "Creating an Amazon SNS topic for budget notifications").
BUDGETS_SERVICE_PRINCIPAL = "budgets.amazonaws.com"
#: The kinds of spend a notification fires on: spend so far this month, and AWS's forecast for the
#: whole month (AWS Budgets API reference, ``Notification.NotificationType``).
NOTIFICATION_TYPES = ("ACTUAL", "FORECASTED")
#: The most subscribers one budget notification takes (AWS Budgets quotas: 10 e-mail subscribers
#: and 1 SNS topic per notification).
MAX_EMAIL_SUBSCRIBERS = 10

_SNS_TOPIC_ARN = r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}"
_KMS_KEY_ARN = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


def team_cost_filter_value(team: str) -> str:
    """The ``TagKeyValue`` cost filter value selecting costs tagged ``team=<team>``: ``user:team$<team>``."""
    return f"user:team${team}"


def budgets_key_policy_statement(account: str) -> dict[str, Any]:
    """The key policy statement letting AWS Budgets publish to a topic encrypted with the key:
    ``kms:GenerateDataKey*`` and ``kms:Decrypt`` for ``budgets.amazonaws.com``, only on behalf of
    ``account`` (``aws:SourceAccount``; AWS Cost Management User Guide, encrypted topics)."""
    return {
        "Sid": "AllowBudgetsToUseKey",
        "Effect": "Allow",
        "Principal": {"Service": BUDGETS_SERVICE_PRINCIPAL},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    }


def budgets_topic_policy_document(topic_arn: str) -> dict[str, Any]:
    """The topic policy of a team's budget alert topic: AWS Budgets of the topic's account may
    publish; nobody may publish without TLS (Amazon SNS Developer Guide, "Amazon SNS security best
    practices": enforce encryption of data in transit with ``aws:SecureTransport``).

    Args:
        topic_arn: ``arn:<partition>:sns:<region>:<account>:<name>``; partition and account are read from it.
    """
    _, partition, _, _, account, _ = topic_arn.split(":", 5)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowBudgetsToPublish",
                "Effect": "Allow",
                "Principal": {"Service": BUDGETS_SERVICE_PRINCIPAL},
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:budgets::{account}:*"},
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "SNS:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def _tag_value(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError('a tag value: a string of at most 256 characters (AWS Tagging, "Tag naming limits")')
    return value


def _team_value(value: Any) -> Any:
    # The team tag's value goes into the cost filter ``user:team$<team>``; a '$' would break it.
    _tag_value(value)
    if not value or "$" in value:
        raise ValueError("a team name: a non-empty tag value without '$' (it becomes the cost filter user:team$<team>)")
    return value


class AwsTeamBudgetArgs(ComponentArgs):
    """Arguments of :class:`AwsTeamBudget`.

    The documented minimum is ``monthly_budget_usd`` and ``tags`` (with ``team``, ``cost-center``
    and ``environment``); with those the budget and its topic pass every mandatory policy of the
    shipped pack at prod levels.

    Attributes:
        monthly_budget_usd: the team's budget in USD per calendar month; greater than 0 (a 0
            budget would alert on the first cent; a missing one is an error, never a default).
        tags: tags for every taggable child; ``team``, ``cost-center`` and ``environment``
            required (values may be Outputs), ``managed-by: pulumi`` added. ``team`` also selects
            the costs the budget counts (``user:team$<team>``) and is how the policy pack finds
            the team's budget (policy ``team-monthly-cost-within-team-budget``).
        alert_thresholds_percent: the thresholds in percent of the budget at which ``ACTUAL`` and
            ``FORECASTED`` spend alert (default 80 and 100; 1 to 1000, distinct, at most 5).
        notification_topic_arn: an SNS topic ARN the team owns (string or Output); ``None``
            (default) creates ``<name>-alerts``, encrypted and with a topic policy for Budgets.
        email_subscribers: e-mail addresses also alerted directly (at most 10).
        kms_key_arn: a KMS key ARN (string or Output) for the created topic instead of the
            dedicated key; its key policy must allow ``budgets.amazonaws.com`` as
            :func:`budgets_key_policy_statement` does. Unused with ``notification_topic_arn``.
        kms_key_deletion_window_days: waiting period in days before the dedicated key is deleted
            (7 to 30, default 30).
    """

    monthly_budget_usd: float = Field(gt=0, le=100_000_000)
    tags: Annotated[dict[str, Input[str]], InputCheck.for_values(_tag_value)]
    alert_thresholds_percent: list[float] = Field(default_factory=lambda: [80.0, 100.0], min_length=1, max_length=5)
    notification_topic_arn: Annotated[Input[str], InputCheck.matching(_SNS_TOPIC_ARN, "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")] | None = None
    email_subscribers: list[str] = Field(default_factory=list, max_length=MAX_EMAIL_SUBSCRIBERS)
    kms_key_arn: Annotated[Input[str], InputCheck.matching(_KMS_KEY_ARN, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)")] | None = None
    kms_key_deletion_window_days: int = Field(default=30, ge=7, le=30)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, Any]) -> dict[str, Any]:
        require_standard_keys(value)
        team = value["team"]
        if not isinstance(team, pulumi.Output):
            _team_value(team)
        return value

    @field_validator("alert_thresholds_percent")
    @classmethod
    def _thresholds(cls, value: list[float]) -> list[float]:
        bad = [threshold for threshold in value if not 1 <= threshold <= 1000]
        if bad or len(set(value)) != len(value):
            raise ValueError("distinct thresholds in percent of the budget, each from 1 to 1000 (e.g. [80, 100])")
        return sorted(value)

    @field_validator("email_subscribers")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        bad = [address for address in value if not _EMAIL.fullmatch(address)]
        if bad:
            raise ValueError(f"e-mail addresses such as ml-fraud@example.com (bad: {', '.join(bad)})")
        return value


class AwsTeamBudgetArgsDict(TypedDict, total=False):
    """:class:`AwsTeamBudgetArgs` as keyword arguments."""

    monthly_budget_usd: float
    tags: Mapping[str, pulumi.Input[str]]
    alert_thresholds_percent: list[float]
    notification_topic_arn: pulumi.Input[str] | None
    email_subscribers: list[str]
    kms_key_arn: pulumi.Input[str] | None
    kms_key_deletion_window_days: int


class AwsTeamBudget(Component[AwsTeamBudgetArgs], type_token="mlplat:aws:TeamBudget"):
    """A team's monthly AWS cost budget on the ``team`` cost-allocation tag, alerting at 80 % and
    100 % of actual and forecast spend to the team's SNS topic (see the module docstring).

    Args:
        name: the logical name; children are ``<name>-budget``, ``<name>-alerts``, ``<name>-key``...
        args: an :class:`AwsTeamBudgetArgs` or a mapping of its fields, or keyword arguments
            (:class:`AwsTeamBudgetArgsDict`).
        opts: resource options; they reach every child. The component protects nothing itself.

    Attributes (outputs):
        budget_name: the budget's name.
        notification_topic_arn: the ARN of the topic the alerts go to (created or given).

    Other attributes: ``budget`` (``aws.budgets.Budget``), ``topic``, ``topic_policy``, ``kms_key``,
    ``key_policy`` (each ``None`` when not created).

    Raises:
        ComponentArgsError: an invalid argument (e.g. ``monthly_budget_usd`` 0 or missing), at
            ``AwsTeamBudget(<name>).<field>``; nothing was registered.
    """

    budget_name: pulumi.Output[str]
    notification_topic_arn: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: AwsTeamBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[AwsTeamBudgetArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: AwsTeamBudgetArgs) -> dict[str, Any]:
        tags = with_managed_by(args.tags)
        self.kms_key = self.key_policy = self.topic = self.topic_policy = None
        if args.notification_topic_arn is None:
            topic_arn, ready = self._topic(name, args, tags)
        else:
            topic_arn, ready = pulumi.Output.from_input(args.notification_topic_arn), []
        team = pulumi.Output.from_input(args.tags["team"])
        notifications = [
            {
                "comparison_operator": "GREATER_THAN",
                "notification_type": kind,
                "threshold": threshold,
                "threshold_type": "PERCENTAGE",
                "subscriber_sns_topic_arns": [topic_arn],
                **({"subscriber_email_addresses": list(args.email_subscribers)} if args.email_subscribers else {}),
            }
            for kind in NOTIFICATION_TYPES
            for threshold in args.alert_thresholds_percent
        ]
        self.budget = aws.budgets.Budget(
            f"{name}-budget",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{args.monthly_budget_usd:.2f}",
            limit_unit="USD",
            cost_filters=[{"name": "TagKeyValue", "values": [team.apply(team_cost_filter_value)]}],
            notifications=notifications,
            tags=tags,
            # The topic policy first: Budgets checks it may publish when the budget is created.
            opts=self.child_options(depends_on=ready),
        )
        return {"budget_name": self.budget.name, "notification_topic_arn": topic_arn}

    def _topic(self, name: str, args: AwsTeamBudgetArgs, tags: Mapping[str, Any]) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
        """The encrypted alert topic and its policy; returns its ARN and what the budget waits for."""
        ready: list[pulumi.Resource] = []
        if args.kms_key_arn is None:
            self.kms_key = aws.kms.Key(
                f"{name}-key",
                description=f"Encrypts the budget alert topic of {name} (SNS)",
                enable_key_rotation=True,
                deletion_window_in_days=args.kms_key_deletion_window_days,
                tags=dict(tags),
                opts=self.child_options(),
            )
            document = self.kms_key.arn.apply(lambda arn: kms_key_policy_document(arn, [budgets_key_policy_statement(arn.split(":")[4])]))
            self.key_policy = aws.kms.KeyPolicy(f"{name}-key-policy", key_id=self.kms_key.key_id, policy=pulumi.Output.json_dumps(document), opts=self.child_options())
            key_arn: Any = self.kms_key.arn
            ready.append(self.key_policy)
        else:
            key_arn = args.kms_key_arn
        self.topic = aws.sns.Topic(f"{name}-alerts", kms_master_key_id=key_arn, tags=dict(tags), opts=self.child_options())
        self.topic_policy = aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(lambda arn: json.dumps(budgets_topic_policy_document(arn))),
            opts=self.child_options(),
        )
        ready.append(self.topic_policy)
        return self.topic.arn, ready
