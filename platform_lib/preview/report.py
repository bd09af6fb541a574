"""Readable console output of a preview: the resource tree, counts by type, and stack outputs."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..core.secrets import mask_text
from .plan import Plan, PlannedResource

STACK_TYPE = "pulumi:pulumi:Stack"


def _label(resource: PlannedResource) -> Text:
    label = Text()
    style = "bold cyan" if not resource.custom else "white"
    label.append(resource.type, style=style)
    label.append("  ")
    label.append(resource.name, style="bold" if not resource.custom else "")
    flags = []
    if resource.options.protect:
        flags.append("protect")
    if resource.options.retain_on_delete:
        flags.append("retain")
    if resource.options.delete_before_replace:
        flags.append("delete-before-replace")
    if flags:
        label.append(f"  [{', '.join(flags)}]", style="yellow")
    return label


def resource_tree(plan: Plan) -> Tree:
    """The plan as a tree: the stack, its components, and each component's children."""
    children: dict[str, list[PlannedResource]] = {}
    roots: list[PlannedResource] = []
    for resource in plan.resources:
        if resource.parent:
            children.setdefault(resource.parent, []).append(resource)
        else:
            roots.append(resource)
    stack = next((r for r in roots if r.type == STACK_TYPE), None)
    tree = Tree(Text(f"{STACK_TYPE}  {plan.project}-{plan.stack}", style="bold magenta"))  # Text: names are not markup

    def add(node: Tree, resource: PlannedResource) -> None:
        branch = node.add(_label(resource))
        for child in children.get(resource.urn, []):
            add(branch, child)

    top_level = children.get(stack.urn, []) if stack else []
    top_level += [r for r in roots if r is not stack]
    for resource in top_level:
        add(tree, resource)
    return tree


def type_counts(plan: Plan) -> Table:
    """A table of how many resources of each type the plan registers, components first."""
    counts = Counter(r.type for r in plan.resources if r.type != STACK_TYPE)
    components = {r.type for r in plan.resources if not r.custom}
    table = Table(title="Resources by type", title_justify="left", show_edge=False)
    table.add_column("type")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for type_token, count in sorted(counts.items(), key=lambda item: (item[0] not in components, item[0])):
        table.add_row(Text(type_token), "component" if type_token in components else "resource", str(count))
    table.add_section()
    table.add_row("total", "", str(sum(counts.values())), style="bold")
    return table


def flatten_outputs(outputs: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested stack outputs as (dotted path, text) rows: ``teams.fraud.workloadRoleArn``."""
    rows: list[tuple[str, str]] = []
    for key in sorted(outputs):
        path = f"{prefix}.{key}" if prefix else key
        value = outputs[key]
        if isinstance(value, dict) and value:
            rows.extend(flatten_outputs(value, path))
        elif isinstance(value, (dict, list)):
            rows.append((path, json.dumps(value)))
        else:
            rows.append((path, "" if value is None else str(value)))
    return rows


def outputs_table(plan: Plan, *, show_secrets: bool = False) -> Table:
    """The stack outputs, one row per leaf value, nested keys joined with dots; secret values are
    ``[secret]`` unless ``show_secrets``."""
    table = Table(title="Stack outputs", title_justify="left", show_edge=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for path, text in flatten_outputs(plan.outputs if show_secrets else plan.masked_outputs()):
        # Text, not markup: a value such as "...svc.id.goog[fraud/trainer]" is printed as it is.
        table.add_row(Text(path), Text(text))
    return table


def references_table(plan: Plan) -> Table:
    """The stack references the program read: the stack, where its outputs came from (an outputs
    file, or the referenced stack's preview run first) and their names, secret ones marked."""
    # Every column folds: at the 80 columns of a CI log, two no-wrap columns of fully qualified
    # names left no room for where the outputs came from. The stack column only when some reference
    # names its stack differently (``project/stack`` resolved to ``org/project/stack``).
    records = plan.stack_references
    show_stack = any(record.stack != record.name for record in records)
    table = Table(title="Stack references", title_justify="left", show_edge=False)
    table.add_column("reference", style="bold", overflow="fold")
    if show_stack:
        table.add_column("stack", overflow="fold")
    table.add_column("outputs from", overflow="fold")
    table.add_column("outputs", overflow="fold")
    for record in records:
        names = ", ".join(f"{n} (secret)" if n in record.secret_names else n for n in record.output_names)
        cells = [Text(record.name), *([Text(record.stack)] if show_stack else []), Text(record.source), Text(names)]
        table.add_row(*cells)
    return table


def print_plan(console: Console, plan: Plan, logs: list[tuple[str, str]], *, show_secrets: bool = False) -> None:
    """Print the tree, the counts, the outputs and the program's warnings and errors; secret values
    are masked (``[secret]``) unless ``show_secrets``."""
    console.print(resource_tree(plan))
    console.print()
    console.print(type_counts(plan))
    console.print()
    if plan.outputs:
        console.print(outputs_table(plan, show_secrets=show_secrets))
        console.print()
    if plan.stack_references:
        console.print(references_table(plan))
        console.print()
    if print_warnings(console, logs, set() if show_secrets else plan.secret_texts()):
        console.print()


def print_warnings(console: Console, logs: list[tuple[str, str]], secrets: set[str]) -> bool:
    """Print the warnings and errors among ``logs`` ((level, text) pairs) with ``secrets`` masked;
    return whether there were any."""
    notes = [(level, mask_text(message, secrets)) for level, message in logs if level in ("warning", "error")]
    if notes:
        console.print(Group(*(Text(f"{level}: {message}", style="yellow" if level == "warning" else "red") for level, message in notes)))
    return bool(notes)
