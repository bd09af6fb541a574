#!/usr/bin/env python3
"""Which team stacks a pull request touches, for the PR workflow's team matrix.

    python3 scripts/team_stacks.py changed BASE_SHA     # prints teams=["fraud","risk"] (a GitHub Actions output line)
    python3 scripts/team_stacks.py stacks TEAM          # prints TEAM-<environment>, one per line

``changed``: the teams whose request file ``teams/<team>.yaml`` differs between the merge base of
``BASE_SHA`` and ``HEAD`` (``git diff --name-only BASE...HEAD``), added or modified; a deleted
file is no stack to preview. A change to a file of ``teams/`` whose name starts with ``_`` (the
platform team's ``teams/_platform.yaml``: environments, capacity, the most one team may ask)
concerns every team: all request files of ``HEAD`` are listed. Standard library only (the matrix
job installs nothing).

``stacks``: the team's stacks, ``<team>-<environment>`` for each key of ``environments:`` in its
request file (the team project ``team-stack/`` names its stacks so); needs PyYAML (run it with
``.venv/bin/python``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REQUEST_DIR = "teams"
#: A request file: teams/<team>.yaml, the team a DNS label (the platform files start with "_").
REQUEST_FILE = re.compile(rf"^{REQUEST_DIR}/(?P<team>[a-z0-9]([a-z0-9-]*[a-z0-9])?)\.yaml$")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def all_teams(root: Path) -> list[str]:
    """Every team with a request file in ``root/teams``."""
    return sorted(m["team"] for p in (root / REQUEST_DIR).glob("*.yaml") if (m := REQUEST_FILE.match(f"{REQUEST_DIR}/{p.name}")))


def changed_teams(base: str, root: Path = Path(".")) -> list[str]:
    """The teams whose request file the change adds or modifies (every team when a platform file changed)."""
    names = _git("diff", "--name-only", "--diff-filter=d", f"{base}...HEAD", "--", f"{REQUEST_DIR}/").splitlines()
    if any(Path(name).parent.as_posix() == REQUEST_DIR and Path(name).name.startswith("_") for name in names):
        return all_teams(root)
    return sorted({m["team"] for name in names if (m := REQUEST_FILE.match(name))})


def team_stacks(team: str, root: Path = Path(".")) -> list[str]:
    """``<team>-<environment>`` for each environment of ``teams/<team>.yaml``."""
    import yaml

    if not REQUEST_FILE.match(f"{REQUEST_DIR}/{team}.yaml"):
        raise SystemExit(f"error: {team!r} is not a team name (a DNS label)")
    path = root / REQUEST_DIR / f"{team}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    environments = document.get("environments") or {}
    if not isinstance(environments, dict) or not environments:
        raise SystemExit(f"error: {path}: environments: expected a mapping of environment names to settings")
    return [f"{team}-{environment}" for environment in environments]


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "changed":
        print(f"teams={json.dumps(changed_teams(argv[1]), separators=(',', ':'))}")
        return 0
    if len(argv) == 2 and argv[0] == "stacks":
        print("\n".join(team_stacks(argv[1])))
        return 0
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
