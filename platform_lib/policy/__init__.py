"""The platform's policies: a catalogue of checks, the CrossGuard pack built from it, the offline
gate that runs the pack over Pulumi's Analyzer gRPC protocol, and its reports.

Importing this package does not start anything; only the pack programs (``shipped_pack/__main__.py``
in this package, ``policies/__main__.py`` in the repository) build a PolicyPack.
"""

from .catalogue import CATALOGUE, PolicyRule, Resource, catalogue, get_rule

__all__ = ["CATALOGUE", "PolicyRule", "Resource", "catalogue", "get_rule"]
