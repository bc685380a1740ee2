"""CSS inlined into the HTML templates once, when a template is loaded, instead of into every
rendered mail (css-inline parsed and re-serialised each whole mail: a third of a monthly
report's rendering time).

The rules live in the ``<style>`` of ``_layout.html``. For every start tag of a template's
source, its ancestors are known from the source itself (plus, for a child template's block or
a macro file, the layout's elements around that block), so css-inline can work out that tag's
``style`` once, on a tiny document of just those elements, and the tag is written back with
it. Jinja's ``{{ }}``/``{% %}`` parts are set aside first and put back unchanged.

This is exact only for selectors made of tag names and classes joined by spaces (descendant),
which is what the layout uses; ``plan()`` returns None for anything else (``>``, ``+``, ``~``,
pseudo-classes, attribute selectors, ids), and the caller then inlines every rendered mail as
before. ``tests/unit/test_preinline.py`` checks that every template comes out as the old way
would make it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
# A Jinja part set aside, or a tag (groups as in _TAG, shifted by one).
_TOKEN = re.compile(r"@@J(\d+)@@|" + _TAG.pattern)
_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
_STYLE_ATTR = re.compile(r"""\sstyle=("[^"]*"|'[^']*')""", re.IGNORECASE)
_BLOCK = re.compile(r"\{%-?\s*block\s+(\w+)")
_SIMPLE_SELECTOR = re.compile(r"^[a-zA-Z0-9_\-.\s]+$")
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
_MARK = "data-pd-inline-mark"


@dataclass
class Plan:
    """What the layout gives every template: its CSS, and the elements around each block."""

    css: str
    around: dict[str, list[str]] = field(default_factory=dict)  # block -> open start tags
    default_block: str = "content"


def layout_css(layout_source: str) -> str | None:
    found = _STYLE_BLOCK.search(layout_source)
    return found.group(1) if found else None


def plan(layout_source: str) -> Plan | None:
    """None when the layout's CSS uses anything but simple descendant selectors."""
    css = layout_css(layout_source)
    if css is None:
        return None
    without_comments = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    for rule in re.findall(r"([^{}]+)\{[^}]*\}", without_comments):
        for selector in rule.split(","):
            if not _SIMPLE_SELECTOR.match(selector.strip()) or "#" in selector:
                return None
    result = Plan(css=css)
    # Where each block of the layout sits: the open tags at its {% block %}.
    stack: list[tuple[str, str]] = []
    text = _STYLE_BLOCK.sub("", layout_source)
    pieces = _JINJA.split(text)
    tags = _JINJA.findall(text)
    for index, piece in enumerate(pieces):
        for match in _TAG.finditer(piece):
            _walk(match.group(1), match.group(2), match.group(3), stack)
        if index < len(tags) and (block := _BLOCK.match(tags[index])):
            result.around[block.group(1)] = [opening for _, opening in stack]
    return result


def _walk(closing: str, name: str, attrs: str, stack: list[tuple[str, str]]) -> None:
    name = name.lower()
    if closing:
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0] == name:
                del stack[depth:]
                break
    elif name not in _VOID and not attrs.rstrip().endswith("/"):
        stack.append((name, f"<{name}{attrs}>"))


def _shield(source: str) -> tuple[str, list[str]]:
    parts: list[str] = []

    def keep(match: re.Match[str]) -> str:
        parts.append(match.group(0))
        return f"@@J{len(parts) - 1}@@"

    return _JINJA.sub(keep, source), parts


def _unshield(text: str, parts: list[str]) -> str:
    return re.sub(r"@@J(\d+)@@", lambda m: parts[int(m.group(1))], text)


def inline_template(
    source: str, the_plan: Plan, inline: Callable[[str], str], *, is_layout: bool
) -> str:
    """``source`` with the layout's ``<style>`` removed and every start tag given the
    ``style`` that ``inline`` (css-inline over a whole mail) would give it."""
    if is_layout:
        source = _STYLE_BLOCK.sub("", source)
    shielded, parts = _shield(source)
    blocks = {i: b.group(1) for i, part in enumerate(parts) if (b := _BLOCK.match(part))}
    around = the_plan.around
    prefix = [] if is_layout else around.get(the_plan.default_block, [])
    stack: list[tuple[str, str]] = []
    cache: dict[tuple[str, ...], str | None] = {}
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(shielded):
        if match.group(1) is not None:  # a Jinja part: maybe the start of a block
            block = blocks.get(int(match.group(1)))
            if block is not None and not is_layout and not stack:
                prefix = around.get(block, prefix)
            continue
        closing, name, attrs = match.group(2), match.group(3).lower(), match.group(4)
        ancestors = prefix + [o for _, o in stack]
        _walk(closing, name, attrs, stack)
        if closing:
            continue
        opening = match.group(0)
        key = (*ancestors, opening)
        if key not in cache:
            cache[key] = _style_for(ancestors, name, opening, the_plan.css, inline)
        style = cache[key]
        if style is None:
            continue
        out.append(shielded[last : match.start()])
        out.append(_with_style(opening, style))
        last = match.end()
    out.append(shielded[last:])
    return _unshield("".join(out), parts)


def _style_for(
    ancestors: list[str], name: str, opening: str, css: str, inline: Callable[[str], str]
) -> str | None:
    """The style attribute css-inline gives ``opening`` among ``ancestors`` (serialised as
    it writes it), or None when it leaves the tag as it is."""
    marked = opening[:-1].rstrip("/") + f' {_MARK}="1">'
    inner = [a for a in ancestors if not re.match(r"<(html|head|body)\b", a, re.IGNORECASE)]
    body = next((a for a in ancestors if re.match(r"<body\b", a, re.IGNORECASE)), "<body>")
    if name == "body":
        body, inner, marked_part = marked, [], ""
    elif name in ("html", "head") or name in ("title", "meta"):
        return None
    else:
        marked_part = marked
    document = (
        f"<html><head><style>{css}</style></head>{body}"
        + "".join(inner)
        + marked_part
        + "</body></html>"
    )
    result = inline(document)
    found = re.search(r"<[a-zA-Z][a-zA-Z0-9]*\s[^>]*" + _MARK + r"[^>]*>", result)
    if found is None:
        return None
    attr = _STYLE_ATTR.search(found.group(0))
    before = _STYLE_ATTR.search(opening)
    if attr is None:
        return None
    if before is not None and before.group(1)[1:-1] == attr.group(1)[1:-1]:
        return None  # css-inline kept the tag's own style as it was
    value = attr.group(1)[1:-1]
    for placeholder in re.findall(r"@@J\d+@@", before.group(1) if before else ""):
        if placeholder not in value:
            raise ValueError(f"CSS inlining would lose a template expression in {opening}")
    return value


def _with_style(opening: str, style: str) -> str:
    if _STYLE_ATTR.search(opening):
        return _STYLE_ATTR.sub(lambda _m: f' style="{style}"', opening, count=1)
    end = -2 if opening.endswith("/>") else -1
    return f'{opening[:end]} style="{style}"{opening[end:]}'
