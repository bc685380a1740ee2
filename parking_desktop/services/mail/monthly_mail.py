"""The monthly report as a mail: the one way it is rendered, whether by the EmailService in this
process or by a report worker process (``monthly_workers``), which has no EmailService (no
keyring, no SMTP) and is handed what this needs instead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parking_desktop.adapters.mail.charts import bars
from parking_desktop.adapters.mail.templates import MailRenderer
from parking_desktop.domain.errors import ValidationError
from parking_desktop.services.mail.messages import (
    MailUser,
    MonthlyReportLike,
    days_of_month,
    month_start,
    user_id,
    weeks,
)
from parking_desktop.services.mail.outbox import OutgoingMail

KIND = "monthly_report"


def build_monthly_mail(renderer: MailRenderer, base: Mapping[str, Any], user: MailUser,
                       report: MonthlyReportLike, key: str | None = None) -> OutgoingMail:
    """``base``: the site's fields every mail has (site name, unsubscribe address)."""
    if not user.email:
        raise ValidationError(f"{user.username} has no e-mail address.")
    month = month_start(report.month)
    label = month.strftime("%B %Y")
    by_day = days_of_month(month, report.daily_spending)
    active = report.bookings > 0
    body = renderer.render(
        "monthly_report", **base, name=user.full_name or user.username, report=report,
        month_label=label,
        by_day=bars([(str(d.day), v) for d, v in by_day]) if active else [],
        by_week=bars(weeks(by_day)) if active else [],
        by_lot=bars(list(report.spending_by_lot)) if active else [],
    )
    uid = user_id(user)
    return OutgoingMail(recipient=user.email, subject=f"Your parking report for {label}",
                        text=body.text, html=body.html, kind=KIND,
                        idempotency_key=key or f"monthly:{uid}:{month:%Y-%m}", user_id=uid)
