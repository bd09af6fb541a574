"""Contract cases for the GPU training boxes (platform_lib/aws/gpu_training_box.py, platform_lib/gcp/gpu_training_box.py)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from platform_lib.aws.gpu_training_box import AwsGpuTrainingBox
from platform_lib.gcp.gpu_training_box import GcpGpuTrainingBox

from . import ComponentCase

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}


def _aws_minimal() -> dict:
    return {"instance_type": "g5.xlarge", "subnet_id": "subnet-0123456789abcdef0", "vpc_id": "vpc-0123456789abcdef0", "tags": TAGS}


def _aws_with_outputs() -> dict:
    vpc = aws.ec2.Vpc("case-vpc", cidr_block="10.20.0.0/16")
    subnet = aws.ec2.Subnet("case-private", vpc_id=vpc.id, cidr_block="10.20.1.0/24")
    return {
        "instance_type": "g5.xlarge",
        "subnet_id": subnet.id,
        "vpc_id": vpc.id,
        "ami_id": pulumi.Output.from_input("ami-0123456789abcdef0"),
        "kms_key_id": pulumi.Output.from_input("arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"),
        "tags": {key: pulumi.Output.from_input(value) for key, value in TAGS.items()},
    }


def _gcp_minimal() -> dict:
    return {"machine_type": "g2-standard-8", "zone": "europe-west4-a", "subnetwork": "ml-private", "labels": TAGS}


def _gcp_with_outputs() -> dict:
    network = gcp.compute.Network("case-network", auto_create_subnetworks=False)
    subnetwork = gcp.compute.Subnetwork("case-private", network=network.id, ip_cidr_range="10.30.0.0/20", region="europe-west4")
    return {
        "machine_type": "g2-standard-8",
        "zone": pulumi.Output.from_input("europe-west4-a"),
        "subnetwork": subnetwork.self_link,
        "project": pulumi.Output.from_input("ml-platform-prod"),
        "image": pulumi.Output.from_input("projects/deeplearning-platform-release/global/images/family/common-cu121-debian-11-py310"),
        "kms_key_name": pulumi.Output.from_input("projects/ml-platform-prod/locations/europe-west4/keyRings/boxes/cryptoKeys/disks"),
        "labels": {key: pulumi.Output.from_input(value) for key, value in TAGS.items()},
    }


CASES = [
    ComponentCase(
        component=AwsGpuTrainingBox,
        minimal=_aws_minimal,
        with_outputs=_aws_with_outputs,
        provider=lambda name: aws.Provider(name, region="eu-west-1"),
        provider_package="aws",
        config={"aws:region": "eu-west-1"},
    ),
    ComponentCase(
        component=GcpGpuTrainingBox,
        minimal=_gcp_minimal,
        with_outputs=_gcp_with_outputs,
        provider=lambda name: gcp.Provider(name, project="ml-platform-prod", region="europe-west4"),
        provider_package="gcp",
        config={"gcp:project": "ml-platform-prod", "gcp:region": "europe-west4"},
    ),
]
