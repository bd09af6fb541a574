"""DriftMonitor: the registered CronJob, NetworkPolicy and PrometheusRule, and bad drift settings."""

from __future__ import annotations

import json

import pytest

from platform_lib.core.errors import ComponentArgsError
from platform_lib.drift import metrics
from platform_lib.drift.job import JobConfig
from platform_lib.k8s.drift_monitor import ALERTS, CONFIG_ENV, DriftMonitor, DriftSettings, schedule_period_seconds
from platform_lib.preview import PreviewError
from platform_lib.testing import find, preview

from .cases.drift_monitor import IMAGE, LABELS, _minimal

CRON = "kubernetes:batch/v1:CronJob"
RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _plan(**overrides):
    return preview(lambda: DriftMonitor("drift", {**_minimal(), **overrides}))


def _issues(**overrides) -> list[tuple[str, object, str]]:
    with pytest.raises(PreviewError) as caught:
        _plan(**overrides)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"] == []
    return [(issue.path, issue.value, issue.expected) for issue in error.issues]


def _pod(plan) -> dict:
    return find(plan, CRON).inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_cron_job_runs_the_drift_job_on_schedule_with_restricted_security():
    plan = _plan(schedule="15 */2 * * *", time_zone="Europe/Amsterdam")
    cron = find(plan, CRON)
    spec = cron.inputs["spec"]
    assert cron.inputs["metadata"]["name"] == "fraud-detector-drift" and cron.inputs["metadata"]["namespace"] == "fraud"
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("15 */2 * * *", "Europe/Amsterdam", "Forbid")
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 1800 and spec["jobTemplate"]["spec"]["backoffLimit"] == 2
    pod = _pod(plan)
    assert pod["serviceAccountName"] == "workload" and pod["restartPolicy"] == "Never"
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    (container,) = pod["containers"]
    assert container["image"] == IMAGE
    assert container["command"] == ["python", "-m", "platform_lib.drift.job"]
    assert container["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}]


def test_job_settings_reach_the_container_and_parse_as_the_job_reads_them():
    plan = _plan(feature_thresholds={"amount": 0.25}, window_hours=6, method="hellinger")
    env = {e["name"]: e["value"] for e in _pod(plan)["containers"][0]["env"]}
    assert env["DO_NOT_TRACK"] == "1"
    config = JobConfig.from_json(env[CONFIG_ENV])
    assert config == JobConfig(
        endpoint="fraud-detector", namespace="fraud", features=("amount", "merchant_category", "country"),
        reference_path="gs://fraud-data/reference/train.parquet", current_path="gs://fraud-data/inference/fraud-detector/",
        pushgateway_url="http://prometheus-pushgateway.monitoring.svc.cluster.local:9091", method="hellinger",
        feature_threshold=0.1, feature_thresholds={"amount": 0.25}, window_hours=6, timestamp_column="timestamp", min_rows=1000,
    )


def test_network_policy_lets_the_job_reach_only_the_pushgateway():
    spec = find(_plan(), POLICY).inputs["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "fraud-detector-drift", "app.kubernetes.io/component": "drift-monitor"}}
    assert spec["ingress"] == []
    assert spec["egress"] == [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}], "ports": [{"protocol": "TCP", "port": 9091}]}]
    # the job's pods carry the labels the policy selects
    labels = find(_plan(), CRON).inputs["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert spec["podSelector"]["matchLabels"].items() <= labels.items()


def test_prometheus_rule_alerts_on_share_and_named_features_over_two_windows():
    rule = find(_plan(feature_thresholds={"amount": 0.2, "country": 0.35}, drift_share_threshold=0.3, short_window_hours=2, long_window_hours=12), RULE)
    assert rule.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (group,) = rule.inputs["spec"]["groups"]
    rules = {(r["alert"], r["labels"].get("feature")): r for r in group["rules"]}
    selector = 'namespace="fraud",endpoint="fraud-detector"'
    share = rules[("DriftedFeatureShareHigh", None)]
    assert share["expr"] == (f"avg_over_time(mlplat_drifted_feature_share{{{selector}}}[2h]) >= 0.3"
                             f" and avg_over_time(mlplat_drifted_feature_share{{{selector}}}[12h]) >= 0.3")
    assert share["labels"] == {"severity": "ticket", "team": "fraud", "namespace": "fraud", "endpoint": "fraud-detector"}
    assert rules[("FeatureDriftHigh", "amount")]["expr"] == (
        f'avg_over_time(mlplat_feature_drift_score{{{selector},feature="amount"}}[2h]) >= 0.2'
        f' and avg_over_time(mlplat_feature_drift_score{{{selector},feature="amount"}}[12h]) >= 0.2')
    assert ("FeatureDriftHigh", "country") in rules and ("FeatureDriftHigh", "merchant_category") not in rules
    # hourly schedule: stale after two hours plus the 30-minute deadline
    assert rules[("DriftMonitorStale", None)]["expr"] == f"time() - max(mlplat_drift_last_success_timestamp_seconds{{{selector}}}) > 9000"
    assert rules[("DriftMonitorNeverReported", None)]["for"] == "150m"
    assert {r["alert"] for r in group["rules"]} == set(ALERTS)


def test_rule_expressions_use_the_metric_names_the_job_exports():
    (group,) = find(_plan(feature_thresholds={"amount": 0.2}), RULE).inputs["spec"]["groups"]
    used = {name for r in group["rules"] for name in metrics.METRIC_NAMES if name in r["expr"]}
    assert used == {metrics.DRIFTED_FEATURE_SHARE, metrics.FEATURE_DRIFT_SCORE, metrics.LAST_SUCCESS}


def test_outputs():
    outputs = find(_plan(), "mlplat:k8s:DriftMonitor").outputs
    assert outputs == {"cron_job_name": "fraud-detector-drift", "prometheus_rule_name": "fraud-detector-drift", "metric_names": list(metrics.METRIC_NAMES)}


@pytest.mark.parametrize(("schedule", "seconds"), [("0 * * * *", 3600), ("@daily", 86400), ("*/15 * * * *", 900), ("0 6 * * 1-5", 3 * 86400)])
def test_schedule_period_is_the_longest_gap(schedule, seconds):
    assert schedule_period_seconds(schedule) == seconds


CRON_EXPECTED = "a cron schedule: 5 fields (minute hour day-of-month month day-of-week, e.g. '0 * * * *') or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"feature_thresholds": {"income": 0.2}},
     [("DriftMonitor(drift).feature_thresholds.income", 0.2, "a threshold for a listed feature (amount, merchant_category, country); 'income' is not one")]),
    ({"feature_threshold": 1.5}, [("DriftMonitor(drift).feature_threshold", 1.5, "a number at most 1")]),
    ({"drift_share_threshold": -0.1}, [("DriftMonitor(drift).drift_share_threshold", -0.1, "a number at least 0")]),
    ({"feature_thresholds": {"amount": 2}}, [("DriftMonitor(drift).feature_thresholds.amount", 2, "a number at most 1")]),
    ({"schedule": "every hour"}, [("DriftMonitor(drift).schedule", "every hour", CRON_EXPECTED)]),
    ({"schedule": "0 25 * * *"}, [("DriftMonitor(drift).schedule", "0 25 * * *", CRON_EXPECTED)]),
    ({"schedule": "0 0 * * * *"}, [("DriftMonitor(drift).schedule", "0 0 * * * *", CRON_EXPECTED)]),
    ({"schedule": "TZ=UTC 0 * * * *"}, [("DriftMonitor(drift).schedule", "TZ=UTC 0 * * * *", CRON_EXPECTED)]),
    ({"time_zone": "Mars/Olympus"}, [("DriftMonitor(drift).time_zone", "Mars/Olympus", "an IANA time zone name such as Etc/UTC or Europe/Amsterdam")]),
    ({"features": ["amount", "amount"]}, [("DriftMonitor(drift).features[1]", "amount", "a feature not listed before (features are distinct)")]),
    ({"features": []}, [("DriftMonitor(drift).features", [], "at least 1 items")]),
    ({"reference_path": "/data/train.parquet"}, [("DriftMonitor(drift).reference_path", "/data/train.parquet", "a string matching ^(gs|s3)://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[^\\s]*)?$")]),
    ({"long_window_hours": 1}, [("DriftMonitor(drift).long_window_hours", 1, "more than short_window_hours (1)")]),
    ({"image": "registry.example.com/drift:latest"},
     [("DriftMonitor(drift).image", "registry.example.com/drift:latest", "an image pinned by digest: <repository>[:<tag>]@sha256:<64 hex digits> (a tag alone can be moved to another image)")]),
])
def test_bad_drift_settings_are_refused_with_one_clear_message_and_nothing_registered(overrides, expected):
    assert _issues(**overrides) == expected


