"""Exact versions: what a pin is (one version, never a range), shared by the Helm releases and
the policy that checks them.

Pure Python (no Pulumi), so the components and the policy pack use the same definition.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["EXACT_VERSION", "is_exact_version"]

#: One exact SemVer 2 version (source: semver.org, "Backus–Naur Form Grammar": major.minor.patch,
#: optional ``-pre.release`` and ``+build``), optionally with a leading ``v`` as some charts tag.
#: A range (``^1.2``, ``~1.2.3``, ``>=1.2``, ``1.2.x``, ``*``, ``1.2``) is not one.
EXACT_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


def is_exact_version(version: Any) -> bool:
    """Whether ``version`` is one exact SemVer version (``77.0.0``, ``v1.2.3``, ``1.0.0-rc.1``), not a range or empty."""
    return isinstance(version, str) and bool(EXACT_VERSION.fullmatch(version.strip()))
