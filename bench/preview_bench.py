"""Benchmark of the offline preview and the policy gate: time and peak memory for N teams, each optimisation on and off.

For each N (10, 100, 500 by default) it generates a prod-like stack config with N teams (each
with a namespace, a data bucket, a workload role and a cross-team grant) and measures, each run
in a fresh subprocess so that peak memory (max resident set size) is that run's alone:

- the preview with no gate, with the collector as it comes and tuned;
- the preview with the gate, with every optimisation of issue 14 off ("before"), each one on
  alone, and all on ("after"): the pack's adapted servicer, decoding each request once and skipping
  the policies that declare other types (``MLPLAT_SHARED_PROPERTIES``),
  the collector tuned (``MLPLAT_GC_TUNING``), ``Analyze`` streamed as resources register
  (``MLPLAT_STREAM_ANALYZE``) and the pack started while the program runs (``MLPLAT_EARLY_PACK_START``);
- the same number of plain S3 buckets with no components (what the SDK and mocks cost alone);
- the same checks as plain Python functions over the same resources (the floor for any gate).

Runs are paired: every repetition runs each configuration once, in the same order, and the
ratios are medians of the per-repetition ratios. Then ``mlplat preview --stack dev`` end to end,
as a user runs it, before and after, and with each switch (``MLPLAT_FAST_EXIT`` too) turned off.

Usage::

    python bench/preview_bench.py                                  # N = 10, 100, 500
    python bench/preview_bench.py --teams 10 100 --repeat 3 --cli-runs 5
    python bench/preview_bench.py --teams 500 --repeat 2 --configs before after

It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

SWITCHES = ("MLPLAT_SHARED_PROPERTIES", "MLPLAT_GC_TUNING", "MLPLAT_STREAM_ANALYZE", "MLPLAT_EARLY_PACK_START", "MLPLAT_FAST_EXIT")
ALL_OFF = {name: "0" for name in SWITCHES}
ALL_ON = {name: "1" for name in SWITCHES}

#: Gate configurations: label -> the switches turned on (all others off).
GATE_CONFIGS = {
    "before": (),
    "+adapted servicer": ("MLPLAT_SHARED_PROPERTIES",),
    "+gc tuning": ("MLPLAT_GC_TUNING",),
    "+early start, streamed Analyze": ("MLPLAT_STREAM_ANALYZE", "MLPLAT_EARLY_PACK_START"),
    "+early pack start": ("MLPLAT_EARLY_PACK_START",),
    "after": SWITCHES,
}
#: Preview-only configurations: label -> whether the collector is tuned.
PREVIEW_CONFIGS = {"preview only, gc as is": False, "preview only, gc tuned": True}


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


def _overrides(teams: int) -> dict:
    # The template's endpoints and GPU boxes name its own teams; the generated teams replace them,
    # so those families are left out and the team-scoped ones (namespace, bucket, role, grants) scale.
    return {"mlplat:teams": team_config(teams), "mlplat:endpoints": [], "mlplat:gpuBoxes": []}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# ---------------------------------------------------------------- workers (each in a fresh process)

def worker_gate(teams: int, stack: str) -> dict:
    """The preview with the gate beside it, as ``mlplat preview`` runs them, per the switches in the environment."""
    from platform_lib.policy.bench import preview_with_gate
    from platform_lib.tuning import tune_garbage_collection

    tune_garbage_collection()
    plan, figures = preview_with_gate(REPO_ROOT, stack, config_overrides=_overrides(teams))
    return {"resources": len(plan.resources), **figures, "peak_rss_mib": _peak_rss_mib()}


def worker_preview(teams: int, stack: str) -> dict:
    """The preview alone; then the pack's checks as plain Python over the same resources."""
    from platform_lib.policy.bench import plain_python_floor
    from platform_lib.preview import run_preview
    from platform_lib.tuning import tune_garbage_collection

    tune_garbage_collection()
    start = time.perf_counter()
    plan, _ = run_preview(REPO_ROOT, stack, config_overrides=_overrides(teams))
    wall = time.perf_counter() - start
    peak = _peak_rss_mib()
    return {"resources": len(plan.resources), "preview_seconds": wall, "total_seconds": wall, "peak_rss_mib": peak, **plain_python_floor(plan)}


