"""Every Pulumi project file in the repository validates against Pulumi's own JSON schema.

``tests/data/pulumi-project.schema.json`` is Pulumi's own schema for ``Pulumi.yaml`` (its ``$id``:
pulumi/pulumi ``sdk/go/common/workspace/project.json``, the schema the CLI validates projects with).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from .conftest import REPO_ROOT

SCHEMA = json.loads((Path(__file__).parent / "data" / "pulumi-project.schema.json").read_text())
PROJECT_FILES = sorted(p for p in REPO_ROOT.rglob("Pulumi.yaml") if not {".venv", "venv", "node_modules"} & set(p.parts))


@pytest.mark.parametrize("path", PROJECT_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_project_file_validates_against_the_pulumi_schema(path):
    jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


def test_the_platform_project_points_at_the_stacks_directory():
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["main"] == "stacks" and project["stackConfigDir"] == "stacks"
    assert (REPO_ROOT / project["main"] / "__main__.py").is_file()


def test_a_schema_violation_is_caught():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "runtime": {"name": "python", "options": {"toolchain": 3}}, "main": 7}, SCHEMA)
