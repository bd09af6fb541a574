"""The GitHub Actions workflows: valid against GitHub's workflow schema (the copy vendored in
check-jsonschema), and the pipeline's rules: pinned actions, explicit minimal permissions, a
protected prod environment, one deploy per stack at a time, previews of every stack, secrets only
in approved environments and only in the steps that run Pulumi, no expression in a script, the
per-environment policy levels, and zizmor's audit (offline) with no finding at medium or above."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import subprocess
import sys
import sysconfig
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from .conftest import REPO_ROOT, SHIPPED_STACKS

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((REPO_ROOT / ".github" / "actions").glob("*/action.yml"))
WORKFLOW_IDS = [p.name for p in WORKFLOWS]
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
WRITE_SCOPES_ALLOWED = {"id-token", "security-events", "pull-requests"}


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML reads ``on:`` as the boolean True (YAML 1.1); GitHub reads YAML 1.2, where only
    true/false are booleans. This loader does the same as GitHub."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)


def vendored_schema(name: str) -> dict:
    return json.loads((resources.files("check_jsonschema.builtin_schemas.vendor") / f"{name}.json").read_text(encoding="utf-8"))


def schema_errors(document: dict, schema: dict) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def run_text(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


@pytest.fixture(scope="module")
def workflows() -> dict[str, dict]:
    return {p.name: load(p) for p in WORKFLOWS}


def test_the_pipeline_has_its_three_workflows():
    assert set(WORKFLOW_IDS) >= {"pull-request.yml", "deploy.yml", "static-site.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=WORKFLOW_IDS)
def test_workflow_is_valid_against_the_github_workflow_schema(path):
    assert schema_errors(load(path), vendored_schema("github-workflows")) == []


@pytest.mark.parametrize("path", ACTIONS, ids=[p.parent.name for p in ACTIONS])
def test_local_action_is_valid_against_the_github_action_schema(path):
    assert schema_errors(load(path), vendored_schema("github-actions")) == []


def test_the_schema_check_rejects_a_broken_workflow(workflows):
    broken = copy.deepcopy(workflows["deploy.yml"])
    broken["jobs"]["prod"]["runs-on"] = None
    broken["jobs"]["prod"]["enviroment"] = "production"  # misspelt key
    errors = schema_errors(broken, vendored_schema("github-workflows"))
    assert errors and any("jobs/prod" in e for e in errors)


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=WORKFLOW_IDS + [f"action:{p.parent.name}" for p in ACTIONS])
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version(path):
    found = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        match = USES_LINE.match(line)
        if not match:
            continue
        found += 1
        ref = match["ref"]
        if ref.startswith("./"):
            assert (REPO_ROOT / ref / "action.yml").is_file(), f"{path.name}: local action {ref} does not exist"
            continue
        assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned to a 40-hex commit SHA"
        assert re.match(r"^\s+#\s*v\d+(\.\d+)*\b", match["rest"]), f"{path.name}: {ref} has no '# vX.Y.Z' version comment"
    assert found


def test_one_pinned_sha_per_action_across_all_files():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS + ACTIONS:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = USES_LINE.match(line)
            if match and "@" in match["ref"] and not match["ref"].startswith("./"):
                action, sha = match["ref"].split("@")
                pins.setdefault(action, set()).add(sha)
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


@pytest.mark.parametrize("name", WORKFLOW_IDS)
def test_permissions_are_explicit_and_minimal(workflows, name):
    workflow = workflows[name]
    assert workflow.get("permissions") == {}, "the workflow default must grant nothing"
    for job_name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{name}:{job_name} must list its permissions"
        assert permissions.get("contents") == "read"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= WRITE_SCOPES_ALLOWED, f"{name}:{job_name} writes {writes - WRITE_SCOPES_ALLOWED}"
        if "id-token" in writes:
            assert any("configure-aws-credentials" in s.get("uses", "") for s in steps(job)), f"{name}:{job_name} asks for an OIDC token it never uses"
        if "pull-requests" in writes:
            assert any("sticky-pull-request-comment" in s.get("uses", "") for s in steps(job))
        if "security-events" in writes:
            assert any("upload-sarif" in s.get("uses", "") for s in steps(job))


def test_checkout_never_leaves_the_token_on_disk(workflows):
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            for step in steps(job):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step.get("with", {}).get("persist-credentials") is False, f"{name}:{job_name}"


def test_pull_request_runs_the_tests_after_a_hash_checked_install(workflows):
    job = workflows["pull-request.yml"]["jobs"]["test"]
    assert "python -m pytest -q" in run_text(job)
    assert any(s.get("uses") == "./.github/actions/setup" for s in steps(job))
    setup = load(REPO_ROOT / ".github" / "actions" / "setup" / "action.yml")
    assert "scripts/bootstrap" in "\n".join(s.get("run", "") for s in setup["runs"]["steps"])
    bootstrap = (REPO_ROOT / "scripts" / "bootstrap").read_text()
    hashed = bootstrap.index("--require-hashes -r requirements.lock")
    editable = bootstrap.index("--no-deps")
    assert hashed < editable and bootstrap[editable:].split("\n")[0].rstrip().endswith("-e .")


def test_pull_request_previews_every_stack_with_sarif_and_a_sticky_markdown_comment(workflows):
    job = workflows["pull-request.yml"]["jobs"]["offline-preview"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == SHIPPED_STACKS
    assert job["needs"] == ["test", "cluster-preview"]  # the cluster stacks are gated first
    preview = next(step for step in steps(job) if step.get("id") == "preview")
    assert preview["env"]["STACK"] == "${{ matrix.stack }}"
    command = preview["run"]
    assert '.venv/bin/mlplat preview --stack "$STACK"' in command
    assert '--sarif "mlplat-$STACK.sarif"' in command and '--markdown "mlplat-$STACK.md"' in command and "$GITHUB_STEP_SUMMARY" in command
    by_action = {s["uses"].split("@")[0]: s for s in steps(job) if "uses" in s}
    upload = by_action["github/codeql-action/upload-sarif"]
    assert upload["with"]["sarif_file"] == "mlplat-${{ matrix.stack }}.sarif"
    assert upload["with"]["category"].endswith("${{ matrix.stack }}")  # one SARIF run per stack
    comment = by_action["marocchino/sticky-pull-request-comment"]
    assert comment["with"]["path"] == "mlplat-${{ matrix.stack }}.md"
    assert comment["with"]["header"].endswith("${{ matrix.stack }}")  # updated in place, per stack
    for step in (upload, comment):
        assert step["if"].startswith("always()") and "github.event.pull_request.head.repo.full_name == github.repository" in step["if"]
    # The gate: the job fails when the preview failed, after the findings were published.
    last = steps(job)[-1]
    assert last["if"] == "steps.preview.outputs.exit-code != '0'" and "exit 1" in last["run"]


def _publishes_and_gates(job: dict, sarif: str, markdown: str, category: str) -> None:
    by_action = {s["uses"].split("@")[0]: s for s in steps(job) if "uses" in s}
    upload = by_action["github/codeql-action/upload-sarif"]
    assert upload["with"] == {"sarif_file": sarif, "category": category}
    comment = by_action["marocchino/sticky-pull-request-comment"]
    assert comment["with"] == {"header": category, "path": markdown}
    for step in (upload, comment):
        assert step["if"].startswith("always()") and "github.event.pull_request.head.repo.full_name == github.repository" in step["if"]
    last = steps(job)[-1]
    assert last["if"] == "steps.preview.outputs.exit-code != '0'" and "exit 1" in last["run"]


def test_cluster_stacks_are_previewed_and_gated_before_the_platform_and_team_stacks(workflows):
    jobs = workflows["pull-request.yml"]["jobs"]
    cluster = jobs["cluster-preview"]
    assert cluster["needs"] == "test"
    preview = next(step for step in steps(cluster) if step.get("id") == "preview")
    command = " ".join(preview["run"].replace("\\\n", " ").split())
    assert ".venv/bin/mlplat preview --cwd clusters --all-stacks --sarif mlplat-clusters.sarif --markdown mlplat-clusters.md" in command
    _publishes_and_gates(cluster, "mlplat-clusters.sarif", "mlplat-clusters.md", "mlplat-preview-clusters")
    # Every job that previews a stack reading the cluster waits for the cluster gate.
    assert "cluster-preview" in jobs["offline-preview"]["needs"] and "cluster-preview" in jobs["team-preview"]["needs"]


def test_the_team_matrix_is_built_from_the_changed_request_files(workflows):
    jobs = workflows["pull-request.yml"]["jobs"]
    matrix_job = jobs["team-matrix"]
    checkout = next(s for s in steps(matrix_job) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    changed = next(s for s in steps(matrix_job) if s.get("id") == "changed")
    assert changed["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    assert changed["run"].strip() == 'python3 scripts/team_stacks.py changed "$BASE_SHA" >> "$GITHUB_OUTPUT"'
    assert matrix_job["outputs"]["teams"] == "${{ steps.changed.outputs.teams }}"
    team = jobs["team-preview"]
    assert team["needs"] == ["test", "team-matrix", "cluster-preview"]
    assert team["if"] == "needs.team-matrix.outputs.teams != '[]'"
    assert team["strategy"]["matrix"]["team"] == "${{ fromJSON(needs.team-matrix.outputs.teams) }}"
    assert team["concurrency"]["group"] == "preview-team-${{ matrix.team }}-pr-${{ github.event.pull_request.number }}"
    _publishes_and_gates(team, "mlplat-team-${{ matrix.team }}.sarif", "mlplat-team-${{ matrix.team }}.md", "mlplat-preview-team-${{ matrix.team }}")


def _script_repository(tmp_path: Path) -> Path:
    repository = tmp_path / "repo"
    (repository / "scripts").mkdir(parents=True)
    (repository / "scripts" / "team_stacks.py").write_text((REPO_ROOT / "scripts" / "team_stacks.py").read_text())
    return repository


def test_the_matrix_step_lists_the_added_and_changed_request_files_or_every_team(workflows, tmp_path):
    """The step's own script in a clone of a small repository: a request file changed and one added
    are listed, a deleted one and other files are not; a change to teams/_platform.yaml lists every team."""
    changed = next(s for s in steps(workflows["pull-request.yml"]["jobs"]["team-matrix"]) if s.get("id") == "changed")
    repository = _script_repository(tmp_path)
    teams = repository / "teams"
    teams.mkdir()
    for name in ("_platform", "fraud", "risk", "search"):
        (teams / f"{name}.yaml").write_text("environments: {dev: {}}\n")
    git(repository, "init", "-q", "-b", "main")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "base")
    base = git(repository, "rev-parse", "HEAD")
    git(repository, "checkout", "-q", "-b", "change")
    (teams / "fraud.yaml").write_text("environments: {dev: {}, prod: {}}\n")
    (teams / "vision.yaml").write_text("environments: {dev: {}}\n")
    (teams / "search.yaml").unlink()
    (repository / "README.md").write_text("docs\n")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "change")

    def run_step() -> str:
        output = tmp_path / "output"
        output.write_text("")
        result = subprocess.run(["bash", "-e", "-c", changed["run"]], cwd=repository, capture_output=True, text=True,
                                env={**os.environ, "GITHUB_OUTPUT": str(output), "BASE_SHA": base})
        assert result.returncode == 0, result.stderr
        return output.read_text()

    assert run_step() == 'teams=["fraud","vision"]\n'
    (teams / "_platform.yaml").write_text("environments: {dev: {}, prod: {}}\n")
    git(repository, "commit", "-q", "-am", "platform")
    assert run_step() == 'teams=["fraud","risk","vision"]\n'
    git(repository, "checkout", "-q", "main")
    git(repository, "checkout", "-q", "-b", "nothing")
    (repository / "README.md").write_text("docs\n")
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "docs only")
    assert run_step() == "teams=[]\n"


def test_the_team_job_previews_each_environment_of_the_team_in_one_command(workflows, tmp_path):
    """The preview step's own script, with a stand-in mlplat that records its arguments."""
    preview = next(s for s in steps(workflows["pull-request.yml"]["jobs"]["team-preview"]) if s.get("id") == "preview")
    repository = _script_repository(tmp_path)
    (repository / "teams").mkdir()
    (repository / "teams" / "fraud.yaml").write_text("identityGroup: g\nenvironments:\n  dev: {}\n  staging: {}\n  prod: {}\n")
    bin_dir = repository / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    calls = tmp_path / "calls"
    (bin_dir / "mlplat").write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\nexit 3\n")
    (bin_dir / "mlplat").chmod(0o755)
    output, summary = tmp_path / "output", tmp_path / "summary"
    result = subprocess.run(["bash", "-e", "-c", preview["run"]], cwd=repository, capture_output=True, text=True,
                            env={**os.environ, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "TEAM": "fraud"})
    assert result.returncode == 0, result.stderr  # the gate is the last step, after the findings are published
    assert calls.read_text().split() == ["preview", "--cwd", "team-stack", "--stack", "fraud-dev", "--stack", "fraud-staging", "--stack", "fraud-prod",
                                         "--sarif", "mlplat-team-fraud.sarif", "--markdown", "mlplat-team-fraud.md", "--json", "plans-team-fraud.json"]
    assert output.read_text() == "exit-code=3\n"


