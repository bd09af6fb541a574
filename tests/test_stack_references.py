"""Offline pulumi.StackReference (issue 11 part 5): the referenced stack's outputs from an outputs
file or from its own preview run first; secrets stay secret; cycles and unresolvable references
are user errors naming what to do. Fixtures: tests/fixtures/stack_references (a producer exporting
a secret and plain outputs, a consumer using get_output and require_output, two projects that
reference each other)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pytest
from typer.testing import CliRunner

from platform_lib.cli import app
from platform_lib.preview import PreviewError, run_preview, run_program
from platform_lib.preview.references import (
    StackKey,
    StackReferenceError,
    candidate_dirs,
    find_project,
    load_outputs_file,
    parse_outputs_option,
    parse_reference,
)
from platform_lib.testing import find, preview_project

FIXTURES = Path(__file__).parent / "fixtures" / "stack_references"
CONSUMER, PRODUCER = FIXTURES / "consumer", FIXTURES / "producer"
KUBECONFIG = "apiVersion: v1\nclusters: [] # token-s3cr3t-value"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250", "NO_COLOR": "1"})


def test_the_referenced_stack_is_previewed_first_and_its_secret_output_stays_secret():
    plan = preview_project(CONSUMER, "dev")
    copy = find(plan, "aws:s3/bucketObjectv2:BucketObjectv2", "kubeconfig-copy")
    assert copy.inputs["content"] == KUBECONFIG and copy.secret_inputs == ["content"]  # get_output of a secret output is secret
    assert copy.inputs["tags"] == {"cluster": "ml-dev"} and "tags" not in " ".join(copy.secret_inputs)  # a plain one is not
    assert plan.outputs["clusterName"] == "ml-dev" and plan.outputs["firstPool"] == "a10g"
    assert plan.secret_outputs == ["kubeconfig"]
    assert plan.masked_outputs()["kubeconfig"] == "[secret]"
    (reference,) = plan.stack_references
    assert (reference.name, reference.stack, reference.kind) == ("producer", "acme/ref-producer/dev", "preview")
    assert reference.source == f"preview of {PRODUCER.resolve()} (stack dev)"
    assert reference.output_names == ["clusterName", "gpuNodePools", "kubeconfig"] and reference.secret_names == ["kubeconfig"]
    assert plan.to_json()["stack_references"][0]["source"] == reference.source
    assert KUBECONFIG not in json.dumps(plan.to_json())


def test_a_plan_without_references_has_no_stack_references_key():
    plan = preview_project(PRODUCER, "dev")
    assert plan.stack_references == [] and "stack_references" not in plan.to_json()


def test_outputs_come_from_a_plan_file_written_by_mlplat_preview_json(tmp_path):
    plan_file = tmp_path / "producer.json"
    assert invoke("preview", "-C", str(PRODUCER), "--stack", "dev", "--no-policy", "--json", str(plan_file), "--show-secrets").exit_code == 0
    # The organization is ignored when matching: the file given for ref-producer/dev answers acme/ref-producer/dev.
    files = parse_outputs_option([f"ref-producer/dev={plan_file}"])
    from platform_lib.preview.references import ReferenceResolver

    plan, _ = run_preview(CONSUMER, "dev", references=ReferenceResolver(near=CONSUMER, files=files))
    (reference,) = plan.stack_references
    assert (reference.kind, reference.source) == ("file", f"file {plan_file}")
    copy = find(plan, "aws:s3/bucketObjectv2:BucketObjectv2")
    assert copy.inputs["content"] == KUBECONFIG and copy.secret_inputs == ["content"]

    result = invoke("preview", "-C", str(CONSUMER), "--stack", "dev", "--no-policy", "--stack-outputs", f"acme/ref-producer/dev={plan_file}")
    assert result.exit_code == 0, result.output
    assert "previewed first" not in result.output and f"file {plan_file}" in result.output
    assert "kubeconfig (secret)" in result.output and "s3cr3t" not in result.output


def test_a_masked_plan_file_gives_the_placeholder_and_a_note(tmp_path):
    plan_file = tmp_path / "producer.json"
    invoke("preview", "-C", str(PRODUCER), "--stack", "dev", "--no-policy", "--json", str(plan_file))
    outputs = load_outputs_file(plan_file, StackKey("ref-producer", "dev"))
    assert outputs.outputs["kubeconfig"] == "[secret]" and outputs.secret_names == ["kubeconfig"]
    assert "written without --show-secrets" in outputs.notes[0]
    result = invoke("preview", "-C", str(CONSUMER), "--stack", "dev", "--no-policy", "--stack-outputs", f"ref-producer/dev={plan_file}")
    assert result.exit_code == 0 and "written without --show-secrets" in result.output


def test_a_bare_object_of_outputs_has_no_secret(tmp_path):
    bare = tmp_path / "outputs.json"
    bare.write_text(json.dumps({"clusterName": "from-file", "kubeconfig": "plain", "gpuNodePools": [{"name": "t4"}]}))
    outputs = load_outputs_file(bare, StackKey("ref-producer", "dev"))
    assert outputs.secret_names == [] and outputs.outputs["clusterName"] == "from-file"
    from platform_lib.preview.references import ReferenceResolver

    plan, _ = run_preview(CONSUMER, "dev", references=ReferenceResolver(near=CONSUMER, files={StackKey("ref-producer", "dev"): bare}))
    assert plan.outputs["firstPool"] == "t4" and plan.secret_outputs == []


@pytest.mark.parametrize("content, expected", [("[1, 2]", "expected a JSON object"), ("{not json", "not a JSON document")])
def test_a_bad_outputs_file_exits_2_naming_it(tmp_path, content, expected):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = invoke("preview", "-C", str(CONSUMER), "--stack", "dev", "--no-policy", "--stack-outputs", f"ref-producer/dev={bad}")
    assert result.exit_code == 2 and expected in result.output and str(bad) in result.output.replace("\n", "")


@pytest.mark.parametrize("value, expected", [("ref-producer/dev", "expected NAME=FILE"), ("dev=x.json", "project/stack"),
                                             ("a/b/c/d=x.json", "expected organization/project/stack")])
def test_bad_stack_outputs_options_exit_2(value, expected):
    result = invoke("preview", "-C", str(CONSUMER), "--stack", "dev", "--no-policy", "--stack-outputs", value)
    assert result.exit_code == 2 and expected in " ".join(result.output.split())


def test_a_cycle_exits_2_naming_it():
    result = invoke("preview", "-C", str(FIXTURES / "cycle-a"), "--stack", "dev", "--no-policy")
    assert result.exit_code == 2
    assert "stack references form a cycle: ref-cycle-a/dev -> ref-cycle-b/dev -> ref-cycle-a/dev" in " ".join(result.output.split())
    with pytest.raises(StackReferenceError, match="cycle"):
        run_preview(FIXTURES / "cycle-a", "dev")


def test_an_unresolvable_reference_exits_2_naming_it_and_both_ways_to_resolve_it():
    result = invoke("preview", "-C", str(CONSUMER), "--stack", "elsewhere", "--no-policy")
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "cannot resolve pulumi.StackReference('acme/ref-nowhere/dev')" in text
    assert "--stack-outputs acme/ref-nowhere/dev=FILE" in text and "put the project 'ref-nowhere' beside this one" in text


def test_a_referenced_project_without_that_stack_exits_2():
    with pytest.raises(PreviewError) as caught:
        run_preview(CONSUMER, "dev", config_overrides={"ref-consumer:producer": "ref-producer/nosuch"})
    assert "has no stack 'nosuch' (stacks: dev, leaky)" in str(caught.value)


def test_require_output_of_an_absent_output_is_a_clear_user_error():
    result = invoke("preview", "-C", str(CONSUMER), "--stack", "missing", "--no-policy")
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "require_output('noSuchOutput'): the referenced stack exports no output 'noSuchOutput' (its outputs: clusterName, gpuNodePools, kubeconfig)" in text


def test_get_output_of_an_absent_output_is_none():
    plan = preview_project(CONSUMER, "dev")
    assert "absent" not in plan.outputs  # pulumi.export of None is left out


def test_the_referenced_stack_is_gated_too_and_blocks_the_command(tmp_path):
    markdown = tmp_path / "summary.md"
    result = invoke("preview", "-C", str(CONSUMER), "--stack", "leaky", "--markdown", str(markdown))
    assert result.exit_code == 3  # the producer's bucket has no public access block
    assert "Referenced stack ref-producer/leaky previewed first" in " ".join(result.output.split())
    assert "s3-bucket-companions" in result.output
    summary = markdown.read_text()
    assert "#### Stack references" in summary and "| `producer` | `ref-producer/leaky` | preview of" in summary
    assert re.search(r"\| [1-9]\d* mandatory, \d+ advisory \|$", summary.rstrip())


def test_the_clean_consumer_and_producer_pass_and_the_console_shows_the_reference():
    result = invoke("preview", "-C", str(CONSUMER), "--stack", "dev")
    assert result.exit_code == 0, result.output
    assert "Referenced stack ref-producer/dev previewed first" in " ".join(result.output.split())
    assert "Stack references" in result.output and "kubeconfig (secret)" in result.output and "s3cr3t" not in result.output


def test_a_program_run_without_a_project_refuses_a_reference_clearly():
    with pytest.raises(PreviewError) as caught:
        run_program(lambda: pulumi.export("x", pulumi.StackReference("acme/p/dev").get_output("x")))
    assert "no way to resolve stack references" in str(caught.value)


def test_reference_names_and_the_project_search():
    assert parse_reference("acme/ml-platform-cluster/prod", "x") == StackKey("ml-platform-cluster", "prod")
    assert parse_reference("ml-platform-cluster/prod", "x") == StackKey("ml-platform-cluster", "prod")
    assert parse_reference("prod", "ml-platform") == StackKey("ml-platform", "prod")
    with pytest.raises(StackReferenceError):
        parse_reference("a/../c", "x")
    dirs = candidate_dirs(CONSUMER)
    assert dirs[:2] == [CONSUMER.resolve(), FIXTURES.resolve()] and PRODUCER.resolve() in dirs
    assert find_project("ref-producer", CONSUMER) == PRODUCER.resolve()
    with pytest.raises(LookupError):
        find_project("ref-nowhere", CONSUMER)


def test_a_registered_mock_answer_wins_and_a_lookup_error_falls_back_to_the_resolver(monkeypatch):
    from platform_lib.preview import mocks

    def answer(context):
        if context.inputs["name"] != "acme/ref-producer/dev":
            raise LookupError(context.inputs["name"])
        return "x", {"outputs": {"clusterName": "mocked", "kubeconfig": "k", "gpuNodePools": [{"name": "m"}]}, "secretOutputNames": ["kubeconfig"]}

    monkeypatch.setitem(mocks._STATE_HANDLERS, "pulumi:pulumi:StackReference", answer)
    plan = preview_project(CONSUMER, "dev")
    assert plan.outputs["clusterName"] == "mocked" and plan.secret_outputs == ["kubeconfig"]
    assert plan.stack_references[0].kind == "mock"
    plan = preview_project(CONSUMER, "leaky")  # no mocked answer for ref-producer/leaky: previewed
    assert plan.outputs["clusterName"] == "ml-leaky" and plan.stack_references[0].kind == "preview"


def test_the_reference_and_where_its_outputs_came_from_fit_an_80_column_log():
    # Two no-wrap columns of fully qualified names used to squeeze "outputs from" and "outputs"
    # out of the table at the 80 columns of a CI log.
    # The shipped dev platform stack reads organization/ml-platform-cluster/dev.
    repo_root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(app, ["preview", "-C", str(repo_root), "--stack", "dev", "--no-policy"], catch_exceptions=False,
                                env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("Stack references"):]
    text = "".join(table.replace("│", " ").split())
    assert "previewof" in text and "kubeconfig(secret)" in text
