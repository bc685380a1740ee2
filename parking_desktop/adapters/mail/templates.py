"""Jinja2 rendering of the mail templates in ``templates/``: HTML (autoescaped, CSS inlined)
and plain text, with undefined variables being errors (StrictUndefined)."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parking_desktop.adapters.mail.charts import bars, text_bar
from parking_desktop.adapters.mail.message import inline_css
from parking_desktop.domain.fee import money

if TYPE_CHECKING:
    from jinja2 import Environment


def templates_dir() -> Path:
    """``templates/`` beside the package (source tree) or in a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "templates"
    return Path(__file__).resolve().parents[3] / "templates"


@dataclass(frozen=True)
class RenderedMail:
    html: str
    text: str


class MailRenderer:
    def __init__(self, tz: tzinfo, directory: Path | None = None) -> None:
        self.tz = tz
        self._directory = directory
        self._env: Environment | None = None
        self._env_lock = threading.Lock()

    @property
    def env(self) -> Environment:
        """Made on first use: Jinja2 loads when a mail is rendered, not at every start."""
        with self._env_lock:
            if self._env is None:
                self._env = self._make_env()
            return self._env

    def _make_env(self) -> Environment:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

        env = Environment(
            loader=FileSystemLoader(str(self._directory or templates_dir())),
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
        return env

    def names(self) -> list[str]:
        """Every mail template (the layout and macro files start with '_')."""
        return sorted({Path(n).stem for n in self.env.list_templates()
                       if not Path(n).name.startswith("_")})

    def render(self, template: str, /, **context: Any) -> RenderedMail:
        html = self.env.get_template(f"{template}.html").render(**context)
        text = self.env.get_template(f"{template}.txt").render(**context)
        return RenderedMail(html=inline_css(html), text=text)

    def _when(self, value: datetime | None, empty: str = "—") -> str:
        return empty if value is None else value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def _day(self, value: date | datetime | None, fmt: str = "%Y-%m-%d") -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(self.tz)
        return value.strftime(fmt)


def _money(value: Decimal | int | float | str | None) -> str:
    if value is None:
        return "—"
    return f"{money(Decimal(str(value))):,.2f}"


def _hours(value: Decimal | float | int | None) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.1')):,}"
