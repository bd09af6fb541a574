"""The drift job a :class:`~platform_lib.k8s.drift_monitor.DriftMonitor` CronJob runs:
``python -m platform_lib.drift.job``, with its settings as JSON in :data:`CONFIG_ENV`.

It reads the training reference (``reference_path``) and the logged inference features under
``current_path`` (a file, or a prefix whose ``.parquet``, ``.csv`` and ``.jsonl`` files are read;
``gs://`` needs ``gcsfs`` and ``s3://`` needs ``s3fs`` in the image, local paths need nothing),
keeps the rows of the last ``window_hours`` (by ``timestamp_column`` when the data has it),
computes each feature's drift with Evidently (``ValueDrift`` with the Jensen-Shannon or Hellinger
distance, 0 to 1), and pushes the scores to the Pushgateway as the metrics of
:mod:`platform_lib.drift.metrics`.

Needs the ``drift`` extra (``pip install 'pulumi-mlplat[drift]'``): Evidently, pandas,
prometheus-client, pyarrow. Evidently's usage telemetry is turned off (``DO_NOT_TRACK=1``).

Exit codes: 0 scores pushed (drift or not: drift is reported by the alerts, not by a failed job),
or too few current rows (only the row counts are pushed, so the staleness alert tells); 2 bad
settings or unreadable data; 1 anything else.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import metrics

__all__ = ["CONFIG_ENV", "DriftResult", "JobConfig", "compute_drift", "main", "push_metrics", "read_frame", "recent_window", "run"]

#: The environment variable holding the job's settings as JSON (:meth:`JobConfig.to_json`).
CONFIG_ENV = "MLPLAT_DRIFT_CONFIG"
#: Drift methods whose score is bounded to 0..1, as Evidently names its stattests.
METHODS = ("jensenshannon", "hellinger")
#: File suffixes read under a prefix.
SUFFIXES = (".parquet", ".csv", ".jsonl")

log = logging.getLogger("mlplat.drift")


class JobError(Exception):
    """Bad settings or unreadable data (exit code 2)."""


@dataclass(frozen=True)
class JobConfig:
    """The job's settings (the DriftMonitor writes them; see its ``DriftSettings`` for meanings).

    Attributes:
        endpoint, namespace: the grouping key of the pushed metrics.
        features: the feature columns compared.
        reference_path, current_path: where the reference and the logged features are.
        pushgateway_url: the Pushgateway, ``http://host:port``; "" prints the metrics instead.
        method: ``jensenshannon`` or ``hellinger``.
        feature_threshold: the score from which a feature counts as drifted (0..1).
        feature_thresholds: per-feature thresholds replacing ``feature_threshold``.
        window_hours: the current window, in hours back from now.
        timestamp_column: the column of the logged rows' times (ignored when absent).
        min_rows: fewer current rows than this: no scores (too little data to judge).
    """

    endpoint: str
    namespace: str
    features: tuple[str, ...]
    reference_path: str
    current_path: str
    pushgateway_url: str = ""
    method: str = "jensenshannon"
    feature_threshold: float = 0.1
    feature_thresholds: Mapping[str, float] = field(default_factory=dict)
    window_hours: int = 24
    timestamp_column: str = "timestamp"
    min_rows: int = 1000

    @classmethod
    def from_json(cls, text: str) -> "JobConfig":
        """Parse and check the settings; :class:`JobError` names the first bad key."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise JobError(f"{CONFIG_ENV} is not JSON: {error}") from None
        if not isinstance(raw, dict):
            raise JobError(f"{CONFIG_ENV} must be a JSON object")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise JobError(f"{CONFIG_ENV}: unknown keys {', '.join(unknown)}")
        try:
            config = cls(**{**raw, "features": tuple(raw.get("features") or ()), "feature_thresholds": dict(raw.get("feature_thresholds") or {})})
        except TypeError as error:
            raise JobError(f"{CONFIG_ENV}: {error}") from None
        config.check()
        return config

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "features": list(self.features), "feature_thresholds": dict(self.feature_thresholds)}, sort_keys=True)

    def check(self) -> None:
        if not self.features or len(set(self.features)) != len(self.features):
            raise JobError(f"features: a non-empty list of distinct column names; got {list(self.features)!r}")
        if self.method not in METHODS:
            raise JobError(f"method: one of {', '.join(METHODS)}; got {self.method!r}")
        for name, value in [("feature_threshold", self.feature_threshold), *((f"feature_thresholds.{k}", v) for k, v in self.feature_thresholds.items())]:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise JobError(f"{name}: a number from 0 to 1; got {value!r}")
        unknown = sorted(set(self.feature_thresholds) - set(self.features))
        if unknown:
            raise JobError(f"feature_thresholds: only listed features ({', '.join(self.features)}); got {', '.join(unknown)}")

    def threshold(self, feature: str) -> float:
        return float(self.feature_thresholds.get(feature, self.feature_threshold))


@dataclass(frozen=True)
class DriftResult:
    """What one run found.

    Attributes:
        scores: each feature's drift score (0..1).
        drifted: each feature's verdict (score at or above its threshold).
        share: the share of features that drifted (0..1).
        reference_rows, current_rows: the rows compared.
    """

    scores: dict[str, float]
    drifted: dict[str, bool]
    share: float
    reference_rows: int
    current_rows: int


def _pandas():
    try:
        import pandas
    except ImportError:  # pragma: no cover - the drift extra is missing
        raise JobError("the drift job needs the drift extra: pip install 'pulumi-mlplat[drift]'") from None
    return pandas