def test_real_pulumi_preview_waits_for_an_approved_environment_and_never_runs_for_a_fork(workflows):
    job = workflows["pull-request.yml"]["jobs"]["pulumi-preview"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository && vars.AWS_PREVIEW_ROLE_ARN != ''"
    # It runs the pull request's own code with the backend's secrets: a reviewer approves first.
    assert job["environment"] == "cloud-preview"
    assert "env" not in job
    (pulumi,) = [step for step in steps(job) if "pulumi preview" in step.get("run", "")]
    assert set(pulumi["env"]) == {"STACK", "PULUMI_BACKEND_URL", "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}
    assert 'pulumi preview --stack "$STACK" --policy-pack policies --policy-pack-config "policies/config/$STACK.json"' in pulumi["run"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == [s for s in SHIPPED_STACKS if not s.startswith("gcp-")]  # AWS credentials only


def test_main_deploys_staging_then_prod_behind_the_protected_environment(workflows):
    workflow = workflows["deploy.yml"]
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    # Each environment's cluster stack first (issue 11): the platform stack reads its outputs.
    assert jobs["cluster-staging"]["needs"] == "test" and jobs["staging"]["needs"] == ["test", "cluster-staging"]
    assert jobs["cluster-prod"]["needs"] == ["test", "staging"] and jobs["prod"]["needs"] == ["test", "staging", "cluster-prod"]
    assert jobs["cluster-prod"]["environment"] == "production"
    assert jobs["prod"]["environment"] == "production"
    assert jobs["staging"]["environment"] != "production"
    assert "pulumi up --stack staging --policy-pack policies --policy-pack-config policies/config/staging.json --yes" in run_text(jobs["staging"])
    assert "pulumi up --stack prod --policy-pack policies --policy-pack-config policies/config/prod.json --yes" in run_text(jobs["prod"])
    # Rolling back = running the workflow by hand with a known-good commit of main.
    assert workflow["on"]["workflow_dispatch"]["inputs"]["ref"]["required"] is True
    # The requested ref is resolved and checked once; the deploy jobs check out that very commit.
    checkouts = {name: next(s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")) for name, job in jobs.items()}
    assert checkouts["test"]["with"]["ref"] == "${{ inputs.ref || github.sha }}"
    assert checkouts["test"]["with"]["fetch-depth"] == 0
    assert jobs["test"]["outputs"]["commit"] == "${{ steps.commit.outputs.sha }}"
    for name in ("cluster-staging", "staging", "cluster-prod", "prod"):
        assert checkouts[name]["with"]["ref"] == "${{ needs.test.outputs.commit }}"


def on_main_check(workflows) -> tuple[list[dict], dict]:
    job = workflows["deploy.yml"]["jobs"]["test"]
    return steps(job), next(step for step in steps(job) if step.get("id") == "commit")


def test_deploy_checks_that_the_commit_is_on_main_before_installing_anything(workflows):
    job_steps, check = on_main_check(workflows)
    assert job_steps.index(check) < next(i for i, step in enumerate(job_steps) if step.get("uses") == "./.github/actions/setup")


def git(cwd: Path, *args: str) -> str:
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env={**os.environ, **identity}).stdout.strip()


def test_deploy_refuses_a_commit_that_is_not_on_main(workflows, tmp_path):
    """The check step's own script, run in a clone as actions/checkout leaves it (fetch-depth 0:
    every branch under refs/remotes/origin): a commit of main (its head or an older one) passes and
    becomes the job's output; a commit of another branch, or a tag on one, is refused."""
    _, check = on_main_check(workflows)
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "commit", "-q", "--allow-empty", "-m", "first")
    older = git(origin, "rev-parse", "HEAD")
    git(origin, "commit", "-q", "--allow-empty", "-m", "second")
    head = git(origin, "rev-parse", "HEAD")
    git(origin, "checkout", "-q", "-b", "feature", older)
    git(origin, "commit", "-q", "--allow-empty", "-m", "not reviewed")
    feature = git(origin, "rev-parse", "HEAD")
    git(origin, "tag", "v-bad")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))

    def deploy_check(ref: str) -> tuple[subprocess.CompletedProcess, str]:
        git(clone, "checkout", "-q", "--detach", ref)
        output = tmp_path / f"output-{ref.replace('/', '-')}"
        output.write_text("")
        result = subprocess.run(["bash", "-e", "-c", check["run"]], cwd=clone, capture_output=True, text=True, env={**os.environ, "GITHUB_OUTPUT": str(output)})
        return result, output.read_text()

    for ref, sha in ((head, head), (older, older), ("origin/main", head)):
        result, output = deploy_check(ref)
        assert result.returncode == 0, result.stdout + result.stderr
        assert output == f"sha={sha}\n"
    for ref in (feature, "v-bad"):
        result, output = deploy_check(ref)
        assert result.returncode == 1 and output == ""
        assert f"::error::commit {feature} is not on main" in result.stdout


def test_every_prod_deploy_uses_the_production_environment(workflows):
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            if re.search(r"pulumi up .*--stack\s+\"?prod\b", run_text(job)):
                assert job.get("environment") == "production", f"{name}:{job_name} deploys prod without the protected environment"


def test_one_concurrency_group_per_stack_and_deploys_are_never_cancelled(workflows):
    groups: dict[str, str] = {}
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            up = re.search(r"pulumi up(?: --cwd (?P<cwd>\S+))? --stack (?P<stack>\w+)", run_text(job))
            if not up:
                continue
            project = yaml.safe_load((REPO_ROOT / (up["cwd"] or ".") / "Pulumi.yaml").read_text())["name"]
            concurrency = job.get("concurrency")
            assert isinstance(concurrency, dict), f"{name}:{job_name} has no concurrency group"
            assert concurrency["cancel-in-progress"] is False, f"{name}:{job_name} may be cancelled mid-deploy"
            assert concurrency["group"] == f"pulumi-{project}-{up['stack']}", f"{name}:{job_name}"
            assert groups.setdefault(concurrency["group"], f"{name}:{job_name}") == f"{name}:{job_name}", "two jobs deploy one stack"
    assert {"pulumi-ml-platform-staging", "pulumi-ml-platform-prod", "pulumi-static-site-example-prod",
            "pulumi-ml-platform-cluster-staging", "pulumi-ml-platform-cluster-prod"} <= set(groups)


def test_site_workflow_is_triggered_by_the_site_files(workflows):
    workflow = workflows["static-site.yml"]
    site_files = [p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "examples" / "static-site").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    for event in ("pull_request", "push"):
        patterns = workflow["on"][event]["paths"]
        for changed in [*site_files, "platform_lib/aws/static_site.py", "platform_lib/aws/invalidation.py"]:
            assert any(fnmatch.fnmatch(changed, pattern) for pattern in patterns), f"{event}: {changed} would not trigger the site workflow"
        assert not any(fnmatch.fnmatch("platform_lib/k8s/team_namespace.py", pattern) for pattern in patterns)
    assert workflow["jobs"]["deploy-dev"]["if"] == "github.event_name == 'push'"


def test_pulumi_cli_version_matches_the_locked_sdk(workflows):
    locked = re.search(r"^pulumi==(\S+)", (REPO_ROOT / "requirements.lock").read_text(), re.MULTILINE)[1]
    versions = {step["with"]["pulumi-version"] for workflow in workflows.values() for job in workflow["jobs"].values() for step in steps(job) if step.get("uses", "").startswith("pulumi/actions@")}
    assert versions == {locked}


# --- values reach scripts through env; secrets only where Pulumi runs, after approval -------------

EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def all_steps(workflows: dict[str, dict]):
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            for step in steps(job):
                yield f"{name}:{job_name}:{step.get('name') or step.get('uses') or step.get('id')}", job, step
    for path in ACTIONS:
        for step in load(path)["runs"].get("steps", []):
            yield f"action:{path.parent.name}:{step.get('name') or step.get('uses')}", {}, step


def test_no_expression_is_expanded_inside_a_script(workflows):
    """``${{ }}`` in ``run:`` is pasted into the script before the shell reads it, so a value such
    as a dispatch input can run code (template injection); values go through ``env:`` instead."""
    found = {where: EXPRESSION.findall(step["run"]) for where, _, step in all_steps(workflows) if "run" in step and EXPRESSION.search(step["run"])}
    assert found == {}


def test_secrets_reach_only_the_steps_that_run_pulumi_in_jobs_behind_an_environment(workflows):
    for name, workflow in workflows.items():
        assert "secrets." not in json.dumps(workflow.get("env", {})), name
        for job_name, job in workflow["jobs"].items():
            assert "secrets." not in json.dumps(job.get("env", {})), f"{name}:{job_name}: secrets in the job's env reach every step"
            for step in steps(job):
                if "secrets." in json.dumps(step):
                    where = f"{name}:{job_name}:{step.get('name')}"
                    assert re.search(r"^\s*pulumi (up|preview)\b", step.get("run", ""), re.MULTILINE), f"{where} does not run Pulumi"
                    assert set(re.findall(r"secrets\.(\w+)", json.dumps(step.get("env", {})))) == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}, where
                    assert job.get("environment"), f"{where}: secrets outside an environment are given before any approval"


