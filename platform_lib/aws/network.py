"""The private VPC an :class:`~platform_lib.aws.eks_cluster.EksCluster` makes when it is given no subnets.

Not a public component: :func:`private_network` registers its resources as children of the
component that calls it (with that component's :meth:`~platform_lib.core.component.Component.child_options`),
named ``<name>-vpc``, ``<name>-private-<zone index>``, ...

What it registers, for ``zones`` availability zones (2 or 3) of the stack's region:

- ``aws.ec2.Vpc`` with DNS support and hostnames (both needed by interface endpoints' private DNS
  and by EKS; source: Amazon EKS User Guide, "View Amazon EKS networking requirements for VPC and subnets");
- per zone a **private** subnet (1/8 of the VPC range each, e.g. a /19 of a /16: the VPC CNI gives
  every pod a VPC address) tagged ``kubernetes.io/role/internal-elb=1`` and a small **public**
  subnet (a /22 of a /16) tagged ``kubernetes.io/role/elb=1`` that holds only the NAT gateway
  (source: AWS Load Balancer Controller docs, "Subnet auto-discovery"); no subnet maps public IPs;
- an internet gateway, an Elastic IP and NAT gateway per zone (or one, ``single_nat_gateway``),
  a public route table (``0.0.0.0/0`` to the internet gateway) and a private route table per zone
  (``0.0.0.0/0`` to its NAT gateway);
- VPC endpoints so nodes pull images and get credentials without the NAT: an S3 **gateway**
  endpoint on the private route tables (ECR image layers live in S3), and **interface**
  endpoints ``ecr.api``, ``ecr.dkr`` and ``sts`` (IRSA's ``AssumeRoleWithWebIdentity``) in the
  private subnets with private DNS, behind a security group admitting TCP 443 from the VPC only
  (source: Amazon EKS User Guide, "Deploy private clusters with limited internet access", required
  endpoints);
- VPC flow logs of all traffic to the CloudWatch log group ``/aws/vpc/<name>/flow-logs`` (KMS
  encrypted, the caller's retention), written by a role only the VPC Flow Logs service of this
  account may assume (source: AWS FSBP EC2.6 "VPC flow logging should be enabled in all VPCs";
  Amazon VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs").
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

import pulumi_aws as aws

__all__ = ["INTERFACE_ENDPOINTS", "PrivateNetwork", "flow_log_group_name", "private_network", "subnet_plan"]

#: The interface endpoints every private EKS VPC gets (service name suffix after ``com.amazonaws.<region>.``).
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts")


@dataclass(frozen=True)
class PrivateNetwork:
    """What :func:`private_network` registered."""

    vpc: aws.ec2.Vpc
    private_subnets: list[aws.ec2.Subnet]
    public_subnets: list[aws.ec2.Subnet]
    nat_gateways: list[aws.ec2.NatGateway]
    endpoints: list[aws.ec2.VpcEndpoint]
    flow_log: aws.ec2.FlowLog


def flow_log_group_name(name: str) -> str:
    """The CloudWatch log group of the VPC's flow logs: ``/aws/vpc/<name>/flow-logs``."""
    return f"/aws/vpc/{name}/flow-logs"


