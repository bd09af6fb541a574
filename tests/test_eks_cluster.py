"""EksCluster: the registered inputs of the cluster, its access, node groups and add-ons, its outputs,
and the bad inputs it refuses before anything is registered."""

from __future__ import annotations

import json

import pytest

from platform_lib.aws.eks_cluster import (
    CONTROL_PLANE_LOG_TYPES,
    DEFAULT_KUBERNETES_VERSION,
    EksCluster,
    standard_support_versions,
)
from platform_lib.core.errors import ComponentArgsError
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

TAGS = {"team": "platform", "cost-center": "cc-1000", "environment": "dev"}
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"
TEAM = "arn:aws:iam::123456789012:role/fraud-developers"
GPU = {"name": "gpu-a10g", "instance_types": ["g5.xlarge", "g5.2xlarge"], "capacity_type": "SPOT", "max_size": 4}
CONFIG = {"aws:region": "eu-west-1"}


def _cluster(**overrides):
    args = {"platform_admin_role_arn": ADMIN, "tags": TAGS, "gpu_node_groups": [GPU],
            "team_access": [{"role_arn": TEAM, "kubernetes_groups": ["fraud-developers"]}], **overrides}
    return preview(lambda: EksCluster("ml", **args), config=CONFIG)


@pytest.fixture(scope="module")
def plan():
    return _cluster()


