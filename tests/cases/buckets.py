"""Contract cases for the bucket components: S3DataBucket, AccessLogBucket, GcsDataBucket, TeamWorkloadIdentity."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from platform_lib.aws.data_bucket import AccessLogBucket, S3DataBucket
from platform_lib.gcp.data_bucket import GcsDataBucket, TeamWorkloadIdentity

from . import ComponentCase

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}
AWS_CONFIG = {"aws:region": "eu-west-1"}
GCP_CONFIG = {"gcp:project": "ml-platform-dev", "gcp:region": "europe-west4"}


def _output(value: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(value)


def _aws_provider(name: str) -> pulumi.ProviderResource:
    return aws.Provider(name, region="eu-west-1")


def _gcp_provider(name: str) -> pulumi.ProviderResource:
    return gcp.Provider(name, project="ml-platform-dev", region="europe-west4")


def _s3_with_outputs() -> dict:
    key = aws.kms.Key("byo-key")
    return {"tags": {k: _output(v) for k, v in TAGS.items()}, "kms_key_arn": key.arn, "access_log_bucket": _output("access-logs-abc1234")}


def _s3_grants(bucket: S3DataBucket) -> None:
    bucket.grant_read(aws.iam.Role("reader", assume_role_policy="{}", tags={**TAGS, "managed-by": "pulumi"}), prefix="raw/")
    bucket.grant_read("arn:aws:iam::210987654321:role/partner", prefix="shared/")


CASES = [
    ComponentCase(
        component=S3DataBucket,
        minimal=lambda: {"tags": dict(TAGS)},
        with_outputs=_s3_with_outputs,
        provider=_aws_provider,
        provider_package="aws",
        config=AWS_CONFIG,
        after=_s3_grants,
    ),
    ComponentCase(
        component=AccessLogBucket,
        minimal=lambda: {"tags": dict(TAGS)},
        with_outputs=lambda: {"tags": {k: _output(v) for k, v in TAGS.items()}},
        provider=_aws_provider,
        provider_package="aws",
        config=AWS_CONFIG,
        # A log bucket is judged as it is used: with a data bucket logging into it (SSE-S3 is
        # accepted only on a server access log target).
        after=lambda logs: S3DataBucket("logged", tags=dict(TAGS), access_log_bucket=logs.bucket_name),
    ),
    ComponentCase(
        component=GcsDataBucket,
        minimal=lambda: {"location": "europe-west4", "labels": dict(TAGS)},
        with_outputs=lambda: {
            "location": "europe-west4",
            "labels": {k: _output(v) for k, v in TAGS.items()},
            "kms_key_name": _output("projects/ml-platform-dev/locations/europe-west4/keyRings/data/cryptoKeys/features"),
        },
        provider=_gcp_provider,
        provider_package="gcp",
        config=GCP_CONFIG,
        after=lambda bucket: bucket.grant_read("group:ml-fraud@example.com", prefix="shared/"),
    ),
    ComponentCase(
        component=TeamWorkloadIdentity,
        minimal=lambda: {"project": "ml-platform-dev", "namespace": "fraud", "kubernetes_service_account": "workload"},
        with_outputs=lambda: {"project": _output("ml-platform-dev"), "namespace": _output("fraud"), "kubernetes_service_account": _output("workload")},
        provider=_gcp_provider,
        provider_package="gcp",
        config=GCP_CONFIG,
    ),
]
