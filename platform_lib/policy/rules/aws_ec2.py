"""EC2 policies for GPU training boxes (control ids: AWS Security Hub FSBP "controls for Amazon
EC2"; CIS AWS Foundations Benchmark v3.0 section 5; checkov)."""

from __future__ import annotations

from ...core.networks import covers_everything
from ..catalogue import resource_policy
from ..helpers import as_list, get

INSTANCE = ("aws:ec2/instance:Instance",)
LAUNCH_TEMPLATE = ("aws:ec2/launchTemplate:LaunchTemplate",)
VOLUME = ("aws:ebs/volume:Volume",)
SECURITY_GROUP = ("aws:ec2/securityGroup:SecurityGroup",)
SECURITY_GROUP_RULE = ("aws:ec2/securityGroupRule:SecurityGroupRule",)
INGRESS_RULE = ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",)

#: Remote administration ports: SSH (22) and RDP (3389).
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}


@resource_policy(
    "ec2-imdsv2-required",
    description="EC2 instances and launch templates require IMDSv2 (metadataOptions.httpTokens = required).",
    severity="high",
    remediation="Set metadataOptions.httpTokens to 'required' (and httpPutResponseHopLimit 1 or 2 for containers).",
    controls=("AWS FSBP EC2.8", "CKV_AWS_79"),
    types=INSTANCE + LAUNCH_TEMPLATE,
    tags=("ec2",),
)
def imdsv2_required(resource, config):
    tokens = get(resource.props, "metadataOptions", "httpTokens")
    if tokens != "required" and get(resource.props, "metadataOptions", "httpEndpoint") != "disabled":
        yield f"'{resource.name}' has metadataOptions.httpTokens {tokens or 'unset (IMDSv1 allowed)'}, not required"


@resource_policy(
    "ec2-no-public-ip",
    description="EC2 instances get no public IPv4 address.",
    severity="high",
    remediation="Set associatePublicIpAddress to false and place the instance in a private subnet; reach it through SSM Session Manager.",
    controls=("AWS FSBP EC2.9", "CKV_AWS_88"),
    types=INSTANCE + LAUNCH_TEMPLATE,
    tags=("ec2",),
)
def no_public_ip(resource, config):
    # An Instance takes associatePublicIpAddress itself (a bool); a LaunchTemplate only on each of
    # its networkInterfaces (a string "true"/"false") (source: InstanceArgs and
    # LaunchTemplateNetworkInterfaceArgs in pulumi_aws).
    if resource.type in INSTANCE:
        if get(resource.props, "associatePublicIpAddress") is True:
            yield f"'{resource.name}' sets associatePublicIpAddress"
        return
    for index, interface in enumerate(as_list(get(resource.props, "networkInterfaces"))):
        if str(get(interface, "associatePublicIpAddress")).lower() == "true":
            yield f"'{resource.name}' networkInterfaces[{index}] sets associatePublicIpAddress"


@resource_policy(
    "ec2-encrypted-volumes",
    description="Every EBS volume of an instance (root and data) and every standalone EBS volume is encrypted.",
    severity="high",
    remediation="Set rootBlockDevice.encrypted and each ebsBlockDevices[].encrypted to true (with kmsKeyId), or encrypted on aws.ebs.Volume.",
    controls=("AWS FSBP EC2.3", "CKV_AWS_8", "CKV_AWS_3"),
    types=INSTANCE + VOLUME + LAUNCH_TEMPLATE,
    tags=("ec2",),
)
def encrypted_volumes(resource, config):
    props = resource.props
    if resource.type in VOLUME:
        if get(props, "encrypted") is not True:
            yield f"volume '{resource.name}' is not encrypted"
        return
    if resource.type in LAUNCH_TEMPLATE:
        for index, mapping in enumerate(as_list(get(props, "blockDeviceMappings"))):
            if str(get(mapping, "ebs", "encrypted")).lower() != "true":
                yield f"'{resource.name}' blockDeviceMappings[{index}] ({get(mapping, 'deviceName', default='?')}) is not encrypted"
        return
    if get(props, "rootBlockDevice", "encrypted") is not True:
        yield f"'{resource.name}' rootBlockDevice is not encrypted"
    for index, device in enumerate(as_list(get(props, "ebsBlockDevices"))):
        if get(device, "encrypted") is not True:
            yield f"'{resource.name}' ebsBlockDevices[{index}] ({get(device, 'deviceName', default='?')}) is not encrypted"


