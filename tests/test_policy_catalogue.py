"""The catalogue's metadata, the per-environment config files and the pack's files."""

from __future__ import annotations

import json
import re

import yaml

from platform_lib.policy.catalogue import ENVIRONMENTS, catalogue
from platform_lib.policy.environments import ENVIRONMENT_VALUES, environment_policy_config
from platform_lib.policy.rules.tags import taggable_types

from .conftest import REPO_ROOT

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def test_at_least_35_policies_with_complete_metadata():
    rules = catalogue()
    assert len(rules) >= 35
    assert len({r.name for r in rules}) == len(rules)
    assert sum(r.kind == "stack" for r in rules) >= 4
    for rule in rules:
        assert KEBAB.match(rule.name), rule.name
        assert rule.description.endswith(".") and rule.remediation and rule.controls, rule.name
        assert rule.severity in ("low", "medium", "high", "critical")
        assert set(rule.levels) == set(ENVIRONMENTS) and rule.levels["prod"] == "mandatory", rule.name
        assert (rule.kind == "resource") == bool(rule.resource_types), rule.name


def test_config_files_are_generated_from_the_catalogue():
    for environment in ENVIRONMENTS:
        path = REPO_ROOT / "platform_lib" / "policy" / "shipped_pack" / "config" / f"{environment}.json"
        assert json.loads(path.read_text()) == environment_policy_config(environment), f"regenerate: python -m platform_lib.policy.environments ({path})"


def test_dev_is_advisory_where_sensible_and_prod_is_mandatory():
    dev, prod = environment_policy_config("dev"), environment_policy_config("prod")
    level = lambda entry: entry if isinstance(entry, str) else entry["enforcementLevel"]  # noqa: E731
    assert {level(v) for v in prod.values()} == {"mandatory"}
    assert level(dev["k8s-requests-and-limits"]) == "advisory" and level(dev["s3-no-public-acl"]) == "mandatory"


def test_budgets_match_the_stacks():
    for environment in ENVIRONMENTS:
        stack = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{environment}.yaml").read_text())["config"]
        assert ENVIRONMENT_VALUES[environment]["monthlyBudgetUsd"] == stack["mlplat:monthlyBudgetUsd"]
        assert environment_policy_config(environment)["stack-monthly-cost-within-budget"]["monthlyBudgetUsd"] == stack["mlplat:monthlyBudgetUsd"]


def test_taggable_types_come_from_the_sdks():
    types = taggable_types()
    assert "aws:s3/bucket:Bucket" in types["aws"] and "aws:s3/bucketPolicy:BucketPolicy" not in types["aws"]
    assert "gcp:compute/instance:Instance" in types["gcp"]


def test_framework_reference_is_the_control_within_its_framework():
    from platform_lib.policy.catalogue import get_rule
    from platform_lib.policy.pack import framework_of

    cases = {"s3-public-access-block-all-flags": ("AWS Foundational Security Best Practices", "S3.8"),
             "iam-no-wildcard-resource": ("checkov", "CKV_AWS_355"),
             "cloudfront-response-headers-policy": ("checkov", "CKV2_AWS_32"),
             "k8s-no-privileged-containers": ("Kubernetes Pod Security Standards", "baseline: containers[*].securityContext.privileged"),
             "gce-no-external-ip": ("CIS Google Cloud Platform Foundation Benchmark", "4.9"),
             "gke-no-legacy-abac": ("CIS Google Kubernetes Engine (GKE) Benchmark", "5.8.4")}
    for name, expected in cases.items():
        framework = framework_of(get_rule(name))
        assert (framework.name, framework.reference) == expected, name
