"""The preview engine: project and stack config as the Pulumi CLI reads them, and the recorded plan;
for a team's own program, transforms run as the engine runs them, invokes get realistic answers
or a clear error, and a failing program fails cleanly."""

from __future__ import annotations

import gc
import json
import logging
import re

import pulumi
import pulumi_aws as aws
import pytest

from platform_lib.platform.config import ConfigError
from platform_lib.core.errors import ComponentArgsError, Issue
from platform_lib.preview import PreviewError, ProjectError, load_stack, run_preview, run_program
from platform_lib.preview.mocks import ACCOUNT_ID, UnmockedInvokeError
from platform_lib.preview.project import SECRET_PLACEHOLDER
from platform_lib.testing import find, preview

RECORDING_PROGRAM = """
import pulumi
import pulumi_aws as aws

cfg = pulumi.Config()
identity = aws.get_caller_identity()

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("mlplat:test:Box", name, None, opts)
        self.key = aws.kms.Key(f"{name}-key", enable_key_rotation=True,
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True))
        self.bucket = aws.s3.Bucket(f"{name}-bucket", tags={"team": cfg.require("team")},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.key], delete_before_replace=True,
                aliases=[pulumi.Alias(name="old-bucket")], ignore_changes=["tags"]))
        self.register_outputs({"keyArn": self.key.arn})

box = Box("box")
pulumi.export("bucketArn", box.bucket.arn)
pulumi.export("account", identity.account_id)
pulumi.export("token", cfg.require_secret("token"))
pulumi.export("limits", cfg.require_object("limits"))
"""


@pytest.fixture
def recording_project(make_project):
    return make_project(
        RECORDING_PROGRAM,
        {"dev": {"team": "fraud", "token": {"secure": "v1:abc"}, "limits": {"gpu": 2}, "aws:region": "eu-west-1"}},
    )


