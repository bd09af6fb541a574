"""team-monthly-cost-within-team-budget: a compliant team stack, and mutations that each push one
cost item over the team's own budget (exact policy name and message), plus how budgets are found."""

from __future__ import annotations

from platform_lib.policy.catalogue import Resource, get_rule
from platform_lib.policy.rules.cost import HOURS_PER_MONTH, EC2_MACHINES, team_budgets, team_costs

from .policy_fixtures import BASE, TAGS, resource, wire_name_problems

RULE = "team-monthly-cost-within-team-budget"
POD = {"cpu": "2", "memory": "4Gi"}


def r(type_token, name, props):
    assert wire_name_problems(type_token, props) == []
    return Resource(type=type_token, name=name, urn=f"urn:{type_token}::{name}", props=props, dependencies=())


def aws_budget(team="fraud", amount="5000.00", tags=True):
    props = {"budgetType": "COST", "timeUnit": "MONTHLY", "limitAmount": amount, "limitUnit": "USD",
             "costFilters": [{"name": "TagKeyValue", "values": [f"user:team${team}"]}], **({"tags": {**TAGS, "team": team}} if tags else {})}
    return r("aws:budgets/budget:Budget", f"{team}-budget-budget", props)


def gcp_budget(team="fraud", units="5000", nanos=0):
    return r("gcp:billing/budget:Budget", f"{team}-budget-budget", {
        "billingAccount": "01A2B3-C4D5E6-F7A8B9", "amount": {"specifiedAmount": {"currencyCode": "USD", "units": units, "nanos": nanos}},
        "budgetFilter": {"calendarPeriod": "MONTH", "labels": {"team": team}}})


def scorer(requests=POD, max_replicas=10):
    deployment = resource("kubernetes:apps/v1:Deployment", lambda p: p["spec"]["template"]["spec"]["containers"][0]["resources"].update(requests=dict(requests)), name="scorer")
    hpa = r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "scorer", {"metadata": {"name": "scorer", "namespace": "fraud"}, "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scorer"}, "minReplicas": 2, "maxReplicas": max_replicas}})
    return [deployment, hpa]


def team_stack(quota_gpus="2", budget=None, workloads=None, boxes=None):
    """The fraud team: namespace (labelled team=fraud), quota, one g5.xlarge box, a CPU endpoint at max 10 replicas, its budget."""
    namespace = r("kubernetes:core/v1:Namespace", "fraud", dict(BASE["kubernetes:core/v1:Namespace"]))
    quota = r("kubernetes:core/v1:ResourceQuota", "fraud-quota", {"metadata": {"name": "team-quota", "namespace": "fraud"},
                                                                   "spec": {"hard": {"requests.cpu": "32", "requests.nvidia.com/gpu": quota_gpus}}})
    box = boxes if boxes is not None else [resource("aws:ec2/instance:Instance")]
    return [namespace, quota, *box, *(workloads if workloads is not None else scorer()), budget if budget is not None else aws_budget()]


def per_gpu_month() -> float:
    node = EC2_MACHINES["g5.12xlarge"]
    return node.hourly_usd / node.gpus * HOURS_PER_MONTH


def test_the_estimate_adds_boxes_gpu_node_share_and_endpoints_at_max_replicas():
    costs = team_costs(team_stack(), get_rule(RULE)._config(None))
    assert sorted(costs["fraud"].items) == [
        ("GPU node share 2x g5.12xlarge GPU", round(2 * per_gpu_month(), 2)),   # 2 x 5.672 / 4 x 730 = 2,070.28
        ("scorer 10x (share of m5.2xlarge)", 700.8),                            # max(2/8 vCPU, 4/32 GiB) x 0.384 x 730 x 10
        ("subject (g5.xlarge)", 734.38),                                         # 1.006 x 730
    ]
    assert costs["fraud"].total == 3505.46


def test_a_team_within_its_budget_passes():
    assert get_rule(RULE).run_stack(team_stack()) == []


def test_a_smaller_budget_is_exceeded():
    budget = aws_budget(amount="3000.00")
    assert get_rule(RULE).run_stack(team_stack(budget=budget)) == [(
        "team 'fraud' is estimated at 3,505.46 USD per month, over its budget of 3,000.00 USD (fraud-budget-budget); "
        "largest: GPU node share 2x g5.12xlarge GPU 2,070.28; subject (g5.xlarge) 734.38; scorer 10x (share of m5.2xlarge) 700.80",
        budget.urn)]


def test_a_bigger_gpu_quota_is_a_bigger_node_pool_share():
    assert get_rule(RULE).run_stack(team_stack(quota_gpus="4")) == [(
        "team 'fraud' is estimated at 5,575.74 USD per month, over its budget of 5,000.00 USD (fraud-budget-budget); "
        "largest: GPU node share 4x g5.12xlarge GPU 4,140.56; subject (g5.xlarge) 734.38; scorer 10x (share of m5.2xlarge) 700.80",
        "urn:aws:budgets/budget:Budget::fraud-budget-budget")]


