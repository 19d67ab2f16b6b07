"""Retrieval: read and clean the knowledge folder, chunk it, embed it, store and query it."""
