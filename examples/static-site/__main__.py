"""A team's Pulumi project that publishes ``site/`` as a static web site with ``StaticSite``.

Preview it offline:  ``mlplat preview --cwd examples/static-site --stack dev``
Deploy it:           ``pulumi up --cwd examples/static-site --stack dev`` (AWS credentials needed)

Every file under ``site/`` becomes one S3 object; editing one (say ``site/css/site.css``) changes
that object's content hash, and the next ``pulumi up`` uploads it and invalidates ``/css/site.css``
on CloudFront, and nothing else.
"""

from pathlib import Path

import pulumi

from platform_lib.aws.static_site import StaticSite, protect_stateful_children

config = pulumi.Config()
prod = pulumi.get_stack() == "prod"

site = StaticSite(
    "docs",
    site_dir=Path(__file__).parent / (config.get("siteDir") or "site"),
    tags={"team": config.require("team"), "cost-center": config.require("costCenter"), "environment": pulumi.get_stack()},
    domain_name=config.get("domainName"),
    hosted_zone_id=config.get("hostedZoneId"),
    certificate_arn=config.get("certificateArn"),
    content_security_policy=config.get("contentSecurityPolicy"),
    # In prod the bucket, its KMS key, the distribution and the certificate are protected and kept
    # in AWS if they leave the program; content objects are not, so a removed file is deleted.
    opts=pulumi.ResourceOptions(transformations=[protect_stateful_children()]) if prod else None,
)

pulumi.export("url", site.url)
pulumi.export("bucketName", site.bucket_name)
pulumi.export("distributionId", site.distribution_id)
pulumi.export("distributionDomainName", site.distribution_domain_name)
pulumi.export("invalidatedPaths", site.invalidated_paths)
