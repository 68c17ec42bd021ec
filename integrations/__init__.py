"""Platform adapters: console, Slack, Discord. Each translates its platform to the core's seam."""
