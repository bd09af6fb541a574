"""Team request files (teams/<team>.yaml): validation across files, the schema, `mlplat team new`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from platform_lib.cli import app
from platform_lib.platform.teams import (
    NEW_TEAM_BUDGET_USD, RequestError, load_requests, request_json_schema, scaffold_request, split_stack_name,
)

from .conftest import REPO_ROOT


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the repository's request files and shared stack files."""
    for directory in ("teams", "stacks", ".github"):
        shutil.copytree(REPO_ROOT / directory, tmp_path / directory)
    return tmp_path


def edit(repo: Path, team: str, change) -> None:
    path = repo / "teams" / f"{team}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def problems(repo: Path) -> list[str]:
    with pytest.raises(RequestError) as caught:
        load_requests(repo)
    return [str(issue) for issue in caught.value.issues]


def test_the_shipped_request_files_are_valid_and_name_the_team_stacks():
    requests = load_requests(REPO_ROOT)
    assert sorted(requests.requests) == ["fraud", "recsys", "risk", "search"]
    assert "fraud-prod" in requests.stacks() and "risk-prod" in requests.stacks() and "risk-dev" not in requests.stacks()
    assert requests.requests["fraud"].environments["prod"].budget.monthly_usd == 20000
    # GPU boxes and endpoints belong to the file's team without saying so.
    assert requests.requests["fraud"].environments["dev"].gpu_boxes[0].team == "fraud"
    assert requests.requests["search"].environments["prod"].endpoints[0].team == "search"


def test_a_bad_value_names_the_file_and_the_key(repo):
    edit(repo, "fraud", lambda d: d["environments"]["prod"]["quota"].update(gpu=-1))
    assert problems(repo) == ["teams/fraud.yaml: environments.prod.quota.gpu: got -1; expected a number at least 0"]


def test_a_grant_to_an_unknown_team_names_the_file_and_key(repo):
    edit(repo, "fraud", lambda d: d["environments"]["prod"]["buckets"][0]["grants"][0].update(team="riks"))
    assert problems(repo) == [
        "teams/fraud.yaml: environments.prod.buckets[0].grants[0].team: got 'riks'; expected a team with a request file in teams/ (fraud, recsys, risk, search)"
    ]


def test_a_grant_to_a_team_without_that_environment_is_refused(repo):
    # risk has a prod section only
    edit(repo, "search", lambda d: d["environments"]["dev"]["buckets"][0]["grants"][0].update(team="risk"))
    (problem,) = problems(repo)
    assert problem.startswith("teams/search.yaml: environments.dev.buckets[0].grants[0].team: got 'risk'; expected a team with a dev section")


def test_a_quota_above_the_clusters_share_is_refused(repo):
    edit(repo, "recsys", lambda d: d["environments"]["prod"]["quota"].update(gpu=20))
    assert problems(repo) == [
        "teams/recsys.yaml: environments.prod.quota.gpu: got 20; expected at most 16 GPUs, the cluster's share per team in prod "
        "(50% of its 32 GPUs, teams/_platform.yaml)"
    ]


def test_a_gpu_workspace_profile_without_gpu_quota_is_refused(repo):
    edit(repo, "search", lambda d: d["environments"]["dev"].update(workspace={"profiles": [{"name": "gpu-1", "cpu": 2, "memoryGib": 8, "gpu": 1}]}))
    assert problems(repo) == [
        "teams/search.yaml: environments.dev.workspace.profiles[0].gpu: got 1; expected 0: the team's quota has no GPU "
        "(environments.dev.quota.gpu is 0); ask for GPUs in the quota first"
    ]


@pytest.mark.parametrize("budget, expected", [
    ({"monthlyUsd": 0}, "teams/risk.yaml: environments.prod.budget.monthlyUsd: got 0; expected a number greater than 0 USD"),
    (None, "teams/risk.yaml: environments.prod.budget: got <missing>; expected a value (this key is required)"),
])
def test_a_budget_of_zero_or_none_is_refused(repo, budget, expected):
    def change(document):
        if budget is None:
            del document["environments"]["prod"]["budget"]
        else:
            document["environments"]["prod"]["budget"] = budget
    edit(repo, "risk", change)
    assert problems(repo) == [expected]


