"""Benchmark of issue 11: the prod platform stack previewed through its cluster stack, next to each alone.

Three commands, as a user runs them (each a fresh ``mlplat`` process, wall-clock time, policy
gates on), each run ``--runs`` times in turn (paired), reporting min / median / max seconds:

- ``cluster + platform``: ``mlplat preview --stack prod``: the cluster stack ``clusters/`` prod is
  previewed and gated first, then the platform stack reads its outputs;
- ``platform alone``: ``mlplat preview --stack prod --stack-outputs
  organization/ml-platform-cluster/prod=FILE``, the cluster outputs from a file (written once,
  before timing, by ``mlplat preview -C clusters --stack prod --json FILE --show-secrets``);
- ``cluster alone``: ``mlplat preview -C clusters --stack prod``;
- the same pair for a prod team stack (``-C team-stack --stack fraud-prod``), where the team
  resources (namespace, IRSA role, buckets, endpoints) now live (docs/teams.md).

Usage::

    python bench/cluster_bench.py              # 3 runs each
    python bench/cluster_bench.py --runs 5

It prints figures; it asserts nothing (each command must exit 0, or the run stops).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLPLAT = [sys.executable, "-m", "platform_lib.cli"]
REFERENCE = "organization/ml-platform-cluster/prod"


def timed(arguments: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([*MLPLAT, *arguments], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"mlplat {' '.join(arguments)} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        outputs = Path(scratch) / "cluster-prod.json"
        timed(["preview", "-C", "clusters", "--stack", "prod", "--no-policy", "--json", str(outputs), "--show-secrets"])
        commands = {
            "cluster + platform (mlplat preview --stack prod)": ["preview", "--stack", "prod"],
            "platform alone (--stack-outputs from a file)": ["preview", "--stack", "prod", "--stack-outputs", f"{REFERENCE}={outputs}"],
            "cluster alone (mlplat preview -C clusters --stack prod)": ["preview", "-C", "clusters", "--stack", "prod"],
            "cluster + team stack fraud-prod": ["preview", "-C", "team-stack", "--stack", "fraud-prod"],
            "team stack fraud-prod alone (--stack-outputs)": ["preview", "-C", "team-stack", "--stack", "fraud-prod", "--stack-outputs", f"{REFERENCE}={outputs}"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.runs):
            for name, arguments in commands.items():
                times[name].append(timed(arguments))
    print(f"| command | runs | min s | median s | max s |\n| --- | --- | --- | --- | --- |")
    for name, values in times.items():
        print(f"| {name} | {len(values)} | {min(values):.2f} | {statistics.median(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()
