"""Compliant base resources, one per resource type the policies look at (wire names, camelCase).

Each policy test takes one of these, mutates it, and expects the exact violation; the base itself
must pass every policy.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from platform_lib.policy.catalogue import Resource

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod", "managed-by": "pulumi"}
BUCKET_URN = "urn:pulumi:prod::ml-platform::aws:s3/bucket:Bucket::data"

TLS_ONLY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
READ = {"Sid": "ReadFeatures", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/risk"},
        "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data/features/*"}
IDENTITY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::data"},
    {"Sid": "Identity", "Effect": "Allow", "Action": ["sts:GetCallerIdentity"], "Resource": "*"},
]}
IRSA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
    "Condition": {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:fraud:workload",
                                   "oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}}}]}

CONTAINER = {
    "name": "server", "image": "registry.example.com/fraud/scorer:1.4.2@sha256:" + "a" * 64,
    "ports": [{"containerPort": 8080}],
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"}},
}
POD_SPEC = {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [CONTAINER]}
METADATA = {"name": "scorer", "namespace": "fraud", "labels": {"app": "scorer"}}

BASE: dict[str, dict[str, Any]] = {
    "aws:s3/bucket:Bucket": {"bucket": "data", "tags": TAGS},
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {"bucket": "data", "blockPublicAcls": True, "blockPublicPolicy": True,
                                                               "ignorePublicAcls": True, "restrictPublicBuckets": True},
    "aws:s3/bucketAcl:BucketAcl": {"bucket": "data", "acl": "private"},
    "aws:s3/bucketPolicy:BucketPolicy": {"bucket": "data", "policy": json.dumps({"Version": "2012-10-17", "Statement": [TLS_ONLY, READ]})},
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        "bucket": "data", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"},
                                     "bucketKeyEnabled": True}]},
    "aws:s3/bucketVersioning:BucketVersioning": {"bucket": "data", "versioningConfiguration": {"status": "Enabled"}},
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
        "bucket": "data", "rules": [{"id": "tidy", "status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
                                     "noncurrentVersionExpiration": {"noncurrentDays": 90}}]},
    "aws:iam/policy:Policy": {"policy": json.dumps(IDENTITY), "tags": TAGS},
    "aws:iam/rolePolicy:RolePolicy": {"role": "workload", "policy": json.dumps(IDENTITY)},
    "aws:iam/role:Role": {"assumeRolePolicy": json.dumps(IRSA_TRUST), "tags": TAGS},
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {"role": "workload", "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
    "aws:ec2/instance:Instance": {
        "ami": "ami-0abcdef", "instanceType": "g5.xlarge", "associatePublicIpAddress": False,
        "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 1},
        "rootBlockDevice": {"encrypted": True, "volumeSize": 200}, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}],
        "tags": TAGS},
    "aws:ebs/volume:Volume": {"availabilityZone": "us-east-1a", "size": 500, "encrypted": True, "tags": TAGS},
    "aws:ec2/securityGroup:SecurityGroup": {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]},
                                                        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/8"]}], "tags": TAGS},
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080,
                                                                  "cidrIpv4": "0.0.0.0/0", "tags": TAGS},
    "aws:cloudfront/distribution:Distribution": {
        "enabled": True, "defaultRootObject": "index.html", "tags": TAGS,
        "origins": [{"originId": "site", "domainName": "site.s3.us-east-1.amazonaws.com", "originAccessControlId": "oac-1"}],
        "defaultCacheBehavior": {"targetOriginId": "site", "viewerProtocolPolicy": "redirect-to-https", "responseHeadersPolicyId": "rhp-1"},
        "viewerCertificate": {"acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/c", "sslSupportMethod": "sni-only",
                              "minimumProtocolVersion": "TLSv1.2_2021"}},
    "gcp:compute/instance:Instance": {
        "machineType": "n1-standard-8", "zone": "us-central1-a", "labels": TAGS,
        "networkInterfaces": [{"network": "default", "subnetwork": "training"}],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
        "serviceAccount": {"email": "box@proj.iam.gserviceaccount.com", "scopes": ["https://www.googleapis.com/auth/devstorage.read_only"]},
        "metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"},
        "guestAccelerators": [{"type": "nvidia-tesla-t4", "count": 1}],
        "scheduling": {"onHostMaintenance": "TERMINATE", "automaticRestart": True}},
    "kubernetes:apps/v1:Deployment": {"metadata": METADATA, "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "scorer"}}, "spec": POD_SPEC}}},
    "kubernetes:argoproj.io/v1alpha1:Rollout": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": METADATA,
                                                "spec": {"replicas": 2, "template": {"spec": POD_SPEC},
                                                         "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}]}}}},
    "kubernetes:batch/v1:CronJob": {"metadata": METADATA, "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": POD_SPEC}}}}},
    "kubernetes:core/v1:Service": {"metadata": METADATA, "spec": {"selector": {"app": "scorer"}, "ports": [{"port": 80, "targetPort": 8080}]}},
    "kubernetes:rbac.authorization.k8s.io/v1:Role": {"metadata": METADATA, "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]}]},
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": {"metadata": METADATA, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                                                            "subjects": [{"kind": "Group", "name": "ml-fraud-engineers"}]},
}


def resource(type_token: str, mutate=None, name: str = "subject") -> Resource:
    """A fresh copy of the base of ``type_token``, passed through ``mutate(props)`` when given."""
    props = copy.deepcopy(BASE[type_token])
    if mutate is not None:
        mutate(props)
    return Resource(type=type_token, name=name, urn=f"urn:pulumi:prod::ml-platform::{type_token}::{name}", props=props)


def pod(props: dict[str, Any]) -> dict[str, Any]:
    """The pod spec inside a workload's props (Deployment / Rollout template, CronJob job template)."""
    spec = props["spec"]
    if "jobTemplate" in spec:
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec["template"]["spec"]


def container(props: dict[str, Any]) -> dict[str, Any]:
    return pod(props)["containers"][0]


def set_json(key: str, transform):
    """A mutation that parses the JSON document at ``key``, transforms it, and writes it back."""
    def mutate(props):
        document = json.loads(props[key])
        transform(document)
        props[key] = json.dumps(document)
    return mutate
