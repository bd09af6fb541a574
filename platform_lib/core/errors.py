"""Errors raised for user mistakes, and the one place pydantic errors are turned into them.

Every user mistake (bad stack config, bad component arguments, an unknown stack) is raised as
a :class:`PlatformError` subclass *before* any resource is registered. The CLI maps these to
exit code 2 and prints the message without a traceback; anything else is a bug (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pydantic


_MISSING = object()

#: The most characters of a value an error message echoes (``repr`` of the value).
MAX_SHOWN_CHARACTERS = 200


def shown(value: Any, limit: int = MAX_SHOWN_CHARACTERS) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with an ellipsis and the full size.

    A value echoed back (a whole list from an alias-heavy YAML file, a pasted certificate) would
    otherwise make a message of megabytes.
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters in all)"


@dataclass(frozen=True)
class Issue:
    """One problem with one input value.

    Attributes:
        path: where the value lives, e.g. ``mlplat:teams[0].quota.gpu`` for stack config or
            ``DataBucket(features).prefix`` for component arguments.
        value: the value that was given (``<missing>`` when the key was absent); the message shows
            its ``repr`` cut to :data:`MAX_SHOWN_CHARACTERS` characters.
        expected: what would have been accepted, in words.
    """

    path: str
    value: Any
    expected: str

    def __str__(self) -> str:
        value = "<missing>" if self.value is _MISSING else shown(self.value)
        return f"{self.path}: got {value}; expected {self.expected}"


class PlatformError(Exception):
    """Base class of every error caused by user input rather than by a bug."""


class InputError(PlatformError):
    """One or more input values are invalid; ``issues`` lists every one of them at once."""

    def __init__(self, subject: str, issues: list[Issue]):
        self.subject = subject
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        noun = "problem" if len(issues) == 1 else "problems"
        super().__init__(f"{subject}: {len(issues)} {noun}\n{lines}")


class ConfigError(InputError):
    """The stack configuration (``stacks/Pulumi.<stack>.yaml``) is invalid."""


class ComponentArgsError(InputError):
    """A component was constructed with invalid arguments; nothing was registered."""


def _format_location(prefix: str, location: tuple[Any, ...]) -> str:
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


_EXPECTED_BY_TYPE = {
    "missing": "a value (this key is required)",
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number (not inf or nan)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
}


#: The unit a field's bound is in, from the end of its name (``root_volume_gib``, ``rootVolumeGib``).
_UNIT_BY_NAME_ENDING = {"gib": "GiB", "days": "days", "seconds": "seconds", "usd": "USD"}


def _unit(location: tuple[Any, ...]) -> str:
    field = str(location[-1]).lower() if location else ""
    return next((f" {unit}" for ending, unit in _UNIT_BY_NAME_ENDING.items() if field.endswith(ending)), "")


def _expected(detail: Mapping[str, Any]) -> str:
    """What was expected, in words, for one pydantic error detail; a bound on a field named
    ``..._gib``, ``..._days`` or ``..._seconds`` is given with its unit."""
    kind = detail["type"]
    context = detail.get("ctx") or {}
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind == "extra_forbidden":
        return "no such key (unknown keys are rejected; check the spelling)"
    if kind == "string_pattern_mismatch":
        return f"a string matching {context.get('pattern')}"
    if kind == "string_too_short":
        return f"a string of at least {context.get('min_length')} characters"
    if kind == "string_too_long":
        return f"a string of at most {context.get('max_length')} characters"
    if kind == "too_short":
        return f"at least {context.get('min_length')} items"
    if kind == "too_long":
        return f"at most {context.get('max_length')} items"
    bounds = {"greater_than": "greater than", "greater_than_equal": "at least", "less_than": "less than", "less_than_equal": "at most"}
    for name, words in bounds.items():
        if kind == name:
            limit = next(iter(context.values()), "?")
            if isinstance(limit, float) and limit.is_integer():
                limit = int(limit)
            return f"a number {words} {limit}{_unit(tuple(detail['loc']))}"
    if kind in ("literal_error", "enum"):
        return f"one of {context.get('expected')}"
    message = str(detail["msg"])
    for lead in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(lead)
    return message


def located_validation_error(model: str, problems: list[tuple[tuple[str | int, ...], Any, str]]) -> pydantic.ValidationError:
    """A ``ValidationError`` for checks across fields, each problem at the field to change.

    Raise it from a ``model_validator(mode="after")``: pydantic keeps each problem's location
    (prefixing the location of the enclosing model when nested), where a ``ValueError`` would be
    reported at the whole model with every argument as its value.

    Args:
        model: the model's name (the error's title).
        problems: ``(location, value, expected)`` per problem; ``location`` as pydantic writes it
            (aliases, e.g. ``("autoscaling", "minReplicas")``), ``expected`` in words.

    Returns:
        The error, whose :func:`issues_from_validation_error` issues read
        ``<location>: got <value>; expected <expected>``.
    """
    from pydantic_core import InitErrorDetails, PydanticCustomError

    return pydantic.ValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(type=PydanticCustomError("value_error", "Value error, {expected}", {"expected": expected}), loc=location, input=value)
            for location, value, expected in problems
        ],
    )


def issues_from_validation_error(
    error: pydantic.ValidationError, prefix: str = "", separator: str = "."
) -> list[Issue]:
    """Turn a pydantic ``ValidationError`` into :class:`Issue` items.

    Args:
        error: the error pydantic raised.
        prefix: what every path starts with (a config namespace or a component label).
        separator: joins ``prefix`` to the first location part (``:`` for config keys).

    Returns:
        One issue per pydantic error, in pydantic's order: the path (``prefix`` plus the
        location, ``[i]`` for list items), the value given (a sentinel shown as ``<missing>``
        for an absent key) and what was expected in words (pydantic's message for a validator's
        ``ValueError``, without the ``Value error, `` lead).
    """
    issues = []
    for detail in error.errors(include_url=False):
        location = tuple(detail["loc"])
        # pydantic appends the validator name (e.g. "function-after[...]") for some unions.
        location = tuple(p for p in location if not (isinstance(p, str) and "[" in p))
        if location and prefix:
            head, *rest = location
            path = _format_location(f"{prefix}{separator}{head}", tuple(rest))
        else:
            path = _format_location(prefix, location)
        value = _MISSING if detail["type"] == "missing" else detail.get("input")
        issues.append(Issue(path=path or prefix, value=value, expected=_expected(detail)))
    return issues
