"""Rendering a plan's Kubernetes objects to YAML, and validating the staging and prod manifests.

Built-in kinds are validated with ``kubernetes-validate`` in strict mode (unknown fields are errors)
against two Kubernetes versions:

- 1.34, the oldest minor version in Amazon EKS standard support on this project's date (EKS gives
  each minor version 14 months of standard support; 1.34's ends on 2 December 2026, source: Amazon
  EKS user guide, "Kubernetes version lifecycle", and its release calendar), so the manifests must
  work on every cluster the platform may still run;
- 1.37, the newest schema set the installed ``kubernetes-validate`` ships, to catch an API removed
  in the versions the clusters will be upgraded to.

Custom resources (Argo Rollouts, Prometheus Operator) are checked against structural schemas
(``tests/crd_structure.py``), and the Rollout's pod template against the real ``PodTemplateSpec``.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from typer.testing import CliRunner

from platform_lib.cli import app
from platform_lib.preview import run_preview
from platform_lib.preview.plan import Plan, PlannedResource, ResourceOptionsRecord
from platform_lib.preview.render_k8s import MARKER_FILE, RenderError, api_version_and_kind, render_kubernetes, to_manifest
from platform_lib.testing import preview
from tests.conftest import REPO_ROOT
from tests.crd_structure import SCHEMAS

KUBERNETES_VERSIONS = ("1.34", "1.37")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[Path]]:
    """The manifests of the staging and prod team stacks, by environment, rendered once for the module."""
    from tests.team_stacks import preview_team, team_stacks

    result: dict[str, list[Path]] = {}
    for env in ("staging", "prod"):
        result[env] = []
        for stack in team_stacks(cloud="aws", env=env):
            plan, _ = preview_team(stack)
            result[env] += render_kubernetes(plan, tmp_path_factory.mktemp(stack))
    return result


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def validate_manifest(manifest: dict, version: str) -> str:
    """Validate one manifest; returns how ("schema" or "structure"). Raises on an invalid manifest."""
    key = (manifest["apiVersion"], manifest["kind"])
    if key in SCHEMAS:
        jsonschema.validate(manifest, SCHEMAS[key], cls=jsonschema.Draft202012Validator)
        if manifest["kind"] == "Rollout":
            pod_template = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": manifest["metadata"]["name"]}, "template": manifest["spec"]["template"]}
            kubernetes_validate.validate(pod_template, version, strict=True)
        return "structure"
    kubernetes_validate.validate(manifest, version, strict=True)
    return "schema"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_rendered_object_of_the_stack_is_valid(rendered, stack, version):
    how = {}
    for path in rendered[stack]:
        manifest = _load(path)
        how[path.name] = validate_manifest(manifest, version)
    kinds = {p.name.split("-")[0] for p in rendered[stack]}
    assert {"rollout", "analysistemplate", "service", "ingress", "horizontalpodautoscaler", "poddisruptionbudget", "servicemonitor", "prometheusrule"} <= kinds
    assert "schema" in how.values() and "structure" in how.values()


def test_prod_renders_the_fraud_detection_rollout_and_its_analysis(rendered):
    names = {p.relative_to(p.parent.parent).as_posix() for p in rendered["prod"]}
    assert "fraud/rollout-fraud-detector.yaml" in names
    assert "fraud/analysistemplate-fraud-detector-analysis.yaml" in names
    assert "search/deployment-query-embedder.yaml" in names
    rollout = _load(next(p for p in rendered["prod"] if p.name == "rollout-fraud-detector.yaml"))
    assert rollout["spec"]["strategy"]["canary"]["analysis"]["templates"] == [{"templateName": "fraud-detector-analysis"}]
    assert rollout["metadata"]["namespace"] == "fraud"


def test_an_invalid_object_is_caught_by_the_validation(rendered):
    """The check can fail: a misspelt field and a wrong step are rejected."""
    deployment = _load(next(p for p in rendered["prod"] if p.name.startswith("deployment-")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_manifest(deployment, "1.34")
    rollout = _load(next(p for p in rendered["prod"] if p.name.startswith("rollout-")))
    rollout["spec"]["strategy"]["canary"]["steps"].append({"setWeight": 120})
    with pytest.raises(jsonschema.ValidationError):
        validate_manifest(rollout, "1.34")
    rollout = _load(next(p for p in rendered["prod"] if p.name.startswith("rollout-")))
    rollout["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = "yes"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_manifest(rollout, "1.34")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("kubernetes:apps/v1:Deployment", ("apps/v1", "Deployment")),
        ("kubernetes:core/v1:Service", ("v1", "Service")),
        ("kubernetes:networking.k8s.io/v1:Ingress", ("networking.k8s.io/v1", "Ingress")),
        ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", ("autoscaling/v2", "HorizontalPodAutoscaler")),
        ("kubernetes:argoproj.io/v1alpha1:Rollout", ("argoproj.io/v1alpha1", "Rollout")),
        ("kubernetes:monitoring.coreos.com/v1:PrometheusRule", ("monitoring.coreos.com/v1", "PrometheusRule")),
    ],
)
def test_api_version_and_kind_come_from_the_type_token(token, expected):
    assert api_version_and_kind(token) == expected


def test_api_version_and_kind_rejects_other_tokens():
    with pytest.raises(ValueError):
        api_version_and_kind("aws:s3/bucket:Bucket")


def _program():
    provider = k8s.Provider("cluster", opts=pulumi.ResourceOptions())
    namespace = k8s.core.v1.Namespace("team", metadata={"name": "team-a", "labels": {"team": "a"}}, opts=pulumi.ResourceOptions(provider=provider))
    k8s.core.v1.ConfigMap("settings", metadata={"namespace": "team-a"}, data={"threshold": "0.5", "query": "sum(x)\n/ sum(y)"}, opts=pulumi.ResourceOptions(provider=provider, depends_on=[namespace]))


def test_render_writes_one_file_per_object_with_the_assigned_name(tmp_path):
    plan = preview(_program)
    written = render_kubernetes(plan, tmp_path)
    relative = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    config_map = next(r for r in plan.resources if r.type == "kubernetes:core/v1:ConfigMap")
    assigned = config_map.outputs["metadata"]["name"]
    assert assigned.startswith("settings-") and assigned != "settings"  # auto-named by the provider
    assert relative == ["_cluster/namespace-team-a.yaml", f"team-a/configmap-{assigned}.yaml"]
    manifest = _load(tmp_path / f"team-a/configmap-{assigned}.yaml")
    assert list(manifest)[:3] == ["apiVersion", "kind", "metadata"]
    assert (manifest["apiVersion"], manifest["kind"], manifest["metadata"]["name"]) == ("v1", "ConfigMap", assigned)
    assert manifest["data"] == {"query": "sum(x)\n/ sum(y)", "threshold": "0.5"}
    assert "uid" not in manifest["metadata"]
    assert "|" in (tmp_path / f"team-a/configmap-{assigned}.yaml").read_text()  # multi-line as a block
    for version in KUBERNETES_VERSIONS:
        for path in written:
            kubernetes_validate.validate(_load(path), version, strict=True)


def test_render_is_deterministic(tmp_path):
    plan = preview(_program)
    first = {p.name: p.read_text() for p in render_kubernetes(plan, tmp_path / "a")}
    second = {p.name: p.read_text() for p in render_kubernetes(preview(_program), tmp_path / "b")}
    assert first == second


def _planned(type_token: str, inputs: dict, outputs: dict | None = None, custom: bool = True) -> PlannedResource:
    return PlannedResource(urn=f"urn:pulumi:s::p::{type_token}::x", type=type_token, name="x", parent="", custom=custom, inputs=inputs, outputs=outputs or {}, id="", options=ResourceOptionsRecord())


def test_render_leaves_out_providers_components_and_unknowns(tmp_path):
    plan = Plan(
        project="p",
        stack="s",
        outputs={},
        resources=[
            _planned("pulumi:providers:kubernetes", {"kubeconfig": "x"}),
            _planned("kubernetes:yaml/v2:ConfigGroup", {}, custom=False),
            _planned("mlplat:k8s:ModelEndpoint", {}, custom=False),
            _planned("kubernetes:core/v1:ConfigMap", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n", "annotations": None}, "data": {"k": None, "j": "v"}}),
        ],
    )
    written = render_kubernetes(plan, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["n/configmap-a.yaml"]
    assert _load(written[0]) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"j": "v"}}


def test_render_refuses_two_objects_in_one_file(tmp_path):
    same = {"metadata": {"name": "a", "namespace": "n"}}
    plan = Plan(project="p", stack="s", outputs={}, resources=[_planned("kubernetes:core/v1:ConfigMap", same), _planned("kubernetes:core/v1:ConfigMap", same)])
    with pytest.raises(ValueError, match="same namespace, kind and name"):
        render_kubernetes(plan, tmp_path)


def _config_maps(*names: str, namespace: str = "n") -> Plan:
    resources = [
        PlannedResource(urn=f"urn:pulumi:s::p::kubernetes:core/v1:ConfigMap::{name}", type="kubernetes:core/v1:ConfigMap", name=name, parent="", custom=True,
                        inputs={"metadata": {"name": name, "namespace": namespace}}, outputs={}, id="", options=ResourceOptionsRecord())
        for name in names
    ]
    return Plan(project="p", stack="s", outputs={}, resources=resources)


@pytest.mark.parametrize(("name", "namespace"), [("../../../escaped", "n"), ("a/b", "n"), ("..", "n"), ("a", "../../escaped"), ("a", "n/m"), ("a", "/tmp")])
def test_render_refuses_a_name_or_namespace_that_is_not_a_kubernetes_name(tmp_path, name, namespace):
    out = tmp_path / "deep" / "out"
    with pytest.raises(RenderError, match="is not a Kubernetes DNS-1123 label|is no Kubernetes name"):
        render_kubernetes(_config_maps(name, namespace=namespace), out)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # nothing written, inside or out


def test_render_never_follows_a_link_out_of_its_directory(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    render_kubernetes(_config_maps("a", namespace="m"), out)
    outside.mkdir()
    (out / "n").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RenderError, match="outside the directory"):
        render_kubernetes(_config_maps("a"), out)
    assert list(outside.iterdir()) == []


def test_render_again_removes_the_manifests_of_objects_that_left_the_plan(tmp_path):
    render_kubernetes(_config_maps("a", "b"), tmp_path / "out")
    (tmp_path / "out" / "notes.txt").write_text("mine")
    render_kubernetes(_config_maps("a", namespace="m"), tmp_path / "out")
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == [MARKER_FILE, "m/configmap-a.yaml", "notes.txt"]  # n/ and its files are gone; the user's file stays


def test_render_refuses_a_directory_it_did_not_write(tmp_path):
    (tmp_path / "kept.yaml").write_text("mine")
    with pytest.raises(RenderError, match="not empty and was not written by --render-k8s"):
        render_kubernetes(_config_maps("a"), tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept.yaml"]


def test_render_refuses_a_marker_listing_a_file_outside_its_directory(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / MARKER_FILE).write_text('{"files": ["../victim.txt"]}')
    with pytest.raises(RenderError, match="outside the directory"):
        render_kubernetes(_config_maps("a"), tmp_path / "out")
    assert victim.read_text() == "keep me"


def test_cli_refuses_a_directory_it_did_not_write_before_the_preview(tmp_path):
    (tmp_path / "kept.txt").write_text("mine")
    result = CliRunner().invoke(app, ["preview", "--stack", "dev", "--cwd", str(REPO_ROOT), "--no-policy", "--render-k8s", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "was not written by --render-k8s" in result.output
    assert "Resources" not in result.output and "Previewing" not in result.output


def test_manifest_refuses_an_inconsistent_kind():
    with pytest.raises(ValueError, match="does not match the type token"):
        to_manifest(_planned("kubernetes:apps/v1:Deployment", {"kind": "StatefulSet", "metadata": {"name": "a"}}))


def test_cli_preview_render_k8s_writes_the_prod_manifests(tmp_path):
    from tests.team_stacks import stack_output_args

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["preview", "--stack", "fraud-prod", "--cwd", str(REPO_ROOT / "team-stack"), "--render-k8s", str(out), *stack_output_args()])
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml"))
    assert "fraud/rollout-fraud-detector.yaml" in files
    assert "fraud/analysistemplate-fraud-detector-analysis.yaml" in files
    assert f"({len(files)} objects)" in result.output
    for path in out.rglob("*.yaml"):
        validate_manifest(_load(path), KUBERNETES_VERSIONS[0])
