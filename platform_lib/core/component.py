"""The component contract every ``platform_lib`` component follows.

- **One constructor shape**: ``Component(name, args=None, opts=None, **kwargs)``. ``args`` is the
  component's pydantic args model (or a mapping of its snake_case fields); the same fields may be
  given as keyword arguments instead. Both forms give the same resources.
- **Validated before anything is registered**: :meth:`Component.validate_args` checks the name
  and every argument and raises one :class:`~platform_lib.core.errors.ComponentArgsError` naming
  each field, the value and what was expected; the component resource itself is only registered
  once that passed. ``pulumi.Input`` fields are checked as :mod:`.inputs` describes.
- **One type token**, declared once with the class: ``class X(Component[XArgs], type_token="mlplat:aws:X")``.
- **The caller's options reach every child**: children are registered with
  :meth:`Component.child_options`, whose ``parent=self`` lets the SDK pass the component's
  provider(s) and ``protect`` down and lets the engine derive the children's aliases from the
  component's; ``retain_on_delete`` and ``depends_on``, which the SDK does not pass down, are
  copied from the component's options. A component never sets ``protect`` or
  ``retain_on_delete`` itself: environment policy (prod protection, standard tags) belongs to
  the platform layer (:mod:`platform_lib.platform`).
- **Outputs as typed attributes**: a component declares each output as a class annotation
  (``bucket_name: pulumi.Output[str]``); :meth:`Component._create` returns them by the same
  snake_case names, and they are set as attributes and passed to ``register_outputs``.
"""

from __future__ import annotations

import re
import typing
from typing import Any, ClassVar, Generic, Mapping, TypeVar

import pulumi
import pydantic
from pydantic import BaseModel, ConfigDict

from .errors import ComponentArgsError, Issue, issues_from_validation_error, shown

__all__ = ["Component", "ComponentArgs", "TYPE_TOKEN_PATTERN"]

#: ``mlplat:<module>:<Name>``, the shape of every component's type token (Pulumi type tokens are
#: ``<package>:<module>:<type>``; source: Pulumi docs, "Component resources").
TYPE_TOKEN_PATTERN = re.compile(r"^mlplat:(aws|gcp|k8s):[A-Z][A-Za-z0-9]+$")


