"""The fraud team's own infrastructure, built from ml-platform components.

A feature store bucket and a model bucket, a namespace for the team's training jobs, and a
workload role the namespace's ServiceAccount assumes (IRSA), granted read-write on features and
read-write on models under ``candidates/``; an analysts' role (managed elsewhere, given by name)
may read the published models.

    pip install pulumi-mlplat                      # the import package is platform_lib
    pulumi stack select dev && pulumi preview      # or offline: mlplat preview --stack dev
"""

import json

import pulumi
import pulumi_aws as aws
from pydantic import ValidationError

from platform_lib.aws.data_bucket import S3DataBucket
from platform_lib.platform.config import TeamQuota
from platform_lib.core.errors import ConfigError, issues_from_validation_error
from platform_lib.k8s.team_namespace import TeamNamespace
from platform_lib.core.policy_documents import irsa_trust_policy_document

config = pulumi.Config()
team = config.require("team")
environment = config.require("environment")
tags = {"team": team, "cost-center": config.require("costCenter")}
try:
    quota = TeamQuota.model_validate(config.require_object("quota"))
except ValidationError as error:  # a config mistake: reported like the platform's, not as a traceback
    raise ConfigError("invalid stack configuration", issues_from_validation_error(error, prefix=f"{config.name}:quota")) from None

# Validate the namespace's arguments before registering anything, so a bad one leaves no
# half-made stack behind; the role ARN, known only once the role exists, is added below.
namespace_args = TeamNamespace.validate_args(
    team,
    {
        "labels": {**tags, "environment": environment},
        "identity_group": config.require("identityGroup"),
        "quota": quota,
        "service_account_name": "trainer",
        "egress_https_cidrs": [config.require("vpcCidr")],
    },
)

bucket_tags = {**tags, "environment": environment}
stateful = pulumi.ResourceOptions(protect=environment == "prod", retain_on_delete=environment == "prod")
features = S3DataBucket(f"{team}-features", tags=bucket_tags, noncurrent_version_expiration_days=30, opts=stateful)
models = S3DataBucket(f"{team}-models", tags=bucket_tags, opts=stateful)

trust = irsa_trust_policy_document(config.require("oidcProviderArn"), config.require("oidcIssuer"), namespace=team, service_account="trainer")
trainer = aws.iam.Role(f"{team}-trainer", assume_role_policy=json.dumps(trust), tags={**tags, "environment": environment, "managed-by": "pulumi"})

features.grant_read_write(trainer)
models.grant_read_write(trainer, prefix="candidates/")
models.grant_read("fraud-analysts", prefix="published/")

namespace = TeamNamespace(
    team,
    namespace_args.model_copy(update={"irsa_role_arn": trainer.arn}),
    # Deleting the namespace would delete every workload and volume claim in it.
    opts=pulumi.ResourceOptions(protect=environment == "prod", retain_on_delete=environment == "prod"),
)

pulumi.export("featuresBucket", features.bucket_name)
pulumi.export("modelsBucket", models.bucket_name)
pulumi.export("namespace", namespace.namespace_name)
pulumi.export("trainerRoleArn", trainer.arn)
