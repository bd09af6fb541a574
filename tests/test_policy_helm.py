"""helm-release-pinned-version: what counts as one exact chart version, beyond the mutations of
tests/test_policy_rules.py; and every release the platform makes passes it."""

from __future__ import annotations

import pytest

from platform_lib.policy.catalogue import get_rule

from .policy_fixtures import resource

RULE = get_rule("helm-release-pinned-version")
PROD = {"environment": "prod"}


def _release(**props):
    def mutate(p):
        for key, value in props.items():
            if value is None:
                p.pop(key, None)
            else:
                p[key] = value
    return resource("kubernetes:helm.sh/v3:Release", mutate)


@pytest.mark.parametrize("version", ["88.5.3", "v1.9.0", "1.0.0-rc.1", "0.170.0"])
def test_an_exact_version_passes(version):
    assert RULE.run(_release(version=version), PROD) == []


@pytest.mark.parametrize("version", ["88", "88.5", "88.x", "~88.5.3", ">=88.0.0", "*", "88.5.3 || 89.0.0", "latest"])
def test_a_range_is_refused(version):
    assert RULE.run(_release(version=version), PROD) == [
        f"Helm release 'subject' (chart kube-prometheus-stack) has version {version!r}, a range, not one exact version"]


@pytest.mark.parametrize("version", [None, ""])
def test_an_oci_chart_needs_a_version_too(version):
    assert RULE.run(_release(chart="oci://registry.example.com/charts/demo", repositoryOpts=None, version=version), PROD) == [
        "Helm release 'subject' (chart oci://registry.example.com/charts/demo) has no chart version: Helm installs the newest one at every apply"]


def test_a_chart_url_naming_its_version_passes():
    assert RULE.run(_release(chart="https://charts.example.com/demo-1.2.3.tgz", version=None, repositoryOpts=None), PROD) == []


def test_a_chart_url_with_a_range_version_is_refused():
    assert RULE.run(_release(chart="https://charts.example.com/demo-1.2.3.tgz", version="^1", repositoryOpts=None), PROD) == [
        "Helm release 'subject' (chart https://charts.example.com/demo-1.2.3.tgz) has version '^1', a range, not one exact version"]


@pytest.mark.parametrize("chart", ["./charts/demo", "../shared/charts/demo", "/srv/charts/demo"])
def test_a_chart_of_the_programs_own_repository_is_pinned_by_its_commit(chart):
    assert RULE.run(_release(chart=chart, version=None, repositoryOpts=None), PROD) == []
