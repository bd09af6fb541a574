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


@resource_state("aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/instanceProfile:InstanceProfile", "aws:iam/user:User", "aws:iam/group:Group")
def _iam_named(context: MockContext) -> tuple[str, dict[str, Any]]:
    kind = {"Role": "role", "Policy": "policy", "InstanceProfile": "instance-profile", "User": "user", "Group": "group"}[context.type.split(":")[-1]]
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
    region = args.get("region") or args.get("name") or mocks.region
    return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com", "description": _REGION_DESCRIPTIONS.get(region, region)}


#: ``description`` of aws.get_region for common regions (source: EC2 DescribeRegions / AWS General Reference).
_REGION_DESCRIPTIONS = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)", "eu-west-1": "Europe (Ireland)", "eu-west-2": "Europe (London)",
    "eu-central-1": "Europe (Frankfurt)", "eu-north-1": "Europe (Stockholm)", "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
}


@invoke_result("aws:index/getPartition:getPartition")
def _partition(args: dict[str, Any], mocks: PlatformMocks) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}


_DIRECTIONS = {"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "north": "n", "south": "s", "east": "e", "west": "w", "central": "c"}


def _zone_id_prefix(region: str) -> str:
    """The short region code AWS zone ids start with: ``us-east-1`` → ``use1``, ``ap-southeast-2`` → ``apse2``."""
    area, direction, number = (region.split("-") + ["", ""])[:3]
    return f"{area}{_DIRECTIONS.get(direction, direction[:2])}{number}"


@invoke_result("aws:index/getAvailabilityZones:getAvailabilityZones")
def _availability_zones(args: dict[str, Any], mocks: PlatformMocks) -> dict[str, Any]:
    """Three available zones of the stack's region (``us-east-1a``.., zone ids ``use1-az1``..), less any
    excluded by ``excludeNames`` / ``excludeZoneIds`` (source: EC2 DescribeAvailabilityZones; zone ids
    in the AWS RAM User Guide, "Availability Zone IDs for your AWS resources")."""
    region = args.get("region") or mocks.region
    zones = [(f"{region}{letter}", f"{_zone_id_prefix(region)}-az{index}") for index, letter in enumerate("abc", start=1)]
    excluded = set(args.get("excludeNames") or []) | set(args.get("excludeZoneIds") or [])
    zones = [(name, zone_id) for name, zone_id in zones if name not in excluded and zone_id not in excluded]
    return {
        "id": region,
        "region": region,
        "names": [name for name, _ in zones],
        "zoneIds": [zone_id for _, zone_id in zones],
        "groupNames": [region],
        "state": args.get("state") or "available",
        "allAvailabilityZones": args.get("allAvailabilityZones"),
        "excludeNames": args.get("excludeNames"),
        "excludeZoneIds": args.get("excludeZoneIds"),
        "filters": args.get("filters"),
    }


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


# --- GpuTrainingBox (AWS and GCP) and the GCS DataBucket -------------------------------------


@invoke_result("aws:ssm/getParameter:getParameter")
def _ssm_parameter(args: dict[str, Any], mocks: PlatformMocks) -> dict[str, Any]:
    """Public SSM parameters; an AMI parameter (``.../ami-id``) answers a stable ``ami-`` id."""
    import hashlib

    name = args.get("name", "")
    value = f"ami-0{hashlib.sha256(f'{mocks.region}{name}'.encode()).hexdigest()[:16]}" if name.endswith("ami-id") else "mock-value"
    return {"name": name, "value": value, "insecureValue": value, "type": "String", "arn": f"arn:aws:ssm:{mocks.region}::parameter{name}", "version": 1, "id": name, "withDecryption": False}


@invoke_result("aws:ec2/getSubnet:getSubnet")
def _subnet(args: dict[str, Any], mocks: PlatformMocks) -> dict[str, Any]:
    """An existing private subnet looked up by id; its VPC id is derived from it, stable across previews."""
    import hashlib

    subnet_id = args.get("id") or "subnet-0" + hashlib.sha256(repr(sorted(args.items())).encode()).hexdigest()[:16]
    vpc_id = f"vpc-0{hashlib.sha256(subnet_id.encode()).hexdigest()[:16]}"
    return {
        "id": subnet_id, "vpcId": vpc_id, "availabilityZone": f"{mocks.region}a", "cidrBlock": "10.0.1.0/24",
        "arn": f"arn:aws:ec2:{mocks.region}:{ACCOUNT_ID}:subnet/{subnet_id}", "mapPublicIpOnLaunch": False, "ownerId": ACCOUNT_ID, "tags": {},
    }


@resource_state("aws:ec2/instance:Instance")
def _ec2_instance(context: MockContext) -> tuple[str, dict[str, Any]]:
    resource_id, state = _ec2(context)
    state.update(availabilityZone=f"{context.region}a", publicIp="", instanceState="running")
    return resource_id, state


@resource_state("aws:ebs/volume:Volume")
def _ebs_volume(context: MockContext) -> tuple[str, dict[str, Any]]:
    volume_id = f"vol-0{context.digest(16)}"
    return volume_id, {"arn": f"arn:aws:ec2:{context.region}:{ACCOUNT_ID}:volume/{volume_id}", **_aws_tags(context)}


@resource_state("gcp:compute/instance:Instance", "gcp:compute/disk:Disk")
def _gce_zonal(context: MockContext) -> tuple[str, dict[str, Any]]:
    name = context.physical_name(context.inputs.get("name"))
    project = context.inputs.get("project") or context.gcp_project
    zone = context.inputs.get("zone") or "europe-west4-a"
    kind = "instances" if context.type.endswith("Instance") else "disks"
    self_link = f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}/{kind}/{name}"
    state = {"name": name, "project": project, "zone": zone, "selfLink": self_link}
    if kind == "instances":
        state.update(instanceId=str(int(context.digest(12), 16)), currentStatus="RUNNING")
    return f"projects/{project}/zones/{zone}/{kind}/{name}", state


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