def worker_baseline(resources: int) -> dict:
    """``resources`` plain S3 buckets, no components."""
    import pulumi_aws as aws

    from platform_lib.preview import run_program
    from platform_lib.tuning import tune_garbage_collection

    def program() -> None:
        for index in range(resources):
            aws.s3.Bucket(f"plain-{index}", tags={"team": "bench"})

    tune_garbage_collection()
    start = time.perf_counter()
    plan, _ = run_program(program)
    wall = time.perf_counter() - start
    return {"resources": len(plan.resources), "preview_seconds": wall, "total_seconds": wall, "peak_rss_mib": _peak_rss_mib()}


def _run_worker(switches: dict[str, str], *args: str) -> dict:
    env = {**os.environ, **switches}
    completed = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False, cwd=REPO_ROOT, env=env)
    if completed.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _cli_seconds(switches: dict[str, str], stack: str) -> float:
    env = {**os.environ, **switches}
    start = time.perf_counter()
    completed = subprocess.run([str(Path(sys.executable).with_name("mlplat")), "preview", "--stack", stack], capture_output=True, text=True,
                               check=False, cwd=REPO_ROOT, env=env)
    elapsed = time.perf_counter() - start
    if completed.returncode not in (0, 3):
        raise SystemExit(f"mlplat preview --stack {stack} failed:\n{completed.stderr}")
    return elapsed


def _switches(on: tuple[str, ...]) -> dict[str, str]:
    return {name: ("1" if name in on else "0") for name in SWITCHES}


# ---------------------------------------------------------------- measuring and printing

def _median(rows: list[dict], key: str) -> float:
    values = [row[key] for row in rows if key in row]
    return statistics.median(values) if values else float("nan")


def _paired_ratio(rows: list[dict], reference: list[dict], key: str, reference_key: str | None = None) -> float:
    ratios = [row[key] / ref[reference_key or key] for row, ref in zip(rows, reference) if ref.get(reference_key or key)]
    return statistics.median(ratios) if ratios else float("nan")


def measure(teams: int, stack: str, repeat: int, gate_configs: list[str], baseline: bool) -> dict[str, list[dict]]:
    """Every configuration ``repeat`` times, interleaved (one of each per repetition)."""
    results: dict[str, list[dict]] = {}
    for repetition in range(repeat):
        for label, tuned in PREVIEW_CONFIGS.items():
            switches = {**ALL_OFF, "MLPLAT_GC_TUNING": "1" if tuned else "0"}
            results.setdefault(label, []).append(_run_worker(switches, "preview", str(teams), stack))
        for label in gate_configs:
            results.setdefault(label, []).append(_run_worker(_switches(GATE_CONFIGS[label]), "gate", str(teams), stack))
        if baseline:
            count = str(results["preview only, gc as is"][-1]["resources"] - 1)
            for label, tuned in (("plain buckets, gc as is", False), ("plain buckets, gc tuned", True)):
                results.setdefault(label, []).append(_run_worker({**ALL_OFF, "MLPLAT_GC_TUNING": "1" if tuned else "0"}, "baseline", count))
        print(f"  {teams} teams: repetition {repetition + 1}/{repeat} done", file=sys.stderr, flush=True)
    return results


