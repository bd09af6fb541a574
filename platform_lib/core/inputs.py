"""``pulumi.Input`` fields in component arguments: known values checked at once, Outputs on arrival.

A component argument that names or identifies another thing (an id, an ARN, a name, a namespace,
a principal, a tag value) is often another resource's Output. Such a field is declared as::

    subnet_id: Annotated[Input[str], InputCheck.matching(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$", "a subnet id: 'subnet-' and 8 or 17 hex digits")]

A mapping whose *values* take a ``pulumi.Input`` (tags, labels) is declared with
:meth:`InputCheck.for_values`, so a late failure names the key (``...tags.team``)::

    tags: Annotated[dict[str, Input[str]], InputCheck.for_values(tag_value_check)]

A plain value is checked when the component is constructed, like any other field, so a mistake
fails before anything is registered. An Output is wrapped: the same check runs when its value
becomes known (at ``pulumi up``, or in a preview when the value is already known), and a bad
value then raises :class:`~platform_lib.core.errors.ComponentArgsError` with the same path and
expectation. The value of a late failure is not echoed: it may be a secret. This is how
pulumi-awsx validates its VPC arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from inspect import isawaitable
from typing import Any, Awaitable, Callable, TypeVar, Union

import pulumi
from pydantic import GetCoreSchemaHandler, ValidationInfo
from pydantic_core import core_schema

from .errors import ComponentArgsError, Issue

__all__ = ["Input", "InputCheck", "LATE_VALUE", "checked_output", "is_output"]

T = TypeVar("T")

#: ``pulumi.Input[T]`` (a value, an awaitable or an Output) without its forward reference to
#: ``"Output[T]"``, which pydantic cannot resolve in a model defined outside ``pulumi.output``.
Input = Union[T, Awaitable[T], pulumi.Output[T]]


class _LateValue:
    """Stands for the value of an Output in an issue: not shown, since it may be a secret."""

    def __repr__(self) -> str:
        return "<the value of an Output>"


#: The value an :class:`~platform_lib.core.errors.Issue` shows for an Output that failed its check.
LATE_VALUE = _LateValue()


def is_output(value: Any) -> bool:
    """Whether ``value`` is only known later: a ``pulumi.Output`` or another awaitable Input."""
    return isinstance(value, pulumi.Output) or isawaitable(value)


def checked_output(value: Any, check: Callable[[Any], Any], path: str) -> pulumi.Output[Any]:
    """``value`` as an Output whose value is ``check``-ed when it becomes known.

    Args:
        value: a ``pulumi.Output`` or awaitable.
        check: returns the (possibly normalized) value, or raises ``ValueError`` whose message
            says what was expected.
        path: where the value was given, e.g. ``AwsGpuTrainingBox(trainer).subnet_id``.

    Returns:
        An Output with the same dependencies and secretness; it fails with
        :class:`~platform_lib.core.errors.ComponentArgsError` (``path``, what was expected) when
        the value arrives and fails the check. Unknown values (a preview) are passed through.
    """

    def apply_check(resolved: Any) -> Any:
        try:
            return check(resolved)
        except ValueError as error:
            raise ComponentArgsError(
                f"invalid argument {path} (an Output, checked when its value became known)",
                [Issue(path, LATE_VALUE, str(error))],
            ) from None

    return pulumi.Output.from_input(value).apply(apply_check)


def _plain_mapping(value: Any) -> Any:
    if is_output(value) or not isinstance(value, Mapping):
        raise ValueError("a mapping (Outputs are accepted as values, not for the whole mapping)")
    return value


class InputCheck:
    """pydantic field metadata: the field takes a ``pulumi.Input``; see the module docstring.

    The component's label for late errors comes from the validation context key ``component``
    (``Component.validate_args`` sets it), the field from pydantic.

    Args:
        check: returns the value (possibly normalized) or raises ``ValueError("what was expected")``.
    """

    def __init__(self, check: Callable[[Any], Any], *, values: bool = False):
        self.check = check
        self.values = values

    @classmethod
    def for_values(cls, check: Callable[[Any], Any]) -> "InputCheck":
        """Metadata for a ``dict[str, Input[...]]`` field: ``check`` runs on each value (an Output
        value when it arrives, its late error at ``<field>.<key>``). The mapping itself must be a
        plain mapping with string keys: an Output for the whole mapping is refused, since the
        component reads its keys when it is constructed.
        """
        return cls(check, values=True)

    @classmethod
    def matching(cls, pattern: str, expected: str) -> "InputCheck":
        """A check that the value is a string matching ``pattern`` (``re.fullmatch``).

        Args:
            pattern: a regular expression the whole string must match.
            expected: the expectation in words, for the error, e.g. ``"a subnet id: 'subnet-' and 8 or 17 hex digits"``.
        """
        compiled = re.compile(pattern)

        def check(value: Any) -> Any:
            if not isinstance(value, str) or not compiled.fullmatch(value):
                raise ValueError(expected)
            return value

        return cls(check)

    def __get_pydantic_core_schema__(self, source_type: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        if not self.values:
            return core_schema.with_info_plain_validator_function(self._validate)
        # Known values are checked per key (pydantic puts the key in the error's location);
        # Output values are wrapped afterwards, when the key is at hand for their late error.
        each_value = core_schema.no_info_plain_validator_function(lambda value: value if is_output(value) else self.check(value))
        mapping = core_schema.dict_schema(keys_schema=core_schema.str_schema(strict=True), values_schema=each_value)
        return core_schema.no_info_before_validator_function(
            _plain_mapping, core_schema.with_info_after_validator_function(self._wrap_output_values, mapping)
        )

    def _wrap_output_values(self, values: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        label = (info.context or {}).get("component", "component")
        return {key: checked_output(value, self.check, f"{label}.{info.field_name}.{key}") if is_output(value) else value for key, value in values.items()}

    def _validate(self, value: Any, info: ValidationInfo) -> Any:
        if is_output(value):
            label = (info.context or {}).get("component", "component")
            return checked_output(value, self.check, f"{label}.{info.field_name}")
        return self.check(value)
