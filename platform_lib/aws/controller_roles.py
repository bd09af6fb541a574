"""``ControllerRole``: an IAM role for one cluster controller's Kubernetes ServiceAccount (IRSA).

A controller that calls AWS (the AWS Load Balancer Controller, the EBS CSI driver...) gets a role
of its own that only its ServiceAccount can assume: the trust policy names the cluster's IAM
OIDC provider and requires the token's ``sub`` to be ``system:serviceaccount:<namespace>:<name>``
and its ``aud`` to be ``sts.amazonaws.com`` (source: Amazon EKS User Guide, "IAM roles for
service accounts", "Assign IAM roles to Kubernetes service accounts"). Its permissions are one
inline policy: a documented one by name (``policy="aws-load-balancer-controller"``) or the
caller's document.

The AWS Load Balancer Controller's policy is the project's own ``docs/install/iam_policy.json``
at the tag of the controller version the pinned chart installs, vendored unchanged under
``platform_lib/aws/policies/`` (source, version, commit and licence in ``policies/SOURCES.md``).
:func:`load_balancer_controller_policy` narrows it without removing an action:

- each statement on ``Resource: "*"`` is split by action: an action AWS lets a policy scope
  (its "Resource types" column in the Service Authorization Reference is not empty) gets the
  ARNs of its resource types in this partition, account and region (and ``ec2:CreateSecurityGroup``
  / ``ec2:GetSecurityGroupsForVpc`` the cluster's VPC only) from :data:`_SCOPES`; actions with
  no resource types (``acm:ListCertificates``, ``shield:CreateProtection``,
  ``elasticloadbalancing:SetWebAcl``...) and the ``Describe*`` reads keep ``"*"``, the only value
  AWS accepts for them (:data:`_UNSCOPED`);
- ARNs the document writes with ``*`` for region and account get this region and account;
- conditions (the controller's ``elbv2.k8s.aws/cluster`` tag conditions) are kept as they are.

An action of a new controller version that neither table knows raises ``ValueError`` (a test runs
the function), so an upgrade cannot silently widen the role.
"""

from __future__ import annotations

import copy
import json
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, overload

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.kubernetes_names import check_dns_label, check_dns_subdomain
from ..core.policy_documents import irsa_trust_policy_document
from ..core.tagging import require_standard_keys, with_managed_by

__all__ = [
    "ControllerRole",
    "ControllerRoleArgs",
    "ControllerRoleArgsDict",
    "LOAD_BALANCER_CONTROLLER_POLICY_FILE",
    "LOAD_BALANCER_CONTROLLER_VERSION",
    "POLICIES_DIR",
    "load_balancer_controller_policy",
    "vendored_load_balancer_controller_policy",
]

#: Where the vendored controller policies and their SOURCES.md live.
POLICIES_DIR = Path(__file__).parent / "policies"
#: The AWS Load Balancer Controller version whose policy is vendored: the ``appVersion`` of the
#: pinned chart (``CHARTS["aws-load-balancer-controller"]``, chart 3.5.0).
LOAD_BALANCER_CONTROLLER_VERSION = "v3.5.0"
LOAD_BALANCER_CONTROLLER_POLICY_FILE = f"aws-load-balancer-controller-{LOAD_BALANCER_CONTROLLER_VERSION}.iam_policy.json"

_LB = "arn:{p}:elasticloadbalancing:{r}:{a}"
_APP_NET_LOAD_BALANCERS = (f"{_LB}:loadbalancer/app/*/*", f"{_LB}:loadbalancer/net/*/*")
_LISTENERS = (f"{_LB}:listener/app/*/*/*", f"{_LB}:listener/net/*/*/*")
_LISTENER_RULES = (f"{_LB}:listener-rule/app/*/*/*/*", f"{_LB}:listener-rule/net/*/*/*/*")
_TARGET_GROUPS = (f"{_LB}:targetgroup/*/*",)
_SECURITY_GROUPS = ("arn:{p}:ec2:{r}:{a}:security-group/*",)
_WAFV2_WEB_ACLS = ("arn:{p}:wafv2:{r}:{a}:regional/webacl/*/*",)
_WAF_REGIONAL_WEB_ACLS = ("arn:{p}:waf-regional:{r}:{a}:webacl/*",)