def test_stack_config_is_read_as_the_pulumi_cli_passes_it(make_project):
    project = make_project("", {"dev": {"team": "fraud", "aws:region": "eu-west-1", "limits": {"gpu": 2}, "token": {"secure": "v1:abc"}}},
                           main="src", project_config={"owner": {"default": "platform"}, "flag": {"type": "boolean"}})
    settings = load_stack(project, "dev")
    assert settings.program_dir == project / "src"
    assert settings.config == {
        "team-project:owner": "platform",
        "team-project:team": "fraud",
        "aws:region": "eu-west-1",
        "team-project:limits": '{"gpu": 2}',
        "team-project:token": SECRET_PLACEHOLDER,
    }
    assert settings.secret_keys == ["team-project:token"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda tmp: None, "no Pulumi.yaml in"),
        (lambda tmp: (tmp / "Pulumi.yaml").write_text("name: p\nruntime: nodejs\n"), "runtime is 'nodejs'; this preview runs python programs only"),
        (lambda tmp: (tmp / "Pulumi.yaml").write_text("name: p\nruntime: python\nmain: app\n"), "main is 'app', but"),
        (lambda tmp: ((tmp / "Pulumi.yaml").write_text("name: p\nruntime: python\n"), (tmp / "__main__.py").write_text(""), (tmp / "Pulumi.dev.yaml").write_text("config: {}\n")), "unknown stack 'prod':"),
    ],
    ids=["no-project", "other-runtime", "no-program", "unknown-stack"],
)
def test_project_errors_are_user_errors(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(ProjectError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        load_stack(tmp_path, "prod")
    if "unknown stack" in message:
        assert str(caught.value).endswith("(stacks: dev)")


def test_plan_records_parents_options_outputs_and_invokes(recording_project):
    plan, _ = run_preview(recording_project, "dev")
    by_name = {r.name: r for r in plan.resources}
    assert [r.type for r in plan.resources] == ["pulumi:pulumi:Stack", "mlplat:test:Box", "aws:kms/key:Key", "aws:s3/bucket:Bucket"]

    box, key, bucket = by_name["box"], by_name["box-key"], by_name["box-bucket"]
    assert box.custom is False and box.parent == plan.resources[0].urn
    assert key.parent == box.urn and bucket.parent == box.urn
    assert key.urn == "urn:pulumi:dev::team-project::mlplat:test:Box$aws:kms/key:Key::box-key"
    assert key.options.protect and key.options.retain_on_delete
    assert key.inputs["enableKeyRotation"] is True
    assert key.outputs["arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/")
    assert box.outputs == {"keyArn": key.outputs["arn"]}

    assert bucket.options.depends_on == [key.urn]
    assert bucket.options.delete_before_replace is True
    assert bucket.options.ignore_changes == ["tags"]
    assert "name=old-bucket" in bucket.options.aliases
    assert "type=aws:s3/bucketV2:BucketV2" in bucket.options.aliases  # the SDK's own alias for the renamed type
    assert bucket.inputs["tags"] == {"team": "fraud"}
    assert bucket.id.startswith("box-bucket-") and bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.id}"

    assert plan.outputs == {"bucketArn": bucket.outputs["arn"], "account": ACCOUNT_ID, "token": SECRET_PLACEHOLDER, "limits": {"gpu": 2}}
    json.dumps(plan.to_json())  # the whole plan is JSON-ready


def test_previews_are_deterministic_and_isolated(recording_project, make_project):
    first, _ = run_preview(recording_project, "dev")
    second, _ = run_preview(recording_project, "dev")
    assert first.to_json() == second.to_json()
    assert len(second.resources) == 4  # nothing left over from the first run


def _chained_buckets() -> None:
    """Buckets where every other one waits for its predecessor's id, inside and outside a component:
    the SDK registers the waiting ones after the others, so arrival order is not program order."""
    previous = None
    for index in range(6):
        tags = {"after": previous.id} if previous is not None and index % 2 else {}
        previous = aws.s3.Bucket(f"bucket-{index}", tags=tags)
    box = Box("box")
    aws.s3.Bucket("last", tags={"after": box.bucket.id})


def test_resources_are_listed_in_the_order_the_program_constructed_them():
    expected = ["pulumi:pulumi:Stack", *(f"bucket-{index}" for index in range(6)), "box", "box-bucket", "last"]
    orders = [[r.name if r.type != "pulumi:pulumi:Stack" else r.type for r in preview(_chained_buckets).resources] for _ in range(5)]
    assert orders == [expected] * 5


def test_program_exceptions_come_back_with_what_was_registered(make_project):
    project = make_project("import pulumi_aws as aws\naws.s3.Bucket('first')\nraise RuntimeError('boom')\n", {"dev": {}})
    with pytest.raises(PreviewError) as caught:
        run_preview(project, "dev")
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert [r.name for r in caught.value.plan.resources][1:] == ["first"]


def test_bad_stack_config_registers_nothing(repo_root):
    with pytest.raises(PreviewError) as caught:
        run_preview(repo_root, "dev", config_overrides={"mlplat:teams": [{"name": "x", "quota": {"cpu": 1, "memoryGib": 1}}]})
    error = caught.value.__cause__
    assert isinstance(error, ConfigError)
    assert "mlplat:teams[0].identityGroup: got <missing>" in str(error)
    assert [r.type for r in caught.value.plan.resources] == ["pulumi:pulumi:Stack"]


def test_the_team_test_kit_runs_a_callable_without_project_files():
    import pulumi_aws as aws

    from platform_lib.testing import find, preview

    plan = preview(lambda: aws.s3.Bucket("logs", tags={"team": "fraud"}), config={"aws:region": "eu-central-1"}, stack="qa")
    bucket = find(plan, "aws:s3/bucket:Bucket", "logs")
    assert bucket.urn == "urn:pulumi:qa::test-project::aws:s3/bucket:Bucket::logs"
    assert bucket.outputs["bucketRegionalDomainName"].endswith(".s3.eu-central-1.amazonaws.com")
    with pytest.raises(LookupError, match="expected one aws:kms/key:Key, found 0"):
        find(plan, "aws:kms/key:Key")



class Box(pulumi.ComponentResource):
    """A component with one bucket, to see transforms reach children."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("test:index:Box", name, None, opts)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", tags={"order": "program"}, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def _tag(marker: str):
    """A transform that appends ``marker`` to a bucket's ``order`` tag and protects the bucket."""

    def transform(args: pulumi.ResourceTransformArgs):
        if args.type_ != "aws:s3/bucket:Bucket":
            return None
        tags = dict(args.props.get("tags") or {})
        tags["order"] = f"{tags.get('order', '')},{marker}"
        return pulumi.ResourceTransformResult(props={**args.props, "tags": tags}, opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True)))

    return transform


# --------------------------------------------------------------------------- transforms


def test_a_resources_transforms_change_its_inputs_and_options():
    def ignore_tags(args: pulumi.ResourceTransformArgs):
        return pulumi.ResourceTransformResult(props={**args.props, "forceDestroy": False}, opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(ignore_changes=["tags"], retain_on_delete=True)))

    plan = preview(lambda: aws.s3.Bucket("data", force_destroy=True, opts=pulumi.ResourceOptions(transforms=[ignore_tags])))
    bucket = find(plan, "aws:s3/bucket:Bucket", "data")
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.options.ignore_changes == ["tags"]
    assert bucket.options.retain_on_delete is True


