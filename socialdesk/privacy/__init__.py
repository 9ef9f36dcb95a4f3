"""Privacy guard: find personal data in public posts and mask it.

`detect` finds entities (regex candidates validated by phonenumbers / python-stdnum),
`mask` hides them for lists, logs and exports, `scan` is the line-oriented JSON scanner
behind `socialdesk privacy scan`. Nothing here touches the database or the network.

The names below are loaded on first use (PEP 562): every command imports
`socialdesk.privacy.logfilter`, and importing the package must not load phonenumbers'
metadata and the config models for commands that never scan a text.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialdesk.privacy.detect import ENTITY_TYPES, Detector, Entity
    from socialdesk.privacy.mask import mask_text, mask_value

# `detect()` stays in `socialdesk.privacy.detect`: re-exporting it here would shadow the
# submodule of the same name (`import socialdesk.privacy.detect` would give the function).
__all__ = ["ENTITY_TYPES", "Detector", "Entity", "mask_text", "mask_value"]

_LAZY = {
    "ENTITY_TYPES": "socialdesk.privacy.detect",
    "Detector": "socialdesk.privacy.detect",
    "Entity": "socialdesk.privacy.detect",
    "mask_text": "socialdesk.privacy.mask",
    "mask_value": "socialdesk.privacy.mask",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
