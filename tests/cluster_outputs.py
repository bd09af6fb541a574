"""Cluster stack outputs for tests of the stacks that read the cluster (``reference_cluster``).

:func:`answer_stack_references` makes the mocked providers answer every
``pulumi:pulumi:StackReference`` from a dict of outputs by fully qualified stack name, as the
Pulumi service does (``outputs``, ``secretOutputNames``), for tests that preview a program
without its cluster stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platform_lib.preview import mocks

DATA = Path(__file__).parent / "data" / "cluster-outputs"


def aws_outputs(env: str = "prod") -> dict[str, Any]:
    """The outputs contract of an EKS cluster stack (docs/cluster.md), as the cluster stack exports it."""
    return json.loads((DATA / f"{env}.json").read_text())


def answer_stack_references(monkeypatch: pytest.MonkeyPatch, outputs: dict[str, dict[str, Any]], secret: tuple[str, ...] = ("kubeconfig",)) -> None:
    """Answer each StackReference to a stack of ``outputs`` with those outputs (``secret`` names secret)."""

    def state(context: mocks.MockContext) -> tuple[str, dict[str, Any]]:
        stack = context.inputs["name"]
        if stack not in outputs:
            raise LookupError(f"no test outputs for stack {stack}")
        return stack, {"outputs": outputs[stack], "secretOutputNames": [name for name in secret if name in outputs[stack]]}

    monkeypatch.setitem(mocks._STATE_HANDLERS, "pulumi:pulumi:StackReference", state)
