"""Stack config validation: every problem at once, each with key path, value and expectation."""

from __future__ import annotations

import pytest

from platform_lib.platform.config import Environment, parse_platform_config
from platform_lib.core.errors import ConfigError

BASE = {
    "environment": "dev",
    "region": "us-east-1",
    "tags": {"team": "ml-platform", "cost-center": "cc-4100"},
    "cluster": {"stack": "organization/ml-platform-cluster/dev"},
    "teams": [
        {"name": "fraud", "identityGroup": "ml-fraud", "quota": {"cpu": 8, "memoryGib": 32, "gpu": 1}, "buckets": [{"name": "fraud-features"}]},
        {"name": "risk", "identityGroup": "ml-risk", "quota": {"cpu": 4, "memoryGib": 16}},
    ],
}


def parse_errors(values: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(values)
    return [str(issue) for issue in caught.value.issues]


def with_team(**changes) -> dict:
    team = {**BASE["teams"][0], **changes}
    return {**BASE, "teams": [team, BASE["teams"][1]]}


def test_valid_config_parses_with_defaults():
    config = parse_platform_config(BASE)
    assert config.environment is Environment.DEV
    assert config.team("fraud").quota.gpu == 1
    assert config.team("risk").quota.gpu == 0
    assert config.team("fraud").pod_security == "restricted"
    assert config.standard_tags() == {"team": "ml-platform", "cost-center": "cc-4100", "environment": "dev", "managed-by": "pulumi"}
    assert (config.protect_resources, config.retain_resources) == (False, False)


def test_prod_protects_and_retains_by_default_and_explicit_setting_wins():
    prod = parse_platform_config({**BASE, "environment": "prod"})
    assert (prod.protect_resources, prod.retain_resources) == (True, True)
    opted_out = parse_platform_config({**BASE, "environment": "prod", "protect": "false"})
    assert opted_out.protect_resources is False


def test_values_arrive_as_config_text_like_the_pulumi_cli_passes_them():
    config = parse_platform_config({**BASE, "teams": '[{"name": "a1", "identityGroup": "g", "quota": {"cpu": 1, "memoryGib": 1}}]', "monthlyBudgetUsd": "1500", "protect": "true"})
    assert config.teams[0].name == "a1"
    assert config.monthly_budget_usd == 1500
    assert config.protect_resources is True


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({**BASE, "environment": "qa"}, "mlplat:environment: got 'qa'; expected one of 'dev', 'staging' or 'prod'"),
        ({k: v for k, v in BASE.items() if k != "region"}, "mlplat:region: got <missing>; expected a value (this key is required)"),
        ({**BASE, "regon": "us-east-1"}, "mlplat:regon: got 'us-east-1'; expected no such key; did you mean mlplat:region?"),
        ({**BASE, "tags": {"team": "x"}}, "mlplat:tags.cost-center: got <missing>; expected a value (this key is required)"),
        (with_team(name="Fraud_Team"), "mlplat:teams[0].name: got 'Fraud_Team'; expected a string matching ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"),
        (with_team(quota={"cpu": -2, "memoryGib": 8}), "mlplat:teams[0].quota.cpu: got -2; expected a number greater than 0"),
        (with_team(quota={"cpu": 2, "memoryGib": 8, "gpu": "two"}), "mlplat:teams[0].quota.gpu: got 'two'; expected a whole number"),
        (with_team(quota={"cpu": 2, "memoryGib": 8, "gpus": 1}), "mlplat:teams[0].quota.gpus: got 1; expected no such key (unknown keys are rejected; check the spelling)"),
        (with_team(buckets=[{"name": "ok-bucket", "grants": [{"team": "risk", "prefix": "raw/*"}]}]), "mlplat:teams[0].buckets[0].grants[0].prefix: got 'raw/*'; expected a key prefix without wildcards ('*' or '?'): grants are scoped to one literal prefix"),
        (with_team(buckets=[{"name": "ok-bucket", "grants": [{"team": "risk", "access": "admin"}]}]), "mlplat:teams[0].buckets[0].grants[0].access: got 'admin'; expected one of 'read' or 'read-write'"),
        (with_team(buckets=[{"name": "ok-bucket", "grants": [{"team": "nobody"}]}]), "mlplat:teams[0].buckets[0].grants[0].team: got 'nobody'; expected one of the stack's teams (fraud, risk)"),
        ({**BASE, "teams": [BASE["teams"][0], {**BASE["teams"][1], "name": "fraud"}]}, "mlplat:teams[1].name: got 'fraud'; expected a team name not used by another team"),
        ({**BASE, "teams": [BASE["teams"][0], {**BASE["teams"][1], "buckets": [{"name": "fraud-features"}]}]}, "mlplat:teams[1].buckets[0].name: got 'fraud-features'; expected a bucket name unique in the stack (team 'fraud' has it too)"),
        ({k: v for k, v in BASE.items() if k != "cluster"}, "mlplat:cluster: got None; expected a cluster block (stack: <organization>/ml-platform-cluster/<env>) when team namespaces are deployed"),
        ({**BASE, "teams": "[{not json"}, "mlplat:teams: got '[{not json'; expected valid YAML/JSON structure (Expecting property name enclosed in double quotes)"),
        (with_team(identityGroup="system:authenticated"), "mlplat:teams[0].identityGroup: got 'system:authenticated'; expected a group of the cluster's authenticator, "
         "not a built-in Kubernetes 'system:' group or user (system:authenticated, system:serviceaccounts, system:unauthenticated... contain every caller of their kind)"),
        (with_team(name="kube-public"), "mlplat:teams[0].name: got 'kube-public'; expected a namespace name not starting with 'kube-' "
         "(kube-system, kube-public, kube-node-lease and every kube-* name are reserved for Kubernetes)"),
        ({**BASE, "cluster": {**BASE["cluster"], "egressHttpsCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}},
         "mlplat:cluster.egressHttpsCidrs: got ['0.0.0.0/1', '128.0.0.0/1']; expected CIDR blocks that together are narrower than the whole internet (these cover all of 0.0.0.0/0)"),
    ],
    ids=["enum", "missing", "typo", "nested-missing", "pattern", "bound", "type", "unknown-nested", "wildcard-prefix", "access-level", "unknown-grantee", "duplicate-team",
         "duplicate-bucket", "no-cluster", "bad-json", "system-group", "system-namespace", "cidr-union"],
)
def test_each_kind_of_bad_config_names_path_value_and_expectation(values, expected):
    assert expected in parse_errors(values)


def test_every_problem_is_reported_at_once():
    values = {**BASE, "environment": "qa", "regon": "x", "teams": [{**BASE["teams"][0], "quota": {"cpu": 0, "memoryGib": -1}}]}
    messages = parse_errors(values)
    assert sorted(m.split(": got")[0] for m in messages) == [
        "mlplat:environment", "mlplat:regon", "mlplat:teams[0].quota.cpu", "mlplat:teams[0].quota.memoryGib",
    ]


def test_the_cluster_is_a_stack_reference_not_hand_typed_settings():
    messages = parse_errors({**BASE, "cluster": {"name": "c", "oidcIssuer": "oidc.eks.us-east-1.amazonaws.com/id/ABC"}})
    assert messages == ["mlplat:cluster: got {'name': 'c', 'oidcIssuer': 'oidc.eks.us-east-1.amazonaws.com/id/ABC'}; expected no name, oidcIssuer: the cluster's name and OIDC "
                        "settings are the cluster stack's outputs (set stack: <organization>/ml-platform-cluster/<env>, see docs/cluster.md)"]
    messages = parse_errors({**BASE, "cluster": {"stack": "ml-platform-cluster/dev"}})
    assert messages == ["mlplat:cluster.stack: got 'ml-platform-cluster/dev'; expected a fully qualified stack name <organization>/<project>/<stack>, e.g. organization/ml-platform-cluster/prod"]
    assert parse_errors({**BASE, "cluster": {}}) == ["mlplat:cluster.stack: got <missing>; expected a value (this key is required)"]


AWS_BOX = {"name": "fraud-train", "team": "fraud", "instanceType": "g5.xlarge", "subnetId": "subnet-0123456789abcdef0", "vpcId": "vpc-0123456789abcdef0"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # The component's bound (GpuTrainingBoxArgs.root_volume_gib >= 75), in the config's own words.
        ({"rootVolumeGib": 60}, "mlplat:gpuBoxes[0].rootVolumeGib: got 60; expected a number at least 75"),
        ({"idleStopMinutes": 7}, "mlplat:gpuBoxes[0].idleStopMinutes: got 7; expected 0 (no idle stop) or a multiple of 5 minutes, at least 15"),
        ({"instanceType": "m5.large"}, "mlplat:gpuBoxes[0].instanceType: got 'm5.large'; expected an EC2 instance type with NVIDIA GPUs"),
    ],
    ids=["component-bound", "component-validator", "gpu-table"],
)
def test_gpu_box_component_checks_use_the_config_wording(changes, expected):
    messages = parse_errors({**BASE, "gpuBoxes": [{**AWS_BOX, **changes}]})
    assert len(messages) == 1 and messages[0].startswith(expected), messages
    assert "Input should" not in messages[0] and "Value error" not in messages[0]


