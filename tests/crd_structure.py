"""Structural JSON Schemas for the custom resources the platform renders.

``kubernetes-validate`` ships the built-in API's schemas only. For the Argo Rollouts and Prometheus
Operator kinds these schemas check the fields the platform writes: names and nesting as in the
projects' CRDs (argoproj.io/v1alpha1 ``Rollout`` / ``AnalysisTemplate``: argo-rollouts.readthedocs.io,
"Rollout Specification" and "Analysis"; monitoring.coreos.com/v1 ``ServiceMonitor`` /
``PrometheusRule``: prometheus-operator.dev, "API reference"), their types, and that nothing
unknown appears where the platform controls the shape. The Rollout's pod template is validated
separately against the real ``PodTemplateSpec`` schema (see ``tests/test_render_k8s.py``).
"""

from __future__ import annotations

from typing import Any

_DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"}
_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_METADATA = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": _NAME, "namespace": _NAME, "labels": _LABELS, "annotations": _LABELS},
}


def _object(required: list[str], properties: dict[str, Any], closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": properties}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _resource(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return _object(
        ["apiVersion", "kind", "metadata", "spec"],
        {"apiVersion": {"const": api_version}, "kind": {"const": kind}, "metadata": _METADATA, "spec": spec},
    )


_HEADER_MATCH = _object(["headerName", "headerValue"], {"headerName": {"type": "string"}, "headerValue": _object([], {"exact": {"type": "string"}, "prefix": {"type": "string"}, "regex": {"type": "string"}})})
_STEP = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
    "properties": {
        "setWeight": {"type": "integer", "minimum": 0, "maximum": 100},
        "pause": _object([], {"duration": _DURATION}),
        "setCanaryScale": _object([], {"replicas": {"type": "integer", "minimum": 0}, "weight": {"type": "integer", "minimum": 0, "maximum": 100}, "matchTrafficWeight": {"type": "boolean"}}),
        "setHeaderRoute": _object(["name"], {"name": {"type": "string"}, "match": {"type": "array", "items": _HEADER_MATCH}}),
        "analysis": {"type": "object"},
    },
}
_ARGS = {"type": "array", "items": _object(["name"], {"name": {"type": "string"}, "value": {"type": "string"}})}

ROLLOUT = _resource(
    "argoproj.io/v1alpha1",
    "Rollout",
    _object(
        ["selector", "template", "strategy"],
        {
            "replicas": {"type": "integer", "minimum": 0},
            "selector": _object(["matchLabels"], {"matchLabels": _LABELS}),
            "template": {"type": "object"},
            "minReadySeconds": {"type": "integer", "minimum": 0},
            "progressDeadlineSeconds": {"type": "integer", "minimum": 1},
            "progressDeadlineAbort": {"type": "boolean"},
            "revisionHistoryLimit": {"type": "integer", "minimum": 0},
            "strategy": _object(
                ["canary"],
                {
                    "canary": _object(
                        ["steps"],
                        {
                            "canaryService": _NAME,
                            "stableService": _NAME,
                            "steps": {"type": "array", "items": _STEP, "minItems": 1},
                            "trafficRouting": _object(
                                [],
                                {
                                    "alb": _object(["ingress", "servicePort"], {"ingress": _NAME, "rootService": _NAME, "servicePort": {"type": "integer", "minimum": 1, "maximum": 65535}}),
                                    "managedRoutes": {"type": "array", "items": _object(["name"], {"name": {"type": "string"}})},
                                },
                            ),
                            "analysis": _object(["templates"], {"templates": {"type": "array", "minItems": 1, "items": _object(["templateName"], {"templateName": _NAME})}, "startingStep": {"type": "integer", "minimum": 0}, "args": _ARGS}),
                            "canaryMetadata": _object([], {"labels": _LABELS, "annotations": _LABELS}),
                            "stableMetadata": _object([], {"labels": _LABELS, "annotations": _LABELS}),
                            "scaleDownDelaySeconds": {"type": "integer", "minimum": 0},
                            "abortScaleDownDelaySeconds": {"type": "integer", "minimum": 0},
                            "maxSurge": {"type": ["integer", "string"]},
                            "maxUnavailable": {"type": ["integer", "string"]},
                        },
                    )
                },
            ),
        },
    ),
)

