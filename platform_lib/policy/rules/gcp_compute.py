"""Compute Engine policies for GPU training boxes (control ids: CIS Google Cloud Platform
Foundation Benchmark v2.0 section 4; checkov's GCP policy index)."""

from __future__ import annotations

from ..catalogue import ADVISORY_IN_DEV, resource_policy
from ..helpers import as_list, get

INSTANCE = ("gcp:compute/instance:Instance", "gcp:compute/instanceTemplate:InstanceTemplate")
CLOUD_PLATFORM_SCOPES = ("cloud-platform", "https://www.googleapis.com/auth/cloud-platform")
#: Accelerator-optimized machine families, which carry GPUs without guestAccelerators
#: (source: Compute Engine docs, "Accelerator-optimized machine family").
ACCELERATOR_MACHINE_PREFIXES = ("a2-", "a3-", "a4-", "g2-", "g4-")


def _metadata_flag(props, key: str) -> str:
    return str(get(props, "metadata", key, default="")).strip().lower()


@resource_policy(
    "gce-no-external-ip",
    description="Compute Engine instances have no external IP address (no accessConfigs on any network interface).",
    severity="high",
    remediation="Remove accessConfigs from networkInterfaces; use Cloud NAT for egress and IAP TCP forwarding for access.",
    controls=("CIS GCP 4.9", "CKV_GCP_40"),
    types=INSTANCE,
    tags=("gce",),
)
def no_external_ip(resource, config):
    for index, interface in enumerate(as_list(get(resource.props, "networkInterfaces"))):
        if as_list(get(interface, "accessConfigs")) or as_list(get(interface, "ipv6AccessConfigs")):
            yield f"'{resource.name}' networkInterfaces[{index}] has an external access config"


@resource_policy(
    "gce-shielded-vm",
    description="Compute Engine instances run as Shielded VMs: secure boot, vTPM and integrity monitoring on.",
    severity="medium",
    remediation="Set shieldedInstanceConfig.enableSecureBoot true and leave enableVtpm and enableIntegrityMonitoring true; use a Shielded VM image.",
    controls=("CIS GCP 4.8", "CKV_GCP_39"),
    types=INSTANCE,
    tags=("gce",),
)
def shielded_vm(resource, config):
    shielded = get(resource.props, "shieldedInstanceConfig", default={})
    off = [f for f in ("enableSecureBoot",) if get(shielded, f) is not True]
    off += [f for f in ("enableVtpm", "enableIntegrityMonitoring") if get(shielded, f) is False]
    if off:
        yield f"'{resource.name}' shieldedInstanceConfig does not enable {', '.join(off)}"


@resource_policy(
    "gce-no-default-service-account",
    description="Compute Engine instances run as a dedicated service account, not the Compute Engine default one.",
    severity="high",
    remediation="Create a gcp.serviceaccount.Account for the box with only the roles it needs and set serviceAccount.email to it.",
    controls=("CIS GCP 4.1", "CKV_GCP_30"),
    types=INSTANCE,
    tags=("gce",),
)
def no_default_service_account(resource, config):
    email = get(resource.props, "serviceAccount", "email")
    if email is None or email == "default" or str(email).endswith("-compute@developer.gserviceaccount.com"):
        yield f"'{resource.name}' runs as the Compute Engine default service account"


@resource_policy(
    "gce-no-cloud-platform-scope",
    description="Compute Engine instances do not request the cloud-platform (all Cloud APIs) access scope.",
    severity="high",
    remediation="Request narrow scopes (devstorage.read_only, logging.write, monitoring.write) and grant IAM roles to the service account.",
    controls=("CIS GCP 4.2", "CKV_GCP_31"),
    types=INSTANCE,
    tags=("gce",),
)
def no_cloud_platform_scope(resource, config):
    scopes = [str(s) for s in as_list(get(resource.props, "serviceAccount", "scopes"))]
    if any(s in CLOUD_PLATFORM_SCOPES for s in scopes):
        yield f"'{resource.name}' requests the cloud-platform scope"


