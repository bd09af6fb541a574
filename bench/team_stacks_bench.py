"""Benchmark of issue 12: N team stacks previewed and gated, one process against parallel workers,
beside one shared stack holding the same N teams.

For each N (10, 100, 500 by default) it generates N teams shaped as ``bench/preview_bench.py``
generates them for the shared stack (quota, one data bucket, a read grant to the next team) and
measures, each in a fresh process, wall time of:

- **shared**: the shared prod stack with the N teams in its ``mlplat:teams`` (the preview_bench
  generator, ``_overrides``), previewed and gated as ``mlplat preview --stack prod`` does;
- **team stacks, 1 process**: the N team stacks ``team-NNN-prod`` through
  ``platform_lib.preview.preview_many(..., jobs=1)``;
- **team stacks, -j J**: the same with J worker processes (default 2).

Every run previews the cluster stack the stacks read once (a StackReference, resolved offline), and
runs the policy gate (``--no-policy`` leaves it out).

Team project: when the repository (``--repo``, default this one) has the teams helper's team
project ``team-stack/`` (project ``ml-platform-team``, stacks ``<team>-<environment>`` read
``teams/<team>.yaml``), N request files are generated for it (environment ``prod`` only, the
workspace off, a budget, as the shared stack's teams have none) in a copy of the repository.
Otherwise a minimal consumer project is generated (``--project minimal`` forces it): one stack per
team, ``Pulumi.team-NNN-prod.yaml``, whose program reads a small cluster stack through a
StackReference and registers the team's ``S3DataBucket`` (with the grant to the next team's role)
and its workload role; the results say which was used.

Usage::

    python bench/team_stacks_bench.py                       # N = 10, 100, 500; -j 2
    python bench/team_stacks_bench.py --teams 10 100 --repeat 2 --jobs 2
    python bench/team_stacks_bench.py --repo /path/to/a/checkout/with/team-stack

It prints a table; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from preview_bench import _overrides, team_config  # noqa: E402 - the shared stack's generator

_COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", "tests", "bench", "examples", "docs", "*.md")


# ---------------------------------------------------------------- generated projects

def team_project_layout(repo: Path) -> bool:
    return (repo / "team-stack" / "Pulumi.yaml").is_file() and (repo / "teams" / "_platform.yaml").is_file()


def write_team_requests(root: Path, teams: list[dict]) -> list[str]:
    """Request files ``teams/<team>.yaml`` for the teams helper's project; returns the stack names."""
    import yaml

    requests = root / "teams"
    for path in requests.glob("*.yaml"):
        if not path.name.startswith("_"):
            path.unlink()
    for team in teams:
        section = {
            "quota": team["quota"],
            "buckets": [{"name": bucket["name"], "grants": bucket["grants"]} for bucket in team["buckets"]],
            "workspace": {"enabled": False},
            "budget": {"monthlyUsd": 5000},  # above the estimate of the quota's GPU node share (2 GPUs)
        }
        document = {"identityGroup": team["identityGroup"], "environments": {"prod": section}}
        (requests / f"{team['name']}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return [f"{team['name']}-prod" for team in teams]


_MINIMAL_CLUSTER = '''\
import pulumi

pulumi.export("clusterName", "ml-" + pulumi.get_stack())
pulumi.export("oidcProviderArn", "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/BENCH")
pulumi.export("oidcIssuer", "oidc.eks.us-east-1.amazonaws.com/id/BENCH")
pulumi.export("kubeconfig", pulumi.Output.secret("apiVersion: v1\\nkind: Config\\nclusters: []"))
'''

_MINIMAL_TEAM = '''\
import json

import pulumi
import pulumi_aws as aws

from platform_lib import S3DataBucket

config = pulumi.Config("bench")
team, grant_to = config.require("team"), config.require("grantTo")
cluster = pulumi.StackReference("organization/bench-cluster/prod")
tags = {"team": team, "cost-center": "cc-bench", "environment": "prod", "cluster": cluster.require_output("clusterName")}
trust = pulumi.Output.all(cluster.require_output("oidcProviderArn"), cluster.require_output("oidcIssuer")).apply(lambda values: json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Federated": values[0]}, "Action": "sts:AssumeRoleWithWebIdentity",
                   "Condition": {"StringEquals": {f"{values[1]}:sub": f"system:serviceaccount:{team}:workload",
                                                  f"{values[1]}:aud": "sts.amazonaws.com"}}}]}))
role = aws.iam.Role(f"{team}-workload", name=f"{team}-prod-workload", tags={**tags, "managed-by": "pulumi"}, assume_role_policy=trust)
bucket = S3DataBucket(f"{team}-data", tags=tags)
# The grant to the next team: its workload role (by name, it lives in its own stack) reads the bucket.
aws.iam.RolePolicy(f"{team}-grant-{grant_to}", role=f"{grant_to}-prod-workload",
                   policy=bucket.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
                       {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"{arn}/shared/*"}]})))
pulumi.export("bucket", bucket.bucket_name)
'''


def write_minimal_projects(root: Path, teams: list[dict]) -> list[str]:
    """A cluster project and a team project with one stack file per team; returns the stack names."""
    import yaml

    cluster, project = root / "cluster", root / "team-stack"
    for directory, name, program in ((cluster, "bench-cluster", _MINIMAL_CLUSTER), (project, "bench-team", _MINIMAL_TEAM)):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "Pulumi.yaml").write_text(yaml.safe_dump({"name": name, "runtime": "python"}))
        (directory / "__main__.py").write_text(textwrap.dedent(program))
    (cluster / "Pulumi.prod.yaml").write_text("config: {}\n")
    stacks = []
    for team in teams:
        grant_to = team["buckets"][0]["grants"][0]["team"] if team["buckets"][0]["grants"] else team["name"]
        stack = f"{team['name']}-prod"
        (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": {"aws:region": "us-east-1", "bench:team": team["name"], "bench:grantTo": grant_to}}))
        stacks.append(stack)
    return stacks


# ---------------------------------------------------------------- workers (each in a fresh process)

def worker(kind: str, root: str, count: int, jobs: int, policy: bool) -> dict:
    from platform_lib.preview import PreviewTarget, preview_many
    from platform_lib.tuning import tune_garbage_collection

    tune_garbage_collection()
    root_path = Path(root)
    if kind == "shared":
        targets = [PreviewTarget(root_path, "prod", _overrides(count))]
    else:
        stacks = json.loads((root_path / ".bench-stacks.json").read_text())
        targets = [PreviewTarget(root_path / "team-stack", stack) for stack in stacks]
    start = time.perf_counter()
    outcome = preview_many(targets, jobs=jobs, policy=policy)
    wall = time.perf_counter() - start
    errors = [f"{r.key}: {(r.error or '').splitlines()[0]}" for r in outcome.results if r.error]
    return {"seconds": wall, "stacks": len(outcome.results), "resources": sum(r.resources for r in outcome.results),
            "exit_code": outcome.exit_code, "mandatory": sum(r.mandatory for r in outcome.results), "errors": errors[:3],
            "per_stack_median": statistics.median(r.seconds for r in outcome.results) if outcome.results else 0.0}


def _run_worker(code_root: Path, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(code_root), os.environ.get("PYTHONPATH", "")) if p)}
    start = time.perf_counter()
    completed = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False, cwd=args[1], env=env)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["process_seconds"] = elapsed
    return result


