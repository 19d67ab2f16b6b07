"""What the guidance misses: gaps recorded from answers, votes, escalations and verdicts left
provisional; grouped by topic for `advisor gaps`, `/finetune-admin gaps` and a weekly digest."""
