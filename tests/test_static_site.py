"""``StaticSite``: what it registers (origin, distribution, caching, headers, certificate, objects),
bad input, and how a content change reaches the invalidation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from platform_lib.aws.static_site import StaticSite, content_type_for, object_hashes, protect_stateful_children
from platform_lib.core.errors import ComponentArgsError
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

from .conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "static-site"
SITE = EXAMPLE / "site"
INVALIDATION = "pulumi-python:dynamic/mlplat:CloudFrontInvalidation"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-4909-8807-060504030201"
TAGS = {"team": "ml-platform", "cost-center": "cc-4100", "environment": "dev"}
STANDARD_TAGS = {**TAGS, "managed-by": "pulumi"}


def site_plan(config=None, opts=None, **args):
    values = {"site_dir": SITE, "tags": TAGS, **args}
    return preview(lambda: StaticSite("docs", values, opts), config=config or {"aws:region": "eu-west-1"})


@pytest.fixture(scope="module")
def plan():
    return site_plan()


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SITE, tmp_path / "site"))


def test_every_child_is_parented_to_the_component_and_named_after_it(plan):
    component = find(plan, "mlplat:aws:StaticSite", "docs")
    children = [r for r in plan.resources if r.parent == component.urn]
    assert {r.type for r in children} >= {
        "aws:s3/bucket:Bucket",
        "aws:cloudfront/originAccessControl:OriginAccessControl",
        DISTRIBUTION,
        OBJECT,
        INVALIDATION,
        "aws:s3/bucketPolicy:BucketPolicy",
    }
    assert all(r.name.startswith("docs-") for r in children)
    assert len(children) == len(plan.resources) - 2  # all but the stack and the component


def test_bucket_is_private_and_read_only_by_this_distribution(plan):
    block = find(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert find(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    bucket = find(plan, "aws:s3/bucket:Bucket")
    distribution = find(plan, DISTRIBUTION)
    document = json.loads(find(plan, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    allow, deny = document["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == f"{bucket.outputs['arn']}/*"
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution.outputs["arn"]}}
    assert distribution.outputs["arn"].startswith("arn:aws:cloudfront::123456789012:distribution/E")
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def test_bucket_is_encrypted_with_its_own_rotating_kms_key_and_a_bucket_key(plan):
    key = find(plan, KEY, "docs-content-key")
    assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
    assert "policy" not in key.inputs  # the policy is the separate KeyPolicy below
    assert key.inputs["tags"]["team"] == "ml-platform"
    encryption = find(plan, ENCRYPTION, "docs-content-encryption")
    assert encryption.inputs["bucket"] == find(plan, "aws:s3/bucket:Bucket").id
    assert encryption.inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]}, "bucketKeyEnabled": True}
    ]
    assert key.outputs["arn"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert find(plan, "mlplat:aws:StaticSite").outputs["kms_key_arn"] == key.outputs["arn"]


def test_key_policy_keeps_iam_working_and_lets_only_this_distribution_decrypt(plan):
    key = find(plan, KEY, "docs-content-key")
    distribution = find(plan, DISTRIBUTION)
    key_policy = find(plan, KEY_POLICY, "docs-content-key-policy")
    assert key_policy.inputs["keyId"] == key.outputs["keyId"] == key_policy.id
    root, cloudfront = json.loads(key_policy.inputs["policy"])["Statement"]
    assert root == {"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}
    assert cloudfront["Effect"] == "Allow"
    assert cloudfront["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert cloudfront["Action"] == "kms:Decrypt"
    assert cloudfront["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution.outputs["arn"]}}
    assert distribution.outputs["arn"].startswith("arn:aws:cloudfront::123456789012:distribution/E")
    # No cycle: the policy follows the distribution; the invalidation waits for the policy.
    assert distribution.urn in key_policy.options.depends_on
    assert key_policy.urn in find(plan, INVALIDATION).options.depends_on


def test_versioning_is_enabled_and_lifecycle_expires_old_versions_and_aborts_uploads(plan):
    bucket = find(plan, "aws:s3/bucket:Bucket")
    versioning = find(plan, VERSIONING, "docs-content-versioning")
    assert versioning.inputs == {"bucket": bucket.id, "versioningConfiguration": {"status": "Enabled"}}
    lifecycle = find(plan, LIFECYCLE, "docs-content-lifecycle")
    assert lifecycle.inputs["bucket"] == bucket.id
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    assert set(rules) == {"expire-noncurrent-versions", "abort-incomplete-multipart-uploads"}
    assert all(rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""} for rule in rules.values())
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert versioning.urn in lifecycle.options.depends_on


def test_retention_days_and_key_deletion_window_are_arguments():
    plan = site_plan(noncurrent_version_expiration_days=30, abort_incomplete_multipart_upload_days=2, kms_key_deletion_window_days=7)
    rules = {rule["id"]: rule for rule in find(plan, LIFECYCLE).inputs["rules"]}
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 2}
    assert find(plan, KEY).inputs["deletionWindowInDays"] == 7


def test_the_component_protects_nothing_itself(plan):
    assert all(not r.options.protect and not r.options.retain_on_delete for r in plan.resources)


def test_protect_stateful_children_protects_and_retains_only_bucket_key_and_distribution(site_copy):
    opts = pulumi.ResourceOptions(transformations=[protect_stateful_children()])
    plan = preview(lambda: StaticSite("docs", site_dir=site_copy, tags=TAGS, domain_name="docs.ml.example.com", hosted_zone_id="Z0EXAMPLE1A2B3C4D5E6F", opts=opts))
    component = find(plan, "mlplat:aws:StaticSite")
    protected = {r.type for r in plan.resources if r.parent == component.urn and r.options.protect and r.options.retain_on_delete}
    assert protected == {"aws:s3/bucket:Bucket", KEY, DISTRIBUTION}
    assert not any(r.options.protect or r.options.retain_on_delete for r in find_all(plan, OBJECT) + find_all(plan, INVALIDATION))


def test_origin_uses_origin_access_control_never_an_identity(plan):
    control = find(plan, "aws:cloudfront/originAccessControl:OriginAccessControl")
    assert control.inputs["originAccessControlOriginType"] == "s3"
    assert control.inputs["signingBehavior"] == "always" and control.inputs["signingProtocol"] == "sigv4"
    (origin,) = find(plan, DISTRIBUTION).inputs["origins"]
    assert origin["originAccessControlId"] == control.id
    assert origin["domainName"] == find(plan, "aws:s3/bucket:Bucket").outputs["bucketRegionalDomainName"]
    assert "s3OriginConfig" not in origin and "customOriginConfig" not in origin
    assert not find_all(plan, "aws:cloudfront/originAccessIdentity:OriginAccessIdentity")


def test_distribution_redirects_to_https_compresses_and_serves_root_and_error_pages(plan):
    inputs = find(plan, DISTRIBUTION).inputs
    behaviours = [inputs["defaultCacheBehavior"], *inputs["orderedCacheBehaviors"]]
    assert all(b["viewerProtocolPolicy"] == "redirect-to-https" and b["compress"] is True for b in behaviours)
    assert all(b["allowedMethods"] == ["GET", "HEAD"] for b in behaviours)
    assert inputs["defaultRootObject"] == "index.html"
    assert {(e["errorCode"], e["responseCode"], e["responsePagePath"]) for e in inputs["customErrorResponses"]} == {(403, 404, "/404.html"), (404, 404, "/404.html")}
    # With the default certificate the provider accepts only TLSv1, so nothing else is asked for.
    assert inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert "loggingConfig" not in inputs
    assert inputs["tags"]["cost-center"] == "cc-4100"


def test_security_headers_policy_is_attached_to_every_behaviour(plan):
    policy = find(plan, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    headers = policy.inputs["securityHeadersConfig"]
    assert headers["strictTransportSecurity"] == {"accessControlMaxAgeSec": 63_072_000, "includeSubdomains": True, "preload": False, "override": True}
    assert headers["contentTypeOptions"] == {"override": True}
    assert headers["frameOptions"] == {"frameOption": "DENY", "override": True}
    assert headers["referrerPolicy"] == {"referrerPolicy": "strict-origin-when-cross-origin", "override": True}
    assert "contentSecurityPolicy" not in headers
    inputs = find(plan, DISTRIBUTION).inputs
    assert {b["responseHeadersPolicyId"] for b in [inputs["defaultCacheBehavior"], *inputs["orderedCacheBehaviors"]]} == {policy.id}


def test_content_security_policy_is_sent_when_given():
    csp = "default-src 'self'"
    headers = find(site_plan(content_security_policy=csp), "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]
    assert headers["contentSecurityPolicy"] == {"contentSecurityPolicy": csp, "override": True}


def test_html_is_cached_briefly_and_fingerprinted_assets_for_a_year(plan):
    policies = {r.name: r for r in find_all(plan, "aws:cloudfront/cachePolicy:CachePolicy")}
    html, assets = policies["docs-html-cache"], policies["docs-asset-cache"]
    assert (html.inputs["minTtl"], html.inputs["defaultTtl"], html.inputs["maxTtl"]) == (0, 60, 60)
    assert (assets.inputs["minTtl"], assets.inputs["defaultTtl"], assets.inputs["maxTtl"]) == (0, 31_536_000, 31_536_000)
    inputs = find(plan, DISTRIBUTION).inputs
    assert inputs["defaultCacheBehavior"]["cachePolicyId"] == html.id
    (ordered,) = inputs["orderedCacheBehaviors"]
    assert (ordered["pathPattern"], ordered["cachePolicyId"]) == ("assets/*", assets.id)


def test_a_zero_ttl_disables_caching_without_compressed_variants_in_the_key():
    policies = {r.name: r.inputs for r in find_all(site_plan(html_ttl_seconds=0), "aws:cloudfront/cachePolicy:CachePolicy")}
    html, assets = policies["docs-html-cache"], policies["docs-asset-cache"]
    assert html["maxTtl"] == 0
    assert html["parametersInCacheKeyAndForwardedToOrigin"]["enableAcceptEncodingGzip"] is False
    assert assets["parametersInCacheKeyAndForwardedToOrigin"]["enableAcceptEncodingBrotli"] is True


def test_one_object_per_file_with_content_type_hash_and_cache_control(plan):
    objects = {r.inputs["key"]: r.inputs for r in find_all(plan, OBJECT)}
    files = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*") if p.is_file())
    assert sorted(objects) == files
    logo = next(k for k in objects if k.startswith("assets/logo."))
    import hashlib

    for key, inputs in objects.items():
        assert inputs["sourceHash"] == hashlib.sha256((SITE / key).read_bytes()).hexdigest()
        assert inputs["source"]["asset"]["path"] == str(SITE / key)
    assert objects["index.html"]["contentType"] == "text/html; charset=utf-8"
    assert objects["css/site.css"]["contentType"] == "text/css; charset=utf-8"
    assert objects[logo]["contentType"] == "image/svg+xml; charset=utf-8"
    assert objects["index.html"]["cacheControl"] == "public, max-age=60, must-revalidate"
    assert objects["css/site.css"]["cacheControl"] == "public, max-age=60, must-revalidate"
    assert objects[logo]["cacheControl"] == "public, max-age=31536000, immutable"
    # The asset really is fingerprinted: its name carries the start of its own SHA-256.
    assert logo.split(".")[1] == objects[logo]["sourceHash"][:8]


def test_the_callers_protect_reaches_every_child_content_included(site_copy):
    plan = preview(lambda: StaticSite("docs", {"site_dir": site_copy, "tags": TAGS}, opts=pulumi.ResourceOptions(protect=True, retain_on_delete=True)))
    component = find(plan, "mlplat:aws:StaticSite")
    children = [r for r in plan.resources if r.parent == component.urn]
    assert children and all(r.options.protect and r.options.retain_on_delete for r in children)


def test_invalidation_tracks_every_served_path_and_waits_for_the_objects(plan):
    invalidation = find(plan, INVALIDATION)
    distribution = find(plan, DISTRIBUTION)
    assert invalidation.inputs["distributionId"] == distribution.id
    hashes = invalidation.inputs["objectHashes"]
    objects = find_all(plan, OBJECT)
    assert {path for path in hashes if path != "/"} == {"/" + r.inputs["key"] for r in objects}
    assert hashes["/"] == hashes["/index.html"]
    assert {r.urn for r in objects} <= set(invalidation.options.depends_on)
    assert invalidation.inputs["maxPaths"] == 100
    # The default provider's settings: the stack's aws:region; no profile, no role.
    assert invalidation.inputs["region"] == "eu-west-1"
    assert "profile" not in invalidation.inputs and "roleArn" not in invalidation.inputs


def test_content_types_come_from_the_extension():
    assert content_type_for("app.js") == "text/javascript; charset=utf-8"
    assert content_type_for("fonts/a.woff2") == "font/woff2"
    assert content_type_for("img/a.png") == "image/png"
    assert content_type_for("data.bin") == "application/octet-stream"
    assert content_type_for("manifest.webmanifest") == "application/manifest+json; charset=utf-8"


# --- a domain: certificate in us-east-1, DNS validation, alias records ---------------------------


def test_domain_with_zone_requests_a_dns_validated_certificate_in_us_east_1():
    plan = site_plan(domain_name="docs.ml.example.com", hosted_zone_id="Z0EXAMPLE1A2B3C4D5E6F")
    assert [r.name for r in find_all(plan, "pulumi:providers:aws")] == [], "no second provider: the per-resource region"
    certificate = find(plan, "aws:acm/certificate:Certificate")
    assert certificate.inputs["region"] == "us-east-1"
    assert certificate.inputs["domainName"] == "docs.ml.example.com" and certificate.inputs["validationMethod"] == "DNS"
    assert certificate.inputs["tags"] == STANDARD_TAGS
    option = certificate.outputs["domainValidationOptions"][0]
    record = find(plan, "aws:route53/record:Record", "docs-certificate-dns").inputs
    assert (record["zoneId"], record["name"], record["type"], record["records"]) == ("Z0EXAMPLE1A2B3C4D5E6F", option["resourceRecordName"], "CNAME", [option["resourceRecordValue"]])
    validation = find(plan, "aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["region"] == "us-east-1"
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    distribution = find(plan, DISTRIBUTION)
    assert distribution.inputs["aliases"] == ["docs.ml.example.com"]
    assert distribution.inputs["viewerCertificate"] == {"acmCertificateArn": certificate.outputs["arn"], "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}
    assert certificate.outputs["arn"].startswith("arn:aws:acm:us-east-1:")
    aliases = {r.inputs["type"]: r.inputs for r in find_all(plan, "aws:route53/record:Record") if r.name.startswith("docs-alias-")}
    assert set(aliases) == {"A", "AAAA"}
    for record in aliases.values():
        assert record["aliases"] == [{"name": distribution.outputs["domainName"], "zoneId": "Z2FDTNDATAQYW2", "evaluateTargetHealth": False}]
    assert find(plan, "mlplat:aws:StaticSite").outputs["url"] == "https://docs.ml.example.com/"


def test_domain_with_an_existing_certificate_requests_none():
    plan = site_plan(domain_name="docs.ml.example.com", certificate_arn=CERTIFICATE_ARN)
    assert not find_all(plan, "aws:acm/certificate:Certificate") and not find_all(plan, "aws:route53/record:Record")
    assert find(plan, DISTRIBUTION).inputs["viewerCertificate"]["acmCertificateArn"] == CERTIFICATE_ARN


def test_access_logging_is_optional_and_goes_to_the_given_bucket():
    plan = site_plan(access_log_bucket="ml-logs.s3.amazonaws.com", access_log_prefix="cloudfront/docs/")
    assert find(plan, DISTRIBUTION).inputs["loggingConfig"] == {"bucket": "ml-logs.s3.amazonaws.com", "prefix": "cloudfront/docs/", "includeCookies": False}


# --- bad input: a clear message naming the field, and nothing registered ------------------------


def failing_plan(**args):
    args = {"tags": TAGS, **args}
    with pytest.raises(PreviewError) as raised:
        preview(lambda: StaticSite("docs", args))
    error = raised.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [r.type for r in raised.value.plan.resources] == ["pulumi:pulumi:Stack"]
    return str(error)


def test_missing_site_directory(tmp_path):
    message = failing_plan(site_dir=tmp_path / "no-such-dir")
    assert "StaticSite(docs).site_dir" in message and "does not exist" in message


def test_the_filesystem_root_is_refused_as_site_directory(tmp_path):
    message = failing_plan(site_dir=tmp_path / ".." / ".." / ".." / ".." / ".." / ".." / "..")
    assert "StaticSite(docs).site_dir" in message and "not the filesystem root / (every file below it would be published)" in message


def test_empty_site_directory(tmp_path):
    (tmp_path / "empty" / ".git").mkdir(parents=True)
    (tmp_path / "empty" / ".DS_Store").write_text("x")
    message = failing_plan(site_dir=tmp_path / "empty")
    assert "StaticSite(docs).site_dir" in message and "at least one file" in message


def test_domain_without_certificate_or_zone():
    message = failing_plan(site_dir=SITE, domain_name="docs.ml.example.com")
    assert "StaticSite(docs).domain_name: got 'docs.ml.example.com'" in message
    assert "hosted_zone_id" in message and "certificate_arn" in message


@pytest.mark.parametrize("field", ["html_ttl_seconds", "asset_ttl_seconds"])
def test_ttl_below_zero(field):
    message = failing_plan(site_dir=SITE, **{field: -1})
    assert f"StaticSite(docs).{field}: got -1; expected a number at least 0" in message


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("noncurrent_version_expiration_days", 0, "a number at least 1"),
    ("abort_incomplete_multipart_upload_days", 366, "a number at most 365"),
    ("kms_key_deletion_window_days", 6, "a number at least 7"),
])
def test_retention_days_out_of_range(field, value, expected):
    message = failing_plan(site_dir=SITE, **{field: value})
    assert f"StaticSite(docs).{field}: got {value}; expected {expected}" in message


def test_certificate_outside_us_east_1_and_missing_index_are_named():
    message = failing_plan(site_dir=SITE, domain_name="docs.ml.example.com", certificate_arn=CERTIFICATE_ARN.replace("us-east-1", "eu-west-1"))
    assert "StaticSite(docs).certificate_arn" in message
    message = failing_plan(site_dir=SITE, index_document="home.html")
    assert "StaticSite(docs).index_document: got 'home.html'" in message


# --- content changes: object hashes and the invalidation's paths --------------------------------


def content(plan):
    objects = {r.inputs["key"]: r.inputs["sourceHash"] for r in find_all(plan, OBJECT)}
    return objects, find(plan, INVALIDATION).inputs


def test_changing_one_css_file_changes_only_that_object_and_invalidates_only_its_path(site_copy):
    from platform_lib.aws.invalidation import CloudFrontInvalidationProvider

    before_objects, before = content(preview(lambda: StaticSite("docs", {"site_dir": site_copy, "tags": TAGS})))
    css = site_copy / "css" / "site.css"
    css.write_text(css.read_text() + "\nh2 { color: #333; }\n")
    after_objects, after = content(preview(lambda: StaticSite("docs", {"site_dir": site_copy, "tags": TAGS})))

    assert {k for k in before_objects if before_objects[k] != after_objects[k]} == {"css/site.css"}
    changed = {p for p in before["objectHashes"] if before["objectHashes"][p] != after["objectHashes"][p]}
    assert changed == {"/css/site.css"}

    # What the engine does on `pulumi up`: the provider diffs the recorded state with the new inputs.
    provider = CloudFrontInvalidationProvider()
    assert provider.diff("id", before, after).changes is True
    assert provider.diff("id", before, before).changes is False


def test_removing_a_file_removes_its_object_and_invalidates_its_path(site_copy):
    from platform_lib.aws.invalidation import changed_paths

    before_objects, before = content(preview(lambda: StaticSite("docs", {"site_dir": site_copy, "tags": TAGS})))
    (site_copy / "404.html").unlink()
    after_objects, after = content(preview(lambda: StaticSite("docs", {"site_dir": site_copy, "tags": TAGS, "error_document": None})))
    assert set(before_objects) - set(after_objects) == {"404.html"}
    assert changed_paths(before["objectHashes"], after["objectHashes"]) == ["/404.html"]


def test_object_hashes_percent_encode_keys_for_cloudfront(tmp_path):
    from platform_lib.aws.static_site import SiteFile

    files = [SiteFile("index.html", tmp_path, "a", "text/html", "", False), SiteFile("docs/read me.html", tmp_path, "b", "text/html", "", False)]
    assert object_hashes(files, "index.html") == {"/": "a", "/docs/read%20me.html": "b", "/index.html": "a"}


# --- the example project, as a team would run it --------------------------------------------------


def test_example_dev_stack_previews_bucket_access_control_distribution_objects_and_invalidation():
    from platform_lib.preview import run_preview

    plan, _ = run_preview(EXAMPLE, "dev")
    counts = {t: len(plan.by_type(t)) for t in ("aws:s3/bucket:Bucket", "aws:cloudfront/originAccessControl:OriginAccessControl", DISTRIBUTION, OBJECT, INVALIDATION)}
    assert counts == {"aws:s3/bucket:Bucket": 1, "aws:cloudfront/originAccessControl:OriginAccessControl": 1, DISTRIBUTION: 1, OBJECT: 4, INVALIDATION: 1}
    assert find(plan, DISTRIBUTION).inputs["tags"] == STANDARD_TAGS
    assert plan.outputs["url"] == f"https://{find(plan, DISTRIBUTION).outputs['domainName']}/"
    assert plan.outputs["invalidatedPaths"] == []


def test_example_prod_stack_adds_certificate_and_csp():
    from platform_lib.preview import run_preview

    plan, _ = run_preview(EXAMPLE, "prod")
    assert find(plan, "aws:acm/certificate:Certificate").inputs["domainName"] == "docs.ml.example.com"
    assert "contentSecurityPolicy" in find(plan, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]
    assert plan.outputs["url"] == "https://docs.ml.example.com/"
    for stateful in (find(plan, "aws:s3/bucket:Bucket"), find(plan, KEY), find(plan, DISTRIBUTION)):
        assert (stateful.options.protect, stateful.options.retain_on_delete) == (True, True), stateful.name
    assert not any(o.options.protect for o in find_all(plan, OBJECT))


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_example_passes_the_policy_gate(stack, policy_gate):
    from platform_lib.policy.gate import default_pack_dir, mandatory_violations, run_gate, shipped_pack_dir
    from platform_lib.preview import load_stack, run_preview

    assert default_pack_dir(EXAMPLE) == shipped_pack_dir()  # the pack `mlplat preview --cwd` uses
    plan, _ = run_preview(EXAMPLE, stack)
    violations = run_gate(plan, pack_dir=shipped_pack_dir(), stack_config=load_stack(EXAMPLE, stack).config, gate=policy_gate)
    found = [(v["policy"], v["resource_name"], v["level"]) for v in violations]
    if stack == "prod":
        assert found == []
    else:
        # dev has no domain, so CloudFront's default certificate (TLSv1) stays an advisory there.
        assert mandatory_violations(violations) == []
        assert not [f for f in found if f[0].startswith("s3-")]


def test_mlplat_preview_of_the_example(tmp_path):
    from typer.testing import CliRunner

    from platform_lib.cli import app

    plan_file = tmp_path / "plan.json"
    result = CliRunner().invoke(app, ["preview", "--cwd", str(EXAMPLE), "--stack", "dev", "--json", str(plan_file)], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    for shown in ("aws:s3/bucket:Bucket  docs-content", "OriginAccessControl  docs-origin-access", "Distribution  docs-distribution", "BucketObjectv2  docs-css/site.css", "CloudFrontInvalidation  docs-invalidation"):
        assert shown in result.output
    assert len([r for r in json.loads(plan_file.read_text())["resources"] if r["type"] == OBJECT]) == 4


def test_mlplat_preview_of_a_bad_site_exits_2_with_the_field(tmp_path):
    from typer.testing import CliRunner

    from platform_lib.cli import app

    project = Path(shutil.copytree(EXAMPLE, tmp_path / "example", ignore=shutil.ignore_patterns("site")))
    result = CliRunner().invoke(app, ["preview", "--cwd", str(project), "--stack", "dev"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 2, result.output
    assert "site_dir" in result.output and "does not exist" in result.output


# --- the platform stacks: mlplat:staticSites ------------------------------------------------------

SITE_CONFIG = {"name": "docs", "siteDir": "examples/static-site/site", "htmlTtlSeconds": 30}


def test_static_sites_from_stack_config_get_standard_tags_and_the_stack_protection():
    from platform_lib.preview import run_preview

    plan, _ = run_preview(REPO_ROOT, "prod", config_overrides={"mlplat:staticSites": [SITE_CONFIG]})
    site = find(plan, "mlplat:aws:StaticSite", "docs")
    assert find(plan, DISTRIBUTION).inputs["tags"]["environment"] == "prod"
    assert find(plan, "aws:cloudfront/cachePolicy:CachePolicy", "docs-html-cache").inputs["maxTtl"] == 30
    bucket = next(r for r in plan.by_type("aws:s3/bucket:Bucket") if r.parent == site.urn)
    assert bucket.options.protect and bucket.options.retain_on_delete  # prod defaults
    assert find(plan, DISTRIBUTION).options.protect
    assert all(not r.options.protect for r in find_all(plan, OBJECT))
    assert plan.outputs["staticSites"]["docs"]["url"].startswith("https://d")


def test_static_sites_can_be_switched_off():
    from platform_lib.preview import run_preview

    plan, _ = run_preview(REPO_ROOT, "dev", config_overrides={"mlplat:staticSites": [SITE_CONFIG], "mlplat:components": {"staticSites": False}})
    assert not plan.by_type("mlplat:aws:StaticSite")


def test_a_missing_site_directory_in_stack_config_registers_nothing():
    from platform_lib.preview import run_preview

    with pytest.raises(PreviewError) as raised:
        run_preview(REPO_ROOT, "dev", config_overrides={"mlplat:staticSites": [{**SITE_CONFIG, "siteDir": "no/such/site"}]})
    assert isinstance(raised.value.__cause__, ComponentArgsError)
    assert "StaticSite(docs).site_dir" in str(raised.value.__cause__)
    assert [r.type for r in raised.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_stack_config_names_a_domain_without_zone_or_certificate():
    from platform_lib.platform.config import ConfigError, parse_platform_config

    with pytest.raises(ConfigError) as raised:
        parse_platform_config({
            "environment": "dev", "region": "us-east-1", "tags": {"team": "ml-platform", "cost-center": "cc-1"},
            "components": {"teamNamespaces": False},
            "staticSites": [{**SITE_CONFIG, "domainName": "docs.ml.example.com"}, SITE_CONFIG],
        })
    paths = {issue.path for issue in raised.value.issues}
    assert paths == {"mlplat:staticSites[0].domainName", "mlplat:staticSites[1].name"}


def test_keyword_arguments_work_like_an_args_mapping(site_copy):
    by_kwargs = preview(lambda: StaticSite("docs", site_dir=site_copy, tags=TAGS, html_ttl_seconds=10))
    by_mapping = preview(lambda: StaticSite("docs", {"site_dir": site_copy, "tags": TAGS, "html_ttl_seconds": 10}))
    def shape(plan):
        return sorted(((r.type, r.name, json.dumps(r.inputs, sort_keys=True)) for r in plan.resources))

    assert shape(by_kwargs) == shape(by_mapping)
    assert find(by_kwargs, "aws:cloudfront/cachePolicy:CachePolicy", "docs-html-cache").inputs["maxTtl"] == 10



# --- the caller's provider, Output arguments, late validation --------------------------------------


def test_an_explicit_provider_reaches_every_child_and_its_settings_reach_the_invalidation(site_copy):
    def program():
        provider = aws.Provider("team-aws", region="eu-central-1", profile="ml-deploy")
        StaticSite("docs", site_dir=site_copy, tags=TAGS, domain_name="docs.ml.example.com", hosted_zone_id="Z0EXAMPLE1A2B3C4D5E6F", opts=pulumi.ResourceOptions(provider=provider))

    plan = preview(program, config={"aws:region": "eu-west-1"})
    (provider,) = find_all(plan, "pulumi:providers:aws")
    component = find(plan, "mlplat:aws:StaticSite")
    aws_children = [r for r in plan.resources if r.parent == component.urn and r.type.startswith("aws:")]
    assert aws_children and all(r.options.provider.startswith(provider.urn + "::") for r in aws_children)
    assert find(plan, "aws:acm/certificate:Certificate").inputs["region"] == "us-east-1"
    invalidation = find(plan, INVALIDATION).inputs
    assert (invalidation["region"], invalidation["profile"]) == ("eu-central-1", "ml-deploy")
    assert "roleArn" not in invalidation


def test_the_stacks_assume_role_and_profile_reach_the_invalidation_but_no_credentials():
    config = {
        "aws:region": "eu-west-1",
        "aws:profile": "ml",
        "aws:assumeRoles": json.dumps([{"roleArn": "arn:aws:iam::123456789012:role/deploy"}]),
        "aws:accessKey": "AKIAEXAMPLEEXAMPLE00",
    }
    inputs = find(site_plan(config=config), INVALIDATION).inputs
    assert (inputs["region"], inputs["profile"], inputs["roleArn"]) == ("eu-west-1", "ml", "arn:aws:iam::123456789012:role/deploy")
    assert "AKIAEXAMPLEEXAMPLE00" not in json.dumps(inputs)


def test_invalidation_role_arn_is_an_argument():
    inputs = find(site_plan(invalidation_role_arn="arn:aws:iam::123456789012:role/site-invalidator"), INVALIDATION).inputs
    assert inputs["roleArn"] == "arn:aws:iam::123456789012:role/site-invalidator"


def test_identifiers_and_tag_values_may_be_outputs(site_copy):
    def program():
        zone = aws.route53.Zone("zone", name="ml.example.com")
        StaticSite(
            "docs",
            site_dir=site_copy,
            tags={**TAGS, "team": zone.name.apply(lambda _: "ml-platform")},
            domain_name=zone.name.apply(lambda name: f"docs.{name}"),
            hosted_zone_id=zone.id.apply(lambda _: "Z0EXAMPLE1A2B3C4D5E6F"),
            access_log_bucket=pulumi.Output.from_input("ml-logs.s3.amazonaws.com"),
        )

    plan = preview(program, config={"aws:region": "eu-west-1"})
    distribution = find(plan, DISTRIBUTION).inputs
    assert distribution["aliases"] == ["docs.ml.example.com"]
    assert distribution["tags"] == STANDARD_TAGS
    assert distribution["loggingConfig"]["bucket"] == "ml-logs.s3.amazonaws.com"
    records = [r for r in find_all(plan, "aws:route53/record:Record")]
    assert len(records) == 3 and all(r.inputs["zoneId"] == "Z0EXAMPLE1A2B3C4D5E6F" for r in records)
    assert find(plan, "mlplat:aws:StaticSite").outputs["url"] == "https://docs.ml.example.com/"


@pytest.mark.parametrize(("field", "value"), [
    ("hosted_zone_id", "zone-1"),
    ("domain_name", "Docs_Site"),
    ("certificate_arn", CERTIFICATE_ARN.replace("us-east-1", "eu-west-1")),
])
def test_an_output_that_resolves_to_a_bad_value_fails_naming_the_field(field, value):
    values = {"domain_name": "docs.ml.example.com", "certificate_arn": CERTIFICATE_ARN, field: pulumi.Output.from_input(value)}
    if field == "hosted_zone_id":
        values["certificate_arn"] = None
    with pytest.raises(PreviewError) as raised:
        site_plan(**values)
    error = raised.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [issue.path for issue in error.issues] == [f"StaticSite(docs).{field}"]
    assert value not in str(error), "a late value is not echoed: it may be a secret"


def test_missing_standard_tags_are_named():
    message = failing_plan(site_dir=SITE, tags={"team": "ml-platform"})
    assert "StaticSite(docs).tags" in message and "cost-center, environment" in message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("xn--docs", "a name not starting with xn--, sthree-, amzn-s3-demo- nor ending with -s3alias, --ol-s3, .mrap, --x-s3, --table-s3 (reserved by S3): the bucket's physical name is derived from it"),
        ("Docs", "3-55 lowercase letters, digits and '-' (the bucket's physical name is derived from it)"),
        ("d" * 48, "3-55 lowercase letters, digits and '-' (the bucket's physical name is derived from it)"),
    ],
)
def test_a_name_that_cannot_name_the_content_bucket_is_refused(name, expected):
    with pytest.raises(ComponentArgsError) as raised:
        StaticSite.validate_args(name, site_dir=SITE, tags=TAGS)
    assert [(i.path, i.value, i.expected) for i in raised.value.issues] == [(f"StaticSite({name}).name", name, f"{expected} (the content bucket is named <name>-content-<7 hex>)")]
    assert StaticSite.validate_args("d" * 47, site_dir=SITE, tags=TAGS)
