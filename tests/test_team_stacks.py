"""Team stacks (team-stack/, project ml-platform-team, stacks <team>-<env>): one request file in,
that team's stack out; moved resources keep their shared-stack URNs through aliases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from platform_lib.cli import app
from platform_lib.core.errors import ComponentArgsError
from platform_lib.platform.teams import RequestError
from platform_lib.preview import PreviewError, run_preview
from platform_lib.preview.project import load_stack

from .conftest import REPO_ROOT
from .team_stacks import cluster_references, preview_team, stack_output_args, team_blocks, team_config, team_stacks

NEW_TEAM_TYPES = {"pulumi:pulumi:Stack", "pulumi:providers:aws", "pulumi:providers:gcp", "mlplat:aws:TeamBudget", "mlplat:gcp:TeamBudget",
                  "mlplat:k8s:MlWorkspace", "mlplat:k8s:TeamObservability", "mlplat:k8s:DriftMonitor"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository's request files, team project and shared stacks."""
    for directory in ("teams", "stacks", "team-stack", ".github", "policies"):
        shutil.copytree(REPO_ROOT / directory, tmp_path / directory)
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def _preview(root: Path, stack: str):
    return run_preview(root / "team-stack", stack, references=cluster_references(root / "team-stack"))


# ---------------------------------------------------------------- one team per stack


def test_a_team_stack_needs_no_stack_file_and_holds_only_its_team():
    assert not list((REPO_ROOT / "team-stack").glob("Pulumi.*.*.yaml")) and not list((REPO_ROOT / "team-stack").glob("Pulumi.*-*.yaml"))
    settings = load_stack(REPO_ROOT / "team-stack", "risk-prod")
    assert settings.project == "ml-platform-team" and "mlplat:teams" not in settings.config
    plan, logs = preview_team("risk-prod")
    assert [r.inputs["metadata"]["name"] for r in plan.by_type("kubernetes:core/v1:Namespace")] == ["risk"]
    assert [r.name for r in plan.by_type("mlplat:aws:DataBucket")] == ["risk-reports-prod"]
    assert plan.outputs["team"] == "risk" and plan.outputs["environment"] == "prod"
    assert not [m for level, m in logs if level in ("warning", "error")]


def test_the_team_stack_reads_its_cluster_through_a_stack_reference():
    plan, _ = preview_team("fraud-prod")
    (provider,) = plan.by_type("pulumi:providers:kubernetes")
    assert "kubeconfig" in provider.secret_inputs
    assert all(r.options.provider.startswith(provider.urn) for r in plan.by_type("kubernetes:core/v1:Namespace"))
    role = next(r for r in plan.by_type("aws:iam/role:Role") if r.name == "fraud-workload")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"]["Federated"].startswith("arn:aws:iam::123456789012:oidc-provider/")
    assert role.inputs["name"] == "fraud-prod-workload"  # other teams' stacks grant to it by this name


