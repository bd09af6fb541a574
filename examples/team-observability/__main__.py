"""One team's share of the platform's observability with ``TeamObservability``.

Preview it offline:  ``mlplat preview --cwd examples/team-observability --stack prod``
Deploy it:           ``pulumi config set --secret kubeconfig "$(cat ~/.kube/config)"``, then ``pulumi up --stack prod``

The cluster runs ``PlatformAddons`` and ``ObservabilityStack`` (the cluster stack); this is what a
team stack adds: the team's and its endpoints' dashboards, their recording rules, the hub's
ServiceMonitor, the Pushgateway admitting the team's drift jobs, and (prod) the team's alert route
to a receiver whose URL is an existing Secret's key, never in the stack's config.
"""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.observability_spec import AlertReceiver, EndpointView, ReceiverSecretRef, TeamView
from platform_lib.k8s.team_observability import TeamObservability

config = pulumi.Config()
environment = pulumi.get_stack()
production = environment == "prod"
labels = {"team": "fraud", "cost-center": config.require("costCenter"), "environment": environment}

cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))

receivers = [AlertReceiver(name="fraud-slack", kind="slack", secret_ref=ReceiverSecretRef(name="alert-receivers", key="slack"), channel="#fraud-alerts")]
team = TeamObservability(
    "fraud-observability",
    # The documented minimum: labels and the team.
    labels=labels,
    team=TeamView(name="fraud", monthly_budget_usd=8000.0 if production else 1000.0, workspace=True, receivers=receivers if production else []),
    # Typical wiring: the team's endpoints from its request file; drift: it has a DriftMonitor.
    endpoints=[EndpointView(name="fraud-detector", namespace="fraud", team="fraud", progressive=production, quality_objective=0.92, drift=True)],
    opts=pulumi.ResourceOptions(provider=cluster),
)

pulumi.export("dashboards", team.dashboards)
pulumi.export("alertRoute", team.alert_route)
