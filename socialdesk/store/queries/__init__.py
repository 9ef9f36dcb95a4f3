"""The read side, split by screen: plain rows out, no writes and no Textual."""
