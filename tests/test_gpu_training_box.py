"""GPU training boxes on AWS and GCP: registered inputs, GPU validation, config checks."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest

from platform_lib.aws.gpu_training_box import DEFAULT_AMI_PARAMETER, EC2_GPU_INSTANCE_TYPES, SSM_CORE_POLICY
from platform_lib.aws.gpu_training_box import AwsGpuTrainingBox as AwsBox
from platform_lib.aws.gpu_training_box import AwsGpuTrainingBoxArgs
from platform_lib.platform.config import ConfigError, parse_platform_config
from platform_lib.core.errors import ComponentArgsError
from platform_lib.gcp.gpu_training_box import BOX_SCOPES
from platform_lib.gcp.gpu_training_box import GcpGpuTrainingBox as GceBox
from platform_lib.gcp.gpu_training_box import GcpGpuTrainingBoxArgs
from platform_lib.preview import PreviewError, run_preview
from platform_lib.preview.mocks import PlatformMocks
from platform_lib.testing import find, find_all, preview

AWS_NETWORK = {"subnet_id": "subnet-0123456789abcdef0", "vpc_id": "vpc-0123456789abcdef0"}
TAGS = {"team": "fraud", "cost-center": "cc-4100", "environment": "dev"}
#: What every taggable child carries: the caller's tags plus managed-by.
STANDARD = {**TAGS, "managed-by": "pulumi"}
GCE_NETWORK = {"zone": "europe-west4-a", "subnetwork": "ml-private", "labels": TAGS}

from .team_stacks import preview_team, team_blocks


def _aws(**overrides):
    return preview(lambda: AwsBox("tune", {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": TAGS, **overrides}))


def _gce(**overrides):
    return preview(lambda: GceBox("tune", {"machine_type": "g2-standard-8", **GCE_NETWORK, "labels": TAGS, **overrides}))


def _component_error(program) -> tuple[ComponentArgsError, list[str]]:
    with pytest.raises(PreviewError) as caught:
        preview(program)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    return error, [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"]


# --- AWS ---------------------------------------------------------------------------------


def test_aws_instance_is_private_imdsv2_encrypted_and_on_the_dlami():
    plan = _aws()
    instance = find(plan, "aws:ec2/instance:Instance")
    inputs = instance.inputs
    assert instance.name == "tune-instance"
    assert inputs["instanceType"] == "g5.xlarge"
    assert inputs["subnetId"] == AWS_NETWORK["subnet_id"]
    assert inputs["associatePublicIpAddress"] is False
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert inputs["rootBlockDevice"] == {"volumeSize": 150, "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True, "tags": {**STANDARD, "Name": "tune-root"}}
    assert "volumeTags" not in inputs
    assert inputs["iamInstanceProfile"] == find(plan, "aws:iam/instanceProfile:InstanceProfile").outputs["name"]
    assert inputs["vpcSecurityGroupIds"] == [find(plan, "aws:ec2/securityGroup:SecurityGroup").id]
    assert inputs["tags"] == {**STANDARD, "Name": "tune"}
    assert inputs["disableApiTermination"] is False
    assert re.fullmatch(r"ami-0[0-9a-f]{16}", inputs["ami"])  # the mocked value of DEFAULT_AMI_PARAMETER
    other = find(_aws(ami_ssm_parameter=DEFAULT_AMI_PARAMETER.replace("22.04", "24.04")), "aws:ec2/instance:Instance").inputs["ami"]
    assert other != inputs["ami"]
    assert instance.options.ignore_changes == ["ami"]
    assert "instanceMarketOptions" not in inputs


def test_aws_containers_get_instance_metadata_only_when_asked():
    assert find(_aws(metadata_hop_limit=2), "aws:ec2/instance:Instance").inputs["metadataOptions"]["httpPutResponseHopLimit"] == 2
    error, registered = _component_error(lambda: AwsBox("tune", {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": TAGS, "metadata_hop_limit": 5}))
    assert registered == [] and (error.issues[0].path, error.issues[0].value) == ("AwsGpuTrainingBox(tune).metadata_hop_limit", 5)
    assert "1" in error.issues[0].expected and "2" in error.issues[0].expected


def _children(plan, type_token):
    (component,) = find_all(plan, type_token)
    children = plan.children_of(component.urn)
    assert len(children) >= 3
    return children


def test_the_boxes_protect_nothing_themselves():
    for plan, token in ((_aws(), "mlplat:aws:GpuTrainingBox"), (_gce(), "mlplat:gcp:GpuTrainingBox")):
        assert [c.name for c in _children(plan, token) if c.options.protect or c.options.retain_on_delete] == []
    assert find(_aws(), "aws:ec2/instance:Instance").inputs["disableApiTermination"] is False
    assert find(_gce(), "gcp:compute/instance:Instance").inputs["deletionProtection"] is False


def test_the_callers_protect_and_retain_reach_every_child_data_volumes_included():
    opts = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
    aws_plan = preview(lambda: AwsBox("tune", instance_type="g5.xlarge", **AWS_NETWORK, tags=TAGS, opts=opts))
    gce_plan = preview(lambda: GceBox("tune", machine_type="g2-standard-8", **GCE_NETWORK, opts=opts))
    for plan, token, data in ((aws_plan, "mlplat:aws:GpuTrainingBox", "tune-data"), (gce_plan, "mlplat:gcp:GpuTrainingBox", "tune-data")):
        children = _children(plan, token)
        assert data in {c.name for c in children}
        assert [c.name for c in children if not (c.options.protect and c.options.retain_on_delete)] == []


def test_termination_and_deletion_protection_are_explicit_arguments():
    assert find(_aws(termination_protection=True), "aws:ec2/instance:Instance").inputs["disableApiTermination"] is True
    assert find(_gce(deletion_protection=True), "gcp:compute/instance:Instance").inputs["deletionProtection"] is True


def test_an_explicit_provider_reaches_every_child_and_the_ami_and_region_invokes(monkeypatch):
    calls = []
    answer = PlatformMocks.call

    def recording_call(self, args):
        calls.append((args.token, args.provider))
        return answer(self, args)

    monkeypatch.setattr(PlatformMocks, "call", recording_call)

    def program():
        provider = aws.Provider("explicit", region="eu-central-1")
        AwsBox("tune", instance_type="g5.xlarge", **AWS_NETWORK, tags=TAGS, opts=pulumi.ResourceOptions(provider=provider))

    plan = preview(program)
    provider = find(plan, "pulumi:providers:aws", "explicit")
    assert [c.name for c in _children(plan, "mlplat:aws:GpuTrainingBox") if not c.options.provider.startswith(provider.urn)] == []
    tokens = {token: given for token, given in calls}
    assert set(tokens) == {"aws:ssm/getParameter:getParameter", "aws:index/getRegion:getRegion"}
    assert all(given.startswith(provider.urn) for given in tokens.values()), tokens


def test_aws_ami_change_replaces_only_when_asked():
    assert find(_aws(replace_on_ami_change=True), "aws:ec2/instance:Instance").options.ignore_changes == []
    assert find(_aws(ami_id="ami-0123456789abcdef0"), "aws:ec2/instance:Instance").inputs["ami"] == "ami-0123456789abcdef0"


def test_aws_security_group_has_no_inbound_rules_and_https_out_only():
    group = find(_aws(), "aws:ec2/securityGroup:SecurityGroup").inputs
    assert group["ingress"] == []
    assert [(rule["protocol"], rule["fromPort"], rule["toPort"]) for rule in group["egress"]] == [("tcp", 443, 443)]
    assert group["vpcId"] == AWS_NETWORK["vpc_id"]


def test_aws_egress_can_be_narrowed_to_the_vpc():
    group = find(_aws(egress_https_cidrs=["10.20.0.0/16"]), "aws:ec2/securityGroup:SecurityGroup").inputs
    assert group["egress"][0]["cidrBlocks"] == ["10.20.0.0/16"] and group["ingress"] == []
    assert _config_issues(_dev_values(egressHttpsCidrs=["10.20.0.0/33"])) == [("mlplat:gpuBoxes[0].egressHttpsCidrs", ["10.20.0.0/33"])]


def test_aws_role_is_for_ec2_with_session_manager_only():
    plan = _aws()
    role = find(plan, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    attachment = find(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs == {"role": role.outputs["name"], "policyArn": SSM_CORE_POLICY}
    assert find_all(plan, "aws:iam/rolePolicy:RolePolicy") == []


def test_aws_data_volume_is_encrypted_in_the_instance_zone_and_attached():
    plan = _aws(data_volume_gib=800)
    instance = find(plan, "aws:ec2/instance:Instance")
    volume = find(plan, "aws:ebs/volume:Volume")
    assert volume.inputs["size"] == 800 and volume.inputs["encrypted"] is True and volume.inputs["type"] == "gp3"
    assert volume.inputs["availabilityZone"] == instance.outputs["availabilityZone"]
    attachment = find(plan, "aws:ec2/volumeAttachment:VolumeAttachment").inputs
    assert (attachment["volumeId"], attachment["instanceId"]) == (volume.id, instance.id)
    assert find_all(_aws(data_volume_gib=0), "aws:ebs/volume:Volume") == []


def test_aws_customer_key_encrypts_both_volumes():
    key = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    plan = _aws(kms_key_id=key)
    assert find(plan, "aws:ec2/instance:Instance").inputs["rootBlockDevice"]["kmsKeyId"] == key
    assert find(plan, "aws:ebs/volume:Volume").inputs["kmsKeyId"] == key


def test_aws_idle_alarm_stops_the_instance_after_the_idle_minutes():
    plan = _aws(idle_stop_minutes=45, idle_cpu_percent=3)
    alarm = find(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert alarm["alarmActions"] == ["arn:aws:automate:us-east-1:ec2:stop"]
    assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == ("AWS/EC2", "CPUUtilization", "Maximum")
    assert alarm["dimensions"] == {"InstanceId": find(plan, "aws:ec2/instance:Instance").id}
    assert (alarm["period"], alarm["evaluationPeriods"]) == (300, 9)
    assert (alarm["threshold"], alarm["comparisonOperator"]) == (3, "LessThanThreshold")
    assert alarm["treatMissingData"] == "notBreaching"
    assert find_all(_aws(idle_stop_minutes=0), "aws:cloudwatch/metricAlarm:MetricAlarm") == []


def test_aws_spot_is_a_persistent_request_stopped_on_interruption():
    market = find(_aws(spot=True), "aws:ec2/instance:Instance").inputs["instanceMarketOptions"]
    assert market == {"marketType": "spot", "spotOptions": {"instanceInterruptionBehavior": "stop", "spotInstanceType": "persistent"}}
    market = find(_aws(spot=True, spot_interruption_behavior="terminate"), "aws:ec2/instance:Instance").inputs["instanceMarketOptions"]
    assert market["spotOptions"] == {"instanceInterruptionBehavior": "terminate", "spotInstanceType": "one-time"}


def test_aws_children_are_parented_to_the_component():
    plan = _aws()
    component = find(plan, "mlplat:aws:GpuTrainingBox")
    assert {r.type for r in plan.children_of(component.urn)} >= {
        "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile", "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/instance:Instance", "aws:ebs/volume:Volume", "aws:cloudwatch/metricAlarm:MetricAlarm",
    }
    assert set(component.outputs) == {"instance_id", "private_ip", "role_arn", "role_name", "ami_id"}
    assert component.outputs["role_arn"] == find(plan, "aws:iam/role:Role").outputs["arn"]
    assert AwsGpuTrainingBoxArgs(instance_type="g5.xlarge", **AWS_NETWORK, tags=TAGS).gpu == EC2_GPU_INSTANCE_TYPES["g5.xlarge"]
    assert (EC2_GPU_INSTANCE_TYPES["g5.xlarge"].gpu, EC2_GPU_INSTANCE_TYPES["g5.xlarge"].count) == ("NVIDIA A10G", 1)


def test_every_taggable_child_carries_the_standard_tags():
    plan = _aws()
    taggable = [c for c in _children(plan, "mlplat:aws:GpuTrainingBox") if c.type not in ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:ec2/volumeAttachment:VolumeAttachment")]
    assert len(taggable) == 6
    assert [c.name for c in taggable if {k: c.inputs["tags"].get(k) for k in STANDARD} != STANDARD] == []
    gce = _gce()
    labelled = [find(gce, "gcp:compute/instance:Instance"), find(gce, "gcp:compute/disk:Disk")]
    assert [c.name for c in labelled if c.inputs["labels"] != STANDARD] == []


@pytest.mark.parametrize(("instance_type", "expected"), [
    ("m5.xlarge", "an EC2 instance type with NVIDIA GPUs"),
    ("t3.large", "from the families g4dn, g5, g6"),
    ("g5.3xlarge", "a size of g5 with GPUs (g5.xlarge"),
    ("inf2.xlarge", "NVIDIA GPUs"),
])
def test_aws_non_gpu_instance_type_is_refused_before_anything_is_registered(instance_type, expected):
    error, registered = _component_error(lambda: AwsBox("tune", {"instance_type": instance_type, **AWS_NETWORK, "tags": TAGS}))
    assert registered == []
    assert [(issue.path, issue.value) for issue in error.issues] == [("AwsGpuTrainingBox(tune).instance_type", instance_type)]
    assert expected in str(error)


@pytest.mark.parametrize("instance_type", ["p3.8xlarge", "p3dn.24xlarge"])
def test_aws_v100_types_need_an_ami_other_than_the_default(instance_type):
    # The default DLAMI's release notes list no P3 family (supported_ec2_instances), so a V100 box
    # on it would boot an AMI whose driver build AWS does not support there.
    error, registered = _component_error(lambda: AwsBox("tune", {"instance_type": instance_type, **AWS_NETWORK, "tags": TAGS}))
    assert registered == []
    assert [(issue.path, issue.value) for issue in error.issues] == [("AwsGpuTrainingBox(tune).instance_type", instance_type)]
    assert "ami_id" in error.issues[0].expected and "p3" in error.issues[0].expected
    assert find(_aws(instance_type=instance_type, ami_id="ami-0123456789abcdef0"), "aws:ec2/instance:Instance").inputs["instanceType"] == instance_type
    other_ami = DEFAULT_AMI_PARAMETER.replace("base-oss-nvidia-driver-gpu-ubuntu-22.04", "base-proprietary-nvidia-driver-gpu-ubuntu-20.04")
    assert find(_aws(instance_type=instance_type, ami_ssm_parameter=other_ami), "aws:ec2/instance:Instance").inputs["instanceType"] == instance_type
    assert _config_issues(_dev_values(instanceType=instance_type)) == [("mlplat:gpuBoxes[0].instanceType", instance_type)]


def test_aws_idle_minutes_must_fit_the_metric_period():
    error, registered = _component_error(lambda: AwsBox("tune", {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": TAGS, "idle_stop_minutes": 7}))
    assert registered == [] and (error.issues[0].path, error.issues[0].value) == ("AwsGpuTrainingBox(tune).idle_stop_minutes", 7)
    assert "multiple of 5" in error.issues[0].expected


def test_boxes_need_the_standard_tags_and_labels():
    error, registered = _component_error(lambda: AwsBox("tune", {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": {"team": "fraud"}}))
    assert registered == [] and (error.issues[0].path, error.issues[0].value) == ("AwsGpuTrainingBox(tune).tags", {"team": "fraud"})
    assert "missing: cost-center, environment" in error.issues[0].expected
    labels = {"team": "fraud", "cost-center": "cc-4100"}
    error, registered = _component_error(lambda: GceBox("tune", machine_type="g2-standard-8", zone="europe-west4-a", subnetwork="ml-private", labels=labels))
    assert registered == [] and [(i.path, i.value) for i in error.issues] == [("GcpGpuTrainingBox(tune).labels", labels)]
    assert "missing: environment" in error.issues[0].expected


def test_the_keyword_form_registers_what_the_args_form_does():
    values = {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": TAGS, "spot": True}
    shapes = [
        sorted(((r.type, r.name, r.inputs) for r in plan.resources), key=lambda shape: shape[:2])
        for plan in (preview(lambda: AwsBox("tune", **values)), preview(lambda: AwsBox("tune", AwsGpuTrainingBoxArgs(**values))))
    ]
    assert shapes[0] == shapes[1]
    values = {"machine_type": "n1-standard-8", "accelerator": {"type": "nvidia-tesla-t4", "count": 1}, **GCE_NETWORK}
    shapes = [
        sorted(((r.type, r.name, r.inputs) for r in plan.resources), key=lambda shape: shape[:2])
        for plan in (preview(lambda: GceBox("tune", **values)), preview(lambda: GceBox("tune", GcpGpuTrainingBoxArgs(**values))))
    ]
    assert shapes[0] == shapes[1]


def test_aws_identifiers_may_be_outputs_of_other_resources():
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"

    def program():
        vpc = aws.ec2.Vpc("vpc", cidr_block="10.20.0.0/16")
        subnet = aws.ec2.Subnet("private", vpc_id=vpc.id, cidr_block="10.20.1.0/24")
        AwsBox(
            "tune",
            instance_type="g5.xlarge",
            subnet_id=subnet.id,
            vpc_id=vpc.id,
            ami_id=pulumi.Output.from_input("ami-0123456789abcdef0"),
            kms_key_id=pulumi.Output.from_input(key_arn),
            tags={**TAGS, "team": pulumi.Output.from_input("fraud")},
        )

    plan = preview(program)
    instance = find(plan, "aws:ec2/instance:Instance")
    assert instance.inputs["subnetId"] == find(plan, "aws:ec2/subnet:Subnet").id
    assert find(plan, "aws:ec2/securityGroup:SecurityGroup").inputs["vpcId"] == find(plan, "aws:ec2/vpc:Vpc").id
    assert instance.inputs["ami"] == "ami-0123456789abcdef0"
    assert instance.inputs["rootBlockDevice"]["kmsKeyId"] == key_arn == find(plan, "aws:ebs/volume:Volume").inputs["kmsKeyId"]
    assert instance.inputs["tags"]["team"] == "fraud"


def test_gce_identifiers_may_be_outputs_of_other_resources():
    key = "projects/ml-platform-dev/locations/europe-west4/keyRings/boxes/cryptoKeys/disks"

    def program():
        network = gcp.compute.Network("ml", auto_create_subnetworks=False)
        subnetwork = gcp.compute.Subnetwork("ml-private", network=network.id, ip_cidr_range="10.30.0.0/20", region="europe-west4")
        GceBox(
            "tune",
            machine_type="g2-standard-8",
            zone=pulumi.Output.from_input("europe-west4-b"),
            subnetwork=subnetwork.self_link,
            project=pulumi.Output.from_input("ml-platform-dev"),
            kms_key_name=pulumi.Output.from_input(key),
            labels={**TAGS, "cost-center": pulumi.Output.from_input("cc-4100")},
        )

    plan = preview(program)
    vm = find(plan, "gcp:compute/instance:Instance").inputs
    assert vm["networkInterfaces"] == [{"subnetwork": find(plan, "gcp:compute/subnetwork:Subnetwork").outputs["selfLink"]}]
    assert (vm["zone"], vm["project"], vm["bootDisk"]["kmsKeySelfLink"]) == ("europe-west4-b", "ml-platform-dev", key)
    assert vm["labels"]["cost-center"] == "cc-4100"
    assert find(plan, "gcp:compute/disk:Disk").inputs["zone"] == "europe-west4-b"


@pytest.mark.parametrize(("component", "values", "field"), [
    (AwsBox, lambda late: {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": TAGS, "subnet_id": late("vpc-0123456789abcdef0")}, "subnet_id"),
    (AwsBox, lambda late: {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": TAGS, "kms_key_id": late("alias/aws/ebs")}, "kms_key_id"),
    (AwsBox, lambda late: {"instance_type": "g5.xlarge", **AWS_NETWORK, "tags": {**TAGS, "team": late("x" * 300)}}, "tags.team"),
    (GceBox, lambda late: {"machine_type": "g2-standard-8", **GCE_NETWORK, "zone": late("europe-west4")}, "zone"),
    (GceBox, lambda late: {"machine_type": "g2-standard-8", **GCE_NETWORK, "labels": {**TAGS, "team": late("Fraud")}}, "labels.team"),
], ids=["aws-subnet", "aws-kms-alias", "aws-tag-value", "gce-zone-region", "gce-label-uppercase"])
def test_an_output_with_a_bad_value_fails_when_it_arrives_naming_the_field(component, values, field):
    def program():  # the Outputs are made inside the program, on its event loop
        component("tune", **values(pulumi.Output.from_input))

    with pytest.raises(PreviewError) as caught:
        preview(program)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [issue.path for issue in error.issues] == [f"{component.__name__}(tune).{field}"]


def test_config_root_volume_below_the_dlami_minimum_is_a_config_error():
    assert _config_issues(_dev_values(rootVolumeGib=60)) == [("mlplat:gpuBoxes[0].rootVolumeGib", 60)]


def test_config_idle_minutes_off_the_metric_period_is_a_config_error():
    assert _config_issues(_dev_values(idleStopMinutes=7)) == [("mlplat:gpuBoxes[0].idleStopMinutes", 7)]


def test_aws_table_counts_match_the_documented_sizes():
    assert EC2_GPU_INSTANCE_TYPES["g4dn.12xlarge"].count == 4
    assert EC2_GPU_INSTANCE_TYPES["p4d.24xlarge"].count == 8
    assert EC2_GPU_INSTANCE_TYPES["p5.48xlarge"].gpu == "NVIDIA H100"
    assert all(t.split(".")[0] not in ("m5", "c5", "inf2", "trn1") for t in EC2_GPU_INSTANCE_TYPES)


# --- GCP ---------------------------------------------------------------------------------


def test_gce_box_is_shielded_private_os_login_with_its_own_service_account():
    plan = _gce()
    vm = find(plan, "gcp:compute/instance:Instance")
    account = find(plan, "gcp:serviceaccount/account:Account")
    inputs = vm.inputs
    assert vm.name == "tune-vm"
    assert inputs["networkInterfaces"] == [{"subnetwork": "ml-private"}]  # no accessConfigs: no external IP
    assert inputs["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}
    assert inputs["metadata"]["enable-oslogin"] == "TRUE" and inputs["metadata"]["block-project-ssh-keys"] == "TRUE"
    assert inputs["serviceAccount"]["email"] == account.outputs["email"]
    assert not inputs["serviceAccount"]["email"].endswith("-compute@developer.gserviceaccount.com")
    assert inputs["serviceAccount"]["scopes"] == list(BOX_SCOPES)
    assert "https://www.googleapis.com/auth/cloud-platform" not in inputs["serviceAccount"]["scopes"]
    assert inputs["scheduling"]["onHostMaintenance"] == "TERMINATE"
    assert inputs["scheduling"]["provisioningModel"] == "STANDARD"
    assert "maxRunDuration" not in inputs["scheduling"]
    assert inputs["bootDisk"]["initializeParams"]["size"] == 150


def test_gce_accelerator_optimized_type_gets_its_gpus_from_the_machine_type():
    plan = _gce()
    assert "guestAccelerators" not in find(plan, "gcp:compute/instance:Instance").inputs
    assert set(find(plan, "mlplat:gcp:GpuTrainingBox").outputs) == {"service_account_email", "instance_name"}
    boxes = []
    preview(lambda: boxes.append(GceBox("tune", machine_type="g2-standard-8", **GCE_NETWORK)))
    assert (boxes[0].accelerator.type, boxes[0].accelerator.count) == ("nvidia-l4", 1)


def test_gce_n1_attaches_the_requested_gpus():
    plan = _gce(machine_type="n1-standard-16", accelerator={"type": "nvidia-tesla-t4", "count": 2})
    assert find(plan, "gcp:compute/instance:Instance").inputs["guestAccelerators"] == [{"type": "nvidia-tesla-t4", "count": 2}]


def test_gce_spot_with_max_run_duration_stops_the_vm():
    scheduling = find(_gce(spot=True, max_run_hours=12), "gcp:compute/instance:Instance").inputs["scheduling"]
    assert scheduling["provisioningModel"] == "SPOT" and scheduling["preemptible"] is True
    assert scheduling["automaticRestart"] is False
    assert scheduling["instanceTerminationAction"] == "STOP"
    assert scheduling["maxRunDuration"] == {"seconds": 12 * 3600}


def test_gce_data_disk_is_attached():
    plan = _gce(data_disk_gib=1000)
    disk = find(plan, "gcp:compute/disk:Disk")
    assert disk.inputs["size"] == 1000 and disk.inputs["zone"] == "europe-west4-a"
    assert find(plan, "gcp:compute/instance:Instance").inputs["attachedDisks"][0]["source"] == disk.outputs["selfLink"]


@pytest.mark.parametrize(("args", "path", "expected"), [
    ({"machine_type": "e2-standard-8"}, "machine_type", "has no GPUs"),
    ({"machine_type": "n2-standard-8", "accelerator": {"type": "nvidia-tesla-t4", "count": 1}}, "machine_type", "a GPU machine type"),
    ({"machine_type": "n1-standard-8", "accelerator": {"type": "nvidia-tesla-t4", "count": 3}}, "accelerator", "a count of 1, 2, 4"),
    ({"machine_type": "n1-standard-8", "accelerator": {"type": "nvidia-tesla-v100", "count": 16}}, "accelerator", "a count of 1, 2, 4, 8"),
    ({"machine_type": "n1-standard-64", "accelerator": {"type": "nvidia-tesla-v100", "count": 1}}, "accelerator", "at most 12 vCPUs"),
    ({"machine_type": "n1-standard-8"}, "accelerator", "N1 machine types get GPUs attached"),
    ({"machine_type": "a2-highgpu-1g", "accelerator": {"type": "nvidia-tesla-a100", "count": 2}}, "accelerator", "exactly 1 x nvidia-tesla-a100"),
    ({"machine_type": "g2-standard-8", "accelerator": {"type": "nvidia-tesla-t4", "count": 1}}, "accelerator", "exactly 1 x nvidia-l4"),
])
def test_gce_machine_type_and_accelerator_mismatch_is_refused_before_anything_is_registered(args, path, expected):
    error, registered = _component_error(lambda: GceBox("tune", {**GCE_NETWORK, **args}))
    assert registered == []
    assert [(issue.path, issue.value) for issue in error.issues] == [(f"GcpGpuTrainingBox(tune).{path}", args.get(path))]
    assert expected in error.issues[0].expected


# --- stack config ------------------------------------------------------------------------


def _dev_values(**box_overrides):
    import yaml

    from tests.conftest import REPO_ROOT

    from tests.team_stacks import team_blocks

    # The shared dev stack's config with the shipped dev teams in it (their request files).
    document = {**yaml.safe_load((REPO_ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"], **team_blocks("dev")}
    values = {key.split(":", 1)[1]: value for key, value in document.items() if key.startswith("mlplat:")}
    values["gpuBoxes"] = [{**values["gpuBoxes"][0], **box_overrides}]
    return values


def _config_issues(values) -> list[tuple[str, object]]:
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(values)
    return [(issue.path, issue.value) for issue in caught.value.issues]


def test_the_dev_stack_config_is_valid_with_its_gpu_box():
    config = parse_platform_config(_dev_values())
    box = config.gpu_boxes[0]
    assert (box.name, box.team, box.instance_type) == ("fraud-finetune", "fraud", "g5.xlarge")
    assert [(g.bucket, g.access, g.prefix) for g in box.grants] == [("fraud-features-dev", "read", ""), ("fraud-features-dev", "read-write", "checkpoints/")]


def test_config_grant_of_a_bucket_the_stack_does_not_define_names_the_key_path():
    issues = _config_issues(_dev_values(grants=[{"bucket": "payments-raw", "access": "read"}]))
    assert issues == [("mlplat:gpuBoxes[0].grants[0].bucket", "payments-raw")]


def test_config_wildcard_prefix_is_refused():
    issues = _config_issues(_dev_values(grants=[{"bucket": "fraud-features-dev", "prefix": "raw/*"}]))
    assert issues == [("mlplat:gpuBoxes[0].grants[0].prefix", "raw/*")]


def test_config_non_gpu_instance_type_unknown_team_and_missing_network_are_reported_together():
    values = _dev_values(instanceType="m5.large", team="payments", subnetId=None)
    values["gpuBoxes"][0].pop("subnetId")
    issues = dict(_config_issues(values))
    assert issues["mlplat:gpuBoxes[0].instanceType"] == "m5.large"
    assert issues["mlplat:gpuBoxes[0].team"] == "payments"
    assert "mlplat:gpuBoxes[0].subnetId" in issues


def test_config_box_names_are_unique():
    values = _dev_values()
    values["gpuBoxes"] = values["gpuBoxes"] * 2
    assert _config_issues(values) == [("mlplat:gpuBoxes[1].name", "fraud-finetune")]


def test_config_gcp_fields_on_an_aws_stack_are_refused():
    issues = _config_issues(_dev_values(machineType="g2-standard-8"))
    assert issues == [("mlplat:gpuBoxes[0].machineType", "g2-standard-8")]


def test_a_stack_with_a_bad_box_registers_nothing(repo_root):
    box = {**_dev_values()["gpuBoxes"][0], "grants": [{"bucket": "not-in-this-stack"}]}
    with pytest.raises(PreviewError) as caught:
        run_preview(repo_root, "dev", config_overrides={**team_blocks("dev"), "mlplat:gpuBoxes": [box]})
    assert isinstance(caught.value.__cause__, ConfigError)
    assert "mlplat:gpuBoxes[0].grants[0].bucket" in str(caught.value.__cause__)
    assert [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"] == []


def test_a_gcp_stack_with_a_bad_accelerator_count_registers_nothing(repo_root):
    import yaml

    document = team_blocks("gcp-dev")
    box = {**document["mlplat:gpuBoxes"][0], "machineType": "n1-standard-8", "accelerator": {"type": "nvidia-tesla-t4", "count": 3}}
    with pytest.raises(PreviewError) as caught:
        run_preview(repo_root, "gcp-dev", config_overrides={**document, "mlplat:gpuBoxes": [box]})
    error = caught.value.__cause__
    assert isinstance(error, ConfigError)
    assert [(i.path, i.value) for i in error.issues] == [("mlplat:gpuBoxes[0].accelerator", {"type": "nvidia-tesla-t4", "count": 3})]
    assert [r.type for r in caught.value.plan.resources if r.type != "pulumi:pulumi:Stack"] == []


# --- the shipped team stacks (team-stack/, teams/<team>.yaml) ------------------------------


def test_dev_stack_box_role_gets_exactly_its_configured_grants(repo_root):
    plan, _ = preview_team("fraud-dev")
    (box,) = plan.by_type("mlplat:aws:GpuTrainingBox")
    role = find(plan, "aws:iam/role:Role", "fraud-finetune-role")
    assert role.parent == box.urn
    policies = [p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.outputs["name"]]
    bucket_arn = find(plan, "aws:s3/bucket:Bucket", "fraud-features-dev").outputs["arn"]
    resources = sorted(
        statement["Resource"] for p in policies for statement in json.loads(p.inputs["policy"])["Statement"] if statement["Sid"].endswith("Objects") and statement["Sid"] != "ListObjects"
    )
    assert resources == [f"{bucket_arn}/*", f"{bucket_arn}/checkpoints/*"]
    instance = find(plan, "aws:ec2/instance:Instance", "fraud-finetune-instance")
    assert instance.inputs["tags"]["team"] == "fraud" and instance.inputs["tags"]["environment"] == "dev"
    assert plan.outputs["gpuBoxes"]["fraud-finetune"]["grants"] == ["read fraud-features-dev/", "read-write fraud-features-dev/checkpoints/"]


def test_gcp_dev_stack_has_a_gcs_bucket_a_gce_box_and_workload_identity(repo_root):
    plan, _ = preview_team("fraud-gcp-dev")
    assert len(plan.by_type("mlplat:gcp:DataBucket")) == 1 and len(plan.by_type("mlplat:gcp:GpuTrainingBox")) == 1
    assert not plan.by_type("mlplat:k8s:TeamNamespace") and not [r for r in plan.resources if r.type.startswith("aws:")]
    box_email = find(plan, "gcp:serviceaccount/account:Account", "fraud-finetune-sa").outputs["email"]
    box_bindings = {(b.inputs["role"], "condition" in b.inputs) for b in plan.by_type("gcp:storage/bucketIAMMember:BucketIAMMember") if b.inputs["member"] == f"serviceAccount:{box_email}"}
    assert box_bindings == {("roles/storage.objectViewer", False), ("roles/storage.objectUser", True)}
    members = sorted(b.inputs["member"] for b in plan.by_type("gcp:serviceaccount/iAMMember:IAMMember"))
    assert members == ["serviceAccount:ml-platform-dev.svc.id.goog[fraud/workload]"]
    # search's bucket grants fraud read under shared/: made in search's stack, to fraud's service account by e-mail.
    search, _ = preview_team("search-gcp-dev")
    grants = {(b.inputs["member"], b.inputs["role"]) for b in search.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")}
    assert ("serviceAccount:fraud-workload@ml-platform-dev.iam.gserviceaccount.com", "roles/storage.objectViewer") in grants
    vm = find(plan, "gcp:compute/instance:Instance").inputs
    assert vm["scheduling"]["provisioningModel"] == "SPOT" and vm["scheduling"]["maxRunDuration"] == {"seconds": 12 * 3600}
    assert vm["labels"]["team"] == "fraud"


def test_gce_customer_key_encrypts_both_disks_and_a_malformed_key_is_refused():
    key = "projects/ml-platform-dev/locations/europe-west4/keyRings/boxes/cryptoKeys/disks"
    plan = _gce(kms_key_name=key)
    assert find(plan, "gcp:compute/instance:Instance").inputs["bootDisk"]["kmsKeySelfLink"] == key
    assert find(plan, "gcp:compute/disk:Disk").inputs["diskEncryptionKey"] == {"kmsKeySelfLink": key}
    bad = "disks-key"  # a bare key name: Compute Engine needs the full resource id
    error, registered = _component_error(lambda: GceBox("tune", {"machine_type": "g2-standard-8", **GCE_NETWORK, "kms_key_name": bad}))
    assert registered == []
    assert [(issue.path, issue.value) for issue in error.issues] == [("GcpGpuTrainingBox(tune).kms_key_name", bad)]
    assert "projects/" in error.issues[0].expected


@pytest.mark.parametrize(("stack", "token", "protection"), [
    ("dev", "mlplat:aws:GpuTrainingBox", ("aws:ec2/instance:Instance", "disableApiTermination")),
    ("gcp-dev", "mlplat:gcp:GpuTrainingBox", ("gcp:compute/instance:Instance", "deletionProtection")),
])
def test_a_stack_that_protects_resources_protects_every_child_of_its_boxes(repo_root, stack, token, protection):
    # The platform layer passes the stack's protect / retainOnDelete as the box's options (the
    # box itself protects nothing), and turns the instance's own protection on with them.
    plan, _ = run_preview(repo_root, stack, config_overrides={**team_blocks(stack), "mlplat:protect": True, "mlplat:retainOnDelete": True})
    (box,) = plan.by_type(token)
    children = plan.children_of(box.urn)
    assert len(children) >= 3 and any(c.name.endswith("-data") for c in children)
    assert [c.name for c in children if not (c.options.protect and c.options.retain_on_delete)] == []
    instance_type, flag = protection
    assert find(plan, instance_type).inputs[flag] is True
    plan, _ = run_preview(repo_root, stack, config_overrides=team_blocks(stack))
    assert [c.name for c in plan.children_of(plan.by_type(token)[0].urn) if c.options.protect] == []
    assert find(plan, instance_type).inputs[flag] is False
