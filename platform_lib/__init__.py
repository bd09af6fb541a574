"""ml-platform: Pulumi component resources for an ML platform, a policy pack, and an offline preview."""

from .core.errors import ComponentArgsError, ConfigError, PlatformError

__all__ = ["ComponentArgsError", "ConfigError", "PlatformError"]
__version__ = "0.1.0"
