""":class:`GcpTeamBudget` (``mlplat:gcp:TeamBudget``): one team's monthly Cloud Billing budget,
alerting on current and forecast spend to a Pub/Sub topic the team owns.

What it registers (children named from the component's name, with the caller's options):

- ``<name>-budget``: a ``gcp.billing.Budget`` on the billing account, amount in USD per calendar
  month (``budget_filter.calendar_period`` ``MONTH``), filtered on the label ``team`` = the team's
  label (Cloud Billing Budget API, ``Filter.labels``: "only one label value per key"), with
  threshold rules at 80 % and 100 % (``threshold_percent`` 0.8 and 1.0) of ``CURRENT_SPEND`` and
  of ``FORECASTED_SPEND`` (API reference, ``ThresholdRule.Basis``). Notifications go to the topic
  (``all_updates_rule.pubsub_topic``) and to monitoring notification channels if given; billing
  account administrators keep their e-mails unless ``disable_default_iam_recipients``.
- Unless ``pubsub_topic`` is given: ``<name>-alerts``, a ``gcp.pubsub.Topic`` with the standard
  labels (Google-managed encryption, or ``kms_key_name``), and ``<name>-alerts-publisher``, a
  ``gcp.pubsub.TopicIAMMember`` giving ``roles/pubsub.publisher`` to the Cloud Billing budget
  service account ``billing-budget-alert@system.gserviceaccount.com`` (Cloud Billing docs,
  "Set up programmatic notifications": the topic must let that account publish).

The label ``team`` must be on the team's resources (the components put it there) for the budget
to see their cost. Creating budgets needs ``billing.budgets.create`` on the billing account
(Billing Account Costs Manager or Administrator).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Mapping, overload

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.inputs import Input, InputCheck
from ..core.tagging import require_standard_keys, with_managed_by
from . import KMS_KEY_PATTERN

__all__ = ["BUDGET_ALERT_MEMBER", "GcpTeamBudget", "GcpTeamBudgetArgs", "GcpTeamBudgetArgsDict", "SPEND_BASES", "budget_amount"]

#: The service account Cloud Billing publishes budget notifications as (Cloud Billing docs, "Set up
#: programmatic notifications").
BUDGET_ALERT_MEMBER = "serviceAccount:billing-budget-alert@system.gserviceaccount.com"
#: What a threshold rule compares: spend so far this month, and Google's forecast for the month.
SPEND_BASES = ("CURRENT_SPEND", "FORECASTED_SPEND")
#: The most monitoring notification channels a budget takes (Budget API, ``NotificationsRule``).
MAX_NOTIFICATION_CHANNELS = 5


def budget_amount(usd: float) -> dict[str, Any]:
    """A ``specified_amount`` of ``usd`` dollars: whole ``units`` (a string, as the API's int64)
    and ``nanos`` (billionths), currency ``USD``."""
    cents = round(usd * 100)
    return {"currency_code": "USD", "units": str(cents // 100), "nanos": (cents % 100) * 10_000_000}


def _label_value(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9_-]{0,63}", value):
        raise ValueError("a GCP label value: at most 63 lowercase letters, digits, '_' and '-'")
    return value


BillingAccount = Annotated[
    Input[str], InputCheck.matching(r"(billingAccounts/)?[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}", "a billing account id (XXXXXX-XXXXXX-XXXXXX, hex digits)")
]
ProjectId = Annotated[Input[str], InputCheck.matching(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", "a GCP project id (6-30 lowercase letters, digits, '-', a letter first)")]
TopicName = Annotated[Input[str], InputCheck.matching(r"projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/topics/[A-Za-z][-A-Za-z0-9_.~+%]{2,254}", "a Pub/Sub topic (projects/<project>/topics/<name>)")]
ChannelName = Annotated[
    Input[str], InputCheck.matching(r"projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/notificationChannels/[0-9]+", "a monitoring notification channel (projects/<project>/notificationChannels/<id>)")
]


class GcpTeamBudgetArgs(ComponentArgs):
    """Arguments of :class:`GcpTeamBudget`.

    The documented minimum is ``billing_account``, ``monthly_budget_usd`` and ``labels`` (with
    ``team``, ``cost-center`` and ``environment``).

    Attributes:
        billing_account: the Cloud Billing account id (``XXXXXX-XXXXXX-XXXXXX``; string or Output).
        monthly_budget_usd: the team's budget in USD per calendar month; greater than 0. The
            billing account's currency must be USD.
        labels: the standard labels (values may be Outputs); ``managed-by: pulumi`` is added.
            ``team`` selects the costs the budget counts and is how the policy pack finds it.
        alert_thresholds_percent: thresholds in percent of the budget, for current and forecast
            spend (default 80 and 100; 1 to 1000, distinct, at most 5).
        pubsub_topic: a Pub/Sub topic the team owns (``projects/<p>/topics/<t>``; string or
            Output); ``None`` (default) creates ``<name>-alerts``.
        project: the project of the created topic (string or Output); default: the provider's.
        kms_key_name: a Cloud KMS key for the created topic; ``None`` for Google-managed keys.
        monitoring_notification_channels: Cloud Monitoring channels also alerted (at most 5).
        disable_default_iam_recipients: stop the e-mails to billing account administrators.
    """

    billing_account: BillingAccount
    monthly_budget_usd: float = Field(gt=0, le=100_000_000)
    labels: Annotated[dict[str, Input[str]], InputCheck.for_values(_label_value)]
    alert_thresholds_percent: list[float] = Field(default_factory=lambda: [80.0, 100.0], min_length=1, max_length=5)
    pubsub_topic: TopicName | None = None
    project: ProjectId | None = None
    kms_key_name: Annotated[Input[str], InputCheck.matching(KMS_KEY_PATTERN.strip("^$"), "a Cloud KMS crypto key id (projects/.../cryptoKeys/<key>)")] | None = None
    monitoring_notification_channels: list[ChannelName] = Field(default_factory=list, max_length=MAX_NOTIFICATION_CHANNELS)
    disable_default_iam_recipients: bool = False

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, Any]) -> dict[str, Any]:
        require_standard_keys(value, "labels")
        bad = [key for key in value if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key)]
        if bad:
            raise ValueError(f"GCP label keys: lowercase letters, digits, '_' and '-', a letter first (bad: {', '.join(bad)})")
        return value

    @field_validator("alert_thresholds_percent")
    @classmethod
    def _thresholds(cls, value: list[float]) -> list[float]:
        if any(not 1 <= threshold <= 1000 for threshold in value) or len(set(value)) != len(value):
            raise ValueError("distinct thresholds in percent of the budget, each from 1 to 1000 (e.g. [80, 100])")
        return sorted(value)


class GcpTeamBudgetArgsDict(TypedDict, total=False):
    """:class:`GcpTeamBudgetArgs` as keyword arguments."""

    billing_account: pulumi.Input[str]
    monthly_budget_usd: float
    labels: Mapping[str, pulumi.Input[str]]
    alert_thresholds_percent: list[float]
    pubsub_topic: pulumi.Input[str] | None
    project: pulumi.Input[str] | None
    kms_key_name: pulumi.Input[str] | None
    monitoring_notification_channels: list[pulumi.Input[str]]
    disable_default_iam_recipients: bool


class GcpTeamBudget(Component[GcpTeamBudgetArgs], type_token="mlplat:gcp:TeamBudget"):
    """A team's monthly Cloud Billing budget on the ``team`` label, alerting at 80 % and 100 % of
    current and forecast spend to the team's Pub/Sub topic (see the module docstring).

    Args:
        name: the logical name; children are ``<name>-budget``, ``<name>-alerts``...
        args: a :class:`GcpTeamBudgetArgs` or a mapping of its fields, or keyword arguments.
        opts: resource options; they reach every child.

    Attributes (outputs):
        budget_name: the budget's resource name (``billingAccounts/<id>/budgets/<id>``).
        pubsub_topic: the topic the notifications go to (created or given).

    Raises:
        ComponentArgsError: an invalid argument (e.g. ``monthly_budget_usd`` 0 or missing), at
            ``GcpTeamBudget(<name>).<field>``; nothing was registered.
    """

    budget_name: pulumi.Output[str]
    pubsub_topic: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: GcpTeamBudgetArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[GcpTeamBudgetArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: GcpTeamBudgetArgs) -> dict[str, Any]:
        labels = with_managed_by(args.labels)
        self.topic = self.publisher = None
        ready: list[pulumi.Resource] = []
        if args.pubsub_topic is None:
            self.topic = gcp.pubsub.Topic(f"{name}-alerts", labels=labels, project=args.project, kms_key_name=args.kms_key_name, opts=self.child_options())
            self.publisher = gcp.pubsub.TopicIAMMember(
                f"{name}-alerts-publisher", topic=self.topic.id, role="roles/pubsub.publisher", member=BUDGET_ALERT_MEMBER, project=args.project, opts=self.child_options()
            )
            topic: Any = self.topic.id
            ready.append(self.publisher)
        else:
            topic = pulumi.Output.from_input(args.pubsub_topic)
        self.budget = gcp.billing.Budget(
            f"{name}-budget",
            billing_account=args.billing_account,
            display_name=f"{name} monthly"[:60],
            amount={"specified_amount": budget_amount(args.monthly_budget_usd)},
            budget_filter={"calendar_period": "MONTH", "labels": {"team": args.labels["team"]}, "credit_types_treatment": "INCLUDE_ALL_CREDITS"},
            threshold_rules=[
                {"threshold_percent": threshold / 100, "spend_basis": basis} for basis in SPEND_BASES for threshold in args.alert_thresholds_percent
            ],
            all_updates_rule={
                "pubsub_topic": topic,
                "monitoring_notification_channels": list(args.monitoring_notification_channels),
                "disable_default_iam_recipients": args.disable_default_iam_recipients,
            },
            # The publisher binding first: Cloud Billing checks it may publish to the topic.
            opts=self.child_options(depends_on=ready),
        )
        return {"budget_name": self.budget.name, "pubsub_topic": pulumi.Output.from_input(topic)}