def _error(**overrides) -> tuple[str, list[str]]:
    args = {"platform_admin_role_arn": ADMIN, "tags": TAGS, **overrides}
    with pytest.raises(PreviewError) as caught:
        preview(lambda: EksCluster("ml", **args), config=CONFIG)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    return str(error), [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"]


def test_cluster_is_private_encrypted_fully_logged_and_uses_access_entries(plan):
    cluster = find(plan, "aws:eks/cluster:Cluster", "ml-cluster")
    inputs = cluster.inputs
    key = find(plan, "aws:kms/key:Key", "ml-secrets-key")
    assert inputs["name"] == "ml" and inputs["version"] == DEFAULT_KUBERNETES_VERSION
    assert inputs["vpcConfig"]["endpointPrivateAccess"] is True and inputs["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in inputs["vpcConfig"]
    assert inputs["encryptionConfig"] == {"provider": {"keyArn": key.outputs["arn"]}, "resources": ["secrets"]}
    assert inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"] == list(CONTROL_PLANE_LOG_TYPES)
    assert inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    assert inputs["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"}
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["bootstrapSelfManagedAddons"] is False
    private = [s.outputs["id"] if "id" in s.outputs else s.id for s in find_all(plan, "aws:ec2/subnet:Subnet") if "private" in s.name]
    assert sorted(inputs["vpcConfig"]["subnetIds"]) == sorted(private) and len(private) == 3
    log_group = find(plan, "aws:cloudwatch/logGroup:LogGroup", "ml-control-plane-logs")
    assert log_group.inputs["name"] == "/aws/eks/ml/cluster" and log_group.inputs["retentionInDays"] == 90
    assert log_group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert log_group.urn in cluster.options.depends_on


def test_secrets_key_has_rotation_and_an_explicit_policy(plan):
    key = find(plan, "aws:kms/key:Key", "ml-secrets-key")
    role = find(plan, "aws:iam/role:Role", "ml-cluster-role")
    assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["EnableIamUserPermissions"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statements["ClusterSecretsEnvelopeEncryption"]["Principal"] == {"AWS": role.outputs["arn"]}
    assert statements["ControlPlaneLogGroup"]["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert statements["ControlPlaneLogGroup"]["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/eks/ml/cluster", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vpc/ml/flow-logs"]}}


def test_platform_admin_is_cluster_admin_and_teams_only_get_groups(plan):
    entries = {e.name: e.inputs for e in find_all(plan, "aws:eks/accessEntry:AccessEntry")}
    assert entries["ml-platform-admin"]["principalArn"] == ADMIN and "kubernetesGroups" not in entries["ml-platform-admin"]
    assert entries["ml-team-0"]["principalArn"] == TEAM and entries["ml-team-0"]["kubernetesGroups"] == ["fraud-developers"]
    associations = find_all(plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert [(a.inputs["principalArn"], a.inputs["policyArn"], a.inputs["accessScope"]) for a in associations] == [
        (ADMIN, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", {"type": "cluster"})]


def test_launch_templates_require_imdsv2_with_hop_limit_1_and_encrypted_gp3(plan):
    ebs_key = find(plan, "aws:kms/key:Key", "ml-ebs-key")
    templates = find_all(plan, "aws:ec2/launchTemplate:LaunchTemplate")
    assert sorted(t.name for t in templates) == ["ml-gpu-a10g", "ml-system"]
    for template in templates:
        assert template.inputs["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required", "httpPutResponseHopLimit": 1, "instanceMetadataTags": "disabled"}
        (device,) = template.inputs["blockDeviceMappings"]
        assert device["deviceName"] == "/dev/xvda"
        assert device["ebs"] == {"volumeSize": 100, "volumeType": "gp3", "encrypted": "true", "kmsKeyId": ebs_key.outputs["arn"], "deleteOnTermination": "true"}
        assert "imageId" not in template.inputs and "instanceType" not in template.inputs  # the node group's AMI type and instance types decide
    statements = {s["Sid"]: s for s in json.loads(ebs_key.inputs["policy"])["Statement"]}
    assert statements["AutoScalingGrantsForVolumes"]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"}


def test_gpu_node_group_uses_the_nvidia_ami_the_gpu_taint_and_scales_to_zero(plan):
    gpu = find(plan, "aws:eks/nodeGroup:NodeGroup", "ml-gpu-a10g").inputs
    template = find(plan, "aws:ec2/launchTemplate:LaunchTemplate", "ml-gpu-a10g")
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA" and gpu["capacityType"] == "SPOT"
    assert gpu["version"] == DEFAULT_KUBERNETES_VERSION  # follows the control plane's version
    assert gpu["instanceTypes"] == ["g5.xlarge", "g5.2xlarge"]
    assert gpu["scalingConfig"] == {"minSize": 0, "maxSize": 4, "desiredSize": 0}
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gpu["labels"] == {"mlplat.io/node-pool": "gpu-a10g", "nvidia.com/gpu.present": "true", "mlplat.io/accelerator": "nvidia"}
    assert gpu["launchTemplate"] == {"id": template.id, "version": "1"}
    assert find(plan, "aws:eks/nodeGroup:NodeGroup", "ml-gpu-a10g").options.ignore_changes == ["scalingConfig.desiredSize"]  # the autoscaler's
    system = find(plan, "aws:eks/nodeGroup:NodeGroup", "ml-system").inputs
    assert system["amiType"] == "AL2023_x86_64_STANDARD" and system["capacityType"] == "ON_DEMAND"
    assert system["scalingConfig"] == {"minSize": 2, "maxSize": 4, "desiredSize": 2} and system["taints"] == []
    node_role = find(plan, "aws:iam/role:Role", "ml-node-role")
    attached = sorted(a.inputs["policyArn"].rsplit("/", 1)[-1] for a in find_all(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") if a.name.startswith("ml-node-"))
    assert attached == ["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]
    assert gpu["nodeRoleArn"] == node_role.outputs["arn"]


def test_addons_enforce_network_policy_and_ebs_csi_has_its_own_irsa_role(plan):
    addons = {a.inputs["addonName"]: a for a in find_all(plan, "aws:eks/addon:Addon")}
    assert sorted(addons) == ["aws-ebs-csi-driver", "coredns", "kube-proxy", "vpc-cni"]
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    role = find(plan, "aws:iam/role:Role", "ml-ebs-csi-role")
    assert addons["aws-ebs-csi-driver"].inputs["serviceAccountRoleArn"] == role.outputs["arn"]
    provider = find(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    issuer = provider.inputs["url"].removeprefix("https://")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
    assert statement["Condition"]["StringEquals"] == {f"{issuer}:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa", f"{issuer}:aud": "sts.amazonaws.com"}
    policy = find(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ml-ebs-csi-policy")
    assert policy.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    # The CNI comes before the nodes (they need it to become Ready), CoreDNS and EBS CSI after them.
    gpu_group = find(plan, "aws:eks/nodeGroup:NodeGroup", "ml-gpu-a10g")
    assert addons["vpc-cni"].urn in gpu_group.options.depends_on and gpu_group.urn in addons["coredns"].options.depends_on
    assert "addonVersion" not in addons["coredns"].inputs


def test_oidc_provider_has_the_sts_audience_and_no_thumbprint(plan):
    provider = find(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    cluster = find(plan, "aws:eks/cluster:Cluster")
    assert provider.inputs["url"] == cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"] and "thumbprintLists" not in provider.inputs


def test_made_vpc_has_nat_and_s3_ecr_sts_endpoints(plan):
    endpoints = {e.name: e.inputs for e in find_all(plan, "aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {n: e["serviceName"] for n, e in endpoints.items()} == {
        "ml-s3": "com.amazonaws.eu-west-1.s3", "ml-ecr-api": "com.amazonaws.eu-west-1.ecr.api",
        "ml-ecr-dkr": "com.amazonaws.eu-west-1.ecr.dkr", "ml-sts": "com.amazonaws.eu-west-1.sts"}
    assert endpoints["ml-s3"]["vpcEndpointType"] == "Gateway" and len(endpoints["ml-s3"]["routeTableIds"]) == 3
    assert endpoints["ml-sts"]["privateDnsEnabled"] is True
    assert len(find_all(plan, "aws:ec2/natGateway:NatGateway")) == 3
    subnets = {s.name: s.inputs for s in find_all(plan, "aws:ec2/subnet:Subnet")}
    assert subnets["ml-private-0"]["cidrBlock"] == "10.0.0.0/19" and subnets["ml-public-2"]["cidrBlock"] == "10.0.240.0/21"
    assert subnets["ml-private-0"]["tags"]["kubernetes.io/role/internal-elb"] == "1"
    assert all(s["mapPublicIpOnLaunch"] is False for s in subnets.values())


def test_outputs_kubeconfig_is_a_secret_exec_config_and_gpu_pools_carry_labels_and_taints(plan):
    component = find(plan, "mlplat:aws:EksCluster", "ml")
    outputs = component.outputs
    assert "kubeconfig" in component.secret_outputs
    kubeconfig = json.loads(outputs["kubeconfig"])
    user = kubeconfig["users"][0]["user"]["exec"]
    assert user["command"] == "aws" and user["args"] == ["eks", "get-token", "--cluster-name", "ml", "--region", "eu-west-1", "--output", "json"]
    cluster = find(plan, "aws:eks/cluster:Cluster")
    assert kubeconfig["clusters"][0]["cluster"]["server"] == cluster.outputs["endpoint"]
    assert outputs["gpu_node_pools"] == [{"name": "gpu-a10g",
                                          "labels": {"mlplat.io/node-pool": "gpu-a10g", "nvidia.com/gpu.present": "true", "mlplat.io/accelerator": "nvidia"},
                                          "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]}]
    issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"].removeprefix("https://")
    assert outputs["oidc_issuer"] == issuer and outputs["oidc_provider_arn"] == f"arn:aws:iam::123456789012:oidc-provider/{issuer}"
    assert outputs["vpc_cidr"] == "10.0.0.0/16" and outputs["kubernetes_version"] == DEFAULT_KUBERNETES_VERSION
    assert outputs["cluster_security_group_id"] == cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]


def test_made_vpc_has_flow_logs_to_an_encrypted_group_through_a_service_role(plan):
    flow_log = find(plan, "aws:ec2/flowLog:FlowLog").inputs
    group = find(plan, "aws:cloudwatch/logGroup:LogGroup", "ml-flow-logs")
    assert flow_log["vpcId"] == find(plan, "aws:ec2/vpc:Vpc").id and flow_log["trafficType"] == "ALL"
    assert flow_log["logDestination"] == group.outputs["arn"] and flow_log["iamRoleArn"] == find(plan, "aws:iam/role:Role", "ml-flow-logs").outputs["arn"]
    assert group.inputs["name"] == "/aws/vpc/ml/flow-logs" and group.inputs["kmsKeyId"] == find(plan, "aws:kms/key:Key", "ml-secrets-key").outputs["arn"]
    (trust,) = json.loads(find(plan, "aws:iam/role:Role", "ml-flow-logs").inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"} and trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    write = json.loads(find(plan, "aws:iam/rolePolicy:RolePolicy", "ml-flow-logs").inputs["policy"])["Statement"][0]
    assert write["Resource"] == [group.outputs["arn"], f"{group.outputs['arn']}:*"]


def test_given_subnets_make_no_vpc_and_public_cidrs_open_the_public_endpoint():
    subnets = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    plan = _cluster(subnet_ids=subnets, vpc_id="vpc-0123456789abcdef0", vpc_cidr="10.50.0.0/16", public_access_cidrs=["203.0.113.0/24"])
    assert find_all(plan, "aws:ec2/vpc:Vpc") == [] and find_all(plan, "aws:ec2/vpcEndpoint:VpcEndpoint") == [] and find_all(plan, "aws:ec2/flowLog:FlowLog") == []
    (statement,) = [s for s in json.loads(find(plan, "aws:kms/key:Key", "ml-secrets-key").inputs["policy"])["Statement"] if s["Sid"] == "ControlPlaneLogGroup"]
    assert statement["Condition"]["ArnEquals"] == {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/eks/ml/cluster"}
    vpc = find(plan, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["subnetIds"] == subnets and vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert find(plan, "aws:eks/nodeGroup:NodeGroup", "ml-system").inputs["subnetIds"] == subnets
    outputs = find(plan, "mlplat:aws:EksCluster").outputs
    assert outputs["vpc_cidr"] == "10.50.0.0/16" and outputs["vpc_id"] == "vpc-0123456789abcdef0"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"gpu_node_groups": [{"name": "gpu", "instance_types": ["m5.xlarge"], "max_size": 2}]},
     "EksCluster(ml).gpu_node_groups[0].instance_types[0]: got 'm5.xlarge'; expected EC2 instance types with NVIDIA GPUs, from the families "
     "g4dn, g5, g6, g6e, gr6, p3, p3dn, p4d, p4de, p5, p5e, p5en, p6-b200 (e.g. g5.xlarge); m5.xlarge has none (gpu=True)"),
    ({"kubernetes_version": "1.31"},
     "EksCluster(ml).kubernetes_version: got '1.31'; expected a Kubernetes version in Amazon EKS standard support on 2026-12-06: 1.35, "
     "or with allow_extended_support one of 1.32, 1.33, 1.34 (paid extended support) (it is not in the EKS release calendar; source: Amazon EKS release calendar)"),
    ({"kubernetes_version": "1.34"},
     "EksCluster(ml).kubernetes_version: got '1.34'; expected a Kubernetes version in Amazon EKS standard support on 2026-12-06: 1.35, "
     "or with allow_extended_support one of 1.32, 1.33, 1.34 (paid extended support) (its standard support ended 2026-12-02; source: Amazon EKS release calendar)"),
    ({"service_ipv4_cidr": "10.0.128.0/17"},
     "EksCluster(ml).service_ipv4_cidr: got '10.0.128.0/17'; expected a Service range that does not overlap the VPC's 10.0.0.0/16 (e.g. 172.20.0.0/16)"),
    ({"public_access_cidrs": ["203.0.113.0/24", "10.0.5.0/24"]},
     "EksCluster(ml).public_access_cidrs[1]: got '10.0.5.0/24'; expected public addresses outside the VPC's 10.0.0.0/16 (callers inside the VPC use the private endpoint)"),
    ({"public_access_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]},
     "EksCluster(ml).public_access_cidrs: got ['0.0.0.0/1', '128.0.0.0/1']; expected CIDRs narrower than the whole internet for the public API endpoint "
     "(these cover 0.0.0.0/0); leave the list empty for a private endpoint and reach it through a VPN, a bastion or CI runners' CIDRs"),
    ({"gpu_node_groups": [{"name": "gpu", "instance_types": ["g5.xlarge"], "min_size": 3, "max_size": 2}]},
     "EksCluster(ml).gpu_node_groups[0].max_size: got 2; expected a max_size of at least min_size (3)"),
    ({"system_node_group": {"name": "system", "instance_types": ["m6i.large"], "min_size": 0, "max_size": 3}},
     "EksCluster(ml).system_node_group.taints: got []; expected a NoSchedule or NoExecute taint on a group that scales to zero (min_size 0): "
     "untainted, any pod lands on it and keeps it from scaling back to zero"),
    ({"team_access": [{"role_arn": ADMIN, "kubernetes_groups": ["fraud-developers"]}]},
     f"EksCluster(ml).team_access[0].role_arn: got '{ADMIN}'; expected a role not already given access (an IAM principal can be in one EKS access entry only)"),
    ({"gpu_node_groups": [{"name": "gpu", "instance_types": ["g5.xlarge"], "labels": {"team": "fraud research"}}]},
     "EksCluster(ml).gpu_node_groups[0].labels: got {'team': 'fraud research'}; expected Kubernetes labels: keys [prefix/]name, values up to 63 alphanumerics, "
     "'-', '_', '.' (bad: 'team': 'fraud research')"),
    ({"subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]},
     "EksCluster(ml).vpc_id: got None; expected vpc_id together with subnet_ids (the subnets' VPC), or neither (the cluster makes its VPC)"),
    ({"team_access": [{"role_arn": TEAM, "kubernetes_groups": ["system:masters"]}]},
     "EksCluster(ml).team_access[0].kubernetes_groups: got ['system:masters']; expected Kubernetes group names of 1-128 characters, none starting with 'system:' "
     "(EKS refuses them in access entries; bad: 'system:masters')"),
])
def test_bad_input_is_one_clear_message_and_nothing_is_registered(overrides, message):
    text, registered = _error(**overrides)
    assert text == f"invalid arguments for EksCluster(ml); nothing was created: 1 problem\n  - {message}"
    assert registered == []


def test_extended_support_is_an_explicit_opt_out():
    plan = _cluster(kubernetes_version="1.34", allow_extended_support=True)
    inputs = find(plan, "aws:eks/cluster:Cluster").inputs
    assert inputs["version"] == "1.34" and inputs["upgradePolicy"] == {"supportType": "EXTENDED"}


def test_standard_support_table_is_judged_on_its_checked_date():
    from datetime import date

    assert standard_support_versions() == ["1.35"] and DEFAULT_KUBERNETES_VERSION == "1.35"
    assert standard_support_versions(date(2026, 6, 1)) == ["1.33", "1.34", "1.35"]


def test_the_pack_blocks_a_hand_built_insecure_eks_cluster(policy_gate):
    """The EKS policies, run by the real pack over gRPC, on a cluster made of raw resources with EKS's defaults."""
    import pulumi_aws as aws

    from platform_lib.policy.gate import mandatory_violations, run_gate

    from .conftest import REPO_ROOT

    def program():
        cluster = aws.eks.Cluster("raw", role_arn="arn:aws:iam::123456789012:role/eks", vpc_config={"subnet_ids": ["subnet-1", "subnet-2"]},
                                  enabled_cluster_log_types=["api", "audit"], tags={**TAGS, "managed-by": "pulumi"})
        aws.ec2.LaunchTemplate("raw-nodes", metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 2}, tags={**TAGS, "managed-by": "pulumi"})
        aws.eks.NodeGroup("raw-nodes", cluster_name=cluster.name, node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-1"],
                          scaling_config={"min_size": 1, "max_size": 2, "desired_size": 1}, tags={**TAGS, "managed-by": "pulumi"})
        aws.eks.Addon("raw-vpc-cni", cluster_name=cluster.name, addon_name="vpc-cni", tags={**TAGS, "managed-by": "pulumi"})

    plan = preview(program, config=CONFIG, stack="prod")
    violations = run_gate(plan, pack_dir=REPO_ROOT / "policies", stack_config={"mlplat:environment": "prod"}, gate=policy_gate)
    assert sorted((v["policy"], v["resource_name"], v["message"]) for v in mandatory_violations(violations)) == [
        ("ec2-launch-template-imds-hop-limit", "raw-nodes", "launch template 'raw-nodes' has metadataOptions.httpPutResponseHopLimit 2, above 1"),
        ("eks-control-plane-logging", "raw", "cluster 'raw' does not log authenticator, controllerManager, scheduler"),
        ("eks-endpoint-not-public-to-internet", "raw", "cluster 'raw' has a public API endpoint open to 0.0.0.0/0 (publicAccessCidrs unset)"),
        ("eks-node-group-launch-template", "raw-nodes", "node group 'raw-nodes' uses no launch template (EKS's default allows IMDS hop limit 2)"),
        ("eks-secrets-encryption", "raw", "cluster 'raw' does not encrypt Secrets with a KMS key (encryptionConfig)"),
        ("eks-vpc-cni-network-policy", "raw-vpc-cni", "add-on 'raw-vpc-cni' (vpc-cni) does not set enableNetworkPolicy to \"true\": NetworkPolicies are not enforced"),
    ]
