"""EKS policies: the API endpoint, Secrets encryption, control-plane logging, node groups' instance
metadata, and the VPC CNI's network policy enforcement (control ids: AWS Security Hub FSBP "controls
for Amazon EKS"; CIS Amazon EKS Benchmark v1.5; checkov).

IMDSv2 on launch templates is ``ec2-imdsv2-required`` (aws_ec2); these add what it does not judge:
the PUT response hop limit of launch templates, and node groups that use no launch template at all.
"""

from __future__ import annotations

import json

from ...core.networks import covers_everything
from ..catalogue import ADVISORY_IN_DEV, resource_policy
from ..helpers import as_list, get, is_map

CLUSTER = ("aws:eks/cluster:Cluster",)
NODE_GROUP = ("aws:eks/nodeGroup:NodeGroup",)
ADDON = ("aws:eks/addon:Addon",)
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)

#: Every control-plane log type (source: Amazon EKS User Guide, "Send control plane logs to CloudWatch Logs").
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@resource_policy(
    "eks-endpoint-not-public-to-internet",
    description="An EKS cluster's public API endpoint is off, or open only to listed CIDRs that together are narrower than 0.0.0.0/0.",
    severity="critical",
    remediation="Set vpcConfig.endpointPublicAccess to false (reach the private endpoint through a VPN or bastion), or list narrow publicAccessCidrs.",
    controls=("AWS FSBP EKS.1", "CIS EKS 5.4.2", "CKV_AWS_38", "CKV_AWS_39"),
    types=CLUSTER,
    tags=("eks",),
)
def endpoint_not_public_to_internet(resource, config):
    vpc = get(resource.props, "vpcConfig")
    # EKS defaults endpointPublicAccess to true and publicAccessCidrs to [0.0.0.0/0] (Amazon EKS API, VpcConfigRequest).
    if get(vpc, "endpointPublicAccess") is False:
        return
    cidrs = [str(c) for c in as_list(get(vpc, "publicAccessCidrs"))]
    if not cidrs:
        yield f"cluster '{resource.name}' has a public API endpoint open to 0.0.0.0/0 (publicAccessCidrs unset)"
        return
    wide = covers_everything(cidrs)
    if wide:
        yield f"cluster '{resource.name}' has a public API endpoint open to {', '.join(wide)} (publicAccessCidrs {', '.join(cidrs)})"


@resource_policy(
    "eks-secrets-encryption",
    description="An EKS cluster encrypts Kubernetes Secrets with a KMS key (encryptionConfig with resources [secrets] and a key ARN).",
    severity="high",
    remediation="Set encryptionConfig: {provider: {keyArn: <KMS key ARN>}, resources: [secrets]}.",
    controls=("AWS FSBP EKS.3", "CIS EKS 5.3.1", "CKV_AWS_58"),
    types=CLUSTER,
    tags=("eks", "kms"),
)
def secrets_encryption(resource, config):
    configs = [c for c in as_list(get(resource.props, "encryptionConfig")) if is_map(c)]
    if not any("secrets" in as_list(get(c, "resources")) and get(c, "provider", "keyArn") for c in configs):
        yield f"cluster '{resource.name}' does not encrypt Secrets with a KMS key (encryptionConfig)"


@resource_policy(
    "eks-control-plane-logging",
    description="An EKS cluster sends every control-plane log type (api, audit, authenticator, controllerManager, scheduler) to CloudWatch Logs.",
    severity="medium",
    remediation="Set enabledClusterLogTypes to [api, audit, authenticator, controllerManager, scheduler].",
    controls=("AWS FSBP EKS.8", "CIS EKS 2.1.1", "CKV_AWS_37"),
    types=CLUSTER,
    levels=ADVISORY_IN_DEV,
    tags=("eks", "logging"),
)
def control_plane_logging(resource, config):
    enabled = {str(t) for t in as_list(get(resource.props, "enabledClusterLogTypes"))}
    missing = [t for t in CONTROL_PLANE_LOG_TYPES if t not in enabled]
    if missing:
        yield f"cluster '{resource.name}' does not log {', '.join(missing)}"


@resource_policy(
    "ec2-launch-template-imds-hop-limit",
    description="Launch templates that set an IMDS PUT response hop limit set it to 1, so containers cannot reach the instance role's credentials.",
    severity="high",
    remediation="Set metadataOptions.httpPutResponseHopLimit to 1; give pods their own IAM role (IRSA or EKS Pod Identity) instead of the node's.",
    controls=("EKS Best Practices: restrict access to the instance profile", "CIS EKS 4.3.1"),
    types=LAUNCH_TEMPLATE,
    tags=("ec2", "eks"),
)
def launch_template_hop_limit(resource, config):
    limit = get(resource.props, "metadataOptions", "httpPutResponseHopLimit")
    try:
        too_high = limit is not None and int(float(limit)) > 1
    except (TypeError, ValueError):
        too_high = False
    if too_high:
        yield f"launch template '{resource.name}' has metadataOptions.httpPutResponseHopLimit {int(float(limit))}, above 1"


@resource_policy(
    "eks-node-group-launch-template",
    description="EKS managed node groups use a launch template (the platform's sets IMDSv2 with hop limit 1 and encrypted volumes); "
                "without one, EKS's default template lets containers reach the node role's credentials (hop limit 2).",
    severity="high",
    remediation="Give the node group a launchTemplate {id, version} whose metadataOptions require IMDSv2 with hop limit 1 (platform_lib EksCluster does).",
    controls=("EKS Best Practices: restrict access to the instance profile", "AWS FSBP EC2.8"),
    types=NODE_GROUP,
    levels=ADVISORY_IN_DEV,
    tags=("eks",),
)
def node_group_launch_template(resource, config):
    template = get(resource.props, "launchTemplate")
    if not (get(template, "id") or get(template, "name")):
        yield f"node group '{resource.name}' uses no launch template (EKS's default allows IMDS hop limit 2)"


@resource_policy(
    "eks-vpc-cni-network-policy",
    description="The vpc-cni add-on enforces Kubernetes NetworkPolicies (configurationValues enableNetworkPolicy \"true\"), so namespaces' policies take effect.",
    severity="high",
    remediation="Set the vpc-cni add-on's configurationValues to {\"enableNetworkPolicy\": \"true\"} (or run another enforcing CNI and drop vpc-cni).",
    controls=("CIS EKS 5.4.4",),
    types=ADDON,
    levels=ADVISORY_IN_DEV,
    tags=("eks", "kubernetes"),
)
def vpc_cni_network_policy(resource, config):
    if get(resource.props, "addonName") != "vpc-cni":
        return
    raw = get(resource.props, "configurationValues")
    try:
        values = json.loads(raw) if isinstance(raw, str) and raw.strip() else (raw or {})
    except ValueError:
        values = {}
    if str(get(values, "enableNetworkPolicy")).lower() != "true":
        yield f"add-on '{resource.name}' (vpc-cni) does not set enableNetworkPolicy to \"true\": NetworkPolicies are not enforced"
