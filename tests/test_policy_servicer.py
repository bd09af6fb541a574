"""The adapted Analyzer servicer (each request decoded once) answers exactly as pulumi_policy's stock one.

Both servicers run in this process on the same requests (the rule fixtures and their violating
mutations, the insecure program, every shipped stack, and small policies exercising the SDK's
not-applicable, unknown-value, disabled, remediate and async paths); their responses must be
equal message for message. One test also drives two real packs over gRPC, one per servicer.
"""

from __future__ import annotations

import time

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy import policy as policy_module
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from platform_lib.policy import servicer as servicer_module
from platform_lib.policy.environments import environment_policy_config
from platform_lib.policy.gate import PolicyGate, analyze_request, resolve_policy_config, run_gate, stack_resource
from platform_lib.policy.pack import PACK_NAME, build_policies
from platform_lib.policy.servicer import SharedPropertiesServicer, adaptation_problems, servicer_class, serving
from platform_lib.preview import load_stack, run_preview

from .conftest import REPO_ROOT, SHIPPED_STACKS
from .policy_fixtures import BASE, resource
from .test_policy_gate import INSECURE, PACK
from .test_policy_rules import CASES

STOCK = policy_module._PolicyAnalyzerServicer


def test_the_adapted_pulumi_policy_code_is_what_is_installed():
    # Fails when a pulumi_policy upgrade changes any function the adapted servicer replaces or calls:
    # re-read the new code, port the change to platform_lib/policy/servicer.py, then update the digests.
    assert adaptation_problems() == []


def test_a_changed_pulumi_policy_falls_back_to_the_stock_servicer(monkeypatch, capsys):
    monkeypatch.setitem(servicer_module.ADAPTED_SOURCES, "_PolicyAnalyzerServicer.Analyze", "0" * 64)
    assert servicer_class(True) is STOCK
    assert "_PolicyAnalyzerServicer.Analyze: source changed" in capsys.readouterr().err
    monkeypatch.undo()
    assert servicer_class(True) is SharedPropertiesServicer
    assert servicer_class(False) is STOCK


def test_the_switch_selects_the_servicer(monkeypatch):
    monkeypatch.setenv("MLPLAT_SHARED_PROPERTIES", "0")
    assert servicer_class() is STOCK
    monkeypatch.setenv("MLPLAT_SHARED_PROPERTIES", "1")
    assert servicer_class() is SharedPropertiesServicer


def test_serving_swaps_the_class_the_policy_pack_builds_and_restores_it():
    with serving(SharedPropertiesServicer):
        assert policy_module._PolicyAnalyzerServicer is SharedPropertiesServicer
    assert policy_module._PolicyAnalyzerServicer is STOCK


def _servicer(cls, policies, environment: str | None = "prod", document=None):
    servicer = cls(PACK_NAME, "0.0.1", policies, EnforcementLevel.MANDATORY)
    if document is None:
        document = environment_policy_config(environment)
    info = servicer.GetAnalyzerInfo(None, None)
    servicer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=resolve_policy_config(info, document)), None)
    servicer.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(stack="prod", project="ml-platform", tags={"owner": "platform"}), None)
    return servicer


def _both(policies, environment="prod", document=None):
    return _servicer(STOCK, policies, environment, document), _servicer(SharedPropertiesServicer, policies, environment, document)


def _request(subject) -> analyzer_pb2.AnalyzeRequest:
    properties = struct_pb2.Struct()
    properties.update(dict(subject.props))
    return analyzer_pb2.AnalyzeRequest(type=subject.type, properties=properties, urn=subject.urn, name=subject.name)


