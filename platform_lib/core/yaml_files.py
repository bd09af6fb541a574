"""Reading YAML files the way the Pulumi CLI does: a duplicate key or an alias bomb is refused.

PyYAML's ``safe_load`` lets the last of two equal keys win silently, and expands aliases on use,
so a 2 kB file of nested aliases becomes millions of values once printed or serialised. The
Pulumi CLI reads ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` with go-yaml v3, which refuses both
("mapping key ... already defined at line N"; "document contains excessive aliasing"; source:
``decode.go`` in github.com/go-yaml/yaml v3). :func:`load_yaml` does the same with PyYAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

#: The most values a document may hold once its aliases are expanded. A stack file of this
#: project holds a few hundred; go-yaml v3 refuses heavy aliasing past a few hundred thousand.
MAX_EXPANDED_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class ExcessiveAliasingError(yaml.YAMLError):
    """The document's aliases expand to more than :data:`MAX_EXPANDED_NODES` values, or refer to themselves."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a mapping holding the same key twice (merge keys ``<<`` aside)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    earlier = first_line.get(key)
                except TypeError:  # an unhashable key: SafeLoader reports it below
                    continue
                if earlier is not None:
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f"found duplicate key {key!r} (first defined at line {earlier})", key_node.start_mark)
                first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Node, sizes: dict[int, int | None]) -> int:
    """How many values ``node`` stands for once every alias is expanded (each shared node counted once per use)."""
    key = id(node)
    if key in sizes:
        size = sizes[key]
        if size is None:
            raise ExcessiveAliasingError(f"an alias refers to the value that contains it (line {node.start_mark.line + 1})")
        return size
    sizes[key] = None
    if isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    else:
        size = 1
    sizes[key] = size
    return size


def load_yaml(text: str, source: str = "<string>") -> Any:
    """Parse one YAML document with PyYAML's safe constructors, refusing what the Pulumi CLI refuses.

    Args:
        text: the document.
        source: the file name shown in error positions.

    Returns:
        The document's value (None for an empty document).

    Raises:
        yaml.YAMLError: not valid YAML; a mapping with a duplicate key
            (:class:`yaml.constructor.ConstructorError` naming the key and both lines); aliases
            expanding past :data:`MAX_EXPANDED_NODES` values or to themselves
            (:class:`ExcessiveAliasingError`).
    """
    loader = _UniqueKeyLoader(text)
    loader.name = source
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, {})
        if size > MAX_EXPANDED_NODES:
            raise ExcessiveAliasingError(f"its aliases expand to {size:,} values (at most {MAX_EXPANDED_NODES:,} are read)")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml_file(path: Path | str) -> Any:
    """:func:`load_yaml` of a UTF-8 file.

    Raises:
        OSError: the file cannot be read.
        UnicodeDecodeError: the file is not UTF-8 text.
        yaml.YAMLError: as :func:`load_yaml`.
    """
    return load_yaml(Path(path).read_text(encoding="utf-8"), str(path))