class ComponentArgs(BaseModel):
    """Base of every component's args model: snake_case fields, unknown fields refused, frozen,
    strict types (``True`` is not a number, ``"90"`` is not ``90``; a whole number is still
    accepted for a float field).

    ``arbitrary_types_allowed`` lets fields hold Pulumi resources and Outputs.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False, strict=True)


ArgsT = TypeVar("ArgsT", bound=ComponentArgs)


#: The most characters of a component's name that its error label (``S3DataBucket(<name>)``) shows.
MAX_LABEL_NAME_CHARACTERS = 80


def _label_name(name: Any) -> str:
    """The name as the error label shows it: a string up to :data:`MAX_LABEL_NAME_CHARACTERS`
    characters as is, anything longer or not a string as :func:`~.errors.shown` echoes values."""
    if isinstance(name, str) and len(name) <= MAX_LABEL_NAME_CHARACTERS:
        return name
    return shown(name, MAX_LABEL_NAME_CHARACTERS)


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Component(pulumi.ComponentResource, Generic[ArgsT]):
    """Base class of the platform's component resources; see the module docstring.

    A subclass declares its args model as the type parameter, its type token as a class keyword,
    its outputs as ``pulumi.Output`` annotations, and implements :meth:`_create`.

    Attributes:
        args: the validated arguments.
    """

    type_token: ClassVar[str]
    args_model: ClassVar[type[ComponentArgs]]
    output_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, *, type_token: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if typing.get_origin(base) is Component:
                (cls.args_model,) = typing.get_args(base)
        if type_token is not None:
            if not TYPE_TOKEN_PATTERN.fullmatch(type_token):
                raise TypeError(f"{cls.__name__}: type token {type_token!r} does not match {TYPE_TOKEN_PATTERN.pattern}")
            cls.type_token = type_token
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for attribute, annotation in vars(klass).get("__annotations__", {}).items():
                if "Output[" in str(annotation) and attribute not in names:
                    names.append(attribute)
        cls.output_names = tuple(names)

    def __init__(
        self,
        name: str,
        args: ArgsT | Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        if opts is not None and not isinstance(opts, pulumi.ResourceOptions):
            label = self.label(name)
            raise ComponentArgsError(
                f"invalid arguments for {label}; nothing was created",
                [Issue(f"{label}.opts", opts, "a pulumi.ResourceOptions, e.g. pulumi.ResourceOptions(protect=True), or None")],
            )
        self.args: ArgsT = self.validate_args(name, args, **kwargs)
        super().__init__(self.type_token, name, None, opts)
        given = opts or pulumi.ResourceOptions()
        self._retain_on_delete = given.retain_on_delete
        self._depends_on = _listed(given.depends_on)
        outputs = dict(self._create(name, self.args))
        if set(outputs) != set(self.output_names):
            raise TypeError(f"{type(self).__name__}._create returned outputs {sorted(outputs)}, declared {sorted(self.output_names)}")
        for key, value in outputs.items():
            setattr(self, key, value)
        self.register_outputs(outputs)

    # -- what a subclass provides ----------------------------------------------------------------

    def _create(self, name: str, args: ArgsT) -> Mapping[str, Any]:  # pragma: no cover - abstract
        """Register the children (with :meth:`child_options`) and return the outputs by name."""
        raise NotImplementedError

    @classmethod
    def name_issues(cls, name: str) -> list[Issue]:
        """Problems with the logical name (e.g. too long for the physical name); none by default."""
        if not isinstance(name, str) or not name:
            return [Issue(f"{cls.__name__}.name", name, "a non-empty string")]
        return []

    @classmethod
    def label(cls, name: Any) -> str:
        """``<Class>(<name>)``, the start of every error path about this component; a name longer
        than :data:`MAX_LABEL_NAME_CHARACTERS` is cut as echoed values are."""
        return f"{cls.__name__}({_label_name(name)})"

    # -- the contract ----------------------------------------------------------------------------

    @classmethod
    def validate_args(cls, name: str, args: ArgsT | Mapping[str, Any] | None = None, **kwargs: Any) -> ArgsT:
        """Validate a name and arguments as the constructor does, registering nothing.

        The platform layer calls this for every component of a stack before the first resource,
        so a stack with one bad argument registers nothing at all.

        Args:
            name: the component's logical name.
            args: an instance of the args model (its fields were checked when it was built), a
                mapping of its snake_case fields, or ``None`` to use ``kwargs``.
            kwargs: the fields as keyword arguments, when ``args`` is ``None``.

        Returns:
            The validated args model.

        Raises:
            ComponentArgsError: every problem at once, each at ``<Class>(<name>).<field>``:
                a bad name, an unknown or invalid field, or both ``args`` and keyword arguments.
        """
        label = cls.label(name)
        issues = cls.name_issues(name)
        model = cls.args_model
        validated: Any = None
        if args is not None and kwargs:
            issues.append(Issue(f"{label}.args", f"args and {', '.join(sorted(kwargs))}", "either an args object or keyword arguments, not both"))
        elif isinstance(args, model):
            validated = args
        elif args is not None and not isinstance(args, Mapping):
            issues.append(Issue(f"{label}.args", args, f"a {model.__name__} or a mapping of its fields"))
        else:
            try:
                validated = model.model_validate(dict(args if args is not None else kwargs), context={"component": label})
            except pydantic.ValidationError as error:
                issues.extend(issues_from_validation_error(error, prefix=label))
        if issues:
            raise ComponentArgsError(f"invalid arguments for {label}; nothing was created", issues)
        return validated

    def child_options(self, *, depends_on: Any = None, **options: Any) -> pulumi.ResourceOptions:
        """Resource options for a child: ``parent=self`` plus the caller's ``retain_on_delete``
        and ``depends_on`` (added to ``depends_on`` given here), plus any other ``options``
        (``delete_before_replace``, ``replace_on_changes``, ...)."""
        return pulumi.ResourceOptions(
            parent=self,
            retain_on_delete=self._retain_on_delete,
            depends_on=self._depends_on + _listed(depends_on),
            **options,
        )

    def invoke_options(self) -> pulumi.InvokeOutputOptions:
        """Options for a provider function call (an invoke) made for this component: its
        provider(s) come from the component, as a child's do."""
        return pulumi.InvokeOutputOptions(parent=self)
