"""Reports of policy violations and of the catalogue: rich tables, SARIF 2.1.0 and Markdown.

SARIF follows OASIS "Static Analysis Results Interchange Format (SARIF) Version 2.1.0" (one run,
the pack as the tool driver, one rule per catalogue policy, one result per violation; mandatory
violations are ``error``, advisory ones ``warning``), which GitHub code scanning accepts. A result
is located in the stack's config file (``stacks/Pulumi.<stack>.yaml``) with the resource's URN as
a logical location, since the resource is built from that file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .. import __version__
from .catalogue import PolicyRule, catalogue

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_SARIF_LEVEL = {"mandatory": "error", "advisory": "warning", "remediate": "error", "disabled": "none"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}
_LEVEL_STYLE = {"mandatory": "bold red", "advisory": "yellow"}


def counts(violations: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Violations by level: {"mandatory": n, "advisory": m, ...}."""
    result: dict[str, int] = defaultdict(int)
    for violation in violations:
        result[str(violation.get("level"))] += 1
    return {"mandatory": result.get("mandatory", 0), "advisory": result.get("advisory", 0), **result}


def grouped(violations: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Violations by resource URN, in first-seen order; mandatory ones first inside a group."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for violation in violations:
        groups.setdefault(str(violation.get("urn")), []).append(violation)
    for items in groups.values():
        items.sort(key=lambda v: (v.get("level") != "mandatory", v.get("policy")))
    return groups


def violations_table(violations: Sequence[Mapping[str, Any]], title: str = "Policy violations") -> Group:
    """The violations grouped by resource: for each resource a heading (logical name and type),
    then a table of its violations (level and severity, policy, message). Headings outside the
    table keep the three columns readable in an 80-column CI log."""
    parts: list[Any] = [Text(title, style="bold")]  # Text, not markup: the title holds the pack's path
    for _urn, items in grouped(violations).items():
        first = items[0]
        heading = Text.assemble(("● ", "red"), (str(first.get("resource_name")), "bold"), "  ", (str(first.get("resource_type")), "dim"))
        table = Table(show_edge=False, show_header=False, box=None, padding=(0, 1, 0, 3), expand=False)
        table.add_column("level", no_wrap=True)
        table.add_column("policy", no_wrap=True, style="cyan")
        table.add_column("message", overflow="fold")
        for violation in items:
            level = str(violation.get("level"))
            # Text, not markup: a message may hold brackets ("[secret]", a regex class, "[/x]").
            table.add_row(Text(f"{level} · {violation.get('severity')}", style=_LEVEL_STYLE.get(level, "")), Text(str(violation.get("policy"))), Text(str(violation.get("message"))))
        parts.extend([heading, table])
    return Group(*parts)


def print_violations(console: Console, violations: Sequence[Mapping[str, Any]], *, pack: str = "") -> None:
    """Print the violations table (or a one-line all-clear) and the counts."""
    tally = counts(violations)
    if not violations:
        console.print(Text.assemble(("Policies:", "green"), f" no violations{f' ({pack})' if pack else ''}."))
        return
    console.print(violations_table(violations, title=f"Policy violations{f' ({pack})' if pack else ''}"))
    console.print(f"Policies: [bold red]{tally['mandatory']} mandatory[/], [yellow]{tally['advisory']} advisory[/] "
                  f"violation(s) on {len(grouped(violations))} resource(s).")


# ---------------------------------------------------------------- SARIF

def sarif_rule(rule: PolicyRule) -> dict[str, Any]:
    """A SARIF ``reportingDescriptor`` for one policy."""
    return {
        "id": rule.name,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.description},
        "fullDescription": {"text": f"{rule.description} Controls: {', '.join(rule.controls)}."},
        "help": {"text": rule.remediation, "markdown": f"**Remediation:** {rule.remediation}\n\n**Controls:** {', '.join(rule.controls)}"},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.default_level]},
        "properties": {"tags": ["security", *rule.tags], "controls": list(rule.controls), "severity": rule.severity,
                       "security-severity": _SECURITY_SEVERITY[rule.severity], "kind": rule.kind},
    }


def to_sarif(violations: Sequence[Mapping[str, Any]], *, stack: str, config_file: str | None = None,
             pack_name: str = "mlplat-policies", pack_version: str = __version__) -> dict[str, Any]:
    """A SARIF 2.1.0 log of the violations, with every catalogue policy as a rule.

    Args:
        violations: the gate's violation dicts.
        stack: the stack name.
        config_file: the artifact results point at (default ``stacks/Pulumi.<stack>.yaml``).
        pack_name, pack_version: the tool driver's name and version.
    """
    rules = catalogue()
    index = {rule.name: i for i, rule in enumerate(rules)}
    uri = config_file or f"stacks/Pulumi.{stack}.yaml"
    results = []
    for violation in violations:
        policy = str(violation.get("policy"))
        result: dict[str, Any] = {
            "ruleId": policy,
            "level": _SARIF_LEVEL.get(str(violation.get("level")), "warning"),
            "message": {"text": f"{violation.get('resource_name')}: {violation.get('message')}"},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
                "logicalLocations": [{"name": str(violation.get("resource_name")), "fullyQualifiedName": str(violation.get("urn")),
                                      "kind": "resource"}],
            }],
            "partialFingerprints": {"mlplatViolation/v1": f"{policy}:{violation.get('urn')}:{violation.get('message')}"},
            "properties": {"enforcementLevel": violation.get("level"), "severity": violation.get("severity"),
                           "resourceType": violation.get("resource_type"), "controls": list(violation.get("controls") or [])},
        }
        if policy in index:
            result["ruleIndex"] = index[policy]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": pack_name, "version": pack_version, "informationUri": "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
                                "rules": [sarif_rule(rule) for rule in rules]}},
            "automationDetails": {"id": f"mlplat-preview/{stack}/"},
            "results": results,
        }],
    }


