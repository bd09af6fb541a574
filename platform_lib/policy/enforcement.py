"""Which policy config judges a stack: bound to the stack's *name* by the project, never chosen by the stack.

The policy config the gate sends (``<pack>/config/<environment>.json``: each policy's enforcement
level and values) decides whether a finding blocks a deployment, so the judged stack must not
pick it. Pulumi Cloud binds stacks to policy packs and their config with *policy groups*, set by
the organisation, not by the stack (source: Pulumi docs, "Policy groups"). Offline, the project
does the same in one reviewed file, ``policies/environments.yaml`` beside its policy pack::

    # stack name -> environment (the pack's config/<environment>.json)
    stacks:
      dev: dev
      gcp-dev: dev
      staging: staging
      prod: prod

A project of many stacks named after their environment (the team stacks, ``<team>-<env>``)
binds them by name pattern instead (shell-style, ``fnmatch``; the longest matching pattern wins)::

    patterns:
      "*-dev": dev
      "*-prod": prod

Rules:

* a stack listed there is judged at its environment's levels, whatever its own file says;
* a stack not listed but matching a pattern is judged at that pattern's environment's levels;
* a project without the file binds each of the pack's environments (``config/*.json``) to the
  stack of the same name;
* a stack bound nowhere is judged at ``prod`` levels (the strictest), with a note saying so;
* a stack whose ``mlplat:environment`` disagrees with its binding is refused;
* environment names match :data:`ENVIRONMENT_NAME` (never a path), and a bound environment must
  have its config file in the pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Mapping

import pydantic
import yaml

from ..core.errors import issues_from_validation_error, shown
from ..core.yaml_files import read_yaml_file
from .gate import ENVIRONMENT_NAME, PolicyGateError, config_file_for, is_environment_name

#: Pulumi's stack name rule: letters, digits, ``-``, ``_`` and ``.`` (source: Pulumi docs, "Stacks";
#: ``tokens.ValidateStackName`` in pulumi/pulumi ``sdk/go/common/tokens``).
STACK_NAME = r"^[A-Za-z0-9_.-]{1,100}$"
#: A stack name pattern: a stack name with ``*`` and ``?`` wildcards.
STACK_PATTERN = r"^[A-Za-z0-9_.*?-]{1,100}$"
#: The environment of a stack bound nowhere.
UNBOUND_ENVIRONMENT = "prod"
#: The bindings file, relative to the project directory.
BINDINGS_FILE = Path("policies") / "environments.yaml"
#: The stack config key where a stack declares the environment its program builds.
DECLARED_KEY = "mlplat:environment"


class EnvironmentBindings(pydantic.BaseModel):
    """``policies/environments.yaml``: ``stacks`` maps each stack name to its environment;
    ``patterns`` maps shell-style stack name patterns (``*-prod``) to environments."""

    model_config = pydantic.ConfigDict(extra="forbid")

    stacks: dict[Annotated[str, pydantic.StringConstraints(pattern=STACK_NAME)],
                 Annotated[str, pydantic.StringConstraints(pattern=ENVIRONMENT_NAME)]] = {}
    patterns: dict[Annotated[str, pydantic.StringConstraints(pattern=STACK_PATTERN)],
                   Annotated[str, pydantic.StringConstraints(pattern=ENVIRONMENT_NAME)]] = {}

    def environment_of(self, stack: str) -> str | None:
        """The stack's environment: its own entry, else the longest pattern it matches, else None."""
        import fnmatch

        if stack in self.stacks:
            return self.stacks[stack]
        matching = [pattern for pattern in self.patterns if fnmatch.fnmatchcase(stack, pattern)]
        return self.patterns[max(matching, key=len)] if matching else None


@dataclass(frozen=True)
class Enforcement:
    """How one stack is judged.

    Attributes:
        stack: the stack name.
        environment: the environment whose policy config judges it.
        config_file: ``<pack>/config/<environment>.json``, or None when the pack has none (its
            own declared levels apply, as with ``pulumi preview --policy-pack`` and no config).
        bound_by: the bindings file, or the default binding in words.
        note: set when the stack is bound nowhere (judged at prod levels): the sentence to print.
    """

    stack: str
    environment: str
    config_file: Path | None
    bound_by: str
    note: str | None = None


