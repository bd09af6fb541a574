"""bench/team_stacks_bench.py: the projects it generates preview, so its figures measure real stacks."""

from __future__ import annotations

import importlib
import sys

from platform_lib.preview import preview_many

from .conftest import REPO_ROOT


def _bench():
    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        return importlib.import_module("team_stacks_bench")
    finally:
        sys.path.remove(str(REPO_ROOT / "bench"))


def test_the_minimal_team_stacks_read_their_cluster_once_and_pass_the_gate(tmp_path):
    bench = _bench()
    stacks = bench.write_minimal_projects(tmp_path, bench.team_config(2))
    assert stacks == ["team-000-prod", "team-001-prod"]
    outcome = preview_many([(tmp_path / "team-stack", stack) for stack in stacks], jobs=1)
    assert [str(r.key) for r in outcome.results] == ["bench-cluster/prod", "bench-team/team-000-prod", "bench-team/team-001-prod"]
    assert outcome.exit_code == 0, [(str(r.key), r.error, r.violations) for r in outcome.results]
    team = outcome.results[1]
    assert team.stack_references[0]["stack"] == "organization/bench-cluster/prod" and team.resources > 5


def test_the_generated_teams_match_the_shared_stack_generator():
    bench = _bench()
    teams = bench.team_config(3)
    assert [t["name"] for t in teams] == ["team-000", "team-001", "team-002"]
    assert teams[0]["buckets"][0]["grants"] == [{"team": "team-001", "access": "read", "prefix": "shared/"}]
