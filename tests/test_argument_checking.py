"""Argument checking across components (a review of issue 9's contract): every user mistake is a
``ComponentArgsError`` naming the field, the value and what was expected, never an internal error."""

from __future__ import annotations

import pulumi
import pytest
from typer.testing import CliRunner

from platform_lib.aws.data_bucket import S3DataBucket
from platform_lib.aws.gpu_training_box import AwsGpuTrainingBox
from platform_lib.cli import EXIT_USER_ERROR, app
from platform_lib.core.errors import ComponentArgsError
from platform_lib.k8s.team_namespace import TeamNamespace
from platform_lib.preview import PreviewError, run_preview

from .conftest import REPO_ROOT

TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "dev"}
ROLE = "arn:aws:iam::123456789012:role/x"


def _error(program) -> ComponentArgsError:
    with pytest.raises(PreviewError) as caught:
        run_preview(REPO_ROOT, "dev", program=program)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError), repr(error)
    return error


def _issues(error: ComponentArgsError) -> list[tuple[str, str]]:
    return [(issue.path, issue.expected) for issue in error.issues]


def test_a_prefix_that_is_not_a_string_is_an_argument_error():
    error = _error(lambda: S3DataBucket("features", tags=TAGS).grant_read(ROLE, prefix=5))
    assert [str(issue) for issue in error.issues] == ["S3DataBucket(features).grant.prefix: got 5; expected a string key prefix"]


def test_an_output_prefix_is_refused_clearly():
    error = _error(lambda: S3DataBucket("features", tags=TAGS).grant_read(ROLE, prefix=pulumi.Output.from_input("a/")))
    ((path, expected),) = _issues(error)
    assert path == "S3DataBucket(features).grant.prefix"
    assert expected.startswith("a plain string") and "names the grant's resources" in expected


def test_options_that_are_not_resource_options_are_an_argument_error():
    with pytest.raises(ComponentArgsError) as caught:
        S3DataBucket("x", tags=TAGS, opts={"protect": True})
    ((path, expected),) = _issues(caught.value)
    assert path == "S3DataBucket(x).opts" and "pulumi.ResourceOptions" in expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "a whole number"), ("90", "a whole number"), (90.0, "a whole number")],
)
def test_numbers_are_strict(value, expected):
    with pytest.raises(ComponentArgsError) as caught:
        S3DataBucket.validate_args("features", tags=TAGS, noncurrent_version_expiration_days=value)
    assert _issues(caught.value) == [("S3DataBucket(features).noncurrent_version_expiration_days", expected)]


def test_booleans_are_strict_and_whole_numbers_still_fill_float_fields():
    with pytest.raises(ComponentArgsError) as caught:
        S3DataBucket.validate_args("features", tags=TAGS, force_destroy="yes")
    assert _issues(caught.value) == [("S3DataBucket(features).force_destroy", "true or false")]
    args = TeamNamespace.validate_args("fraud", labels=TAGS, identity_group="ml-fraud", quota={"cpu": 16, "memory_gib": 64}, default_cpu_limit=2)
    assert args.quota.cpu == 16.0 and args.default_cpu_limit == 2.0


def test_a_tag_value_that_is_not_a_string_says_so():
    with pytest.raises(ComponentArgsError) as caught:
        S3DataBucket.validate_args("features", tags={**TAGS, "team": 5})
    ((path, expected),) = _issues(caught.value)
    assert path == "S3DataBucket(features).tags.team" and expected.startswith("a string")


@pytest.mark.parametrize("component", ["S3DataBucket", "AwsGpuTrainingBox"])
def test_a_late_tag_value_error_names_the_key(component):
    tags = {**TAGS, "team": pulumi.Output.from_input("x" * 300)}

    def program():
        if component == "S3DataBucket":
            S3DataBucket("features", tags=tags)
        else:
            AwsGpuTrainingBox("tune", instance_type="g5.xlarge", subnet_id="subnet-0123abcd", vpc_id="vpc-0123abcd", tags=tags)

    error = _error(program)
    ((path, expected),) = _issues(error)
    name = "features" if component == "S3DataBucket" else "tune"
    assert path == f"{component}({name}).tags.team" and "256 characters" in expected