def _assert_same_answers(stock, adapted, requests, stack_request=None) -> int:
    """Every response equal; returns how many diagnostics there were (so a test can check it judged something)."""
    diagnostics = 0
    for request in requests:
        expected = stock.Analyze(request, None)
        assert adapted.Analyze(request, None) == expected, request.urn
        diagnostics += len(expected.diagnostics)
    if stack_request is not None:
        expected = stock.AnalyzeStack(stack_request, None)
        assert adapted.AnalyzeStack(stack_request, None) == expected
        diagnostics += len(expected.diagnostics)
    return diagnostics


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_rule_fixtures_and_their_violations_are_judged_the_same(environment):
    stock, adapted = _both(build_policies(), environment)
    subjects = [resource(t) for t in sorted(BASE)] + [resource(t, mutate, name=f"case-{i}") for i, (_, t, mutate, _) in enumerate(CASES)]
    requests = [_request(s) for s in subjects]
    stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type=r.type, properties=r.properties, urn=r.urn, name=r.name) for r in requests])
    assert _assert_same_answers(stock, adapted, requests, stack_request) >= len(CASES)


def _plan_requests(plan):
    by_urn = {r.urn: r for r in plan.resources}
    return ([analyze_request(r, by_urn) for r in plan.resources],
            analyzer_pb2.AnalyzeStackRequest(resources=[stack_resource(r, by_urn) for r in plan.resources]))


def test_the_insecure_program_is_judged_the_same():
    plan, _ = run_preview(INSECURE, "prod")
    stock, adapted = _both(build_policies(), "prod")
    requests, stack_request = _plan_requests(plan)
    assert _assert_same_answers(stock, adapted, requests, stack_request) >= 20


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stacks_are_judged_the_same(stack):
    from .team_stacks import team_blocks

    # The shared stack composing the environment's shipped teams: every kind of resource they make.
    plan, _ = run_preview(REPO_ROOT, stack, config_overrides=team_blocks(stack))
    environment = load_stack(REPO_ROOT, stack).config.get("mlplat:environment", stack)
    stock, adapted = _both(build_policies(), environment)
    requests, stack_request = _plan_requests(plan)
    assert len(requests) > 10
    _assert_same_answers(stock, adapted, requests, stack_request)


def _sdk_path_policies():
    """Policies that take every path of the stock handler's loop."""

    def reads_unknown(args, report):
        report(f"bucket {args.props['bucket']}")

    def not_applicable(args, report):
        args.not_applicable("only for tests")

    async def asynchronous(args, report):
        report(f"{args.resource_type} {args.name} protect={args.opts.protect} stack tags={dict(args.stack_tags)}")

    def configured(args, report):
        report(f"limit {args.get_config().get('limit')}")

    def stack_unknown(args, report):
        for r in args.resources:
            report(f"{r.name} parent={r.parent.name if r.parent else None} deps={[d.name for d in r.dependencies]} bucket={r.props['bucket']}", r.urn)

    def stack_counts(args, report):
        report(f"{len(args.resources)} resources")

    return [
        ResourceValidationPolicy("reads-unknown", "reads a value unknown during preview", validate=reads_unknown),
        ResourceValidationPolicy("not-applicable", "never applies", validate=not_applicable),
        ResourceValidationPolicy("asynchronous", "async validation", validate=asynchronous, enforcement_level=EnforcementLevel.ADVISORY),
        ResourceValidationPolicy("configured", "reads its config", validate=configured,
                                 config_schema=policy_module.PolicyConfigSchema(properties={"limit": {"type": "number", "default": 3}})),
        ResourceValidationPolicy("switched-off", "disabled by config", validate=reads_unknown),
        ResourceValidationPolicy("remediate-level", "remediate level is reported as mandatory", validate=configured),
        ResourceValidationPolicy("remediation-only", "has no validate", remediate=lambda args: None),
        StackValidationPolicy("stack-unknown", "stack policy reading an unknown", validate=stack_unknown),
        StackValidationPolicy("stack-counts", "stack policy", validate=stack_counts),
    ]


