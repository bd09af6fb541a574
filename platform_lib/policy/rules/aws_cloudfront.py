"""CloudFront policies for static sites (control ids: AWS Security Hub FSBP "controls for
CloudFront"; checkov)."""

from __future__ import annotations

from ..catalogue import ADVISORY_IN_DEV, resource_policy
from ..helpers import as_list, get

DISTRIBUTION = ("aws:cloudfront/distribution:Distribution",)
HTTPS_POLICIES = ("redirect-to-https", "https-only")
#: Security policies with TLS 1.2 as the minimum (source: CloudFront Developer Guide, "Supported
#: protocols and ciphers between viewers and CloudFront").
TLS12_POLICIES = ("TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")


def _behaviors(props):
    yield "defaultCacheBehavior", get(props, "defaultCacheBehavior", default={})
    for index, behavior in enumerate(as_list(get(props, "orderedCacheBehaviors"))):
        yield f"orderedCacheBehaviors[{index}] ({get(behavior, 'pathPattern', default='?')})", behavior


@resource_policy(
    "cloudfront-https-only",
    description="Every CloudFront cache behavior redirects HTTP to HTTPS or serves HTTPS only.",
    severity="high",
    remediation="Set viewerProtocolPolicy to 'redirect-to-https' on the default and every ordered cache behavior.",
    controls=("AWS FSBP CloudFront.3", "CKV_AWS_34"),
    types=DISTRIBUTION,
    tags=("cloudfront",),
)
def https_only(resource, config):
    for label, behavior in _behaviors(resource.props):
        policy = get(behavior, "viewerProtocolPolicy")
        if policy not in HTTPS_POLICIES:
            yield f"distribution '{resource.name}' {label} has viewerProtocolPolicy {policy or 'unset'}"


@resource_policy(
    "cloudfront-minimum-tls-1-2",
    description="A CloudFront distribution serves viewers with TLS 1.2 or newer (a custom certificate and a TLSv1.2 security policy).",
    severity="high",
    remediation="Use an ACM certificate with sslSupportMethod 'sni-only' and minimumProtocolVersion 'TLSv1.2_2021'.",
    controls=("CKV_AWS_174", "AWS FSBP CloudFront.7"),
    types=DISTRIBUTION,
    levels=ADVISORY_IN_DEV,
    tags=("cloudfront",),
)
def minimum_tls(resource, config):
    certificate = get(resource.props, "viewerCertificate", default={})
    if get(certificate, "cloudfrontDefaultCertificate") is True:
        yield f"distribution '{resource.name}' uses the default CloudFront certificate, which allows TLSv1"
        return
    version = get(certificate, "minimumProtocolVersion")
    if version not in TLS12_POLICIES:
        yield f"distribution '{resource.name}' has minimumProtocolVersion {version or 'unset'}, older than TLSv1.2"


@resource_policy(
    "cloudfront-s3-origin-access-control",
    description="CloudFront reaches S3 origins through an origin access control, so the bucket stays private.",
    severity="high",
    remediation="Create an aws.cloudfront.OriginAccessControl (signingBehavior 'always', sigv4) and set originAccessControlId on the S3 origin.",
    controls=("AWS FSBP CloudFront.13",),
    types=DISTRIBUTION,
    tags=("cloudfront",),
)
def s3_origin_access_control(resource, config):
    for index, origin in enumerate(as_list(get(resource.props, "origins"))):
        domain = str(get(origin, "domainName", default=""))
        is_s3 = ".s3." in domain or domain.endswith(".s3.amazonaws.com")
        if is_s3 and not get(origin, "customOriginConfig") and not get(origin, "originAccessControlId"):
            yield f"distribution '{resource.name}' origin {get(origin, 'originId', default=index)} reads S3 without an origin access control"


@resource_policy(
    "cloudfront-response-headers-policy",
    description="Every CloudFront cache behavior attaches a response headers policy (HSTS, X-Content-Type-Options, frame options).",
    severity="medium",
    remediation="Attach a response headers policy (the managed 'SecurityHeadersPolicy' or an aws.cloudfront.ResponseHeadersPolicy with securityHeadersConfig).",
    controls=("CKV2_AWS_32",),
    types=DISTRIBUTION,
    levels=ADVISORY_IN_DEV,
    tags=("cloudfront",),
)
def response_headers_policy(resource, config):
    for label, behavior in _behaviors(resource.props):
        if not get(behavior, "responseHeadersPolicyId"):
            yield f"distribution '{resource.name}' {label} has no responseHeadersPolicyId"


@resource_policy(
    "cloudfront-default-root-object",
    description="A CloudFront distribution sets a default root object, so '/' does not list or expose the origin.",
    severity="low",
    remediation="Set defaultRootObject to 'index.html'.",
    controls=("AWS FSBP CloudFront.1", "CKV_AWS_305"),
    types=DISTRIBUTION,
    levels=ADVISORY_IN_DEV,
    tags=("cloudfront",),
)
def default_root_object(resource, config):
    if not get(resource.props, "defaultRootObject"):
        yield f"distribution '{resource.name}' has no defaultRootObject"
