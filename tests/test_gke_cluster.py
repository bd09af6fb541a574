"""GkeCluster: registered inputs of the cluster and its node pools, its outputs, and bad input."""

from __future__ import annotations

import json

import pytest

from platform_lib.core.errors import ComponentArgsError
from platform_lib.gcp.gke_cluster import GPU_TAINT, NODE_ROLES, NODE_SCOPES, GkeCluster, GkeClusterArgs
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

LABELS = {"team": "platform", "cost-center": "cc-1000", "environment": "prod"}
BASE = {"location": "europe-west4", "network": "ml-vpc", "subnetwork": "ml-nodes", "labels": LABELS}
CONFIG = {"gcp:project": "ml-platform-prod", "gcp:region": "europe-west4"}
L4 = {"name": "l4", "machine_type": "g2-standard-8", "labels": {"workload": "serving"}}


def _plan(**overrides):
    return preview(lambda: GkeCluster("ml", {**BASE, **overrides}), config=CONFIG)


def _issues(**overrides) -> list[tuple[str, object, str]]:
    """The issues of a refused GkeCluster, after checking nothing was registered."""
    with pytest.raises(PreviewError) as caught:
        _plan(**overrides)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"] == []
    return [(issue.path, issue.value, issue.expected) for issue in error.issues]


def test_cluster_is_private_with_workload_identity_dataplane_v2_and_shielded_nodes():
    cluster = find(_plan(), "gcp:container/cluster:Cluster")
    inputs = cluster.inputs
    assert cluster.name == "ml-cluster"
    assert inputs["privateClusterConfig"] == {"enablePrivateNodes": True, "enablePrivateEndpoint": True, "masterIpv4CidrBlock": "172.16.0.0/28"}
    assert inputs["masterAuthorizedNetworksConfig"] == {"cidrBlocks": [], "gcpPublicCidrsAccessEnabled": False}
    assert inputs["workloadIdentityConfig"] == {"workloadPool": "ml-platform-prod.svc.id.goog"}
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert "networkPolicy" not in inputs  # Dataplane V2 enforces NetworkPolicy itself; Calico is not used with it
    assert inputs["enableShieldedNodes"] is True and inputs["enableLegacyAbac"] is False
    assert inputs["masterAuth"] == {"clientCertificateConfig": {"issueClientCertificate": False}}
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert inputs["removeDefaultNodePool"] is True
    assert inputs["networkingMode"] == "VPC_NATIVE"
    assert inputs["resourceLabels"] == {**LABELS, "managed-by": "pulumi"}
    assert inputs["deletionProtection"] is True
    assert "databaseEncryption" not in inputs
    assert inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_nodes_have_their_own_least_privilege_service_account():
    plan = _plan()
    account = find(plan, "gcp:serviceaccount/account:Account", "ml-nodes")
    email = account.outputs["email"]
    bindings = find_all(plan, "gcp:projects/iAMMember:IAMMember")
    assert sorted(b.inputs["role"] for b in bindings) == sorted(NODE_ROLES)
    assert {(b.inputs["project"], b.inputs["member"]) for b in bindings} == {("ml-platform-prod", f"serviceAccount:{email}")}
    for pool in find_all(plan, "gcp:container/nodePool:NodePool"):
        assert pool.inputs["nodeConfig"]["serviceAccount"] == email
        assert pool.inputs["nodeConfig"]["oauthScopes"] == list(NODE_SCOPES)


def test_system_pool_is_hardened_and_autoscaled():
    pool = find(_plan(), "gcp:container/nodePool:NodePool", "ml-system")
    config = pool.inputs["nodeConfig"]
    assert pool.inputs["name"] == "system"
    assert pool.inputs["autoscaling"] == {"minNodeCount": 1, "maxNodeCount": 3}
    assert pool.inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
    assert config["machineType"] == "e2-standard-4"
    assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
    assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert config["imageType"] == "COS_CONTAINERD"
    assert "guestAccelerators" not in config and "taints" not in config


