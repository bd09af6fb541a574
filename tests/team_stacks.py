"""The shipped teams, for tests: their team stacks (team-stack/) and, for tests of the shared
composition, their request files as the shared stack's ``mlplat:teams`` / ``endpoints`` /
``gpuBoxes`` blocks (the shape those blocks had before the teams moved out, docs/teams.md).

Team stacks read their cluster through a StackReference; the tests answer it with outputs files
(``--stack-outputs``, :data:`CLUSTER_OUTPUT_FILES`) holding the outputs contract of
``tests/data/cluster-outputs`` per environment (cluster name and OIDC provider of the environment).
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from platform_lib.platform.config import PlatformConfig, parse_platform_config
from platform_lib.platform.teams import load_requests, load_shared_config, team_model
from platform_lib.preview import run_preview
from platform_lib.preview.references import ReferenceResolver, StackKey

from .cluster_outputs import aws_outputs
from .conftest import REPO_ROOT

TEAM_PROJECT_DIR = REPO_ROOT / "team-stack"
#: The cluster stacks' outputs (tests/data/cluster-outputs), by fully qualified stack name.
CLUSTER_STACKS = {f"organization/ml-platform-cluster/{env}": aws_outputs(env) for env in ("dev", "staging", "prod", "gcp-dev")}


def _write_output_files() -> dict[str, Path]:
    directory = Path(tempfile.mkdtemp(prefix="mlplat-cluster-outputs-"))
    files = {}
    for name, outputs in CLUSTER_STACKS.items():
        path = directory / f"{name.rsplit('/', 1)[1]}.json"
        path.write_text(json.dumps({"outputs": outputs, "secret_outputs": ["kubeconfig"]}))
        files[name] = path
    return files


#: Outputs files of the cluster stacks, by fully qualified stack name (a ``--json`` plan's shape).
CLUSTER_OUTPUT_FILES = _write_output_files()


def cluster_references(near: Path | None = None) -> ReferenceResolver:
    """A resolver answering the cluster stacks' references from :data:`CLUSTER_OUTPUT_FILES`."""
    files = {StackKey("ml-platform-cluster", name.rsplit("/", 1)[1]): path for name, path in CLUSTER_OUTPUT_FILES.items()}
    return ReferenceResolver(near=near or TEAM_PROJECT_DIR, files=files)


def stack_output_args() -> list[str]:
    """``mlplat preview`` options giving every cluster stack's outputs file."""
    return [arg for name, path in CLUSTER_OUTPUT_FILES.items() for arg in ("--stack-outputs", f"{name}={path}")]


def preview_team(stack: str, **kwargs: Any):
    """``run_preview`` of a team stack (``fraud-prod``) with its cluster reference answered."""
    return run_preview(TEAM_PROJECT_DIR, stack, references=cluster_references(), **kwargs)


@functools.cache
def _requests():
    return load_requests(REPO_ROOT)


def team_stacks(*, cloud: str | None = None, env: str | None = None) -> list[str]:
    """The shipped team stacks, optionally of one cloud (``aws``/``gcp``) or environment."""
    requests = _requests()
    found = []
    for stack in requests.stacks():
        team, environment = next((t, e) for t, r in requests.requests.items() for e in r.environments if f"{t}-{e}" == stack)
        shared_cloud = load_shared_config(REPO_ROOT, environment).cloud.value
        if (cloud is None or shared_cloud == cloud) and (env is None or environment == env):
            found.append(stack)
    return found


def team_config(stack: str) -> PlatformConfig:
    """The config a team stack composes (the shared stack's, narrowed to the team)."""
    from platform_lib.platform.team_stack import load_team_stack

    return load_team_stack(REPO_ROOT, stack).config


def team_blocks(env: str) -> dict[str, Any]:
    """The shipped teams of ``env`` as shared stack config blocks (``mlplat:teams``,
    ``mlplat:endpoints``, ``mlplat:gpuBoxes``): ``config_overrides`` for tests of the shared
    composition with every team in one stack."""
    requests = _requests()
    teams, endpoints, boxes = [], [], []
    for name, request in sorted(requests.requests.items()):
        section = request.environments.get(env)
        if section is None:
            continue
        teams.append(team_model(name, request, env).model_dump(by_alias=True, mode="json", exclude_unset=True))
        # drift is a team stack's (the shared stacks refuse it): left out.
        endpoints += [e.model_dump(by_alias=True, mode="json", exclude_unset=True, exclude={"drift"}) for e in section.endpoints]
        boxes += [b.model_dump(by_alias=True, mode="json", exclude_unset=True) for b in section.gpu_boxes]
    return {"mlplat:teams": teams, "mlplat:endpoints": endpoints, "mlplat:gpuBoxes": boxes}


def shared_config_with_teams(env: str) -> PlatformConfig:
    """The shared stack's config of ``env`` with every shipped team of ``env`` in it."""
    import yaml

    raw = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{env}.yaml").read_text())["config"]
    values = {key.split(":", 1)[1]: value for key, value in raw.items() if key.startswith("mlplat:")}
    values.update({key.split(":", 1)[1]: value for key, value in team_blocks(env).items()})
    return parse_platform_config(values)
