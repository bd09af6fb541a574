"""The policy catalogue: one record per policy, shared by the pack, the CLI, the docs and SARIF.

Every policy of the pack is a :class:`PolicyRule`. Its metadata (kebab-case name, description,
severity, default enforcement level, remediation steps, external controls) is written once here
and read by :mod:`platform_lib.policy.pack` (the CrossGuard ``Policy`` objects),
:mod:`platform_lib.policy.report` (SARIF rule descriptors, Markdown, tables) and ``mlplat
policies``. The check itself is a plain function over plain data, so a team can call it from its
own tests without starting a policy pack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]
EnforcementLevel = Literal["advisory", "mandatory", "disabled"]
Kind = Literal["resource", "stack"]

#: The environments the pack's config files cover.
ENVIRONMENTS = ("dev", "staging", "prod")
MANDATORY_EVERYWHERE: dict[str, "EnforcementLevel"] = {"dev": "mandatory", "staging": "mandatory", "prod": "mandatory"}


@dataclass(frozen=True)
class Resource:
    """The view of one resource a check receives.

    Attributes:
        type: the type token, e.g. ``aws:s3/bucket:Bucket``.
        name: the logical name.
        urn: the URN.
        props: the resource's properties as on the wire (camelCase keys).
        parent: the parent's URN, "" when none (stack policies only).
        dependencies: URNs the resource depends on (stack policies only).
    """

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    parent: str = ""
    dependencies: tuple[str, ...] = ()


#: A resource check yields one message per problem.
ResourceCheck = Callable[[Resource, Mapping[str, Any]], Iterable[str]]
#: A stack check yields (message, urn of the offending resource or None for the stack).
StackCheck = Callable[[Sequence[Resource], Mapping[str, Any]], Iterable[tuple[str, str | None]]]


@dataclass(frozen=True)
class PolicyRule:
    """One policy of the pack.

    Attributes:
        name: kebab-case id, unique in the pack.
        description: one sentence stating the rule.
        severity: low, medium, high or critical.
        remediation: what to change to comply.
        controls: external control ids it implements (AWS Foundational Security Best Practices
            ``S3.1``, CIS benchmark items, Pod Security Standards fields, checkov ids).
        kind: ``resource`` (ResourceValidationPolicy) or ``stack`` (StackValidationPolicy).
        resource_types: type tokens a resource policy applies to; a token ending in ``/`` or ``:``
            is a prefix; empty for stack policies.
        check: the check function.
        levels: the enforcement level per environment (dev, staging, prod).
        config_properties: JSON schema of the policy config values the check reads.
        tags: free-form topic tags (``s3``, ``iam``, ``kubernetes``, ``cost``).
    """

    name: str
    description: str
    severity: Severity
    remediation: str
    controls: tuple[str, ...]
    kind: Kind
    check: Callable[..., Iterable[Any]]
    resource_types: tuple[str, ...] = ()
    levels: Mapping[str, EnforcementLevel] = field(default_factory=lambda: dict(MANDATORY_EVERYWHERE))
    config_properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @property
    def default_level(self) -> EnforcementLevel:
        """The level the pack declares (used when no config file says otherwise): prod's."""
        return self.levels["prod"]

    def applies_to(self, type_token: str) -> bool:
        """Whether this resource policy looks at resources of ``type_token``."""
        return any(type_token == t or (t.endswith(("/", ":")) and type_token.startswith(t)) for t in self.resource_types)

    def run(self, resource: Resource, config: Mapping[str, Any] | None = None) -> list[str]:
        """Run a resource check on one resource; the messages, [] when compliant or not applicable."""
        if self.kind != "resource" or not self.applies_to(resource.type):
            return []
        return list(self.check(resource, self._config(config)))

    def run_stack(self, resources: Sequence[Resource], config: Mapping[str, Any] | None = None) -> list[tuple[str, str | None]]:
        """Run a stack check; the (message, urn) pairs."""
        if self.kind != "stack":
            return []
        return list(self.check(resources, self._config(config)))

    def _config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        values = {k: v["default"] for k, v in self.config_properties.items() if "default" in v}
        values.update(config or {})
        return values


CATALOGUE: list[PolicyRule] = []

ADVISORY_IN_DEV: dict[str, EnforcementLevel] = {"dev": "advisory", "staging": "mandatory", "prod": "mandatory"}
ADVISORY_BELOW_PROD: dict[str, EnforcementLevel] = {"dev": "advisory", "staging": "advisory", "prod": "mandatory"}


def resource_policy(
    name: str,
    *,
    description: str,
    severity: Severity,
    remediation: str,
    controls: Sequence[str],
    types: Sequence[str],
    levels: Mapping[str, EnforcementLevel] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    tags: Sequence[str] = (),
) -> Callable[[ResourceCheck], ResourceCheck]:
    """Register a resource check in :data:`CATALOGUE` (decorator); returns the function unchanged."""

    def register(check: ResourceCheck) -> ResourceCheck:
        _add(PolicyRule(name, description, severity, remediation, tuple(controls), "resource", check, tuple(types),
                        dict(levels or MANDATORY_EVERYWHERE), dict(config or {}), tuple(tags)))
        return check

    return register


def stack_policy(
    name: str,
    *,
    description: str,
    severity: Severity,
    remediation: str,
    controls: Sequence[str],
    levels: Mapping[str, EnforcementLevel] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    tags: Sequence[str] = (),
) -> Callable[[StackCheck], StackCheck]:
    """Register a stack check in :data:`CATALOGUE` (decorator); returns the function unchanged."""

    def register(check: StackCheck) -> StackCheck:
        _add(PolicyRule(name, description, severity, remediation, tuple(controls), "stack", check, (),
                        dict(levels or MANDATORY_EVERYWHERE), dict(config or {}), tuple(tags)))
        return check

    return register


def _add(rule: PolicyRule) -> None:
    if any(r.name == rule.name for r in CATALOGUE):
        raise ValueError(f"duplicate policy name {rule.name!r}")
    CATALOGUE.append(rule)


def catalogue() -> list[PolicyRule]:
    """Every policy of the pack, in a stable order (the rule modules are imported on first use)."""
    from . import rules  # noqa: F401 - importing registers the rules

    return list(CATALOGUE)


def get_rule(name: str) -> PolicyRule:
    """The policy named ``name``; raises ``KeyError`` when there is none."""
    for rule in catalogue():
        if rule.name == name:
            return rule
    raise KeyError(name)
