"""``mlplat preview``: exit codes, the printed tree and counts, and the --json plan."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from platform_lib.cli import EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, app

from .conftest import SHIPPED_STACKS
from .team_stacks import stack_output_args, team_blocks

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_preview_of_each_shipped_stack_succeeds_and_writes_the_plan(repo_root, tmp_path, stack):
    plan_file = tmp_path / "plan.json"
    result = invoke("preview", "--cwd", str(repo_root), "--stack", stack, "--json", str(plan_file))
    assert result.exit_code == 0, result.output
    assert f"pulumi:pulumi:Stack  ml-platform-{stack}" in result.output
    assert "Resources by type" in result.output and "Stack outputs" in result.output
    plan = json.loads(plan_file.read_text())
    assert plan["stack"] == stack and plan["project"] == "ml-platform"
    resources = plan["resources"]
    assert resources[0]["type"] == "pulumi:pulumi:Stack"
    urns = {r["urn"] for r in resources}
    for resource in resources[1:]:
        assert resource["parent"] in urns
        assert set(resource["options"]) >= {"protect", "retain_on_delete", "depends_on", "delete_before_replace", "aliases"}
    total = len(resources) - 1
    total_row = next(line for line in result.output.splitlines() if line.strip().startswith("total"))
    assert total_row.split()[-1] == str(total)
    environment = yaml.safe_load((repo_root / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]["mlplat:environment"]
    assert plan["outputs"]["environment"] == environment


def test_unknown_stack_exits_2_and_lists_stacks(repo_root):
    result = invoke("preview", "--cwd", str(repo_root), "--stack", "qa")
    assert result.exit_code == EXIT_USER_ERROR
    assert "unknown stack 'qa'" in result.output and "stacks: " in result.output
    assert "Traceback" not in result.output


def test_bad_config_exits_2_with_every_problem_and_registers_nothing(make_project, repo_root):
    stack_file = repo_root / "stacks" / "Pulumi.dev.yaml"
    config = yaml.safe_load(stack_file.read_text())["config"]
    config["mlplat:environment"] = "qa"
    config["mlplat:teams"] = team_blocks("dev")["mlplat:teams"]  # the shared composition still reads teams from config
    config["mlplat:teams"][0]["quota"]["gpu"] = -1
    project = make_project((repo_root / "stacks" / "__main__.py").read_text(), {"dev": config}, name="ml-platform")
    # --no-policy: with the gate, the stack dev declaring 'qa' is refused before the program runs.
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy")
    assert result.exit_code == EXIT_USER_ERROR
    assert "mlplat:environment: got 'qa'; expected one of 'dev', 'staging' or 'prod'" in result.output
    assert "mlplat:teams[0].quota.gpu: got -1; expected a number at least 0" in result.output
    assert "No resources were registered." in result.output
    assert "Traceback" not in result.output


def test_the_programs_own_exception_exits_2_with_the_programs_frames_only(make_project):
    project = make_project("""
        def check_budget():
            raise RuntimeError('a bug in the program')

        check_budget()
    """, {"dev": {}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert "error: the program of stack 'dev' raised RuntimeError: a bug in the program" in result.output
    assert f'File "{project / "__main__.py"}", line 3, in check_budget' in result.output
    assert "site-packages" not in result.output and "internal error" not in result.output


def test_a_bug_in_platform_lib_exits_1_with_its_traceback(make_project, monkeypatch):
    from platform_lib.preview import mocks

    def broken(self, length=8, salt=""):
        raise KeyError("a bug in the mocks")

    monkeypatch.setattr(mocks.MockContext, "digest", broken)
    project = make_project("import pulumi_aws as aws\naws.s3.Bucket('data')\n", {"dev": {}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy")
    assert result.exit_code == EXIT_INTERNAL_ERROR
    assert "internal error while running the program of stack 'dev'" in result.output
    assert "KeyError: 'a bug in the mocks'" in result.output and "platform_lib/preview/mocks.py" in result.output


def test_a_missing_config_key_exits_2_with_a_did_you_mean(make_project):
    project = make_project("import pulumi\npulumi.Config().require('bucketName')\n", {"dev": {"team-project:bucket_name": "x", "aws:region": "eu-west-1"}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert ("error: the program of stack 'dev' requires the config key 'team-project:bucketName', which Pulumi.dev.yaml "
            "does not set; did you mean 'team-project:bucket_name'?") in result.output
    assert "Traceback" not in result.output


def test_an_ill_typed_config_value_exits_2_and_a_secret_stays_masked(make_project):
    program = "import pulumi\nconfig = pulumi.Config()\nconfig.require_int('replicas')\n"
    project = make_project(program, {"dev": {"team-project:replicas": "three"}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert "error: the config key 'team-project:replicas' of stack 'dev' is 'three'; the program reads it as int" in result.output

    project = make_project(program.replace("require_int", "require_secret_int"), {"dev": {"team-project:replicas": {"secure": "v1:abc"}}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert "error: the config key 'team-project:replicas' of stack 'dev' is [secret]; the program reads it as int" in result.output


def test_a_component_error_raised_inside_apply_exits_2_with_its_message(make_project):
    project = make_project("""
        import pulumi_aws as aws
        from platform_lib.core.errors import ComponentArgsError, Issue

        bucket = aws.s3.Bucket("data")

        def check(name):
            raise ComponentArgsError("invalid arguments for Lake('data')", [Issue("Lake(data).bucket", name, "a name starting with 'fraud-'")])

        aws.s3.BucketPolicy("policy", bucket=bucket.bucket.apply(check), policy="{}")
    """, {"dev": {}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert "error: invalid arguments for Lake('data'): 1 problem" in result.output
    assert "Lake(data).bucket: got 'data-" in result.output and "expected a name starting with 'fraud-'" in result.output
    assert "Traceback" not in result.output and "never retrieved" not in result.output


def test_an_invoke_with_no_mocked_answer_exits_2_naming_it(make_project):
    project = make_project("import pulumi_aws as aws\naws.ec2.get_vpc(default=True)\n", {"dev": {}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert "error: the program calls the provider function 'aws:ec2/getVpc:getVpc', which the offline preview has no mocked answer for" in result.output


def test_nested_stack_outputs_are_printed_as_dotted_paths():
    from platform_lib.preview.report import flatten_outputs

    rows = flatten_outputs({"teams": {"fraud": {"namespace": "fraud", "buckets": {}}, "risk": {"roles": ["a", "b"]}}, "environment": "prod", "note": None})
    assert rows == [
        ("environment", "prod"),
        ("note", ""),
        ("teams.fraud.buckets", "{}"),
        ("teams.fraud.namespace", "fraud"),
        ("teams.risk.roles", '["a", "b"]'),
    ]


def test_stack_output_values_are_printed_verbatim_not_as_markup():
    from rich.console import Console

    from platform_lib.preview.plan import Plan
    from platform_lib.preview.report import outputs_table

    plan = Plan(project="p", stack="dev", resources=[], outputs={"member": "serviceAccount:p.svc.id.goog[fraud/trainer]", "[b]": "[bold]x"})
    console = Console(width=200, record=True)
    console.print(outputs_table(plan))
    text = console.export_text()
    assert "serviceAccount:p.svc.id.goog[fraud/trainer]" in text
    assert "[b]" in text and "[bold]x" in text


def test_prod_team_preview_shows_the_teams_workload_role(repo_root):
    for team in ("fraud", "recsys", "search", "risk"):
        result = invoke("preview", "--cwd", str(repo_root / "team-stack"), "--stack", f"{team}-prod", *stack_output_args())
        assert result.exit_code == 0, result.output
        assert "workloadRoleArn" in result.output and f"{team}-prod-workload" in result.output


def test_help_shows_the_secret_placeholder_rich_markup_would_swallow():
    # "[secret]" is rich markup syntax: unescaped, typer's help printed "shown as  everywhere".
    result = invoke("preview", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "are shown as [secret] everywhere" in text
    assert "by default they are [secret]" in text
