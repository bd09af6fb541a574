"""The preview engine: project and stack config as the Pulumi CLI reads them, and the recorded plan."""

from __future__ import annotations

import json

import pytest

from platform_lib.platform.config import ConfigError
from platform_lib.preview import PreviewError, ProjectError, load_stack, run_preview
from platform_lib.preview.mocks import ACCOUNT_ID
from platform_lib.preview.project import SECRET_PLACEHOLDER

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
