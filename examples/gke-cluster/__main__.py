"""The platform team's cluster project on GCP: a VPC with Cloud NAT, and a private GKE cluster.

Preview it offline:  ``mlplat preview --cwd examples/gke-cluster --stack dev``
Deploy it:           ``pulumi up --cwd examples/gke-cluster --stack dev`` (GCP credentials needed)

The nodes have no external IP: they reach the internet (image pulls from outside Artifact
Registry) through Cloud NAT. The control plane has only a private endpoint: run kubectl from the
VPC (a CI runner or an IAP bastion there) with the exported kubeconfig, which authenticates
through ``gke-gcloud-auth-plugin``.
"""

import pulumi
import pulumi_gcp as gcp

from platform_lib import GkeCluster

config = pulumi.Config()
stack = pulumi.get_stack()
production = stack == "prod"
region = pulumi.Config("gcp").require("region")
labels = {"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": stack}

network = gcp.compute.Network("ml-vpc", auto_create_subnetworks=False, routing_mode="REGIONAL")
nodes = gcp.compute.Subnetwork(
    "ml-nodes",
    network=network.id,
    region=region,
    ip_cidr_range="10.10.0.0/20",
    private_ip_google_access=True,
    secondary_ip_ranges=[
        {"range_name": "pods", "ip_cidr_range": "10.64.0.0/14"},
        {"range_name": "services", "ip_cidr_range": "10.68.0.0/20"},
    ],
    log_config={"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"},
)
router = gcp.compute.Router("ml-router", network=network.id, region=region)
gcp.compute.RouterNat(
    "ml-nat",
    router=router.name,
    region=region,
    nat_ip_allocate_option="AUTO_ONLY",
    source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
    log_config={"enable": True, "filter": "ERRORS_ONLY"},
)

cluster = GkeCluster(
    "ml",
    location=config.require("location"),
    network=network.self_link,
    subnetwork=nodes.self_link,
    subnet_cidr="10.10.0.0/20",
    pods_range_name="pods",
    services_range_name="services",
    master_cidr="172.16.0.0/28",
    gpu_pools=[{
        "name": "l4",
        "machine_type": "g2-standard-8",
        "min_nodes": 0,
        "max_nodes": 4 if production else 1,
        "spot": config.get_bool("spotGpus") or False,
        "labels": {"workload": "gpu"},
    }],
    labels=labels,
    deletion_protection=production,
    opts=pulumi.ResourceOptions(protect=production),
)

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("kubernetesVersion", cluster.kubernetes_version)
pulumi.export("cloud", "gcp")
pulumi.export("workloadIdentityPool", cluster.workload_identity_pool)
pulumi.export("gpuNodePools", cluster.gpu_node_pools)
