"""The Slack adapter (slack-bolt): Socket Mode or HTTP mode, Block Kit rendering, modals, the App
Home tab, paced DM fan-out through the outbox, and the app manifest."""
