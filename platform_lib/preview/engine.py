"""Run a Pulumi Python program through the real SDK with mocked providers, and record its plan.

Only the engine's resource monitor is replaced (``pulumi.runtime.set_mocks(monitor=...)``): the
program, the components and the SDK's serialization all run for real. The recording monitor keeps
what the plain mocks cannot see: parent, protect, retain-on-delete, dependencies,
delete-before-replace and aliases. It also runs the program's transforms (the
``transforms=`` resource option and ``pulumi.runtime.register_resource_transform``), which the
Pulumi engine, not the SDK, applies. Each run happens on its own thread in a fresh
``contextvars.Context`` with its own event loop, so several stacks can be previewed one after
another in one process without sharing SDK state, a failed run included.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import runpy
import sys
import threading
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Callable, TypeVar

import pulumi
import pulumi_aws
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ..core.errors import ConfigError, Issue, PlatformError
from .mocks import GCP_PROJECT, PlatformMocks
from .plan import Plan, PlannedResource, ResourceOptionsRecord, property_path, secret_texts
from .project import StackSettings, load_stack
from .references import (
    STACK_REFERENCE_TYPE,
    ReferenceNeeded,
    ReferenceResolver,
    StackKey,
    StackOutputs,
    StackReferenceError,
    StackReferenceRecord,
    top_level_name,
)
from .transforms import TransformChain

#: Called once per registered resource with (count so far, type token, logical name).
ProgressCallback = Callable[[int, str, str], None]
#: Called once per registered resource with its record, as soon as it is registered (from the
#: SDK's RPC worker threads): the policy gate streams ``Analyze`` calls from it.
ResourceCallback = Callable[[PlannedResource], None]

_SIG = rpc._special_sig_key


def to_plain(value: Any, secret_paths: list[str] | None = None, path: tuple[str | int, ...] = ()) -> Any:
    """Decode a property value from its wire form to JSON-ready data.

    Secrets are unwrapped (their property paths, :func:`~platform_lib.preview.plan.property_path`,
    are appended to ``secret_paths`` when given), unknowns become ``None``, resource references
    become their URN, assets and archives a small description, and output values their value.
    """
    if isinstance(value, dict):
        signature = value.get(_SIG)
        if signature == rpc._special_secret_sig or (signature == rpc._special_output_value_sig and value.get("secret")):
            if secret_paths is not None:
                secret_paths.append(property_path(path))
            return to_plain(value.get("value"))
        if signature == rpc._special_output_value_sig:
            return to_plain(value.get("value"), secret_paths, path)
        if signature == rpc._special_resource_sig:
            return value.get("urn")
        if signature == rpc._special_asset_sig:
            return {"asset": {k: v for k, v in value.items() if k != _SIG}}
        if signature == rpc._special_archive_sig:
            return {"archive": sorted(k for k in value if k != _SIG)}
        return {str(k): to_plain(v, secret_paths, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v, secret_paths, (*path, i)) for i, v in enumerate(value)]
    if value == rpc.UNKNOWN:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def struct_to_plain(struct: Any, secret_paths: list[str] | None = None) -> dict[str, Any]:
    """A protobuf ``Struct`` of resource properties as plain JSON-ready data (secret paths as :func:`to_plain`)."""
    return to_plain(json_format.MessageToDict(struct), secret_paths) if struct is not None else {}


def _narrow_secret_paths(output_paths: list[str], input_paths: list[str]) -> list[str]:
    """The secret paths of a mocked state, as precise as its inputs'. The SDK's mock monitor
    deserializes the inputs it hands to the mocks, which marks a whole object or list secret when
    one value inside is; an output path above secret input paths is replaced by those paths."""
    narrowed: list[str] = []
    for path in output_paths:
        below = [p for p in input_paths if p == path or p.startswith((path + ".", path + "["))]
        narrowed.extend(p for p in (below or [path]) if p not in narrowed)
    return narrowed


def _alias_text(alias: Any) -> str:
    """An alias as text: its URN, or its spec's set fields (``name=old type=... noParent=True``)."""
    fields = json_format.MessageToDict(alias)
    if "urn" in fields:
        return fields["urn"]
    return " ".join(f"{key}={value}" for key, value in fields.get("spec", {}).items() if value not in ("", None))


