"""Contract case for the observability stack (platform_lib/k8s/observability.py)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.observability import ObservabilityStack

from . import ComponentCase

LABELS = {"team": "platform", "cost-center": "cc-1000", "environment": "prod"}
#: Made-up receiver secrets of the right shapes (a PagerDuty routing key is 32 characters).
PAGERDUTY_KEY = "0123456789abcdef0123456789abcdef"
SLACK_URL = "https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"


def _minimal() -> dict:
    return {"labels": LABELS, "platform_receivers": [{"name": "platform-oncall", "kind": "pagerduty", "secret": PAGERDUTY_KEY}]}


def _with_outputs() -> dict:
    # The typical wiring: labels from the stack, receiver secrets from `pulumi config set --secret`.
    return {
        **_minimal(),
        "labels": {key: pulumi.Output.from_input(value) for key, value in LABELS.items()},
        "platform_receivers": [{"name": "platform-oncall", "kind": "pagerduty", "secret": pulumi.Output.secret(PAGERDUTY_KEY)}],
        "teams": [{"name": "fraud", "monthly_budget_usd": 5000.0, "workspace": True,
                   "receivers": [{"name": "fraud-slack", "kind": "slack", "secret": pulumi.Output.secret(SLACK_URL), "channel": "#fraud-alerts"}]}],
        "endpoints": [{"name": "fraud-detector", "namespace": "fraud", "team": "fraud", "progressive": True}],
    }


CASES = [
    ComponentCase(
        component=ObservabilityStack,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: k8s.Provider(name, kubeconfig="{}"),
        provider_package="kubernetes",
        name="observability",
    ),
]
