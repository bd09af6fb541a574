"""The bottom layer of ``platform_lib``: what every component shares and nothing cloud-specific.

Errors (:mod:`.errors`), the standard tags (:mod:`.tagging`), Kubernetes quantities
(:mod:`.quantities`), IAM policy-document builders (:mod:`.policy_documents`), the grant
interface of data buckets (:mod:`.grants`), ``pulumi.Input`` checks (:mod:`.inputs`) and the
component contract itself (:mod:`.component`). Nothing here imports a component, the stack
config or the preview; ``tests/test_import_contracts.py`` enforces that.
"""
