"""Names Kubernetes reserves for itself: ``system:`` users and groups, ``kube-`` namespaces.

Shared by the components' argument checks (:mod:`platform_lib.k8s.checks`), the stack config and
the policies, which must agree on them.
"""

from __future__ import annotations

__all__ = ["SYSTEM_NAMESPACE_PREFIX", "SYSTEM_SUBJECT_PREFIX", "is_system_namespace", "is_system_subject"]

#: The prefix of the names Kubernetes reserves for its own users and groups (``system:masters``,
#: ``system:authenticated``, ``system:unauthenticated``, ``system:serviceaccounts``,
#: ``system:serviceaccount:<ns>:<name>``, ``system:node:<name>``...). Binding one grants a Role to
#: every member the API server puts in it, e.g. any authenticated caller (source: Kubernetes docs,
#: "Using RBAC Authorization", "Referring to subjects" and "Default roles and role bindings").
SYSTEM_SUBJECT_PREFIX = "system:"
#: The prefix of the namespaces Kubernetes reserves for itself (kube-system, kube-public,
#: kube-node-lease; source: Kubernetes docs, "Namespaces", "Initial namespaces": "avoid creating
#: namespaces with the prefix kube-, since it is reserved for Kubernetes system namespaces").
SYSTEM_NAMESPACE_PREFIX = "kube-"


def is_system_subject(name: object) -> bool:
    """Whether an RBAC subject name is a built-in Kubernetes user or group (``system:*``)."""
    return isinstance(name, str) and name.startswith(SYSTEM_SUBJECT_PREFIX)


def is_system_namespace(name: object) -> bool:
    """Whether a namespace name is reserved for Kubernetes itself (``kube-*``)."""
    return isinstance(name, str) and name.startswith(SYSTEM_NAMESPACE_PREFIX)