def test_an_output_for_the_whole_tag_mapping_is_refused_clearly():
    with pytest.raises(ComponentArgsError) as caught:
        S3DataBucket.validate_args("features", tags=pulumi.Output.from_input(TAGS))
    assert _issues(caught.value) == [("S3DataBucket(features).tags", "a mapping (Outputs are accepted as values, not for the whole mapping)")]


def test_a_subnet_id_error_gives_the_rule():
    with pytest.raises(ComponentArgsError) as caught:
        AwsGpuTrainingBox.validate_args("tune", instance_type="g5.xlarge", subnet_id="subnet-0abc", vpc_id="vpc-0123abcd", tags=TAGS)
    assert _issues(caught.value) == [("AwsGpuTrainingBox(tune).subnet_id", "a subnet id: 'subnet-' and 8 or 17 hex digits")]
    with pytest.raises(ComponentArgsError):  # 8 to 17 is not the rule: 8 or 17
        AwsGpuTrainingBox.validate_args("tune", instance_type="g5.xlarge", subnet_id="subnet-0123456789", vpc_id="vpc-0123abcd", tags=TAGS)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("root_volume_gib", 20000, "a number at most 16384 GiB"),
        ("data_volume_gib", -1, "a number at least 0 GiB"),
    ],
)
def test_bounds_carry_their_unit(field, value, expected):
    with pytest.raises(ComponentArgsError) as caught:
        AwsGpuTrainingBox.validate_args("tune", instance_type="g5.xlarge", subnet_id="subnet-0123abcd", vpc_id="vpc-0123abcd", tags=TAGS, **{field: value})
    assert _issues(caught.value) == [(f"AwsGpuTrainingBox(tune).{field}", expected)]


def test_days_bounds_carry_their_unit():
    with pytest.raises(ComponentArgsError) as caught:
        S3DataBucket.validate_args("features", tags=TAGS, noncurrent_version_expiration_days=0)
    (issue,) = caught.value.issues
    assert issue.expected.endswith(" days")


def test_a_huge_name_is_cut_in_every_message():
    with pytest.raises(ComponentArgsError) as caught:
        S3DataBucket("a" * 100_000, tags={"team": 5})
    message = str(caught.value)
    assert len(message) < 2_000, len(message)
    assert "100,002 characters in all" in message


@pytest.mark.parametrize("component", ["TeamNamespace", "ModelEndpoint"])
def test_a_huge_name_is_cut_in_the_name_checks_of_the_kubernetes_components(component):
    """Their own name checks (no namespace / no service_name given) label the component as the base does."""
    from platform_lib.k8s.model_endpoint import ModelEndpoint

    values = {
        "TeamNamespace": {"labels": {**TAGS}, "identity_group": "ml-fraud", "quota": {"cpu": 4, "memory_gib": 8}},
        "ModelEndpoint": {"namespace": "fraud", "labels": {**TAGS}, "model": {"name": "m", "version": "1", "registry_version": "1", "git_sha": "4e1d9c7"},
                          "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1@sha256:" + "0" * 64},
    }[component]
    cls = {"TeamNamespace": TeamNamespace, "ModelEndpoint": ModelEndpoint}[component]
    with pytest.raises(ComponentArgsError) as caught:
        cls.validate_args("A" * 100_000, values)
    assert len(str(caught.value)) < 2_000, len(str(caught.value))


def test_a_sub_model_error_raised_by_the_program_exits_2_as_argument_issues(make_project):
    project = make_project("""
        from platform_lib.k8s.quota import ResourceQuotaSpec

        quota = ResourceQuotaSpec(cpu=-1, memory_gib="lots")
    """, {"dev": {}})
    result = CliRunner().invoke(app, ["preview", "--cwd", str(project), "--stack", "dev"], catch_exceptions=False, env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "invalid arguments for ResourceQuotaSpec: 2 problems" in result.output
    assert "ResourceQuotaSpec.cpu: got -1; expected a number greater than 0" in result.output
    assert "ResourceQuotaSpec.memory_gib: got 'lots'; expected a number" in result.output
    assert "line 4" in result.output
    assert "errors.pydantic.dev" not in result.output and "internal error" not in result.output
