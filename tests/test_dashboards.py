"""The dashboards: every panel query parses as PromQL and names only metrics something exports.

Queries are parsed with ``promql-parser`` (the Rust parser of GreptimeDB's PromQL engine, Python
bindings); Grafana's ``$__rate_interval`` is replaced by a duration first, as Grafana does before
sending the query.
"""

from __future__ import annotations

import re

import promql_parser
import pytest

from platform_lib.k8s.dashboards import (
    RULE_METRICS,
    dashboard_uid,
    endpoint_dashboard,
    gpu_alert_rules,
    overview_dashboard,
    producers,
    recording_rules,
    team_dashboard,
)
from platform_lib.k8s.observability_spec import EndpointView, TeamView, UnitPrices

ENDPOINTS = [
    EndpointView(name="fraud-detector", namespace="fraud", team="fraud", progressive=True, drift=True),
    EndpointView(
        name="ranker",
        namespace="search",
        team="search",
        cloud="gcp",
        request_metric="ranker_requests_total",
        latency_metric="ranker_latency_seconds",
        quality_metric="ranker_ndcg",
        quality_objective=0.7,
    ),
]
TEAMS = [TeamView(name="fraud", monthly_budget_usd=5000, workspace=True), TeamView(name="search", namespace="search")]


def _dashboards() -> dict[str, dict]:
    found = {f"endpoint {e.name}": endpoint_dashboard(e) for e in ENDPOINTS}
    found.update({f"team {t.name}": team_dashboard(t, ENDPOINTS) for t in TEAMS})
    found["overview"] = overview_dashboard(ENDPOINTS, TEAMS)
    return found


def _expressions(model: dict) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and annotation of a dashboard model."""
    found = []
    for panel in model["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    for annotation in model.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            found.append((f"annotation {annotation['name']}", annotation["expr"]))
    return found


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (vector and matrix selectors, subqueries)."""
    tree = promql_parser.parse(expr.replace("$__rate_interval", "5m"))
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"a selector without a metric name in {expr!r}"
            names.add(node.name)

    promql_parser.walk(tree, visit)
    return names


def test_metric_names_come_from_the_parser():
    """The extraction itself: names inside functions, matrices, subqueries and binary operations."""
    expr = 'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y"}[$__rate_interval]))) / on () group_left b or sum_over_time(c[30d:1h]) + vector(1)'
    assert metric_names(expr) == {"a_bucket", "b", "c"}
    with pytest.raises(ValueError):
        metric_names("sum(rate(x[5m])")


EXPRESSIONS = [(name, where, expr) for name, model in _dashboards().items() for where, expr in _expressions(model)]


@pytest.mark.parametrize(("dashboard", "where", "expr"), EXPRESSIONS, ids=[f"{d}: {w}" for d, w, _ in EXPRESSIONS])
def test_every_query_names_only_produced_metrics(dashboard, where, expr):
    registry = producers(ENDPOINTS)
    missing = sorted(name for name in metric_names(expr) if name not in registry)
    assert missing == [], f"{dashboard} / {where}: no exporter or recording rule produces {missing}"


def test_a_metric_nobody_exports_is_caught():
    """The registry check can fail: an endpoint's own metric is unknown without the endpoint."""
    expr = endpoint_dashboard(ENDPOINTS[1])["panels"][1]["targets"][0]["expr"]
    assert "ranker_requests_total" in metric_names(expr)
    assert "ranker_requests_total" not in producers(ENDPOINTS[:1])


def test_every_recording_rule_series_is_registered_and_parses():
    spec = recording_rules(ENDPOINTS, TEAMS, UnitPrices())
    recorded = {rule["record"] for group in spec["groups"] for rule in group["rules"]}
    assert recorded == set(RULE_METRICS)
    registry = producers(ENDPOINTS)
    for group in spec["groups"]:
        for rule in group["rules"]:
            assert metric_names(rule["expr"]) <= set(registry) - set(RULE_METRICS), rule


def test_gpu_alerts_parse_and_read_dcgm():
    spec = gpu_alert_rules(idle_utilization_percent=10, idle_hours=2, memory_pressure_percent=95)
    rules = spec["groups"][0]["rules"]
    assert [metric_names(r["expr"]) for r in rules] == [{"DCGM_FI_DEV_GPU_UTIL"}, {"DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"}]
    assert "[2h]" in rules[0]["expr"] and rules[0]["expr"].endswith("< 10")
    assert rules[1]["expr"].endswith("> 95")


def test_endpoint_dashboard_has_the_asked_panels():
    model = endpoint_dashboard(ENDPOINTS[0])
    titles = [p["title"] for p in model["panels"]]
    for title in ("Request rate by track", "Error ratio (5xx) by track", "Latency p50 / p95 / p99", "model_precision against its objective",
                  "Replicas and autoscaler bounds", "Error ratio: stable", "Error ratio: canary", "Latency p99: stable", "Latency p99: canary"):
        assert title in titles
    latency = next(p for p in model["panels"] if p["title"] == "Latency p50 / p95 / p99")
    assert [t["expr"].split(",")[0] for t in latency["targets"]] == ["histogram_quantile(0.5", "histogram_quantile(0.95", "histogram_quantile(0.99"]
    assert latency["fieldConfig"]["defaults"]["thresholds"]["steps"][1] == {"color": "red", "value": 0.5}
    (annotation,) = model["annotations"]["list"]
    assert "annotation_mlplat_io_git_sha" in annotation["tagKeys"] and "annotation_mlplat_io_image_digest" in annotation["textFormat"]
    # Panel ids are unique, and stable endpoints have no canary row.
    assert len({p["id"] for p in model["panels"]}) == len(model["panels"])
    assert not any("canary" in p["title"] for p in endpoint_dashboard(ENDPOINTS[1])["panels"])


def test_team_dashboard_shows_budget_and_workspace_only_when_there_are_some():
    with_all = [p["title"] for p in team_dashboard(TEAMS[0], ENDPOINTS)["panels"]]
    plain = [p["title"] for p in team_dashboard(TEAMS[1], ENDPOINTS)["panels"]]
    assert "Spend against budget" in with_all and "Running notebook servers" in with_all
    assert "Spend against budget" not in plain and "Running notebook servers" not in plain
    assert "Quota used (requests)" in plain and "GPU utilisation by pod" in plain


def test_dashboard_uids_fit_grafana_and_differ():
    uids = [model["uid"] for model in _dashboards().values()]
    assert len(set(uids)) == len(uids)
    assert all(len(uid) <= 40 for uid in uids)
    assert dashboard_uid("endpoint", "a" * 63, "b" * 40) == dashboard_uid("endpoint", "a" * 63, "b" * 40)


def test_cost_rules_count_only_running_pods_of_team_namespaces():
    spec = recording_rules([], TEAMS, UnitPrices(vcpu_hour_usd=0.05, memory_gib_hour_usd=0.01, gpu_hour_usd=2))
    (group,) = spec["groups"]
    cpu = group["rules"][0]
    assert cpu["labels"] == {"resource": "cpu"} and cpu["expr"].endswith("* 0.05")
    assert 'namespace=~"fraud|search"' in cpu["expr"] and 'phase="Running"' in cpu["expr"]
    budgets = [r for r in group["rules"] if r["record"] == "mlplat:namespace_monthly_budget_usd"]
    assert budgets == [{"record": "mlplat:namespace_monthly_budget_usd", "expr": "vector(5000)", "labels": {"namespace": "fraud", "team": "fraud"}}]
    assert re.search(r"/ 1073741824 \* 0\.01$", group["rules"][1]["expr"])
