"""A team's JupyterHub with ``MlWorkspace``, in the team's own ``TeamNamespace``.

Preview it offline:  ``mlplat preview --cwd examples/ml-workspace --stack dev``
Deploy it:           ``pulumi config set --secret kubeconfig "$(cat ~/.kube/config)" && pulumi up --stack dev``

Only members of the team's identity group log in (OIDC). Users pick a server profile bounded by
the team's quota (a GPU profile only where the quota has GPUs); idle servers stop after an hour;
each user gets a 20 GiB volume; notebooks run as the team's workload ServiceAccount (IRSA in
prod), so they read the team's buckets without keys.
"""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.ml_workspace import MlWorkspace
from platform_lib.k8s.quota import ResourceQuotaSpec
from platform_lib.k8s.team_namespace import TeamNamespace

config = pulumi.Config()
environment = pulumi.get_stack()
production = environment == "prod"
team_name = config.require("team")
labels = {"team": team_name, "cost-center": config.require("costCenter"), "environment": environment}
egress = config.get_object("egressHttpsCidrs") or []

cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))
options = pulumi.ResourceOptions(provider=cluster, protect=production, retain_on_delete=production)

quota = ResourceQuotaSpec(cpu=32, memory_gib=128, gpu=2 if production else 0, pods=60, storage_gib=500)
team = TeamNamespace(
    team_name,
    labels=labels,
    identity_group=config.require("identityGroup"),
    quota=quota,
    irsa_role_arn=config.get("irsaRoleArn"),
    egress_https_cidrs=egress,
    opts=options,
)

profiles = [{"slug": "cpu-small", "display_name": "Small (2 vCPU, 8 GiB)", "cpu": 2, "memory_gib": 8, "default": True},
            {"slug": "cpu-large", "display_name": "Large (8 vCPU, 32 GiB)", "cpu": 8, "cpu_limit": 16, "memory_gib": 32}]
if quota.gpu:
    profiles.append({"slug": "gpu-1", "display_name": "1 GPU (8 vCPU, 48 GiB)", "cpu": 8, "memory_gib": 48, "gpu": 1})

issuer = config.require("oidcIssuer")
workspace = MlWorkspace(
    f"{team_name}-notebooks",
    # The documented minimum: namespace, labels, identity group, quota, OIDC client and hostname.
    namespace=team.namespace_name,
    labels=labels,
    identity_group=config.require("identityGroup"),
    quota=quota,
    oidc={
        "client_id": config.require("oidcClientId"),
        "client_secret_ref": {"name": "jupyterhub-oidc", "key": "client-secret"},
        "authorize_url": f"{issuer}/authorize",
        "token_url": f"{issuer}/token",
        "userdata_url": f"{issuer}/userinfo",
    },
    hostname=config.require("hostname"),
    # Typical additions: profiles, the team's workload identity, volume size, egress.
    profiles=profiles,
    service_account_name=team.service_account_name,
    user_storage_gib=20,
    egress_https_cidrs=egress,
    opts=pulumi.ResourceOptions(provider=cluster, protect=production, depends_on=[team]),
)

pulumi.export("namespace", workspace.namespace)
pulumi.export("url", workspace.url)
