"""``mlplat:k8s:DriftMonitor``: data drift detection for one model endpoint.

A Kubernetes ``CronJob`` runs the drift job (:mod:`platform_lib.drift.job`, ``python -m
platform_lib.drift.job`` in the given image) on a cron schedule: it compares a recent window of
the endpoint's logged inference features (under ``current_path`` in the team's bucket) with the
training reference (``reference_path``) using Evidently, and pushes each feature's drift score to
a Prometheus Pushgateway (a CronJob's pod lives too briefly to be scraped; Prometheus docs, "When
to use the Pushgateway"). A ``PrometheusRule`` alerts when the share of drifted features, or a
named feature's score, reaches its threshold over both a short and a long window (1 h and 6 h by
default; Google SRE Workbook, "Alerting on SLOs": multiwindow alerts), and when the job stops
reporting. The metric names are the constants of :mod:`platform_lib.drift.metrics`.

External facts used here, by source:

- Pod Security Standards, "Restricted" profile: ``runAsNonRoot``, ``allowPrivilegeEscalation:
  false``, ``capabilities.drop: [ALL]``, ``seccompProfile.type: RuntimeDefault``; plus a read-only
  root filesystem with an ``emptyDir`` at ``/tmp``.
- Kubernetes docs, "CronJob": ``schedule`` is standard cron (5 fields, or ``@hourly``-style
  macros), ``timeZone`` (GA in 1.27), ``concurrencyPolicy: Forbid``, ``startingDeadlineSeconds``;
  "Jobs": ``backoffLimit``, ``activeDeadlineSeconds``, ``ttlSecondsAfterFinished``.
- croniter (pallets-eco) parses the schedule, and gives the longest gap between two runs for the
  staleness alert.
- Prometheus Operator: ``monitoring.coreos.com/v1`` ``PrometheusRule``.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Mapping, overload
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s
from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.kubernetes_names import check_dns_label, check_dns_subdomain
from ..core.quantities import cpu_quantity, memory_quantity
from ..core.tagging import with_managed_by
from ..drift import metrics
from .checks import check_labels, check_namespace_name
from .labels import check_label_inputs
from .model_endpoint_spec import ENDPOINT_NAME, SpecModel, parse_image

__all__ = ["ALERTS", "CONFIG_ENV", "DriftMonitor", "DriftMonitorArgs", "DriftMonitorArgsDict", "DriftSettings", "check_cron_schedule", "schedule_period_seconds"]

MONITORING_API_VERSION = "monitoring.coreos.com/v1"
#: The environment variable the job reads its settings from (``platform_lib.drift.job.CONFIG_ENV``;
#: written here so this module does not import the job, which needs the ``drift`` extra).
CONFIG_ENV = "MLPLAT_DRIFT_CONFIG"
#: The alerts of the PrometheusRule.
ALERTS = ("DriftedFeatureShareHigh", "FeatureDriftHigh", "DriftMonitorStale", "DriftMonitorNeverReported")
#: The cron macros Kubernetes CronJobs accept besides 5 fields (Kubernetes docs, "CronJob", schedule syntax).
CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_CRON_EXPECTED = "a cron schedule: 5 fields (minute hour day-of-month month day-of-week, e.g. '0 * * * *') or one of " + ", ".join(CRON_MACROS)
#: A feature (column) name: also a safe PromQL label value.
_FEATURE = r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$"
#: A bucket URI: ``gs://`` or ``s3://``, a bucket name, an optional key or prefix.
_BUCKET_URI = r"^(gs|s3)://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[^\s]*)?$"
_BUCKET_URI_EXPECTED = "a bucket URI, gs://<bucket>/<path> or s3://<bucket>/<path>"


def check_cron_schedule(value: Any) -> str:
    """Return ``value`` if it is a schedule a Kubernetes CronJob accepts, else raise ``ValueError``.

    Five fields (no seconds or years field, no ``TZ=`` prefix: use ``time_zone``) or a macro;
    croniter checks the fields' ranges and syntax.
    """
    from croniter import croniter

    if not isinstance(value, str):
        raise ValueError(_CRON_EXPECTED)
    text = value.strip()
    if text in CRON_MACROS:
        return text
    if text.upper().startswith(("TZ=", "CRON_TZ=")) or len(text.split()) != 5 or not croniter.is_valid(text):
        raise ValueError(_CRON_EXPECTED)
    return text


def schedule_period_seconds(schedule: str, runs: int = 400) -> int:
    """The longest gap between two consecutive runs of ``schedule``, in seconds, over the next
    ``runs`` runs from 2026-01-01 (a year of a daily schedule; a yearly one gives its year)."""
    from croniter import croniter

    iterator = croniter({"@midnight": "@daily", "@annually": "@yearly"}.get(schedule, schedule), datetime(2026, 1, 1, tzinfo=timezone.utc))
    times = [iterator.get_next(float) for _ in range(min(runs, 400))]
    return int(max(b - a for a, b in zip(times, times[1:])))


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("an IANA time zone name such as Etc/UTC or Europe/Amsterdam") from None
    return value


class DriftSettings(SpecModel):
    """What to compare, when, and when to alert: the part of a DriftMonitor a stack file sets next to
    its endpoint (``drift:`` with camelCase keys such as ``referencePath``, ``featureThresholds``).

    Attributes:
        features: the feature columns to compare (at least one, distinct; letters, digits, ``_``,
            ``.``, ``-``).
        reference_path: the training reference, a file or prefix in the team's bucket
            (``gs://bucket/reference/train.parquet``); Parquet, CSV or JSON Lines.
        current_path: the prefix under which the endpoint logs its inference features
            (``gs://bucket/inference/fraud-detector/``).
        schedule: when the job runs, standard cron (5 fields or ``@hourly``...), checked with croniter.
        time_zone: the schedule's time zone (CronJob ``timeZone``), an IANA name.
        window_hours: the current window: rows logged in the last this many hours.
        timestamp_column: the logged rows' time column (the whole prefix is compared when absent).
        min_rows: fewer current rows than this: no scores are computed (too little data). The
            histogram distances are biased upwards on small samples: two samples of one normal
            distribution scored 0.11-0.13 (Jensen-Shannon) with 300 rows each, 0.04-0.06 with 800
            (measured with Evidently 0.7.23), so below about 1000 rows the default threshold of
            0.1 raises false alarms.
        method: the drift score, ``jensenshannon`` (Jensen-Shannon distance) or ``hellinger``; both
            0 (same distribution) to 1 (disjoint), for numeric and categorical features.
        feature_threshold: the score from which a feature counts as drifted (0 to 1; 0.1 is
            Evidently's default for the Jensen-Shannon distance).
        drift_share_threshold: alert when at least this share of the features drifted (0 to 1).
        feature_thresholds: per named feature, a threshold (0 to 1) that both decides its drift and
            raises its own alert; each key must be one of ``features``.
        short_window_hours, long_window_hours: the two alert windows; an alert fires when the
            average over both reaches the threshold (long > short).
    """

    features: list[Annotated[str, Field(pattern=_FEATURE)]] = Field(min_length=1, max_length=500)
    reference_path: str = Field(pattern=_BUCKET_URI)
    current_path: str = Field(pattern=_BUCKET_URI)
    schedule: str = "0 * * * *"
    time_zone: str = "Etc/UTC"
    window_hours: int = Field(default=24, ge=1, le=720)
    timestamp_column: str = Field(default="timestamp", pattern=_FEATURE)
    min_rows: int = Field(default=1000, ge=1, le=10_000_000)
    method: Literal["jensenshannon", "hellinger"] = "jensenshannon"
    feature_threshold: float = Field(default=0.1, ge=0, le=1)
    drift_share_threshold: float = Field(default=0.5, ge=0, le=1)
    feature_thresholds: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)
    short_window_hours: int = Field(default=1, ge=1, le=168)
    long_window_hours: int = Field(default=6, ge=1, le=720)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return check_cron_schedule(value)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _time_zone(value)

    @model_validator(mode="after")
    def _across_fields(self) -> "DriftSettings":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        seen: set[str] = set()
        for index, feature in enumerate(self.features):
            if feature in seen:
                problems.append((("features", index), feature, "a feature not listed before (features are distinct)"))
            seen.add(feature)
        for feature, threshold in self.feature_thresholds.items():
            if feature not in seen:
                problems.append((("feature_thresholds", feature), threshold, f"a threshold for a listed feature ({', '.join(self.features)}); {feature!r} is not one"))
        if self.long_window_hours <= self.short_window_hours:
            problems.append((("long_window_hours",), self.long_window_hours, f"more than short_window_hours ({self.short_window_hours})"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self

    def job_settings(self, *, endpoint: str, namespace: str, pushgateway_url: str) -> dict[str, Any]:
        """The drift job's settings (:class:`platform_lib.drift.job.JobConfig` fields)."""
        return {
            "endpoint": endpoint,
            "namespace": namespace,
            "features": list(self.features),
            "reference_path": self.reference_path,
            "current_path": self.current_path,
            "pushgateway_url": pushgateway_url,
            "method": self.method,
            "feature_threshold": self.feature_threshold,
            "feature_thresholds": dict(self.feature_thresholds),
            "window_hours": self.window_hours,
            "timestamp_column": self.timestamp_column,
            "min_rows": self.min_rows,
        }


def _namespace(value: Any) -> str:
    return check_namespace_name(check_dns_label(value))


def _image(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("an image pinned by digest: <repository>[:<tag>]@sha256:<64 hex digits>")
    parse_image(value)
    return value


class DriftMonitorArgs(DriftSettings, ComponentArgs):
    """The component's arguments: :class:`DriftSettings` plus where the job runs and reports.

    Attributes:
        endpoint: the monitored endpoint's name (its ``service_name``), a DNS-1035 label of 2 to 40
            characters; the objects are named ``<endpoint>-drift``.
        namespace: the endpoint's (team's) namespace, a name or an Output of one.
        service_account_name: the team's workload ServiceAccount (its cloud identity, IRSA or
            Workload Identity, may read the bucket), a name or an Output of one.
        image: the job's image, pinned by digest; it must have ``pulumi-mlplat[drift]`` installed
            (plus ``gcsfs`` for ``gs://`` or ``s3fs`` for ``s3://``).
        labels: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` is added.
        pushgateway_url: the Pushgateway, ``http://<service>.<namespace>.svc...:<port>``.
        pushgateway_namespace: the Pushgateway's namespace, which the job's NetworkPolicy lets it
            reach on the URL's port.
        prometheus_labels: labels the Prometheus Operator selects PrometheusRules by.
        cpu: the job's CPU request and limit, vCPU.
        memory_gib: the job's memory request and limit, GiB (both frames are held in memory).
        deadline_seconds: the most a run may take (Job ``activeDeadlineSeconds``).
        run_as_user: the non-root UID the job runs as.
        alert_severity: the alerts' ``severity`` label: ``ticket`` (default: drift is looked at in
            working hours) or ``page``.
    """

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=False, loc_by_alias=False, extra="forbid", frozen=True, arbitrary_types_allowed=True
    )

    endpoint: str = Field(pattern=ENDPOINT_NAME)
    namespace: Annotated[Input[str], InputCheck(_namespace)]
    service_account_name: Annotated[Input[str], InputCheck(check_dns_subdomain)]
    image: str
    labels: dict[str, Input[str]]
    pushgateway_url: str = Field(default="http://prometheus-pushgateway.monitoring.svc.cluster.local:9091", pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    pushgateway_namespace: str = Field(default="monitoring", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    prometheus_labels: dict[str, str] = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    cpu: float = Field(default=1.0, gt=0, le=16)
    memory_gib: float = Field(default=2.0, gt=0, le=64)
    deadline_seconds: int = Field(default=1800, ge=60, le=86400)
    run_as_user: int = Field(default=10001, ge=1, le=2147483647)
    alert_severity: Literal["ticket", "page"] = "ticket"

    _labels = field_validator("labels")(check_label_inputs)

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        return _image(value)

    @field_validator("prometheus_labels")
    @classmethod
    def _prometheus_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_labels(labels)


class DriftMonitorArgsDict(TypedDict, total=False):
    """The fields of :class:`DriftMonitorArgs` as keyword arguments."""

    features: list[str]
    reference_path: str
    current_path: str
    schedule: str
    time_zone: str
    window_hours: int
    timestamp_column: str
    min_rows: int
    method: Literal["jensenshannon", "hellinger"]
    feature_threshold: float
    drift_share_threshold: float
    feature_thresholds: Mapping[str, float]
    short_window_hours: int
    long_window_hours: int
    endpoint: str
    namespace: Input[str]
    service_account_name: Input[str]
    image: str
    labels: Mapping[str, Input[str]]
    pushgateway_url: str
    pushgateway_namespace: str
    prometheus_labels: Mapping[str, str]
    cpu: float
    memory_gib: float
    deadline_seconds: int
    run_as_user: int
    alert_severity: Literal["ticket", "page"]


def _duration(seconds: int) -> str:
    """A Prometheus duration: whole hours as ``6h``, whole minutes as ``150m``, else seconds."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


class DriftMonitor(Component[DriftMonitorArgs], type_token="mlplat:k8s:DriftMonitor"):
    """Scheduled data drift detection for one endpoint, with alerts.

    Children (Kubernetes names in brackets, all in ``args.namespace``):

    - a ``CronJob`` [<endpoint>-drift] running the drift job under the team's ServiceAccount, with
      the restricted Pod Security Standard, a read-only root filesystem, requests equal to limits,
      ``concurrencyPolicy: Forbid`` and a deadline;
    - a ``NetworkPolicy`` [<endpoint>-drift] letting the job's pods reach the Pushgateway (the team
      namespace's own policies already allow DNS and HTTPS to its egress CIDRs, for the bucket);
    - a ``PrometheusRule`` [<endpoint>-drift] with the alerts of :data:`ALERTS`.

    Args:
        name: the logical name; children are ``<name>-cronjob``, ``<name>-network-policy``,
            ``<name>-prometheus-rule``.
        args: a :class:`DriftMonitorArgs` or a mapping of its snake_case fields; or keyword arguments.
        opts: resource options, passed to every child (e.g. ``provider=`` a ``kubernetes.Provider``).

    Attributes (outputs):
        cron_job_name: the CronJob's name.
        prometheus_rule_name: the PrometheusRule's name.
        metric_names: the metric names the job exports (:data:`platform_lib.drift.metrics.METRIC_NAMES`).

    Raises:
        ComponentArgsError: an unknown feature in ``feature_thresholds``, a threshold outside 0 to 1,
            a schedule that is not cron, a path that is not a bucket URI, an image not pinned by
            digest, ... before any child is registered; an Output ``namespace``,
            ``service_account_name`` or label value that turns out invalid raises it when known.
    """

    cron_job_name: pulumi.Output[str]
    prometheus_rule_name: pulumi.Output[str]
    metric_names: pulumi.Output[list]

    @overload
    def __init__(self, name: str, args: DriftMonitorArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[DriftMonitorArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: DriftMonitorArgs) -> dict[str, Any]:
        self._labels = with_managed_by(args.labels)
        object_name = f"{args.endpoint}-drift"
        self.cron_job = k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=self._metadata(object_name),
            spec=pulumi.Output.from_input(args.namespace).apply(lambda namespace: self.cron_job_spec(namespace)),
            opts=self.child_options(),
        )
        self.network_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy", metadata=self._metadata(object_name), spec=self.network_policy_spec(), opts=self.child_options()
        )
        self.prometheus_rule = k8s.apiextensions.CustomResource(
            f"{name}-prometheus-rule",
            api_version=MONITORING_API_VERSION,
            kind="PrometheusRule",
            metadata=self._metadata(object_name, extra_labels=args.prometheus_labels),
            spec=pulumi.Output.all(args.namespace, self._labels["team"]).apply(lambda values: self.prometheus_rule_spec(*values)),
            opts=self.child_options(),
        )
        return {
            "cron_job_name": pulumi.Output.from_input(object_name),
            "prometheus_rule_name": pulumi.Output.from_input(object_name),
            "metric_names": pulumi.Output.from_input(list(metrics.METRIC_NAMES)),
        }

    # --- labels and metadata -------------------------------------------------------------------

    @property
    def selector_labels(self) -> dict[str, str]:
        """The job pods' labels the NetworkPolicy selects."""
        return {"app.kubernetes.io/name": f"{self.args.endpoint}-drift", "app.kubernetes.io/component": "drift-monitor"}

    def _metadata(self, name: str, extra_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        labels = {**self._labels, **self.selector_labels, "app.kubernetes.io/part-of": "ml-platform", "mlplat.io/endpoint": self.args.endpoint}
        return {"name": name, "namespace": self.args.namespace, "labels": {**labels, **(extra_labels or {})}}

    # --- specs (plain data, so tests and the docs can read them) -------------------------------

    def cron_job_spec(self, namespace: str) -> dict[str, Any]:
        """The CronJob's spec for the resolved ``namespace`` (the job's settings name it)."""
        args = self.args
        settings = args.job_settings(endpoint=args.endpoint, namespace=namespace, pushgateway_url=args.pushgateway_url.rstrip("/"))
        security = {
            "runAsNonRoot": True,
            "runAsUser": args.run_as_user,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        resources = {"cpu": cpu_quantity(args.cpu), "memory": memory_quantity(args.memory_gib)}
        container = {
            "name": "drift",
            "image": args.image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["python", "-m", "platform_lib.drift.job"],
            "env": [
                {"name": CONFIG_ENV, "value": json.dumps(settings, sort_keys=True)},
                {"name": "DO_NOT_TRACK", "value": "1"},  # Evidently's usage telemetry off
                {"name": "HOME", "value": "/tmp"},  # caches of pandas, fsspec and the cloud SDKs go to the emptyDir
            ],
            "resources": {"requests": resources, "limits": resources},
            "securityContext": security,
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        pod = {
            "metadata": {"labels": {**{k: v for k, v in self._labels.items()}, **self.selector_labels}},
            "spec": {
                "serviceAccountName": args.service_account_name,
                "restartPolicy": "Never",
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": args.run_as_user,
                    "runAsGroup": args.run_as_user,
                    "fsGroup": args.run_as_user,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": memory_quantity(max(1.0, args.memory_gib))}}],
            },
        }
        return {
            "schedule": args.schedule,
            "timeZone": args.time_zone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": args.deadline_seconds,
                    "ttlSecondsAfterFinished": 86400,
                    "template": pod,
                }
            },
        }

    def network_policy_spec(self) -> dict[str, Any]:
        """Egress from the job's pods to the Pushgateway's namespace on its port; no ingress."""
        url = urlparse(self.args.pushgateway_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        return {
            "podSelector": {"matchLabels": self.selector_labels},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": self.args.pushgateway_namespace}}}],
                "ports": [{"protocol": "TCP", "port": port}],
            }],
        }

    def stale_after_seconds(self) -> int:
        """Seconds without a successful run before :data:`ALERTS` ``DriftMonitorStale`` fires: two
        of the schedule's longest gaps plus the run deadline."""
        return 2 * schedule_period_seconds(self.args.schedule) + self.args.deadline_seconds

    def prometheus_rule_spec(self, namespace: str, team: str) -> dict[str, Any]:
        """The alerts, each over both windows (see the module docstring).

        Args:
            namespace: the endpoint's namespace (resolved).
            team: the ``team`` label (resolved).
        """
        args = self.args
        selector = f'namespace="{namespace}",endpoint="{args.endpoint}"'
        short, long = f"{args.short_window_hours}h", f"{args.long_window_hours}h"
        labels = {"severity": args.alert_severity, "team": team, "namespace": namespace, "endpoint": args.endpoint}

        def both_windows(series: str, threshold: float) -> str:
            return f"avg_over_time({series}[{short}]) >= {threshold:g} and avg_over_time({series}[{long}]) >= {threshold:g}"

        rules: list[dict[str, Any]] = [{
            "alert": ALERTS[0],
            "expr": both_windows(f"{metrics.DRIFTED_FEATURE_SHARE}{{{selector}}}", args.drift_share_threshold),
            "labels": labels,
            "annotations": {
                "summary": f"{args.endpoint}: at least {args.drift_share_threshold:.0%} of its features drifted ({short} and {long} windows)",
                "description": f"The share of drifted input features (of {len(args.features)}) compared with the training reference reached the threshold over both windows; check the per-feature scores ({metrics.FEATURE_DRIFT_SCORE}).",
            },
        }]
        for feature, threshold in sorted(args.feature_thresholds.items()):
            rules.append({
                "alert": ALERTS[1],
                "expr": both_windows(f'{metrics.FEATURE_DRIFT_SCORE}{{{selector},{metrics.FEATURE_LABEL}="{feature}"}}', threshold),
                "labels": {**labels, metrics.FEATURE_LABEL: feature},
                "annotations": {
                    "summary": f"{args.endpoint}: feature {feature} drifted (score at least {threshold:g}, {short} and {long} windows)",
                    "description": f"The {args.method} drift score of {feature} against the training reference reached its threshold over both windows.",
                },
            })
        stale = self.stale_after_seconds()
        rules += [
            {
                "alert": ALERTS[2],
                "expr": f"time() - max({metrics.LAST_SUCCESS}{{{selector}}}) > {stale}",
                "for": "10m",
                "labels": labels,
                "annotations": {
                    "summary": f"{args.endpoint}: no drift scores for more than {_duration(stale)}",
                    "description": f"The drift CronJob {args.endpoint}-drift has not pushed scores: failed runs, too few logged rows, or an unreachable Pushgateway.",
                },
            },
            {
                "alert": ALERTS[3],
                "expr": f"absent({metrics.LAST_SUCCESS}{{{selector}}})",
                "for": _duration(stale),
                "labels": labels,
                "annotations": {
                    "summary": f"{args.endpoint}: the drift job has never reported",
                    "description": f"No {metrics.LAST_SUCCESS} series for the endpoint since the rule was loaded.",
                },
            },
        ]
        return {"groups": [{"name": f"{args.endpoint}-drift", "rules": rules}]}
