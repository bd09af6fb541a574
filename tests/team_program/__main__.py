"""The churn team's data: a protected feature bucket in the EU region, read by a training role.

An explicit provider for the data region, an alias for the bucket's former name, and a README
object written once the role exists; a stack transform adds the owner tag to every AWS resource.
"""

import json

import pulumi
import pulumi_aws as aws

from platform_lib import S3DataBucket

config = pulumi.Config()
team = config.require("team")
tags = {"team": team, "cost-center": config.require("costCenter"), "environment": "dev"}
resource_tags = {**tags, "managed-by": "pulumi"}


def add_owner_tag(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Every AWS resource that takes tags gets ``owner``."""
    if args.type_.startswith("aws:") and "tags" in args.props:
        return pulumi.ResourceTransformResult(props={**args.props, "tags": {**(args.props["tags"] or {}), "owner": f"{team}-team"}}, opts=args.opts)
    return None


pulumi.runtime.register_resource_transform(add_owner_tag)

eu = aws.Provider("eu", region=config.require("dataRegion"))
features = S3DataBucket(
    f"{team}-features",
    tags=tags,
    opts=pulumi.ResourceOptions(provider=eu, protect=True, aliases=[pulumi.Alias(name="features")]),
)
trainer = aws.iam.Role(
    f"{team}-trainer",
    assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    tags=resource_tags,
    opts=pulumi.ResourceOptions(provider=eu),
)
features.grant_read(trainer)
aws.s3.BucketObjectv2(
    f"{team}-readme",
    bucket=features.bucket_name,
    key="README.md",
    content=f"Features of the {team} team, read by the trainer role.",
    tags=resource_tags,
    opts=pulumi.ResourceOptions(provider=eu, depends_on=[trainer]),
)

pulumi.export("featuresBucket", features.bucket_name)
