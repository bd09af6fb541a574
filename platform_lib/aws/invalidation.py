"""Invalidate only the changed paths of a CloudFront distribution: a Pulumi dynamic resource.

Why a dynamic resource (``pulumi.dynamic.Resource``) and not the alternatives:

* It runs under the real Pulumi engine with nothing to download: the Python SDK ships the
  dynamic provider host, so ``pulumi up`` needs no extra plugin (unlike ``pulumi-command``,
  whose ``local.Command`` would also need the AWS CLI on the runner).
* The engine hands the provider the previous state and the new inputs, so the *diff* itself
  decides which paths changed: ``update`` receives ``{path: content hash}`` before and after and
  invalidates exactly the paths whose hash differs, appeared or disappeared. Nothing is
  invalidated when the content did not change (``diff`` reports no change, ``update`` never runs).
* It is testable without a cloud: under ``pulumi.runtime.set_mocks`` the resource registers like
  any other (the plan shows its inputs), and the provider class is a plain Python class whose
  ``check``/``diff``/``create``/``update`` methods tests call directly against moto's CloudFront.

The provider is pickled by reference (``platform_lib.aws.invalidation.CloudFrontInvalidationProvider``),
so ``platform_lib`` must be importable where ``pulumi up`` runs (it is: the program imports it).

Credentials: a dynamic provider runs in the Pulumi program's language host, and the AWS
provider's configuration (an explicit ``aws.Provider``'s region, profile and roles, or the
stack's ``aws:`` config) never reaches it. So the resource takes the *settings* it needs as
inputs: ``region``, ``profile`` and ``roleArn`` (see :class:`AwsClientSettings`, which reads them
from the caller's explicit provider or the ``aws:`` config). The provider builds a boto3 session
from them (the profile's credentials, or boto3's default chain: ``AWS_*`` environment variables,
the role ``aws-actions/configure-aws-credentials`` sets up in CI) and, with ``roleArn``, assumes
that role through STS first. Inputs are stored in the stack's state in clear, so credentials
(access keys, secret keys, session tokens) are never inputs: :meth:`CloudFrontInvalidationProvider.check`
refuses them.

CloudFront limits used here (source: Amazon CloudFront Developer Guide, "Quotas", invalidations):
at most 3,000 file paths may be in progress at once per distribution, and at most 15 wildcard
paths. A change touching more than ``maxPaths`` paths is invalidated as the single path ``/*``
(one wildcard path, billed as one path; source: CloudFront pricing, "Invalidation requests").

Every ``update`` that invalidates uses a new ``CallerReference`` (:func:`caller_reference`, a
random UUID made in the provider, never in the program, so previews stay the same): CloudFront
answers a reference it has seen with the *earlier* invalidation and invalidates nothing, so a
reference derived from the content would leave stale objects after a change A→B, its roll-back
B→A and the fix-forward A→B again. Retries within one update reuse its reference, so a retried
call never makes a second invalidation.

Retries (:func:`create_invalidation`): throttling (``Throttling`` and botocore's other throttling
codes) and transient errors (HTTP 5xx, connection errors) are retried by
botocore's ``standard`` retry mode (:data:`BOTOCORE_RETRIES`, exponential backoff with full jitter,
at most 20 seconds a wait; source: botocore ``retries/standard.py``). ``TooManyInvalidationsInProgress``
is not a retryable error for botocore (it is not in ``botocore/data/_retry.json`` nor in the standard
mode's checkers), so the provider waits for invalidations in progress to finish itself, with
exponential backoff and full jitter, a bounded number of times.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import pulumi
import pulumi.dynamic

#: CloudFront's limit on individual file paths in progress at once (Developer Guide, "Quotas").
MAX_FILE_PATHS = 3000
#: The path that invalidates every object of a distribution.
EVERYTHING = "/*"
#: Input keys that would put credentials in the stack's state; ``check`` refuses them.
CREDENTIAL_KEYS = ("accessKey", "secretKey", "token", "sessionToken", "aws_access_key_id", "aws_secret_access_key", "aws_session_token")
#: The ``RoleSessionName`` of the assumed role, as CloudTrail shows it.
ROLE_SESSION_NAME = "mlplat-cloudfront-invalidation"
#: botocore's retry settings for the CloudFront client: ``standard`` mode retries throttling and
#: transient errors (5xx, timeouts) with exponential backoff and full jitter, up to 8 attempts.
BOTOCORE_RETRIES = {"mode": "standard", "max_attempts": 8}
#: The error CloudFront returns when the distribution has too many invalidations in progress
#: (HTTP 400; CloudFront API reference, CreateInvalidation, "Errors").
TOO_MANY_INVALIDATIONS = "TooManyInvalidationsInProgress"
#: ``CreateInvalidation`` attempts while CloudFront answers :data:`TOO_MANY_INVALIDATIONS`.
MAX_ATTEMPTS = 8
#: The first wait's ceiling, in seconds; it doubles after each refusal up to :data:`MAX_WAIT_SECONDS`.
BASE_WAIT_SECONDS = 5.0
#: The ceiling of one wait, in seconds (an invalidation usually completes within minutes).
MAX_WAIT_SECONDS = 60.0


def _first_role_arn(assume_roles: Any) -> Optional[str]:
    """The ``roleArn`` of the first entry of ``aws:assumeRoles`` (a JSON list, or a list)."""
    if isinstance(assume_roles, str):
        try:
            assume_roles = json.loads(assume_roles)
        except ValueError:
            return None
    if isinstance(assume_roles, list) and assume_roles and isinstance(assume_roles[0], Mapping):
        return assume_roles[0].get("roleArn") or assume_roles[0].get("role_arn")
    return None


@dataclass(frozen=True)
class AwsClientSettings:
    """Where and as whom the invalidation provider calls CloudFront (never credentials).

    Attributes:
        region: the AWS region of the STS and CloudFront endpoints (decides the partition).
        profile: the shared-config profile whose credentials to use; ``None`` for boto3's
            default chain.
        role_arn: a role to assume first; ``None`` for none.
    """

    region: pulumi.Input[Optional[str]] = None
    profile: pulumi.Input[Optional[str]] = None
    role_arn: pulumi.Input[Optional[str]] = None

    @classmethod
    def of(cls, provider: Optional[pulumi.ProviderResource], role_arn: pulumi.Input[Optional[str]] = None) -> "AwsClientSettings":
        """The settings of the caller's AWS provider.

        Args:
            provider: the explicit ``aws.Provider`` the caller gave (its ``region`` and
                ``profile`` outputs are used); ``None`` for the default provider, whose settings
                are the stack's ``aws:region``, ``aws:profile`` and ``aws:assumeRoles`` config.
            role_arn: the role to assume; default: the first of ``aws:assumeRoles`` with the
                default provider, none with an explicit one (the SDK does not hand its
                ``assume_roles`` back to the program).
        """
        if provider is not None:
            return cls(getattr(provider, "region", None), getattr(provider, "profile", None), role_arn)
        config = pulumi.Config("aws")
        return cls(config.get("region"), config.get("profile"), role_arn if role_arn is not None else _first_role_arn(config.get("assumeRoles")))


def changed_paths(old: Mapping[str, str] | None, new: Mapping[str, str] | None, max_paths: int = 100) -> list[str]:
    """The URL paths whose content hash differs between two content maps.

    Args:
        old: path (``/css/site.css``) to content hash before the change; ``None`` for nothing.
        new: path to content hash after the change.
        max_paths: above this many changed paths, return ``["/*"]`` instead.

    Returns:
        The sorted paths that changed, appeared or disappeared; ``[]`` when nothing changed;
        ``["/*"]`` when more than ``max_paths`` changed.
    """
    old = dict(old or {})
    new = dict(new or {})
    paths = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
    if len(paths) > max_paths:
        return [EVERYTHING]
    return paths


def caller_reference() -> str:
    """A new CloudFront ``CallerReference`` (``mlplat-<uuid4 hex>``, 39 characters) for one update.

    Unique for every deployment: CloudFront answers a reference it has already seen with that
    earlier invalidation instead of making a new one (CloudFront API reference, CreateInvalidation,
    ``CallerReference``), so a reference derived from the content would make a change back to an
    earlier content a no-op.
    """
    return f"mlplat-{uuid.uuid4().hex}"


def create_invalidation(
    client: Any,
    distribution_id: str,
    paths: list[str],
    reference: str,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    base_wait_seconds: float = BASE_WAIT_SECONDS,
    max_wait_seconds: float = MAX_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> str:
    """Create one invalidation, waiting while the distribution has too many in progress.

    Every attempt sends the same ``reference``, so an attempt that CloudFront accepted but whose
    answer was lost is not invalidated twice. Throttling is retried inside the client (botocore's
    retry mode, :data:`BOTOCORE_RETRIES`); this function retries only :data:`TOO_MANY_INVALIDATIONS`,
    waiting ``jitter() * min(max_wait_seconds, base_wait_seconds * 2**n)`` seconds after the
    n-th refusal (exponential backoff with full jitter). With the defaults, the waits add up to at
    most 5 + 10 + 20 + 40 + 60 + 60 + 60 = 255 seconds.

    Args:
        client: a boto3 CloudFront client.
        distribution_id: the distribution to invalidate.
        paths: the URL paths to invalidate (each starting with ``/``).
        reference: the ``CallerReference`` of this invalidation (:func:`caller_reference`).
        max_attempts: how many ``CreateInvalidation`` calls at most (at least 1).
        base_wait_seconds: the ceiling of the first wait, in seconds.
        max_wait_seconds: the ceiling of any wait, in seconds.
        sleep: waits the given seconds (``time.sleep``; tests pass a recorder).
        jitter: a number in [0, 1) (``random.random``).

    Returns:
        The new invalidation's id.

    Raises:
        RuntimeError: CloudFront still refused with :data:`TOO_MANY_INVALIDATIONS` after
            ``max_attempts`` calls. The update fails, so the engine keeps the previous hashes and
            the next ``pulumi up`` invalidates the same paths again.
        botocore.exceptions.ClientError: any other error (after botocore's own retries).
    """
    from botocore.exceptions import ClientError

    batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference}
    waited = 0.0
    for attempt in range(max_attempts):
        try:
            return client.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)["Invalidation"]["Id"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != TOO_MANY_INVALIDATIONS:
                raise
        if attempt + 1 < max_attempts:
            wait = jitter() * min(max_wait_seconds, base_wait_seconds * 2**attempt)
            sleep(wait)
            waited += wait
    raise RuntimeError(
        f"CloudFront distribution {distribution_id} still had too many invalidations in progress after "
        f"{max_attempts} attempts ({waited:.0f} seconds of waiting); the update failed and the next "
        f"`pulumi up` will invalidate {len(paths)} path(s) again"
    )


class CloudFrontInvalidationProvider(pulumi.dynamic.ResourceProvider):
    """Dynamic provider: creates CloudFront invalidations for the paths whose hash changed.

    Properties (camelCase, as registered):
        distributionId: the distribution's id (``E2QWRUHAPOMQZL``); a new id replaces the resource.
        objectHashes: URL path to content hash (hex SHA-256) of every served path.
        maxPaths: at most this many paths are invalidated one by one; more become ``/*``.
        region, profile, roleArn: the caller's AWS settings (:class:`AwsClientSettings`);
            each may be absent. Never credentials: they would be stored in the state.

    Outputs add:
        invalidationId: the id of the last invalidation ("" when none was needed).
        invalidatedPaths: the paths the last update invalidated.
    """

    serialize_as_secret_always = False

    @staticmethod
    def session(props: Mapping[str, Any]) -> Any:
        """A boto3 session for ``props``' ``region`` and ``profile``, as ``roleArn`` when given
        (one STS ``AssumeRole`` call, session name :data:`ROLE_SESSION_NAME`)."""
        import boto3

        session = boto3.Session(profile_name=props.get("profile") or None, region_name=props.get("region") or None)
        role_arn = props.get("roleArn")
        if not role_arn:
            return session
        credentials = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=session.region_name,
        )

    def _client(self, props: Mapping[str, Any]) -> Any:
        from botocore.config import Config

        return self.session(props).client("cloudfront", config=Config(retries=dict(BOTOCORE_RETRIES)))

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Refuse an empty distribution id, paths not starting with ``/``, ``maxPaths`` outside
        1-3,000, and any credential input (it would be stored in the state in clear)."""
        failures = []
        for key in CREDENTIAL_KEYS:
            if key in news:
                failures.append(pulumi.dynamic.CheckFailure(key, "no credentials as inputs (they would be stored in the state); give a profile or roleArn"))
        for key in ("region", "profile", "roleArn"):
            if news.get(key) is not None and not isinstance(news.get(key), str):
                failures.append(pulumi.dynamic.CheckFailure(key, "a string, or nothing"))
        if not isinstance(news.get("distributionId"), str) or not news.get("distributionId"):
            failures.append(pulumi.dynamic.CheckFailure("distributionId", "a CloudFront distribution id"))
        hashes = news.get("objectHashes")
        if not isinstance(hashes, dict) or not all(isinstance(k, str) and k.startswith("/") for k in hashes):
            failures.append(pulumi.dynamic.CheckFailure("objectHashes", "a map of URL paths starting with '/' to content hashes"))
        max_paths = news.get("maxPaths", 100)
        if not isinstance(max_paths, (int, float)) or not 1 <= int(max_paths) <= MAX_FILE_PATHS:
            failures.append(pulumi.dynamic.CheckFailure("maxPaths", f"a whole number from 1 to {MAX_FILE_PATHS}"))
        return pulumi.dynamic.CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        """A new distribution id replaces the tracker; a changed hash or ``maxPaths`` updates it; else no change."""
        if olds.get("distributionId") != news.get("distributionId"):
            return pulumi.dynamic.DiffResult(changes=True, replaces=["distributionId"], delete_before_replace=False)
        # A new region, profile or role is recorded by an update that invalidates nothing.
        changed = bool(changed_paths(olds.get("objectHashes"), news.get("objectHashes"))) or any(
            olds.get(key) != news.get(key) for key in ("maxPaths", "region", "profile", "roleArn")
        )
        return pulumi.dynamic.DiffResult(changes=changed, replaces=[])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Record the hashes; nothing is invalidated (id ``<distribution id>-content``)."""
        # A new resource goes with a new distribution (or a first deploy): nothing is cached yet.
        outs = {**props, "invalidationId": "", "invalidatedPaths": []}
        return pulumi.dynamic.CreateResult(f"{props['distributionId']}-content", outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        """Invalidate the changed paths (``/*`` above ``maxPaths``) with one ``CreateInvalidation``
        under a new caller reference (retried as :func:`create_invalidation` says)."""
        max_paths = int(news.get("maxPaths", 100))
        paths = changed_paths(olds.get("objectHashes"), news.get("objectHashes"), max_paths)
        outs = {**news, "invalidationId": "", "invalidatedPaths": paths}
        if paths:
            outs["invalidationId"] = create_invalidation(self._client(news), news["distributionId"], paths, caller_reference())
        return pulumi.dynamic.UpdateResult(outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to do: an invalidation cannot be undone and removing the tracker leaves the cache alone."""
        # An invalidation cannot be undone, and deleting the tracker must not touch the cache.
        return None


class CloudFrontInvalidation(pulumi.dynamic.Resource, module="mlplat", name="CloudFrontInvalidation"):
    """Tracks the content hashes served by a distribution; invalidates changed paths on update.

    Type token: ``pulumi-python:dynamic/mlplat:CloudFrontInvalidation``.

    Attributes:
        invalidation_id: the last invalidation's id ("" when none was needed).
        invalidated_paths: the paths the last update invalidated.
    """

    distribution_id: pulumi.Output[str]
    object_hashes: pulumi.Output[dict[str, str]]
    max_paths: pulumi.Output[int]
    region: pulumi.Output[Optional[str]]
    profile: pulumi.Output[Optional[str]]
    role_arn: pulumi.Output[Optional[str]]
    invalidation_id: pulumi.Output[str]
    invalidated_paths: pulumi.Output[list[str]]

    _OUTPUT_NAMES = {
        "distributionId": "distribution_id",
        "objectHashes": "object_hashes",
        "maxPaths": "max_paths",
        "roleArn": "role_arn",
        "invalidationId": "invalidation_id",
        "invalidatedPaths": "invalidated_paths",
    }

    _INPUT_NAMES = {snake: camel for camel, snake in _OUTPUT_NAMES.items()}

    def translate_input_property(self, prop: str) -> str:
        """snake_case attribute names to the camelCase keys registered (and seen by the provider)."""
        return self._INPUT_NAMES.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        """camelCase state keys back to the snake_case attributes."""
        return self._OUTPUT_NAMES.get(prop, prop)

    def __init__(
        self,
        name: str,
        distribution_id: pulumi.Input[str],
        object_hashes: pulumi.Input[Mapping[str, str]],
        max_paths: int = 100,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        region: pulumi.Input[Optional[str]] = None,
        profile: pulumi.Input[Optional[str]] = None,
        role_arn: pulumi.Input[Optional[str]] = None,
    ) -> None:
        """Args:
            name: the resource's logical name.
            distribution_id: the distribution to invalidate.
            object_hashes: URL path to content hash of every served path.
            max_paths: above this many changed paths, ``/*`` is invalidated (1-3,000).
            opts: resource options.
            region: the AWS region for STS and CloudFront (see :class:`AwsClientSettings`).
            profile: the shared-config profile to use; ``None`` for boto3's default chain.
            role_arn: an IAM role to assume before calling CloudFront.
        """
        super().__init__(
            CloudFrontInvalidationProvider(),
            name,
            {
                "distribution_id": distribution_id,
                "object_hashes": object_hashes,
                "max_paths": max_paths,
                "region": region,
                "profile": profile,
                "role_arn": role_arn,
                "invalidation_id": None,
                "invalidated_paths": None,
            },
            opts,
        )
