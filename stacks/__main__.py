"""The ml-platform program: one stack per environment (dev, staging, prod).

Config comes from ``stacks/Pulumi.<stack>.yaml`` and is validated in full before any resource is
registered. Run it with ``mlplat preview --stack dev`` (offline, mocked providers) or with the
Pulumi CLI: ``pulumi preview --stack dev`` / ``pulumi up --stack dev``.
"""

import pulumi

from platform_lib.platform.config import load_platform_config
from platform_lib.platform import build_platform

config = load_platform_config()
for name, value in build_platform(config).items():
    pulumi.export(name, value)
