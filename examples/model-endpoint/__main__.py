"""A team's Pulumi project that serves a model with ``ModelEndpoint`` in its ``TeamNamespace``.

Preview it offline:  ``mlplat preview --cwd examples/model-endpoint --stack prod``
Deploy it:           ``pulumi config set --secret kubeconfig "$(cat ~/.kube/config)" && pulumi up --stack prod``

The endpoint's ``namespace`` and ``service_account_name`` are the team namespace's Outputs, so
every object of the endpoint waits for the namespace. In prod a new image rolls out as a canary
(5%, 25%, 50% of the traffic) gated on the model's precision: when the analysis fails, Argo
Rollouts sends all traffic back to the stable version.
"""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.model_endpoint import ModelEndpoint
from platform_lib.k8s.model_endpoint_spec import Analysis, Autoscaling, Canary, CanaryStep, ModelIdentity, Resources
from platform_lib.k8s.quota import ResourceQuotaSpec
from platform_lib.k8s.team_namespace import TeamNamespace

config = pulumi.Config()
environment = pulumi.get_stack()
production = environment == "prod"
labels = {"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": environment}

cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))

team = TeamNamespace(
    config.require("team"),
    labels=labels,
    identity_group=config.require("identityGroup"),
    quota=ResourceQuotaSpec(cpu=32, memory_gib=64, pods=40),
    opts=pulumi.ResourceOptions(provider=cluster, protect=production, retain_on_delete=production),
)

canary = Canary(
    steps=[CanaryStep(weight=5, pause_seconds=600), CanaryStep(weight=25, pause_seconds=600), CanaryStep(weight=50, pause_seconds=None)],
    analysis=Analysis(
        name="precision",
        query='avg(model_precision{namespace="{{args.namespace}}",service="{{args.service}}",track="{{args.track}}"})',
        success_condition="result[0] >= 0.92",
    ),
)

endpoint = ModelEndpoint(
    "fraud-detector",
    # The documented minimum: namespace, labels, the model's identity and a digest-pinned image.
    namespace=team.namespace_name,
    labels=labels,
    model=ModelIdentity(name="fraud-xgb", version="2.4.0", registry_version="17", git_sha="4e1d9c7b2a3f5e6d7c8b9a0f1e2d3c4b5a6f7e8d"),
    image=config.require("image"),
    # Typical wiring: the team's workload ServiceAccount (its IRSA role), sizes, a canary in prod.
    service_account_name=team.service_account_name,
    resources=Resources(cpu=1, memory_gib=2),
    autoscaling=Autoscaling(min_replicas=2 if production else 1, max_replicas=8),
    canary=canary if production else None,
    allow_single_replica=not production,
    alert_severity="page" if production else "ticket",
    opts=pulumi.ResourceOptions(provider=cluster),
)

pulumi.export("namespace", team.namespace_name)
pulumi.export("serviceDns", endpoint.service_dns)
pulumi.export("workloadKind", endpoint.workload_kind)
pulumi.export("loadBalancer", endpoint.load_balancer_hostname)
