"""The terminal adapter: the bot in a shell, and the scripted demo week."""
