"""The pack's Analyzer servicer, adapted to decode each request's resources once.

pulumi_policy's ``_PolicyAnalyzerServicer`` rebuilds a resource's properties for every policy:
in ``Analyze`` it runs ``json_format.MessageToDict``, ``deserialize_properties`` and
``unknown_checking_proxy`` (and reads the options and provider again) once per resource policy,
and in ``AnalyzeStack`` it rebuilds every resource of the stack once per stack policy. With 59
policies that decoding is about three quarters of the handler (profiled in issue 14).
:class:`SharedPropertiesServicer` overrides only those two handlers: it decodes once per request,
lazily, at the point where the stock handler first decodes, and hands every policy the same
read-only view. Everything else (the policy loop, enforcement levels, not-applicable and unknown
value handling, diagnostics) is the stock code's, called through the same private helpers.

Because it leans on private code, :data:`ADAPTED_SOURCES` records the SHA-256 of the source of
every pulumi_policy function it replaces or calls; :func:`adaptation_problems` compares them with
the installed package, and :func:`servicer_class` falls back to the stock servicer (with a
warning on stderr) when anything differs, so a pulumi_policy upgrade can never change a verdict
silently; ``tests/test_policy_servicer.py`` fails on the difference. The write-up for upstream is
``docs/upstream-pulumi-policy.md``.

Switch: ``MLPLAT_SHARED_PROPERTIES=0`` in the pack's environment serves the stock servicer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import sys
import threading
from collections.abc import Iterator
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import policy as policy_module
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy
from pulumi_policy.version import VERSION as PULUMI_POLICY_VERSION

from ..tuning import enabled

_Stock = policy_module._PolicyAnalyzerServicer

#: A resource policy may carry this attribute: a function of the type token, false for the types
#: its validate ignores (returns at once, reporting nothing). ``Analyze`` skips the policy for them.
RESOURCE_TYPE_FILTER = "mlplat_applies_to"
_PRIVATE = "_PolicyAnalyzerServicer__"

#: The policy each serving thread is running and on which resource URN (empty for a stack policy).
RUNNING: dict[int, tuple[str, str]] = {}
#: Each line :func:`report_running` writes to stderr starts with this: ``<lead> <policy> <urn or ->``,
#: then ``<lead> end``. The gate asks for them (``SIGUSR1``) when a call passes its deadline.
RUNNING_LINE = "mlplat-policies-running"


def report_running(*_signal: Any) -> None:
    """Write the running policies to stderr (the pack's ``SIGUSR1`` handler)."""
    lines = [f"{RUNNING_LINE} {policy} {urn or '-'}" for policy, urn in list(RUNNING.values())]
    print("\n".join([*lines, f"{RUNNING_LINE} end"]), file=sys.stderr, flush=True)

#: pulumi_policy version the adaptation was written against, and the SHA-256 of the source of
#: each function it replaces (Analyze, AnalyzeStack) or relies on.
ADAPTED_VERSION = "1.21.0"
ADAPTED_SOURCES = {
    "_PolicyAnalyzerServicer.Analyze": "75db9cf8fc9d158596909b9b3f77bf48815990a6f513f2bb35728a67e4d8a515",
    "_PolicyAnalyzerServicer.AnalyzeStack": "3917a008482c2387d7da37f65d889970933e8df8efc57270559e20b36be837bf",
    "_PolicyAnalyzerServicer._get_resource_options": "986051047b696f0fd99ed8890bc7e6445a171630e99ae53cfbd6066ab4b45288",
    "_PolicyAnalyzerServicer._get_provider_resource": "5db736069fc8d3d65e220ee75143faa1d2603982f5fcb3e96cbfc6d3e82ebdd7",
    "_PolicyAnalyzerServicer._create_report_violation": "0be23b1e3ebae61589040c8822e60491a5a14fad4d38bb5d381d2d9cbe2d8154",
    "_PolicyAnalyzerServicer._get_policy_config": "bd59507ff3226701dd05699366daa8148d94e47209ef3b7245092cb0c6bf3581",
    "_PolicyAnalyzerServicer._configure_runtime_settings": "da0923ff3a404f3633b701587071091c98432f5d7c70856eb8be6a6ee6c4c845",
    "_PolicyAnalyzerServicer._get_enforcement_level": "e766403ef7ab7cdf0be172e84ebd1b0b19e5132c369af748007ab37b458fdbff",
    "PolicyPack.__init__": "34256ae3a291d0b41e652ed37731e96c65e901e62bb1f710f43cfa0ccbe7d8fb",
}


def _source_digest(qualified_name: str) -> str:
    target: Any = policy_module
    for part in qualified_name.split("."):
        target = getattr(target, part)
    return hashlib.sha256(inspect.getsource(target).encode()).hexdigest()


def adaptation_problems() -> list[str]:
    """What differs between the installed pulumi_policy and the code this module adapts; [] when nothing.

    Each entry names the function (``_PolicyAnalyzerServicer.Analyze``) or the version that changed.
    """
    problems = []
    if PULUMI_POLICY_VERSION != ADAPTED_VERSION:
        problems.append(f"pulumi_policy is {PULUMI_POLICY_VERSION}, the adaptation was written for {ADAPTED_VERSION}")
    for name, digest in ADAPTED_SOURCES.items():
        try:
            actual = _source_digest(name)
        except (AttributeError, OSError, TypeError) as error:
            problems.append(f"{name}: not found ({error})")
            continue
        if actual != digest:
            problems.append(f"{name}: source changed (sha256 {actual})")
    return problems


def _run_validation(policy, args, report_violation) -> None:
    """``policy.validate`` as the stock handlers run it, awaiting an awaitable result on a new loop."""
    result = policy.validate(args, report_violation)
    if isawaitable(result):
        loop = asyncio.new_event_loop()
        task = asyncio.Task(result, loop=loop)
        loop.run_until_complete(task)
        loop.close()


class SharedPropertiesServicer(_Stock):
    """pulumi_policy's Analyzer servicer; ``Analyze`` and ``AnalyzeStack`` decode each request once.

    The same decoded properties (an ``unknown_checking_proxy`` over ``deserialize_properties``),
    options and provider are handed to every policy of a request; each policy still gets its own
    args object, config copy and resource list. A resource policy with a
    :data:`RESOURCE_TYPE_FILTER` attribute is skipped for the types it ignores (its validate
    would return at once), as the Node.js SDK's ``validateResourceOfType`` lets a policy declare. The proxies are the read-only ``Mapping`` and
    ``Sequence`` the SDK documents for ``args.props``; a policy that wrote into them (through the
    proxy's undocumented ``__setitem__``) would be seen by the policies after it.
    """

    def _unknown_value_diagnostic(self, policy, error: UnknownValueError):
        name, version = getattr(self, _PRIVATE + "policy_pack_name"), getattr(self, _PRIVATE + "policy_pack_version")
        return proto.AnalyzeDiagnostic(
            policyName=policy.name,
            policyPackName=name,
            policyPackVersion=version,
            message=(f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: {error.message}"),
            urn="",
            description=policy.description,
            enforcementLevel=self._map_enforcement_level(policy_module.EnforcementLevel.ADVISORY),
        )

    def _validate_into(self, response, policy, args, report_violation) -> None:
        thread = threading.get_ident()
        RUNNING[thread] = (policy.name, getattr(args, "urn", "") or "")
        try:
            _run_validation(policy, args, report_violation)
        except UnknownValueError as error:
            response.diagnostics.append(self._unknown_value_diagnostic(policy, error))
        except policy_module._NotApplicableError as error:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or ""))
        finally:
            RUNNING.pop(thread, None)

    def Analyze(self, request, _context):  # noqa: N802 - the gRPC method name
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        stack_tags = getattr(self, _PRIVATE + "stack_tags")
        decoded: tuple[Any, Any, Any] | None = None
        for policy in getattr(self, _PRIVATE + "policies"):
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == policy_module.EnforcementLevel.DISABLED or not isinstance(policy, policy_module.ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason="Policy does not implement validate"))
                continue
            applies_to = getattr(policy, RESOURCE_TYPE_FILTER, None)
            if applies_to is not None and not applies_to(request.type):
                continue  # its validate returns at once for this type: the same (empty) answer, without building its args
            if enforcement_level == policy_module.EnforcementLevel.REMEDIATE:
                enforcement_level = policy_module.EnforcementLevel.MANDATORY
            report_violation = self._create_report_violation(response, policy.name, policy.description, enforcement_level, policy.severity)
            if decoded is None:  # where the stock handler decodes, but only the first time
                props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(request.properties)))
                decoded = (props, self._get_resource_options(request), self._get_provider_resource(request))
            props, opts, provider = decoded
            args = policy_module.ResourceValidationArgs(request.type, props, request.urn, request.name, opts, provider,
                                                        self._get_policy_config(policy.name), stack_tags)
            self._validate_into(response, policy, args, report_violation)
        return response

    def _stack_resources(self, request) -> list[Any]:
        """The request's resources as ``PolicyResource`` objects linked to their parent and dependencies,
        as the stock ``AnalyzeStack`` builds them for each stack policy."""
        intermediates = []
        for r in request.resources:
            props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(r.properties)))
            resource = policy_module.PolicyResource(r.type, props, r.urn, r.name, self._get_resource_options(r),
                                                    self._get_provider_resource(r), None, [], {})
            property_dependencies = {k: list(v.urns) for k, v in r.propertyDependencies.items()}
            intermediates.append((resource, r.parent, list(r.dependencies), property_dependencies))
        by_urn = {resource.urn: resource for resource, *_ in intermediates}
        for resource, parent, dependencies, property_dependencies in intermediates:
            if parent is not None and parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for key, urns in property_dependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
        return [resource for resource, *_ in intermediates]

    def AnalyzeStack(self, request, _context):  # noqa: N802 - the gRPC method name
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        stack_tags = getattr(self, _PRIVATE + "stack_tags")
        resources: list[Any] | None = None
        for policy in getattr(self, _PRIVATE + "policies"):
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == policy_module.EnforcementLevel.DISABLED or not isinstance(policy, policy_module.StackValidationPolicy):
                continue
            if enforcement_level == policy_module.EnforcementLevel.REMEDIATE:
                enforcement_level = policy_module.EnforcementLevel.MANDATORY
            report_violation = self._create_report_violation(response, policy.name, policy.description, enforcement_level, policy.severity)
            if resources is None:  # where the stock handler builds them, but only the first time
                resources = self._stack_resources(request)
            args = policy_module.StackValidationArgs(list(resources), self._get_policy_config(policy.name), stack_tags)
            self._validate_into(response, policy, args, report_violation)
        return response


