"""Learning Cycles: a chat-ops bot for distributed learning groups."""
