"""The policy pack process: a deadline on every call, and never alive after the process that started it.

These start real processes; every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pulumi_aws as aws
import pytest

from platform_lib.policy.gate import PolicyGate, PolicyGateError, run_gate, shipped_pack_dir
from platform_lib.preview import run_preview

from .conftest import REPO_ROOT

HANGING_PACK = Path(__file__).parent / "data" / "hanging_pack"
INSECURE = REPO_ROOT / "tests" / "insecure_program"


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, is not alive)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_until_gone(pid: int, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return not alive(pid)


def read_line(process: subprocess.Popen, seconds: float = 60.0) -> str:
    """One line of the process's stdout, waiting at most ``seconds``."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(seconds), "no output in time"
    return process.stdout.readline().strip()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _stuck_program():
    aws.s3.Bucket("fine")
    aws.s3.Bucket("stuck")


def test_a_policy_that_hangs_fails_the_gate_naming_the_policy_and_resource():
    plan, _ = run_preview(INSECURE, "prod", program=_stuck_program)
    stuck = next(r for r in plan.resources if r.name == "stuck")
    with PolicyGate(HANGING_PACK, call_timeout=2) as gate:
        with pytest.raises(PolicyGateError) as error:
            run_gate(plan, pack_dir=HANGING_PACK, gate=gate)
        pid = gate._process.pid
    assert str(error.value) == (f"policy pack hangs did not answer Analyze for resource {stuck.urn} (aws:s3/bucket:Bucket 'stuck') "
                                f"within 2 seconds (MLPLAT_POLICY_TIMEOUT); running: policy 'sleepy-policy' on {stuck.urn}")
    assert wait_until_gone(pid)


@pytest.mark.parametrize("value", ["0", "soon", "-5", "inf"])
def test_the_call_timeout_is_validated(monkeypatch, value):
    monkeypatch.setenv("MLPLAT_POLICY_TIMEOUT", value)
    with pytest.raises(PolicyGateError, match=f"MLPLAT_POLICY_TIMEOUT: got '{value}'; expected a number of seconds greater than 0"):
        PolicyGate(shipped_pack_dir())


def test_a_malformed_pulumipolicy_yaml_is_refused_before_the_pack_starts(tmp_path, monkeypatch):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: [0.1\n")
    (tmp_path / "__main__.py").write_text((HANGING_PACK / "__main__.py").read_text())
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a))
    with pytest.raises(PolicyGateError, match=r"PulumiPolicy.yaml: not valid YAML"):
        PolicyGate(tmp_path)
    assert started == []


def test_the_pack_dies_with_the_process_that_started_it_even_on_sigkill():
    driver = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from platform_lib.policy.gate import PolicyGate
        gate = PolicyGate({str(shipped_pack_dir())!r})
        print(gate._process.pid, flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        pack = int(read_line(driver))
        assert alive(pack)
        driver.kill()  # no handler, no cleanup: only the closed stdin pipe tells the pack
        driver.wait(10)
        assert wait_until_gone(pack), f"the pack {pack} outlived its parent"
    finally:
        driver.kill()
        driver.wait(10)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGKILL])
def test_the_pack_dies_with_mlplat(make_project, number):
    project = make_project("""
        import time
        print("program started", flush=True)
        time.sleep(120)
    """, {"dev": {}})
    mlplat = subprocess.Popen([sys.executable, "-c", "from platform_lib.cli import main; main()", "preview", "--cwd", str(project), "--stack", "dev"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT,
                              env={**os.environ, "MLPLAT_EARLY_PACK_START": "1", "COLUMNS": "200"})
    try:
        pack = None
        deadline = time.monotonic() + 60
        while pack is None and time.monotonic() < deadline:
            hosts = [c for c in children(mlplat.pid) if b"pack_host" in Path(f"/proc/{c}/cmdline").read_bytes()]
            pack = hosts[0] if hosts else None
            time.sleep(0.1)
        assert pack is not None, "the pack did not start"
        mlplat.send_signal(number)
        code = mlplat.wait(30)
        assert code == (128 + number if number == signal.SIGTERM else -number)
        assert wait_until_gone(pack), f"the pack {pack} outlived mlplat"
    finally:
        mlplat.kill()
        mlplat.wait(10)
