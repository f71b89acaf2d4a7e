"""Rewrite a JSON file's text for new content while keeping the user's own bytes.

`hooks install` adds a few entries to an agent's settings.json, which the user wrote by hand:
re-serializing the whole file would re-indent every line of theirs (and a diff would show them all
as changed). Instead the old text is parsed with each value's position, and only what changed is
written anew:

- a value equal to the old one is copied byte for byte (its layout, spacing, key order);
- an object or array whose members changed keeps its brackets, the text between its members and
  the members that did not change; a new member is written after the last one, with the separator
  the container already uses, in the file's indent (detected: tabs or N spaces, else 2) or on one
  line when the container was on one line; a removed member goes with its separator.

The result is parsed again and compared: if it is not exactly the new content (it always should be),
the file is written whole with `json.dumps` in the detected indent, keys in their order. So is a file
that is all on one line: its one line changes whatever is done, and one line of hooks is unreadable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass
class _Node:
    start: int
    end: int
    value: Any
    # objects: (key, start of the key's text, value node); arrays: (None, start, item node)
    members: list[tuple[str | None, int, _Node]] = field(default_factory=list)


def rewrite(old: str, new: Any) -> str:
    """`new` as JSON text, changing as few of `old`'s bytes as it can (`old` may be empty or not JSON)."""
    indent = detect_indent(old)
    whole = json.dumps(new, indent=indent, ensure_ascii=False) + "\n"
    if "\n" not in old.strip():  # all on one line (`echo '{...}' > settings.json`): that line changes anyway; readable is better
        return whole
    try:
        root = _parse(old, _skip(old, 0))
    except (ValueError, IndexError, RecursionError):
        return whole
    text = old[: root.start] + _render(old, root, new, indent, 0) + old[root.end :]
    try:
        same = json.loads(text) == new and _ordered(json.loads(text), new)
    except (ValueError, RecursionError):
        same = False
    return text if same else whole


def detect_indent(text: str) -> str:
    """The indent unit of the first indented line (a tab, or its run of spaces); 2 spaces when none is."""
    m = re.search(r"\n([ \t]+)\S", text)
    if not m:
        return "  "
    unit = m.group(1)
    return "\t" if unit.startswith("\t") else unit


def _ordered(a: Any, b: Any) -> bool:
    """Equal with the same key order (== on dicts ignores order, and key order is what the user sees)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_ordered(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_ordered(x, y) for x, y in zip(a, b, strict=True))
    return True


def _skip(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _parse(text: str, i: int) -> _Node:
    c = text[i]
    if c == "{":
        node = _Node(i, i, {})
        i = _skip(text, i + 1)
        if text[i] != "}":
            while True:
                key_start = i
                key, i = _DECODER.raw_decode(text, i)
                i = _skip(text, i)
                if text[i] != ":" or not isinstance(key, str):
                    raise ValueError("expected ':'")
                child = _parse(text, _skip(text, i + 1))
                node.members.append((key, key_start, child))
                node.value[key] = child.value
                i = _skip(text, child.end)
                if text[i] == "}":
                    break
                if text[i] != ",":
                    raise ValueError("expected ','")
                i = _skip(text, i + 1)
        node.end = i + 1
        return node
    if c == "[":
        node = _Node(i, i, [])
        i = _skip(text, i + 1)
        if text[i] != "]":
            while True:
                child = _parse(text, i)
                node.members.append((None, child.start, child))
                node.value.append(child.value)
                i = _skip(text, child.end)
                if text[i] == "]":
                    break
                if text[i] != ",":
                    raise ValueError("expected ','")
                i = _skip(text, i + 1)
        node.end = i + 1
        return node
    value, end = _DECODER.raw_decode(text, i)
    return _Node(i, end, value)


def _render(text: str, node: _Node, new: Any, indent: str, depth: int) -> str:
    if type(node.value) is type(new) and node.value == new and _ordered(node.value, new):
        return text[node.start : node.end]
    if isinstance(new, dict) and isinstance(node.value, dict) and len({k for k, _, _ in node.members}) == len(node.members):
        by_key = {key: (start, child) for key, start, child in node.members}
        kept = [k for k, _, _ in node.members if k in new]
        if kept == [k for k in new if k in by_key]:  # the same order for the keys both have
            pieces: list[tuple[int | None, str]] = []
            for key, value in new.items():
                if key in by_key:
                    start, child = by_key[key]
                    pieces.append((start, text[start : child.start] + _render(text, child, value, indent, depth + 1)))
                else:
                    pieces.append((None, json.dumps(key, ensure_ascii=False) + ": " + _fresh(text, node, value, indent, depth + 1)))
            return _join(text, node, pieces, "{", "}", indent, depth)
    if isinstance(new, list) and isinstance(node.value, list):
        olds = [child for _, _, child in node.members]
        keys = [json.dumps(v, sort_keys=True) for v in node.value], [json.dumps(v, sort_keys=True) for v in new]
        items: list[tuple[int | None, str]] = []
        for op, i1, i2, j1, j2 in SequenceMatcher(None, *keys, autojunk=False).get_opcodes():
            if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
                for old, value in zip(olds[i1:i2], new[j1:j2], strict=True):
                    items.append((old.start, _render(text, old, value, indent, depth + 1)))
            elif op in ("insert", "replace"):
                items.extend((None, _fresh(text, node, value, indent, depth + 1)) for value in new[j1:j2])
        return _join(text, node, items, "[", "]", indent, depth)
    return _fresh(text, node, new, indent, depth)


def _join(text: str, node: _Node, pieces: list[tuple[int | None, str]], open_: str, close: str, indent: str, depth: int) -> str:
    """The container's members in order, each old one with the separator that preceded it in the file."""
    if not pieces:
        return open_ + close
    starts = [start for _, start, _ in node.members]
    ends = {start: child.end for _, start, child in node.members}
    if node.members:
        lead = text[node.start + 1 : starts[0]]
        trail = text[ends[starts[-1]] : node.end - 1]
        seps = [text[ends[a] : b] for a, b in zip(starts, starts[1:], strict=False)]
        usual = seps[-1] if seps else "," + (lead if "\n" in lead else " ")
    else:
        lead, trail = "\n" + indent * (depth + 1), "\n" + indent * depth
        usual = ",\n" + indent * (depth + 1)
    out = [open_, lead]
    for n, (start, piece) in enumerate(pieces):
        if n:
            previous = pieces[n - 1][0]
            adjacent = start is not None and previous is not None and starts.index(start) == starts.index(previous) + 1
            out.append(text[ends[previous] : start] if adjacent else usual)  # type: ignore[index]
        out.append(piece)
    out += [trail, close]
    return "".join(out)


def _fresh(text: str, node: _Node, value: Any, indent: str, depth: int) -> str:
    """A new value: on one line inside a container that is on one line, else in the file's indent at this depth."""
    if "\n" not in text[node.start : node.end] and node.members:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, indent=indent, ensure_ascii=False).replace("\n", "\n" + indent * depth)
