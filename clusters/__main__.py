"""The cluster layer: one stack per environment (dev, staging, prod on EKS; gcp-dev on GKE).

Config comes from ``clusters/Pulumi.<stack>.yaml`` and is validated in full, every component's
arguments included, before any resource is registered. Its outputs (docs/cluster.md, the outputs
contract) are what the platform stacks read through ``pulumi.StackReference``. Preview it offline
with ``mlplat preview -C clusters --stack prod``; apply it with the Pulumi CLI from ``clusters/``.
"""

from pathlib import Path

import pulumi

from platform_lib.platform.cluster import build_cluster, load_cluster_config

config = load_cluster_config()
for name, value in build_cluster(config, Path(__file__).resolve().parent.parent).items():
    pulumi.export(name, value)
