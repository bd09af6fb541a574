"""Mocked providers that answer like the real ones: realistic ids, ARNs, names and invoke results.

A resource's state is its inputs plus what the provider would compute. Handlers are registered by
type token (``@resource_state("aws:s3/bucket:Bucket")``) or by token prefix (``"aws:"``), and
invoke results by token (``@invoke_result("aws:index/getCallerIdentity:getCallerIdentity")``).
Everything is deterministic: physical names and ids derive from the resource's logical name and
type, so two previews of one stack give the same plan.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import pulumi

from ..core.errors import PlatformError

#: The AWS account every mocked ARN is in (the documentation account id used in AWS examples).
ACCOUNT_ID = "123456789012"
#: The GCP project every mocked GCP resource is in, unless the stack config sets ``gcp:project``.
GCP_PROJECT = "ml-platform-dev"


@dataclass
class MockContext:
    """What a state handler may read: the stack's region and project, and the resource itself."""

    region: str
    gcp_project: str
    stack: str
    type: str
    name: str
    inputs: dict[str, Any]

    def digest(self, length: int = 8, salt: str = "") -> str:
        """A stable hex string derived from the type, logical name and stack."""
        seed = f"{self.stack}/{self.type}/{self.name}/{salt}".encode()
        return hashlib.sha256(seed).hexdigest()[:length]

    def physical_name(self, explicit: str | None = None, max_length: int = 63) -> str:
        """The name the provider would choose: the explicit one, or ``<name>-<7 hex>`` (autonaming)."""
        if explicit:
            return explicit
        return f"{self.name[: max_length - 8]}-{self.digest(7)}".lower()


StateHandler = Callable[[MockContext], tuple[str, dict[str, Any]]]
InvokeHandler = Callable[[dict[str, Any], "PlatformMocks"], dict[str, Any]]

_STATE_HANDLERS: dict[str, StateHandler] = {}
_INVOKE_HANDLERS: dict[str, InvokeHandler] = {}


def resource_state(*tokens: str) -> Callable[[StateHandler], StateHandler]:
    """Register a state handler for exact type tokens, or for prefixes ending in ``:`` or ``/``."""

    def register(handler: StateHandler) -> StateHandler:
        for token in tokens:
            _STATE_HANDLERS[token] = handler
        return handler

    return register


def invoke_result(*tokens: str) -> Callable[[InvokeHandler], InvokeHandler]:
    """Register an invoke handler for exact invoke tokens (e.g. ``aws:ec2/getAmi:getAmi``)."""

    def register(handler: InvokeHandler) -> InvokeHandler:
        for token in tokens:
            _INVOKE_HANDLERS[token] = handler
        return handler

    return register


def _find_handler(type_token: str) -> StateHandler | None:
    if type_token in _STATE_HANDLERS:
        return _STATE_HANDLERS[type_token]
    best = ""
    for key in _STATE_HANDLERS:
        if key.endswith((":", "/")) and type_token.startswith(key) and len(key) > len(best):
            best = key
    return _STATE_HANDLERS.get(best)


class PlatformMocks(pulumi.runtime.Mocks):
    """The mocks the preview uses; also usable directly in a team's own unit tests.

    Args:
        stack: the stack name (folded into generated ids).
        region: the AWS region for ARNs (``aws:region`` of the stack, default ``us-east-1``).
        gcp_project: the GCP project id for GCP names (``gcp:project``).
    """

    def __init__(self, stack: str = "dev", region: str = "us-east-1", gcp_project: str = GCP_PROJECT):
        self.stack = stack
        self.region = region
        self.gcp_project = gcp_project

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        context = MockContext(self.region, self.gcp_project, self.stack, args.typ, args.name, inputs)
        handler = _find_handler(args.typ)
        if handler is None:
            return f"{args.name}-{context.digest()}", inputs
        resource_id, computed = handler(context)
        return resource_id, {**inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        """The mocked invoke result (camelCase keys, as the provider returns them).

        Raises:
            UnmockedInvokeError: no answer is registered for ``args.token``.
        """
        handler = _INVOKE_HANDLERS.get(args.token)
        if handler is None:
            raise UnmockedInvokeError(args.token)
        return handler(dict(args.args), self)


class UnmockedInvokeError(PlatformError):
    """The program called a provider function (an invoke) the offline preview has no answer for.

    Answering ``{}`` would give the program ``None`` for every field of the result, silently; the
    preview refuses instead. Register an answer with :func:`invoke_result`.
    """

    def __init__(self, token: str):
        self.token = token
        known = ", ".join(sorted(_INVOKE_HANDLERS))
        super().__init__(
            f"the program calls the provider function {token!r}, which the offline preview has no mocked answer for "
            f"(it would ask the cloud). Register an answer (camelCase keys, as the provider returns them) with "
            f"@platform_lib.preview.mocks.invoke_result({token!r}) before the preview runs. Mocked invokes: {known}."
        )


# Importing the provider-specific handlers registers them.
from . import mock_handlers  # noqa: E402,F401