def pulumi_commands(workflows):
    for name, workflow in workflows.items():
        for job_name, job in workflow["jobs"].items():
            for step in steps(job):
                command = " ".join(step.get("run", "").replace("\\\n", " ").split())
                for match in re.finditer(r"pulumi (?:up|preview)\b[^\n;&|]*", command):
                    yield f"{name}:{job_name}", job, step, match[0]


def test_every_pulumi_run_applies_the_policy_pack_at_its_stacks_levels(workflows):
    seen = 0
    for where, job, step, command in pulumi_commands(workflows):
        seen += 1
        stack = re.search(r"--stack \"?([\w$]+)\"?", command)[1]
        stacks = job["strategy"]["matrix"]["stack"] if stack == "$STACK" else [stack]
        if stack == "$STACK":
            assert step["env"]["STACK"] == "${{ matrix.stack }}", where
        pack = re.search(r"--policy-pack \"?(\S+?)\"?(?:\s|$)", command)
        config = re.search(r"--policy-pack-config \"?(\S+?)\"?(?:\s|$)", command)
        assert pack and config, f"{where}: {command}"
        for value in stacks:
            for path in (pack[1], config[1].replace("$STACK", value)):
                resolved = REPO_ROOT / path.replace("$GITHUB_WORKSPACE/", "")
                assert resolved.exists(), f"{where}: {path} does not exist for stack {value}"
            assert config[1].replace("$STACK", value).endswith(f"policies/config/{value}.json"), where
    assert seen == 7  # the cloud preview (a matrix), the staging and prod clusters, staging, prod, the site's dev and prod


