"""Every policy: the compliant base passes, and a mutation fails with the exact policy and message.

The checks run as plain functions (``PolicyRule.run``); tests/test_policy_gate.py runs them through
the real pack over gRPC.
"""

from __future__ import annotations

import json

import pytest

from platform_lib.policy.catalogue import catalogue, get_rule
from platform_lib.policy.environments import ENVIRONMENT_VALUES

from .policy_fixtures import BASE, container, pod, resource, set_json, wire_name_problems

PROD = ENVIRONMENT_VALUES["prod"]


def violations(subject, config=PROD) -> list[tuple[str, str]]:
    """(policy, message) of every resource policy on one resource."""
    return [(rule.name, message) for rule in catalogue() if rule.kind == "resource" for message in rule.run(subject, config)]


@pytest.mark.parametrize("type_token", sorted(BASE))
def test_base_fixture_is_compliant(type_token):
    assert violations(resource(type_token)) == []


def _add_statement(statement):
    return lambda document: document["Statement"].append(statement)


CASES = [
    # S3
    ("s3-public-access-block-all-flags", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
     lambda p: p.update(blockPublicPolicy=False, restrictPublicBuckets=None),
     "public access block 'subject' does not set blockPublicPolicy, restrictPublicBuckets to true"),
    ("s3-no-public-acl", "aws:s3/bucket:Bucket", lambda p: p.update(acl="public-read"), "'subject' uses the public canned ACL 'public-read'"),
    ("s3-no-public-acl", "aws:s3/bucket:Bucket",
     lambda p: p.update(grants=[{"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "permissions": ["READ", "WRITE"]}]),
     "'subject' grants READ, WRITE to AuthenticatedUsers"),
    ("s3-no-public-acl", "aws:s3/bucketAcl:BucketAcl",
     lambda p: p.update(acl=None, accessControlPolicy={"grants": [{"grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}, "permission": "READ"}]}),
     "'subject' grants READ to AllUsers"),
    ("s3-no-public-principal", "aws:s3/bucketPolicy:BucketPolicy",
     set_json("policy", _add_statement({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"})),
     "bucket policy 'subject' statement Open allows Principal '*'"),
    ("s3-tls-only-bucket-policy", "aws:s3/bucketPolicy:BucketPolicy", set_json("policy", lambda d: d["Statement"].pop(0)),
     "bucket policy 'subject' has no Deny statement for aws:SecureTransport = false"),
    ("s3-versioning-enabled", "aws:s3/bucketVersioning:BucketVersioning", lambda p: p["versioningConfiguration"].update(status="Suspended"),
     "versioning 'subject' has status Suspended, not Enabled"),
    ("s3-lifecycle-rules", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", lambda p: p["rules"][0].update(status="Disabled"),
     "lifecycle configuration 'subject' has no Enabled rule"),
    ("s3-lifecycle-rules", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", lambda p: p["rules"][0].pop("abortIncompleteMultipartUpload"),
     "lifecycle configuration 'subject' does not abort incomplete multipart uploads"),
    ("s3-no-force-destroy-in-prod", "aws:s3/bucket:Bucket", lambda p: p.update(forceDestroy=True), "bucket 'subject' sets forceDestroy in prod"),
    # IAM
    ("iam-no-wildcard-action", "aws:iam/policy:Policy",
     set_json("policy", _add_statement({"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::data"})),
     "policy statement All allows wildcard actions s3:*"),
    ("iam-no-wildcard-action", "aws:iam/policy:Policy",
     set_json("policy", _add_statement({"Sid": "AllBut", "Effect": "Allow", "NotAction": ["iam:*"], "Resource": "arn:aws:s3:::data"})),
     "policy statement AllBut allows every action except iam:* (NotAction)"),
    ("iam-no-wildcard-resource", "aws:iam/rolePolicy:RolePolicy",
     set_json("policy", _add_statement({"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances"], "Resource": "*"})),
     "policy statement Read allows s3:GetObject on Resource '*'"),
    ("iam-no-administrator-access", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     lambda p: p.update(policyArn="arn:aws:iam::aws:policy/AdministratorAccess"), "'subject' attaches the AWS managed policy AdministratorAccess"),
    ("iam-no-administrator-access", "aws:iam/role:Role",
     lambda p: p.update(managedPolicyArns=["arn:aws:iam::aws:policy/PowerUserAccess"]), "role 'subject' attaches the AWS managed policy PowerUserAccess"),
    ("iam-no-administrator-access", "aws:iam/role:Role",
     lambda p: p.update(inlinePolicies=[{"name": "admin", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
         {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}]})}]),
     "inlinePolicies[0].policy statement Admin allows '*' on '*' (full administrator access)"),
    ("iam-no-iam-full-access", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
     lambda p: p.update(policyArn="arn:aws:iam::aws:policy/IAMFullAccess"), "'subject' attaches the AWS managed policy IAMFullAccess"),
    ("iam-no-iam-full-access", "aws:iam/rolePolicy:RolePolicy",
     set_json("policy", _add_statement({"Sid": "Iam", "Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::123456789012:role/x"})),
     "policy statement Iam allows iam:*"),
    ("iam-no-wildcard-action", "aws:iam/policy:Policy",
     set_json("policy", _add_statement({"Sid": "Sneaky", "Effect": "Allow", "Action": "kms:*?", "Resource": "arn:aws:kms:us-east-1:123456789012:key/k"})),
     "policy statement Sneaky allows wildcard actions kms:*?"),
    ("iam-no-iam-full-access", "aws:iam/rolePolicy:RolePolicy",
     set_json("policy", _add_statement({"Sid": "Iam", "Effect": "Allow", "Action": "IAM:**", "Resource": "arn:aws:iam::123456789012:role/x"})),
     "policy statement Iam allows IAM:**"),
    # Wildcards are expanded against the catalogue of IAM actions (issue 10: iam:P* is iam:PassRole and iam:PutRolePolicy).
    ("iam-no-privilege-escalation", "aws:iam/rolePolicy:RolePolicy",
     set_json("policy", _add_statement({"Sid": "P", "Effect": "Allow", "Action": "iam:P*", "Resource": "*"})),
     "policy statement P allows iam:P*, which grants iam:PassRole, iam:PutGroupPolicy, iam:PutRolePermissionsBoundary, iam:PutRolePolicy, "
     "iam:PutUserPermissionsBoundary, iam:PutUserPolicy (privilege escalation)"),
    ("iam-no-privilege-escalation", "aws:iam/policy:Policy",
     set_json("policy", _add_statement({"Sid": "Attach", "Effect": "Allow", "Action": ["s3:GetObject", "iam:attach?olePolicy"], "Resource": "arn:aws:iam::123456789012:role/x"})),
     "policy statement Attach allows iam:attach?olePolicy, which grants iam:AttachRolePolicy (privilege escalation)"),
    ("iam-no-privilege-escalation", "aws:iam/policy:Policy",
     set_json("policy", _add_statement({"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/*"})),
     "policy statement Pass allows iam:PassRole, which grants iam:PassRole (privilege escalation)"),
    ("iam-kms-via-service", "aws:iam/policy:Policy",
     set_json("policy", _add_statement({"Sid": "Key", "Effect": "Allow", "Action": ["s3:GetObject", "kms:Decrypt", "kms:GenerateData*"],
                                        "Resource": "arn:aws:kms:us-east-1:123456789012:key/k"})),
     "policy statement Key allows kms:Decrypt, kms:GenerateData* on a KMS key without a kms:ViaService condition"),
    ("iam-no-public-trust-principal", "aws:iam/role:Role",
     set_json("assumeRolePolicy", _add_statement({"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})),
     "trust policy statement Anyone of role 'subject' allows Principal '*'"),
    ("iam-no-any-service-trust-principal", "aws:iam/role:Role",
     set_json("assumeRolePolicy", _add_statement({"Sid": "Svc", "Effect": "Allow", "Principal": {"Service": "*"}, "Action": "sts:AssumeRole"})),
     "trust policy statement Svc of role 'subject' trusts service principal *"),
    ("iam-oidc-trust-requires-subject", "aws:iam/role:Role",
     set_json("assumeRolePolicy", lambda d: d["Statement"][0]["Condition"]["StringEquals"].pop("oidc.eks.us-east-1.amazonaws.com/id/ABC:sub")),
     "trust policy statement 0 of role 'subject' lets any subject of the OIDC provider assume it"),
    # EC2
    ("ec2-imdsv2-required", "aws:ec2/instance:Instance", lambda p: p["metadataOptions"].update(httpTokens="optional"),
     "'subject' has metadataOptions.httpTokens optional, not required"),
    ("ec2-imdsv2-required", "aws:ec2/launchTemplate:LaunchTemplate", lambda p: p["metadataOptions"].pop("httpTokens"),
     "'subject' has metadataOptions.httpTokens unset (IMDSv1 allowed), not required"),
    ("ec2-no-public-ip", "aws:ec2/instance:Instance", lambda p: p.update(associatePublicIpAddress=True), "'subject' sets associatePublicIpAddress"),
    ("ec2-no-public-ip", "aws:ec2/launchTemplate:LaunchTemplate", lambda p: p["networkInterfaces"][0].update(associatePublicIpAddress="true"),
     "'subject' networkInterfaces[0] sets associatePublicIpAddress"),
    ("ec2-encrypted-volumes", "aws:ec2/instance:Instance", lambda p: p["ebsBlockDevices"][0].update(encrypted=False),
     "'subject' ebsBlockDevices[0] (/dev/sdf) is not encrypted"),
    ("ec2-encrypted-volumes", "aws:ec2/instance:Instance", lambda p: p["rootBlockDevice"].pop("encrypted"), "'subject' rootBlockDevice is not encrypted"),
    ("ec2-encrypted-volumes", "aws:ec2/launchTemplate:LaunchTemplate", lambda p: p["blockDeviceMappings"][0]["ebs"].update(encrypted="false"),
     "'subject' blockDeviceMappings[0] (/dev/xvda) is not encrypted"),
    ("ec2-encrypted-volumes", "aws:ebs/volume:Volume", lambda p: p.pop("encrypted"), "volume 'subject' is not encrypted"),
    ("ec2-instance-type-allowlist", "aws:ec2/instance:Instance", lambda p: p.update(instanceType="p3.8xlarge"),
     "'subject' uses instance type p3.8xlarge, not in the allowlist (g5.xlarge, g5.2xlarge, g5.12xlarge, g5.48xlarge, g6.xlarge, p4d.24xlarge)"),
    ("ec2-no-admin-ports-from-anywhere", "aws:ec2/securityGroup:SecurityGroup", lambda p: p["ingress"][1].update(cidrBlocks=["0.0.0.0/0"]),
     "'subject' ingress[1] opens SSH (22) to 0.0.0.0/0"),
    ("ec2-no-admin-ports-from-anywhere", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     lambda p: p.update(ipProtocol="-1", fromPort=None, toPort=None), "'subject' rule opens SSH (22), RDP (3389) to 0.0.0.0/0"),
    ("ec2-no-admin-ports-from-anywhere", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
     lambda p: p.update(cidrIpv4=None, cidrIpv6="::/0", fromPort=22, toPort=22), "'subject' rule opens SSH (22) to ::/0"),
    ("ec2-no-admin-ports-from-anywhere", "aws:ec2/securityGroupRule:SecurityGroupRule", lambda p: p.update(protocol="udp", fromPort=3389, toPort=3389),
     "'subject' rule opens RDP (3389) to 0.0.0.0/0, ::/0"),
    ("ec2-no-admin-ports-from-anywhere", "aws:ec2/securityGroup:SecurityGroup", lambda p: p["ingress"][1].update(cidrBlocks=[], ipv6CidrBlocks=["::/0"]),
     "'subject' ingress[1] opens SSH (22) to ::/0"),
    # The union of the ranges is judged, not each range (issue 10).
    ("ec2-no-admin-ports-from-anywhere", "aws:ec2/securityGroup:SecurityGroup", lambda p: p["ingress"][1].update(cidrBlocks=["0.0.0.0/1", "128.0.0.0/1"]),
     "'subject' ingress[1] opens SSH (22) to 0.0.0.0/0 (0.0.0.0/1, 128.0.0.0/1 together)"),
    ("ec2-no-admin-ports-from-anywhere", "aws:ec2/securityGroup:SecurityGroup",
     lambda p: (p["ingress"][1].update(cidrBlocks=["0.0.0.0/1"]), p["ingress"].append({"protocol": "tcp", "fromPort": 20, "toPort": 25, "cidrBlocks": ["128.0.0.0/1"]})),
     "'subject' ingress[1], ingress[2] together open SSH (22) to 0.0.0.0/0"),
    ("ec2-no-admin-ports-from-anywhere", "aws:ec2/securityGroupRule:SecurityGroupRule",
     lambda p: p.update(fromPort=3389, toPort=3389, cidrBlocks=["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"], ipv6CidrBlocks=[]),
     "'subject' rule opens RDP (3389) to 0.0.0.0/0 (0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1 together)"),
    # GCE
    ("gce-no-external-ip", "gcp:compute/instance:Instance", lambda p: p["networkInterfaces"][0].update(accessConfigs=[{}]),
     "'subject' networkInterfaces[0] has an external access config"),
    ("gce-no-external-ip", "gcp:compute/instance:Instance", lambda p: p["networkInterfaces"][0].update(ipv6AccessConfigs=[{"networkTier": "PREMIUM"}]),
     "'subject' networkInterfaces[0] has an external access config"),
    ("gce-no-external-ip", "gcp:compute/instanceTemplate:InstanceTemplate", lambda p: p["networkInterfaces"][0].update(accessConfigs=[{"networkTier": "STANDARD"}]),
     "'subject' networkInterfaces[0] has an external access config"),
    ("gce-shielded-vm", "gcp:compute/instance:Instance", lambda p: p["shieldedInstanceConfig"].update(enableSecureBoot=False, enableVtpm=False),
     "'subject' shieldedInstanceConfig does not enable enableSecureBoot, enableVtpm"),
    ("gce-no-default-service-account", "gcp:compute/instance:Instance",
     lambda p: p["serviceAccount"].update(email="123456789-compute@developer.gserviceaccount.com"), "'subject' runs as the Compute Engine default service account"),
    ("gce-no-cloud-platform-scope", "gcp:compute/instance:Instance", lambda p: p["serviceAccount"].update(scopes=["cloud-platform"]),
     "'subject' requests the cloud-platform scope"),
    ("gce-os-login-enabled", "gcp:compute/instance:Instance", lambda p: p["metadata"].pop("enable-oslogin"),
     "'subject' does not set metadata enable-oslogin to TRUE"),
    ("gce-block-project-ssh-keys", "gcp:compute/instance:Instance", lambda p: p["metadata"].update({"block-project-ssh-keys": "FALSE"}),
     "'subject' does not set metadata block-project-ssh-keys to TRUE"),
    ("gce-no-serial-port-access", "gcp:compute/instance:Instance", lambda p: p["metadata"].update({"serial-port-enable": "TRUE"}),
     "'subject' enables serial port access"),
    ("gce-gpu-terminate-on-host-maintenance", "gcp:compute/instance:Instance", lambda p: p.pop("scheduling"),
     "'subject' has GPUs but scheduling.onHostMaintenance is unset (MIGRATE)"),
    ("gce-machine-type-allowlist", "gcp:compute/instance:Instance", lambda p: p.update(machineType="n1-standard-16", scheduling={"onHostMaintenance": "TERMINATE"}),
     "'subject' uses machine type n1-standard-16, not in the allowlist (n1-standard-8, g2-standard-8, a2-highgpu-1g, a2-highgpu-8g)"),
    # GKE
    ("gke-no-legacy-abac", "gcp:container/cluster:Cluster", lambda p: p.update(enableLegacyAbac=True),
     "'subject' enables legacy ABAC (enableLegacyAbac)"),
    ("gke-private-nodes", "gcp:container/cluster:Cluster", lambda p: p["privateClusterConfig"].update(enablePrivateNodes=False),
     "'subject' does not enable private nodes (privateClusterConfig.enablePrivateNodes)"),
    ("gke-private-nodes", "gcp:container/cluster:Cluster", lambda p: p.pop("privateClusterConfig"),
     "'subject' does not enable private nodes (privateClusterConfig.enablePrivateNodes)"),
    ("gke-workload-identity", "gcp:container/cluster:Cluster", lambda p: p.pop("workloadIdentityConfig"),
     "'subject' does not enable Workload Identity (workloadIdentityConfig.workloadPool)"),
    ("gke-workload-identity", "gcp:container/nodePool:NodePool", lambda p: p["nodeConfig"]["workloadMetadataConfig"].update(mode="GCE_METADATA"),
     "'subject' nodeConfig.workloadMetadataConfig.mode is GCE_METADATA, not GKE_METADATA"),
    ("gke-workload-identity", "gcp:container/cluster:Cluster",
     lambda p: p.update(nodePools=[{"name": "extra", "nodeConfig": {"shieldedInstanceConfig": {"enableSecureBoot": True}}}]),
     "'subject' nodePools[0].nodeConfig.workloadMetadataConfig.mode is unset, not GKE_METADATA"),
    ("gke-shielded-nodes", "gcp:container/cluster:Cluster", lambda p: p.update(enableShieldedNodes=False),
     "'subject' disables shielded nodes (enableShieldedNodes)"),
    ("gke-shielded-nodes", "gcp:container/nodePool:NodePool",
     lambda p: p["nodeConfig"]["shieldedInstanceConfig"].update(enableSecureBoot=False, enableIntegrityMonitoring=False),
     "'subject' nodeConfig.shieldedInstanceConfig does not enable enableSecureBoot, enableIntegrityMonitoring"),
    # CloudFront
    ("cloudfront-https-only", "aws:cloudfront/distribution:Distribution", lambda p: p["defaultCacheBehavior"].update(viewerProtocolPolicy="allow-all"),
     "distribution 'subject' defaultCacheBehavior has viewerProtocolPolicy allow-all"),
    ("cloudfront-https-only", "aws:cloudfront/distribution:Distribution",
     lambda p: p.update(orderedCacheBehaviors=[{"pathPattern": "/img/*", "targetOriginId": "site", "viewerProtocolPolicy": "allow-all",
                                                "responseHeadersPolicyId": "rhp-1", "allowedMethods": ["GET", "HEAD"], "cachedMethods": ["GET", "HEAD"]}]),
     "distribution 'subject' orderedCacheBehaviors[0] (/img/*) has viewerProtocolPolicy allow-all"),
    ("cloudfront-minimum-tls-1-2", "aws:cloudfront/distribution:Distribution", lambda p: p.update(viewerCertificate={"cloudfrontDefaultCertificate": True}),
     "distribution 'subject' uses the default CloudFront certificate, which allows TLSv1"),
    ("cloudfront-minimum-tls-1-2", "aws:cloudfront/distribution:Distribution", lambda p: p["viewerCertificate"].update(minimumProtocolVersion="TLSv1.1_2016"),
     "distribution 'subject' has minimumProtocolVersion TLSv1.1_2016, older than TLSv1.2"),
    ("cloudfront-s3-origin-access-control", "aws:cloudfront/distribution:Distribution", lambda p: p["origins"][0].pop("originAccessControlId"),
     "distribution 'subject' origin site reads S3 without an origin access control"),
    ("cloudfront-response-headers-policy", "aws:cloudfront/distribution:Distribution", lambda p: p["defaultCacheBehavior"].pop("responseHeadersPolicyId"),
     "distribution 'subject' defaultCacheBehavior has no responseHeadersPolicyId"),
    ("cloudfront-default-root-object", "aws:cloudfront/distribution:Distribution", lambda p: p.pop("defaultRootObject"),
     "distribution 'subject' has no defaultRootObject"),
    # Kubernetes pod templates
    ("k8s-run-as-non-root", "kubernetes:apps/v1:Deployment",
     lambda p: (pod(p)["securityContext"].pop("runAsNonRoot"), container(p)["securityContext"].pop("runAsNonRoot")),
     "Deployment 'subject' containers[server] does not set runAsNonRoot: true"),
    ("k8s-run-as-non-root", "kubernetes:argoproj.io/v1alpha1:Rollout", lambda p: pod(p)["securityContext"].update(runAsUser=0),
     "Rollout 'subject' sets spec.securityContext.runAsUser 0"),
    ("k8s-no-privilege-escalation", "kubernetes:argoproj.io/v1alpha1:Rollout", lambda p: container(p)["securityContext"].pop("allowPrivilegeEscalation"),
     "Rollout 'subject' containers[server] does not set allowPrivilegeEscalation: false"),
    ("k8s-drop-all-capabilities", "kubernetes:apps/v1:Deployment", lambda p: container(p)["securityContext"].update(capabilities={"drop": ["NET_RAW"], "add": ["SYS_ADMIN"]}),
     "Deployment 'subject' containers[server] does not drop ALL capabilities"),
    ("k8s-drop-all-capabilities", "kubernetes:batch/v1:CronJob", lambda p: container(p)["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
     "CronJob 'subject' containers[server] adds capabilities NET_ADMIN"),
    ("k8s-seccomp-runtime-default", "kubernetes:apps/v1:Deployment",
     lambda p: (pod(p)["securityContext"].pop("seccompProfile"), container(p)["securityContext"].update(seccompProfile={"type": "Unconfined"})),
     "Deployment 'subject' containers[server] has seccomp profile Unconfined, not RuntimeDefault"),
    ("k8s-no-privileged-containers", "kubernetes:apps/v1:Deployment", lambda p: container(p)["securityContext"].update(privileged=True),
     "Deployment 'subject' containers[server] is privileged"),
    ("k8s-no-host-namespaces", "kubernetes:apps/v1:Deployment", lambda p: pod(p).update(hostNetwork=True, hostPID=True),
     "Deployment 'subject' sets hostNetwork, hostPID"),
    ("k8s-no-host-ports", "kubernetes:argoproj.io/v1alpha1:Rollout", lambda p: container(p)["ports"][0].update(hostPort=8080),
     "Rollout 'subject' containers[server] binds host ports 8080"),
    ("k8s-no-host-path-volumes", "kubernetes:apps/v1:Deployment", lambda p: pod(p).update(volumes=[{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]),
     "Deployment 'subject' volume docker mounts hostPath /var/run/docker.sock"),
    ("k8s-no-plaintext-secret-env", "kubernetes:apps/v1:Deployment",
     lambda p: container(p).update(env=[{"name": "MODE", "value": "serve"}, {"name": "db_password", "value": "hunter2"},
                                        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "api", "key": "key"}}}]),
     "Deployment 'subject' containers[server] sets db_password in plain text, not from a Secret (valueFrom.secretKeyRef)"),
    ("k8s-no-plaintext-secret-env", "kubernetes:batch/v1:CronJob",
     lambda p: pod(p).update(initContainers=[{**container(p), "name": "fetch", "env": [{"name": "HF_TOKEN", "value": "hf_abc"}]}]),
     "CronJob 'subject' initContainers[fetch] sets HF_TOKEN in plain text, not from a Secret (valueFrom.secretKeyRef)"),
    ("k8s-requests-and-limits", "kubernetes:apps/v1:Deployment", lambda p: container(p).update(resources={"requests": {"cpu": "1"}}),
     "Deployment 'subject' containers[server] has no requests.memory, limits.cpu, limits.memory"),
    ("k8s-readiness-probe", "kubernetes:argoproj.io/v1alpha1:Rollout", lambda p: container(p).pop("readinessProbe"),
     "Rollout 'subject' containers[server] has no readinessProbe"),
    ("k8s-image-not-latest", "kubernetes:apps/v1:Deployment", lambda p: container(p).update(image="registry.example.com/fraud/scorer:latest"),
     "Deployment 'subject' containers[server] image registry.example.com/fraud/scorer:latest is latest"),
    ("k8s-image-not-latest", "kubernetes:batch/v1:CronJob", lambda p: container(p).update(image="localhost:5000/trainer"),
     "CronJob 'subject' containers[server] image localhost:5000/trainer is untagged"),
    ("k8s-image-pinned-by-digest", "kubernetes:apps/v1:Deployment", lambda p: container(p).update(image="registry.example.com/fraud/scorer:1.4.2"),
     "Deployment 'subject' containers[server] image registry.example.com/fraud/scorer:1.4.2 is not pinned by digest"),
    ("k8s-no-default-namespace", "kubernetes:core/v1:Service", lambda p: p["metadata"].update(namespace="default"),
     "Service 'subject' is in the default namespace"),
    ("k8s-no-default-namespace", "kubernetes:apps/v1:Deployment", lambda p: p["metadata"].pop("namespace"),
     "Deployment 'subject' is in the unset (default) namespace"),
    ("k8s-rbac-no-wildcards", "kubernetes:rbac.authorization.k8s.io/v1:Role", lambda p: p["rules"][0].update(verbs=["*"], resources=["*"]),
     "Role 'subject' rules[0] uses '*' in resources, verbs"),
    ("k8s-no-cluster-admin-binding", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", lambda p: p["roleRef"].update(name="cluster-admin"),
     "RoleBinding 'subject' grants cluster-admin"),
    ("k8s-no-cluster-admin-binding", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", lambda p: p["subjects"].append({"kind": "Group", "name": "system:masters"}),
     "RoleBinding 'subject' binds the system:masters group"),
    ("k8s-no-system-subject-binding", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", lambda p: p["subjects"].append({"kind": "Group", "name": "system:authenticated"}),
     "RoleBinding 'subject' binds the built-in group system:authenticated"),
    ("k8s-no-system-subject-binding", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", lambda p: p["subjects"].__setitem__(0, {"kind": "User", "name": "system:anonymous"}),
     "RoleBinding 'subject' binds the built-in user system:anonymous"),
    ("k8s-no-system-namespace", "kubernetes:apps/v1:Deployment", lambda p: p["metadata"].update(namespace="kube-system"),
     "Deployment 'subject' is in the Kubernetes system namespace kube-system"),
    ("k8s-no-system-namespace", "kubernetes:core/v1:Namespace", lambda p: p["metadata"].update(name="kube-fraud"),
     "Namespace 'subject' is named kube-fraud, a name reserved for Kubernetes"),
    ("k8s-network-policy-not-whole-internet", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
     lambda p: p["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "128.0.0.0/1"}}]}),
     "NetworkPolicy 'subject' egress admits all of 0.0.0.0/0 (ipBlocks 10.20.0.0/16, 0.0.0.0/1, 128.0.0.0/1)"),
    ("k8s-network-policy-not-whole-internet", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
     lambda p: p["spec"]["ingress"][0]["from"].append({"ipBlock": {"cidr": "::/0", "except": ["fd00::/8"]}}),
     "NetworkPolicy 'subject' ingress admits all of ::/0 (ipBlocks 10.0.0.0/8, ::/0)"),
    ("k8s-role-no-load-balancer-write", "kubernetes:rbac.authorization.k8s.io/v1:Role",
     lambda p: p["rules"].append({"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "create", "patch"]}),
     "Role 'subject' rules[1] allows create, patch on ingresses"),
    ("k8s-role-no-load-balancer-write", "kubernetes:rbac.authorization.k8s.io/v1:Role",
     lambda p: p["rules"].append({"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["update"]}),
     "Role 'subject' rules[1] allows update on services"),
    ("k8s-internet-facing-load-balancer-tls", "kubernetes:networking.k8s.io/v1:Ingress",
     lambda p: (p["metadata"]["annotations"].pop("alb.ingress.kubernetes.io/certificate-arn"), p["metadata"]["annotations"].update({"alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}]'})),
     "Ingress 'subject' is an internet-facing load balancer that has no certificate (alb.ingress.kubernetes.io/certificate-arn or spec.tls)"),
    ("k8s-internet-facing-load-balancer-tls", "kubernetes:networking.k8s.io/v1:Ingress",
     lambda p: p["metadata"]["annotations"].update({"alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]'}),
     "Ingress 'subject' is an internet-facing load balancer that listens on plain HTTP without alb.ingress.kubernetes.io/ssl-redirect"),
    ("k8s-internet-facing-load-balancer-tls", "kubernetes:core/v1:Service", lambda p: p["spec"].update(type="LoadBalancer"),
     "Service 'subject' is an internet-facing load balancer that has no certificate (service.beta.kubernetes.io/aws-load-balancer-ssl-cert)"),
    ("k8s-internet-facing-load-balancer-tls", "kubernetes:core/v1:Service",
     lambda p: (p["spec"].update(type="LoadBalancer"), p["metadata"].update(annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})),
     "Service 'subject' is an internet-facing load balancer that has no certificate (service.beta.kubernetes.io/aws-load-balancer-ssl-cert)"),
    # Tags and labels
    ("aws-required-tags", "aws:ec2/instance:Instance", lambda p: p["tags"].pop("cost-center"),
     "'subject' (aws:ec2/instance:Instance) lacks tags cost-center"),
    ("gcp-required-labels", "gcp:compute/instance:Instance", lambda p: p.update(labels={"team": "fraud"}),
     "'subject' (gcp:compute/instance:Instance) lacks labels cost-center, environment, managed-by"),
    # Cost
    ("gpu-instance-within-budget", "aws:ec2/instance:Instance", lambda p: p.update(instanceType="x9.huge"),
     "'subject' uses x9.huge, which has no known price"),
    ("gpu-instance-within-budget", "gcp:compute/instance:Instance", lambda p: p["guestAccelerators"][0].update(count=16),
     "'subject' has 16 GPUs, more than the 8 allowed per instance"),
    ("gpu-instance-within-budget", "gcp:compute/instance:Instance", lambda p: p["guestAccelerators"][0].update(type="nvidia-h200-141gb"),
     "'subject' uses n1-standard-8 + 1x nvidia-h200-141gb, which has no known price"),
]


#: Mutations that by nature break a second policy too (message -> the other policy).
ALSO = {
    "policy statement Sneaky allows wildcard actions kms:*?": {"iam-kms-via-service"},
    "policy statement P allows iam:P*, which grants iam:PassRole, iam:PutGroupPolicy, iam:PutRolePermissionsBoundary, iam:PutRolePolicy, "
    "iam:PutUserPermissionsBoundary, iam:PutUserPolicy (privilege escalation)": {"iam-no-wildcard-resource"},
    "policy statement Iam allows IAM:**": {"iam-no-wildcard-action", "iam-no-privilege-escalation"},
    "RoleBinding 'subject' binds the system:masters group": {"k8s-no-system-subject-binding"},
    "policy statement Iam allows iam:*": {"iam-no-wildcard-action", "iam-no-privilege-escalation"},
    "Deployment 'subject' containers[server] image registry.example.com/fraud/scorer:latest is latest": {"k8s-image-pinned-by-digest"},
    "CronJob 'subject' containers[server] image localhost:5000/trainer is untagged": {"k8s-image-pinned-by-digest"},
    "'subject' uses x9.huge, which has no known price": {"ec2-instance-type-allowlist"},
    "inlinePolicies[0].policy statement Admin allows '*' on '*' (full administrator access)": {"iam-no-wildcard-action", "iam-no-wildcard-resource", "iam-no-privilege-escalation"},
}


@pytest.mark.parametrize(("policy", "type_token", "mutate", "message"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_mutation_violates_exactly_one_policy(policy, type_token, mutate, message):
    found = violations(resource(type_token, mutate))
    assert (policy, message) in found
    assert {name for name, _ in found} == {policy} | ALSO.get(message, set()), found


def test_every_resource_policy_has_a_mutation():
    covered = {case[0] for case in CASES}
    assert {r.name for r in catalogue() if r.kind == "resource"} <= covered


def test_budget_uses_the_environment_config():
    box = resource("aws:ec2/instance:Instance", lambda p: p.update(instanceType="p4d.24xlarge"))
    dev = ENVIRONMENT_VALUES["dev"]
    assert get_rule("gpu-instance-within-budget").run(box, dev) == [
        "'subject' has 8 GPUs, more than the 1 allowed per instance",
        "'subject' (p4d.24xlarge) costs 23,924.00 USD per month, over the budget of 3,000.00 USD",
    ]
    assert get_rule("gpu-instance-within-budget").run(box, PROD) == []


def test_force_destroy_is_allowed_outside_prod():
    bucket = resource("aws:s3/bucket:Bucket", lambda p: p.update(forceDestroy=True))
    assert get_rule("s3-no-force-destroy-in-prod").run(bucket, ENVIRONMENT_VALUES["dev"]) == []


@pytest.mark.parametrize("annotations", [
    {"alb.ingress.kubernetes.io/scheme": "internal"},  # internal, plain HTTP: inside the VPC only
    {"alb.ingress.kubernetes.io/scheme": "internet-facing", "alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/c"},
    {"alb.ingress.kubernetes.io/scheme": "internet-facing", "alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/c",
     "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]', "alb.ingress.kubernetes.io/ssl-redirect": "443"},
])
def test_internal_or_tls_ingresses_pass(annotations):
    subject = resource("kubernetes:networking.k8s.io/v1:Ingress", lambda p: p["metadata"].update(annotations=annotations))
    assert get_rule("k8s-internet-facing-load-balancer-tls").run(subject, PROD) == []
    internal_service = resource("kubernetes:core/v1:Service", lambda p: (p["spec"].update(type="LoadBalancer"), p["metadata"].update(
        annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"})))
    assert get_rule("k8s-internet-facing-load-balancer-tls").run(internal_service, PROD) == []


def test_kms_use_through_a_service_passes():
    subject = resource("aws:iam/policy:Policy", set_json("policy", _add_statement(
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "arn:aws:kms:us-east-1:123456789012:key/k",
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}})))
    assert get_rule("iam-kms-via-service").run(subject, PROD) == []
    managing = resource("aws:iam/policy:Policy", set_json("policy", _add_statement(
        {"Effect": "Allow", "Action": ["kms:DescribeKey", "kms:ListAliases"], "Resource": "arn:aws:kms:us-east-1:123456789012:key/k"})))
    assert get_rule("iam-kms-via-service").run(managing, PROD) == []


def test_passing_a_named_role_is_not_escalation():
    subject = resource("aws:iam/policy:Policy", set_json("policy", _add_statement(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/sagemaker-training"})))
    assert get_rule("iam-no-privilege-escalation").run(subject, PROD) == []


def test_not_action_grants_the_escalation_actions_it_does_not_exclude():
    subject = resource("aws:iam/policy:Policy", set_json("policy", _add_statement(
        {"Sid": "AllBut", "Effect": "Allow", "NotAction": ["iam:Put*", "iam:Pass*", "iam:*Policy*", "iam:*Boundary", "iam:*Profile", "iam:AddUserToGroup", "iam:UpdateAssumeRolePolicy"],
         "Resource": "arn:aws:s3:::data"})))
    assert get_rule("iam-no-privilege-escalation").run(subject, PROD) == [
        "policy statement AllBut allows NotAction iam:Put*, iam:Pass*, iam:*Policy*, iam:*Boundary, iam:*Profile, iam:AddUserToGroup, "
        "iam:UpdateAssumeRolePolicy, which grants iam:CreateAccessKey (privilege escalation)"]


def test_privilege_escalation_actions_are_real_iam_actions():
    from platform_lib.policy.iam_actions import PRIVILEGE_ESCALATION_ACTIONS, expand, service_actions

    catalogue_actions = set(service_actions("iam"))
    assert set(PRIVILEGE_ESCALATION_ACTIONS) <= catalogue_actions
    assert {"iam:PassRole", "iam:PutRolePolicy"} <= set(expand("iam:P*")) and "iam:GetRole" not in expand("iam:P*")
    assert expand("s3:GetObject") == ("s3:GetObject",) and expand("s3:getobject") == ("s3:GetObject",)


def test_unscopable_actions_may_use_any_resource():
    rule = get_rule("iam-no-wildcard-resource")
    subject = resource("aws:iam/policy:Policy", set_json("policy", _add_statement({"Effect": "Allow", "Action": ["ec2:DescribeInstances", "ecr:GetAuthorizationToken"], "Resource": "*"})))
    assert rule.run(subject, PROD) == []


def test_policy_applies_only_to_its_types():
    bucket_policy = get_rule("s3-tls-only-bucket-policy")
    assert bucket_policy.run(resource("aws:s3/bucket:Bucket"), PROD) == []  # a bucket carries no bucket policy document
    assert bucket_policy.run(resource("aws:s3/bucketPolicy:BucketPolicy", set_json("policy", lambda d: d["Statement"].pop(0))), PROD) != []
    tags = get_rule("aws-required-tags")  # prefix "aws:", then only the SDK's taggable types
    assert tags.applies_to("aws:s3/bucketPolicy:BucketPolicy") and not tags.applies_to("gcp:compute/instance:Instance")
    assert tags.run(resource("aws:s3/bucketPolicy:BucketPolicy"), PROD) == []  # BucketPolicy takes no tags


@pytest.mark.parametrize("type_token", sorted(BASE))
def test_base_fixture_uses_the_provider_wire_names(type_token):
    assert wire_name_problems(type_token, BASE[type_token]) == []


@pytest.mark.parametrize(("policy", "type_token", "mutate", "message"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_mutation_uses_the_provider_wire_names(policy, type_token, mutate, message):
    """The property each mutation flips is one the provider sends, so the rule reading it reads a real name."""
    mutated = {k: v for k, v in resource(type_token, mutate).props.items() if v is not None}
    assert wire_name_problems(type_token, mutated) == []


def test_wire_name_check_catches_a_misspelt_property():
    assert wire_name_problems("aws:ec2/instance:Instance", {"metadataOptions": {"httpToken": "required"}}) == [
        "metadataOptions.httpToken: not an input of InstanceMetadataOptionsArgs (has httpEndpoint, httpProtocolIpv6, "
        "httpPutResponseHopLimit, httpTokens, instanceMetadataTags)"]
    problems = wire_name_problems("kubernetes:argoproj.io/v1alpha1:Rollout", {"spec": {"template": {"spec": {"containers": [{"securityContext": {"runAsNonroot": True}}]}}}})
    assert [p.split(":")[0] for p in problems] == ["spec.template.spec.containers[0].securityContext.runAsNonroot"]


def test_imds_disabled_needs_no_tokens():
    subject = resource("aws:ec2/launchTemplate:LaunchTemplate", lambda p: p.update(metadataOptions={"httpEndpoint": "disabled"}))
    assert get_rule("ec2-imdsv2-required").run(subject, PROD) == []


def test_admin_ports_only_from_anywhere_and_only_inbound():
    rule = get_rule("ec2-no-admin-ports-from-anywhere")
    egress = resource("aws:ec2/securityGroupRule:SecurityGroupRule", lambda p: p.update(type="egress", fromPort=22, toPort=22))
    icmp = resource("aws:ec2/securityGroupRule:SecurityGroupRule", lambda p: p.update(protocol="icmp", fromPort=-1, toPort=-1))
    assert rule.run(egress, PROD) == [] and rule.run(icmp, PROD) == []


@pytest.mark.parametrize(("value", "passes"), [("false", True), (False, True), (["false"], True), ("true", False), (["true", "false"], False)])
def test_tls_deny_reads_every_form_of_the_secure_transport_condition(value, passes):
    def mutate(document):
        document["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"] = value
    found = get_rule("s3-tls-only-bucket-policy").run(resource("aws:s3/bucketPolicy:BucketPolicy", set_json("policy", mutate)), PROD)
    assert found == ([] if passes else ["bucket policy 'subject' has no Deny statement for aws:SecureTransport = false"])


@pytest.mark.parametrize("uid", [0, 0.0, "0"])
def test_root_uid_in_every_form_the_wire_carries(uid):
    """Numbers reach the pack as floats (protobuf Struct); a string UID must not crash the rule."""
    subject = resource("kubernetes:apps/v1:Deployment", lambda p: container(p)["securityContext"].update(runAsUser=uid))
    assert get_rule("k8s-run-as-non-root").run(subject, PROD) == ["Deployment 'subject' containers[server] sets runAsUser 0"]
    assert get_rule("k8s-run-as-non-root").run(resource("kubernetes:apps/v1:Deployment", lambda p: container(p)["securityContext"].update(runAsUser="nobody")), PROD) == []