# ---------------------------------------------------------------- measuring and printing

def measure(repo: Path, counts: list[int], jobs: int, repeat: int, project: str, policy: bool, progress: Path | None = None) -> tuple[str, dict]:
    layout = "team-stack" if project == "team-stack" or (project == "auto" and team_project_layout(repo)) else "minimal"
    results: dict[int, dict[str, list[dict]]] = {}
    for count in counts:
        teams = team_config(count)
        with tempfile.TemporaryDirectory(prefix=f"team-bench-{count}-") as directory:
            root = Path(directory) / "repo"
            if layout == "team-stack":
                shutil.copytree(repo, root, ignore=_COPY_IGNORE)
                stacks = write_team_requests(root, teams)
            else:
                shutil.copytree(repo, root, ignore=_COPY_IGNORE)
                stacks = write_minimal_projects(root, teams)
            (root / ".bench-stacks.json").write_text(json.dumps(stacks))
            rows = results.setdefault(count, {})
            for repetition in range(repeat):
                configurations = [("shared stack, 1 process", "shared", 1), ("team stacks, 1 process", "teams", 1),
                                  (f"team stacks, -j {jobs}", "teams", jobs)]
                if layout == "minimal":
                    configurations = configurations[1:] + [("shared stack, 1 process", "shared", 1)]
                for label, kind, workers in configurations:
                    row = _run_worker(repo, kind, str(root), str(count), str(workers), "1" if policy else "0")
                    rows.setdefault(label, []).append(row)
                    print(f"  {count} teams, {label}: {row['seconds']:.1f} s ({row['stacks']} stacks, {row['resources']} resources, "
                          f"exit {row['exit_code']})", file=sys.stderr, flush=True)
                    if progress is not None:
                        progress.write_text(json.dumps({"layout": layout, "results": results}, indent=1) + "\n")
                print(f"  {count} teams: repetition {repetition + 1}/{repeat} done", file=sys.stderr, flush=True)
    return layout, results


