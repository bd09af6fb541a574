"""docs/testing.md: every ``python`` block runs, in order, and every test it defines passes."""

from __future__ import annotations

import re

import pytest

from platform_lib.preview import mocks

from .conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "testing.md"


def _blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)


@pytest.fixture(scope="module")
def doc_tests(tmp_path_factory):
    """The doc's test functions, defined by running its blocks from the repository root."""
    namespace: dict = {"__name__": "docs_testing_md"}
    for block in _blocks():
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - the documentation's own examples
    tests = {name: value for name, value in namespace.items() if name.startswith("test_") and callable(value)}
    yield tests
    mocks._INVOKE_HANDLERS.pop("aws:ec2/getVpc:getVpc", None)  # registered by the doc's last block


def test_the_doc_has_the_examples_it_promises(doc_tests):
    assert len(_blocks()) >= 6
    assert {"test_the_feature_bucket_is_private_and_encrypted", "test_options_reach_the_engine", "test_the_stack_passes_the_policy_pack",
            "test_a_registered_invoke_answer_is_used"} <= set(doc_tests)


def test_every_test_of_the_doc_passes(doc_tests, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    for name, test in doc_tests.items():
        try:
            test()
        except Exception as error:  # noqa: BLE001 - re-raised with the test's name
            raise AssertionError(f"docs/testing.md: {name} failed: {error!r}") from error
