"""``mlplat:k8s:TeamObservability``: one team's share of the platform's observability.

:class:`~platform_lib.k8s.observability.ObservabilityStack` is the cluster's (the cluster stack
registers it once: DCGM exporter, Pushgateway, Tempo, Loki, Grafana data sources, the overview
dashboard, the platform's alert route). What belongs to one team is registered by the team's own
stack with this component, so a team's change previews and deploys only that team's stack:

=============================  ==============================================================  =============
what                           objects                                                         namespace
=============================  ==============================================================  =============
dashboards                     the team's dashboard and one per endpoint (ConfigMaps labelled  monitoring
                               ``grafana_dashboard: "1"``, Grafana's sidecar loads them)
recording rules                PrometheusRule ``<name>-recording``: each endpoint's SLO         monitoring
                               series, the team's spend estimate and budget
workspace metrics              ServiceMonitor + NetworkPolicy for the team's JupyterHub hub     the team's
drift metrics                  NetworkPolicy admitting the team's namespace to the             monitoring
                               Pushgateway (when an endpoint has a DriftMonitor)
alert routing                  AlertmanagerConfig ``team-alerts`` routing the namespace's      the team's
                               alerts to the team's receivers
=============================  ==============================================================  =============

The objects are built by the same code as ObservabilityStack's
(:class:`~platform_lib.k8s.observability.ObservabilityObjects`, :mod:`platform_lib.k8s.dashboards`).
A team's receivers may reference an existing Secret in its namespace (``secret_ref``), so the
reviewed request file never holds a webhook URL or routing key. The platform's route must know
the namespaces a team route delivers (``ObservabilityStack.team_routed_namespaces``), or the
platform's receivers get the team's alerts too (the Prometheus Operator lets a namespaced route
fall through to the global one).
"""

from __future__ import annotations

from typing import Annotated, Any, Mapping, overload

import pulumi
from pydantic import Field, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.errors import located_validation_error
from ..core.inputs import Input, InputCheck
from ..core.kubernetes_names import check_dns_label
from ..core.tagging import with_managed_by
from .checks import check_labels, check_namespace_name
from .dashboards import endpoint_dashboard, recording_rules, team_dashboard
from .labels import check_label_inputs
from .observability import MONITORING_API_VERSION, ObservabilityObjects, _masked, _plain_secrets
from .observability_spec import EndpointView, TeamView, UnitPrices

__all__ = ["TeamObservability", "TeamObservabilityArgs", "TeamObservabilityArgsDict"]


