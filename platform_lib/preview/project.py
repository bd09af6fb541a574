"""Reading a Pulumi project (``Pulumi.yaml``) and a stack's config (``Pulumi.<stack>.yaml``).

The rules follow the Pulumi CLI (source: Pulumi docs, "Project file reference" and
"Configuration"): ``main`` names the program's directory (default: the project directory);
``stackConfigDir`` names where the ``Pulumi.<stack>.yaml`` files live (default: the project
directory); a config key without a namespace belongs to the project's namespace; values that are
not strings reach the program as JSON text, which ``pulumi.Config.get_object`` parses.

``secure:`` values (at the top of a key, or inside an object as ``pulumi config set --path
--secret`` writes them) are decrypted when the stack uses the passphrase secrets provider
(``encryptionsalt:`` in the stack file) and ``PULUMI_CONFIG_PASSPHRASE`` or
``PULUMI_CONFIG_PASSPHRASE_FILE`` is set (:mod:`.passphrase`). Otherwise the program gets
``[secret]`` in their place and :attr:`StackSettings.notes` says which key and why. Either way the
key is a secret key of the program (``pulumi.Config.get_secret``; the preview masks its value).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import PlatformError
from ..core.secrets import SECRET_PLACEHOLDER
from ..core.yaml_files import read_yaml_file
from .passphrase import PassphraseDecrypter, SecretDecryptionError, passphrase_from_environment

__all__ = ["SECRET_PLACEHOLDER", "ProjectError", "StackSettings", "list_stacks", "load_stack"]


class ProjectError(PlatformError):
    """The project or stack cannot be found or read (no Pulumi.yaml, unknown stack, bad YAML)."""


@dataclass
class StackSettings:
    """A project and one of its stacks, as the Pulumi CLI would run them.

    Attributes:
        project_dir: the directory holding ``Pulumi.yaml``.
        project: the project name.
        stack: the stack name.
        program_dir: the directory holding ``__main__.py``.
        config: fully qualified keys (``namespace:key``) to string values.
        secret_keys: the keys whose values were ``secure:`` in the stack file (or held one).
        decrypted_secrets: the plaintexts of the ``secure:`` values that were decrypted; every
            printed or written text masks them.
        notes: what the user should know about the config, e.g. a secret that could not be decrypted.
    """

    project_dir: Path
    project: str
    stack: str
    program_dir: Path
    config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)
    decrypted_secrets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def secret_values(self) -> set[str]:
        """The decrypted secret values, to mask in anything printed or written."""
        return set(self.decrypted_secrets)


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _holds_secure(value: Any) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_holds_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secure(v) for v in value)
    return False


class _SecretReader:
    """Opens the ``secure:`` values of one stack file, deciding once (at the first one) whether it can."""

    def __init__(self, stack_document: dict[str, Any], stack_file: Path):
        self._document, self._stack_file = stack_document, stack_file
        self._decrypter: PassphraseDecrypter | None = None
        self.unavailable: str | None = None
        self._decided = False
        self.decrypted: list[str] = []

    def _decide(self) -> None:
        self._decided = True
        salt = self._document.get("encryptionsalt")
        provider = self._document.get("secretsprovider")
        if provider and not str(provider).startswith("passphrase"):
            self.unavailable = f"it is encrypted by the secrets provider {str(provider).split('://')[0]}://, whose key service the offline preview cannot reach"
            return
        if not salt:
            self.unavailable = ("the stack file has no encryptionsalt: its secrets provider (the Pulumi Cloud service, or a cloud KMS) "
                                "is not reachable offline")
            return
        try:
            passphrase = passphrase_from_environment()
        except SecretDecryptionError as error:
            raise ProjectError(f"{self._stack_file}: {error}") from None
        if passphrase is None:
            self.unavailable = "neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set"
            return
        try:
            self._decrypter = PassphraseDecrypter(passphrase, str(salt))
        except SecretDecryptionError as error:
            raise ProjectError(f"{self._stack_file}: {error}") from None

    def open(self, value: Any, key: str) -> Any:
        """The value with each ``secure:`` inside decrypted, or ``[secret]`` when it cannot be."""
        if _is_secure(value):
            if not self._decided:
                self._decide()
            if self._decrypter is None:
                return SECRET_PLACEHOLDER
            try:
                plaintext = self._decrypter.decrypt(value["secure"])
            except SecretDecryptionError as error:
                raise ProjectError(f"{self._stack_file}: config key {key!r}: {error}") from None
            self.decrypted.append(plaintext)
            return plaintext
        if isinstance(value, dict):
            return {k: self.open(v, key) for k, v in value.items()}
        if isinstance(value, list):
            return [self.open(v, key) for v in value]
        return value


def _read_yaml(path: Path) -> dict[str, Any]:
    """A project or stack file as a mapping ({} when empty); duplicate keys and alias bombs are refused."""
    try:
        document = read_yaml_file(path)
    except UnicodeDecodeError as error:
        raise ProjectError(f"{path}: not UTF-8 text (byte {error.start}: {error.reason}); Pulumi reads its files as UTF-8") from None
    except yaml.YAMLError as error:
        raise ProjectError(f"{path}: not valid YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ProjectError(f"{path}: expected a mapping of keys (such as 'config:'), got a {_kind(document)}")
    return document


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", int: "number", float: "number", dict: "mapping"}.get(type(value), type(value).__name__)


def _config_section(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a project or stack file; every key a string.

    Raises:
        ProjectError: ``config`` is not a mapping, or one of its keys is not a string.
    """
    section = document.get("config") or {}
    if not isinstance(section, dict):
        raise ProjectError(f"{path}: config: expected a mapping of config keys to values, got a {_kind(section)}")
    for key in section:
        if not isinstance(key, str) or not key:
            raise ProjectError(f"{path}: config: the key {key!r} is not a string; quote it (\"{key}\") or give it a namespace (mlplat:{key})")
    return section


