"""Slack tests run the real Bolt app through the shared harness (tests/support)."""

from tests.support.slack_fixtures import harness, make_harness  # noqa: F401 - fixtures
