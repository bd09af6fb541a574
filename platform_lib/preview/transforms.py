"""Run a program's transforms under the offline preview, as the Pulumi engine does.

With the current transform API (``pulumi.ResourceOptions(transforms=[...])``,
``pulumi.runtime.register_resource_transform`` and ``register_invoke_transform``) the SDK does not
run the transform itself: it registers the function on the program's callback server and sends a
callback reference to the resource monitor (``RegisterResourceRequest.transforms``,
``RegisterStackTransform``, ``RegisterStackInvokeTransform``); the engine then calls back before it
registers the resource. The SDK's mock monitor never calls back, so without this module transforms
silently do nothing in a mocked preview.

The order is the engine's (source: ``resmon.RegisterResource`` in pulumi/pulumi
``pkg/resource/deploy/source_eval.go``): first the resource's own transforms, then those of its
parent, its parent's parent and so on, then the stack transforms registered so far; each one sees
the properties and options the previous one returned, and a response without properties or
options keeps the previous ones (``wrapTransformCallback``, same file).

The callback is the very function the SDK registered on the program's callback server (reached
with the callback's target and token), called in-process on the program's event loop rather than
over gRPC, so an exception a transform raises reaches the program's error path unchanged (a
:class:`~platform_lib.core.errors.ComponentArgsError` stays one).
"""

from __future__ import annotations

import asyncio
import threading

from pulumi.runtime._callbacks import _CallbackServicer
from pulumi.runtime.proto import alias_pb2, callback_pb2, resource_pb2


def _call(callback: callback_pb2.Callback, request: bytes) -> bytes:
    """Call one registered callback with a serialized request; return its serialized response."""
    for servicer in list(_CallbackServicer._servicers):
        function = servicer._callbacks.get(callback.token) if servicer._target == callback.target else None
        if function is not None:
            future = asyncio.run_coroutine_threadsafe(function(request), servicer._loop)
            return future.result().SerializeToString()
    raise RuntimeError(f"no callback server at {callback.target} holds callback {callback.token}")


def _resource_options(request: resource_pb2.RegisterResourceRequest) -> resource_pb2.TransformResourceOptions:
    """The options the engine hands a transform (``TransformResourceOptions`` built in ``RegisterResource``)."""
    aliases = [alias_pb2.Alias(urn=urn) for urn in request.aliasURNs] + list(request.aliases)
    options = resource_pb2.TransformResourceOptions(
        depends_on=list(request.dependencies),
        ignore_changes=list(request.ignoreChanges),
        replace_on_changes=list(request.replaceOnChanges),
        version=request.version,
        aliases=aliases,
        provider=request.provider,
        providers=dict(request.providers),
        plugin_download_url=request.pluginDownloadURL,
        deleted_with=request.deletedWith,
        additional_secret_outputs=list(request.additionalSecretOutputs),
    )
    if request.HasField("customTimeouts"):
        options.custom_timeouts.CopyFrom(request.customTimeouts)
    if request.HasField("protect"):
        options.protect = request.protect
    if request.HasField("retainOnDelete"):
        options.retain_on_delete = request.retainOnDelete
    if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
        options.delete_before_replace = request.deleteBeforeReplace
    return options


def _with_options(request: resource_pb2.RegisterResourceRequest, properties, options: resource_pb2.TransformResourceOptions) -> resource_pb2.RegisterResourceRequest:
    """A copy of ``request`` with the transformed properties and options."""
    result = resource_pb2.RegisterResourceRequest()
    result.CopyFrom(request)
    result.object.CopyFrom(properties)
    result.dependencies[:] = list(options.depends_on)
    result.ignoreChanges[:] = list(options.ignore_changes)
    result.replaceOnChanges[:] = list(options.replace_on_changes)
    result.version = options.version
    result.ClearField("aliasURNs")
    result.ClearField("aliases")
    result.aliases.extend(options.aliases)
    result.provider = options.provider
    result.providers.clear()
    result.providers.update(dict(options.providers))
    result.pluginDownloadURL = options.plugin_download_url
    result.deletedWith = options.deleted_with
    result.additionalSecretOutputs[:] = list(options.additional_secret_outputs)
    result.ClearField("customTimeouts")
    if options.HasField("custom_timeouts"):
        result.customTimeouts.CopyFrom(options.custom_timeouts)
    result.ClearField("protect")
    if options.HasField("protect"):
        result.protect = options.protect
    result.ClearField("retainOnDelete")
    if options.HasField("retain_on_delete"):
        result.retainOnDelete = options.retain_on_delete
    result.deleteBeforeReplaceDefined = options.HasField("delete_before_replace")
    result.deleteBeforeReplace = options.delete_before_replace
    return result


class TransformChain:
    """The transforms a resource monitor keeps: per resource (inherited by its children) and per stack."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_urn: dict[str, list[callback_pb2.Callback]] = {}
        self._parents: dict[str, str] = {}
        self._stack: list[callback_pb2.Callback] = []
        self._stack_invoke: list[callback_pb2.Callback] = []

    def add_stack_transform(self, callback: callback_pb2.Callback) -> None:
        with self._lock:
            self._stack.append(callback)

    def add_stack_invoke_transform(self, callback: callback_pb2.Callback) -> None:
        with self._lock:
            self._stack_invoke.append(callback)

    def apply(self, request: resource_pb2.RegisterResourceRequest, urn: str) -> resource_pb2.RegisterResourceRequest:
        """The registration after every transform that applies to it (``request`` itself when none does)."""
        with self._lock:
            self._parents[urn] = request.parent
            if request.transforms:
                self._by_urn[urn] = list(request.transforms)
            callbacks = list(request.transforms)
            ancestor = request.parent
            while ancestor:
                callbacks.extend(self._by_urn.get(ancestor, []))
                ancestor = self._parents.get(ancestor, "")
            callbacks.extend(self._stack)
        if not callbacks:
            return request
        properties, options = request.object, _resource_options(request)
        for callback in callbacks:
            transform_request = resource_pb2.TransformRequest(
                type=request.type, name=request.name, custom=request.custom, parent=request.parent,
                properties=properties, options=options,
            )
            response = resource_pb2.TransformResponse.FromString(_call(callback, transform_request.SerializeToString()))
            if response.HasField("properties"):
                properties = response.properties
            if response.HasField("options"):
                options = response.options
        return _with_options(request, properties, options)

    def apply_to_invoke(self, request: resource_pb2.ResourceInvokeRequest) -> resource_pb2.ResourceInvokeRequest:
        """The invoke after the stack's invoke transforms (``request`` itself when there are none)."""
        with self._lock:
            callbacks = list(self._stack_invoke)
        if not callbacks:
            return request
        arguments = request.args
        options = resource_pb2.TransformInvokeOptions(provider=request.provider, plugin_download_url=request.pluginDownloadURL, version=request.version)
        for callback in callbacks:
            transform_request = resource_pb2.TransformInvokeRequest(token=request.tok, args=arguments, options=options)
            response = resource_pb2.TransformInvokeResponse.FromString(_call(callback, transform_request.SerializeToString()))
            if response.HasField("args"):
                arguments = response.args
            if response.HasField("options"):
                options = response.options
        result = resource_pb2.ResourceInvokeRequest()
        result.CopyFrom(request)
        result.args.CopyFrom(arguments)
        result.provider = options.provider
        result.pluginDownloadURL = options.plugin_download_url
        result.version = options.version
        return result
