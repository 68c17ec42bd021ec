"""An alarm's states: raised, then perhaps acknowledged, then resolved."""

RAISED, ACKNOWLEDGED, RESOLVED = "raised", "acknowledged", "resolved"
OPEN_STATES = (RAISED, ACKNOWLEDGED)