@pytest.mark.parametrize("where", ["team-grant", "box-grant"])
def test_team_and_box_grants_check_access_and_prefix_alike(where):
    grant = {"access": "admin", "prefix": "raw/*"}
    if where == "team-grant":
        values, path = with_team(buckets=[{"name": "fraud-features", "grants": [{"team": "risk", **grant}]}]), "mlplat:teams[0].buckets[0].grants[0]"
    else:
        values, path = {**BASE, "gpuBoxes": [{**AWS_BOX, "grants": [{"bucket": "fraud-features", **grant}]}]}, "mlplat:gpuBoxes[0].grants[0]"
    assert sorted(parse_errors(values)) == [
        f"{path}.access: got 'admin'; expected one of 'read' or 'read-write'",
        f"{path}.prefix: got 'raw/*'; expected a key prefix without wildcards ('*' or '?'): grants are scoped to one literal prefix",
    ]
    values_ok = with_team(buckets=[{"name": "fraud-features", "grants": [{"team": "risk", "prefix": "raw"}]}])
    assert parse_platform_config(values_ok).team("fraud").buckets[0].grants[0].prefix == "raw/"  # normalised the same way


def test_a_grant_given_twice_is_a_config_error_not_a_failure_half_way():
    repeated = {"team": "risk", "access": "read", "prefix": "shared"}
    messages = parse_errors(with_team(buckets=[{"name": "fraud-features", "grants": [repeated, {**repeated, "prefix": "shared/"}]}]))
    assert messages == ["mlplat:teams[0].buckets[0].grants[1]: got {'team': 'risk', 'access': 'read', 'prefix': 'shared/'}; expected a grant not given already (it repeats grants[0])"]
    # The owner already has read-write on the whole bucket.
    messages = parse_errors(with_team(buckets=[{"name": "fraud-features", "grants": [{"team": "fraud", "access": "read-write"}]}]))
    assert messages == ["mlplat:teams[0].buckets[0].grants[0]: got {'team': 'fraud', 'access': 'read-write', 'prefix': ''}; expected a grant not given already (it repeats the owning team's read-write on the whole bucket)"]
    # Different access or prefix is a different grant.
    parse_platform_config(with_team(buckets=[{"name": "fraud-features", "grants": [repeated, {**repeated, "access": "read-write"}, {**repeated, "prefix": "other/"}]}]))


