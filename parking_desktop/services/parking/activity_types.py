"""The activity log's entry types, apart from the log itself: the command line lists them in
``activity --help`` without loading SQLAlchemy for every command."""

KNOWN_TYPES = (
    "login", "login_failed", "logout", "booking_created", "parked", "booking_completed",
    "booking_cancelled", "booking_no_show", "force_released", "check_in", "check_out",
    "receipt_emailed", "reminder_queued",
    "reminder_sent", "monthly_report_queued", "monthly_report_sent", "email_sent", "email_failed",
    "chat_sent", "lot_full_alert", "csv_export_requested", "csv_export_completed",
    "csv_export_cancelled", "csv_export_failed", "csv_export_downloaded",
    "lot_created", "lot_updated", "lot_resized", "lot_archived", "price_changed",
    "tariff_changed",
    "user_created", "user_updated", "user_deactivated", "user_reactivated", "password_reset",
    "settings_changed", "retention_applied", "user_erased", "mail_preferences_changed",
    "unsubscribe_requests_applied",
    "payment_refunded", "payment_voided",
    "shift_opened", "shift_closed", "shift_reviewed", "shift_approved",
    "sync_conflict", "sync_conflict_resolved",
)