ANALYSIS_TEMPLATE = _resource(
    "argoproj.io/v1alpha1",
    "AnalysisTemplate",
    _object(
        ["metrics"],
        {
            "args": {"type": "array", "items": _object(["name"], {"name": {"type": "string"}, "value": {"type": "string"}})},
            "metrics": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    ["name", "provider"],
                    {
                        "name": {"type": "string", "minLength": 1},
                        "interval": _DURATION,
                        "initialDelay": _DURATION,
                        "count": {"type": "integer", "minimum": 0},
                        "failureLimit": {"type": "integer", "minimum": 0},
                        "inconclusiveLimit": {"type": "integer", "minimum": 0},
                        "consecutiveErrorLimit": {"type": "integer", "minimum": 0},
                        "successCondition": {"type": "string", "minLength": 1},
                        "failureCondition": {"type": "string", "minLength": 1},
                        "provider": _object(["prometheus"], {"prometheus": _object(["address", "query"], {"address": {"type": "string", "pattern": "^https?://"}, "query": {"type": "string", "minLength": 1}, "timeout": {"type": "integer"}})}),
                    },
                ),
            },
        },
    ),
)

SERVICE_MONITOR = _resource(
    "monitoring.coreos.com/v1",
    "ServiceMonitor",
    _object(
        ["selector", "endpoints"],
        {
            "selector": _object(["matchLabels"], {"matchLabels": _LABELS}),
            "endpoints": {"type": "array", "minItems": 1, "items": _object(["port"], {"port": {"type": "string"}, "path": {"type": "string", "pattern": "^/"}, "interval": _DURATION, "scheme": {"enum": ["http", "https"]}})},
            "podTargetLabels": {"type": "array", "items": {"type": "string"}},
            "targetLabels": {"type": "array", "items": {"type": "string"}},
        },
    ),
)

PROMETHEUS_RULE = _resource(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    _object(
        ["groups"],
        {
            "groups": {
                "type": "array",
                "minItems": 1,
                "items": _object(
                    ["name", "rules"],
                    {
                        "name": {"type": "string", "minLength": 1},
                        "interval": _DURATION,
                        "rules": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"oneOf": [
                                _object(["alert", "expr"], {"alert": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "expr": {"type": "string", "minLength": 1}, "for": _DURATION, "labels": _LABELS, "annotations": _LABELS}),
                                # A recording rule (Prometheus docs, "Recording rules"): a metric name, colons allowed.
                                _object(["record", "expr"], {"record": {"type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$"}, "expr": {"type": "string", "minLength": 1}, "labels": _LABELS}),
                            ]},
                        },
                    },
                ),
            }
        },
    ),
)

_SECRET_KEY = _object(["name", "key"], {"name": {"type": "string", "minLength": 1}, "key": {"type": "string", "minLength": 1}})
_MATCHER = _object(["name", "value"], {"name": {"type": "string", "minLength": 1}, "value": {"type": "string"}, "matchType": {"enum": ["=", "!=", "=~", "!~"]}})
_ROUTE: dict[str, Any] = _object([], {
    "receiver": {"type": "string"}, "matchers": {"type": "array", "items": _MATCHER}, "continue": {"type": "boolean"},
    "groupBy": {"type": "array", "items": {"type": "string"}}, "groupWait": _DURATION, "groupInterval": _DURATION, "repeatInterval": _DURATION,
    "routes": {"type": "array", "items": {"type": "object"}},
})
#: Prometheus Operator ``monitoring.coreos.com/v1alpha1`` AlertmanagerConfig (API reference:
#: route, receivers with slackConfigs / webhookConfigs / pagerdutyConfigs, secrets as SecretKeySelector).
ALERTMANAGER_CONFIG = _resource(
    "monitoring.coreos.com/v1alpha1",
    "AlertmanagerConfig",
    _object(["route", "receivers"], {
        "route": _ROUTE,
        "receivers": {"type": "array", "minItems": 1, "items": _object(["name"], {
            "name": {"type": "string", "minLength": 1},
            "slackConfigs": {"type": "array", "items": _object(["apiURL"], {"apiURL": _SECRET_KEY, "channel": {"type": "string"}, "sendResolved": {"type": "boolean"}})},
            "webhookConfigs": {"type": "array", "items": _object(["urlSecret"], {"urlSecret": _SECRET_KEY, "sendResolved": {"type": "boolean"}})},
            "pagerdutyConfigs": {"type": "array", "items": _object(["routingKey"], {"routingKey": _SECRET_KEY, "sendResolved": {"type": "boolean"}})},
        })},
    }),
)

#: Structural schemas by (apiVersion, kind).
SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("argoproj.io/v1alpha1", "Rollout"): ROLLOUT,
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): ANALYSIS_TEMPLATE,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR,
    ("monitoring.coreos.com/v1", "PrometheusRule"): PROMETHEUS_RULE,
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): ALERTMANAGER_CONFIG,
}
