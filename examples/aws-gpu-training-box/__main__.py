"""A team's Pulumi project: a GPU training box on AWS that may read its team's data bucket.

Preview it offline:  ``mlplat preview --cwd examples/aws-gpu-training-box --stack dev``
Deploy it:           ``pulumi up --cwd examples/aws-gpu-training-box --stack dev`` (AWS credentials needed)

The box goes into the team's existing private subnet (config ``subnetId``); its VPC comes from
looking the subnet up, so the security group always lands in the subnet's VPC. Connect with
``aws ssm start-session --target <instanceId>``: the box has no inbound rules and no public IP.
"""

import pulumi
import pulumi_aws as aws

from platform_lib import AwsGpuTrainingBox, S3DataBucket

config = pulumi.Config()
stack = pulumi.get_stack()
production = stack == "prod"
tags = {"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": stack}

# An existing private subnet (NAT gateway or SSM/S3 VPC endpoints); the lookup's Outputs feed the box.
subnet = aws.ec2.get_subnet_output(id=config.require("subnetId"))

box = AwsGpuTrainingBox(
    "finetune",
    instance_type=config.get("instanceType") or "g5.xlarge",
    subnet_id=subnet.id,
    vpc_id=subnet.vpc_id,
    tags=tags,
    spot=config.get_bool("spot") or False,
    termination_protection=production,
    # In prod, every child of the box (its data volume included) is protected and retained.
    opts=pulumi.ResourceOptions(protect=production, retain_on_delete=production),
)


def features_bucket() -> S3DataBucket:
    """The team's data bucket (SSE-KMS, versioned, TLS only)."""
    return S3DataBucket(f"{tags['team']}-features-{stack}-example", tags=tags)


bucket = features_bucket()
bucket.grant_read(box.role, prefix="features/")

pulumi.export("instanceId", box.instance_id)
pulumi.export("roleArn", box.role_arn)
pulumi.export("amiId", box.ami_id)
pulumi.export("bucketName", bucket.bucket_name)
