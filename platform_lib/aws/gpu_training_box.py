""":class:`AwsGpuTrainingBox` (``mlplat:aws:GpuTrainingBox``): an EC2 GPU instance for fine-tuning,
reached through SSM only.

What it registers (children of the component, named from its name, each with the caller's
options, and every taggable one with the standard tags):

- ``<name>-role``, ``<name>-ssm-core`` and ``<name>-profile``: an IAM role for EC2 with only
  ``AmazonSSMManagedInstanceCore`` (Session Manager) attached, in an instance profile. Bucket
  access comes from the data bucket's ``grant_read(box.role, prefix=...)`` (a role policy per grant).
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

import ipaddress
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal, overload

import pulumi
import pulumi_aws as aws
from pydantic import Field, ValidationInfo, field_validator, model_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.inputs import Input, InputCheck
from ..core.tagging import require_standard_keys, with_managed_by


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


def _tag_value(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError("a tag value: a string of at most 256 characters (Amazon EC2 User Guide, \"Tag restrictions\")")
    return value


SubnetId = Annotated[Input[str], InputCheck.matching(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})", "a subnet id: 'subnet-' and 8 or 17 hex digits")]
VpcId = Annotated[Input[str], InputCheck.matching(r"vpc-[0-9a-f]{8,17}", "a VPC id (vpc-...)")]
AmiId = Annotated[Input[str], InputCheck.matching(r"ami-[0-9a-f]{8,17}", "an AMI id (ami-...)")]
SsmParameterName = Annotated[Input[str], InputCheck.matching(r"/[A-Za-z0-9_./-]+", "an SSM parameter name starting with / (e.g. /aws/service/...)")]
KmsKeyArn = Annotated[
    Input[str],
    InputCheck.matching(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}", "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>)"),
]


class AwsGpuTrainingBoxArgs(ComponentArgs):
    """Arguments of :class:`AwsGpuTrainingBox`.

    The documented minimum is ``instance_type``, ``subnet_id``, ``vpc_id`` and ``tags`` (with
    ``team``, ``cost-center`` and ``environment``); with those the box passes every mandatory
    policy of the shipped policy pack at prod levels.

    Attributes:
        instance_type: an EC2 GPU instance type (see :data:`EC2_GPU_INSTANCE_TYPES`), e.g. ``g5.xlarge``.
        subnet_id: a private subnet (``subnet-...``; an Input); it needs a NAT gateway or VPC
            endpoints for SSM (``ssm``, ``ssmmessages``, ``ec2messages``) and S3.
        vpc_id: the subnet's VPC (``vpc-...``; an Input), for the security group.
        root_volume_gib: root volume size in GiB (gp3, encrypted); at least 75 GiB, a platform floor
            so the DLAMI's CUDA stack, conda caches and containers fit.
        data_volume_gib: data volume size in GiB (gp3, encrypted); 0 for none.
        kms_key_id: a KMS key ARN for the volumes (an Input); ``None`` for the AWS managed ``aws/ebs`` key.
        spot: launch as a persistent Spot request.
        spot_interruption_behavior: what a Spot interruption does: ``stop`` (default; keeps the
            root volume), ``hibernate`` or ``terminate``.
        idle_stop_minutes: stop the instance after its CPU stays below ``idle_cpu_percent`` this
            many minutes (a multiple of 5, at least 15); 0 for no idle stop.
        idle_cpu_percent: the idle threshold, percent of CPU (maximum over each 5 minutes).
        ami_ssm_parameter: the SSM parameter holding the AMI id (an Input).
        ami_id: a fixed AMI id (``ami-...``; an Input) instead of the SSM parameter.
        replace_on_ami_change: replace the instance when the AMI changes (off: new AMIs apply
            only to new boxes).
        tags: tags for every taggable child: ``team``, ``cost-center`` and ``environment``
            required (values may be Outputs); ``managed-by: pulumi`` and ``Name`` are added.
        egress_https_cidrs: where the box may connect on TCP 443. Default ``0.0.0.0/0`` (through
            the subnet's NAT: package indexes, model hubs, SSM and S3 public endpoints); narrow it
            to the VPC CIDR when the VPC has SSM, S3 and STS endpoints and no internet is wanted.
        metadata_hop_limit: the IMDSv2 PUT response hop limit: 1 (default) keeps instance
            credentials on the host; 2 lets containers with bridge networking reach them (Amazon
            EC2 User Guide, "Configure the instance metadata options": hop limit 2 for containers).
        termination_protection: EC2 termination protection (``disable_api_termination``) on the
            instance. Off by default: the instance keeps no state of its own (the data volume is
            separate; protect the whole box with ``opts=pulumi.ResourceOptions(protect=True)``).
            The platform stacks turn it on where they protect resources (prod).
    """

    # Declared before instance_type, so its validator can see which AMI the box boots.
    ami_ssm_parameter: SsmParameterName = DEFAULT_AMI_PARAMETER
    ami_id: AmiId | None = None
    instance_type: str
    subnet_id: SubnetId
    vpc_id: VpcId
    root_volume_gib: int = Field(default=150, ge=75, le=16384)
    data_volume_gib: int = Field(default=500, ge=0, le=16384)
    kms_key_id: KmsKeyArn | None = None
    spot: bool = False
    spot_interruption_behavior: Literal["stop", "hibernate", "terminate"] = "stop"
    idle_stop_minutes: int = Field(default=60, ge=0, le=1440)
    idle_cpu_percent: float = Field(default=5.0, gt=0, lt=100)
    replace_on_ami_change: bool = False
    tags: Annotated[dict[str, Input[str]], InputCheck.for_values(_tag_value)]
    egress_https_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    metadata_hop_limit: Literal[1, 2] = 1
    termination_protection: bool = False

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
    def _standard_tags(cls, tags: dict[str, Any]) -> dict[str, Any]:
        return dict(require_standard_keys(tags, "tags"))

    @field_validator("egress_https_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: list[str]) -> list[str]:
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
    def _spot(self) -> "AwsGpuTrainingBoxArgs":
        if self.spot_interruption_behavior != "stop" and not self.spot:
            raise ValueError("spot_interruption_behavior only with spot=True")
        return self

    @property
    def gpu(self) -> GpuInstance:
        """The instance type's GPUs: model, count and GiB per GPU (from :data:`EC2_GPU_INSTANCE_TYPES`)."""
        return EC2_GPU_INSTANCE_TYPES[self.instance_type]


class AwsGpuTrainingBoxArgsDict(TypedDict, total=False):
    """The fields of :class:`AwsGpuTrainingBoxArgs` as keyword arguments."""

    ami_ssm_parameter: pulumi.Input[str]
    ami_id: pulumi.Input[str] | None
    instance_type: str
    subnet_id: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    root_volume_gib: int
    data_volume_gib: int
    kms_key_id: pulumi.Input[str] | None
    spot: bool
    spot_interruption_behavior: Literal["stop", "hibernate", "terminate"]
    idle_stop_minutes: int
    idle_cpu_percent: float
    replace_on_ami_change: bool
    tags: dict[str, pulumi.Input[str]]
    egress_https_cidrs: list[str]
    metadata_hop_limit: Literal[1, 2]
    termination_protection: bool


def ec2_assume_role_policy() -> str:
    """The trust policy letting EC2 assume the box's role, as JSON."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    })


class AwsGpuTrainingBox(Component[AwsGpuTrainingBoxArgs], type_token="mlplat:aws:GpuTrainingBox"):
    """An EC2 GPU instance for one team: private, SSM-only, encrypted, idle-stopped.

    Construct it as ``AwsGpuTrainingBox(name, args, opts)`` or ``AwsGpuTrainingBox(name,
    instance_type=..., subnet_id=..., vpc_id=..., tags=..., opts=opts)``. The caller's options
    (provider, ``protect``, ``retain_on_delete``, ``depends_on``) reach every child; the box
    protects nothing itself.

    Args:
        name: the logical name; children are ``<name>-role``, ``<name>-instance``, ...
        args: an :class:`AwsGpuTrainingBoxArgs` or a mapping of its fields.
        opts: resource options for the component.
        kwargs: the fields of :class:`AwsGpuTrainingBoxArgs`, instead of ``args``.

    Attributes:
        role: the instance's ``aws.iam.Role``; pass it to a data bucket's ``grant_read`` /
            ``grant_read_write``.
        instance_profile: the ``aws.iam.InstanceProfile`` holding the role.
        instance: the ``aws.ec2.Instance``.
        security_group: the ``aws.ec2.SecurityGroup`` (no ingress).
        data_volume: the ``aws.ebs.Volume`` or ``None`` (``data_volume_gib=0``).
        idle_alarm: the ``aws.cloudwatch.MetricAlarm`` or ``None`` (``idle_stop_minutes=0``).
        gpu: the instance type's GPUs (:class:`GpuInstance`).
        instance_id, private_ip, role_arn, role_name, ami_id: ``Output[str]`` (registered outputs).

    Raises:
        ComponentArgsError: a non-GPU instance type or any other bad argument (nothing was
            registered); or, when an Output argument (``subnet_id``, ``vpc_id``, ``ami_id``,
            ``kms_key_id``, a tag value) arrives with a bad value, naming that argument.
    """

    instance_id: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    ami_id: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: AwsGpuTrainingBoxArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[AwsGpuTrainingBoxArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: AwsGpuTrainingBoxArgs) -> dict[str, Any]:
        self.gpu = args.gpu
        tags = {**with_managed_by(args.tags), "Name": name}
        self.role, self.instance_profile = self._role(name, tags)
        self.security_group = self._security_group(name, args, tags)
        self.instance = self._instance(name, args, tags)
        self.data_volume = self._data_volume(name, args, tags) if args.data_volume_gib else None
        self.idle_alarm = self._idle_alarm(name, args, tags) if args.idle_stop_minutes else None
        return {
            "instance_id": self.instance.id,
            "private_ip": self.instance.private_ip,
            "role_arn": self.role.arn,
            "role_name": self.role.name,
            "ami_id": self.instance.ami,
        }

    def _role(self, name: str, tags: dict[str, Any]) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
        """The instance's role (EC2 trust, Session Manager only) and its instance profile."""
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=ec2_assume_role_policy(),
            description=f"GPU training box {name}: Session Manager plus its DataBucket grants only",
            max_session_duration=3600,
            tags=tags,
            opts=self.child_options(),
        )
        aws.iam.RolePolicyAttachment(f"{name}-ssm-core", role=role.name, policy_arn=SSM_CORE_POLICY, opts=self.child_options())
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, tags=tags, opts=self.child_options())
        return role, profile

    def _security_group(self, name: str, args: AwsGpuTrainingBoxArgs, tags: dict[str, Any]) -> aws.ec2.SecurityGroup:
        """No inbound rules (Session Manager, not SSH); outbound TCP 443 to ``egress_https_cidrs`` only."""
        return aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"GPU training box {name}: no inbound (Session Manager), outbound HTTPS only",
            ingress=[],
            egress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": list(args.egress_https_cidrs), "description": "HTTPS to SSM, S3 and package mirrors"}],
            tags=tags,
            opts=self.child_options(),
        )

    def _ami(self, args: AwsGpuTrainingBoxArgs) -> pulumi.Input[str]:
        """``ami_id``, else the AMI id in the ``ami_ssm_parameter`` SSM parameter (an invoke)."""
        if args.ami_id is not None:
            return args.ami_id
        return aws.ssm.get_parameter_output(name=args.ami_ssm_parameter, opts=self.invoke_options()).value

    def _instance(self, name: str, args: AwsGpuTrainingBoxArgs, tags: dict[str, Any]) -> aws.ec2.Instance:
        """The instance: private, IMDSv2, encrypted gp3 root volume, optionally on Spot."""
        market = None
        if args.spot:
            spot_type = "one-time" if args.spot_interruption_behavior == "terminate" else "persistent"
            market = {"market_type": "spot", "spot_options": {"instance_interruption_behavior": args.spot_interruption_behavior, "spot_instance_type": spot_type}}
        return aws.ec2.Instance(
            f"{name}-instance",
            ami=self._ami(args),
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[self.security_group.id],
            associate_public_ip_address=False,
            iam_instance_profile=self.instance_profile.name,
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled", "http_put_response_hop_limit": args.metadata_hop_limit, "instance_metadata_tags": "disabled"},
            root_block_device={
                "volume_size": args.root_volume_gib,
                "volume_type": "gp3",
                "encrypted": True,
                "delete_on_termination": True,
                "tags": {**tags, "Name": f"{name}-root"},
                **({"kms_key_id": args.kms_key_id} if args.kms_key_id is not None else {}),
            },
            instance_market_options=market,
            hibernation=args.spot and args.spot_interruption_behavior == "hibernate",
            disable_api_termination=args.termination_protection,
            instance_initiated_shutdown_behavior="stop",
            monitoring=False,
            # Root volume tags go in root_block_device: the provider documents that volume_tags
            # fights the tags of a separately attached aws.ebs.Volume (the data volume).
            tags=tags,
            opts=self.child_options(ignore_changes=[] if args.replace_on_ami_change else ["ami"]),
        )

    def _data_volume(self, name: str, args: AwsGpuTrainingBoxArgs, tags: dict[str, Any]) -> aws.ebs.Volume:
        """An encrypted gp3 volume in the instance's zone, attached as ``/dev/sdf``; it outlives the instance."""
        volume = aws.ebs.Volume(
            f"{name}-data",
            availability_zone=self.instance.availability_zone,
            size=args.data_volume_gib,
            type="gp3",
            encrypted=True,
            kms_key_id=args.kms_key_id,
            tags={**tags, "Name": f"{name}-data"},
            opts=self.child_options(),
        )
        aws.ec2.VolumeAttachment(
            f"{name}-data-attachment",
            device_name="/dev/sdf",
            volume_id=volume.id,
            instance_id=self.instance.id,
            stop_instance_before_detaching=True,
            opts=self.child_options(),
        )
        return volume

    def _idle_alarm(self, name: str, args: AwsGpuTrainingBoxArgs, tags: dict[str, Any]) -> aws.cloudwatch.MetricAlarm:
        """A CloudWatch alarm whose action stops the instance when its CPU stays idle."""
        region = aws.get_region_output(opts=self.invoke_options()).region
        return aws.cloudwatch.MetricAlarm(
            f"{name}-idle-stop",
            alarm_description=f"Stop GPU training box {name} when its CPU stays below {args.idle_cpu_percent}% for {args.idle_stop_minutes} minutes",
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            dimensions={"InstanceId": self.instance.id},
            statistic="Maximum",
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=args.idle_stop_minutes * 60 // ALARM_PERIOD_SECONDS,
            threshold=args.idle_cpu_percent,
            comparison_operator="LessThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[region.apply(lambda r: f"arn:aws:automate:{r}:ec2:stop")],
            tags=tags,
            opts=self.child_options(),
        )
