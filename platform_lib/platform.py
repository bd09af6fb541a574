"""Composition of a whole platform stack from its validated config.

``stacks/__main__.py`` calls :func:`build_platform`; each component family has its own
``deploy_*`` function here, so a stack only deploys what ``mlplat:components`` switches on.
"""

from __future__ import annotations

from typing import Any, Mapping

import pulumi

from .config import PlatformConfig


def build_platform(config: PlatformConfig) -> dict[str, Any]:
    """Register every resource the config asks for and return the stack outputs.

    Args:
        config: the validated stack config (see :func:`platform_lib.config.load_platform_config`).

    Returns:
        Stack outputs by name (plain values or ``pulumi.Output``).
    """
    outputs: dict[str, Any] = {"environment": config.environment.value, "region": config.region}
    if config.components.model_endpoints and config.endpoints:
        endpoints = deploy_model_endpoints(config)
        outputs["modelEndpoints"] = {key: {"service": endpoint.service_dns, "loadBalancer": endpoint.load_balancer_hostname} for key, endpoint in endpoints.items()}
    return outputs


def deploy_model_endpoints(config: PlatformConfig, namespaces: Mapping[str, pulumi.Resource] | None = None) -> dict[str, Any]:
    """Deploy every ``mlplat:endpoints`` entry as a ``ModelEndpoint`` in its team's namespace.

    Args:
        config: the validated stack config; each endpoint's team exists (checked when the config
            is loaded, see :func:`platform_lib.config.endpoint_issues`).
        namespaces: the teams' Namespace resources by team name, when the stack creates them; each
            endpoint then depends on its team's namespace.

    Returns:
        The ``ModelEndpoint`` components by ``<team>/<endpoint name>``.

    Raises:
        ConfigError: an endpoint names a team the stack does not define.
    """
    from .config import endpoint_issues
    from .errors import ConfigError
    from .k8s.model_endpoint import ModelEndpoint

    unknown = [issue for issue in endpoint_issues(config) if issue.path.endswith(".team")]
    if unknown:
        raise ConfigError("model endpoints name unknown teams", unknown)
    endpoints: dict[str, Any] = {}
    for endpoint in config.endpoints:
        team = config.team(endpoint.team)
        labels = {**config.standard_tags(), "team": team.name}
        values = {**endpoint.model_dump(exclude={"team"}), "namespace": team.name, "environment": config.environment.value, "labels": labels}
        depends = [namespaces[team.name]] if namespaces and team.name in namespaces else []
        endpoints[f"{team.name}/{endpoint.name}"] = ModelEndpoint(
            f"{team.name}-{endpoint.name}", values, pulumi.ResourceOptions(depends_on=depends)
        )
    return endpoints