class TeamObservabilityArgs(ComponentArgs):
    """Arguments of :class:`TeamObservability`.

    The documented minimum: ``labels`` and ``team``.

    Attributes:
        labels: at least ``team``, ``cost-center`` and ``environment`` (values may be Outputs);
            ``managed-by: pulumi`` is added. On every object.
        team: the team (:class:`~platform_lib.k8s.observability_spec.TeamView`): its dashboard,
            spend estimate and budget, hub scraping (``workspace``), alert receivers.
        endpoints: the team's model endpoints (:class:`~platform_lib.k8s.observability_spec.EndpointView`),
            each in the team's namespace and of the team: a dashboard and SLO recording rules each.
        monitoring_namespace: kube-prometheus-stack's namespace: the dashboards and rules go there.
        prometheus_labels: the labels kube-prometheus-stack selects ServiceMonitors and
            PrometheusRules by (default ``release: kube-prometheus-stack``).
        unit_prices: USD per requested vCPU-hour, GiB-hour and GPU-hour for the spend estimate.
        pushgateway: the cluster runs the Pushgateway (ObservabilityStack's ``pushgateway``): an
            endpoint with ``drift`` admits the team's namespace to it (default on).
        namespace: the team's namespace as its ``TeamNamespace`` gives it (``namespace_name``, an
            Output): the objects in the team's namespace (hub monitor, alert route) take it, so
            they wait for the namespace; its value must be the team's namespace. Default
            ``team.namespace_name``.
    """

    labels: dict[str, Input[str]]
    team: TeamView
    endpoints: list[EndpointView] = Field(default_factory=list)
    monitoring_namespace: str = "monitoring"
    prometheus_labels: dict[str, str] = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    unit_prices: UnitPrices = Field(default_factory=UnitPrices)
    pushgateway: bool = True
    namespace: Annotated[Input[str], InputCheck(lambda value: check_namespace_name(check_dns_label(value)))] | None = None

    _labels = field_validator("labels")(check_label_inputs)

    @field_validator("monitoring_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_namespace_name(value)

    @field_validator("prometheus_labels")
    @classmethod
    def _label_maps(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_labels(labels)

    @model_validator(mode="after")
    def _the_teams_own(self) -> "TeamObservabilityArgs":
        problems: list[tuple[tuple[str | int, ...], Any, str]] = []
        seen: set[str] = set()
        for index, endpoint in enumerate(self.endpoints):
            if endpoint.team != self.team.name:
                problems.append((("endpoints", index, "team"), endpoint.team, f"the team given ({self.team.name})"))
            if endpoint.namespace != self.team.namespace_name:
                problems.append((("endpoints", index, "namespace"), endpoint.namespace, f"the team's namespace ({self.team.namespace_name})"))
            if endpoint.name in seen:
                problems.append((("endpoints", index, "name"), endpoint.name, "an endpoint given once"))
            seen.add(endpoint.name)
        if isinstance(self.namespace, str) and self.namespace != self.team.namespace_name:
            problems.append((("namespace",), self.namespace, f"the team's namespace ({self.team.namespace_name})"))
        if problems:
            raise located_validation_error(type(self).__name__, problems)
        return self


class TeamObservabilityArgsDict(TypedDict, total=False):
    """The fields of :class:`TeamObservabilityArgs` as keyword arguments."""

    labels: Mapping[str, Input[str]]
    team: TeamView | Mapping[str, Any]
    endpoints: list[EndpointView | Mapping[str, Any]]
    monitoring_namespace: str
    prometheus_labels: Mapping[str, str]
    unit_prices: UnitPrices | Mapping[str, Any]
    pushgateway: bool
    namespace: Input[str] | None


class TeamObservability(ObservabilityObjects, Component[TeamObservabilityArgs], type_token="mlplat:k8s:TeamObservability"):
    """One team's dashboards, recording rules, hub scraping, Pushgateway admission and alert route
    (see the module docstring).

    Args:
        name: the logical name; children are ``<name>-dashboard-...``, ``<name>-recording``,
            ``<name>-alerts-team-<team>``...
        args: a :class:`TeamObservabilityArgs` or a mapping of its fields; or the fields as keywords.
        opts: resource options for every child (``provider=`` the cluster's Kubernetes provider;
            ``depends_on=`` the team's namespace, where the hub monitor and the route go).

    Attributes (outputs):
        dashboards: the dashboards' ConfigMap names, by dashboard uid.
        alert_route: the team's AlertmanagerConfig name (``team-alerts``), ``None`` without receivers.

    Raises:
        ComponentArgsError: invalid arguments (an endpoint of another team or namespace, a
            receiver with both or neither of ``secret`` and ``secret_ref``, a receiver secret of
            the wrong shape, shown as ``[secret]``), before anything is registered.
    """

    dashboards: pulumi.Output[dict[str, str]]
    alert_route: pulumi.Output[str | None]

    @overload
    def __init__(self, name: str, args: TeamObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[TeamObservabilityArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    @classmethod
    def validate_args(cls, name: str, args: Any = None, **kwargs: Any) -> TeamObservabilityArgs:
        """As :meth:`Component.validate_args`, with every plain receiver secret masked in the error."""
        from ..core.errors import ComponentArgsError

        try:
            return super().validate_args(name, args, **kwargs)
        except ComponentArgsError as error:
            raise _masked(error, _plain_secrets(args if args is not None else kwargs)) from None

    def _create(self, name: str, args: TeamObservabilityArgs) -> dict[str, Any]:
        self._name = name
        self._labels = with_managed_by(args.labels)
        team = args.team
        models: list[tuple[str, dict[str, Any]]] = [(f"team-{team.name}", team_dashboard(team, args.endpoints))]
        models += [(f"endpoint-{e.namespace}-{e.name}", endpoint_dashboard(e)) for e in args.endpoints]
        dashboards = self._dashboard_config_maps(models, args.monitoring_namespace, "endpoints")
        self.recording_rule = self._custom(f"{name}-recording", MONITORING_API_VERSION, "PrometheusRule", f"mlplat-team-{team.name}-recording"[:63],
                                           args.monitoring_namespace, recording_rules(args.endpoints, [team], args.unit_prices),
                                           extra_labels=args.prometheus_labels)
        namespace = team.namespace_name if args.namespace is None else args.namespace
        self.hub_monitor = self._hub_monitor(args.monitoring_namespace, args.prometheus_labels, team, namespace) if team.workspace else None
        self.pushgateway_ingress = None
        if args.pushgateway and any(e.drift for e in args.endpoints):
            self.pushgateway_ingress = self._pushgateway_ingress(f"{name}-pushgateway-ingress", f"prometheus-pushgateway-from-{team.namespace_name}"[:63],
                                                                 args.monitoring_namespace, [team.namespace_name])
        self.alert_route = None
        if team.receivers:
            self.alert_route = self._route(f"team-{team.name}", "team-alerts", namespace, team.receivers, f"{self.label(name)}.team.receivers")
        return {
            "dashboards": pulumi.Output.from_input(dashboards),
            "alert_route": pulumi.Output.from_input("team-alerts" if team.receivers else None),
        }
