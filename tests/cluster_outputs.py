"""Cluster stack outputs for tests of the stacks that read the cluster (``reference_cluster``).

``tests/data/cluster-outputs/<stack>.json`` hold what each cluster stack (``clusters/``) exports,
its preview's outputs (``tests/test_cluster_stacks.py`` checks they still are). The session
fixture in ``conftest.py`` answers the platform stacks' StackReferences from them
(:func:`answer_stack_references`), so a test of a platform stack does not preview its cluster
stack first; tests of that end-to-end path (and the CLI, in its own process) do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_lib.preview import engine
from platform_lib.preview.references import StackOutputs, parse_reference

DATA = Path(__file__).parent / "data" / "cluster-outputs"
#: The engine's own way to resolve a reference (preview the referenced stack first), for tests of that path.
PREVIEW_REFERENCED_STACK = engine.preview_referenced_stack


def aws_outputs(env: str = "prod") -> dict[str, Any]:
    """The outputs of the cluster stack ``env`` (docs/cluster.md, the outputs contract)."""
    return json.loads((DATA / f"{env}.json").read_text())


def all_outputs() -> dict[str, dict[str, Any]]:
    """Every recorded cluster stack's outputs, by fully qualified stack name."""
    return {f"organization/ml-platform-cluster/{path.stem}": json.loads(path.read_text()) for path in sorted(DATA.glob("*.json"))}


def answer_stack_references(patch: pytest.MonkeyPatch, outputs: dict[str, dict[str, Any]], secret: tuple[str, ...] = ("kubeconfig",)) -> None:
    """Make the preview answer a reference to a stack of ``outputs`` (by fully qualified name) with
    those outputs (``secret`` names the secret ones, as the cluster stack marks them) instead of
    previewing that stack first; other references resolve as usual."""
    original = engine.preview_referenced_stack
    by_key = {parse_reference(name, ""): values for name, values in outputs.items()}

    def preview_needed(project_dir, key, chain, files, cache):  # noqa: ANN001, ANN202 - engine.PreviewNeeded
        if key not in by_key:
            return original(project_dir, key, chain, files, cache)
        values = by_key[key]
        return StackOutputs(key=key, outputs=values, secret_names=[n for n in secret if n in values], source=f"file {DATA / (key.stack + '.json')}", kind="file")

    patch.setattr(engine, "preview_referenced_stack", preview_needed)
