"""The weekly sensemaking digest, per group and ISO week, and its leader variant.

Only shareable entries (visibility `group`) are read, summarised or quoted; quotes are verbatim
and carry a label that holds for this digest only ("Member B") unless the author chose `named`.
Every section lists the ids of its sources, and the digest row keeps every entry it used. A
digest is stored once per (group, week, variant): building again updates the draft, and
publishing is one outbox row per bound channel, so publishing twice posts once. If the
configured summariser fails, the offline one takes over: a digest is never lost.

- `isoweek.py`: ISO weeks in a group's timezone; `variants.py`: the group and leader variants.
- `week.py`: gathering the week (`WeekData`); `summary.py`: themes, checked against the entries.
- `sections/`: one module per section and the `SECTIONS` list; `render.py`: the message.
- `build.py`: building and storing drafts; `publish.py`: posting through the outbox, the job.
- `stored.py`: reading stored digests and their states.
- The conversation: `responses.py` (members answer a posted theme, keyed by digest id and
  position), `curation.py` (facilitators' changes to the draft, applied at every build),
  `conversation.py` (what last week's answers, the note and earlier weeks give this week's
  sections)."""
