"""Helm releases pinned by chart version, their values checked against the chart's own schema.

The platform installs third-party software (monitoring, Argo Rollouts, the AWS Load Balancer
Controller, ...) as Helm charts through ``kubernetes.helm.v3.Release``. Three rules hold for every
one of them:

- **One place pins versions**: :data:`CHARTS` maps each chart's name to a :class:`ChartSpec` with
  an exact chart version (never a range: ``^1.2``, ``~1.2``, ``>=1.2``, ``1.2.x`` or ``*`` are
  refused when the spec is made). The policy ``helm-release-pinned-version`` refuses any
  ``kubernetes:helm.sh/v3:Release`` without one, so a release made by hand is gated too.
- **Values are checked offline**: no chart can be downloaded in a preview, so where a chart
  publishes a ``values.schema.json`` it is vendored under ``platform_lib/k8s/charts/``
  (``<chart>-<version>.values.schema.json``; source, chart version, commit and licence in
  ``charts/SOURCES.md``) and :func:`validate_chart_values` checks the release's values against it
  before anything is registered, as ``helm install`` would (Helm validates the values against the
  chart's ``values.schema.json``; source: Helm docs, "Charts", "Schema Files"). A chart without a
  schema has its ``values.yaml`` vendored instead, and a release's top-level keys must be keys of
  it (Helm ignores any other, so one is a typo). A test checks that each pinned version is the
  version its schema (or values.yaml) came from.
- **Failed upgrades roll back**: :func:`pinned_release` sets ``atomic`` (a failed install or
  upgrade is rolled back) and ``cleanup_on_fail``, and waits for the release's resources
  (``skip_await`` false) so a stack's later resources (a Rollout needing the Argo CRDs) come after
  a working controller.

Adding or upgrading a chart: set its :class:`ChartSpec` in :data:`CHARTS` (other modules may add
entries: ``CHARTS["jupyterhub"] = ChartSpec(...)``), vendor the schema of exactly that chart
version when the chart publishes one (else optionally its ``values.yaml``), record it in
``charts/SOURCES.md``, run the tests.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import pulumi
import pulumi_kubernetes as k8s

from ..core.errors import ComponentArgsError, Issue
from ..core.inputs import is_output
from ..core.versions import is_exact_version

__all__ = [
    "CHARTS",
    "CHARTS_DIR",
    "ChartSpec",
    "RELEASE_TIMEOUT_SECONDS",
    "RELEASE_MAX_HISTORY",
    "chart_default_keys",
    "chart_schema",
    "is_exact_version",
    "pinned_release",
    "validate_chart_values",
]

#: Where the vendored ``values.schema.json`` files and ``SOURCES.md`` live.
CHARTS_DIR = Path(__file__).parent / "charts"

#: How long each Kubernetes operation of the release may take before it fails (and, with
#: ``atomic``, rolls back), in seconds (pulumi-kubernetes' ``timeout``). Helm's own default is
#: 300; kube-prometheus-stack's CRDs and admission webhook job take longer on a fresh cluster.
RELEASE_TIMEOUT_SECONDS = 900
#: How many release revisions Helm keeps (its Secrets in the release namespace): the default of
#: ``helm upgrade --history-max``, made explicit (pulumi-kubernetes' ``max_history``: "Limit the
#: maximum number of revisions saved per release. Use 0 for no limit").
RELEASE_MAX_HISTORY = 10


@dataclass(frozen=True)
class ChartSpec:
    """One pinned Helm chart.

    Attributes:
        name: the chart's name in its repository, e.g. ``kube-prometheus-stack``.
        version: the exact chart version, e.g. ``77.0.0``; a range is refused (``ValueError``).
        repository: the Helm repository, an ``https://`` URL (``helm repo add``) or an ``oci://``
            registry path (the chart is then ``<repository>/<name>``).
        schema: the file name under :data:`CHARTS_DIR` of the vendored ``values.schema.json``
            (``<name>-<version>.values.schema.json``), or ``None`` when the chart publishes none.
        defaults: the file name under :data:`CHARTS_DIR` of the chart's vendored ``values.yaml``
            (``<name>-<version>.values.yaml``), for a chart without a schema: a release's
            top-level keys must be keys of it (a misspelt key, which Helm would silently ignore,
            is refused). ``None``: no such check.

    Raises:
        ValueError: a version that is not exact, a repository that is neither ``https://`` nor
            ``oci://``, or a schema or defaults file name that does not name this chart and version.
    """

    name: str
    version: str
    repository: str
    schema: str | None = None
    defaults: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", self.name or ""):
            raise ValueError(f"ChartSpec.name: got {self.name!r}; expected a chart name (lower case letters, digits and '-')")
        if not is_exact_version(self.version):
            raise ValueError(f"ChartSpec({self.name}).version: got {self.version!r}; expected one exact chart version such as '1.2.3', never a range")
        if not re.fullmatch(r"(https|oci)://[^\s]+", self.repository or ""):
            raise ValueError(f"ChartSpec({self.name}).repository: got {self.repository!r}; expected an https:// Helm repository URL or an oci:// registry")
        if self.schema is not None and self.schema != f"{self.name}-{self.version}.values.schema.json":
            raise ValueError(f"ChartSpec({self.name}).schema: got {self.schema!r}; expected '{self.name}-{self.version}.values.schema.json' (the schema of exactly this version)")
        if self.defaults is not None and self.defaults != f"{self.name}-{self.version}.values.yaml":
            raise ValueError(f"ChartSpec({self.name}).defaults: got {self.defaults!r}; expected '{self.name}-{self.version}.values.yaml' (the values.yaml of exactly this version)")

    @property
    def is_oci(self) -> bool:
        """Whether the chart comes from an OCI registry rather than an HTTP Helm repository."""
        return self.repository.startswith("oci://")


#: Every chart the platform installs, by chart name: the one place chart versions are pinned.
#: Sources and dates of each pin are in ``platform_lib/k8s/charts/SOURCES.md``.
CHARTS: dict[str, ChartSpec] = {
    "kube-prometheus-stack": ChartSpec(
        "kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts",
        defaults="kube-prometheus-stack-88.5.3.values.yaml",
    ),
    "argo-rollouts": ChartSpec("argo-rollouts", "2.41.0", "https://argoproj.github.io/argo-helm", defaults="argo-rollouts-2.41.0.values.yaml"),
    "aws-load-balancer-controller": ChartSpec(
        "aws-load-balancer-controller", "3.5.0", "https://aws.github.io/eks-charts",
        defaults="aws-load-balancer-controller-3.5.0.values.yaml",
    ),
    "metrics-server": ChartSpec("metrics-server", "3.13.1", "https://kubernetes-sigs.github.io/metrics-server/", defaults="metrics-server-3.13.1.values.yaml"),
    "nvidia-device-plugin": ChartSpec("nvidia-device-plugin", "0.20.0", "https://nvidia.github.io/k8s-device-plugin", defaults="nvidia-device-plugin-0.20.0.values.yaml"),
    "opentelemetry-collector": ChartSpec(
        "opentelemetry-collector", "0.170.0", "https://open-telemetry.github.io/opentelemetry-helm-charts",
        schema="opentelemetry-collector-0.170.0.values.schema.json",
    ),
    # A team's JupyterHub (MlWorkspace, platform_lib/k8s/ml_workspace.py): Zero to JupyterHub.
    "jupyterhub": ChartSpec("jupyterhub", "4.4.0", "https://hub.jupyter.org/helm-chart/", schema="jupyterhub-4.4.0.values.schema.json"),
    # ObservabilityStack (platform_lib/k8s/observability.py): GPU metrics, traces, logs. Grafana's tempo
    # and loki charts moved to the grafana-community repository in 2026 (grafana/helm-charts README).
    "dcgm-exporter": ChartSpec("dcgm-exporter", "4.8.2", "https://nvidia.github.io/dcgm-exporter/helm-charts"),
    "tempo": ChartSpec("tempo", "2.2.4", "https://grafana-community.github.io/helm-charts"),
    "prometheus-pushgateway": ChartSpec("prometheus-pushgateway", "3.8.0", "https://prometheus-community.github.io/helm-charts"),
    "loki": ChartSpec("loki", "18.11.0", "https://grafana-community.github.io/helm-charts", schema="loki-18.11.0.values.schema.json"),
}


@lru_cache(maxsize=None)
def _load_schema(file_name: str) -> dict[str, Any]:
    return json.loads((CHARTS_DIR / file_name).read_text(encoding="utf-8"))


def chart_schema(chart: ChartSpec) -> dict[str, Any] | None:
    """The chart's vendored ``values.schema.json`` as a dict, ``None`` when it publishes none.

    Raises:
        FileNotFoundError: the spec names a schema file that is not vendored (a packaging bug).
    """
    return None if chart.schema is None else _load_schema(chart.schema)


class _Later:
    """Stands for an Output in the values while they are checked: its value is not known yet."""

    def __repr__(self) -> str:
        return "<the value of an Output>"


_LATER = _Later()


def _plain(value: Any) -> Any:
    """The values with every Output (and awaitable) replaced by :data:`_LATER`, mappings as dicts."""
    if is_output(value):
        return _LATER
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _strip_required(schema: Any) -> Any:
    """The schema without ``required``: Helm checks the values *merged over the chart's defaults*
    (``values.yaml``), which fill the required keys; only the overrides are at hand here."""
    if isinstance(schema, dict):
        return {key: _strip_required(item) for key, item in schema.items() if key != "required"}
    if isinstance(schema, list):
        return [_strip_required(item) for item in schema]
    return schema


@lru_cache(maxsize=None)
def _default_keys(file_name: str) -> frozenset[str]:
    import yaml

    # libyaml's loader when present: kube-prometheus-stack's values.yaml is 200 kB (0.4 s in pure Python).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return frozenset(yaml.load((CHARTS_DIR / file_name).read_text(encoding="utf-8"), Loader=loader) or {})  # noqa: S506 - a safe loader


def chart_default_keys(chart: ChartSpec) -> frozenset[str] | None:
    """The top-level keys of the chart's vendored ``values.yaml``, ``None`` when none is vendored."""
    return None if chart.defaults is None else _default_keys(chart.defaults)


