"""Contract case for GkeCluster (platform_lib/gcp/gke_cluster.py)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from platform_lib.gcp.gke_cluster import GkeCluster

from . import ComponentCase

LABELS = {"team": "platform", "cost-center": "cc-1000", "environment": "prod"}


def _minimal() -> dict:
    return {"location": "europe-west4", "network": "ml-vpc", "subnetwork": "ml-nodes", "labels": LABELS}


def _with_outputs() -> dict:
    network = gcp.compute.Network("case-gke-network", auto_create_subnetworks=False)
    subnetwork = gcp.compute.Subnetwork("case-gke-nodes", network=network.id, ip_cidr_range="10.40.0.0/20", region="europe-west4")
    return {
        "location": pulumi.Output.from_input("europe-west4"),
        "network": network.self_link,
        "subnetwork": subnetwork.self_link,
        "project": pulumi.Output.from_input("ml-platform-prod"),
        "pods_range_name": pulumi.Output.from_input("pods"),
        "services_range_name": pulumi.Output.from_input("services"),
        "secrets_kms_key": pulumi.Output.from_input("projects/ml-platform-prod/locations/europe-west4/keyRings/gke/cryptoKeys/secrets"),
        "gpu_pools": [{"name": "l4", "machine_type": "g2-standard-8"}],
        "labels": {key: pulumi.Output.from_input(value) for key, value in LABELS.items()},
    }


CASES = [
    ComponentCase(
        component=GkeCluster,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: gcp.Provider(name, project="ml-platform-prod", region="europe-west4"),
        provider_package="gcp",
        config={"gcp:project": "ml-platform-prod", "gcp:region": "europe-west4"},
    ),
]
