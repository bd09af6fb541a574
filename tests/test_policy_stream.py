"""The gate beside the running program: the pack starts early, Analyze is sent as resources register,
and the violations are the one-by-one gate's, in an order that does not depend on registration order."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from platform_lib.policy.gate import PolicyGateError, run_gate
from platform_lib.policy.stream import PolicyStream
from platform_lib.preview import load_stack, run_preview

from .conftest import REPO_ROOT
from .test_policy_gate import INSECURE, INSECURE_EXPECTED, PACK


@pytest.fixture(scope="module")
def insecure_one_by_one(policy_gate):
    plan, _ = run_preview(INSECURE, "prod")
    return run_gate(plan, pack_dir=PACK, stack_config=load_stack(INSECURE, "prod").config, gate=policy_gate)


def _stream(**options) -> PolicyStream:
    settings = load_stack(INSECURE, "prod")
    return PolicyStream(PACK, project=settings.project, stack="prod", stack_config=settings.config, **options)


def test_analyze_sent_while_the_program_runs_gives_the_one_by_one_verdict(insecure_one_by_one):
    with _stream(early_start=True, stream=True) as stream:
        gate = stream.ready()
        plan, _ = run_preview(INSECURE, "prod", on_resource=stream.submit)
        violations = stream.judge(plan)
    assert gate.timings["analyzed_while_running"] == len(plan.resources) > 5
    assert {(v["policy"], v["resource_name"]) for v in violations} == INSECURE_EXPECTED
    assert violations == insecure_one_by_one


@pytest.mark.parametrize(("early_start", "stream"), [(False, False), (True, False), (False, True)])
def test_every_switch_setting_gives_the_same_violations(early_start, stream, insecure_one_by_one):
    with _stream(early_start=early_start, stream=stream) as policy_stream:
        plan, _ = run_preview(INSECURE, "prod", on_resource=policy_stream.submit)
        violations = policy_stream.judge(plan)
        sent = policy_stream.ready().timings["analyzed_while_running"]
    assert violations == insecure_one_by_one
    if not stream:
        assert sent == 0


def test_switches_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLPLAT_STREAM_ANALYZE", "off")
    monkeypatch.setenv("MLPLAT_EARLY_PACK_START", "0")
    stream = _stream()
    assert (stream.streaming, stream.early_start) == (False, False)
    stream.close()


def test_violations_do_not_depend_on_registration_order(policy_gate):
    plan, _ = run_preview(INSECURE, "prod")
    stack_config = load_stack(INSECURE, "prod").config
    forward = run_gate(plan, pack_dir=PACK, stack_config=stack_config, gate=policy_gate)
    reversed_plan = dataclasses.replace(plan, resources=list(reversed(plan.resources)))
    backward = run_gate(reversed_plan, pack_dir=PACK, stack_config=stack_config, gate=policy_gate)
    assert len(forward) == len(INSECURE_EXPECTED)
    assert backward == forward


def test_a_bad_pack_is_reported_by_judge(tmp_path):
    with PolicyStream(tmp_path, project="p", stack="prod") as stream:
        plan, _ = run_preview(INSECURE, "prod", on_resource=stream.submit)
        with pytest.raises(PolicyGateError, match="is not a Python policy pack"):
            stream.judge(plan)


def test_close_stops_the_pack():
    stream = _stream(early_start=True)
    gate = stream.ready()
    stream.close()
    assert gate._process.poll() is not None


def _mlplat(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from platform_lib.cli import main; main()", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, env={**os.environ, "COLUMNS": "200", **env}, check=False, timeout=300)


@pytest.mark.parametrize("fast_exit", ["1", "0"])
def test_the_cli_exit_code_and_files_survive_fast_exit(tmp_path, fast_exit):
    plan_file = tmp_path / "plan.json"
    result = _mlplat("preview", "--stack", "prod", "--cwd", str(INSECURE), "--json", str(plan_file), MLPLAT_FAST_EXIT=fast_exit)
    assert result.returncode == 3, result.stderr
    resources = [r for r in json.loads(plan_file.read_text())["resources"] if r["type"] != "pulumi:pulumi:Stack"]
    # The same count as the "Resources by type" total: the stack resource is named apart.
    assert result.stdout.rstrip().endswith(f"Plan written to {plan_file} ({len(resources)} resources and the stack).")
    assert {(v["policy"], v["resource_name"]) for v in json.loads(plan_file.read_text())["violations"]} == INSECURE_EXPECTED
    missing = _mlplat("preview", "--stack", "qa", "--cwd", str(INSECURE), MLPLAT_FAST_EXIT=fast_exit)
    assert missing.returncode == 2 and "qa" in missing.stderr
