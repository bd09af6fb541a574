"""The team stack program: stack ``<team>-<environment>`` of project ``ml-platform-team``.

Reads ``teams/<team>.yaml`` (and validates every request file with it), takes the environment's
settings from ``stacks/Pulumi.<environment>.yaml`` and the cluster's outputs through a
StackReference, and registers that team's namespace, buckets, workload identity, GPU boxes,
endpoints, workspace and budget. No ``Pulumi.<stack>.yaml`` is needed: the stack's name says
which team and environment it is (docs/teams.md).

    mlplat preview --teams fraud            # offline, every environment of team fraud
    pulumi stack init organization/ml-platform-team/fraud-prod && pulumi preview
"""

from pathlib import Path

from platform_lib.platform.team_stack import main

main(Path(__file__).resolve().parent.parent)
