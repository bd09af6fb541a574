"""The drift job's logic with the real Evidently on small pandas frames: drift and no drift, the
recent window, the pushed metrics, and bad settings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from platform_lib.drift import metrics
from platform_lib.drift.job import CONFIG_ENV, JobConfig, JobError, compute_drift, main, push_metrics, read_frame, recent_window, run

NOW = pd.Timestamp("2026-12-06T12:00:00Z").timestamp()


@pytest.fixture(scope="module", autouse=True)
def _evidently_imported():
    """Import Evidently once, up front. Its import allocates enough to start a full garbage
    collection, which finalizes coroutines that earlier tests' failed previews left unawaited
    ("coroutine 'Output.apply.<locals>.run' was never awaited"); those RuntimeWarnings belong to
    no test here, so they are dropped while collecting."""
    import gc
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gc.collect()
        import evidently  # noqa: F401
        gc.collect()


def _frame(seed: int, rows: int, amount_mean: float, countries=("de", "fr", "nl"), weights=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "amount": rng.normal(amount_mean, 10.0, rows),
        "country": rng.choice(list(countries), rows, p=weights),
    })


def _config(tmp_path, **overrides) -> JobConfig:
    values = {"endpoint": "scorer", "namespace": "fraud", "features": ("amount", "country"),
              "reference_path": str(tmp_path / "reference.parquet"), "current_path": str(tmp_path / "current") + "/", "min_rows": 100}
    return JobConfig(**{**values, **overrides})


def _write(tmp_path, reference: pd.DataFrame, current: pd.DataFrame, stamp: str = "2026-12-06T11:00:00Z"):
    reference.to_parquet(tmp_path / "reference.parquet")
    (tmp_path / "current" / "day=2026-12-06").mkdir(parents=True)
    half = len(current) // 2
    current = current.assign(timestamp=pd.Timestamp(stamp))
    current.iloc[:half].to_parquet(tmp_path / "current" / "day=2026-12-06" / "part-0.parquet")
    current.iloc[half:].to_csv(tmp_path / "current" / "day=2026-12-06" / "part-1.csv", index=False)


def _samples(text: str) -> dict[str, float]:
    """The exposition format's samples: series (name and labels) to value."""
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and not line.startswith("#")}


class Recorder:
    """prometheus-client's push handler, recording the request instead of sending it."""

    def __init__(self):
        self.requests = []

    def __call__(self, url, method, timeout, headers, data):
        def send():
            self.requests.append({"url": url, "method": method, "body": data.decode()})
        return send


def test_same_distribution_is_no_drift(tmp_path):
    result = compute_drift(_frame(1, 800, 100.0), _frame(2, 800, 100.0), _config(tmp_path))
    assert result.drifted == {"amount": False, "country": False}
    assert result.share == 0.0
    assert all(0 <= score < 0.1 for score in result.scores.values()), result.scores


def test_small_samples_are_biased_upwards(tmp_path):
    """Why min_rows defaults to 1000: with 300 rows, two samples of one distribution look drifted."""
    result = compute_drift(_frame(1, 300, 100.0), _frame(3, 300, 100.0), _config(tmp_path))
    assert result.scores["amount"] > 0.1


def test_shifted_feature_drifts_and_the_other_does_not(tmp_path):
    result = compute_drift(_frame(1, 800, 100.0), _frame(2, 800, 140.0), _config(tmp_path))
    assert result.drifted == {"amount": True, "country": False}
    assert result.share == 0.5
    assert result.scores["amount"] > 0.5 and result.scores["country"] < 0.1


def test_categorical_drift_and_per_feature_threshold(tmp_path):
    current = _frame(2, 800, 100.0, weights=[0.7, 0.2, 0.1])
    default = compute_drift(_frame(1, 800, 100.0), current, _config(tmp_path))
    assert default.drifted["country"] is True
    lenient = compute_drift(_frame(1, 800, 100.0), current, _config(tmp_path, feature_thresholds={"country": 0.9}))
    assert lenient.drifted["country"] is False and lenient.scores["country"] == default.scores["country"]


def test_hellinger_method(tmp_path):
    result = compute_drift(_frame(1, 800, 100.0), _frame(2, 800, 140.0), _config(tmp_path, method="hellinger"))
    assert result.drifted == {"amount": True, "country": False}