# ---------------------------------------------------------------- Markdown

def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(violations: Sequence[Mapping[str, Any]], *, stack: str) -> str:
    """A PR-comment summary: verdict, counts, and a table per resource."""
    tally = counts(violations)
    verdict = "❌ blocked" if tally["mandatory"] else "✅ passes"
    lines = [f"### Policy check for stack `{stack}`: {verdict}", "",
             f"**{tally['mandatory']}** mandatory and **{tally['advisory']}** advisory violation(s) "
             f"on **{len(grouped(violations))}** resource(s).", ""]
    if not violations:
        lines.append("No policy violations.")
        return "\n".join(lines) + "\n"
    lines += ["| resource | type | level | severity | policy | message |", "| --- | --- | --- | --- | --- | --- |"]
    for items in grouped(violations).values():
        for v in items:
            lines.append(f"| `{_cell(v.get('resource_name'))}` | `{_cell(v.get('resource_type'))}` | {_cell(v.get('level'))} | "
                         f"{_cell(v.get('severity'))} | `{_cell(v.get('policy'))}` | {_cell(v.get('message'))} |")
    remediations = {str(v.get("policy")): str(v.get("remediation")) for v in violations if v.get("remediation")}
    if remediations:
        lines += ["", "<details><summary>How to fix</summary>", ""]
        lines += [f"- `{name}`: {_cell(text)}" for name, text in sorted(remediations.items())]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- many stacks in one report

def many_to_sarif(stacks: Sequence[tuple[str, str, Sequence[Mapping[str, Any]]]], *, run_id: str = "all") -> dict[str, Any]:
    """One SARIF 2.1.0 log for many stacks: one run (one tool, one category) whose results carry
    their stack: each points at its stack's config file (``stacks[i][1]``, a path relative to the
    repository) and has ``properties.stack``; fingerprints hold the URN, which names the stack.

    Args:
        stacks: (stack label ``project/stack``, config file URI, violations) per stack.
        run_id: the run's ``automationDetails.id`` part (``mlplat-preview/<run_id>/``).
    """
    log = to_sarif([], stack=run_id)
    run = log["runs"][0]
    for label, uri, violations in stacks:
        for result in to_sarif(violations, stack=label, config_file=uri)["runs"][0]["results"]:
            result["properties"]["stack"] = label
            run["results"].append(result)
    return log


def many_to_markdown(rows: Sequence[Mapping[str, Any]], sections: Sequence[str]) -> str:
    """A PR-comment summary of many stacks: the combined verdict, one table row per stack
    (``stack``, ``role``, ``resources``, ``mandatory``, ``advisory``, ``verdict``), then ``sections``
    (one per stack with findings, e.g. :func:`to_markdown`'s)."""
    blocked = any(row["verdict"] != "passes" for row in rows)
    lines = [f"## Policy check for {len(rows)} stack(s): {'❌ blocked' if blocked else '✅ passes'}", "",
             "| stack | role | resources | mandatory | advisory | verdict |", "| --- | --- | ---: | ---: | ---: | --- |"]
    for row in rows:
        lines.append(f"| `{_cell(row['stack'])}` | {_cell(row['role'])} | {row['resources']} | {row['mandatory']} | {row['advisory']} | {_cell(row['verdict'])} |")
    text = "\n".join(lines) + "\n"
    for section in sections:
        text += "\n" + section
    return text


# ---------------------------------------------------------------- the catalogue

def catalogue_table(rules: Sequence[PolicyRule] | None = None) -> Table:
    """A rich table of the policies: name, kind, severity, level per environment, controls."""
    table = Table(title="ml-platform policies", title_justify="left")
    for column in ("policy", "kind", "severity", "dev / staging / prod", "controls"):
        table.add_column(column, overflow="fold")
    for rule in rules or catalogue():
        table.add_row(rule.name, rule.kind, rule.severity, " / ".join(rule.levels[e] for e in ("dev", "staging", "prod")), ", ".join(rule.controls))
    return table


def catalogue_markdown(rules: Sequence[PolicyRule] | None = None) -> str:
    """The catalogue as Markdown: a summary table, then each policy's description and remediation."""
    rules = list(rules or catalogue())
    lines = ["# Policy catalogue", "", f"{len(rules)} policies ({sum(r.kind == 'resource' for r in rules)} resource, "
             f"{sum(r.kind == 'stack' for r in rules)} stack). Generated by `mlplat policies --markdown FILE`.", "",
             "| policy | kind | severity | dev | staging | prod | controls |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for rule in rules:
        lines.append(f"| [`{rule.name}`](#{rule.name}) | {rule.kind} | {rule.severity} | {rule.levels['dev']} | {rule.levels['staging']} | "
                     f"{rule.levels['prod']} | {_cell(', '.join(rule.controls))} |")
    for rule in rules:
        lines += ["", f"## {rule.name}", "", rule.description, "",
                  f"- Applies to: {', '.join(f'`{t}`' for t in rule.resource_types) if rule.resource_types else 'the whole stack'}",
                  f"- Severity: {rule.severity}; enforcement dev / staging / prod: {' / '.join(rule.levels[e] for e in ('dev', 'staging', 'prod'))}",
                  f"- Controls: {', '.join(rule.controls)}",
                  f"- Remediation: {rule.remediation}"]
        if rule.config_properties:
            lines.append(f"- Config: {', '.join(f'`{k}`' for k in rule.config_properties)}")
    return "\n".join(lines) + "\n"
