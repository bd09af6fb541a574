"""Contract case for a team's observability (platform_lib/k8s/team_observability.py)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.team_observability import TeamObservability

from . import ComponentCase

LABELS = {"team": "fraud", "cost-center": "cc-1000", "environment": "prod"}


def _minimal() -> dict:
    return {"labels": LABELS, "team": {"name": "fraud"}}


def _with_outputs() -> dict:
    # The team stack's wiring: labels from the stack, a receiver whose secret is an existing
    # Secret in the team's namespace, endpoints of the team's request file, one with drift.
    return {
        "labels": {key: pulumi.Output.from_input(value) for key, value in LABELS.items()},
        "team": {"name": "fraud", "monthly_budget_usd": 5000.0, "workspace": True,
                 "receivers": [{"name": "fraud-slack", "kind": "slack", "secret_ref": {"name": "alert-receivers", "key": "slack"}, "channel": "#fraud-alerts"}]},
        "endpoints": [{"name": "fraud-detector", "namespace": "fraud", "team": "fraud", "progressive": True, "drift": True}],
        "namespace": pulumi.Output.from_input("fraud"),  # TeamNamespace.namespace_name
    }


CASES = [
    ComponentCase(
        component=TeamObservability,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: k8s.Provider(name, kubeconfig="{}"),
        provider_package="kubernetes",
        name="team-observability",
    ),
]
