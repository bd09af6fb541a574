"""A team's Pulumi project that watches its fraud model's inputs for drift with ``DriftMonitor``.

Preview it offline:  ``mlplat preview --cwd examples/drift-monitor --stack prod``
Deploy it:           ``pulumi config set --secret kubeconfig "$(cat ~/.kube/config)" && pulumi up --stack prod``

The endpoint logs its inference features under ``<bucket>/inference/fraud-detector/`` (Parquet,
with a ``timestamp`` column); the training reference is ``<bucket>/reference/train.parquet``. The
drift job runs under the team's workload ServiceAccount, whose cloud identity may read the
bucket, and pushes per-feature scores to the cluster's Pushgateway; Prometheus alerts the team.
"""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib import DriftMonitor, ResourceQuotaSpec, TeamNamespace

config = pulumi.Config()
environment = pulumi.get_stack()
production = environment == "prod"
labels = {"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": environment}
bucket = config.require("bucket").rstrip("/")

cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))

team = TeamNamespace(
    config.require("team"),
    labels=labels,
    identity_group=config.require("identityGroup"),
    quota=ResourceQuotaSpec(cpu=16, memory_gib=32, pods=20),
    opts=pulumi.ResourceOptions(provider=cluster),
)

# The drift settings (a stack file gives the same as DriftSettings, with camelCase keys).
amount_threshold = config.get_float("amountThreshold")
drift = {
    "features": ["amount", "merchantCategory", "country", "hourOfDay", "cardAgeDays"],
    "reference_path": f"{bucket}/reference/train.parquet",
    "current_path": f"{bucket}/inference/fraud-detector/",
    "schedule": config.get("schedule") or "0 * * * *",
    "window_hours": 24,
    "drift_share_threshold": 0.4,
    "feature_thresholds": {"amount": amount_threshold} if amount_threshold is not None else {},
}

monitor = DriftMonitor(
    "fraud-detector-drift",
    **drift,
    endpoint="fraud-detector",
    namespace=team.namespace_name,
    service_account_name=team.service_account_name,
    image=config.require("image"),
    labels=labels,
    alert_severity="ticket",
    opts=pulumi.ResourceOptions(provider=cluster),
)

pulumi.export("cronJob", monitor.cron_job_name)
pulumi.export("prometheusRule", monitor.prometheus_rule_name)
pulumi.export("metrics", monitor.metric_names)