def servicer_class(shared_properties: bool | None = None) -> type:
    """The servicer class the pack serves.

    Args:
        shared_properties: True for :class:`SharedPropertiesServicer`, False for the stock one;
            None reads ``MLPLAT_SHARED_PROPERTIES`` (on unless ``0``, ``false`` or ``off``).

    The adapted class is only returned when :func:`adaptation_problems` finds nothing; otherwise
    the stock class, with the problems written to stderr.
    """
    if shared_properties is None:
        shared_properties = enabled("MLPLAT_SHARED_PROPERTIES")
    if not shared_properties:
        return _Stock
    problems = adaptation_problems()
    if problems:
        print("mlplat-policies: serving pulumi_policy's stock Analyzer servicer; the installed pulumi_policy differs from the adapted code:\n  "
              + "\n  ".join(problems), file=sys.stderr)
        return _Stock
    return SharedPropertiesServicer


@contextlib.contextmanager
def serving(servicer: type) -> Iterator[None]:
    """While active, ``pulumi_policy.PolicyPack`` builds ``servicer`` instead of its stock servicer.

    ``PolicyPack.__init__`` instantiates the module's ``_PolicyAnalyzerServicer`` by name; this is
    the narrowest hook that keeps the pack a normal ``PolicyPack`` (its argument checks, its gRPC
    server, its port line).
    """
    previous = policy_module._PolicyAnalyzerServicer
    policy_module._PolicyAnalyzerServicer = servicer
    try:
        yield
    finally:
        policy_module._PolicyAnalyzerServicer = previous
