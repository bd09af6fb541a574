"""The platform team's observability stack with ``ObservabilityStack``.

Preview it offline:  ``mlplat preview --cwd examples/observability --stack prod``
Deploy it:           ``pulumi config set --secret kubeconfig "$(cat ~/.kube/config)"``, set the
                     receiver secrets with ``pulumi config set --secret``, then ``pulumi up --stack prod``

The cluster runs PlatformAddons (kube-prometheus-stack in ``monitoring``, the OpenTelemetry collector
in ``observability``), given the values this stack exports as ``platformAddonsValues``: the
collector's exporters to Tempo and Loki, kube-state-metrics' annotation allow-list, Alertmanager's
global configuration.
"""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.observability import ObservabilityStack
from platform_lib.k8s.observability_spec import AlertReceiver, EndpointView, TeamView

config = pulumi.Config()
environment = pulumi.get_stack()
production = environment == "prod"
labels = {"team": "platform", "cost-center": config.require("costCenter"), "environment": environment}

cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))

stack = ObservabilityStack(
    "observability",
    # The documented minimum: labels and where the platform's own alerts go.
    labels=labels,
    platform_receivers=[AlertReceiver(name="platform-oncall", kind="pagerduty", secret=config.require_secret("platformPagerdutyKey"))],
    # Typical wiring: the endpoints and teams of the stack config, the GPU pools' labels and taints.
    endpoints=[
        EndpointView(name="fraud-detector", namespace="fraud", team="fraud", progressive=production, quality_objective=0.92),
        EndpointView(name="ranker", namespace="search", team="search", request_metric="ranker_requests_total", quality_metric="ranker_ndcg", quality_objective=0.7),
    ],
    teams=[
        TeamView(
            name="fraud",
            monthly_budget_usd=8000.0,
            workspace=True,
            receivers=[AlertReceiver(name="fraud-slack", kind="slack", secret=config.require_secret("fraudSlackWebhook"), channel="#fraud-alerts")],
        ),
        TeamView(name="search", monthly_budget_usd=3000.0),
    ],
    gpu_metrics=production,
    gpu_node_pools=[{"name": "gpu-a10g", "labels": {"mlplat.io/gpu": "a10g"}, "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]}],
    trace_retention_hours=336 if production else 168,
    log_retention_hours=336 if production else 168,
    opts=pulumi.ResourceOptions(provider=cluster),
)

pulumi.export("dashboards", stack.dashboards)
pulumi.export("tempoEndpoint", stack.tempo_endpoint)
pulumi.export("platformAddonsValues", stack.platform_addons_values)