def test_an_unknown_environment_and_a_foreign_team_are_refused(repo):
    def change(document):
        document["environments"]["qa"] = document["environments"]["dev"]
        document["environments"]["dev"]["gpuBoxes"][0]["team"] = "search"
    edit(repo, "fraud", change)
    found = problems(repo)
    assert "teams/fraud.yaml: environments.dev.gpuBoxes[0].team: got 'search'; expected 'fraud' (the file's team) or no value: a team requests only its own gpuBoxes" in found
    assert "teams/fraud.yaml: environments.qa: got 'qa'; expected an environment of teams/_platform.yaml (dev, staging, prod, gcp-dev)" in found


def test_shared_stack_checks_apply_at_the_request_keys(repo):
    # An endpoint's peak above the team's quota: the shared stack's own check, at the file's key.
    edit(repo, "search", lambda d: d["environments"]["prod"]["endpoints"][0]["autoscaling"].update(maxReplicas=200))
    found = problems(repo)
    assert "teams/search.yaml: environments.prod.endpoints: got '101 vCPU for team search (endpoints[0])'; expected at most the team's quota of 64 vCPU at peak (maxReplicas plus rollout surge)" in found
    assert all(p.startswith("teams/search.yaml: environments.prod.endpoints: got ") for p in found)


def test_every_file_problem_is_reported_at_once(repo):
    edit(repo, "risk", lambda d: d["environments"]["prod"]["budget"].update(monthlyUsd=-5))
    edit(repo, "search", lambda d: d["environments"]["prod"]["quota"].update(cpu=1000))
    found = problems(repo)
    assert [p.split(":")[0] for p in found] == ["teams/risk.yaml", "teams/search.yaml"]


def test_stack_names_split_on_the_longest_environment():
    environments = ["dev", "staging", "prod", "gcp-dev"]
    assert split_stack_name("fraud-gcp-dev", environments) == ("fraud", "gcp-dev")
    assert split_stack_name("credit-risk-prod", environments) == ("credit-risk", "prod")
    with pytest.raises(ValueError):
        split_stack_name("fraud-qa", environments)


# ---------------------------------------------------------------- the JSON schema


def test_the_checked_in_schema_is_the_models_schema():
    checked_in = json.loads((REPO_ROOT / "docs" / "teams.schema.json").read_text())
    assert checked_in == json.loads(json.dumps(request_json_schema())), "regenerate: mlplat team schema -o docs/teams.schema.json"


def test_the_schema_accepts_the_shipped_files_and_refuses_a_bad_one():
    schema = request_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    for path in (REPO_ROOT / "teams").glob("[!_]*.yaml"):
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text()))), path
    bad = yaml.safe_load((REPO_ROOT / "teams" / "risk.yaml").read_text())
    bad["environments"]["prod"]["budget"]["monthlyUsd"] = 0
    assert [list(e.absolute_path) for e in validator.iter_errors(bad)] == [["environments", "prod", "budget", "monthlyUsd"]]


# ---------------------------------------------------------------- mlplat team new


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250", "NO_COLOR": "1"})


def test_team_new_scaffolds_a_valid_file_with_safe_defaults_and_a_codeowners_entry(repo):
    result = invoke("team", "new", "payments", "--root", str(repo))
    assert result.exit_code == 0, result.output
    requests = load_requests(repo)
    section = requests.requests["payments"].environments["dev"]
    assert list(requests.requests["payments"].environments) == ["dev"]
    assert (section.quota.gpu, section.pod_security, section.budget.monthly_usd) == (0, "restricted", NEW_TEAM_BUDGET_USD)
    assert section.quota.cpu <= 4 and section.workspace.enabled and all(p.gpu == 0 for p in section.workspace.profiles)
    assert (repo / ".github" / "CODEOWNERS").read_text().splitlines()[-1] == "/teams/payments.yaml @org/payments-team"


def test_team_new_takes_the_owner_pattern_from_the_platform_file(repo):
    path = repo / "teams" / "_platform.yaml"
    path.write_text(path.read_text().replace('codeowners: "@org/{team}-team"', 'codeowners: "@acme/ml-{team}"'))
    assert invoke("team", "new", "payments", "--root", str(repo)).exit_code == 0
    assert (repo / ".github" / "CODEOWNERS").read_text().splitlines()[-1] == "/teams/payments.yaml @acme/ml-payments"