@resource_policy(
    "gce-os-login-enabled",
    description="Compute Engine instances enable OS Login (metadata enable-oslogin = TRUE).",
    severity="medium",
    remediation="Set metadata['enable-oslogin'] = 'TRUE' and grant roles/compute.osLogin to the team's group.",
    controls=("CIS GCP 4.4", "CKV_GCP_34"),
    types=INSTANCE,
    tags=("gce",),
)
def os_login_enabled(resource, config):
    if _metadata_flag(resource.props, "enable-oslogin") != "true":
        yield f"'{resource.name}' does not set metadata enable-oslogin to TRUE"


@resource_policy(
    "gce-block-project-ssh-keys",
    description="Compute Engine instances block project-wide SSH keys (metadata block-project-ssh-keys = TRUE).",
    severity="medium",
    remediation="Set metadata['block-project-ssh-keys'] = 'TRUE'; with OS Login no SSH keys in metadata are needed.",
    controls=("CIS GCP 4.3", "CKV_GCP_32"),
    types=INSTANCE,
    levels=ADVISORY_IN_DEV,
    tags=("gce",),
)
def block_project_ssh_keys(resource, config):
    if _metadata_flag(resource.props, "block-project-ssh-keys") != "true":
        yield f"'{resource.name}' does not set metadata block-project-ssh-keys to TRUE"


@resource_policy(
    "gce-no-serial-port-access",
    description="Compute Engine instances do not enable interactive serial port access.",
    severity="medium",
    remediation="Remove metadata serial-port-enable or set it to FALSE.",
    controls=("CIS GCP 4.5", "CKV_GCP_35"),
    types=INSTANCE,
    tags=("gce",),
)
def no_serial_port(resource, config):
    if _metadata_flag(resource.props, "serial-port-enable") in ("true", "1"):
        yield f"'{resource.name}' enables serial port access"


def has_accelerators(props) -> bool:
    """Whether the instance has GPUs: guestAccelerators, or an accelerator-optimized machine type."""
    if any(int(float(get(a, "count", default=0))) > 0 for a in as_list(get(props, "guestAccelerators"))):
        return True
    return str(get(props, "machineType", default="")).startswith(ACCELERATOR_MACHINE_PREFIXES)


@resource_policy(
    "gce-gpu-terminate-on-host-maintenance",
    description="Compute Engine instances with GPUs set scheduling.onHostMaintenance to TERMINATE (GPU VMs cannot live-migrate).",
    severity="high",
    remediation="Set scheduling.onHostMaintenance = 'TERMINATE' (and automaticRestart true) on GPU instances.",
    controls=("Compute Engine docs: GPU host maintenance (onHostMaintenance TERMINATE)",),
    types=INSTANCE,
    tags=("gce",),
)
def gpu_terminate_on_maintenance(resource, config):
    if has_accelerators(resource.props) and get(resource.props, "scheduling", "onHostMaintenance") != "TERMINATE":
        found = get(resource.props, "scheduling", "onHostMaintenance") or "unset (MIGRATE)"
        yield f"'{resource.name}' has GPUs but scheduling.onHostMaintenance is {found}"


@resource_policy(
    "gce-machine-type-allowlist",
    description="Compute Engine instances use a machine type on the environment's allowlist (policy config allowedMachineTypes).",
    severity="medium",
    remediation="Pick an allowed machine type (see policies/config/<env>.json) or ask the platform team to extend the allowlist with a budget.",
    controls=("Google Cloud Architecture Framework: cost optimization (cost controls)",),
    types=INSTANCE,
    config={"allowedMachineTypes": {"type": "array", "items": {"type": "string"},
                                    "default": ["n1-standard-8", "g2-standard-8", "a2-highgpu-1g"]}},
    tags=("gce", "cost"),
)
def machine_type_allowlist(resource, config):
    machine_type = get(resource.props, "machineType")
    allowed = list(config.get("allowedMachineTypes") or [])
    if machine_type is not None and str(machine_type).rsplit("/", 1)[-1] not in allowed:
        yield f"'{resource.name}' uses machine type {machine_type}, not in the allowlist ({', '.join(allowed)})"
