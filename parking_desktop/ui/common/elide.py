"""Long text made to fit: a 100-character lot name must not widen a dialog past the screen or
push a table's numbers out of sight. The whole text stays available (tooltips, the field)."""

from __future__ import annotations

import re

TITLE_LIMIT = 48  # characters of a name in a title or heading
WORD_LIMIT = 40  # a "word" longer than this cannot wrap: it is shortened


def elide(text: str, limit: int = TITLE_LIMIT) -> str:
    """The text, cut to ``limit`` characters with '…' when longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def elide_words(text: str, limit: int = WORD_LIMIT) -> str:
    """Every run of non-space characters longer than ``limit`` shortened, so a wrapping label
    (a banner, a dialog's message) can always wrap to its width."""
    return re.sub(rf"\S{{{limit + 1},}}", lambda m: elide(m.group(), limit), text)
