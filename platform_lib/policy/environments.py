"""Per-environment policy config, in the format ``pulumi preview --policy-pack-config FILE`` reads.

``platform_lib/policy/shipped_pack/config/<env>.json`` are generated from here (``python -m platform_lib.policy.environments``)
and a test keeps them in step: each policy's level comes from the catalogue (advisory in dev where
a finding should not block an experiment, mandatory in prod), and the values (environment,
monthly budget in USD, GPU instance allowlists) from :data:`ENVIRONMENT_VALUES`. The budgets
equal ``mlplat:monthlyBudgetUsd`` in ``stacks/Pulumi.<env>.yaml``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .catalogue import ENVIRONMENTS, catalogue

#: Policy config values per environment.
ENVIRONMENT_VALUES: dict[str, dict[str, Any]] = {
    "dev": {
        "environment": "dev",
        "monthlyBudgetUsd": 3000,
        "allowedInstanceTypes": ["g4dn.xlarge", "g5.xlarge", "g6.xlarge"],
        "allowedMachineTypes": ["n1-standard-8", "g2-standard-4"],
        "maxGpusPerInstance": 1,
    },
    "staging": {
        "environment": "staging",
        "monthlyBudgetUsd": 8000,
        "allowedInstanceTypes": ["g4dn.xlarge", "g5.xlarge", "g5.2xlarge", "g6.xlarge", "g5.12xlarge"],
        "allowedMachineTypes": ["n1-standard-8", "g2-standard-4", "g2-standard-8"],
        "maxGpusPerInstance": 4,
    },
    "prod": {
        "environment": "prod",
        "monthlyBudgetUsd": 60000,
        "allowedInstanceTypes": ["g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g5.48xlarge", "g6.xlarge", "p4d.24xlarge"],
        "allowedMachineTypes": ["n1-standard-8", "g2-standard-8", "a2-highgpu-1g", "a2-highgpu-8g"],
        "maxGpusPerInstance": 8,
    },
}


def environment_policy_config(environment: str) -> dict[str, Any]:
    """The policy config document of one environment: {policy name: level or {enforcementLevel, values}}."""
    values = ENVIRONMENT_VALUES[environment]
    document: dict[str, Any] = {}
    for rule in catalogue():
        level = rule.levels[environment]
        if rule.config_properties:
            document[rule.name] = {"enforcementLevel": level, **{k: values[k] for k in rule.config_properties if k in values}}
        else:
            document[rule.name] = level
    return document


def write_config_files(directory: Path | str) -> list[Path]:
    """Write ``<directory>/<env>.json`` for every environment; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for environment in ENVIRONMENTS:
        path = directory / f"{environment}.json"
        path.write_text(json.dumps(environment_policy_config(environment), indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_config_files(Path(__file__).resolve().parent / "shipped_pack" / "config"):
        print(written)