def test_every_deploy_runs_in_an_environment(workflows):
    for where, job, _, command in pulumi_commands(workflows):
        if command.startswith("pulumi up"):
            assert job.get("environment"), f"{where} deploys with no environment"
    assert workflows["static-site.yml"]["jobs"]["deploy-dev"]["environment"] == "dev"


# --- zizmor, offline --------------------------------------------------------------------------

ZIZMOR_CONFIG = REPO_ROOT / ".github" / "zizmor.yml"
SEVERITY = {"Unknown": 0, "Informational": 1, "Low": 2, "Medium": 3, "High": 4}


def zizmor(target: Path, *options: str) -> list[dict]:
    """zizmor's findings for ``target`` (JSON v1), offline and with the auditor persona (it reports
    what the regular persona hides as possible false positives). No GitHub token reaches it."""
    executable = Path(sysconfig.get_path("scripts")) / "zizmor"
    if not executable.exists():
        pytest.fail("zizmor is not installed: it is in the test extra (pip install -e '.[test]')")
    environment = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")}
    result = subprocess.run(
        [str(executable), "--offline", "--no-progress", "--persona", "auditor", "--format", "json", *options, str(target)],
        capture_output=True, text=True, env=environment, timeout=120,
    )
    # Exit codes: 0 nothing found, 10-14 findings by highest severity; 1 and 2 are zizmor failing.
    assert result.returncode == 0 or 10 <= result.returncode <= 14, result.stderr
    return json.loads(result.stdout)


