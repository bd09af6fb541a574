"""The ml-platform CrossGuard policy pack, as ``pulumi preview --policy-pack policies`` runs it.

The same pack as the one shipped in the wheel (``platform_lib/policy/shipped_pack/``); this
directory only adds what the Pulumi CLI needs to run it from a source checkout: a virtualenv
(``PulumiPolicy.yaml``) with this project installed into it (``requirements.txt``).
``config`` links to the shipped pack's per-environment config, which exists only there.

The policies live in ``platform_lib.policy`` (importable and testable); this file only builds the
``PolicyPack``, which serves Pulumi's Analyzer gRPC protocol and never returns.
"""

from platform_lib.policy.pack import serve

serve()