def read_frame(path: str, columns: Sequence[str] | None = None):
    """One DataFrame from a file or from every ``.parquet``/``.csv``/``.jsonl`` file under a prefix.

    Raises:
        JobError: nothing to read there, or a listed column missing.
    """
    import fsspec

    pd = _pandas()
    filesystem, root = fsspec.core.url_to_fs(path)
    if filesystem.isdir(root):
        files = sorted(f for f in filesystem.find(root) if f.endswith(SUFFIXES))
    elif filesystem.exists(root):
        files = [root]
    else:
        files = []
    if not files:
        raise JobError(f"no data at {path} (expected a file or a prefix holding {', '.join(SUFFIXES)} files)")
    frames = []
    for name in files:
        with filesystem.open(name, "rb") as handle:
            if name.endswith(".parquet"):
                frames.append(pd.read_parquet(handle))
            elif name.endswith(".csv"):
                frames.append(pd.read_csv(handle))
            else:
                frames.append(pd.read_json(handle, lines=True))
    frame = pd.concat(frames, ignore_index=True)
    missing = [c for c in (columns or ()) if c not in frame.columns]
    if missing:
        raise JobError(f"{path} lacks the feature columns {', '.join(missing)}")
    return frame


def recent_window(frame, timestamp_column: str, hours: int, now: float | None = None):
    """The rows of the last ``hours`` hours by ``timestamp_column`` (all rows when it is absent)."""
    pd = _pandas()
    if timestamp_column not in frame.columns:
        return frame
    stamps = pd.to_datetime(frame[timestamp_column], utc=True)
    since = pd.Timestamp(now if now is not None else time.time(), unit="s", tz="UTC") - pd.Timedelta(hours=hours)
    return frame[stamps >= since]


def compute_drift(reference, current, config: JobConfig) -> DriftResult:
    """Each feature's drift with Evidently's ``ValueDrift`` (the configured method and threshold)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")  # Evidently's usage telemetry
    from evidently import Report
    from evidently.metrics import ValueDrift

    features = list(config.features)
    report = Report([ValueDrift(column=f, method=config.method, threshold=config.threshold(f)) for f in features])
    snapshot = report.run(current[features], reference[features])
    values = [float(m["value"]) for m in snapshot.dict()["metrics"]]
    scores = {f: round(v, 6) for f, v in zip(features, values)}
    drifted = {f: scores[f] >= config.threshold(f) for f in features}
    return DriftResult(scores, drifted, sum(drifted.values()) / len(features), len(reference), len(current))


def push_metrics(result: DriftResult | None, config: JobConfig, *, rows: tuple[int, int], handler: Callable[..., Any] | None = None, now: float | None = None) -> bytes:
    """Push the run's metrics to the Pushgateway (replacing the endpoint's previous group).

    Args:
        result: the drift, or ``None`` when there were too few rows (only the row counts go out).
        rows: (reference rows, current rows).
        handler: prometheus-client's push handler (tests pass one that records the request).

    Returns:
        The pushed exposition text.
    """
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
    from prometheus_client.exposition import default_handler, generate_latest

    registry = CollectorRegistry()
    rows_gauge = Gauge(metrics.ROWS, "Rows compared by the drift job", ["dataset"], registry=registry)
    rows_gauge.labels(dataset="reference").set(rows[0])
    rows_gauge.labels(dataset="current").set(rows[1])
    if result is not None:
        score = Gauge(metrics.FEATURE_DRIFT_SCORE, "Drift score of a feature, 0 (same) to 1 (disjoint)", [metrics.FEATURE_LABEL], registry=registry)
        drifted = Gauge(metrics.FEATURE_DRIFTED, "1 when the feature's drift score reached its threshold", [metrics.FEATURE_LABEL], registry=registry)
        for feature, value in result.scores.items():
            score.labels(feature).set(value)
            drifted.labels(feature).set(1 if result.drifted[feature] else 0)
        Gauge(metrics.DRIFTED_FEATURE_SHARE, "Share of monitored features that drifted", registry=registry).set(result.share)
        Gauge(metrics.LAST_SUCCESS, "Unix time of the last drift run that computed scores", registry=registry).set(now if now is not None else time.time())
    if config.pushgateway_url:
        push_to_gateway(config.pushgateway_url, job=metrics.PUSH_JOB, grouping_key={"namespace": config.namespace, "endpoint": config.endpoint},
                        registry=registry, handler=handler or default_handler)
    return generate_latest(registry)


def run(config: JobConfig, *, now: float | None = None, handler: Callable[..., Any] | None = None) -> DriftResult | None:
    """Read, compare, push; the result, or ``None`` when the current window had too few rows."""
    features = list(config.features)
    reference = read_frame(config.reference_path, features)
    current = recent_window(read_frame(config.current_path, features), config.timestamp_column, config.window_hours, now)
    if len(current) < config.min_rows:
        log.warning("only %d current rows in the last %d hours (at least %d needed): no drift scores", len(current), config.window_hours, config.min_rows)
        push_metrics(None, config, rows=(len(reference), len(current)), handler=handler, now=now)
        return None
    result = compute_drift(reference, current, config)
    push_metrics(result, config, rows=(result.reference_rows, result.current_rows), handler=handler, now=now)
    log.info("drift share %.3f; scores %s", result.share, json.dumps(result.scores, sort_keys=True))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """The container's entry point: settings from :data:`CONFIG_ENV`; see the module docstring for exit codes."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        config = JobConfig.from_json(os.environ.get(CONFIG_ENV, ""))
        run(config)
    except JobError as error:
        log.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - the container's entry point
    sys.exit(main())
