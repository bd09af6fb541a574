"""Run a policy pack as the Pulumi CLI's Python policy host does, for no longer than the gate that started it.

``python -m platform_lib.policy.pack_host <engine address> <pack dir>`` is
``python -m pulumi.policy <engine address> <pack dir>`` (the SDK's policy host, run unchanged)
with one addition made before the pack's program starts: a daemon thread reads the host's stdin,
a pipe whose other end only the gate holds, and ends the process at end of file. The kernel
closes that pipe whenever the gate's process ends, by any signal (``SIGKILL`` included) or
error, so a pack, even one hung inside a policy or serving forever after a failed start, never
outlives ``mlplat`` with parent 1.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading


def _exit_when_stdin_closes() -> None:
    stdin = sys.stdin.buffer
    while stdin.read(65536):
        pass
    os._exit(0)  # the gate is gone: no cleanup to wait for, the server's threads would keep the process up


def main() -> None:
    """Watch stdin, then run ``pulumi.policy`` as ``__main__`` with this process's arguments."""
    threading.Thread(target=_exit_when_stdin_closes, name="mlplat-parent-watch", daemon=True).start()
    sys.argv[0] = "pulumi.policy"
    runpy.run_module("pulumi.policy", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
