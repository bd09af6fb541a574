"""Timing of policy evaluation for the preview benchmark (``bench/preview_bench.py``).

:func:`policy_timing` starts the pack, judges one plan over the Analyzer gRPC protocol and
returns the figures; the benchmark prints them per team count.
"""

from __future__ import annotations

import time
from typing import Any

from ..preview.plan import Plan
from .gate import PolicyGate, config_file_for, load_policy_config, shipped_pack_dir


def policy_timing(plan: Plan, *, stack: str, pack_dir=None) -> dict[str, Any]:
    """Judge ``plan`` with the pack and time it.

    Returns:
        ``policy_seconds`` (Analyze for every resource plus AnalyzeStack, in seconds),
        ``policy_startup_seconds`` (starting the pack until it answers), ``analyze_per_resource_ms``,
        ``analyze_stack_seconds``, ``violations`` (count) and ``mandatory_violations`` (count).
    """
    pack = pack_dir or shipped_pack_dir()
    document = load_policy_config(config_file_for(pack, stack))
    with PolicyGate(pack, project=plan.project, stack=plan.stack) as gate:
        started = time.perf_counter()
        violations = gate.analyze(plan, document)
        elapsed = time.perf_counter() - started
        return {
            "policy_seconds": elapsed,
            "policy_startup_seconds": gate.startup_seconds,
            "analyze_per_resource_ms": gate.timings["analyze_per_resource_ms"],
            "analyze_stack_seconds": gate.timings["analyze_stack_seconds"],
            "violations": len(violations),
            "mandatory_violations": sum(1 for v in violations if v["level"] == "mandatory"),
        }
