"""Realistic provider answers for the resource types and invokes the platform uses.

ARN formats follow the AWS Service Authorization Reference ("Resource types defined by ...");
Kubernetes autonaming follows pulumi-kubernetes (``<name>-<8 random characters>``); GCP names
and e-mails follow the GCP resource reference.
"""

from __future__ import annotations

from typing import Any

from .mocks import ACCOUNT_ID, MockContext, PlatformMocks, invoke_result, resource_state


def _aws_tags(context: MockContext) -> dict[str, Any]:
    tags = context.inputs.get("tags") or {}
    return {"tagsAll": dict(tags)}


@resource_state("aws:")
def _aws_generic(context: MockContext) -> tuple[str, dict[str, Any]]:
    """Any AWS resource: ``arn:aws:<service>:<region>:<account>:<resource>/<id>``."""
    service, _, rest = context.type.removeprefix("aws:").partition("/")
    kind = rest.split(":")[0].lower()
    resource_id = context.physical_name(context.inputs.get("name"))
    arn = f"arn:aws:{service}:{context.region}:{ACCOUNT_ID}:{kind}/{resource_id}"
    return resource_id, {"arn": arn, **_aws_tags(context)}


@resource_state("aws:s3/bucket:Bucket")
def _s3_bucket(context: MockContext) -> tuple[str, dict[str, Any]]:
    bucket = context.physical_name(context.inputs.get("bucket"))
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{context.region}.amazonaws.com",
        "region": context.region,
        "hostedZoneId": "Z3AQBSTGFYJSTF",
        **_aws_tags(context),
    }


@resource_state("aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/instanceProfile:InstanceProfile", "aws:iam/user:User")
def _iam_named(context: MockContext) -> tuple[str, dict[str, Any]]:
    kind = {"Role": "role", "Policy": "policy", "InstanceProfile": "instance-profile", "User": "user"}[context.type.split(":")[-1]]
    name = context.physical_name(context.inputs.get("name"), max_length=64)
    path = context.inputs.get("path") or "/"
    state = {"name": name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:{kind}{path}{name}", "uniqueId": f"AROA{context.digest(17).upper()}", **_aws_tags(context)}
    if kind == "policy":
        return state["arn"], state
    return name, state


@resource_state("aws:iam/rolePolicy:RolePolicy")
def _iam_role_policy(context: MockContext) -> tuple[str, dict[str, Any]]:
    name = context.physical_name(context.inputs.get("name"), max_length=128)
    return f"{context.inputs.get('role')}:{name}", {"name": name}


@resource_state("aws:kms/key:Key")
def _kms_key(context: MockContext) -> tuple[str, dict[str, Any]]:
    digest = context.digest(32)
    key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return key_id, {"keyId": key_id, "arn": f"arn:aws:kms:{context.region}:{ACCOUNT_ID}:key/{key_id}", **_aws_tags(context)}


@resource_state("aws:kms/alias:Alias")
def _kms_alias(context: MockContext) -> tuple[str, dict[str, Any]]:
    name = context.inputs.get("name") or f"alias/{context.physical_name()}"
    return name, {"arn": f"arn:aws:kms:{context.region}:{ACCOUNT_ID}:{name}"}


@resource_state("aws:ec2/")
def _ec2(context: MockContext) -> tuple[str, dict[str, Any]]:
    kind = context.type.split(":")[-1]
    prefixes = {"Instance": "i", "SecurityGroup": "sg", "Subnet": "subnet", "Vpc": "vpc", "Volume": "vol", "LaunchTemplate": "lt", "NetworkInterface": "eni"}
    resource_id = f"{prefixes.get(kind, kind.lower())}-0{context.digest(16)}"
    resource = {"Instance": "instance", "SecurityGroup": "security-group", "Subnet": "subnet", "Vpc": "vpc", "Volume": "volume", "LaunchTemplate": "launch-template"}.get(kind, kind.lower())
    state: dict[str, Any] = {"arn": f"arn:aws:ec2:{context.region}:{ACCOUNT_ID}:{resource}/{resource_id}", **_aws_tags(context)}
    if kind == "Instance":
        state.update(privateIp=f"10.0.{int(context.digest(2), 16) % 200}.{int(context.digest(2, 'ip'), 16) % 250 + 2}", instanceState="running", primaryNetworkInterfaceId=f"eni-0{context.digest(16, 'eni')}")
    return resource_id, state


@resource_state("aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm(context: MockContext) -> tuple[str, dict[str, Any]]:
    name = context.physical_name(context.inputs.get("name"), max_length=255)
    return name, {"arn": f"arn:aws:cloudwatch:{context.region}:{ACCOUNT_ID}:alarm:{name}", **_aws_tags(context)}


@invoke_result("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(args: dict[str, Any], mocks: PlatformMocks) -> dict[str, Any]:
    return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/preview", "userId": "AIDAPREVIEW", "id": ACCOUNT_ID}


@invoke_result("aws:index/getRegion:getRegion")
def _region(args: dict[str, Any], mocks: PlatformMocks) -> dict[str, Any]:
    return {"name": mocks.region, "region": mocks.region, "id": mocks.region, "endpoint": f"ec2.{mocks.region}.amazonaws.com"}


@invoke_result("aws:index/getPartition:getPartition")
def _partition(args: dict[str, Any], mocks: PlatformMocks) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}


@resource_state("kubernetes:")
def _kubernetes(context: MockContext) -> tuple[str, dict[str, Any]]:
    metadata = dict(context.inputs.get("metadata") or {})
    metadata.setdefault("name", context.physical_name())
    metadata["uid"] = context.digest(32)
    namespace = metadata.get("namespace")
    resource_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
    return resource_id, {"metadata": metadata}


@resource_state("gcp:")
def _gcp_generic(context: MockContext) -> tuple[str, dict[str, Any]]:
    name = context.physical_name(context.inputs.get("name"))
    project = context.inputs.get("project") or context.gcp_project
    return f"projects/{project}/{name}", {"name": name, "project": project, "selfLink": f"https://www.googleapis.com/{context.type.split(':')[1].split('/')[0]}/v1/projects/{project}/{name}"}


@resource_state("gcp:storage/bucket:Bucket")
def _gcs_bucket(context: MockContext) -> tuple[str, dict[str, Any]]:
    name = context.physical_name(context.inputs.get("name"))
    project = context.inputs.get("project") or context.gcp_project
    return name, {"name": name, "project": project, "url": f"gs://{name}", "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}"}


@resource_state("gcp:serviceaccount/account:Account")
def _gcp_service_account(context: MockContext) -> tuple[str, dict[str, Any]]:
    project = context.inputs.get("project") or context.gcp_project
    account_id = context.inputs.get("accountId") or context.physical_name(max_length=30)
    email = f"{account_id}@{project}.iam.gserviceaccount.com"
    return f"projects/{project}/serviceAccounts/{email}", {"email": email, "member": f"serviceAccount:{email}", "name": f"projects/{project}/serviceAccounts/{email}", "uniqueId": str(int(context.digest(12), 16)), "project": project}


# --- DataBucket / AccessLogBucket (platform_lib/aws/data_bucket.py) ---------------------------------


@resource_state(
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketPolicy:BucketPolicy",
)
def _s3_bucket_setting(context: MockContext) -> tuple[str, dict[str, Any]]:
    """A bucket's setting resource: the provider uses the bucket name as its id, and it has no ARN."""
    bucket = context.inputs.get("bucket") or context.physical_name()
    return bucket, {}
