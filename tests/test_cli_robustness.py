"""User mistakes the red-team review found exiting 1 (or after a whole preview): each is exit 2 with one clear message."""

from __future__ import annotations

import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from platform_lib.cli import EXIT_USER_ERROR, app
from platform_lib.core.errors import Issue
from platform_lib.policy.report import print_violations
from platform_lib.preview import ProjectError, load_stack

BUCKET_PROGRAM = """
    import pulumi_aws as aws

    aws.s3.Bucket("logs")
"""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "300", "NO_COLOR": "1"})


@pytest.mark.parametrize("option", ["--json", "--sarif", "--markdown"])
def test_an_unwritable_output_file_is_refused_before_the_preview(make_project, tmp_path, option):
    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for path, problem in ((blocker / "out.json", f"cannot be created: {blocker} is a file, not a directory"), (tmp_path, "is a directory")):
        result = invoke("preview", "--cwd", str(project), "--stack", "dev", option, str(path))
        assert result.exit_code == EXIT_USER_ERROR, result.output
        output = " ".join(result.output.split())
        assert f"error: {option} {path} {problem}; nothing was previewed" in output
        assert "Resources by type" not in output and "Traceback" not in output


def test_a_render_directory_that_is_a_file_is_refused_before_the_preview(make_project, tmp_path):
    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    (tmp_path / "k8s").write_text("")
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--render-k8s", str(tmp_path / "k8s"))
    assert result.exit_code == EXIT_USER_ERROR
    assert f"--render-k8s {tmp_path / 'k8s'} is a file, not a directory; nothing was previewed" in " ".join(result.output.split())


@pytest.mark.parametrize("content, expected", [
    ("- a\n- b\n", "expected a mapping of keys (such as 'config:'), got a list"),
    ("just text\n", "expected a mapping of keys (such as 'config:'), got a string"),
    ("config:\n  1: x\n", "config: the key 1 is not a string"),
    ("config: [a, b]\n", "config: expected a mapping of config keys to values, got a list"),
])
def test_a_stack_file_of_the_wrong_shape_is_a_user_error(make_project, content, expected):
    project = make_project(BUCKET_PROGRAM, {})
    (project / "Pulumi.dev.yaml").write_text(content)
    with pytest.raises(ProjectError, match=re.escape(f"Pulumi.dev.yaml: {expected}")):
        load_stack(project, "dev")
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR and "Traceback" not in result.output


def test_a_non_utf8_stack_file_and_a_list_shaped_project_file_are_user_errors(make_project):
    project = make_project(BUCKET_PROGRAM, {})
    (project / "Pulumi.dev.yaml").write_bytes(b"config:\n  team: caf\xe9\n")
    with pytest.raises(ProjectError, match=r"Pulumi.dev.yaml: not UTF-8 text \(byte 19: invalid continuation byte\)"):
        load_stack(project, "dev")
    (project / "Pulumi.yaml").write_text("- name: a\n")
    result = invoke("preview", "--cwd", str(project), "--stack", "dev")
    assert result.exit_code == EXIT_USER_ERROR
    assert "Pulumi.yaml: expected a mapping of keys (such as 'config:'), got a list" in " ".join(result.output.split())


def test_an_alias_bomb_is_refused_and_echoed_values_are_truncated(make_project):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(6)]
    project = make_project(BUCKET_PROGRAM, {})
    (project / "Pulumi.dev.yaml").write_text("bombs:\n" + "".join(f"  {line}\n" for line in levels) + "config: {}\n")
    with pytest.raises(ProjectError, match=r"Pulumi.dev.yaml: not valid YAML: its aliases expand to 12,345,689 values \(at most 100,000 are read\)"):
        load_stack(project, "dev")
    issue = str(Issue("mlplat:teams", ["x" * 10] * 1000, "a list of teams"))
    assert len(issue) < 300 and issue.endswith("… (14,000 characters in all); expected a list of teams")


@pytest.mark.parametrize("text", ["[/x]", "[secret]", "must match ^[a-z][a-z0-9-]*$", "[bold]not bold[/bold] :smile:"])
def test_brackets_in_policy_messages_print_as_they_are(text):
    console = Console(width=300, record=True, color_system=None)
    print_violations(console, [{"policy": f"p{text}", "level": "mandatory", "severity": "high", "message": text,
                                "urn": "urn:pulumi:s::p::t::n", "resource_name": f"n{text}", "resource_type": "t"}], pack=f"/packs/{text}")
    output = console.export_text()
    for shown in (text, f"p{text}", f"n{text}", f"/packs/{text}"):
        assert shown in output


