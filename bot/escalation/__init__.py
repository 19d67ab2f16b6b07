"""Escalation to a human expert: the records, the rules and the use case, without Slack."""
