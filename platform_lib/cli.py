"""The ``mlplat`` command line.

Exit codes: 0 success; 1 an internal error (a bug in platform_lib: the traceback is printed); 2 a
user error (bad stack config, bad component arguments, a missing or ill-typed config key, an invoke
the preview has no answer for, no such project or stack, a bad policy pack or policy config), or
the previewed program raised an exception of its own (printed with the program's frames only);
3 the policy pack reported mandatory violations.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text


EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_USER_ERROR = 2
EXIT_POLICY_VIOLATIONS = 3

app = typer.Typer(
    name="mlplat",
    help="ml-platform: preview Pulumi stacks offline (mocked providers, no credentials) and inspect the platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
error_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        console.print(f"mlplat {__version__}", highlight=False)
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version of pulumi-mlplat and exit.")] = False,
) -> None:
    """ml-platform's command line."""


def _fail_user(message: str) -> typer.Exit:
    error_console.print(Text.assemble(("error:", "bold red"), " ", message))
    return typer.Exit(EXIT_USER_ERROR)


@app.command()
def preview(
    stacks: Annotated[Optional[list[str]], typer.Option("--stack", "-s", metavar="NAME", help="Stack name; config is read from <stackConfigDir>/Pulumi.<stack>.yaml (default dev). Repeat it to preview several stacks in parallel, with one combined verdict.")] = None,
    cwd: Annotated[Path, typer.Option("--cwd", "-C", help="The Pulumi project directory (holding Pulumi.yaml).")] = Path("."),
    json_file: Annotated[Optional[Path], typer.Option("--json", help="Write the full plan (URN, type, name, parent, inputs, options of every resource; stack outputs; policy violations) to this file.")] = None,
    sarif_file: Annotated[Optional[Path], typer.Option("--sarif", help="Write the policy violations as SARIF 2.1.0 (for code scanning on pull requests).")] = None,
    markdown_file: Annotated[Optional[Path], typer.Option("--markdown", help="Write a Markdown summary of the policy check (for a pull-request comment).")] = None,
    render_k8s: Annotated[Optional[Path], typer.Option("--render-k8s", help="Write every Kubernetes object of the stack as YAML to this directory, one file per object (<namespace>/<kind>-<name>.yaml). The directory must be new, empty or an earlier --render-k8s output (marked by .mlplat-render.json), whose files are replaced.")] = None,
    policy_pack: Annotated[Optional[Path], typer.Option("--policy-pack", help="The policy pack directory; default: <project>/policies when it exists, else the pack shipped with platform_lib.")] = None,
    no_policy: Annotated[bool, typer.Option("--no-policy", help="Do not run the policy pack.")] = False,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Print and write secret values in clear (console, --json, --render-k8s, reports); by default they are \\[secret], as pulumi preview shows them.")] = False,
    all_stacks: Annotated[bool, typer.Option("--all-stacks", help="Preview every stack of the project (each Pulumi.<stack>.yaml in its stackConfigDir), in parallel, with one combined verdict.")] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes for several stacks (default: the CPU count).")] = None,
    teams: Annotated[Optional[list[str]], typer.Option("--teams", help="Preview these teams' stacks (<team>-<env> of team-stack/, every environment of each team's request file); comma-separated or repeated.")] = None,
    all_teams: Annotated[bool, typer.Option("--all-teams", help="Preview every team stack (every request file teams/<team>.yaml, every environment).")] = False,
    changed_since: Annotated[Optional[str], typer.Option("--changed-since", metavar="REF", help="Preview the team stacks whose request files changed since the git revision REF (all of them when teams/_platform.yaml, team-stack/ or platform_lib/ changed).")] = None,
    stack_outputs: Annotated[Optional[list[str]], typer.Option("--stack-outputs", metavar="NAME=FILE", help="The outputs of a stack the program references (pulumi.StackReference NAME, as org/project/stack or project/stack): a plan written by mlplat preview --json (secret outputs listed in its secret_outputs; write it with --show-secrets to pass their values), or a JSON object of outputs (none secret). Repeatable. A referenced stack not given here is previewed first, found by project name beside this project.")] = None,
) -> None:
    """Preview a stack through the real Pulumi SDK with mocked providers: no credentials, no Pulumi CLI, no network.

    Prints the resource tree (component, then its children), a count by type and the stack outputs,
    then judges the stack with the policy pack over Pulumi's Analyzer protocol, as
    `pulumi preview --policy-pack` does, with policies/config/<environment>.json as its config.

    Secret values (pulumi.Output.secret, secure: config) are shown as \\[secret] everywhere, violation
    messages included, unless --show-secrets; written files are readable by their owner only (0600).

    A pulumi.StackReference is answered from --stack-outputs, else from the referenced stack's own
    offline preview, run first (its project found by its Pulumi.yaml name in this project's
    directory, its parent, or a sibling or child directory), with its own policy verdict; its
    secret outputs stay secret. The plan lists each reference and where its outputs came from.

    Exit codes: 0 no mandatory violation; 1 internal error (a bug in platform_lib); 2 user error, or the
    program raised an exception of its own, or a stack reference cannot be resolved (a cycle, no such
    project or stack, an unreadable outputs file); 3 mandatory policy violations, in the stack or in
    a stack it references.

    Several stacks (--stack a --stack b, or --all-stacks) are previewed in -j worker processes; a
    stack they reference is previewed once. The console shows each stack's findings and one verdict
    table; --json holds every plan, --sarif one run whose results name their stack, --markdown one
    summary. The exit code is the most severe of the stacks': 1 > 2 > 3 > 0.
    """
    _NOTED.clear()
    if teams or all_teams or changed_since is not None:
        team_dir, team_stacks, request_files = _team_stack_selection(cwd, stacks, all_stacks, teams, all_teams, changed_since)
        if not team_stacks:
            console.print("No team stack to preview: no request file changed.")
            raise typer.Exit(EXIT_OK)
        _preview_several(team_stacks, False, jobs, team_dir, json_file, sarif_file, markdown_file, render_k8s, policy_pack, no_policy,
                         show_secrets, stack_outputs, config_files=request_files)
        return
    if all_stacks or len(stacks or []) > 1:
        _preview_several(stacks or [], all_stacks, jobs, cwd, json_file, sarif_file, markdown_file, render_k8s, policy_pack, no_policy,
                         show_secrets, stack_outputs)
        return
    stack = (stacks or ["dev"])[0]
    from .core.errors import PlatformError
    from .preview import PreviewError, load_stack, run_preview
    from .preview.engine import run_resolving
    from .preview.references import StackKey, parse_outputs_option
    from .preview.render_k8s import RenderError, check_render_directory, render_kubernetes
    from .preview.report import print_plan

    _check_output_paths({"--json": json_file, "--sarif": sarif_file, "--markdown": markdown_file}, {"--render-k8s": render_k8s})
    if render_k8s is not None:
        try:
            check_render_directory(render_k8s)  # before the preview: a refused directory is exit 2 at once
        except RenderError as error:
            raise _fail_user(str(error)) from None
    try:
        files = parse_outputs_option(stack_outputs or [])
    except PlatformError as error:
        raise _fail_user(str(error)) from None
    referenced: list[_Referenced] = []
    with contextlib.ExitStack() as cleanup:
        def attempt(resolver):
            # The pack starts, and judges each resource as it registers, while the program runs; a run
            # stopped to preview a referenced stack first is thrown away with its pack.
            gate = None if no_policy else _policy_stream(cwd, stack, policy_pack, load_stack(cwd, stack))
            try:
                with console.status(f"Previewing stack [bold]{escape(stack)}[/] …", spinner="dots") as status:
                    def progress(count: int, type_token: str, name: str) -> None:
                        status.update(f"Previewing stack [bold]{escape(stack)}[/] … {count} resources registered ({escape(type_token)} {escape(name)})")

                    result = run_preview(cwd, stack, on_register=progress, on_resource=gate.submit if gate else None, references=resolver)
            except BaseException:
                if gate is not None:
                    gate.close()
                raise
            if gate is not None:
                cleanup.enter_context(gate)
            return result, gate

        try:
            settings = load_stack(cwd, stack)
            (plan, logs), gate = run_resolving(
                attempt, near=settings.project_dir, current=StackKey(settings.project, settings.stack), files=files,
                preview_needed=lambda d, k, c, f, cache: _preview_referenced(d, k, c, f, cache, policy_pack, no_policy, show_secrets, referenced))
        except PreviewError as error:
            raise _program_failed(error, cwd, stack) from None
        except PlatformError as error:  # no such project or stack, a bad stack file, pack or binding, a stack reference
            raise _fail_user(str(error)) from None
        print_plan(console, plan, logs, show_secrets=show_secrets)
        if gate is not None:
            _judge(plan, gate, stack, sarif_file, markdown_file, show_secrets, referenced)
    if json_file is not None:
        _write_output("--json", json_file, json.dumps(plan.to_json(show_secrets=show_secrets), indent=2, sort_keys=False, default=str) + "\n")
        count = sum(1 for r in plan.resources if r.type != "pulumi:pulumi:Stack")  # as the "Resources by type" total
        console.print(f"Plan written to [bold]{escape(str(json_file))}[/] ({count} resources and the stack).")
    if render_k8s is not None:
        try:
            written = render_kubernetes(plan, render_k8s, show_secrets=show_secrets)
        except RenderError as error:
            raise _fail_user(str(error)) from None
        console.print(f"Kubernetes manifests written to [bold]{escape(str(render_k8s))}[/] ({len(written)} objects).")
    blocked = any(v.get("level") == "mandatory" for v in plan.violations) or any(r.mandatory for r in referenced)
    if not no_policy and blocked:
        raise typer.Exit(EXIT_POLICY_VIOLATIONS)