class ConstructionOrder:
    """The order in which the program constructed its resources, to list the plan in program order.

    The SDK registers a resource from a task that first awaits its inputs and its parent, and
    sends the RPC from an executor thread, so registrations reach the monitor in a different
    order on every run. What is synchronous is the constructor: ``Resource.__init__`` runs every
    stack transformation (``pulumi.runtime.register_stack_transformation``) before it schedules
    the registration. :meth:`observe` is such a transformation: it changes nothing and numbers
    each resource, keyed by what its URN is made of (the parent's qualified type chain, the
    type and the name), which is known at construction. Resources constructed inside an
    ``apply`` are numbered when their callback runs.
    """

    def __init__(self) -> None:
        self._qualified_types: dict[pulumi.Resource, str] = {}
        self._positions: dict[tuple[str, str], int] = {}

    def observe(self, args: pulumi.ResourceTransformationArgs) -> None:
        """A stack transformation that numbers ``args.resource`` and returns ``None`` (no change)."""
        parent = args.opts.parent if args.opts is not None else None
        parent_type = self._qualified_types.get(parent) if parent is not None else None
        qualified = f"{parent_type}${args.type_}" if parent_type else args.type_
        self._qualified_types[args.resource] = qualified
        self._positions.setdefault((qualified, args.name), len(self._positions))

    def sort(self, records: list[PlannedResource]) -> None:
        """Sort ``records`` in place: the stack first, then in construction order; anything the
        transformation did not see keeps its registration order, after the rest."""

        def position(record: PlannedResource) -> int:
            if record.type == "pulumi:pulumi:Stack":
                return -1
            _, _, qualified, name = record.urn.split("::", 3)
            return self._positions.get((qualified, name), len(self._positions))

        records.sort(key=position)


class DuplicateResourceError(PlatformError):
    """The program registered two resources with one URN (same type, name and parent type chain).

    The Pulumi engine refuses the second registration ("Duplicate resource URN"); so does the preview.
    """

    def __init__(self, urn: str):
        self.urn = urn
        super().__init__(
            f"duplicate resource URN {urn!r}: the program registers two resources of this type with this name "
            f"(under the same parent type); the Pulumi engine refuses the second one. Give each resource a unique name."
        )


