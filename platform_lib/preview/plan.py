"""The preview's record of a program: every registered resource with its inputs and options.

This is the one shape shared by the preview's printout, its ``--json`` plan, the offline policy
gate (which turns each :class:`PlannedResource` into an Analyzer ``AnalyzeRequest``) and the
Kubernetes renderer.

Secrets: ``inputs`` and ``outputs`` hold the real values (the policy pack judges them, as the Pulumi
CLI gives policies the plaintext), and ``secret_inputs`` / ``secret_outputs`` list the property
paths the program marked secret (``pulumi.Output.secret``, ``Config.require_secret``, a provider's
secret outputs). Everything printed or written goes through :func:`mask` (or
:meth:`Plan.to_json`, :meth:`Plan.masked_violations`), which shows those values as ``[secret]``,
as ``pulumi preview`` does, and masks the plan's known secret values inside any other text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.secrets import SECRET_PLACEHOLDER, mask_text, masking_order

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")

PathPart = str | int


def property_path(parts: Sequence[PathPart]) -> str:
    """A property path as Pulumi writes it (``ignoreChanges``, ``pulumi config set --path``):
    ``spec.template.spec.containers[0].env[2].value``; keys that are not plain names are quoted,
    ``data["tls.crt"]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _walk(value: Any, path: tuple[PathPart, ...] = ()):
    """Every (path, value) in a JSON-ready value, containers before their items."""
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def secret_texts(value: Any, secret_paths: Iterable[str]) -> set[str]:
    """The texts a secret value could appear as inside a message: each value at ``secret_paths``
    (strings as they are, numbers as digits, objects and lists as JSON) and every leaf below it."""
    wanted = set(secret_paths)
    found: set[str] = set()
    if not wanted:
        return found
    for path, item in _walk(value):
        if property_path(path) not in wanted:
            continue
        for _, leaf in _walk(item):
            if isinstance(leaf, str):
                found.add(leaf)
            elif isinstance(leaf, (int, float)) and not isinstance(leaf, bool):
                found.add(str(leaf))
        if isinstance(item, (Mapping, list)):
            found.add(json.dumps(item))
    return found


def mask(value: Any, secret_paths: Iterable[str] = (), known_secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON-ready value for printing or writing: the value at each of ``secret_paths``
    becomes ``[secret]``, and each of ``known_secrets`` is masked inside every other string."""
    wanted, known = set(secret_paths), masking_order(known_secrets)

    def copy(item: Any, path: tuple[PathPart, ...]) -> Any:
        if wanted and property_path(path) in wanted:
            return SECRET_PLACEHOLDER
        if isinstance(item, Mapping):
            return {key: copy(child, (*path, str(key))) for key, child in item.items()}
        if isinstance(item, list):
            return [copy(child, (*path, index)) for index, child in enumerate(item)]
        if isinstance(item, str) and known:
            return mask_text(item, known)
        return item

    return copy(value, ())


def mask_violations(violations: Iterable[Mapping[str, Any]], known_secrets: Iterable[str]) -> list[dict[str, Any]]:
    """Violations with every known secret value masked in their text (a policy may build its
    message from a value the program marked secret)."""
    return [mask(dict(violation), known_secrets=known_secrets) for violation in violations]


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
        secret_inputs: property paths (:func:`property_path`) of the inputs that are secret.
        secret_outputs: property paths of the outputs that are secret.
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
    secret_inputs: list[str] = field(default_factory=list)
    secret_outputs: list[str] = field(default_factory=list)

    def secret_texts(self) -> set[str]:
        """The texts this resource's secret inputs and outputs could appear as (:func:`secret_texts`)."""
        return secret_texts(self.inputs, self.secret_inputs) | secret_texts(self.outputs, self.secret_outputs)

    def to_json(self, *, show_secrets: bool = False, known_secrets: Iterable[str] = ()) -> dict[str, Any]:
        """A JSON-ready dict, the shape of one entry of ``plan.json``'s ``resources``.

        Secret values are ``"[secret]"`` (and ``known_secrets`` are masked inside other strings)
        unless ``show_secrets``; ``secret_inputs`` and ``secret_outputs`` say which paths were secret.
        """
        known = () if show_secrets else known_secrets
        return {
            "urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent, "custom": self.custom,
            "inputs": self.inputs if show_secrets else mask(self.inputs, self.secret_inputs, known),
            "outputs": self.outputs if show_secrets else mask(self.outputs, self.secret_outputs, known),
            "id": self.id,
            "options": mask(vars(self.options), known_secrets=known),
            "secret_inputs": list(self.secret_inputs),
            "secret_outputs": list(self.secret_outputs),
        }


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
        secret_outputs: property paths of the stack outputs that are secret.
        known_secrets: secret values the program did not get through an output: the decrypted
            ``secure:`` config values. Masked wherever they appear in printed or written text.
        stack_references: the ``pulumi.StackReference`` reads of the program
            (:class:`~platform_lib.preview.references.StackReferenceRecord`: the stack, where its
            outputs came from, their names); the values are not kept.
    """

    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    violations: list[dict[str, Any]] = field(default_factory=list)
    secret_outputs: list[str] = field(default_factory=list)
    known_secrets: set[str] = field(default_factory=set)
    stack_references: list[Any] = field(default_factory=list)

    def secret_texts(self) -> set[str]:
        """Every secret value of the plan as text: the known secrets, and what each secret input and
        output (of the resources and the stack) holds. :func:`mask` hides them inside other text."""
        texts = set(self.known_secrets) | secret_texts(self.outputs, self.secret_outputs)
        for resource in self.resources:
            texts |= resource.secret_texts()
        return texts

    def masked_outputs(self) -> dict[str, Any]:
        """The stack outputs for printing: secret ones as ``[secret]``."""
        return mask(self.outputs, self.secret_outputs, self.secret_texts())

    def masked_violations(self, violations: Iterable[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """The violations (default: the plan's) with every secret value of the plan masked in their text."""
        return mask_violations(self.violations if violations is None else violations, self.secret_texts())

    def by_type(self, type_token: str) -> list[PlannedResource]:
        """Every resource of one type token, in program order."""
        return [r for r in self.resources if r.type == type_token]

    def children_of(self, urn: str) -> list[PlannedResource]:
        """The direct children of the resource with this URN."""
        return [r for r in self.resources if r.parent == urn]

    def to_json(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """The ``--json`` plan. Unless ``show_secrets``, every secret value is ``"[secret]"`` and
        secret values inside other text are masked; ``secret_inputs``/``secret_outputs`` (per
        resource) and ``secret_outputs`` (stack) list the paths that were secret either way."""
        known = self.secret_texts() if not show_secrets else set()
        return {
            "project": self.project,
            "stack": self.stack,
            "secrets_shown": show_secrets,
            "resources": [r.to_json(show_secrets=show_secrets, known_secrets=known) for r in self.resources],
            "outputs": self.outputs if show_secrets else mask(self.outputs, self.secret_outputs, known),
            "secret_outputs": list(self.secret_outputs),
            "violations": self.violations if show_secrets else mask_violations(self.violations, known),
            **({"stack_references": [r.to_json() for r in self.stack_references]} if self.stack_references else {}),
        }
