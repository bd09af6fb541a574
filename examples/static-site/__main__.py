"""A team's Pulumi project that publishes ``site/`` as a static web site with ``StaticSite``.

Preview it offline:  ``mlplat preview --cwd examples/static-site --stack dev``
Deploy it:           ``pulumi up --cwd examples/static-site --stack dev`` (AWS credentials needed)

Every file under ``site/`` becomes one S3 object; editing one (say ``site/css/site.css``) changes
that object's content hash, and the next ``pulumi up`` uploads it and invalidates ``/css/site.css``
on CloudFront, and nothing else.
"""

from pathlib import Path

import pulumi

from platform_lib.aws.static_site import StaticSite

config = pulumi.Config()
tags = {
    "team": config.require("team"),
    "cost-center": config.require("costCenter"),
    "environment": pulumi.get_stack(),
    "managed-by": "pulumi",
}

site = StaticSite(
    "docs",
    {
        "site_dir": Path(__file__).parent / (config.get("siteDir") or "site"),
        "domain_name": config.get("domainName"),
        "hosted_zone_id": config.get("hostedZoneId"),
        "certificate_arn": config.get("certificateArn"),
        "content_security_policy": config.get("contentSecurityPolicy"),
        "tags": tags,
        # In prod the bucket, its KMS key and the distribution are protected and kept in AWS if
        # they leave the program (content objects never are: the repository is their source).
        "protect": pulumi.get_stack() == "prod",
        "retain_on_delete": pulumi.get_stack() == "prod",
    },
)

pulumi.export("url", site.url)
pulumi.export("bucketName", site.bucket_name)
pulumi.export("distributionId", site.distribution_id)
pulumi.export("distributionDomainName", site.distribution_domain_name)
pulumi.export("invalidatedPaths", site.invalidation.invalidated_paths)
