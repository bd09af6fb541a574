"""The distribution: one version everywhere, the policy pack inside the wheel, and a wheel that
works after a plain install, outside this repository.

The wheel test builds the wheel, installs it into a fresh virtualenv and previews the team example
from a copy outside the repository with the default (shipped) policy pack. The new virtualenv sees
the project's locked dependencies through a ``.pth`` file (``site`` appends each line of a ``.pth``
file in site-packages to ``sys.path``, after site-packages itself); the editable install of this
checkout is not used because ``site`` runs only the ``.pth`` files of site-packages directories,
not of paths a ``.pth`` adds. The test checks that ``platform_lib`` is imported from the new
virtualenv, so it exercises the wheel's files and nothing else.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import yaml
from typer.testing import CliRunner

import platform_lib
from platform_lib.cli import app
from platform_lib.policy.gate import shipped_pack_dir

from .conftest import REPO_ROOT

DISTRIBUTION = "pulumi-mlplat"
REPO_PACK = REPO_ROOT / "policies"
SHIPPED_PACK = REPO_ROOT / "platform_lib" / "policy" / "shipped_pack"


def test_the_version_is_written_once_and_every_pack_file_agrees():
    version = platform_lib.__version__
    assert importlib.metadata.version(DISTRIBUTION) == version
    for pack in (SHIPPED_PACK, REPO_PACK):
        assert yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())["version"] == version, pack
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"mlplat {version}"
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE)


def test_the_repository_pack_runs_the_shipped_pack_with_the_shipped_config():
    assert shipped_pack_dir() == SHIPPED_PACK
    for pack in (SHIPPED_PACK, REPO_PACK):
        assert "from platform_lib.policy.pack import serve" in (pack / "__main__.py").read_text()
        project = yaml.safe_load((pack / "PulumiPolicy.yaml").read_text())
        assert project["name"] == "mlplat-policies" and (project["runtime"] == "python" or project["runtime"]["name"] == "python")
    # One copy of the per-environment config: policies/config is a link to the shipped one.
    assert (REPO_PACK / "config").resolve() == SHIPPED_PACK / "config"
    assert sorted(p.name for p in (SHIPPED_PACK / "config").glob("*.json")) == ["dev.json", "prod.json", "staging.json"]


def _run(*command: str | Path, **options) -> str:
    """Run a command that must succeed; its stdout. A failure shows the command's stderr."""
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)
    assert result.returncode == 0, f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stderr}"
    return result.stdout


def _build_wheel(out: Path) -> Path:
    """``pip wheel`` from a copy of the sources, so no ``build/`` or ``*.egg-info`` lands in the checkout."""
    source = out / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "platform_lib", source / "platform_lib", ignore=shutil.ignore_patterns("__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--wheel-dir", out / "dist", source)
    (wheel,) = (out / "dist").glob("*.whl")
    return wheel


def test_the_wheel_installs_into_a_fresh_virtualenv_and_previews_a_team_project(tmp_path):
    wheel = _build_wheel(tmp_path)
    assert wheel.name == f"pulumi_mlplat-{platform_lib.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    pack_files = {"PulumiPolicy.yaml", "__main__.py", "config/dev.json", "config/staging.json", "config/prod.json"}
    assert {f"platform_lib/policy/shipped_pack/{name}" for name in pack_files} | {"platform_lib/py.typed"} <= names
    assert {name.split("/")[0] for name in names} == {"platform_lib", f"pulumi_mlplat-{platform_lib.__version__}.dist-info"}
    # The vendored Helm chart files and controller policies, which the add-ons read at run time.
    vendored = {f"platform_lib/{folder}/{p.name}" for folder in ("k8s/charts", "aws/policies") for p in (REPO_ROOT / "platform_lib" / folder).iterdir()}
    assert vendored and vendored <= names, sorted(vendored - names)

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site_packages = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    locked = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site_packages / "locked-dependencies.pth").write_text("".join(f"{path}\n" for path in locked))
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["COLUMNS"] = "400"  # rich wraps at the terminal width; the verdict line names a long path
    # pip (the project's, seen through the .pth) also sees the editable install there: --ignore-installed
    # keeps it from trying to uninstall that one.
    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", wheel, env=env)

    project = tmp_path / "fraud-team"
    shutil.copytree(REPO_ROOT / "examples" / "team-project", project)
    imported = _run(python, "-c", "import importlib.metadata, platform_lib; print(platform_lib.__file__); "
                    "print(importlib.metadata.version('pulumi-mlplat'))", cwd=project, env=env).split()
    assert imported == [str(site_packages / "platform_lib" / "__init__.py"), platform_lib.__version__]

    result = subprocess.run([venv / "bin" / "mlplat", "preview", "--stack", "dev"], cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    verdict = re.search(r"^Policies: no violations \((.+)\)\.$", result.stdout, re.MULTILINE)
    assert verdict, result.stdout
    assert Path(verdict.group(1)) == site_packages / "platform_lib" / "policy" / "shipped_pack"


def test_every_package_level_export_resolves_and_loads_only_its_own_cloud():
    """``from platform_lib import X`` works for every name in ``__all__``; importing the package
    alone loads no provider SDK (the exports load on first use)."""
    script = (
        "import sys, platform_lib\n"
        "assert not any(m in sys.modules for m in ('pulumi_aws', 'pulumi_gcp', 'pulumi_kubernetes')), 'eager provider import'\n"
        "from platform_lib import ResourceQuotaSpec\n"
        "assert 'pulumi_gcp' not in sys.modules and 'pulumi_aws' not in sys.modules\n"
        "missing = [n for n in platform_lib.__all__ if getattr(platform_lib, n, None) is None]\n"
        "assert missing == [], missing\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
