"""The two digests a week has: the group's, posted to its channels, and the leaders' (shorter),
sent to each leader as a DM."""

from __future__ import annotations

GROUP, LEADER = "group", "leader"
VARIANTS = (GROUP, LEADER)
