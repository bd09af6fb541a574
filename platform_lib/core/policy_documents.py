"""IAM policy documents the components attach: pure functions of their inputs, returning dicts.

Kept apart from the components so that they can be tested (and validated against an IAM
emulator) without registering a resource, and reused by teams that write their own roles.
"""

from __future__ import annotations

import re
from typing import Any

from .grants import AccessLevel, normalize_prefix

#: The most characters IAM accepts, whitespace not counted: for all the inline policies of one
#: user, role or group together, and for one managed policy (source: IAM User Guide, "IAM and AWS
#: STS quotas", IAM object quotas: user policy size 2,048, role policy size 10,240, group policy
#: size 5,120, managed policy size 6,144 characters; "IAM does not count white space").
INLINE_POLICY_MAX_CHARACTERS = {"user": 2_048, "role": 10_240, "group": 5_120}
MANAGED_POLICY_MAX_CHARACTERS = 6_144


def policy_size(document: str) -> int:
    """The size IAM counts for a policy document (JSON text): its characters, whitespace excluded."""
    return len(re.sub(r"\s", "", document))

__all__ = [
    "KMS_READ_ACTIONS",
    "KMS_READ_WRITE_ACTIONS",
    "READ_ACTIONS",
    "READ_WRITE_ACTIONS",
    "access_log_bucket_policy_document",
    "deny_insecure_transport_statement",
    "irsa_trust_policy_document",
    "kms_grant_key_policy_statement",
    "kms_key_policy_document",
    "s3_grant_bucket_policy_statements",
    "s3_grant_policy_document",
    "s3_via_service_condition",
]


#: Object actions a read grant allows (source: Service Authorization Reference, "Actions defined
#: by Amazon S3").
READ_ACTIONS: tuple[str, ...] = ("s3:GetObject", "s3:GetObjectVersion")


#: Object actions a read-write grant allows.
READ_WRITE_ACTIONS: tuple[str, ...] = READ_ACTIONS + (
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)


#: KMS actions for reading SSE-KMS objects, and for writing them: S3 asks KMS for a data key to
#: write and to decrypt it to read; it never calls ``kms:Encrypt`` (source: Amazon S3 User Guide,
#: "Using server-side encryption with AWS KMS keys", permissions for SSE-KMS uploads and downloads).
KMS_READ_ACTIONS: tuple[str, ...] = ("kms:Decrypt",)


KMS_READ_WRITE_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:GenerateDataKey")


def s3_via_service_condition(key_arn: str) -> dict[str, Any]:
    """The condition limiting a KMS grant to requests S3 makes in the key's region
    (``kms:ViaService`` = ``s3.<region>.amazonaws.com``; source: AWS KMS Developer Guide,
    "kms:ViaService"). The region is read from ``key_arn`` (``arn:<partition>:kms:<region>:...``)."""
    return {"StringEquals": {"kms:ViaService": f"s3.{key_arn.split(':')[3]}.amazonaws.com"}}


def deny_insecure_transport_statement(bucket_arn: str) -> dict[str, Any]:
    """The bucket policy statement denying every request made over plain HTTP.

    Args:
        bucket_arn: ``arn:aws:s3:::<bucket>``.

    Returns:
        A ``Deny`` statement for ``s3:*`` on the bucket and its objects when ``aws:SecureTransport``
        is ``false`` (source: CIS AWS Foundations Benchmark v3.0, control 2.1.1).
    """
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def s3_grant_policy_document(bucket_arn: str, key_arn: str, access: AccessLevel | str, prefix: str = "") -> dict[str, Any]:
    """The IAM policy document of one grant on a data bucket; a pure function of its inputs.

    Statements (no action and no resource is ``*``):

    - ``ListObjects``: ``s3:ListBucket`` on the bucket ARN; with a prefix, only when the request's
      ``s3:prefix`` is the prefix or below it (``StringLike`` condition);
    - ``BucketLocation``: ``s3:GetBucketLocation`` on the bucket ARN (SDKs call it first);
    - ``ReadObjects`` / ``ReadWriteObjects``: :data:`READ_ACTIONS` (or :data:`READ_WRITE_ACTIONS`)
      on ``<bucket ARN>/<prefix>*``;
    - ``UseBucketKey``: ``kms:Decrypt`` (read) or also ``kms:GenerateDataKey`` (read-write) on the
      bucket's KMS key ARN, only through S3 in the key's region (:func:`s3_via_service_condition`),
      so the grant cannot decrypt or make data keys with the key outside S3.

    Args:
        bucket_arn: ``arn:aws:s3:::<bucket>``.
        key_arn: the bucket's KMS key ARN.
        access: ``read`` or ``read-write``.
        prefix: the key prefix the grant is limited to ("" for the whole bucket); it is validated
            with :func:`platform_lib.core.grants.normalize_prefix`.

    Returns:
        A policy document (``Version`` 2012-10-17) as a dict, ready for ``json.dumps``.

    Raises:
        ValueError: an unknown access level or an invalid prefix.
    """
    access = AccessLevel(access)
    write = access is AccessLevel.READ_WRITE
    return {
        "Version": "2012-10-17",
        "Statement": [
            *_s3_grant_statements(bucket_arn, access, prefix),
            {
                "Sid": "UseBucketKey",
                "Effect": "Allow",
                "Action": list(KMS_READ_WRITE_ACTIONS if write else KMS_READ_ACTIONS),
                "Resource": key_arn,
                "Condition": s3_via_service_condition(key_arn),
            },
        ],
    }


