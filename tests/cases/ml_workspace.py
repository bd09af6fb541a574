"""Contract case of MlWorkspace (platform_lib/k8s/ml_workspace.py)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.ml_workspace import MlWorkspace
from platform_lib.k8s.team_namespace import TeamNamespace

from . import ComponentCase

LABELS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
QUOTA = {"cpu": 16, "memory_gib": 64, "gpu": 2}
OIDC = {
    "client_id": "jupyterhub-fraud",
    "client_secret": "case-client-secret",
    "authorize_url": "https://login.example.com/oauth2/v1/authorize",
    "token_url": "https://login.example.com/oauth2/v1/token",
    "userdata_url": "https://login.example.com/oauth2/v1/userinfo",
}


def _minimal() -> dict:
    return {
        "namespace": "fraud",
        "labels": LABELS,
        "identity_group": "ml-fraud-engineers",
        "quota": QUOTA,
        "oidc": OIDC,
        "hostname": "fraud.notebooks.example.com",
    }


def _with_outputs() -> dict:
    # The typical wiring: the team namespace's name and workload ServiceAccount as Outputs, and
    # the client secret from secret config.
    team = TeamNamespace("fraud", labels=LABELS, identity_group="ml-fraud-engineers", quota=QUOTA)
    return {
        **_minimal(),
        "namespace": team.namespace_name,
        "service_account_name": team.service_account_name,
        "labels": {key: pulumi.Output.from_input(value) for key, value in LABELS.items()},
        "identity_group": pulumi.Output.from_input("ml-fraud-engineers"),
        "oidc": {**OIDC, "client_secret": pulumi.Output.secret("case-client-secret")},
    }


CASES = [
    ComponentCase(
        component=MlWorkspace,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: k8s.Provider(name, kubeconfig="{}"),
        provider_package="kubernetes",
        name="fraud-notebooks",
    ),
]
