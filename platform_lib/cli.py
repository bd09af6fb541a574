"""The ``mlplat`` command line.

Exit codes: 0 success; 1 an internal error (a bug: the traceback is printed); 2 a user error
(bad stack config, bad component arguments, no such project or stack), printed without a
traceback.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .errors import PlatformError

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_USER_ERROR = 2

app = typer.Typer(
    name="mlplat",
    help="ml-platform: preview Pulumi stacks offline (mocked providers, no credentials) and inspect the platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
error_console = Console(stderr=True)


@app.callback()
def _main() -> None:
    """ml-platform's command line."""


def _fail_user(message: str) -> typer.Exit:
    error_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(EXIT_USER_ERROR)


@app.command()
def preview(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack name; config is read from <stackConfigDir>/Pulumi.<stack>.yaml.")] = "dev",
    cwd: Annotated[Path, typer.Option("--cwd", "-C", help="The Pulumi project directory (holding Pulumi.yaml).")] = Path("."),
    json_file: Annotated[Optional[Path], typer.Option("--json", help="Write the full plan (URN, type, name, parent, inputs, options of every resource; stack outputs) to this file.")] = None,
) -> None:
    """Preview a stack through the real Pulumi SDK with mocked providers: no credentials, no Pulumi CLI, no network.

    Prints the resource tree (component, then its children), a count by type and the stack outputs.
    """
    from .preview import PreviewError, ProjectError, run_preview
    from .preview.report import print_plan

    try:
        with console.status(f"Previewing stack [bold]{stack}[/] …", spinner="dots") as status:
            def progress(count: int, type_token: str, name: str) -> None:
                status.update(f"Previewing stack [bold]{stack}[/] … {count} resources registered ({type_token} {name})")

            plan, logs = run_preview(cwd, stack, on_register=progress)
    except ProjectError as error:
        raise _fail_user(str(error)) from None
    except PreviewError as error:
        cause = error.__cause__
        if isinstance(cause, PlatformError):
            registered = sum(1 for r in error.plan.resources if r.type != "pulumi:pulumi:Stack")
            suffix = "" if registered else "\nNo resources were registered."
            raise _fail_user(f"{cause}{suffix}") from None
        error_console.print(f"[bold red]internal error while running the program of stack {stack!r}:[/]")
        error_console.print("".join(traceback.format_exception(cause or error)), highlight=False, markup=False)
        raise typer.Exit(EXIT_INTERNAL_ERROR) from None

    print_plan(console, plan, logs)
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
        console.print(f"Plan written to [bold]{json_file}[/] ({len(plan.resources)} resources).")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        error_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