def _as_config_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


#: Project-level config key (``Pulumi.yaml`` ``config:``) saying the project's stacks need no
#: ``Pulumi.<stack>.yaml``: the program derives everything from the stack's name (the team stacks,
#: ``team-stack/``, read ``teams/<team>.yaml``). The Pulumi CLI reads a missing stack file as
#: empty config; the offline preview otherwise refuses it, to catch a mistyped ``--stack``.
STACK_FILES_KEY = "mlplat:stackFiles"


def _stack_files_optional(document: dict[str, Any]) -> bool:
    section = document.get("config")
    value = section.get(STACK_FILES_KEY) if isinstance(section, dict) else None
    if isinstance(value, dict):
        value = value.get("value", value.get("default"))
    return value == "optional"


def list_stacks(project_dir: Path) -> list[str]:
    """The stacks that have a ``Pulumi.<stack>.yaml`` file in the project's stack config dir."""
    project_dir = Path(project_dir)
    document = _read_yaml(project_dir / "Pulumi.yaml")
    config_dir = project_dir / document.get("stackConfigDir", ".")
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in config_dir.glob("Pulumi.*.yaml"))


#: One part of a stack name (source: Pulumi docs, "Stacks": "Stack names may only contain
#: alphanumeric characters, hyphens, underscores, or periods").
_STACK_NAME_PART = re.compile(r"[A-Za-z0-9_.-]+")


def stack_name(stack: str, project: str) -> str:
    """The stack's own name from ``stack``, ``org/stack`` or ``org/project/stack`` (the forms the
    Pulumi CLI accepts, source: Pulumi docs, "Stacks"); ``Pulumi.<name>.yaml`` holds its config.

    Raises:
        ProjectError: a part is empty, ``.`` or ``..``, or holds another character than letters,
            digits, ``-``, ``_`` and ``.``; more than three parts; or the project part is not ``project``.
    """
    parts = stack.split("/")
    expected = "expected a stack name of letters, digits, '-', '_' and '.', optionally qualified as org/stack or org/project/stack"
    if len(parts) > 3 or any(not _STACK_NAME_PART.fullmatch(part) or part in (".", "..") for part in parts):
        raise ProjectError(f"invalid stack name {stack!r}: {expected}")
    if len(parts) == 3 and parts[1] != project:
        raise ProjectError(f"stack {stack!r} names the project {parts[1]!r}, but this is the project {project!r} ({expected})")
    return parts[-1]


def load_stack(project_dir: Path | str, stack: str) -> StackSettings:
    """Read ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` below ``project_dir``.

    Args:
        project_dir: the project directory.
        stack: the stack name, e.g. ``dev``, or fully qualified, ``org/project/dev``
            (:func:`stack_name`; the settings hold the stack's own name).

    Returns:
        The settings a run of that stack needs.

    Raises:
        ProjectError: no ``Pulumi.yaml``, a runtime other than python, no program, an invalid
            stack name, or no ``Pulumi.<stack>.yaml`` (the message lists the stacks that exist).
    """
    project_dir = Path(project_dir).resolve()
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        raise ProjectError(f"no Pulumi.yaml in {project_dir}: pass --cwd with a Pulumi project directory")
    document = _read_yaml(project_file)
    project = document.get("name")
    if not isinstance(project, str) or not project:
        raise ProjectError(f"{project_file}: 'name' is missing")
    runtime = document.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProjectError(f"{project_file}: runtime is {runtime_name!r}; this preview runs python programs only")

    program_dir = (project_dir / document.get("main", ".")).resolve()
    if program_dir.is_file():
        program_dir = program_dir.parent
    if not (program_dir / "__main__.py").is_file():
        raise ProjectError(f"{project_file}: main is {document.get('main', '.')!r}, but {program_dir}/__main__.py does not exist")

    stack = stack_name(stack, project)
    config_dir = (project_dir / document.get("stackConfigDir", ".")).resolve()
    stack_file = config_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file() and not _stack_files_optional(document):
        known = ", ".join(list_stacks(project_dir)) or "none"
        raise ProjectError(f"unknown stack {stack!r}: {stack_file} does not exist (stacks: {known})")

    config: dict[str, str] = {}
    secret_keys: list[str] = []

    def qualify(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    # Project-level config: plain values, or {default:/value:} declarations.
    for key, value in _config_section(document, project_file).items():
        if isinstance(value, dict) and ("default" in value or "value" in value):
            value = value.get("value", value.get("default"))
        elif isinstance(value, dict) and "type" in value:
            continue
        config[qualify(key)] = _as_config_text(value)

    # A project whose stacks need no file (the Pulumi CLI reads a missing one as no config).
    stack_document = _read_yaml(stack_file) if stack_file.is_file() else {}
    secrets = _SecretReader(stack_document, stack_file)
    notes: list[str] = []
    for key, value in _config_section(stack_document, stack_file).items():
        if _holds_secure(value):
            value = secrets.open(value, qualify(key))
            secret_keys.append(qualify(key))
            if secrets.unavailable:
                notes.append(f"config key {qualify(key)!r} is a secure value the offline preview cannot decrypt "
                             f"({secrets.unavailable}); the program gets {SECRET_PLACEHOLDER!r} in its place")
        config[qualify(key)] = _as_config_text(value)

    return StackSettings(
        project_dir=project_dir,
        project=project,
        stack=stack,
        program_dir=program_dir,
        config=config,
        secret_keys=secret_keys,
        decrypted_secrets=secrets.decrypted,
        notes=notes,
    )