def _team_stack_selection(cwd: Path, stacks: Optional[list[str]], all_stacks: bool, teams: Optional[list[str]], all_teams: bool,
                          changed_since: Optional[str]) -> tuple[Path, list[str], dict[str, Path]]:
    """The team project directory, the team stacks ``--teams`` / ``--all-teams`` / ``--changed-since``
    select (validated request files first: a bad file is exit 2 naming it), and each stack's request
    file (the SARIF results point at it)."""
    from .core.errors import PlatformError
    from .platform.teams import changed_paths, load_requests, select_team_stacks, stacks_for_changes

    if stacks or all_stacks:
        raise _fail_user("--teams, --all-teams and --changed-since choose the team stacks; give them without --stack or --all-stacks")
    if sum(bool(x) for x in (teams, all_teams, changed_since is not None)) > 1:
        raise _fail_user("give one of --teams, --all-teams and --changed-since")
    root = _repository_root(cwd)
    try:
        requests = load_requests(root)
        if changed_since is not None:
            names = stacks_for_changes(requests, changed_paths(root, changed_since))
        else:
            chosen = [name.strip() for item in teams or [] for name in item.split(",") if name.strip()] or None
            names = select_team_stacks(requests, chosen)
    except PlatformError as error:
        raise _fail_user(str(error)) from None
    files: dict[str, Path] = {}
    for name in names:  # <team>-<env>, environments may hold '-': resolve through the request files
        team = next(t for t in requests.requests if name.startswith(f"{t}-") and name[len(t) + 1:] in requests.requests[t].environments)
        files[name] = root / requests.files[team]
    return root / "team-stack", names, files


