"""The platform composition layer: stack config (camelCase YAML) turned into component arguments.

:mod:`.config` holds the pydantic models of ``stacks/Pulumi.<stack>.yaml`` and validates them in
full; :mod:`.compose` turns the validated config into component arguments (prod protection and
the standard tags are decided here, once) and registers the components. Components never import
this package; ``tests/test_import_contracts.py`` enforces that.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_platform": ".compose",
    "component_args": ".compose",
    "load_platform_config": ".config",
    "parse_platform_config": ".config",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the composition modules on first use (PEP 562), so importing the config models
    alone does not import every component."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
