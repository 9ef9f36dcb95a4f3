"""Graph API `fields` syntax: `a,b{c,d},comments.filter(stream).limit(50){id,parent}`.

Parsed into a mapping of field name to `FieldSpec`, so the emulator can select fields
and honour nested-edge modifiers (`limit`, `order`, `filter`, `summary`) as Graph does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEAD = re.compile(r"(\w+)((?:\.\w+\([^()]*\))*)")
_MODIFIER = re.compile(r"\.(\w+)\(([^()]*)\)")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    modifiers: dict[str, str] = field(default_factory=dict)
    subfields: dict[str, FieldSpec] | None = None


class FieldsError(ValueError):
    """The `fields` value is not valid Graph syntax."""


def parse_fields(text: str) -> dict[str, FieldSpec]:
    """Parse a `fields` parameter; an empty string gives an empty mapping."""
    specs: dict[str, FieldSpec] = {}
    for piece in _split_top_level(text):
        spec = _parse_one(piece.strip())
        specs[spec.name] = spec
    return specs


def _split_top_level(text: str) -> list[str]:
    pieces, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
            if depth < 0:
                raise FieldsError(f"unbalanced {char!r} in fields")
        elif char == "," and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    if depth != 0:
        raise FieldsError("unbalanced brackets in fields")
    pieces.append(text[start:])
    return [p for p in pieces if p.strip()]


def _parse_one(piece: str) -> FieldSpec:
    brace = _top_level_brace(piece)
    head, subfields = piece, None
    if brace >= 0:
        if not piece.endswith("}"):
            raise FieldsError(f"Syntax error in fields near {piece!r}")
        head, subfields = piece[:brace], parse_fields(piece[brace + 1 : -1])
    match = _HEAD.fullmatch(head)
    if match is None:
        raise FieldsError(f"Syntax error in fields near {piece!r}")
    modifiers = dict(_MODIFIER.findall(match.group(2)))
    return FieldSpec(match.group(1), modifiers, subfields)


def _top_level_brace(piece: str) -> int:
    depth = 0
    for index, char in enumerate(piece):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "{" and depth == 0:
            return index
    return -1