def _unknown_top_level_keys(chart: ChartSpec, values: Mapping[str, Any], field: str) -> list[Issue]:
    known = chart_default_keys(chart)
    if known is None:
        return []
    issues = []
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            issues.append(Issue(f"{field}.{key}", values[key],
                                f"no such key: not a top-level key of the chart's values.yaml, so Helm would ignore it{hint} (values.yaml of {chart.name} {chart.version})"))
    return issues


@lru_cache(maxsize=None)
def _validator(file_name: str) -> Any:
    from jsonschema import Draft7Validator
    from jsonschema.validators import validator_for

    schema = _strip_required(_load_schema(file_name))
    # Chart schemas mostly name no draft or a generic URI ("http://json-schema.org/schema#"):
    # draft-07, what Helm 3's validator (gojsonschema) implements, unless they name another draft.
    cls = validator_for(schema, default=Draft7Validator)
    return cls(schema)


def _json_path(field: str, path: Any) -> str:
    text = field
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _mentions_later(instance: Any) -> bool:
    if instance is _LATER:
        return True
    if isinstance(instance, dict):
        return any(_mentions_later(item) for item in instance.values())
    if isinstance(instance, list):
        return any(_mentions_later(item) for item in instance)
    return False


def _expected(error: Any) -> str:
    """What the schema expected at the failing value, in words."""
    keyword, expected = error.validator, error.validator_value
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"a value of JSON type {' or '.join(kinds)}"
    if keyword == "enum":
        return f"one of {expected!r}"
    if keyword == "const":
        return f"exactly {expected!r}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "pattern"):
        return f"{keyword} {expected!r}"
    if keyword in ("anyOf", "oneOf"):
        return f"a value matching {keyword} of the schema at {'/'.join(str(p) for p in error.schema_path)}"
    return error.message