def _preview_several(stacks: list[str], all_stacks: bool, jobs: Optional[int], cwd: Path, json_file: Optional[Path], sarif_file: Optional[Path],
                     markdown_file: Optional[Path], render_k8s: Optional[Path], policy_pack: Optional[Path], no_policy: bool, show_secrets: bool,
                     stack_outputs: Optional[list[str]], config_files: Optional[dict[str, Path]] = None) -> None:
    """``mlplat preview`` of several stacks (:func:`platform_lib.preview.many.preview_many`);
    ``config_files``: the file each stack's SARIF results point at (a team stack's request file)."""
    import os

    from .core.errors import PlatformError
    from .policy.report import many_to_markdown, many_to_sarif, print_violations, to_markdown
    from .preview.many import PreviewTarget, preview_many
    from .preview.project import list_stacks, load_stack
    from .preview.references import parse_outputs_option

    if render_k8s is not None:
        raise _fail_user("--render-k8s takes one stack; preview the stacks one at a time to render their Kubernetes objects")
    if all_stacks and stacks:
        raise _fail_user("--all-stacks previews every stack of the project; give it without --stack")
    _check_output_paths({"--json": json_file, "--sarif": sarif_file, "--markdown": markdown_file}, {})
    try:
        files = parse_outputs_option(stack_outputs or [])
        names = list_stacks(cwd) if all_stacks else stacks
        if all_stacks:
            load_stack(cwd, names[0]) if names else None
    except PlatformError as error:
        raise _fail_user(str(error)) from None
    except FileNotFoundError:
        raise _fail_user(f"no Pulumi.yaml in {cwd.resolve()}: pass --cwd with a Pulumi project directory") from None
    if not names:
        raise _fail_user(f"the project in {cwd.resolve()} has no stack file (Pulumi.<stack>.yaml)")
    workers = jobs or os.cpu_count() or 1
    console.print(f"Previewing {len(names)} stack(s) with {min(workers, len(names))} worker process(es) …")

    def done(result) -> None:
        role = "" if result.requested else f" (referenced by {', '.join(result.referenced_by)})"
        mark = {0: "[green]passes[/]", 3: "[red]blocked[/]"}.get(result.exit_code, "[red]error[/]")
        console.print(f"  {escape(str(result.key))}{escape(role)}: {result.resources} resources, {mark} ({result.seconds:.1f} s)")

    outcome = preview_many([PreviewTarget(cwd, name) for name in names], jobs, stack_outputs=files, policy=not no_policy,
                           policy_pack=policy_pack, show_secrets=show_secrets, keep_plans=json_file is not None, on_result=done)
    for result in outcome.results:
        if config_files and result.requested and result.stack in config_files:
            result.config_file = config_files[result.stack]
    console.print()
    rows, sections = [], []
    for result in outcome.results:
        label = str(result.key)
        for message in result.warnings:
            console.print(Text(f"warning ({label}): {message}", style="yellow"))
        if result.error:
            error_console.print(Text.assemble(("error:", "bold red"), f" {label}: ", result.error))
        elif result.gated and result.violations:
            console.print(Text(f"Stack {label}", style="bold magenta"))
            print_violations(console, result.violations)
            console.print()
        verdict = {0: "passes", 3: "blocked"}.get(result.exit_code, f"error (exit {result.exit_code})")
        if result.exit_code == 0 and not result.gated:
            verdict = "previewed (no policy)"
        rows.append({"stack": label, "role": "requested" if result.requested else f"referenced by {', '.join(result.referenced_by)}",
                     "resources": result.resources, "mandatory": result.mandatory, "advisory": result.advisory, "verdict": verdict,
                     "seconds": result.seconds, "references": ", ".join(f"{r['stack']} ({r['kind']})" for r in result.stack_references)})
        if result.error:
            sections.append(f"### Stack `{label}`: error\n\n```text\n{result.error}\n```\n")
        elif result.violations:
            sections.append(to_markdown(result.violations, stack=label))
    console.print(_verdict_table(rows))
    blocked = sum(1 for r in outcome.results if r.exit_code != 0)
    console.print(f"{len(outcome.results)} stack(s): {len(outcome.results) - blocked} pass, {blocked} blocked or failed; exit code {outcome.exit_code}.")
    if json_file is not None:
        document = {"stacks": [{"project": r.project, "stack": r.stack, "project_dir": str(r.project_dir), "requested": r.requested,
                                "referenced_by": r.referenced_by, "exit_code": r.exit_code, "error": r.error, "warnings": r.warnings,
                                "plan": r.plan} for r in outcome.results], "exit_code": outcome.exit_code}
        _write_output("--json", json_file, json.dumps(document, indent=2, default=str) + "\n")
        console.print(f"Plans written to [bold]{escape(str(json_file))}[/] ({len(outcome.results)} stacks).")
    if sarif_file is not None and not no_policy:
        base = Path.cwd()
        entries = [(str(r.key), _relative_uri(r.config_file, base), r.violations) for r in outcome.results]
        _write_output("--sarif", sarif_file, json.dumps(many_to_sarif(entries, run_id=_run_id(names, all_stacks)), indent=2) + "\n")
        console.print(f"Written [bold]{escape(str(sarif_file))}[/].")
    if markdown_file is not None:
        _write_output("--markdown", markdown_file, many_to_markdown(rows, sections))
        console.print(f"Written [bold]{escape(str(markdown_file))}[/].")
    raise typer.Exit(outcome.exit_code)