class RecordingMonitor(sdk_mocks.MockMonitor):
    """The SDK's ``MockMonitor``, recording every registration with its options.

    Raises (to the program, from ``RegisterResource``):
        DuplicateResourceError: a second registration of one URN.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks, on_register: ProgressCallback | None = None, on_resource: ResourceCallback | None = None,
                 references: ReferenceResolver | None = None):
        super().__init__(mocks)
        self._references = references
        #: The StackReferences the program read, in the order it read them.
        self.stack_references: list[StackReferenceRecord] = []
        #: Notes for the user about them (e.g. an outputs file without secret values).
        self.reference_notes: list[str] = []
        #: The secret values the references gave the program, masked in everything printed.
        self.reference_secrets: set[str] = set()
        #: In deferring mode, the stack a reference needs before this run can finish.
        self.needed: ReferenceNeeded | None = None
        self._on_resource = on_resource
        self.worker_loops: set[asyncio.AbstractEventLoop] = set()
        self.records: list[PlannedResource] = []
        self._by_urn: dict[str, PlannedResource] = {}
        self._registered_urns: set[str] = set()
        self._registered_urns_lock = threading.Lock()  # registrations arrive on several worker threads
        self._on_register = on_register
        self._transforms = TransformChain()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the Pulumi engine would give: the parent's whole qualified type chain, and no
        stack prefix for the stack's direct children (the SDK's MockMonitor keeps only the last
        parent type and includes the stack's)."""
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                qualified = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), qualified, name])

    def _remember_worker_loop(self) -> None:
        """The SDK's mock monitor gives each RPC worker thread an event loop it never closes;
        remember it so the run can close it (a loop collected later warns about closed sockets)."""
        try:
            self.worker_loops.add(asyncio.get_event_loop())
        except RuntimeError:  # this thread has no loop
            pass

    def Invoke(self, request):  # noqa: N802 - the gRPC method name
        response = super().Invoke(self._transforms.apply_to_invoke(request))
        self._remember_worker_loop()
        return response

    def ReadResource(self, request):  # noqa: N802 - the gRPC method name (Resource.get)
        if request.type == STACK_REFERENCE_TYPE:
            return self._read_stack_reference(request)
        response = super().ReadResource(request)
        self._remember_worker_loop()
        return response

    def _mocked_stack_reference(self, request, name: str):
        """The answer of a state handler registered for ``pulumi:pulumi:StackReference``
        (``@resource_state``, a test's stand-in for the referenced stacks), or None when none is
        registered or it raises ``LookupError`` (it has no answer for this stack)."""
        from .mocks import _STATE_HANDLERS, MockContext

        handler = _STATE_HANDLERS.get(STACK_REFERENCE_TYPE)
        if handler is None:
            return None
        context = MockContext(self.mocks.region, self.mocks.gcp_project, self.mocks.stack, request.type, request.name, {"name": name})
        try:
            _, state = handler(context)
        except LookupError:
            return None
        outputs = dict(state.get("outputs") or {})
        secret = sorted(set(state.get("secretOutputNames") or []) & set(outputs))
        return self._answer(request, name, StackOutputs(key=StackKey("", name), outputs=outputs, secret_names=secret,
                                                        source="a mocked answer (a state handler registered for pulumi:pulumi:StackReference)",
                                                        kind="mock"))

    def _read_stack_reference(self, request):
        """Answer a ``pulumi.StackReference`` read as the engine does: ``outputs`` (secret ones
        wrapped as secrets) and ``secretOutputNames``, from the run's :class:`ReferenceResolver`.

        Raises (to the program):
            StackReferenceError: no resolver (a program run with no project), or it cannot resolve.
            ReferenceNeeded: deferring, and the referenced stack is not previewed yet.
        """
        name = request.id or request.name
        answered = self._mocked_stack_reference(request, name)
        if answered is not None:
            return answered
        if self._references is None:
            raise StackReferenceError(f"pulumi.StackReference({name!r}): this run has no way to resolve stack references (run the "
                                      f"project with mlplat preview or platform_lib.testing.preview_project, which preview the "
                                      f"referenced stack or read --stack-outputs)")
        try:
            resolved = self._references.resolve(name, StackKey(pulumi.get_project(), pulumi.get_stack()))
        except ReferenceNeeded as needed:
            self.needed = self.needed or needed
            raise
        return self._answer(request, name, resolved)

    def _answer(self, request, name: str, resolved: StackOutputs):
        """The read's response: the outputs (secret ones wrapped) and ``secretOutputNames``; recorded for the plan."""
        secret = set(resolved.secret_names)
        outputs = {key: ({_SIG: rpc._special_secret_sig, "value": value} if key in secret else value) for key, value in resolved.outputs.items()}
        properties = struct_pb2.Struct()
        properties.update({"name": name, "outputs": outputs, "secretOutputNames": sorted(secret)})
        self.stack_references.append(StackReferenceRecord(name=request.name, stack=name, source=resolved.source, kind=resolved.kind,
                                                          output_names=sorted(resolved.outputs), secret_names=sorted(secret)))
        self.reference_notes.extend(n for n in resolved.notes if n not in self.reference_notes)
        self.reference_secrets |= secret_texts(resolved.outputs, sorted(secret))
        urn = self.make_urn(request.parent, request.type, request.name)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=properties)

    def RegisterStackTransform(self, request):  # noqa: N802 - the gRPC method name
        self._transforms.add_stack_transform(request)
        return super().RegisterStackTransform(request)

    def RegisterStackInvokeTransform(self, request):  # noqa: N802 - the gRPC method name
        self._transforms.add_stack_invoke_transform(request)
        return super().RegisterStackInvokeTransform(request)

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        if self.needed is not None:  # deferring: this run is thrown away, stop it early
            raise self.needed
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._registered_urns_lock:
            if urn in self._registered_urns:
                raise DuplicateResourceError(urn)
            self._registered_urns.add(urn)
        if request.type != "pulumi:pulumi:Stack":
            request = self._transforms.apply(request, urn)
        response = super().RegisterResource(request)
        self._remember_worker_loop()
        secret_inputs: list[str] = []
        secret_outputs: list[str] = []
        inputs = struct_to_plain(request.object, secret_inputs) if request.type != "pulumi:pulumi:Stack" else {}
        dependencies = list(request.dependencies)
        for property_dependencies in request.propertyDependencies.values():
            dependencies.extend(u for u in property_dependencies.urns if u not in dependencies)
        aliases = [str(a) for a in request.aliasURNs] + [_alias_text(a) for a in request.aliases]
        timeouts = request.customTimeouts
        record = PlannedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=inputs,
            outputs=struct_to_plain(response.object, secret_outputs) if request.custom else {},
            id=response.id if request.custom else "",
            options=ResourceOptionsRecord(
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                depends_on=dependencies,
                delete_before_replace=bool(request.deleteBeforeReplace),
                aliases=aliases,
                ignore_changes=list(request.ignoreChanges),
                replace_on_changes=list(request.replaceOnChanges),
                provider=request.provider,
                custom_timeouts={k: v for k, v in (("create", timeouts.create), ("update", timeouts.update), ("delete", timeouts.delete)) if v},
            ),
            secret_inputs=secret_inputs,
            secret_outputs=_narrow_secret_paths(secret_outputs, secret_inputs),
        )
        self.records.append(record)
        self._by_urn[record.urn] = record
        if self._on_register is not None:
            self._on_register(len(self.records), record.type, record.name)
        if self._on_resource is not None:
            self._on_resource(record)
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - the gRPC method name
        record = self._by_urn.get(request.urn)
        if record is not None and not record.custom:
            record.secret_outputs = []
            record.outputs = struct_to_plain(request.outputs, record.secret_outputs)
        return super().RegisterResourceOutputs(request)