def pack_environments(pack_dir: Path | str) -> list[str]:
    """The environments the pack has a config for: the names of ``<pack>/config/*.json``, sorted."""
    return sorted(p.stem for p in (Path(pack_dir) / "config").glob("*.json") if is_environment_name(p.stem))


def load_bindings(project_dir: Path | str) -> EnvironmentBindings | None:
    """The project's ``policies/environments.yaml``, validated; None when the project has none.

    Raises:
        PolicyGateError: the file is not UTF-8 YAML of the expected shape (naming each bad entry).
    """
    path = Path(project_dir) / BINDINGS_FILE
    if not path.is_file():
        return None
    try:
        document = read_yaml_file(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PolicyGateError(f"{path}: cannot be read: {error}") from None
    try:
        return EnvironmentBindings.model_validate(document)
    except pydantic.ValidationError as error:
        lines = "\n  ".join(str(issue) for issue in issues_from_validation_error(error))
        raise PolicyGateError(f"{path}: not valid environment bindings (expected 'stacks:' mapping stack names to "
                              f"environment names matching {ENVIRONMENT_NAME}):\n  {lines}") from None


def enforcement_for(stack: str, stack_config: Mapping[str, str], *, pack_dir: Path | str,
                    project_dir: Path | str | None = None) -> Enforcement:
    """The environment that judges ``stack``, from the project's bindings (see the module docs).

    Args:
        stack: the stack name.
        stack_config: the stack's config (fully qualified keys); only ``mlplat:environment`` is read,
            to refuse a disagreement.
        pack_dir: the policy pack directory (its ``config/<environment>.json`` files).
        project_dir: the Pulumi project directory (its ``policies/environments.yaml``); None for
            the default binding.

    Raises:
        PolicyGateError: the bindings file is invalid or binds an environment the pack has no config
            for; the stack's ``mlplat:environment`` disagrees with its binding.
    """
    environments = pack_environments(pack_dir)
    bindings = load_bindings(project_dir) if project_dir is not None else None
    if bindings is not None:
        source = str(Path(project_dir) / BINDINGS_FILE)
        missing = sorted({e for e in [*bindings.stacks.values(), *bindings.patterns.values()] if e not in environments})
        if missing and environments:
            raise PolicyGateError(f"{source} binds stacks to {', '.join(map(repr, missing))}, but the policy pack {pack_dir} has "
                                  f"no config for it (environments: {', '.join(environments)})")
        environment = bindings.environment_of(stack)
    else:
        source = "the default binding (each environment of the pack judges the stack of its name)"
        environment = stack if stack in environments else None
    declared = stack_config.get(DECLARED_KEY)
    note = None
    if environment is None:
        environment = UNBOUND_ENVIRONMENT
        if environments and environment not in environments:
            raise PolicyGateError(f"stack {stack!r} is bound to no environment in {source}, and the policy pack {pack_dir} has no "
                                  f"config/{UNBOUND_ENVIRONMENT}.json to judge it at {UNBOUND_ENVIRONMENT} levels; bind the stack")
        where = source if bindings is not None else f"{BINDINGS_FILE} (the project has none; stacks named {', '.join(environments) or 'nothing'} are bound to their namesakes)"
        said = f"; its {DECLARED_KEY} says {declared!r}" if declared is not None else ""
        note = f"stack {stack!r} is bound to no environment in {where}: judged at {UNBOUND_ENVIRONMENT} levels{said}"
    elif declared is not None and declared != environment:
        raise PolicyGateError(f"stack {stack!r} declares {DECLARED_KEY} {shown(declared)}, but {source} binds it to "
                              f"{environment!r}: the stack is judged at the levels of its binding, so fix {DECLARED_KEY} "
                              f"or the binding")
    return Enforcement(stack=stack, environment=environment, config_file=config_file_for(pack_dir, environment),
                       bound_by=source, note=note)


def default_environment(stack: str, pack_dir: Path | str) -> str:
    """The environment of ``stack`` with the default binding (no project file, no declared environment)."""
    return enforcement_for(stack, {}, pack_dir=pack_dir).environment
