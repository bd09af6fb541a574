"""The library's layers, as import contracts (pyproject.toml, ``[tool.importlinter]``).

core <- components (aws, gcp, k8s; independent of one another) <- platform composition <- CLI;
nothing in the library imports the preview, the policy pack, the test kit or the CLI; the preview
and the pack import no component. A team's program depends on the components only.
"""

from __future__ import annotations

import pytest
from importlinter.cli import lint_imports

from .conftest import REPO_ROOT

CONTRACTS = ("layers", "library-below-tools", "tools-independent-of-components")


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    exit_code = lint_imports(config_filename=str(REPO_ROOT / "pyproject.toml"), limit_to_contracts=(contract,), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "1 kept, 0 broken" in report, report
