"""The policy gate beside the running program: the pack starts at once, Analyze is sent as resources register.

The Pulumi engine analyzes each resource as the program registers it and the stack once the
program ends (``stepGenerator.generateSteps`` and ``AnalyzeResources`` in pulumi/pulumi
``pkg/resource/deploy/step_generator.go``). :class:`PolicyStream` does the same with the offline
preview: it starts the pack (and sends ``Configure``) on a background thread while the program
runs, sends each registered resource's ``Analyze`` as a non-blocking gRPC call
(:meth:`PolicyGate.analyze_future`), and after the program collects the answers and sends
``AnalyzeStack`` (:meth:`PolicyGate.judge`). The violations are the one-by-one gate's, in its order
(by URN, then the pack's policy order), so the verdict and reports do not depend on timing.

Switches (see :mod:`platform_lib.tuning`): ``MLPLAT_EARLY_PACK_START=0`` starts the pack only
after the program; ``MLPLAT_STREAM_ANALYZE=0`` sends every ``Analyze`` after the program.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from ..preview.plan import Plan, PlannedResource
from ..tuning import enabled
from .enforcement import enforcement_for
from .gate import PolicyGate, config_file_for, load_policy_config


class PolicyStream:
    """A policy gate fed while the program runs. Use as a context manager, or call :meth:`close`.

    Args:
        pack_dir: the policy pack directory.
        project: the Pulumi project name given to the pack.
        stack: the stack name.
        stack_config: the stack's config (fully qualified keys to strings).
        policy_config_file: the ``--policy-pack-config`` file; default ``<pack>/config/<environment>.json``.
        environment: the environment judging the stack (:func:`~platform_lib.policy.enforcement.enforcement_for`
            resolves it from the project's bindings); None binds it from the stack name alone.
        early_start: start the pack now rather than in :meth:`judge`; None reads ``MLPLAT_EARLY_PACK_START``.
        stream: send ``Analyze`` from :meth:`submit` as resources register; None reads ``MLPLAT_STREAM_ANALYZE``.

    Errors of the pack or its config (:class:`~platform_lib.policy.gate.PolicyGateError`) are raised
    by :meth:`judge`, as the one-by-one gate raises them after the preview.
    """

    def __init__(self, pack_dir: Path | str, *, project: str, stack: str, stack_config: Mapping[str, str] | None = None,
                 policy_config_file: Path | str | None = None, environment: str | None = None, early_start: bool | None = None, stream: bool | None = None):
        self.pack_dir, self.project, self.stack = Path(pack_dir), project, stack
        self.stack_config = dict(stack_config or {})
        self.policy_config_file = policy_config_file
        self.environment = environment
        self.streaming = enabled("MLPLAT_STREAM_ANALYZE") if stream is None else stream
        self.early_start = enabled("MLPLAT_EARLY_PACK_START") if early_start is None else early_start
        self._lock = threading.Lock()
        self._by_urn: dict[str, PlannedResource] = {}
        self._waiting: list[PlannedResource] = []  # registered before the pack answered
        self._sent: dict[str, grpc.Future] = {}
        self._judging = False
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-pack-start")
        self._gate: Future[PolicyGate] | None = self._starter.submit(self._start) if self.early_start else None

    def _start(self) -> PolicyGate:
        """Start the pack and configure it (policy levels and values, then the stack)."""
        config_file = self.policy_config_file
        if config_file is None:
            environment = self.environment or enforcement_for(self.stack, self.stack_config, pack_dir=self.pack_dir).environment
            config_file = config_file_for(self.pack_dir, environment)
        document = load_policy_config(config_file)
        gate = PolicyGate(self.pack_dir, project=self.project, stack=self.stack, stack_config=self.stack_config)
        try:
            gate.configure(document, stack=self.stack, stack_config=self.stack_config)
        except BaseException:
            gate.close()
            raise
        return gate

    def submit(self, resource: PlannedResource) -> None:
        """Send ``Analyze`` for a resource the program just registered (the preview's ``on_resource``).

        Called from the SDK's RPC worker threads; never blocks on the pack. Until the pack answers,
        resources wait and are sent with the next one after it does.
        """
        if not self.streaming:
            return
        with self._lock:
            if self._judging:
                return
            self._by_urn[resource.urn] = resource
            self._waiting.append(resource)
            gate = self._gate
            if gate is None or not gate.done() or gate.exception() is not None:
                return
            for waiting in self._waiting:
                provider = waiting.options.provider.rsplit("::", 1)[0] if waiting.options.provider else ""
                if provider and provider not in self._by_urn:
                    continue  # its provider's record is not here yet: judge() analyzes it with the whole plan
                try:
                    self._sent[waiting.urn] = gate.result().analyze_future(waiting, self._by_urn)
                except (grpc.RpcError, ValueError):  # a closed channel: judge() reports the pack's error
                    break
            self._waiting.clear()

    def judge(self, plan: Plan) -> list[dict[str, Any]]:
        """Collect the answers, analyze what was not sent, send ``AnalyzeStack``; the violations (by URN, then policy).

        Raises:
            PolicyGateError: the pack could not be started or configured, or failed.
        """
        with self._lock:
            self._judging = True
        return self.ready().judge(plan, sent=self._sent)

    def ready(self, timeout: float | None = None) -> PolicyGate:
        """Wait until the pack is started and configured (starting it now if it was not); the gate.

        Raises:
            PolicyGateError: the pack could not be started or configured.
        """
        with self._lock:
            if self._gate is None:
                self._gate = self._starter.submit(self._start)
        return self._gate.result(timeout)

    def close(self) -> None:
        """Stop the pack (waiting for it to finish starting, if it is)."""
        with self._lock:
            self._judging = True
        if self._gate is not None:
            try:
                self._gate.result().close()
            except BaseException:  # noqa: BLE001 - it never started; judge() has reported why
                pass
        self._starter.shutdown(wait=True)

    def __enter__(self) -> "PolicyStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