class _CollectingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelname.lower(), record.getMessage()))


class PreviewError(Exception):
    """The program failed. ``__cause__`` is the program's exception; ``plan`` what it registered first;
    ``messages`` what it logged (and the config notes) before failing, as (level, text)."""

    def __init__(self, cause: BaseException, plan: Plan, messages: list[tuple[str, str]] | None = None):
        self.plan = plan
        self.messages = messages or []
        super().__init__(str(cause))


@contextlib.contextmanager
def _program_environment(program_dir: Path):
    """Make the program importable and its directory current, as the Python language host does:
    with ``main`` set, the program runs as a script from that directory (source: pulumi/pulumi
    pull request 12086, "Python module support", and issue 20305)."""
    previous_cwd = os.getcwd()
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(program_dir))


def _ignore_unretrieved_exceptions(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler. When a program raises (in an ``apply`` for instance), the SDK
    puts the exception on every output that depends on it, and asyncio logs each future nobody
    awaited as "exception was never retrieved" with a traceback; the run reports the exception
    once through :class:`PreviewError`, so those copies are dropped, and so are the SDK's tasks that
    the failure left pending ("Task was destroyed but it is pending", logged whenever the garbage
    collector reaches them, possibly during a later run). Anything else is logged as usual."""
    message = str(context.get("message", ""))
    if "never retrieved" in message or message.startswith("Task was destroyed but it is pending"):
        return
    loop.default_exception_handler(context)


def _isolate_sdk_state() -> None:
    """Give this run its own set of pending outputs. ``set_mocks`` leaves the SDK's ``outputs`` and
    ``lock`` at their process-wide defaults, so a failed run's unfinished tasks (bound to its closed
    loop) would be awaited by the next run, which then fails with "Event loop is closed"."""
    settings.SETTINGS.outputs = set()
    settings.SETTINGS.lock = threading.Lock()


#: The regions the AWS provider accepts for ``aws:region`` (source: ``pulumi_aws.Region``, generated
#: from the provider's schema); the provider refuses any other when it is configured.
AWS_REGIONS = frozenset(region.value for region in pulumi_aws.Region)
#: The region the preview uses when the stack does not set ``aws:region``.
DEFAULT_AWS_REGION = "us-east-1"


def aws_region(config: dict[str, str]) -> str:
    """The stack's ``aws:region`` (config text), or :data:`DEFAULT_AWS_REGION` when unset.

    Raises:
        ConfigError: the value is not one of :data:`AWS_REGIONS`, for any project (the platform's
            stack config checks it too, but a team's own program would otherwise get ARNs in it).
    """
    region = config.get("aws:region", DEFAULT_AWS_REGION)
    if region not in AWS_REGIONS:
        expected = f"an AWS region the AWS provider knows (pulumi_aws.Region, e.g. us-east-1, eu-west-1; {len(AWS_REGIONS)} in all)"
        raise ConfigError("stack config", [Issue("aws:region", region, expected)])
    return region


def _run(stack_settings: StackSettings, program: Callable[[], Any] | None, on_register: ProgressCallback | None,
         on_resource: ResourceCallback | None = None, references: ReferenceResolver | None = None) -> tuple[Plan, list[tuple[str, str]]]:
    config = stack_settings.config
    region = aws_region(config)
    asyncio.set_event_loop(asyncio.new_event_loop())
    asyncio.get_event_loop().set_exception_handler(_ignore_unretrieved_exceptions)
    mocks = PlatformMocks(stack=stack_settings.stack, region=region, gcp_project=config.get("gcp:project", GCP_PROJECT))
    monitor = RecordingMonitor(mocks, on_register, on_resource, references)
    logger = logging.getLogger(f"mlplat.preview.{stack_settings.project}.{stack_settings.stack}")
    logger.propagate = False
    handler = _CollectingHandler()
    logger.addHandler(handler)
    plan = Plan(project=stack_settings.project, stack=stack_settings.stack, resources=monitor.records, outputs={},
                known_secrets=stack_settings.secret_values(), stack_references=monitor.stack_references)
    handler.messages.extend(("warning", note) for note in stack_settings.notes)
    order = ConstructionOrder()
    try:
        set_all_config(dict(config), list(stack_settings.secret_keys))
        sdk_mocks.set_mocks(mocks, project=stack_settings.project, stack=stack_settings.stack, preview=True, logger=logger, monitor=monitor)
        _isolate_sdk_state()
        pulumi.runtime.register_stack_transformation(order.observe)
        if program is None:
            main = str(stack_settings.program_dir / "__main__.py")
            program = lambda: runpy.run_path(main, run_name="__main__")  # noqa: E731
        with _program_environment(stack_settings.program_dir):
            try:
                _sync_await(run_pulumi_func(program))
                root = settings.get_root_resource()
                # Serialized as the SDK sends them to the engine, so secret outputs keep their marker.
                outputs = _sync_await(rpc.serialize_properties(dict(getattr(root, "outputs", None) or {}), {}))
            except BaseException as error:  # noqa: BLE001 - re-raised with the partial plan
                if monitor.needed is not None:
                    raise monitor.needed from None
                order.sort(plan.resources)
                plan.known_secrets |= monitor.reference_secrets
                handler.messages.extend(("warning", note) for note in monitor.reference_notes)
                raise PreviewError(error, plan, handler.messages) from error
        if monitor.needed is not None:  # the program survived the failed read: its run is thrown away all the same
            raise monitor.needed
        plan.known_secrets |= monitor.reference_secrets
        handler.messages.extend(("warning", note) for note in monitor.reference_notes)
        order.sort(plan.resources)
        plan.outputs = struct_to_plain(outputs, plan.secret_outputs)
        return plan, handler.messages
    finally:
        loop = asyncio.get_event_loop()
        # The SDK sends RPCs (log messages too) through the loop's default executor: join its
        # threads before closing, and before the handler that collects the messages goes.
        loop.run_until_complete(loop.shutdown_default_executor())
        logger.removeHandler(handler)
        for worker_loop in monitor.worker_loops - {loop}:
            if not worker_loop.is_closed():
                worker_loop.close()
        loop.close()


def run_preview(
    project_dir: Path | str = ".",
    stack: str = "dev",
    *,
    program: Callable[[], Any] | None = None,
    config_overrides: dict[str, Any] | None = None,
    on_register: ProgressCallback | None = None,
    on_resource: ResourceCallback | None = None,
    references: ReferenceResolver | None = None,
) -> tuple[Plan, list[tuple[str, str]]]:
    """Preview one stack of a Pulumi Python project with mocked providers.

    Args:
        project_dir: the directory holding ``Pulumi.yaml``.
        stack: the stack name; its config is read from ``<stackConfigDir>/Pulumi.<stack>.yaml``.
        program: run this callable instead of the project's ``__main__.py`` (for tests).
        config_overrides: fully qualified keys (``mlplat:teams``) replacing stack config values;
            non-string values are passed as JSON, as the Pulumi CLI does.
        on_register: progress callback, called once per registered resource.
        on_resource: called with each resource's record as soon as it is registered.
        references: answers the program's ``pulumi.StackReference`` reads (:mod:`.references`);
            default: outputs of the referenced stacks' own previews, run first (no policy gate),
            their projects found near ``project_dir``.

    Returns:
        The plan, and the messages the program logged through ``pulumi.log`` as (level, text).

    Raises:
        ProjectError: no project, or no such stack.
        PreviewError: the program raised; ``error.__cause__`` is the original exception (a
            :class:`~platform_lib.core.errors.PlatformError` for user mistakes) and ``error.plan``
            holds whatever was registered before it. A reference that cannot be resolved is a
            :class:`~platform_lib.preview.references.StackReferenceError` in its cause chain.
    """
    stack_settings = load_stack(project_dir, stack)
    stack_settings.config.update(_config_text(config_overrides))
    if references is not None:
        return _run_isolated(stack_settings, program, on_register, on_resource, references)
    current = StackKey(stack_settings.project, stack_settings.stack)
    return run_resolving(lambda resolver: _run_isolated(stack_settings, program, on_register, on_resource, resolver),
                         near=stack_settings.project_dir, current=current, preview_needed=preview_referenced_stack)


T = TypeVar("T")
#: Previews a stack a reference needs and returns its outputs: (project directory, stack, the chain
#: of stacks that led to it (outermost first), the outputs files, the cache of previewed stacks).
PreviewNeeded = Callable[[Path, StackKey, tuple[StackKey, ...], Mapping[StackKey, Path], dict[StackKey, StackOutputs]], StackOutputs]


def run_resolving(attempt: Callable[[ReferenceResolver], T], *, near: Path, current: StackKey, preview_needed: PreviewNeeded,
                  files: Mapping[StackKey, Path] | None = None, cache: dict[StackKey, StackOutputs] | None = None,
                  chain: tuple[StackKey, ...] = ()) -> T:
    """Run ``attempt`` (one run of the program of ``current``) until every stack it references is
    resolved: each time it stops on a stack not previewed yet (:class:`ReferenceNeeded`), that
    stack is previewed with ``preview_needed``, its outputs cached, and ``attempt`` runs again.

    Raises:
        whatever ``attempt`` or ``preview_needed`` raise; a cycle is a ``StackReferenceError``.
    """
    files = files or {}
    cache = {} if cache is None else cache
    while True:
        try:
            return attempt(ReferenceResolver(near=near, files=files, cache=cache, chain=chain))
        except ReferenceNeeded as needed:
            if needed.key in cache:  # defensive: a cached stack is never needed twice
                raise StackReferenceError(f"{needed.key} was previewed but the program still needs it") from None
            cache[needed.key] = preview_needed(needed.project_dir, needed.key, (*chain, current), files, cache)


def stack_outputs_of(plan: Plan, key: StackKey, source: str) -> StackOutputs:
    """A previewed stack's outputs as a reference resolves to them (secret names: the top-level
    outputs with a secret path)."""
    secret = sorted({top_level_name(path) for path in plan.secret_outputs} & set(plan.outputs))
    return StackOutputs(key=key, outputs=dict(plan.outputs), secret_names=secret, source=source, kind="preview")


def preview_referenced_stack(project_dir: Path, key: StackKey, chain: tuple[StackKey, ...], files: Mapping[StackKey, Path],
                             cache: dict[StackKey, StackOutputs]) -> StackOutputs:
    """Preview a referenced stack (no policy gate) and return its outputs; its own references are
    resolved the same way, ``chain`` guarding against cycles.

    Raises:
        StackReferenceError: its program failed (the message says why), or one of its references
            cannot be resolved.
    """
    settings = load_stack(project_dir, key.stack)
    try:
        plan, _ = run_resolving(lambda resolver: _run_isolated(settings, None, None, None, resolver), near=settings.project_dir,
                                current=key, preview_needed=preview_referenced_stack, files=files, cache=cache, chain=chain)
    except PreviewError as error:
        raise referenced_stack_failed(error, key, settings) from None
    return stack_outputs_of(plan, key, reference_source(project_dir, key))


def referenced_stack_failed(error: PreviewError, key: StackKey, settings: StackSettings) -> StackReferenceError:
    """The error for a referenced stack whose program failed: its own reference error as it is,
    anything else explained (:func:`~platform_lib.preview.failure.explain`) and named."""
    from .failure import _chain, explain

    for link in _chain(error.__cause__ or error):
        if isinstance(link, StackReferenceError):
            return link
    failure = explain(error.__cause__ or error, settings)
    return StackReferenceError(f"previewing the referenced stack {key} ({settings.project_dir}) failed: {failure.message}")


def reference_source(project_dir: Path, key: StackKey) -> str:
    """How the plan names outputs that came from a stack's preview."""
    return f"preview of {project_dir} (stack {key.stack})"


