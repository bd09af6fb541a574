"""The preview's record of a program: every registered resource with its inputs and options.

This is the one shape shared by the preview's printout, its ``--json`` plan, the offline policy
gate (which turns each :class:`PlannedResource` into an Analyzer ``AnalyzeRequest``) and the
Kubernetes renderer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class ResourceOptionsRecord:
    """The resource options the engine would see for one resource.

    Attributes:
        protect: the engine refuses to delete the resource.
        retain_on_delete: deleting it from the program leaves the cloud resource in place.
        depends_on: URNs of explicit and property dependencies.
        delete_before_replace: a replacement deletes the old resource first.
        aliases: former URNs or alias specs (as strings) the resource answers to.
        ignore_changes: property paths whose changes are ignored.
        replace_on_changes: property paths whose changes force a replacement.
        provider: the provider reference (URN::id), "" for the default provider.
        custom_timeouts: create/update/delete timeouts as strings, when set.
    """

    protect: bool = False
    retain_on_delete: bool = False
    depends_on: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    aliases: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    provider: str = ""
    custom_timeouts: dict[str, str] = field(default_factory=dict)


@dataclass
class PlannedResource:
    """One resource the program registered.

    Attributes:
        urn: the resource's URN, as the engine builds it.
        type: the type token, e.g. ``aws:s3/bucket:Bucket`` or ``mlplat:aws:DataBucket``.
        name: the logical name.
        parent: the parent's URN ("" for the stack itself).
        custom: True for a provider-managed resource, False for a component resource.
        inputs: the registered inputs, with secrets unwrapped and unknowns as ``None``.
        outputs: the mocked provider's state for custom resources; ``register_outputs`` for components.
        id: the mocked physical id ("" for components).
        options: the resource options.
    """

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str
    options: ResourceOptionsRecord

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, the shape of one entry of ``plan.json``'s ``resources``."""
        return asdict(self)


@dataclass
class Plan:
    """Everything one preview produced.

    Attributes:
        project: the Pulumi project name.
        stack: the stack name.
        resources: every resource in the order the program constructed it (the same on every run;
            see :class:`~platform_lib.preview.engine.ConstructionOrder`); the stack resource comes first.
        outputs: the stack outputs (``pulumi.export``), resolved.
        violations: policy violations, filled in by the policy gate when it runs.
    """

    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    violations: list[dict[str, Any]] = field(default_factory=list)

    def by_type(self, type_token: str) -> list[PlannedResource]:
        """Every resource of one type token, in program order."""
        return [r for r in self.resources if r.type == type_token]

    def children_of(self, urn: str) -> list[PlannedResource]:
        """The direct children of the resource with this URN."""
        return [r for r in self.resources if r.parent == urn]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
            "violations": self.violations,
        }
