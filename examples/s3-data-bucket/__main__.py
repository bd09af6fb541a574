"""A team's feature-store bucket on S3, with server access logs and grants to IAM roles.

- ``AccessLogBucket`` ``fraud-access-logs`` receives the S3 server access logs;
- ``S3DataBucket`` ``fraud-features`` (SSE-KMS with a dedicated key, versioned, lifecycle rules,
  TLS-only bucket policy) logs into it;
- a training role (an ``aws.iam.Role`` made here) may read and write under ``daily/``;
- a reader role, given by ARN in the stack config, may read under ``published/``: statements in the
  bucket policy and in the dedicated key's key policy (kms:Decrypt through S3 only), whichever
  account the role is in.

Every resource goes through the explicit ``aws.Provider`` passed in ``opts``: a component hands
its caller's options (provider, protect, retain_on_delete) to every child.

    mlplat preview --cwd examples/s3-data-bucket --stack prod     # offline, no credentials
    pulumi preview --cwd examples/s3-data-bucket --stack prod     # with the Pulumi CLI and AWS credentials
"""

import json

import pulumi
import pulumi_aws as aws

from platform_lib.aws.data_bucket import AccessLogBucket, S3DataBucket

config = pulumi.Config()
aws_config = pulumi.Config("aws")
team = config.require("team")
environment = config.require("environment")
tags = {"team": team, "cost-center": config.require("costCenter"), "environment": environment}

provider = aws.Provider("aws", region=aws_config.require("region"))
production = environment == "prod"
# Stateful resources: protected in prod, and kept in AWS if they leave the program.
stateful = pulumi.ResourceOptions(provider=provider, protect=production, retain_on_delete=production)

logs = AccessLogBucket(f"{team}-access-logs", tags=tags, log_expiration_days=365, opts=stateful)
features = S3DataBucket(
    f"{team}-features",
    tags=tags,
    noncurrent_version_expiration_days=30,
    access_log_bucket=logs.bucket_name,  # an Output: wired, not copied
    opts=stateful,
)

trainer = aws.iam.Role(
    f"{team}-trainer",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
    ),
    tags={**tags, "managed-by": "pulumi"},
    opts=pulumi.ResourceOptions(provider=provider),
)

features.grant_read_write(trainer, prefix="daily/")
features.grant_read(config.require("readerRoleArn"), prefix="published/", name="reader")

pulumi.export("bucketName", features.bucket_name)
pulumi.export("bucketArn", features.arn)
pulumi.export("kmsKeyArn", features.kms_key_arn)
pulumi.export("accessLogBucketName", logs.bucket_name)
pulumi.export("trainerRoleArn", trainer.arn)
