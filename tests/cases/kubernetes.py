"""Contract cases of the Kubernetes components: TeamNamespace and ModelEndpoint."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.model_endpoint import ModelEndpoint
from platform_lib.k8s.team_namespace import TeamNamespace
from tests.cases import ComponentCase

LABELS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
ROLE_ARN = "arn:aws:iam::123456789012:role/fraud-workload"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud/detector:2.4.0@sha256:" + "0123456789abcdef" * 4
MODEL = {"name": "fraud-xgb", "version": "2.4.0", "registry_version": "17", "git_sha": "4e1d9c7"}


def _output_labels() -> dict[str, pulumi.Output[str]]:
    return {key: pulumi.Output.from_input(value) for key, value in LABELS.items()}


def _provider(name: str) -> k8s.Provider:
    return k8s.Provider(name, kubeconfig="{}")


def _namespace_minimal() -> dict:
    return {"labels": LABELS, "identity_group": "ml-fraud-engineers", "quota": {"cpu": 16, "memory_gib": 64}}


def _namespace_with_outputs() -> dict:
    return {
        **_namespace_minimal(),
        "labels": _output_labels(),
        "identity_group": pulumi.Output.from_input("ml-fraud-engineers"),
        "namespace": pulumi.Output.from_input("fraud"),
        "service_account_name": pulumi.Output.from_input("workload"),
        "irsa_role_arn": pulumi.Output.from_input(ROLE_ARN),
    }


def _endpoint_minimal() -> dict:
    return {"namespace": "fraud", "labels": LABELS, "model": MODEL, "image": IMAGE}


def _endpoint_with_outputs() -> dict:
    # The typical wiring: the team namespace's name and workload ServiceAccount as Outputs.
    team = TeamNamespace("fraud", **_namespace_minimal())
    return {**_endpoint_minimal(), "namespace": team.namespace_name, "service_account_name": team.service_account_name, "labels": _output_labels()}


CASES = [
    ComponentCase(
        component=TeamNamespace,
        minimal=_namespace_minimal,
        with_outputs=_namespace_with_outputs,
        provider=_provider,
        provider_package="kubernetes",
        name="fraud",
    ),
    ComponentCase(
        component=ModelEndpoint,
        minimal=_endpoint_minimal,
        with_outputs=_endpoint_with_outputs,
        provider=_provider,
        provider_package="kubernetes",
        name="fraud-detector",
    ),
]