def described(finding: dict) -> str:
    location = finding["locations"][0]
    path = location["symbolic"]["key"]["Local"]["verbatim_path"]
    return f"{finding['determinations']['severity']} {finding['ident']} {path}:{location['concrete']['location']['start_point']['row'] + 1}"


@pytest.fixture(scope="module")
def findings_without_ignores() -> list[dict]:
    return zizmor(REPO_ROOT / ".github", "--no-ignores")


def test_zizmor_finds_nothing_at_medium_severity_or_above(findings_without_ignores):
    """With every ignore off (config and inline comments): a finding at medium or above is fixed, never accepted."""
    assert [described(f) for f in findings_without_ignores if SEVERITY[f["determinations"]["severity"]] >= SEVERITY["Medium"]] == []


def test_every_lower_zizmor_finding_is_accepted_in_the_config_with_a_reason(findings_without_ignores):
    assert zizmor(REPO_ROOT / ".github") == [], "a finding that is neither fixed nor accepted in .github/zizmor.yml"
    config = yaml.safe_load(ZIZMOR_CONFIG.read_text(encoding="utf-8"))
    accepted = {(rule, entry) for rule, settings in config["rules"].items() for entry in settings["ignore"]}
    found = {(f["ident"], Path(f["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]).name) for f in findings_without_ignores}
    assert accepted == found, "an ignore that matches no finding would hide the next one"
    # The reason: a comment right after each rule's `ignore:`.
    for rule in config["rules"]:
        assert re.search(rf"^  {re.escape(rule)}:\n    ignore:\n(      #.*\n)+", ZIZMOR_CONFIG.read_text(encoding="utf-8"), re.MULTILINE), f"{rule} has no reason"
    # No inline `# zizmor: ignore[...]`: every accepted finding is in the config, with its reason.
    for path in WORKFLOWS + ACTIONS:
        assert "zizmor: ignore" not in path.read_text(encoding="utf-8"), path.name


def test_zizmor_reports_a_template_injection_at_high_severity(tmp_path, workflows):
    """The audit above can fail: the old deploy step, with the dispatch input pasted into its
    script, is a high-severity template injection."""
    injected = copy.deepcopy(workflows["deploy.yml"])
    step = next(s for s in steps(injected["jobs"]["staging"]) if "pulumi up" in s.get("run", ""))
    step["run"] = step["run"].replace("$COMMIT", "${{ inputs.ref }}")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "deploy.yml").write_text(yaml.safe_dump(injected, sort_keys=False), encoding="utf-8")
    found = zizmor(tmp_path / ".github", "--no-ignores")
    assert ("template-injection", "High") in {(f["ident"], f["determinations"]["severity"]) for f in found}


def test_main_applies_each_environments_cluster_stack_before_its_platform_stack(workflows):
    """Issue 11: the platform stack reads the cluster stack's outputs, so the cluster job goes first."""
    jobs = workflows["deploy.yml"]["jobs"]
    for env in ("staging", "prod"):
        assert f"cluster-{env}" in jobs[env]["needs"]
        assert f"pulumi up --cwd clusters --stack {env} --policy-pack \"$GITHUB_WORKSPACE/policies\"" in run_text(jobs[f"cluster-{env}"])
        assert jobs[f"cluster-{env}"]["environment"] == jobs[env]["environment"]
