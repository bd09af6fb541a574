"""The changed-path invalidation provider, driven as the Pulumi engine drives it, against moto's CloudFront."""

from __future__ import annotations

import re

import boto3
import pytest
from moto import mock_aws

from platform_lib.aws.invalidation import (
    BOTOCORE_RETRIES,
    EVERYTHING,
    MAX_ATTEMPTS,
    CloudFrontInvalidation,
    CloudFrontInvalidationProvider,
    caller_reference,
    changed_paths,
    create_invalidation,
)
from platform_lib.testing import find, preview

OLD = {"/": "h-index", "/index.html": "h-index", "/css/site.css": "h-css-1", "/assets/logo.54ecdc8d.svg": "h-logo"}


@pytest.fixture
def cloudfront(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        client = boto3.client("cloudfront")
        distribution = client.create_distribution(DistributionConfig={
            "CallerReference": "site",
            "Comment": "site",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "site.s3.us-east-1.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}, "TrustedSigners": {"Enabled": False, "Quantity": 0}},
        })
        yield client, distribution["Distribution"]["Id"]


def state(distribution_id: str, hashes: dict[str, str], max_paths: int = 100) -> dict:
    return {"distributionId": distribution_id, "objectHashes": hashes, "maxPaths": max_paths}


def invalidated(client, distribution_id: str) -> list[list[str]]:
    summaries = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    batches = [client.get_invalidation(DistributionId=distribution_id, Id=s["Id"])["Invalidation"]["InvalidationBatch"]["Paths"] for s in summaries]
    return [sorted(batch.get("Items", [])) for batch in batches]


def test_update_invalidates_exactly_the_changed_path(cloudfront):
    client, distribution_id = cloudfront
    provider = CloudFrontInvalidationProvider()
    created = provider.create(state(distribution_id, OLD))
    assert created.outs["invalidatedPaths"] == [] and invalidated(client, distribution_id) == []

    new = {**OLD, "/css/site.css": "h-css-2"}
    diff = provider.diff(created.id, created.outs, state(distribution_id, new))
    assert diff.changes is True and not diff.replaces
    result = provider.update(created.id, created.outs, state(distribution_id, new))
    assert result.outs["invalidatedPaths"] == ["/css/site.css"]
    assert invalidated(client, distribution_id) == [["/css/site.css"]]
    assert result.outs["invalidationId"] == client.list_invalidations(DistributionId=distribution_id)["InvalidationList"]["Items"][0]["Id"]


def test_added_and_removed_files_are_invalidated_too(cloudfront):
    client, distribution_id = cloudfront
    new = {k: v for k, v in OLD.items() if k != "/assets/logo.54ecdc8d.svg"} | {"/assets/logo.0a1b2c3d.svg": "h-logo-2"}
    result = CloudFrontInvalidationProvider().update("id", state(distribution_id, OLD), state(distribution_id, new))
    assert result.outs["invalidatedPaths"] == ["/assets/logo.0a1b2c3d.svg", "/assets/logo.54ecdc8d.svg"]
    assert invalidated(client, distribution_id) == [["/assets/logo.0a1b2c3d.svg", "/assets/logo.54ecdc8d.svg"]]


def test_unchanged_content_makes_no_change_and_no_invalidation(cloudfront):
    client, distribution_id = cloudfront
    provider = CloudFrontInvalidationProvider()
    assert provider.diff("id", state(distribution_id, OLD), state(distribution_id, dict(OLD))).changes is False
    result = provider.update("id", state(distribution_id, OLD), state(distribution_id, dict(OLD), max_paths=50))
    assert result.outs["invalidatedPaths"] == [] and result.outs["invalidationId"] == ""
    assert invalidated(client, distribution_id) == []


def test_more_changes_than_max_paths_invalidate_everything(cloudfront):
    client, distribution_id = cloudfront
    new = {path: value + "-2" for path, value in OLD.items()}
    result = CloudFrontInvalidationProvider().update("id", state(distribution_id, OLD, 2), state(distribution_id, new, 2))
    assert result.outs["invalidatedPaths"] == [EVERYTHING]
    assert invalidated(client, distribution_id) == [[EVERYTHING]]


def test_a_new_distribution_replaces_the_tracker_without_invalidating():
    diff = CloudFrontInvalidationProvider().diff("id", state("E1OLD", OLD), state("E2NEW", OLD))
    assert diff.replaces == ["distributionId"]


def test_check_rejects_bad_properties():
    failures = CloudFrontInvalidationProvider().check({}, {"distributionId": "", "objectHashes": {"index.html": "x"}, "maxPaths": 5000}).failures
    assert {f.property for f in failures} == {"distributionId", "objectHashes", "maxPaths"}
    assert CloudFrontInvalidationProvider().check({}, state("E1", OLD)).failures == []


def test_changed_paths_are_deterministic():
    assert changed_paths(None, {"/a": "1"}) == ["/a"]
    assert changed_paths({"/b": "1", "/a": "1"}, {"/a": "2", "/b": "2"}) == ["/a", "/b"]


def test_registers_as_a_dynamic_resource_with_camel_case_inputs_and_snake_case_attributes():
    holder = {}

    def program():
        holder["resource"] = CloudFrontInvalidation("site-invalidation", distribution_id="E1ABC", object_hashes={"/index.html": "h"}, max_paths=7)

    plan = preview(program)
    record = find(plan, "pulumi-python:dynamic/mlplat:CloudFrontInvalidation", "site-invalidation")
    assert {k: v for k, v in record.inputs.items() if k != "__provider"} == {"distributionId": "E1ABC", "objectHashes": {"/index.html": "h"}, "maxPaths": 7}
    # The engine's dynamic provider host unpickles this to run the provider: it must be ours.
    import base64

    import dill

    assert isinstance(dill.loads(base64.b64decode(record.inputs["__provider"])), CloudFrontInvalidationProvider)
    resource = holder["resource"]
    assert all(hasattr(resource, name) for name in ("distribution_id", "object_hashes", "invalidation_id", "invalidated_paths"))


# --- the caller's AWS settings: region, profile, role; never credentials --------------------------


def test_the_session_uses_the_given_region_and_profile(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile ml-deploy]\nregion = ap-southeast-2\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[ml-deploy]\naws_access_key_id = AKIAPROFILEEXAMPLE00\naws_secret_access_key = profile-secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    session = CloudFrontInvalidationProvider.session({"region": "eu-central-1", "profile": "ml-deploy"})
    assert (session.region_name, session.profile_name) == ("eu-central-1", "ml-deploy")
    assert session.get_credentials().access_key == "AKIAPROFILEEXAMPLE00"


def test_with_a_role_the_invalidation_is_made_with_the_assumed_roles_credentials(cloudfront, monkeypatch):
    client, distribution_id = cloudfront
    seen = []
    import boto3

    real_session = boto3.Session

    def recording_session(**kwargs):
        seen.append(kwargs)
        return real_session(**kwargs)

    monkeypatch.setattr(boto3, "Session", recording_session)
    role = "arn:aws:iam::123456789012:role/site-invalidator"
    old = {**state(distribution_id, OLD), "region": "eu-west-1", "roleArn": role}
    new = {**old, "objectHashes": {**OLD, "/index.html": "h-index-2"}}
    result = CloudFrontInvalidationProvider().update("id", old, new)
    assert result.outs["invalidatedPaths"] == ["/index.html"]
    assert invalidated(client, distribution_id) == [["/index.html"]]
    first, assumed = seen
    assert first == {"profile_name": None, "region_name": "eu-west-1"}
    # The second session holds the STS credentials (moto's are ASIA... temporary keys), not the environment's.
    assert assumed["aws_access_key_id"].startswith("ASIA") and assumed["aws_access_key_id"] != "testing"
    assert assumed["region_name"] == "eu-west-1" and assumed["aws_session_token"]


def test_a_new_region_profile_or_role_updates_the_tracker_without_invalidating(cloudfront):
    client, distribution_id = cloudfront
    provider = CloudFrontInvalidationProvider()
    old = {**state(distribution_id, OLD), "region": "us-east-1"}
    for key, value in (("region", "eu-west-1"), ("profile", "ml"), ("roleArn", "arn:aws:iam::123456789012:role/x")):
        diff = provider.diff("id", old, {**old, key: value})
        assert diff.changes is True and not diff.replaces, key
    result = provider.update("id", old, {**old, "region": "eu-west-1"})
    assert result.outs["region"] == "eu-west-1" and result.outs["invalidatedPaths"] == []
    assert invalidated(client, distribution_id) == []


def test_check_refuses_credentials_as_inputs():
    for key in ("accessKey", "secretKey", "token"):
        failures = CloudFrontInvalidationProvider().check({}, {**state("E1", OLD), key: "x"}).failures
        assert [f.property for f in failures] == [key]
        assert "stored in the state" in failures[0].reason


def test_region_profile_and_role_register_as_camel_case_inputs():
    program = lambda: CloudFrontInvalidation("i", distribution_id="E1", object_hashes={"/a": "h"}, region="eu-west-1", profile="ml", role_arn="arn:aws:iam::123456789012:role/x")  # noqa: E731
    inputs = find(preview(program), "pulumi-python:dynamic/mlplat:CloudFrontInvalidation").inputs
    assert (inputs["region"], inputs["profile"], inputs["roleArn"]) == ("eu-west-1", "ml", "arn:aws:iam::123456789012:role/x")


# --- caller references: one per deployment; retries: TooManyInvalidationsInProgress and throttling ---


def caller_references(client, distribution_id: str) -> list[str]:
    summaries = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    return [client.get_invalidation(DistributionId=distribution_id, Id=s["Id"])["Invalidation"]["InvalidationBatch"]["CallerReference"] for s in summaries]


def test_a_roll_back_then_fix_forward_makes_a_new_invalidation_each_time(cloudfront):
    """A→B, B→A, A→B: CloudFront answers a repeated caller reference with the earlier
    invalidation and clears nothing, so each of the three updates needs its own reference."""
    client, distribution_id = cloudfront
    provider = CloudFrontInvalidationProvider()
    a, b = OLD, {**OLD, "/css/site.css": "h-css-2"}
    outs = provider.create(state(distribution_id, a)).outs
    for new in (b, a, b):
        outs = provider.update("id", outs, state(distribution_id, new)).outs
        assert outs["invalidatedPaths"] == ["/css/site.css"]
    references = caller_references(client, distribution_id)
    assert len(references) == 3 and len(set(references)) == 3, references
    assert all(reference.startswith("mlplat-") for reference in references)


def test_every_caller_reference_is_new():
    references = {caller_reference() for _ in range(100)}
    assert len(references) == 100 and all(re.fullmatch(r"mlplat-[0-9a-f]{32}", reference) for reference in references)


def stubbed_cloudfront():
    from botocore.stub import Stubber

    client = boto3.client("cloudfront", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return client, Stubber(client)


def expected_call(reference: str) -> dict:
    return {"DistributionId": "E1ABC", "InvalidationBatch": {"Paths": {"Quantity": 1, "Items": ["/index.html"]}, "CallerReference": reference}}


def test_too_many_invalidations_in_progress_waits_with_backoff_and_jitter_then_succeeds():
    client, stubber = stubbed_cloudfront()
    for _ in range(3):
        stubber.add_client_error("create_invalidation", service_error_code="TooManyInvalidationsInProgress", http_status_code=400, expected_params=expected_call("mlplat-r1"))
    # The same caller reference on every attempt: an accepted call whose answer was lost is not repeated.
    stubber.add_response("create_invalidation", {"Invalidation": {"Id": "I2ABC", "Status": "InProgress", "CreateTime": "2025-01-01T00:00:00Z", "InvalidationBatch": expected_call("mlplat-r1")["InvalidationBatch"]}}, expected_params=expected_call("mlplat-r1"))
    waits: list[float] = []
    with stubber:
        invalidation_id = create_invalidation(client, "E1ABC", ["/index.html"], "mlplat-r1", base_wait_seconds=5, max_wait_seconds=15, sleep=waits.append, jitter=lambda: 0.5)
    stubber.assert_no_pending_responses()
    assert invalidation_id == "I2ABC"
    assert waits == [2.5, 5.0, 7.5]  # half of 5, 10, then 20 capped at 15


def test_too_many_invalidations_in_progress_gives_up_after_a_bounded_number_of_attempts():
    client, stubber = stubbed_cloudfront()
    for _ in range(MAX_ATTEMPTS):
        stubber.add_client_error("create_invalidation", service_error_code="TooManyInvalidationsInProgress", http_status_code=400)
    waits: list[float] = []
    with stubber, pytest.raises(RuntimeError, match=r"E1ABC still had too many invalidations in progress after 8 attempts") as raised:
        create_invalidation(client, "E1ABC", ["/index.html"], "mlplat-r1", sleep=waits.append, jitter=lambda: 0.999)
    stubber.assert_no_pending_responses()
    assert len(waits) == MAX_ATTEMPTS - 1 and max(waits) < 60 and sum(waits) < 256
    assert "next `pulumi up` will invalidate 1 path(s) again" in str(raised.value)


def test_other_errors_are_not_retried():
    from botocore.exceptions import ClientError

    client, stubber = stubbed_cloudfront()
    stubber.add_client_error("create_invalidation", service_error_code="AccessDenied", http_status_code=403)
    waits: list[float] = []
    with stubber, pytest.raises(ClientError, match="AccessDenied"):
        create_invalidation(client, "E1ABC", ["/index.html"], "mlplat-r1", sleep=waits.append)
    assert waits == []


CREATED = (
    b'<?xml version="1.0"?><Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I2ABC</Id>'
    b"<Status>InProgress</Status><CreateTime>2025-01-01T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>1</Quantity>"
    b"<Items><Path>/index.html</Path></Items></Paths><CallerReference>mlplat-r1</CallerReference></InvalidationBatch></Invalidation>"
)
THROTTLED = b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"


def test_throttling_is_retried_by_botocore_standard_mode_up_to_its_attempt_budget(monkeypatch):
    """The provider's client retries ``Throttling`` (botocore ``standard`` mode, 8 attempts, waits of
    at most 20 seconds): seven throttled answers, then a created invalidation. The answers are given
    at ``before-send``, inside botocore's retry loop (a Stubber answers before it, so it cannot)."""
    import botocore.endpoint
    from botocore.awsrequest import AWSResponse

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    provider = CloudFrontInvalidationProvider()
    real_client = provider._client
    attempts: list[bytes] = []

    def answer(request, **_):
        attempts.append(request.body)
        throttled = len(attempts) < BOTOCORE_RETRIES["max_attempts"]
        return AWSResponse(request.url, 400 if throttled else 201, {"Content-Type": "text/xml"}, _RawBody(THROTTLED if throttled else CREATED))

    def client_answered_locally(props):
        made = real_client(props)
        made.meta.events.register_first("before-send.cloudfront.CreateInvalidation", answer)
        return made

    waits: list[float] = []
    monkeypatch.setattr(provider, "_client", client_answered_locally)
    monkeypatch.setattr(botocore.endpoint.time, "sleep", waits.append)
    result = provider.update("id", state("E1ABC", OLD) | {"region": "us-east-1"}, state("E1ABC", {**OLD, "/index.html": "h-index-2"}) | {"region": "us-east-1"})
    assert result.outs["invalidationId"] == "I2ABC" and result.outs["invalidatedPaths"] == ["/index.html"]
    assert len(attempts) == BOTOCORE_RETRIES["max_attempts"] and len(set(attempts)) == 1  # one request, resent as is
    assert len(waits) == BOTOCORE_RETRIES["max_attempts"] - 1 and all(0 <= wait <= 20 for wait in waits)


class _RawBody:
    """The raw body of a fake HTTP answer (botocore reads ``.stream()`` or ``.read()``)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_):
        return self._body