def _run_id(names: list[str], all_stacks: bool) -> str:
    return "all-stacks" if all_stacks else "+".join(names)


def _relative_uri(path: Optional[Path], base: Path) -> str:
    """A stack file as a SARIF artifact URI: relative to ``base`` when below it (as code scanning
    expects, relative to the repository root), else absolute."""
    if path is None:
        return "Pulumi.yaml"
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _verdict_table(rows: list[dict]):
    from rich.table import Table

    # Four columns; the stack's size, time, role and the stacks it reads on a second line of its
    # cell: eight columns folded every name into slivers at the 80 columns of a CI log.
    table = Table(title="Verdict", title_justify="left", show_edge=False)
    table.add_column("stack", overflow="fold", ratio=1)
    table.add_column("verdict", no_wrap=True)
    for column in ("mandatory", "advisory"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        style = "green" if row["verdict"] in ("passes", "previewed (no policy)") else "red"
        stack = Text(row["stack"], style="bold")
        detail = f"{row['resources']} resources, {row['seconds']:.1f} s; {row['role']}"
        if row["references"]:
            detail += f"; reads {row['references']}"
        stack.append("\n" + detail, style="dim")
        table.add_row(stack, Text(row["verdict"], style=style), str(row["mandatory"]), str(row["advisory"]))
    return table


@dataclasses.dataclass
class _Referenced:
    """A stack previewed first because the previewed program references it: its verdict."""

    key: object
    project_dir: Path
    resources: int
    violations: list
    gated: bool

    @property
    def mandatory(self) -> int:
        return sum(1 for v in self.violations if v.get("level") == "mandatory")


def _preview_referenced(project_dir: Path, key, chain, files, cache, policy_pack: Optional[Path], no_policy: bool, show_secrets: bool,
                        referenced: list) -> object:
    """Preview a stack a reference needs, first, with its own policy gate; print its verdict and
    return its outputs. Its own references are resolved the same way.

    Raises:
        StackReferenceError: its program failed or one of its references cannot be resolved.
        PolicyGateError: its pack could not be started or configured.
    """
    from .policy.report import print_violations
    from .preview import PreviewError, load_stack, run_preview
    from .preview.engine import referenced_stack_failed, reference_source, run_resolving, stack_outputs_of

    settings = load_stack(project_dir, key.stack)

    def attempt(resolver):
        with console.status(f"Previewing the referenced stack [bold]{escape(str(key))}[/] first …", spinner="dots"):
            return run_preview(project_dir, key.stack, references=resolver)

    try:
        plan, _ = run_resolving(attempt, near=settings.project_dir, current=key, files=files, cache=cache, chain=chain,
                                preview_needed=lambda d, k, c, f, cc: _preview_referenced(d, k, c, f, cc, policy_pack, no_policy, show_secrets, referenced))
    except PreviewError as error:
        raise referenced_stack_failed(error, key, settings) from None
    violations: list = []
    count = sum(1 for r in plan.resources if r.type != "pulumi:pulumi:Stack")
    console.print(Text.assemble(("Referenced stack ", "bold"), (str(key), "bold magenta"),
                                f" previewed first ({project_dir}): {count} resources, {len(plan.outputs)} outputs."))
    if not no_policy:
        with _policy_stream(project_dir, key.stack, policy_pack, settings) as gate:
            with console.status(f"Running policy pack {escape(str(gate.pack_dir))} on {escape(str(key))} …", spinner="dots"):
                violations = gate.judge(plan)
        if not show_secrets:
            violations = plan.masked_violations(violations)
        print_violations(console, violations, pack=str(gate.pack_dir))
    console.print()
    referenced.append(_Referenced(key=key, project_dir=project_dir, resources=count, violations=violations, gated=not no_policy))
    return stack_outputs_of(plan, key, reference_source(project_dir, key))


def _program_failed(error, cwd: Path, stack: str) -> typer.Exit:
    """Print why the program failed: a user mistake or the program's own exception (exit 2), or a
    bug in platform_lib (exit 1, with the whole traceback)."""
    from .core.secrets import mask_text
    from .preview import load_stack
    from .preview.failure import explain
    from .preview.report import print_warnings

    failure = explain(error.__cause__ or error, load_stack(cwd, stack))
    print_warnings(error_console, error.messages, error.plan.secret_texts())  # e.g. a secure: key it could not decrypt
    message = mask_text(failure.message, error.plan.secret_texts())  # a message may quote a secret value
    if failure.internal:
        error_console.print(Text(f"internal error while running the program of stack {stack!r}:", style="bold red"))
        error_console.print(message, highlight=False, markup=False)
        return typer.Exit(EXIT_INTERNAL_ERROR)
    registered = sum(1 for r in error.plan.resources if r.type != "pulumi:pulumi:Stack")
    return _fail_user(message + ("" if registered else "\nNo resources were registered."))


_NOTED: set[str] = set()


def _policy_stream(cwd: Path, stack: str, policy_pack: Optional[Path], stack_settings):
    """The policy pack (``--policy-pack``, else the project's or the shipped one), started now with
    the policy config of the environment the project binds to the stack's name (a note when none does).

    Raises:
        PolicyGateError: the stack's ``mlplat:environment`` disagrees with its binding, or the
            project's ``policies/environments.yaml`` is invalid.
    """
    from .policy.enforcement import enforcement_for
    from .policy.gate import default_pack_dir
    from .policy.stream import PolicyStream

    pack_dir = policy_pack or default_pack_dir(cwd)
    stack = stack_settings.stack  # the stack's own name, also when --stack is org/project/stack
    enforcement = enforcement_for(stack, stack_settings.config, pack_dir=pack_dir, project_dir=stack_settings.project_dir)
    if enforcement.note and enforcement.note not in _NOTED:  # once, also when the run is repeated after a referenced stack
        _NOTED.add(enforcement.note)
        error_console.print(Text.assemble(("note:", "bold yellow"), " ", enforcement.note))
    return PolicyStream(pack_dir, project=stack_settings.project, stack=stack, stack_config=stack_settings.config,
                        environment=enforcement.environment)


def _check_output_paths(files: dict[str, Optional[Path]], directories: dict[str, Optional[Path]]) -> None:
    """Refuse, before the preview runs, an output path that cannot be written (exit 2).

    A file's directory must exist (as the Pulumi CLI requires for its output files), and the file
    must be one that can be opened for writing: an existing one is opened in append mode, so
    nothing in it changes, and a file of the kernel's /proc or /sys (where a write fails even when
    the open succeeds) is refused. A directory (``--render-k8s``) must not be a file, and its
    nearest existing ancestor must be a writable directory (the missing ones are created).
    """
    import os

    for option, path in files.items():
        if path is None:
            continue
        problem = None
        parent = path.absolute().parent
        if path.is_dir():
            problem = "is a directory"
        elif not parent.exists():
            problem = f"cannot be created: the directory {parent} does not exist"
        elif not parent.is_dir():
            problem = f"cannot be created: {parent} is a file, not a directory"
        elif path.exists():
            if path.resolve().parts[1:2] in (("proc",), ("sys",)):
                problem = "is a file of the kernel's /proc or /sys file system, not a place to write"
            else:
                try:  # O_NONBLOCK: a FIFO with no reader fails at once (ENXIO) instead of blocking
                    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK))
                except OSError as error:
                    problem = f"cannot be opened for writing: {error.strerror}"
        elif not os.access(parent, os.W_OK | os.X_OK):
            problem = f"cannot be created: {parent} is not writable"
        if problem:
            raise _fail_user(f"{option} {path} {problem}; nothing was previewed")
    for option, path in directories.items():
        if path is None:
            continue
        problem = None
        if path.exists() and not path.is_dir():
            problem = "is a file, not a directory"
        elif path.exists() and not os.access(path, os.W_OK):
            problem = "is not writable"
        else:
            ancestor = path.absolute().parent
            while not ancestor.exists():
                ancestor = ancestor.parent
            if not ancestor.is_dir():
                problem = f"cannot be created: {ancestor} is a file, not a directory"
            elif not os.access(ancestor, os.W_OK | os.X_OK):
                problem = f"cannot be created: {ancestor} is not writable"
        if problem:
            raise _fail_user(f"{option} {path} {problem}; nothing was previewed")


