"""The process switches of platform_lib.tuning."""

from __future__ import annotations

import gc

import pytest

from platform_lib.tuning import GC_THRESHOLDS, enabled, tune_garbage_collection


@pytest.mark.parametrize(("value", "on"), [(None, True), ("1", True), ("yes", True), ("0", False), ("false", False), ("OFF", False), ("no", False)])
def test_switches_are_on_unless_turned_off(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv("MLPLAT_SOME_SWITCH", raising=False)
    else:
        monkeypatch.setenv("MLPLAT_SOME_SWITCH", value)
    assert enabled("MLPLAT_SOME_SWITCH") is on


@pytest.fixture
def collector_state():
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    yield
    gc.set_threshold(*thresholds)
    if not frozen:
        gc.unfreeze()


def test_tuning_freezes_what_is_alive_and_raises_the_thresholds(collector_state):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    alive_before = len(gc.get_objects())
    assert tune_garbage_collection(True) is True
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() >= alive_before // 2


def test_tuning_switched_off_leaves_the_collector_alone(monkeypatch, collector_state):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    monkeypatch.setenv("MLPLAT_GC_TUNING", "0")
    assert tune_garbage_collection() is False
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