def test_transforms_run_own_then_parents_then_stack_in_the_engines_order():
    def program():
        outer = Box("outer", opts=pulumi.ResourceOptions(transforms=[_tag("outer")]))
        pulumi.runtime.register_resource_transform(_tag("stack"))
        Box("inner", opts=pulumi.ResourceOptions(parent=outer, transforms=[_tag("inner")]))

    plan = preview(program)
    outer_bucket = find(plan, "aws:s3/bucket:Bucket", "outer-bucket")
    inner_bucket = find(plan, "aws:s3/bucket:Bucket", "inner-bucket")
    # outer-bucket registered before the stack transform; inner-bucket after it, under inner under outer.
    assert outer_bucket.inputs["tags"]["order"] == "program,outer"
    assert inner_bucket.inputs["tags"]["order"] == "program,inner,outer,stack"
    assert outer_bucket.options.protect and inner_bucket.options.protect
    assert not find(plan, "test:index:Box", "outer").options.protect  # the transforms touch buckets only


def test_a_stack_transform_applies_to_resources_registered_after_it():
    def program():
        aws.s3.Bucket("before")
        pulumi.runtime.register_resource_transform(_tag("stack"))
        aws.s3.Bucket("after")

    plan = preview(program)
    assert "tags" not in find(plan, "aws:s3/bucket:Bucket", "before").inputs or not find(plan, "aws:s3/bucket:Bucket", "before").inputs["tags"]
    assert find(plan, "aws:s3/bucket:Bucket", "after").inputs["tags"] == {"order": ",stack"}
    assert find(plan, "aws:s3/bucket:Bucket", "after").options.protect is True


def test_legacy_transformations_still_apply_to_children():
    def legacy(args: pulumi.ResourceTransformationArgs):
        if args.type_ == "aws:s3/bucket:Bucket":
            return pulumi.ResourceTransformationResult({**args.props, "tags": {"order": "legacy"}}, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True)))
        return None

    plan = preview(lambda: Box("box", opts=pulumi.ResourceOptions(transformations=[legacy])))
    bucket = find(plan, "aws:s3/bucket:Bucket", "box-bucket")
    assert bucket.inputs["tags"] == {"order": "legacy"} and bucket.options.protect is True


def test_an_invoke_transform_changes_the_invoke_arguments():
    zones: list[list[str]] = []

    def exclude_first_zone(args: pulumi.InvokeTransformArgs):
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return pulumi.InvokeTransformResult(args={**args.args, "excludeNames": ["eu-west-1a"]}, opts=args.opts)
        return None

    def program():
        pulumi.runtime.register_invoke_transform(exclude_first_zone)
        zones.append(aws.get_availability_zones().names)

    preview(program, config={"aws:region": "eu-west-1"})
    assert zones == [["eu-west-1b", "eu-west-1c"]]


def test_an_error_raised_by_a_transform_reaches_the_caller_unchanged():
    def refuse(args: pulumi.ResourceTransformArgs):
        raise ComponentArgsError("Box(box)", [Issue("Box(box).tags", None, "a team tag")])

    with pytest.raises(PreviewError) as caught:
        preview(lambda: aws.s3.Bucket("data", opts=pulumi.ResourceOptions(transforms=[refuse])))
    assert isinstance(caught.value.__cause__, ComponentArgsError)
    assert "Box(box).tags: got None; expected a team tag" in str(caught.value.__cause__)


# --------------------------------------------------------------------------- invokes


def test_aws_lookups_answer_for_the_stacks_region():
    answers = {}

    def program():
        zones = aws.get_availability_zones()
        answers.update(
            names=zones.names, zone_ids=zones.zone_ids, state=zones.state,
            region=aws.get_region().region, partition=aws.get_partition().partition,
            dns_suffix=aws.get_partition().dns_suffix, account=aws.get_caller_identity().account_id,
        )

    preview(program, config={"aws:region": "ap-southeast-2"})
    assert answers == {
        "names": ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"],
        "zone_ids": ["apse2-az1", "apse2-az2", "apse2-az3"],
        "state": "available",
        "region": "ap-southeast-2",
        "partition": "aws",
        "dns_suffix": "amazonaws.com",
        "account": "123456789012",
    }


def test_an_invoke_with_no_mocked_answer_is_an_error_naming_its_token():
    with pytest.raises(PreviewError) as caught:
        preview(lambda: aws.ec2.get_vpc(default=True))
    cause = caught.value.__cause__
    assert isinstance(cause, UnmockedInvokeError)
    assert cause.token == "aws:ec2/getVpc:getVpc"
    assert "'aws:ec2/getVpc:getVpc'" in str(cause) and "invoke_result" in str(cause)


# --------------------------------------------------------------------------- failing programs


def _raise_in_apply():
    bucket = aws.s3.Bucket("data")

    def check(name: str) -> str:
        raise ComponentArgsError("DataBucket(data)", [Issue("DataBucket(data).bucket", name, "a name starting with the team")])

    aws.s3.BucketPolicy("policy", bucket=bucket.bucket.apply(check), policy="{}")