def _s3_grant_statements(bucket_arn: str, access: AccessLevel | str, prefix: str) -> list[dict[str, Any]]:
    """The ``ListObjects``, ``BucketLocation`` and ``ReadObjects``/``ReadWriteObjects`` statements
    of a grant (see :func:`s3_grant_policy_document`)."""
    access = AccessLevel(access)
    prefix = normalize_prefix(prefix)
    list_statement: dict[str, Any] = {"Sid": "ListObjects", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": bucket_arn}
    if prefix:
        list_statement["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}}
    write = access is AccessLevel.READ_WRITE
    return [
        list_statement,
        {"Sid": "BucketLocation", "Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": bucket_arn},
        {
            "Sid": "ReadWriteObjects" if write else "ReadObjects",
            "Effect": "Allow",
            "Action": list(READ_WRITE_ACTIONS if write else READ_ACTIONS),
            "Resource": f"{bucket_arn}/{prefix}*",
        },
    ]


def s3_grant_bucket_policy_statements(
    bucket_arn: str, principal: dict[str, str], access: AccessLevel | str, prefix: str = "", *, sid: str, source_account: str | None = None
) -> list[dict[str, Any]]:
    """The bucket policy statements of one grant to a principal outside this account's IAM.

    The same three S3 statements as :func:`s3_grant_policy_document` (listing under the prefix,
    the bucket's location, the objects under the prefix), each naming ``principal``. A bucket
    policy cannot grant KMS use: a principal reading SSE-KMS objects also needs ``kms:Decrypt``
    (and to write, ``kms:GenerateDataKey``) from the key's policy; a role of another account also
    needs an identity policy in its own account allowing the same actions (source: IAM User
    Guide, "Cross account resource access in IAM").

    Args:
        bucket_arn: ``arn:aws:s3:::<bucket>``.
        principal: the statements' ``Principal``, e.g. ``{"AWS": "arn:aws:iam::210987654321:role/x"}``
            or ``{"Service": "logging.s3.amazonaws.com"}``.
        access: ``read`` or ``read-write``.
        prefix: the key prefix ("" for the whole bucket), validated by :func:`normalize_prefix`.
        sid: letters and digits; the statements' ids are ``<sid>List``, ``<sid>Location``, ``<sid>Objects``.
        source_account: when given, every statement also requires ``aws:SourceAccount`` to equal
            it (for service principals: the confused-deputy guard).

    Returns:
        Three statements (dicts), ready for a policy document's ``Statement`` list.

    Raises:
        ValueError: an unknown access level, an invalid prefix, or a ``sid`` that is not alphanumeric.
    """
    if not sid.isalnum() or not sid.isascii():
        raise ValueError(f"a statement id of letters and digits, not {sid!r}")
    statements = []
    for statement, suffix in zip(_s3_grant_statements(bucket_arn, access, prefix), ("List", "Location", "Objects")):
        statement = {**statement, "Sid": f"{sid}{suffix}", "Principal": principal}
        if source_account is not None:
            condition = dict(statement.get("Condition", {}))
            condition["StringEquals"] = {"aws:SourceAccount": source_account}
            statement["Condition"] = condition
        statements.append(statement)
    return statements


def kms_key_policy_document(key_arn: str, grant_statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The explicit key policy of a data bucket's dedicated KMS key, with the grants of other accounts.

    The first statement is the one of the AWS default key policy: the key's account (its root
    principal) may do everything with the key, so IAM policies of that account keep deciding
    for its own identities (source: AWS KMS Developer Guide, "Default key policy"). The grant
    statements follow (see :func:`kms_grant_key_policy_statement`).

    Args:
        key_arn: ``arn:<partition>:kms:<region>:<account>:key/<id>``; the partition and account
            are read from it.
        grant_statements: statements to append, in order.

    Returns:
        A key policy document (``Version`` 2012-10-17) as a dict.
    """
    _, partition, _, _, account, _ = key_arn.split(":", 5)
    root = {"Sid": "EnableIamUserPermissions", "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [root, *grant_statements]}


def kms_grant_key_policy_statement(key_arn: str, principal: dict[str, str], access: AccessLevel | str, *, sid: str) -> dict[str, Any]:
    """The key policy statement letting a principal of another account use a bucket's key through S3.

    ``kms:Decrypt`` to read, also ``kms:GenerateDataKey`` to write, only for requests S3 makes on
    the principal's behalf in the key's region (``kms:ViaService`` = ``s3.<region>.amazonaws.com``;
    source: AWS KMS Developer Guide, "kms:ViaService"). In a key policy ``Resource`` ``*`` means
    this key. The principal also needs the same actions on the key in an identity policy of its
    own account.

    Args:
        key_arn: the key's ARN (the region is read from it).
        principal: the statement's ``Principal``, e.g. ``{"AWS": "arn:aws:iam::210987654321:role/x"}``.
        access: ``read`` or ``read-write``.
        sid: letters and digits.

    Raises:
        ValueError: an unknown access level or a ``sid`` that is not alphanumeric.
    """
    access = AccessLevel(access)
    if not sid.isalnum() or not sid.isascii():
        raise ValueError(f"a statement id of letters and digits, not {sid!r}")
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": list(KMS_READ_ACTIONS if access is AccessLevel.READ else KMS_READ_WRITE_ACTIONS),
        "Resource": "*",
        "Condition": s3_via_service_condition(key_arn),
    }


def access_log_bucket_policy_document(bucket_arn: str, account_id: str, prefix: str = "") -> dict[str, Any]:
    """The bucket policy of an S3 server access log bucket.

    Allows the logging service principal ``logging.s3.amazonaws.com`` to ``s3:PutObject`` under
    the prefix, only for source buckets of this account (``aws:SourceAccount``), and denies plain
    HTTP. With ``BucketOwnerEnforced`` ownership, a bucket policy is the only way to let the
    service deliver logs (source: Amazon S3 User Guide, "Permissions for log delivery").

    Args:
        bucket_arn: the log bucket's ARN.
        account_id: the 12-digit AWS account id whose buckets may log here.
        prefix: the key prefix logs are written under ("" for anywhere in the bucket).

    Returns:
        A policy document as a dict.
    """
    prefix = normalize_prefix(prefix)
    return {
        "Version": "2012-10-17",
        "Statement": [
            deny_insecure_transport_statement(bucket_arn),
            {
                "Sid": "S3ServerAccessLogsDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{prefix}*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


def irsa_trust_policy_document(oidc_provider_arn: str, oidc_issuer: str, namespace: str, service_account: str) -> dict[str, Any]:
    """The trust policy of an IAM role for a Kubernetes service account (IRSA).

    Only the named ServiceAccount of the named namespace may assume the role, with a token issued
    for STS (source: Amazon EKS User Guide, "Assign IAM roles to Kubernetes service accounts":
    ``sts:AssumeRoleWithWebIdentity`` with ``<issuer>:sub`` and ``<issuer>:aud`` conditions).

    Args:
        oidc_provider_arn: the cluster's IAM OIDC provider ARN.
        oidc_issuer: the issuer URL without ``https://``.
        namespace: the ServiceAccount's namespace.
        service_account: the ServiceAccount's name.

    Returns:
        A policy document as a dict.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{oidc_issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{oidc_issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