def subnet_plan(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """The private and public subnet CIDRs of a VPC: private ones are the first ``zones`` eighths of
    the range, public ones the first ``zones`` quarters of the last eighth.

    Args:
        vpc_cidr: an IPv4 network of prefix /16 to /20, e.g. ``10.40.0.0/16``.
        zones: 2 or 3.

    Returns:
        ``(private, public)``, e.g. for ``10.40.0.0/16`` and 3 zones:
        ``(["10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19"], ["10.40.224.0/21", "10.40.232.0/21", "10.40.240.0/21"])``.
    """
    network = ipaddress.IPv4Network(vpc_cidr)
    eighths = list(network.subnets(prefixlen_diff=3))
    public_pool = list(eighths[-1].subnets(prefixlen_diff=2))
    return [str(s) for s in eighths[:zones]], [str(s) for s in public_pool[:zones]]


def private_network(owner: Any, name: str, *, vpc_cidr: str, zones: int, single_nat_gateway: bool, tags: dict[str, Any],
                    log_key_arn: Any, log_retention_days: int) -> PrivateNetwork:
    """Register the VPC described in the module docstring as children of ``owner``.

    Args:
        owner: the component (a :class:`~platform_lib.core.component.Component`) the resources belong to.
        name: the prefix of every child's name.
        vpc_cidr: the VPC's IPv4 range (/16 to /20).
        zones: how many availability zones (2 or 3), the first ones ``aws.get_availability_zones`` lists.
        single_nat_gateway: one NAT gateway for all zones (cheaper, not zone-redundant) instead of one per zone.
        tags: the standard tags (``Name`` is added per resource).
        log_key_arn: the KMS key of the flow log group (its key policy must let CloudWatch Logs use
            it for :func:`flow_log_group_name`).
        log_retention_days: the flow log group's retention.

    Returns:
        The registered resources.
    """
    opts = owner.child_options
    names = aws.get_availability_zones_output(state="available", opts=owner.invoke_options()).names
    region = aws.get_region_output(opts=owner.invoke_options()).region
    private_cidrs, public_cidrs = subnet_plan(vpc_cidr, zones)

    def tagged(label: str, **extra: str) -> dict[str, Any]:
        return {**tags, "Name": f"{name}-{label}", **extra}

    vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=vpc_cidr, enable_dns_hostnames=True, enable_dns_support=True, tags=tagged("vpc"), opts=opts())
    gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tagged("igw"), opts=opts())
    public_table = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}], tags=tagged("public"), opts=opts())

    private_subnets, public_subnets, nats, private_tables = [], [], [], []
    for index in range(zones):
        zone = names.apply(lambda zone_names, i=index: zone_names[i])
        public = aws.ec2.Subnet(
            f"{name}-public-{index}", vpc_id=vpc.id, cidr_block=public_cidrs[index], availability_zone=zone,
            map_public_ip_on_launch=False, tags=tagged(f"public-{index}", **{"kubernetes.io/role/elb": "1"}), opts=opts(),
        )
        aws.ec2.RouteTableAssociation(f"{name}-public-{index}", subnet_id=public.id, route_table_id=public_table.id, opts=opts())
        private = aws.ec2.Subnet(
            f"{name}-private-{index}", vpc_id=vpc.id, cidr_block=private_cidrs[index], availability_zone=zone,
            map_public_ip_on_launch=False, tags=tagged(f"private-{index}", **{"kubernetes.io/role/internal-elb": "1"}), opts=opts(),
        )
        public_subnets.append(public)
        private_subnets.append(private)
        if index == 0 or not single_nat_gateway:
            address = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", tags=tagged(f"nat-{index}"), opts=opts())
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{index}", allocation_id=address.id, subnet_id=public.id, connectivity_type="public",
                tags=tagged(f"nat-{index}"), opts=opts(depends_on=[gateway]),
            ))
        table = aws.ec2.RouteTable(
            f"{name}-private-{index}", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nats[-1].id}],
            tags=tagged(f"private-{index}"), opts=opts(),
        )
        aws.ec2.RouteTableAssociation(f"{name}-private-{index}", subnet_id=private.id, route_table_id=table.id, opts=opts())
        private_tables.append(table)

    endpoint_group = aws.ec2.SecurityGroup(
        f"{name}-endpoints",
        vpc_id=vpc.id,
        description=f"{name}: VPC interface endpoints, HTTPS from inside the VPC only",
        ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": [vpc_cidr], "description": "HTTPS from the VPC"}],
        egress=[],
        tags=tagged("endpoints"),
        opts=opts(),
    )
    endpoints = [aws.ec2.VpcEndpoint(
        f"{name}-s3",
        vpc_id=vpc.id,
        service_name=region.apply(lambda r: f"com.amazonaws.{r}.s3"),
        vpc_endpoint_type="Gateway",
        route_table_ids=[t.id for t in private_tables],
        tags=tagged("s3"),
        opts=opts(),
    )]
    for service in INTERFACE_ENDPOINTS:
        endpoints.append(aws.ec2.VpcEndpoint(
            f"{name}-{service.replace('.', '-')}",
            vpc_id=vpc.id,
            service_name=region.apply(lambda r, s=service: f"com.amazonaws.{r}.{s}"),
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=[s.id for s in private_subnets],
            security_group_ids=[endpoint_group.id],
            tags=tagged(service.replace(".", "-")),
            opts=opts(),
        ))
    flow_log = _flow_log(owner, name, vpc, tags=tagged("flow-logs"), log_key_arn=log_key_arn, log_retention_days=log_retention_days)
    return PrivateNetwork(vpc, private_subnets, public_subnets, nats, endpoints, flow_log)


def _flow_log(owner: Any, name: str, vpc: aws.ec2.Vpc, *, tags: dict[str, Any], log_key_arn: Any, log_retention_days: int) -> aws.ec2.FlowLog:
    """Flow logs of all the VPC's traffic to an encrypted log group, through a role for the VPC Flow Logs service."""
    opts = owner.child_options
    group = aws.cloudwatch.LogGroup(f"{name}-flow-logs", name=flow_log_group_name(name), retention_in_days=log_retention_days,
                                    kms_key_id=log_key_arn, tags=tags, opts=opts())
    account = aws.get_caller_identity_output(opts=owner.invoke_options()).account_id
    role = aws.iam.Role(
        f"{name}-flow-logs",
        assume_role_policy=account.apply(lambda a: json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": a}}}]})),
        description=f"{name}: VPC Flow Logs writes to {flow_log_group_name(name)}",
        tags=tags,
        opts=opts(),
    )
    aws.iam.RolePolicy(
        f"{name}-flow-logs",
        role=role.name,
        policy=group.arn.apply(lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "WriteFlowLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
             "Resource": [arn, f"{arn}:*"]},
            {"Sid": "FindTheLogGroup", "Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ]})),
        opts=opts(),
    )
    return aws.ec2.FlowLog(f"{name}-flow-logs", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                           log_destination=group.arn, iam_role_arn=role.arn, max_aggregation_interval=600, tags=tags, opts=opts())