def run_program(
    program: Callable[[], Any],
    *,
    config: dict[str, Any] | None = None,
    project: str = "test-project",
    stack: str = "dev",
) -> tuple[Plan, list[tuple[str, str]]]:
    """Run a callable as a Pulumi program with mocked providers, with no project files on disk.

    Args:
        program: builds the resources (e.g. constructs a component).
        config: fully qualified config keys (``mlplat:environment``, ``aws:region``) to values;
            non-string values are passed as JSON, as the Pulumi CLI does.
        project: the project name used in URNs.
        stack: the stack name used in URNs.

    Returns:
        The plan and the logged messages, as :func:`run_preview` does.

    Raises:
        PreviewError: the program raised; ``error.__cause__`` is the original exception.
    """
    stack_settings = StackSettings(project_dir=Path.cwd(), project=project, stack=stack, program_dir=Path.cwd(), config=_config_text(config))
    return _run_isolated(stack_settings, program, None)


def _config_text(values: dict[str, Any] | None) -> dict[str, str]:
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in (values or {}).items()}


def _run_isolated(stack_settings: StackSettings, program: Callable[[], Any] | None, on_register: ProgressCallback | None,
                  on_resource: ResourceCallback | None = None, references: ReferenceResolver | None = None) -> tuple[Plan, list[tuple[str, str]]]:
    """Run on a new thread in a fresh context, so no SDK state is shared between runs."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = _run(stack_settings, program, on_register, on_resource, references)
        except BaseException as error:  # noqa: BLE001 - handed back to the calling thread
            result["error"] = error

    context = contextvars.Context()
    thread = threading.Thread(target=lambda: context.run(target), name=f"preview-{stack_settings.stack}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
