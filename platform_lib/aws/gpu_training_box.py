"""``mlplat:aws:GpuTrainingBox``: an EC2 GPU instance for fine-tuning, reached through SSM only.

What it registers (children of the component, named from its name):

- ``<name>-role``, ``<name>-ssm-core`` and ``<name>-profile``: an IAM role for EC2 with only
  ``AmazonSSMManagedInstanceCore`` (Session Manager) attached, in an instance profile. Bucket
  access comes from ``DataBucket.grant_read(box.role, prefix=...)`` (a role policy per grant).
- ``<name>-sg``: a security group with **no inbound rules** (access is Session Manager, not
  SSH) and outbound HTTPS (443) only, which is what SSM, S3 and package mirrors need.
- ``<name>-instance``: the instance in a private subnet, no public IP, IMDSv2 required (hop limit
  1 unless ``metadata_hop_limit=2``), an encrypted gp3 root volume; on Spot with ``spot=True``. Its AMI is a Deep Learning AMI
  read from the public SSM parameter (AWS DLAMI Developer Guide, "Finding the ID of a DLAMI":
  ``/aws/service/deeplearning/ami/<arch>/<ami type>/latest/ami-id``). A new AMI behind the
  parameter does not replace a running box (``ignore_changes=["ami"]``) unless
  ``replace_on_ami_change=True``.
- ``<name>-data`` and ``<name>-data-attachment``: an encrypted gp3 data volume that outlives the
  instance (unless ``data_volume_gib`` is 0).
- ``<name>-idle-stop``: a CloudWatch alarm that stops the instance (action
  ``arn:aws:automate:<region>:ec2:stop``; Amazon CloudWatch User Guide, "Create alarms to stop,
  terminate, reboot, or recover an EC2 instance") when its ``CPUUtilization`` (``AWS/EC2``,
  basic monitoring, 5-minute periods) stays below ``idle_cpu_percent`` for ``idle_stop_minutes``.
  CPU rather than GPU utilisation: GPU metrics (``nvidia_smi_utilization_gpu``) exist only when
  the CloudWatch agent is installed and configured on the box, and a box whose agent is missing
  would never stop; a training loop keeps at least one core busy feeding the GPU, so a
  CPU-idle box is a GPU-idle box.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..core.errors import validate_args
from ..core.tagging import require_standard_keys


@dataclass(frozen=True)
class GpuInstance:
    """The GPUs of one EC2 instance type: model, count and memory per GPU in GiB."""

    gpu: str
    count: int
    memory_gib: int


def _sizes(gpu: str, memory_gib: int, family: str, counts: dict[str, int]) -> dict[str, GpuInstance]:
    return {f"{family}.{size}": GpuInstance(gpu, count, memory_gib) for size, count in counts.items()}


#: x86_64 EC2 instance types with NVIDIA GPUs. Source: Amazon EC2 "Accelerated computing
#: instances" specifications (Amazon EC2 Instance Types guide), checked 2026-11. Arm (g5g) and
#: non-GPU accelerators (inf, trn, dl1, f) are left out: the default Deep Learning AMI is x86_64
#: with NVIDIA drivers. p3 and p3dn are valid GPU types but need an AMI other than the default
#: (see :data:`DEFAULT_AMI_FAMILIES`).
EC2_GPU_INSTANCE_TYPES: dict[str, GpuInstance] = {
    **_sizes("NVIDIA T4", 16, "g4dn", {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4, "metal": 8}),
    **_sizes("NVIDIA A10G", 24, "g5", {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    **_sizes("NVIDIA L4", 24, "g6", {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    **_sizes("NVIDIA L4", 24, "gr6", {"4xlarge": 1, "8xlarge": 1}),
    **_sizes("NVIDIA L40S", 48, "g6e", {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4, "24xlarge": 4, "48xlarge": 8}),
    **_sizes("NVIDIA V100", 16, "p3", {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8}),
    **_sizes("NVIDIA V100", 32, "p3dn", {"24xlarge": 8}),
    **_sizes("NVIDIA A100", 40, "p4d", {"24xlarge": 8}),
    **_sizes("NVIDIA A100", 80, "p4de", {"24xlarge": 8}),
    **_sizes("NVIDIA H100", 80, "p5", {"4xlarge": 1, "48xlarge": 8}),
    **_sizes("NVIDIA H200", 141, "p5e", {"48xlarge": 8}),
    **_sizes("NVIDIA H200", 141, "p5en", {"48xlarge": 8}),
    **_sizes("NVIDIA B200", 179, "p6-b200", {"48xlarge": 8}),
}

#: The public SSM parameter of "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)",
#: ``/aws/service/deeplearning/ami/<arch>/<AMI name without "deep learning ami", lowercase,
#: hyphenated>/latest/ami-id`` (AWS DLAMI Developer Guide, "Finding the ID of a DLAMI", and the
#: AMI's release notes). Check it once with ``aws ssm get-parameter --name ...`` in the target
#: region before a first ``pulumi up``, or set ``ami_ssm_parameter``.
DEFAULT_AMI_PARAMETER = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"

#: The instance families of :data:`EC2_GPU_INSTANCE_TYPES` that AMI supports. Source: AWS DLAMI
#: Developer Guide, release notes of "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)",
#: ``supported_ec2_instances`` (G4dn, G5, G6, Gr6, G6e, G7e, P4d, P4de, P5, P5e, P5en, P6-B200,
#: P6-B300; checked 2026-11). P3 and P3dn (V100) are not on that list: they need ``ami_id`` or
#: ``ami_ssm_parameter`` naming an AMI whose driver supports them.
DEFAULT_AMI_FAMILIES = frozenset({"g4dn", "g5", "g6", "gr6", "g6e", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200"})

#: The AWS managed policy Session Manager needs on an instance (AWS Systems Manager User Guide,
#: "Configure instance permissions required for Systems Manager").
SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

#: Basic EC2 monitoring publishes CPUUtilization every 5 minutes (Amazon EC2 User Guide,
#: "Monitor your instances using CloudWatch").
ALARM_PERIOD_SECONDS = 300


def gpu_families() -> list[str]:
    """The instance families in :data:`EC2_GPU_INSTANCE_TYPES`, sorted."""
    return sorted({t.split(".")[0] for t in EC2_GPU_INSTANCE_TYPES})


def check_instance_type(instance_type: str) -> str:
    """Return the instance type if it has NVIDIA GPUs; else raise ``ValueError`` saying what would do."""
    if instance_type not in EC2_GPU_INSTANCE_TYPES:
        family = instance_type.split(".")[0]
        if family in gpu_families():
            sizes = ", ".join(t for t in EC2_GPU_INSTANCE_TYPES if t.startswith(f"{family}."))
            raise ValueError(f"a size of {family} with GPUs ({sizes})")
        raise ValueError(f"an EC2 instance type with NVIDIA GPUs, from the families {', '.join(gpu_families())} (e.g. g5.xlarge)")
    return instance_type


class GpuTrainingBoxArgs(BaseModel):
    """Arguments of the AWS :class:`GpuTrainingBox`.

    Attributes:
        instance_type: an EC2 GPU instance type (see :data:`EC2_GPU_INSTANCE_TYPES`), e.g. ``g5.xlarge``.
        subnet_id: a private subnet (``subnet-...``); it needs a NAT gateway or VPC endpoints for
            SSM (``ssm``, ``ssmmessages``, ``ec2messages``) and S3.
        vpc_id: the subnet's VPC (``vpc-...``), for the security group.
        root_volume_gib: root volume size in GiB (gp3, encrypted); at least 75 GiB, a platform floor
            so the DLAMI's CUDA stack, conda caches and containers fit.
        data_volume_gib: data volume size in GiB (gp3, encrypted); 0 for none.
        kms_key_id: a KMS key ARN for the volumes; ``None`` for the AWS managed ``aws/ebs`` key.
        spot: launch as a persistent Spot request.
        spot_interruption_behavior: what a Spot interruption does: ``stop`` (default; keeps the
            root volume), ``hibernate`` or ``terminate``.
        idle_stop_minutes: stop the instance after its CPU stays below ``idle_cpu_percent`` this
            many minutes (a multiple of 5, at least 15); 0 for no idle stop.
        idle_cpu_percent: the idle threshold, percent of CPU (maximum over each 5 minutes).
        ami_ssm_parameter: the SSM parameter holding the AMI id.
        ami_id: a fixed AMI id instead of the SSM parameter.
        replace_on_ami_change: replace the instance when the AMI changes (off: new AMIs apply
            only to new boxes).
        tags: tags for every child: the standard tags, at least ``team`` and ``cost-center``
            (``Name`` is added).
        egress_https_cidrs: where the box may connect on TCP 443. Default ``0.0.0.0/0`` (through
            the subnet's NAT: package indexes, model hubs, SSM and S3 public endpoints); narrow it
            to the VPC CIDR when the VPC has SSM, S3 and STS endpoints and no internet is wanted.
        metadata_hop_limit: the IMDSv2 PUT response hop limit: 1 (default) keeps instance
            credentials on the host; 2 lets containers with bridge networking reach them (Amazon
            EC2 User Guide, "Configure the instance metadata options": hop limit 2 for containers).
        protect: ``protect`` on the data volume, and instance termination protection.
        retain_on_delete: keep the data volume when it leaves the program.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Declared before instance_type, so its validator can see which AMI the box boots.
    ami_ssm_parameter: str = Field(default=DEFAULT_AMI_PARAMETER, pattern=r"^/[A-Za-z0-9_./-]+$")
    ami_id: str | None = Field(default=None, pattern=r"^ami-[0-9a-f]{8,17}$")
    instance_type: str
    subnet_id: str = Field(pattern=r"^subnet-[0-9a-f]{8,17}$")
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    root_volume_gib: int = Field(default=150, ge=75, le=16384)
    data_volume_gib: int = Field(default=500, ge=0, le=16384)
    kms_key_id: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
    spot: bool = False
    spot_interruption_behavior: Literal["stop", "hibernate", "terminate"] = "stop"
    idle_stop_minutes: int = Field(default=60, ge=0, le=1440)
    idle_cpu_percent: float = Field(default=5.0, gt=0, lt=100)
    replace_on_ami_change: bool = False
    tags: dict[str, str]
    egress_https_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    metadata_hop_limit: Literal[1, 2] = 1
    protect: bool = False
    retain_on_delete: bool = False

    @field_validator("instance_type")
    @classmethod
    def _gpu_instance_type(cls, value: str, info: ValidationInfo) -> str:
        check_instance_type(value)
        family = value.split(".")[0]
        default_ami = "ami_id" in info.data and info.data["ami_id"] is None and info.data.get("ami_ssm_parameter") == DEFAULT_AMI_PARAMETER
        if default_ami and family not in DEFAULT_AMI_FAMILIES:
            raise ValueError(
                f"an instance type the default Deep Learning AMI supports (families {', '.join(sorted(DEFAULT_AMI_FAMILIES))}), "
                f"or ami_id / ami_ssm_parameter naming an AMI for {value}: the Base OSS Nvidia Driver GPU AMI's release notes do not list {family}"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _standard_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        return dict(require_standard_keys(tags, "tags", keys=("team", "cost-center")))

    @field_validator("egress_https_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
        import ipaddress

        for cidr in cidrs:
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"IPv4 CIDR blocks such as 10.20.0.0/16 (bad: {cidr!r})") from None
        return cidrs

    @field_validator("idle_stop_minutes")
    @classmethod
    def _idle_minutes(cls, value: int) -> int:
        if value and (value < 15 or value % 5):
            raise ValueError("0 (no idle stop) or a multiple of 5 minutes, at least 15 (CPUUtilization arrives every 5 minutes)")
        return value

    @model_validator(mode="after")
    def _spot(self) -> "GpuTrainingBoxArgs":
        if self.spot_interruption_behavior != "stop" and not self.spot:
            raise ValueError("spot_interruption_behavior only with spot=True")
        return self

    @property
    def gpu(self) -> GpuInstance:
        """The instance type's GPUs: model, count and GiB per GPU (from :data:`EC2_GPU_INSTANCE_TYPES`)."""
        return EC2_GPU_INSTANCE_TYPES[self.instance_type]


#: Component argument -> ``mlplat:gpuBoxes[*]`` key, so config errors name the key a user wrote.
CONFIG_KEYS = {
    "instance_type": "instanceType", "subnet_id": "subnetId", "vpc_id": "vpcId", "root_volume_gib": "rootVolumeGib",
    "data_volume_gib": "dataVolumeGib", "spot": "spot", "idle_stop_minutes": "idleStopMinutes", "tags": "team",
    "egress_https_cidrs": "egressHttpsCidrs",
}


def args_from_config(box: Any, tags: dict[str, str], protect: bool, retain_on_delete: bool = False) -> dict[str, Any]:
    """The component arguments for one ``mlplat:gpuBoxes`` entry (a :class:`platform_lib.platform.config.GpuBox`)."""
    return {
        "instance_type": box.instance_type,
        "subnet_id": box.subnet_id,
        "vpc_id": box.vpc_id,
        "root_volume_gib": box.root_volume_gib,
        "data_volume_gib": box.data_volume_gib,
        "spot": box.spot,
        "idle_stop_minutes": box.idle_stop_minutes,
        **({"egress_https_cidrs": box.egress_https_cidrs} if box.egress_https_cidrs else {}),
        "tags": tags,
        "protect": protect,
        "retain_on_delete": retain_on_delete,
    }


def ec2_assume_role_policy() -> str:
    """The trust policy letting EC2 assume the box's role, as JSON."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    })


class GpuTrainingBox(pulumi.ComponentResource):
    """An EC2 GPU instance for one team: private, SSM-only, encrypted, idle-stopped.

    Args:
        name: the logical name; children are ``<name>-role``, ``<name>-instance``, ...
        args: a :class:`GpuTrainingBoxArgs` or a mapping of its fields.
        opts: resource options for the component.

    Attributes:
        role: the instance's ``aws.iam.Role``; pass it to ``DataBucket.grant_read`` /
            ``grant_read_write``.
        instance: the ``aws.ec2.Instance``.
        security_group: the ``aws.ec2.SecurityGroup`` (no ingress).
        idle_alarm: the ``aws.cloudwatch.MetricAlarm`` or ``None``.
        gpu: the instance type's GPUs (:class:`GpuInstance`).
        instance_id, private_ip, role_arn, role_name, ami_id: ``Output[str]``.

    Raises:
        ComponentArgsError: a non-GPU instance type or any other bad argument; nothing was
            registered.
    """

    def __init__(self, name: str, args: GpuTrainingBoxArgs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        validated = validate_args(GpuTrainingBoxArgs, "GpuTrainingBox", name, args)
        super().__init__("mlplat:aws:GpuTrainingBox", name, None, opts)
        self.args = validated
        self.gpu = validated.gpu
        child = pulumi.ResourceOptions(parent=self)
        tags = {**validated.tags, "Name": name}

        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=ec2_assume_role_policy(),
            description=f"GPU training box {name}: Session Manager plus its DataBucket grants only",
            max_session_duration=3600,
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-ssm-core", role=self.role.name, policy_arn=SSM_CORE_POLICY, opts=child)
        self.instance_profile = aws.iam.InstanceProfile(f"{name}-profile", role=self.role.name, tags=tags, opts=child)

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=validated.vpc_id,
            description=f"GPU training box {name}: no inbound (Session Manager), outbound HTTPS only",
            ingress=[],
            egress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": list(validated.egress_https_cidrs), "description": "HTTPS to SSM, S3 and package mirrors"}],
            tags=tags,
            opts=child,
        )

        if validated.ami_id:
            ami: pulumi.Input[str] = validated.ami_id
        else:
            ami = aws.ssm.get_parameter_output(name=validated.ami_ssm_parameter, opts=pulumi.InvokeOutputOptions(parent=self)).value

        market = None
        if validated.spot:
            spot_type = "one-time" if validated.spot_interruption_behavior == "terminate" else "persistent"
            market = {"market_type": "spot", "spot_options": {"instance_interruption_behavior": validated.spot_interruption_behavior, "spot_instance_type": spot_type}}

        self.instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=ami,
            instance_type=validated.instance_type,
            subnet_id=validated.subnet_id,
            vpc_security_group_ids=[self.security_group.id],
            associate_public_ip_address=False,
            iam_instance_profile=self.instance_profile.name,
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled", "http_put_response_hop_limit": validated.metadata_hop_limit, "instance_metadata_tags": "disabled"},
            root_block_device={
                "volume_size": validated.root_volume_gib,
                "volume_type": "gp3",
                "encrypted": True,
                "delete_on_termination": True,
                "tags": {**tags, "Name": f"{name}-root"},
                **({"kms_key_id": validated.kms_key_id} if validated.kms_key_id else {}),
            },
            instance_market_options=market,
            hibernation=validated.spot and validated.spot_interruption_behavior == "hibernate",
            disable_api_termination=validated.protect,
            instance_initiated_shutdown_behavior="stop",
            monitoring=False,
            # Root volume tags go in root_block_device: the provider documents that volume_tags
            # fights the tags of a separately attached aws.ebs.Volume (the data volume).
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[] if validated.replace_on_ami_change else ["ami"]),
        )

        self.data_volume = None
        if validated.data_volume_gib:
            self.data_volume = aws.ebs.Volume(
                f"{name}-data",
                availability_zone=self.instance.availability_zone,
                size=validated.data_volume_gib,
                type="gp3",
                encrypted=True,
                kms_key_id=validated.kms_key_id,
                tags={**tags, "Name": f"{name}-data"},
                opts=pulumi.ResourceOptions(parent=self, protect=validated.protect, retain_on_delete=validated.retain_on_delete),
            )
            aws.ec2.VolumeAttachment(
                f"{name}-data-attachment",
                device_name="/dev/sdf",
                volume_id=self.data_volume.id,
                instance_id=self.instance.id,
                stop_instance_before_detaching=True,
                opts=child,
            )

        self.idle_alarm = None
        if validated.idle_stop_minutes:
            region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
            self.idle_alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-idle-stop",
                alarm_description=(
                    f"Stop GPU training box {name} when its CPU stays below {validated.idle_cpu_percent}% "
                    f"for {validated.idle_stop_minutes} minutes"
                ),
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions={"InstanceId": self.instance.id},
                statistic="Maximum",
                period=ALARM_PERIOD_SECONDS,
                evaluation_periods=validated.idle_stop_minutes * 60 // ALARM_PERIOD_SECONDS,
                threshold=validated.idle_cpu_percent,
                comparison_operator="LessThanThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[region.apply(lambda r: f"arn:aws:automate:{r}:ec2:stop")],
                tags=tags,
                opts=child,
            )

        self.instance_id = self.instance.id
        self.private_ip = self.instance.private_ip
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.ami_id = self.instance.ami
        self.register_outputs({
            "instanceId": self.instance_id,
            "privateIp": self.private_ip,
            "roleArn": self.role_arn,
            "gpu": {"model": self.gpu.gpu, "count": self.gpu.count, "memoryGib": self.gpu.memory_gib},
        })