def test_settings_take_the_stack_files_camel_case_keys():
    settings = DriftSettings.model_validate({
        "features": ["amount"], "referencePath": "s3://fraud-data/ref.parquet", "currentPath": "s3://fraud-data/inference/",
        "featureThresholds": {"amount": 0.3}, "driftShareThreshold": 0.4, "schedule": "@hourly",
    })
    assert (settings.reference_path, settings.feature_thresholds, settings.drift_share_threshold) == ("s3://fraud-data/ref.parquet", {"amount": 0.3}, 0.4)
    with pytest.raises(Exception) as caught:
        DriftSettings.model_validate({"features": ["amount"], "referencePath": "s3://fraud-data/r", "currentPath": "s3://fraud-data/c", "featureThresholds": {"x": 0.3}})
    assert "feature_thresholds" in str(caught.value)


def test_rendered_objects_are_valid_kubernetes(tmp_path):
    from platform_lib.preview.render_k8s import render_kubernetes

    from .test_render_k8s import KUBERNETES_VERSIONS, _load, validate_manifest

    paths = render_kubernetes(_plan(feature_thresholds={"amount": 0.2}), tmp_path / "out")
    assert sorted(p.name for p in paths) == ["cronjob-fraud-detector-drift.yaml", "networkpolicy-fraud-detector-drift.yaml", "prometheusrule-fraud-detector-drift.yaml"]
    for version in KUBERNETES_VERSIONS:
        assert {p.name: validate_manifest(_load(p), version) for p in paths} == {
            "cronjob-fraud-detector-drift.yaml": "schema", "networkpolicy-fraud-detector-drift.yaml": "schema", "prometheusrule-fraud-detector-drift.yaml": "structure"}