def test_run_reads_a_prefix_keeps_the_window_and_pushes_the_scores(tmp_path):
    _write(tmp_path, _frame(1, 600, 100.0), _frame(2, 400, 140.0))
    recorder = Recorder()
    result = run(_config(tmp_path, pushgateway_url="http://pushgateway.monitoring:9091"), now=NOW, handler=recorder)
    assert result is not None and result.current_rows == 400 and result.reference_rows == 600
    (request,) = recorder.requests
    assert request["method"] == "PUT"
    assert request["url"] == "http://pushgateway.monitoring:9091/metrics/job/mlplat-drift/endpoint/scorer/namespace/fraud"
    samples = _samples(request["body"])
    assert samples[f'{metrics.FEATURE_DRIFT_SCORE}{{feature="amount"}}'] == result.scores["amount"]
    assert samples[f'{metrics.FEATURE_DRIFTED}{{feature="amount"}}'] == 1 and samples[f'{metrics.FEATURE_DRIFTED}{{feature="country"}}'] == 0
    assert samples[metrics.DRIFTED_FEATURE_SHARE] == 0.5
    assert samples[f'{metrics.ROWS}{{dataset="current"}}'] == 400 and samples[f'{metrics.ROWS}{{dataset="reference"}}'] == 600
    assert samples[metrics.LAST_SUCCESS] == NOW


def test_rows_outside_the_window_are_not_compared(tmp_path):
    _write(tmp_path, _frame(1, 600, 100.0), _frame(2, 400, 140.0), stamp="2026-12-01T00:00:00Z")
    recorder = Recorder()
    assert run(_config(tmp_path, pushgateway_url="http://pushgateway:9091"), now=NOW, handler=recorder) is None
    body = recorder.requests[0]["body"]
    assert _samples(body)[f'{metrics.ROWS}{{dataset="current"}}'] == 0
    assert metrics.FEATURE_DRIFT_SCORE not in body and metrics.LAST_SUCCESS not in body


def test_recent_window_without_a_timestamp_column_keeps_every_row():
    frame = _frame(1, 10, 0.0)
    assert len(recent_window(frame, "timestamp", 1, NOW)) == 10


def test_push_without_a_gateway_returns_the_exposition(tmp_path):
    result = compute_drift(_frame(1, 800, 100.0), _frame(2, 800, 140.0), _config(tmp_path))
    text = push_metrics(result, _config(tmp_path), rows=(800, 800), now=NOW).decode()
    assert _samples(text)[metrics.DRIFTED_FEATURE_SHARE] == 0.5


def test_missing_data_and_columns_are_job_errors(tmp_path):
    with pytest.raises(JobError, match="no data at"):
        read_frame(str(tmp_path / "nothing") + "/", ["amount"])
    _frame(1, 10, 0.0).to_parquet(tmp_path / "reference.parquet")
    with pytest.raises(JobError, match="lacks the feature columns income"):
        read_frame(str(tmp_path / "reference.parquet"), ["amount", "income"])


@pytest.mark.parametrize(("settings", "message"), [
    ({"feature_threshold": 1.5}, "feature_threshold: a number from 0 to 1; got 1.5"),
    ({"feature_thresholds": {"income": 0.2}}, "feature_thresholds: only listed features (amount, country); got income"),
    ({"method": "ks"}, "method: one of jensenshannon, hellinger; got 'ks'"),
    ({"surprise": 1}, "unknown keys surprise"),
])
def test_bad_settings_exit_2_naming_the_key(tmp_path, monkeypatch, caplog, settings, message):
    base = json.loads(_config(tmp_path).to_json())
    monkeypatch.setenv(CONFIG_ENV, json.dumps({**base, **settings}))
    assert main([]) == 2
    assert message in caplog.text


def test_main_runs_end_to_end(tmp_path, monkeypatch):
    _write(tmp_path, _frame(1, 300, 100.0), _frame(2, 300, 100.0), stamp=pd.Timestamp.now(tz="UTC").isoformat())
    monkeypatch.setenv(CONFIG_ENV, _config(tmp_path).to_json())
    assert main([]) == 0
