"""Loads the loopback OpenAI server fixture for these tests."""

from tests.support.openai_fixtures import openai_server

__all__ = ["openai_server"]
