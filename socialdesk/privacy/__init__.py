"""Privacy guard: find personal data in public posts and mask it.

`detect` finds entities (regex candidates validated by phonenumbers / python-stdnum),
`mask` hides them for lists, logs and exports, `scan` is the line-oriented JSON scanner
behind `socialdesk privacy scan`. Nothing here touches the database or the network.
"""

from __future__ import annotations

from socialdesk.privacy.detect import ENTITY_TYPES, Detector, Entity
from socialdesk.privacy.mask import mask_text, mask_value

# `detect()` stays in `socialdesk.privacy.detect`: re-exporting it here would shadow the
# submodule of the same name (`import socialdesk.privacy.detect` would give the function).
__all__ = ["ENTITY_TYPES", "Detector", "Entity", "mask_text", "mask_value"]
