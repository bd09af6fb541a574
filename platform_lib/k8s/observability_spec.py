"""What :class:`~platform_lib.k8s.observability.ObservabilityStack` is told about the platform: its
model endpoints, its teams, the unit prices spend is estimated with, and the alert receivers.

Plain pydantic models with snake_case fields (the Kubernetes layer never imports the stack config;
the platform layer builds these from it). The dashboards (:mod:`platform_lib.k8s.dashboards`) and
the recording rules are generated from them, so each model endpoint's own metric names (its
``observability.request_metric``, ``latency_metric`` and ``slo.quality_metric``) reach its panels.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.errors import located_validation_error
from ..core.inputs import is_output
from ..core.kubernetes_names import DNS_LABEL
from ..core.secrets import SECRET_PLACEHOLDER
from .checks import check_namespace_name
from .model_endpoint_spec import ENDPOINT_NAME

__all__ = ["DEFAULT_SEVERITIES", "AlertReceiver", "EndpointView", "METRIC_NAME", "ReceiverSecretRef", "Severity", "TeamView", "UnitPrices"]

#: A Prometheus metric name (source: Prometheus docs, "Data model", metric names).
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
_DNS_LABEL = f"^{DNS_LABEL}$"

#: The ``severity`` label values routed: the platform's components use ``page`` and ``ticket``
#: (ModelEndpoint, DriftMonitor, the GPU alerts); kube-prometheus-stack's own rules use
#: ``critical``, ``warning`` and ``info`` (and ``none`` for its always-firing ``Watchdog``, which is
#: never routed to a receiver).
Severity = Literal["page", "ticket", "critical", "warning", "info"]
#: The severities a receiver takes unless told otherwise.
DEFAULT_SEVERITIES: tuple[str, ...] = ("page", "ticket", "critical", "warning")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, arbitrary_types_allowed=True)


def _namespace(value: str) -> str:
    return check_namespace_name(value)


class EndpointView(_Spec):
    """One model endpoint as its dashboard and the platform's recording rules see it.

    The metric names and objectives are the endpoint's own (``ModelEndpoint``'s
    ``observability`` block); its ServiceMonitor scrapes them with the labels ``namespace``,
    ``service``, ``track`` (``stable``/``canary``) and ``app_kubernetes_io_version``.

    Attributes:
        name: the endpoint's Service name (``ModelEndpoint.service_name``).
        namespace: its team namespace.
        team: the owning team (the ``team`` label).
        cloud: where its cluster runs, ``aws`` or ``gcp`` (shown on the overview).
        request_metric: the request counter, with a ``code`` label (default ``http_requests_total``).
        latency_metric: the request-duration histogram without ``_bucket`` (default
            ``http_request_duration_seconds``).
        quality_metric: the model-quality gauge (default ``model_precision``).
        quality_objective: the lowest acceptable quality (0 to 1 for a ratio; default 0.9).
        error_rate_percent: the error objective in percent of requests answered 5xx (default 1).
        latency_p99_seconds: the p99 latency objective in seconds (default 0.5).
        progressive: a canary or A/B rollout (an Argo Rollouts ``Rollout``): the dashboard shows the
            canary next to stable.
        drift: the endpoint has a ``DriftMonitor``: the dashboard shows the share of drifted
            features, each feature's drift score and the time since the last drift run.
    """

    name: str = Field(pattern=ENDPOINT_NAME)
    namespace: str = Field(pattern=_DNS_LABEL, max_length=63)
    team: str = Field(pattern=_DNS_LABEL, max_length=63)
    cloud: Literal["aws", "gcp"] = "aws"
    request_metric: str = Field(default="http_requests_total", pattern=METRIC_NAME)
    latency_metric: str = Field(default="http_request_duration_seconds", pattern=METRIC_NAME)
    quality_metric: str = Field(default="model_precision", pattern=METRIC_NAME)
    quality_objective: float = Field(default=0.9, ge=0)
    error_rate_percent: float = Field(default=1.0, gt=0, le=100)
    latency_p99_seconds: float = Field(default=0.5, gt=0, le=600)
    progressive: bool = False
    drift: bool = False

    _namespace = field_validator("namespace")(_namespace)


#: The receiver with no integrations: where alerts no receiver takes end (Alertmanager drops them).
NULL_RECEIVER = "null"

_SLACK_WEBHOOK = re.compile(r"^https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+$")
_HTTPS_URL = re.compile(r"^https://[^\s/]+(/[^\s]*)?$")
#: A PagerDuty Events API v2 integration ("routing") key: 32 characters (source: PagerDuty
#: Developer docs, "Events API v2 Overview", routing_key).
_PAGERDUTY_KEY = re.compile(r"^[A-Za-z0-9]{32}$")

_SECRET_EXPECTED = {
    "slack": "a Slack incoming-webhook URL (https://hooks.slack.com/services/...)",
    "webhook": "an https:// URL (plain http would send the alerts unencrypted)",
    "pagerduty": "a PagerDuty Events API v2 routing key (32 letters and digits)",
}


def check_receiver_secret(kind: str, value: Any) -> None:
    """Raise ``ValueError`` (without echoing the value) unless ``value`` fits a receiver of ``kind``.

    ``[secret]``, what an offline preview gets for a ``secure:`` config value it cannot decrypt, is
    let through: the real value is checked where it can be read (``pulumi preview`` / ``up``).
    """
    if value == SECRET_PLACEHOLDER:
        return
    pattern = {"slack": _SLACK_WEBHOOK, "webhook": _HTTPS_URL, "pagerduty": _PAGERDUTY_KEY}[kind]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(_SECRET_EXPECTED[kind])


class ReceiverSecretRef(_Spec):
    """A key of an existing Kubernetes Secret in the AlertmanagerConfig's namespace (the team's),
    holding a receiver's URL or key: how a team's reviewed request file names its receiver's
    secret without holding it (as ``MlWorkspace``'s OAuth client secret). The value is not read
    by Pulumi; Alertmanager reads it (Prometheus Operator ``SecretKeySelector``).

    Attributes:
        name: the Secret's name, a DNS subdomain.
        key: the key in the Secret's data.
    """

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)


class AlertReceiver(_Spec):
    """Where one team's (or the platform's) alerts go.

    Attributes:
        name: the receiver's name, a DNS label (unique per team).
        kind: ``slack`` (incoming webhook), ``webhook`` (Alertmanager's generic webhook, https only)
            or ``pagerduty`` (Events API v2).
        secret: the Slack webhook URL, the webhook URL or the PagerDuty routing key: a secret,
            given as a ``pulumi.Output`` (e.g. ``pulumi.Config().require_secret(...)``) or a plain
            string. It is stored in a Kubernetes Secret the AlertmanagerConfig references, never
            in the AlertmanagerConfig itself, and never shown in an error message.
        secret_ref: instead of ``secret``, a key of an existing Secret in the AlertmanagerConfig's
            namespace (:class:`ReceiverSecretRef`): the value never passes through Pulumi (a team's
            receivers in its request file). Exactly one of ``secret`` and ``secret_ref``.
        channel: the Slack channel (``#name``), for ``slack`` only; default the webhook's own.
        severities: the ``severity`` label values routed here (default :data:`DEFAULT_SEVERITIES`:
            ``page``, ``ticket``, ``critical``, ``warning``); an alert whose severity no receiver
            lists (``info``, the ``none`` of kube-prometheus-stack's ``Watchdog``) is not sent.
    """

    name: str = Field(pattern=_DNS_LABEL, max_length=63)
    kind: Literal["slack", "webhook", "pagerduty"]

    @field_validator("name")
    @classmethod
    def _not_the_sink(cls, name: str) -> str:
        if name == NULL_RECEIVER:
            raise ValueError(f"a name other than {NULL_RECEIVER!r} (the receiver that sends nothing, for unrouted alerts)")
        return name

    secret: Any = None
    secret_ref: ReceiverSecretRef | None = None
    channel: str | None = Field(default=None, pattern=r"^[#@]?[a-z0-9][a-z0-9._-]{0,79}$")
    severities: list[Severity] = Field(default_factory=lambda: list(DEFAULT_SEVERITIES), min_length=1)

    @model_validator(mode="after")
    def _secret_fits_kind(self) -> "AlertReceiver":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        if (self.secret is None) == (self.secret_ref is None):
            problems.append((("secret",), SECRET_PLACEHOLDER if self.secret is not None else None,
                             "exactly one of secret (the value) and secret_ref (an existing Secret's name and key)"))
        elif self.secret is not None and not is_output(self.secret):
            try:
                check_receiver_secret(self.kind, self.secret)
            except ValueError as error:
                # The value is a secret: the error shows a placeholder, never the value.
                problems.append((("secret",), SECRET_PLACEHOLDER, str(error)))
        if self.channel is not None and self.kind != "slack":
            problems.append((("channel",), self.channel, "no channel: only a slack receiver takes one"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self


class TeamView(_Spec):
    """One team as its dashboard, the cost rules and the alert routing see it.

    Attributes:
        name: the team's name (the ``team`` label).
        namespace: its namespace (default: the team's name).
        monthly_budget_usd: its monthly budget in USD, shown against its estimated spend; ``None``
            shows spend alone.
        workspace: the team runs a JupyterHub workspace (``MlWorkspace``) in its namespace: the
            stack scrapes its hub's metrics for the workspace-users panel.
        receivers: where the team's alerts go; empty sends them on to the platform's receivers.
    """

    name: str = Field(pattern=_DNS_LABEL, max_length=63)
    namespace: str | None = Field(default=None, pattern=_DNS_LABEL, max_length=63)
    monthly_budget_usd: float | None = Field(default=None, gt=0)
    workspace: bool = False
    receivers: list[AlertReceiver] = Field(default_factory=list)

    @field_validator("namespace")
    @classmethod
    def _namespace_name(cls, value: str | None) -> str | None:
        return None if value is None else check_namespace_name(value)

    @field_validator("receivers")
    @classmethod
    def _unique(cls, receivers: list[AlertReceiver]) -> list[AlertReceiver]:
        names = [r.name for r in receivers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"receivers with distinct names (repeated: {', '.join(duplicates)})")
        return receivers

    @property
    def namespace_name(self) -> str:
        """The team's namespace: ``namespace``, else the team's name."""
        return self.namespace or self.name


class UnitPrices(_Spec):
    """List prices the spend estimate multiplies requested resources by, in USD per hour.

    The estimate is what the team's running pods *request* (kube-state-metrics
    ``kube_pod_container_resource_requests``) times these prices: not a bill. The defaults are
    Google Compute Engine on-demand prices in us-central1 (E2 predefined vCPU 0.021811 USD/h,
    memory 0.002923 USD per GiB-hour; NVIDIA T4 0.35 USD/h; source: cloud.google.com/compute/
    vm-instance-pricing and /compute/gpus-pricing); give your own for your cloud and discounts.

    Attributes:
        vcpu_hour_usd: one requested vCPU for an hour.
        memory_gib_hour_usd: one requested GiB of memory for an hour.
        gpu_hour_usd: one requested ``nvidia.com/gpu`` for an hour.
    """

    vcpu_hour_usd: float = Field(default=0.021811, ge=0)
    memory_gib_hour_usd: float = Field(default=0.002923, ge=0)
    gpu_hour_usd: float = Field(default=0.35, ge=0)
