"""Notifications to managers outside e-mail: Google Chat webhook, SMS."""
