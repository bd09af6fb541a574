"""The contract case of StaticSite (platform_lib.aws.static_site)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from platform_lib.aws.static_site import StaticSite

from . import ComponentCase
from ..conftest import REPO_ROOT

SITE = REPO_ROOT / "examples" / "static-site" / "site"
TAGS = {"team": "ml-platform", "cost-center": "cc-4100", "environment": "prod"}


CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-4909-8807-060504030201"


def _minimal() -> dict:
    # The prod minimum includes a domain: without one CloudFront's default certificate allows
    # TLSv1, which the mandatory cloudfront-minimum-tls-1-2 refuses.
    return {"site_dir": SITE, "tags": TAGS, "domain_name": "docs.ml.example.com", "certificate_arn": CERTIFICATE_ARN}


def _with_outputs() -> dict:
    zone = aws.route53.Zone("case-zone", name="ml.example.com")
    return {
        "site_dir": SITE,
        "tags": {key: pulumi.Output.from_input(value) for key, value in TAGS.items()},
        "domain_name": zone.name.apply(lambda name: f"docs.{name}"),
        "hosted_zone_id": zone.id.apply(lambda _: "Z0EXAMPLE1A2B3C4D5E6F"),
        "access_log_bucket": pulumi.Output.from_input("ml-logs.s3.amazonaws.com"),
        "invalidation_role_arn": pulumi.Output.from_input("arn:aws:iam::123456789012:role/site-invalidator"),
    }


CASES = [
    ComponentCase(
        component=StaticSite,
        minimal=_minimal,
        with_outputs=_with_outputs,
        provider=lambda name: aws.Provider(name, region="eu-west-1"),
        provider_package="aws",
        config={"aws:region": "eu-west-1"},
        name="docs",
    )
]
