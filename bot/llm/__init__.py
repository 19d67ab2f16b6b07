"""The answer-generation layer: prompts, the streaming chat client and the extractive fallback."""
