"""socialdesk: one support queue for X and Facebook."""

__version__ = "0.1.0"