def _write_output(option: str, path: Path, text: str) -> None:
    """Write an output file (mode 0600); a failure is a user error (exit 2) naming the option and path."""
    from .preview.files import write_private_text

    try:
        write_private_text(path, text)
    except OSError as error:
        raise _fail_user(f"{option} {path} could not be written: {error.strerror or error}") from None


def _judge(plan, gate, stack: str, sarif_file: Optional[Path], markdown_file: Optional[Path], show_secrets: bool = False,
           referenced: Optional[list] = None) -> None:
    """Judge the plan with the running policy pack, print the violations and write the requested
    reports (secret values masked in the messages unless ``show_secrets``)."""
    from .policy.gate import PolicyGateError
    from .policy.report import print_violations, to_markdown, to_sarif

    try:
        with console.status(f"Running policy pack {escape(str(gate.pack_dir))} …", spinner="dots"):
            violations = gate.judge(plan)
    except PolicyGateError as error:
        raise _fail_user(str(error)) from None
    if not show_secrets:
        violations = plan.masked_violations(violations)
    print_violations(console, violations, pack=str(gate.pack_dir))
    for option, path, text in (("--sarif", sarif_file, lambda: json.dumps(to_sarif(violations, stack=stack), indent=2) + "\n"),
                               ("--markdown", markdown_file, lambda: to_markdown(violations, stack=stack) + _references_markdown(plan, referenced or []))):
        if path is not None:
            _write_output(option, path, text())
            console.print(f"Written [bold]{escape(str(path))}[/].")


