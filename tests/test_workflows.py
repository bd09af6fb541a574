"""The GitHub Actions workflows: valid against GitHub's workflow schema (the copy vendored in
check-jsonschema), and the pipeline's rules: pinned actions, explicit minimal permissions, a
protected prod environment, one deploy per stack at a time, previews of every stack."""

from __future__ import annotations

import copy
import fnmatch
import json
import re
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
    assert job["needs"] == "test"
    command = run_text(job)
    assert re.search(r"mlplat preview --stack \"\$\{\{ matrix\.stack \}\}\"", command)
    assert "--sarif" in command and "--markdown" in command and "$GITHUB_STEP_SUMMARY" in command
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


def test_real_pulumi_preview_only_with_credentials_and_never_for_a_fork(workflows):
    job = workflows["pull-request.yml"]["jobs"]["pulumi-preview"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    first, *rest = steps(job)
    assert first["id"] == "credentials" and "available=true" in first["run"]
    assert all(step.get("if") == "steps.credentials.outputs.available == 'true'" for step in rest)
    assert "pulumi preview --stack \"${{ matrix.stack }}\" --policy-pack policies" in run_text(job)
    assert sorted(job["strategy"]["matrix"]["stack"]) == SHIPPED_STACKS


def test_main_deploys_staging_then_prod_behind_the_protected_environment(workflows):
    workflow = workflows["deploy.yml"]
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["staging"]["needs"] == "test" and jobs["prod"]["needs"] == "staging"
    assert jobs["prod"]["environment"] == "production"
    assert jobs["staging"]["environment"] != "production"
    assert "pulumi up --stack staging --policy-pack policies --yes" in run_text(jobs["staging"])
    assert "pulumi up --stack prod --policy-pack policies --yes" in run_text(jobs["prod"])
    # Rolling back = running the workflow by hand with a known-good commit.
    assert workflow["on"]["workflow_dispatch"]["inputs"]["ref"]["required"] is True
    for job in jobs.values():
        checkout = next(s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["ref"] == "${{ inputs.ref || github.sha }}"


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
    assert {"pulumi-ml-platform-staging", "pulumi-ml-platform-prod", "pulumi-static-site-example-prod"} <= set(groups)


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
