"""Discord: a discord.py client whose slash commands, buttons and forms drive the core."""