def print_tables(console, all_results: dict[int, dict[str, list[dict]]], cli: dict[str, list[float]] | None, stack: str, cli_stack: str) -> None:
    from rich.table import Table

    table = Table(title=f"Offline preview and policy gate, stack template {stack!r} (medians; each run in a fresh process)",
                  caption="gate s: after the program ends (waiting for the pack, remaining Analyze answers, AnalyzeStack). "
                          "x preview only: total / the preview without the gate, same collector setting, paired. "
                          "x before: total / the 'before' total, paired.")
    for column in ("teams", "resources", "configuration", "runs", "preview s", "gate s", "total s", "x preview only", "x before", "peak MiB", "pack MiB", "violations"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for teams, results in all_results.items():
        before = results.get("before", [])
        for label, rows in results.items():
            if not rows:
                continue
            gate = "gate_seconds" in rows[0]
            reference = results["preview only, gc tuned" if label in ("after", "+gc tuning") else "preview only, gc as is"]
            table.add_row(
                str(teams), str(rows[0]["resources"] - 1), label, str(len(rows)),
                f"{_median(rows, 'preview_seconds'):.2f}", f"{_median(rows, 'gate_seconds'):.2f}" if gate else "",
                f"{_median(rows, 'total_seconds'):.2f}",
                f"{_paired_ratio(rows, reference, 'total_seconds', 'preview_seconds'):.2f}" if gate else "",
                f"{_paired_ratio(rows, before, 'total_seconds'):.2f}" if gate and before else "",
                f"{_median(rows, 'peak_rss_mib'):.0f}", f"{_median(rows, 'pack_peak_rss_mib'):.0f}" if gate and rows[0].get("pack_peak_rss_mib") else "",
                str(rows[0].get("violations", "")))
        floor = results.get("preview only, gc as is", [])
        if floor:
            table.add_row(str(teams), str(floor[0]["resources"] - 1), "the checks as plain Python (floor)", str(len(floor)), "", "",
                          f"{_median(floor, 'floor_seconds'):.2f}", "", "", "", "", f"{floor[0]['floor_findings']} findings")
            table.add_row(str(teams), str(floor[0]["resources"] - 1), "the checks as plain Python, rules by type", str(len(floor)), "", "",
                          f"{_median(floor, 'floor_by_type_seconds'):.2f}", "", "", "", "", "")
        table.add_section()
    console.print(table)
    if cli:
        cli_table = Table(title=f"mlplat preview --stack {cli_stack} end to end (wall seconds, medians, paired)")
        for column in ("configuration", "runs", "median s", "min s", "x before"):
            cli_table.add_column(column, justify="left" if column == "configuration" else "right")
        before = cli["before"]
        for label, times in cli.items():
            ratio = statistics.median(t / b for t, b in zip(times, before))
            cli_table.add_row(label, str(len(times)), f"{statistics.median(times):.2f}", f"{min(times):.2f}", f"{ratio:.2f}")
        console.print(cli_table)


def measure_cli(stack: str, runs: int) -> dict[str, list[float]]:
    """``mlplat preview --stack <stack>`` before, after, and after with each switch off; interleaved."""
    configs = {"before": ALL_OFF, "after": ALL_ON}
    configs.update({f"after, {name} off": {**ALL_ON, name: "0"} for name in SWITCHES})
    times: dict[str, list[float]] = {label: [] for label in configs}
    for _ in range(runs):
        for label, switches in configs.items():
            times[label].append(_cli_seconds(switches, stack))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, nargs="*", default=[10, 100, 500], help="team counts to measure")
    parser.add_argument("--stack", default="prod", help="the shipped stack whose config is the template")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per configuration (paired)")
    parser.add_argument("--configs", nargs="+", default=list(GATE_CONFIGS), choices=list(GATE_CONFIGS), help="gate configurations to run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain-buckets baseline")
    parser.add_argument("--cli-stack", default="dev", help="stack for the end-to-end CLI timing")
    parser.add_argument("--cli-runs", type=int, default=5, help="end-to-end CLI runs per configuration (0 to skip)")
    parser.add_argument("--json-out", type=Path, help="also write every measurement to this JSON file")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.worker:
        kind, *rest = options.worker
        if kind == "gate":
            result = worker_gate(int(rest[0]), rest[1])
        elif kind == "preview":
            result = worker_preview(int(rest[0]), rest[1])
        else:
            result = worker_baseline(int(rest[0]))
        print(json.dumps(result))
        return

    from rich.console import Console

    all_results = {teams: measure(teams, options.stack, options.repeat, options.configs, not options.no_baseline) for teams in options.teams}
    cli = measure_cli(options.cli_stack, options.cli_runs) if options.cli_runs else None
    if options.json_out:
        options.json_out.write_text(json.dumps({"teams": all_results, "cli": cli}, indent=1) + "\n", encoding="utf-8")
    print_tables(Console(width=200), all_results, cli, options.stack, options.cli_stack)


if __name__ == "__main__":
    main()
