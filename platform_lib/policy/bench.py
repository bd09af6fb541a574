"""Timing of policy evaluation for the preview benchmark (``bench/preview_bench.py``).

:func:`preview_with_gate` previews a stack with the policy gate beside it, as ``mlplat preview``
does (the pack started early, ``Analyze`` streamed, each per its switch), and returns the
figures; :func:`plain_python_floor` runs the same checks as plain Python functions over the
same resources, the floor any gate can approach. The benchmark prints them per team count.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..preview.plan import Plan
from .catalogue import Resource, catalogue
from .enforcement import default_environment
from .environments import environment_policy_config
from .gate import resource_properties, shipped_pack_dir
from .stream import PolicyStream


def preview_with_gate(project_dir: Path | str, stack: str, *, config_overrides: Mapping[str, Any] | None = None,
                      pack_dir: Path | str | None = None, early_start: bool | None = None, stream: bool | None = None) -> tuple[Plan, dict[str, Any]]:
    """Preview ``stack`` and judge it with the pack, timed.

    Args:
        project_dir, stack, config_overrides: as :func:`platform_lib.preview.run_preview` takes them.
        pack_dir: the pack; the shipped one by default.
        early_start, stream: the :class:`~platform_lib.policy.stream.PolicyStream` switches
            (None reads the environment).

    Returns:
        The plan, and ``preview_seconds`` (the program, with whatever Analyze calls it sent),
        ``gate_seconds`` (after the program: waiting for the pack, the remaining Analyze answers,
        AnalyzeStack), ``total_seconds``, ``policy_startup_seconds``, ``analyze_stack_seconds``,
        ``analyzed_while_running`` (count), ``violations`` and ``mandatory_violations`` (counts),
        ``pack_peak_rss_mib`` (the pack process's peak memory, None where ``/proc`` is missing).
    """
    from ..preview import load_stack, run_preview

    settings = load_stack(project_dir, stack)
    started = time.perf_counter()
    with PolicyStream(pack_dir or shipped_pack_dir(), project=settings.project, stack=stack, stack_config=settings.config,
                      early_start=early_start, stream=stream) as gate:
        plan, _ = run_preview(project_dir, stack, config_overrides=dict(config_overrides or {}), on_resource=gate.submit)
        program_done = time.perf_counter()
        violations = gate.judge(plan)
        finished = time.perf_counter()
        running = gate.ready()
        pack_peak = _peak_rss_mib_of(running._process.pid)
        return plan, {
            "preview_seconds": program_done - started,
            "gate_seconds": finished - program_done,
            "total_seconds": finished - started,
            "policy_startup_seconds": running.startup_seconds,
            "analyze_stack_seconds": running.timings["analyze_stack_seconds"],
            "analyzed_while_running": running.timings["analyzed_while_running"],
            "violations": len(violations),
            "mandatory_violations": sum(1 for v in violations if v["level"] == "mandatory"),
            "pack_peak_rss_mib": pack_peak,
        }


def _peak_rss_mib_of(pid: int) -> float | None:
    """A running process's peak resident set size in MiB (``VmHWM`` of ``/proc/<pid>/status``, Linux); None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # the kernel reports kB
    except OSError:
        pass
    return None


def plain_python_floor(plan: Plan, environment: str | None = None) -> dict[str, Any]:
    """Run the pack's checks as plain Python over the plan's resources, with no pack and no gRPC.

    Every resource check sees every resource's checked inputs (as ``Analyze`` does), every stack
    check all resources' outputs (as ``AnalyzeStack`` does), with the environment's policy config;
    disabled policies are skipped.

    Returns:
        ``floor_seconds`` (each resource rule asked about each resource, as the pack does),
        ``floor_by_type_seconds`` (resource rules looked up by type first) and ``floor_findings``.
    """
    if environment is None:
        environment = default_environment(plan.stack, shipped_pack_dir())
    document = environment_policy_config(environment) if environment in ("dev", "staging", "prod") else {}
    rules, configs = [], {}
    for rule in catalogue():
        entry = document.get(rule.name, rule.default_level)
        level = entry.get("enforcementLevel", rule.default_level) if isinstance(entry, dict) else entry
        if level != "disabled":
            rules.append(rule)
            configs[rule.name] = {k: v for k, v in entry.items() if k != "enforcementLevel"} if isinstance(entry, dict) else {}
    resource_rules = [r for r in rules if r.kind == "resource"]
    stack_rules = [r for r in rules if r.kind == "stack"]
    inputs = [Resource(type=r.type, name=r.name, urn=r.urn, props=resource_properties(r)) for r in plan.resources]
    outputs = [Resource(type=r.type, name=r.name, urn=r.urn, props=r.outputs, parent=r.parent, dependencies=tuple(r.options.depends_on))
               for r in plan.resources]

    def stack_findings() -> int:
        return sum(len(rule.run_stack(outputs, configs[rule.name])) for rule in stack_rules)

    started = time.perf_counter()
    findings = sum(len(rule.run(resource, configs[rule.name])) for resource in inputs for rule in resource_rules) + stack_findings()
    every_rule = time.perf_counter() - started

    started = time.perf_counter()
    by_type: dict[str, list] = {}
    for resource in inputs:
        applicable = by_type.get(resource.type)
        if applicable is None:
            applicable = by_type[resource.type] = [rule for rule in resource_rules if rule.applies_to(resource.type)]
        for rule in applicable:
            rule.run(resource, configs[rule.name])
    stack_findings()
    looked_up = time.perf_counter() - started
    return {"floor_seconds": every_rule, "floor_by_type_seconds": looked_up, "floor_findings": findings}
