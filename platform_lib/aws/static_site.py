"""``StaticSite``: a static web site on a private S3 bucket served by CloudFront.

What it builds (type token ``mlplat:aws:StaticSite``):

* a private S3 bucket (all public access blocked, object ownership enforced), reached only
  through an Origin Access Control; its bucket policy allows ``s3:GetObject`` to the CloudFront
  service principal *conditioned on* ``AWS:SourceArn`` being this distribution, and denies any
  request that is not TLS. Never a public bucket, never the legacy origin access identity
  (source: Amazon CloudFront Developer Guide, "Restricting access to an Amazon S3 origin");
* SSE-KMS on that bucket with a dedicated customer managed key (yearly rotation on) and an S3
  Bucket Key. The key's policy (an ``aws.kms.KeyPolicy``, registered once the distribution's ARN
  is known, so the distribution -> bucket -> key chain has no cycle) allows the account root, so
  IAM policies keep deciding for people and deployers, and allows ``cloudfront.amazonaws.com``
  ``kms:Decrypt`` only with ``AWS:SourceArn`` equal to this distribution. OAC, unlike an origin
  access identity, can read SSE-KMS objects when the key policy allows the CloudFront service
  principal with that condition (source: Amazon CloudFront Developer Guide, "Restricting access
  to an Amazon S3 origin", the SSE-KMS key policy statement; the guide's example also allows
  ``kms:Encrypt`` and ``kms:GenerateDataKey*`` for uploads through CloudFront, which this site
  never accepts: its behaviours allow only GET and HEAD). The root statement is the AWS KMS
  default key policy's (source: AWS KMS Developer Guide, "Default key policy");
* versioning on, and lifecycle rules that delete noncurrent versions (each changed or removed
  file leaves one) after ``noncurrent_version_expiration_days`` and abort incomplete multipart
  uploads, built by the same functions as :class:`~platform_lib.aws.data_bucket.DataBucket`;
* one S3 object per file of ``site_dir``, with its content type from the file extension and a
  SHA-256 ``source_hash``, so any HTML or CSS change shows as a diff of exactly that object, and
  a file removed from the directory removes its object;
* a distribution that redirects HTTP to HTTPS, compresses, serves a default root object and
  custom error pages, attaches a response-headers policy (HSTS, X-Content-Type-Options,
  X-Frame-Options, Referrer-Policy, optional Content-Security-Policy), caches HTML briefly and
  fingerprinted assets for long, and optionally writes access logs;
* with ``domain_name``: an alias, a TLS certificate from ACM in us-east-1 (CloudFront only
  accepts certificates from us-east-1; source: CloudFront Developer Guide, "Requirements for
  using SSL/TLS certificates with CloudFront") validated by DNS in the Route 53 zone, with the
  minimum protocol ``TLSv1.2_2021``, and A/AAAA alias records;
* a :class:`~platform_lib.aws.invalidation.CloudFrontInvalidation` (a Pulumi dynamic resource)
  that invalidates only the paths whose content hash changed. See that module for why a dynamic
  resource was chosen.

Without a domain the distribution uses CloudFront's default ``*.cloudfront.net`` certificate;
CloudFront then fixes the viewer security policy at TLSv1 and accepts no other minimum (sources:
CloudFront API reference, ``ViewerCertificate.MinimumProtocolVersion``; the AWS provider's
``minimum_protocol_version`` documentation), so TLS 1.2 as a floor needs a domain.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Optional, TypedDict, overload

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator
from typing_extensions import Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import Issue, located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.policy_documents import deny_insecure_transport_statement
from ..core.tagging import require_standard_keys, with_managed_by
from .s3 import (
    DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS,
    DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS,
    DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS,
    AbortIncompleteMultipartUploadDays,
    KmsKeyDeletionWindowDays,
    NoncurrentVersionExpirationDays,
    block_public_access,
    bucket_kms_key,
    logical_bucket_name_problem,
    owner_enforced,
    versioned_kms_settings,
)
from .invalidation import MAX_FILE_PATHS, AwsClientSettings, CloudFrontInvalidation

#: Kept from the first release: changing it would change every URN of every site.
TYPE_TOKEN = "mlplat:aws:StaticSite"
#: The only region whose ACM certificates CloudFront accepts (source: CloudFront Developer Guide,
#: "Requirements for using SSL/TLS certificates with CloudFront").
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"

#: One year in seconds: the usual ``max-age`` of immutable, fingerprinted assets.
ONE_YEAR_SECONDS = 31_536_000
#: Two years in seconds: the HSTS ``max-age`` hstspreload.org recommends.
TWO_YEARS_SECONDS = 63_072_000

_HOSTNAME = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_ZONE_ID = r"^Z[A-Z0-9]{1,31}$"
_US_EAST_1_CERTIFICATE = r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$"
_LOG_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\.s3(\.[a-z0-9-]+)?\.amazonaws\.com$"
_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$"

# Content types the standard library's built-in table lacks or gives an outdated value for.
# Sources: RFC 9239 (text/javascript), RFC 8081 (font/woff, font/woff2), IANA media types.
_EXTRA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".webp": "image/webp",
    ".map": "application/json",
    ".wasm": "application/wasm",
}
_TYPES = mimetypes.MimeTypes(filenames=())  # built-in table only: the same answer on every machine
_CHARSET_TYPES = ("text/", "application/json", "application/javascript", "application/manifest+json", "image/svg+xml", "application/xml")


def content_type_for(path: str) -> str:
    """The ``Content-Type`` to serve a file with, from its extension.

    Text types get ``; charset=utf-8``. Unknown extensions are ``application/octet-stream``.
    Uses the standard library's built-in table (not the machine's ``/etc/mime.types``), so a
    preview gives the same answer everywhere, plus RFC 9239 / RFC 8081 types it lacks.
    """
    suffix = Path(path).suffix.lower()
    content_type = _EXTRA_TYPES.get(suffix) or _TYPES.guess_type(f"file{suffix}")[0] or "application/octet-stream"
    if content_type.startswith(_CHARSET_TYPES):
        content_type += "; charset=utf-8"
    return content_type


def file_hash(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def url_path(key: str) -> str:
    """The URL path CloudFront serves an object key at, percent-encoded as invalidations need it
    (source: CloudFront Developer Guide, "Specifying the objects to invalidate")."""
    return "/" + urllib.parse.quote(key, safe="/-_.~!$&'()*+,;=:@")


@dataclass(frozen=True)
class SiteFile:
    """One file of the site.

    Attributes:
        key: the S3 object key (the path relative to the site directory, with ``/``).
        path: the file on disk.
        sha256: the hex SHA-256 of its bytes.
        content_type: the ``Content-Type`` it is served with.
        cache_control: the ``Cache-Control`` it is served with.
        fingerprinted: whether its name carries a content hash (long cache lifetime).
    """

    key: str
    path: Path
    sha256: str
    content_type: str
    cache_control: str
    fingerprinted: bool


def list_site_files(site_dir: Path) -> list[Path]:
    """Every regular file below ``site_dir``, sorted; hidden files and directories (``.git``,
    ``.DS_Store``) are skipped."""
    files = []
    for path in sorted(site_dir.rglob("*")):
        relative = path.relative_to(site_dir)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file():
            files.append(path)
    return files


def _tag_value(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("a string (a tag value)")
    return value


def _site_dir(value: Any) -> Path:
    if not isinstance(value, (str, Path)) or str(value) == "":
        raise ValueError("a path to the directory holding the site's files")
    path = Path(value)
    if path.resolve() == Path(path.resolve().anchor):
        raise ValueError(f"a directory holding the site's files, not the filesystem root {path.resolve()} (every file below it would be published)")
    if not path.exists():
        raise ValueError(f"an existing directory holding the site's files ({path.resolve()} does not exist)")
    if not path.is_dir():
        raise ValueError(f"a directory holding the site's files ({path.resolve()} is not a directory)")
    if not list_site_files(path):
        raise ValueError("a directory holding at least one file (it is empty; hidden files are skipped)")
    return path


HostName = Annotated[Input[str], InputCheck.matching(_HOSTNAME, "a lower-case DNS host name such as docs.ml.example.com")]
HostedZoneId = Annotated[Input[str], InputCheck.matching(_ZONE_ID, "a Route 53 hosted zone id (Z followed by upper-case letters and digits)")]
UsEast1CertificateArn = Annotated[Input[str], InputCheck.matching(_US_EAST_1_CERTIFICATE, "an ACM certificate ARN in us-east-1 (CloudFront accepts no other region)")]
LogBucketDomainName = Annotated[Input[str], InputCheck.matching(_LOG_BUCKET, "an S3 bucket domain name such as logs.s3.amazonaws.com")]
RoleArn = Annotated[Input[str], InputCheck.matching(_ROLE_ARN, "an IAM role ARN (arn:aws:iam::<account>:role/<name>)")]


class StaticSiteArgs(ComponentArgs):
    """Arguments of :class:`StaticSite`.

    Fields that name another thing (``domain_name``, ``hosted_zone_id``, ``certificate_arn``,
    ``access_log_bucket``, ``invalidation_role_arn``, tag values) take a ``pulumi.Input``: a
    plain value is checked at construction, an Output when its value arrives (see
    :mod:`platform_lib.core.inputs`).

    Attributes:
        site_dir: the directory whose files are the site (one S3 object per file).
        tags: tags for every taggable child; must hold ``team``, ``cost-center`` and
            ``environment`` (values may be Outputs); ``managed-by: pulumi`` is added.
        index_document: the default root object, a file of ``site_dir`` (served at ``/``).
        error_document: the page served, with status 404, for missing paths (S3 answers 403
            for a missing key when the caller may not list the bucket, so 403 maps to it too);
            ``None`` to serve CloudFront's own error responses.
        domain_name: the site's host name (``docs.ml.example.com``); ``None`` for the
            ``*.cloudfront.net`` name only.
        hosted_zone_id: the Route 53 public hosted zone of ``domain_name``: used to validate a
            new ACM certificate by DNS and to create A/AAAA alias records.
        certificate_arn: an existing ACM certificate in us-east-1 covering ``domain_name``; when
            absent and a zone is given, a certificate is requested (in us-east-1) and validated.
        html_ttl_seconds: how long, in seconds, HTML and any other non-fingerprinted file may be
            cached by CloudFront and browsers (``Cache-Control: max-age``). Default 60 s.
        asset_ttl_seconds: how long, in seconds, fingerprinted assets may be cached. Default one
            year, with ``immutable``.
        fingerprinted_path_patterns: CloudFront path patterns served by the long-lived cache
            behaviour (``assets/*``).
        fingerprint_pattern: a regular expression a file *name* matches when it carries a
            content hash (``app.3f2a9c1b.css``); such files get the long ``Cache-Control``.
        content_security_policy: the ``Content-Security-Policy`` header value; ``None`` to send
            none.
        hsts_max_age_seconds: ``Strict-Transport-Security`` max-age in seconds (default two years).
        hsts_include_subdomains: add ``includeSubDomains`` to HSTS.
        hsts_preload: add ``preload`` to HSTS (only for a registrable domain you control fully).
        frame_options: ``X-Frame-Options``: ``DENY`` or ``SAMEORIGIN``.
        referrer_policy: the ``Referrer-Policy`` header value.
        price_class: the CloudFront price class (edge locations used).
        access_log_bucket: the S3 bucket *domain name* (``logs.s3.amazonaws.com``) for CloudFront
            standard access logs; ``None`` for no logs. The bucket must allow ACL writes by the
            ``awslogsdelivery`` account (source: CloudFront Developer Guide, "Standard logging").
        access_log_prefix: the key prefix of the log files.
        max_invalidation_paths: a content change touching more paths than this invalidates
            ``/*`` instead (CloudFront allows 3,000 file paths in progress at once).
        invalidation_role_arn: the IAM role the invalidation provider assumes to call
            CloudFront. Default: the first role of the stack's ``aws:assumeRoles`` config when
            the site has no explicit AWS provider, else none. Set it when an explicit provider
            assumes a role: the Pulumi SDK does not hand a program an explicit provider's
            ``assume_roles`` back (see :mod:`platform_lib.aws.invalidation`).
        noncurrent_version_expiration_days: days after which a noncurrent object version (the
            old copy of a changed or removed file) is deleted (1-3650, default 90).
        abort_incomplete_multipart_upload_days: days after which an unfinished multipart upload's
            parts are deleted (1-365, default 7).
        kms_key_deletion_window_days: waiting period in days before the bucket's KMS key is
            deleted (7-30, default 30; source: AWS KMS API ``ScheduleKeyDeletion``).
    """

    site_dir: Annotated[Path, BeforeValidator(_site_dir)]
    tags: Annotated[dict[str, Input[str]], InputCheck.for_values(_tag_value), AfterValidator(require_standard_keys)]
    index_document: str = Field(default="index.html", min_length=1)
    error_document: Optional[str] = "404.html"
    domain_name: Optional[HostName] = None
    hosted_zone_id: Optional[HostedZoneId] = None
    certificate_arn: Optional[UsEast1CertificateArn] = None
    html_ttl_seconds: int = Field(default=60, ge=0)
    asset_ttl_seconds: int = Field(default=ONE_YEAR_SECONDS, ge=0)
    fingerprinted_path_patterns: list[str] = Field(default_factory=lambda: ["assets/*"])
    fingerprint_pattern: str = r"\.[0-9a-f]{8,64}\.[A-Za-z0-9]+$"
    content_security_policy: Optional[str] = Field(default=None, min_length=1)
    hsts_max_age_seconds: int = Field(default=TWO_YEARS_SECONDS, ge=0)
    hsts_include_subdomains: bool = True
    hsts_preload: bool = False
    frame_options: Literal["DENY", "SAMEORIGIN"] = "DENY"
    referrer_policy: Literal[
        "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
        "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
    ] = "strict-origin-when-cross-origin"
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    access_log_bucket: Optional[LogBucketDomainName] = None
    access_log_prefix: str = ""
    max_invalidation_paths: int = Field(default=100, ge=1, le=MAX_FILE_PATHS)
    invalidation_role_arn: Optional[RoleArn] = None
    noncurrent_version_expiration_days: NoncurrentVersionExpirationDays = DEFAULT_NONCURRENT_VERSION_EXPIRATION_DAYS
    abort_incomplete_multipart_upload_days: AbortIncompleteMultipartUploadDays = DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS
    kms_key_deletion_window_days: KmsKeyDeletionWindowDays = DEFAULT_KMS_KEY_DELETION_WINDOW_DAYS

    @field_validator("fingerprint_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"a valid regular expression ({error})") from None
        return value

    @field_validator("fingerprinted_path_patterns")
    @classmethod
    def _path_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern or pattern.startswith("/") or pattern in ("*", "/*"):
                raise ValueError("CloudFront path patterns relative to the root, such as 'assets/*' (not '*', which is the default behaviour)")
        return value

    @model_validator(mode="after")
    def _across_fields(self) -> "StaticSiteArgs":
        """The documents are files of ``site_dir``; a domain comes with a zone or certificate,
        and a zone or certificate with a domain (each problem at the field to change)."""
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        files = {f.relative_to(self.site_dir).as_posix() for f in list_site_files(self.site_dir)}
        if self.index_document not in files:
            problems.append((("index_document",), self.index_document, f"a file of site_dir {str(self.site_dir)!r}"))
        if self.error_document is not None and self.error_document not in files:
            problems.append((("error_document",), self.error_document, f"a file of site_dir {str(self.site_dir)!r}, or None for CloudFront's own error pages"))
        if self.domain_name is not None and self.hosted_zone_id is None and self.certificate_arn is None:
            problems.append((("domain_name",), self.domain_name, "hosted_zone_id (to request and DNS-validate an ACM certificate) or certificate_arn (an ACM certificate in us-east-1) with it"))
        if self.domain_name is None:
            for field in ("hosted_zone_id", "certificate_arn"):
                if getattr(self, field) is not None:
                    problems.append(((field,), getattr(self, field), "set together with domain_name"))
        if problems:
            raise located_validation_error("StaticSiteArgs", problems)
        return self


class StaticSiteArgsDict(TypedDict, total=False):
    """The fields of :class:`StaticSiteArgs` as keyword arguments of :class:`StaticSite`."""

    site_dir: Path | str
    tags: Mapping[str, pulumi.Input[str]]
    index_document: str
    error_document: Optional[str]
    domain_name: Optional[pulumi.Input[str]]
    hosted_zone_id: Optional[pulumi.Input[str]]
    certificate_arn: Optional[pulumi.Input[str]]
    html_ttl_seconds: int
    asset_ttl_seconds: int
    fingerprinted_path_patterns: list[str]
    fingerprint_pattern: str
    content_security_policy: Optional[str]
    hsts_max_age_seconds: int
    hsts_include_subdomains: bool
    hsts_preload: bool
    frame_options: Literal["DENY", "SAMEORIGIN"]
    referrer_policy: str
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
    access_log_bucket: Optional[pulumi.Input[str]]
    access_log_prefix: str
    max_invalidation_paths: int
    invalidation_role_arn: Optional[pulumi.Input[str]]
    noncurrent_version_expiration_days: int
    abort_incomplete_multipart_upload_days: int
    kms_key_deletion_window_days: int


#: The children that hold state worth protecting: the bucket, its KMS key and the distribution.
#: Content objects and the invalidation tracker are rebuilt from the site directory (protecting
#: them would make every removed or renamed file fail ``pulumi up``); a certificate is requested
#: again for a new domain.
STATEFUL_CHILD_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:cloudfront/distribution:Distribution"})


def protect_stateful_children(protect: bool = True, retain_on_delete: bool = True) -> pulumi.ResourceTransformation:
    """A resource transformation, for the caller's ``opts``, that protects and retains only the
    :data:`STATEFUL_CHILD_TYPES` children of a site.

    ``opts=pulumi.ResourceOptions(protect=True)`` protects every child, content objects
    included, as with any component; use
    ``opts=pulumi.ResourceOptions(transformations=[protect_stateful_children()])`` instead to
    keep content deployable (a removed file deletes its object). The platform layer does this
    for prod stacks.

    Args:
        protect: set ``protect`` on the stateful children.
        retain_on_delete: set ``retain_on_delete`` on the stateful children.
    """

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ not in STATEFUL_CHILD_TYPES:
            return None
        extra = pulumi.ResourceOptions(protect=protect or None, retain_on_delete=retain_on_delete or None)
        return pulumi.ResourceTransformationResult(args.props, pulumi.ResourceOptions.merge(args.opts, extra))

    return transformation


@dataclass(frozen=True)
class _Origin:
    """The bucket side of a site: what the distribution and the content need from it."""

    bucket: aws.s3.Bucket
    key: aws.kms.Key
    public_access: aws.s3.BucketPublicAccessBlock


class StaticSite(Component[StaticSiteArgs], type_token=TYPE_TOKEN):
    """A static web site: private S3 origin, CloudFront, content objects, changed-path invalidation.

    Every child is registered with the caller's options (``provider``, ``protect``,
    ``retain_on_delete``, ``depends_on``...), see :mod:`platform_lib.core.component`. The
    certificate is requested in us-east-1 through the caller's provider with the AWS provider's
    per-resource ``region`` argument (pulumi-aws 7.0 and later; source: Pulumi AWS provider
    guide "Enhanced Region Support", https://www.pulumi.com/registry/packages/aws/how-to-guides/aws-enhanced-region-support),
    not through a second provider. The invalidation tracker, a dynamic resource that the AWS
    provider's configuration does not reach, is given the provider's region and profile (and
    ``invalidation_role_arn``) as inputs; see :class:`~platform_lib.aws.invalidation.CloudFrontInvalidation`.

    ``protect=True`` in ``opts`` protects content objects too; see
    :func:`protect_stateful_children` to protect only the bucket, key and distribution.

    Args:
        name: the component's logical name; children are named ``<name>-<part>``.
        args: a :class:`StaticSiteArgs` or a mapping of its fields; or give the fields as
            keyword arguments instead.
        opts: resource options, passed to every child.

    Raises:
        ComponentArgsError: any invalid argument (missing or empty site directory, missing
            standard tags, a domain without a zone or certificate, a TTL below zero, ...),
            before anything is registered; an Output argument that fails its check when its
            value arrives, naming the field.

    Attributes:
        bucket_name: the S3 bucket's name.
        bucket_arn: the S3 bucket's ARN.
        kms_key_arn: the ARN of the bucket's KMS key (a deployer uploading content needs
            ``kms:GenerateDataKey`` on it through IAM).
        distribution_id: the CloudFront distribution id.
        distribution_arn: the distribution ARN (the ``AWS:SourceArn`` of the bucket policy).
        distribution_domain_name: ``dxxxx.cloudfront.net``.
        url: ``https://<domain_name or distribution domain>/``.
        object_hashes: URL path to the hex SHA-256 of its content (the invalidation's input).
        invalidated_paths: the URL paths the last ``pulumi up`` invalidated.
        files: the site's files as :class:`SiteFile` (plain values, known at construction).
    """

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    distribution_domain_name: pulumi.Output[str]
    url: pulumi.Output[str]
    object_hashes: pulumi.Output[dict[str, str]]
    invalidated_paths: pulumi.Output[list[str]]

    @overload
    def __init__(self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...

    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[StaticSiteArgsDict]) -> None: ...

    def __init__(self, name: str, args: StaticSiteArgs | Mapping[str, Any] | None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def name_issues(cls, name: str) -> list[Issue]:
        """The content bucket is auto-named from ``<name>-content``: that must be a bucket's logical
        name (:func:`~platform_lib.aws.s3.logical_bucket_name_problem`), so ``name`` has at most 47
        lowercase letters, digits and '-', and no prefix S3 reserves."""
        problem = logical_bucket_name_problem(f"{name}-content") if isinstance(name, str) else "a string"
        return [Issue(f"{cls.label(name)}.name", name, f"{problem} (the content bucket is named <name>-content-<7 hex>)")] if problem else []

    def _create(self, name: str, args: StaticSiteArgs) -> dict[str, Any]:
        tags = with_managed_by(args.tags)
        self.files = read_site_files(args)
        origin = self._origin(name, args, tags)
        distribution = self._distribution(name, args, tags, origin)
        policies = self._access_policies(name, origin, distribution)
        objects = self._content(name, args, tags, origin.bucket)
        hashes = object_hashes(self.files, args.index_document)
        invalidation = self._invalidation(name, args, distribution, hashes, [*objects, *policies])
        if args.domain_name is not None and args.hosted_zone_id is not None:
            self._alias_records(name, args, distribution)
        host = pulumi.Output.from_input(args.domain_name) if args.domain_name is not None else distribution.domain_name
        return {
            "bucket_name": origin.bucket.bucket,
            "bucket_arn": origin.bucket.arn,
            "kms_key_arn": origin.key.arn,
            "distribution_id": distribution.id,
            "distribution_arn": distribution.arn,
            "distribution_domain_name": distribution.domain_name,
            "url": host.apply(lambda value: f"https://{value}/"),
            "object_hashes": pulumi.Output.from_input(hashes),
            "invalidated_paths": invalidation.invalidated_paths,
        }

    # -- the children, one group each --------------------------------------------------------------

    def _origin(self, name: str, args: StaticSiteArgs, tags: Mapping[str, Any]) -> _Origin:
        """The private, SSE-KMS, versioned bucket and its key (``<name>-content*``)."""
        key = bucket_kms_key(
            f"{name}-content-key", f"Encrypts the objects of the {name} site bucket (SSE-KMS)", args.kms_key_deletion_window_days, tags, self.child_options()
        )
        bucket = aws.s3.Bucket(f"{name}-content", force_destroy=False, tags=tags, opts=self.child_options())
        public_access = block_public_access(f"{name}-content-public-access", bucket, self.child_options())
        owner_enforced(f"{name}-content-ownership", bucket, self.child_options())
        # <name>-content-encryption, -versioning, -lifecycle: the same settings as an S3DataBucket's.
        versioned_kms_settings(
            f"{name}-content", bucket, key.arn, args.noncurrent_version_expiration_days, args.abort_incomplete_multipart_upload_days, self.child_options()
        )
        return _Origin(bucket, key, public_access)

    def _distribution(self, name: str, args: StaticSiteArgs, tags: Mapping[str, Any], origin: _Origin) -> aws.cloudfront.Distribution:
        """The origin access control, cache and headers policies, certificate and distribution."""
        origin_access = aws.cloudfront.OriginAccessControl(
            f"{name}-origin-access",
            description=f"CloudFront access to the {name} site bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=self.child_options(),
        )
        html_cache = self._cache_policy(f"{name}-html-cache", args.html_ttl_seconds, "HTML and other files that keep their name")
        asset_cache = self._cache_policy(f"{name}-asset-cache", args.asset_ttl_seconds, "fingerprinted assets (content hash in the name)")
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers",
            comment=f"Security headers of the {name} site",
            security_headers_config=security_headers(args),
            opts=self.child_options(),
        )
        origin_id = f"{name}-s3"
        behaviour = {
            "target_origin_id": origin_id,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD"],
            "cached_methods": ["GET", "HEAD"],
            "compress": True,
            "response_headers_policy_id": headers.id,
        }
        logging_config = None
        if args.access_log_bucket is not None:
            logging_config = {"bucket": args.access_log_bucket, "prefix": args.access_log_prefix, "include_cookies": False}
        return aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment=f"{name} static site",
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=args.price_class,
            default_root_object=args.index_document,
            aliases=[args.domain_name] if args.domain_name is not None else None,
            origins=[{"domain_name": origin.bucket.bucket_regional_domain_name, "origin_id": origin_id, "origin_access_control_id": origin_access.id}],
            default_cache_behavior={**behaviour, "cache_policy_id": html_cache.id},
            ordered_cache_behaviors=[{**behaviour, "path_pattern": pattern, "cache_policy_id": asset_cache.id} for pattern in args.fingerprinted_path_patterns],
            custom_error_responses=error_responses(args) or None,
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=self._viewer_certificate(name, args, tags),
            logging_config=logging_config,
            tags=tags,
            opts=self.child_options(),
        )

    def _access_policies(self, name: str, origin: _Origin, distribution: aws.cloudfront.Distribution) -> list[pulumi.Resource]:
        """The bucket policy and the key policy, both naming this distribution.

        Registered after the distribution (its ARN is their condition), not with the bucket and
        key: the distribution needs the bucket, whose encryption needs the key.
        """
        bucket_policy = aws.s3.BucketPolicy(
            f"{name}-content-policy",
            bucket=origin.bucket.id,
            policy=pulumi.Output.all(origin.bucket.arn, distribution.arn).apply(lambda values: bucket_policy_document(values[0], values[1])),
            opts=self.child_options(depends_on=[origin.public_access]),
        )
        invoke = self.invoke_options()
        key_policy = aws.kms.KeyPolicy(
            f"{name}-content-key-policy",
            key_id=origin.key.key_id,
            policy=pulumi.Output.all(
                aws.get_partition_output(opts=invoke).partition,
                aws.get_caller_identity_output(opts=invoke).account_id,
                distribution.arn,
            ).apply(lambda values: key_policy_document(values[1], values[2], partition=values[0])),
            opts=self.child_options(),
        )
        return [bucket_policy, key_policy]

    def _content(self, name: str, args: StaticSiteArgs, tags: Mapping[str, Any], bucket: aws.s3.Bucket) -> list[aws.s3.BucketObjectv2]:
        """One object per file of the site (``<name>-<key>``)."""
        return [
            aws.s3.BucketObjectv2(
                f"{name}-{site_file.key}",
                bucket=bucket.id,
                key=site_file.key,
                source=pulumi.FileAsset(str(site_file.path)),
                source_hash=site_file.sha256,
                content_type=site_file.content_type,
                cache_control=site_file.cache_control,
                tags=tags,
                opts=self.child_options(),
            )
            for site_file in self.files
        ]

    def _invalidation(
        self, name: str, args: StaticSiteArgs, distribution: aws.cloudfront.Distribution, hashes: dict[str, str], after: list[pulumi.Resource]
    ) -> CloudFrontInvalidation:
        """The changed-path invalidation tracker, with the caller's AWS region, profile and role."""
        settings = AwsClientSettings.of(self.get_provider("aws:s3/bucket:Bucket"), args.invalidation_role_arn)
        return CloudFrontInvalidation(
            f"{name}-invalidation",
            distribution_id=distribution.id,
            object_hashes=hashes,
            max_paths=args.max_invalidation_paths,
            region=settings.region,
            profile=settings.profile,
            role_arn=settings.role_arn,
            opts=self.child_options(depends_on=after),
        )

    def _alias_records(self, name: str, args: StaticSiteArgs, distribution: aws.cloudfront.Distribution) -> None:
        """A and AAAA alias records of ``domain_name`` to the distribution."""
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                f"{name}-alias-{record_type.lower()}",
                zone_id=args.hosted_zone_id,
                name=args.domain_name,
                type=record_type,
                aliases=[{"name": distribution.domain_name, "zone_id": distribution.hosted_zone_id, "evaluate_target_health": False}],
                opts=self.child_options(),
            )

    def _cache_policy(self, resource_name: str, ttl_seconds: int, what: str) -> aws.cloudfront.CachePolicy:
        # The object's own Cache-Control decides within [0, ttl]; without one, ttl applies.
        return aws.cloudfront.CachePolicy(
            resource_name,
            comment=f"Caches {what} for at most {ttl_seconds} s",
            min_ttl=0,
            default_ttl=ttl_seconds,
            max_ttl=ttl_seconds,
            parameters_in_cache_key_and_forwarded_to_origin={
                "cookies_config": {"cookie_behavior": "none"},
                "headers_config": {"header_behavior": "none"},
                "query_strings_config": {"query_string_behavior": "none"},
                # CloudFront refuses compressed variants in the key of a policy that caches nothing
                # (CloudFront Developer Guide, "Serving compressed files": compression needs caching).
                "enable_accept_encoding_brotli": ttl_seconds > 0,
                "enable_accept_encoding_gzip": ttl_seconds > 0,
            },
            opts=self.child_options(),
        )

    def _viewer_certificate(self, name: str, args: StaticSiteArgs, tags: Mapping[str, Any]) -> dict[str, Any]:
        if args.domain_name is None:
            # The provider refuses any minimum protocol but TLSv1 with the default certificate.
            return {"cloudfront_default_certificate": True}
        certificate_arn = args.certificate_arn if args.certificate_arn is not None else self._certificate(name, args, tags)
        return {"acm_certificate_arn": certificate_arn, "ssl_support_method": "sni-only", "minimum_protocol_version": "TLSv1.2_2021"}

    def _certificate(self, name: str, args: StaticSiteArgs, tags: Mapping[str, Any]) -> pulumi.Output[str]:
        """An ACM certificate for ``domain_name`` in us-east-1, validated by DNS in the zone.

        CloudFront only uses certificates from us-east-1, whatever the stack's region (source:
        CloudFront Developer Guide, "Requirements for using SSL/TLS certificates with
        CloudFront"): the certificate and its validation set ``region="us-east-1"`` and use the
        caller's provider.
        """
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=args.domain_name,
            validation_method="DNS",
            region=CLOUDFRONT_CERTIFICATE_REGION,
            tags=tags,
            opts=self.child_options(),
        )
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        record = aws.route53.Record(
            f"{name}-certificate-dns",
            zone_id=args.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=self.child_options(),
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate-validation",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            region=CLOUDFRONT_CERTIFICATE_REGION,
            opts=self.child_options(),
        )
        return validation.certificate_arn


def read_site_files(args: StaticSiteArgs) -> list[SiteFile]:
    """Every file of ``args.site_dir`` with its key, hash, content type and ``Cache-Control``."""
    fingerprint = re.compile(args.fingerprint_pattern)
    files = []
    for path in list_site_files(args.site_dir):
        key = path.relative_to(args.site_dir).as_posix()
        fingerprinted = bool(fingerprint.search(path.name))
        if fingerprinted:
            cache_control = f"public, max-age={args.asset_ttl_seconds}, immutable"
        else:
            cache_control = f"public, max-age={args.html_ttl_seconds}, must-revalidate"
        files.append(SiteFile(key, path, file_hash(path), content_type_for(key), cache_control, fingerprinted))
    return files


def error_responses(args: StaticSiteArgs) -> list[dict[str, Any]]:
    """403 and 404 from the origin answered with ``error_document`` and status 404; none without one."""
    if not args.error_document:
        return []
    return [
        {"error_code": code, "response_code": 404, "response_page_path": url_path(args.error_document), "error_caching_min_ttl": args.html_ttl_seconds}
        for code in (403, 404)
    ]


def security_headers(args: StaticSiteArgs) -> dict[str, Any]:
    """The response headers policy's ``security_headers_config``: HSTS, nosniff, frame options,
    referrer policy and the optional Content-Security-Policy, each overriding the origin's."""
    config: dict[str, Any] = {
        "strict_transport_security": {
            "access_control_max_age_sec": args.hsts_max_age_seconds,
            "include_subdomains": args.hsts_include_subdomains,
            "preload": args.hsts_preload,
            "override": True,
        },
        "content_type_options": {"override": True},
        "frame_options": {"frame_option": args.frame_options, "override": True},
        "referrer_policy": {"referrer_policy": args.referrer_policy, "override": True},
    }
    if args.content_security_policy:
        config["content_security_policy"] = {"content_security_policy": args.content_security_policy, "override": True}
    return config



def object_hashes(files: list[SiteFile], index_document: str) -> dict[str, str]:
    """URL path to content hash for every file; the index document is also served at ``/``."""
    hashes = {url_path(f.key): f.sha256 for f in files}
    for f in files:
        if f.key == index_document:
            hashes["/"] = f.sha256
    return dict(sorted(hashes.items()))


def bucket_policy_document(bucket_arn: str, distribution_arn: str) -> str:
    """The site bucket's policy: ``s3:GetObject`` for this distribution only, TLS only.

    Source: CloudFront Developer Guide, "Restricting access to an Amazon S3 origin" (the
    ``cloudfront.amazonaws.com`` principal with an ``AWS:SourceArn`` condition), and AWS
    Foundational Security Best Practices S3.5 ("S3 buckets should require requests to use SSL").
    """
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowCloudFrontDistributionRead",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
            deny_insecure_transport_statement(bucket_arn),
        ],
    }, sort_keys=False)


def key_policy_document(account_id: str, distribution_arn: str, partition: str = "aws") -> str:
    """The content key's policy: the account decides through IAM; CloudFront may only decrypt,
    and only for this distribution.

    Args:
        account_id: the 12-digit AWS account that owns the key.
        distribution_arn: ``arn:aws:cloudfront::<account>:distribution/<id>``.
        partition: ``aws``, ``aws-cn`` or ``aws-us-gov``.

    Returns:
        The policy JSON: ``EnableIamPolicies`` (``kms:*`` for ``arn:<partition>:iam::<account>:root``,
        the AWS KMS default key policy statement; without it no IAM policy could grant use of the
        key; source: AWS KMS Developer Guide, "Default key policy") and
        ``AllowCloudFrontServicePrincipalSSE-KMS`` (``kms:Decrypt`` for
        ``cloudfront.amazonaws.com`` when ``AWS:SourceArn`` equals ``distribution_arn``; source:
        Amazon CloudFront Developer Guide, "Restricting access to an Amazon S3 origin", SSE-KMS).
    """
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "AllowCloudFrontServicePrincipalSSE-KMS",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
        ],
    }, sort_keys=False)
