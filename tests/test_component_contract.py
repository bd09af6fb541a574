"""The component contract, one parametrised suite over every public component (tests/cases/).

For each component: an explicit provider reaches every child; protect, retain_on_delete and
depends_on reach every child; Output-valued identifiers are accepted; legacy transformations see
every child; child names start with the component's name; the keyword and args forms give the same
plan; the kwargs TypedDict names exactly the args model's fields; and the documented minimum
arguments pass every mandatory policy of the shipped pack at prod levels.
"""

from __future__ import annotations

import typing

import pulumi
import pytest

from platform_lib.policy.gate import mandatory_violations, run_gate
from platform_lib.testing import find, preview

from .cases import ComponentCase, all_cases
from .conftest import REPO_ROOT

CASES = all_cases()


def _descendants(plan, root_urn: str):
    """Every resource below ``root_urn`` in the parent tree, in registration order."""
    below = {root_urn}
    found = []
    for resource in plan.resources:  # registration order: a parent always comes before its children
        if resource.parent in below:
            below.add(resource.urn)
            found.append(resource)
    return found


def _build(case: ComponentCase, opts: pulumi.ResourceOptions | None = None, kwargs: dict | None = None):
    component = case.component(case.name, opts=opts, **(kwargs if kwargs is not None else case.minimal()))
    if case.after is not None:
        case.after(component)
    return component


def _subject(plan, case: ComponentCase):
    return find(plan, case.component.type_token, case.name)


@pytest.fixture(params=CASES, ids=lambda case: case.id)
def case(request) -> ComponentCase:
    return request.param


def test_every_public_component_has_a_case():
    import platform_lib

    assert {case.component.__name__ for case in CASES} == set(platform_lib.COMPONENTS)


def test_an_explicit_provider_reaches_every_child(case):
    def program():
        provider = case.provider("explicit")
        _build(case, pulumi.ResourceOptions(provider=provider))

    plan = preview(program, config=case.config)
    provider = find(plan, f"pulumi:providers:{case.provider_package}", "explicit")
    children = [r for r in _descendants(plan, _subject(plan, case).urn) if r.custom and r.type.startswith(f"{case.provider_package}:")]
    assert children, "the component registers resources of its provider's package"
    wrong = [r.name for r in children if not r.options.provider.startswith(provider.urn)]
    assert wrong == [], f"children not on the explicit provider: {wrong}"


def test_protect_and_retain_on_delete_reach_every_child(case):
    plan = preview(lambda: _build(case, pulumi.ResourceOptions(protect=True, retain_on_delete=True)), config=case.config)
    descendants = _descendants(plan, _subject(plan, case).urn)
    assert [r.name for r in descendants if not r.options.protect] == []
    assert [r.name for r in descendants if r.custom and not r.options.retain_on_delete] == []


def test_without_options_nothing_is_protected(case):
    """Environment policy (prod protection) belongs to the platform layer, never to a component."""
    plan = preview(lambda: _build(case), config=case.config)
    descendants = _descendants(plan, _subject(plan, case).urn)
    assert [r.name for r in descendants if r.options.protect or r.options.retain_on_delete] == []


def test_depends_on_reaches_every_child(case):
    def program():
        gate = case.provider("gate")  # a provider is a custom resource: anything to depend on
        _build(case, pulumi.ResourceOptions(depends_on=[gate]))

    plan = preview(program, config=case.config)
    gate = find(plan, f"pulumi:providers:{case.provider_package}", "gate")
    custom = [r for r in _descendants(plan, _subject(plan, case).urn) if r.custom]
    assert [r.name for r in custom if gate.urn not in r.options.depends_on] == []


def test_output_valued_identifiers_are_accepted(case):
    plan = preview(lambda: _build(case, kwargs=case.with_outputs()), config=case.config)
    children = [r for r in _descendants(plan, _subject(plan, case).urn) if r.custom]
    assert children, "the component registered its resources"


def test_transformations_see_every_child(case):
    seen: list[str] = []

    def record(args: pulumi.ResourceTransformationArgs):
        seen.append(args.name)
        return None

    plan = preview(lambda: _build(case, pulumi.ResourceOptions(transformations=[record])), config=case.config)
    assert [r.name for r in _descendants(plan, _subject(plan, case).urn) if r.name not in seen] == []


def test_child_names_start_with_the_component_name(case):
    plan = preview(lambda: _build(case), config=case.config)
    names = [r.name for r in _descendants(plan, _subject(plan, case).urn)]
    assert [n for n in names if n != case.name and not n.startswith(f"{case.name}-")] == []


def test_keyword_and_args_forms_give_the_same_plan(case):
    def by_args():
        component = case.component(case.name, case.component.args_model(**case.minimal()))
        if case.after is not None:
            case.after(component)

    shapes = [
        sorted((r.urn, r.parent, repr(r.inputs)) for r in preview(program, config=case.config).resources)
        for program in (lambda: _build(case), by_args)
    ]
    assert shapes[0] == shapes[1]


def test_keyword_typed_dict_names_the_args_fields(case):
    overloads = typing.get_overloads(case.component.__init__)
    assert len(overloads) == 2, "one overload with the args model, one with keyword arguments"
    module = __import__(case.component.__module__, fromlist=["*"])
    annotation = str(typing.get_type_hints(overloads[1], globalns=vars(module), include_extras=True).get("kwargs"))
    typed_dict_name = annotation.rsplit(".", 1)[-1].rstrip("]")
    typed_dict = getattr(module, typed_dict_name)
    assert set(typed_dict.__annotations__) == set(case.component.args_model.model_fields)


def test_minimum_arguments_pass_every_mandatory_policy_in_prod(case, policy_gate):
    plan = preview(lambda: _build(case), config=case.config, stack="prod")
    violations = run_gate(plan, pack_dir=REPO_ROOT / "policies", stack_config={"mlplat:environment": "prod"}, gate=policy_gate)
    assert [(v["policy"], v["resource_name"], v["message"]) for v in mandatory_violations(violations)] == []