def _references_markdown(plan, referenced: list) -> str:
    """The Markdown lines on the plan's stack references (empty when it has none): each reference,
    where its outputs came from, and the verdict of each stack previewed first."""
    if not plan.stack_references:
        return ""
    from .policy.report import _cell

    verdicts = {str(r.key): r for r in referenced}
    lines = ["", "#### Stack references", "", "| reference | stack | outputs from | verdict |", "| --- | --- | --- | --- |"]
    for record in plan.stack_references:
        from .preview.references import parse_reference

        key = str(parse_reference(record.stack, plan.project))
        found = verdicts.get(key)
        verdict = ("not gated" if not found.gated else f"{found.mandatory} mandatory, {len(found.violations) - found.mandatory} advisory") if found else ""
        lines.append(f"| `{record.name}` | `{record.stack}` | {_cell(record.source)} | {verdict} |")
    return "\n".join(lines) + "\n"


@app.command()
def policies(
    markdown_file: Annotated[Optional[Path], typer.Option("--markdown", help="Write the catalogue (every policy with its description, levels, controls and remediation) as Markdown.")] = None,
) -> None:
    """List every policy of the pack with its kind, severity, enforcement level per environment and controls."""
    from .policy.catalogue import catalogue
    from .policy.report import catalogue_markdown, catalogue_table

    console.print(catalogue_table())
    console.print(f"{len(catalogue())} policies.")
    if markdown_file is not None:
        markdown_file.parent.mkdir(parents=True, exist_ok=True)
        markdown_file.write_text(catalogue_markdown(), encoding="utf-8")
        console.print(f"Catalogue written to [bold]{escape(str(markdown_file))}[/].")


