"""The component contract's base class (platform_lib.core.component), on a small test component."""

from __future__ import annotations

from typing import Annotated, Any

import pulumi
import pulumi_aws as aws
import pytest

from platform_lib.core.component import Component, ComponentArgs
from platform_lib.core.errors import ComponentArgsError
from platform_lib.core.inputs import Input, InputCheck
from platform_lib.testing import PreviewError, find, find_all, preview

CONFIG = {"aws:region": "eu-west-1"}


class ProbeArgs(ComponentArgs):
    """Two children's worth of arguments: a subnet id (an Input) and a size."""

    subnet_id: Annotated[Input[str], InputCheck.matching(r"subnet-[0-9a-f]{8,17}", "a subnet id (subnet-...)")]
    size_gib: int = 10


class Probe(Component[ProbeArgs], type_token="mlplat:aws:Probe"):
    volume_id: pulumi.Output[str]

    def _create(self, name: str, args: ProbeArgs) -> dict[str, Any]:
        volume = aws.ebs.Volume(f"{name}-volume", availability_zone="eu-west-1a", size=args.size_gib, opts=self.child_options())
        aws.ec2.Tag(f"{name}-tag", resource_id=args.subnet_id, key="probe", value=name, opts=self.child_options(depends_on=[volume]))
        return {"volume_id": volume.id}


def _children(plan, name="probe"):
    component = find(plan, "mlplat:aws:Probe", name)
    return component, [r for r in plan.resources if r.parent == component.urn]


def test_args_and_keyword_forms_register_the_same_resources():
    by_kwargs = preview(lambda: Probe("probe", subnet_id="subnet-0123abcd", size_gib=20), config=CONFIG)
    by_args = preview(lambda: Probe("probe", ProbeArgs(subnet_id="subnet-0123abcd", size_gib=20)), config=CONFIG)
    by_mapping = preview(lambda: Probe("probe", {"subnet_id": "subnet-0123abcd", "size_gib": 20}), config=CONFIG)
    shapes = [[(r.type, r.name, r.inputs) for r in plan.resources] for plan in (by_kwargs, by_args, by_mapping)]
    assert shapes[0] == shapes[1] == shapes[2]
    assert find(by_kwargs, "aws:ebs/volume:Volume").inputs["size"] == 20


def test_caller_options_reach_every_child():
    def program():
        provider = aws.Provider("explicit", region="eu-central-1")
        gate = aws.s3.Bucket("gate")
        Probe("probe", subnet_id="subnet-0123abcd", opts=pulumi.ResourceOptions(provider=provider, protect=True, retain_on_delete=True, depends_on=[gate]))

    plan = preview(program, config=CONFIG)
    provider = find(plan, "pulumi:providers:aws", "explicit")
    gate = find(plan, "aws:s3/bucket:Bucket", "gate")
    _, children = _children(plan)
    assert len(children) == 2
    for child in children:
        assert child.options.provider.startswith(provider.urn), child.name
        assert child.options.protect is True, child.name
        assert child.options.retain_on_delete is True, child.name
        assert gate.urn in child.options.depends_on, child.name
    # The component's own depends_on is kept beside what a child adds.
    tag = find(plan, "aws:ec2/tag:Tag")
    assert find(plan, "aws:ebs/volume:Volume").urn in tag.options.depends_on


def test_without_options_children_are_unprotected_and_on_the_default_provider():
    plan = preview(lambda: Probe("probe", subnet_id="subnet-0123abcd"), config=CONFIG)
    _, children = _children(plan)
    assert all(not c.options.protect and not c.options.retain_on_delete for c in children)
    assert all(c.options.provider == "" for c in children), "the default provider"


def test_registered_outputs_are_the_declared_attributes():
    seen = {}

    def program():
        seen["probe"] = Probe("probe", subnet_id="subnet-0123abcd")

    plan = preview(program, config=CONFIG)
    component, _ = _children(plan)
    assert set(component.outputs) == {"volume_id"} == set(Probe.output_names)
    assert isinstance(seen["probe"].volume_id, pulumi.Output)


def test_a_plain_value_is_checked_before_anything_is_registered():
    with pytest.raises(PreviewError) as caught:
        preview(lambda: Probe("probe", subnet_id="vpc-123", size_gib="big"), config=CONFIG)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [str(issue) for issue in error.issues] == [
        "Probe(probe).subnet_id: got 'vpc-123'; expected a subnet id (subnet-...)",
        "Probe(probe).size_gib: got 'big'; expected a whole number",
    ]
    assert find_all(caught.value.plan, "mlplat:aws:Probe") == []


def test_args_and_keywords_together_are_refused():
    with pytest.raises(ComponentArgsError, match="either an args object or keyword arguments"):
        Probe.validate_args("probe", ProbeArgs(subnet_id="subnet-0123abcd"), size_gib=3)


def test_unknown_keyword_is_refused_by_name():
    with pytest.raises(ComponentArgsError) as caught:
        Probe.validate_args("probe", subnet_id="subnet-0123abcd", sise_gib=3)
    assert [issue.path for issue in caught.value.issues] == ["Probe(probe).sise_gib"]


def test_a_malformed_type_token_is_a_class_definition_error():
    with pytest.raises(TypeError, match="type token"):

        class Bad(Component[ProbeArgs], type_token="aws:Probe"):  # noqa: F841
            pass


def test_outputs_must_match_the_declared_attributes():
    class Sloppy(Component[ProbeArgs], type_token="mlplat:aws:Sloppy"):
        volume_id: pulumi.Output[str]

        def _create(self, name, args):
            return {"volume": None}

    with pytest.raises(PreviewError) as caught:
        preview(lambda: Sloppy("sloppy", subnet_id="subnet-0123abcd"), config=CONFIG)
    assert isinstance(caught.value.__cause__, TypeError)


def test_an_output_value_is_accepted_and_checked_when_known():
    def good():
        subnet = aws.ec2.Subnet("subnet", vpc_id="vpc-0123abcd", cidr_block="10.0.0.0/24")
        Probe("probe", subnet_id=subnet.id.apply(lambda _: "subnet-0123abcd"))

    plan = preview(good, config=CONFIG)
    assert find(plan, "aws:ec2/tag:Tag").inputs["resourceId"] == "subnet-0123abcd"

    def bad():
        Probe("probe", subnet_id=pulumi.Output.from_input("sg-0123abcd"))

    with pytest.raises(PreviewError) as caught:
        preview(bad, config=CONFIG)
    error = caught.value.__cause__
    assert isinstance(error, ComponentArgsError)
    assert [issue.path for issue in error.issues] == ["Probe(probe).subnet_id"]
    assert "sg-0123abcd" not in str(error), "a late value is not echoed: it may be a secret"
