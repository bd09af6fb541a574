"""Every example project under examples/ previews offline at each of its stacks, and is judged by
the shipped policy pack: no mandatory violation at any level, prod included."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_lib.policy.gate import default_pack_dir, mandatory_violations, run_gate
from platform_lib.preview import load_stack, run_preview

from .conftest import REPO_ROOT

EXAMPLES = sorted(p.parent for p in (REPO_ROOT / "examples").glob("*/Pulumi.yaml"))
STACKS = [(example, path.name[len("Pulumi.") : -len(".yaml")]) for example in EXAMPLES for path in sorted(example.glob("Pulumi.*.yaml"))]


def test_every_component_has_an_example():
    import platform_lib

    used = {name for example in EXAMPLES for name in platform_lib.COMPONENTS if name in (example / "__main__.py").read_text(encoding="utf-8")}
    assert used == set(platform_lib.COMPONENTS)
    assert (REPO_ROOT / "examples" / "complete" / "Pulumi.yaml").is_file()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_is_a_complete_project(example: Path):
    assert (example / "README.md").is_file()
    assert [p for p in example.glob("Pulumi.*.yaml")], "at least one stack file"
    requirements = (example / "requirements.txt").read_text(encoding="utf-8").split()
    assert any(line.startswith("pulumi-mlplat") for line in requirements), "installs the library"


@pytest.mark.parametrize(("example", "stack"), STACKS, ids=[f"{e.name}-{s}" for e, s in STACKS])
def test_example_previews_with_no_mandatory_violation(example: Path, stack: str, policy_gate):
    plan, _ = run_preview(example, stack)
    assert any(r.type.startswith("mlplat:") for r in plan.resources), "the example uses a platform component"
    violations = run_gate(plan, pack_dir=default_pack_dir(example), stack_config=load_stack(example, stack).config, gate=policy_gate)
    assert [(v["policy"], v["resource_name"], v["message"]) for v in mandatory_violations(violations)] == []
