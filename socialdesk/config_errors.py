"""How an invalid config is told: one line naming the file, the key and the reason, with
a "did you mean" for a misspelt key (pydantic's own report lists every union member)."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError


def describe_invalid(
    error: ValidationError, raw: Mapping[str, Any], source: str,
    models: Mapping[str, type[BaseModel]], settings: type[BaseModel],
    account_base: type[BaseModel],
) -> str:
    """One problem, as `file: key.path: reason; did you mean …?`; a misspelt key first,
    since it also explains the "missing" error of the key it was meant to be."""
    problems = error.errors()
    problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    location = [part for part in problem["loc"] if part not in models]
    key = _dotted(location)
    if problem["type"] == "extra_forbidden":
        reason = "unknown key" + _suggestion(str(location[-1]),
                                             _allowed_keys(location, raw, models, settings,
                                                           account_base))
    elif problem["type"] == "missing":
        reason = "missing required key"
    elif problem["type"] == "union_tag_invalid" or problem["type"] == "union_tag_not_found":
        reason = "platform must be one of " + ", ".join(f'"{name}"' for name in models)
        key = _dotted([*location, "platform"]) if problem["type"] == "union_tag_not_found" else key
    else:
        reason = problem["msg"].removeprefix("Value error, ")
    return f"{source}: {key}: {reason}" if key else f"{source}: {reason}"


def _dotted(location: list[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _allowed_keys(
    location: list[Any], raw: Mapping[str, Any], models: Mapping[str, type[BaseModel]],
    settings: type[BaseModel], account_base: type[BaseModel],
) -> list[str]:
    """The keys valid where the unknown one stood, for the "did you mean" hint."""
    model: type[BaseModel]
    if len(location) >= 3 and location[0] == "accounts" and isinstance(location[1], int):
        platform = raw["accounts"][location[1]].get("platform")
        return list(models.get(str(platform), account_base).model_fields)
    model = settings
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        section = _model_in(field.annotation) if field else None
        if section is None:
            break
        model = section
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The settings model behind `X`, `X | None` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _suggestion(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
