"""Admin operations shared by every front end: reindex under a lock and a quality gate, rollback,
status. Nothing here imports Slack."""
