"""The fine-tune advisor: cited guidance on prompting, RAG and fine-tuning, in Slack and the terminal."""
