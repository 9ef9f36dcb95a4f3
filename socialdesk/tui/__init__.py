"""The desk: a keyboard-first Textual TUI over the queue. Reads through
`socialdesk.store.queries`, acts through `socialdesk.desk` (triage, answers, identity); no SQL
of its own."""
