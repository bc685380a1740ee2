"""CSS inlined once per template gives every mail the styles the old per-mail inlining gave
it: for each template, re-running css-inline over our output (it then only re-serialises, the
styles are already there) is what css-inline made of the un-inlined mail: the same elements,
attributes (css-inline writes them in an order of its own) and text."""

from __future__ import annotations

from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from parking_desktop.adapters.mail import preinline
from parking_desktop.adapters.mail.charts import bars
from parking_desktop.adapters.mail.message import inline_css
from parking_desktop.adapters.mail.templates import MailRenderer
from tests.unit.test_templates import CONTEXTS

# Every branch of the monthly report: no stays, stays without charts, all charts.
VARIANTS = {
    **CONTEXTS,
    "monthly_report/quiet": {
        **CONTEXTS["monthly_report"],
        "by_day": [],
        "by_week": [],
        "by_lot": [],
        "report": type("R", (), {"bookings": 0, "most_used_lot": None, "last_bookings": []})(),
    },
    "monthly_report/many": {
        **CONTEXTS["monthly_report"],
        "name": "Zoë <O'Brien> & co",
        "by_day": bars([(str(d), d % 7) for d in range(1, 32)]),
        "by_lot": bars([("North", 5), ('Süd "B"', 2), ("C", 0)]),
    },
}


def _old_way(name: str, context: dict[str, object]) -> str:
    """The HTML as it was made before: the whole rendered mail through css-inline."""
    per_mail = MailRenderer(ZoneInfo("Europe/Paris"), inline_at_load=False)
    html = per_mail.render(name, **context).html
    assert not per_mail.preinlined
    return html


class _Events(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[object, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(sorted(attrs, key=lambda a: a[0]))))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        self.events.append(("text", data))


def _document(html: str) -> list[tuple[object, ...]]:
    parser = _Events()
    parser.feed(html)
    parser.close()
    return parser.events


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_mail_gets_the_styles_per_mail_inlining_gave_it(variant: str) -> None:
    name = variant.split("/")[0]
    context = {"site_name": "Parking & Co", "subject": "S", **VARIANTS[variant]}
    renderer = MailRenderer(ZoneInfo("Europe/Paris"))
    ours = renderer.render(name, **context).html

    assert renderer.preinlined
    assert "<style" not in ours and 'style="' in ours
    assert _document(inline_css(ours)) == _document(_old_way(name, context))


def test_selectors_it_cannot_work_out_fall_back_to_per_mail_inlining() -> None:
    for css in (
        "td > p { color: red; }",
        "a:hover { color: red; }",
        "#x { color: red; }",
        "p + p { margin: 0; }",
        "[title] { color: red; }",
    ):
        assert preinline.plan(f"<html><head><style>{css}</style></head></html>") is None
    assert (
        preinline.plan(
            "<html><head><style>.a p, td { color: red; }</style></head>"
            "<body>{% block content %}{% endblock %}</body></html>"
        )
        is not None
    )