def test_team_new_refuses_an_existing_team(repo):
    before = (repo / ".github" / "CODEOWNERS").read_text()
    result = invoke("team", "new", "fraud", "--root", str(repo))
    assert result.exit_code == 2
    assert "teams/fraud.yaml exists already" in result.output
    assert (repo / ".github" / "CODEOWNERS").read_text() == before


@pytest.mark.parametrize("name", ["Payments", "pay_ments", "-pay", "x", "kube-team", "a" * 41])
def test_team_new_refuses_a_bad_name(repo, name):
    result = invoke("team", "new", "--root", str(repo), "--", name)
    assert result.exit_code == 2
    assert "expected a team name of 2-40 lowercase letters" in result.output
    assert not (repo / "teams" / f"{name}.yaml").exists()


def test_team_new_without_team_namespaces_scaffolds_no_workspace(repo):
    path, _ = scaffold_request(repo, "payments", environments=["gcp-dev"])
    assert yaml.safe_load(path.read_text())["environments"]["gcp-dev"]["workspace"] == {"enabled": False}
    load_requests(repo)


def test_team_check_reports_problems_with_exit_2(repo):
    edit(repo, "risk", lambda d: d["environments"]["prod"]["budget"].update(monthlyUsd=0))
    result = invoke("team", "check", "--root", str(repo))
    assert result.exit_code == 2
    assert "teams/risk.yaml: environments.prod.budget.monthlyUsd: got 0" in result.output


def test_a_team_whose_stack_name_reads_as_another_environment_is_refused(repo):
    # fraud-gcp in dev is the stack fraud-gcp-dev: the name of team fraud in gcp-dev.
    shutil.copy(repo / "teams" / "search.yaml", repo / "teams" / "fraud-gcp.yaml")
    edit(repo, "fraud-gcp", lambda d: [d["environments"].pop(env) for env in ("prod", "gcp-dev")])
    edit(repo, "fraud-gcp", lambda d: d["environments"]["dev"]["buckets"][0].update(name="fraud-gcp-corpus"))
    assert problems(repo) == ["teams/fraud-gcp.yaml: environments.dev: got 'dev'; expected an environment whose stack name fraud-gcp-dev reads back "
                              "as team 'fraud-gcp': it reads as team 'fraud' in 'gcp-dev'; rename the team"]


def test_a_request_file_that_is_a_symbolic_link_is_refused_and_never_read(repo, tmp_path):
    # A link in a pull request would print a file of the CI runner in the error.
    target = tmp_path / "runner.env"
    target.write_text("AWS_SECRET_ACCESS_KEY=SUPERSECRET\n")
    (repo / "teams" / "zz.yaml").symlink_to(target)
    found = problems(repo)
    assert found == ["teams/zz.yaml: got a symbolic link; expected a regular file (a link is never read)"]
    assert "SUPERSECRET" not in str(found)


def test_a_request_file_that_is_not_a_mapping_is_refused_without_echoing_it(repo):
    (repo / "teams" / "zz.yaml").write_text("GITHUB_TOKEN=ghp_SUPERSECRET\n")
    found = problems(repo)
    assert found == ["teams/zz.yaml: got a str (not shown); expected a mapping (identityGroup, environments)"]


@pytest.mark.parametrize("where", ["file", "environment"])
def test_a_system_identity_group_is_a_problem_at_its_key_not_a_crash(repo, where):
    if where == "file":
        edit(repo, "risk", lambda d: d.update(identityGroup="system:authenticated"))
        key = "identityGroup"
    else:
        edit(repo, "risk", lambda d: d["environments"]["prod"].update(identityGroup="system:masters"))
        key = "environments.prod.identityGroup"
    found = problems(repo)
    assert len(found) == 1 and found[0].startswith(f"teams/risk.yaml: {key}: got 'system:"), found
    assert "not a built-in Kubernetes 'system:' group" in found[0]


def test_a_yml_request_file_is_refused_not_silently_ignored(repo):
    shutil.copy(repo / "teams" / "risk.yaml", repo / "teams" / "data-eng.yml")
    assert problems(repo) == ["teams/data-eng.yml: got a .yml file; expected a request file named <team>.yaml (a .yml file is never read)"]
