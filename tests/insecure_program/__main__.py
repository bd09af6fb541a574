"""Everything the policy pack exists to stop, in one small program (never deploy it).

A public bucket without its companions, a wildcard IAM policy, a privileged pod in the default
namespace, a GPU box with a public IP and IMDSv1, SSH open to the world.
"""

import json

import pulumi_aws as aws
import pulumi_kubernetes as k8s

tags = {"team": "insecure", "cost-center": "cc-0000", "environment": "prod", "managed-by": "pulumi"}

bucket = aws.s3.Bucket("public-data", acl="public-read", force_destroy=True, tags=tags)

aws.iam.Policy("admin-ish", policy=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}), tags=tags)

group = aws.ec2.SecurityGroup("ssh-open", ingress=[{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}], tags=tags)

aws.ec2.Instance(
    "gpu-box",
    ami="ami-0abcdef1234567890",
    instance_type="g5.xlarge",
    associate_public_ip_address=True,
    vpc_security_group_ids=[group.id],
    root_block_device={"encrypted": True},
    tags=tags,
)

k8s.apps.v1.Deployment(
    "miner",
    metadata={"name": "miner"},
    spec={
        "replicas": 1,
        "selector": {"match_labels": {"app": "miner"}},
        "template": {
            "metadata": {"labels": {"app": "miner"}},
            "spec": {"containers": [{
                "name": "miner",
                "image": "example/miner:latest",
                "security_context": {"privileged": True},
            }]},
        },
    },
)