def test_brackets_in_user_values_print_as_they_are(make_project):
    project = make_project(BUCKET_PROGRAM, {})
    result = invoke("preview", "--cwd", str(project), "--stack", "[/x]")
    assert result.exit_code == EXIT_USER_ERROR
    assert "invalid stack name '[/x]'" in result.output


def test_a_program_whose_names_hold_markup_previews(make_project, tmp_path):
    project = make_project("""
        import pulumi
        import pulumi_aws as aws

        aws.s3.Bucket("logs[/x]", tags={"team": "[bold]a[/bold]"})
        pulumi.export("note", "[secret] [/]")
    """, {"dev": {}})
    (tmp_path / "p[").mkdir()  # an output file's directory must exist
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy", "--json", str(tmp_path / "p[/x].json"))
    assert result.exit_code == 0, result.output
    assert "logs[/x]" in result.output and "[secret] [/]" in result.output and "p[/x].json" in result.output
    assert json.loads((tmp_path / "p[/x].json").read_text())["outputs"]["note"] == "[secret] [/]"


# ---------------------------------------------------------------- review of the offline preview

def test_an_output_file_in_a_missing_directory_is_refused_before_the_preview(make_project, tmp_path):
    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    target = tmp_path / "missing" / "dir" / "plan.json"
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--json", str(target))
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    assert f"error: --json {target} cannot be created: the directory {target.parent} does not exist; nothing was previewed" in output
    assert "Resources by type" not in output and not (tmp_path / "missing").exists()


@pytest.mark.parametrize("target", ["/proc/version", "/sys/kernel/notes"])
def test_a_kernel_file_is_refused_as_an_output_before_the_preview(make_project, target):
    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--json", target)
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    assert f"error: --json {target} is a file of the kernel's /proc or /sys file system" in output
    assert "Resources by type" not in output and "Traceback" not in output


def test_an_output_file_that_cannot_be_opened_for_writing_is_refused_before_the_preview(make_project, tmp_path):
    import os

    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    fifo = tmp_path / "no-reader"
    os.mkfifo(fifo)  # opening it for writing fails at once (no reader), as a file that refuses writes does
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--json", str(fifo))
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    assert f"error: --json {fifo} cannot be opened for writing: " in output and "nothing was previewed" in output


def test_an_existing_output_file_is_unchanged_by_the_check(make_project, tmp_path):
    project = make_project("import pulumi\nraise ValueError('boom')\n", {"dev": {}})
    target = tmp_path / "plan.json"
    target.write_text("earlier plan\n")
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy", "--json", str(target))
    assert result.exit_code == EXIT_USER_ERROR and target.read_text() == "earlier plan\n"


def test_a_write_failure_after_the_preview_is_a_user_error(make_project, tmp_path, monkeypatch):
    from platform_lib.preview import files

    def refuse(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_private_text", refuse)
    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    target = tmp_path / "plan.json"
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy", "--json", str(target))
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    assert f"error: --json {target} could not be written: No space left on device" in output and "Traceback" not in output


def test_a_duplicate_resource_name_is_a_user_error(make_project):
    project = make_project("""
        import pulumi_aws as aws

        aws.s3.BucketV2("x")
        aws.s3.BucketV2("x")
    """, {"dev": {}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "duplicate resource URN 'urn:pulumi:dev::team-project::aws:s3/bucketV2:BucketV2::x'" in " ".join(result.output.split())


@pytest.mark.parametrize("region, shown", [("[1, 2]", "'[1, 2]'"), ("mars-north-9", "'mars-north-9'")])
def test_an_unknown_aws_region_is_a_user_error(make_project, region, shown):
    project = make_project(BUCKET_PROGRAM, {"dev": {"aws:region": [1, 2] if region == "[1, 2]" else region}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    assert f"error: stack config: 1 problem - aws:region: got {shown}; expected an AWS region the AWS provider knows" in output
    assert "Traceback" not in output


def test_a_failed_program_still_shows_the_warnings_before_the_error(make_project):
    project = make_project("import pulumi\nraise ValueError('boom')\n", {"dev": {"team-project:token": {"secure": "v1:abc:def"}}})
    result = invoke("preview", "--cwd", str(project), "--stack", "dev", "--no-policy")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    warning = output.find("warning: config key 'team-project:token' is a secure value the offline preview cannot decrypt")
    assert 0 <= warning < output.find("boom")


def test_a_stack_name_with_a_path_is_refused(make_project):
    project = make_project(BUCKET_PROGRAM, {"dev": {}})
    result = invoke("preview", "--cwd", str(project), "--stack", "../myteam/dev")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    output = " ".join(result.output.split())
    assert "error: invalid stack name '../myteam/dev': expected a stack name of letters, digits" in output
    assert "Pulumi.." not in output
