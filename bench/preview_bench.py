"""Benchmark of the offline preview: wall time, peak memory and time per resource for N teams.

For each N (10, 100, 500 by default) it generates a prod-like stack config with N teams (each
with a namespace, a data bucket, a workload role and a cross-team grant), previews the platform
program with it, and then registers the same number of plain resources with no components, as a
baseline for what the SDK and mocks cost on their own. Every measurement runs in a fresh
subprocess, so peak memory (max resident set size) is that run's alone.

Usage::

    python bench/preview_bench.py                # N = 10, 100, 500
    python bench/preview_bench.py --teams 10 50   # other sizes

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def team_config(count: int) -> list[dict]:
    """``count`` teams shaped like the prod stack's: quota, one bucket, one grant to the next team."""
    teams = []
    for index in range(count):
        name = f"team-{index:03d}"
        next_team = f"team-{(index + 1) % count:03d}"
        grants = [{"team": next_team, "access": "read", "prefix": "shared/"}] if count > 1 else []
        teams.append({
            "name": name,
            "identityGroup": f"ml-{name}",
            "quota": {"cpu": 32, "memoryGib": 128, "gpu": 2, "pods": 100, "loadBalancers": 1, "storageGib": 500},
            "buckets": [{"name": f"{name}-data", "grants": grants}],
        })
    return teams


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def worker_components(teams: int, stack: str) -> dict:
    from platform_lib.preview import run_preview

    # The template's endpoints and GPU boxes name its own teams; the generated teams replace them,
    # so those families are left out and the team-scoped ones (namespace, bucket, role, grants) scale.
    overrides = {"mlplat:teams": team_config(teams), "mlplat:endpoints": [], "mlplat:gpuBoxes": []}
    start = time.perf_counter()
    plan, _ = run_preview(REPO_ROOT, stack, config_overrides=overrides)
    wall = time.perf_counter() - start
    result = {"resources": len(plan.resources), "wall_seconds": wall, "peak_rss_mib": _peak_rss_mib()}
    try:
        from platform_lib.policy.bench import policy_timing  # provided by the policy gate, when present
    except ImportError:
        return result
    result.update(policy_timing(plan, stack=stack))
    return result


def worker_baseline(resources: int) -> dict:
    import pulumi_aws as aws

    from platform_lib.preview import run_program

    def program() -> None:
        for index in range(resources):
            aws.s3.Bucket(f"plain-{index}", tags={"team": "bench"})

    start = time.perf_counter()
    plan, _ = run_program(program)
    wall = time.perf_counter() - start
    return {"resources": len(plan.resources), "wall_seconds": wall, "peak_rss_mib": _peak_rss_mib()}


def _run_worker(*args: str) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, nargs="+", default=[10, 100, 500], help="team counts to measure")
    parser.add_argument("--stack", default="prod", help="the shipped stack whose config is the template")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.worker:
        kind, *rest = options.worker
        result = worker_components(int(rest[0]), rest[1]) if kind == "components" else worker_baseline(int(rest[0]))
        print(json.dumps(result))
        return

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Offline preview, stack template {options.stack!r} (each run in a fresh process)",
                  caption="platform: the stack program with N teams; baseline: the same number of plain S3 buckets, no components")
    for column in ("teams", "run", "resources", "wall s", "ms / resource", "peak RSS MiB"):
        table.add_column(column, justify="right" if column != "run" else "left")
    policy_rows = []
    for teams in options.teams:
        measured = _run_worker("components", str(teams), options.stack)
        baseline = _run_worker("baseline", str(measured["resources"] - 1))
        for label, row in (("platform", measured), ("baseline", baseline)):
            per_resource = 1000 * row["wall_seconds"] / max(row["resources"] - 1, 1)
            table.add_row(str(teams), label, str(row["resources"] - 1), f"{row['wall_seconds']:.2f}", f"{per_resource:.2f}", f"{row['peak_rss_mib']:.0f}")
        table.add_section()
        if "policy_seconds" in measured:
            policy_rows.append((teams, measured))
    console = Console(width=120)  # wide enough for both tables in a non-terminal CI log
    console.print(table)
    if policy_rows:
        policy_table = Table(title="Policy evaluation through the Analyzer gRPC protocol")
        for column in ("teams", "resources", "policy s", "ms / resource", "Analyze ms / resource", "AnalyzeStack s", "pack start s", "violations"):
            policy_table.add_column(column, justify="right")
        for teams, row in policy_rows:
            policy_table.add_row(str(teams), str(row["resources"] - 1), f"{row['policy_seconds']:.2f}", f"{1000 * row['policy_seconds'] / max(row['resources'] - 1, 1):.2f}",
                                 f"{row.get('analyze_per_resource_ms', 0):.2f}", f"{row.get('analyze_stack_seconds', 0):.2f}",
                                 f"{row.get('policy_startup_seconds', 0):.2f}", str(row.get("violations", "")))
        console.print(policy_table)


if __name__ == "__main__":
    main()