#: The resources each scopable action of the controller's policy may act on, as ARN templates
#: (``{p}`` partition, ``{r}`` region, ``{a}`` account, ``{vpc}`` the cluster's VPC id). The
#: resource types per action and their ARN formats are the Service Authorization Reference's
#: ("Actions, resources, and condition keys for" Amazon EC2, Elastic Load Balancing V2, ACM,
#: Amazon Cognito user pools, IAM, AWS WAF Regional, AWS WAF V2, AWS Shield), limited to the kinds
#: the controller makes: application and network load balancers (not gateway ones), their
#: listeners, rules and target groups, regional WAF web ACLs.
_SCOPES: dict[str, tuple[str, ...]] = {
    "iam:CreateServiceLinkedRole": ("arn:{p}:iam::{a}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing",),
    "ec2:GetCoipPoolUsage": ("arn:{p}:ec2:{r}:{a}:coip-pool/*",),
    "ec2:GetSecurityGroupsForVpc": ("arn:{p}:ec2:{r}:{a}:vpc/{vpc}",),
    "ec2:CreateSecurityGroup": (*_SECURITY_GROUPS, "arn:{p}:ec2:{r}:{a}:vpc/{vpc}"),
    "ec2:AuthorizeSecurityGroupIngress": (*_SECURITY_GROUPS, "arn:{p}:ec2:{r}:{a}:security-group-rule/*"),
    "ec2:RevokeSecurityGroupIngress": _SECURITY_GROUPS,
    "ec2:DeleteSecurityGroup": _SECURITY_GROUPS,
    "cognito-idp:DescribeUserPoolClient": ("arn:{p}:cognito-idp:{r}:{a}:userpool/*",),
    "acm:DescribeCertificate": ("arn:{p}:acm:{r}:{a}:certificate/*",),
    "iam:GetServerCertificate": ("arn:{p}:iam::{a}:server-certificate/*",),
    "waf-regional:GetWebACL": _WAF_REGIONAL_WEB_ACLS,
    "waf-regional:GetWebACLForResource": (f"{_LB}:loadbalancer/app/*/*",),
    "waf-regional:AssociateWebACL": (f"{_LB}:loadbalancer/app/*/*", *_WAF_REGIONAL_WEB_ACLS),
    "waf-regional:DisassociateWebACL": (f"{_LB}:loadbalancer/app/*/*",),
    "wafv2:GetWebACL": _WAFV2_WEB_ACLS,
    "wafv2:GetWebACLForResource": (f"{_LB}:loadbalancer/app/*/*", *_WAFV2_WEB_ACLS),
    "wafv2:AssociateWebACL": (f"{_LB}:loadbalancer/app/*/*", *_WAFV2_WEB_ACLS),
    "wafv2:DisassociateWebACL": (f"{_LB}:loadbalancer/app/*/*",),
    "shield:DescribeProtection": ("arn:{p}:shield::{a}:protection/*",),
    "shield:DeleteProtection": ("arn:{p}:shield::{a}:protection/*",),
    "elasticloadbalancing:CreateLoadBalancer": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:CreateTargetGroup": _TARGET_GROUPS,
    "elasticloadbalancing:CreateListener": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:DeleteListener": _LISTENERS,
    "elasticloadbalancing:ModifyListener": _LISTENERS,
    "elasticloadbalancing:ModifyListenerAttributes": _LISTENERS,
    "elasticloadbalancing:AddListenerCertificates": _LISTENERS,
    "elasticloadbalancing:RemoveListenerCertificates": _LISTENERS,
    "elasticloadbalancing:CreateRule": _LISTENERS,
    "elasticloadbalancing:DeleteRule": _LISTENER_RULES,
    "elasticloadbalancing:ModifyRule": _LISTENER_RULES,
    "elasticloadbalancing:SetRulePriorities": _LISTENER_RULES,
    "elasticloadbalancing:ModifyLoadBalancerAttributes": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:SetIpAddressType": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:SetSecurityGroups": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:SetSubnets": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:DeleteLoadBalancer": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:ModifyCapacityReservation": _APP_NET_LOAD_BALANCERS,
    "elasticloadbalancing:ModifyIpPools": (f"{_LB}:loadbalancer/app/*/*",),
    "elasticloadbalancing:ModifyTargetGroup": _TARGET_GROUPS,
    "elasticloadbalancing:ModifyTargetGroupAttributes": _TARGET_GROUPS,
    "elasticloadbalancing:DeleteTargetGroup": _TARGET_GROUPS,
}

#: Actions that keep ``Resource: "*"``: the ``Describe*`` reads of EC2 and Elastic Load Balancing
#: (the controller discovers subnets, security groups and load balancers across the VPC), and
#: actions whose "Resource types" column in the Service Authorization Reference is empty, for
#: which ``"*"`` is the only value AWS accepts.
_UNSCOPED: tuple[str, ...] = (
    "ec2:Describe*",
    "elasticloadbalancing:Describe*",
    "acm:ListCertificates",
    "iam:ListServerCertificates",
    "shield:GetSubscriptionState",
    "shield:CreateProtection",
    "elasticloadbalancing:SetWebAcl",
)


