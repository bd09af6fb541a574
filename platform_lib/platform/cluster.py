"""The cluster layer: one cluster stack per environment (project ``ml-platform-cluster``, ``clusters/``).

``clusters/__main__.py`` calls :func:`load_cluster_config` and :func:`build_cluster`. A cluster
stack makes the Kubernetes cluster (:class:`~platform_lib.aws.eks_cluster.EksCluster` on AWS,
:class:`~platform_lib.gcp.gke_cluster.GkeCluster` and its VPC on GCP), the platform's add-ons on it
(:class:`~platform_lib.k8s.platform_addons.PlatformAddons`, with the AWS Load Balancer
Controller's IRSA role, :class:`~platform_lib.aws.controller_roles.ControllerRole`), and exports
the outputs contract the platform and team stacks read with
:func:`~platform_lib.platform.cluster_reference.reference_cluster` (see ``docs/cluster.md``).

Its config is in the ``mlplat`` namespace, camelCase, like the platform stacks'::

    mlplat:environment: prod
    mlplat:region: us-east-1
    mlplat:tags: {team: ml-platform, cost-center: cc-4100}
    mlplat:clusterName: ml-prod
    mlplat:eks: {platformAdminRoleArn: ..., gpuNodeGroups: [...]}   # EksCluster's arguments (AWS)
    mlplat:gke: {location: ..., gpuPools: [...]}                      # GkeCluster's arguments (GCP)
    mlplat:gcpNetwork: {subnetCidr: ..., podsCidr: ..., servicesCidr: ...}
    mlplat:addons: {prometheusStorageGib: 200}                       # PlatformAddons' arguments
    mlplat:observability: {platformReceivers: [...], ...}             # ObservabilityStack's arguments

The ``eks``, ``gke`` and ``addons`` blocks are the components' own arguments with camelCase keys;
what the stack decides itself (tags, names, the cluster's identity for the add-ons) is not set
there. Every block is validated by the component's own argument model before anything is
registered, and a problem is reported at its config key (``mlplat:eks.gpuNodeGroups[0].instanceTypes``).
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Collection, Mapping

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pydantic
from pydantic import BaseModel, Field, field_validator
from pydantic.alias_generators import to_camel, to_snake

from ..aws.controller_roles import ControllerRole
from ..aws.eks_cluster import EksCluster
from ..core.errors import ComponentArgsError, ConfigError, Issue, issues_from_validation_error
from ..core.secrets import SECRET_PLACEHOLDER
from ..gcp.gke_cluster import GkeCluster
from ..k8s.observability import ObservabilityStack, platform_addons_values
from ..k8s.platform_addons import DEFAULT_NAMESPACES, LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, PlatformAddons, deep_merge
from .config import NAMESPACE, Cloud, Model, StackSettings, parse_config_strings, _in_program, _stack_config_values, aws_region_issues

__all__ = ["ClusterStackConfig", "GcpNetwork", "build_cluster", "cluster_component_args", "load_cluster_config", "parse_cluster_config", "team_routed_namespaces"]

#: The AWS Load Balancer Controller add-on's name in :class:`PlatformAddons` (``enabled``, ``namespaces``).
_LB_CONTROLLER = "aws-load-balancer-controller"
#: Syntactically valid stand-ins for values only known once the cluster exists, used to check the
#: add-ons' and the controller role's other arguments before anything is registered (the real
#: Outputs are checked again when they arrive).
_PLACEHOLDERS = {
    "oidc_provider_arn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/00000000000000000000000000000000",
    "oidc_issuer": "oidc.eks.us-east-1.amazonaws.com/id/00000000000000000000000000000000",
    "vpc_id": "vpc-00000000",
    "role_arn": "arn:aws:iam::123456789012:role/placeholder",
}


class GcpNetwork(Model):
    """The VPC a GCP cluster stack makes for its GKE cluster: one regional subnetwork for the nodes
    with secondary ranges for Pods and Services, Private Google Access, flow logs, and Cloud NAT
    (the nodes have no external address).

    Attributes:
        subnet_cidr: the nodes' range (e.g. ``10.10.0.0/20``).
        pods_cidr: the Pods' secondary range (e.g. ``10.64.0.0/14``).
        services_cidr: the Services' secondary range (e.g. ``10.68.0.0/20``).
    """

    subnet_cidr: str = "10.10.0.0/20"
    pods_cidr: str = "10.64.0.0/14"
    services_cidr: str = "10.68.0.0/20"

    @field_validator("subnet_cidr", "pods_cidr", "services_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        import ipaddress

        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise ValueError("an IPv4 CIDR block with no host bits set, e.g. 10.10.0.0/20") from None
        if not network.is_private:
            raise ValueError("a private (RFC 1918) range")
        return value


class ClusterStackConfig(StackSettings):
    """The ``mlplat`` namespace of one cluster stack (``clusters/Pulumi.<stack>.yaml``).

    Attributes:
        environment: dev, staging or prod (prod protects and retains the cluster and its network).
        cloud: ``aws`` (EKS) or ``gcp`` (GKE).
        region: the cloud region.
        tags: the standard tags' team and cost center (``environment`` and ``managed-by`` are added).
        protect: protect the cluster and its network from deletion; defaults to on in prod.
        retain_on_delete: keep them in the cloud when they leave the program; defaults to on in prod.
        cluster_name: the cluster's name (EKS/GKE), a DNS label of at most 40 characters; default
            ``ml-<environment>``. The cluster components are named by it.
        eks: :class:`~platform_lib.aws.eks_cluster.EksCluster`'s arguments, camelCase (AWS); not
            ``tags`` or ``clusterName``. ``deletionProtection`` defaults to on in prod.
        gke: :class:`~platform_lib.gcp.gke_cluster.GkeCluster`'s arguments, camelCase (GCP); not
            ``labels``, ``project``, ``network``, ``subnetwork``, ``subnetCidr`` or the Pods' and
            Services' ranges (they come from ``gcpNetwork``). ``deletionProtection`` defaults to
            on in prod only.
        gcp_network: the VPC of a GCP cluster (:class:`GcpNetwork`).
        addons: :class:`~platform_lib.k8s.platform_addons.PlatformAddons`' arguments, camelCase;
            not ``cloud``, ``clusterName``, ``labels``, ``region``, ``vpcId``,
            ``loadBalancerControllerRoleArn`` or ``gpuNodePools`` (they come from the cluster).
        observability: :class:`~platform_lib.k8s.observability.ObservabilityStack`'s arguments,
            camelCase (``platformReceivers`` with each ``secret`` a ``secure:`` value, ``unitPrices``,
            ``gpuMetrics``, ``idleGpuUtilizationPercent``, ``tracing``, ``logs``...); not
            ``labels`` or ``gpuNodePools`` (from the cluster), ``teams``, ``endpoints`` or
            ``teamRoutedNamespaces`` (the team stacks' ``TeamObservability`` holds a team's
            pieces; the routed namespaces come from ``teams/*.yaml``). Absent: no observability
            stack, PlatformAddons as configured.
    """

    cluster_name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
    eks: dict[str, Any] | None = None
    gke: dict[str, Any] | None = None
    gcp_network: GcpNetwork | None = None
    addons: dict[str, Any] = Field(default_factory=dict)
    observability: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The cluster's name: ``cluster_name``, else ``ml-<environment>``."""
        return self.cluster_name or f"ml-{self.environment.value}"



# --- camelCase config blocks to component arguments --------------------------------------------

#: Fields of each component the stack sets itself, with the config key they come from.
_SET_BY_STACK: dict[str, dict[str, str]] = {
    "eks": {"tags": "tags", "cluster_name": "clusterName"},
    "gke": {"labels": "tags", "project": "gcp:project", "network": "gcpNetwork", "subnetwork": "gcpNetwork", "subnet_cidr": "gcpNetwork.subnetCidr",
            "pods_cidr": "gcpNetwork.podsCidr", "services_cidr": "gcpNetwork.servicesCidr", "pods_range_name": "gcpNetwork", "services_range_name": "gcpNetwork"},
    "addons": {"cloud": "cloud", "cluster_name": "clusterName", "labels": "tags", "region": "region", "vpc_id": "eks",
               "load_balancer_controller_role_arn": "eks", "gpu_node_pools": "eks"},
    "observability": {"labels": "tags", "gpu_node_pools": "eks", "teams": "teams/<team>.yaml", "endpoints": "teams/<team>.yaml",
                      "team_routed_namespaces": "teams/<team>.yaml"},
}


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation names (through Optional, Annotated, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    if typing.get_origin(annotation) in (list, dict, tuple, set, frozenset):
        return []  # a container's models are reached through its items (_converted)
    for argument in typing.get_args(annotation):
        found.extend(_models_in(argument))
    return found


def _converted(value: Any, annotation: Any) -> Any:
    """``value`` (from YAML) with the camelCase keys of the models ``annotation`` names in snake_case;
    data keys (labels, Helm values, add-on names) are left as they are."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _converted(value, typing.get_args(annotation)[0])
    if isinstance(value, list):
        element = next((a for a in _flatten_union(annotation) if typing.get_origin(a) is list), None)
        return [_converted(item, typing.get_args(element)[0]) for item in value] if element is not None else value
    if isinstance(value, dict):
        models = _models_in(annotation)
        if models:
            return snake_case_keys(value, models[0])
        mapping = next((a for a in _flatten_union(annotation) if typing.get_origin(a) is dict), None)
        if mapping is not None and len(typing.get_args(mapping)) == 2:
            return {key: _converted(item, typing.get_args(mapping)[1]) for key, item in value.items()}
    return value


def _flatten_union(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        return _flatten_union(typing.get_args(annotation)[0])
    arguments = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    if arguments:
        return [a for argument in arguments for a in _flatten_union(argument)]
    return [annotation]


def snake_case_keys(values: Mapping[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """A config block (camelCase keys) as the snake_case fields of ``model`` (recursively, for
    nested models). A key that is no field of the model is kept as it is, so the model refuses it
    by the name the config gave."""
    fields = model.model_fields
    converted: dict[str, Any] = {}
    for key, item in values.items():
        snake = to_snake(key) if isinstance(key, str) else key
        if snake in fields and (snake == key or key not in fields):
            converted[snake] = _converted(item, fields[snake].annotation)
        else:
            converted[key] = item
    return converted


def _config_path(block: str, component_path: str) -> str:
    """``EksCluster(ml-prod).gpu_node_groups[0].instance_types`` as the config key
    ``mlplat:eks.gpuNodeGroups[0].instanceTypes``; a field the stack sets itself at its own key."""
    path = re.sub(r"^[A-Za-z]+\([^)]*\)\.?", "", component_path)
    head = re.match(r"[a-z0-9_]+", path)
    if head and head.group() in _SET_BY_STACK.get(block, {}):
        source = _SET_BY_STACK[block][head.group()]
        return source if ":" in source else f"{NAMESPACE}:{source}{path[head.end():]}"
    parts = [re.sub(r"^[a-z0-9_]+", lambda m: to_camel(m.group()) if "_" in m.group() else m.group(), part) for part in path.split(".")] if path else []
    return ".".join([f"{NAMESPACE}:{block}", *parts])


# --- loading -----------------------------------------------------------------------------------

def parse_cluster_config(values: dict[str, Any], namespace: str = NAMESPACE, *, aws_region: str | None = None, gcp_project: str | None = None,
                         secret_keys: Collection[str] | None = None) -> ClusterStackConfig:
    """Validate a cluster stack's raw config values (key without namespace to a string or value).

    Strings are parsed as the Pulumi CLI passes them (JSON for ``[``/``{``, booleans, numbers).
    Then the cross-key rules: ``eks`` on AWS only (and required there), ``gke`` and
    ``gcpNetwork`` on GCP only (``gke`` required, and ``gcp:project``), an AWS region the provider
    knows.

    ``secret_keys`` (the config keys whose values were ``secure:``, when known): a platform
    receiver's ``secret`` under a key that is not one of them is plain text in the stack file, and
    refused.

    Raises:
        ConfigError: every problem at once, each naming its key path, value and expectation.
    """
    parsed, issues = parse_config_strings(values, namespace)
    for block in ("eks", "gke"):
        version = parsed[block].get("kubernetesVersion") if isinstance(parsed.get(block), dict) else None
        if isinstance(version, (int, float)) and not isinstance(version, bool):
            # YAML reads 1.20 unquoted as the number 1.2: say so, rather than "expected a string".
            parsed[block] = {key: value for key, value in parsed[block].items() if key != "kubernetesVersion"}
            issues.append(Issue(f"{namespace}:{block}.kubernetesVersion", version,
                                'a quoted version string such as "1.35" (YAML reads an unquoted 1.20 as the number 1.2)'))
    observability = parsed.get("observability")
    if secret_keys is not None and f"{namespace}:observability" not in secret_keys and isinstance(observability, dict):
        for index, receiver in enumerate(observability.get("platformReceivers") or []):
            if isinstance(receiver, dict) and receiver.get("secret") is not None:
                receiver["secret"] = SECRET_PLACEHOLDER  # never reported
                issues.append(Issue(f"{namespace}:observability.platformReceivers[{index}].secret", SECRET_PLACEHOLDER,
                                    "a secure: value (pulumi config set --path --secret "
                                    f"'{namespace}:observability.platformReceivers[{index}].secret' <key>) or secretRef "
                                    "{name, key}; a receiver's key is never plain text in a stack file"))
    config: ClusterStackConfig | None = None
    try:
        config = ClusterStackConfig.model_validate(parsed)
    except pydantic.ValidationError as error:
        issues.extend(issues_from_validation_error(error, prefix=namespace, separator=":"))
    if aws_region is not None:
        issues.extend(aws_region_issues(aws_region))
    if config is not None:
        issues.extend(_cloud_issues(config, namespace, gcp_project))
    if issues:
        raise ConfigError(f"invalid cluster stack configuration for {pulumi.get_stack() if _in_program() else 'stack'}", issues)
    assert config is not None
    return config


def _cloud_issues(config: ClusterStackConfig, namespace: str, gcp_project: str | None) -> list[Issue]:
    issues: list[Issue] = []
    if config.cloud is Cloud.AWS:
        issues.extend(aws_region_issues(config.region, f"{namespace}:region"))
        if config.eks is None:
            issues.append(Issue(f"{namespace}:eks", None, "the EksCluster block of an AWS cluster stack (at least platformAdminRoleArn)"))
        for key, value in (("gke", config.gke), ("gcpNetwork", config.gcp_network)):
            if value is not None:
                issues.append(Issue(f"{namespace}:{key}", value if not isinstance(value, BaseModel) else value.model_dump(by_alias=True), "no value on an AWS cluster stack (cloud: aws)"))
    else:
        if config.gke is None:
            issues.append(Issue(f"{namespace}:gke", None, "the GkeCluster block of a GCP cluster stack (at least location)"))
        if config.eks is not None:
            issues.append(Issue(f"{namespace}:eks", config.eks, "no value on a GCP cluster stack (cloud: gcp)"))
        if not gcp_project:
            issues.append(Issue("gcp:project", None, "the GCP project id of a GCP cluster stack (gcp:project: <project id>)"))
    return issues


def load_cluster_config(namespace: str = NAMESPACE) -> ClusterStackConfig:
    """Read and validate the running cluster stack's ``mlplat`` config (and ``aws:region`` /
    ``gcp:project``); call it before registering anything.

    Raises:
        ConfigError: every problem at once (:func:`parse_cluster_config`).
    """
    from pulumi.runtime.config import is_config_secret

    secret_keys = [key for key in (f"{namespace}:observability",) if is_config_secret(key)]
    return parse_cluster_config(_stack_config_values(namespace), namespace, aws_region=_stack_config_values("aws").get("region"),
                                gcp_project=_stack_config_values("gcp").get("project"), secret_keys=secret_keys)


# --- composition ---------------------------------------------------------------------------------

class ClusterArgs(BaseModel):
    """Every component argument of one cluster stack, validated before anything is registered."""

    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True, frozen=True)

    cluster: dict[str, Any]
    addons: dict[str, Any]
    controller_role: dict[str, Any] | None = None
    observability: dict[str, Any] | None = None


def _validated(component: type, name: str, values: dict[str, Any], block: str, issues: list[Issue]) -> None:
    try:
        component.validate_args(name, values)
    except ComponentArgsError as error:
        issues.extend(Issue(_config_path(block, issue.path), issue.value, issue.expected) for issue in error.issues)


def team_routed_namespaces(root: Any, environment: str) -> list[str]:
    """The namespaces of the teams whose request file (``teams/<team>.yaml`` below ``root``) gives
    receivers for ``environment`` (``environments.<environment>.alerts.receivers``): their team
    stacks route the namespace's alerts (``TeamObservability``), so the platform's route ends them.
    Read as plain YAML (the team stacks validate the files): a broken request file does not stop
    the cluster stack."""
    from pathlib import Path

    from ..core.yaml_files import read_yaml_file

    directory = Path(root) / "teams"
    found = []
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else []:
        if path.name.startswith("_"):
            continue
        try:
            document = read_yaml_file(path)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        section = ((document or {}).get("environments") or {}).get(environment) if isinstance(document, dict) else None
        alerts = section.get("alerts") if isinstance(section, dict) else None
        if isinstance(alerts, dict) and alerts.get("receivers") and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", path.stem):
            found.append(path.stem)
    return found


def cluster_component_args(config: ClusterStackConfig, gcp_project: str | None = None, routed_namespaces: list[str] | None = None) -> ClusterArgs:
    """The cluster's, the add-ons' and the controller role's arguments from the config, each checked
    by its component's own model (values the cluster only gives later stand in with placeholders),
    registering nothing. With ``mlplat:observability``, the observability stack's arguments too,
    and PlatformAddons' ``values`` get what it needs (:func:`~platform_lib.k8s.observability.platform_addons_values`;
    ``mlplat:addons.values`` merged over them).

    Raises:
        ConfigError: every refused argument at once, at its config key.
    """
    issues: list[Issue] = []
    name = config.name
    tags = config.standard_tags()
    on_aws = config.cloud is Cloud.AWS
    addon_values = snake_case_keys(config.addons, PlatformAddons.args_model)
    for field_name in _SET_BY_STACK["addons"]:
        if field_name in addon_values:
            issues.append(Issue(f"{NAMESPACE}:addons.{to_camel(field_name)}", addon_values[field_name], f"no value: the stack sets {to_camel(field_name)} from the cluster"))
    controller: dict[str, Any] | None = None
    if on_aws:
        block = snake_case_keys(config.eks or {}, EksCluster.args_model)
        for field_name in _SET_BY_STACK["eks"]:
            if field_name in block:
                issues.append(Issue(f"{NAMESPACE}:eks.{to_camel(field_name)}", block[field_name], f"no value: the stack sets it (mlplat:{_SET_BY_STACK['eks'][field_name]})"))
        cluster = {"deletion_protection": config.is_production, **block, "tags": tags, "cluster_name": name}
        _validated(EksCluster, name, cluster, "eks", issues)
        lb_enabled = addon_values.get("enabled", {}).get(_LB_CONTROLLER, True)
        if lb_enabled:
            namespace = addon_values.get("namespaces", {}).get(_LB_CONTROLLER, DEFAULT_NAMESPACES[_LB_CONTROLLER])
            controller = {"tags": tags, "namespace": namespace, "service_account": LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT,
                          "policy": "aws-load-balancer-controller", "region": config.region}
            placeholders = {"oidc_provider_arn": _PLACEHOLDERS["oidc_provider_arn"], "oidc_issuer": _PLACEHOLDERS["oidc_issuer"], "vpc_id": _PLACEHOLDERS["vpc_id"]}
            _validated(ControllerRole, f"{name}-{_LB_CONTROLLER}", {**controller, **placeholders}, "eks", issues)
        addons = {**addon_values, "cloud": "aws", "labels": tags, "region": config.region}
        stand_ins = {"cluster_name": name, "vpc_id": _PLACEHOLDERS["vpc_id"], "gpu_node_pools": [],
                     **({"load_balancer_controller_role_arn": _PLACEHOLDERS["role_arn"]} if lb_enabled else {})}
    else:
        block = snake_case_keys(config.gke or {}, GkeCluster.args_model)
        for field_name in _SET_BY_STACK["gke"]:
            if field_name in block:
                issues.append(Issue(f"{NAMESPACE}:gke.{to_camel(field_name)}", block[field_name], f"no value: the stack sets it ({_SET_BY_STACK['gke'][field_name]})"))
        network = config.gcp_network or GcpNetwork()
        cluster = {"deletion_protection": config.is_production, **block, "labels": tags, "project": gcp_project or "placeholder-project",
                   "subnet_cidr": network.subnet_cidr, "pods_range_name": "pods", "services_range_name": "services"}
        _validated(GkeCluster, name, {**cluster, "network": "placeholder", "subnetwork": "placeholder"}, "gke", issues)
        addons = {**addon_values, "cloud": "gcp", "labels": tags}
        stand_ins = {"cluster_name": name, "gpu_node_pools": []}
    observability: dict[str, Any] | None = None
    if config.observability is not None:
        block = snake_case_keys(config.observability, ObservabilityStack.args_model)
        for field_name in _SET_BY_STACK["observability"]:
            if field_name in block:
                issues.append(Issue(f"{NAMESPACE}:observability.{to_camel(field_name)}", block[field_name],
                                    f"no value: the stack sets {to_camel(field_name)} ({_SET_BY_STACK['observability'][field_name]})"))
        observability = {**block, "labels": tags, "team_routed_namespaces": sorted(routed_namespaces or [])}
        try:
            validated = ObservabilityStack.validate_args(f"{name}-observability", {**observability, "gpu_node_pools": []})
        except ComponentArgsError as error:
            issues.extend(Issue(_config_path("observability", issue.path), issue.value, issue.expected) for issue in error.issues)
        else:
            addons["values"] = {addon: deep_merge(values, addons.get("values", {}).get(addon, {}))
                                for addon, values in platform_addons_values(validated).items()} | {
                addon: values for addon, values in addons.get("values", {}).items() if addon not in platform_addons_values(validated)}
    _validated(PlatformAddons, f"{name}-addons", {**addons, **stand_ins}, "addons", issues)
    if issues:
        raise ConfigError("invalid cluster stack configuration: the components refuse these arguments; nothing was created", issues)
    return ClusterArgs(cluster=cluster, addons=addons, controller_role=controller, observability=observability)


def _stateful(config: ClusterStackConfig) -> pulumi.ResourceOptions:
    """The stack's protect / retain-on-delete for the cluster and its network (on in prod)."""
    return pulumi.ResourceOptions(protect=config.protect_resources, retain_on_delete=config.retain_resources)


def build_cluster(config: ClusterStackConfig, root: Any = None) -> dict[str, Any]:
    """Register the cluster stack and return its outputs (the contract in ``docs/cluster.md``).

    Every component's arguments are validated first (:func:`cluster_component_args`), so a bad
    config registers nothing. The cluster (and on GCP its VPC) get the stack's protect and
    retain-on-delete settings (on in prod); the add-ons do not (a removed add-on is uninstalled).

    Args:
        config: the validated config.
        root: the repository root, whose ``teams/*.yaml`` say which team namespaces route their
            own alerts (:func:`team_routed_namespaces`; the environment is the stack's name).

    Returns:
        ``kubeconfig`` (secret), ``clusterName``, ``kubernetesVersion``, ``cloud``, ``gpuNodePools``,
        ``otelCollectorEndpoint``, ``prometheusNamespace``, ``helmReleases``; on AWS
        ``oidcProviderArn``, ``oidcIssuer``, ``vpcCidr``; on GCP ``workloadIdentityPool``.

    Raises:
        ConfigError: a component refuses an argument from the config (every one at once);
            nothing was registered.
    """
    gcp_project = pulumi.Config("gcp").get("project") if config.cloud is Cloud.GCP else None
    routed = team_routed_namespaces(root, pulumi.get_stack()) if root is not None and config.observability is not None else []
    args = cluster_component_args(config, gcp_project, routed)
    name = config.name
    outputs: dict[str, Any] = {"cloud": config.cloud.value}
    if config.cloud is Cloud.AWS:
        cluster: Any = EksCluster(name, args.cluster, _stateful(config))
        role_arn = None
        if args.controller_role is not None:
            role = ControllerRole(f"{name}-{_LB_CONTROLLER}", {**args.controller_role, "oidc_provider_arn": cluster.oidc_provider_arn,
                                                                "oidc_issuer": cluster.oidc_issuer, "vpc_id": cluster.vpc_id})
            role_arn = role.role_arn
        from_cluster: dict[str, Any] = {"vpc_id": cluster.vpc_id, **({"load_balancer_controller_role_arn": role_arn} if role_arn is not None else {})}
        outputs.update(oidcProviderArn=cluster.oidc_provider_arn, oidcIssuer=cluster.oidc_issuer, vpcCidr=cluster.vpc_cidr)
    else:
        network = _gcp_network(name, config, gcp_project)
        cluster = GkeCluster(name, {**args.cluster, "network": network["network"].self_link, "subnetwork": network["subnetwork"].self_link}, _stateful(config))
        from_cluster = {}
        outputs["workloadIdentityPool"] = cluster.workload_identity_pool
    provider = k8s.Provider(f"{name}-kubernetes", kubeconfig=cluster.kubeconfig, enable_server_side_apply=True)
    addons = PlatformAddons(f"{name}-addons", {**args.addons, **from_cluster, "cluster_name": cluster.cluster_name, "gpu_node_pools": cluster.gpu_node_pools},
                            pulumi.ResourceOptions(provider=provider, depends_on=[cluster]))
    outputs.update(
        clusterName=cluster.cluster_name,
        kubeconfig=pulumi.Output.secret(cluster.kubeconfig),
        kubernetesVersion=cluster.kubernetes_version,
        gpuNodePools=cluster.gpu_node_pools,
        otelCollectorEndpoint=addons.otel_collector_endpoint,
        prometheusNamespace=addons.prometheus_namespace,
        helmReleases=addons.releases,
    )
    if args.observability is not None:
        # The cluster's share: DCGM exporter, Pushgateway, Tempo, Loki, data sources, the overview,
        # the platform's alert route. Each team's dashboards and route are its team stack's.
        ObservabilityStack(f"{name}-observability", {**args.observability, "gpu_node_pools": cluster.gpu_node_pools},
                           pulumi.ResourceOptions(provider=provider, depends_on=[addons]))
    return outputs


def _gcp_network(name: str, config: ClusterStackConfig, project: str | None) -> dict[str, Any]:
    """The GKE cluster's VPC: a custom-mode network, the nodes' subnetwork (Private Google Access,
    flow logs, Pods and Services secondary ranges ``pods`` / ``services``), a router and Cloud NAT
    (the nodes have no external address). Source: GKE docs, "Creating a private cluster"."""
    network_config = config.gcp_network or GcpNetwork()
    opts = _stateful(config)
    network = gcp.compute.Network(f"{name}-vpc", auto_create_subnetworks=False, routing_mode="REGIONAL", project=project, opts=opts)
    subnetwork = gcp.compute.Subnetwork(
        f"{name}-nodes",
        network=network.id,
        region=config.region,
        project=project,
        ip_cidr_range=network_config.subnet_cidr,
        private_ip_google_access=True,
        secondary_ip_ranges=[
            {"range_name": "pods", "ip_cidr_range": network_config.pods_cidr},
            {"range_name": "services", "ip_cidr_range": network_config.services_cidr},
        ],
        log_config={"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"},
        opts=opts,
    )
    router = gcp.compute.Router(f"{name}-router", network=network.id, region=config.region, project=project)
    gcp.compute.RouterNat(
        f"{name}-nat",
        router=router.name,
        region=config.region,
        project=project,
        nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
        log_config={"enable": True, "filter": "ERRORS_ONLY"},
    )
    return {"network": network, "subnetwork": subnetwork}
