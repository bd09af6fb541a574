"""A cluster's platform add-ons with ``PlatformAddons`` (and, on AWS, the load balancer
controller's IRSA role with ``ControllerRole``).

Preview it offline:  ``mlplat preview --cwd examples/platform-addons --stack dev``
Deploy it:           ``pulumi config set --secret kubeconfig "$(cat ~/.kube/config)" && pulumi up --stack dev``

Every add-on is a Helm release of the chart version pinned in ``platform_lib.k8s.helm.CHARTS``,
in its own namespace; its values are checked against the chart's ``values.schema.json`` before
anything is registered. The platform's cluster stacks do the same with the cluster's outputs
(see docs/cluster.md); here the identifiers come from the stack's config.
"""

import pulumi
import pulumi_kubernetes as k8s

from platform_lib.aws.controller_roles import ControllerRole
from platform_lib.k8s.platform_addons import (
    LOAD_BALANCER_CONTROLLER_NAMESPACE,
    LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
    PlatformAddons,
)

config = pulumi.Config()
environment = pulumi.get_stack().removeprefix("gcp-")
production = environment == "prod"
cloud = config.require("cloud")
labels = {"team": "platform", "cost-center": config.require("costCenter"), "environment": environment}

# An explicit provider: the cluster is chosen by the stack's config, not by the current kubectl context.
cluster = k8s.Provider("cluster", kubeconfig=config.get_secret("kubeconfig"))
protection = pulumi.ResourceOptions(protect=production, retain_on_delete=production)

aws_args = {}
if cloud == "aws":
    # The AWS Load Balancer Controller's own role: only its ServiceAccount may assume it.
    controller_role = ControllerRole(
        "aws-load-balancer-controller",
        tags=labels,
        oidc_provider_arn=config.require("oidcProviderArn"),
        oidc_issuer=config.require("oidcIssuer"),
        namespace=LOAD_BALANCER_CONTROLLER_NAMESPACE,
        service_account=LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
        policy="aws-load-balancer-controller",
        vpc_id=config.require("vpcId"),
        opts=protection,
    )
    aws_args = {
        "region": pulumi.Config("aws").require("region"),
        "vpc_id": config.require("vpcId"),
        "load_balancer_controller_role_arn": controller_role.role_arn,
    }
    pulumi.export("loadBalancerControllerRoleArn", controller_role.role_arn)

addons = PlatformAddons(
    "platform",
    # The documented minimum: the cloud, the cluster's name and the standard labels (on AWS also
    # the region, VPC and the controller's role).
    cloud=cloud,
    cluster_name=config.require("clusterName"),
    labels=labels,
    **aws_args,
    # Typical additions: the cluster's GPU pools, where the collector exports, Grafana's password.
    gpu_node_pools=config.get_object("gpuNodePools"),
    otel_exporter_endpoint=config.get("otelExporterEndpoint"),
    grafana_admin_password=config.get_secret("grafanaAdminPassword"),
    prometheus_retention_days=config.get_int("prometheusRetentionDays") or 15,
    opts=pulumi.ResourceOptions.merge(protection, pulumi.ResourceOptions(provider=cluster)),
)

pulumi.export("otelCollectorEndpoint", addons.otel_collector_endpoint)
pulumi.export("prometheusNamespace", addons.prometheus_namespace)
pulumi.export("addonNamespaces", addons.namespaces)
pulumi.export("helmReleases", addons.releases)