@lru_cache(maxsize=None)
def _vendored() -> str:
    return (POLICIES_DIR / LOAD_BALANCER_CONTROLLER_POLICY_FILE).read_text(encoding="utf-8")


def vendored_load_balancer_controller_policy() -> dict[str, Any]:
    """The AWS Load Balancer Controller's ``iam_policy.json``, as vendored (unchanged)."""
    return json.loads(_vendored())


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _unscoped(action: str) -> bool:
    return any(fnmatchcase(action, pattern) for pattern in _UNSCOPED)


def load_balancer_controller_policy(partition: str, region: str, account_id: str, vpc_id: str) -> dict[str, Any]:
    """The AWS Load Balancer Controller's policy narrowed to one partition, account, region and
    VPC, every action of the vendored document kept (see the module docstring).

    Args:
        partition: ``aws``, ``aws-cn``, ``aws-us-gov``...
        region: the cluster's region, e.g. ``eu-west-1``.
        account_id: the cluster's account, 12 digits.
        vpc_id: the cluster's VPC (``vpc-...``): the only VPC the controller may make security groups in.

    Returns:
        An IAM policy document as a dict.

    Raises:
        ValueError: a statement on ``"*"`` holds an action neither :data:`_SCOPES` nor
            :data:`_UNSCOPED` knows (a new controller version: add it with its source).
    """
    fill = {"p": partition, "r": region, "a": account_id, "vpc": vpc_id}
    statements: list[dict[str, Any]] = []
    for statement in vendored_load_balancer_controller_policy()["Statement"]:
        resources = _listed(statement.get("Resource", []))
        if resources != ["*"]:
            narrowed = copy.deepcopy(statement)
            narrowed["Resource"] = [
                r.replace("arn:aws:", f"arn:{partition}:", 1).replace(":*:*:", f":{region}:{account_id}:", 1) for r in resources
            ]
            statements.append(narrowed)
            continue
        groups: dict[tuple[str, ...], list[str]] = {}
        for action in _listed(statement["Action"]):
            if _unscoped(action):
                key: tuple[str, ...] = ("*",)
            elif action in _SCOPES:
                key = tuple(template.format(**fill) for template in _SCOPES[action])
            else:
                raise ValueError(f"{action} of {LOAD_BALANCER_CONTROLLER_POLICY_FILE} is on Resource '*' and has no known scope: "
                                 "add its resource ARNs to _SCOPES, or to _UNSCOPED when AWS lists no resource type for it")
            groups.setdefault(key, []).append(action)
        for key, actions in groups.items():
            part = {k: copy.deepcopy(v) for k, v in statement.items() if k not in ("Action", "Resource")}
            part["Action"] = actions
            part["Resource"] = "*" if key == ("*",) else list(key)
            statements.append(part)
    return {"Version": "2012-10-17", "Statement": statements}