team_app = typer.Typer(help="Team request files (teams/<team>.yaml): scaffold and check them. See docs/teams.md.", no_args_is_help=True)
app.add_typer(team_app, name="team")


def _repository_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``teams/_platform.yaml``, else ``start``."""
    from .platform.teams import PLATFORM_FILE, REQUEST_DIR

    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / REQUEST_DIR / PLATFORM_FILE).is_file():
            return directory
    return start


@team_app.command("new")
def team_new(
    name: Annotated[str, typer.Argument(help="The team's name: a DNS label of 2-40 characters (also its namespace).")],
    env: Annotated[Optional[list[str]], typer.Option("--env", "-e", help="An environment section to write (repeatable); default: dev.")] = None,
    identity_group: Annotated[Optional[str], typer.Option("--identity-group", help="The team's identity group; default ml-<name>-engineers.")] = None,
    owner: Annotated[Optional[str], typer.Option("--owner", help="The CODEOWNERS owner of the file; default from teams/_platform.yaml codeowners (@org/{team}-team).")] = None,
    root: Annotated[Path, typer.Option("--root", help="The repository root (holding teams/); default: found upward from the working directory.")] = Path("."),
) -> None:
    """Scaffold teams/NAME.yaml with safe defaults (small quota, no GPU, restricted pod security, a small
    CPU workspace, a 200 USD monthly budget) and add its CODEOWNERS entry.

    Refuses a bad name or an existing team (exit 2); the new file must validate with every other request file.
    """
    from .core.errors import PlatformError
    from .platform.teams import scaffold_request

    try:
        path, entry = scaffold_request(_repository_root(root), name, environments=env, identity_group=identity_group, owner=owner)
    except PlatformError as error:
        raise _fail_user(str(error)) from None
    console.print(f"Created [bold]{escape(str(path))}[/]; CODEOWNERS: [bold]{escape(entry)}[/]", highlight=False)
    console.print(f"Preview it: mlplat preview --teams {escape(name)}", highlight=False)


@team_app.command("check")
def team_check(
    root: Annotated[Path, typer.Option("--root", help="The repository root (holding teams/).")] = Path("."),
) -> None:
    """Validate every request file together (exit 2 on a problem, naming the file and key)."""
    from .core.errors import PlatformError
    from .platform.teams import load_requests

    try:
        requests = load_requests(_repository_root(root))
    except PlatformError as error:
        raise _fail_user(str(error)) from None
    console.print(f"{len(requests.requests)} team request files valid; team stacks: {', '.join(requests.stacks())}", highlight=False)


@team_app.command("stacks")
def team_stacks(
    teams: Annotated[Optional[list[str]], typer.Option("--teams", help="Only these teams (comma-separated or repeated).")] = None,
    changed_since: Annotated[Optional[str], typer.Option("--changed-since", metavar="REF", help="Only the stacks whose request files changed since the git revision REF.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list (a CI job matrix: one job per stack).")] = False,
    root: Annotated[Path, typer.Option("--root", help="The repository root (holding teams/).")] = Path("."),
) -> None:
    """List team stacks (<team>-<env>): all, some teams', or those a change since REF touches."""
    from .core.errors import PlatformError
    from .platform.teams import changed_paths, load_requests, select_team_stacks, stacks_for_changes

    repository = _repository_root(root)
    try:
        requests = load_requests(repository)
        if changed_since is not None:
            names = stacks_for_changes(requests, changed_paths(repository, changed_since))
        else:
            names = select_team_stacks(requests, [n.strip() for item in teams or [] for n in item.split(",") if n.strip()] or None)
    except PlatformError as error:
        raise _fail_user(str(error)) from None
    if as_json:
        sys.stdout.write(json.dumps(names) + "\n")
    else:
        for name in names:
            console.print(name, highlight=False)


