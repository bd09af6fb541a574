"""Explain why a previewed program failed: a user mistake, the program's own exception, or a bug.

:func:`explain` sorts the exception of a :class:`~platform_lib.preview.engine.PreviewError`:

- a :class:`~platform_lib.core.errors.PlatformError` anywhere in its chain (bad component arguments,
  including ones checked inside ``apply``; an invoke the preview cannot answer): its message;
- a ``pydantic.ValidationError`` the program's own code raised (an args sub-model such as
  ``ResourceQuotaSpec(cpu=-1)`` built by the program, before the component could check it): its
  issues, as a :class:`~platform_lib.core.errors.ComponentArgsError` lists them, and where;
- ``pulumi.ConfigMissingError`` / ``pulumi.ConfigTypeError``: the key, what is wrong with it, and
  for a missing key the closest key the stack does set (``difflib``);
- any other exception: "the program raised ...", with the traceback cut to the program's own
  frames, unless the code that raised it is ``platform_lib``'s: that is a bug (``internal``).

The exception the SDK re-raises wraps the program's (``raise ... from``, "While processing
resource ..."); the innermost cause is the one the program raised, and its traceback says whose
code raised it.
"""

from __future__ import annotations

import difflib
import traceback
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pydantic

from ..core.errors import ComponentArgsError, PlatformError, issues_from_validation_error
from .project import SECRET_PLACEHOLDER, StackSettings

_LIBRARY_DIR = Path(__file__).resolve().parent.parent
_ENGINE_FILE = Path(__file__).resolve().parent / "engine.py"


@dataclass(frozen=True)
class Failure:
    """Why a program failed.

    Attributes:
        internal: True for a bug in ``platform_lib`` (the CLI exits 1), False for anything the
            user can fix in the program or its stack config (the CLI exits 2).
        message: what to print: one clear message, with the program's own frames when it raised.
    """

    internal: bool
    message: str


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and its causes, outermost first. The SDK re-raises a failed registration as its own
    cause (``raise exn from cause`` in ``wait_for_rpcs``), which hides the exception it wrapped;
    that one is still the ``__context__``."""
    chain = [error]
    while True:
        link = chain[-1]
        following = link.__context__ if link.__cause__ is link else link.__cause__
        if following is None or any(following is seen for seen in chain):
            return chain
        chain.append(following)


def _is_program_file(filename: str, program_dir: Path) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(program_dir) and "site-packages" not in path.parts


def _raised_by_library(error: BaseException, program_dir: Path) -> bool:
    """Whether the innermost frame that is the program's or ``platform_lib``'s is ``platform_lib``'s
    (the preview engine's own runner excepted: every program runs under it)."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if _is_program_file(frame.filename, program_dir):
            return False
        path = Path(frame.filename).resolve()
        if path.is_relative_to(_LIBRARY_DIR) and not (path == _ENGINE_FILE and frame.name == "_run"):
            return True
    return False


def program_traceback(error: BaseException, program_dir: Path) -> str:
    """The traceback of ``error`` cut to the frames in the program's directory (its deepest frame
    when none is), formatted as Python formats tracebacks."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if _is_program_file(frame.filename, program_dir)] or frames[-1:]
    return "".join(traceback.format_list(own)).rstrip()


def _config_message(error: pulumi.ConfigMissingError | pulumi.ConfigTypeError, settings: StackSettings) -> str:
    key = error.key
    stack_file = f"Pulumi.{settings.stack}.yaml"
    if isinstance(error, pulumi.ConfigMissingError):
        message = f"the program of stack {settings.stack!r} requires the config key {key!r}, which {stack_file} does not set"
        close = difflib.get_close_matches(key, sorted(settings.config), n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        return message + f"\nSet it in {stack_file} or with `pulumi config set {key} <value> --stack {settings.stack}`."
    secret = key in settings.secret_keys or error.value == SECRET_PLACEHOLDER
    shown = SECRET_PLACEHOLDER if secret else repr(error.value)
    return f"the config key {key!r} of stack {settings.stack!r} is {shown}; the program reads it as {error.expect_type}"


def _missing_stack_output(error: BaseException) -> str | None:
    """The message for ``StackReference.require_output(name)`` of an output the referenced stack does
    not export: the SDK raises a bare ``KeyError`` from its own lambda (``stack_reference.py``),
    whose locals hold the name and the outputs."""
    if not isinstance(error, KeyError) or error.__traceback__ is None:
        return None
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    if Path(tb.tb_frame.f_code.co_filename).name != "stack_reference.py" or tb.tb_frame.f_globals.get("__name__") != "pulumi.stack_reference":
        return None
    arguments = tb.tb_frame.f_locals.get("l")
    if not (isinstance(arguments, list) and len(arguments) == 2 and isinstance(arguments[1], dict)):
        return None
    name, outputs = arguments
    exported = ", ".join(sorted(map(str, outputs))) or "none"
    return (f"pulumi.StackReference.require_output({name!r}): the referenced stack exports no output {name!r} "
            f"(its outputs: {exported}); use get_output({name!r}) for an output that may be absent (it gives None)")


def explain(error: BaseException, settings: StackSettings) -> Failure:
    """Sort a program's failure (``PreviewError.__cause__``) for the stack it ran for.

    Args:
        error: the exception the program run raised.
        settings: the stack that was previewed (its name, program directory and config keys).

    Returns:
        A :class:`Failure`; ``internal`` only when ``platform_lib``'s own code raised.
    """
    chain = _chain(error)
    for link in chain:
        if isinstance(link, PlatformError):
            return Failure(False, str(link))
        if isinstance(link, (pulumi.ConfigMissingError, pulumi.ConfigTypeError)):
            return Failure(False, _config_message(link, settings))
    root = chain[-1]
    program_dir = settings.program_dir.resolve()
    missing = _missing_stack_output(root)
    if missing is not None:
        return Failure(False, missing)
    if isinstance(root, pydantic.ValidationError) and not _raised_by_library(root, program_dir):
        error_as_args = ComponentArgsError(f"invalid arguments for {root.title}", issues_from_validation_error(root, prefix=root.title))
        return Failure(False, f"{error_as_args}\nRaised at (the program's frames):\n{program_traceback(root, program_dir)}")
    if _raised_by_library(root, program_dir):
        return Failure(True, "".join(traceback.format_exception(error)).rstrip())
    context = f"\n({str(chain[0]).splitlines()[0]})" if chain[0] is not root and str(chain[0]) else ""
    return Failure(False, f"the program of stack {settings.stack!r} raised {type(root).__name__}: {root}{context}\n"
                          f"Traceback (the program's frames):\n{program_traceback(root, program_dir)}")
