"""Compliant base resources, one per resource type the policies look at (wire names, camelCase).

Each policy test takes one of these, mutates it, and expects the exact violation; the base itself
must pass every policy.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi import _types as pulumi_types

from platform_lib.policy.catalogue import Resource

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod", "managed-by": "pulumi"}

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
    "aws:ec2/launchTemplate:LaunchTemplate": {
        "imageId": "ami-0abcdef", "instanceType": "g5.xlarge", "tags": TAGS,
        "metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 200}}],
        "networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": "false"}]},
    "aws:ec2/securityGroupRule:SecurityGroupRule": {"type": "ingress", "securityGroupId": "sg-1", "protocol": "tcp", "fromPort": 443,
                                                    "toPort": 443, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]},
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
    "gcp:compute/instanceTemplate:InstanceTemplate": {
        "machineType": "n1-standard-8", "labels": TAGS, "disks": [{"sourceImage": "projects/debian-cloud/global/images/family/debian-12"}],
        "networkInterfaces": [{"network": "default", "subnetwork": "training"}],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
        "serviceAccount": {"email": "box@proj.iam.gserviceaccount.com", "scopes": ["https://www.googleapis.com/auth/devstorage.read_only"]},
        "metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"},
        "scheduling": {"onHostMaintenance": "TERMINATE", "automaticRestart": True}},
    "gcp:container/cluster:Cluster": {
        "location": "europe-west4", "network": "ml-vpc", "subnetwork": "ml-nodes", "resourceLabels": TAGS,
        "removeDefaultNodePool": True, "initialNodeCount": 1, "enableLegacyAbac": False, "enableShieldedNodes": True,
        "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
        "workloadIdentityConfig": {"workloadPool": "ml-platform-prod.svc.id.goog"}, "datapathProvider": "ADVANCED_DATAPATH",
        "nodeConfig": {"serviceAccount": "nodes@proj.iam.gserviceaccount.com", "workloadMetadataConfig": {"mode": "GKE_METADATA"},
                       "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True}}},
    "gcp:container/nodePool:NodePool": {
        "cluster": "ml", "location": "europe-west4", "autoscaling": {"minNodeCount": 0, "maxNodeCount": 2},
        "nodeConfig": {"machineType": "g2-standard-8", "serviceAccount": "nodes@proj.iam.gserviceaccount.com", "resourceLabels": TAGS,
                       "workloadMetadataConfig": {"mode": "GKE_METADATA"},
                       "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
                       "guestAccelerators": [{"type": "nvidia-l4", "count": 1, "gpuDriverInstallationConfig": {"gpuDriverVersion": "DEFAULT"}}],
                       "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]}},
    "kubernetes:apps/v1:Deployment": {"metadata": METADATA, "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "scorer"}}, "spec": POD_SPEC}}},
    "kubernetes:argoproj.io/v1alpha1:Rollout": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": METADATA,
                                                "spec": {"replicas": 2, "template": {"spec": POD_SPEC},
                                                         "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}]}}}},
    "kubernetes:batch/v1:CronJob": {"metadata": METADATA, "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": POD_SPEC}}}}},
    "kubernetes:core/v1:Service": {"metadata": METADATA, "spec": {"selector": {"app": "scorer"}, "ports": [{"port": 80, "targetPort": 8080}]}},
    "kubernetes:rbac.authorization.k8s.io/v1:Role": {"metadata": METADATA, "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]}]},
    "kubernetes:networking.k8s.io/v1:Ingress": {
        "metadata": {**METADATA, "annotations": {"alb.ingress.kubernetes.io/scheme": "internet-facing", "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS": 443}]',
                                                 "alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/c"}},
        "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                                           "backend": {"service": {"name": "scorer", "port": {"name": "http"}}}}]}}]}},
    "kubernetes:core/v1:Namespace": {"metadata": {"name": "fraud", "labels": {"team": "fraud"}}},
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": {"metadata": METADATA, "spec": {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "TCP", "port": 8080}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}, {"ipBlock": {"cidr": "0.0.0.0/1"}}], "ports": [{"protocol": "TCP", "port": 443}]}]}},
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


# ---------------------------------------------------------------- wire names, checked against the SDKs

_PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "kubernetes": "pulumi_kubernetes"}


def sdk_args_class(type_token: str) -> type:
    """The SDK's input-type class of a resource type token (``InstanceArgs`` of ``aws:ec2/instance:Instance``).

    Raises:
        LookupError: no such resource class in the installed SDK.
    """
    package, module, name = type_token.split(":")
    path = module.split("/")
    if package == "kubernetes":
        python_module = f"{_PACKAGES[package]}.{path[0].split('.')[0]}.{path[1]}"
    else:
        python_module = f"{_PACKAGES[package]}.{path[0]}"
    resource_class = getattr(importlib.import_module(python_module), name, None)
    if resource_class is None:
        raise LookupError(f"{type_token}: no {name} in {python_module}")
    defining = sys.modules[resource_class.__module__]
    # Some resources name their args "InitArgs" because "Args" is taken by a nested input type.
    args = getattr(defining, f"{name}InitArgs", None) or getattr(defining, f"{name}Args", None)
    if args is None or not pulumi_types.is_input_type(args):
        raise LookupError(f"{type_token}: no input type for {name} in {defining.__name__}")
    return args


def _nested_input_type(annotation: Any) -> type | None:
    """The input type inside ``Optional[Input[Sequence[Input[XArgs]]]]`` and the like; None for scalars and maps."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation if isinstance(annotation, type) and pulumi_types.is_input_type(annotation) else None
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return None
    for argument in typing.get_args(annotation):
        found = _nested_input_type(argument)
        if found is not None:
            return found
    return None


