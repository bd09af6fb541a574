"""The library's layers, as import contracts (pyproject.toml, ``[tool.importlinter]``).

core <- components (aws, gcp, k8s; independent of one another) <- platform composition <- CLI;
nothing in the library imports the preview, the policy pack, the test kit or the CLI; the preview
and the pack import no component. A team's program depends on the components only.

import-linter runs in its own process: it reconfigures logging (``dictConfig`` disables every
existing logger), which would silence the preview's collected messages in later tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

CONTRACTS = ("layers", "library-below-tools", "tools-independent-of-components")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract):
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract, str(REPO_ROOT / "pyproject.toml")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout, result.stdout
