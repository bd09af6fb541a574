"""A test kit for teams that use platform_lib components in their own Pulumi projects.

Example (pytest)::

    from platform_lib.testing import preview, find

    def test_my_bucket_is_versioned():
        plan = preview(lambda: S3DataBucket("features", ...), config={"aws:region": "eu-west-1"})
        versioning = find(plan, "aws:s3/bucketVersioning:BucketVersioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"

The program runs through the real Pulumi SDK with the platform's mocked providers (realistic ids
and ARNs), and the returned :class:`~platform_lib.preview.plan.Plan` holds every registered
resource with its inputs and options, so assertions never sit inside ``.apply``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .preview.engine import PreviewError, run_preview, run_program
from .preview.plan import Plan, PlannedResource
from .preview.project import load_stack

__all__ = ["Plan", "PlannedResource", "PreviewError", "find", "find_all", "policy_violations", "preview", "preview_project"]


def preview(program: Callable[[], Any], *, config: dict[str, Any] | None = None, project: str = "test-project", stack: str = "dev") -> Plan:
    """Run ``program`` under mocked providers and return its plan.

    Args:
        program: a callable that registers resources (constructs components).
        config: fully qualified config keys to values (e.g. ``{"aws:region": "eu-west-1"}``).
        project: the project name used in URNs.
        stack: the stack name used in URNs.

    Raises:
        PreviewError: the program raised; ``error.__cause__`` is its exception (for example a
            :class:`~platform_lib.core.errors.ComponentArgsError`) and ``error.plan`` what was registered.
    """
    plan, _ = run_program(program, config=config, project=project, stack=stack)
    return plan


def preview_project(project_dir: Path | str, stack: str = "dev", *, config: dict[str, Any] | None = None) -> Plan:
    """Preview a whole Pulumi project with one of its stack files, as ``mlplat preview`` does.

    Args:
        project_dir: the directory holding ``Pulumi.yaml`` (``main`` and ``stackConfigDir`` are honoured).
        stack: the stack; its config is ``<stackConfigDir>/Pulumi.<stack>.yaml``.
        config: fully qualified keys (``my-project:replicas``) replacing values of the stack file.

    Raises:
        ProjectError: no ``Pulumi.yaml``, or no such stack.
        PreviewError: the program raised; ``error.__cause__`` is its exception.
    """
    plan, _ = run_preview(project_dir, stack, config_overrides=config)
    return plan


def policy_violations(plan: Plan, project_dir: Path | str, stack: str = "dev", *, pack_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Judge a plan with the policy pack, as ``mlplat preview`` and ``pulumi preview --policy-pack`` do.

    The pack (default: ``<project>/policies`` when it exists, else the one shipped with platform_lib)
    runs as a subprocess driven over Pulumi's Analyzer protocol, with the stack's config and the
    pack's ``config/<environment>.json``; it takes a second or two to start.

    Returns:
        One dict per violation, with the keys of :data:`platform_lib.policy.gate.VIOLATION_KEYS`
        (``policy``, ``level`` ("mandatory" or "advisory"), ``message``, ``urn``, ``resource_name`` ...).

    Raises:
        PolicyGateError: the pack could not be started or configured.
    """
    from .policy.gate import default_pack_dir, run_gate

    return run_gate(plan, pack_dir=pack_dir or default_pack_dir(project_dir), stack_config=load_stack(project_dir, stack).config)


def find_all(plan: Plan, type_token: str, name: str | None = None) -> list[PlannedResource]:
    """Every resource of ``type_token`` (and with logical ``name``, when given), in program order."""
    return [r for r in plan.resources if r.type == type_token and (name is None or r.name == name)]


def find(plan: Plan, type_token: str, name: str | None = None) -> PlannedResource:
    """The one resource of ``type_token`` (and ``name``). Raises ``LookupError`` if there are none or several."""
    matches = find_all(plan, type_token, name)
    if len(matches) != 1:
        found = ", ".join(r.name for r in find_all(plan, type_token)) or "none"
        raise LookupError(f"expected one {type_token}{f' named {name!r}' if name else ''}, found {len(matches)} (names: {found})")
    return matches[0]
