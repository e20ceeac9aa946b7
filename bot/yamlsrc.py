"""YAML loading that remembers where every value came from, so errors can say file:line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes and marks,
# ten times faster than the pure-Python one on the FAQ's thousands of example questions
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """SafeLoader that keeps dates as text: coordinators write "2026-11-23", code parses it."""


# Keep dates as text, and only true/false as booleans: YAML 1.1 reads "no", "si"-like words
# such as "no", "on", "off", "yes" as booleans, which would turn the Spanish word "no" into False.
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth a look) in a content file."""

    file: str
    line: int
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed YAML file with the 1-based line of every mapping key and list item."""

    file: str
    data: Any
    lines: dict[Path_, int]

    def line(self, path: Path_) -> int:
        """Line of `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 1


def load(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML file; on a syntax error return no document and a Problem with its line."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, 1, f"cannot read file: {exc}")]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [Problem(name, 1, "file is empty")]
        problems: list[Problem] = []
        lines: dict[Path_, int] = {}
        _walk(node, (), lines, problems, name)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        return None, [Problem(name, line, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    return Document(name, data, lines), problems


def _walk(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[Problem], name: str
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(name, line, f"duplicate key '{key}' (first on line {seen[key]})")
                )
            seen[key] = line
            lines[(*path, key)] = line
            # a block scalar's text starts on the line after its key
            _walk(value_node, (*path, key), lines, problems, name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines, problems, name)