# --- StaticSite (platform_lib/aws/static_site.py): CloudFront, ACM, Route 53, S3 objects, invalidation ---
# Formats: CloudFront ids are 13-14 upper-case characters (E2QWRUHAPOMQZL); distribution ARNs have
# no region (arn:aws:cloudfront::<account>:distribution/<id>); the alias zone id of every
# distribution is Z2FDTNDATAQYW2 (AWS General Reference, "Amazon CloudFront endpoints").


def _cloudfront_id(context: MockContext) -> str:
    return "E" + context.digest(13, "cloudfront-id").upper()


def _uuid(context: MockContext, salt: str = "uuid") -> str:
    digest = context.digest(32, salt)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


@resource_state("aws:cloudfront/distribution:Distribution")
def _cloudfront_distribution(context: MockContext) -> tuple[str, dict[str, Any]]:
    distribution_id = _cloudfront_id(context)
    return distribution_id, {
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{distribution_id}",
        "domainName": f"d{context.digest(13, 'domain')}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",
        "status": "Deployed",
        "etag": f"E{context.digest(13, 'etag').upper()}",
        **_aws_tags(context),
    }


@resource_state("aws:cloudfront/originAccessControl:OriginAccessControl")
def _cloudfront_origin_access_control(context: MockContext) -> tuple[str, dict[str, Any]]:
    return _cloudfront_id(context), {"etag": f"E{context.digest(13, 'etag').upper()}", "name": context.physical_name(context.inputs.get("name"), 64)}


