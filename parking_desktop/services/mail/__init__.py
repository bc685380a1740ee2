"""Mail: settings, the outbox, batches, daily reminders and monthly reports."""
