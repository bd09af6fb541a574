"""The Prometheus metrics the drift job exports: stable names other code imports.

The job pushes them to a Prometheus Pushgateway (a CronJob's pod lives for seconds, too short to
be scraped; Prometheus docs, "When to use the Pushgateway": the result of a service-level batch
job) under the grouping key ``job=`` :data:`PUSH_JOB`, ``namespace``, ``endpoint``. The Pushgateway
adds the grouping key's labels to every series; Prometheus must scrape it with ``honor_labels:
true`` (the prometheus-pushgateway chart's ServiceMonitor sets ``honorLabels: true``), so
``namespace`` stays the endpoint's namespace and is not the Pushgateway's own.

Series (every one also has ``namespace`` and ``endpoint``):

- :data:`FEATURE_DRIFT_SCORE` ``{feature}``: the feature's drift score between the reference and the
  current window, 0 (same distribution) to 1 (disjoint): the Jensen-Shannon or Hellinger distance.
- :data:`FEATURE_DRIFTED` ``{feature}``: 1 when the score reached the feature's threshold, else 0.
- :data:`DRIFTED_FEATURE_SHARE`: the share of monitored features that drifted, 0 to 1.
- :data:`ROWS` ``{dataset="reference"|"current"}``: the rows compared.
- :data:`LAST_SUCCESS`: Unix time in seconds of the last run that computed the scores.
"""

from __future__ import annotations

__all__ = [
    "DRIFTED_FEATURE_SHARE",
    "FEATURE_DRIFTED",
    "FEATURE_DRIFT_SCORE",
    "FEATURE_LABEL",
    "LAST_SUCCESS",
    "METRIC_NAMES",
    "PUSH_JOB",
    "ROWS",
    "SERIES_LABELS",
]

FEATURE_DRIFT_SCORE = "mlplat_feature_drift_score"
FEATURE_DRIFTED = "mlplat_feature_drifted"
DRIFTED_FEATURE_SHARE = "mlplat_drifted_feature_share"
ROWS = "mlplat_drift_rows"
LAST_SUCCESS = "mlplat_drift_last_success_timestamp_seconds"

#: Every metric name the job exports.
METRIC_NAMES = (FEATURE_DRIFT_SCORE, FEATURE_DRIFTED, DRIFTED_FEATURE_SHARE, ROWS, LAST_SUCCESS)
#: The label naming the feature on the per-feature series.
FEATURE_LABEL = "feature"
#: The labels of the grouping key, on every series: the endpoint's namespace and name.
SERIES_LABELS = ("namespace", "endpoint")
#: The ``job`` label of the pushed series (the Pushgateway grouping key's first part).
PUSH_JOB = "mlplat-drift"
