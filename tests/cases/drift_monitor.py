"""Contract case for DriftMonitor (platform_lib/k8s/drift_monitor.py)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.drift_monitor import DriftMonitor
from platform_lib.k8s.team_namespace import TeamNamespace
from tests.cases import ComponentCase

LABELS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
IMAGE = "europe-docker.pkg.dev/ml-platform-prod/platform/drift-job:0.1.0@sha256:" + "0123456789abcdef" * 4


def _minimal() -> dict:
    return {
        "endpoint": "fraud-detector",
        "namespace": "fraud",
        "service_account_name": "workload",
        "image": IMAGE,
        "labels": LABELS,
        "features": ["amount", "merchant_category", "country"],
        "reference_path": "gs://fraud-data/reference/train.parquet",
        "current_path": "gs://fraud-data/inference/fraud-detector/",
    }


def _with_outputs() -> dict:
    team = TeamNamespace("fraud", labels=LABELS, identity_group="ml-fraud-engineers", quota={"cpu": 16, "memory_gib": 64})
    return {
        **_minimal(),
        "namespace": team.namespace_name,
        "service_account_name": team.service_account_name,
        "labels": {key: pulumi.Output.from_input(value) for key, value in LABELS.items()},
    }


CASES = [
    ComponentCase(
        component=DriftMonitor,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: k8s.Provider(name, kubeconfig="{}"),
        provider_package="kubernetes",
        name="fraud-detector-drift",
    ),
]
