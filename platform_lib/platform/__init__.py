"""The platform composition layer: stack config (camelCase YAML) turned into component arguments.

:mod:`.config` holds the pydantic models of ``stacks/Pulumi.<stack>.yaml`` and validates them in
full; :mod:`.compose` turns the validated config into component arguments (prod protection and
the standard tags are decided here, once) and registers the components. Components never import
this package; ``tests/test_import_contracts.py`` enforces that.
"""

from .compose import build_platform, component_args
from .config import load_platform_config, parse_platform_config

__all__ = ["build_platform", "component_args", "load_platform_config", "parse_platform_config"]
