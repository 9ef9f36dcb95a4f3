"""Platform connectors: each turns one platform's API into socialdesk's inbound items.

The contract is `connectors.base`; the connectors are found through the entry-point group
`socialdesk.connectors` (`x`, `facebook`), never imported by path from socialdesk. Nothing
here imports socialdesk, a database layer or the TUI.
"""
