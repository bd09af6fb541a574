"""Many stacks in one command: previews in parallel worker processes, one combined verdict.

:func:`preview_many` previews every target (a project directory and a stack), each with the policy
gate, in ``jobs`` worker processes, and returns one :class:`StackResult` per stack and the
combined exit code. Stack references (:mod:`.references`) are resolved across the run: a stack
that other stacks reference is previewed once, whether it was asked for or not, and its outputs
are handed to every stack that reads it.

How references are scheduled: a worker never previews another stack from inside a program. When a
program reads a stack that is not previewed yet, its run stops (:class:`~.references.ReferenceNeeded`)
and the worker reports which stack it needs; the scheduler queues that stack first, and runs the
waiting stack again once the outputs are there. The first target runs alone until it has finished
or named the stack it needs, so that, when every target reads one cluster stack (team stacks),
that stack is previewed before the others start and none of them has to stop. References that
wait on each other in a ring are a cycle: each stack of the ring fails with exit 2 naming it.

Exit code of the whole run: the most severe of the stacks' codes, in the order
1 (internal error) > 2 (user error, failed program, unresolvable reference) > 3 (mandatory
violations) > 0.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .references import ReferenceNeeded, StackKey, StackOutputs

EXIT_OK, EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, EXIT_POLICY_VIOLATIONS = 0, 1, 2, 3
#: Severity of an exit code when stacks are combined: 1 > 2 > 3 > 0.
_SEVERITY = {EXIT_OK: 0, EXIT_POLICY_VIOLATIONS: 1, EXIT_USER_ERROR: 2, EXIT_INTERNAL_ERROR: 3}


def combined_exit_code(codes: Iterable[int]) -> int:
    """The most severe exit code: 1 (internal) > 2 (user error) > 3 (mandatory violations) > 0."""
    return max(codes, key=lambda code: _SEVERITY.get(code, 3), default=EXIT_OK)


@dataclass(frozen=True)
class PreviewTarget:
    """One stack to preview.

    Attributes:
        project_dir: the directory holding ``Pulumi.yaml``.
        stack: the stack name (``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir``).
        config_overrides: fully qualified config keys replacing values of the stack file.
    """

    project_dir: Path
    stack: str
    config_overrides: Mapping[str, Any] | None = None


@dataclass
class StackResult:
    """The outcome of one stack.

    Attributes:
        project, stack: the stack (``key`` is ``project/stack``).
        project_dir: its project directory.
        requested: True when the caller asked for it, False when it was previewed because another
            stack references it (``referenced_by`` names those).
        exit_code: 0 passes, 3 mandatory violations, 2 a user error (the message is ``error``),
            1 an internal error; a stack whose referenced stack failed is 2.
        error: why the stack could not be previewed or gated (secrets masked), or None.
        resources: how many resources it registered (the stack itself not counted).
        violations: the policy violations (secret values masked unless ``show_secrets``).
        gated: whether the policy pack judged it.
        stack_references: the references it read (``StackReferenceRecord.to_json`` each).
        warnings: what the program logged as warnings or errors (masked).
        plan: the ``--json`` plan (masked unless ``show_secrets``), when plans were asked for.
        seconds: wall time of its preview and gate (its last run when it had to wait).
    """

    project: str
    stack: str
    project_dir: Path
    requested: bool = True
    exit_code: int = EXIT_OK
    error: str | None = None
    resources: int = 0
    violations: list[dict[str, Any]] = field(default_factory=list)
    gated: bool = False
    stack_references: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    plan: dict[str, Any] | None = None
    seconds: float = 0.0
    referenced_by: list[str] = field(default_factory=list)
    config_file: Path | None = None
    outputs: StackOutputs | None = field(default=None, repr=False)  # in clear: never printed

    @property
    def key(self) -> StackKey:
        return StackKey(self.project, self.stack)

    @property
    def mandatory(self) -> int:
        return sum(1 for v in self.violations if v.get("level") == "mandatory")

    @property
    def advisory(self) -> int:
        return sum(1 for v in self.violations if v.get("level") != "mandatory")


@dataclass
class ManyResult:
    """Every stack's result (each stack before the stacks that read it, else in the order asked)
    and the combined exit code (:func:`combined_exit_code`)."""

    results: list[StackResult]
    exit_code: int

    def by_key(self) -> dict[str, StackResult]:
        return {str(r.key): r for r in self.results}


@dataclass(frozen=True)
class _Options:
    policy: bool
    policy_pack: Path | None
    show_secrets: bool
    keep_plans: bool
    files: Mapping[StackKey, Path]


# ---------------------------------------------------------------- one stack (in a worker process)

#: The policy packs a worker has started, by (pack directory, project): started once, reused.
_GATES: dict[tuple[Path, str], Any] = {}


def _gate_for(pack_dir: Path, project: str, stack: str):
    from ..policy.gate import PolicyGate

    key = (Path(pack_dir).resolve(), project)
    if key not in _GATES:
        # Started with no stack config in its environment (PULUMI_CONFIG): the pack serves every stack
        # of the project, each configured with ConfigureStack (run_gate), and a large config (a shared
        # stack of 500 teams: 150 KB) is over the kernel's 128 KiB limit for one environment string.
        _GATES[key] = PolicyGate(pack_dir, project=project, stack=stack, stack_config={})
    return _GATES[key]


def _close_gates() -> None:
    while _GATES:
        _, gate = _GATES.popitem()
        gate.close()


@dataclass(frozen=True)
class _Needs:
    """A worker's answer when the stack reads a stack not previewed yet (picklable, unlike the exception)."""

    key: StackKey
    project_dir: Path


