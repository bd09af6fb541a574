"""A policy pack whose only policy hangs on a resource named 'stuck' (tests/test_pack_lifetime.py)."""

import signal
import time

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

from platform_lib.policy.servicer import report_running, servicer_class, serving


def validate(args, report_violation):
    if args.name == "stuck":
        time.sleep(3600)


signal.signal(signal.SIGUSR1, report_running)
with serving(servicer_class()):
    PolicyPack(name="hangs", enforcement_level=EnforcementLevel.MANDATORY,
               policies=[ResourceValidationPolicy(name="sleepy-policy", description="sleeps on 'stuck'", validate=validate)])
