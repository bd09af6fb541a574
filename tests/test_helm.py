"""Pinned Helm releases: the CHARTS pins match the vendored files, values are checked against the
chart's values.schema.json with errors at the JSON path, and pinned_release registers exactly the
pinned version with atomic upgrades."""

from __future__ import annotations

import json
import re

import pulumi
import pytest
import yaml

from platform_lib.core.errors import ComponentArgsError
from platform_lib.k8s.helm import (
    CHARTS,
    CHARTS_DIR,
    RELEASE_MAX_HISTORY,
    RELEASE_TIMEOUT_SECONDS,
    ChartSpec,
    chart_schema,
    is_exact_version,
    pinned_release,
    validate_chart_values,
)
from platform_lib.preview import PreviewError
from platform_lib.testing import find, find_all, preview

OTEL = CHARTS["opentelemetry-collector"]


def _sources_rows() -> dict[str, dict[str, str]]:
    """SOURCES.md's table, by file name."""
    rows = {}
    for line in (CHARTS_DIR / "SOURCES.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].endswith((".json", ".yaml")):
            file, chart, version, source, commit, licence, date = cells
            rows[file] = {"chart": chart, "version": version, "source": source, "commit": commit, "licence": licence, "date": date}
    return rows


# ---------------------------------------------------------------- the pins and the vendored files

@pytest.mark.parametrize("chart", [c for c in CHARTS.values() if c.schema], ids=lambda c: c.name)
def test_every_schema_is_the_one_of_the_pinned_version(chart):
    """The version pinned in CHARTS is the version its vendored values.schema.json came from."""
    rows = _sources_rows()
    assert chart.schema in rows, f"{chart.schema} has no row in charts/SOURCES.md"
    row = rows[chart.schema]
    assert (row["chart"], row["version"]) == (chart.name, chart.version)
    assert re.fullmatch(r"[0-9a-f]{40}", row["commit"]) and row["licence"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"])
    assert chart.version in row["source"] or row["commit"] in row["source"], "the source URL names the tag or commit of the pinned version"
    assert isinstance(chart_schema(chart), dict)
    chart_yaml = CHARTS_DIR / f"{chart.name}-{chart.version}.Chart.yaml"
    if chart_yaml.exists():  # vendored from the same tag as the schema: its version is the truth
        meta = yaml.safe_load(chart_yaml.read_text())
        assert (meta["name"], str(meta["version"])) == (chart.name, chart.version)


@pytest.mark.parametrize("path", sorted(CHARTS_DIR.glob("*.Chart.yaml")), ids=lambda p: p.name)
def test_every_vendored_chart_yaml_matches_a_pin(path):
    meta = yaml.safe_load(path.read_text())
    assert meta["name"] in CHARTS, f"{path.name} is of a chart the platform does not pin"
    assert str(meta["version"]) == CHARTS[meta["name"]].version, f"{path.name} is not the pinned version"
    assert path.name in _sources_rows()


def test_every_vendored_file_is_pinned_and_recorded():
    files = {p.name for p in CHARTS_DIR.iterdir() if p.name != "SOURCES.md"}
    schemas = {c.schema for c in CHARTS.values() if c.schema}
    assert {f for f in files if f.endswith(".values.schema.json")} == schemas
    assert files <= set(_sources_rows())
    for schema in schemas:
        json.loads((CHARTS_DIR / schema).read_text())


@pytest.mark.parametrize("version", ["1.2.3", "77.0.0", "v1.9.0", "0.170.0", "1.0.0-rc.1", "1.0.0+build.5"])
def test_exact_versions(version):
    assert is_exact_version(version)


@pytest.mark.parametrize("version", ["", None, "1.2", "^1.2.3", "~1.2.3", ">=1.2.3", "1.2.x", "*", "1.2.3 - 1.4", "latest", "01.2.3"])
def test_ranges_and_missing_versions_are_not_exact(version):
    assert not is_exact_version(version)


def test_a_chart_spec_refuses_a_range():
    with pytest.raises(ValueError, match=r"ChartSpec\(demo\)\.version: got '\^1\.2'; expected one exact chart version"):
        ChartSpec("demo", "^1.2", "https://charts.example.com")


def test_a_chart_spec_refuses_a_schema_of_another_version():
    with pytest.raises(ValueError, match=r"expected 'demo-1\.2\.3\.values\.schema\.json'"):
        ChartSpec("demo", "1.2.3", "https://charts.example.com", schema="demo-1.2.2.values.schema.json")


def test_a_chart_spec_refuses_a_plain_http_repository():
    with pytest.raises(ValueError, match="expected an https:// Helm repository URL or an oci:// registry"):
        ChartSpec("demo", "1.2.3", "http://charts.example.com")


# ---------------------------------------------------------------- values against the schema

def test_valid_values_pass():
    validate_chart_values(OTEL, {"mode": "deployment", "replicaCount": 2, "image": {"repository": "otel/opentelemetry-collector-k8s"}}, field="f")


def test_an_unknown_key_is_refused_at_its_path():
    with pytest.raises(ComponentArgsError) as caught:
        validate_chart_values(OTEL, {"mode": "deployment", "replicas": 2}, field="PlatformAddons(prod).otel_collector_values")
    (issue,) = caught.value.issues
    assert (issue.path, issue.value) == ("PlatformAddons(prod).otel_collector_values.replicas", 2)
    assert issue.expected == ("no such key: the chart allows no other keys here; did you mean replicaCount? "
                              "(values.schema.json of opentelemetry-collector 0.170.0)")
    assert "nothing was created" in str(caught.value)


def test_a_wrong_type_and_a_wrong_enum_are_each_refused_at_their_path():
    with pytest.raises(ComponentArgsError) as caught:
        validate_chart_values(OTEL, {"mode": "sidecar", "replicaCount": "two"}, field="v")
    issues = {issue.path: issue for issue in caught.value.issues}
    assert set(issues) == {"v.mode", "v.replicaCount"}
    assert issues["v.mode"].value == "sidecar"
    assert issues["v.mode"].expected.startswith("one of ['daemonset', 'deployment', 'statefulset', '']")
    assert issues["v.replicaCount"].expected.startswith("a value of JSON type integer")


def test_a_nested_error_names_the_nested_path():
    with pytest.raises(ComponentArgsError) as caught:
        validate_chart_values(OTEL, {"ports": {"otlp": {"enabled": "yes"}}}, field="v")
    assert [issue.path for issue in caught.value.issues] == ["v.ports.otlp.enabled"]


def test_required_keys_are_left_to_the_charts_defaults():
    """Helm checks the values merged over the chart's values.yaml, which sets mode and apiVersion."""
    validate_chart_values(OTEL, {}, field="v")


def test_an_output_leaf_is_skipped_but_its_keys_are_checked():
    def program():
        validate_chart_values(OTEL, {"image": {"repository": pulumi.Output.from_input("x")}}, field="v")
        with pytest.raises(ComponentArgsError):
            validate_chart_values(OTEL, {"imagex": pulumi.Output.from_input("x")}, field="v")

    preview(program)


def test_a_chart_without_a_schema_only_needs_a_mapping():
    validate_chart_values(CHARTS["metrics-server"], {"anything": True}, field="v")
    with pytest.raises(ComponentArgsError, match=r"v: got \['a'\]; expected a mapping of Helm values"):
        validate_chart_values(CHARTS["metrics-server"], ["a"], field="v")  # type: ignore[arg-type]


# ---------------------------------------------------------------- the release

def test_pinned_release_registers_the_pinned_version_with_atomic_upgrades():
    plan = preview(lambda: pinned_release("otel", OTEL, namespace="observability", values={"mode": "deployment"}, opts=pulumi.ResourceOptions()))
    release = find(plan, "kubernetes:helm.sh/v3:Release", "otel")
    inputs = release.inputs
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]) == (
        "opentelemetry-collector", "0.170.0", {"repo": "https://open-telemetry.github.io/opentelemetry-helm-charts"})
    assert (inputs["name"], inputs["namespace"], inputs["values"]) == ("opentelemetry-collector", "observability", {"mode": "deployment"})
    assert (inputs["atomic"], inputs["cleanupOnFail"], inputs["skipAwait"], inputs["skipCrds"], inputs["createNamespace"]) == (True, True, False, False, False)
    assert (inputs["timeout"], inputs["maxHistory"]) == (RELEASE_TIMEOUT_SECONDS, RELEASE_MAX_HISTORY)


