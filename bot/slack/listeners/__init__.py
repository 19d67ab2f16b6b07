"""Bolt listeners, one small module per Slack surface."""
