"""Process tuning for the preview, the policy pack and the test run, each behind a switch.

The Pulumi SDK keeps several live objects per registered resource, and CPython's cyclic garbage
collector rescans all of them at every full collection: at 500 teams that was 58% of the preview
process (issue 14). :func:`tune_garbage_collection` moves what is alive after the imports to the
permanent generation (``gc.freeze``) and raises the collection thresholds, so the collector runs
less often and never rescans the frozen objects. Reference counting still frees everything that
is not in a cycle, so memory stays close to the default (the benchmark ``bench/preview_bench.py``
prints peak memory beside time).

Switches (environment variables, on unless set to ``0``, ``false``, ``no`` or ``off``):

- ``MLPLAT_GC_TUNING``: :func:`tune_garbage_collection` (CLI, policy pack, test run);
- ``MLPLAT_SHARED_PROPERTIES``: the pack decodes each request once (:mod:`platform_lib.policy.servicer`);
- ``MLPLAT_STREAM_ANALYZE``: ``Analyze`` is sent as each resource registers (:mod:`platform_lib.policy.stream`);
- ``MLPLAT_EARLY_PACK_START``: the pack starts while the program runs (:mod:`platform_lib.policy.stream`);
- ``MLPLAT_FAST_EXIT``: the CLI ends with ``os._exit`` once its outputs are flushed (:func:`exit_now`).
"""

from __future__ import annotations

import gc
import os
import sys

#: Generation thresholds once tuned: gen0 collections every 100,000 net allocations (the default
#: is 700), then every 50 of those a gen1 collection and every 1,000 gen1 collections a full one
#: (CPython also waits until the objects pending a full collection are a quarter of the long-lived ones).
GC_THRESHOLDS = (100_000, 50, 1_000)

_OFF = {"0", "false", "no", "off"}


def enabled(switch: str) -> bool:
    """Whether the switch (an environment variable name) is on: unset or anything but 0/false/no/off."""
    return os.environ.get(switch, "1").strip().lower() not in _OFF


def tune_garbage_collection(on: bool | None = None) -> bool:
    """Freeze every object alive now (imports, module state) and raise the collector's thresholds.

    Args:
        on: True to tune, False to leave the collector alone; None reads ``MLPLAT_GC_TUNING``.

    Returns:
        Whether the collector was tuned. Calling it again freezes what was allocated since.
    """
    if on is None:
        on = enabled("MLPLAT_GC_TUNING")
    if not on:
        return False
    gc.collect()  # garbage from the imports is freed, not frozen
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return True


def exit_now(code: int) -> None:
    """End the process with ``code`` at once: flush stdout and stderr, then ``os._exit``.

    Skips interpreter finalization (tearing down every module and object, about 0.5 s after a
    preview); only for a command-line process whose files are written and closed.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be written anyway
            pass
    os._exit(code)