def test_a_box_granted_the_same_bucket_access_twice_is_a_config_error():
    grant = {"bucket": "fraud-features", "access": "read-write", "prefix": "checkpoints/"}
    messages = parse_errors({**BASE, "gpuBoxes": [{**AWS_BOX, "grants": [grant, {"bucket": "fraud-features"}, grant]}]})
    assert messages == ["mlplat:gpuBoxes[0].grants[2]: got {'bucket': 'fraud-features', 'access': 'read-write', 'prefix': 'checkpoints/'}; expected a grant not given already (it repeats grants[0])"]


def test_team_quota_is_the_namespace_quota_model_with_yaml_keys():
    from platform_lib.core.errors import ConfigError
    from platform_lib.k8s.quota import ResourceQuotaSpec
    from platform_lib.platform.config import TeamQuota, parse_platform_config

    quota = TeamQuota.model_validate({"cpu": 4, "memoryGib": 8, "storageGib": 50})
    assert isinstance(quota, ResourceQuotaSpec) and (quota.memory_gib, quota.storage_gib) == (8, 50)
    values = {
        "environment": "dev",
        "region": "us-east-1",
        "tags": {"team": "ml-platform", "cost-center": "cc-4100"},
        "cluster": {"stack": "organization/ml-platform-cluster/dev"},
        "teams": [{"name": "fraud", "identityGroup": "g", "quota": {"cpu": 4, "memoryGib": -1}}],
    }
    with pytest.raises(ConfigError) as raised:
        parse_platform_config(values)
    assert [i.path for i in raised.value.issues] == ["mlplat:teams[0].quota.memoryGib"]


@pytest.mark.parametrize("budget", ["inf", "Infinity", "nan", "1e400"])
def test_the_monthly_budget_is_a_finite_number(budget):
    assert parse_errors({**BASE, "monthlyBudgetUsd": budget}) == [f"mlplat:monthlyBudgetUsd: got {budget!r}; expected a finite number (not inf or nan)"]


def test_a_quota_is_a_finite_number():
    assert parse_errors(with_team(quota={"cpu": "inf", "memoryGib": 32})) == ["mlplat:teams[0].quota.cpu: got 'inf'; expected a finite number (not inf or nan)"]


REGION_EXPECTED = "an AWS region the AWS provider knows (pulumi_aws.Region, e.g. us-east-1, eu-west-1; "


@pytest.mark.parametrize("region", ["us-east-9", "moon-west-1", "US-EAST-1"])
def test_the_aws_provider_region_is_one_the_provider_knows(region):
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(BASE, aws_region=region)
    (issue,) = caught.value.issues
    assert (issue.path, issue.value) == ("aws:region", region)
    assert issue.expected.startswith(REGION_EXPECTED)


def test_the_platform_region_of_an_aws_stack_is_one_the_provider_knows():
    assert parse_platform_config(BASE, aws_region="eu-west-1").region == "us-east-1"
    (error,) = parse_errors({**BASE, "region": "us-east-9"})
    assert error.startswith("mlplat:region: got 'us-east-9'; expected " + REGION_EXPECTED)
    assert parse_platform_config({**BASE, "cloud": "gcp", "region": "europe-west4"}).region == "europe-west4"  # GCP regions are not AWS's


def test_a_stack_with_an_unknown_aws_region_runs_nothing(repo_root):
    from platform_lib.preview import run_preview

    # The preview engine refuses the region before the program runs (for any project).
    with pytest.raises(ConfigError) as caught:
        run_preview(repo_root, "dev", config_overrides={"aws:region": "us-east-9"})
    assert [str(issue) for issue in caught.value.issues] == [f"aws:region: got 'us-east-9'; expected {REGION_EXPECTED}{len(__import__('pulumi_aws').Region)} in all)"]
