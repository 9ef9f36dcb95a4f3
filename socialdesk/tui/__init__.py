"""The desk: a keyboard-first Textual TUI over the queue. Reads through `socialdesk.queries`,
acts through `socialdesk.triage` (and `socialdesk.inbox` for sending); no SQL of its own."""