def print_table(layout: str, results: dict, jobs: int, policy: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"N teams: one shared stack vs a stack per team ({layout} project), wall seconds (medians), "
                        f"{'with' if policy else 'without'} the policy gate; {os.cpu_count()} CPUs")
    for column in ("teams", "configuration", "runs", "stacks", "resources", "preview_many s", "process s", "median s per stack",
                   "x shared", "exit", "mandatory"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for count, rows in results.items():
        shared = statistics.median(r["seconds"] for r in rows["shared stack, 1 process"])
        for label, runs in rows.items():
            seconds = statistics.median(r["seconds"] for r in runs)
            table.add_row(str(count), label, str(len(runs)), str(runs[0]["stacks"]), f"{runs[0]['resources']:,}", f"{seconds:.1f}",
                          f"{statistics.median(r['process_seconds'] for r in runs):.1f}", f"{statistics.median(r['per_stack_median'] for r in runs):.2f}",
                          f"{seconds / shared:.2f}", str(runs[0]["exit_code"]), str(runs[0]["mandatory"]))
            for error in runs[0]["errors"]:
                table.add_row("", f"  error: {error[:150]}", "", "", "", "", "", "", "", "", "")
        table.add_section()
    Console(width=220).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, nargs="*", default=[10, 100, 500], help="team counts to measure")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="worker processes of the parallel run")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions per configuration")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="the repository to measure (its platform_lib is imported)")
    parser.add_argument("--project", choices=("auto", "team-stack", "minimal"), default="auto", help="the team project")
    parser.add_argument("--no-policy", action="store_true", help="leave the policy gate out")
    parser.add_argument("--json-out", type=Path, help="also write every measurement to this JSON file (after each one)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        kind, root, count, jobs, policy = options.worker
        print(json.dumps(worker(kind, root, int(count), int(jobs), policy == "1")))
        return
    layout, results = measure(options.repo.resolve(), options.teams, options.jobs, options.repeat, options.project, not options.no_policy,
                              options.json_out)
    if options.json_out:
        options.json_out.write_text(json.dumps({"layout": layout, "results": results}, indent=1) + "\n")
    print_table(layout, results, options.jobs, not options.no_policy)


if __name__ == "__main__":
    main()