def _preview_one(target: PreviewTarget, cache: Mapping[StackKey, StackOutputs], options: _Options) -> StackResult | _Needs:
    """Preview and gate one stack; a :class:`ReferenceNeeded` when it reads a stack not previewed yet."""
    from ..core.errors import PlatformError
    from ..core.secrets import mask_text
    from .engine import PreviewError, _config_text, run_preview, stack_outputs_of
    from .failure import explain
    from .project import load_stack
    from .references import ReferenceResolver

    started = time.perf_counter()
    try:
        settings = load_stack(target.project_dir, target.stack)
    except PlatformError as error:
        key = _target_key(target)
        return StackResult(project=key.project, stack=key.stack, project_dir=Path(target.project_dir), exit_code=EXIT_USER_ERROR, error=str(error))
    settings.config.update(_config_text(dict(target.config_overrides or {})))
    result = StackResult(project=settings.project, stack=settings.stack, project_dir=settings.project_dir,
                         config_file=_stack_file(settings.project_dir, settings.stack))
    resolver = ReferenceResolver(near=settings.project_dir, files=options.files, cache=dict(cache))
    try:
        plan, logs = run_preview(settings.project_dir, settings.stack, config_overrides=target.config_overrides, references=resolver)
    except ReferenceNeeded as needed:
        return _Needs(needed.key, needed.project_dir)
    except PreviewError as error:
        failure = explain(error.__cause__ or error, settings)
        secrets = error.plan.secret_texts()
        result.exit_code = EXIT_INTERNAL_ERROR if failure.internal else EXIT_USER_ERROR
        result.error = mask_text(failure.message, secrets)
        result.warnings = [mask_text(m, secrets) for level, m in error.messages if level in ("warning", "error")]
        result.seconds = time.perf_counter() - started
        return result
    except PlatformError as error:  # a stack reference that cannot be resolved, outside the program
        result.exit_code, result.error = EXIT_USER_ERROR, str(error)
        result.seconds = time.perf_counter() - started
        return result
    secrets = set() if options.show_secrets else plan.secret_texts()
    result.resources = sum(1 for r in plan.resources if r.type != "pulumi:pulumi:Stack")
    result.stack_references = [r.to_json() for r in plan.stack_references]
    result.warnings = [mask_text(m, secrets) for level, m in logs if level in ("warning", "error")]
    result.outputs = stack_outputs_of(plan, result.key, f"preview of {settings.project_dir} (stack {settings.stack})")
    if options.policy:
        from ..policy.enforcement import enforcement_for
        from ..policy.gate import PolicyGateError, default_pack_dir, run_gate

        pack_dir = options.policy_pack or default_pack_dir(settings.project_dir)
        try:
            enforcement = enforcement_for(settings.stack, settings.config, pack_dir=pack_dir, project_dir=settings.project_dir)
            if enforcement.note:
                result.warnings.append(enforcement.note)
            gate = _gate_for(pack_dir, settings.project, settings.stack)
            violations = run_gate(plan, pack_dir=pack_dir, stack_config=settings.config, gate=gate, environment=enforcement.environment)
        except PolicyGateError as error:
            result.exit_code, result.error = EXIT_USER_ERROR, str(error)
            result.seconds = time.perf_counter() - started
            return result
        plan.violations = violations
        result.violations = violations if options.show_secrets else plan.masked_violations(violations)
        result.gated = True
        if result.mandatory:
            result.exit_code = EXIT_POLICY_VIOLATIONS
    if options.keep_plans:
        result.plan = plan.to_json(show_secrets=options.show_secrets)
    result.seconds = time.perf_counter() - started
    return result


