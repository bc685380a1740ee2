"""Outgoing mail: SMTP transport, message building (CSS inlined), templates, HTML charts."""