def input_name_problems(args_class: type, value: Mapping[str, Any], path: str = "") -> list[str]:
    """Keys of ``value`` (recursively) that are not camelCase input names of ``args_class``."""
    names = set(pulumi_types.input_type_py_to_pulumi_names(args_class).values())
    types = pulumi_types.input_type_types(args_class)
    problems = []
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if key not in names:
            problems.append(f"{where}: not an input of {args_class.__name__} (has {', '.join(sorted(names))})")
            continue
        nested = _nested_input_type(types[key])
        if nested is None:
            continue
        items = [item] if isinstance(item, Mapping) else list(item) if isinstance(item, Sequence) and not isinstance(item, str) else []
        for index, element in enumerate(items):
            if isinstance(element, Mapping):
                label = where if isinstance(item, Mapping) else f"{where}[{index}]"
                problems += input_name_problems(nested, element, label)
    return problems


def _custom_resource_parts(type_token: str, props: Mapping[str, Any]) -> list[tuple[type, Mapping[str, Any], str]]:
    """A CustomResource has no SDK class (its spec is sent raw); the parts with a Kubernetes schema are checked against it."""
    from pulumi_kubernetes.core.v1 import PodTemplateSpecArgs
    from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

    if type_token == "kubernetes:argoproj.io/v1alpha1:Rollout":
        return [(ObjectMetaArgs, props.get("metadata") or {}, "metadata"),
                (PodTemplateSpecArgs, (props.get("spec") or {}).get("template") or {}, "spec.template")]
    raise LookupError(f"{type_token}: no schema known for this custom resource")


def wire_name_problems(type_token: str, props: Mapping[str, Any]) -> list[str]:
    """Property names in ``props`` that the provider SDK would never send for ``type_token``.

    A fixture with a misspelt name would let a rule reading the same misspelt name pass its
    mutation test while silently passing every real resource; checking fixtures against the SDK's
    own input types (``pulumi._types``) closes that gap.
    """
    try:
        args_class = sdk_args_class(type_token)
    except (LookupError, ImportError):  # a CustomResource: no SDK class
        return [p for args, value, path in _custom_resource_parts(type_token, props) for p in input_name_problems(args, value, path)]
    return input_name_problems(args_class, props)
