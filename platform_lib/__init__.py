"""ml-platform: Pulumi component resources for an ML platform, a policy pack, and an offline preview.

The public components, importable from here (each loads its cloud's SDK on first use only)::

    from platform_lib import S3DataBucket, TeamNamespace

AWS: :class:`S3DataBucket`, :class:`AccessLogBucket`, :class:`AwsGpuTrainingBox`,
:class:`StaticSite`, :class:`AwsTeamBudget`, :class:`EksCluster`. Google Cloud: :class:`GcsDataBucket`, :class:`TeamWorkloadIdentity`,
:class:`GcpGpuTrainingBox`, :class:`GcpTeamBudget`, :class:`GkeCluster`. Kubernetes: :class:`TeamNamespace`, :class:`ModelEndpoint`,
:class:`PlatformAddons`, :class:`DriftMonitor`, :class:`MlWorkspace`. Each has
an args model of the same name plus ``Args``; :class:`ResourceQuotaSpec` (a
TeamNamespace's quota), :class:`ServicePrincipal` (a grant to an AWS service), :class:`NodeGroupSpec`
and :class:`TeamAccess` (an EksCluster's node groups and team access) and
:class:`DriftSettings` (a DriftMonitor's drift settings) build arguments. Errors: :class:`ComponentArgsError` (a component
refused its arguments; nothing was registered), :class:`ConfigError` (bad stack config), both
:class:`PlatformError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core.errors import ComponentArgsError, ConfigError, PlatformError

#: The library's version: the one place it is written (pyproject.toml reads it from here).
__version__ = "0.1.0"

#: Each public component by class name, with the module that defines it and its args model.
COMPONENTS: dict[str, str] = {
    "S3DataBucket": "platform_lib.aws.data_bucket",
    "AccessLogBucket": "platform_lib.aws.data_bucket",
    "AwsGpuTrainingBox": "platform_lib.aws.gpu_training_box",
    "StaticSite": "platform_lib.aws.static_site",
    "AwsTeamBudget": "platform_lib.aws.budget",
    "GcsDataBucket": "platform_lib.gcp.data_bucket",
    "TeamWorkloadIdentity": "platform_lib.gcp.data_bucket",
    "GcpGpuTrainingBox": "platform_lib.gcp.gpu_training_box",
    "GcpTeamBudget": "platform_lib.gcp.budget",
    "EksCluster": "platform_lib.aws.eks_cluster",
    "ControllerRole": "platform_lib.aws.controller_roles",
    "GkeCluster": "platform_lib.gcp.gke_cluster",
    "TeamNamespace": "platform_lib.k8s.team_namespace",
    "ModelEndpoint": "platform_lib.k8s.model_endpoint",
    "MlWorkspace": "platform_lib.k8s.ml_workspace",
    "PlatformAddons": "platform_lib.k8s.platform_addons",
    "ObservabilityStack": "platform_lib.k8s.observability",
    "TeamObservability": "platform_lib.k8s.team_observability",
    "DriftMonitor": "platform_lib.k8s.drift_monitor",
}
#: What component arguments are built from, besides the args models.
ARGUMENT_TYPES: dict[str, str] = {
    "ResourceQuotaSpec": "platform_lib.k8s.quota",
    "ServicePrincipal": "platform_lib.aws.principals",
    "NodeGroupSpec": "platform_lib.aws.eks_cluster",
    "TeamAccess": "platform_lib.aws.eks_cluster",
    "EndpointView": "platform_lib.k8s.observability_spec",
    "TeamView": "platform_lib.k8s.observability_spec",
    "AlertReceiver": "platform_lib.k8s.observability_spec",
    "UnitPrices": "platform_lib.k8s.observability_spec",
    "ReceiverSecretRef": "platform_lib.k8s.observability_spec",
    "DriftSettings": "platform_lib.k8s.drift_monitor",
}
_EXPORTS = {**COMPONENTS, **{f"{name}Args": module for name, module in COMPONENTS.items()}, **ARGUMENT_TYPES}

__all__ = ["ComponentArgsError", "ConfigError", "PlatformError", "__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    """Import a component's module the first time the component is asked for (PEP 562)."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'platform_lib' has no attribute {name!r}")


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .aws.data_bucket import AccessLogBucket, AccessLogBucketArgs, S3DataBucket, S3DataBucketArgs
    from .aws.gpu_training_box import AwsGpuTrainingBox, AwsGpuTrainingBoxArgs
    from .aws.static_site import StaticSite, StaticSiteArgs
    from .aws.budget import AwsTeamBudget, AwsTeamBudgetArgs
    from .gcp.data_bucket import GcsDataBucket, GcsDataBucketArgs, TeamWorkloadIdentity, TeamWorkloadIdentityArgs
    from .gcp.gpu_training_box import GcpGpuTrainingBox, GcpGpuTrainingBoxArgs
    from .gcp.budget import GcpTeamBudget, GcpTeamBudgetArgs
    from .aws.eks_cluster import EksCluster, EksClusterArgs, NodeGroupSpec, TeamAccess
    from .aws.controller_roles import ControllerRole, ControllerRoleArgs
    from .gcp.gke_cluster import GkeCluster, GkeClusterArgs
    from .k8s.model_endpoint import ModelEndpoint, ModelEndpointArgs
    from .k8s.ml_workspace import MlWorkspace, MlWorkspaceArgs
    from .k8s.team_namespace import TeamNamespace, TeamNamespaceArgs
    from .k8s.platform_addons import PlatformAddons, PlatformAddonsArgs
    from .k8s.observability import ObservabilityStack, ObservabilityStackArgs
    from .k8s.observability_spec import AlertReceiver, EndpointView, ReceiverSecretRef, TeamView, UnitPrices
    from .k8s.team_observability import TeamObservability, TeamObservabilityArgs
    from .k8s.drift_monitor import DriftMonitor, DriftMonitorArgs, DriftSettings
    from .k8s.quota import ResourceQuotaSpec
    from .aws.principals import ServicePrincipal
