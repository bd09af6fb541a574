"""GKE policies for clusters and node pools (control ids: CIS Google Kubernetes Engine (GKE)
Benchmark v1.6 section 5; checkov's GCP policy index)."""

from __future__ import annotations

from ..catalogue import resource_policy
from ..helpers import as_list, get

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"


def _node_configs(resource):
    """(where, nodeConfig) of a node pool, or of a cluster's default and inline node pools."""
    if resource.type == NODE_POOL:
        yield "nodeConfig", get(resource.props, "nodeConfig", default={}) or {}
        return
    if get(resource.props, "nodeConfig"):
        yield "nodeConfig", get(resource.props, "nodeConfig")
    for index, pool in enumerate(as_list(get(resource.props, "nodePools"))):
        yield f"nodePools[{index}].nodeConfig", get(pool, "nodeConfig", default={}) or {}


@resource_policy(
    "gke-no-legacy-abac",
    description="GKE clusters do not enable legacy attribute-based access control (ABAC); RBAC alone authorizes.",
    severity="high",
    remediation="Set enableLegacyAbac false (the default) and grant access with Kubernetes RBAC and IAM.",
    controls=("CIS GKE 5.8.4", "CKV_GCP_7"),
    types=(CLUSTER,),
    tags=("gke",),
)
def no_legacy_abac(resource, config):
    if get(resource.props, "enableLegacyAbac") is True:
        yield f"'{resource.name}' enables legacy ABAC (enableLegacyAbac)"


@resource_policy(
    "gke-private-nodes",
    description="GKE clusters use private nodes: nodes have internal IP addresses only.",
    severity="high",
    remediation="Set privateClusterConfig.enablePrivateNodes true with a /28 masterIpv4CidrBlock; give the nodes egress through Cloud NAT.",
    controls=("CIS GKE 5.6.5", "CKV_GCP_64"),
    types=(CLUSTER,),
    tags=("gke",),
)
def private_nodes(resource, config):
    if get(resource.props, "enableAutopilot") is True and get(resource.props, "privateClusterConfig", "enablePrivateNodes") is None:
        return
    if get(resource.props, "privateClusterConfig", "enablePrivateNodes") is not True:
        yield f"'{resource.name}' does not enable private nodes (privateClusterConfig.enablePrivateNodes)"


@resource_policy(
    "gke-workload-identity",
    description="GKE clusters enable Workload Identity, and node pools run the GKE metadata server, so pods never use the node's service account.",
    severity="high",
    remediation="Set workloadIdentityConfig.workloadPool to '<project>.svc.id.goog' on the cluster and nodeConfig.workloadMetadataConfig.mode to GKE_METADATA on every node pool.",
    controls=("CIS GKE 5.2.2", "CIS GKE 5.4.2", "CKV_GCP_69"),
    types=(CLUSTER, NODE_POOL),
    tags=("gke",),
)
def workload_identity(resource, config):
    if resource.type == CLUSTER and not get(resource.props, "workloadIdentityConfig", "workloadPool"):
        yield f"'{resource.name}' does not enable Workload Identity (workloadIdentityConfig.workloadPool)"
    for where, node_config in _node_configs(resource):
        mode = get(node_config, "workloadMetadataConfig", "mode")
        if mode != "GKE_METADATA":
            yield f"'{resource.name}' {where}.workloadMetadataConfig.mode is {mode or 'unset'}, not GKE_METADATA"


@resource_policy(
    "gke-shielded-nodes",
    description="GKE clusters use shielded nodes, and node pools enable secure boot and integrity monitoring.",
    severity="medium",
    remediation="Leave enableShieldedNodes true on the cluster; set nodeConfig.shieldedInstanceConfig.enableSecureBoot true (and keep enableIntegrityMonitoring true) on every node pool.",
    controls=("CIS GKE 5.5.5", "CIS GKE 5.5.6", "CIS GKE 5.5.7", "CKV_GCP_71", "CKV_GCP_68", "CKV_GCP_72"),
    types=(CLUSTER, NODE_POOL),
    tags=("gke",),
)
def shielded_nodes(resource, config):
    if resource.type == CLUSTER and get(resource.props, "enableShieldedNodes") is False:
        yield f"'{resource.name}' disables shielded nodes (enableShieldedNodes)"
    for where, node_config in _node_configs(resource):
        shielded = get(node_config, "shieldedInstanceConfig", default={}) or {}
        off = [f for f in ("enableSecureBoot",) if get(shielded, f) is not True]
        off += [f for f in ("enableIntegrityMonitoring",) if get(shielded, f) is False]
        if off:
            yield f"'{resource.name}' {where}.shieldedInstanceConfig does not enable {', '.join(off)}"
