"""A team's Pulumi project that makes its Kubernetes namespace with ``TeamNamespace``.

Preview it offline:  ``mlplat preview --cwd examples/team-namespace --stack dev``
Deploy it:           ``pulumi config set --secret kubeconfig "$(cat ~/.kube/config)" && pulumi up --stack dev``

The namespace gets Pod Security Standards labels, a ResourceQuota with its LimitRange, a Role bound
to the team's identity group, default-deny NetworkPolicies (plus DNS, same-namespace and optional
HTTPS egress) and a workload ServiceAccount. In prod it is protected: deleting a namespace deletes
every workload and volume claim in it.
"""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.k8s.quota import ResourceQuotaSpec
from platform_lib.k8s.team_namespace import TeamNamespace

config = pulumi.Config()
environment = pulumi.get_stack()
production = environment == "prod"

# An explicit provider: the cluster is chosen by the stack's config, not by whatever kubectl context is current.
cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))

team = TeamNamespace(
    config.require("team"),
    # The documented minimum: the standard labels, the identity group and the quota.
    labels={"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": environment},
    identity_group=config.require("identityGroup"),
    quota=ResourceQuotaSpec(cpu=16, memory_gib=64, gpu=2 if production else 0, pods=40),
    # Typical additions: a role for the workload ServiceAccount (IRSA) and HTTPS egress to the VPC's endpoints.
    irsa_role_arn=config.get("irsaRoleArn"),
    egress_https_cidrs=config.get_object("egressHttpsCidrs") or [],
    opts=pulumi.ResourceOptions(provider=cluster, protect=production, retain_on_delete=production),
)

pulumi.export("namespace", team.namespace_name)
pulumi.export("serviceAccount", team.service_account_name)
pulumi.export("role", team.role_name)
