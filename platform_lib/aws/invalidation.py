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
It calls CloudFront through boto3's default credential chain (``AWS_*`` environment variables,
``AWS_PROFILE``, or the role ``aws-actions/configure-aws-credentials`` sets up in CI).

CloudFront limits used here (source: Amazon CloudFront Developer Guide, "Quotas", invalidations):
at most 3,000 file paths may be in progress at once per distribution, and at most 15 wildcard
paths. A change touching more than ``maxPaths`` paths is invalidated as the single path ``/*``
(one wildcard path, billed as one path; source: CloudFront pricing, "Invalidation requests").
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping, Optional

import pulumi
import pulumi.dynamic

#: CloudFront's limit on individual file paths in progress at once (Developer Guide, "Quotas").
MAX_FILE_PATHS = 3000
#: The path that invalidates every object of a distribution.
EVERYTHING = "/*"


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


def caller_reference(distribution_id: str, hashes: Mapping[str, str], paths: list[str]) -> str:
    """A CloudFront ``CallerReference`` that is the same for the same change, so a retried update
    does not create a second invalidation (CloudFront answers a repeated reference with the first)."""
    seed = json.dumps({"distribution": distribution_id, "hashes": dict(sorted(hashes.items())), "paths": paths}, sort_keys=True)
    return "mlplat-" + hashlib.sha256(seed.encode()).hexdigest()[:40]


class CloudFrontInvalidationProvider(pulumi.dynamic.ResourceProvider):
    """Dynamic provider: creates CloudFront invalidations for the paths whose hash changed.

    Properties (camelCase, as registered):
        distributionId: the distribution's id (``E2QWRUHAPOMQZL``); a new id replaces the resource.
        objectHashes: URL path to content hash (hex SHA-256) of every served path.
        maxPaths: at most this many paths are invalidated one by one; more become ``/*``.

    Outputs add:
        invalidationId: the id of the last invalidation ("" when none was needed).
        invalidatedPaths: the paths the last update invalidated.
    """

    serialize_as_secret_always = False

    def _client(self) -> Any:
        import boto3

        return boto3.client("cloudfront")

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """Refuse an empty distribution id, paths not starting with ``/`` and ``maxPaths`` outside 1-3,000."""
        failures = []
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
        changed = bool(changed_paths(olds.get("objectHashes"), news.get("objectHashes"))) or olds.get("maxPaths") != news.get("maxPaths")
        return pulumi.dynamic.DiffResult(changes=changed, replaces=[])

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Record the hashes; nothing is invalidated (id ``<distribution id>-content``)."""
        # A new resource goes with a new distribution (or a first deploy): nothing is cached yet.
        outs = {**props, "invalidationId": "", "invalidatedPaths": []}
        return pulumi.dynamic.CreateResult(f"{props['distributionId']}-content", outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        """Invalidate the changed paths (``/*`` above ``maxPaths``) with one ``CreateInvalidation`` call."""
        max_paths = int(news.get("maxPaths", 100))
        paths = changed_paths(olds.get("objectHashes"), news.get("objectHashes"), max_paths)
        outs = {**news, "invalidationId": "", "invalidatedPaths": paths}
        if paths:
            response = self._client().create_invalidation(
                DistributionId=news["distributionId"],
                InvalidationBatch={
                    "Paths": {"Quantity": len(paths), "Items": paths},
                    "CallerReference": caller_reference(news["distributionId"], news.get("objectHashes") or {}, paths),
                },
            )
            outs["invalidationId"] = response["Invalidation"]["Id"]
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
    invalidation_id: pulumi.Output[str]
    invalidated_paths: pulumi.Output[list[str]]

    _OUTPUT_NAMES = {
        "distributionId": "distribution_id",
        "objectHashes": "object_hashes",
        "maxPaths": "max_paths",
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
    ) -> None:
        super().__init__(
            CloudFrontInvalidationProvider(),
            name,
            {
                "distribution_id": distribution_id,
                "object_hashes": object_hashes,
                "max_paths": max_paths,
                "invalidation_id": None,
                "invalidated_paths": None,
            },
            opts,
        )
