"""One case per public component, for the component-contract matrix (tests/test_component_contract.py)
and the per-component prod-policy test. Each module here defines ``CASES: list[ComponentCase]``."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi


@dataclass(frozen=True)
class ComponentCase:
    """How the contract tests build one component.

    Attributes:
        component: the component class.
        minimal: returns the documented minimum keyword arguments (plain values only); called
            inside the program, so it may read files but must not register resources.
        with_outputs: returns keyword arguments in which every field that names or identifies
            another thing (ids, ARNs, names, namespaces, principals, tag values) is a
            ``pulumi.Output`` (e.g. ``pulumi.Output.from_input(...)`` or another resource's
            output); called inside the program, so it may register the resources it wires.
        provider: makes an explicit provider of the component's cloud with the given logical
            name (e.g. ``lambda name: aws.Provider(name, region="eu-west-1")``).
        provider_package: the package whose children must use that provider (``aws``, ``gcp``,
            ``kubernetes``).
        config: the stack config of the preview (``aws:region``, ``gcp:project``, ...).
        after: called with the component after construction (e.g. to make a grant), so the
            children it adds are judged too; ``None`` for nothing.
        name: the component's logical name in the tests.
    """

    component: type
    minimal: Callable[[], dict[str, Any]]
    with_outputs: Callable[[], dict[str, Any]]
    provider: Callable[[str], pulumi.ProviderResource]
    provider_package: str
    config: dict[str, Any] = field(default_factory=dict)
    after: Callable[[Any], None] | None = None
    name: str = "subject"

    @property
    def id(self) -> str:
        return self.component.__name__


def all_cases() -> list[ComponentCase]:
    """Every case of every module in this package, by component name."""
    cases: list[ComponentCase] = []
    for module in pkgutil.iter_modules(__path__):
        cases.extend(importlib.import_module(f"{__name__}.{module.name}").CASES)
    return sorted(cases, key=lambda case: case.id)
