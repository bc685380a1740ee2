"""Jinja2 rendering of the mail templates in ``templates/``: HTML (autoescaped, CSS inlined)
and plain text, with undefined variables being errors (StrictUndefined).

The CSS is inlined into each HTML template once, when it is loaded (``preinline.py``), and
each template is compiled once and kept: rendering a mail is then Jinja's compiled code and
nothing else. Should the layout's CSS ever use selectors that cannot be worked out from the
template's source, every rendered mail is inlined instead, as before."""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from parking_desktop.adapters.mail import preinline
from parking_desktop.adapters.mail.charts import Bar, bars, text_bar, text_chart
from parking_desktop.adapters.mail.message import inline_css
from parking_desktop.domain.fee import money

if TYPE_CHECKING:
    from jinja2 import Environment, Template

LAYOUT = "_layout.html"


def templates_dir() -> Path:
    """``templates/`` beside the package (source tree) or in a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "templates"
    return Path(__file__).resolve().parents[3] / "templates"


class FragmentCache:
    """Chart cells kept by what they draw. A monthly report draws ~60 chart cells, and across a
    hundred thousand reports most of them repeat: the empty days, the day labels, a bar of the
    same length on the same day. Only the amount a cell shows (``Bar.display``, e.g. in a
    tooltip) makes each one unique, so a cell is kept by its label and length with a slot where
    the amount goes, and the amount (escaped) is put into the slot for each report. The macro
    stays in the template; it must show ``display`` as it is (no filter on it)."""

    LIMIT = 20_000  # kept cells; emptied when full (a month needs a few thousand)
    SLOT = "\ue000"  # a private-use character: in no template and in no amount

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], list[str]] = {}

    def each(self, macro: Any, items: Iterable[Bar], *args: Any) -> Markup:
        """``macro(bar, *args)`` for every bar, joined: one call from the template for a
        whole row (a call from a template costs more than the lookups)."""
        # The macro's compiled code identifies it across renders (the Macro object may not).
        code = macro._func.__code__
        kept = self._kept
        out = []
        for bar in items:
            key = (code, bar.label, bar.percent, args)
            parts = kept.get(key)
            if parts is None:
                if len(kept) >= self.LIMIT:
                    kept.clear()
                drawn = str(macro(bar._replace(display=self.SLOT), *args))
                parts = kept[key] = drawn.split(self.SLOT)
            out.append(parts[0] if len(parts) == 1 else str(escape(bar.display)).join(parts))
        return Markup("".join(out))


@dataclass(frozen=True)
class RenderedMail:
    html: str
    text: str


class MailRenderer:
    def __init__(self, tz: tzinfo, directory: Path | None = None, *,
                 inline_at_load: bool = True) -> None:
        self.tz = tz
        self._directory = directory
        self._env: Environment | None = None
        self._env_lock = threading.Lock()
        self._templates: dict[str, Template] = {}
        self._inline_at_load = inline_at_load  # False: every mail is inlined (tests compare)
        self.preinlined = False  # True once the CSS is in the templates themselves
        self._fragments = FragmentCache()
        self._moments: dict[datetime, str] = {}

    @property
    def directory(self) -> Path | None:
        """The templates folder given (None: the one shipped with the program)."""
        return self._directory

    @property
    def env(self) -> Environment:
        """Made on first use: Jinja2 loads when a mail is rendered, not at every start."""
        with self._env_lock:
            if self._env is None:
                self._env = self._make_env()
            return self._env

    def _make_env(self) -> Environment:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

        folder = str(self._directory or templates_dir())
        layout = Path(folder, LAYOUT)
        the_plan = (preinline.plan(layout.read_text(encoding="utf-8"))
                    if self._inline_at_load and layout.is_file() else None)

        class InliningLoader(FileSystemLoader):
            def get_source(self, environment: Environment,
                           template: str) -> tuple[str, str, Callable[[], bool]]:
                source, filename, uptodate = super().get_source(environment, template)
                if the_plan is not None and template.endswith(".html"):
                    source = preinline.inline_template(source, the_plan, inline_css,
                                                       is_layout=template == LAYOUT)
                return source, filename, uptodate

        self.preinlined = the_plan is not None
        env = Environment(
            loader=InliningLoader(folder),
            auto_reload=False,  # templates ship with the program: no stat() per mail
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters["money"] = _money
        env.filters["when"] = self._when
        env.filters["day"] = self._day
        env.filters["hours"] = _hours
        env.globals["bars"] = bars
        env.globals["text_bar"] = text_bar
        env.globals["text_chart"] = text_chart
        env.globals["memo_each"] = self._fragments.each
        return env

    def names(self) -> list[str]:
        """Every mail template (the layout and macro files start with '_')."""
        return sorted({Path(n).stem for n in self.env.list_templates()
                       if not Path(n).name.startswith("_")})

    def template(self, name: str) -> Template:
        found = self._templates.get(name)
        if found is None:
            found = self._templates[name] = self.env.get_template(name)
        return found

    def render(self, template: str, /, **context: Any) -> RenderedMail:
        html = self.template(f"{template}.html").render(**context)
        text = self.template(f"{template}.txt").render(**context)
        return RenderedMail(html=html if self.preinlined else inline_css(html), text=text)

    def _when(self, value: datetime | None, empty: str = "—") -> str:
        return empty if value is None else self._moment_text(value)

    def _moment_text(self, value: datetime) -> str:
        # A mail's HTML and text parts show the same few moments, one right after the other.
        found = self._moments.get(value)
        if found is None:
            if len(self._moments) >= 64:
                self._moments.clear()
            found = self._moments[value] = value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        return found

    def _day(self, value: date | datetime | None, fmt: str = "%Y-%m-%d") -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(self.tz)
        return value.strftime(fmt)


def _money(value: Decimal | int | float | str | None) -> str:
    if value is None:
        return "—"
    return _money_text(value if type(value) is Decimal else Decimal(str(value)))


def _hours(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    return _hours_text(value if type(value) is Decimal else Decimal(str(value)))


# Keyed on the amount: a report shows a dozen amounts and hours, and they recur from one driver
# to the next. (Equal amounts such as 2.5 and 2.50 share an entry; they show the same.)
@functools.lru_cache(maxsize=8192)
def _money_text(value: Decimal) -> str:
    return f"{money(value):,.2f}"


@functools.lru_cache(maxsize=8192)
def _hours_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):,}"