@team_app.command("schema")
def team_schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the schema to this file (docs/teams.schema.json); default: print it.")] = None,
) -> None:
    """The JSON schema of a request file, generated from its pydantic model (for editor validation)."""
    from .platform.teams import request_json_schema

    text = json.dumps(request_json_schema(), indent=2, sort_keys=True) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"Schema written to [bold]{escape(str(output))}[/].")


def _terminated(number: int, _frame: object) -> None:
    raise SystemExit(128 + number)


def main() -> None:
    """Console-script entry point.

    Tunes the garbage collector (``MLPLAT_GC_TUNING``) and, once the command has written and
    closed its files and stdout and stderr are flushed, exits without interpreter finalization
    (``MLPLAT_FAST_EXIT``); see :mod:`platform_lib.tuning`.
    """
    import signal

    from .tuning import enabled, exit_now, tune_garbage_collection

    tune_garbage_collection()
    # SIGTERM unwinds like Ctrl-C, so a running policy pack is stopped (its host also ends when we do).
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
        code = EXIT_OK
    except KeyboardInterrupt:
        error_console.print("interrupted")
        code = 130
    except SystemExit as error:  # click ends every command with one
        if error.code is not None and not isinstance(error.code, int):
            raise
        code = error.code or EXIT_OK
    if enabled("MLPLAT_FAST_EXIT"):
        exit_now(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