def test_the_sdk_paths_answer_the_same():
    document = {"switched-off": "disabled", "remediate-level": "remediate", "configured": {"limit": 7}}
    stock, adapted = _both(_sdk_path_policies(), document=document)
    known, unknown = struct_pb2.Struct(), struct_pb2.Struct()
    known.update({"bucket": "data"})
    unknown.update({"bucket": UNKNOWN_STRING_VALUE})
    parent = "urn:pulumi:prod::p::mlplat:aws:DataBucket::d"
    requests = [analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket", properties=props, urn=f"urn:pulumi:prod::p::aws:s3/bucket:Bucket::b{i}",
                                            name=f"b{i}", options=analyzer_pb2.AnalyzerResourceOptions(protect=bool(i), parent=parent))
                for i, props in enumerate((known, unknown))]
    stack_request = analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type="mlplat:aws:DataBucket", properties=known, urn=parent, name="d"),
        analyzer_pb2.AnalyzerResource(type="aws:s3/bucket:Bucket", properties=known, urn=requests[0].urn, name="b0", parent=parent, dependencies=[parent]),
        analyzer_pb2.AnalyzerResource(type="aws:s3/bucket:Bucket", properties=unknown, urn=requests[1].urn, name="b1", parent=parent),
    ])
    _assert_same_answers(stock, adapted, requests, stack_request)
    response = adapted.Analyze(requests[1], None)
    assert [d.policyName for d in response.diagnostics] == ["reads-unknown", "asynchronous", "configured", "remediate-level"]
    assert "can't run policy 'reads-unknown'" in response.diagnostics[0].message
    assert response.diagnostics[3].enforcementLevel == analyzer_pb2.MANDATORY
    assert {n.policy_name for n in response.not_applicable} == {"not-applicable", "remediation-only"}


def test_both_packs_over_grpc_give_the_same_violations(monkeypatch, policy_gate):
    plan, _ = run_preview(INSECURE, "prod")
    stack_config = load_stack(INSECURE, "prod").config
    monkeypatch.setenv("MLPLAT_SHARED_PROPERTIES", "0")
    with PolicyGate(PACK, project="ml-platform", stack="test") as stock_gate:
        stock = run_gate(plan, pack_dir=PACK, stack_config=stack_config, gate=stock_gate)
    adapted = run_gate(plan, pack_dir=PACK, stack_config=stack_config, gate=policy_gate)
    assert len(stock) >= 20 and adapted == stock


def test_the_shipped_pack_serves_the_adapted_servicer(policy_gate, tmp_path, monkeypatch):
    # The shipped pack says on stderr when it falls back to the stock servicer; the session's pack did not.
    assert not any("stock Analyzer servicer" in line for line in policy_gate._stderr)
    # A pack whose adaptation check fails does say so, and still answers.
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (pack / "__main__.py").write_text("from platform_lib.policy import servicer\n"
                                      "servicer.ADAPTED_VERSION = '0.0.0'\n"
                                      "from platform_lib.policy.pack import serve\nserve()\n")
    with PolicyGate(pack) as gate:
        assert gate.info.name == PACK_NAME
        for _ in range(100):  # the stderr reader thread may not have read the line yet
            if any("stock Analyzer servicer" in line for line in gate._stderr):
                break
            time.sleep(0.1)
        assert any("stock Analyzer servicer" in line for line in gate._stderr), gate._stderr


def test_a_policy_declaring_its_types_is_skipped_for_the_others():
    def always(args, report):
        report(f"saw {args.resource_type}")

    typed = ResourceValidationPolicy("typed", "declares the types it looks at", validate=always)
    setattr(typed, servicer_module.RESOURCE_TYPE_FILTER, lambda type_token: type_token.startswith("kubernetes:"))
    stock, adapted = _both([typed], document={})
    bucket = _request(resource("aws:s3/bucket:Bucket"))
    deployment = _request(resource("kubernetes:apps/v1:Deployment"))
    assert [d.message for d in adapted.Analyze(deployment, None).diagnostics] == ["declares the types it looks at\nsaw kubernetes:apps/v1:Deployment"]
    assert adapted.Analyze(deployment, None) == stock.Analyze(deployment, None)
    # The declaration is a promise that validate ignores the other types; this one breaks it, so only the stock servicer sees it report.
    assert len(stock.Analyze(bucket, None).diagnostics) == 1 and len(adapted.Analyze(bucket, None).diagnostics) == 0
