""":class:`GcpGpuTrainingBox` (``mlplat:gcp:GpuTrainingBox``): a GCE VM with GPUs for fine-tuning,
reachable through OS Login only.

What it registers (children of the component, named from its name, each with the caller's
options, and every labelable one with the standard labels):

- ``<name>-sa``: a dedicated service account. The VM never runs as the Compute Engine default
  service account, and its access scopes are Cloud Storage read-write, Logging write and
  Monitoring write, never ``cloud-platform``; IAM grants (the data bucket's ``grant_read(box.service_account)``)
  then decide which bucket and prefix it may touch.
- ``<name>-data`` (unless ``data_disk_gib`` is 0): a ``pd-balanced`` data disk, kept when the VM
  is replaced.
- ``<name>-vm``: the instance. Shielded VM (secure boot, vTPM, integrity monitoring), no external
  IP (no ``accessConfigs``), OS Login and blocked project SSH keys in metadata,
  ``onHostMaintenance: TERMINATE`` (VMs with GPUs cannot live-migrate; GCE docs "GPU machine
  types" / "Handle GPU host maintenance events"), optional Spot provisioning and ``maxRunDuration``.

The machine type and accelerators are checked against :data:`GCE_GPU_MACHINE_TYPES` before
anything is registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, overload

import pulumi
import pulumi_gcp as gcp
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from typing_extensions import TypedDict, Unpack

from ..core.component import Component, ComponentArgs
from ..core.inputs import Input, InputCheck
from ..core.tagging import require_standard_keys, with_managed_by
from . import KMS_KEY_PATTERN, letter_first


@dataclass(frozen=True)
class GpuOption:
    """An accelerator type and the counts a machine type allows.

    Attributes:
        accelerator: the GCE accelerator type (``nvidia-l4``).
        counts: the allowed GPU counts.
        max_vcpus: for N1 machine types, the most vCPUs allowed with each count.
        attached: True for accelerator-optimized types (A2, A3, G2): the GPUs come with the
            machine type and are not listed in ``guestAccelerators``.
    """

    accelerator: str
    counts: tuple[int, ...]
    max_vcpus: tuple[int, ...] = ()
    attached: bool = True


def _fixed(accelerator: str, count: int) -> GpuOption:
    return GpuOption(accelerator, (count,))


#: Accelerator-optimized machine types and the GPUs they come with. Source: Google Cloud,
#: Compute Engine docs, "GPU machine types" (A3, A2 and G2 tables), checked 2026-11.
GCE_GPU_MACHINE_TYPES: dict[str, GpuOption] = {
    **{f"a2-highgpu-{n}g": _fixed("nvidia-tesla-a100", n) for n in (1, 2, 4, 8)},
    "a2-megagpu-16g": _fixed("nvidia-tesla-a100", 16),
    **{f"a2-ultragpu-{n}g": _fixed("nvidia-a100-80gb", n) for n in (1, 2, 4, 8)},
    **{f"a3-highgpu-{n}g": _fixed("nvidia-h100-80gb", n) for n in (1, 2, 4, 8)},
    "a3-megagpu-8g": _fixed("nvidia-h100-mega-80gb", 8),
    "a3-ultragpu-8g": _fixed("nvidia-h200-141gb", 8),
    **{f"g2-standard-{v}": _fixed("nvidia-l4", 1) for v in (4, 8, 12, 16, 32)},
    "g2-standard-24": _fixed("nvidia-l4", 2),
    "g2-standard-48": _fixed("nvidia-l4", 4),
    "g2-standard-96": _fixed("nvidia-l4", 8),
}

#: GPUs that attach to N1 machine types, with the allowed counts and the most vCPUs per count.
#: Source: Compute Engine docs, "GPU machine types", "N1 general-purpose machine types" table.
N1_GPUS: dict[str, GpuOption] = {
    "nvidia-tesla-t4": GpuOption("nvidia-tesla-t4", (1, 2, 4), (48, 48, 96), attached=False),
    "nvidia-tesla-v100": GpuOption("nvidia-tesla-v100", (1, 2, 4, 8), (12, 24, 48, 96), attached=False),
    "nvidia-tesla-p100": GpuOption("nvidia-tesla-p100", (1, 2, 4), (16, 32, 96), attached=False),
    "nvidia-tesla-p4": GpuOption("nvidia-tesla-p4", (1, 2, 4), (24, 48, 96), attached=False),
}

_N1 = re.compile(r"^n1-(standard|highmem|highcpu)-(\d+)$")

#: The access scopes of the box's service account: what it may call at all; IAM decides the rest.
BOX_SCOPES = (
    "https://www.googleapis.com/auth/devstorage.read_write",
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring.write",
)

#: Deep Learning VM image family with CUDA (project ``deeplearning-platform-release``).
DEFAULT_IMAGE = "projects/deeplearning-platform-release/global/images/family/common-cu121-debian-11-py310"


class Accelerator(BaseModel):
    """A GPU type and count (``guestAccelerators``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(min_length=1)
    count: int = Field(ge=1, le=16)


def check_machine_type(machine_type: str) -> str:
    """Raise ``ValueError`` unless the machine type has GPUs or takes attached GPUs (N1)."""
    if machine_type in GCE_GPU_MACHINE_TYPES or _N1.match(machine_type):
        return machine_type
    families = "a2-highgpu-*, a2-megagpu-16g, a2-ultragpu-*, a3-highgpu-*, a3-megagpu-8g, a3-ultragpu-8g, g2-standard-*, or n1-* with an attached GPU"
    raise ValueError(f"a GPU machine type ({families}); {machine_type!r} has no GPUs")


def resolve_accelerator(machine_type: str, accelerator: Accelerator | None) -> tuple[Accelerator, bool]:
    """Check a machine type and accelerator pair against the GPU tables.

    Returns:
        The accelerator the VM gets, and whether it must be listed in ``guestAccelerators``.

    Raises:
        ValueError: the machine type has no GPUs, or the accelerator type or count is not one
            it allows; the message lists what would be accepted.
    """
    check_machine_type(machine_type)
    fixed = GCE_GPU_MACHINE_TYPES.get(machine_type)
    if fixed is not None:
        implied = Accelerator(type=fixed.accelerator, count=fixed.counts[0])
        if accelerator is not None and accelerator != implied:
            raise ValueError(f"no accelerator, or exactly {implied.count} x {implied.type}: {machine_type} comes with those GPUs")
        return implied, False
    match = _N1.match(machine_type)
    assert match is not None
    if accelerator is None:
        raise ValueError(f"an accelerator (type and count) for {machine_type}: N1 machine types get GPUs attached ({', '.join(N1_GPUS)})")
    option = N1_GPUS.get(accelerator.type)
    if option is None:
        raise ValueError(f"an accelerator type that attaches to N1 ({', '.join(N1_GPUS)}); got {accelerator.type!r}")
    if accelerator.count not in option.counts:
        raise ValueError(f"a count of {', '.join(map(str, option.counts))} for {option.accelerator} on N1 (GCE allows no other counts)")
    vcpus = int(match.group(2))
    limit = option.max_vcpus[option.counts.index(accelerator.count)]
    if vcpus > limit:
        raise ValueError(f"at most {limit} vCPUs with {accelerator.count} x {accelerator.type}; {machine_type} has {vcpus}")
    return accelerator, True


def _label_value(value: Any) -> Any:
    if not isinstance(value, str) or len(value) > 63 or value != value.lower() or not re.fullmatch(r"[\w-]*", value):
        raise ValueError("a label value: at most 63 lowercase letters, digits, '_' or '-' (Compute Engine docs, \"Labels\": requirements)")
    return value


Zone = Annotated[Input[str], InputCheck.matching(r"[a-z]+-[a-z]+\d+-[a-z]", "a zone such as europe-west4-a")]
NonEmpty = Annotated[Input[str], InputCheck.matching(r".+", "a non-empty string")]
ProjectId = Annotated[Input[str], InputCheck.matching(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", "a project id (6-30 lowercase letters, digits or '-', a letter first)")]
KmsKeyName = Annotated[Input[str], InputCheck.matching(KMS_KEY_PATTERN, "a Cloud KMS crypto key id (projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>)")]


class GcpGpuTrainingBoxArgs(ComponentArgs):
    """Arguments of :class:`GcpGpuTrainingBox`.

    The documented minimum is ``machine_type`` (plus ``accelerator`` for N1), ``zone``,
    ``subnetwork`` and ``labels`` (with ``team``, ``cost-center`` and ``environment``); with those
    the box passes every mandatory policy of the shipped policy pack at prod levels.

    Attributes:
        machine_type: a GCE machine type with GPUs (see :data:`GCE_GPU_MACHINE_TYPES`) or an
            N1 type with ``accelerator``.
        accelerator: the GPU type and count; required for N1, optional (must match) otherwise.
        zone: the zone (``europe-west4-a``; an Input); the GPU type must be offered there.
        subnetwork: the subnetwork, name or self link (an Input, e.g. a
            ``gcp.compute.Subnetwork``'s ``self_link``); reach the internet through Cloud NAT.
        project: the project id (an Input); ``None`` for the provider's project.
        image: the boot image (an Input; Deep Learning VM family by default).
        boot_disk_gib: boot disk size in GiB (at least 50: Deep Learning VM images need it).
        data_disk_gib: data disk size in GiB; 0 for none.
        kms_key_name: a Cloud KMS crypto key id for the disks (an Input; customer-managed
            encryption; see :data:`platform_lib.gcp.KMS_KEY_PATTERN`); ``None`` for
            Google-managed encryption.
        spot: Spot provisioning: cheaper, preemptible; the VM is stopped (not deleted) on preemption.
        max_run_hours: stop the VM after this many hours of running (``maxRunDuration``); 0 for no limit.
        labels: labels for the VM and the data disk: ``team``, ``cost-center`` and
            ``environment`` required (values may be Outputs); ``managed-by: pulumi`` is added.
        secure_boot: Shielded VM secure boot. Opt out only for an image whose GPU driver is
            not signed.
        deletion_protection: Compute Engine deletion protection on the VM. Off by default: the
            VM keeps no state of its own (the data disk is separate; protect the whole box with
            ``opts=pulumi.ResourceOptions(protect=True)``). The platform stacks turn it on where
            they protect resources (prod).
    """

    machine_type: str = Field(min_length=1)
    accelerator: Accelerator | None = Field(default=None, validate_default=True)
    zone: Zone
    subnetwork: NonEmpty
    project: ProjectId | None = None
    image: NonEmpty = DEFAULT_IMAGE
    boot_disk_gib: int = Field(default=150, ge=50, le=65536)
    data_disk_gib: int = Field(default=500, ge=0, le=65536)
    kms_key_name: KmsKeyName | None = None
    spot: bool = False
    max_run_hours: int = Field(default=0, ge=0, le=720)
    labels: Annotated[dict[str, Input[str]], InputCheck.for_values(_label_value)]
    secure_boot: bool = True
    deletion_protection: bool = False

    @field_validator("labels")
    @classmethod
    def _standard_labels(cls, labels: dict[str, Any]) -> dict[str, Any]:
        return dict(require_standard_keys(labels, "labels"))

    @field_validator("machine_type")
    @classmethod
    def _machine_type(cls, value: str) -> str:
        return check_machine_type(value)

    @field_validator("accelerator")
    @classmethod
    def _accelerator(cls, value: Accelerator | None, info: ValidationInfo) -> Accelerator | None:
        machine_type = info.data.get("machine_type")
        if machine_type is not None:  # else machine_type already failed and was reported
            resolve_accelerator(machine_type, value)
        return value


class GcpGpuTrainingBoxArgsDict(TypedDict, total=False):
    """The fields of :class:`GcpGpuTrainingBoxArgs` as keyword arguments."""

    machine_type: str
    accelerator: Accelerator | dict[str, Any] | None
    zone: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    project: pulumi.Input[str] | None
    image: pulumi.Input[str]
    boot_disk_gib: int
    data_disk_gib: int
    kms_key_name: pulumi.Input[str] | None
    spot: bool
    max_run_hours: int
    labels: dict[str, pulumi.Input[str]]
    secure_boot: bool
    deletion_protection: bool


def _account_id(name: str) -> str:
    """A service account id (6-30 characters, ``[a-z][-a-z0-9]*[a-z0-9]``) from the box name."""
    base = re.sub(r"[^a-z0-9-]", "-", name.lower())[:26].strip("-")
    return letter_first(f"{base}-box" if len(base) >= 2 else f"gpu-box-{base}".strip("-"))


class GcpGpuTrainingBox(Component[GcpGpuTrainingBoxArgs], type_token="mlplat:gcp:GpuTrainingBox"):
    """A GCE GPU VM for one team, with its own service account and no external IP.

    Construct it as ``GcpGpuTrainingBox(name, args, opts)`` or ``GcpGpuTrainingBox(name,
    machine_type=..., zone=..., subnetwork=..., labels=..., opts=opts)``. The caller's options
    (provider, ``protect``, ``retain_on_delete``, ``depends_on``) reach every child; the box
    protects nothing itself.

    Args:
        name: the logical name; children are ``<name>-sa``, ``<name>-data``, ``<name>-vm``.
        args: a :class:`GcpGpuTrainingBoxArgs` or a mapping of its fields.
        opts: resource options for the component.
        kwargs: the fields of :class:`GcpGpuTrainingBoxArgs`, instead of ``args``.

    Attributes:
        service_account: the box's ``gcp.serviceaccount.Account``; pass it to a data bucket's
            ``grant_read`` / ``grant_read_write``.
        instance: the ``gcp.compute.Instance``.
        data_disk: the ``gcp.compute.Disk`` or ``None`` (``data_disk_gib=0``).
        accelerator: the GPUs the VM gets (type and count), as validated.
        service_account_email, instance_name: ``Output[str]`` (registered outputs).

    Raises:
        ComponentArgsError: a non-GPU machine type, an accelerator count the machine type does
            not allow, or any other bad argument (nothing was registered); or, when an Output
            argument (``zone``, ``subnetwork``, ``project``, ``image``, ``kms_key_name``, a label
            value) arrives with a bad value, naming that argument.
    """

    service_account_email: pulumi.Output[str]
    instance_name: pulumi.Output[str]

    @overload
    def __init__(self, name: str, args: GcpGpuTrainingBoxArgs, opts: pulumi.ResourceOptions | None = None) -> None: ...
    @overload
    def __init__(self, name: str, args: None = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Unpack[GcpGpuTrainingBoxArgsDict]) -> None: ...
    def __init__(self, name: str, args: Any = None, opts: pulumi.ResourceOptions | None = None, **kwargs: Any) -> None:
        super().__init__(name, args, opts, **kwargs)

    def _create(self, name: str, args: GcpGpuTrainingBoxArgs) -> dict[str, Any]:
        self.accelerator, listed = resolve_accelerator(args.machine_type, args.accelerator)
        labels = with_managed_by(args.labels)
        self.service_account = self._service_account(name, args)
        self.data_disk = self._data_disk(name, args, labels) if args.data_disk_gib else None
        self.instance = self._instance(name, args, labels, listed)
        return {"service_account_email": self.service_account.email, "instance_name": self.instance.name}

    def _service_account(self, name: str, args: GcpGpuTrainingBoxArgs) -> gcp.serviceaccount.Account:
        """The VM's own identity: never the Compute Engine default service account."""
        return gcp.serviceaccount.Account(
            f"{name}-sa",
            account_id=_account_id(name),
            display_name=f"GPU training box {name}",
            description="Dedicated identity of an mlplat GPU training box; bucket access comes only from DataBucket grants.",
            project=args.project,
            opts=self.child_options(),
        )

    def _data_disk(self, name: str, args: GcpGpuTrainingBoxArgs, labels: dict[str, Any]) -> gcp.compute.Disk:
        """A ``pd-balanced`` disk in the VM's zone; it outlives the VM."""
        return gcp.compute.Disk(
            f"{name}-data",
            zone=args.zone,
            size=args.data_disk_gib,
            type="pd-balanced",
            labels=labels,
            disk_encryption_key={"kms_key_self_link": args.kms_key_name} if args.kms_key_name is not None else None,
            project=args.project,
            opts=self.child_options(),
        )

    @staticmethod
    def _scheduling(args: GcpGpuTrainingBoxArgs) -> dict[str, Any]:
        """Host maintenance TERMINATE (GPUs cannot live-migrate), Spot, and ``maxRunDuration``."""
        scheduling: dict[str, Any] = {
            "on_host_maintenance": "TERMINATE",
            "automatic_restart": not args.spot,
            "provisioning_model": "SPOT" if args.spot else "STANDARD",
            "preemptible": args.spot,
        }
        if args.spot or args.max_run_hours > 0:
            scheduling["instance_termination_action"] = "STOP"
        if args.max_run_hours:
            scheduling["max_run_duration"] = {"seconds": args.max_run_hours * 3600}
        return scheduling

    def _instance(self, name: str, args: GcpGpuTrainingBoxArgs, labels: dict[str, Any], listed: bool) -> gcp.compute.Instance:
        """The VM: Shielded, no external IP, OS Login, its own service account with narrow scopes."""
        attached_disks = [{"source": self.data_disk.self_link, "device_name": "data", "mode": "READ_WRITE"}] if self.data_disk else []
        return gcp.compute.Instance(
            f"{name}-vm",
            machine_type=args.machine_type,
            zone=args.zone,
            project=args.project,
            boot_disk={
                "initialize_params": {"image": args.image, "size": args.boot_disk_gib, "type": "pd-balanced"},
                **({"kms_key_self_link": args.kms_key_name} if args.kms_key_name is not None else {}),
            },
            attached_disks=attached_disks,
            guest_accelerators=[{"type": self.accelerator.type, "count": self.accelerator.count}] if listed else None,
            network_interfaces=[{"subnetwork": args.subnetwork}],
            scheduling=self._scheduling(args),
            shielded_instance_config={"enable_secure_boot": args.secure_boot, "enable_vtpm": True, "enable_integrity_monitoring": True},
            metadata={"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE", "install-nvidia-driver": "True"},
            service_account={"email": self.service_account.email, "scopes": list(BOX_SCOPES)},
            labels=labels,
            deletion_protection=args.deletion_protection,
            allow_stopping_for_update=True,
            opts=self.child_options(ignore_changes=["bootDisk.initializeParams.image"]),
        )
