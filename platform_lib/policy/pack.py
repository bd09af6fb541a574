"""The CrossGuard policy pack built from the catalogue.

:func:`build_policies` turns every :class:`~platform_lib.policy.catalogue.PolicyRule` into a
``pulumi_policy`` ``ResourceValidationPolicy`` or ``StackValidationPolicy``; :func:`serve` builds
the ``PolicyPack``, which starts the Analyzer gRPC server, prints its port and never returns, so
only ``policies/__main__.py`` calls it.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from ..tuning import tune_garbage_collection
from .catalogue import PolicyRule, Resource, catalogue
from .servicer import RESOURCE_TYPE_FILTER, report_running, servicer_class, serving

PACK_NAME = "mlplat-policies"
PACK_DESCRIPTION = "ml-platform guardrails: S3, IAM, EC2, Compute Engine, CloudFront, Kubernetes Pod Security Standards, tags and cost."

_FRAMEWORKS = {
    "AWS FSBP": "AWS Foundational Security Best Practices",
    "CIS AWS": "CIS Amazon Web Services Foundations Benchmark",
    "CIS GCP": "CIS Google Cloud Platform Foundation Benchmark",
    "CIS GKE": "CIS Google Kubernetes Engine (GKE) Benchmark",
    "CIS Kubernetes": "CIS Kubernetes Benchmark",
    "PSS": "Kubernetes Pod Security Standards",
    "CKV": "checkov",
}


def framework_of(rule: PolicyRule) -> PolicyComplianceFramework | None:
    """The compliance framework of the rule's first control with a known framework, None when none has one.

    The reference is the control within its framework: ``S3.8`` of "AWS FSBP S3.8"; a checkov id
    is its own reference (``CKV_AWS_355``, ``CKV2_AWS_32``).
    """
    for control in rule.controls:
        for prefix, name in _FRAMEWORKS.items():
            if control.startswith(prefix):
                reference = control if prefix == "CKV" else control.removeprefix(prefix).strip(" :")
                return PolicyComplianceFramework(name=name, reference=reference or control)
    return None


def _type_filter(rule: PolicyRule) -> Callable[[str], bool]:
    """``rule.applies_to``, remembered per type token (the engine sends every resource to every policy)."""
    applies: dict[str, bool] = {}

    def applies_to(type_token: str) -> bool:
        applicable = applies.get(type_token)
        if applicable is None:
            applicable = applies[type_token] = rule.applies_to(type_token)
        return applicable

    return applies_to


def _resource_validator(rule: PolicyRule, applies_to: Callable[[str], bool]):
    def validate(args, report_violation) -> None:
        if not applies_to(args.resource_type):
            return
        resource = Resource(type=args.resource_type, name=args.name, urn=args.urn, props=args.props)
        for message in rule.run(resource, args.get_config()):
            report_violation(message, None)

    return validate


def _stack_validator(rule: PolicyRule):
    def validate(args, report_violation) -> None:
        resources = [
            Resource(type=r.resource_type, name=r.name, urn=r.urn, props=r.props,
                     parent=r.parent.urn if r.parent is not None else "",
                     dependencies=tuple(d.urn for d in r.dependencies))
            for r in args.resources
        ]
        for message, urn in rule.run_stack(resources, args.get_config()):
            report_violation(message, urn)

    return validate


def build_policy(rule: PolicyRule) -> Any:
    """The ``pulumi_policy`` policy object of one rule."""
    common = dict(
        enforcement_level=EnforcementLevel(rule.default_level),
        config_schema=PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config_properties.items()}) if rule.config_properties else None,
        severity=Severity(rule.severity),
        framework=framework_of(rule),
        tags=list(rule.tags) + list(rule.controls),
        remediation_steps=rule.remediation,
    )
    if rule.kind == "resource":
        applies_to = _type_filter(rule)
        policy = ResourceValidationPolicy(rule.name, rule.description, validate=_resource_validator(rule, applies_to), **common)
        setattr(policy, RESOURCE_TYPE_FILTER, applies_to)  # the adapted servicer skips the types the validator ignores
        return policy
    return StackValidationPolicy(rule.name, rule.description, validate=_stack_validator(rule), **common)


def build_policies() -> list[Any]:
    """Every policy of the pack, ready for ``PolicyPack(policies=...)``."""
    return [build_policy(rule) for rule in catalogue()]


def serve() -> None:  # pragma: no cover - runs in the pack's own process, exercised through the gate
    """Build the PolicyPack: start the Analyzer gRPC server on 127.0.0.1, print its port, serve forever.

    The pack serves :func:`~platform_lib.policy.servicer.servicer_class` (each request decoded
    once; ``MLPLAT_SHARED_PROPERTIES=0`` for the stock servicer) and tunes the garbage collector
    once its policies are built (``MLPLAT_GC_TUNING=0`` to leave it alone).
    """
    if hasattr(signal, "SIGUSR1"):  # the gate asks which policy is running when a call times out
        signal.signal(signal.SIGUSR1, report_running)
    policies = build_policies()
    servicer = servicer_class()
    tune_garbage_collection()
    with serving(servicer):
        PolicyPack(
            name=PACK_NAME,
            policies=policies,
            enforcement_level=EnforcementLevel.MANDATORY,
            description=PACK_DESCRIPTION,
            provider="aws",
            tags=["aws", "gcp", "kubernetes", "ml-platform"],
        )