def _unexpected_keys(error: Any) -> list[str]:
    """The keys an ``additionalProperties: false`` error is about: not in ``properties`` and
    matching no ``patternProperties``."""
    known = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [key for key in error.instance if key not in known and not any(p.search(key) for p in patterns)]


def _issues(chart: ChartSpec, values: Any, field: str) -> Iterator[Issue]:
    validator = _validator(chart.schema)
    source = f"(values.schema.json of {chart.name} {chart.version})"
    for error in sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path]):
        path = _json_path(field, error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False and isinstance(error.instance, dict):
            known = sorted(error.schema.get("properties", {}))
            for key in _unexpected_keys(error):
                close = difflib.get_close_matches(key, known, n=3)
                hint = f"; did you mean {' or '.join(close)}?" if close else f"; the keys allowed here: {', '.join(known) or 'none'}"
                yield Issue(f"{path}.{key}", error.instance[key],
                            f"no such key: the chart allows no other keys here{hint} {source}")
        elif not _mentions_later(error.instance):
            yield Issue(path, error.instance, f"{_expected(error)} {source}")


def validate_chart_values(chart: ChartSpec, values: Mapping[str, Any], *, field: str) -> None:
    """Check a release's values against the chart's vendored ``values.schema.json``.

    What is checked: everything the schema says of the values given (types, enums, unknown keys
    where the chart forbids them, bounds, patterns), except ``required`` keys: Helm validates the
    values merged over the chart's own defaults, which supply them. A value that is a
    ``pulumi.Output`` is not known yet and is skipped (the keys around it are still checked).
    A chart without a schema but with its ``values.yaml`` vendored (:attr:`ChartSpec.defaults`)
    takes only the top-level keys that file has (Helm ignores any other, so one is a typo; deeper
    keys are not checked: many of a chart's maps, such as ``podAnnotations``, take any key). A
    chart with neither only needs a mapping.

    Args:
        chart: the pinned chart.
        values: the release's values (plain data; Outputs allowed as leaves).
        field: where the values were given, the start of every error path, e.g.
            ``PlatformAddons(prod).otel_collector_values``.

    Raises:
        ComponentArgsError: one issue per schema violation, each at its JSON path
            (``<field>.config.receivers[0]``), with the value given and what the schema expected;
            a key the schema does not allow is named at its own path, with the closest allowed
            keys (``did you mean replicaCount?``).
    """
    if not isinstance(values, Mapping):
        raise ComponentArgsError(f"invalid Helm values for chart {chart.name} {chart.version}; nothing was created",
                                 [Issue(field, values, "a mapping of Helm values")])
    issues = _unknown_top_level_keys(chart, values, field)
    if chart.schema is not None:
        issues += list(_issues(chart, _plain(values), field))
    issues.sort(key=lambda issue: issue.path)
    if issues:
        raise ComponentArgsError(f"invalid Helm values for chart {chart.name} {chart.version}; nothing was created", issues)


def pinned_release(
    name: str,
    chart: ChartSpec,
    *,
    namespace: pulumi.Input[str],
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
    create_namespace: bool = False,
    release_name: str | None = None,
) -> k8s.helm.v3.Release:
    """A ``kubernetes.helm.v3.Release`` of exactly ``chart.version``, its values checked first.

    Args:
        name: the Pulumi logical name.
        chart: the pinned chart (an entry of :data:`CHARTS`).
        namespace: the release's namespace.
        values: the chart values (Outputs allowed as leaves); checked with
            :func:`validate_chart_values` (field ``<name>.values``) before registering.
        opts: the resource options (e.g. a component's ``child_options()``).
        create_namespace: let Helm create the namespace (the platform makes its namespaces as
            ``Namespace`` objects with labels, so off by default).
        release_name: the Helm release name (at most 53 characters, Helm's limit); default the
            chart's name, so the chart's object names are stable and predictable (no random suffix).

    Returns:
        The release: ``chart``, ``version``, ``repository_opts.repo`` (or an ``oci://`` chart
        reference), ``atomic``, ``cleanup_on_fail``, ``skip_await=False``, ``timeout``
        (:data:`RELEASE_TIMEOUT_SECONDS`) and ``max_history`` (:data:`RELEASE_MAX_HISTORY`).

    Raises:
        ComponentArgsError: the values break the chart's schema, or the release name is not a
            DNS label of at most 53 characters; nothing is registered.
    """
    release = release_name if release_name is not None else chart.name
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", release) or len(release) > 53:
        raise ComponentArgsError(f"invalid Helm release {name}; nothing was created",
                                 [Issue(f"{name}.release_name", release, "a DNS label of at most 53 characters (Helm's limit on release names)")])
    validate_chart_values(chart, values, field=f"{name}.values")
    if chart.is_oci:
        chart_ref, repository_opts = f"{chart.repository.rstrip('/')}/{chart.name}", None
    else:
        chart_ref, repository_opts = chart.name, k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository)
    return k8s.helm.v3.Release(
        name,
        chart=chart_ref,
        version=chart.version,
        repository_opts=repository_opts,
        name=release,
        namespace=namespace,
        create_namespace=create_namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        skip_await=False,
        skip_crds=False,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=RELEASE_MAX_HISTORY,
        opts=opts,
    )
