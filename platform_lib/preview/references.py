"""Offline ``pulumi.StackReference``: the referenced stack's outputs from a file or from its own preview.

The SDK reads a ``pulumi.StackReference("org/project/stack")`` as a resource of type
``pulumi:pulumi:StackReference`` whose id is the stack name; the engine answers with the stack's
``outputs`` and the names of the secret ones in ``secretOutputNames`` (source: the SDK's
``pulumi/stack_reference.py``; ``get_output`` is secret when its name is listed, ``require_output``
raises ``KeyError`` for a name the stack does not export). The offline preview answers the same
read, from (first match wins):

1. an outputs file given for the reference (``mlplat preview --stack-outputs NAME=FILE``), read by
   :func:`load_outputs_file`;
2. the outputs of that stack already previewed in this command;
3. the referenced stack's own offline preview, run first: its project is found by its
   ``Pulumi.yaml`` ``name`` among the repository's Pulumi projects (:func:`find_project`).

A reference names ``organization/project/stack``, ``project/stack`` or ``stack`` (the current
project). The organization is accepted and ignored: offline there is one organization, so
``acme/ml-platform-cluster/prod`` and ``ml-platform-cluster/prod`` are the same stack, and an
outputs file given for one serves the other.

A test may stand in for the referenced stacks with a state handler registered for
``pulumi:pulumi:StackReference`` (``platform_lib.preview.mocks.resource_state``, returning
``{"outputs": ..., "secretOutputNames": [...]}``): its answer wins, and a ``LookupError`` from it
(no answer for that stack) falls back to the three sources above. The plan names such outputs'
source ``a mocked answer``.

Secret outputs stay secret in the referencing stack: the read answers with them wrapped as
secrets and listed in ``secretOutputNames``, as the Pulumi engine does, so ``get_output`` and
``require_output`` return secret Outputs and the plan masks them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import PlatformError
from ..core.secrets import SECRET_PLACEHOLDER

#: The type token the SDK reads a StackReference as.
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
#: Directories never searched for Pulumi projects.
_SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox"}
_PART = re.compile(r"[A-Za-z0-9_.-]+")
#: The keys of a ``mlplat preview --json`` plan file (any other top-level key: a bare outputs object).
PLAN_KEYS = frozenset({"project", "stack", "secrets_shown", "resources", "outputs", "secret_outputs", "violations", "stack_references"})


class StackReferenceError(PlatformError):
    """A stack reference the preview cannot resolve, an outputs file it cannot read, or a cycle."""


class ReferenceNeeded(Exception):  # noqa: N818 - a signal, not an error: the run waits for the stack
    """Raised (in deferring mode) when a reference needs a stack that is not previewed yet; the
    scheduler (:func:`~platform_lib.preview.many.preview_many`) previews it and runs the stack again."""

    def __init__(self, key: "StackKey", project_dir: Path):
        self.key, self.project_dir = key, project_dir
        super().__init__(f"{key} is needed")


@dataclass(frozen=True, order=True)
class StackKey:
    """A stack as a reference names it, organization left out: ``project/stack``."""

    project: str
    stack: str

    def __str__(self) -> str:
        return f"{self.project}/{self.stack}"


def parse_reference(name: str, current_project: str) -> StackKey:
    """The stack a reference names: ``organization/project/stack``, ``project/stack``, or ``stack``
    (a stack of ``current_project``).

    Raises:
        StackReferenceError: more than three parts, or a part that is not a Pulumi name (letters,
            digits, ``-``, ``_``, ``.``).
    """
    parts = str(name).split("/")
    if len(parts) > 3 or any(not _PART.fullmatch(p) or p in (".", "..") for p in parts):
        raise StackReferenceError(f"stack reference {name!r}: expected organization/project/stack, project/stack or stack "
                                  f"(letters, digits, '-', '_' and '.')")
    if len(parts) == 1:
        return StackKey(current_project, parts[0])
    return StackKey(parts[-2], parts[-1])


@dataclass
class StackOutputs:
    """What a reference resolves to.

    Attributes:
        key: the stack (``project/stack``).
        outputs: the stack outputs, secret values in clear (masked wherever printed).
        secret_names: the names of the outputs that are secret.
        source: where they came from: ``file <path>`` or ``preview of <project dir> (stack <s>)``.
        kind: ``file`` or ``preview``.
    """

    key: StackKey
    outputs: dict[str, Any]
    secret_names: list[str]
    source: str
    kind: str
    notes: list[str] = field(default_factory=list)


def top_level_name(path: str) -> str:
    """The output name a secret path (``teams.fraud.key``, ``pools[0]``) is in."""
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def load_outputs_file(path: Path | str, key: StackKey) -> StackOutputs:
    """Read an outputs file for ``key``.

    Two shapes are accepted:

    - the plan a ``mlplat preview --json plan.json`` writes (top-level ``outputs`` and
      ``secret_outputs``, the other plan keys optional): an output is secret when a path of
      ``secret_outputs`` is in it. Write it with ``--show-secrets`` to pass secret values; without,
      they are ``[secret]`` and the referencing program gets that text (a note says so);
    - a bare JSON object of outputs, as ``pulumi stack output --json`` prints them: none is secret.

    Raises:
        StackReferenceError: the file cannot be read, is not JSON, or is not an object.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StackReferenceError(f"--stack-outputs {key}={path}: cannot be read: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StackReferenceError(f"--stack-outputs {key}={path}: not a JSON document ({error})") from None
    if not isinstance(document, dict):
        raise StackReferenceError(f"--stack-outputs {key}={path}: expected a JSON object (a plan from mlplat preview --json, "
                                  f"or an object of outputs), got {type(document).__name__}")
    notes: list[str] = []
    if "outputs" in document and isinstance(document["outputs"], dict) and set(document) <= PLAN_KEYS:
        outputs = document["outputs"]
        secret_paths = document.get("secret_outputs") or []
        if not isinstance(secret_paths, list) or not all(isinstance(p, str) for p in secret_paths):
            raise StackReferenceError(f"--stack-outputs {key}={path}: secret_outputs: expected a list of output names or paths")
        secret_names = sorted({top_level_name(p) for p in secret_paths} & set(outputs))
        if any(outputs[n] == SECRET_PLACEHOLDER for n in secret_names):
            notes.append(f"the outputs file {path} for {key} holds {SECRET_PLACEHOLDER!r} in place of secret outputs (written without "
                         f"--show-secrets); the program gets that text")
    else:
        outputs, secret_names = document, []
    return StackOutputs(key=key, outputs=dict(outputs), secret_names=secret_names, source=f"file {path}", kind="file", notes=notes)


def parse_outputs_option(values: Sequence[str]) -> dict[StackKey, Path]:
    """``--stack-outputs NAME=FILE`` values as a map of stack to file (``NAME`` as a reference names it).

    Raises:
        StackReferenceError: a value without ``=``, a bad name, or one stack given twice.
    """
    files: dict[StackKey, Path] = {}
    for value in values:
        name, sep, file = value.partition("=")
        if not sep or not name or not file:
            raise StackReferenceError(f"--stack-outputs {value!r}: expected NAME=FILE, e.g. acme/ml-platform-cluster/prod=cluster-prod.json")
        parts = name.split("/")
        if len(parts) < 2:
            raise StackReferenceError(f"--stack-outputs {value!r}: name the stack as project/stack or organization/project/stack")
        key = parse_reference(name, "")
        if key in files:
            raise StackReferenceError(f"--stack-outputs: {key} is given twice ({files[key]} and {file})")
        files[key] = Path(file)
    return files


def _project_name(directory: Path) -> str | None:
    from .project import ProjectError, _read_yaml

    try:
        name = _read_yaml(directory / "Pulumi.yaml").get("name")
    except ProjectError:
        return None
    return name if isinstance(name, str) else None


def candidate_dirs(project_dir: Path) -> list[Path]:
    """Where a referenced project is looked for, in this order: the previewing project's directory,
    its parent, the parent's subdirectories (the project's siblings), and the project's own
    subdirectories; one level down only, hidden directories, virtualenvs and ``node_modules`` skipped."""
    project_dir = Path(project_dir).resolve()
    found: list[Path] = []

    def add(directory: Path) -> None:
        if directory not in found and directory.is_dir():
            found.append(directory)

    def children(directory: Path) -> list[Path]:
        try:
            return sorted(p for p in directory.iterdir() if p.is_dir() and p.name not in _SKIPPED_DIRS and not p.name.startswith("."))
        except OSError:
            return []

    add(project_dir)
    add(project_dir.parent)
    for child in children(project_dir.parent):
        add(child)
    for child in children(project_dir):
        add(child)
    return found


def find_project(project: str, near: Path) -> Path:
    """The directory of the Pulumi project named ``project`` (its ``Pulumi.yaml`` ``name``) among
    :func:`candidate_dirs` of ``near``.

    Raises:
        StackReferenceError: none, or more than one, has that name.
    """
    matches = [d for d in candidate_dirs(near) if (d / "Pulumi.yaml").is_file() and _project_name(d) == project]
    if len(matches) > 1:
        raise StackReferenceError(f"two Pulumi projects are named {project!r}: {', '.join(map(str, matches))}; give the referenced "
                                  f"stack's outputs with --stack-outputs")
    if not matches:
        raise LookupError(project)
    return matches[0]


@dataclass
class ReferenceResolver:
    """Answers the StackReference reads of one preview.

    Args:
        near: the previewed project's directory (where referenced projects are looked for).
        files: outputs files given by the user, by stack.
        cache: outputs of stacks already previewed in this command, by stack.
        chain: the stacks being previewed that led to this one, outermost first (cycles).

    A stack neither given nor cached is not previewed from inside the running program (the SDK's
    state is per run): :meth:`resolve` raises :class:`ReferenceNeeded`, the run stops, and its
    caller (:func:`~platform_lib.preview.engine.run_preview`, the CLI, ``preview_many``) previews
    that stack, caches its outputs and runs the program again.
    """

    near: Path
    files: Mapping[StackKey, Path] = field(default_factory=dict)
    cache: dict[StackKey, StackOutputs] = field(default_factory=dict)
    chain: tuple[StackKey, ...] = ()

    def resolve(self, name: str, current: StackKey) -> StackOutputs:
        """The outputs of the stack ``name`` names, for a program previewing ``current``.

        Raises:
            StackReferenceError: a cycle, an unreadable outputs file, or a stack that is neither
                given nor found (the message names the reference and both ways to resolve it).
            ReferenceNeeded: the stack is not previewed yet.
        """
        key = parse_reference(name, current.project)
        if key in self.files:
            return load_outputs_file(self.files[key], key)
        if key in self.cache:
            return self.cache[key]
        chain = (*self.chain, current)
        if key in chain:
            cycle = " -> ".join(str(k) for k in (*chain[chain.index(key):], key))
            raise StackReferenceError(f"stack references form a cycle: {cycle}; break it, or give one of them with --stack-outputs {key}=FILE")
        try:
            project_dir = find_project(key.project, self.near)
        except LookupError:
            searched = ", ".join(str(d) for d in candidate_dirs(self.near) if (d / "Pulumi.yaml").is_file()) or "none"
            raise StackReferenceError(
                f"cannot resolve pulumi.StackReference({name!r}): no Pulumi project named {key.project!r} was found near "
                f"{Path(self.near).resolve()} (projects searched: {searched}). Either give its outputs with "
                f"--stack-outputs {name}=FILE (a plan from mlplat preview --json, or an object of outputs), or put the project "
                f"{key.project!r} beside this one (its directory, parent or a sibling) so that its stack {key.stack!r} is previewed first"
            ) from None
        from .project import list_stacks

        if key.stack not in list_stacks(project_dir):
            raise StackReferenceError(
                f"cannot resolve pulumi.StackReference({name!r}): the project {key.project!r} ({project_dir}) has no stack "
                f"{key.stack!r} (stacks: {', '.join(list_stacks(project_dir)) or 'none'}). Either give its outputs with "
                f"--stack-outputs {name}=FILE, or add {project_dir}/Pulumi.{key.stack}.yaml")
        raise ReferenceNeeded(key, project_dir)


@dataclass
class StackReferenceRecord:
    """One ``pulumi.StackReference`` the program read, for the plan.

    Attributes:
        name: the reference's logical name (the resource name).
        stack: the stack as the program named it (``org/project/stack``).
        source: where its outputs came from (``file <path>``, ``preview of <dir> (stack <s>)``).
        kind: ``file`` or ``preview``.
        output_names: the names of the referenced stack's outputs.
        secret_names: those that are secret.
    """

    name: str
    stack: str
    source: str
    kind: str
    output_names: list[str]
    secret_names: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "stack": self.stack, "source": self.source, "kind": self.kind,
                "outputs": list(self.output_names), "secret_outputs": list(self.secret_names)}
