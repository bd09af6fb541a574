"""The ml-platform CrossGuard policy pack, as ``pulumi preview --policy-pack policies`` runs it.

The policies live in ``platform_lib.policy`` (importable and testable); this file only builds the
``PolicyPack``, which serves Pulumi's Analyzer gRPC protocol and never returns.
"""

from platform_lib.policy.pack import serve

serve()