def _tag_value(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError("a string of at most 256 characters (a tag value)")
    return value


def _issuer(value: Any) -> Any:
    if not isinstance(value, str) or value.startswith(("https://", "http://")) or not value or any(c.isspace() for c in value):
        raise ValueError("an OIDC issuer without https:// (e.g. oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE)")
    return value


class ControllerRoleArgs(ComponentArgs):
    """Arguments of :class:`ControllerRole`.

    Attributes:
        tags: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` is added.
        oidc_provider_arn: the cluster's IAM OIDC provider (``arn:aws:iam::<account>:oidc-provider/...``),
            a string or an Output (the cluster stack's ``oidcProviderArn``).
        oidc_issuer: the issuer without ``https://``, a string or an Output (``oidcIssuer``).
        namespace: the controller's namespace (a DNS label; ``kube-system`` is allowed: EKS's
            own controllers run there).
        service_account: the controller's ServiceAccount name (a DNS subdomain).
        policy: ``"aws-load-balancer-controller"`` for that controller's documented policy
            (narrowed as :func:`load_balancer_controller_policy` says; needs ``vpc_id``), or
            ``None`` with ``policy_document``.
        policy_document: the role's own IAM policy document (a dict; values may be Outputs),
            when ``policy`` is ``None``.
        vpc_id: the cluster's VPC id (string or Output); required by the load balancer
            controller's policy.
        region: the cluster's region; default the provider's (``aws.get_region``).
        max_session_duration_seconds: the longest session the role issues (3600 to 43200 seconds; default 3600).
        permissions_boundary_arn: an IAM policy ARN set as the role's permissions boundary.
    """

    tags: Annotated[dict[str, Input[str]], InputCheck.for_values(_tag_value)]
    oidc_provider_arn: Annotated[Input[str], InputCheck.matching(r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/\S+", "an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<issuer>)")]
    oidc_issuer: Annotated[Input[str], InputCheck(_issuer)]
    namespace: str
    service_account: str
    policy: Literal["aws-load-balancer-controller"] | None = None
    policy_document: dict[str, Any] | None = None
    vpc_id: Annotated[Input[str], InputCheck.matching(r"vpc-[0-9a-f]{8,17}", "a VPC id (vpc-...)")] | None = None
    region: Annotated[Input[str], InputCheck.matching(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d", "an AWS region such as eu-west-1")] | None = None
    max_session_duration_seconds: int = Field(default=3600, ge=3600, le=43200)
    permissions_boundary_arn: Annotated[Input[str], InputCheck.matching(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/\S+", "an IAM policy ARN")] | None = None

    @field_validator("tags")
    @classmethod
    def _standard_tags(cls, tags: dict[str, Any]) -> dict[str, Any]:
        return dict(require_standard_keys(tags, "tags"))

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_dns_label(value)

    @field_validator("service_account")
    @classmethod
    def _service_account(cls, value: str) -> str:
        return check_dns_subdomain(value)

    @model_validator(mode="after")
    def _one_policy(self) -> "ControllerRoleArgs":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if (self.policy is None) == (self.policy_document is None):
            problems.append((("policy",), self.policy, "either policy (a documented controller policy) or policy_document, exactly one"))
        if self.policy == "aws-load-balancer-controller" and self.vpc_id is None:
            problems.append((("vpc_id",), None, "the cluster's VPC id: the load balancer controller's policy lets it make security groups in that VPC only"))
        if self.policy_document is not None and not isinstance(self.policy_document.get("Statement"), list):
            problems.append((("policy_document",), self.policy_document, "an IAM policy document with a Statement list"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self


class ControllerRoleArgsDict(TypedDict, total=False):
    """The fields of :class:`ControllerRoleArgs` as keyword arguments."""

    tags: Mapping[str, Input[str]]
    oidc_provider_arn: Input[str]
    oidc_issuer: Input[str]
    namespace: str
    service_account: str
    policy: Literal["aws-load-balancer-controller"] | None
    policy_document: dict[str, Any] | None
    vpc_id: Input[str] | None
    region: Input[str] | None
    max_session_duration_seconds: int
    permissions_boundary_arn: Input[str] | None


class ControllerRole(Component[ControllerRoleArgs], type_token="mlplat:aws:ControllerRole"):
    """An IAM role only one Kubernetes ServiceAccount can assume (IRSA), with one inline policy.

    Args:
        name: the logical name; children are ``<name>-role`` and ``<name>-policy``.
        args: a :class:`ControllerRoleArgs` or a mapping of its fields; or the fields as keywords.
        opts: resource options for every child.

    Attributes:
        role_arn: the role's ARN: the ServiceAccount's ``eks.amazonaws.com/role-arn`` annotation
            (``PlatformAddons(load_balancer_controller_role_arn=...)``).
        role_name: the role's name.
        role: the ``aws.iam.Role``; policy: the ``aws.iam.RolePolicy``.

    Raises:
        ComponentArgsError: an invalid argument; nothing is registered.
    """

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: ControllerRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[ControllerRoleArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: ControllerRoleArgs) -> dict[str, Any]:
        tags = with_managed_by(args.tags)
        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
            lambda values: json.dumps(irsa_trust_policy_document(values[0], values[1], args.namespace, args.service_account))
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=trust,
            description=f"IRSA role of ServiceAccount {args.namespace}/{args.service_account}",
            max_session_duration=args.max_session_duration_seconds,
            permissions_boundary=args.permissions_boundary_arn,
            tags=tags,
            opts=self.child_options(),
        )
        self.policy = aws.iam.RolePolicy(f"{name}-policy", role=self.role.id, policy=self._policy(args), opts=self.child_options())
        return {"role_arn": self.role.arn, "role_name": self.role.name}

    def _policy(self, args: ControllerRoleArgs) -> pulumi.Output[str]:
        if args.policy_document is not None:
            return pulumi.Output.json_dumps(args.policy_document)
        invoke = self.invoke_options()
        region = args.region if args.region is not None else aws.get_region_output(opts=invoke).region
        return pulumi.Output.all(
            aws.get_partition_output(opts=invoke).partition,
            region,
            aws.get_caller_identity_output(opts=invoke).account_id,
            args.vpc_id,
        ).apply(lambda values: json.dumps(load_balancer_controller_policy(*values)))