def test_a_grant_to_another_team_goes_to_that_teams_role_by_name():
    # fraud-features-prod grants risk read under features/daily/ (teams/fraud.yaml); risk's role lives in risk-prod.
    plan, _ = preview_team("fraud-prod")
    policies = {p.name: p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy")}
    grant = policies["fraud-features-prod-risk-workload-read-features-daily"]
    assert grant.inputs["role"] == "risk-prod-workload"
    statements = {s["Sid"]: s for s in json.loads(grant.inputs["policy"])["Statement"]}
    assert statements["ReadObjects"]["Resource"].endswith("/features/daily/*")


def test_the_team_budget_and_cloud_provider_come_from_the_request_and_the_shared_stack():
    plan, _ = preview_team("fraud-prod")
    (budget,) = plan.by_type("aws:budgets/budget:Budget")
    assert float(budget.inputs["limitAmount"]) == 20000 and budget.inputs["limitUnit"] == "USD"
    assert plan.outputs["budget"]["monthlyUsd"] == 20000
    (provider,) = plan.by_type("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    gcp, _ = preview_team("fraud-gcp-dev")
    assert gcp.by_type("mlplat:gcp:TeamBudget") and not [r for r in gcp.resources if r.type.startswith("aws:")]


def test_every_team_stack_previews_and_passes_the_gate():
    for stack in team_stacks():
        result = CliRunner().invoke(app, ["preview", "-C", str(REPO_ROOT / "team-stack"), "-s", stack, *stack_output_args()],
                                    env={"COLUMNS": "200", "NO_COLOR": "1"})
        assert result.exit_code == 0, (stack, result.output)
        assert "Policies: no violations" in result.output, stack
        assert "bound to no environment" not in result.output  # team-stack/policies/environments.yaml binds <team>-<env>


# ---------------------------------------------------------------- bad input: file and key, nothing registered


def _edit(repo: Path, team: str, change) -> None:
    path = repo / "teams" / f"{team}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.mark.parametrize("team, change, expected", [
    ("fraud", lambda d: d["environments"]["prod"]["buckets"][0]["grants"][0].update(team="payments"),
     "teams/fraud.yaml: environments.prod.buckets[0].grants[0].team: got 'payments'; expected a team with a request file in teams/"),
    ("recsys", lambda d: d["environments"]["prod"]["quota"].update(cpu=400),
     "teams/recsys.yaml: environments.prod.quota.cpu: got 400.0; expected at most 256 vCPU, the cluster's share per team in prod"),
    ("risk", lambda d: d["environments"]["prod"].update(workspace={"profiles": [{"name": "gpu", "cpu": 2, "memoryGib": 8, "gpu": 1}]}),
     "teams/risk.yaml: environments.prod.workspace.profiles[0].gpu: got 1; expected 0: the team's quota has no GPU"),
    ("risk", lambda d: d["environments"]["prod"].pop("budget"),
     "teams/risk.yaml: environments.prod.budget: got <missing>; expected a value (this key is required)"),
])
def test_a_bad_request_fails_the_team_stack_naming_file_and_key_and_registers_nothing(repo, team, change, expected):
    _edit(repo, team, change)
    with pytest.raises(PreviewError) as caught:
        _preview(repo, f"{team}-prod")
    error = caught.value.__cause__
    assert isinstance(error, RequestError)
    assert any(str(issue).startswith(expected) for issue in error.issues), [str(i) for i in error.issues]
    assert [r.urn for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"] == []


def test_a_bad_request_exits_2_on_the_command_line(repo):
    _edit(repo, "risk", lambda d: d["environments"]["prod"]["budget"].update(monthlyUsd=0))
    result = CliRunner().invoke(app, ["preview", "-C", str(repo / "team-stack"), "-s", "risk-prod", "--no-policy", *stack_output_args()],
                                env={"COLUMNS": "250", "NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "teams/risk.yaml: environments.prod.budget.monthlyUsd: got 0; expected a number greater than 0" in result.output
    assert "No resources were registered." in result.output


@pytest.mark.parametrize("stack, expected", [
    ("payments-prod", "<team>-<environment> of a team with a request file in teams/ (fraud, recsys, risk, search); create one with: mlplat team new payments"),
    ("risk-dev", "a section for dev (the file has prod)"),
    ("fraud-qa", "a team stack name <team>-<environment> with an environment of teams/_platform.yaml"),
])
def test_a_stack_name_without_a_request_is_refused(stack, expected):
    with pytest.raises(PreviewError) as caught:
        preview_team(stack)
    assert expected in str(caught.value.__cause__)


def test_a_component_refusal_in_a_team_stack_registers_nothing(repo):
    # The request model accepts 0.5 vCPU; TeamNamespace refuses it (its default container limit is 1 vCPU).
    _edit(repo, "risk", lambda d: d["environments"]["prod"].update(quota={**d["environments"]["prod"]["quota"], "cpu": 0.5}, workspace={"enabled": False}))
    with pytest.raises(PreviewError) as caught:
        _preview(repo, "risk-prod")
    assert isinstance(caught.value.__cause__, ComponentArgsError)
    assert [i.path for i in caught.value.__cause__.issues] == ["TeamNamespace(risk).quota.cpu"]
    assert [r.urn for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"] == []


# ---------------------------------------------------------------- migration: aliases to the shared stack's URNs


def _old_urn(urn: str, project: str, stack: str) -> str:
    _, _, rest = urn.partition("::")  # drop urn:pulumi:<stack>
    _, _, rest = rest.partition("::")  # drop the project
    return f"urn:pulumi:{stack}::{project}::{rest}"


@pytest.mark.parametrize("stack", ["fraud-prod", "search-prod", "fraud-gcp-dev"])
def test_moved_resources_carry_aliases_to_their_urns_in_the_shared_stack(stack):
    team, env = team_config(stack).teams[0].name, team_config(stack).environment
    shared = {"fraud-prod": "prod", "search-prod": "prod", "fraud-gcp-dev": "gcp-dev"}[stack]
    plan, _ = preview_team(stack)
    # The shared stack as it was, with every team of the environment in it (their request files as its config).
    old, _ = run_preview(REPO_ROOT, shared, config_overrides=team_blocks(shared))
    old_urns = {r.urn for r in old.resources}
    stack_urn = next(r.urn for r in plan.resources if r.type == "pulumi:pulumi:Stack")
    def new(resource) -> bool:  # what the shared stack never had: the stack, providers, budget, workspace, own log bucket
        chain = resource.urn.split("::")[2]
        return any(token in chain for token in NEW_TEAM_TYPES | {"mlplat:aws:AccessLogBucket"}) or resource.name == "cluster-kubernetes"

    top_level = [r for r in plan.resources if r.parent == stack_urn and not new(r)]
    assert top_level
    for resource in top_level:
        # A top-level component or resource carries the alias; its children inherit it (the engine
        # derives their old URNs from their parent's), so every moved URN maps onto an old one.
        assert f"stack={shared} project=ml-platform" in resource.options.aliases, resource.urn
    moved = [r for r in plan.resources if not new(r)]
    assert len(moved) > len(top_level)
    assert [r.urn for r in moved if _old_urn(r.urn, "ml-platform", shared) not in old_urns] == []
    # And the old stack's resources of this team are all accounted for.
    team_old = {u for u in old_urns if f"::{team}" in u or f"::{team}-" in u}
    assert team_old <= {_old_urn(r.urn, "ml-platform", shared) for r in plan.resources}


def test_a_migrated_role_keeps_its_physical_name(repo):
    _edit(repo, "fraud", lambda d: d["environments"]["prod"]["migratedFrom"].update(workloadRoleName="fraud-workload-7c1e2a9"))
    plan, _ = _preview(repo, "fraud-prod")
    assert next(r for r in plan.by_type("aws:iam/role:Role") if r.name == "fraud-workload").inputs["name"] == "fraud-workload-7c1e2a9"
    # risk's stack grants fraud read-write under scores/: to the kept name.
    risk, _ = _preview(repo, "risk-prod")
    assert {p.inputs["role"] for p in risk.by_type("aws:iam/rolePolicy:RolePolicy")} >= {"fraud-workload-7c1e2a9"}


def test_without_migrated_from_nothing_is_aliased(repo):
    _edit(repo, "risk", lambda d: d["environments"]["prod"].pop("migratedFrom"))
    plan, _ = _preview(repo, "risk-prod")
    assert not [r.urn for r in plan.resources if any(a.startswith("stack=") for a in r.options.aliases)]


# ---------------------------------------------------------------- a new team: one file, previewed and gated alone


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250", "NO_COLOR": "1"})


def test_a_new_team_is_one_scaffolded_file_previewed_and_gated_alone_with_its_workspace_and_budget(repo, tmp_path):
    import subprocess

    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"], check=True)
    assert _invoke("team", "new", "payments", "--root", str(repo)).exit_code == 0
    changed = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout.split()
    assert sorted(changed[1::2]) == [".github/CODEOWNERS", "teams/payments.yaml"]  # one request file and its owner line

    listed = _invoke("team", "stacks", "--changed-since", "HEAD", "--json", "--root", str(repo))
    assert json.loads(listed.output) == ["payments-dev"]
    plans = tmp_path / "plans.json"
    result = _invoke("preview", "-C", str(repo), "--changed-since", "HEAD", "-j", "1", "--json", str(plans), *stack_output_args())
    assert result.exit_code == 0, result.output
    assert "1 stack(s): 1 pass, 0 blocked or failed; exit code 0." in result.output
    document = json.loads(plans.read_text())
    requested = [s for s in document["stacks"] if s["requested"]]
    assert [(s["project"], s["stack"]) for s in requested] == [("ml-platform-team", "payments-dev")]
    types = {r["type"] for r in requested[0]["plan"]["resources"]}
    assert {"mlplat:k8s:MlWorkspace", "mlplat:aws:TeamBudget", "mlplat:k8s:TeamNamespace"} <= types
    budget = next(r for r in requested[0]["plan"]["resources"] if r["type"] == "aws:budgets/budget:Budget")
    assert float(budget["inputs"]["limitAmount"]) == 200


def test_preview_teams_runs_each_teams_stacks_with_one_verdict():
    result = _invoke("preview", "-C", str(REPO_ROOT), "--teams", "risk,search", "-j", "1", "--no-policy", *stack_output_args())
    assert result.exit_code == 0, result.output
    for stack in ("risk-prod", "search-dev", "search-prod", "search-gcp-dev"):
        assert f"ml-platform-team/{stack}" in result.output
    assert "4 stack(s): 4 pass" in result.output


def test_preview_teams_refuses_an_unknown_team_and_a_bad_request(repo):
    result = _invoke("preview", "-C", str(REPO_ROOT), "--teams", "payments")
    assert result.exit_code == 2 and "--teams: got 'payments'; expected a team with a request file" in result.output
    _edit(repo, "risk", lambda d: d["environments"]["prod"]["quota"].update(gpu=-1))
    result = _invoke("preview", "-C", str(repo), "--all-teams")
    assert result.exit_code == 2 and "teams/risk.yaml: environments.prod.quota.gpu: got -1" in result.output


def test_changes_select_the_team_stacks_they_touch():
    from platform_lib.platform.teams import load_requests, stacks_for_changes

    requests = load_requests(REPO_ROOT)
    assert stacks_for_changes(requests, ["teams/risk.yaml", "README.md"]) == ["risk-prod"]
    assert stacks_for_changes(requests, ["stacks/Pulumi.staging.yaml"]) == ["fraud-staging", "recsys-staging"]
    assert stacks_for_changes(requests, ["teams/_platform.yaml"]) == requests.stacks()
    assert stacks_for_changes(requests, ["teams/gone.yaml", "docs/teams.md"]) == []


def test_the_team_workspace_follows_the_request_and_the_platform_file():
    plan, _ = preview_team("fraud-prod")
    assert plan.outputs["workspace"]["url"] == "https://fraud.notebooks.prod.ml.example.com"
    (release,) = plan.by_type("kubernetes:helm.sh/v3:Release")
    assert release.inputs["namespace"] == "fraud"
    values = release.inputs["values"]
    oauth = values["hub"]["config"]["GenericOAuthenticator"]
    assert oauth["allowed_groups"] == ["ml-fraud-engineers"] and oauth["client_id"] == "jupyterhub-fraud-prod"
    assert oauth["oauth_callback_url"] == "https://fraud.notebooks.prod.ml.example.com/hub/oauth_callback"
    assert [p["slug"] for p in values["singleuser"]["profileList"]] == ["cpu-small", "gpu-1"]  # teams/fraud.yaml
    assert values["cull"]["enabled"] and values["cull"]["timeout"] == 3600
    (workspace,) = plan.by_type("mlplat:k8s:MlWorkspace")
    assert workspace.options.protect and workspace.options.retain_on_delete  # prod: user volumes are stateful


def test_a_workspace_needs_the_environments_workspace_settings(repo):
    path = repo / "teams" / "_platform.yaml"
    document = yaml.safe_load(path.read_text())
    del document["environments"]["prod"]["workspace"]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(PreviewError) as caught:
        _preview(repo, "fraud-prod")
    assert "teams/_platform.yaml: environments.prod.workspace: got None; expected the workspaces' domain and identity provider of prod" in str(caught.value.__cause__)


# ---------------------------------------------------------------- policy bindings by stack-name pattern


def test_team_stacks_are_bound_to_their_environment_by_name_pattern(tmp_path):
    from platform_lib.policy.enforcement import enforcement_for
    from platform_lib.policy.gate import PolicyGateError, shipped_pack_dir

    pack = shipped_pack_dir()
    for stack, environment in (("fraud-prod", "prod"), ("fraud-gcp-dev", "dev"), ("credit-risk-staging", "staging"), ("search-dev", "dev")):
        found = enforcement_for(stack, {}, pack_dir=pack, project_dir=REPO_ROOT / "team-stack")
        assert (found.environment, found.note) == (environment, None), stack
    assert enforcement_for("fraud-qa", {}, pack_dir=pack, project_dir=REPO_ROOT / "team-stack").note  # unbound: prod levels, said
    # An exact entry wins over a pattern; a stack cannot pick its own environment.
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "environments.yaml").write_text('stacks: {fraud-prod: staging}\npatterns: {"*-prod": prod}\n')
    assert enforcement_for("fraud-prod", {}, pack_dir=pack, project_dir=tmp_path).environment == "staging"
    with pytest.raises(PolicyGateError):
        enforcement_for("risk-prod", {"mlplat:environment": "dev"}, pack_dir=pack, project_dir=tmp_path)
    (tmp_path / "policies" / "environments.yaml").write_text('patterns: {"../*": prod}\n')
    with pytest.raises(PolicyGateError):
        enforcement_for("risk-prod", {}, pack_dir=pack, project_dir=tmp_path)


def test_request_files_are_read_once_per_repository_state(repo):
    from platform_lib.platform.teams import load_requests

    first = load_requests(repo)
    assert load_requests(repo) is first
    _edit(repo, "risk", lambda d: d["environments"]["prod"]["budget"].update(monthlyUsd=3100))
    assert load_requests(repo).requests["risk"].environments["prod"].budget.monthly_usd == 3100