def test_an_oci_chart_is_referenced_in_its_registry():
    chart = ChartSpec("demo", "1.2.3", "oci://registry.example.com/charts")
    plan = preview(lambda: pinned_release("demo", chart, namespace="demo", values={}, opts=pulumi.ResourceOptions(), release_name="demo-1"))
    inputs = find(plan, "kubernetes:helm.sh/v3:Release").inputs
    assert (inputs["chart"], inputs["version"], inputs.get("repositoryOpts"), inputs["name"]) == ("oci://registry.example.com/charts/demo", "1.2.3", None, "demo-1")


def test_bad_values_register_nothing():
    with pytest.raises(PreviewError) as caught:
        preview(lambda: pinned_release("otel", OTEL, namespace="o", values={"mode": "sidecar"}, opts=pulumi.ResourceOptions()))
    assert isinstance(caught.value.__cause__, ComponentArgsError)
    assert [i.path for i in caught.value.__cause__.issues] == ["otel.values.mode"]
    assert find_all(caught.value.plan, "kubernetes:helm.sh/v3:Release") == []


@pytest.mark.parametrize("release_name", ["Bad_Name", "x" * 54, ""])
def test_a_bad_release_name_is_refused(release_name):
    with pytest.raises(ComponentArgsError, match=r"otel\.release_name: got .*; expected a DNS label of at most 53 characters"):
        pinned_release("otel", OTEL, namespace="o", values={}, opts=pulumi.ResourceOptions(), release_name=release_name)