def _stack_file(project_dir: Path, stack: str) -> Path | None:
    from .project import _read_yaml

    try:
        config_dir = Path(project_dir) / _read_yaml(Path(project_dir) / "Pulumi.yaml").get("stackConfigDir", ".")
    except Exception:  # noqa: BLE001 - only a location for reports
        return None
    return (config_dir / f"Pulumi.{stack}.yaml").resolve()


def _worker_init() -> None:
    import atexit

    from ..tuning import tune_garbage_collection

    tune_garbage_collection()
    atexit.register(_close_gates)


class _InlineExecutor:
    """Runs each task at once in this process (``jobs=1``), with the interface the scheduler uses."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as error:  # noqa: BLE001 - handed back as a pool would
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        _close_gates()


def _executor(jobs: int):
    if jobs <= 1:
        return _InlineExecutor()
    # forkserver: workers are forked from a clean server process that has imported the preview
    # once (no threads of this process are copied, unlike fork; faster than spawn).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["platform_lib.preview.many", "platform_lib.policy.gate", "pulumi_aws", "pulumi_kubernetes"])
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init)


# ---------------------------------------------------------------- the scheduler

def preview_many(
    targets: Iterable[PreviewTarget | tuple[Path | str, str]],
    jobs: int | None = None,
    *,
    stack_outputs: Mapping[StackKey, Path] | None = None,
    policy: bool = True,
    policy_pack: Path | str | None = None,
    show_secrets: bool = False,
    keep_plans: bool = False,
    on_result: Callable[[StackResult], None] | None = None,
) -> ManyResult:
    """Preview (and gate) many stacks in ``jobs`` worker processes.

    Args:
        targets: the stacks, as :class:`PreviewTarget` or ``(project_dir, stack)``; one stack given
            twice is previewed once.
        jobs: worker processes (default: the CPU count); 1 runs everything in this process.
        stack_outputs: outputs files for referenced stacks (``--stack-outputs``), by stack.
        policy: run the policy gate (each worker starts the pack once and reuses it).
        policy_pack: the pack (default: each project's ``policies/``, else the shipped one).
        show_secrets: leave secret values in clear in violations, warnings and plans.
        keep_plans: return each stack's ``--json`` plan in :attr:`StackResult.plan`.
        on_result: called in this process with each stack's result as it is final.

    Returns:
        A :class:`ManyResult`. Errors of one stack (no such stack, a failing program, an
        unresolvable reference, a cycle, a pack that fails) are in its result, exit code 1 or 2;
        they do not stop the other stacks.
    """
    jobs = max(1, jobs or os.cpu_count() or 1)
    options = _Options(policy=policy, policy_pack=Path(policy_pack) if policy_pack else None, show_secrets=show_secrets,
                       keep_plans=keep_plans, files=dict(stack_outputs or {}))
    requested: list[StackKey] = []
    pending: dict[StackKey, PreviewTarget] = {}
    for item in targets:
        target = item if isinstance(item, PreviewTarget) else PreviewTarget(Path(item[0]), item[1])
        key = _target_key(target)
        if key not in pending:
            requested.append(key)
            pending[key] = target

    results: dict[StackKey, StackResult] = {}
    queue: deque[StackKey] = deque(requested)
    waits_on: dict[StackKey, StackKey] = {}
    dependents: dict[StackKey, list[StackKey]] = {}
    needs_in_order: dict[StackKey, list[StackKey]] = {}
    needed: set[StackKey] = set()
    referenced_by: dict[StackKey, list[str]] = {}

    def finish(key: StackKey, result: StackResult) -> None:
        result.requested = key in requested
        result.referenced_by = referenced_by.get(key, [])
        results[key] = result
        if on_result is not None:
            on_result(result)
        for dependent in dependents.pop(key, []):
            waits_on.pop(dependent, None)
            if dependent in results:
                continue
            if result.outputs is not None:
                queue.appendleft(dependent)
            else:
                fail(dependent, f"the stack {key}, which it references, could not be previewed (exit {result.exit_code}): "
                                f"{(result.error or '').splitlines()[0] if result.error else 'see its result'}")

    def fail(key: StackKey, message: str, code: int = EXIT_USER_ERROR) -> None:
        target = pending[key]
        finish(key, StackResult(project=key.project, stack=key.stack, project_dir=Path(target.project_dir), exit_code=code,
                                error=message, config_file=_stack_file(Path(target.project_dir), key.stack)))

    executor = _executor(jobs)
    in_flight: dict[Future, StackKey] = {}
    probing = True  # the first target runs alone until it finishes or names the stack it needs
    interrupted = True
    try:
        while queue or in_flight:
            limit = 1 if probing else jobs
            while queue and len(in_flight) < limit:
                key = queue.popleft()
                if key in results or key in in_flight.values() or key in waits_on:
                    continue
                cache = {k: results[k].outputs for k in needed if k in results and results[k].outputs is not None}
                in_flight[executor.submit(_preview_one, pending[key], cache, options)] = key
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                key = in_flight.pop(future)
                probing = False
                try:
                    outcome = future.result()
                except Exception as error:  # noqa: BLE001 - a worker died: that stack's internal error
                    fail(key, f"the worker previewing {key} failed: {type(error).__name__}: {error}", EXIT_INTERNAL_ERROR)
                    continue
                if isinstance(outcome, StackResult):
                    finish(key, outcome)
                    continue
                wanted = outcome.key
                needed.add(wanted)
                needs_in_order.setdefault(key, [])
                if wanted not in needs_in_order[key]:
                    needs_in_order[key].append(wanted)
                referenced_by.setdefault(wanted, [])
                if str(key) not in referenced_by[wanted]:
                    referenced_by[wanted].append(str(key))
                if wanted in results:  # finished meanwhile: run again with its outputs, or fail with it
                    if results[wanted].outputs is not None:
                        queue.appendleft(key)
                    else:
                        fail(key, f"the stack {wanted}, which it references, could not be previewed (exit {results[wanted].exit_code})")
                    continue
                ring = _cycle(key, wanted, waits_on)
                if ring is not None:
                    ring = _from_first_requested(ring, requested)
                    text = " -> ".join(str(k) for k in ring)
                    members = set(ring)
                    for member in members:  # each fails naming the ring, not as another's dependent
                        dependents[member] = [d for d in dependents.get(member, []) if d not in members]
                    for member in ring[:-1]:
                        if member not in results and member not in in_flight.values():
                            waits_on.pop(member, None)
                            fail(member, f"stack references form a cycle: {text}; break it, or give one of them with --stack-outputs")
                    continue
                waits_on[key] = wanted
                dependents.setdefault(wanted, []).append(key)
                if wanted not in pending:
                    pending[wanted] = PreviewTarget(outcome.project_dir, wanted.stack)
                if wanted not in in_flight.values():
                    if wanted in queue:
                        queue.remove(wanted)
                    queue.appendleft(wanted)
        interrupted = False
    finally:
        # Ctrl-C or an error here: the stacks not started yet are dropped, the running ones finish.
        executor.shutdown(wait=True, cancel_futures=interrupted)

    ordered: list[StackResult] = []
    seen: set[StackKey] = set()

    def visit(key: StackKey) -> None:
        if key in seen or key not in results:
            return
        seen.add(key)
        for wanted in needs_in_order.get(key, []):
            visit(wanted)
        ordered.append(results[key])

    for key in requested:
        visit(key)
    for key in results:
        visit(key)
    return ManyResult(results=ordered, exit_code=combined_exit_code(r.exit_code for r in ordered))


def _target_key(target: PreviewTarget) -> StackKey:
    from .project import ProjectError, _read_yaml, stack_name

    try:
        project = _read_yaml(Path(target.project_dir) / "Pulumi.yaml").get("name") or Path(target.project_dir).name
        return StackKey(str(project), stack_name(target.stack, str(project)))
    except (ProjectError, OSError):
        return StackKey(Path(target.project_dir).name, target.stack)


def _from_first_requested(ring: list[StackKey], requested: list[StackKey]) -> list[StackKey]:
    """The ring ``a -> b -> a`` rotated to start at the member asked for first (if any)."""
    members = ring[:-1]
    first = min(members, key=lambda k: requested.index(k) if k in requested else len(requested))
    start = members.index(first)
    rotated = members[start:] + members[:start]
    return [*rotated, rotated[0]]


def _cycle(key: StackKey, wanted: StackKey, waits_on: Mapping[StackKey, StackKey]) -> list[StackKey] | None:
    """The ring ``key -> wanted -> ... -> key`` when ``wanted`` (transitively) waits on ``key``."""
    ring = [key, wanted]
    current = wanted
    while current != key:
        if current not in waits_on:
            return None
        current = waits_on[current]
        ring.append(current)
    return ring