def test_gpu_endpoints_at_max_replicas_count_when_above_the_quota():
    workloads = scorer(requests={"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}, max_replicas=6)
    assert get_rule(RULE).run_stack(team_stack(workloads=workloads)) == [(
        "team 'fraud' is estimated at 6,945.22 USD per month, over its budget of 5,000.00 USD (fraud-budget-budget); "
        "largest: GPU node share 6x g5.12xlarge GPU 6,210.84; subject (g5.xlarge) 734.38",
        "urn:aws:budgets/budget:Budget::fraud-budget-budget")]


def test_more_endpoint_replicas_exceed_the_budget():
    assert get_rule(RULE).run_stack(team_stack(workloads=scorer(max_replicas=40))) == [(
        "team 'fraud' is estimated at 5,607.86 USD per month, over its budget of 5,000.00 USD (fraud-budget-budget); "
        "largest: scorer 40x (share of m5.2xlarge) 2,803.20; GPU node share 2x g5.12xlarge GPU 2,070.28; subject (g5.xlarge) 734.38",
        "urn:aws:budgets/budget:Budget::fraud-budget-budget")]


def test_a_gcp_budget_on_the_team_label_is_the_teams_budget_and_prices_gke_nodes():
    budget = gcp_budget(units="2500", nanos=450_000_000)  # 2,500.45 USD
    # GKE defaults: g2-standard-24 (2 L4, 1.9996/h) and n1-standard-8 (8 vCPU, 30 GiB, 0.38/h).
    assert get_rule(RULE).run_stack(team_stack(budget=budget)) == [(
        "team 'fraud' is estimated at 2,887.59 USD per month, over its budget of 2,500.45 USD (fraud-budget-budget); "
        "largest: GPU node share 2x g2-standard-24 GPU 1,459.71; subject (g5.xlarge) 734.38; scorer 10x (share of n1-standard-8) 693.50",
        budget.urn)]


def test_budgets_are_found_by_tag_or_by_cost_filter():
    assert team_budgets([aws_budget(team="risk", amount="100", tags=False)])["risk"][0] == 100.0
    found = team_budgets([aws_budget(amount="900"), aws_budget(amount="700")])
    assert found["fraud"][0] == 700.0  # the strictest of two


def test_only_the_teams_own_budget_judges_it():
    other = aws_budget(team="risk", amount="10.00")
    stack = [resource for resource in team_stack() if resource.type != "aws:budgets/budget:Budget"] + [other]
    assert get_rule(RULE).run_stack(stack) == []  # fraud has no budget here; risk's budget is not fraud's


def test_the_cluster_node_types_are_config():
    config = {"gpuNodeInstanceType": "p4d.24xlarge", "cpuNodeInstanceType": "m5.xlarge"}
    costs = team_costs(team_stack(), get_rule(RULE)._config(config))
    assert dict(costs["fraud"].items)["GPU node share 2x p4d.24xlarge GPU"] == round(2 * 21.957642 / 8 * 730, 2)
    assert dict(costs["fraud"].items)["scorer 10x (share of m5.xlarge)"] == round(0.5 * 0.192 * 730 * 10, 2)


# ---------------------------------------------------------------- through the shipped pack, on real components

def test_the_shipped_pack_judges_a_team_stack_of_components_against_its_team_budget(policy_gate):
    """TeamNamespace (2 GPUs in its quota) + AwsGpuTrainingBox + AwsTeamBudget, previewed and gated in
    prod: the team's estimate is over its 2,000 USD budget; the same stack with 5,000 USD passes."""
    from platform_lib.aws.budget import AwsTeamBudget
    from platform_lib.aws.gpu_training_box import AwsGpuTrainingBox
    from platform_lib.k8s.team_namespace import TeamNamespace
    from platform_lib.policy.gate import mandatory_violations, run_gate
    from platform_lib.testing import preview

    from .conftest import REPO_ROOT

    tags = {"team": "fraud", "cost-center": "cc-4100", "environment": "prod"}

    def program(budget):
        def run():
            TeamNamespace("fraud", labels=tags, identity_group="ml-fraud-engineers", quota={"cpu": 16, "memory_gib": 64, "gpu": 2})
            AwsGpuTrainingBox("fraud-tune", instance_type="g5.xlarge", subnet_id="subnet-0123456789abcdef0", vpc_id="vpc-0123456789abcdef0", tags=tags)
            AwsTeamBudget("fraud-budget", monthly_budget_usd=budget, tags=tags)
        return run

    def findings(budget):
        plan = preview(program(budget), config={"aws:region": "us-east-1"}, stack="prod")
        violations = run_gate(plan, pack_dir=REPO_ROOT / "policies", stack_config={"mlplat:environment": "prod"}, gate=policy_gate)
        return [(v["policy"], v["message"]) for v in mandatory_violations(violations) if v["policy"] == RULE]

    assert findings(2000) == [(RULE,
        "team 'fraud' is estimated at 2,804.66 USD per month, over its budget of 2,000.00 USD (fraud-budget-budget); "
        "largest: GPU node share 2x g5.12xlarge GPU 2,070.28; fraud-tune-instance (g5.xlarge) 734.38")]
    assert findings(5000) == []
