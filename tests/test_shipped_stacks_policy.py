"""Every shipped stack passes every mandatory policy of the pack (through the real gRPC path)."""

from __future__ import annotations

import pytest

from platform_lib.policy.gate import mandatory_violations, run_gate
from platform_lib.preview import load_stack, run_preview

from .conftest import REPO_ROOT, SHIPPED_STACKS


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stack_has_no_mandatory_violation(stack, policy_gate):
    plan, _ = run_preview(REPO_ROOT, stack)
    violations = run_gate(plan, pack_dir=REPO_ROOT / "policies", stack_config=load_stack(REPO_ROOT, stack).config, gate=policy_gate,
                          project_dir=REPO_ROOT)
    assert [(v["policy"], v["resource_name"], v["message"]) for v in mandatory_violations(violations)] == []


def test_shipped_stacks_exist():
    assert set(SHIPPED_STACKS) >= {"dev", "staging", "prod"}


def test_every_shipped_stack_is_bound_to_the_environment_it_declares():
    from platform_lib.policy.enforcement import enforcement_for

    for stack in SHIPPED_STACKS:
        enforcement = enforcement_for(stack, load_stack(REPO_ROOT, stack).config, pack_dir=REPO_ROOT / "policies", project_dir=REPO_ROOT)
        assert enforcement.note is None and enforcement.bound_by == str(REPO_ROOT / "policies" / "environments.yaml")
        assert enforcement.config_file == REPO_ROOT / "policies" / "config" / f"{enforcement.environment}.json"
