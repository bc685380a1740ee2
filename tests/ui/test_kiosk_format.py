"""The kiosk's wording helpers and the vehicle field's as-you-type rule (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.ui.kiosk.format import billed_hours, idle_words
from parking_desktop.ui.kiosk.widgets import normalise_plate_input


@pytest.mark.parametrize(("hours", "shown"), [
    (Decimal("1.0000"), "1 h"), (Decimal("2.2500"), "2.25 h"), (Decimal("1.9444"), "1.9444 h"),
    (Decimal("10"), "10 h"),
])
def test_billed_hours_are_shown_as_the_rule_used_them(hours: Decimal, shown: str) -> None:
    assert billed_hours(hours) == shown


@pytest.mark.parametrize(("seconds", "words"), [
    (1, "1 second"), (45, "45 seconds"), (60, "a minute"), (90, "90 seconds"),
    (300, "5 minutes"),
])
def test_idle_time_in_words(seconds: int, words: str) -> None:
    assert idle_words(seconds) == words


@pytest.mark.parametrize("typed", ["ab-12 cd", "AB 12-CD", " ab12cd ", "Ab-1-2-cD"])
def test_typing_gives_what_the_service_stores(typed: str) -> None:
    assert normalise_plate_input(typed) == validation.normalise_vehicle(typed) == "AB12CD"


def test_characters_the_rule_refuses_stay_visible_for_the_service_to_explain() -> None:
    typed = normalise_plate_input("ab-1ß")
    assert typed == "AB1ß"  # not silently dropped, not turned into "SS"
    with pytest.raises(ValidationError, match="not valid"):
        validation.normalise_vehicle(typed)
