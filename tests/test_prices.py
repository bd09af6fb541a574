"""The price data of the cost policies (platform_lib/policy/data/prices.json): every price has its
source and recorded date, the file is not older than its maxAgeDays, and it agrees with the
platform's own instance facts."""

from __future__ import annotations

import datetime
import re

import pytest

from platform_lib.aws.gpu_training_box import EC2_GPU_INSTANCE_TYPES
from platform_lib.policy.environments import ENVIRONMENT_VALUES
from platform_lib.policy.rules.cost import EC2_MACHINES, GCE_MACHINES, price_data

DATA = price_data()
ENTRIES = [(section, name, entry) for section in ("ec2", "gceMachines", "gceGpus") for name, entry in DATA[section].items()]


def _date(entry) -> datetime.date:
    return datetime.date.fromisoformat(entry["date"])


@pytest.mark.parametrize(("section", "name", "entry"), ENTRIES, ids=[f"{s}:{n}" for s, n, _ in ENTRIES])
def test_every_price_has_a_source_url_and_a_recorded_date(section, name, entry):
    assert re.fullmatch(r"https://\S+", entry["source"]), f"{section}.{name}: source must be an https URL"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["date"]) and _date(entry) <= datetime.date.today()
    price = entry["hourlyUsd"] if section != "gceGpus" else entry["hourlyUsdPerGpu"]
    assert isinstance(price, (int, float)) and price > 0


def test_the_prices_are_not_older_than_max_age_days():
    """Fails when the oldest recorded price is more than maxAgeDays (180) old: refresh the prices
    from their sources (and their dates) before the cost policies judge budgets with stale figures."""
    oldest = min(_date(entry) for _, _, entry in ENTRIES)
    age = (datetime.date.today() - oldest).days
    assert age <= DATA["maxAgeDays"], f"prices.json's oldest price is {age} days old (recorded {oldest}); refresh it (maxAgeDays {DATA['maxAgeDays']})"


def test_machine_shapes_are_plausible():
    for name, machine in {**EC2_MACHINES, **GCE_MACHINES}.items():
        assert machine.vcpus > 0 and machine.memory_gib > 0 and machine.gpus >= 0, name


def test_gpu_counts_agree_with_the_gpu_box_facts():
    wrong = {name: (m.gpus, EC2_GPU_INSTANCE_TYPES[name].count) for name, m in EC2_MACHINES.items()
             if name in EC2_GPU_INSTANCE_TYPES and m.gpus != EC2_GPU_INSTANCE_TYPES[name].count}
    assert wrong == {}


def test_every_allowlisted_type_has_a_price():
    """The environments' allowlists only name types the budget policies can price."""
    missing = {env: [t for t in values["allowedInstanceTypes"] if t not in EC2_MACHINES] + [t for t in values["allowedMachineTypes"] if t not in GCE_MACHINES]
               for env, values in ENVIRONMENT_VALUES.items()}
    assert {env: types for env, types in missing.items() if types} == {}