@resource_policy(
    "ec2-instance-type-allowlist",
    description="EC2 instances use an instance type on the environment's allowlist (policy config allowedInstanceTypes).",
    severity="medium",
    remediation="Pick an allowed type (see policies/config/<env>.json) or ask the platform team to extend the allowlist with a budget.",
    controls=("AWS Well-Architected COST02-BP05",),
    types=INSTANCE + LAUNCH_TEMPLATE,
    config={"allowedInstanceTypes": {"type": "array", "items": {"type": "string"},
                                     "default": ["g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g6.xlarge", "p4d.24xlarge"]}},
    tags=("ec2", "cost"),
)
def instance_type_allowlist(resource, config):
    instance_type = get(resource.props, "instanceType")
    allowed = list(config.get("allowedInstanceTypes") or [])
    if instance_type is not None and instance_type not in allowed:
        yield f"'{resource.name}' uses instance type {instance_type}, not in the allowlist ({', '.join(allowed)})"


def _admin_ports_open(protocol, from_port, to_port) -> list[str]:
    """The admin ports (as "SSH (22)") a rule's protocol and port range reach.

    CIS AWS 5.2 / 5.3 count TCP (6), UDP (17) and all protocols (-1). Protocol ``-1`` means every
    port; a 0-0 range (unset ports) is read as every port too, erring on the strict side.
    """
    protocol = str(protocol).lower()
    if protocol not in ("tcp", "6", "udp", "17", "-1", "all"):
        return []
    try:
        low, high = int(float(from_port or 0)), int(float(to_port or 0))
    except (TypeError, ValueError):
        return []
    if protocol in ("-1", "all") or (low == 0 and high in (0, 65535)):
        low, high = 0, 65535
    return [f"{name} ({port})" for port, name in ADMIN_PORTS.items() if low <= port <= high]


@resource_policy(
    "ec2-no-admin-ports-from-anywhere",
    description="No security group rule opens SSH (22) or RDP (3389) over TCP, UDP or all protocols to 0.0.0.0/0 or ::/0, "
                "judging the union of the ranges (0.0.0.0/1 plus 128.0.0.0/1 is 0.0.0.0/0), also across a security group's ingress rules.",
    severity="critical",
    remediation="Remove the rule; use SSM Session Manager, or restrict the source to a bastion's security group or a VPN CIDR.",
    controls=("AWS FSBP EC2.13", "AWS FSBP EC2.14", "AWS FSBP EC2.53", "CIS AWS 5.2", "CIS AWS 5.3", "CKV_AWS_24", "CKV_AWS_25"),
    types=SECURITY_GROUP + SECURITY_GROUP_RULE + INGRESS_RULE,
    tags=("ec2",),
)
def no_admin_ports_from_anywhere(resource, config):
    props = resource.props
    if resource.type in SECURITY_GROUP:
        rules = [(f"ingress[{i}]", r, as_list(get(r, "cidrBlocks")) + as_list(get(r, "ipv6CidrBlocks"))) for i, r in enumerate(as_list(get(props, "ingress")))]
    elif resource.type in SECURITY_GROUP_RULE:
        if get(props, "type") != "ingress":
            return
        rules = [("rule", props, as_list(get(props, "cidrBlocks")) + as_list(get(props, "ipv6CidrBlocks")))]
    else:
        rules = [("rule", props, as_list(get(props, "cidrIpv4")) + as_list(get(props, "cidrIpv6")))]
    reaching: dict[str, list[tuple[str, list[str]]]] = {}  # admin port -> (rule label, its ranges)
    for label, rule, cidrs in rules:
        ports = _admin_ports_open(get(rule, "protocol") or get(rule, "ipProtocol"), get(rule, "fromPort"), get(rule, "toPort"))
        if not ports:
            continue
        for port in ports:
            reaching.setdefault(port, []).append((label, [str(c) for c in cidrs]))
        wide = [str(c) for c in cidrs if covers_everything([c])]
        if wide:
            yield f"'{resource.name}' {label} opens {', '.join(ports)} to {', '.join(wide)}"
        elif covers_everything(cidrs):
            yield f"'{resource.name}' {label} opens {', '.join(ports)} to {', '.join(covers_everything(cidrs))} ({', '.join(map(str, cidrs))} together)"
    # Several ingress rules of one security group, each narrower, may open a port to everything together.
    for port, entries in reaching.items():
        if len(entries) < 2 or any(covers_everything(cidrs) for _, cidrs in entries):
            continue
        anywhere = covers_everything([c for _, cidrs in entries for c in cidrs])
        if anywhere:
            yield f"'{resource.name}' {', '.join(label for label, _ in entries)} together open {port} to {', '.join(anywhere)}"