@resource_state("aws:cloudfront/cachePolicy:CachePolicy", "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
def _cloudfront_policy(context: MockContext) -> tuple[str, dict[str, Any]]:
    return _uuid(context), {"etag": f"E{context.digest(13, 'etag').upper()}", "name": context.physical_name(context.inputs.get("name"), 128)}


@resource_state("aws:acm/certificate:Certificate")
def _acm_certificate(context: MockContext) -> tuple[str, dict[str, Any]]:
    region = context.inputs.get("region") or context.region
    arn = f"arn:aws:acm:{region}:{ACCOUNT_ID}:certificate/{_uuid(context)}"
    domain = context.inputs.get("domainName") or "example.com"
    return arn, {
        "arn": arn,
        "status": "PENDING_VALIDATION",
        "domainValidationOptions": [{
            "domainName": domain,
            "resourceRecordName": f"_{context.digest(32, 'dns-name')}.{domain}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{context.digest(32, 'dns-value')}.mhbtsbpdnt.acm-validations.aws.",
        }],
        **_aws_tags(context),
    }


@resource_state("aws:acm/certificateValidation:CertificateValidation")
def _acm_certificate_validation(context: MockContext) -> tuple[str, dict[str, Any]]:
    return str(context.inputs.get("certificateArn") or context.physical_name()), {}


@resource_state("aws:route53/record:Record")
def _route53_record(context: MockContext) -> tuple[str, dict[str, Any]]:
    name = str(context.inputs.get("name") or context.physical_name()).rstrip(".")
    return f"{context.inputs.get('zoneId')}_{name}_{context.inputs.get('type')}", {"fqdn": name}


@resource_state("aws:s3/bucketObjectv2:BucketObjectv2")
def _s3_object(context: MockContext) -> tuple[str, dict[str, Any]]:
    key = context.inputs.get("key") or context.name
    bucket = context.inputs.get("bucket") or "bucket"
    return key, {"arn": f"arn:aws:s3:::{bucket}/{key}", "etag": context.digest(32, str(context.inputs.get("sourceHash"))), "versionId": "", **_aws_tags(context)}


@resource_state("aws:kms/keyPolicy:KeyPolicy")
def _kms_key_policy(context: MockContext) -> tuple[str, dict[str, Any]]:
    """A key's policy: the provider's id is the key id (``pulumi import`` takes it) and it has no ARN."""
    return str(context.inputs.get("keyId") or context.physical_name()), {}


@resource_state("pulumi-python:dynamic/mlplat:CloudFrontInvalidation")
def _cloudfront_invalidation(context: MockContext) -> tuple[str, dict[str, Any]]:
    # What the provider's create returns: a first deploy invalidates nothing.
    return f"{context.inputs.get('distributionId')}-content", {"invalidationId": "", "invalidatedPaths": []}


# --- ModelEndpoint (platform_lib/k8s/model_endpoint.py) -----------------------------------------


@resource_state("kubernetes:networking.k8s.io/v1:Ingress")
def _alb_ingress(context: MockContext) -> tuple[str, dict[str, Any]]:
    """An Ingress with the ALB the AWS Load Balancer Controller provisions recorded in its status.

    The controller names the load balancer ``k8s-<namespace>-<ingress>-<hash>`` (namespace and name
    cut to 8 alphanumeric characters) and its DNS name is ``[internal-]<name>-<id>.<region>.elb.amazonaws.com``
    (source: aws-load-balancer-controller, ingress group naming; Elastic Load Balancing DNS names).
    """
    resource_id, state = _kubernetes(context)
    metadata = state["metadata"]
    annotations = metadata.get("annotations") or {}

    def short(text: str) -> str:
        return "".join(ch for ch in text if ch.isalnum())[:8]

    scheme = annotations.get("alb.ingress.kubernetes.io/scheme", "internal")
    prefix = "internal-" if scheme == "internal" else ""
    name = f"k8s-{short(metadata.get('namespace') or 'default')}-{short(metadata['name'])}-{context.digest(10)}"
    hostname = f"{prefix}{name}-{int(context.digest(8, 'alb'), 16) % 10**10}.{context.region}.elb.amazonaws.com"
    return resource_id, {**state, "status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}


# --- GkeCluster (platform_lib/gcp/gke_cluster.py) ------------------------------------------------

@resource_state("gcp:container/cluster:Cluster")
def _gke_cluster(context: MockContext) -> tuple[str, dict[str, Any]]:
    """A GKE cluster's computed state: the control plane's endpoint (the first usable address of
    ``masterIpv4CidrBlock`` for a private endpoint), a CA certificate (base64 placeholder) and the
    version GKE's REGULAR channel offers."""
    import base64
    import ipaddress

    name = context.physical_name(context.inputs.get("name"), max_length=40)
    project = context.inputs.get("project") or context.gcp_project
    location = context.inputs.get("location") or "europe-west4"
    private = context.inputs.get("privateClusterConfig") or {}
    master = ipaddress.ip_network(private.get("masterIpv4CidrBlock") or "172.16.0.0/28", strict=False)
    endpoint = str(master.network_address + 2)
    ca = base64.b64encode(f"-----BEGIN CERTIFICATE-----\nmock-ca-{context.digest(16)}\n-----END CERTIFICATE-----\n".encode()).decode()
    master_auth = {**(context.inputs.get("masterAuth") or {}), "clusterCaCertificate": ca}
    version = context.inputs.get("minMasterVersion") or "1.33.5-gke.1080000"
    return f"projects/{project}/locations/{location}/clusters/{name}", {
        "name": name, "project": project, "location": location, "endpoint": endpoint, "masterAuth": master_auth,
        "masterVersion": version, "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}",
    }
