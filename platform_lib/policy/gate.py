"""The offline policy gate: run the policy pack over Pulumi's Analyzer gRPC protocol.

It does what the Pulumi CLI does for ``pulumi preview --policy-pack DIR
--policy-pack-config FILE``, with the plan of the credential-free preview instead of an engine:

1. start the pack's program as the CLI's Python policy host does: ``python -u -m pulumi.policy
   <engine address> <pack dir>`` in the pack directory (through
   :mod:`~platform_lib.policy.pack_host`, which ends the pack when the gate's process ends), with ``PULUMI_PROJECT``,
   ``PULUMI_STACK``, ``PULUMI_ORGANIZATION``, ``PULUMI_DRY_RUN=true`` and ``PULUMI_CONFIG`` (the
   stack config as JSON) in the environment (source: ``pulumi/policy/__main__.py`` in the SDK and
   ``PolicyPack.__init__`` in pulumi_policy, which prints the port of its Analyzer server);
2. read the port from the program's first line of output and connect an ``AnalyzerStub``;
3. ``GetAnalyzerInfo`` and ``GetPluginInfo``; resolve the policy config file against the pack's
   policies (``all`` key, per-policy level, config properties with their schema defaults,
   validated against each policy's config schema) and send it with ``Configure``;
   ``ConfigureStack`` with the stack's name, project and config;
4. ``Analyze`` for every resource of the plan, the stack resource and component resources
   included, with its inputs as the provider's Check returned them (type, properties, URN,
   name, options, provider); then ``AnalyzeStack`` with all of them, each with its *outputs*
   (the final state), parent and dependencies (source: ``stepGenerator.generateSteps``, which
   analyzes every registered resource with no custom/component distinction, and
   ``stepGenerator.AnalyzeResources``, which sends ``v.Outputs`` to ``AnalyzeStack``, in
   pulumi/pulumi ``pkg/resource/deploy/step_generator.go``; the options are marshalled as in
   ``marshalResourceOptions`` of ``sdk/go/common/resource/plugin/analyzer_plugin.go``);
5. stop the program.

Each ``Analyze`` and ``AnalyzeStack`` call has a deadline (:data:`DEFAULT_CALL_TIMEOUT`,
``MLPLAT_POLICY_TIMEOUT``): a policy that hangs fails the gate with the resource and, with this
project's servicer, the policy that was running.

The engine's first pass, ``Remediate``, is not sent: the pack has no remediation policies.
The plan has no default provider resources (``pulumi:providers:aws`` and the like), which the
engine registers and analyzes too; no policy of the pack looks at provider types.

Violations come back as plain dicts (:data:`VIOLATION_KEYS`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ..core.errors import PlatformError, shown
from ..core.yaml_files import read_yaml_file
from ..preview.plan import Plan, PlannedResource
from .catalogue import catalogue

#: The keys of every violation dict.
VIOLATION_KEYS = ("policy", "pack", "pack_version", "level", "severity", "message", "description", "urn",
                  "resource_type", "resource_name", "controls", "remediation")

_LEVELS = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory", analyzer_pb2.DISABLED: "disabled", analyzer_pb2.REMEDIATE: "remediate"}
_LEVEL_VALUES = {v: k for k, v in _LEVELS.items()}
_SEVERITIES = {analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "", analyzer_pb2.POLICY_SEVERITY_LOW: "low", analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
               analyzer_pb2.POLICY_SEVERITY_HIGH: "high", analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical"}
_MAX_MESSAGE = 400 * 1024 * 1024
#: Seconds to wait for the pack to print its port (importing the SDK takes about a second).
STARTUP_TIMEOUT = 60.0
#: Seconds one ``Analyze`` or ``AnalyzeStack`` call may take, unless ``MLPLAT_POLICY_TIMEOUT`` says
#: otherwise (the slowest call of the shipped stacks takes well under a second).
DEFAULT_CALL_TIMEOUT = 120.0


class PolicyGateError(PlatformError):
    """The pack could not be started, configured or run (bad pack dir, bad config file, a crash)."""


def default_pack_dir(project_dir: Path | str) -> Path:
    """``<project>/policies`` when it holds a PulumiPolicy.yaml, else the pack shipped with platform_lib."""
    candidate = Path(project_dir) / "policies"
    if (candidate / "PulumiPolicy.yaml").is_file():
        return candidate.resolve()
    return shipped_pack_dir()


def shipped_pack_dir() -> Path:
    """The policy pack installed with platform_lib: ``platform_lib/policy/shipped_pack`` (package data
    holding ``PulumiPolicy.yaml``, ``__main__.py`` and ``config/<environment>.json``)."""
    return Path(__file__).resolve().parent / "shipped_pack"


#: What an environment name looks like: a lower-case word with digits and dashes, never a path.
ENVIRONMENT_NAME = r"^[a-z][a-z0-9-]*$"


def is_environment_name(name: Any) -> bool:
    """Whether ``name`` is an environment name (:data:`ENVIRONMENT_NAME`)."""
    return isinstance(name, str) and re.fullmatch(ENVIRONMENT_NAME, name) is not None


def config_file_for(pack_dir: Path | str, environment: str) -> Path | None:
    """``<pack>/config/<environment>.json`` when it exists.

    Raises:
        PolicyGateError: ``environment`` is not an environment name (:data:`ENVIRONMENT_NAME`), such as a path.
    """
    if not is_environment_name(environment):
        raise PolicyGateError(f"environment {shown(environment)} is not an environment name (expected {ENVIRONMENT_NAME})")
    path = Path(pack_dir) / "config" / f"{environment}.json"
    return path if path.is_file() else None


def load_policy_config(path: Path | str | None) -> dict[str, Any]:
    """Read a ``--policy-pack-config`` JSON file ({} for None)."""
    if path is None:
        return {}
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PolicyGateError(f"policy config {path}: {error}") from None
    if not isinstance(document, dict):
        raise PolicyGateError(f"policy config {path}: expected a JSON object of policy names")
    return document


def resolve_policy_config(info: analyzer_pb2.AnalyzerInfo, document: Mapping[str, Any]) -> dict[str, analyzer_pb2.PolicyConfig]:
    """The ``Configure`` request's map, built from a policy config document as the Pulumi CLI does.

    Order: the pack's declared level; ``"all"``; the policy's own entry (a level string, or an
    object with ``enforcementLevel`` and config properties). Properties start from the schema's
    defaults and are validated against the policy's config schema.

    Raises:
        PolicyGateError: unknown policy names, unknown levels, or values the schema rejects.
    """
    policies = {p.name: p for p in info.policies}
    unknown = sorted(set(document) - set(policies) - {"all"})
    if unknown:
        raise PolicyGateError(f"policy config names policies the pack {info.name!r} does not have: {', '.join(unknown)}")
    result: dict[str, analyzer_pb2.PolicyConfig] = {}
    problems: list[str] = []
    for name, policy in policies.items():
        level = _LEVELS[policy.enforcementLevel]
        properties: dict[str, Any] = {}
        schema_properties = json_format.MessageToDict(policy.configSchema.properties) if policy.HasField("configSchema") else {}
        for key, schema in schema_properties.items():
            if "default" in schema:
                properties[key] = schema["default"]
        for entry in (document.get("all"), document.get(name)):
            if isinstance(entry, str):
                level = entry
            elif isinstance(entry, dict):
                level = entry.get("enforcementLevel", level)
                properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        if level not in _LEVEL_VALUES:
            problems.append(f"{name}: enforcement level {level!r} is not one of {', '.join(_LEVEL_VALUES)}")
            continue
        schema = {"type": "object", "properties": schema_properties, "additionalProperties": False,
                  "required": list(policy.configSchema.required) if policy.HasField("configSchema") else []}
        for error in jsonschema.Draft7Validator(schema).iter_errors(properties):
            where = ".".join(str(p) for p in error.absolute_path) or "(config)"
            problems.append(f"{name}: {where}: {error.message}")
        config = analyzer_pb2.PolicyConfig(enforcementLevel=_LEVEL_VALUES[level])
        config.properties.update(properties)
        result[name] = config
    if problems:
        raise PolicyGateError("policy config is not valid:\n  " + "\n  ".join(problems))
    return result


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def resource_properties(resource: PlannedResource) -> dict[str, Any]:
    """The properties the engine would hand the analyzer: the inputs after the provider's Check.

    Offline, the provider's autonaming is taken from the mocked state: ``metadata.name`` for
    Kubernetes objects.
    """
    props = dict(resource.inputs)
    if resource.custom and resource.type.startswith("kubernetes:"):
        name = (resource.outputs.get("metadata") or {}).get("name")
        metadata = dict(props.get("metadata") or {})
        if name and not metadata.get("name"):
            metadata["name"] = name
            props["metadata"] = metadata
    return props


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(duration: str | None) -> float:
    """A Go duration string as ``CustomTimeouts`` holds it (``"20m"``, ``"1h30m"``) in seconds; 0 when unset or unreadable."""
    text = (duration or "").strip()
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return 0.0
    return sum(float(number) * _DURATION_SECONDS[unit] for number, unit in parts)


def _options(resource: PlannedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    options = resource.options
    timeouts = options.custom_timeouts or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=options.protect,
        ignoreChanges=list(options.ignore_changes),
        deleteBeforeReplace=options.delete_before_replace,
        # The plan records a bool, not whether the program set it: "defined" only when true.
        deleteBeforeReplaceDefined=options.delete_before_replace,
        aliases=list(options.aliases),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=_seconds(timeouts.get("create")), update=_seconds(timeouts.get("update")), delete=_seconds(timeouts.get("delete"))),
        parent=resource.parent,
    )


def _provider(resource: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> analyzer_pb2.AnalyzerProviderResource | None:
    reference = resource.options.provider
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]  # a provider reference is "<urn>::<id>"
    provider = by_urn.get(urn)
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(type=provider.type, properties=_struct(provider.inputs), urn=provider.urn, name=provider.name)


def analyze_request(resource: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> analyzer_pb2.AnalyzeRequest:
    """The ``AnalyzeRequest`` the engine sends for one resource: its checked inputs, options and provider."""
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type, properties=_struct(resource_properties(resource)), urn=resource.urn, name=resource.name,
        options=_options(resource), provider=_provider(resource, by_urn))


def stack_resource(resource: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> analyzer_pb2.AnalyzerResource:
    """One entry of the ``AnalyzeStackRequest``: the resource's *outputs* (the final state the engine
    judges), options, provider, parent and dependencies.

    Outputs are the mocked provider state for custom resources (their inputs plus computed
    values such as ids, ARNs and autonamed names), ``register_outputs`` for components and the
    exports for the stack.
    """
    return analyzer_pb2.AnalyzerResource(
        type=resource.type, properties=_struct(resource.outputs), urn=resource.urn, name=resource.name,
        options=_options(resource), provider=_provider(resource, by_urn), parent=resource.parent,
        dependencies=list(resource.options.depends_on))


class PolicyGate:
    """One running policy pack. Use as a context manager, or call :meth:`close`.

    Args:
        pack_dir: the policy pack directory (holding ``PulumiPolicy.yaml`` and ``__main__.py``).
        project: the Pulumi project name given to the pack (``PULUMI_PROJECT``).
        stack: the stack name (``PULUMI_STACK``).
        stack_config: fully qualified stack config keys to string values (``PULUMI_CONFIG``).
        python: the interpreter running the pack; the current one by default.
        call_timeout: seconds each ``Analyze`` and ``AnalyzeStack`` may take; None reads
            ``MLPLAT_POLICY_TIMEOUT`` (default :data:`DEFAULT_CALL_TIMEOUT`).

    Attributes:
        info: the pack's ``AnalyzerInfo`` (name, version, policies).
        plugin_version: the policy SDK version the pack reports.
        startup_seconds: time from process start to a connected stub.
        timings: after :meth:`analyze`, seconds spent in ``Analyze`` (total, and per resource) and
            in ``AnalyzeStack``.

    Raises:
        PolicyGateError: no pack at ``pack_dir``, an unreadable ``PulumiPolicy.yaml`` (checked before
            the pack starts), a bad ``MLPLAT_POLICY_TIMEOUT``, or the pack did not start.
    """

    def __init__(self, pack_dir: Path | str, *, project: str = "ml-platform", stack: str = "dev",
                 stack_config: Mapping[str, str] | None = None, organization: str = "organization", python: str | None = None,
                 call_timeout: float | None = None):
        self.pack_dir = Path(pack_dir).resolve()
        if not (self.pack_dir / "PulumiPolicy.yaml").is_file() or not (self.pack_dir / "__main__.py").is_file():
            raise PolicyGateError(f"{self.pack_dir} is not a Python policy pack (PulumiPolicy.yaml and __main__.py are needed)")
        # The CLI reports the version in PulumiPolicy.yaml; the Python SDK always answers 0.0.1.
        try:
            declared = read_yaml_file(self.pack_dir / "PulumiPolicy.yaml")
        except (OSError, ValueError, yaml.YAMLError) as error:
            raise PolicyGateError(f"{self.pack_dir / 'PulumiPolicy.yaml'}: not valid YAML: {error}") from None
        if not isinstance(declared, dict):
            raise PolicyGateError(f"{self.pack_dir / 'PulumiPolicy.yaml'}: expected a mapping (runtime, version, ...), got {shown(declared)}")
        self.call_timeout = _call_timeout(call_timeout)
        self.project, self.stack, self.organization = project, stack, organization
        self.timings: dict[str, Any] = {}
        self._current_stack = stack
        started = time.perf_counter()
        env = dict(os.environ)
        library_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (library_root, env.get("PYTHONPATH", "")) if p)
        env.update(PULUMI_PROJECT=project, PULUMI_STACK=stack, PULUMI_ORGANIZATION=organization, PULUMI_DRY_RUN="true",
                   PULUMI_CONFIG=json.dumps(dict(stack_config or {})), PYTHONUNBUFFERED="1")
        self._stderr: list[str] = []
        # stdin is a pipe only this process holds: the host ends the pack when it closes (pack_host);
        # a session of its own lets close() stop whatever the pack started too.
        self._process = subprocess.Popen(
            [python or sys.executable, "-u", "-m", "platform_lib.policy.pack_host", "127.0.0.1:0", str(self.pack_dir)],
            cwd=self.pack_dir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )
        try:
            self._stderr_reader = threading.Thread(target=lambda: self._stderr.extend(self._process.stderr), daemon=True)
            self._stderr_reader.start()
            port = self._read_port()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)])
            grpc.channel_ready_future(self._channel).result(timeout=STARTUP_TIMEOUT)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self.info: analyzer_pb2.AnalyzerInfo = self._stub.GetAnalyzerInfo(empty_pb2.Empty())
            self.plugin_version: str = self._stub.GetPluginInfo(empty_pb2.Empty()).version
        except (grpc.RpcError, grpc.FutureTimeoutError) as error:
            self.close()
            raise PolicyGateError(f"policy pack {self.pack_dir} did not answer: {error}") from None
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.perf_counter() - started
        self.pack_version = str(declared.get("version") or self.info.version)

    def _read_port(self) -> int:
        result: dict[str, str] = {}
        reader = threading.Thread(target=lambda: result.setdefault("line", self._process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT)
        line = result.get("line", "").strip()
        if not line.isdigit():
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                pass
            self._stderr_reader.join(5)
            self.close()
            detail = "".join(self._stderr[-20:]).strip() or line or "no output"
            raise PolicyGateError(f"policy pack {self.pack_dir} did not print its port: {detail}")
        return int(line)

    # ------------------------------------------------------------------ running

    def configure(self, policy_config: Mapping[str, Any] | None = None, *, stack: str | None = None,
                  stack_config: Mapping[str, str] | None = None, stack_tags: Mapping[str, str] | None = None) -> None:
        """Send ``Configure`` (policy levels and values) and ``ConfigureStack``."""
        self._stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=resolve_policy_config(self.info, policy_config or {})))
        try:
            self._stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=stack or self.stack, project=self.project, organization=self.organization, dry_run=True,
                config=dict(stack_config or {}), tags=dict(stack_tags or {})))
        except grpc.RpcError as error:  # older SDKs do not implement it; the CLI ignores that too
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise

    def analyze(self, plan: Plan, policy_config: Mapping[str, Any] | None = None, *, stack_config: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Judge a plan: Configure, Analyze each resource, AnalyzeStack. Returns the violations.

        ``plan.violations`` is set to the result as well, so ``--json`` carries it.
        """
        self.configure(policy_config, stack=plan.stack, stack_config=stack_config)
        return self.judge(plan)

    def analyze_future(self, resource: PlannedResource, by_urn: Mapping[str, PlannedResource]) -> grpc.Future:
        """Send ``Analyze`` for one resource without waiting; :meth:`judge` collects the answer."""
        return self._stub.Analyze.future(analyze_request(resource, by_urn), timeout=self.call_timeout)

    def judge(self, plan: Plan, sent: Mapping[str, grpc.Future] | None = None) -> list[dict[str, Any]]:
        """Analyze each resource of a configured pack, then AnalyzeStack. Returns the violations.

        Args:
            plan: the plan; violations are reported by URN, then in the pack's policy order.
            sent: ``Analyze`` calls already sent (:meth:`analyze_future`) by resource URN; the
                other resources are analyzed here.

        ``plan.violations`` is set to the result as well, so ``--json`` carries it.
        """
        sent = sent or {}
        self._current_stack = plan.stack
        by_urn = {r.urn: r for r in plan.resources}
        rules = {r.name: r for r in catalogue()}
        stack_urn = next((r.urn for r in plan.resources if r.type == "pulumi:pulumi:Stack"), "")
        violations: list[dict[str, Any]] = []
        analyzed = plan.resources  # the engine analyzes the stack resource and components too
        current: PlannedResource | None = None
        try:
            started = time.perf_counter()
            per_resource: list[float] = []
            for current in analyzed:
                resource = current
                begin = time.perf_counter()
                call = sent.get(resource.urn)
                response = call.result() if call is not None else self._stub.Analyze(analyze_request(resource, by_urn), timeout=self.call_timeout)
                per_resource.append(time.perf_counter() - begin)
                violations += self._violations(response.diagnostics, resource, by_urn, rules, stack_urn)
            analyze_seconds = time.perf_counter() - started
            begin = time.perf_counter()
            current = None
            response = self._stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[stack_resource(r, by_urn) for r in plan.resources]),
                                               timeout=self.call_timeout)
            stack_seconds = time.perf_counter() - begin
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise PolicyGateError(self._timeout_message(current, plan)) from None
            raise PolicyGateError(f"policy pack {self.info.name} failed: {error.details() if hasattr(error, 'details') else error}") from None
        violations += self._violations(response.diagnostics, None, by_urn, rules, stack_urn)
        # The program's registration order varies from run to run (the SDK registers from several
        # threads): report by URN, then in the pack's policy order, so every run reads the same.
        policy_order = {name: index for index, name in enumerate(rules)}
        violations.sort(key=lambda v: (v["urn"], policy_order.get(v["policy"], len(policy_order)), v["message"]))
        self.timings = {
            "resources": len(analyzed),
            "analyzed_while_running": sum(1 for r in analyzed if r.urn in sent),
            "analyze_seconds": analyze_seconds,
            "analyze_per_resource_ms": (analyze_seconds / len(analyzed) * 1000) if analyzed else 0.0,
            "analyze_max_ms": max(per_resource, default=0.0) * 1000,
            "analyze_stack_seconds": stack_seconds,
        }
        plan.violations = violations
        return violations

    def _timeout_message(self, resource: PlannedResource | None, plan: Plan) -> str:
        """Why the gate gave up: the call, the resource, and the policy running on it when the pack says."""
        if resource is not None:
            call, subject = "Analyze", f"resource {resource.urn} ({resource.type} {resource.name!r})"
        else:
            call, subject = "AnalyzeStack", f"stack {plan.stack!r} ({len(plan.resources)} resources)"
        running = self._running_policies()
        if resource is not None:
            running = [(policy, urn) for policy, urn in running if urn == resource.urn] or running
        which = ("; running: " + ", ".join(f"policy {policy!r} on {urn or 'the stack'}" for policy, urn in running)
                 if running else "; the pack did not say which policy was running")
        return (f"policy pack {self.info.name} did not answer {call} for {subject} within {self.call_timeout:g} seconds "
                f"(MLPLAT_POLICY_TIMEOUT){which}")

    def _running_policies(self) -> list[tuple[str, str]]:
        """Ask the pack which policies are running (``SIGUSR1``; see :data:`~platform_lib.policy.servicer.RUNNING_LINE`)."""
        from .servicer import RUNNING_LINE

        if not hasattr(signal, "SIGUSR1") or self._process.poll() is not None:
            return []
        seen, lines = len(self._stderr), []
        self._process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            lines = [line for line in self._stderr[seen:] if line.startswith(RUNNING_LINE)]
            if any(line.strip() == RUNNING_LINE + " end" for line in lines):
                break
            time.sleep(0.02)
        found = []
        for line in lines:
            parts = line.strip().split(" ")
            if len(parts) == 3:
                found.append((parts[1], "" if parts[2] == "-" else parts[2]))
        return found

    def _violations(self, diagnostics: Iterable[Any], resource: PlannedResource | None, by_urn, rules, stack_urn: str) -> list[dict[str, Any]]:
        found = []
        for diagnostic in diagnostics:
            # Like the engine: an Analyze diagnostic belongs to the analyzed resource, whatever URN it names.
            urn = resource.urn if resource else (diagnostic.urn or stack_urn)
            subject = by_urn.get(urn)
            message = diagnostic.message
            if message.startswith(diagnostic.description):
                message = message[len(diagnostic.description):].lstrip("\n")
            rule = rules.get(diagnostic.policyName)
            found.append({
                "policy": diagnostic.policyName,
                "pack": diagnostic.policyPackName,
                "pack_version": self.pack_version,
                "level": _LEVELS.get(diagnostic.enforcementLevel, "advisory"),
                "severity": _SEVERITIES.get(diagnostic.severity, "") or (rule.severity if rule else ""),
                "message": message or diagnostic.description,
                "description": diagnostic.description,
                "urn": urn,
                "resource_type": subject.type if subject else "pulumi:pulumi:Stack",
                "resource_name": subject.name if subject else self._current_stack,
                "controls": list(rule.controls) if rule else [],
                "remediation": rule.remediation if rule else "",
            })
        return found

    def close(self) -> None:
        """Stop the pack's process and its process group (SIGTERM, then SIGKILL after 5 seconds)."""
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.close()
        if self._process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self._process.wait()
        for stream in (self._process.stdin, self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()

    def _signal_group(self, number: int) -> None:
        try:
            os.killpg(self._process.pid, number)  # its own session: the pack and anything it started
        except (ProcessLookupError, PermissionError, AttributeError):
            self._process.send_signal(number)

    def __enter__(self) -> "PolicyGate":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _call_timeout(value: float | None) -> float:
    """The call timeout in seconds: ``value``, else ``MLPLAT_POLICY_TIMEOUT``, else :data:`DEFAULT_CALL_TIMEOUT`."""
    text = os.environ.get("MLPLAT_POLICY_TIMEOUT", "") if value is None else value
    if text in ("", None):
        return DEFAULT_CALL_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise PolicyGateError(f"MLPLAT_POLICY_TIMEOUT: got {shown(text)}; expected a number of seconds greater than 0")
    return seconds


def mandatory_violations(violations: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The violations that block a deployment."""
    return [v for v in violations if v.get("level") == "mandatory"]


def run_gate(plan: Plan, *, pack_dir: Path | str, stack_config: Mapping[str, str] | None = None,
             policy_config_file: Path | str | None = None, gate: PolicyGate | None = None,
             environment: str | None = None, project_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """Judge one plan with the pack in ``pack_dir``, starting (and stopping) a pack unless ``gate`` is given.

    The policy config file defaults to ``<pack>/config/<environment>.json``, the environment to the
    one the project binds to the stack's name (:func:`~platform_lib.policy.enforcement.enforcement_for`
    with ``project_dir``; without it, the pack's environments bind the stacks of the same name).

    Raises:
        PolicyGateError: the pack failed, its config is invalid, or the stack's ``mlplat:environment``
            disagrees with its binding.
    """
    from .enforcement import enforcement_for

    stack_config = dict(stack_config or {})
    if policy_config_file is None:
        if environment is None:
            environment = enforcement_for(plan.stack, stack_config, pack_dir=pack_dir, project_dir=project_dir).environment
        policy_config_file = config_file_for(pack_dir, environment)
    document = load_policy_config(policy_config_file)
    if gate is not None:
        return gate.analyze(plan, document, stack_config=stack_config)
    with PolicyGate(pack_dir, project=plan.project, stack=plan.stack, stack_config=stack_config) as own:
        return own.analyze(plan, document, stack_config=stack_config)
