"""Situation readers: a user's own words -> checklist facts, each with the words it came from.

Two readers behind one interface (`SituationReader`): `offline` (patterns, counts and the
checklist's cues; the default) and `llm` (structured extraction through the chat endpoint, with
a JSON schema generated from the checklist; falls back to `offline` on any failure).
"""
