"""IAM policies: identity policies and role trust policies (control ids: AWS Security Hub FSBP
"controls for IAM"; CIS AWS Foundations Benchmark v3.0; checkov's AWS policy index)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..catalogue import ADVISORY_IN_DEV, resource_policy
from ..helpers import allow_statements, as_list, get, is_public_principal, policy_document, policy_documents_of, principal_values
from ..iam_actions import PRIVILEGE_ESCALATION_ACTIONS, covers_whole_service, has_no_resource_types, matches

IDENTITY_POLICY_TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy",
                         "aws:iam/groupPolicy:GroupPolicy", "aws:iam/role:Role")
ATTACHMENT_TYPES = ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/userPolicyAttachment:UserPolicyAttachment",
                    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "aws:iam/policyAttachment:PolicyAttachment")
ROLE = ("aws:iam/role:Role",)

#: AWS managed policies that grant full administrator or full IAM access.
ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")

#: Actions that support no resource-level permissions, so "Resource": "*" is the only choice
#: (source: AWS Service Authorization Reference, actions whose "Resource types" column is empty).
UNSCOPABLE_ACTIONS = (
    "sts:GetCallerIdentity", "s3:ListAllMyBuckets", "ecr:GetAuthorizationToken", "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "ec2:Describe*", "logs:DescribeLogGroups",
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "kms:ListAliases", "kms:ListKeys", "kms:CreateKey",
    "iam:ListRoles", "iam:ListPolicies", "autoscaling:Describe*", "elasticloadbalancing:Describe*", "tag:GetResources",
    "sagemaker:ListModels", "eks:ListClusters", "eks:DescribeAddonVersions", "ssm:DescribeParameters",
)


def _actions(statement) -> list[str]:
    return [str(a) for a in as_list(get(statement, "Action"))]


def _resources(statement) -> list[str]:
    return [str(r) for r in as_list(get(statement, "Resource"))]


def _sid(statement, index: int) -> str:
    return str(get(statement, "Sid", default=index))


def _allows(resource):
    for path, document in policy_documents_of(resource.props, resource.type):
        for index, statement in enumerate(allow_statements(document)):
            yield path, index, statement


def _managed_policy_name(arn: str) -> str | None:
    marker = ":iam::aws:policy/"
    return arn.split(marker, 1)[1].rsplit("/", 1)[-1] if marker in arn else None


@resource_policy(
    "iam-no-wildcard-action",
    description="An IAM policy allows no '*' action, no wildcard that grants every action of a service (such as 's3:*' or 'iam:*?', judged against the catalogue of IAM actions) and no NotAction (every action but a few).",
    severity="high",
    remediation="List the actions the workload needs (e.g. s3:GetObject, s3:ListBucket); platform_lib.core.grants produces such lists.",
    controls=("AWS FSBP IAM.21", "CKV_AWS_63"),
    types=IDENTITY_POLICY_TYPES,
    tags=("iam",),
)
def no_wildcard_action(resource, config):
    for path, index, statement in _allows(resource):
        wild = [a for a in _actions(statement) if covers_whole_service(a)]
        if wild:
            yield f"{path} statement {_sid(statement, index)} allows wildcard actions {', '.join(wild)}"
        excluded = [str(a) for a in as_list(get(statement, "NotAction"))]
        if excluded:  # Allow + NotAction grants every action of every service except those listed
            yield f"{path} statement {_sid(statement, index)} allows every action except {', '.join(excluded)} (NotAction)"


def _scopable(action: str) -> bool:
    """Whether a policy could name resources for ``action``: not when it matches
    :data:`UNSCOPABLE_ACTIONS`, nor when the catalogue of IAM actions lists it with no resource
    type at all, the Service Authorization Reference's own definition of an action that takes
    only ``"*"`` (e.g. ``acm:ListCertificates``, ``shield:CreateProtection``, which the AWS Load
    Balancer Controller's documented policy needs). An action with resource types (even a read,
    such as ``acm:DescribeCertificate``) stays scopable."""
    return not (any(fnmatchcase(action, pattern) for pattern in UNSCOPABLE_ACTIONS) or has_no_resource_types(action))


@resource_policy(
    "iam-no-wildcard-resource",
    description="An IAM policy does not allow actions that support resource-level permissions on Resource '*'.",
    severity="high",
    remediation="Name the ARNs (bucket, bucket/prefix/*, key); keep '*' only for actions without resource types (sts:GetCallerIdentity, ec2:Describe*).",
    controls=("CKV_AWS_355", "CKV_AWS_288", "CKV_AWS_290"),
    types=IDENTITY_POLICY_TYPES,
    tags=("iam",),
)
def no_wildcard_resource(resource, config):
    for path, index, statement in _allows(resource):
        if "*" not in _resources(statement):
            continue
        scopable = [a for a in _actions(statement) if _scopable(a)]
        if scopable:
            yield f"{path} statement {_sid(statement, index)} allows {', '.join(scopable)} on Resource '*'"


@resource_policy(
    "iam-no-administrator-access",
    description="No IAM policy grants '*' on '*' and no AdministratorAccess or PowerUserAccess managed policy is attached.",
    severity="critical",
    remediation="Replace administrator access with a least-privilege policy for the workload's own resources.",
    controls=("AWS FSBP IAM.1", "CIS AWS 1.16", "CKV_AWS_62", "CKV_AWS_274"),
    types=IDENTITY_POLICY_TYPES + ATTACHMENT_TYPES,
    tags=("iam",),
)
def no_administrator_access(resource, config):
    if resource.type in ATTACHMENT_TYPES:
        name = _managed_policy_name(str(get(resource.props, "policyArn", default="")))
        if name in ("AdministratorAccess", "PowerUserAccess"):
            yield f"'{resource.name}' attaches the AWS managed policy {name}"
        return
    for arn in as_list(get(resource.props, "managedPolicyArns")):
        name = _managed_policy_name(str(arn))
        if name in ("AdministratorAccess", "PowerUserAccess"):
            yield f"role '{resource.name}' attaches the AWS managed policy {name}"
    for path, index, statement in _allows(resource):
        if "*" in _actions(statement) and "*" in _resources(statement):
            yield f"{path} statement {_sid(statement, index)} allows '*' on '*' (full administrator access)"


@resource_policy(
    "iam-no-iam-full-access",
    description="No IAM policy allows every IAM action ('iam:*', or a wildcard granting all of them) and no IAMFullAccess managed policy is attached (a path to privilege escalation).",
    severity="critical",
    remediation="Grant the few IAM read actions needed, or none; manage IAM through the platform's own stacks.",
    controls=("CKV_AWS_286", "CKV_AWS_287", "AWS FSBP IAM.21"),
    types=IDENTITY_POLICY_TYPES + ATTACHMENT_TYPES,
    tags=("iam",),
)
def no_iam_full_access(resource, config):
    arns = [get(resource.props, "policyArn", default="")] if resource.type in ATTACHMENT_TYPES else as_list(get(resource.props, "managedPolicyArns"))
    for arn in arns:
        if _managed_policy_name(str(arn)) == "IAMFullAccess":
            yield f"'{resource.name}' attaches the AWS managed policy IAMFullAccess"
    for path, index, statement in _allows(resource):
        whole = [a for a in _actions(statement) if a.strip().lower().startswith("iam:") and covers_whole_service(a)]
        if whole:
            yield f"{path} statement {_sid(statement, index)} allows {', '.join(whole)}"


def _escalation_granted(statement) -> dict[str, list[str]]:
    """The privilege-escalation actions an Allow statement grants, each with the patterns granting it.

    ``iam:PassRole`` counts only with a wildcard in Resource (passing one named role is how
    services are given their role); the others count on any resource. Allow + NotAction grants
    every escalation action its NotAction does not match.
    """
    granted: dict[str, list[str]] = {}
    resources = _resources(statement)
    for action in PRIVILEGE_ESCALATION_ACTIONS:
        if action == "iam:PassRole" and not any("*" in r for r in resources):
            continue
        patterns = [a for a in _actions(statement) if matches(a, action)]
        excluded = [str(a) for a in as_list(get(statement, "NotAction"))]
        if excluded and not any(matches(a, action) for a in excluded):
            patterns.append("NotAction " + ", ".join(excluded))
        if patterns:
            granted[action] = patterns
    return granted


@resource_policy(
    "iam-no-privilege-escalation",
    description="No IAM policy allows an action that lets a principal raise its own permissions (iam:PutRolePolicy, iam:AttachRolePolicy, "
                "iam:CreatePolicyVersion, iam:PassRole on any role...), wildcards expanded against the catalogue of IAM actions (iam:P* grants iam:PassRole).",
    severity="critical",
    remediation="Remove the IAM write actions; pass only named roles (iam:PassRole on arn:aws:iam::<account>:role/<name>) and manage IAM through the platform's own stacks.",
    controls=("Rhino Security Labs: AWS IAM privilege escalation methods", "CKV_AWS_286", "CKV_AWS_287", "AWS FSBP IAM.21"),
    types=IDENTITY_POLICY_TYPES,
    tags=("iam",),
)
def no_privilege_escalation(resource, config):
    for path, index, statement in _allows(resource):
        granted = _escalation_granted(statement)
        if granted:
            patterns = list(dict.fromkeys(p for found in granted.values() for p in found))
            yield (f"{path} statement {_sid(statement, index)} allows {', '.join(patterns)}, which grants "
                   f"{', '.join(sorted(granted))} (privilege escalation)")


#: KMS actions that use a key's material (encrypt, decrypt, make data keys), as opposed to managing
#: the key (source: AWS KMS Developer Guide, "Permissions reference", cryptographic operations).
KMS_CRYPTOGRAPHIC_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
                             "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo")


def _condition_keys(statement) -> set[str]:
    """The condition keys of a statement, lowercased, under any operator."""
    condition = get(statement, "Condition", default={})
    return {str(key).lower() for operator in condition for key in (get(condition, operator, default={}) or {})}


@resource_policy(
    "iam-kms-via-service",
    description="An IAM policy lets a principal use a KMS key's material (kms:Decrypt, kms:GenerateDataKey, kms:Encrypt...) only through an AWS service, "
                "with a kms:ViaService condition (wildcards expanded against the catalogue of IAM actions).",
    severity="medium",
    remediation="Add Condition StringEquals kms:ViaService = s3.<region>.amazonaws.com (or the service that stores the data); "
                "platform_lib's bucket grants do this. Drop kms:Encrypt where S3 is the only caller: S3 never calls it.",
    controls=("AWS KMS Developer Guide: kms:ViaService", "AWS FSBP KMS.1", "AWS FSBP KMS.2"),
    types=IDENTITY_POLICY_TYPES,
    levels=ADVISORY_IN_DEV,
    tags=("iam", "kms"),
)
def kms_via_service(resource, config):
    for path, index, statement in _allows(resource):
        if "kms:viaservice" in _condition_keys(statement):
            continue
        patterns = [a for a in _actions(statement) if a.strip() != "*" and any(matches(a, action) for action in KMS_CRYPTOGRAPHIC_ACTIONS)]
        if patterns:
            yield f"{path} statement {_sid(statement, index)} allows {', '.join(patterns)} on a KMS key without a kms:ViaService condition"


def _trust_allows(resource):
    document = policy_document(get(resource.props, "assumeRolePolicy"))
    for index, statement in enumerate(allow_statements(document)):
        yield index, statement


@resource_policy(
    "iam-no-public-trust-principal",
    description="An IAM role's trust policy does not let any AWS principal ('*') assume it.",
    severity="critical",
    remediation="Name the trusted account, role or OIDC provider in Principal; add sts:ExternalId or aws:PrincipalOrgID conditions for cross-account trust.",
    controls=("CKV_AWS_60",),
    types=ROLE,
    tags=("iam",),
)
def no_public_trust(resource, config):
    for index, statement in _trust_allows(resource):
        if is_public_principal(statement):
            yield f"trust policy statement {_sid(statement, index)} of role '{resource.name}' allows Principal '*'"


@resource_policy(
    "iam-no-any-service-trust-principal",
    description="An IAM role's trust policy names specific AWS services, not a wildcard service principal.",
    severity="high",
    remediation="Name the service (ec2.amazonaws.com, sagemaker.amazonaws.com) in Principal.Service.",
    controls=("CKV_AWS_61",),
    types=ROLE,
    tags=("iam",),
)
def no_any_service_trust(resource, config):
    for index, statement in _trust_allows(resource):
        wild = [s for s in principal_values(statement).get("Service", []) if "*" in s]
        if wild:
            yield f"trust policy statement {_sid(statement, index)} of role '{resource.name}' trusts service principal {', '.join(wild)}"


@resource_policy(
    "iam-oidc-trust-requires-subject",
    description="A role trusted by an OIDC provider (IRSA, CI) restricts the token subject with an exact ':sub' condition.",
    severity="high",
    remediation="Add Condition StringEquals '<issuer>:sub' = 'system:serviceaccount:<namespace>:<name>' and '<issuer>:aud' = 'sts.amazonaws.com'.",
    controls=("AWS EKS User Guide: IRSA role trust policy", "CKV_AWS_358"),
    types=ROLE,
    tags=("iam",),
)
def oidc_trust_requires_subject(resource, config):
    for index, statement in _trust_allows(resource):
        if not principal_values(statement).get("Federated"):
            continue
        if "sts:AssumeRoleWithWebIdentity" not in _actions(statement):
            continue
        subjects = []
        for operator in ("StringEquals", "StringLike"):
            block = get(statement, "Condition", operator, default={})
            subjects += [str(v) for key in block if str(key).endswith(":sub") for v in as_list(block[key])]
        if not subjects or any(s.strip() in ("*", "") or s.endswith(":*") for s in subjects):
            yield f"trust policy statement {_sid(statement, index)} of role '{resource.name}' lets any subject of the OIDC provider assume it"
