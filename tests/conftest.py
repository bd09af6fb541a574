"""Shared fixtures: the repository root and a factory for small Pulumi projects on disk."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_STACKS = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in (REPO_ROOT / "stacks").glob("Pulumi.*.yaml"))


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def make_project(tmp_path: Path):
    """Write a Pulumi Python project: ``make_project(program_source, {stack: config}, main=None)``."""

    def make(program: str, stacks: dict[str, dict], *, name: str = "team-project", main: str | None = None, project_config: dict | None = None) -> Path:
        project = {"name": name, "runtime": "python"}
        program_dir = tmp_path
        if main is not None:
            project["main"] = main
            program_dir = tmp_path / main
            program_dir.mkdir(parents=True, exist_ok=True)
        if project_config is not None:
            project["config"] = project_config
        (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
        (program_dir / "__main__.py").write_text(textwrap.dedent(program))
        for stack, config in stacks.items():
            (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
        return tmp_path

    return make


# ---------------------------------------------------------------- the cluster stacks' outputs (issue 11)

@pytest.fixture(autouse=True, scope="session")
def cluster_stack_outputs():
    """Answer the platform stacks' StackReferences to ``organization/ml-platform-cluster/<stack>``
    from ``tests/data/cluster-outputs/<stack>.json`` (the cluster stacks' own outputs, checked
    against their previews by ``tests/test_cluster_stacks.py``), so a test of a platform stack does
    not preview its cluster stack first. A test of the end-to-end path undoes it with
    ``monkeypatch.setattr(engine, "preview_referenced_stack", cluster_outputs.PREVIEW_REFERENCED_STACK)``
    or uses the CLI."""
    from .cluster_outputs import all_outputs, answer_stack_references

    outputs = all_outputs()
    with pytest.MonkeyPatch.context() as patch:
        answer_stack_references(patch, outputs)
        yield outputs


# ---------------------------------------------------------------- policy pack (one per session)

@pytest.fixture(scope="session")
def policy_gate():
    """The shipped policy pack, started once as a subprocess and driven over gRPC by every test."""
    from platform_lib.policy.gate import PolicyGate

    with PolicyGate(REPO_ROOT / "policies", project="ml-platform", stack="test") as gate:
        yield gate


# ---------------------------------------------------------------- garbage collection (issue 14)

def pytest_collection_finish(session):
    """Once every test module is imported, freeze what is alive and raise the collector's thresholds
    (``MLPLAT_GC_TUNING=0`` leaves the collector alone)."""
    from platform_lib.tuning import tune_garbage_collection

    tune_garbage_collection()