@pytest.mark.parametrize(("key", "value", "message"), [
    ("schedule", "every hour", "DriftMonitor(fraud-detector-drift).schedule: got 'every hour'; expected a cron schedule"),
    ("amountThreshold", "1.5", "DriftMonitor(fraud-detector-drift).feature_thresholds.amount: got 1.5; expected a number at most 1"),
])
def test_mlplat_preview_exits_2_on_bad_drift_settings(tmp_path, key, value, message):
    import shutil

    import yaml
    from typer.testing import CliRunner

    from platform_lib.cli import EXIT_USER_ERROR, app

    from .conftest import REPO_ROOT

    project = tmp_path / "drift-monitor"
    shutil.copytree(REPO_ROOT / "examples" / "drift-monitor", project)
    (project / "Pulumi.yaml").write_text((project / "Pulumi.yaml").read_text().replace("virtualenv: ../../.venv", f"virtualenv: {REPO_ROOT / '.venv'}"))
    stack_file = project / "Pulumi.prod.yaml"
    stack = yaml.safe_load(stack_file.read_text())
    stack["config"][f"drift-monitor-example:{key}"] = value
    stack_file.write_text(yaml.safe_dump(stack))
    result = CliRunner().invoke(app, ["preview", "--cwd", str(project), "--stack", "prod", "--no-policy"], catch_exceptions=False, env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert message in " ".join(result.output.split())