def test_an_error_raised_in_apply_surfaces_as_itself_without_unretrieved_future_noise(caplog):
    caplog.set_level(logging.ERROR, logger="asyncio")
    for _ in range(2):  # the first run's futures are collected during the second
        with pytest.raises(PreviewError) as caught:
            preview(_raise_in_apply)
        assert isinstance(caught.value.__cause__, ComponentArgsError)
    del caught
    gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_a_failed_run_leaves_nothing_behind_for_the_next_one():
    with pytest.raises(PreviewError):
        preview(_raise_in_apply)
    plan = preview(lambda: aws.s3.Bucket("next"))
    assert find(plan, "aws:s3/bucket:Bucket", "next").id.startswith("next-")


# ---------------------------------------------------------------- review of the offline preview

def _two_boxes() -> None:
    class Box(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("mlplat:test:Box", name, None, None)
            self.register_outputs({})

    Box("same")
    Box("same")


@pytest.mark.parametrize("program, urn", [
    (lambda: (aws.s3.BucketV2("x"), aws.s3.BucketV2("x")), "urn:pulumi:dev::test-project::aws:s3/bucketV2:BucketV2::x"),
    (_two_boxes, "urn:pulumi:dev::test-project::mlplat:test:Box::same"),
])
def test_a_duplicate_resource_urn_is_refused_as_the_engine_refuses_it(program, urn):
    from platform_lib.core.errors import PlatformError
    from platform_lib.preview.failure import explain

    with pytest.raises(PreviewError) as caught:
        run_program(program)
    assert isinstance(caught.value.__cause__, PlatformError)
    assert f"duplicate resource URN {urn!r}" in str(caught.value.__cause__)
    assert sum(1 for r in caught.value.plan.resources if r.urn == urn) == 1
    assert not explain(caught.value.__cause__, load_stack_for_program()).internal


def test_same_name_under_different_types_is_not_a_duplicate():
    plan, _ = run_program(lambda: (aws.s3.BucketV2("x"), aws.s3.Bucket("x")))
    assert sorted(r.type for r in plan.resources if r.name == "x") == ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"]


def load_stack_for_program():
    from pathlib import Path

    from platform_lib.preview.project import StackSettings

    return StackSettings(project_dir=Path.cwd(), project="test-project", stack="dev", program_dir=Path.cwd(), config={})


@pytest.mark.parametrize("region", [[1, 2], "mars-north-9", ""])
def test_an_unknown_aws_region_is_refused(region):
    from platform_lib.core.errors import PlatformError

    with pytest.raises(PlatformError) as caught:
        run_program(lambda: aws.s3.BucketV2("x"), config={"aws:region": region})
    assert isinstance(caught.value, ConfigError)
    value = region if isinstance(region, str) else json.dumps(region)
    assert [str(issue) for issue in caught.value.issues] == [
        f"aws:region: got {value!r}; expected an AWS region the AWS provider knows (pulumi_aws.Region, e.g. us-east-1, eu-west-1; {len(aws.Region)} in all)"]


def test_a_known_aws_region_is_used_and_unset_is_us_east_1():
    def program():
        pulumi.export("region", aws.get_region().region)

    plan, _ = run_program(program, config={"aws:region": "eu-west-1"})
    assert plan.outputs["region"] == "eu-west-1"
    plan, _ = run_program(program)
    assert plan.outputs["region"] == "us-east-1"


def test_a_failed_program_keeps_the_messages_logged_before_it_failed(make_project):
    project = make_project("""
        import pulumi
        pulumi.log.warn("before the failure")
        raise ValueError("boom")
    """, {"dev": {"team-project:token": {"secure": "v1:abc:def"}}})
    with pytest.raises(PreviewError) as caught:
        run_preview(project, "dev")
    texts = [text for _, text in caught.value.messages]
    assert "before the failure" in texts
    assert any(text.startswith("config key 'team-project:token' is a secure value") for text in texts)


@pytest.mark.parametrize("stack", ["../myteam/dev", "a/b/c/dev", "dev/..", "my stack", "", "org//dev"])
def test_an_invalid_stack_name_is_refused(make_project, stack):
    project = make_project("import pulumi\n", {"dev": {}})
    with pytest.raises(ProjectError, match=f"invalid stack name {re.escape(repr(stack))}: expected a stack name of letters"):
        load_stack(project, stack)


def test_a_fully_qualified_stack_name_reads_the_stacks_own_file(make_project):
    project = make_project("import pulumi\n", {"dev": {"team-project:team": "a"}})
    for stack in ("dev", "my-org/dev", "my-org/team-project/dev"):
        settings = load_stack(project, stack)
        assert (settings.stack, settings.config["team-project:team"]) == ("dev", "a")
    with pytest.raises(ProjectError, match="names the project 'other', but this is the project 'team-project'"):
        load_stack(project, "my-org/other/dev")
