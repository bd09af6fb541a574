"""reference_cluster: the platform and team stacks read the cluster stack's outputs."""

from __future__ import annotations

import pulumi
import pytest

from platform_lib.core.errors import ConfigError
from platform_lib.platform.cluster_reference import ClusterOutputError, gpu_scheduling, reference_cluster
from platform_lib.preview.engine import run_preview
from platform_lib.testing import PreviewError, find

from .cluster_outputs import answer_stack_references, aws_outputs
from .conftest import REPO_ROOT


def preview(program):
    """Run ``program`` in the repository's project (its references resolve near clusters/)."""
    return run_preview(REPO_ROOT, "dev", program=program)[0]

STACK = "organization/ml-platform-cluster/prod"


def _exported(reference) -> None:
    pulumi.export("clusterName", reference.cluster_name)
    pulumi.export("oidcProviderArn", reference.oidc_provider_arn)
    pulumi.export("oidcIssuer", reference.oidc_issuer)
    pulumi.export("gpuNodePools", reference.gpu_node_pools)
    pulumi.export("otel", reference.otel_collector_endpoint)
    pulumi.export("kubeconfig", reference.kubeconfig)
    pulumi.export("cloud", reference.cloud)


def test_reference_reads_the_outputs_contract_and_builds_the_provider_from_the_kubeconfig(monkeypatch):
    outputs = aws_outputs("prod")
    answer_stack_references(monkeypatch, {STACK: outputs})
    plan = preview(lambda: _exported(reference_cluster(STACK, cloud="aws")))

    provider = find(plan, "pulumi:providers:kubernetes", "cluster-kubernetes")
    assert provider.inputs["kubeconfig"] == outputs["kubeconfig"]
    assert "kubeconfig" in provider.secret_inputs, "the kubeconfig reaches the provider as a secret"
    assert plan.outputs["clusterName"] == "ml-prod"
    assert plan.outputs["oidcProviderArn"] == outputs["oidcProviderArn"]
    assert plan.outputs["oidcIssuer"] == outputs["oidcIssuer"]
    assert plan.outputs["gpuNodePools"] == outputs["gpuNodePools"]
    assert plan.outputs["otel"] == outputs["otelCollectorEndpoint"]
    assert plan.outputs["cloud"] == "aws"
    assert "kubeconfig" in plan.secret_outputs


def test_a_gcp_reference_has_no_oidc_fields_and_requires_the_workload_identity_pool(monkeypatch):
    outputs = {**{k: v for k, v in aws_outputs("prod").items() if k not in ("oidcProviderArn", "oidcIssuer", "vpcCidr")},
               "cloud": "gcp", "workloadIdentityPool": "ml-platform-dev.svc.id.goog"}
    answer_stack_references(monkeypatch, {"organization/ml-platform-cluster/gcp-dev": outputs})
    seen = {}

    def program():
        reference = reference_cluster("organization/ml-platform-cluster/gcp-dev", cloud="gcp")
        seen["oidc"] = (reference.oidc_provider_arn, reference.oidc_issuer)
        pulumi.export("pool", reference.workload_identity_pool)

    plan = preview(program)
    assert seen["oidc"] == (None, None)
    assert plan.outputs["pool"] == "ml-platform-dev.svc.id.goog"


def test_a_missing_output_fails_naming_the_stack_and_the_output(monkeypatch):
    outputs = {k: v for k, v in aws_outputs("prod").items() if k != "oidcProviderArn"}
    answer_stack_references(monkeypatch, {STACK: outputs})
    with pytest.raises(PreviewError) as caught:
        preview(lambda: _exported(reference_cluster(STACK, cloud="aws")))
    error = caught.value.__cause__
    assert isinstance(error, ClusterOutputError)
    assert str(error) == f"the cluster stack {STACK} has no output 'oidcProviderArn': the platform needs it (see docs/cluster.md, the outputs contract)"


def test_a_malformed_gpu_pool_output_is_refused(monkeypatch):
    outputs = {**aws_outputs("prod"), "gpuNodePools": [{"name": "gpu", "labels": {}, "taints": [{"key": "nvidia.com/gpu", "effect": "Sometimes"}]}]}
    answer_stack_references(monkeypatch, {STACK: outputs})
    with pytest.raises(PreviewError) as caught:
        preview(lambda: _exported(reference_cluster(STACK, cloud="aws")))
    assert "output 'gpuNodePools' is not a list of {name, labels: {key: value}, taints: [{key, value, effect}]} (effect one of NoSchedule, PreferNoSchedule, NoExecute)" in str(caught.value.__cause__)


@pytest.mark.parametrize("stack", ["ml-platform-cluster/prod", "prod", "org/ml-platform-cluster/prod/extra", ""])
def test_a_stack_name_that_is_not_fully_qualified_registers_nothing(stack):
    with pytest.raises(PreviewError) as caught:
        preview(lambda: reference_cluster(stack))
    assert isinstance(caught.value.__cause__, ConfigError)
    assert f"stack: got {stack!r}; expected a fully qualified stack name <organization>/<project>/<stack>" in str(caught.value.__cause__)
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_gpu_scheduling_selects_the_labels_all_pools_share_and_tolerates_every_taint():
    pools = [
        {"name": "spot", "labels": {"gpu": "true", "capacity": "spot"}, "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]},
        {"name": "on-demand", "labels": {"gpu": "true", "capacity": "on-demand"}, "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"},
                                                                                              {"key": "dedicated", "value": None, "effect": "NoExecute"}]},
    ]
    scheduling = gpu_scheduling(pools)
    assert scheduling.node_selector == {"gpu": "true"}
    assert scheduling.tolerations == [
        {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"},
    ]
    assert gpu_scheduling([]).node_selector == {} and gpu_scheduling([]).tolerations == []
