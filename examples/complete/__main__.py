"""The fraud team's whole project, built from ml-platform components the way a team writes it.

- its own network: a VPC with two private subnets (no internet gateway), and the S3 gateway
  endpoint the GPU box reads data through;
- explicit providers: AWS for the region, Kubernetes for the team's cluster;
- an ``S3DataBucket`` for features; an ``AwsGpuTrainingBox`` in a private subnet (the subnet and
  VPC ids are Outputs of the resources above) granted read on ``curated/``;
- a ``TeamNamespace`` whose workload ServiceAccount assumes an IRSA role granted read-write on
  ``scores/``; a ``ModelEndpoint`` in that namespace (the namespace name is an Output).

Prod protection is this program's decision, made once: ``stateful`` options go to the bucket,
the box and the namespace, and reach every child.

    pip install -r requirements.txt
    mlplat preview --stack dev                     # offline: mocked providers, the policy pack judges it
    pulumi preview --stack dev                     # with credentials and the Pulumi CLI
    pytest tests                                   # the project's own unit tests (platform_lib.testing)
"""

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from platform_lib import AwsGpuTrainingBox, ModelEndpoint, S3DataBucket, TeamNamespace
from platform_lib.core.policy_documents import irsa_trust_policy_document
from platform_lib.k8s.model_endpoint_spec import Autoscaling, ModelIdentity, Resources
from platform_lib.k8s.quota import ResourceQuotaSpec

config = pulumi.Config()
stack = pulumi.get_stack()
production = stack == "prod"
team = config.require("team")
tags = {"team": team, "cost-center": config.require("costCenter"), "environment": stack}
resource_tags = {**tags, "managed-by": "pulumi"}  # for the plain resources this program makes itself

aws_provider = aws.Provider("aws", region=aws.config.region)
cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))
on_aws = pulumi.ResourceOptions(provider=aws_provider)
stateful = pulumi.ResourceOptions(provider=aws_provider, protect=production, retain_on_delete=production)

# -- the team's network ------------------------------------------------------------------------
vpc = aws.ec2.Vpc(f"{team}-vpc", cidr_block=config.require("vpcCidr"), enable_dns_hostnames=True, enable_dns_support=True, tags=resource_tags, opts=on_aws)
zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(provider=aws_provider))
subnets = [
    aws.ec2.Subnet(
        f"{team}-private-{index}",
        vpc_id=vpc.id,
        cidr_block=vpc.cidr_block.apply(lambda cidr, i=index: cidr.replace(".0.0/16", f".{i + 1}.0/24")),
        availability_zone=zones.names[index],
        map_public_ip_on_launch=False,
        tags=resource_tags,
        opts=on_aws,
    )
    for index in range(2)
]
routes = aws.ec2.RouteTable(f"{team}-private", vpc_id=vpc.id, tags=resource_tags, opts=on_aws)
for index, subnet in enumerate(subnets):
    aws.ec2.RouteTableAssociation(f"{team}-private-{index}", subnet_id=subnet.id, route_table_id=routes.id, opts=on_aws)
aws.ec2.VpcEndpoint(
    f"{team}-s3",
    vpc_id=vpc.id,
    service_name=aws.get_region_output(opts=pulumi.InvokeOutputOptions(provider=aws_provider)).region.apply(lambda region: f"com.amazonaws.{region}.s3"),
    vpc_endpoint_type="Gateway",
    route_table_ids=[routes.id],
    tags=resource_tags,
    opts=on_aws,
)

# -- data and training -------------------------------------------------------------------------
features = S3DataBucket(f"{team}-features", tags=tags, opts=stateful)
trainer = AwsGpuTrainingBox(
    f"{team}-trainer",
    instance_type="g5.xlarge",
    subnet_id=subnets[0].id,
    vpc_id=vpc.id,
    tags=tags,
    spot=not production,
    termination_protection=production,
    opts=stateful,
)
features.grant_read(trainer.role, prefix="curated/")

# -- serving -----------------------------------------------------------------------------------
service_account = "workload"
workload_role = aws.iam.Role(
    f"{team}-workload",
    assume_role_policy=json.dumps(irsa_trust_policy_document(config.require("oidcProviderArn"), config.require("oidcIssuer"), team, service_account)),
    tags=resource_tags,
    opts=on_aws,
)
features.grant_read_write(workload_role, prefix="scores/")

namespace = TeamNamespace(
    team,
    labels=tags,
    identity_group=config.require("identityGroup"),
    quota=ResourceQuotaSpec(cpu=32, memory_gib=128, gpu=0, pods=60),
    service_account_name=service_account,
    irsa_role_arn=workload_role.arn,
    egress_https_cidrs=[config.require("vpcCidr")],
    opts=pulumi.ResourceOptions(provider=cluster, protect=production, retain_on_delete=production),
)
scorer = ModelEndpoint(
    f"{team}-scorer",
    namespace=namespace.namespace_name,
    service_account_name=namespace.service_account_name,
    labels=tags,
    model=ModelIdentity(name="fraud-xgb", version="2.4.0", registry_version="17", git_sha="4e1d9c7b2a3f5e6d7c8b9a0f1e2d3c4b5a6f7e8d"),
    image=config.require("image"),
    resources=Resources(cpu=1, memory_gib=2),
    autoscaling=Autoscaling(min_replicas=2 if production else 1, max_replicas=6),
    allow_single_replica=not production,
    alert_severity="page" if production else "ticket",
    opts=pulumi.ResourceOptions(provider=cluster),
)

pulumi.export("vpcId", vpc.id)
pulumi.export("featuresBucket", features.bucket_name)
pulumi.export("trainerInstanceId", trainer.instance_id)
pulumi.export("workloadRoleArn", workload_role.arn)
pulumi.export("namespace", namespace.namespace_name)
pulumi.export("scorerDns", scorer.service_dns)