def test_gpu_pool_installs_drivers_and_carries_the_taint_and_labels():
    pool = find(_plan(gpu_pools=[{**L4, "spot": True, "driver_version": "LATEST"}]), "gcp:container/nodePool:NodePool", "ml-l4")
    config = pool.inputs["nodeConfig"]
    assert config["guestAccelerators"] == [{"type": "nvidia-l4", "count": 1, "gpuDriverInstallationConfig": {"gpuDriverVersion": "LATEST"}}]
    assert config["taints"] == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    assert config["labels"] == {"workload": "serving", "mlplat.io/node-pool": "l4"}
    assert config["spot"] is True
    assert pool.inputs["autoscaling"] == {"minNodeCount": 0, "maxNodeCount": 1}
    assert config["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}


def test_n1_pool_gets_its_attached_gpus():
    pool = find(_plan(gpu_pools=[{"name": "t4", "machine_type": "n1-standard-8", "accelerator": {"type": "nvidia-tesla-t4", "count": 2}, "zones": ["europe-west4-b"]}]),
                "gcp:container/nodePool:NodePool", "ml-t4")
    assert pool.inputs["nodeConfig"]["guestAccelerators"][0]["count"] == 2
    assert pool.inputs["nodeLocations"] == ["europe-west4-b"]


def test_outputs_follow_the_cluster_stack_interface():
    component = find(_plan(gpu_pools=[L4]), "mlplat:gcp:GkeCluster")
    outputs = component.outputs
    cluster = find(_plan(), "gcp:container/cluster:Cluster")
    assert outputs["cluster_name"] == cluster.outputs["name"]
    assert outputs["workload_identity_pool"] == "ml-platform-prod.svc.id.goog"
    assert outputs["kubernetes_version"] == cluster.outputs["masterVersion"]
    assert outputs["network"] == "ml-vpc"
    assert outputs["gpu_node_pools"] == [{
        "name": "l4",
        "labels": {"workload": "serving", "mlplat.io/node-pool": "l4", "cloud.google.com/gke-accelerator": "nvidia-l4"},
        "taints": [GPU_TAINT],
    }]
    kubeconfig = json.loads(outputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://172.16.0.2"
    assert kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"] == cluster.outputs["masterAuth"]["clusterCaCertificate"]
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert "kubeconfig" in component.secret_outputs or any(path.startswith("kubeconfig") for path in component.secret_outputs)


def test_public_endpoint_only_for_listed_networks_and_kms_secrets():
    key = "projects/ml-platform-prod/locations/europe-west4/keyRings/gke/cryptoKeys/secrets"
    inputs = find(_plan(private_endpoint=False, master_authorized_cidrs=["203.0.113.0/24"], secrets_kms_key=key, release_channel="STABLE"),
                  "gcp:container/cluster:Cluster").inputs
    assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is False
    assert inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"] == [{"cidrBlock": "203.0.113.0/24", "displayName": "authorized-0"}]
    assert inputs["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": key}
    assert inputs["releaseChannel"] == {"channel": "STABLE"}


def test_ip_ranges_reach_the_cluster():
    inputs = find(_plan(subnet_cidr="10.10.0.0/20", pods_cidr="10.64.0.0/14", services_cidr="10.68.0.0/20"), "gcp:container/cluster:Cluster").inputs
    assert inputs["ipAllocationPolicy"] == {"stackType": "IPV4", "clusterIpv4CidrBlock": "10.64.0.0/14", "servicesIpv4CidrBlock": "10.68.0.0/20"}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"gpu_pools": [{"name": "a100", "machine_type": "g2-standard-8", "accelerator": {"type": "nvidia-tesla-a100", "count": 1}}]},
     [("GkeCluster(ml).gpu_pools[0].accelerator", {"type": "nvidia-tesla-a100", "count": 1},
       "no accelerator, or exactly 1 x nvidia-l4: g2-standard-8 comes with those GPUs; nvidia-tesla-a100 comes with the machine types a2-highgpu-*, a2-megagpu-*")]),
    ({"gpu_pools": [{"name": "gpu", "machine_type": "e2-standard-8"}]},
     [("GkeCluster(ml).gpu_pools[0].machine_type", "e2-standard-8",
       "a GPU machine type (a2-highgpu-*, a2-megagpu-16g, a2-ultragpu-*, a3-highgpu-*, a3-megagpu-8g, a3-ultragpu-8g, g2-standard-*, or n1-* with an attached GPU); 'e2-standard-8' has no GPUs")]),
    ({"gpu_pools": [{"name": "gpu", "machine_type": "n1-standard-8", "accelerator": {"type": "nvidia-rtx-9090", "count": 1}}]},
     [("GkeCluster(ml).gpu_pools[0].accelerator.type", "nvidia-rtx-9090", "a known GPU type (nvidia-a100-80gb, nvidia-h100-80gb, nvidia-h100-mega-80gb, "
       "nvidia-h200-141gb, nvidia-l4, nvidia-tesla-a100, nvidia-tesla-p100, nvidia-tesla-p4, nvidia-tesla-t4, nvidia-tesla-v100)")]),
    ({"gpu_pools": [{**L4, "min_nodes": 3, "max_nodes": 2}]}, [("GkeCluster(ml).gpu_pools[0].max_nodes", 2, "at least min_nodes (3)")]),
    ({"gpu_pools": [{**L4, "taint": False}]},
     [("GkeCluster(ml).gpu_pools[0].taint", False, "true when min_nodes is 0: a pool that scales to zero keeps the GPU taint, or ordinary pods hold its nodes up")]),
    ({"gpu_pools": [L4, L4]}, [("GkeCluster(ml).gpu_pools[1].name", "l4", "a name no other node pool has (the system pool is 'system')")]),
    ({"master_cidr": "172.16.0.0/24"},
     [("GkeCluster(ml).master_cidr", "172.16.0.0/24", "a /28 in private (RFC 1918) address space, e.g. 172.16.0.0/28 (GKE private clusters require a /28)")]),
    ({"subnet_cidr": "10.10.0.0/20", "pods_cidr": "10.10.8.0/21", "services_cidr": "10.68.0.0/20", "master_cidr": "10.68.0.16/28"},
     [("GkeCluster(ml).pods_cidr", "10.10.8.0/21", "a range that does not overlap subnet_cidr (10.10.0.0/20)"),
      ("GkeCluster(ml).master_cidr", "10.68.0.16/28", "a range that does not overlap services_cidr (10.68.0.0/20)")]),
    ({"pods_cidr": "10.64.0.1/14"}, [("GkeCluster(ml).pods_cidr", "10.64.0.1/14", "an IPv4 CIDR block with no host bits set, e.g. 10.0.0.0/20; got '10.64.0.1/14'")]),
    ({"private_endpoint": False},
     [("GkeCluster(ml).master_authorized_cidrs", [], "at least one CIDR when private_endpoint is false: a public control plane is reachable only from listed networks")]),
    ({"private_endpoint": False, "master_authorized_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
     [("GkeCluster(ml).master_authorized_cidrs", ["0.0.0.0/1", "128.0.0.0/1"],
       "CIDRs that together are not the whole internet (0.0.0.0/0); list the networks that administer the cluster")]),
    ({"release_channel": "RAPID"},
     [("GkeCluster(ml).release_channel", "RAPID", "REGULAR, STABLE or EXTENDED; RAPID needs allow_rapid_channel=True (its versions are outside the GKE SLA)")]),
])
def test_bad_input_is_refused_with_one_clear_message_and_nothing_registered(overrides, expected):
    assert _issues(**overrides) == expected


def test_rapid_channel_with_its_opt_out():
    assert find(_plan(release_channel="RAPID", allow_rapid_channel=True), "gcp:container/cluster:Cluster").inputs["releaseChannel"] == {"channel": "RAPID"}


def test_args_model_is_validated_before_construction():
    with pytest.raises(ComponentArgsError):
        GkeCluster.validate_args("ml", {**BASE, "gpu_pools": [{**L4, "min_nodes": 2, "max_nodes": 1}]})
    assert isinstance(GkeCluster.validate_args("ml", BASE), GkeClusterArgs)
