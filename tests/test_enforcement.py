"""The enforcement environment is bound to the stack's name by the project, never chosen by the stack."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml
from typer.testing import CliRunner

from platform_lib.cli import EXIT_USER_ERROR, app
from platform_lib.policy.enforcement import enforcement_for, load_bindings
from platform_lib.policy.gate import PolicyGateError, config_file_for, shipped_pack_dir

BUCKET_PROGRAM = """
    import pulumi_aws as aws

    aws.s3.Bucket("logs", tags={"team": "a", "cost-center": "b", "environment": "dev", "managed-by": "pulumi"})
"""
PACK = shipped_pack_dir()


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "300", "NO_COLOR": "1"})


def versioning_level(project, stack, tmp_path):
    """Preview ``stack`` with the gate; the level of ``s3-bucket-versioning`` (advisory in dev, mandatory in prod) and the output."""
    plan_file = tmp_path / f"{stack}.json"
    result = invoke("preview", "--cwd", str(project), "--stack", stack, "--json", str(plan_file))
    assert result.exit_code in (0, 3), result.output
    violations = json.loads(plan_file.read_text())["violations"]
    return next(v["level"] for v in violations if v["policy"] == "s3-bucket-versioning"), " ".join(result.output.split())


def test_a_stack_named_prod_that_declares_dev_is_refused(make_project):
    project = make_project(BUCKET_PROGRAM, {"prod": {"mlplat:environment": "dev"}})
    result = invoke("preview", "--cwd", str(project), "--stack", "prod")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    assert "stack 'prod' declares mlplat:environment 'dev', but the default binding" in output and "binds it to 'prod'" in output
    assert "Resources by type" not in output  # refused before the program runs


def test_an_environment_that_is_a_path_never_loads_a_file(make_project, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "mine.json").write_text('{"all": "disabled"}')
    project = make_project(BUCKET_PROGRAM, {"prod": {"mlplat:environment": "../../x/mine"}, "qa": {"mlplat:environment": "../../x/mine"}})
    result = invoke("preview", "--cwd", str(project), "--stack", "prod")
    assert result.exit_code == EXIT_USER_ERROR
    assert "declares mlplat:environment '../../x/mine'" in " ".join(result.output.split())
    level, output = versioning_level(project, "qa", tmp_path)  # bound nowhere: prod levels, whatever it says
    assert level == "mandatory"
    assert "note: stack 'qa' is bound to no environment" in output and "judged at prod levels; its mlplat:environment says '../../x/mine'" in output
    with pytest.raises(PolicyGateError, match=r"environment '../../x/mine' is not an environment name"):
        config_file_for(PACK, "../../x/mine")


def test_stacks_are_judged_at_the_levels_their_binding_names(make_project, tmp_path):
    project = make_project(BUCKET_PROGRAM, {"dev": {}, "sandbox": {"mlplat:environment": "dev"}, "qa": {}})
    assert versioning_level(project, "dev", tmp_path)[0] == "advisory"  # default binding: the namesake environment
    level, output = versioning_level(project, "qa", tmp_path)
    assert level == "mandatory" and "note: stack 'qa' is bound to no environment" in output
    (project / "policies").mkdir()
    (project / "policies" / "environments.yaml").write_text("stacks:\n  sandbox: dev\n  qa: staging\n")
    level, output = versioning_level(project, "sandbox", tmp_path)
    assert level == "advisory" and "note:" not in output
    # The file replaces the default binding: 'dev' is not listed, so it is judged at prod levels.
    level, output = versioning_level(project, "dev", tmp_path)
    assert level == "mandatory" and "note: stack 'dev' is bound to no environment in" in output


def test_bindings_are_validated(tmp_path):
    (tmp_path / "policies").mkdir()
    bindings = tmp_path / "policies" / "environments.yaml"
    bindings.write_text("stacks:\n  prod: ../x/mine\n  'a/b': dev\nextra: 1\n")
    with pytest.raises(PolicyGateError) as error:
        load_bindings(tmp_path)
    message = str(error.value)
    assert "stacks.prod: got '../x/mine'; expected a string matching ^[a-z][a-z0-9-]*$" in message
    assert "stacks.a/b: got 'a/b'; expected a string matching ^[A-Za-z0-9_.-]{1,100}$" in message and "extra: got 1; expected no such key" in message
    bindings.write_text("stacks:\n  prod: qa\n")
    with pytest.raises(PolicyGateError, match=r"binds stacks to 'qa', but the policy pack .* has no config for it \(environments: dev, prod, staging\)"):
        enforcement_for("prod", {}, pack_dir=PACK, project_dir=tmp_path)
    bindings.write_text("stacks:\n  prod: prod\n  prod: dev\n")
    with pytest.raises(PolicyGateError, match=r"found duplicate key 'prod' \(first defined at line 2\)"):
        load_bindings(tmp_path)


def test_a_duplicate_key_in_a_stack_file_is_refused_with_the_key_and_line(make_project):
    project = make_project(BUCKET_PROGRAM, {})
    (project / "Pulumi.prod.yaml").write_text(textwrap.dedent("""\
        config:
          mlplat:environment: prod
          aws:region: us-east-1
          mlplat:environment: dev
    """))
    result = invoke("preview", "--cwd", str(project), "--stack", "prod")
    assert result.exit_code == EXIT_USER_ERROR
    output = " ".join(result.output.split())
    assert "Pulumi.prod.yaml: not valid YAML" in output and "found duplicate key 'mlplat:environment' (first defined at line 2)" in output
    assert "line 4, column 3" in output and "Traceback" not in output


def test_a_duplicate_key_in_the_project_file_is_refused(make_project):
    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    (project / "Pulumi.yaml").write_text("name: a\nruntime: python\nname: b\n")
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert "found duplicate key 'name' (first defined at line 1)" in " ".join(result.output.split())


def test_the_shipped_bindings_file_binds_every_shipped_stack():
    from .conftest import REPO_ROOT, SHIPPED_STACKS

    bindings = load_bindings(REPO_ROOT)
    assert bindings is not None and sorted(bindings.stacks) == SHIPPED_STACKS
    for stack, environment in bindings.stacks.items():
        declared = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]["mlplat:environment"]
        assert declared == environment
