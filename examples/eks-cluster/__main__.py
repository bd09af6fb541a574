"""A platform team's Pulumi project: a private EKS cluster for ML workloads.

Preview it offline:  ``mlplat preview --cwd examples/eks-cluster --stack dev``
Deploy it:           ``pulumi up --cwd examples/eks-cluster --stack dev`` (AWS credentials needed)

The cluster makes its own VPC (private subnets over three zones, NAT, S3/ECR/STS endpoints), a
``system`` node group and a ``gpu`` node group that scales to zero. The fraud team's role is mapped
to the ``fraud-developers`` Kubernetes group, which its TeamNamespace's RoleBinding grants rights
in its namespace only.
"""

import json

import pulumi

from platform_lib import EksCluster

config = pulumi.Config()
stack = pulumi.get_stack()
production = stack == "prod"
tags = {"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": stack}

cluster = EksCluster(
    f"ml-{stack}",
    platform_admin_role_arn=config.require("platformAdminRoleArn"),
    tags=tags,
    public_access_cidrs=json.loads(config.get("publicAccessCidrs") or "[]"),
    single_nat_gateway=not production,
    team_access=[{"role_arn": "arn:aws:iam::123456789012:role/fraud-developers", "kubernetes_groups": ["fraud-developers"]}],
    gpu_node_groups=[{
        "name": "gpu",
        "instance_types": [config.get("gpuInstanceType") or "g5.xlarge"],
        "capacity_type": "SPOT" if config.get_bool("spot") else "ON_DEMAND",
        "min_size": 0,
        "max_size": 8 if production else 2,
    }],
    # Pinned add-on versions, e.g. {"vpc-cni": "v1.x.y-eksbuild.z"}: read them for the cluster's Kubernetes
    # version with `aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name vpc-cni`.
    addon_versions=json.loads(config.get("addonVersions") or "{}"),
    deletion_protection=production,
    opts=pulumi.ResourceOptions(protect=production, retain_on_delete=production),
)

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("kubernetesVersion", cluster.kubernetes_version)
pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
pulumi.export("oidcIssuer", cluster.oidc_issuer)
pulumi.export("vpcCidr", cluster.vpc_cidr)
pulumi.export("gpuNodePools", cluster.gpu_node_pools)
